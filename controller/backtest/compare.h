// One backtest run compares, on the same trace and capacity model: the pool's configured policies
// ("warmpool"), the Kubernetes HPA defaults (hpa_baseline.h) and the oracle (oracle.h).
#ifndef WARMPOOL_CONTROLLER_BACKTEST_COMPARE_H_
#define WARMPOOL_CONTROLLER_BACKTEST_COMPARE_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "controller/backtest/backtest.h"
#include "controller/backtest/oracle.h"

namespace warmpool {

struct ComparisonOptions {
  DurationMs interval = 15 * kSecond;  // the pool's tick; the baseline always ticks every 15 s
  std::vector<TimeSpan> masked;        // collection gaps, for all three
  bool timelines = false;              // keep the runs' timelines and the oracle's steps
  int threads = 0;                     // the runs go in parallel (0: one thread per core)
  // The configured run's scale decisions (logging); called from a worker thread; may be empty.
  std::function<void(const BacktestTick&)> on_scale;
};

struct Comparison {
  SimulatedSpec model;           // the pool's capacity model
  std::vector<TimeSpan> masked;  // normalized
  BacktestResult warmpool;
  BacktestResult hpa_baseline;
  OracleResult oracle;
};

// Names of the runs, in report order.
inline constexpr const char* kRunNames[] = {"warmpool", "hpa_baseline", "oracle"};

Result<Comparison> RunComparison(const PoolSpec& spec, std::shared_ptr<const Trace> trace,
                                 const ComparisonOptions& options);

// The three summaries, in kRunNames order.
std::vector<const BacktestSummary*> RunSummaries(const Comparison& c);

// The configured run's summary block, then a table of the three runs.
std::string ComparisonToText(const Comparison& c);

}  // namespace warmpool

#endif  // WARMPOOL_CONTROLLER_BACKTEST_COMPARE_H_
