// JSON rendering for the REST API. Field names here are the contract in docs/openapi.yaml.
#include <nlohmann/json.hpp>

#include "controller/api/internal.h"

namespace warmpool {
namespace api_internal {
namespace {

using Json = nlohmann::ordered_json;

std::string Dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n"; }

// RFC 3339, or null for "never" (0).
Json TimeOrNull(TimeMs t) { return t == 0 ? Json(nullptr) : Json(FormatTime(t)); }

Json StringOrNull(const std::string& s) { return s.empty() ? Json(nullptr) : Json(s); }

Json OptionalInt(const std::optional<int>& v) { return v ? Json(*v) : Json(nullptr); }

Json OverrideObject(const std::optional<Override>& o) {
  if (!o) return nullptr;
  return Json{{"active", OptionalInt(o->active)},
              {"min_active", OptionalInt(o->min_active)},
              {"max_active", OptionalInt(o->max_active)},
              {"reason", o->reason},
              {"set_by", o->set_by},
              {"set_at", TimeOrNull(o->set_at)},
              {"expires_at", TimeOrNull(o->expires_at)}};
}

Json PauseObject(const Pause& p) {
  return Json{{"scale_up", p.scale_up},
              {"scale_down", p.scale_down},
              {"reason", StringOrNull(p.any() ? p.reason : "")},
              {"set_by", StringOrNull(p.any() ? p.set_by : "")},
              {"set_at", TimeOrNull(p.any() ? p.set_at : 0)}};
}

Json ShedObject(const std::optional<ShedControl>& s) {
  if (!s) return nullptr;
  return Json{{"mode", s->off ? "off" : "manual"},
              {"rate", s->rate},
              {"client", s->client},
              {"reason", s->reason},
              {"set_by", s->set_by},
              {"set_at", TimeOrNull(s->set_at)}};
}

Json ProtectObject(const std::optional<Protection>& p) {
  if (!p) return nullptr;
  return Json{{"reason", p->reason},
              {"set_by", p->set_by},
              {"set_at", TimeOrNull(p->set_at)},
              {"expires_at", TimeOrNull(p->expires_at)}};
}

Json ReplaceObject(const ReplaceRequest& r) {
  return Json{{"reason", r.reason}, {"set_by", r.set_by}, {"set_at", TimeOrNull(r.set_at)}};
}

Json ServersArray(const PoolState& state) {
  Json servers = Json::array();
  for (const Server& s : state.servers) {
    servers.push_back(Json{{"name", s.name},
                           {"address", s.address},
                           {"state", StateName(s.state)},
                           {"health", HealthName(s.health)},
                           {"since", TimeOrNull(s.since)}});
  }
  return servers;
}

Json DecisionObject(const Decision& d) {
  Json recs = Json::array();
  for (const Recommendation& r : d.recommendations) {
    recs.push_back(
        Json{{"policy", r.policy}, {"valid", r.valid}, {"desired", r.desired}, {"reason", r.reason}});
  }
  return Json{{"at", TimeOrNull(d.at)},
              {"current", d.current},
              {"desired", d.desired},
              {"direction", DirectionName(d.direction)},
              {"policy", d.policy},
              {"reason", d.reason},
              {"recommendations", std::move(recs)}};
}

Json PlanObject(const ScalePlan& p) {
  return Json{{"promote", p.promote}, {"drain", p.drain},      {"provision", p.provision},
              {"retire", p.retire},   {"suspend", p.suspend},  {"resume", p.resume},
              {"reason", p.reason},   {"summary", p.Summary()}};
}

Json ResultObject(const ApplyResult& r) {
  Json actions = Json::array();
  for (const ApplyResult::Action& a : r.actions) {
    actions.push_back(Json{{"kind", a.kind},
                           {"server", a.server},
                           {"ok", a.status.ok()},
                           {"error", a.status.ok() ? Json(nullptr) : Json(a.status.ToString())}});
  }
  return Json{
      {"dry_run", r.dry_run}, {"ok", r.ok()}, {"summary", r.Summary()}, {"actions", std::move(actions)}};
}

Json PoolObject(const PoolView& v) {
  const bool ticked = v.status && v.status->at != 0;
  const PoolStatus empty;
  const PoolStatus& s = v.status ? *v.status : empty;
  const PoolState& st = s.state;
  Json j;
  j["name"] = v.name;
  j["dry_run"] = s.dry_run;
  j["ticked_at"] = TimeOrNull(s.at);
  j["observed"] = s.observed;
  j["observe_error"] = StringOrNull(s.observe_error);
  j["owner"] = StringOrNull(s.owner);  // cluster mode: the member acting on the pool
  j["elsewhere"] = s.elsewhere;        // ...and it is another member
  j["limits"] = Json{{"min_active", s.min_active},
                     {"max_active", s.max_active},
                     {"warm_standby", s.warm_standby},
                     {"warm_stopped", s.warm_stopped},
                     {"max_total", s.max_total}};
  j["counts"] = Json{{"active", st.Count(ServerState::kActive)},
                     {"standby", st.Count(ServerState::kStandby)},
                     {"provisioning", st.Count(ServerState::kProvisioning)},
                     {"draining", st.Count(ServerState::kDraining)},
                     {"stopped", st.Count(ServerState::kStopped)},
                     {"cold", st.Count(ServerState::kCold)}};
  j["servers"] = ServersArray(st);
  j["decision"] = ticked ? DecisionObject(s.decision) : Json(nullptr);
  j["plan"] = ticked ? PlanObject(s.plan) : Json(nullptr);
  j["result"] = ticked ? ResultObject(s.applied) : Json(nullptr);
  j["metric_errors"] = s.metric_errors;
  j["replacing"] = s.decision.replacing;  // servers whose replacement is under way (health:)
  j["replacement_breaker_open"] = s.decision.replacement_breaker_open;
  j["surge"] = s.decision.surge;  // a surge response holds the decision's floor (surge:)
  j["override"] = OverrideObject(v.controls.override);
  j["pause"] = PauseObject(v.controls.pause);
  j["shed"] = ShedObject(v.controls.shed);
  Json protect = Json::object(), replace = Json::object();
  for (const auto& [server, p] : v.controls.protect) protect[server] = ProtectObject(p);
  for (const auto& [server, r] : v.controls.replace) replace[server] = ReplaceObject(r);
  j["protected"] = std::move(protect);       // by server: never drained or replaced
  j["replace_requests"] = std::move(replace);  // by server: an operator's, kept until the server is gone
  return j;
}

}  // namespace

HttpServerResponse JsonResponse(int status, std::string body) {
  return HttpServerResponse{status, "application/json", std::move(body), {}};
}

HttpServerResponse Error(int status, const std::string& message, const std::string& field) {
  nlohmann::ordered_json j{{"error", message}};
  if (!field.empty()) j["field"] = field;
  return JsonResponse(status, Dump(j));
}

std::string PoolJson(const PoolView& pool) { return Dump(PoolObject(pool)); }

std::string PoolListJson(const std::vector<PoolView>& pools) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const PoolView& p : pools) list.push_back(PoolObject(p));
  return Dump(nlohmann::ordered_json{{"pools", std::move(list)}});
}

