#include "warmpool/behavior.h"

#include <doctest/doctest.h>

#include <random>

#include "policies/behavior.h"

using namespace warmpool;

namespace {
constexpr TimeMs kNow = 10'000'000;
using TC = BehaviorHistory::TimedCount;

ScalingRules Rules(DurationMs window, ScalingRules::Select select, std::vector<RateLimit> limits) {
  ScalingRules r;
  r.stabilization_window = window;
  r.select = select;
  r.limits = std::move(limits);
  return r;
}
RateLimit Servers(double v, DurationMs period) { return {RateLimit::Kind::kServers, v, period}; }
RateLimit Percent(double v, DurationMs period) { return {RateLimit::Kind::kPercent, v, period}; }
}  // namespace

TEST_CASE("behavior: table of HPA stabilization and rate-limit cases over explicit history") {
  using S = ScalingRules::Select;
  const BehaviorSpec hpa = BehaviorSpec::Defaults();
  struct Case {
    const char* name;
    BehaviorSpec spec;
    BehaviorHistory history;
    int current, recommended, want;
  };
  auto with_up = [&](ScalingRules r) {
    BehaviorSpec b = hpa;
    b.scale_up = r;
    return b;
  };
  auto with_down = [&](ScalingRules r) {
    BehaviorSpec b = hpa;
    b.scale_down = r;
    return b;
  };
  std::vector<Case> cases = {
      {"defaults: up by max(4 servers, 100%) from 2", hpa, {}, 2, 20, 6},
      {"defaults: up by 100% from 10", hpa, {}, 10, 40, 20},
      {"defaults: within the limit passes through", hpa, {}, 10, 13, 13},
      {"defaults: a +4 event 10 s ago uses up the period",
       hpa,
       {{}, {TC{kNow - 10 * kSecond, 4}}, {}},
       6,
       20,
       6},
      {"defaults: the period has passed", hpa, {{}, {TC{kNow - 15 * kSecond, 4}}, {}}, 6, 20, 12},
      {"select min takes the smaller change",
       with_up(Rules(0, S::kMin, {Servers(4, 15000), Percent(100, 15000)})),
       {},
       2,
       20,
       4},
      {"scale-up disabled", with_up(Rules(0, S::kDisabled, {Servers(4, 15000)})), {}, 2, 20, 2},
      {"no limits: unlimited", with_up(Rules(0, S::kMax, {})), {}, 2, 50, 50},
      {"up window: lowest recent recommendation",
       with_up(Rules(60 * kSecond, S::kMax, {})),
       {{TC{kNow - 30 * kSecond, 3}}, {}, {}},
       3,
       8,
       3},
      {"up window: partial agreement",
       with_up(Rules(60 * kSecond, S::kMax, {})),
       {{TC{kNow - 30 * kSecond, 5}, TC{kNow - 90 * kSecond, 1}}, {}, {}},
       3,
       8,
       5},
      {"defaults: down window 300 s holds the highest",
       hpa,
       {{TC{kNow - 100 * kSecond, 10}, TC{kNow - 50 * kSecond, 5}}, {}, {}},
       10,
       3,
       10},
      {"down window 60 s sees only the recent 5",
       with_down(Rules(60 * kSecond, S::kMax, {Percent(100, 15000)})),
       {{TC{kNow - 100 * kSecond, 10}, TC{kNow - 50 * kSecond, 5}}, {}, {}},
       10,
       3,
       5},
      {"down: 50% per minute", with_down(Rules(0, S::kMax, {Percent(50, kMinute)})), {}, 10, 2, 5},
      {"down: 50% per minute, already used",
       with_down(Rules(0, S::kMax, {Percent(50, kMinute)})),
       {{}, {}, {TC{kNow - 30 * kSecond, 5}}},
       5,
       2,
       5},
      {"down: 1 server per 15 s", with_down(Rules(0, S::kMax, {Servers(1, 15000)})), {}, 10, 2, 9},
      {"down: select max = largest change",
       with_down(Rules(0, S::kMax, {Servers(1, 15000), Percent(50, 15000)})),
       {},
       10,
       2,
       5},
      {"down: select min = smallest change",
       with_down(Rules(0, S::kMin, {Servers(1, 15000), Percent(50, 15000)})),
       {},
       10,
       2,
       9},
      {"down disabled", with_down(Rules(0, S::kDisabled, {})), {}, 10, 2, 10},
      {"from zero: 4 servers", hpa, {}, 0, 10, 4},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    BehaviorResult r = ApplyBehavior(c.spec, c.history, c.current, c.recommended, kNow);
    CHECK(r.desired == c.want);
    if (c.want != c.recommended) {
      CHECK_FALSE(r.reason.empty());
    } else {
      CHECK(r.reason.empty());
    }
  }
}

