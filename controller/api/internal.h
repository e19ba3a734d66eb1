// Private to the REST API (api.cc): JSON rendering (api_json.cc) and request parsing and validation
// (api_requests.cc). Only those two files pay for nlohmann/json.
#ifndef WARMPOOL_CONTROLLER_API_INTERNAL_H_
#define WARMPOOL_CONTROLLER_API_INTERNAL_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "controller/api/control_plane.h"
#include "controller/http/server.h"
#include "warmpool/controls.h"

namespace warmpool {
namespace api_internal {

// --- responses (api_json.cc) ---

// {"error": message, "field": field} (no "field" when empty), with `status`.
HttpServerResponse Error(int status, const std::string& message, const std::string& field = "");
HttpServerResponse JsonResponse(int status, std::string body);

// One pool as the API shows it.
struct PoolView {
  std::string name;
  std::optional<PoolStatus> status;  // nullopt before its first tick
  PoolControls controls;
};
std::string PoolJson(const PoolView& pool);                                           // one pool object
std::string PoolListJson(const std::vector<PoolView>& pools);                         // {"pools": [...]}
std::string OverrideJson(const std::string& pool, const std::optional<Override>& o);  // {"pool", "override"}
std::string PauseJson(const std::string& pool, const Pause& p);                       // {"pool", "pause"}
std::string ShedJson(const std::string& pool, const std::optional<ShedControl>& s);   // {"pool", "shed"}
std::string EventsJson(const std::vector<Event>& events);                             // {"events": [...]}
// {"pool", "server", "protect"}
std::string ProtectJson(const std::string& pool, const std::string& server, const std::optional<Protection>& p);
// {"pool", "server", "replace"}
std::string ReplaceJson(const std::string& pool, const std::string& server, const ReplaceRequest& r);
std::string StatusJson(const std::string& status, const std::string& error = "");     // {"status", "error"?}
// GET /api/v1/cluster: {"enabled", "member", ..., "members": [{"name", "pools"}], "unowned": [...]}.
std::string ClusterJson(const ClusterStatus& cluster, const std::vector<std::string>& pools);

// --- requests (api_requests.cc) ---

struct FieldError {
  std::string message;  // empty: no error
  std::string field;
  bool ok() const { return message.empty(); }
};

// The body of PUT override. `max_total` bounds the values; `pool` names the pool in messages. Sets
// out's active/min_active/max_active, reason and expires_at (relative to `now`); set_at and set_by
// are the caller's.
FieldError ParseOverride(const std::string& body, const std::string& pool, int max_total, TimeMs now,
                         Override* out);
// The body of PUT pause: which directions to pause and why.
FieldError ParsePause(const std::string& body, bool* scale_up, bool* scale_down, std::string* reason);
// The body of PUT shed: {"mode": "off"} or {"mode": "manual", "rate": N, "client": N}, and a reason.
FieldError ParseShed(const std::string& body, ShedControl* out);
// "scale_up", "scale_down" or "both" -> the two flags. False on anything else.
bool ParseDirection(std::string_view text, bool* scale_up, bool* scale_down);
// RFC 3339 ("2026-11-21T05:31:00Z", fractions and offsets allowed) or Unix seconds ("1763702460",
// "1763702460.5").
std::optional<TimeMs> ParseSince(std::string_view text);

// The body of PUT .../servers/{server}/protect: a reason and an optional ttl (none: until deleted).
// Sets expires_at and set_at from `now`.
FieldError ParseProtect(const std::string& body, TimeMs now, Protection* out);
// The body of POST .../servers/{server}/replace: a reason.
FieldError ParseReplace(const std::string& body, TimeMs now, ReplaceRequest* out);

const std::vector<std::string>& ProtectFieldNames();
const std::vector<std::string>& ReplaceFieldNames();
const std::vector<std::string>& OverrideFieldNames();
const std::vector<std::string>& PauseFieldNames();
const std::vector<std::string>& ShedFieldNames();

}  // namespace api_internal
}  // namespace warmpool

#endif  // WARMPOOL_CONTROLLER_API_INTERNAL_H_
