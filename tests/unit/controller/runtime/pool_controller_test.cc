// Unit tests for one pool's tick (controller/pool_controller.h) and the dry-run wrapper
// (controller/dry_run.h), on a manual clock, a simulated provider and an in-test metrics source.
// The central property: in dry-run (from the spec or forced), no path through a tick changes the
// pool, while the plan is exactly the one a live tick would make.
#include "controller/runtime/pool_controller.h"

#include <doctest/doctest.h>

#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "controller/runtime/dry_run.h"
#include "tests/support/pool_controller_test_util.h"

using namespace warmpool;
using namespace warmpool::pc_test;

namespace {

// The observable pool, one line per server, for before/after comparisons.
std::string Snapshot(SimulatedProvider& p) {
  Result<PoolState> s = p.Observe();
  if (!s.ok()) return "observe failed: " + s.status().ToString();
  std::string out;
  for (const Server& srv : s->servers) {
    out += srv.name + " " + StateName(srv.state) + " " + HealthName(srv.health) + " " +
           std::to_string(srv.since) + "\n";
  }
  return out;
}

int ActionCount(const ScalePlan& p) {
  return static_cast<int>(p.promote.size() + p.drain.size() + p.provision.size() + p.retire.size());
}

}  // namespace

TEST_CASE("PoolController: CreatePolicies builds target_tracking policies, and reports bad ones") {
  std::vector<std::string> errors;
  PoolSpec spec = MakeSpec(0, {"rps", "conn"});
  std::vector<std::unique_ptr<Policy>> policies = CreatePolicies(spec, &errors);
  CHECK(errors.empty());
  REQUIRE(policies.size() == 2);
  CHECK(policies[0]->Name() == "tt_rps");
  CHECK(policies[1]->Inputs().metrics == std::vector<std::string>{"conn"});

  spec.policies[1].params.values["colour"] = "blue";
  policies = CreatePolicies(spec, &errors);
  CHECK(policies.empty());  // all or nothing
  REQUIRE(errors.size() == 1);
  CHECK(errors[0] == "pools[0].policies[1].colour: unknown key");
}

TEST_CASE("PoolController: a tick scales up by promotion and refills the warm pool") {
  Harness h(MakeSpec(1), Sim(2, 1));  // web-1, web-2 active; web-3 standby
  h.metrics.values["rps"] = {30};     // 30 / 10 per server -> 3 active
  CHECK_FALSE(h.controller->dry_run());

  TickResult r = h.Tick();
  REQUIRE(r.status.ok());
  CHECK(r.metric_errors.empty());
  CHECK(r.observed.Count(ServerState::kActive) == 2);
  CHECK(r.decision.current == 2);
  CHECK(r.decision.desired == 3);
  CHECK(r.decision.direction == Direction::kUp);
  CHECK(r.decision.policy == "tt_rps");
  CAPTURE(r.decision.reason);
  CHECK(Contains(r.decision.reason, "rps"));
  CHECK(r.plan.promote == std::vector<std::string>{"web-3"});
  CHECK(r.plan.provision == std::vector<std::string>{"web-4"});
  CHECK(r.plan.drain.empty());
  CHECK(r.plan.retire.empty());
  CHECK(r.applied.ok());
  CHECK_FALSE(r.applied.dry_run);
  CHECK(r.applied.actions.size() == 2);

  CHECK(h.provider.mutations() == 2);
  CHECK(h.provider.Count(ServerState::kActive) == 3);
  CHECK(h.provider.Count(ServerState::kProvisioning) == 1);
  CHECK(h.provider.Serving() == 2);  // web-3 is behind its health gate

  // Once the delays pass, the pool is what was planned, and the next tick changes nothing.
  h.clock.Advance(90 * kSecond);
  r = h.Tick();
  REQUIRE(r.status.ok());
  CHECK(r.decision.desired == 3);
  CHECK(r.plan.empty());
  CHECK(r.plan.reason == "no change");
  CHECK(r.applied.actions.empty());
  CHECK(h.provider.Serving() == 3);
  CHECK(h.provider.Count(ServerState::kStandby) == 1);
  CHECK(h.provider.mutations() == 2);
}

