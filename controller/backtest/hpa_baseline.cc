#include "controller/backtest/hpa_baseline.h"

#include <cstdio>

#include "policies/load_metric.h"

namespace warmpool {

Result<HpaBaseline> MakeHpaBaseline(const PoolSpec& spec, const SimulatedSpec& model,
                                    double target_fraction) {
  // The pool's load metric, by the rule warm_standby: auto uses too; else the pool's first metric.
  std::string metric = FindLoadMetric(spec.policies).metric;
  if (metric.empty() && !spec.metrics.empty()) metric = spec.metrics.front().name;
  const MetricQuery* query = nullptr;
  for (const MetricQuery& q : spec.metrics) {
    if (q.name == metric) query = &q;
  }
  if (query == nullptr) {
    return Status::InvalidArgument("pool " + spec.name +
                                   ": the HPA baseline needs a load metric, and the pool has " +
                                   (metric.empty() ? "none" : "no metric named \"" + metric + "\""));
  }
  if (!(target_fraction > 0)) {
    return Status::InvalidArgument("the HPA baseline's target must be > 0 (a fraction of a server's capacity)");
  }
  HpaBaseline b;
  b.spec.name = spec.name;
  b.spec.min_active = spec.min_active;
  b.spec.max_active = spec.max_active;
  b.spec.warm_standby = 0;
  b.spec.max_total = 0;  // = max_active
  b.spec.stale_after = spec.stale_after;
  b.spec.count_provisioning = true;
  b.spec.metrics = {*query};
  char target[64];
  std::snprintf(target, sizeof target, "%.17g", target_fraction * model.capacity_per_server);
  b.spec.policies = {
      PluginSpec{"target_tracking", "hpa",
                 Params{"hpa_baseline.policies[0]",
                        "",
                        {{"metric", metric}, {"target_per_server", target}, {"tolerance", "0.1"}}}}};
  b.spec.behavior = BehaviorSpec::Defaults();
  b.spec.provider = PluginSpec{"simulated", "", {}};
  b.model = model;
  b.model.initial_standby = 0;
  b.interval = 15 * kSecond;
  return b;
}

std::string HpaLabel(double target_fraction) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "HPA@%.4g%%", 100 * target_fraction);
  return buf;
}

}  // namespace warmpool
