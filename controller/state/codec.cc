// JSON for the persisted state, kept apart so only this file pays for nlohmann/json.
#include "controller/state/codec.h"

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <vector>

namespace warmpool {
namespace {

using Json = nlohmann::ordered_json;
constexpr const char* kFormat = "warmpool-state";
constexpr int64_t kMaxInt = std::numeric_limits<int>::max();
constexpr int64_t kMaxTime = std::numeric_limits<int64_t>::max();

// ---------- encoding ----------

Json OptInt(const std::optional<int>& v) { return v ? Json(*v) : Json(nullptr); }

Json EncodeCounts(const BehaviorHistory::TimedCounts& counts) {
  Json out = Json::array();
  for (const auto& c : counts) out.push_back({{"at", c.at}, {"count", c.count}});
  return out;
}

Json EncodeControls(const PoolControls& c) {
  Json o = nullptr;
  if (c.override) {
    const Override& v = *c.override;
    o = {{"active", OptInt(v.active)},
         {"min_active", OptInt(v.min_active)},
         {"max_active", OptInt(v.max_active)},
         {"set_at", v.set_at},
         {"expires_at", v.expires_at},
         {"reason", v.reason},
         {"set_by", v.set_by}};
  }
  const Pause& p = c.pause;
  Json out = {{"override", o},
              {"pause",
               {{"scale_up", p.scale_up},
                {"scale_down", p.scale_down},
                {"set_at", p.set_at},
                {"reason", p.reason},
                {"set_by", p.set_by}}}};
  if (c.shed) {  // absent unless set: state files written before it still read back
    const ShedControl& s = *c.shed;
    out["shed"] = {{"off", s.off}, {"rate", s.rate}, {"client", s.client}, {"set_at", s.set_at},
                   {"reason", s.reason}, {"set_by", s.set_by}};
  }
  // Absent unless set, as shed.
  for (const auto& [server, v] : c.protect) {
    out["protect"][server] = {{"set_at", v.set_at}, {"expires_at", v.expires_at}, {"reason", v.reason},
                              {"set_by", v.set_by}};
  }
  for (const auto& [server, v] : c.replace) {
    out["replace"][server] = {{"set_at", v.set_at}, {"reason", v.reason}, {"set_by", v.set_by}};
  }
  return out;
}

// ---------- decoding: each function checks one object and names the path of what is wrong ----------

std::string Key(const std::string& path, const std::string& key) {
  bool plain = !key.empty();
  for (char ch : key) {
    plain = plain && ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                      ch == '_' || ch == '-');
  }
  if (!plain) return path + "[" + Json(key).dump(-1, ' ', false, Json::error_handler_t::replace) + "]";
  return path.empty() ? key : path + "." + key;
}

std::string Shown(const Json& v) {
  std::string s = v.dump(-1, ' ', false, Json::error_handler_t::replace);
  return s.size() > 40 ? s.substr(0, 37) + "..." : s;
}

Status Bad(const std::string& path, const std::string& what, const Json& got) {
  return Status::InvalidArgument((path.empty() ? std::string("document") : path) + ": expected " + what +
                                 ", got " + Shown(got));
}

// An object with exactly the keys `keys`.
Status CheckObject(const Json& j, const std::string& path, std::initializer_list<const char*> keys) {
  if (!j.is_object()) return Bad(path, "an object", j);
  for (const char* k : keys) {
    if (!j.contains(k)) return Status::InvalidArgument(Key(path, k) + ": missing");
  }
  for (const auto& [k, v] : j.items()) {
    bool known = false;
    for (const char* allowed : keys) known = known || k == allowed;
    if (!known) return Status::InvalidArgument(Key(path, k) + ": unknown field");
  }
  return Status::Ok();
}

Status Int(const Json& j, const std::string& path, int64_t max, const std::string& what, int64_t* out) {
  if (j.is_number_unsigned()) {
    if (j.get<uint64_t>() > static_cast<uint64_t>(max)) return Bad(path, what, j);
    *out = static_cast<int64_t>(j.get<uint64_t>());
    return Status::Ok();
  }
  if (!j.is_number_integer() || j.get<int64_t>() < 0 || j.get<int64_t>() > max) return Bad(path, what, j);
  *out = j.get<int64_t>();
  return Status::Ok();
}

Status Count(const Json& j, const std::string& path, int* out) {
  int64_t v = 0;
  if (Status st = Int(j, path, kMaxInt, "a count (an integer in [0, 2147483647])", &v); !st.ok()) return st;
  *out = static_cast<int>(v);
  return Status::Ok();
}

Status OptCount(const Json& j, const std::string& path, std::optional<int>* out) {
  if (j.is_null()) {
    out->reset();
    return Status::Ok();
  }
  int v = 0;
  if (!j.is_number_integer()) return Bad(path, "an integer or null", j);
  if (Status st = Count(j, path, &v); !st.ok()) return st;
  *out = v;
  return Status::Ok();
}

Status Time(const Json& j, const std::string& path, TimeMs* out) {
  return Int(j, path, kMaxTime, "a time (non-negative integer milliseconds since the epoch)", out);
}

Status Bool(const Json& j, const std::string& path, bool* out) {
  if (!j.is_boolean()) return Bad(path, "true or false", j);
  *out = j.get<bool>();
  return Status::Ok();
}

Status String(const Json& j, const std::string& path, std::string* out) {
  if (!j.is_string()) return Bad(path, "a string", j);
  *out = j.get<std::string>();
  return Status::Ok();
}

Status DecodeOverride(const Json& j, const std::string& path, Override* o) {
  Status st = CheckObject(j, path,
                          {"active", "min_active", "max_active", "set_at", "expires_at", "reason", "set_by"});
  if (st.ok()) st = OptCount(j["active"], Key(path, "active"), &o->active);
  if (st.ok()) st = OptCount(j["min_active"], Key(path, "min_active"), &o->min_active);
  if (st.ok()) st = OptCount(j["max_active"], Key(path, "max_active"), &o->max_active);
  if (st.ok()) st = Time(j["set_at"], Key(path, "set_at"), &o->set_at);
  if (st.ok()) st = Time(j["expires_at"], Key(path, "expires_at"), &o->expires_at);
  if (st.ok()) st = String(j["reason"], Key(path, "reason"), &o->reason);
  if (st.ok()) st = String(j["set_by"], Key(path, "set_by"), &o->set_by);
  return st;
}

Status DecodePause(const Json& j, const std::string& path, Pause* p) {
  Status st = CheckObject(j, path, {"scale_up", "scale_down", "set_at", "reason", "set_by"});
  if (st.ok()) st = Bool(j["scale_up"], Key(path, "scale_up"), &p->scale_up);
  if (st.ok()) st = Bool(j["scale_down"], Key(path, "scale_down"), &p->scale_down);
  if (st.ok()) st = Time(j["set_at"], Key(path, "set_at"), &p->set_at);
  if (st.ok()) st = String(j["reason"], Key(path, "reason"), &p->reason);
  if (st.ok()) st = String(j["set_by"], Key(path, "set_by"), &p->set_by);
  return st;
}

// A finite, non-negative number.
Status Rate(const Json& j, const std::string& path, double* out) {
  if (!j.is_number() || !(j.get<double>() >= 0) || !std::isfinite(j.get<double>())) {
    return Bad(path, "a non-negative number", j);
  }
  *out = j.get<double>();
  return Status::Ok();
}

Status DecodeShed(const Json& j, const std::string& path, ShedControl* s) {
  Status st = CheckObject(j, path, {"off", "rate", "client", "set_at", "reason", "set_by"});
  if (st.ok()) st = Bool(j["off"], Key(path, "off"), &s->off);
  if (st.ok()) st = Rate(j["rate"], Key(path, "rate"), &s->rate);
  if (st.ok()) st = Rate(j["client"], Key(path, "client"), &s->client);
  if (st.ok()) st = Time(j["set_at"], Key(path, "set_at"), &s->set_at);
  if (st.ok()) st = String(j["reason"], Key(path, "reason"), &s->reason);
  if (st.ok()) st = String(j["set_by"], Key(path, "set_by"), &s->set_by);
  return st;
}

Status DecodeProtection(const Json& j, const std::string& path, Protection* p) {
  Status st = CheckObject(j, path, {"set_at", "expires_at", "reason", "set_by"});
  if (st.ok()) st = Time(j["set_at"], Key(path, "set_at"), &p->set_at);
  if (st.ok()) st = Time(j["expires_at"], Key(path, "expires_at"), &p->expires_at);
  if (st.ok()) st = String(j["reason"], Key(path, "reason"), &p->reason);
  if (st.ok()) st = String(j["set_by"], Key(path, "set_by"), &p->set_by);
  return st;
}

Status DecodeReplaceRequest(const Json& j, const std::string& path, ReplaceRequest* r) {
  Status st = CheckObject(j, path, {"set_at", "reason", "set_by"});
  if (st.ok()) st = Time(j["set_at"], Key(path, "set_at"), &r->set_at);
  if (st.ok()) st = String(j["reason"], Key(path, "reason"), &r->reason);
  if (st.ok()) st = String(j["set_by"], Key(path, "set_by"), &r->set_by);
  return st;
}

// An object of `decode`d values by server name.
template <typename T, typename F>
Status DecodeByServer(const Json& j, const std::string& path, std::map<std::string, T>* out, F decode) {
  if (!j.is_object()) return Bad(path, "an object of servers", j);
  for (const auto& item : j.items()) {
    if (item.key().empty()) return Bad(path, "an object of servers (no empty name)", j);
    if (Status st = decode(item.value(), Key(path, item.key()), &(*out)[item.key()]); !st.ok()) return st;
  }
  return Status::Ok();
}

Status DecodeControls(const Json& j, const std::string& path, PoolControls* c) {
  Json plain = j;
  if (plain.is_object() && plain.contains("shed")) {
    c->shed.emplace();
    if (Status st = DecodeShed(plain["shed"], Key(path, "shed"), &*c->shed); !st.ok()) return st;
    plain.erase("shed");
  }
  if (plain.is_object() && plain.contains("protect")) {
    if (Status st = DecodeByServer(plain["protect"], Key(path, "protect"), &c->protect, DecodeProtection); !st.ok())
      return st;
    plain.erase("protect");
  }
  if (plain.is_object() && plain.contains("replace")) {
    if (Status st = DecodeByServer(plain["replace"], Key(path, "replace"), &c->replace, DecodeReplaceRequest);
        !st.ok())
      return st;
    plain.erase("replace");
  }
  Status st = CheckObject(plain, path, {"override", "pause"});
  if (st.ok() && !plain["override"].is_null()) {
    c->override.emplace();
    st = DecodeOverride(plain["override"], Key(path, "override"), &*c->override);
  }
  if (st.ok()) st = DecodePause(plain["pause"], Key(path, "pause"), &c->pause);
  return st;
}

// An array whose elements `decode` reads, each with its path "path[i]", appended to `out` in order.
template <typename C, typename F>
Status DecodeArray(const Json& j, const std::string& path, C* out, F decode) {
  if (!j.is_array()) return Bad(path, "an array", j);
  for (size_t i = 0; i < j.size(); ++i) {
    typename C::value_type v{};
    if (Status st = decode(j[i], path + "[" + std::to_string(i) + "]", &v); !st.ok()) return st;
    out->push_back(std::move(v));
  }
  return Status::Ok();
}

Status DecodeCounts(const Json& j, const std::string& path, BehaviorHistory::TimedCounts* out) {
  return DecodeArray(j, path, out, [](const Json& e, const std::string& at, BehaviorHistory::TimedCount* c) {
    Status st = CheckObject(e, at, {"at", "count"});
    if (st.ok()) st = Time(e["at"], Key(at, "at"), &c->at);
    if (st.ok()) st = Count(e["count"], Key(at, "count"), &c->count);
    return st;
  });
}

Status DecodeBehavior(const Json& j, const std::string& path, BehaviorHistory* h) {
  Status st = CheckObject(j, path, {"recommendations", "scale_ups", "scale_downs"});
  if (st.ok()) st = DecodeCounts(j["recommendations"], Key(path, "recommendations"), &h->recommendations);
  if (st.ok()) st = DecodeCounts(j["scale_ups"], Key(path, "scale_ups"), &h->scale_ups);
  if (st.ok()) st = DecodeCounts(j["scale_downs"], Key(path, "scale_downs"), &h->scale_downs);
  return st;
}

// A map from pool name to an object decoded by `decode`.
template <typename T, typename F>
Status DecodePools(const Json& j, const std::string& path, std::map<std::string, T>* out, F decode) {
  if (!j.is_object()) return Bad(path, "an object keyed by pool name", j);
  for (const auto& [pool, v] : j.items()) {
    if (pool.empty()) return Status::InvalidArgument(path + "[\"\"]: empty pool name");
    if (Status st = decode(v, Key(path, pool), &(*out)[pool]); !st.ok()) return st;
  }
  return Status::Ok();
}

// A provider's memory: {"<kind>": {"<server>": ms}}.
Status DecodeMemory(const Json& j, const std::string& path, ProviderMemory* m) {
  if (!j.is_object()) return Bad(path, "an object of kinds", j);
  for (const auto& [kind, facts] : j.items()) {
    const std::string at = Key(path, kind);
    if (!facts.is_object()) return Bad(at, "an object of servers and times", facts);
    std::map<std::string, TimeMs>& out = (*m)[kind];
    for (const auto& [server, t] : facts.items()) {
      if (Status st = Time(t, Key(at, server), &out[server]); !st.ok()) return st;
    }
  }
  return Status::Ok();
}

Status Names(const Json& j, const std::string& path, std::vector<std::string>* out) {
  if (!j.is_array()) return Bad(path, "an array of server names", j);
  for (size_t i = 0; i < j.size(); ++i) {
    const std::string at = path + "[" + std::to_string(i) + "]";
    if (!j[i].is_string() || j[i].get_ref<const std::string&>().empty()) return Bad(at, "a server name", j[i]);
    out->push_back(j[i].get<std::string>());
  }
  return Status::Ok();
}

// The plan a pool was applying: {"at": ms, "promote": [..], "drain": [..], "provision": [..], "retire": [..]}
// and, when not empty, "suspend": [..] and "resume": [..] (the stopped tier; absent in older files).
Status DecodeApplying(const Json& j, const std::string& path, PersistedState::Applying* a) {
  Json required = j;  // suspend and resume are optional: the others are checked as always
  if (required.is_object()) required.erase("suspend"), required.erase("resume");
  Status st = CheckObject(required, path, {"at", "promote", "drain", "provision", "retire"});
  if (st.ok()) st = Time(j["at"], Key(path, "at"), &a->at);
  if (st.ok()) st = Names(j["promote"], Key(path, "promote"), &a->plan.promote);
  if (st.ok()) st = Names(j["drain"], Key(path, "drain"), &a->plan.drain);
  if (st.ok()) st = Names(j["provision"], Key(path, "provision"), &a->plan.provision);
  if (st.ok()) st = Names(j["retire"], Key(path, "retire"), &a->plan.retire);
  if (st.ok() && j.contains("suspend")) st = Names(j["suspend"], Key(path, "suspend"), &a->plan.suspend);
  if (st.ok() && j.contains("resume")) st = Names(j["resume"], Key(path, "resume"), &a->plan.resume);
  return st;
}

Status Decode(const Json& j, PersistedState* s) {
  if (!j.is_object()) return Bad("", "an object", j);
  if (j.contains("format") && j["format"] != kFormat)
    return Bad("format", std::string("\"") + kFormat + "\"", j["format"]);
  if (j.contains("version") && j["version"] != 1 && j["version"] != kStateVersion)
    return Bad("version", "1 or " + std::to_string(kStateVersion), j["version"]);
  // Version 1 had no providers' memory; it is still read.
  const bool v1 = j.contains("version") && j["version"] == 1;
  Json plain = j;  // "applying" is optional (absent when no pool was applying a plan)
  if (!v1 && plain.contains("applying")) {
    if (Status st = DecodePools(plain["applying"], "applying", &s->applying, DecodeApplying); !st.ok()) return st;
    plain.erase("applying");
  }
  Status st = v1 ? CheckObject(j, "", {"format", "version", "saved_at", "controls", "behavior"})
                 : CheckObject(plain, "", {"format", "version", "saved_at", "controls", "behavior", "providers"});
  if (st.ok()) st = Time(j["saved_at"], "saved_at", &s->saved_at);
  if (st.ok()) st = DecodePools(j["controls"], "controls", &s->controls, DecodeControls);
  if (st.ok()) st = DecodePools(j["behavior"], "behavior", &s->behavior, DecodeBehavior);
  if (st.ok() && !v1) st = DecodePools(j["providers"], "providers", &s->providers, DecodeMemory);
  return st;
}

Result<Json> Parse(const std::string& document) {
  try {
    return Json::parse(document);
  } catch (const Json::parse_error& e) {
    return Status::InvalidArgument(std::string("document: not JSON: ") + e.what());
  } catch (const Json::exception& e) {  // a number past a double ("1e400"): out_of_range, found by tests/fuzz/
    return Status::InvalidArgument(std::string("document: ") + e.what());
  }
}

// ---------- the learned document ----------

constexpr const char* kLearnedFormat = "warmpool-learned";

Status Duration(const Json& j, const std::string& path, DurationMs* out) {
  const char* what = "a duration (a positive integer of milliseconds)";
  if (Status st = Int(j, path, kMaxTime, what, out); !st.ok()) return st;
  return *out > 0 ? Status::Ok() : Bad(path, what, j);
}

Status DecodeSeasonal(const Json& j, const std::string& path, WarmPoolSizer::SeasonalRecord* r) {
  Status st = CheckObject(j, path, {"season_ms", "step_ms", "steps"});
  if (st.ok()) st = Duration(j["season_ms"], Key(path, "season_ms"), &r->season);
  if (st.ok()) st = Duration(j["step_ms"], Key(path, "step_ms"), &r->step);
  if (!st.ok()) return st;
  return DecodeArray(
      j["steps"], Key(path, "steps"), &r->steps,
      [](const Json& s, const std::string& at, WarmPoolSizer::SeasonalRecord::Step* step) {
        if (!s.is_array() || s.size() != 3) return Bad(at, "[step, lowest, highest]", s);
        if (Status e = Int(s[0], at + "[0]", kMaxTime, "a step (a non-negative integer)", &step->id); !e.ok())
          return e;
        if (!s[1].is_number()) return Bad(at + "[1]", "a number", s[1]);
        if (!s[2].is_number()) return Bad(at + "[2]", "a number", s[2]);
        step->lo = s[1].get<double>(), step->hi = s[2].get<double>();
        if (!(step->lo <= step->hi)) return Bad(at, "lowest <= highest", s);
        return Status::Ok();
      });
}

Status DecodeRecord(const Json& r, const std::string& at, TimeMs after, PolicyRecord* out) {
  if (!r.is_array() || r.size() != 4) return Bad(at, "[at, valid, desired, metric or null]", r);
  Status st = Time(r[0], at + "[0]", &out->at);
  if (st.ok() && out->at < after) return Bad(at + "[0]", "a time not before the previous record's", r[0]);
  if (st.ok()) st = Bool(r[1], at + "[1]", &out->valid);
  if (st.ok()) st = Count(r[2], at + "[2]", &out->desired);
  if (!st.ok()) return st;
  if (r[3].is_null()) {
    out->metric = std::numeric_limits<double>::quiet_NaN();
  } else if (r[3].is_number()) {
    out->metric = r[3].get<double>();
  } else {
    return Bad(at + "[3]", "a number or null", r[3]);
  }
  return Status::Ok();
}

Status DecodeHistory(const Json& j, const std::string& path, PolicyHistory* h) {
  Status st = CheckObject(j, path, {"type", "name", "params", "records"});
  if (st.ok()) st = String(j["type"], Key(path, "type"), &h->type);
  if (st.ok()) st = String(j["name"], Key(path, "name"), &h->name);
  if (!st.ok()) return st;
  const Json& params = j["params"];
  if (!params.is_object()) return Bad(Key(path, "params"), "an object of strings", params);
  for (const auto& [k, v] : params.items()) {
    if (st = String(v, Key(Key(path, "params"), k), &h->params[k]); !st.ok()) return st;
  }
  return DecodeArray(j["records"], Key(path, "records"), &h->records,
                     [h](const Json& r, const std::string& at, PolicyRecord* out) {
                       return DecodeRecord(r, at, h->records.empty() ? 0 : h->records.back().at, out);
                     });
}

// A pool of the learned document (version 2): its seasonal record (null: none) and policy histories.
struct LearnedPool {
  std::optional<WarmPoolSizer::SeasonalRecord> seasonal;
  std::vector<PolicyHistory> policies;
};

Status DecodeLearnedPool(const Json& j, const std::string& path, LearnedPool* p) {
  Status st = CheckObject(j, path, {"seasonal", "policies"});
  if (st.ok() && !j["seasonal"].is_null()) {
    p->seasonal.emplace();
    st = DecodeSeasonal(j["seasonal"], Key(path, "seasonal"), &*p->seasonal);
  }
  if (!st.ok()) return st;
  return DecodeArray(j["policies"], Key(path, "policies"), &p->policies, DecodeHistory);
}

Json EncodeSeasonal(const WarmPoolSizer::SeasonalRecord& r) {
  Json steps = Json::array();
  for (const auto& s : r.steps) steps.push_back({s.id, s.lo, s.hi});
  return {{"season_ms", r.season}, {"step_ms", r.step}, {"steps", std::move(steps)}};
}

Json EncodeHistory(const PolicyHistory& h) {
  Json params = Json::object();
  for (const auto& [k, v] : h.params) params[k] = v;
  Json records = Json::array();
  for (const PolicyRecord& r : h.records) {
    records.push_back({r.at, r.valid, r.desired, std::isfinite(r.metric) ? Json(r.metric) : Json(nullptr)});
  }
  return {{"type", h.type}, {"name", h.name}, {"params", std::move(params)}, {"records", std::move(records)}};
}

}  // namespace

