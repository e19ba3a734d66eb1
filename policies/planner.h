// Planner: the pure step from (desired active count, observed pool) to a ScalePlan.
//
// - Promote healthy standbys first, the longest-warm first; never an unhealthy one.
// - Drain unhealthy actives first, then the most recently promoted.
// - Keep `warm_standby` (or the auto-sized target) standbys warm: provision behind every promotion, and ahead
// for any
//   shortfall that no standby could cover, counting servers already provisioning or draining (they
//   come back as standbys).
// - Retire unhealthy standbys and any standby beyond the warm target (the most recently warmed first).
// - Never let provisioning+standby+active+draining exceed max_total.
#ifndef WARMPOOL_POLICIES_PLANNER_H_
#define WARMPOOL_POLICIES_PLANNER_H_

#include "warmpool/decision.h"
#include "warmpool/pool_spec.h"
#include "warmpool/server.h"

namespace warmpool {

// With `explain` false the plan's reason is left empty (the actions are the same). The warm target is
// spec.warm_standby, or `warm_target` (warm_standby: auto sizes it each tick).
ScalePlan Plan(const PoolSpec& spec, const PoolState& pool, int desired_active, bool explain = true);
ScalePlan Plan(const PoolSpec& spec, const PoolState& pool, int desired_active, int warm_target,
               bool explain);
// The same into `out` (replacing it), reusing its storage when there is nothing to do (most ticks).
void PlanInto(const PoolSpec& spec, const PoolState& pool, int desired_active, int warm_target, bool explain,
              ScalePlan* out);

// What the planner's shortcut reads of a pool: its servers counted by state.
struct ServerCounts {
  int active = 0, standby = 0, provisioning = 0, draining = 0;
  int total = 0;                   // every server neither cold nor retired
  bool unhealthy_standby = false;  // one to retire
};
ServerCounts CountServers(const PoolState& pool);
// PlanInto with `counts` = CountServers(pool) given (a caller may keep them while the pool's servers
// do not change: see Observer::ServersVersion).
void PlanInto(const PoolSpec& spec, const PoolState& pool, const ServerCounts& counts, int desired_active,
              int warm_target, bool explain, ScalePlan* out);
// The same without Plan's shortcut for a pool with nothing to do (counted, not sorted); for tests,
// which check that both always agree.
ScalePlan PlanWithoutShortcut(const PoolSpec& spec, const PoolState& pool, int desired_active,
                              bool explain = true);
ScalePlan PlanWithoutShortcut(const PoolSpec& spec, const PoolState& pool, int desired_active,
                              int warm_target, bool explain);

}  // namespace warmpool

#endif  // WARMPOOL_POLICIES_PLANNER_H_
