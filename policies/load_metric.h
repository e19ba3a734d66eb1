// The pool's load metric and what one server carries of it: one rule for everything that needs to
// know which metric is the load (warm_standby: auto, the HPA baseline of the backtest, a sweep's
// `target`), so that they never disagree.
//
// The rule: among the target_tracking and predictive policies (on `metric` when one is asked for),
// the first with target_per_server (a rate per server: the unit a capacity is counted in); failing
// that, the first of them at all (its metric is the load, its capacity unknown).
#ifndef WARMPOOL_POLICIES_LOAD_METRIC_H_
#define WARMPOOL_POLICIES_LOAD_METRIC_H_

#include <string>
#include <vector>

#include "warmpool/pool_spec.h"

namespace warmpool {

struct LoadMetric {
  int policy = -1;        // the index of the policy the rule picked; -1: none
  std::string metric;     // its metric ("" when none)
  double per_server = 0;  // its target_per_server, when it has a positive one; else 0
};

LoadMetric FindLoadMetric(const std::vector<PluginSpec>& policies, const std::string& metric = "");

}  // namespace warmpool

#endif  // WARMPOOL_POLICIES_LOAD_METRIC_H_
