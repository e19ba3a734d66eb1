// The REST API: routes, authentication and validation over a ControlPlane. No networking here (an
// HttpServer calls Handle), so it is tested with plain request values. docs/openapi.yaml describes
// every route; tests/unit/api_openapi_test.cc holds the two together.
//
// Routes (Api::Routes()), with the role they need:
//   GET    /api/v1/pools                  read   every pool's status and controls
//   GET    /api/v1/pools/{pool}           read   one pool
//   PUT    /api/v1/pools/{pool}/override  admin  {"active": 6, "ttl": "30m", "reason": ".."}, or
//                                                min_active and/or max_active instead of active
//   DELETE /api/v1/pools/{pool}/override  admin  ends it (404 when there is none)
//   PUT    /api/v1/pools/{pool}/pause     admin  {"direction": "scale_up|scale_down|both", "reason": ".."}
//   DELETE /api/v1/pools/{pool}/pause     admin  ?direction=scale_up|scale_down|both (default both)
//   GET    /api/v1/events                 read   ?pool=&since=&limit=
//   GET    /-/healthy, /-/ready, /metrics open
//   POST   /-/reload                      admin  calls ControlPlane::on_reload on the HTTP server's
//                                                thread: the hook must only signal the run loop,
//                                                never stop or restart the HTTP server itself
//
// Authentication (ApiTokens): "Authorization: Bearer <token>". Mutating calls (PUT, DELETE, POST)
// need an admin token: none or unknown -> 401 with WWW-Authenticate: Bearer, a read token -> 403.
// Without tokens configured every mutating call is 401 and GET /api/v1/* is open; with tokens, GET
// /api/v1/* needs any valid token. /-/healthy, /-/ready and /metrics are always open.
//
// Errors are JSON {"error": "...", "field": "..."} (field when one is involved). Order of checks:
// route (404) and method (405 with Allow), then authentication (401/403), body size (413), the pool
// (404), then the request's content (400).
//
// Logs refused calls (401, 403) at warn and successful changes at info, with the token's name.
// Thread-safe: Handle may run concurrently; mutating calls are serialized among themselves.
#ifndef WARMPOOL_CONTROLLER_API_API_H_
#define WARMPOOL_CONTROLLER_API_API_H_

#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "controller/api/control_plane.h"
#include "controller/api/tokens.h"
#include "controller/http/server.h"
#include "warmpool/clock.h"

namespace warmpool {

enum class ApiAccess { kOpen, kRead, kAdmin };

struct ApiRoute {
  std::string method;  // "GET", "PUT", "DELETE", "POST"
  std::string path;    // OpenAPI template: "/api/v1/pools/{pool}/override"
  ApiAccess access;
  std::vector<std::string> query;  // the query parameters it accepts (open routes ignore theirs)
};

class Api {
 public:
  // The default of web.max_body_bytes.
  static constexpr size_t kDefaultMaxBodyBytes = 64 * 1024;

  // `control_plane` and `clock` outlive the Api. `render_metrics` answers GET /metrics (may be empty:
  // then the body is empty). Request bodies above `max_body_bytes` are refused (413): web.max_body_bytes,
  // the number HttpServerOptions is given too.
  Api(ControlPlane* control_plane, ApiTokens tokens, const Clock* clock,
      std::function<std::string()> render_metrics, size_t max_body_bytes = kDefaultMaxBodyBytes);

  HttpServerResponse Handle(const HttpServerRequest& request);

  // --- the contract, for docs/openapi.yaml's test ---
  static const std::vector<ApiRoute>& Routes();
  // The route template that `path` matches (any method), or "".
  static std::string MatchRoute(const std::string& path);
  static const std::vector<std::string>& OverrideFields();  // the PUT override body's fields
  static const std::vector<std::string>& PauseFields();     // the PUT pause body's fields
  static const std::vector<std::string>& ShedFields();      // the PUT shed body's fields
  static const std::vector<std::string>& ProtectFields();   // the PUT protect body's fields
  static const std::vector<std::string>& ReplaceFields();   // the POST replace body's fields

 private:
  HttpServerResponse Dispatch(const HttpServerRequest& request, std::string* by);
  HttpServerResponse ChangeError(const Status& st, const std::string& pool);
  HttpServerResponse GetPools(const HttpServerRequest& request);
  HttpServerResponse GetPool(const std::string& pool);
  HttpServerResponse PutOverride(const std::string& pool, const HttpServerRequest& request,
                                 const ApiPrincipal& who);
  HttpServerResponse DeleteOverride(const std::string& pool, const ApiPrincipal& who);
  HttpServerResponse PutPause(const std::string& pool, const HttpServerRequest& request,
                              const ApiPrincipal& who);
  HttpServerResponse DeletePause(const std::string& pool, const HttpServerRequest& request,
                                 const ApiPrincipal& who);
  HttpServerResponse PutShed(const std::string& pool, const HttpServerRequest& request, const ApiPrincipal& who);
  HttpServerResponse DeleteShed(const std::string& pool, const ApiPrincipal& who);
  // The server of `pool` named `server` in its last published status, or an error response (404
  // unknown, 503 before the first tick) in *refusal.
  const Server* FindServer(const std::optional<PoolStatus>& status, const std::string& pool, const std::string& server,
                           HttpServerResponse* refusal);
  HttpServerResponse PutProtect(const std::string& pool, const std::string& server, const HttpServerRequest& request,
                                const ApiPrincipal& who);
  HttpServerResponse DeleteProtect(const std::string& pool, const std::string& server, const ApiPrincipal& who);
  HttpServerResponse PostReplace(const std::string& pool, const std::string& server, const HttpServerRequest& request,
                                 const ApiPrincipal& who);
  HttpServerResponse GetEvents(const HttpServerRequest& request);
  HttpServerResponse Reload(const ApiPrincipal& who);

  ControlPlane* cp_;
  const ApiTokens tokens_;
  const Clock* clock_;
  std::function<std::string()> render_metrics_;
  const size_t max_body_bytes_;
  std::mutex mutate_mu_;  // read-modify-write of a pool's controls
  // GET /api/v1/pools rendered once per change of the control plane (a tick publishes once per
  // interval, while the API may be asked thousands of times a second).
  std::mutex cache_mu_;
  uint64_t cache_version_ = 0;
  TimeMs cache_valid_until_ = 0;  // the first override expiry in it
  std::string cache_body_;
};

}  // namespace warmpool

#endif  // WARMPOOL_CONTROLLER_API_API_H_
