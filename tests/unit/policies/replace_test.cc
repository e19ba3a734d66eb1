// Unit tests for replacement (policies/replace.h) and the planner's part in it (policies/planner.h).
#include "policies/replace.h"

#include <doctest/doctest.h>

#include <set>
#include <string>
#include <vector>

#include "policies/planner.h"
#include "policies/pool_decider.h"

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

Names Keys(const Replacements& r) {
  Names out;
  for (const auto& entry : r) out.push_back(entry.first);
  return out;
}

HealthSpec Health30s() {
  HealthSpec h;
  h.enabled = true;
  h.grace = 30 * kSecond;
  return h;
}

}  // namespace

TEST_CASE("replace: an active server DOWN past grace is replaced, not before, and the reason says why") {
  ReplaceMemory memory;
  Replacements& replacing = memory.under_way;
  ReplaceOutcome r = FindReplacements(Health30s(), Pool({Up("web-1"), Down("web-2", 29 * kSecond), Up("web-3")}),
                                      kNow, &memory);
  CHECK(r.started.empty());
  CHECK(r.reason.empty());
  r = FindReplacements(Health30s(), Pool({Up("web-1"), Down("web-2", 45 * kSecond), Up("web-3")}), kNow, &memory);
  CHECK(r.started == Names{"replace web-2: DOWN for 45s (grace 30s)"});
  CHECK(r.reason == "replace web-2: DOWN for 45s (grace 30s)");
  CHECK(Keys(replacing) == Names{"web-2"});
  CHECK(replacing["web-2"].cause == ReplaceCause::kDown);
  // Under way: not started again; done once it is gone, cold, retired, or healthy again.
  r = FindReplacements(Health30s(), Pool({Up("web-1"), Down("web-2", 50 * kSecond), Up("web-3")}), kNow, &memory);
  CHECK(r.started.empty());
  CHECK(replacing.count("web-2") == 1);
  FindReplacements(Health30s(), Pool({Up("web-1"), Up("web-3")}), kNow, &memory);
  CHECK(replacing.empty());
  // Off: nothing, and nothing remembered.
  replacing = {{"web-9", Replacement{}}};
  HealthSpec off;
  CHECK(FindReplacements(off, Pool({Down("web-2", kMinute)}), kNow, &memory).started.empty());
  CHECK(replacing.empty());
}

TEST_CASE("replace: at least one at a time in a small pool, at most max_parallel, the longest sick first") {
  HealthSpec h = Health30s();
  h.breaker_fraction = 0.9;
  ReplaceMemory memory;
  Replacements& replacing = memory.under_way;
  // A 3-server pool with one sick: a 20% repair limit elsewhere would never let it heal.
  ReplaceOutcome r = FindReplacements(h, Pool({Up("a"), Up("b"), Down("c", kMinute)}), kNow, &memory);
  CHECK(r.started.size() == 1);
  replacing.clear();
  h.max_parallel = 2;
  r = FindReplacements(h, Pool({Up("a"), Down("b", 2 * kMinute), Down("c", kMinute), Down("d", 3 * kMinute), Up("e")}),
                       kNow, &memory);
  CHECK(r.started == Names{"replace d: DOWN for 3m (grace 30s)", "replace b: DOWN for 2m (grace 30s)"});
  CHECK(r.reason.find("1 more sick, waiting for the replacements under way (max_parallel 2)") != std::string::npos);
  r = FindReplacements(h, Pool({Up("a"), Down("b", 2 * kMinute), Down("c", kMinute), Down("d", 3 * kMinute), Up("e")}),
                       kNow, &memory);
  CHECK(r.started.empty());  // both slots taken
}

