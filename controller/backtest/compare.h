// One backtest run compares, on the same trace and capacity model: the pool's configured policies
// ("warmpool"), the Kubernetes HPA defaults (hpa_baseline.h) and the oracle (oracle.h). With several
// baseline targets the baseline becomes a curve (server-hours and unserved requests per target, one
// replay each, in parallel with the others), and the configured run is read against it (curve.h):
// unserved at equal cost and cost at equal unserved (cost: active-server-hour equivalents, the
// server-hours without a stopped tier).
#ifndef WARMPOOL_CONTROLLER_BACKTEST_COMPARE_H_
#define WARMPOOL_CONTROLLER_BACKTEST_COMPARE_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "controller/backtest/backtest.h"
#include "controller/backtest/curve.h"
#include "controller/backtest/oracle.h"

namespace warmpool {

struct ComparisonOptions {
  DurationMs interval = 15 * kSecond;  // the pool's tick; the baseline always ticks every 15 s
  std::vector<TimeSpan> masked;        // collection gaps, for all three
  bool timelines = false;              // keep the runs' timelines and the oracle's steps
  int threads = 0;                     // the runs go in parallel (0: one thread per core)
  // The configured run's scale decisions (logging); called from a worker thread; may be empty.
  std::function<void(const BacktestTick&)> on_scale;
  // The HPA baseline's targets, as fractions of a server's capacity (each > 0, no repeats). One: the
  // baseline is that run alone. Several: HPA's curve; the baseline (hpa_baseline, with a timeline) is
  // the one at 80%, or the target nearest it.
  std::vector<double> baseline_targets = {0.8};
};

// The HPA baseline's curve, every target: the default of `backtest --baseline-target`.
inline const std::vector<double>& DefaultBaselineCurve() {
  static const std::vector<double> curve = {0.5, 0.6, 0.7, 0.8, 0.9, 1.0};
  return curve;
}

// The trace's peak against the pool's largest size.
struct PeakCheck {
  double peak = 0;                 // the trace's highest rate outside masked spans (requests/s)
  double capacity_per_server = 0;  // of the capacity model
  int needed = 0;                  // ceil(peak / capacity_per_server)
  int max_active = 0;
  bool short_of_peak() const { return needed > max_active; }
};
// `masked`: normalized spans.
PeakCheck CheckPeak(const Trace& trace, const std::vector<TimeSpan>& masked, double capacity_per_server,
                    int max_active);
// "warning: the trace's peak 4210 req/s needs 43 servers at capacity_per_server 100; max_active is 10:
// every policy leaves the excess unserved", or "" when max_active serves the peak.
std::string PeakWarning(const PeakCheck& check);

// One point of HPA's curve.
struct HpaCurvePoint {
  double target = 0;  // fraction of a server's capacity
  BacktestSummary summary;
};

// The configured run (or any summary) read against HPA's curve.
struct VersusCurve {
  CurveReading unserved_at_hours;  // HPA's unserved at the run's server-hours
  CurveReading hours_at_unserved;  // HPA's server-hours at the run's unserved requests
};
VersusCurve CompareWithCurve(const BacktestSummary& run, const std::vector<HpaCurvePoint>& curve);
std::vector<CurvePoint> CurvePoints(const std::vector<HpaCurvePoint>& curve);

// Two lines that say how `name` compares with HPA's curve, each naming the reading's range when the
// run lies outside it.
std::string VersusCurveText(const std::string& name, const BacktestSummary& run, const VersusCurve& v);

struct Comparison {
  SimulatedSpec model;           // the pool's capacity model
  std::vector<TimeSpan> masked;  // normalized
  BacktestResult warmpool;
  BacktestResult hpa_baseline;
  OracleResult oracle;
  // With several baseline targets: every point, by increasing target; hpa_curve[hpa_marked] is the
  // hpa_baseline run. Empty with one target.
  std::vector<HpaCurvePoint> hpa_curve;
  size_t hpa_marked = 0;
  double hpa_target = 0.8;  // hpa_baseline's target
  PeakCheck peak;
  std::vector<std::string> warnings;  // said before the numbers (PeakWarning)
};

// Checks --baseline-target's list: each > 0 and at most 4 (400% of a server), no repeats, at most 20.
// Errors name the option and the value.
Result<std::vector<double>> ParseBaselineTargets(const std::string& text);

// Names of the runs, in report order.
inline constexpr const char* kRunNames[] = {"warmpool", "hpa_baseline", "oracle"};

Result<Comparison> RunComparison(const PoolSpec& spec, std::shared_ptr<const Trace> trace,
                                 const ComparisonOptions& options);

// The three summaries, in kRunNames order.
std::vector<const BacktestSummary*> RunSummaries(const Comparison& c);

// The warnings, the configured run's summary block, then a table of the three runs, then HPA's curve
// and the configured run against it (with a curve).
std::string ComparisonToText(const Comparison& c);

}  // namespace warmpool

#endif  // WARMPOOL_CONTROLLER_BACKTEST_COMPARE_H_
