// Manual controls an operator sets through the REST API: an override of the active count (or a floor
// and a ceiling) with a time to live, and a pause per direction. They act on the decision through the
// same plan path as any other decision (policies/controls.h), and show up in its reason.
#ifndef WARMPOOL_CONTROLS_H_
#define WARMPOOL_CONTROLS_H_

#include <map>
#include <optional>
#include <string>

#include "warmpool/decision.h"
#include "warmpool/pool_spec.h"
#include "warmpool/time.h"

namespace warmpool {

struct Override {
  std::optional<int> active;      // exactly this many active servers
  std::optional<int> min_active;  // a floor on the decision
  std::optional<int> max_active;  // a ceiling on the decision
  TimeMs set_at = 0;
  TimeMs expires_at = 0;  // 0 = until deleted
  std::string reason;     // the operator's words, e.g. "launch at 14:00"
  std::string set_by;     // the token's name

  bool Expired(TimeMs now) const { return expires_at != 0 && now >= expires_at; }
};

struct Pause {
  bool scale_up = false;
  bool scale_down = false;
  TimeMs set_at = 0;
  std::string reason;
  std::string set_by;
  bool any() const { return scale_up || scale_down; }
};

// An operator's hand on overload protection (PoolSpec::overload): off (no limit, whatever the load),
// or limits set by hand in place of the decided ones. Without it, the decider's limits apply.
struct ShedControl {
  bool off = false;
  double rate = 0;    // manual: requests a second the frontend admits (0 = no limit)
  double client = 0;  // manual: requests a second one client is admitted (0 = no limit)
  TimeMs set_at = 0;
  std::string reason;
  std::string set_by;
};

// An operator's hand on one server (PUT .../servers/{server}/protect): never drained, never replaced,
// until it expires or is deleted.
struct Protection {
  TimeMs set_at = 0;
  TimeMs expires_at = 0;  // 0 = until deleted
  std::string reason;
  std::string set_by;
  bool Expired(TimeMs now) const { return expires_at != 0 && now >= expires_at; }
};

// An operator's request to replace one server (POST .../servers/{server}/replace): kept until the
// server is gone (retired, cold or no longer in the pool), so a restart in between does not forget it.
struct ReplaceRequest {
  TimeMs set_at = 0;
  std::string reason;
  std::string set_by;
};

struct PoolControls {
  std::optional<Override> override;
  Pause pause;
  std::optional<ShedControl> shed;
  std::map<std::string, Protection> protect;      // by server name
  std::map<std::string, ReplaceRequest> replace;  // by server name
};

}  // namespace warmpool

#endif  // WARMPOOL_CONTROLS_H_