TEST_CASE("replace: the breaker opens when more than breaker_fraction is sick, and replaces none") {
  ReplaceMemory memory;
  Replacements& replacing = memory.under_way;
  ReplaceOutcome r = FindReplacements(
      Health30s(), Pool({Down("a", kMinute), Down("b", kMinute), Down("c", kMinute), Up("d")}), kNow, &memory);
  CHECK(r.breaker_open);
  CHECK(r.started.empty());
  CHECK(replacing.empty());
  CHECK(r.reason ==
        "replacement breaker open: 3 of 4 active servers sick (more than 50%), replacing none: more of the same "
        "would not help");
  // 2 of 4 is not more than half, but the breaker holds for breaker_hold after it last found too many:
  // a signal that flickers lets nothing through.
  r = FindReplacements(Health30s(), Pool({Down("a", kMinute), Down("b", kMinute), Up("c"), Up("d")}),
                       kNow + 59 * kSecond, &memory);
  CHECK(r.breaker_open);
  CHECK(r.started.empty());
  CHECK(r.reason ==
        "replacement breaker open: 2 of 4 active servers sick now, more than 50% 59s ago (held for breaker_hold 1m), "
        "replacing none: more of the same would not help");
  r = FindReplacements(Health30s(), Pool({Down("a", kMinute), Down("b", kMinute), Up("c"), Up("d")}),
                       kNow + kMinute, &memory);
  CHECK_FALSE(r.breaker_open);
  CHECK(r.started.size() == 1);
  // Never tripped: 2 of 4 is replaced at once.
  ReplaceMemory fresh;
  r = FindReplacements(Health30s(), Pool({Down("a", kMinute), Down("b", kMinute), Up("c"), Up("d")}), kNow, &fresh);
  CHECK_FALSE(r.breaker_open);
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

namespace {

// A window of `value` now, rising `per_min` a minute over the last 5 minutes.
MetricWindow Rising(double value, double per_min) {
  MetricWindow w;
  w.metric = "memory";
  for (TimeMs t = kNow - 5 * kMinute; t <= kNow; t += 10 * kSecond)
    w.samples.push_back({t, value - per_min * static_cast<double>(kNow - t) / kMinute});
  return w;
}

HealthSpec WithMemory(DurationMs horizon) {
  HealthSpec h = Health30s();
  ServerMetricSpec m;
  m.name = "memory";
  m.query = "mem_ratio";
  m.above = 0.85;
  m.horizon = horizon;
  h.metrics.push_back(m);
  return h;
}

}  // namespace

TEST_CASE("replace: a server past a metric's limit, or reaching it within the horizon, is replaced") {
  const PoolState pool = Pool({Up("web-1"), Up("web-2"), Up("web-3"), Standby("web-4")});
  ServerWindows windows;
  windows["memory"]["web-1"] = Rising(0.5, 0);
  windows["memory"]["web-2"] = Rising(0.91, 0);
  windows["memory"]["web-3"] = Rising(0.6, 0.05);  // 0.85 in 5m
  ReplaceSignals signals;
  signals.metrics = &windows;
  ReplaceMemory memory;
  Replacements& replacing = memory.under_way;
  HealthSpec h = WithMemory(10 * kMinute);
  h.max_parallel = 2;
  h.breaker_fraction = 0.9;  // 2 of 3 sick
  ReplaceOutcome r = FindReplacements(h, pool, kNow, &memory, signals);
  CHECK(r.started == Names{"replace web-2: memory 0.91 > 0.85", "replace web-3: memory 0.6 rising 0.05/min reaches 0.85 in 5m"});
  CHECK(replacing["web-2"].cause == ReplaceCause::kMetric);
  // A metric-sick server is healthy at the balancer: it stays under way until it is gone.
  r = FindReplacements(h, pool, kNow + kSecond, &memory, signals);
  CHECK(r.started.empty());
  CHECK(Keys(replacing) == Names{"web-2", "web-3"});
  // Without the trend rule, only the one past the limit; a server with no window is not judged.
  replacing.clear();
  windows["memory"].erase("web-1");
  r = FindReplacements(WithMemory(0), pool, kNow, &memory, signals);
  CHECK(r.started == Names{"replace web-2: memory 0.91 > 0.85"});
  // A standby past the limit is replaced too (retired by the planner, refilled behind).
  replacing.clear();
  windows["memory"]["web-4"] = Rising(0.95, 0);
  windows["memory"].erase("web-2");
  r = FindReplacements(WithMemory(0), pool, kNow, &memory, signals);
  CHECK(r.started == Names{"replace web-4: memory 0.95 > 0.85"});
}

TEST_CASE("replace: every server leaking opens the breaker: more of the same would not help") {
  ServerWindows windows;
  for (const char* n : {"a", "b", "c"}) windows["memory"][n] = Rising(0.9, 0.01);
  ReplaceSignals signals;
  signals.metrics = &windows;
  ReplaceMemory memory;
  const ReplaceOutcome r = FindReplacements(WithMemory(kMinute), Pool({Up("a"), Up("b"), Up("c")}), kNow, &memory, signals);
  CHECK(r.breaker_open);
  CHECK(r.started.empty());
  CHECK(r.sick.size() == 3);
  CHECK(r.reason.find("replacement breaker open: 3 of 3 active servers sick") == 0);
}

TEST_CASE("replace: an operator's request is acted on at once, and a protected server is never replaced") {
  PoolControls controls;
  controls.replace["web-1"] = ReplaceRequest{kNow - kSecond, "kernel update", "alice"};
  controls.protect["web-2"] = Protection{kNow - kSecond, 0, "debugging", "bob"};
  ReplaceSignals signals;
  signals.controls = &controls;
  ReplaceMemory memory;
  Replacements& replacing = memory.under_way;
  const PoolState pool = Pool({Up("web-1"), Down("web-2", kMinute), Up("web-3"), Up("web-4"), Standby("web-5")});
  ReplaceOutcome r = FindReplacements(Health30s(), pool, kNow, &memory, signals);
  CHECK(r.started == Names{"replace web-1: asked by alice (kernel update)"});
  CHECK(replacing["web-1"].cause == ReplaceCause::kOperator);
  CHECK(r.reason.find("sick but protected, not replaced: web-2") != std::string::npos);
  // Without `health:` too: an operator's request needs no health settings.
  replacing.clear();
  r = FindReplacements(HealthSpec{}, pool, kNow, &memory, signals);
  CHECK(r.started == Names{"replace web-1: asked by alice (kernel update)"});
  // Protecting a server being replaced stops its replacement.
  controls.protect["web-1"] = Protection{kNow, 0, "", "bob"};
  r = FindReplacements(HealthSpec{}, pool, kNow, &memory, signals);
  CHECK(replacing.empty());
  CHECK(r.reason.find("web-1 protected: its replacement stopped") != std::string::npos);
  // An expired protection protects nothing.
  controls.protect["web-1"].expires_at = kNow - 1;
  CHECK(ProtectedServers(controls, kNow) == std::set<std::string>{"web-2"});
}

TEST_CASE("replace: max_lifetime replaces the longest serving, one at a time, only when nothing else is") {
  HealthSpec h = Health30s();
  h.max_lifetime = kHour;
  ReplaceMemory memory;
  PoolState pool = Pool({S("a", ServerState::kActive, Health::kHealthy, kNow - 2 * kHour),
                         S("b", ServerState::kActive, Health::kHealthy, kNow - 3 * kHour),
                         S("c", ServerState::kActive, Health::kHealthy, kNow - kMinute), Standby("d")});
  ReplaceOutcome r = FindReplacements(h, pool, kNow, &memory);
  CHECK(r.started == Names{"replace b: serving for 3h (max_lifetime 1h)"});
  r = FindReplacements(h, pool, kNow, &memory);
  CHECK(r.started.empty());  // one at a time
  // b gone: a is next.
  pool.servers.erase(pool.servers.begin() + 1);
  r = FindReplacements(h, pool, kNow, &memory);
  CHECK(r.started == Names{"replace a: serving for 2h (max_lifetime 1h)"});
}

TEST_CASE("planner: a serving server being replaced leaves only once its replacement serves") {
  PoolSpec spec;
  spec.name = "web";
  spec.max_active = 3;
  spec.warm_standby = 1;
  const std::set<std::string> replacing = {"web-2"};
  PlanOptions o;
  o.replacing = &replacing;
  // 3 wanted, web-2 leaking but serving: promote the standby, keep web-2 serving; the refill waits
  // for web-2 to leave (max_total 4).
  ScalePlan p = Plan(spec, Pool({Up("web-1"), Up("web-2"), Up("web-3"), Standby("web-4")}), 3, o);
  CHECK(p.promote == Names{"web-4"});
  CHECK(p.drain.empty());
  CHECK(p.provision.empty());
  CAPTURE(p.reason);
  CHECK(p.reason.find("keep 1 being replaced serving until 3 others serve (2 now)") != std::string::npos);
  // web-4 promoted but not healthy yet: still kept.
  p = Plan(spec, Pool({Up("web-1"), Up("web-2"), Up("web-3"), S("web-4", ServerState::kActive, Health::kUnknown)}), 3, o);
  CHECK(p.drain.empty());
  // web-4 serving: web-2 is drained, above max_active only while it was (a surge of one).
  p = Plan(spec, Pool({Up("web-1"), Up("web-2"), Up("web-3"), Up("web-4"), Standby("web-5")}), 3, o);
  CHECK(p.drain == Names{"web-2"});
  CHECK(p.promote.empty());
  // No standby and no room: it keeps serving until it falls (then it is drained as DOWN).
  spec.max_total = 3;
  p = Plan(spec, Pool({Up("web-1"), Up("web-2"), Up("web-3")}), 3, o);
  CHECK(p.drain.empty());
  p = Plan(spec, Pool({Up("web-1"), Down("web-2", kSecond), Up("web-3")}), 3, o);
  CHECK(p.drain == Names{"web-2"});
}

TEST_CASE("planner: a protected server is never drained, even when it would be next") {
  PoolSpec spec;
  spec.name = "web";
  spec.max_active = 10;
  const std::set<std::string> protect = {"web-3"};
  PlanOptions o;
  o.protect = &protect;
  // Most recently promoted first: web-3, then web-2.
  const PoolState pool = Pool({S("web-1", ServerState::kActive, Health::kHealthy, kNow - 3 * kMinute),
                               S("web-2", ServerState::kActive, Health::kHealthy, kNow - 2 * kMinute),
                               S("web-3", ServerState::kActive, Health::kHealthy, kNow - kMinute)});
  CHECK(Plan(spec, pool, 2).drain == Names{"web-3"});
  CHECK(Plan(spec, pool, 2, o).drain == Names{"web-2"});
  const std::set<std::string> all = {"web-1", "web-2", "web-3"};
  o.protect = &all;
  const ScalePlan p = Plan(spec, pool, 1, o);
  CHECK(p.drain.empty());
  CHECK(p.reason.find("2 more not drained: protected") != std::string::npos);
}

namespace {

// A pool that wants 3 active servers (a fixed policy), no behavior limits, one warm standby.
PoolSpec FixedThree() {
  PoolSpec spec;
  spec.name = "web";
  spec.min_active = 1;
  spec.max_active = 5;
  spec.warm_standby = 1;
  spec.max_total = 8;
  spec.behavior.scale_up.limits.clear();
  spec.behavior.scale_down.limits.clear();
  spec.behavior.scale_down.stabilization_window = 0;
  spec.policies = {PluginSpec{"fixed", "three", Params{"p0", "", {{"count", "3"}}}}};
  return spec;
}

}  // namespace

TEST_CASE("decider: a replacement under a pause swaps one server for another, and never grows the pool") {
  for (const char* paused : {"scale_down", "scale_up"}) {
    CAPTURE(std::string(paused));
    PoolSpec spec = FixedThree();
    std::vector<std::string> errors;
    PoolDecider decider(spec, CreatePolicies(spec, &errors));
    REQUIRE(errors.empty());
    PoolControls controls;
    (std::string(paused) == "scale_down" ? controls.pause.scale_down : controls.pause.scale_up) = true;
    controls.replace["web-3"] = ReplaceRequest{kNow - kSecond, "leaking", "alice"};
    // Tick 1: web-3 is being replaced: the 2 that stay are the current count, web-4 is promoted.
    PoolDecider::Outcome o = decider.Decide({}, Pool({Up("web-1"), Up("web-2"), Up("web-3"), Standby("web-4"), Standby("web-5")}),
                                            controls, kNow);
    CAPTURE(o.decision.reason);
    CHECK(o.decision.current == 2);
    CHECK(o.decision.desired == 3);
    CHECK(o.plan.promote == Names{"web-4"});
    CHECK(o.plan.drain.empty());
    // Tick 2: web-4 serves: web-3 leaves, and nothing more is promoted, paused or not.
    o = decider.Decide({}, Pool({Up("web-1"), Up("web-2"), Up("web-3"), Up("web-4"), Standby("web-5")}), controls,
                       kNow + 15 * kSecond);
    CHECK(o.decision.current == 3);
    CHECK(o.decision.desired == 3);
    CHECK(o.plan.promote.empty());
    CHECK(o.plan.drain == Names{"web-3"});
    CHECK(o.decision.reason.find("1 active being replaced, not counted") != std::string::npos);
  }
}
