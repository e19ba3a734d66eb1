// Unit tests for the planner's warm tiers (issue 17): running standbys first, then stopped ones
// resumed, then new servers; each tier kept at its target; max_total counts the stopped servers.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "policies/planner.h"

using namespace warmpool;

namespace {

using Names = std::vector<std::string>;

Server Make(std::string name, ServerState state, TimeMs since = 0, Health h = Health::kHealthy) {
  return Server{std::move(name), "10.0.0.1:80", state, h, since};
}
Server Active(std::string n, TimeMs since = 0) { return Make(std::move(n), ServerState::kActive, since); }
Server Standby(std::string n, TimeMs since = 0) { return Make(std::move(n), ServerState::kStandby, since); }
Server Stopped(std::string n, TimeMs since = 0) {
  return Make(std::move(n), ServerState::kStopped, since, Health::kUnknown);
}
Server Provisioning(std::string n) {
  return Make(std::move(n), ServerState::kProvisioning, 0, Health::kUnknown);
}

PoolState Pool(std::vector<Server> servers) {
  PoolState p;
  p.pool = "web";
  p.servers = std::move(servers);
  return p;
}

PoolSpec Spec(int running, int stopped, int max_total = 0) {
  PoolSpec spec;
  spec.name = "web";
  spec.min_active = 1;
  spec.max_active = 10;
  spec.warm_standby = running;
  spec.warm_stopped = stopped;
  spec.max_total = max_total;
  return spec;
}

bool Has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Plans with and without the shortcut, and checks they agree.
ScalePlan PlanBoth(const PoolSpec& spec, const PoolState& pool, int desired) {
  PlanOptions full;
  full.shortcut = false;
  const ScalePlan a = Plan(spec, pool, desired), b = Plan(spec, pool, desired, full);
  CHECK(a.Summary() == b.Summary());
  CHECK(a.reason == b.reason);
  return a;
}

}  // namespace

TEST_CASE("Plan tiers: a pool at both targets has nothing to do") {
  const ScalePlan plan =
      PlanBoth(Spec(1, 2), Pool({Active("a1"), Standby("s1"), Stopped("x1"), Stopped("x2")}), 1);
  CHECK(plan.empty());
  CHECK(plan.reason == "no change");
}

TEST_CASE("Plan tiers: scale up from running standbys first, then resume stopped ones, then provision") {
  // Four more wanted: one running standby, two stopped, then a new server for the last.
  const ScalePlan plan =
      PlanBoth(Spec(1, 2), Pool({Active("a1"), Standby("s1", 5), Stopped("x1", 20), Stopped("x2", 10)}), 5);
  CAPTURE(plan.reason);
  CHECK(plan.promote == Names{"s1"});
  // The running tier wants its 1 back plus the 3 short: both stopped ones resumed (the longest
  // stopped first), then new servers for the rest and for the stopped tier behind.
  CHECK(plan.resume == Names{"x2", "x1"});
  CHECK(plan.provision.size() == 2 + 2);  // running: 1 + 3 short - 2 resumed; stopped: 2
  CHECK(plan.suspend.empty());
  CHECK(plan.retire.empty());
  CHECK(Has(plan.reason, "promote 1 of 4 wanted"));
  CHECK(Has(plan.reason, "resume 2 stopped standby (ready after the resume delay)"));
  CHECK(Has(plan.reason, "and 2 stopped (suspended once ready)"));
}

TEST_CASE("Plan tiers: a resumed standby is not promoted until it is ready") {
  // Resuming servers are provisioning: never promoted, counted as warm on their way.
  const ScalePlan plan = PlanBoth(Spec(0, 1), Pool({Active("a1"), Provisioning("x1"), Stopped("x2")}), 2);
  CHECK(plan.promote.empty());
  CHECK(plan.resume.empty());  // the shortfall of 1 is covered by the one already resuming
  CHECK(plan.provision.empty());
}

TEST_CASE("Plan tiers: a surplus running standby is suspended while the stopped tier is short") {
  // Scale-in left three running standbys; the running tier wants 1, the stopped tier 2 (has 0).
  const ScalePlan plan =
      PlanBoth(Spec(1, 2), Pool({Active("a1"), Standby("s1", 1), Standby("s2", 2), Standby("s3", 3)}), 1);
  CAPTURE(plan.reason);
  CHECK(plan.suspend == Names{"s3", "s2"});  // the most recently warmed first; the oldest stays running
  CHECK(plan.retire.empty());
  CHECK(plan.provision.empty());
  CHECK(Has(plan.reason, "suspend 2 surplus standby to keep 2 stopped"));
  // With the stopped tier full, the surplus is retired instead.
  const ScalePlan full =
      PlanBoth(Spec(1, 1), Pool({Active("a1"), Standby("s1", 1), Standby("s2", 2), Stopped("x1")}), 1);
  CHECK(full.suspend.empty());
  CHECK(full.retire == Names{"s2"});
}

