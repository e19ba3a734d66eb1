// Shared by the PoolController tests: an in-test metrics source, a pool spec and a harness with a
// manual clock and a simulated provider.
#ifndef WARMPOOL_TESTS_SUPPORT_POOL_CONTROLLER_TEST_UTIL_H_
#define WARMPOOL_TESTS_SUPPORT_POOL_CONTROLLER_TEST_UTIL_H_

#include <doctest/doctest.h>

#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "controller/runtime/pool_controller.h"
#include "providers/simulated/simulated_provider.h"
#include "warmpool/clock.h"

namespace warmpool::pc_test {
inline constexpr TimeMs kT0 = 1'000'000'000;
inline const double kNaN = std::numeric_limits<double>::quiet_NaN();
inline const double kInf = std::numeric_limits<double>::infinity();

inline bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// A metrics source that plays a script: each Fetch of a metric returns one sample, the next value of
// its sequence (the last value repeats). A metric with no script gets an empty window (not an error);
// a metric in `fail` gets that error. Samples are `age` old.
class FakeMetrics final : public MetricsSource {
 public:
  std::map<std::string, std::vector<double>> values;
  std::map<std::string, Status> fail;
  std::string floor_only, origin;  // copied into every window (MetricWindow's fields)
  DurationMs age = 0;
  int fetches = 0;

  Result<MetricWindow> Fetch(const MetricQuery& q, TimeMs now) override {
    ++fetches;
    if (auto f = fail.find(q.name); f != fail.end()) return f->second;
    MetricWindow w;
    w.metric = q.name;
    w.floor_only = floor_only;
    w.origin = origin;
    auto it = values.find(q.name);
    if (it == values.end() || it->second.empty()) return w;
    std::vector<double>& seq = it->second;
    const double v = seq.front();
    if (seq.size() > 1) seq.erase(seq.begin());
    w.samples.push_back({now - age, v});
    return w;
  }
};

// A pool "web" with one target_tracking policy (10 per server) per metric, min 1, max 10.
inline PoolSpec MakeSpec(int warm_standby, std::vector<std::string> metrics = {"rps"}) {
  PoolSpec spec;
  spec.name = "web";
  spec.min_active = 1;
  spec.max_active = 10;
  spec.warm_standby = warm_standby;
  spec.behavior.scale_down.stabilization_window = 0;  // HPA's 300 s would hide scale-downs
  for (size_t i = 0; i < metrics.size(); ++i) {
    MetricQuery q;
    q.name = metrics[i];
    q.query = "sum(rate(" + metrics[i] + "[1m]))";
    spec.metrics.push_back(q);
    Params params;
    params.path = "pools[0].policies[" + std::to_string(i) + "]";
    params.values = {{"metric", metrics[i]}, {"target_per_server", "10"}};
    spec.policies.push_back(PluginSpec{"target_tracking", "tt_" + metrics[i], params});
  }
  spec.provider.type = "simulated";
  return spec;
}

inline SimulatedSpec Sim(int active, int standby) {
  SimulatedSpec sim;
  sim.capacity_per_server = 10;
  sim.promotion_delay = 2 * kSecond;
  sim.provisioning_delay = 90 * kSecond;
  sim.drain_delay = 0;
  sim.initial_active = active;
  sim.initial_standby = standby;
  return sim;
}

// Everything a test needs for one pool. Not copyable: the provider points at the clock.
struct Harness {
  ManualClock clock{kT0};
  SimulatedProvider provider;
  FakeMetrics metrics;
  std::unique_ptr<PoolController> controller;

  Harness(const PoolSpec& spec, const SimulatedSpec& sim, bool force_dry_run = false)
      : provider(spec.name, sim, &clock) {
    std::vector<std::string> errors;
    std::vector<std::unique_ptr<Policy>> policies = CreatePolicies(spec, &errors);
    std::string joined;
    for (const std::string& e : errors) joined += e + "\n";
    INFO("policy errors: " << joined);
    REQUIRE(errors.empty());
    REQUIRE(policies.size() == spec.policies.size());
    controller =
        std::make_unique<PoolController>(spec, std::move(policies), &provider, &metrics, force_dry_run);
  }
  TickResult Tick() { return controller->RunOnce(clock.Now()); }
};

}  // namespace warmpool::pc_test

#endif  // WARMPOOL_TESTS_SUPPORT_POOL_CONTROLLER_TEST_UTIL_H_