std::string EncodeState(const PersistedState& state) {
  Json controls = Json::object();
  for (const auto& [pool, c] : state.controls) controls[pool] = EncodeControls(c);
  Json behavior = Json::object();
  for (const auto& [pool, h] : state.behavior) {
    behavior[pool] = {{"recommendations", EncodeCounts(h.recommendations)},
                      {"scale_ups", EncodeCounts(h.scale_ups)},
                      {"scale_downs", EncodeCounts(h.scale_downs)}};
  }
  Json providers = Json::object();
  for (const auto& [pool, m] : state.providers) {
    Json kinds = Json::object();
    for (const auto& [kind, facts] : m) {
      Json f = Json::object();
      for (const auto& [server, t] : facts) f[server] = t;
      kinds[kind] = std::move(f);
    }
    providers[pool] = std::move(kinds);
  }
  Json j = {{"format", kFormat},
            {"version", kStateVersion},
            {"saved_at", state.saved_at},
            {"controls", std::move(controls)},
            {"behavior", std::move(behavior)},
            {"providers", std::move(providers)}};
  if (!state.applying.empty()) {
    Json applying = Json::object();
    for (const auto& [pool, a] : state.applying) {
      applying[pool] = {{"at", a.at},
                        {"promote", a.plan.promote},
                        {"drain", a.plan.drain},
                        {"provision", a.plan.provision},
                        {"retire", a.plan.retire}};
      if (!a.plan.suspend.empty()) applying[pool]["suspend"] = a.plan.suspend;
      if (!a.plan.resume.empty()) applying[pool]["resume"] = a.plan.resume;
    }
    j["applying"] = std::move(applying);
  }
  return j.dump(1, ' ', false, Json::error_handler_t::replace) + "\n";
}

