#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "policies/pool_decider.h"
#include "policies/surge.h"

using namespace warmpool;

namespace {

constexpr TimeMs kStart = 1'700'000'000'000;
constexpr DurationMs kTick = 15 * kSecond;

SurgeSpec Spec() {
  SurgeSpec s;
  s.enabled = true;
  s.metric = "rps";
  s.server_capacity = 100;
  return s;
}

// A load of about 200 with +/- 10% noise (deterministic), the way a steady hour looks.
double Steady(int i) { return 200 * (1 + 0.1 * std::sin(i * 1.7) * std::cos(i * 0.31)); }

// Feeds `ticks` of `load(i)` from `*t` on, one per tick.
void Feed(SurgeDetector* d, TimeMs* t, int from, int ticks, const std::function<double(int)>& load) {
  for (int i = from; i < from + ticks; ++i) {
    d->Observe(*t, load(i));
    *t += kTick;
  }
}

}  // namespace

TEST_CASE("surge: a flash crowd is met within one tick, for where it is heading, and backs off") {
  SurgeDetector d(Spec());
  TimeMs t = kStart;
  Feed(&d, &t, 0, 240, Steady);  // an hour of steady load: the record's rises are noise
  CHECK_FALSE(d.Current().active);
  // x10 within a minute (200 -> 2000, linear as a 1-minute trace is read at 15 s ticks): the first
  // tick of the rise (200 -> 650) is a surge already.
  d.Observe(t, 650);
  const SurgeDetector::Surge first = d.Current();
  REQUIRE(first.active);
  CHECK(first.started);
  INFO(first.reason);
  CHECK(first.reason.rfind("surge: rps +", 0) == 0);
  CHECK(first.reason.find("beyond the record's largest rise") != std::string::npos);
  CHECK(first.reason.find("provisioning for ") != std::string::npos);
  CHECK(first.reason.find(" in 1m30s -> ") != std::string::npos);
  // Where it is heading in 90 s at the rate it rose, not this tick's 650: more than 6.5 servers' worth.
  CHECK(first.floor > 7);
  t += kTick;
  // The floor never falls while the surge lasts.
  int floor = first.floor;
  for (double load : {1100.0, 1550.0, 2000.0, 2000.0, 1950.0}) {
    d.Observe(t, load);
    t += kTick;
    CHECK(d.Current().active);
    CHECK(d.Current().floor >= floor);
    floor = d.Current().floor;
  }
  CHECK(floor <= 50);  // 2000 + 1350/45 s * 90 s = 4700 at most: 47 servers
  // The load holds at 2000: no fast rise for `hold` (2m) ends it.
  bool ended = false;
  std::string over;
  for (int i = 0; i < 12 && !ended; ++i) {
    d.Observe(t, 2000);
    t += kTick;
    ended = d.Current().ended;
    if (ended) over = d.Current().reason;
  }
  REQUIRE(ended);
  CHECK_FALSE(d.Current().active);
  CHECK(d.Current().floor == 0);
  CHECK(over.rfind("surge over: rps has not risen", 0) == 0);
  d.Observe(t, 2000);
  CHECK(d.Current().reason.empty());
}

TEST_CASE("surge: a rise the record has seen before is not one, nor is noise or a small rise") {
  SurgeDetector d(Spec());
  TimeMs t = kStart;
  Feed(&d, &t, 0, 240, Steady);
  // A first jump to 800 is a surge.
  bool surged = false;
  for (double load : {400.0, 600.0, 800.0}) {
    d.Observe(t, load);
    t += kTick;
    surged = surged || d.Current().active;
  }
  CHECK(surged);
  Feed(&d, &t, 0, 60, [](int) { return 800.0; });
  Feed(&d, &t, 0, 240, Steady);  // back to quiet for an hour
  CHECK_FALSE(d.Current().active);
  // The same jump again within `memory`: the record has it, the policies and the warm pool know it.
  for (double load : {400.0, 600.0, 800.0}) {
    d.Observe(t, load);
    t += kTick;
    CHECK_FALSE(d.Current().active);
  }
  // Noise at a high load never is one: +/- 10% of 2000 is 2 servers' worth, but not +50%.
  SurgeDetector n(Spec());
  t = kStart;
  Feed(&n, &t, 0, 480, [](int i) { return 10 * Steady(i); });
  CHECK_FALSE(n.Current().active);
  // A rise of +100% that is less than min_servers (2 servers' worth) is not one either.
  SurgeDetector small(Spec());
  t = kStart;
  Feed(&small, &t, 0, 40, [](int) { return 50.0; });
  Feed(&small, &t, 0, 4, [](int) { return 150.0; });
  CHECK_FALSE(small.Current().active);
}

