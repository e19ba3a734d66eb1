// The policies' histories (PoolDecider::PolicyHistories / RestorePolicyHistories): kept only for the
// policies that read theirs, and given back only to a policy of the same type, name and parameters.
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/support/pool_controller_test_util.h"

using namespace warmpool;
using namespace warmpool::pc_test;

namespace {

// MakeSpec's target tracking policy on rps, then a predictive one on the same metric.
PoolSpec WithForecast(const std::string& name = "forecast", const std::string& horizon = "2m") {
  PoolSpec spec = MakeSpec(0);
  Params params;
  params.path = "pools[0].policies[1]";
  params.values = {{"metric", "rps"}, {"target_per_server", "10"}, {"horizon", horizon}, {"season", "0"}};
  spec.policies.push_back(PluginSpec{"predictive", name, params});
  return spec;
}

}  // namespace

TEST_CASE("policy history: recorded and kept only for a policy that reads it") {
  Harness h(WithForecast(), Sim(2, 0));
  h.metrics.values["rps"] = {20, 25, 30, kNaN, 31};
  for (int i = 0; i < 5; ++i, h.clock.Advance(15 * kSecond)) REQUIRE(h.Tick().status.ok());
  const std::vector<PolicyHistory> saved = h.controller->decider().PolicyHistories();
  REQUIRE(saved.size() == 1);  // target tracking reads only its window: nothing recorded for it
  CHECK(saved[0].type == "predictive");
  CHECK(saved[0].name == "forecast");
  CHECK(saved[0].params.at("horizon") == "2m");
  REQUIRE(saved[0].records.size() == 5);
  CHECK(saved[0].records[0].at == kT0);
  CHECK(saved[0].records[4].at == kT0 + 4 * 15 * kSecond);
  CHECK(saved[0].records[1].metric == 25);
  CHECK(std::isnan(saved[0].records[3].metric));  // the missing sample, as the policy saw it
  CHECK(saved[0].records[4].metric == 31);

  SUBCASE("the same policy gets it back, and decides from it as the one that recorded it") {
    Harness again(WithForecast(), Sim(2, 0));
    again.clock.Set(h.clock.Now());
    CHECK(again.controller->decider().RestorePolicyHistories(saved) == 1);
    CHECK(again.controller->decider().PolicyHistories()[0].records.size() == 5);
    h.metrics.values["rps"] = {40};
    again.metrics.values["rps"] = {40};
    const TickResult a = h.Tick(), b = again.Tick();
    CHECK(b.decision.recommendations.at(1).reason == a.decision.recommendations.at(1).reason);
  }
  SUBCASE("another name, or other parameters: not restored") {
    Harness renamed(WithForecast("other"), Sim(2, 0));
    CHECK(renamed.controller->decider().RestorePolicyHistories(saved) == 0);
    CHECK(renamed.controller->decider().PolicyHistories()[0].records.empty());
    Harness retuned(WithForecast("forecast", "5m"), Sim(2, 0));
    CHECK(retuned.controller->decider().RestorePolicyHistories(saved) == 0);
    CHECK(retuned.controller->decider().PolicyHistories()[0].records.empty());
  }
}
