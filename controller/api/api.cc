// The REST API's routing, authentication and handlers. JSON lives in api_json.cc and api_requests.cc.
#include "controller/api/api.h"

#include <algorithm>
#include <exception>
#include <limits>

#include "controller/api/internal.h"
#include "controller/log/log.h"

namespace warmpool {
namespace {

using api_internal::Error;
using api_internal::JsonResponse;

enum class RouteId {
  kPools,
  kPool,
  kPutOverride,
  kDeleteOverride,
  kPutPause,
  kDeletePause,
  kPutShed,
  kDeleteShed,
  kPutProtect,
  kDeleteProtect,
  kPostReplace,
  kEvents,
  kCluster,
  kHealthy,
  kReady,
  kReload,
  kMetrics
};

struct RouteDef {
  ApiRoute route;
  RouteId id;
};

const std::vector<RouteDef>& Table() {
  static const std::vector<RouteDef> kTable = {
      {{"GET", "/api/v1/pools", ApiAccess::kRead, {}}, RouteId::kPools},
      {{"GET", "/api/v1/pools/{pool}", ApiAccess::kRead, {}}, RouteId::kPool},
      {{"PUT", "/api/v1/pools/{pool}/override", ApiAccess::kAdmin, {}}, RouteId::kPutOverride},
      {{"DELETE", "/api/v1/pools/{pool}/override", ApiAccess::kAdmin, {}}, RouteId::kDeleteOverride},
      {{"PUT", "/api/v1/pools/{pool}/pause", ApiAccess::kAdmin, {}}, RouteId::kPutPause},
      {{"DELETE", "/api/v1/pools/{pool}/pause", ApiAccess::kAdmin, {"direction"}}, RouteId::kDeletePause},
      {{"PUT", "/api/v1/pools/{pool}/shed", ApiAccess::kAdmin, {}}, RouteId::kPutShed},
      {{"DELETE", "/api/v1/pools/{pool}/shed", ApiAccess::kAdmin, {}}, RouteId::kDeleteShed},
      {{"PUT", "/api/v1/pools/{pool}/servers/{server}/protect", ApiAccess::kAdmin, {}}, RouteId::kPutProtect},
      {{"DELETE", "/api/v1/pools/{pool}/servers/{server}/protect", ApiAccess::kAdmin, {}}, RouteId::kDeleteProtect},
      {{"POST", "/api/v1/pools/{pool}/servers/{server}/replace", ApiAccess::kAdmin, {}}, RouteId::kPostReplace},
      {{"GET", "/api/v1/events", ApiAccess::kRead, {"pool", "since", "limit"}}, RouteId::kEvents},
      {{"GET", "/api/v1/cluster", ApiAccess::kRead, {}}, RouteId::kCluster},
      {{"GET", "/-/healthy", ApiAccess::kOpen, {}}, RouteId::kHealthy},
      {{"GET", "/-/ready", ApiAccess::kOpen, {}}, RouteId::kReady},
      {{"POST", "/-/reload", ApiAccess::kAdmin, {}}, RouteId::kReload},
      {{"GET", "/metrics", ApiAccess::kOpen, {}}, RouteId::kMetrics},
  };
  return kTable;
}

const std::map<std::string, std::string> kNoQuery;  // open routes (probes) ignore their query

// Matches the raw `path` against a template segment by segment, each segment decoded after the split
// (so "web%2Foverride" is one segment and never reaches a deeper route); "{pool}" and "{server}" each
// match one non-empty segment.
bool Match(std::string_view pattern, std::string_view path, std::string* pool, std::string* server) {
  if (path.empty() || path[0] != '/') return false;
  const std::vector<std::string> segments = PathSegments(path);
  size_t i = 0;
  while (!pattern.empty()) {
    if (pattern[0] != '/' || i == segments.size()) return false;
    pattern.remove_prefix(1);
    const size_t pe = pattern.find('/');
    const std::string_view p = pattern.substr(0, pe);
    const std::string& s = segments[i++];
    if (p == "{pool}" || p == "{server}") {
      if (s.empty()) return false;
      *(p == "{pool}" ? pool : server) = s;
    } else if (p != s) {
      return false;
    }
    pattern = pe == std::string_view::npos ? std::string_view() : pattern.substr(pe);
  }
  return i == segments.size();
}

std::string Quote(std::string_view s) {
  constexpr size_t kMax = 200;  // never echo a huge path or value back whole
  return "\"" + std::string(s.substr(0, kMax)) + (s.size() > kMax ? "...\"" : "\"");
}

HttpServerResponse Unauthorized(const std::string& message, bool invalid_token) {
  HttpServerResponse r = Error(401, message);
  r.headers.emplace_back("WWW-Authenticate", invalid_token
                                                 ? "Bearer realm=\"warmpool\", error=\"invalid_token\""
                                                 : "Bearer realm=\"warmpool\"");
  return r;
}

}  // namespace

Api::Api(ControlPlane* control_plane, ApiTokens tokens, const Clock* clock,
         std::function<std::string()> render_metrics, size_t max_body_bytes)
    : cp_(control_plane),
      tokens_(std::move(tokens)),
      clock_(clock),
      render_metrics_(std::move(render_metrics)),
      max_body_bytes_(max_body_bytes) {}

const std::vector<ApiRoute>& Api::Routes() {
  static const std::vector<ApiRoute> kRoutes = [] {
    std::vector<ApiRoute> out;
    for (const RouteDef& d : Table()) out.push_back(d.route);
    return out;
  }();
  return kRoutes;
}

std::string Api::MatchRoute(const std::string& path) {
  std::string pool, server;
  for (const RouteDef& d : Table()) {
    if (Match(d.route.path, path, &pool, &server)) return d.route.path;
  }
  return "";
}

const std::vector<std::string>& Api::OverrideFields() { return api_internal::OverrideFieldNames(); }
const std::vector<std::string>& Api::PauseFields() { return api_internal::PauseFieldNames(); }
const std::vector<std::string>& Api::ShedFields() { return api_internal::ShedFieldNames(); }
const std::vector<std::string>& Api::ProtectFields() { return api_internal::ProtectFieldNames(); }
const std::vector<std::string>& Api::ReplaceFields() { return api_internal::ReplaceFieldNames(); }

HttpServerResponse Api::Handle(const HttpServerRequest& request) {
  std::string by;
  HttpServerResponse r;
  try {
    r = Dispatch(request, &by);
  } catch (const std::exception& e) {
    r = Error(500, std::string("internal error: ") + e.what());
  } catch (...) {
    r = Error(500, "internal error");
  }
  // Refusals and changes are logged (the events record the changes' content); reads are not.
  const std::string path = request.path.substr(0, 200);
  if (r.status == 401 || r.status == 403) {
    Log(LogLevel::kWarn, "api request refused",
        {{"method", request.method},
         {"path", path},
         {"status", r.status},
         {"remote", request.remote_address}});
  } else if (request.method != "GET" && r.status < 300) {
    Log(LogLevel::kInfo, "api change",
        {{"method", request.method}, {"path", path}, {"by", by}, {"remote", request.remote_address}});
  }
  return r;
}

HttpServerResponse Api::Dispatch(const HttpServerRequest& request, std::string* by) {
  const RouteDef* hit = nullptr;
  std::string pool, server, allowed;
  for (const RouteDef& d : Table()) {
    std::string p, srv;
    if (!Match(d.route.path, request.path, &p, &srv)) continue;
    allowed += (allowed.empty() ? "" : ", ") + d.route.method;
    if (request.method == d.route.method) {
      hit = &d;
      pool = p;
      server = srv;
    }
  }
  if (allowed.empty()) return Error(404, "no such route: " + Quote(request.path));
  if (hit == nullptr) {
    HttpServerResponse r = Error(405, "method " + Quote(request.method) + " is not allowed on " +
                                          Quote(request.path) + " (allowed: " + allowed + ")");
    r.headers.emplace_back("Allow", allowed);
    return r;
  }

  ApiPrincipal who{"anonymous", ApiRole::kRead};
  if (hit->route.access != ApiAccess::kOpen) {
    const bool admin = hit->route.access == ApiAccess::kAdmin;
    const std::string token = BearerToken(request.Header("authorization"));
    if (!tokens_.configured()) {
      if (admin) {
        return Unauthorized("no API tokens are configured, so changes through the API are disabled", false);
      }
    } else if (token.empty()) {
      return Unauthorized("this call needs a bearer token: send \"Authorization: Bearer <token>\"", false);
    } else if (const ApiPrincipal* p = tokens_.Authenticate(token); p == nullptr) {
      return Unauthorized("unknown token", true);
    } else if (admin && p->role != ApiRole::kAdmin) {
      return Error(403, "token " + Quote(p->name) + " has role read; this call needs role admin");
    } else {
      who = *p;
    }
  }
  *by = who.name;
  if (request.body.size() > max_body_bytes_) {
    return Error(413, "request body too large: " + std::to_string(request.body.size()) +
                          " bytes, the limit is " + std::to_string(max_body_bytes_));
  }
  for (const auto& [key, value] : hit->route.access == ApiAccess::kOpen ? kNoQuery : request.query) {
    bool known = false;
    std::string names;
    for (const std::string& q : hit->route.query) {
      known = known || key == q;
      names += (names.empty() ? "" : ", ") + q;
    }
    if (!known) {
      return Error(
          400,
          "unknown query parameter " + Quote(key) + " (allowed: " + (names.empty() ? "none" : names) + ")",
          key);
    }
  }
  if (!pool.empty() && !cp_->HasPool(pool)) {
    std::string known;
    for (const std::string& p : cp_->Pools()) known += (known.empty() ? "" : ", ") + p;
    return Error(404, "unknown pool " + Quote(pool) + " (pools: " + (known.empty() ? "none" : known) + ")",
                 "pool");
  }

  switch (hit->id) {
    case RouteId::kPools: return GetPools(request);
    case RouteId::kPool: return GetPool(pool);
    case RouteId::kPutOverride: return PutOverride(pool, request, who);
    case RouteId::kDeleteOverride: return DeleteOverride(pool, who);
    case RouteId::kPutPause: return PutPause(pool, request, who);
    case RouteId::kDeletePause: return DeletePause(pool, request, who);
    case RouteId::kPutShed: return PutShed(pool, request, who);
    case RouteId::kDeleteShed: return DeleteShed(pool, who);
    case RouteId::kPutProtect: return PutProtect(pool, server, request, who);
    case RouteId::kDeleteProtect: return DeleteProtect(pool, server, who);
    case RouteId::kPostReplace: return PostReplace(pool, server, request, who);
    case RouteId::kEvents: return GetEvents(request);
    case RouteId::kCluster: return JsonResponse(200, api_internal::ClusterJson(cp_->Cluster(), cp_->Pools()));
    case RouteId::kHealthy: return JsonResponse(200, api_internal::StatusJson("healthy"));
    case RouteId::kReady: {
      if (const std::string store = cp_->StoreError(); !store.empty()) {
        return JsonResponse(503, api_internal::StatusJson("not ready", "the state store is failing: " + store));
      }
      return cp_->Ready()
                 ? JsonResponse(200, api_internal::StatusJson("ready"))
                 : JsonResponse(503, api_internal::StatusJson(
                                         "not ready", "not every pool has observed its provider yet"));
    }
    case RouteId::kReload: return Reload(who);
    case RouteId::kMetrics:
      return HttpServerResponse{200,
                                "text/plain; version=0.0.4; charset=utf-8",
                                render_metrics_ ? render_metrics_() : std::string(),
                                {}};
  }
  return Error(500, "internal error: unhandled route");
}

// A control change the plane refused: an unknown pool (404), or a change that could not be saved and so
// was not applied (503: the previous controls stay in force, nothing was acknowledged).
HttpServerResponse Api::ChangeError(const Status& st, const std::string& pool) {
  if (st.code() == Status::Code::kNotFound) return Error(404, "unknown pool " + Quote(pool), "pool");
  return Error(503, st.message());
}

HttpServerResponse Api::GetPools(const HttpServerRequest&) {
  const TimeMs now = clock_->Now();
  {
    std::lock_guard<std::mutex> lock(cache_mu_);
    if (!cache_body_.empty() && cache_version_ == cp_->Version() && now < cache_valid_until_) {
      return JsonResponse(200, cache_body_);
    }
  }
  // Read before rendering: a change during the rendering makes the next request render again.
  const uint64_t version = cp_->Version();
  std::vector<api_internal::PoolView> views;
  TimeMs valid_until = std::numeric_limits<TimeMs>::max();
  for (const std::string& name : cp_->Pools()) {
    views.push_back({name, cp_->Status(name), cp_->Controls(name, now)});
    const std::optional<Override>& o = views.back().controls.override;
    if (o && o->expires_at != 0) valid_until = std::min(valid_until, o->expires_at);
  }
  std::string body = api_internal::PoolListJson(views);
  std::lock_guard<std::mutex> lock(cache_mu_);
  cache_version_ = version;
  cache_valid_until_ = valid_until;
  cache_body_ = body;
  return JsonResponse(200, std::move(body));
}

HttpServerResponse Api::GetPool(const std::string& pool) {
  api_internal::PoolView view{pool, cp_->Status(pool), cp_->Controls(pool, clock_->Now())};
  return JsonResponse(200, api_internal::PoolJson(view));
}

HttpServerResponse Api::PutOverride(const std::string& pool, const HttpServerRequest& request,
                                    const ApiPrincipal& who) {
  std::lock_guard<std::mutex> lock(mutate_mu_);
  const std::optional<PoolStatus> status = cp_->Status(pool);
  const int max_total = status ? status->max_total : 0;
  if (max_total <= 0) {
    return Error(503, "pool " + Quote(pool) +
                          " has not published its status yet, so its max_total is unknown; " +
                          "retry after its first tick");
  }
  const TimeMs now = clock_->Now();
  Override o;
  if (api_internal::FieldError e = api_internal::ParseOverride(request.body, pool, max_total, now, &o);
      !e.ok()) {
    return Error(400, e.message, e.field);
  }
  o.set_by = who.name;
  if (Status st = cp_->SetOverride(pool, o); !st.ok()) return ChangeError(st, pool);
  return JsonResponse(200, api_internal::OverrideJson(pool, o));
}

HttpServerResponse Api::DeleteOverride(const std::string& pool, const ApiPrincipal& who) {
  std::lock_guard<std::mutex> lock(mutate_mu_);
  const TimeMs now = clock_->Now();
  cp_->Controls(pool, now);  // drops an expired override first: it is gone, not deleted
  if (Status st = cp_->ClearOverride(pool, who.name, now); !st.ok()) {
    return st.code() == Status::Code::kNotFound ? Error(404, "pool " + Quote(pool) + " has no override")
                                                : ChangeError(st, pool);
  }
  return JsonResponse(200, api_internal::OverrideJson(pool, std::nullopt));
}

HttpServerResponse Api::PutPause(const std::string& pool, const HttpServerRequest& request,
                                 const ApiPrincipal& who) {
  std::lock_guard<std::mutex> lock(mutate_mu_);
  bool up = false, down = false;
  std::string reason;
  if (api_internal::FieldError e = api_internal::ParsePause(request.body, &up, &down, &reason); !e.ok()) {
    return Error(400, e.message, e.field);
  }
  const TimeMs now = clock_->Now();
  Pause p = cp_->Controls(pool, now).pause;  // a pause of the other direction stays
  p.scale_up = p.scale_up || up;
  p.scale_down = p.scale_down || down;
  p.reason = reason;
  p.set_by = who.name;
  p.set_at = now;
  if (Status st = cp_->SetPause(pool, p); !st.ok()) return ChangeError(st, pool);
  return JsonResponse(200, api_internal::PauseJson(pool, p));
}

HttpServerResponse Api::PutShed(const std::string& pool, const HttpServerRequest& request,
                                const ApiPrincipal& who) {
  std::lock_guard<std::mutex> lock(mutate_mu_);
  ShedControl s;
  if (api_internal::FieldError e = api_internal::ParseShed(request.body, &s); !e.ok()) {
    return Error(400, e.message, e.field);
  }
  s.set_by = who.name;
  s.set_at = clock_->Now();
  if (Status st = cp_->SetShed(pool, s); !st.ok()) return ChangeError(st, pool);
  return JsonResponse(200, api_internal::ShedJson(pool, s));
}

HttpServerResponse Api::DeleteShed(const std::string& pool, const ApiPrincipal& who) {
  std::lock_guard<std::mutex> lock(mutate_mu_);
  if (Status st = cp_->ClearShed(pool, who.name, clock_->Now()); !st.ok()) {
    return st.code() == Status::Code::kNotFound ? Error(404, "pool " + Quote(pool) + " has no shed control")
                                                : ChangeError(st, pool);
  }
  return JsonResponse(200, api_internal::ShedJson(pool, std::nullopt));
}

const Server* Api::FindServer(const std::optional<PoolStatus>& status, const std::string& pool,
                              const std::string& server, HttpServerResponse* refusal) {
  if (!status || status->at == 0) {
    *refusal = Error(503, "pool " + Quote(pool) + " has not published its servers yet; retry after its first tick");
    return nullptr;
  }
  if (const Server* s = status->state.Find(server)) return s;
  std::string known;
  for (const Server& s : status->state.servers) known += (known.empty() ? "" : ", ") + s.name;
  *refusal = Error(404, "pool " + Quote(pool) + " has no server " + Quote(server) + " (servers: " +
                            (known.empty() ? "none" : known) + ")",
                   "server");
  return nullptr;
}

HttpServerResponse Api::PutProtect(const std::string& pool, const std::string& server,
                                   const HttpServerRequest& request, const ApiPrincipal& who) {
  std::lock_guard<std::mutex> lock(mutate_mu_);
  HttpServerResponse refusal;
  if (FindServer(cp_->Status(pool), pool, server, &refusal) == nullptr) return refusal;
  Protection p;
  if (api_internal::FieldError e = api_internal::ParseProtect(request.body, clock_->Now(), &p); !e.ok()) {
    return Error(400, e.message, e.field);
  }
  p.set_by = who.name;
  if (Status st = cp_->SetProtect(pool, server, p); !st.ok()) return ChangeError(st, pool);
  return JsonResponse(200, api_internal::ProtectJson(pool, server, p));
}

HttpServerResponse Api::DeleteProtect(const std::string& pool, const std::string& server, const ApiPrincipal& who) {
  std::lock_guard<std::mutex> lock(mutate_mu_);
  const TimeMs now = clock_->Now();
  cp_->Controls(pool, now);  // drops an expired protection first: it is gone, not deleted
  if (Status st = cp_->ClearProtect(pool, server, who.name, now); !st.ok()) {
    return st.code() == Status::Code::kNotFound && cp_->HasPool(pool) ? Error(404, st.message(), "server")
                                                                       : ChangeError(st, pool);
  }
  return JsonResponse(200, api_internal::ProtectJson(pool, server, std::nullopt));
}

HttpServerResponse Api::PostReplace(const std::string& pool, const std::string& server,
                                    const HttpServerRequest& request, const ApiPrincipal& who) {
  std::lock_guard<std::mutex> lock(mutate_mu_);
  HttpServerResponse refusal;
  const std::optional<PoolStatus> status = cp_->Status(pool);
  const Server* s = FindServer(status, pool, server, &refusal);
  if (s == nullptr) return refusal;
  const TimeMs now = clock_->Now();
  const PoolControls controls = cp_->Controls(pool, now);
  if (auto p = controls.protect.find(server); p != controls.protect.end()) {
    return Error(409, "server " + Quote(server) + " is protected (" + p->second.reason + ", by " + p->second.set_by +
                          "): delete its protection first",
                 "server");
  }
  if (s->state != ServerState::kActive && s->state != ServerState::kStandby) {
    return Error(409, "server " + Quote(server) + " is " + StateName(s->state) +
                          ": only an active or standby server can be replaced",
                 "server");
  }
  ReplaceRequest r;
  if (api_internal::FieldError e = api_internal::ParseReplace(request.body, now, &r); !e.ok()) {
    return Error(400, e.message, e.field);
  }
  r.set_by = who.name;
  if (Status st = cp_->RequestReplace(pool, server, r); !st.ok()) return ChangeError(st, pool);
  return JsonResponse(200, api_internal::ReplaceJson(pool, server, r));
}

HttpServerResponse Api::DeletePause(const std::string& pool, const HttpServerRequest& request,
                                    const ApiPrincipal& who) {
  std::lock_guard<std::mutex> lock(mutate_mu_);
  bool up = true, down = true;
  if (auto it = request.query.find("direction");
      it != request.query.end() && !api_internal::ParseDirection(it->second, &up, &down)) {
    return Error(400, "direction must be scale_up, scale_down or both, got " + Quote(it->second),
                 "direction");
  }
  const TimeMs now = clock_->Now();
  Pause p = cp_->Controls(pool, now).pause;
  if (!(up && p.scale_up) && !(down && p.scale_down)) {
    const char* what = up && down ? "is not paused"
                       : up       ? "has no scale_up pause"
                                  : "has no scale_down pause";
    return Error(404, "pool " + Quote(pool) + " " + what);
  }
  if (up) p.scale_up = false;
  if (down) p.scale_down = false;
  p.set_by = who.name;
  p.set_at = now;
  if (!p.any()) p.reason = "resumed";
  if (Status st = cp_->SetPause(pool, p); !st.ok()) return ChangeError(st, pool);
  return JsonResponse(200, api_internal::PauseJson(pool, p));
}

HttpServerResponse Api::GetEvents(const HttpServerRequest& request) {
  std::string pool;
  TimeMs since = 0;
  size_t limit = 100;
  if (auto it = request.query.find("pool"); it != request.query.end() && !it->second.empty()) {
    if (!cp_->HasPool(it->second)) return Error(404, "unknown pool " + Quote(it->second), "pool");
    pool = it->second;
  }
  if (auto it = request.query.find("since"); it != request.query.end()) {
    std::optional<TimeMs> t = api_internal::ParseSince(it->second);
    if (!t) {
      return Error(
          400,
          "since must be an RFC 3339 time (2026-11-21T05:31:00Z) or Unix seconds, got " + Quote(it->second),
          "since");
    }
    since = *t;
  }
  if (auto it = request.query.find("limit"); it != request.query.end()) {
    const std::string& v = it->second;
    size_t n = 0;
    bool ok = !v.empty() && v.size() <= 4 && v.find_first_not_of("0123456789") == std::string::npos;
    if (ok) n = std::stoul(v);
    if (!ok || n < 1 || n > 1000) {
      return Error(400, "limit must be an integer from 1 to 1000, got " + Quote(v), "limit");
    }
    limit = n;
  }
  return JsonResponse(200, api_internal::EventsJson(cp_->Events(pool, since, limit)));
}

HttpServerResponse Api::Reload(const ApiPrincipal& who) {
  if (!cp_->on_reload) return Error(503, "reload is not available in this mode");
  Event e;
  e.at = clock_->Now();
  e.kind = "reload";
  e.reason = "reload requested through the API by " + who.name;
  cp_->Record(std::move(e));
  cp_->on_reload();
  return JsonResponse(200, api_internal::StatusJson("reload requested"));
}

}  // namespace warmpool
