// The oracle: the least cost (the fewest server-hours when every state costs the same) that serves all
// of a trace's load, knowing the future, with the pool's delays. A lower bound no controller can beat, to say
// how far a policy is from the best.
//
// Definition. c = capacity_per_server, L(t) = the load (linear between trace points, held over masked
// spans exactly as the policies see it), over [T0, T1) = the trace's span.
//   needed(t) = clamp(ceil(L(t) / c), min_active, max_active)   servers that must be serving at t
// A server serving from s must have been started at s - D, D = provisioning_delay + promotion_delay
// (cold -> standby -> active); a server that stops serving at e drains until e + drain_delay.
// Every hour a server exists is priced by its state, as the capacity model's cost says (c_a for
// active and draining, c_s for standby and provisioning, c_x for stopped; every one 1 unless set,
// stopped 0.1). Level k (k = 1 .. max needed) is the set of times with needed(t) >= k, a union of
// intervals; one server per level serves them (servers are interchangeable, so nesting them by level
// loses nothing). Between two intervals of a level, a gap of length g is bridged the cheapest way:
//   keep:    g * c_s                                       (idle but kept)
//   renew:   (drain_delay + promotion_delay) * c_a + provisioning_delay * c_s
//            (stopped after its drain, a new server led in)
//   stopped: (drain_delay + promotion_delay) * c_a + resume_delay * c_s + s * c_x,
//            s = g - drain_delay - resume_delay - promotion_delay >= 0
//            (only when the pool has a stopped tier: drained, suspended for s, resumed, promoted)
// With every price 1 and no stopped tier that is min(g, D + drain_delay), as it always was: a gap no
// longer than D + drain_delay is bridged with an idle server. The first interval of a level pays its
// lead D (clipped at T0: servers needed at T0 already exist); after its last interval a level pays
// its drain (clipped at T1). In total:
//   server-hours = integral of needed(t) dt + sum over levels of (lead + sum of gap hours + drain)
//   cost = the same hours priced by state
// A lower bound: each option charges no more than the simulated pool would for the same moves (a kept
// server's drain is charged at c_s <= c_a; the config requires c_x <= c_s <= c_a).
// Accounting split, as the simulated pool counts states: active = serving + promotion part of each lead
// + drain (+ the drain and promotion of a stopped bridge); standby = provisioning part of each lead +
// bridged idle time (+ a stopped bridge's resume); stopped = a stopped bridge's stopped time.
// Unserved requests: only load above max_active * c (none when the pool is large enough), integrated
// like the backtest; masked spans are not scored. Scale events and direction changes count the
// changes of needed(t): the oracle acts at exactly the right instant, not on ticks.
#ifndef WARMPOOL_CONTROLLER_BACKTEST_ORACLE_H_
#define WARMPOOL_CONTROLLER_BACKTEST_ORACLE_H_

#include <vector>

#include "controller/backtest/backtest.h"

namespace warmpool {

struct OracleStep {
  TimeMs t = 0;      // from t until the next step
  int serving = 0;   // needed(t)
  int existing = 0;  // servers that exist: serving, leading in, bridging a gap, or draining
};

struct OracleResult {
  BacktestSummary summary;        // ticks = 0
  std::vector<OracleStep> steps;  // filled when asked for
};

// `trace` as given to the backtest; `masked` as in BacktestOptions (normalized here).
OracleResult RunOracle(const PoolSpec& spec, const SimulatedSpec& model, const Trace& trace,
                       const std::vector<TimeSpan>& masked, bool steps);

// needed(t) as a step function over the trace: (time, count) at every change, the first at T0.
// `trace` already holds over masked spans. Exposed for tests.
std::vector<OracleStep> OracleNeeded(const Trace& trace, double capacity_per_server, int min_active,
                                     int max_active);

}  // namespace warmpool

#endif  // WARMPOOL_CONTROLLER_BACKTEST_ORACLE_H_