TEST_CASE("PoolController: a scripted load goes up, holds, comes down, and the surplus is retired") {
  Harness h(MakeSpec(1), Sim(2, 1));
  h.metrics.values["rps"] = {30, 30, 5};  // the last value repeats

  TickResult r = h.Tick();  // up to 3
  CHECK(r.plan.promote == std::vector<std::string>{"web-3"});
  h.clock.Advance(90 * kSecond);
  r = h.Tick();  // steady
  CHECK(r.plan.empty());
  h.clock.Advance(15 * kSecond);
  r = h.Tick();  // down to 1: drain the most recently promoted (ties by name, last first)
  CHECK(r.decision.desired == 1);
  CHECK(r.decision.direction == Direction::kDown);
  CHECK(r.plan.drain == std::vector<std::string>{"web-3", "web-2"});
  CHECK(r.applied.ok());
  CHECK(h.provider.Count(ServerState::kActive) == 1);
  CHECK(h.provider.Count(ServerState::kStandby) == 3);  // drain delay 0: straight back to standby
  h.clock.Advance(15 * kSecond);
  r = h.Tick();  // the two freshly drained standbys are surplus
  CHECK(r.decision.desired == 1);
  CHECK(r.plan.retire == std::vector<std::string>{"web-3", "web-2"});
  CHECK(h.provider.Count(ServerState::kStandby) == 1);
  CHECK(h.provider.Count(ServerState::kActive) == 1);
}

TEST_CASE("PoolController: missing, failed, NaN or stale metrics never scale down") {
  struct Case {
    const char* name;
    std::vector<double> rps;  // empty: no sample at all
    bool source_error;
    DurationMs age;
    bool holds;  // false: the control cases that do scale down
  };
  const std::vector<Case> cases = {
      {"control: a fresh low metric scales down", {10}, false, 0, false},
      {"control: a sample exactly stale_after old is still fresh", {10}, false, 2 * kMinute, false},
      {"empty window", {}, false, 0, true},
      {"metrics source error", {10}, true, 0, true},
      {"NaN sample", {kNaN}, false, 0, true},
      {"infinite sample", {kInf}, false, 0, true},
      {"stale sample", {10}, false, 2 * kMinute + 1, true},
  };
  for (const Case& c : cases) {
    SUBCASE(c.name) {
      CAPTURE(std::string(c.name));
      Harness h(MakeSpec(1), Sim(4, 1));
      h.metrics.values["rps"] = c.rps;
      h.metrics.age = c.age;
      if (c.source_error) h.metrics.fail["rps"] = Status::Unavailable("prometheus down");
      const std::string before = Snapshot(h.provider);

      TickResult r = h.Tick();
      REQUIRE(r.status.ok());
      CAPTURE(r.decision.reason);
      CHECK(r.decision.current == 4);
      if (!c.holds) {
        CHECK(r.decision.desired == 1);
        CHECK(r.plan.drain.size() == 3);
        continue;
      }
      CHECK(r.decision.desired >= r.decision.current);
      CHECK(r.decision.desired == 4);
      CHECK(r.decision.direction == Direction::kNone);
      CHECK(Contains(r.decision.reason, "holding at 4"));
      CHECK(Contains(r.decision.reason, "rps missing or stale"));
      CHECK(r.plan.empty());
      CHECK(h.provider.mutations() == 0);
      CHECK(Snapshot(h.provider) == before);
      if (c.source_error) {
        CHECK(r.metric_errors == std::vector<std::string>{"rps: unavailable: prometheus down"});
      } else {
        CHECK(r.metric_errors.empty());
      }
    }
  }
}

