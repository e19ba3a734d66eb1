// Backtest: replays a trace through the SAME PoolController (decide + plan) as live, with a manual
// clock, the trace as metrics source and a simulated pool built from the pool's capacity model, and
// scores what would have happened. compare.h runs it beside a baseline and an oracle.
#ifndef WARMPOOL_CONTROLLER_BACKTEST_BACKTEST_H_
#define WARMPOOL_CONTROLLER_BACKTEST_BACKTEST_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "controller/sources/trace/mask.h"
#include "controller/sources/trace/trace.h"
#include "providers/simulated/simulated_provider.h"
#include "warmpool/pool_spec.h"
#include "warmpool/status.h"

namespace warmpool {

struct BacktestSummary {
  std::string pool;
  std::string trace;
  TimeMs start = 0, end = 0;
  long ticks = 0;
  double total_requests = 0;        // requests in the trace outside masked spans
  double unserved_requests = 0;     // load above serving capacity, integrated over time
  double overloaded_seconds = 0;    // time with load above serving capacity
  double active_server_hours = 0;   // active (serving or warming up) + draining
  double standby_server_hours = 0;  // standby + provisioning (new or resuming: a running machine)
  double stopped_server_hours = 0;  // stopped standbys (the warm pool's stopped tier)
  // Every hour priced by its state (the capacity model's cost: active, standby, stopped), in
  // active-server-hour equivalents. Equal to total_server_hours() when every state costs 1.
  double cost = 0;
  double masked_seconds = 0;        // time not scored (trace collection gaps)
  int scale_events = 0;             // ticks whose desired count changed
  int direction_changes = 0;        // an up after a down, or a down after an up
  int peak_active = 0;

  double total_server_hours() const {
    return active_server_hours + standby_server_hours + stopped_server_hours;
  }
  double unserved_percent() const {
    return total_requests > 0 ? 100 * unserved_requests / total_requests : 0;
  }
};

struct BacktestTick {
  TimeMs t = 0;
  double load = 0;      // requests/s at t
  double capacity = 0;  // serving capacity at t (after this tick's actions)
  int active = 0, standby = 0, provisioning = 0, draining = 0, stopped = 0;
  int desired = 0;
  Direction direction = Direction::kNone;
  double unserved = 0;      // requests unserved over [t, t + interval)
  double server_hours = 0;  // every server that exists (stopped ones too), over [t, t + interval)
  std::string reason;       // only on ticks that changed the desired count
  std::string plan;         // the plan's summary, on the same ticks
};

struct BacktestResult {
  BacktestSummary summary;
  std::vector<BacktestTick> timeline;  // filled when asked for
};

struct BacktestOptions {
  DurationMs interval = 15 * kSecond;
  bool timeline = false;
  // Collection gaps (controller/sources/trace/mask.h): not scored, and the policies see the load held at its
  // last value before each gap. Normalized by the backtest.
  std::vector<TimeSpan> masked;
  // Called for every tick whose desired count changed (logging); may be empty.
  std::function<void(const BacktestTick&)> on_scale;
};

// Replays `trace` through the pool with the capacity model ResolveCapacityModel(spec) gives.
Result<BacktestResult> RunBacktest(const PoolSpec& spec, std::shared_ptr<const Trace> trace,
                                   const BacktestOptions& options);
// The same with an explicit capacity model (the HPA baseline uses its own).
Result<BacktestResult> RunBacktestWithModel(const PoolSpec& spec, const SimulatedSpec& model,
                                            std::shared_ptr<const Trace> trace,
                                            const BacktestOptions& options);

// {"summary": {...}, "timeline": [...]} as JSON text.
std::string BacktestToJson(const BacktestResult& result);
// The summary's hours priced by state (BacktestSummary::cost).
double BacktestCost(const BacktestSummary& s, const SimulatedSpec::Cost& cost);
// A short human-readable summary block.
std::string BacktestToText(const BacktestSummary& s);

}  // namespace warmpool

#endif  // WARMPOOL_CONTROLLER_BACKTEST_BACKTEST_H_
