// The pool's load metric (policies/load_metric.h): one rule for warm_standby: auto, the HPA baseline
// and a sweep's target.
#include "policies/load_metric.h"

#include <doctest/doctest.h>

using namespace warmpool;

namespace {

PluginSpec Policy(const char* type, std::map<std::string, std::string> values) {
  return PluginSpec{type, type, Params{"p", "", std::move(values)}};
}

}  // namespace

TEST_CASE("load metric: a rate per server wins over a utilization, whatever comes first") {
  // The case that once split: warm_standby: auto took rps, the HPA baseline took cpu.
  const std::vector<PluginSpec> policies = {
      Policy("target_tracking", {{"metric", "cpu"}, {"target_utilization", "0.6"}}),
      Policy("predictive", {{"metric", "rps"}, {"target_per_server", "80"}})};
  LoadMetric load = FindLoadMetric(policies);
  CHECK(load.policy == 1);
  CHECK(load.metric == "rps");
  CHECK(load.per_server == 80);
  // Asked for a metric, only policies on it count: cpu has no capacity per server.
  load = FindLoadMetric(policies, "cpu");
  CHECK(load.policy == 0);
  CHECK(load.metric == "cpu");
  CHECK(load.per_server == 0);
  CHECK(FindLoadMetric(policies, "conn").policy == -1);
}

TEST_CASE("load metric: the first target_tracking or predictive policy, no other kind") {
  CHECK(FindLoadMetric({}).policy == -1);
  CHECK(FindLoadMetric({Policy("step", {{"metric", "rps"}}), Policy("fixed", {{"count", "2"}})}).policy ==
        -1);
  const std::vector<PluginSpec> two = {
      Policy("step", {{"metric", "q"}}),
      Policy("target_tracking", {{"metric", "a"}, {"target_per_server", "5"}}),
      Policy("predictive", {{"metric", "b"}, {"target_per_server", "9"}})};
  CHECK(FindLoadMetric(two).metric == "a");
  CHECK(FindLoadMetric(two).per_server == 5);
  // A target that is not a positive number gives no capacity.
  CHECK(
      FindLoadMetric({Policy("target_tracking", {{"metric", "a"}, {"target_per_server", "x"}})}).per_server ==
      0);
}