TEST_CASE("PoolController: a present metric still scales up while another policy's metric is missing") {
  struct Case {
    const char* name;
    std::vector<double> rps;  // empty: missing
    bool rps_error;
    double conn;
    int want;
    const char* reason_has;
  };
  const std::vector<Case> cases = {
      {"rps missing, conn wants 6: up", {}, false, 60, 6, "also missing"},
      {"rps source error, conn wants 6: up", {}, true, 60, 6, "also missing"},
      {"rps NaN, conn wants 6: up", {kNaN}, false, 60, 6, "also missing"},
      {"rps missing, conn wants 1: hold", {}, false, 10, 4, "not scaling down while a metric is missing"},
      {"both present: the larger wins", {20}, false, 60, 6, "largest of 2 policies"},
      {"both present and low: down", {20}, false, 10, 2, "tt_rps"},
  };
  for (const Case& c : cases) {
    SUBCASE(c.name) {
      CAPTURE(std::string(c.name));
      Harness h(MakeSpec(1, {"rps", "conn"}), Sim(4, 1));  // web-5 is the standby
      h.metrics.values["rps"] = c.rps;
      h.metrics.values["conn"] = {c.conn};
      if (c.rps_error) h.metrics.fail["rps"] = Status::Unavailable("timeout");

      TickResult r = h.Tick();
      REQUIRE(r.status.ok());
      CAPTURE(r.decision.reason);
      CHECK(r.decision.desired == c.want);
      CHECK(Contains(r.decision.reason, c.reason_has));
      CHECK(r.decision.recommendations.size() == 2);
      CHECK(r.metric_errors.size() == (c.rps_error ? 1u : 0u));
      if (c.want == 6) {
        CHECK(r.decision.policy == "tt_conn");
        CHECK(r.plan.promote == std::vector<std::string>{"web-5"});
        CHECK(r.plan.provision.size() == 2);  // one short of actives + the warm standby
        CHECK(h.provider.Count(ServerState::kActive) == 5);
      } else if (c.want == 4) {
        CHECK(r.plan.empty());
        CHECK(h.provider.mutations() == 0);
      } else {
        CHECK(r.plan.drain.size() == 2);
      }
    }
  }
}

TEST_CASE("PoolController: like the HPA, a start without history records the current count first") {
  PoolSpec spec = MakeSpec(0);
  spec.behavior.scale_down.stabilization_window = 5 * kMinute;
  Harness h(spec, Sim(5, 0));
  h.metrics.values["rps"] = {20};  // 2 servers' worth
  TickResult r = h.Tick();
  CHECK(r.decision.current == 5);
  CHECK(r.decision.desired == 5);  // held: the current count is the window's first recommendation
  CAPTURE(r.decision.reason);
  CHECK(Contains(r.decision.reason, "scale-down stabilized to 5"));
  h.clock.Advance(4 * kMinute);
  CHECK(h.Tick().decision.desired == 5);
  h.clock.Advance(61 * kSecond);  // the start's record has left the window
  CHECK(h.Tick().decision.desired == 2);

  // A history restored after a downtime longer than the window counts as none.
  Harness later(spec, Sim(5, 0));
  later.metrics.values["rps"] = {20};
  BehaviorHistory old;
  old.recommendations.push_back({kT0 - 10 * kMinute, 2});
  later.controller->decider().set_behavior_history(old);
  CHECK(later.Tick().decision.desired == 5);
  // ... and one from just before a restart within the window is what it was.
  Harness restarted(spec, Sim(5, 0));
  restarted.metrics.values["rps"] = {20};
  BehaviorHistory recent;
  recent.recommendations.push_back({kT0 - kMinute, 2});
  restarted.controller->decider().set_behavior_history(recent);
  CHECK(restarted.Tick().decision.desired == 2);
}

