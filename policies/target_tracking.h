// target_tracking: the Kubernetes HPA replica formula over one metric.
//
//   desired = ceil(current * metric_per_server / target)
//
// With `target_per_server` the metric is a pool-wide rate (e.g. requests/s); per server it is
// metric / current, so desired = ceil(metric / target) and works from zero servers.
// With `target_utilization` the metric is the average utilization of the active servers (the same
// unit as the target, e.g. 0.6 or 60); with no active servers it is undefined and the policy abstains.
// Inside the tolerance band (|ratio - 1| <= tolerance, per direction) the policy keeps `current`.
//
// `lead: 17s` (default 0s: off) sizes for the metric that far ahead while it rises: the slope of the
// window's last two samples (or, with `lead_window: 2m`, from the sample that much older to the latest,
// which a noisy metric needs), when positive, times `lead`, is added to the latest value (a falling
// metric is taken as it is). Capacity asked for now serves only after a tick and a promotion; leading by that
// much keeps a steady ramp from outrunning it. The reason gives the slope and the value it led to.
#ifndef WARMPOOL_POLICIES_TARGET_TRACKING_H_
#define WARMPOOL_POLICIES_TARGET_TRACKING_H_

#include <memory>
#include <string>
#include <vector>

#include "warmpool/policy.h"

namespace warmpool {

struct TargetTrackingSpec {
  std::string metric;
  enum class Mode { kPerServer, kUtilization } mode = Mode::kPerServer;
  double target = 0;            // > 0
  double tolerance_up = 0.1;    // ratio above 1 + this scales up
  double tolerance_down = 0.1;  // ratio below 1 - this scales down
  DurationMs lead = 0;          // size for the metric this far ahead on a rising trend
  DurationMs lead_window = 0;   // the slope's baseline: 0 = the sample before the latest
};

// The pure formula, exposed for tests and benchmarks. REQUIRES: spec.target > 0.
Recommendation TargetTrackingRecommend(const std::string& name, const TargetTrackingSpec& spec,
                                       const PolicyInput& in);

std::unique_ptr<Policy> NewTargetTrackingPolicy(const std::string& name, const Params& params,
                                                std::vector<std::string>* errors);

}  // namespace warmpool

#endif  // WARMPOOL_POLICIES_TARGET_TRACKING_H_
