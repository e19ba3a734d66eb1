// The baseline a backtest compares a pool's policies with: what a Kubernetes HorizontalPodAutoscaler
// with its defaults would do for the same pool on the same trace.
//
//   - one target_tracking policy on the pool's load metric at 80% of a server's capacity
//     (target_per_server = 0.8 * capacity_per_server; another fraction for HPA's curve), tolerance 0.1
//     (HPA's default);
//   - a 15 s sync period (the tick interval), BehaviorSpec::Defaults() (HPA's scale-up and
//     scale-down rules, 300 s scale-down stabilization);
//   - no warm pool: warm_standby 0 and no initial standbys, so every new server is provisioned on
//     demand and pays the provisioning delay (then the promotion delay: pod start and readiness);
//   - the pool's min_active, max_active, stale_after and capacity model otherwise.
#ifndef WARMPOOL_CONTROLLER_BACKTEST_HPA_BASELINE_H_
#define WARMPOOL_CONTROLLER_BACKTEST_HPA_BASELINE_H_

#include <string>

#include "providers/simulated/simulated_provider.h"
#include "warmpool/pool_spec.h"
#include "warmpool/status.h"

namespace warmpool {

struct HpaBaseline {
  PoolSpec spec;
  SimulatedSpec model;
  DurationMs interval = 15 * kSecond;
};

constexpr double kHpaTargetFraction = 0.8;

// `model`: the pool's resolved capacity model. The load metric is the one the pool's first
// target_tracking or predictive policy reads, else the pool's first metric. Fails when the pool
// has no metric. `target_fraction`: the target as a fraction of a server's capacity (> 0).
Result<HpaBaseline> MakeHpaBaseline(const PoolSpec& spec, const SimulatedSpec& model,
                                    double target_fraction = kHpaTargetFraction);

// "HPA@80%" for 0.8 (whole percents; "HPA@82.5%" otherwise).
std::string HpaLabel(double target_fraction);

}  // namespace warmpool

#endif  // WARMPOOL_CONTROLLER_BACKTEST_HPA_BASELINE_H_