TEST_CASE("PoolController: a scale-up whose promotions all failed spends no rate-limit budget") {
  PoolSpec spec = MakeSpec(0);
  spec.behavior.scale_up.limits = {RateLimit{RateLimit::Kind::kServers, 1, kMinute}};  // 1 a minute
  Harness h(spec, Sim(2, 3));
  h.metrics.values["rps"] = {50};  // 5 servers' worth
  h.provider.InjectFailure("promote", 1, Status::Unavailable("runtime API refused"));
  TickResult r = h.Tick();
  CHECK(r.decision.desired == 3);  // one server a minute
  CHECK_FALSE(r.applied.ok());
  CHECK(h.controller->decider().behavior_history().scale_ups.empty());  // taken back
  h.clock.Advance(15 * kSecond);
  r = h.Tick();  // within the same minute: the failed one spent nothing, so one more may go now
  CHECK(r.decision.desired == 3);
  CHECK(r.applied.ok());
  CHECK(h.controller->decider().behavior_history().scale_ups.size() == 1);
  h.clock.Advance(15 * kSecond);
  CHECK(h.Tick().decision.desired == 3);  // and now the minute's budget is spent
}

TEST_CASE("PoolController: a scale-up that could only provision spends the budget of what it promoted") {
  PoolSpec spec = MakeSpec(0);
  spec.behavior.scale_up.limits = {RateLimit{RateLimit::Kind::kServers, 4, kMinute}};  // 4 a minute
  Harness h(spec, Sim(2, 1));
  h.metrics.values["rps"] = {80};  // 8 servers' worth
  TickResult r = h.Tick();
  CHECK(r.decision.desired == 6);  // 2 + 4
  CHECK(r.plan.promote.size() == 1);  // the one standby; the other three are provisioned (90 s)
  CHECK(r.plan.provision.size() == 3);
  REQUIRE(h.controller->decider().behavior_history().scale_ups.size() == 1);
  CHECK(h.controller->decider().behavior_history().scale_ups.back().count == 1);
  h.clock.Advance(15 * kSecond);
  r = h.Tick();
  // 3 active now; 1 of the minute's 4 spent: up to 6 still. Charged with all 4, the pool would be held
  // at 3 and the servers provisioned for it retired as surplus.
  CAPTURE(r.decision.reason);
  CHECK(r.decision.desired == 6);
  CHECK(r.plan.retire.empty());
}

TEST_CASE("PoolController: when the pool cannot be observed, nothing is decided or applied") {
  Harness h(MakeSpec(1), Sim(2, 1));
  h.metrics.values["rps"] = {30};
  const std::string before = Snapshot(h.provider);
  h.provider.InjectFailure("observe", 1, Status::Unavailable("balancer down"));

  TickResult r = h.Tick();
  CHECK_FALSE(r.status.ok());
  CHECK(r.status.code() == Status::Code::kUnavailable);
  CHECK(Contains(r.decision.reason, "balancer down"));
  CHECK(r.plan.empty());
  CHECK(r.applied.actions.empty());
  CHECK(h.metrics.fetches == 0);
  CHECK(h.provider.mutations() == 0);
  CHECK(Snapshot(h.provider) == before);

  // The next tick observes again and acts.
  h.clock.Advance(15 * kSecond);
  r = h.Tick();
  CHECK(r.status.ok());
  CHECK(r.plan.promote == std::vector<std::string>{"web-3"});
  CHECK(h.provider.mutations() == 2);
}

TEST_CASE("PoolController: provider action failures are reported, not fatal") {
  Harness h(MakeSpec(1), Sim(2, 1));
  h.metrics.values["rps"] = {30};
  h.provider.InjectFailure("provision", 1, Status::Unavailable("quota"));
  TickResult r = h.Tick();
  CHECK(r.status.ok());  // the pool was observed and decided; one action failed
  CHECK_FALSE(r.applied.ok());
  CHECK(Contains(r.applied.Summary(), "quota"));
  CHECK(h.provider.mutations() == 1);  // the promotion went through
  h.clock.Advance(15 * kSecond);
  r = h.Tick();  // level-triggered: the missing standby is provisioned again
  CHECK(r.plan.provision == std::vector<std::string>{"web-4"});
  CHECK(r.applied.ok());
}

