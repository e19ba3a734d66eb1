#include "warmpool/params.h"

#include <cmath>
#include <cstdlib>
#include <sstream>

namespace warmpool {
namespace {

std::string Quote(const std::string& v) { return "\"" + v + "\""; }

std::string FormatNumber(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

}  // namespace

bool ParamReader::Has(std::string_view key) const {
  return params_.values.find(std::string(key)) != params_.values.end();
}

const std::string* ParamReader::Raw(std::string_view key) {
  auto it = params_.values.find(std::string(key));
  if (it == params_.values.end()) return nullptr;
  used_.insert(it->first);
  return &it->second;
}

std::string ParamReader::PathOf(std::string_view key) const {
  if (params_.path.empty()) return std::string(key);
  return params_.path + "." + std::string(key);
}

void ParamReader::Error(std::string_view key, std::string_view msg) {
  used_.insert(std::string(key));
  errors_.push_back(PathOf(key) + ": " + std::string(msg));
}

std::string ParamReader::String(std::string_view key, std::string def) {
  const std::string* v = Raw(key);
  return v ? *v : def;
}

std::string ParamReader::Required(std::string_view key, std::string_view what) {
  std::string v = String(key);
  if (v.empty()) Error(key, "required (" + std::string(what) + ")");
  return v;
}

double ParamReader::Number(std::string_view key, double def, double min, double max) {
  const std::string* v = Raw(key);
  if (!v) return def;
  char* end = nullptr;
  double d = std::strtod(v->c_str(), &end);
  if (v->empty() || end != v->c_str() + v->size() || !std::isfinite(d)) {
    Error(key, "must be a number, got " + Quote(*v));
    return def;
  }
  if (d < min || d > max) {
    Error(key, "must be between " + FormatNumber(min) + " and " + FormatNumber(max) + ", got " + *v);
    return def;
  }
  return d;
}

int ParamReader::Int(std::string_view key, int def, int min, int max) {
  const std::string* v = Raw(key);
  if (!v) return def;
  char* end = nullptr;
  long n = std::strtol(v->c_str(), &end, 10);
  if (v->empty() || end != v->c_str() + v->size()) {
    Error(key, "must be an integer, got " + Quote(*v));
    return def;
  }
  if (n < min || n > max) {
    Error(key, "must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " + *v);
    return def;
  }
  return static_cast<int>(n);
}

bool ParamReader::Bool(std::string_view key, bool def) {
  const std::string* v = Raw(key);
  if (!v) return def;
  if (*v == "true") return true;
  if (*v == "false") return false;
  Error(key, "must be true or false, got " + Quote(*v));
  return def;
}

DurationMs ParamReader::Duration(std::string_view key, DurationMs def, DurationMs min) {
  const std::string* v = Raw(key);
  if (!v) return def;
  Result<DurationMs> d = ParseDuration(*v);
  if (!d.ok()) {
    Error(key, d.status().message());
    return def;
  }
  if (*d < min) {
    Error(key, "must be at least " + FormatDuration(min) + ", got " + Quote(*v));
    return def;
  }
  if (*d > kMaxSettingDuration) {
    Error(key, "must be at most " + FormatDuration(kMaxSettingDuration) + ", got " + Quote(*v));
    return def;
  }
  return *d;
}

std::string ParamReader::Enum(std::string_view key, std::string def,
                              const std::vector<std::string>& allowed) {
  const std::string* v = Raw(key);
  if (!v) return def;
  for (const std::string& a : allowed) {
    if (*v == a) return a;
  }
  std::string list;
  for (const std::string& a : allowed) list += (list.empty() ? "" : ", ") + a;
  Error(key, "must be one of " + list + ", got " + Quote(*v));
  return def;
}

std::vector<std::string> ParamReader::Finish() {
  // An unknown key whose first segment no read key shares is reported once, by that segment: a
  // mistyped block ("serverz: [...]") is one error, not one per value inside it.
  auto top = [](const std::string& key) { return key.substr(0, key.find_first_of(".[")); };
  std::set<std::string> known_tops, reported;
  for (const std::string& key : used_) known_tops.insert(top(key));
  for (const auto& [key, value] : params_.values) {
    if (used_.count(key) != 0) continue;
    const std::string name = known_tops.count(top(key)) ? key : top(key);
    if (reported.insert(name).second) errors_.push_back(PathOf(name) + ": unknown key");
  }
  return std::move(errors_);
}

bool ParamReader::FinishInto(std::vector<std::string>* errors) {
  std::vector<std::string> errs = Finish();
  errors->insert(errors->end(), errs.begin(), errs.end());
  return errs.empty();
}

}  // namespace warmpool
