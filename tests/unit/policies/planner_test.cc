// Unit tests for the planner (policies/planner.h): the pure step from (desired, observed pool) to
// a ScalePlan. Table-driven: each case is a pool, a desired count and the exact plan expected.
#include "policies/planner.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

using namespace warmpool;

namespace {

using Names = std::vector<std::string>;

Server Make(std::string name, ServerState state, Health health, TimeMs since) {
  Server s;
  s.name = std::move(name);
  s.address = state == ServerState::kCold ? "" : "10.0.0.1:80";
  s.state = state;
  s.health = health;
  s.since = since;
  return s;
}

Server Active(std::string name, TimeMs since = 0, Health h = Health::kHealthy) {
  return Make(std::move(name), ServerState::kActive, h, since);
}
Server Standby(std::string name, TimeMs since = 0, Health h = Health::kHealthy) {
  return Make(std::move(name), ServerState::kStandby, h, since);
}
Server Provisioning(std::string name) {
  return Make(std::move(name), ServerState::kProvisioning, Health::kUnknown, 0);
}
Server Draining(std::string name) {
  return Make(std::move(name), ServerState::kDraining, Health::kHealthy, 0);
}
Server Cold(std::string name) { return Make(std::move(name), ServerState::kCold, Health::kUnknown, 0); }

PoolState Pool(std::vector<Server> servers) {
  PoolState p;
  p.pool = "web";
  p.observed_at = 1'000'000;
  p.servers = std::move(servers);
  return p;
}

// max_active 10; max_total 0 means max_active + warm_standby.
PoolSpec Spec(int warm_standby, int max_total = 0) {
  PoolSpec spec;
  spec.name = "web";
  spec.min_active = 1;
  spec.max_active = 10;
  spec.warm_standby = warm_standby;
  spec.max_total = max_total;
  return spec;
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

struct Case {
  const char* name;
  PoolSpec spec;
  PoolState pool;
  int desired;
  Names promote, drain, provision, retire;
  const char* reason_has = "";  // a substring the plan's reason must contain ("" = not checked)
};

}  // namespace

TEST_CASE("Plan: table of pools, desired counts and expected plans") {
  const std::vector<Case> cases = {
      {"promotes the longest-warm healthy standby first",
       Spec(2),
       Pool({Active("a1"), Standby("s1", 300), Standby("s2", 100), Standby("s3", 200)}),
       2,
       {"s2"},
       {},
       {},
       {}},
      {"promotes several, longest-warm first",
       Spec(1),
       Pool({Active("a1"), Standby("s1", 300), Standby("s2", 100), Standby("s3", 200)}),
       3,
       {"s2", "s3"},
       {},
       {},
       {}},
      {"never promotes an unhealthy standby (even the oldest): retires and replaces it",
       Spec(1),
       Pool({Active("a1"), Standby("bad", 0, Health::kUnhealthy), Standby("ok", 100)}),
       2,
       {"ok"},
       {},
       {"web-1"},
       {"bad"},
       "unhealthy"},
      {"only an unhealthy standby: nothing promoted, it is retired, provision covers the shortfall",
       Spec(0),
       Pool({Active("a1"), Standby("bad", 0, Health::kUnhealthy)}),
       2,
       {},
       {},
       {"web-1"},
       {"bad"},
       "short"},
      {"unhealthy standby retired and replaced even when nothing scales",
       Spec(1),
       Pool({Active("a1"), Standby("bad", 0, Health::kUnhealthy)}),
       1,
       {},
       {},
       {"web-1"},
       {"bad"}},
      {"healthy preferred over unknown health, even when the unknown one is warm longer",
       Spec(1),
       Pool({Active("a1"), Standby("unk", 0, Health::kUnknown), Standby("ok", 500)}),
       2,
       {"ok"},
       {},
       {},
       {}},
      {"unknown health promoted when no healthy standby is left",
       Spec(0),
       Pool({Active("a1"), Standby("unk", 0, Health::kUnknown), Standby("ok", 500)}),
       3,
       {"ok", "unk"},
       {},
       {},
       {}},
      {"refills the warm pool behind a promotion",
       Spec(2),
       Pool({Active("a1"), Standby("s1", 100), Standby("s2", 200)}),
       2,
       {"s1"},
       {},
       {"web-1"},
       {},
       "provision 1"},
      {"refill counts servers already provisioning",
       Spec(2),
       Pool({Active("a1"), Standby("s1", 100), Provisioning("p1")}),
       2,
       {"s1"},
       {},
       {"web-1"},
       {}},
      {"shortfall with no standby: provisions ahead (shortfall + warm target)",
       Spec(1),
       Pool({Active("a1")}),
       3,
       {},
       {},
       {"web-1", "web-2", "web-3"},
       {},
       "2 short"},
      {"second tick, same state: what is provisioning covers it, nothing more",
       Spec(1),
       Pool({Active("a1"), Provisioning("web-1"), Provisioning("web-2"), Provisioning("web-3")}),
       3,
       {},
       {},
       {},
       {}},
      {"partial shortfall: promotes what it can and provisions the rest ahead",
       Spec(1),
       Pool({Active("a1"), Standby("s1", 100)}),
       3,
       {"s1"},
       {},
       {"web-1", "web-2"},
       {},
       "1 short"},
      {"drains the most recently promoted active first",
       Spec(0),
       Pool({Active("old", 100), Active("new", 300), Active("mid", 200)}),
       1,
       {},
       {"new", "mid"},
       {},
       {},
       "drain 2"},
      {"drains unhealthy actives first, even the oldest",
       Spec(0),
       Pool({Active("old", 100, Health::kUnhealthy), Active("new", 300), Active("mid", 200)}),
       2,
       {},
       {"old"},
       {},
       {}},
      {"surplus standbys retired, most recently warmed first",
       Spec(1),
       Pool({Active("a1"), Standby("s1", 100), Standby("s2", 300), Standby("s3", 200)}),
       1,
       {},
       {},
       {},
       {"s2", "s3"},
       "surplus"},
      {"max_total caps provisioning and the reason says so",
       Spec(3, 3),
       Pool({Active("a1")}),
       1,
       {},
       {},
       {"web-1", "web-2"},
       {},
       "max_total 3"},
      {"over max_total: the newest standby is retired, none provisioned",
       Spec(2, 2),
       Pool({Active("a1"), Standby("s1", 100), Standby("s2", 200)}),
       1,
       {},
       {},
       {},
       {"s2"},
       "max_total"},
      {"draining servers count as coming warm, and toward max_total",
       Spec(3, 3),
       Pool({Active("a1"), Draining("d1")}),
       1,
       {},
       {},
       {"web-1"},
       {},
       "max_total 3"},
      {"cold servers are reused as provision names before new names (by name)",
       Spec(3),
       Pool({Active("a1"), Cold("c-b"), Cold("c-a")}),
       1,
       {},
       {},
       {"c-a", "c-b", "web-1"},
       {}},
      {"generated names skip every existing name",
       Spec(3),
       Pool({Active("web-1"), Draining("web-2"), Cold("web-4")}),
       1,
       {},
       {},
       {"web-4", "web-3"},  // the draining web-2 comes back as the third warm server
       {}},
      {"desired == active and warm pool full: no change",
       Spec(2),
       Pool({Active("a1"), Active("a2"), Standby("s1", 100), Standby("s2", 200)}),
       2,
       {},
       {},
       {},
       {},
       "no change"},
      {"ties in promotion broken by name",
       Spec(2),
       Pool({Active("a1"), Standby("s-b", 100), Standby("s-a", 100), Standby("s-c", 100)}),
       2,
       {"s-a"},
       {},
       {},
       {}},
      {"ties in draining broken by name (last name first)",
       Spec(0),
       Pool({Active("a-b", 100), Active("a-a", 100), Active("a-c", 100)}),
       1,
       {},
       {"a-c", "a-b"},
       {},
       {}},
      {"ties in surplus retirement broken by name (last name first)",
       Spec(0),
       Pool({Active("a1"), Standby("s-b", 100), Standby("s-a", 100)}),
       1,
       {},
       {},
       {},
       {"s-b", "s-a"}},
  };

  for (const Case& c : cases) {
    SUBCASE(c.name) {
      CAPTURE(std::string(c.name));
      ScalePlan plan = Plan(c.spec, c.pool, c.desired);
      CAPTURE(plan.Summary());
      CAPTURE(plan.reason);
      CHECK(plan.promote == c.promote);
      CHECK(plan.drain == c.drain);
      CHECK(plan.provision == c.provision);
      CHECK(plan.retire == c.retire);
      if (*c.reason_has) CHECK(Contains(plan.reason, c.reason_has));
      CHECK_FALSE(plan.reason.empty());

      // Invariants that hold for every case.
      const int after =
          c.pool.Total() - static_cast<int>(plan.retire.size()) + static_cast<int>(plan.provision.size());
      if (c.pool.Total() <= c.spec.MaxTotal()) CHECK(after <= c.spec.MaxTotal());
      for (const std::string& name : plan.promote) {
        const Server* s = c.pool.Find(name);
        REQUIRE(s != nullptr);
        CHECK(s->state == ServerState::kStandby);
        CHECK(s->health != Health::kUnhealthy);
      }
      for (const std::string& name : plan.drain) {
        const Server* s = c.pool.Find(name);
        REQUIRE(s != nullptr);
        CHECK(s->state == ServerState::kActive);
      }
      for (const std::string& name : plan.provision) {
        const Server* s = c.pool.Find(name);
        if (s != nullptr) CHECK(s->state == ServerState::kCold);  // reused cold slot, never a live name
      }
    }
  }
}

TEST_CASE("Plan: a fully capped shortfall still says max_total in its reason") {
  // Two actives fill max_total 2; one more active is wanted and there is no standby. Nothing can be
  // provisioned, so the plan is empty, but its reason must still say why the pool stays short.
  PoolState pool = Pool({Active("a1"), Active("a2")});
  ScalePlan plan = Plan(Spec(2, 2), pool, 3);
  CAPTURE(plan.reason);
  CHECK(plan.empty());
  CHECK(Contains(plan.reason, "max_total"));
}

TEST_CASE("Plan: provisioning never pushes the pool past max_total, whatever is desired") {
  for (int desired = 0; desired <= 12; ++desired) {
    for (int max_total = 1; max_total <= 6; ++max_total) {
      CAPTURE(desired);
      CAPTURE(max_total);
      PoolState pool = Pool({Active("a1", 10), Standby("s1", 20), Provisioning("p1")});
      ScalePlan plan = Plan(Spec(2, max_total), pool, desired);
      const int after =
          pool.Total() - static_cast<int>(plan.retire.size()) + static_cast<int>(plan.provision.size());
      if (pool.Total() >= max_total) {
        CHECK(plan.provision.empty());
      } else {
        CHECK(after <= max_total);
      }
    }
  }
}

TEST_CASE("Plan: deterministic, whatever order the provider reports servers in") {
  const std::vector<Server> servers = {
      Active("a-b", 100),
      Active("a-a", 100),
      Standby("s-b", 50),
      Standby("s-a", 50),
      Standby("u", 10, Health::kUnknown),
      Standby("bad", 5, Health::kUnhealthy),
      Cold("c2"),
      Cold("c1"),
  };
  for (int desired : {0, 1, 2, 3, 5, 8}) {
    CAPTURE(desired);
    const PoolSpec spec = Spec(2);
    const ScalePlan want = Plan(spec, Pool(servers), desired);
    std::mt19937 rng(42);
    for (int round = 0; round < 200; ++round) {
      std::vector<Server> shuffled = servers;
      if (round == 1) std::reverse(shuffled.begin(), shuffled.end());
      if (round > 1) std::shuffle(shuffled.begin(), shuffled.end(), rng);
      const ScalePlan got = Plan(spec, Pool(shuffled), desired);
      REQUIRE(got.promote == want.promote);
      REQUIRE(got.drain == want.drain);
      REQUIRE(got.provision == want.provision);
      REQUIRE(got.retire == want.retire);
      REQUIRE(got.reason == want.reason);
    }
  }
}

TEST_CASE("Plan: surplus retirement keeps ready standbys rather than counting on ones still provisioning") {
  // warm_standby 1. Two ready standbys (e.g. just drained back) and one server still provisioning:
  // the warm pool is over target, but only the ready standbys can take a promotion now. Retiring
  // both leaves no warm standby until the provisioning one is ready.
  PoolState pool = Pool({Active("a1"), Standby("s1", 100), Standby("s2", 200), Provisioning("p1")});
  ScalePlan plan = Plan(Spec(1), pool, 1);
  CAPTURE(plan.Summary());
  int ready_left = 0;
  for (const Server& s : pool.servers) {
    const bool retired = std::find(plan.retire.begin(), plan.retire.end(), s.name) != plan.retire.end();
    if (s.state == ServerState::kStandby && !retired) ++ready_left;
  }
  CHECK(ready_left >= 1);
}