TEST_CASE("PoolController: scaling down with an empty warm pool keeps a ready standby") {
  // 4 active, no standby, warm_standby 1; the load halves. Two servers drain straight back to ready
  // standbys (drain delay 0), so once the pool settles one of them should still be warm, not retired
  // in favour of a server that needs the 90 s provisioning delay.
  Harness h(MakeSpec(1), Sim(4, 0));
  h.metrics.values["rps"] = {20};
  TickResult r = h.Tick();
  CHECK(r.plan.drain == std::vector<std::string>{"web-4", "web-3"});
  h.clock.Advance(15 * kSecond);
  r = h.Tick();
  CAPTURE(r.plan.Summary());
  CAPTURE(Snapshot(h.provider));
  CHECK(h.provider.Count(ServerState::kActive) == 2);
  CHECK(h.provider.Count(ServerState::kStandby) >= 1);
}

// THE DRY-RUN PROPERTY. Every path through a tick, run live and then in dry-run two ways (the spec's
// flag, and force_dry_run): dry-run never mutates the provider or changes the observed pool, and
// plans exactly what the live tick planned.
TEST_CASE("PoolController: dry-run never changes the pool, on every path") {
  struct Path {
    const char* name;
    SimulatedSpec sim;
    int warm_standby;
    std::vector<double> rps;             // empty: the metric is missing
    std::vector<std::string> unhealthy;  // standbys broken before the tick
    std::vector<std::string> fail;       // kinds that fail once (injected after the snapshot)
    bool plan_expected;                  // the live tick plans something
    bool observe_ok;
  };
  const std::vector<Path> paths = {
      {"scale up: promote + provision", Sim(2, 1), 1, {30}, {}, {}, true, true},
      {"scale up beyond the standbys: provision ahead", Sim(2, 0), 1, {50}, {}, {}, true, true},
      {"scale down: drain", Sim(4, 1), 1, {20}, {}, {}, true, true},
      {"retire surplus standbys", Sim(2, 3), 1, {20}, {}, {}, true, true},
      {"retire and replace an unhealthy standby", Sim(2, 1), 1, {20}, {"web-3"}, {}, true, true},
      {"provider action failures injected",
       Sim(4, 2),
       1,
       {50},
       {"web-6"},
       {"promote", "provision", "drain", "retire"},
       true,
       true},
      {"observe failure", Sim(2, 1), 1, {30}, {}, {"observe"}, false, false},
      {"missing metrics (holds, still refills the warm pool)", Sim(2, 0), 1, {}, {}, {}, true, true},
      {"steady: nothing to do", Sim(2, 1), 1, {20}, {}, {}, false, true},
  };
  struct Mode {
    const char* name;
    bool spec_dry_run;
    bool force_dry_run;
  };
  const Mode dry_modes[] = {{"spec.dry_run", true, false}, {"force_dry_run", false, true}};

  for (const Path& path : paths) {
    SUBCASE(path.name) {
      CAPTURE(std::string(path.name));
      auto prepare = [&](Harness& h) {
        h.metrics.values["rps"] = path.rps;
        for (const std::string& s : path.unhealthy) REQUIRE(h.provider.SetHealth(s, Health::kUnhealthy));
      };
      auto inject = [&](Harness& h) {
        for (const std::string& kind : path.fail) {
          h.provider.InjectFailure(kind, 1, Status::Unavailable("injected " + kind));
        }
      };

      // Live, for reference.
      PoolSpec live_spec = MakeSpec(path.warm_standby);
      Harness live(live_spec, path.sim);
      prepare(live);
      const std::string live_before = Snapshot(live.provider);
      inject(live);
      const TickResult want = live.Tick();
      CHECK(want.status.ok() == path.observe_ok);
      CHECK(want.plan.empty() == !path.plan_expected);
      CHECK_FALSE(want.applied.dry_run);
      if (path.plan_expected) {
        CHECK(want.applied.actions.size() == static_cast<size_t>(ActionCount(want.plan)));
        if (path.fail.empty()) {
          CHECK(live.provider.mutations() == ActionCount(want.plan));
          CHECK(Snapshot(live.provider) != live_before);  // the path really changes a live pool
        } else {
          CHECK_FALSE(want.applied.ok());
        }
      }

      for (const Mode& mode : dry_modes) {
        CAPTURE(std::string(mode.name));
        PoolSpec spec = MakeSpec(path.warm_standby);
        spec.dry_run = mode.spec_dry_run;
        Harness h(spec, path.sim, mode.force_dry_run);
        CHECK(h.controller->dry_run());
        prepare(h);
        const std::string before = Snapshot(h.provider);
        CHECK(before == live_before);
        inject(h);

        const TickResult got = h.Tick();
        CHECK(h.provider.mutations() == 0);
        CHECK(Snapshot(h.provider) == before);
        CHECK(got.status.ok() == path.observe_ok);
        CHECK(got.applied.dry_run);
        // The same decide/plan code: the dry-run plan is the live plan.
        CHECK(got.decision.desired == want.decision.desired);
        CHECK(got.plan.promote == want.plan.promote);
        CHECK(got.plan.drain == want.plan.drain);
        CHECK(got.plan.provision == want.plan.provision);
        CHECK(got.plan.retire == want.plan.retire);
        CHECK(got.plan.reason == want.plan.reason);
        CHECK(got.plan.empty() == !path.plan_expected);
        // Every planned action is reported as recorded, not failed.
        CHECK(got.applied.actions.size() == static_cast<size_t>(ActionCount(got.plan)));
        CHECK(got.applied.ok());

        // A dry-run pool stays put tick after tick; the plan repeats.
        h.clock.Advance(15 * kSecond);
        const TickResult again = h.Tick();
        CHECK(h.provider.mutations() == 0);
        CHECK(Snapshot(h.provider) == before);
        CHECK(again.applied.dry_run);
        if (path.observe_ok) CHECK(again.plan.Summary() == got.plan.Summary());
      }
    }
  }
}

