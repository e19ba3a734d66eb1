#include "warmpool/params.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace warmpool {
namespace {

void AppendEscaped(char c, bool quoted, std::string* out) {
  const auto u = static_cast<unsigned char>(c);
  if (c == '\n') {
    *out += "\\n";
  } else if (c == '\t') {
    *out += "\\t";
  } else if (c == '\r') {
    *out += "\\r";
  } else if (u < 0x20 || u == 0x7f) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(u));
    *out += buf;
  } else if (quoted && (c == '"' || c == '\\')) {
    *out += '\\';
    *out += c;
  } else {
    *out += c;
  }
}

std::string Quote(const std::string& v) { return QuoteValue(v); }

// `key` is `prefix` or lies under it ("prefix.x", "prefix[0]").
bool Under(std::string_view key, std::string_view prefix) {
  return key.substr(0, prefix.size()) == prefix &&
         (key.size() == prefix.size() || key[prefix.size()] == '.' || key[prefix.size()] == '[');
}

std::string FormatNumber(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

}  // namespace

std::string EscapeControls(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) AppendEscaped(c, /*quoted=*/false, &out);
  return out;
}

std::string QuoteValue(std::string_view text) {
  std::string out = "\"";
  out.reserve(text.size() + 2);
  for (char c : text) AppendEscaped(c, /*quoted=*/true, &out);
  return out + "\"";
}

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
  if (auto it = params_.origins.find(std::string(key)); it != params_.origins.end()) return it->second;
  if (params_.path.empty()) return std::string(key);
  return params_.path + "." + std::string(key);
}

void ParamReader::Error(std::string_view key, std::string_view msg) {
  used_.insert(std::string(key));
  for (auto it = params_.values.lower_bound(std::string(key)); it != params_.values.end() && Under(it->first, key);
       ++it) {
    used_.insert(it->first);
  }
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
  // An unknown key is named by its shortest prefix that no read key shares, the setting the operator
  // wrote where it leaves what is known: a mistyped block ("serverz: [...]", "exec.colour: {...}") is
  // one error, not one per value inside it. A prefix that ends with an index is never that name: an
  // unknown setting inside a list's item is named itself ("servers[1].colour"), not the whole item.
  auto shared = [this](std::string_view prefix) {
    for (auto it = used_.lower_bound(prefix); it != used_.end() && it->compare(0, prefix.size(), prefix) == 0;
         ++it) {
      if (Under(*it, prefix)) return true;
    }
    return false;
  };
  std::set<std::string> reported;
  for (const auto& [key, value] : params_.values) {
    if (used_.count(key) != 0) continue;
    std::string name = key;
    for (size_t end = 1; end < key.size(); ++end) {
      if ((key[end] != '.' && key[end] != '[') || key[end - 1] == ']') continue;
      if (!shared(std::string_view(key).substr(0, end))) {
        name = key.substr(0, end);
        break;
      }
    }
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
