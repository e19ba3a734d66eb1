// What the decide step produces (Decision) and what the plan step produces (ScalePlan).
#ifndef WARMPOOL_DECISION_H_
#define WARMPOOL_DECISION_H_

#include <string>
#include <vector>

#include "warmpool/time.h"

namespace warmpool {

enum class Direction { kNone, kUp, kDown };
const char* DirectionName(Direction d);  // "none", "up", "down"

// One policy's opinion.
struct Recommendation {
  std::string policy;            // the policy's name in the config, e.g. "target_tracking"
  bool valid = false;            // false when its metric is missing or stale; then `desired` is meaningless
  int desired = 0;               // active servers this policy wants
  bool allow_scale_down = true;  // false: this opinion may raise capacity but never lower it
  std::string reason;            // plain words, e.g. "rps 412.0 / 100.0 per server = 4.12 -> 5"
};

// The pool's decision for one tick: how many servers should be active, and why.
struct Decision {
  TimeMs at = 0;
  int current = 0;  // active servers observed
  int desired = 0;  // after combining, behavior and clamping
  Direction direction = Direction::kNone;
  int raw_recommendation = 0;  // the combined recommendation before behavior and clamping
  std::string policy;          // which policy's recommendation won ("" when holding)
  std::string reason;          // plain words, the whole chain
  std::vector<Recommendation> recommendations;
  int warm_standby = 0;  // the warm pool target the plan keeps (warm_standby, or auto-sized): running
  // Replacement of sick servers (PoolSpec::health): what is under way after this tick, what began in
  // it ("replace web-3: DOWN for 45s (grace 30s)"), and whether the breaker holds every replacement.
  std::vector<std::string> replacing;
  std::vector<std::string> replacements_started;
  bool replacement_breaker_open = false;
  bool surge = false;  // a surge is under way (PoolSpec::surge): the decision is at least its floor
  int warm_stopped = 0;  // the stopped tier's target the plan keeps (warm_standby.stopped, or auto-sized)
};

// The difference between desired and actual, as named actions.
struct ScalePlan {
  std::vector<std::string> promote;    // standby -> active
  std::vector<std::string> drain;      // active -> draining
  std::vector<std::string> provision;  // cold/new -> provisioning (refills the warm pool)
  std::vector<std::string> retire;     // standby/draining/stopped -> retired
  std::vector<std::string> suspend;    // standby -> stopped (the stopped tier of the warm pool)
  std::vector<std::string> resume;     // stopped -> provisioning (resuming) -> standby once ready
  std::string reason;

  bool empty() const {
    return promote.empty() && drain.empty() && provision.empty() && retire.empty() && suspend.empty() &&
           resume.empty();
  }
  std::string Summary() const;  // "promote [a,b]; provision [c]" or "no change"
};

}  // namespace warmpool

#endif  // WARMPOOL_DECISION_H_