TEST_CASE("behavior: the same history and time give the same answer (replayable)") {
  BehaviorSpec spec = BehaviorSpec::Defaults();
  BehaviorHistory h;
  RecordBehavior(&h, 2, 10, 6, kNow);
  BehaviorResult a = ApplyBehavior(spec, h, 6, 20, kNow + 5 * kSecond);
  BehaviorResult b = ApplyBehavior(spec, h, 6, 20, kNow + 5 * kSecond);
  CHECK(a.desired == b.desired);
  CHECK(a.desired == 6);
  CHECK(ApplyBehavior(spec, h, 6, 20, kNow + 15 * kSecond).desired == 12);
}

TEST_CASE("behavior: RecordBehavior and Prune keep exactly what a window can see") {
  BehaviorSpec spec = BehaviorSpec::Defaults();  // longest horizon: the 300 s down window
  BehaviorHistory h;
  RecordBehavior(&h, 4, 8, 8, kNow);
  RecordBehavior(&h, 8, 5, 8, kNow + 101 * kSecond);
  RecordBehavior(&h, 8, 5, 5, kNow + 400 * kSecond);
  CHECK(h.recommendations.size() == 3);
  CHECK(h.scale_ups.size() == 1);
  CHECK(h.scale_ups[0].count == 4);
  CHECK(h.scale_downs.size() == 1);
  CHECK(h.scale_downs[0].count == 3);
  h.Prune(spec, kNow + 400 * kSecond);
  REQUIRE(h.recommendations.size() == 2);  // the first is 400 s old: outside every window
  CHECK(h.recommendations[0].at == kNow + 101 * kSecond);
  CHECK(h.scale_ups.empty());
}

TEST_CASE("behavior: a StabilizationTracker gives the bounds that walking the history gives") {
  std::mt19937 rng(11);
  for (int run = 0; run < 200; ++run) {
    CAPTURE(run);
    BehaviorSpec spec = BehaviorSpec::Defaults();
    const DurationMs windows[] = {0, 15 * kSecond, 60 * kSecond, 300 * kSecond};
    spec.scale_up.stabilization_window = windows[rng() % 4];
    spec.scale_down.stabilization_window = windows[rng() % 4];
    BehaviorHistory h;
    StabilizationTracker tracker;
    tracker.Reset(spec, h);
    TimeMs now = kNow;
    int current = 5;
    for (int tick = 0; tick < 300; ++tick) {
      CAPTURE(tick);
      now += rng() % 4 == 0 ? 0 : static_cast<DurationMs>(rng() % 4 + 1) * 5 * kSecond;  // repeats too
      const int recommended = static_cast<int>(rng() % 12);
      StabilizationBounds b;
      REQUIRE(tracker.Bounds(spec, now, &b));
      for (int c : {0, current, 11}) {
        const BehaviorResult walked = ApplyBehavior(spec, h, c, recommended, now, true);
        const BehaviorResult kept = ApplyBehavior(spec, h, c, recommended, now, true, &b);
        CHECK(walked.desired == kept.desired);
        CHECK(walked.reason == kept.reason);
      }
      const int desired = ApplyBehavior(spec, h, current, recommended, now, false, &b).desired;
      RecordBehavior(&h, current, recommended, desired, now);
      h.Prune(spec, now);
      tracker.Add(now, recommended);
      current = desired;
    }
    // Time going back, or a record out of order: not valid until reset from the history.
    StabilizationBounds b;
    CHECK_FALSE(tracker.Bounds(spec, now - kSecond, &b));
    tracker.Reset(spec, h);
    CHECK(tracker.Bounds(spec, now, &b));
    tracker.Add(now - kMinute, 3);
    CHECK_FALSE(tracker.valid());
    CHECK_FALSE(tracker.Bounds(spec, now, &b));
  }
}
