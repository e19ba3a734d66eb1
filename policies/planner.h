// Planner: the pure step from (desired active count, observed pool) to a ScalePlan.
//
// - Promote healthy standbys first, the longest-warm first; never an unhealthy one.
// - Drain unhealthy actives first, then the most recently promoted.
// - Keep `warm_standby` (or the auto-sized target) standbys warm: provision behind every promotion, and ahead
// for any
//   shortfall that no standby could cover, counting servers already provisioning or draining (they
//   come back as standbys).
// - Retire unhealthy standbys and any standby beyond the warm target (the most recently warmed first).
// - The stopped tier (warm_standby.stopped): a shortfall no ready standby covers, and a running tier
//   short of its target, resume stopped standbys first (the longest stopped first; they serve only
//   after the resume delay, but sooner than a new server), then provision. A ready standby beyond the
//   running target is suspended into the stopped tier while that tier is short (rather than retired);
//   what the stopped tier still lacks is provisioned behind (the new server is suspended once ready:
//   warm servers on their way beyond the running target count toward the stopped tier). Stopped
//   standbys beyond their target are retired, the most recently stopped first.
// - Never let provisioning+standby+active+draining+stopped exceed max_total (beyond it, stopped
//   standbys are retired before running ones).
// - Servers being replaced (policies/replace.h) are not counted: an active one that is not serving is
//   drained at once, a serving one once the other servers serving are as many as desired (a standby
//   took its place: the count of serving servers never drops below the desired one because of a
//   replacement); a standby one is retired, a draining one not counted as coming back warm.
// - A protected server is never drained.
#ifndef WARMPOOL_POLICIES_PLANNER_H_
#define WARMPOOL_POLICIES_PLANNER_H_

#include <optional>
#include <set>
#include <string>

#include "warmpool/decision.h"
#include "warmpool/pool_spec.h"
#include "warmpool/server.h"

namespace warmpool {

// What the planner's shortcut reads of a pool: its servers counted by state.
struct ServerCounts {
  int active = 0, standby = 0, provisioning = 0, draining = 0, stopped = 0;
  int total = 0;                   // every server neither cold nor retired
  bool unhealthy_standby = false;  // one to retire
};
ServerCounts CountServers(const PoolState& pool);

struct PlanOptions {
  std::optional<int> warm_target;  // the standbys to keep (warm_standby: auto); unset: spec.warm_standby
  std::optional<int>
      stopped_target;              // the stopped standbys to keep (stopped: auto); unset: spec.warm_stopped
  bool explain = true;             // false: the plan's reason is left empty (the actions are the same)
  const ServerCounts* counts = nullptr;  // CountServers(pool), when the caller has it already
  // false: plan in full even when the counts show there is nothing to do (tests check that the
  // shortcut and the full planner always agree).
  bool shortcut = true;
  const std::set<std::string>* replacing = nullptr;  // servers being replaced; null: none
  const std::set<std::string>* protect = nullptr;    // servers an operator protected: never drained
};

// The plan that brings `pool` to `desired_active` active servers and the warm target.
ScalePlan Plan(const PoolSpec& spec, const PoolState& pool, int desired_active,
               const PlanOptions& options = {});

}  // namespace warmpool

#endif  // WARMPOOL_POLICIES_PLANNER_H_
