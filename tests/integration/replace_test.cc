// Sick servers are replaced, not counted (health:), against a real HAProxy 2.6 and real backends on
// 127.0.0.1: a backend that dies while active goes DOWN at the balancer; after `grace` a standby is
// promoted in its place, and the dead one is drained and retired, never promoted again. When most of
// the pool dies at once, the breaker keeps every server and says why.
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "controller/runtime/pool_controller.h"
#include "tests/support/harness.h"
#include "tests/support/haproxy_test_util.h"

using namespace warmpool;
using namespace warmpool::testing;
using namespace std::chrono_literals;

namespace {

// Pool "web" at a fixed load, one warm standby, with health: grace 2s.
PoolSpec HealthPool() {
  PoolSpec spec = RpsPool(/*min_active=*/1, /*max_active=*/4, /*warm_standby=*/1);
  spec.health.enabled = true;
  spec.health.grace = 2 * kSecond;
  return spec;
}

}  // namespace

TEST_CASE("replace: a backend that dies while active is replaced after grace, and never promoted again") {
  auto a = std::make_unique<Backend>("a"), b = std::make_unique<Backend>("b"), c = std::make_unique<Backend>("c");
  const int port = PickFreePort();
  auto h = StartHAProxy(Cfg(port, {"a " + a->address() + " " + kCheck, "b " + b->address() + " " + kCheck,
                                   "c " + c->address() + " " + kCheck + " disabled"}));
  REQUIRE(h);
  SystemClock clock;
  auto provider = MakeProvider(h->socket_path, &clock);
  FixedMetrics metrics(20);
  PoolSpec spec = HealthPool();
  std::vector<std::string> errors;
  PoolController pool(spec, CreatePolicies(spec, &errors), provider.get(), &metrics);
  REQUIRE(errors.empty());
  REQUIRE(WaitFor([&] { return pool.RunOnce(clock.Now()).observed.CountHealthy(ServerState::kActive) == 2; }, 10s));

  b.reset();  // the machine dies: its port closes, HAProxy's checks fail
  std::string reason, started;
  TimeMs down_seen = 0, replaced_at = 0;
  for (int i = 0; i < 80 && replaced_at == 0; ++i) {
    std::this_thread::sleep_for(100ms);
    const TickResult t = pool.RunOnce(clock.Now());
    const Server* sb = t.observed.Find("b");
    if (down_seen == 0 && sb && sb->health == Health::kUnhealthy) down_seen = clock.Now();
    if (!t.decision.replacements_started.empty()) {
      replaced_at = clock.Now();
      started = t.decision.replacements_started[0];
      reason = t.decision.reason;
      INFO(t.plan.Summary() << " / " << t.plan.reason << " / " << t.applied.Summary());
      CHECK(t.plan.promote == std::vector<std::string>{"c"});
      CHECK(t.plan.drain == std::vector<std::string>{"b"});
      for (const ApplyResult::Action& act : t.applied.actions) {
        if (act.kind != "provision") CHECK(act.status.ok());  // no inventory here to provision a standby into
      }
    }
  }
  REQUIRE(down_seen > 0);
  REQUIRE(replaced_at > 0);
  INFO(reason);
  CHECK(started.rfind("replace b: DOWN for ", 0) == 0);
  CHECK(started.find("(grace 2s)") != std::string::npos);
  CHECK(reason.find(started) != std::string::npos);
  // Not before grace: HAProxy counts the time since a server's last change in whole seconds (from its
  // first failed check), so grace holds to within a second.
  CHECK(replaced_at - down_seen >= 1000);

  // c serves in b's place; b is drained, then retired (cold). Without exec, b's slot may come back as
  // the warm standby (provisioning a haproxy.cfg server only takes it out of retirement), but it is not
  // put in service again while the load stays.
  std::string last;
  bool retired = false;
  INFO("last tick: " << last);
  REQUIRE(WaitFor(
      [&] {
        const TickResult t = pool.RunOnce(clock.Now());
        const Server* sb = t.observed.Find("b");
        retired = retired || (sb && sb->state == ServerState::kCold);
        last = t.plan.Summary() + " / " + t.decision.reason + " / b " + (sb ? StateName(sb->state) : "-") + " / " +
               std::to_string(t.observed.CountHealthy(ServerState::kActive)) + " healthy / " + t.applied.Summary();
        return t.observed.CountHealthy(ServerState::kActive) == 2 && retired && t.decision.replacing.empty();
      },
      10s));
  CHECK_FALSE(Row(*h, "c")->InMaintenance());
  CHECK(Row(*h, "b")->InMaintenance());
  for (int i = 0; i < 5; ++i) {
    const TickResult t = pool.RunOnce(clock.Now());
    CHECK(t.observed.Find("b")->state != ServerState::kActive);
    CHECK(t.observed.CountHealthy(ServerState::kActive) == 2);
  }
}

TEST_CASE("replace: when most of the pool dies at once, the breaker keeps every server and says why") {
  auto a = std::make_unique<Backend>("a"), b = std::make_unique<Backend>("b"), c = std::make_unique<Backend>("c");
  auto d = std::make_unique<Backend>("d");
  const int port = PickFreePort();
  auto h = StartHAProxy(Cfg(port, {"a " + a->address() + " " + kCheck, "b " + b->address() + " " + kCheck,
                                   "c " + c->address() + " " + kCheck, "d " + d->address() + " " + kCheck + " disabled"}));
  REQUIRE(h);
  SystemClock clock;
  auto provider = MakeProvider(h->socket_path, &clock);
  FixedMetrics metrics(30);
  PoolSpec spec = HealthPool();
  std::vector<std::string> errors;
  PoolController pool(spec, CreatePolicies(spec, &errors), provider.get(), &metrics);
  REQUIRE(WaitFor([&] { return pool.RunOnce(clock.Now()).observed.CountHealthy(ServerState::kActive) == 3; }, 10s));

  a.reset();  // a bad build everywhere: two of three die
  b.reset();
  bool open = false;
  for (int i = 0; i < 60 && !open; ++i) {
    std::this_thread::sleep_for(100ms);
    const TickResult t = pool.RunOnce(clock.Now());
    CHECK(t.decision.replacements_started.empty());
    CHECK(t.plan.drain.empty());
    open = t.decision.replacement_breaker_open;
    if (open) {
      CHECK(t.decision.reason.find("replacement breaker open: 2 of 3 active servers sick (more than 50%), replacing none") !=
            std::string::npos);
    }
  }
  CHECK(open);
  CHECK_FALSE(Row(*h, "a")->InMaintenance());  // kept
  CHECK_FALSE(Row(*h, "b")->InMaintenance());
}
