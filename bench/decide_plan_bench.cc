// decide + plan per pool per tick. Goal: <= 2 us per pool, 10,000 pools <= 20 ms per tick, one core.
//   build/bench/bench_decide_plan --benchmark_min_time=1
#include <benchmark/benchmark.h>

#include <map>
#include <memory>

#include "controller/runtime/pool_controller.h"
#include "policies/decide.h"
#include "policies/planner.h"
#include "providers/registry.h"
#include "providers/simulated/simulated_provider.h"
#include "warmpool/clock.h"

namespace warmpool {
namespace {

PoolSpec BenchSpec(const std::string& name) {
  PoolSpec s;
  s.name = name;
  s.min_active = 2;
  s.max_active = 20;
  s.warm_standby = 2;
  s.metrics = {MetricQuery{"rps", "", 5 * kMinute, 15 * kSecond}};
  s.policies = {PluginSpec{"target_tracking", "rps",
                           Params{"p", "", {{"metric", "rps"}, {"target_per_server", "80"}}}}};
  s.provider =
      PluginSpec{"simulated", "", Params{"p", "", {{"initial_active", "4"}, {"initial_standby", "2"}}}};
  return s;
}

// A metrics source whose load swings between 200 and 1400 req/s, so pools keep scaling.
class SwingSource final : public MetricsSource {
 public:
  Result<MetricWindow> Fetch(const MetricQuery& q, TimeMs now) override {
    MetricWindow w;
    w.metric = q.name;
    const double v = ((now / (15 * kSecond)) % 8 < 4) ? 1400 : 200;
    for (TimeMs t = now - q.window; t <= now; t += q.step) w.samples.push_back({t, v});
    return w;
  }
};

// The pure part: one policy, Decide, RecordDecision, Plan, on a 6-server pool.
void BM_DecidePlan(benchmark::State& state) {
  PoolSpec spec = BenchSpec("web");
  std::vector<std::string> errors;
  auto policies = CreatePolicies(spec, &errors);
  PoolState pool;
  pool.pool = "web";
  for (int i = 0; i < 6; ++i) {
    pool.servers.push_back(Server{"web-" + std::to_string(i), "10.0.0." + std::to_string(i),
                                  i < 4 ? ServerState::kActive : ServerState::kStandby, Health::kHealthy,
                                  i * 1000});
  }
  std::map<std::string, MetricWindow> windows;
  // The newest sample is always fresh: the window is re-stamped each tick by reference time.
  for (TimeMs t = 0; t <= 5 * kMinute; t += 15 * kSecond) windows["rps"].samples.push_back({t, 500});
  const DurationMs stale_after = 1000 * kHour;
  BehaviorHistory history;
  TimeMs now = 5 * kMinute;
  for (auto _ : state) {
    PolicyInput in;
    in.windows = &windows;
    in.pool = &pool;
    in.current = 4;
    in.now = now;
    in.stale_after = stale_after;
    std::vector<Recommendation> recs;
    recs.push_back(policies[0]->Recommend(in));
    Decision d = Decide(spec, std::move(recs), history, 4, now);
    RecordDecision(spec, d, &history);
    ScalePlan plan = Plan(spec, pool, d.desired);
    benchmark::DoNotOptimize(plan);
    now += 15 * kSecond;  // time moves on, as it does live: behavior history stays bounded
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecidePlan);

// decide + plan over N distinct pools, each with its own state and history (cache-realistic).
void BM_DecidePlanPools(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  struct One {
    PoolSpec spec;
    std::vector<std::unique_ptr<Policy>> policies;
    PoolState pool;
    std::map<std::string, MetricWindow> windows;
    BehaviorHistory history;
  };
  std::vector<One> pools(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    One& p = pools[static_cast<size_t>(i)];
    p.spec = BenchSpec("pool" + std::to_string(i));
    std::vector<std::string> errors;
    p.policies = CreatePolicies(p.spec, &errors);
    p.pool.pool = p.spec.name;
    for (int j = 0; j < 6; ++j) {
      p.pool.servers.push_back(Server{p.spec.name + "-" + std::to_string(j), "",
                                      j < 4 ? ServerState::kActive : ServerState::kStandby, Health::kHealthy,
                                      j * 1000});
    }
    // Load swings with the pool index so that some pools scale up, some down, some hold.
    for (TimeMs t = 0; t <= 5 * kMinute; t += 15 * kSecond)
      p.windows["rps"].samples.push_back({t, 100.0 + (i % 9) * 80});
  }
  TimeMs now = 5 * kMinute;
  for (auto _ : state) {
    for (One& p : pools) {
      PolicyInput in;
      in.windows = &p.windows;
      in.pool = &p.pool;
      in.current = 4;
      in.now = now;
      in.stale_after = 1000 * kHour;
      std::vector<Recommendation> recs;
      recs.push_back(p.policies[0]->Recommend(in));
      Decision d = Decide(p.spec, std::move(recs), p.history, 4, now);
      RecordDecision(p.spec, d, &p.history);
      benchmark::DoNotOptimize(Plan(p.spec, p.pool, d.desired));
    }
    now += 15 * kSecond;
  }
  state.SetItemsProcessed(state.iterations() * n);
  state.counters["pools"] = n;
}
BENCHMARK(BM_DecidePlanPools)->Arg(10000)->Unit(benchmark::kMillisecond);

// The whole tick (observe a simulated pool, fetch, decide, plan, apply) for N pools.
void BM_TickPools(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  ManualClock clock(1'000'000'000);
  SwingSource metrics;
  std::vector<std::unique_ptr<Provider>> providers;
  std::vector<std::unique_ptr<PoolController>> pools;
  for (int i = 0; i < n; ++i) {
    PoolSpec spec = BenchSpec("pool" + std::to_string(i));
    std::vector<std::string> errors;
    providers.push_back(CreateProvider("simulated", spec.name, spec.provider.params, &clock, &errors));
    pools.push_back(std::make_unique<PoolController>(spec, CreatePolicies(spec, &errors),
                                                     providers.back().get(), &metrics));
  }
  for (auto _ : state) {
    clock.Advance(15 * kSecond);
    for (auto& p : pools) benchmark::DoNotOptimize(p->RunOnce(clock.Now()));
  }
  state.SetItemsProcessed(state.iterations() * n);
  state.counters["pools"] = n;
}
BENCHMARK(BM_TickPools)->Arg(1)->Arg(10000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace warmpool

BENCHMARK_MAIN();
