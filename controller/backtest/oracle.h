// The oracle: the fewest server-hours that serve all of a trace's load, knowing the future, with the
// pool's delays. A lower bound no controller can beat, to say how far a policy is from the best.
//
// Definition. c = capacity_per_server, L(t) = the load (linear between trace points, held over masked
// spans exactly as the policies see it), over [T0, T1) = the trace's span.
//   needed(t) = clamp(ceil(L(t) / c), min_active, max_active)   servers that must be serving at t
// A server serving from s must have been started at s - D, D = provisioning_delay + promotion_delay
// (cold -> standby -> active); a server that stops serving at e drains until e + drain_delay.
// Every hour a server exists costs the same, whatever its state (provisioning, standby, active,
// draining). Level k (k = 1 .. max needed) is the set of times with needed(t) >= k, a union of
// intervals; one server per level serves them (servers are interchangeable, so nesting them by level
// loses nothing). Between two intervals of a level, a gap of length g costs
//   min(g, D + drain_delay)
// because keeping the server idle costs g and stopping it costs its drain plus the next start's lead;
// a gap no longer than D + drain_delay is therefore bridged with an idle server. The first interval of
// a level pays its lead D (clipped at T0: servers needed at T0 already exist); after its last interval
// a level pays its drain (clipped at T1). In total:
//   server-hours = integral of needed(t) dt + sum over levels of (lead + sum of gap costs + drain)
// Accounting split, as the simulated pool counts states: active = serving + promotion part of each lead
// + drain; standby = provisioning part of each lead + bridged idle time.
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
