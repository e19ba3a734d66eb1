// PoolController with warm_standby: auto (policies/warm_pool_sizer.h): the tick sizes the warm pool,
// plans to it, says why, and holds the last size while the load metric is missing.
#include <doctest/doctest.h>

#include "tests/support/pool_controller_test_util.h"

using namespace warmpool;
using namespace warmpool::pc_test;

namespace {

PoolSpec AutoSpec() {
  PoolSpec spec = MakeSpec(0);
  spec.warm_auto.enabled = true;
  spec.warm_auto.metric = "rps";
  spec.warm_auto.server_capacity = 10;
  spec.warm_auto.min = 1;
  spec.warm_auto.max = 5;
  spec.warm_auto.horizon = 30 * kSecond;
  spec.warm_auto.season = 0;
  return spec;
}

}  // namespace

TEST_CASE("pool_controller: warm_standby auto sizes the warm pool from the rises it has seen") {
  Harness h(AutoSpec(), Sim(2, 1));
  // Flat at 20 for two minutes: no rise, the minimum of 1 standby.
  h.metrics.values["rps"] = std::vector<double>(8, 20.0);
  for (int i = 0; i < 8; ++i, h.clock.Advance(15 * kSecond)) {
    TickResult t = h.Tick();
    CHECK(t.decision.warm_standby == 1);
    CHECK(t.plan.provision.empty());
  }
  // Then the load jumps by 30 and back, twice: every 30 s window holds a rise of 30, so
  // (20 + 30) / 10 = 5 servers in all; with 2 active, 3 standbys.
  h.metrics.values["rps"] = {50, 20, 20, 50, 20, 20, 20};
  TickResult t;
  for (int i = 0; i < 7; ++i, h.clock.Advance(15 * kSecond)) t = h.Tick();
  CHECK(t.decision.desired == 2);
  CHECK(t.decision.warm_standby == 3);
  CHECK(Contains(t.decision.reason,
                 "warm standby 3 (auto: rps 20 + likely rise 30 within 30s needs 5 at 10 per "
                 "server, 2 active; rise: recent p95 30 over 1h"));
  int provisioning = 0;
  for (const Server& s : t.observed.servers) provisioning += s.state == ServerState::kProvisioning;
  CHECK(provisioning + static_cast<int>(t.plan.provision.size()) >= 2);  // on their way to 3 warm

  // The metric goes missing: the pool holds the last size and says so.
  h.metrics.values["rps"] = {kNaN};
  t = h.Tick();
  CHECK(t.decision.warm_standby == 3);
  CHECK(Contains(t.decision.reason, "warm standby 3 (auto: rps missing or stale, holding)"));
}

TEST_CASE("pool_controller: a fixed warm_standby is the decision's warm target") {
  Harness h(MakeSpec(2), Sim(2, 2));
  h.metrics.values["rps"] = {20};
  TickResult t = h.Tick();
  CHECK(t.decision.warm_standby == 2);
  CHECK(!Contains(t.decision.reason, "warm standby"));
}

TEST_CASE("pool_controller: warm_standby auto keeps the standbys it finds at start while it learns") {
  PoolSpec spec = AutoSpec();
  spec.warm_auto.min = 0;
  spec.warm_auto.recent = 5 * kMinute;
  Harness h(spec, Sim(2, 4));  // a restart: 4 standbys are there, the sizer has learned nothing
  h.metrics.values["rps"] = std::vector<double>(40, 20.0);
  TickResult t = h.Tick();
  CHECK(t.decision.warm_standby == 4);
  CHECK(t.plan.retire.empty());
  CHECK(Contains(t.decision.reason, "keeping the 4 standbys found at start while learning (until "));
  // A flat load teaches it that no rise comes: once `recent` has passed, the surplus is retired.
  size_t retired_while_learning = 0, retired_after = 0;
  for (int i = 0; i < 24; ++i) {
    h.clock.Advance(15 * kSecond);
    t = h.Tick();
    if (h.clock.Now() < kT0 + 5 * kMinute) {
      CHECK(t.decision.warm_standby == 4);
      retired_while_learning += t.plan.retire.size();
    } else {
      CHECK(t.decision.warm_standby == 0);
      retired_after += t.plan.retire.size();
    }
  }
  CHECK(retired_while_learning == 0);
  CHECK(retired_after == 4);
}