TEST_CASE("Plan tiers: the stopped tier is refilled by a new server, suspended once ready") {
  PoolSpec spec = Spec(1, 1);
  const ScalePlan first = PlanBoth(spec, Pool({Active("a1"), Standby("s1")}), 1);
  CHECK(first.provision == Names{"web-1"});
  // While it provisions it counts toward the stopped tier: nothing more is provisioned.
  const ScalePlan second = PlanBoth(spec, Pool({Active("a1"), Standby("s1"), Provisioning("web-1")}), 1);
  CHECK(second.empty());
  // Ready: the newest standby is suspended.
  const ScalePlan third = PlanBoth(spec, Pool({Active("a1"), Standby("s1", 1), Standby("web-1", 9)}), 1);
  CHECK(third.suspend == Names{"web-1"});
  CHECK(third.retire.empty());
}

TEST_CASE("Plan tiers: surplus stopped standbys are retired, the most recently stopped first") {
  const ScalePlan plan =
      PlanBoth(Spec(0, 1), Pool({Active("a1"), Stopped("x1", 1), Stopped("x2", 3), Stopped("x3", 2)}), 1);
  CHECK(plan.retire == Names{"x2", "x3"});
  CHECK(plan.resume.empty());
}

TEST_CASE("Plan tiers: the running tier short is refilled by resuming before provisioning") {
  const ScalePlan plan =
      PlanBoth(Spec(2, 1), Pool({Active("a1"), Standby("s1"), Stopped("x1"), Stopped("x2")}), 1);
  CHECK(plan.resume == Names{"x1"});
  CHECK(plan.provision.empty());  // the stopped tier keeps x2: at its target
}

TEST_CASE("Plan tiers: never past max_total, stopped servers counted, and over it stopped go first") {
  // max_total 4: 1 active + 1 standby + 2 stopped fill it; one more active wanted.
  const ScalePlan plan =
      PlanBoth(Spec(1, 2, 4), Pool({Active("a1"), Standby("s1"), Stopped("x1"), Stopped("x2")}), 2);
  CHECK(plan.promote == Names{"s1"});
  CHECK(plan.resume == Names{"x1"});  // the running tier refilled from the stopped tier
  CHECK(plan.provision.empty());      // no room for the stopped tier's refill
  CHECK(Has(plan.reason, "max_total 4 reached"));
  // Over max_total (lowered by a reload): the stopped standbys are retired before running ones.
  const ScalePlan over =
      PlanBoth(Spec(1, 2, 3), Pool({Active("a1"), Standby("s1"), Stopped("x1"), Stopped("x2")}), 1);
  CHECK(over.retire == Names{"x2"});
  for (int desired = 0; desired <= 12; ++desired) {
    for (int max_total = 1; max_total <= 7; ++max_total) {
      CAPTURE(desired);
      CAPTURE(max_total);
      const PoolState pool = Pool({Active("a1"), Standby("s1"), Stopped("x1"), Provisioning("p1")});
      const ScalePlan p = PlanBoth(Spec(2, 2, max_total), pool, desired);
      const int after =
          pool.Total() - static_cast<int>(p.retire.size()) + static_cast<int>(p.provision.size());
      if (pool.Total() >= max_total) {
        CHECK(p.provision.empty());
      } else {
        CHECK(after <= max_total);
      }
    }
  }
}

TEST_CASE("Plan tiers: the targets from the options override the spec's") {
  PlanOptions options;
  options.warm_target = 0;
  options.stopped_target = 1;
  const ScalePlan plan = Plan(Spec(3, 0), Pool({Active("a1"), Standby("s1")}), 1, options);
  CHECK(plan.suspend == Names{"s1"});
}

TEST_CASE("ScalePlan: suspend and resume are actions and are summarized") {
  ScalePlan plan;
  plan.suspend = {"a"};
  CHECK_FALSE(plan.empty());
  plan.resume = {"b"};
  CHECK(plan.Summary() == "suspend [a]; resume [b]");
  CHECK(std::string(StateName(ServerState::kStopped)) == "stopped");
  CHECK(std::string(StateName(ServerState::kRetired)) == "retired");
}