TEST_CASE("surge: the config's settings are read and checked, with the setting's path") {
  Params p;
  p.path = "pools[0].surge";
  p.values = {{"window", "2m"}, {"lead", "60s"}, {"min_rise", "1"}, {"min_servers", "3"}, {"memory", "48h"},
              {"hold", "5m"}};
  SurgeSpec s;
  std::vector<std::string> errors;
  REQUIRE(ReadSurgeSpec(p, &s, &errors));
  CHECK(s.enabled);
  CHECK(s.window == 2 * kMinute);
  CHECK(s.lead == kMinute);
  CHECK(s.min_rise == 1);
  CHECK(s.min_servers == 3);
  CHECK(s.memory == 48 * kHour);
  CHECK(s.hold == 5 * kMinute);
  p.values = {{"window", "2h"}, {"colour", "red"}, {"server_capacity", "0"}};
  errors.clear();
  CHECK_FALSE(ReadSurgeSpec(p, &s, &errors));
  std::string all;
  for (const std::string& e : errors) all += e + "\n";
  INFO(all);
  CHECK(all.find("pools[0].surge.window: must be at most 1h, got 2h") != std::string::npos);
  CHECK(all.find("pools[0].surge.colour") != std::string::npos);
  CHECK(all.find("pools[0].surge.server_capacity: must be > 0") != std::string::npos);
}

namespace {

PoolState Pool(int active, int standby) {
  PoolState p;
  p.pool = "web";
  for (int i = 0; i < active + standby; ++i) {
    Server s;
    s.name = "web-" + std::to_string(i + 1);
    s.address = "10.0.0." + std::to_string(i + 1) + ":80";
    s.state = i < active ? ServerState::kActive : ServerState::kStandby;
    s.health = Health::kHealthy;
    p.servers.push_back(s);
  }
  return p;
}

std::map<std::string, MetricWindow> Load(TimeMs t, double v) {
  MetricWindow w;
  w.metric = "rps";
  w.samples.push_back({t, v});
  return {{"rps", w}};
}

}  // namespace

TEST_CASE("decider: a surge goes past the scale-up limit and promotes every standby, and an override still wins") {
  PoolSpec spec;
  spec.name = "web";
  spec.min_active = 2;
  spec.max_active = 40;
  spec.behavior = BehaviorSpec::Defaults();  // HPA's: 4 servers or 100% per 15 s, 5-minute scale-down window
  spec.policies = {PluginSpec{"target_tracking", "rps",
                              Params{"pools[0].policies[0]", "", {{"metric", "rps"}, {"target_per_server", "100"}}}}};
  spec.surge = Spec();
  for (bool with_surge : {false, true}) {
    CAPTURE(with_surge);
    PoolSpec s = spec;
    s.surge.enabled = with_surge;
    std::vector<std::string> errors;
    PoolDecider decider(s, CreatePolicies(s, &errors));
    REQUIRE(errors.empty());
    TimeMs t = kStart;
    for (int i = 0; i < 240; ++i, t += kTick) decider.Decide(Load(t, Steady(i)), Pool(2, 3), {}, t);
    const PoolDecider::Outcome o = decider.Decide(Load(t, 650), Pool(2, 3), {}, t);
    INFO(o.decision.reason);
    if (!with_surge) {
      CHECK(o.decision.desired == 6);  // the larger of 4 servers and 100% per 15 s: 2 + 4
      CHECK_FALSE(o.decision.surge);
      continue;
    }
    CHECK(o.decision.surge);
    CHECK(o.decision.policy == "surge");
    CHECK(o.decision.desired > 7);                          // for where it is heading, past the limit
    CHECK(o.plan.promote.size() == 3);                      // every standby at once
    CHECK(o.plan.provision.size() >= static_cast<size_t>(o.decision.desired - 5));  // the rest ordered now
    CHECK(o.decision.reason.find("surge: rps +") != std::string::npos);
    // An operator's override still wins over a surge.
    PoolControls controls;
    controls.override = Override{};
    controls.override->active = 3;
    t += kTick;
    const PoolDecider::Outcome held = decider.Decide(Load(t, 1100), Pool(2, 3), controls, t);
    CHECK(held.decision.surge);
    CHECK(held.decision.desired == 3);
  }
}
