// Parameter sweeps: backtest a pool over a grid of settings, in parallel, and find the Pareto front
// of unserved requests vs cost (server-hours priced by state: BacktestSummary::cost).
//
//   --sweep 'target=0.6,0.7,0.8;warm_standby=0,1,2'   -> 3 x 3 = 9 runs
//
// Keys:
//   target              target_per_server of the first target_tracking or predictive policy
//   horizon             horizon of the first predictive policy
//   tolerance           tolerance of the first target_tracking policy
//   warm_standby, min_active, max_active, max_total        the pool's counts (warm_standby=auto: the
//                       config's warm_standby.auto; a number: a fixed warm pool)
//   warm.SETTING        a setting of warm_standby.auto (warm.quantile, warm.max, warm.season_share, ...)
//   warm.running        the same as warm_standby (the running tier: a count, or auto)
//   warm_stopped, warm.stopped   the stopped tier: a count, or auto (the config's stopped.auto, or its
//                       defaults on the running tier's load metric: StoppedAutoDefaults)
//   stopped.SETTING     a setting of warm_standby.stopped.auto (stopped.horizon, stopped.quantile, ...)
//   scale_up_window, scale_down_window                     behavior stabilization windows
//   interval            the tick interval
//   POLICY.PARAM        any parameter of the policy named POLICY (e.g. rps.tolerance, forecast.step)
// Every run has its own PoolController, simulated pool and metrics source; they share only the
// read-only trace, so results do not depend on the thread count or the order of the runs.
#ifndef WARMPOOL_CONTROLLER_BACKTEST_SWEEP_H_
#define WARMPOOL_CONTROLLER_BACKTEST_SWEEP_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "controller/backtest/backtest.h"
#include "controller/backtest/compare.h"

namespace warmpool {

struct SweepAxis {
  std::string key;
  std::vector<std::string> values;
};

// "KEY=v1,v2,...;KEY2=..." Errors name the part that is wrong. Spaces around items are ignored.
Result<std::vector<SweepAxis>> ParseSweep(const std::string& text);

// Sets one key on a copy of the pool's spec and the tick interval. Errors name the key and value.
Status ApplySweepSetting(const std::string& key, const std::string& value, PoolSpec* spec,
                         DurationMs* interval);

struct SweepPoint {
  std::vector<std::pair<std::string, std::string>> settings;  // key, value: one per axis
  BacktestSummary summary;
  bool pareto = false;  // on the front of unserved requests vs cost
};

struct SweepOptions {
  DurationMs interval = 15 * kSecond;
  std::vector<TimeSpan> masked;
  int threads = 0;  // 0: one per core
};

struct SweepResult {
  std::vector<SweepAxis> axes;
  std::vector<SweepPoint> points;  // the grid in order: the last axis varies fastest
  std::vector<size_t> front;       // indices of the Pareto points, by increasing server-hours
  int threads = 0;                 // threads used
  double seconds = 0;              // wall time of the grid
};

// Every point's settings, in grid order (the last axis varies fastest).
std::vector<std::vector<std::pair<std::string, std::string>>> SweepGrid(const std::vector<SweepAxis>& axes);

// Checks every point's settings and policies before running any. The grid is at most 10,000 points.
Result<SweepResult> RunSweep(const PoolSpec& spec, std::shared_ptr<const Trace> trace,
                             const std::vector<SweepAxis>& axes, const SweepOptions& options);

// Indices of the points no other point beats on both unserved requests and cost (at least as good on
// both, better on one), sorted by increasing cost. (Every state priced 1: cost = total server-hours.)
std::vector<size_t> ParetoFront(const std::vector<SweepPoint>& points);

// A table of every point (Pareto points marked *), then the front.
std::string SweepToText(const SweepResult& sweep);

// The front read against HPA's curve (compare.h): per point, its unserved against the curve's at its
// hours and its hours against the curve's at its unserved, as ratios, or where it lies outside the
// curve. "" without a curve.
std::string FrontVsCurveText(const SweepResult& sweep, const std::vector<HpaCurvePoint>& curve);

}  // namespace warmpool

#endif  // WARMPOOL_CONTROLLER_BACKTEST_SWEEP_H_