Result<PersistedState> DecodeState(const std::string& document) {
  Result<Json> parsed = Parse(document);
  if (!parsed.ok()) return parsed.status();
  const Json& j = *parsed;
  PersistedState state;
  if (Status st = Decode(j, &state); !st.ok()) return st;
  return state;
}

Status ValidateState(const std::string& document) { return DecodeState(document).status(); }

std::string EncodeLearned(const LearnedState& state) {
  std::set<std::string> names;
  for (const auto& [name, r] : state.seasonal) names.insert(name);
  for (const auto& [name, h] : state.histories) names.insert(name);
  Json pools = Json::object();
  for (const std::string& name : names) {
    auto r = state.seasonal.find(name);
    auto h = state.histories.find(name);
    Json policies = Json::array();
    if (h != state.histories.end()) {
      for (const PolicyHistory& p : h->second) policies.push_back(EncodeHistory(p));
    }
    pools[name] = {{"seasonal", r == state.seasonal.end() ? Json(nullptr) : EncodeSeasonal(r->second)},
                   {"policies", std::move(policies)}};
  }
  Json j = {{"format", kLearnedFormat},
            {"version", kLearnedVersion},
            {"saved_at", state.saved_at},
            {"pools", std::move(pools)}};
  return j.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";  // compact: it is large
}

