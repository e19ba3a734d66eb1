// Unit tests for warm_standby's tiers (issue 17): {running: N|auto, stopped: M|auto}, the forms that
// mean the running tier alone, stopped: auto's defaults and resolution, and the errors.
#include <doctest/doctest.h>

#include "tests/support/config_test_util.h"

namespace warmpool {
namespace {
using namespace config_test;

const PoolSpec& OnlyPool(const ConfigLoad& load) {
  REQUIRE_MESSAGE(load.ok(), Joined(load.errors));
  REQUIRE(load.config.pools.size() == 1);
  return load.config.pools[0];
}

const std::string kHaproxy = "type: haproxy, socket: /run/h.sock, backend: web";

}  // namespace

TEST_CASE("config: warm_standby's old forms mean the running tier, with no stopped tier") {
  ConfigLoad n = Parse(OnePool({{"warm_standby", "3"}}));
  CHECK(OnlyPool(n).warm_standby == 3);
  CHECK(OnlyPool(n).warm_stopped == 0);
  CHECK_FALSE(OnlyPool(n).HasStoppedTier());
  ConfigLoad a = Parse(OnePool({{"warm_standby", "auto"}}));
  CHECK(OnlyPool(a).warm_auto.enabled);
  CHECK_FALSE(OnlyPool(a).stopped_auto.enabled);
  ConfigLoad m = Parse(OnePool({{"warm_standby", "{auto: {max: 4}}"}}));
  CHECK(OnlyPool(m).warm_auto.max == 4);
  CHECK_FALSE(OnlyPool(m).HasStoppedTier());
  CHECK(OnlyPool(m).MaxTotal() == 10 + 4);
}

TEST_CASE("config: warm_standby tiers, counts and auto") {
  ConfigLoad c = Parse(OnePool({{"warm_standby", "{running: 2, stopped: 5}"}}));
  const PoolSpec& p = OnlyPool(c);
  CHECK(p.warm_standby == 2);
  CHECK(p.warm_stopped == 5);
  CHECK(p.HasStoppedTier());
  CHECK(p.MaxTotal() == 10 + 2 + 5);  // max_active + both tiers

  ConfigLoad only_stopped = Parse(OnePool({{"warm_standby", "{stopped: 3}"}}));
  CHECK(OnlyPool(only_stopped).warm_standby == 0);
  CHECK(OnlyPool(only_stopped).warm_stopped == 3);

  // stopped: auto on a fixed running tier: the load metric and capacity come from the policy, the
  // horizon and quantile are the stopped tier's defaults.
  ConfigLoad sa = Parse(OnePool({{"warm_standby", "{running: 1, stopped: auto}"}}));
  const PoolSpec& q = OnlyPool(sa);
  CHECK(q.warm_standby == 1);
  CHECK(q.stopped_auto.enabled);
  CHECK(q.stopped_auto.metric == "rps");
  CHECK(q.stopped_auto.server_capacity == 100);
  CHECK(q.stopped_auto.horizon == 10 * kMinute);
  CHECK(q.stopped_auto.quantile == doctest::Approx(0.99));
  CHECK(q.MaxTotal() == 10 + 1 + 10);

  // Both auto, the stopped tier's settings given.
  ConfigLoad both = Parse(OnePool(
      {{"warm_standby",
        "{running: {auto: {max: 3, server_capacity: 80}}, stopped: {auto: {horizon: 15m, max: 6}}}"}}));
  const PoolSpec& r = OnlyPool(both);
  CHECK(r.warm_auto.enabled);
  CHECK(r.warm_auto.max == 3);
  CHECK(r.stopped_auto.enabled);
  CHECK(r.stopped_auto.horizon == 15 * kMinute);
  CHECK(r.stopped_auto.max == 6);
  CHECK(r.stopped_auto.quantile == doctest::Approx(0.99));
  CHECK(r.stopped_auto.server_capacity == 80);  // the running tier's, on the same metric
  CHECK(r.MaxTotal() == 10 + 3 + 6);
}

TEST_CASE("config: warm_standby tiers' errors name the path and the value") {
  CheckErrorCases({
      {"running a word", OnePool({{"warm_standby", "{running: lots}"}}),
       "pools[0].warm_standby.running: must be a count >= 0, auto, or {auto: {min: 0, max: 10, ...}}, got "
       "\"lots\""},
      {"stopped a word", OnePool({{"warm_standby", "{running: 1, stopped: autp}"}}),
       "pools[0].warm_standby.stopped: must be a count >= 0, auto, or {auto: {min: 0, max: 10, ...}}, got "
       "\"autp\""},
      {"stopped negative", OnePool({{"warm_standby", "{stopped: -2}"}}),
       "pools[0].warm_standby.stopped:", false},
      {"stopped a mapping without auto", OnePool({{"warm_standby", "{stopped: {max: 3}}"}}),
       "pools[0].warm_standby.stopped.auto: required: stopped is a count >= 0, auto, or {auto: {min: 0, max: "
       "10, "
       "...}}"},
      {"stopped auto bad setting", OnePool({{"warm_standby", "{stopped: {auto: {quantile: 2}}}"}}),
       "pools[0].warm_standby.stopped.auto.quantile:", false},
      {"unknown tier", OnePool({{"warm_standby", "{running: 1, frozen: 2}"}}),
       "pools[0].warm_standby.frozen: unknown key"},
      {"running auto metric unknown",
       OnePool({{"warm_standby", "{running: {auto: {metric: cpu}}, stopped: 1}"}}),
       "pools[0].warm_standby.running.auto.metric: no metric named \"cpu\" in pools[0].metrics"},
      {"stopped auto metric unknown",
       OnePool({{"warm_standby", "{stopped: {auto: {metric: cpu, server_capacity: 1}}}"}}),
       "pools[0].warm_standby.stopped.auto.metric: no metric named \"cpu\" in pools[0].metrics"},
  });
}

TEST_CASE("config: a stopped tier needs a provider that can suspend and resume") {
  // haproxy without exec: refused, naming the key to add.
  CheckErrorCases({
      {"haproxy without exec",
       OnePool({{"provider", "{" + kHaproxy + "}"}, {"warm_standby", "{running: 1, stopped: 2}"}}),
       "pools[0].warm_standby.stopped: a stopped tier needs the provider's exec.suspend and exec.resume "
       "commands, "
       "and pools[0].provider.exec.suspend is not set (provider \"haproxy\")"},
      {"exec without suspend",
       OnePool({{"provider", "{" + kHaproxy + ", exec: {provision: p, retire: r}}"},
                {"warm_standby", "{running: 1, stopped: auto}"}}),
       "pools[0].warm_standby.stopped: a stopped tier needs the provider's exec.suspend and exec.resume "
       "commands, "
       "and pools[0].provider.exec.suspend is not set (provider \"haproxy\")"},
      {"suspend without resume",
       OnePool({{"provider", "{" + kHaproxy + ", exec: {provision: p, retire: r, suspend: s}}"}}),
       "pools[0].provider.exec.resume: required: the shell command that resumes a suspended machine"},
  });
  // With both commands, and without a stopped tier, haproxy is fine.
  ConfigLoad ok = Parse(
      OnePool({{"provider", "{" + kHaproxy + ", exec: {provision: p, retire: r, suspend: s, resume: u}}"},
               {"warm_standby", "{running: 1, stopped: 2}"}}));
  CHECK(OnlyPool(ok).warm_stopped == 2);
  ConfigLoad plain = Parse(OnePool({{"provider", "{" + kHaproxy + "}"}, {"warm_standby", "{running: 2}"}}));
  CHECK(OnlyPool(plain).warm_standby == 2);
}

TEST_CASE("config: capacity_model resume_delay and cost") {
  ConfigLoad ok = Parse(OnePool(
      {{"capacity_model",
        "{capacity_per_server: 50, resume_delay: 20s, cost: {active: 1, standby: 0.8, stopped: 0.1}}"}}));
  CHECK(ok.ok());
  CheckErrorCases({
      {"stopped dearer than standby", OnePool({{"capacity_model", "{cost: {standby: 0.5, stopped: 0.6}}"}}),
       "pools[0].capacity_model.cost.stopped: must be <= cost.standby (0.5), got 0.6"},
      {"standby dearer than active", OnePool({{"capacity_model", "{cost: {standby: 2}}"}}),
       "pools[0].capacity_model.cost.standby: must be <= cost.active (1), got 2"},
      {"unknown cost", OnePool({{"capacity_model", "{cost: {active: 1, spot: 0.3}}"}}),
       "pools[0].capacity_model.cost.spot: unknown key"},
      {"resume_delay a word", OnePool({{"capacity_model", "{resume_delay: soon}"}}),
       "pools[0].capacity_model.resume_delay:", false},
  });
}

}  // namespace warmpool
