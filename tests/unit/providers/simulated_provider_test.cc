// Unit tests for the simulated provider (providers/simulated/simulated_provider.h): the lifecycle
// delays on a manual clock, idempotence, errors, injected failures, and its registry factory.
#include "providers/simulated/simulated_provider.h"

#include <doctest/doctest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "providers/registry.h"
#include "warmpool/clock.h"

using namespace warmpool;

namespace {

constexpr TimeMs kT0 = 1'000'000'000;

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

bool StartsWith(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

SimulatedSpec Sim(int active, int standby) {
  SimulatedSpec spec;
  spec.capacity_per_server = 100;
  spec.promotion_delay = 2 * kSecond;
  spec.provisioning_delay = 90 * kSecond;
  spec.drain_delay = 5 * kSecond;
  spec.initial_active = active;
  spec.initial_standby = standby;
  return spec;
}

// The one server `name` as observed now; fails the test if it is absent.
Server Get(SimulatedProvider& p, const std::string& name) {
  Result<PoolState> state = p.Observe();
  REQUIRE(state.ok());
  const Server* s = state->Find(name);
  REQUIRE_MESSAGE(s != nullptr, "no server " << name);
  return *s;
}

ScalePlan PromotePlan(std::vector<std::string> names) {
  ScalePlan plan;
  plan.promote = std::move(names);
  return plan;
}
ScalePlan DrainPlan(std::vector<std::string> names) {
  ScalePlan plan;
  plan.drain = std::move(names);
  return plan;
}
ScalePlan ProvisionPlan(std::vector<std::string> names) {
  ScalePlan plan;
  plan.provision = std::move(names);
  return plan;
}
ScalePlan RetirePlan(std::vector<std::string> names) {
  ScalePlan plan;
  plan.retire = std::move(names);
  return plan;
}

// Applies a one-action plan and returns that action's status.
Status ApplyOne(SimulatedProvider& p, const ScalePlan& plan) {
  ApplyResult r = p.Apply(plan);
  REQUIRE(r.actions.size() == 1);
  CHECK_FALSE(r.dry_run);
  return r.actions[0].status;
}

}  // namespace

TEST_CASE("SimulatedProvider: initial servers are healthy, named <pool>-N, actives first") {
  ManualClock clock(kT0);
  SimulatedProvider p("web", Sim(2, 1), &clock);
  Result<PoolState> state = p.Observe();
  REQUIRE(state.ok());
  CHECK(state->pool == "web");
  CHECK(state->observed_at == kT0);
  REQUIRE(state->servers.size() == 3);
  for (const char* name : {"web-1", "web-2"}) {
    const Server* s = state->Find(name);
    REQUIRE(s != nullptr);
    CHECK(s->state == ServerState::kActive);
    CHECK(s->health == Health::kHealthy);
    CHECK(s->since == kT0);
    CHECK_FALSE(s->address.empty());
  }
  const Server* s = state->Find("web-3");
  REQUIRE(s != nullptr);
  CHECK(s->state == ServerState::kStandby);
  CHECK(s->health == Health::kHealthy);
  CHECK(p.Count(ServerState::kActive) == 2);
  CHECK(p.Count(ServerState::kStandby) == 1);
  CHECK(p.Serving() == 2);
  CHECK(p.Capacity() == doctest::Approx(200));
  CHECK(p.NextTransitionAfter(kT0) == SimulatedProvider::kNever);
  CHECK(p.mutations() == 0);
}

TEST_CASE("SimulatedProvider: provisioning becomes a healthy standby exactly at the delay") {
  ManualClock clock(kT0);
  SimulatedProvider p("web", Sim(1, 0), &clock);
  REQUIRE(ApplyOne(p, ProvisionPlan({"web-9"})).ok());
  CHECK(p.mutations() == 1);

  Server s = Get(p, "web-9");
  CHECK(s.state == ServerState::kProvisioning);
  CHECK(s.health == Health::kUnknown);
  CHECK(s.since == kT0);
  CHECK(p.NextTransitionAfter(kT0) == kT0 + 90 * kSecond);

  clock.Advance(90 * kSecond - 1);
  s = Get(p, "web-9");
  CHECK(s.state == ServerState::kProvisioning);
  CHECK(p.Count(ServerState::kStandby) == 0);

  clock.Advance(1);
  s = Get(p, "web-9");
  CHECK(s.state == ServerState::kStandby);
  CHECK(s.health == Health::kHealthy);
  CHECK(s.since == kT0 + 90 * kSecond);
  CHECK(p.NextTransitionAfter(clock.Now()) == SimulatedProvider::kNever);
  CHECK(p.Serving() == 1);  // a standby does not serve
}

TEST_CASE("SimulatedProvider: a zero provisioning delay completes at once") {
  ManualClock clock(kT0);
  SimulatedSpec spec = Sim(0, 0);
  spec.provisioning_delay = 0;
  SimulatedProvider p("web", spec, &clock);
  REQUIRE(ApplyOne(p, ProvisionPlan({"web-1"})).ok());
  Server s = Get(p, "web-1");
  CHECK(s.state == ServerState::kStandby);
  CHECK(s.health == Health::kHealthy);
}

TEST_CASE("SimulatedProvider: a promoted server is active but not serving until the delay passes") {
  ManualClock clock(kT0);
  SimulatedProvider p("web", Sim(1, 1), &clock);  // web-1 active, web-2 standby
  CHECK(p.Capacity() == doctest::Approx(100));
  clock.Advance(10 * kSecond);
  const TimeMs promoted_at = clock.Now();
  REQUIRE(ApplyOne(p, PromotePlan({"web-2"})).ok());

  Server s = Get(p, "web-2");
  CHECK(s.state == ServerState::kActive);
  CHECK(s.health == Health::kUnknown);
  CHECK_FALSE(s.Serving());
  CHECK(s.since == promoted_at);
  CHECK(p.Count(ServerState::kActive) == 2);
  CHECK(p.Serving() == 1);
  CHECK(p.Capacity() == doctest::Approx(100));
  CHECK(p.NextTransitionAfter(promoted_at) == promoted_at + 2 * kSecond);

  clock.Advance(2 * kSecond - 1);
  CHECK(Get(p, "web-2").health == Health::kUnknown);
  CHECK(p.Capacity() == doctest::Approx(100));

  clock.Advance(1);
  s = Get(p, "web-2");
  CHECK(s.health == Health::kHealthy);
  CHECK(s.Serving());
  CHECK(s.since == promoted_at);  // still active since the promotion
  CHECK(p.Serving() == 2);
  CHECK(p.Capacity() == doctest::Approx(200));
}

TEST_CASE("SimulatedProvider: a drained server returns to standby after the drain delay") {
  ManualClock clock(kT0);
  SimulatedProvider p("web", Sim(2, 0), &clock);
  REQUIRE(ApplyOne(p, DrainPlan({"web-2"})).ok());

  Server s = Get(p, "web-2");
  CHECK(s.state == ServerState::kDraining);
  CHECK(s.since == kT0);
  CHECK_FALSE(s.Serving());
  CHECK(p.Capacity() == doctest::Approx(100));
  CHECK(p.NextTransitionAfter(kT0) == kT0 + 5 * kSecond);

  clock.Advance(5 * kSecond - 1);
  CHECK(Get(p, "web-2").state == ServerState::kDraining);

  clock.Advance(1);
  s = Get(p, "web-2");
  CHECK(s.state == ServerState::kStandby);
  CHECK(s.health == Health::kHealthy);
  CHECK(s.since == kT0 + 5 * kSecond);
  CHECK(p.Count(ServerState::kStandby) == 1);
  CHECK(p.Count(ServerState::kActive) == 1);
}

TEST_CASE("SimulatedProvider: retire removes a standby, a draining or a provisioning server") {
  ManualClock clock(kT0);
  SimulatedProvider p("web", Sim(2, 1), &clock);  // web-1, web-2 active; web-3 standby
  REQUIRE(ApplyOne(p, DrainPlan({"web-2"})).ok());
  REQUIRE(ApplyOne(p, ProvisionPlan({"web-4"})).ok());
  ScalePlan plan = RetirePlan({"web-3", "web-2", "web-4"});
  ApplyResult r = p.Apply(plan);
  CHECK(r.ok());
  Result<PoolState> state = p.Observe();
  REQUIRE(state.ok());
  REQUIRE(state->servers.size() == 1);
  CHECK(state->servers[0].name == "web-1");
  CHECK(p.Count(ServerState::kStandby) == 0);
  CHECK(p.Count(ServerState::kDraining) == 0);
  CHECK(p.Count(ServerState::kProvisioning) == 0);
  CHECK(p.NextTransitionAfter(kT0) == SimulatedProvider::kNever);
  CHECK(p.mutations() == 5);
}

TEST_CASE("SimulatedProvider: NextTransitionAfter is the earliest pending transition strictly after t") {
  ManualClock clock(kT0);
  SimulatedProvider p("web", Sim(1, 1), &clock);
  ScalePlan plan;
  plan.promote = {"web-2"};    // due kT0 + 2s
  plan.provision = {"web-3"};  // due kT0 + 90s
  plan.drain = {"web-1"};      // due kT0 + 5s
  REQUIRE(p.Apply(plan).ok());
  CHECK(p.NextTransitionAfter(kT0) == kT0 + 2 * kSecond);
  CHECK(p.NextTransitionAfter(kT0 + 2 * kSecond) == kT0 + 5 * kSecond);  // strictly after
  CHECK(p.NextTransitionAfter(kT0 + 5 * kSecond) == kT0 + 90 * kSecond);
  CHECK(p.NextTransitionAfter(kT0 + 90 * kSecond) == SimulatedProvider::kNever);

  p.AdvanceTo(kT0 + 5 * kSecond);  // the promotion and the drain complete
  CHECK(p.NextTransitionAfter(kT0) == kT0 + 90 * kSecond);
  CHECK(p.Serving() == 1);
  CHECK(p.Count(ServerState::kStandby) == 1);
  p.AdvanceTo(kT0 + 90 * kSecond);
  CHECK(p.NextTransitionAfter(kT0) == SimulatedProvider::kNever);
  CHECK(p.Count(ServerState::kStandby) == 2);
}

TEST_CASE("SimulatedProvider: promote and drain are idempotent") {
  ManualClock clock(kT0);
  SimulatedProvider p("web", Sim(1, 1), &clock);
  REQUIRE(ApplyOne(p, PromotePlan({"web-2"})).ok());
  clock.Advance(kSecond);
  CHECK(ApplyOne(p, PromotePlan({"web-2"})).ok());
  Server s = Get(p, "web-2");
  CHECK(s.state == ServerState::kActive);
  CHECK(s.since == kT0);  // the second promote changed nothing
  CHECK(p.NextTransitionAfter(clock.Now()) == kT0 + 2 * kSecond);

  REQUIRE(ApplyOne(p, DrainPlan({"web-1"})).ok());
  const TimeMs drained_at = clock.Now();
  clock.Advance(kSecond);
  CHECK(ApplyOne(p, DrainPlan({"web-1"})).ok());
  s = Get(p, "web-1");
  CHECK(s.state == ServerState::kDraining);
  CHECK(s.since == drained_at);
  CHECK(p.NextTransitionAfter(clock.Now()) == drained_at + 5 * kSecond);
}

TEST_CASE("SimulatedProvider: actions refused by the state of the world") {
  ManualClock clock(kT0);
  SimulatedProvider p("web", Sim(1, 1), &clock);  // web-1 active, web-2 standby
  REQUIRE(ApplyOne(p, ProvisionPlan({"web-3"})).ok());
  const int before = p.mutations();

  SUBCASE("promote a provisioning server: FailedPrecondition naming it") {
    Status st = ApplyOne(p, PromotePlan({"web-3"}));
    CHECK(st.code() == Status::Code::kFailedPrecondition);
    CHECK(Contains(st.message(), "web-3"));
    CHECK(Contains(st.message(), "provisioning"));
    CHECK(Get(p, "web-3").state == ServerState::kProvisioning);
  }
  SUBCASE("promote, drain or retire an unknown server: NotFound naming it") {
    for (const ScalePlan& plan : {PromotePlan({"nope"}), DrainPlan({"nope"}), RetirePlan({"nope"})}) {
      Status st = ApplyOne(p, plan);
      CHECK(st.code() == Status::Code::kNotFound);
      CHECK(Contains(st.message(), "nope"));
    }
  }
  SUBCASE("retire an active server: refused, it stays active") {
    Status st = ApplyOne(p, RetirePlan({"web-1"}));
    CHECK(st.code() == Status::Code::kFailedPrecondition);
    CHECK(Contains(st.message(), "web-1"));
    CHECK(Get(p, "web-1").state == ServerState::kActive);
  }
  SUBCASE("drain a standby: refused") {
    Status st = ApplyOne(p, DrainPlan({"web-2"}));
    CHECK(st.code() == Status::Code::kFailedPrecondition);
    CHECK(Get(p, "web-2").state == ServerState::kStandby);
  }
  SUBCASE("provision a name that already exists: refused") {
    Status st = ApplyOne(p, ProvisionPlan({"web-2"}));
    CHECK(st.code() == Status::Code::kFailedPrecondition);
    CHECK(Contains(st.message(), "web-2"));
    CHECK(Get(p, "web-2").state == ServerState::kStandby);
  }
  CHECK(p.mutations() == before);
}

TEST_CASE("SimulatedProvider: InjectFailure fails the next N actions of one kind, then they work") {
  struct Case {
    const char* kind;
    ScalePlan plan;  // one action of `kind` (unused for "observe")
  };
  const std::vector<Case> cases = {
      {"promote", PromotePlan({"web-2"})},
      {"drain", DrainPlan({"web-1"})},
      {"provision", ProvisionPlan({"web-9"})},
      {"retire", RetirePlan({"web-2"})},
      {"observe", ScalePlan{}},
  };
  for (const Case& c : cases) {
    SUBCASE(c.kind) {
      CAPTURE(std::string(c.kind));
      ManualClock clock(kT0);
      SimulatedProvider p("web", Sim(1, 1), &clock);  // web-1 active, web-2 standby
      const Result<PoolState> before = p.Observe();
      REQUIRE(before.ok());
      p.InjectFailure(c.kind, 2, Status::Unavailable("injected " + std::string(c.kind)));

      if (std::string(c.kind) == "observe") {
        for (int i = 0; i < 2; ++i) {
          Result<PoolState> r = p.Observe();
          REQUIRE_FALSE(r.ok());
          CHECK(r.status().code() == Status::Code::kUnavailable);
          CHECK(r.status().message() == "injected observe");
        }
        CHECK(p.Observe().ok());
        CHECK(p.Observe().ok());
        // Actions were never affected.
        CHECK(ApplyOne(p, PromotePlan({"web-2"})).ok());
        continue;
      }
      // Other kinds are unaffected.
      CHECK(p.Observe().ok());
      for (int i = 0; i < 2; ++i) {
        Status st = ApplyOne(p, c.plan);
        CHECK(st.code() == Status::Code::kUnavailable);
        CHECK(st.message() == "injected " + std::string(c.kind));
      }
      CHECK(p.mutations() == 0);
      const Result<PoolState> after = p.Observe();
      REQUIRE(after.ok());
      REQUIRE(after->servers.size() == before->servers.size());
      for (size_t i = 0; i < after->servers.size(); ++i) {
        CHECK(after->servers[i].name == before->servers[i].name);
        CHECK(after->servers[i].state == before->servers[i].state);
      }
      CHECK(ApplyOne(p, c.plan).ok());  // the count ran out
      CHECK(p.mutations() == 1);
    }
  }
}

TEST_CASE("SimulatedProvider: SetHealth breaks a standby, which then cannot be promoted") {
  ManualClock clock(kT0);
  SimulatedProvider p("web", Sim(1, 1), &clock);
  CHECK(p.SetHealth("web-2", Health::kUnhealthy));
  CHECK(Get(p, "web-2").health == Health::kUnhealthy);
  Status st = ApplyOne(p, PromotePlan({"web-2"}));
  CHECK(st.code() == Status::Code::kFailedPrecondition);
  CHECK(Contains(st.message(), "web-2"));
  CHECK(Contains(st.message(), "unhealthy"));
  CHECK(Get(p, "web-2").state == ServerState::kStandby);

  CHECK(p.SetHealth("web-1", Health::kUnhealthy));  // an active that broke stops serving
  CHECK(p.Serving() == 0);
  CHECK(p.Capacity() == doctest::Approx(0));
  CHECK(p.SetHealth("web-1", Health::kHealthy));
  CHECK(p.Serving() == 1);

  CHECK_FALSE(p.SetHealth("nope", Health::kHealthy));
  CHECK(p.mutations() == 0);  // SetHealth is the test's hand, not an Apply action
}

TEST_CASE("SimulatedProvider: an active that breaks during its promotion gate stays unhealthy") {
  ManualClock clock(kT0);
  SimulatedProvider p("web", Sim(0, 1), &clock);
  REQUIRE(ApplyOne(p, PromotePlan({"web-1"})).ok());
  CHECK(p.SetHealth("web-1", Health::kUnhealthy));
  clock.Advance(2 * kSecond);
  CHECK(Get(p, "web-1").health == Health::kUnhealthy);
  CHECK(p.Serving() == 0);
}

TEST_CASE("SimulatedProvider: mutations() counts only the successful Apply actions") {
  ManualClock clock(kT0);
  SimulatedProvider p("web", Sim(2, 1), &clock);  // web-1, web-2 active; web-3 standby
  p.InjectFailure("provision", 1, Status::Unavailable("cloud quota"));
  ScalePlan plan;
  plan.promote = {"web-3", "ghost"};    // ok, NotFound
  plan.provision = {"web-8", "web-9"};  // injected failure, ok
  plan.drain = {"web-1"};               // ok
  plan.retire = {"web-2"};              // active: refused
  ApplyResult r = p.Apply(plan);
  CHECK_FALSE(r.ok());
  CHECK_FALSE(r.dry_run);
  REQUIRE(r.actions.size() == 6);
  int ok = 0;
  for (const auto& a : r.actions) ok += a.status.ok();
  CHECK(ok == 3);
  CHECK(p.mutations() == 3);
  CHECK(Contains(r.Summary(), "3 ok"));
  CHECK(Contains(r.Summary(), "ghost"));
  CHECK(Contains(r.Summary(), "cloud quota"));

  // Capacity first: promotions, then provisioning, then drains, then retirements.
  CHECK(r.actions[0].kind == "promote");
  CHECK(r.actions[2].kind == "provision");
  CHECK(r.actions[4].kind == "drain");
  CHECK(r.actions[5].kind == "retire");
  CHECK(r.actions[2].server == "web-8");
  CHECK(r.actions[2].status.code() == Status::Code::kUnavailable);
  CHECK(r.actions[3].status.ok());

  CHECK(p.Apply(ScalePlan{}).actions.empty());
  CHECK(p.mutations() == 3);
}

TEST_CASE("NewSimulatedProvider / CreateProvider(\"simulated\"): params and path-named errors") {
  ManualClock clock(kT0);
  auto params = [](std::map<std::string, std::string> values) {
    Params p;
    p.path = "pools[0].provider";
    p.values = std::move(values);
    return p;
  };

  SUBCASE("valid params build a working provider") {
    std::vector<std::string> errors;
    std::unique_ptr<Provider> p = CreateProvider("simulated", "api",
                                                 params({{"initial_active", "2"},
                                                         {"initial_standby", "1"},
                                                         {"capacity_per_server", "50"},
                                                         {"promotion_delay", "1s"},
                                                         {"provisioning_delay", "30s"},
                                                         {"drain_delay", "0s"}}),
                                                 &clock, &errors);
    CHECK(errors.empty());
    REQUIRE(p != nullptr);
    Result<PoolState> state = p->Observe();
    REQUIRE(state.ok());
    CHECK(state->pool == "api");
    CHECK(state->Count(ServerState::kActive) == 2);
    CHECK(state->Count(ServerState::kStandby) == 1);
    auto* sim = dynamic_cast<SimulatedProvider*>(p.get());
    REQUIRE(sim != nullptr);
    CHECK(sim->Capacity() == doctest::Approx(100));
    CHECK(sim->spec().promotion_delay == kSecond);
    CHECK(sim->spec().provisioning_delay == 30 * kSecond);
    CHECK(sim->spec().drain_delay == 0);
  }
  SUBCASE("defaults when no params are given") {
    std::vector<std::string> errors;
    std::unique_ptr<Provider> p = NewSimulatedProvider("web", params({}), &clock, &errors);
    CHECK(errors.empty());
    REQUIRE(p != nullptr);
    Result<PoolState> state = p->Observe();
    REQUIRE(state.ok());
    CHECK(state->servers.empty());
  }

  SUBCASE("each malformed value is an error starting with its full path") {
    struct Bad {
      const char* key;
      const char* value;
    };
    const std::vector<Bad> bad = {
        {"capacity_per_server", "-1"}, {"capacity_per_server", "0"},  {"capacity_per_server", "lots"},
        {"promotion_delay", "5"},      {"provisioning_delay", "-1s"}, {"drain_delay", "soon"},
        {"initial_active", "-1"},      {"initial_standby", "1.5"},
    };
    for (const Bad& b : bad) {
      for (const char* via : {"NewSimulatedProvider", "CreateProvider"}) {
        CAPTURE(std::string(b.key));
        CAPTURE(std::string(b.value));
        CAPTURE(std::string(via));
        std::vector<std::string> errors;
        Params ps = params({{b.key, b.value}});
        std::unique_ptr<Provider> p = std::string(via) == "CreateProvider"
                                          ? CreateProvider("simulated", "web", ps, &clock, &errors)
                                          : NewSimulatedProvider("web", ps, &clock, &errors);
        CHECK(p == nullptr);
        REQUIRE(errors.size() == 1);
        CAPTURE(errors[0]);
        CHECK(StartsWith(errors[0], "pools[0].provider." + std::string(b.key) + ": "));
      }
    }
  }

  SUBCASE("the capacity error names the value") {
    std::vector<std::string> errors;
    CHECK(CreateProvider("simulated", "web", params({{"capacity_per_server", "-1"}}), &clock, &errors) ==
          nullptr);
    REQUIRE(errors.size() == 1);
    CHECK(StartsWith(errors[0], "pools[0].provider.capacity_per_server:"));
    CHECK(Contains(errors[0], "-1"));
  }
  SUBCASE("an unknown key is an error, not ignored") {
    std::vector<std::string> errors;
    CHECK(CreateProvider("simulated", "web", params({{"colour", "blue"}, {"initial_active", "1"}}), &clock,
                         &errors) == nullptr);
    REQUIRE(errors.size() == 1);
    CHECK(errors[0] == "pools[0].provider.colour: unknown key");
  }
  SUBCASE("every bad key is reported, errors are appended") {
    std::vector<std::string> errors = {"earlier error"};
    CHECK(CreateProvider("simulated", "web",
                         params({{"colour", "blue"}, {"initial_active", "x"}, {"drain_delay", "7"}}), &clock,
                         &errors) == nullptr);
    CHECK(errors.size() == 4);
    CHECK(errors[0] == "earlier error");
  }
  SUBCASE("an unknown provider type names the known ones") {
    std::vector<std::string> errors;
    CHECK(CreateProvider("cloudy", "web", params({}), &clock, &errors) == nullptr);
    REQUIRE(errors.size() == 1);
    CHECK(StartsWith(errors[0], "pools[0].provider.type: "));
    CHECK(Contains(errors[0], "cloudy"));
    CHECK(Contains(errors[0], "simulated"));
  }
}

TEST_CASE("SimulatedProvider: State()'s servers_version changes exactly when a server may have changed") {
  ManualClock clock(kT0);
  SimulatedProvider p("web", Sim(2, 1), &clock);
  const uint64_t v0 = p.State().servers_version;
  CHECK(v0 != 0);
  clock.Advance(15 * kSecond);
  CHECK(p.State().servers_version == v0);  // nothing happened: the same servers
  CHECK(p.State().observed_at == kT0 + 15 * kSecond);
  ScalePlan plan;
  plan.promote = {"web-3"};
  REQUIRE(p.Apply(plan).ok());
  const uint64_t v1 = p.State().servers_version;
  CHECK(v1 != v0);  // promoted
  clock.Advance(2 * kSecond);
  const PoolState& state = p.State();
  CHECK(state.servers_version != v1);  // its promotion's health gate passed
  CHECK(state.CountHealthy(ServerState::kActive) == 3);
  // Observe is the same pool, copied.
  Result<PoolState> observed = p.Observe();
  REQUIRE(observed.ok());
  CHECK(observed->servers.size() == state.servers.size());
  CHECK(observed->servers_version == state.servers_version);
}

// --- The stopped tier (issue 17) ---

TEST_CASE("simulated: a stopped standby serves only after its resume delay (and a promotion)") {
  ManualClock clock(kT0);
  SimulatedSpec spec = Sim(1, 1);
  spec.resume_delay = 20 * kSecond;
  SimulatedProvider p("web", spec, &clock);
  ScalePlan suspend;
  suspend.suspend = {"web-2"};
  REQUIRE(p.Apply(suspend).ok());
  CHECK(Get(p, "web-2").state == ServerState::kStopped);  // at once
  CHECK(p.Count(ServerState::kStopped) == 1);
  CHECK(p.Counts().of(ServerState::kStopped) == 1);
  // Stopped: not promotable.
  ApplyResult refused = p.Apply(PromotePlan({"web-2"}));
  CHECK_FALSE(refused.ok());
  CHECK(Contains(refused.actions[0].status.message(), "stopped"));
  clock.Advance(kMinute);
  ScalePlan resume;
  resume.resume = {"web-2"};
  REQUIRE(p.Apply(resume).ok());
  CHECK(Get(p, "web-2").state == ServerState::kProvisioning);  // resuming: on its way, priced as running
  CHECK_FALSE(p.Apply(PromotePlan({"web-2"})).ok());           // not ready yet
  clock.Advance(20 * kSecond - 1);
  CHECK(Get(p, "web-2").state == ServerState::kProvisioning);
  clock.Advance(1);
  CHECK(Get(p, "web-2").state == ServerState::kStandby);
  CHECK(Get(p, "web-2").health == Health::kHealthy);
  REQUIRE(p.Apply(PromotePlan({"web-2"})).ok());
  CHECK(p.Serving() == 1);  // the promotion's health gate still applies
  clock.Advance(2 * kSecond);
  CHECK(Get(p, "web-2").health == Health::kHealthy);
  CHECK(p.Serving() == 2);
}

TEST_CASE("simulated: suspend and resume are idempotent, and refused from the wrong state") {
  ManualClock clock(kT0);
  SimulatedProvider p("web", Sim(1, 1), &clock);
  ScalePlan plan;
  plan.suspend = {"web-2", "web-2"};
  CHECK(p.Apply(plan).ok());
  ScalePlan wrong;
  wrong.suspend = {"web-1"};  // active
  ApplyResult r = p.Apply(wrong);
  REQUIRE_FALSE(r.ok());
  CHECK(r.actions[0].kind == "suspend");
  CHECK(Contains(r.actions[0].status.message(), "cannot suspend web-1: it is active"));
  ScalePlan resume;
  resume.resume = {"web-2", "web-2"};
  CHECK(p.Apply(resume).ok());
  ScalePlan bad;
  bad.resume = {"web-1"};
  CHECK_FALSE(p.Apply(bad).ok());
  // A stopped server may be retired.
  ScalePlan again;
  again.suspend = {"web-2"};
  clock.Advance(kHour);
  REQUIRE(p.Apply(again).ok());
  ScalePlan retire;
  retire.retire = {"web-2"};
  CHECK(p.Apply(retire).ok());
  CHECK(p.Count(ServerState::kStopped) == 0);
}

TEST_CASE("simulated: resume_delay and cost are read, with path-named errors") {
  SimulatedSpec spec;
  std::vector<std::string> errors;
  Params params{
      "pools[0].capacity_model",
      "",
      {{"resume_delay", "45s"}, {"cost.active", "1"}, {"cost.standby", "0.5"}, {"cost.stopped", "0.05"}}};
  REQUIRE(ReadSimulatedSpec(params, &spec, &errors));
  CHECK(spec.resume_delay == 45 * kSecond);
  CHECK(spec.cost.standby == 0.5);
  CHECK(spec.cost.stopped == 0.05);
  Params bad{"pools[0].capacity_model", "", {{"cost.stopped", "2"}}};
  SimulatedSpec other;
  CHECK_FALSE(ReadSimulatedSpec(bad, &other, &errors));
  REQUIRE(!errors.empty());
  CHECK(errors.back() == "pools[0].capacity_model.cost.stopped: must be <= cost.standby (1), got 2");
}