Result<LearnedState> DecodeLearned(const std::string& document) {
  Result<Json> parsed = Parse(document);
  if (!parsed.ok()) return parsed.status();
  const Json& j = *parsed;
  LearnedState state;
  Status st = CheckObject(j, "", {"format", "version", "saved_at", "pools"});
  if (!st.ok()) return st;
  if (j["format"] != kLearnedFormat)
    return Bad("format", std::string("\"") + kLearnedFormat + "\"", j["format"]);
  if (j["version"] != 1 && j["version"] != kLearnedVersion)
    return Bad("version", "1 or " + std::to_string(kLearnedVersion), j["version"]);
  if (st = Time(j["saved_at"], "saved_at", &state.saved_at); !st.ok()) return st;
  if (j["version"] == 1) {  // the seasonal record alone
    if (st = DecodePools(j["pools"], "pools", &state.seasonal, DecodeSeasonal); !st.ok()) return st;
    return state;
  }
  std::map<std::string, LearnedPool> pools;
  if (st = DecodePools(j["pools"], "pools", &pools, DecodeLearnedPool); !st.ok()) return st;
  for (auto& [name, p] : pools) {
    if (p.seasonal) state.seasonal[name] = std::move(*p.seasonal);
    if (!p.policies.empty()) state.histories[name] = std::move(p.policies);
  }
  return state;
}

}  // namespace warmpool
