#include "controller/sources/prometheus/parse.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <nlohmann/json.hpp>

namespace warmpool {
namespace {

using json = nlohmann::json;

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

std::string Quoted(std::string_view body) { return "\"" + Excerpt(body) + "\""; }

Status Malformed(const std::string& why, std::string_view body) {
  return Status::Unavailable("malformed response: " + why + ": " + Quoted(body));
}

// A member of `obj` of the wanted JSON type, or nullptr.
const json* Member(const json& obj, const char* key, json::value_t type) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  if (it == obj.end()) return nullptr;
  if (it->type() != type && !(type == json::value_t::number_float && it->is_number())) return nullptr;
  return &*it;
}

std::string StringOr(const json& obj, const char* key, std::string def) {
  const json* v = Member(obj, key, json::value_t::string);
  return v ? v->get<std::string>() : def;
}

Status HttpError(int http_status, std::string_view body) {
  std::string msg = "HTTP " + std::to_string(http_status) + ": " + Quoted(body);
  if (http_status >= 400 && http_status < 500) return Status::FailedPrecondition(std::move(msg));
  return Status::Unavailable(std::move(msg));
}

Status ErrorPayload(const json& doc, int http_status) {
  const std::string type = StringOr(doc, "errorType", "unknown");
  std::string msg =
      type + ": " + StringOr(doc, "error", "(no message)") + " (HTTP " + std::to_string(http_status) + ")";
  if (type == "bad_data") return Status::InvalidArgument(std::move(msg));
  if (type == "timeout") return Status::DeadlineExceeded(std::move(msg));
  return Status::Unavailable(std::move(msg));
}

// "[1700000000.123, "4.75"]" -> {1700000000123, 4.75}. Values are strings, "NaN" and "+Inf" included.
std::optional<Sample> ParseSample(const json& pair) {
  if (!pair.is_array() || pair.size() != 2 || !pair[0].is_number() || !pair[1].is_string()) {
    return std::nullopt;
  }
  const std::string& text = pair[1].get_ref<const std::string&>();
  double value;
  if (text == "NaN") {
    value = std::numeric_limits<double>::quiet_NaN();
  } else if (text == "+Inf") {
    value = std::numeric_limits<double>::infinity();
  } else if (text == "-Inf") {
    value = -std::numeric_limits<double>::infinity();
  } else {
    char* end = nullptr;
    value = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size()) return std::nullopt;
  }
  // A time Prometheus can hold: after 1970, before the year 5138. Anything else (-1e300, 9.3e15 s)
  // is malformed, and would overflow the conversion to milliseconds.
  const double seconds = pair[0].get<double>();
  if (!(seconds >= 0 && seconds < 1e11)) return std::nullopt;
  return Sample{static_cast<TimeMs>(std::llround(seconds * 1000)), value};
}

std::string FormatLabels(const json& metric) {
  std::string name = StringOr(metric, "__name__", "");
  std::string out;
  for (const auto& [key, value] : metric.items()) {
    if (key == "__name__" || !value.is_string()) continue;
    std::string v;
    for (char c : value.get_ref<const std::string&>()) {
      if (c == '"' || c == '\\') v += '\\';
      v += c;
    }
    out += (out.empty() ? "" : ", ") + key + "=\"" + v + "\"";
  }
  return name + "{" + out + "}";
}

Result<PromSeries> ParseSeries(const json& item, bool matrix, std::string_view body) {
  PromSeries series;
  const json* metric = Member(item, "metric", json::value_t::object);
  if (metric == nullptr) return Malformed("a series without \"metric\"", body);
  series.labels = FormatLabels(*metric);
  for (const auto& [key, value] : metric->items()) {
    if (value.is_string()) series.label_values.emplace(key, value.get<std::string>());
  }
  if (matrix) {
    const json* values = Member(item, "values", json::value_t::array);
    if (values == nullptr) {
      if (Member(item, "histograms", json::value_t::array)) {
        return Status::InvalidArgument("series " + series.labels + " holds native histograms, not numbers");
      }
      return Malformed("series " + series.labels + " without \"values\"", body);
    }
    for (const json& pair : *values) {
      std::optional<Sample> s = ParseSample(pair);
      if (!s) return Malformed("bad sample " + Excerpt(pair.dump(), 60) + " in " + series.labels, body);
      series.samples.push_back(*s);
    }
  } else {
    auto it = item.find("value");
    const json* value = it != item.end() ? &*it : nullptr;
    if (value == nullptr) {
      if (item.is_object() && item.contains("histogram")) {
        return Status::InvalidArgument("series " + series.labels + " holds a native histogram, not a number");
      }
      return Malformed("series " + series.labels + " without \"value\"", body);
    }
    std::optional<Sample> s = ParseSample(*value);
    if (!s) return Malformed("bad sample " + Excerpt(value->dump(), 60) + " in " + series.labels, body);
    series.samples.push_back(*s);
  }
  return series;
}

