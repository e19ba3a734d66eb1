// Unit tests for replacement (policies/replace.h) and the planner's part in it (policies/planner.h).
#include "policies/replace.h"

#include <doctest/doctest.h>

#include <set>
#include <string>
#include <vector>

#include "policies/planner.h"

using namespace warmpool;

namespace {

using Names = std::vector<std::string>;
constexpr TimeMs kNow = 1'800'000'000'000;

Server S(std::string name, ServerState state, Health health, TimeMs since = kNow - kMinute) {
  Server s;
  s.name = std::move(name);
  s.address = "10.0.0.1:80";
  s.state = state;
  s.health = health;
  s.since = since;
  return s;
}
Server Up(std::string name) { return S(std::move(name), ServerState::kActive, Health::kHealthy); }
Server Down(std::string name, DurationMs for_) {
  return S(std::move(name), ServerState::kActive, Health::kUnhealthy, kNow - for_);
}
Server Standby(std::string name) { return S(std::move(name), ServerState::kStandby, Health::kUnknown); }

PoolState Pool(std::vector<Server> servers) {
  PoolState p;
  p.pool = "web";
  p.observed_at = kNow;
  p.servers = std::move(servers);
  return p;
}

HealthSpec Health30s() {
  HealthSpec h;
  h.enabled = true;
  h.grace = 30 * kSecond;
  return h;
}

}  // namespace

TEST_CASE("replace: an active server DOWN past grace is replaced, not before, and the reason says why") {
  std::set<std::string> replacing;
  ReplaceOutcome r = FindReplacements(Health30s(), Pool({Up("web-1"), Down("web-2", 29 * kSecond), Up("web-3")}),
                                      kNow, &replacing);
  CHECK(r.started.empty());
  CHECK(r.reason.empty());
  r = FindReplacements(Health30s(), Pool({Up("web-1"), Down("web-2", 45 * kSecond), Up("web-3")}), kNow, &replacing);
  CHECK(r.started == Names{"replace web-2: DOWN for 45s (grace 30s)"});
  CHECK(r.reason == "replace web-2: DOWN for 45s (grace 30s)");
  CHECK(replacing == std::set<std::string>{"web-2"});
  // Under way: not started again; done once it is gone, cold, retired, or healthy again.
  r = FindReplacements(Health30s(), Pool({Up("web-1"), Down("web-2", 50 * kSecond), Up("web-3")}), kNow, &replacing);
  CHECK(r.started.empty());
  CHECK(replacing.count("web-2") == 1);
  FindReplacements(Health30s(), Pool({Up("web-1"), Up("web-3")}), kNow, &replacing);
  CHECK(replacing.empty());
  // Off: nothing, and nothing remembered.
  replacing = {"web-9"};
  HealthSpec off;
  CHECK(FindReplacements(off, Pool({Down("web-2", kMinute)}), kNow, &replacing).started.empty());
  CHECK(replacing.empty());
}

TEST_CASE("replace: at least one at a time in a small pool, at most max_parallel, the longest sick first") {
  HealthSpec h = Health30s();
  h.breaker_fraction = 0.9;
  std::set<std::string> replacing;
  // A 3-server pool with one sick: a 20% repair limit elsewhere would never let it heal.
  ReplaceOutcome r = FindReplacements(h, Pool({Up("a"), Up("b"), Down("c", kMinute)}), kNow, &replacing);
  CHECK(r.started.size() == 1);
  replacing.clear();
  h.max_parallel = 2;
  r = FindReplacements(h, Pool({Up("a"), Down("b", 2 * kMinute), Down("c", kMinute), Down("d", 3 * kMinute), Up("e")}),
                       kNow, &replacing);
  CHECK(r.started == Names{"replace d: DOWN for 3m (grace 30s)", "replace b: DOWN for 2m (grace 30s)"});
  CHECK(r.reason.find("1 more sick, waiting for the replacements under way (max_parallel 2)") != std::string::npos);
  r = FindReplacements(h, Pool({Up("a"), Down("b", 2 * kMinute), Down("c", kMinute), Down("d", 3 * kMinute), Up("e")}),
                       kNow, &replacing);
  CHECK(r.started.empty());  // both slots taken
}

TEST_CASE("replace: the breaker opens when more than breaker_fraction is sick, and replaces none") {
  std::set<std::string> replacing;
  ReplaceOutcome r = FindReplacements(
      Health30s(), Pool({Down("a", kMinute), Down("b", kMinute), Down("c", kMinute), Up("d")}), kNow, &replacing);
  CHECK(r.breaker_open);
  CHECK(r.started.empty());
  CHECK(replacing.empty());
  CHECK(r.reason ==
        "replacement breaker open: 3 of 4 active servers sick (more than 50%), replacing none: more of the same "
        "would not help");
  r = FindReplacements(Health30s(), Pool({Down("a", kMinute), Down("b", kMinute), Up("c"), Up("d")}), kNow, &replacing);
  CHECK_FALSE(r.breaker_open);  // 2 of 4 is not more than half
  CHECK(r.started.size() == 1);
}

TEST_CASE("planner: a server being replaced is drained while a standby takes its place, then retired") {
  PoolSpec spec;
  spec.name = "web";
  spec.max_active = 10;
  spec.warm_standby = 1;
  const std::set<std::string> replacing = {"web-2"};
  PlanOptions o;
  o.replacing = &replacing;
  // 3 wanted, web-2 sick among 3 actives: promote the standby, drain web-2, provision a standby behind.
  ScalePlan p = Plan(spec, Pool({Up("web-1"), Down("web-2", kMinute), Up("web-3"), Standby("web-4")}), 3, o);
  CHECK(p.promote == Names{"web-4"});
  CHECK(p.drain == Names{"web-2"});
  CHECK(p.provision == Names{"web-5"});
  CAPTURE(p.reason);
  CHECK(p.reason.find("drain 1 being replaced") == 0);
  // Drained to maintenance: a standby that is never promoted again, but retired; not counted as warm.
  p = Plan(spec, Pool({Up("web-1"), Standby("web-2"), Up("web-3"), Up("web-4"), Standby("web-5")}), 3, o);
  CHECK(p.promote.empty());
  CHECK(p.retire == Names{"web-2"});
  CHECK(p.provision.empty());
  // Without the set, the same pool is left as it is.
  CHECK(Plan(spec, Pool({Up("web-1"), Up("web-3"), Up("web-4"), Standby("web-5")}), 3).empty());
}
