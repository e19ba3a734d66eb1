#include "policies/load_metric.h"

#include <cstdlib>

namespace warmpool {

LoadMetric FindLoadMetric(const std::vector<PluginSpec>& policies, const std::string& metric) {
  LoadMetric out;
  for (bool need_target : {true, false}) {
    for (size_t i = 0; i < policies.size(); ++i) {
      const PluginSpec& p = policies[i];
      if (p.type != "target_tracking" && p.type != "predictive") continue;
      auto m = p.params.values.find("metric");
      if (m == p.params.values.end() || (!metric.empty() && m->second != metric)) continue;
      auto target = p.params.values.find("target_per_server");
      if (need_target && target == p.params.values.end()) continue;
      out.policy = static_cast<int>(i);
      out.metric = m->second;
      if (target != p.params.values.end()) {
        const double v = std::strtod(target->second.c_str(), nullptr);
        out.per_server = v > 0 ? v : 0;
      }
      return out;
    }
  }
  return out;
}

}  // namespace warmpool