Result<PromResult> ParseData(const json& doc, std::string_view body) {
  const json* data = Member(doc, "data", json::value_t::object);
  if (data == nullptr) return Malformed("no \"data\" object", body);
  PromResult out;
  out.result_type = StringOr(*data, "resultType", "");
  if (out.result_type.empty()) return Malformed("no \"resultType\"", body);
  if (out.result_type != "matrix" && out.result_type != "vector" && out.result_type != "scalar") {
    return Status::InvalidArgument("unexpected resultType \"" + out.result_type +
                                   "\" (want matrix, vector or scalar)");
  }
  const json* result = Member(*data, "result", json::value_t::array);
  if (result == nullptr) return Malformed("no \"result\" array", body);
  if (out.result_type == "scalar") {
    std::optional<Sample> s = ParseSample(*result);
    if (!s) return Malformed("bad scalar " + Excerpt(result->dump(), 60), body);
    out.series.push_back(PromSeries{"{}", {*s}, {}});
    return out;
  }
  for (const json& item : *result) {
    Result<PromSeries> series = ParseSeries(item, out.result_type == "matrix", body);
    if (!series.ok()) return series.status();
    out.series.push_back(std::move(series).value());
  }
  return out;
}

}  // namespace

std::string UrlEncode(std::string_view text) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (IsUnreserved(c)) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string PromSeconds(int64_t ms) {
  std::string sign = ms < 0 ? "-" : "";
  const uint64_t abs = ms < 0 ? 0 - static_cast<uint64_t>(ms) : static_cast<uint64_t>(ms);
  std::string out = sign + std::to_string(abs / 1000);
  if (uint64_t frac = abs % 1000; frac != 0) {
    std::string digits = std::to_string(frac + 1000).substr(1);  // zero-padded to 3
    while (digits.back() == '0') digits.pop_back();
    out += "." + digits;
  }
  return out;
}

std::string InstantQueryPath(std::string_view query, TimeMs time) {
  return "/api/v1/query?query=" + UrlEncode(query) + "&time=" + PromSeconds(time);
}

std::string RangeQueryPath(std::string_view query, TimeMs start, TimeMs end, DurationMs step) {
  return "/api/v1/query_range?query=" + UrlEncode(query) + "&start=" + PromSeconds(start) +
         "&end=" + PromSeconds(end) + "&step=" + PromSeconds(step);
}

Result<PromResult> ParsePromResponse(int http_status, std::string_view body) {
  const bool http_ok = http_status >= 200 && http_status < 300;
  try {
    json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded() || !doc.is_object()) {
      if (!http_ok) return HttpError(http_status, body);
      return Malformed(doc.is_discarded() ? "not JSON" : "not a JSON object", body);
    }
    const std::string status = StringOr(doc, "status", "");
    if (status == "error") return ErrorPayload(doc, http_status);
    if (!http_ok) return HttpError(http_status, body);
    if (status != "success") return Malformed("\"status\" is not \"success\"", body);
    return ParseData(doc, body);
  } catch (const json::exception& e) {  // a shape the checks above missed: never let it escape
    return Malformed(e.what(), body);
  }
}

Result<PromSeries> OnlySeries(const PromResult& result) {
  if (result.series.empty()) return Status::NotFound("query returned no series");
  if (result.series.size() == 1) return result.series.front();
  constexpr size_t kNamed = 3;
  std::string names;
  for (size_t i = 0; i < result.series.size() && i < kNamed; ++i) {
    names += (i ? ", " : "") + result.series[i].labels;
  }
  if (result.series.size() > kNamed) names += ", ...";
  return Status::InvalidArgument("query returned " + std::to_string(result.series.size()) +
                                 " series, expected exactly 1 (aggregate them, e.g. with sum()): " + names);
}

std::optional<TimeMs> NewestRawSample(const PromResult& result) {
  if (result.series.size() != 1 || result.series.front().samples.empty()) return std::nullopt;
  const double seconds = result.series.front().samples.back().value;
  if (!(seconds >= 0 && seconds < 1e11)) return std::nullopt;  // not a time (NaN, Inf, -1e300)
  return static_cast<TimeMs>(std::llround(seconds * 1000));
}

void StampNewestRaw(std::vector<Sample>* samples, TimeMs newest_raw, TimeMs window_start) {
  if (samples->empty() || samples->back().t <= newest_raw) return;
  const double value = samples->back().value;
  while (!samples->empty() && samples->back().t > newest_raw) samples->pop_back();
  const bool present = !samples->empty() && samples->back().t == newest_raw;
  if (!present && newest_raw >= window_start) samples->push_back({newest_raw, value});
}

std::string Excerpt(std::string_view text, size_t max) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  bool cut = false;
  if (text.size() > max) {
    size_t n = max;
    while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;  // not inside a UTF-8 char
    text = text.substr(0, n);
    cut = true;
  }
  std::string out;
  for (char c : text) out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? ' ' : c;
  if (cut) out += "...";
  return out;
}

}  // namespace warmpool
