// JSON for the learned document, kept apart so only this file pays for nlohmann/json.
#include "learned_codec.h"

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <nlohmann/json.hpp>

namespace warmpool {
namespace {

using Json = nlohmann::json;
constexpr const char* kFormat = "warmpool-learned";
constexpr int kVersion = 1;

Status Bad(const std::string& path, const std::string& what) {
  return Status::InvalidArgument(path + ": " + what);
}

// Checks that `o` is an object with exactly `keys`.
Status Fields(const Json& o, const std::string& path, std::initializer_list<const char*> keys) {
  if (!o.is_object()) return Bad(path, "expected an object");
  for (const char* k : keys) {
    if (!o.contains(k)) return Bad(path + "." + k, "missing");
  }
  for (const auto& [k, v] : o.items()) {
    bool known = false;
    for (const char* want : keys) known = known || k == want;
    if (!known) return Bad(path + "." + k, "unknown field");
  }
  return Status::Ok();
}

Result<int64_t> Int(const Json& v, const std::string& path, int64_t min) {
  if (!v.is_number_integer()) return Bad(path, "expected an integer, got " + v.dump());
  const int64_t n = v.get<int64_t>();
  if (n < min) return Bad(path, "must be >= " + std::to_string(min) + ", got " + std::to_string(n));
  return n;
}

Result<double> Number(const Json& v, const std::string& path) {
  if (!v.is_number()) return Bad(path, "expected a number, got " + v.dump());
  return v.get<double>();
}

}  // namespace

std::string EncodeLearned(const LearnedState& state) {
  Json pools = Json::object();
  for (const auto& [name, r] : state.seasonal) {
    Json steps = Json::array();
    for (const auto& s : r.steps) steps.push_back({s.id, s.lo, s.hi});
    pools[name] = {{"season_ms", r.season}, {"step_ms", r.step}, {"steps", std::move(steps)}};
  }
  Json doc = {{"format", kFormat}, {"version", kVersion}, {"saved_at", state.saved_at}, {"pools", pools}};
  return doc.dump();
}

Result<LearnedState> DecodeLearned(const std::string& document) {
  Json doc = Json::parse(document, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Status::InvalidArgument("not JSON");
  if (Status st = Fields(doc, "learned", {"format", "version", "saved_at", "pools"}); !st.ok()) return st;
  if (doc["format"] != kFormat) return Bad("learned.format", "expected \"" + std::string(kFormat) + "\"");
  if (doc["version"] != kVersion) {
    return Bad("learned.version", "expected " + std::to_string(kVersion) + ", got " + doc["version"].dump());
  }
  LearnedState out;
  Result<int64_t> saved = Int(doc["saved_at"], "learned.saved_at", 0);
  if (!saved.ok()) return saved.status();
  out.saved_at = *saved;
  if (!doc["pools"].is_object()) return Bad("learned.pools", "expected an object");
  for (const auto& [name, p] : doc["pools"].items()) {
    const std::string path = "learned.pools." + name;
    if (Status st = Fields(p, path, {"season_ms", "step_ms", "steps"}); !st.ok()) return st;
    WarmPoolSizer::SeasonalRecord r;
    Result<int64_t> season = Int(p["season_ms"], path + ".season_ms", 1);
    if (!season.ok()) return season.status();
    Result<int64_t> step = Int(p["step_ms"], path + ".step_ms", 1);
    if (!step.ok()) return step.status();
    r.season = *season, r.step = *step;
    if (!p["steps"].is_array()) return Bad(path + ".steps", "expected an array");
    r.steps.reserve(p["steps"].size());
    for (size_t i = 0; i < p["steps"].size(); ++i) {
      const Json& s = p["steps"][i];
      const std::string at = path + ".steps[" + std::to_string(i) + "]";
      if (!s.is_array() || s.size() != 3) return Bad(at, "expected [id, lo, hi]");
      Result<int64_t> id = Int(s[0], at + "[0]", std::numeric_limits<int64_t>::min() + 1);
      if (!id.ok()) return id.status();
      Result<double> lo = Number(s[1], at + "[1]"), hi = Number(s[2], at + "[2]");
      if (!lo.ok()) return lo.status();
      if (!hi.ok()) return hi.status();
      if (!(*lo <= *hi)) return Bad(at, "lo must be <= hi");
      r.steps.push_back({*id, *lo, *hi});
    }
    out.seasonal[name] = std::move(r);
  }
  return out;
}

}  // namespace warmpool
