// Replay speed of the backtest: trace samples per second on one core, for one policy set, over
// the NASA July 1995 trace (39,692 one-minute samples, 158,768 ticks at 15 s). Goal: 2 M samples/s
// (about 20 ms a replay, 125 ns a tick). docs/performance.md has the figures.
//   build/bench/bench_backtest --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <memory>

#include "controller/backtest/backtest.h"
#include "controller/backtest/oracle.h"
#include "controller/backtest/sweep.h"
#include "controller/config/config.h"

#ifndef WARMPOOL_SOURCE_DIR
#define WARMPOOL_SOURCE_DIR "."
#endif

namespace warmpool {
namespace {

std::shared_ptr<const Trace> Nasa() {
  static std::shared_ptr<const Trace> trace = [] {
    Result<Trace> t = LoadTrace(WARMPOOL_SOURCE_DIR "/examples/traces/nasa-http-1995-07-1min.csv.gz");
    if (!t.ok()) {
      std::fprintf(stderr, "%s\n", t.status().message().c_str());
      std::exit(1);
    }
    return std::make_shared<const Trace>(std::move(t).value());
  }();
  return trace;
}

PoolSpec Pool(const char* config) {
  ConfigLoad load = LoadConfigFile(std::string(WARMPOOL_SOURCE_DIR) + "/" + config);
  if (!load.ok()) {
    std::fprintf(stderr, "%s: %s\n", config, load.errors.front().c_str());
    std::exit(1);
  }
  return load.config.pools.front();
}

void Replay(benchmark::State& state, const PoolSpec& spec, DurationMs interval = 15 * kSecond) {
  auto trace = Nasa();
  BacktestOptions opts;
  opts.interval = interval;
  for (auto _ : state) {
    Result<BacktestResult> r = RunBacktest(spec, trace, opts);
    if (!r.ok()) state.SkipWithError(r.status().message().c_str());
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(trace->rates.size()));
  state.counters["samples/s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * trace->rates.size(), benchmark::Counter::kIsRate);
}

// examples/web.yaml: one target_tracking policy, HPA behavior, a warm pool of 2.
void BM_BacktestNasaTargetTracking(benchmark::State& state) { Replay(state, Pool("examples/web.yaml")); }
BENCHMARK(BM_BacktestNasaTargetTracking)->Unit(benchmark::kMillisecond);

// The same with one tick per trace sample (a 60 s interval on the one-minute trace): samples/s is then
// ticks/s, the replay's throughput without the 4 ticks per sample of a 15 s interval.
void BM_BacktestNasaTargetTrackingTickPerSample(benchmark::State& state) {
  Replay(state, Pool("examples/web.yaml"), kMinute);
}
BENCHMARK(BM_BacktestNasaTargetTrackingTickPerSample)->Unit(benchmark::kMillisecond);

// examples/backtest.yaml, the default set: target_tracking leading a rise by 2 minutes, a running warm
// pool sized to the likely rise and a stopped tier behind it (two sizers, policies/warm_pool_sizer.h,
// fed every tick), and the surge detector.
void BM_BacktestNasaDefaultSet(benchmark::State& state) { Replay(state, Pool("examples/backtest.yaml")); }
BENCHMARK(BM_BacktestNasaDefaultSet)->Unit(benchmark::kMillisecond);

// The default set without its stopped tier (the running tier and the surge as configured): what
// simulating the stopped tier costs a replay, side by side with BM_BacktestNasaDefaultSet.
void BM_BacktestNasaDefaultSetNoStoppedTier(benchmark::State& state) {
  PoolSpec spec = Pool("examples/backtest.yaml");
  spec.stopped_auto = WarmAutoSpec{};
  spec.warm_stopped = 0;
  Replay(state, spec);
}
BENCHMARK(BM_BacktestNasaDefaultSetNoStoppedTier)->Unit(benchmark::kMillisecond);

// bench/running-tier.yaml, the default set before issue 17 (a running warm pool only, no stopped tier,
// no surge): the replay's speed on unchanged policies, build to build.
void BM_BacktestNasaRunningTier(benchmark::State& state) { Replay(state, Pool("bench/running-tier.yaml")); }
BENCHMARK(BM_BacktestNasaRunningTier)->Unit(benchmark::kMillisecond);

// bench/predictive.yaml (the default set before fd0a554): target_tracking + a predictive policy
// (Holt-Winters, season 24h, horizon 3m, resumed tick to tick) + a warm pool of one.
void BM_BacktestNasaPredictive(benchmark::State& state) { Replay(state, Pool("bench/predictive.yaml")); }
BENCHMARK(BM_BacktestNasaPredictive)->Unit(benchmark::kMillisecond);

// A sweep of 8 points (examples/web.yaml over NASA) on 1 and 2 threads: wall time, so the ratio of
// the two is the parallel speedup (it needs the cores to be otherwise idle to mean anything).
void BM_SweepNasa(benchmark::State& state) {
  auto trace = Nasa();
  PoolSpec spec = Pool("examples/web.yaml");
  auto axes = ParseSweep("warm_standby=0,1,2,3;scale_down_window=1m,5m");
  SweepOptions opts;
  opts.threads = static_cast<int>(state.range(0));
  for (auto _ : state) {
    Result<SweepResult> r = RunSweep(spec, trace, *axes, opts);
    if (!r.ok()) state.SkipWithError(r.status().message().c_str());
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations() * 8);
}
BENCHMARK(BM_SweepNasa)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

// The oracle alone (no ticks: one pass over the trace).
void BM_OracleNasa(benchmark::State& state) {
  auto trace = Nasa();
  PoolSpec spec = Pool("examples/web.yaml");
  SimulatedSpec model;
  model.capacity_per_server = 1;
  for (auto _ : state) benchmark::DoNotOptimize(RunOracle(spec, model, *trace, {}, false));
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(trace->rates.size()));
}
BENCHMARK(BM_OracleNasa)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace warmpool

BENCHMARK_MAIN();
