// Parsing and validation of the REST API's request bodies and query values. Every error names the
// field, and for a value out of range the value and the bound.
#include <cmath>
#include <climits>
#include <ctime>
#include <nlohmann/json.hpp>

#include "controller/api/internal.h"

namespace warmpool {
namespace api_internal {
namespace {

using JsonValue = nlohmann::json;

constexpr size_t kMaxReasonLength = 512;
// An override lasts at most this long: longer is a config change, not an override.
constexpr DurationMs kMaxTtl = 30 * 24 * kHour;

std::string Join(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) out += (i ? ", " : "") + names[i];
  return out;
}

// How a JSON value appears in an error: 6.5, true, null, the string "6", an object, an array.
std::string Describe(const JsonValue& v) {
  if (v.is_string()) return "the string " + v.dump();
  if (v.is_object()) return "an object";
  if (v.is_array()) return "an array";
  return v.dump();
}

// "[json.exception.parse_error.101] parse error at ..." -> "parse error at ...".
std::string WithoutJsonPrefix(std::string what) {
  if (const size_t end = what.find("] "); what.rfind("[json.exception", 0) == 0 && end != std::string::npos) {
    what = what.substr(end + 2);
  }
  return what;
}

// The key whose value is the number quoted in the JSON library's message ("number overflow parsing
// '1e400'"): the last quoted string followed by ':' before the number in `body`. "" when not found.
std::string FieldBefore(const std::string& body, const std::string& what) {
  const size_t open = what.find('\''), close = what.rfind('\'');
  if (open == std::string::npos || close <= open + 1) return "";
  const size_t at = body.find(what.substr(open + 1, close - open - 1));
  if (at == std::string::npos) return "";
  size_t i = body.find_last_not_of(" \t\r\n", at - 1);
  if (i == std::string::npos || body[i] != ':') return "";
  i = body.find_last_not_of(" \t\r\n", i - 1);
  if (i == std::string::npos || body[i] != '"') return "";
  const size_t start = body.rfind('"', i - 1);
  if (start == std::string::npos) return "";
  const std::string key = body.substr(start + 1, i - start - 1);
  return key.size() <= 64 ? key : "";
}

FieldError ParseObject(const std::string& body, const std::vector<std::string>& allowed, JsonValue* out) {
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) {
    return {"request body is empty: expected a JSON object with " + Join(allowed), ""};
  }
  try {
    *out = JsonValue::parse(body);
  } catch (const JsonValue::parse_error& e) {
    return {"malformed JSON: " + WithoutJsonPrefix(e.what()), ""};
  } catch (const JsonValue::out_of_range& e) {  // a number past a double: "1e400"
    const std::string field = FieldBefore(body, e.what());
    return {(field.empty() ? std::string() : field + ": ") + WithoutJsonPrefix(e.what()), field};
  }
  if (!out->is_object()) return {"request body must be a JSON object, got " + Describe(*out), ""};
  for (const auto& item : out->items()) {
    bool known = false;
    for (const std::string& name : allowed) known = known || item.key() == name;
    if (!known) return {"unknown field \"" + item.key() + "\" (allowed: " + Join(allowed) + ")", item.key()};
  }
  return {};
}

// A server count in [0, max_total].
FieldError ReadCount(const JsonValue& j, const std::string& name, const std::string& pool, int max_total,
                     std::optional<int>* out) {
  if (!j.contains(name)) return {};
  const JsonValue& v = j.at(name);
  if (!v.is_number_integer()) return {name + " must be an integer, got " + Describe(v), name};
  if (v.is_number_unsigned() ? v.get<uint64_t>() > static_cast<uint64_t>(max_total)
                             : v.get<int64_t>() > max_total) {
    return {name + " must be at most " + std::to_string(max_total) + " (the max_total of pool \"" + pool +
                "\"), got " + v.dump(),
            name};
  }
  if (!v.is_number_unsigned() && v.get<int64_t>() < 0) {
    return {name + " must be at least 0, got " + v.dump(), name};
  }
  *out = static_cast<int>(v.get<int64_t>());
  return {};
}

// A required, non-empty, single-line reason.
FieldError ReadReason(const JsonValue& j, std::string* out) {
  if (!j.contains("reason"))
    return {"reason is required: say why, it appears in every decision it changes", "reason"};
  const JsonValue& v = j.at("reason");
  if (!v.is_string()) return {"reason must be a string, got " + Describe(v), "reason"};
  const std::string& s = v.get_ref<const std::string&>();
  if (s.find_first_not_of(" \t") == std::string::npos) return {"reason must not be empty", "reason"};
  if (s.size() > kMaxReasonLength) {
    return {"reason must be at most " + std::to_string(kMaxReasonLength) + " bytes, got " +
                std::to_string(s.size()),
            "reason"};
  }
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      return {"reason must not contain control characters", "reason"};
  }
  *out = s;
  return {};
}

bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

std::optional<TimeMs> ParseRfc3339(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.fff][Z|+HH:MM|-HH:MM]
  std::tm tm{};
  int year, month, day, hour, minute, second;
  if (!Digits(s, 0, 4, &year) || s.size() < 20 || s[4] != '-' || !Digits(s, 5, 2, &month) || s[7] != '-' ||
      !Digits(s, 8, 2, &day) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !Digits(s, 11, 2, &hour) ||
      s[13] != ':' || !Digits(s, 14, 2, &minute) || s[16] != ':' || !Digits(s, 17, 2, &second)) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59)
    return std::nullopt;
  size_t i = 19;
  TimeMs millis = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    int scale = 100, digits = 0;
    for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, ++digits) {
      millis += (s[i] - '0') * scale;
      scale /= 10;
    }
    if (digits == 0) return std::nullopt;
  }
  int offset_minutes = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int oh, om;
    if (!Digits(s, i + 1, 2, &oh) || i + 3 >= s.size() || s[i + 3] != ':' || !Digits(s, i + 4, 2, &om) ||
        oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset_minutes = (s[i] == '+' ? 1 : -1) * (oh * 60 + om);
    i += 6;
  } else {
    return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  const std::time_t secs = timegm(&tm);
  if (tm.tm_mday != day) return std::nullopt;  // normalized: Feb 30 and the like
  return static_cast<TimeMs>(secs) * 1000 + millis - static_cast<TimeMs>(offset_minutes) * kMinute;
}

// An optional "ttl" (a duration string, positive, at most kMaxTtl) into *expires_at = now + ttl.
FieldError ReadTtl(const JsonValue& j, TimeMs now, TimeMs* expires_at) {
  if (!j.contains("ttl")) return {};
  const JsonValue& v = j.at("ttl");
  if (!v.is_string()) return {"ttl must be a duration string like \"30m\", got " + Describe(v), "ttl"};
  Result<DurationMs> ttl = ParseDuration(v.get_ref<const std::string&>());
  if (!ttl.ok()) return {"ttl " + ttl.status().message(), "ttl"};
  if (*ttl <= 0) return {"ttl must be positive, got " + v.dump(), "ttl"};
  if (*ttl > kMaxTtl) {
    return {"ttl must be at most " + FormatDuration(kMaxTtl) + ", got " + v.dump() +
                " (for a lasting change, edit the config)",
            "ttl"};
  }
  *expires_at = now + *ttl;
  return {};
}

}  // namespace

const std::vector<std::string>& ProtectFieldNames() {
  static const std::vector<std::string> kNames = {"ttl", "reason"};
  return kNames;
}

const std::vector<std::string>& ReplaceFieldNames() {
  static const std::vector<std::string> kNames = {"reason"};
  return kNames;
}

FieldError ParseProtect(const std::string& body, TimeMs now, Protection* out) {
  JsonValue j;
  if (FieldError e = ParseObject(body, ProtectFieldNames(), &j); !e.ok()) return e;
  Protection p;
  if (FieldError e = ReadTtl(j, now, &p.expires_at); !e.ok()) return e;
  if (FieldError e = ReadReason(j, &p.reason); !e.ok()) return e;
  p.set_at = now;
  *out = std::move(p);
  return {};
}

FieldError ParseReplace(const std::string& body, TimeMs now, ReplaceRequest* out) {
  JsonValue j;
  if (FieldError e = ParseObject(body, ReplaceFieldNames(), &j); !e.ok()) return e;
  ReplaceRequest r;
  if (FieldError e = ReadReason(j, &r.reason); !e.ok()) return e;
  r.set_at = now;
  *out = std::move(r);
  return {};
}

const std::vector<std::string>& OverrideFieldNames() {
  static const std::vector<std::string> kNames = {"active", "min_active", "max_active", "ttl", "reason"};
  return kNames;
}

const std::vector<std::string>& PauseFieldNames() {
  static const std::vector<std::string> kNames = {"direction", "reason"};
  return kNames;
}

const std::vector<std::string>& ShedFieldNames() {
  static const std::vector<std::string> kNames = {"mode", "rate", "client", "reason"};
  return kNames;
}