std::string OverrideJson(const std::string& pool, const std::optional<Override>& o) {
  return Dump(nlohmann::ordered_json{{"pool", pool}, {"override", OverrideObject(o)}});
}

std::string PauseJson(const std::string& pool, const Pause& p) {
  return Dump(nlohmann::ordered_json{{"pool", pool}, {"pause", PauseObject(p)}});
}

std::string ShedJson(const std::string& pool, const std::optional<ShedControl>& s) {
  return Dump(nlohmann::ordered_json{{"pool", pool}, {"shed", ShedObject(s)}});
}

std::string ProtectJson(const std::string& pool, const std::string& server, const std::optional<Protection>& p) {
  return Dump(nlohmann::ordered_json{{"pool", pool}, {"server", server}, {"protect", ProtectObject(p)}});
}

std::string ReplaceJson(const std::string& pool, const std::string& server, const ReplaceRequest& r) {
  return Dump(nlohmann::ordered_json{{"pool", pool}, {"server", server}, {"replace", ReplaceObject(r)}});
}

std::string EventsJson(const std::vector<Event>& events) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const Event& e : events) {
    list.push_back(nlohmann::ordered_json{{"seq", e.seq},
                                          {"at", TimeOrNull(e.at)},
                                          {"pool", e.pool},
                                          {"kind", e.kind},
                                          {"from", e.from},
                                          {"to", e.to},
                                          {"direction", e.direction},
                                          {"policy", e.policy},
                                          {"reason", e.reason},
                                          {"plan", e.plan},
                                          {"result", e.result}});
  }
  return Dump(nlohmann::ordered_json{{"events", std::move(list)}});
}

std::string ClusterJson(const ClusterStatus& c, const std::vector<std::string>& pools) {
  using Json = nlohmann::ordered_json;
  Json j;
  j["enabled"] = c.enabled;
  if (!c.enabled) return Dump(j);
  j["member"] = c.member;
  j["joined"] = c.joined;
  j["may_apply"] = c.may_apply;
  j["lease_age_seconds"] = static_cast<double>(c.lease_age) / 1000.0;
  j["lease_ttl_seconds"] = static_cast<double>(c.lease_ttl) / 1000.0;
  j["endpoint"] = StringOrNull(c.endpoint);
  j["renewal_failures"] = c.renewal_failures;
  j["error"] = StringOrNull(c.error);
  j["at"] = TimeOrNull(c.at);
  Json members = Json::array();
  for (const std::string& m : c.members) {
    Json owned = Json::array();
    for (const auto& [pool, owner] : c.owners) {
      if (owner == m) owned.push_back(pool);
    }
    members.push_back(Json{{"name", m}, {"pools", std::move(owned)}});
  }
  j["members"] = std::move(members);
  Json unowned = Json::array();
  for (const std::string& p : pools) {
    if (c.owners.count(p) == 0) unowned.push_back(p);
  }
  j["unowned"] = std::move(unowned);  // pools no member holds right now (a hand-over under way)
  return Dump(j);
}

std::string StatusJson(const std::string& status, const std::string& error) {
  nlohmann::ordered_json j{{"status", status}};
  if (!error.empty()) j["error"] = error;
  return Dump(j);
}

}  // namespace api_internal
}  // namespace warmpool