TEST_CASE("DryRunProvider: observes the inner pool, records plans, applies nothing") {
  ManualClock clock(kT0);
  SimulatedProvider inner("web", Sim(2, 1), &clock);
  DryRunProvider dry(&inner);
  Result<PoolState> observed = dry.Observe();
  REQUIRE(observed.ok());
  CHECK(observed->servers.size() == 3);

  ScalePlan plan;
  plan.promote = {"web-3"};
  plan.drain = {"web-1"};
  plan.provision = {"web-4"};
  plan.retire = {"web-2"};  // active: the real provider would refuse; dry-run records it anyway
  ApplyResult r = dry.Apply(plan);
  CHECK(r.dry_run);
  CHECK(r.ok());
  REQUIRE(r.actions.size() == 4);
  CHECK(r.actions[0].kind == "promote");
  CHECK(r.actions[1].kind == "provision");
  CHECK(r.actions[2].kind == "drain");
  CHECK(r.actions[3].kind == "retire");
  CHECK(Contains(r.Summary(), "dry-run"));
  CHECK(inner.mutations() == 0);
  CHECK(inner.Count(ServerState::kActive) == 2);
  REQUIRE(dry.recorded().size() == 1);
  CHECK(dry.recorded()[0].Summary() == plan.Summary());

  for (int i = 0; i < 150; ++i) dry.Apply(plan);
  CHECK(dry.recorded().size() == 100);  // bounded
  CHECK(inner.mutations() == 0);
}