FieldError ParseShed(const std::string& body, ShedControl* out) {
  JsonValue j;
  if (FieldError e = ParseObject(body, ShedFieldNames(), &j); !e.ok()) return e;
  if (!j.contains("mode")) return {"mode is required: off or manual", "mode"};
  const JsonValue& mode = j.at("mode");
  if (!mode.is_string() || (mode != "off" && mode != "manual")) {
    return {"mode must be off or manual, got " + Describe(mode), "mode"};
  }
  ShedControl s;
  s.off = mode == "off";
  for (auto [name, slot] : {std::pair{"rate", &s.rate}, std::pair{"client", &s.client}}) {
    if (!j.contains(name)) continue;
    const JsonValue& v = j.at(name);
    if (s.off) return {std::string(name) + " applies only to mode manual", name};
    if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() < 0 || v.get<double>() > 1e9) {
      return {std::string(name) + " must be a number of requests a second from 0 to 1e9, got " + Describe(v), name};
    }
    *slot = v.get<double>();
  }
  if (!s.off && s.rate <= 0 && s.client <= 0) {
    return {"mode manual needs rate or client (requests a second; 0 = no limit), e.g. {\"mode\": \"manual\", \"rate\": 800}",
            "rate"};
  }
  if (FieldError e = ReadReason(j, &s.reason); !e.ok()) return e;
  *out = std::move(s);
  return {};
}

FieldError ParseOverride(const std::string& body, const std::string& pool, int max_total, TimeMs now,
                         Override* out) {
  JsonValue j;
  if (FieldError e = ParseObject(body, OverrideFieldNames(), &j); !e.ok()) return e;
  Override o;
  for (auto [name, slot] : {std::pair{"active", &o.active}, std::pair{"min_active", &o.min_active},
                            std::pair{"max_active", &o.max_active}}) {
    if (FieldError e = ReadCount(j, name, pool, max_total, slot); !e.ok()) return e;
  }
  if (FieldError e = ReadTtl(j, now, &o.expires_at); !e.ok()) return e;
  if (FieldError e = ReadReason(j, &o.reason); !e.ok()) return e;
  if (!o.active && !o.min_active && !o.max_active) {
    return {"one of active, min_active or max_active is required", "active"};
  }
  if (o.active && (o.min_active || o.max_active)) {
    const std::string other = o.min_active ? "min_active" : "max_active";
    return {"active cannot be combined with " + other +
                " (active sets the count, min_active and max_active bound it)",
            other};
  }
  if (o.min_active && o.max_active && *o.min_active > *o.max_active) {
    return {"min_active must be at most max_active " + std::to_string(*o.max_active) + ", got " +
                std::to_string(*o.min_active),
            "min_active"};
  }
  o.set_at = now;
  *out = std::move(o);
  return {};
}

bool ParseDirection(std::string_view text, bool* scale_up, bool* scale_down) {
  if (text != "scale_up" && text != "scale_down" && text != "both") return false;
  *scale_up = text != "scale_down";
  *scale_down = text != "scale_up";
  return true;
}

FieldError ParsePause(const std::string& body, bool* scale_up, bool* scale_down, std::string* reason) {
  JsonValue j;
  if (FieldError e = ParseObject(body, PauseFieldNames(), &j); !e.ok()) return e;
  if (!j.contains("direction")) return {"direction is required: scale_up, scale_down or both", "direction"};
  const JsonValue& v = j.at("direction");
  if (!v.is_string())
    return {"direction must be a string (scale_up, scale_down or both), got " + Describe(v), "direction"};
  if (!ParseDirection(v.get_ref<const std::string&>(), scale_up, scale_down)) {
    return {"direction must be scale_up, scale_down or both, got " + v.dump(), "direction"};
  }
  return ReadReason(j, reason);
}

std::optional<TimeMs> ParseSince(std::string_view text) {
  if (text.empty()) return std::nullopt;
  if (text.find_first_not_of("0123456789.") == std::string_view::npos) {
    const size_t dot = text.find('.');
    std::string_view whole = text.substr(0, dot);
    if (whole.empty() || whole.size() > 12) return std::nullopt;
    TimeMs secs = 0;
    for (char c : whole) secs = secs * 10 + (c - '0');
    TimeMs millis = 0;
    if (dot != std::string_view::npos) {
      std::string_view frac = text.substr(dot + 1);
      if (frac.empty() || frac.find('.') != std::string_view::npos) return std::nullopt;
      int scale = 100;
      for (size_t i = 0; i < frac.size() && scale > 0; ++i, scale /= 10) millis += (frac[i] - '0') * scale;
    }
    return secs * 1000 + millis;
  }
  return ParseRfc3339(text);
}

}  // namespace api_internal
}  // namespace warmpool
