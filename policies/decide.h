// Decide: the pure step from policy recommendations to the pool's desired active count.
//
//   1. combine: the largest valid recommendation wins (and is named);
//   2. missing metrics: if any policy has no usable metric, the pool never scales down this tick;
//      scale-up on the metrics that are present is still allowed;
//   3. behavior: stabilization windows and rate limits over explicit history;
//   4. clamp to [min_active, max_active].
// Live, dry-run and backtest all call this one function.
#ifndef WARMPOOL_POLICIES_DECIDE_H_
#define WARMPOOL_POLICIES_DECIDE_H_

#include <vector>

#include "policies/behavior.h"
#include "warmpool/behavior.h"
#include "warmpool/decision.h"
#include "warmpool/pool_spec.h"

namespace warmpool {

// Does not modify `history`; the caller records the outcome with RecordDecision. With `explain`
// false the reason is left empty (every number is the same). `bounds`: see ApplyBehavior.
Decision Decide(const PoolSpec& spec, std::vector<Recommendation> recommendations,
                const BehaviorHistory& history, int current, TimeMs now, bool explain = true,
                const StabilizationBounds* bounds = nullptr);

// Appends this decision to behavior history (and prunes what no window can see).
void RecordDecision(const PoolSpec& spec, const Decision& decision, BehaviorHistory* history);

}  // namespace warmpool

#endif  // WARMPOOL_POLICIES_DECIDE_H_
