// Unit tests for overload protection in the tick (PoolController + ShedDecider) with an in-test
// balancer: what is set and when, the operator's hand, dry-run, and a restart's first tick.
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "controller/runtime/pool_controller.h"
#include "tests/support/pool_controller_test_util.h"

using namespace warmpool;
using namespace warmpool::pc_test;

namespace {

class FakeShedder final : public Shedder {
 public:
  std::vector<ShedLimits> set;  // every SetLimits call
  std::vector<ClientRate> clients;
  Result<std::vector<ClientRate>> ClientRates() override { return clients; }
  Status SetLimits(const ShedLimits& limits) override {
    set.push_back(limits);
    return Status::Ok();
  }
};

PoolSpec ShedSpec3() {
  PoolSpec spec = MakeSpec(0);
  spec.min_active = 3;
  spec.max_active = 3;
  spec.overload.enabled = true;
  spec.overload.capacity = 10;  // the policy's target: 10 per server
  spec.overload.metric = "rps";
  spec.overload.release_after = 0;
  return spec;
}

FakeShedder* Attach(Harness* h) {
  auto s = std::make_unique<FakeShedder>();
  s->clients = {{"10.0.0.1", 20}, {"10.0.0.2", 2}};
  FakeShedder* raw = s.get();
  h->controller->SetShedder(std::move(s));
  return raw;
}

}  // namespace

TEST_CASE("PoolController: overload at max_active is limited, the hand overrides it, and the first tick lifts stale limits") {
  Harness h(ShedSpec3(), Sim(3, 0));
  FakeShedder* shedder = Attach(&h);
  h.metrics.values["rps"] = {20, 60, 60, 60, 60, 60, 5};

  TickResult t = h.Tick();  // 20 for 3 x 10: fine; the first tick still sets "no limit"
  CHECK_FALSE(t.shed.limits.active());
  REQUIRE(shedder->set.size() == 1);
  CHECK_FALSE(shedder->set[0].active());

  h.clock.Advance(15 * kSecond);
  t = h.Tick();  // 60 for 30 at max_active 3
  CHECK(t.shed.changed);
  CHECK(t.shed.limits.rate == 30);
  CHECK(t.shed.limits.client > 0);
  CHECK(t.shed.reason.find("at max_active 3 serving") != std::string::npos);
  REQUIRE(shedder->set.size() == 2);
  CHECK(shedder->set[1] == t.shed.limits);

  // The same limits next tick: not set again.
  h.clock.Advance(15 * kSecond);
  t = h.Tick();
  CHECK_FALSE(t.shed.changed);
  CHECK(shedder->set.size() == 2);

  // An operator turns it off, then sets limits by hand.
  PoolControls hand;
  hand.shed = ShedControl{true, 0, 0, h.clock.Now(), "hurts", "alice"};
  h.clock.Advance(15 * kSecond);
  t = h.controller->RunOnce(h.clock.Now(), hand);
  CHECK_FALSE(t.shed.limits.active());
  CHECK(t.shed.reason == "shed: off, by alice (hurts)");
  CHECK_FALSE(shedder->set.back().active());
  hand.shed = ShedControl{false, 25, 0, h.clock.Now(), "campaign", "bob"};
  h.clock.Advance(15 * kSecond);
  t = h.controller->RunOnce(h.clock.Now(), hand);
  CHECK(shedder->set.back() == ShedLimits{25, 0});
  CHECK(t.shed.reason.find("shed: set by bob to 25 req/s") != std::string::npos);

  // The hand lifted: the decided limits again; the load falls: lifted (release_after 0).
  h.clock.Advance(15 * kSecond);
  t = h.Tick();
  CHECK(t.shed.limits.rate == 30);
  h.clock.Advance(15 * kSecond);
  t = h.Tick();
  CHECK_FALSE(t.shed.limits.active());
  CHECK(t.shed.changed);
  CHECK_FALSE(shedder->set.back().active());
}

TEST_CASE("PoolController: in dry-run the limits are decided and reported, never set") {
  Harness h(ShedSpec3(), Sim(3, 0), /*force_dry_run=*/true);
  FakeShedder* shedder = Attach(&h);
  h.metrics.values["rps"] = {60};
  TickResult t = h.Tick();
  CHECK(t.shed.limits.rate == 30);
  CHECK(t.shed.changed);
  CHECK(shedder->set.empty());
}
