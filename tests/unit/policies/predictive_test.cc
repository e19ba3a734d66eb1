#include "policies/predictive.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <numbers>

#include "policies/decide.h"
#include "policies/registry.h"
#include "policies/target_tracking.h"

using namespace warmpool;

namespace {

constexpr TimeMs kT0 = 1'767'225'600'000;  // 2026-01-01T00:00:00Z
constexpr DurationMs kDay = 24 * kHour;

// A synthetic load played through the controller's recording: one history record per tick (the
// value the policy acted on) and a 5-minute window of samples at the tick step.
struct Sim {
  std::function<double(TimeMs)> load;
  DurationMs tick = 15 * kSecond;
  TimeMs start = kT0;
  std::vector<PolicyRecord> history;
  std::map<std::string, MetricWindow> windows;
  PoolState pool;

  // Records every tick in [start, end).
  void Record(TimeMs end) {
    for (TimeMs t = start; t < end; t += tick) history.push_back({t, true, 0, load(t)});
  }
  PolicyInput At(TimeMs now, int current) {
    MetricWindow w{"rps", {}, {}, {}};
    for (TimeMs t = now - 5 * kMinute + tick; t <= now; t += tick) w.samples.push_back({t, load(t)});
    windows["rps"] = std::move(w);
    PolicyInput in;
    in.windows = &windows;
    in.pool = &pool;
    in.current = current;
    in.now = now;
    in.stale_after = 2 * kMinute;
    auto end = std::lower_bound(history.begin(), history.end(), now,
                                [](const PolicyRecord& r, TimeMs t) { return r.at < t; });
    in.history = std::span<const PolicyRecord>(history.data(), static_cast<size_t>(end - history.begin()));
    return in;
  }
};

// Deterministic noise in [-1, 1].
double Noise(TimeMs t) {
  uint64_t x = static_cast<uint64_t>(t) * 0x9E3779B97F4A7C15ull;
  x ^= x >> 29;
  x *= 0xBF58476D1CE4E5B9ull;
  x ^= x >> 32;
  return static_cast<double>(x % 20001) / 10000.0 - 1.0;
}

PredictiveSpec Spec(DurationMs horizon = 2 * kMinute, DurationMs season = 24 * kHour) {
  PredictiveSpec s;
  s.metric = "rps";
  s.target = 100;
  s.horizon = horizon;
  s.season = season;
  return s;
}

TargetTrackingSpec Reactive() {
  TargetTrackingSpec s;
  s.metric = "rps";
  s.target = 100;
  s.tolerance_up = s.tolerance_down = 0;
  return s;
}

// The first tick in [from, to) at which `desired(t)` reaches n, or -1.
TimeMs FirstReach(TimeMs from, TimeMs to, DurationMs tick, int n, const std::function<int(TimeMs)>& desired) {
  for (TimeMs t = from; t < to; t += tick) {
    if (desired(t) >= n) return t;
  }
  return -1;
}

}  // namespace

TEST_CASE("predictive: leads a ramp (reaches each count before target_tracking does)") {
  Sim sim;
  const TimeMs ramp = kT0 + 2 * kHour;  // flat 200 rps, then +20 rps a minute
  sim.load = [ramp](TimeMs t) {
    return 200 + (t > ramp ? 20.0 * static_cast<double>(t - ramp) / kMinute : 0);
  };
  const TimeMs end = ramp + 40 * kMinute;
  sim.Record(end);
  const PredictiveSpec spec = Spec();
  auto predictive = [&](TimeMs t) { return PredictiveRecommend("p", spec, sim.At(t, 2)).desired; };
  auto reactive = [&](TimeMs t) { return TargetTrackingRecommend("tt", Reactive(), sim.At(t, 2)).desired; };
  for (int n = 3; n <= 9; ++n) {
    CAPTURE(n);
    const TimeMs p = FirstReach(ramp - kHour, end, sim.tick, n, predictive);
    const TimeMs r = FirstReach(ramp - kHour, end, sim.tick, n, reactive);
    REQUIRE(p > 0);
    REQUIRE(r > 0);
    CHECK(p > ramp);  // no false alarm on the flat part
    CHECK(p <= r);
    // From the 4th server on, at that instant predictive recommends more than target_tracking.
    if (n >= 4) CHECK(p < r);
    // As the trend is learned the lead grows to most of the horizon.
    if (n >= 5) CHECK(r - p >= spec.horizon / 2);
    if (n >= 6) CHECK(r - p >= spec.horizon * 3 / 4);
  }
  Recommendation rec = PredictiveRecommend("p", spec, sim.At(ramp + 20 * kMinute, 6));
  CHECK(rec.valid);
  CHECK_FALSE(rec.allow_scale_down);
  CHECK(rec.reason.find("forecast peak ") == 0);
  CHECK(rec.reason.find(" rps in 2m (WAPE ") != std::string::npos);
  CHECK(rec.reason.find("trend only until 24h of history): needs ") != std::string::npos);
}

TEST_CASE("predictive: a daily sine learned from days of history is ready a horizon before the peak") {
  Sim sim;
  sim.tick = kMinute;
  // 500 +/- 430 rps, peak at 15:00 UTC each day, 1% noise.
  sim.load = [](TimeMs t) {
    const double phase = 2 * std::numbers::pi * static_cast<double>((t - kT0 - 9 * kHour) % kDay) / kDay;
    return (500 + 430 * std::sin(phase)) * (1 + 0.01 * Noise(t));
  };
  const TimeMs day4 = kT0 + 3 * kDay, peak = day4 + 15 * kHour;
  sim.Record(day4 + kDay);
  const PredictiveSpec spec = Spec(30 * kMinute);
  auto predictive = [&](TimeMs t) { return PredictiveRecommend("p", spec, sim.At(t, 5)).desired; };
  auto reactive = [&](TimeMs t) { return TargetTrackingRecommend("tt", Reactive(), sim.At(t, 5)).desired; };
  const int peak_need = 10;  // ceil(930 / 100)
  const TimeMs p = FirstReach(day4 + 3 * kHour, peak, sim.tick, peak_need, predictive);
  REQUIRE(p > 0);
  CHECK(p <= peak - spec.horizon);
  // Every count on the way up is reached about a horizon before target_tracking reaches it.
  for (int n = 6; n <= peak_need; ++n) {
    CAPTURE(n);
    const TimeMs pn = FirstReach(day4 + 3 * kHour, peak, sim.tick, n, predictive);
    const TimeMs rn = FirstReach(day4 + 3 * kHour, peak, sim.tick, n, reactive);
    REQUIRE(pn > 0);
    REQUIRE(rn > 0);
    CHECK(rn - pn >= spec.horizon - 5 * kMinute);
    // And not wildly early either, where the load rises steeply enough for time to be meaningful
    // (near the flat top a forecast 2% high is half an hour early).
    if (n <= 8) CHECK(rn - pn <= spec.horizon + 10 * kMinute);
  }
  Recommendation rec = PredictiveRecommend("p", spec, sim.At(peak - kHour, 8));
  CHECK(rec.reason.find("seasonal 24h") != std::string::npos);
  Forecast fc = PredictiveForecast(spec, sim.At(peak - kHour, 8));
  CHECK(fc.seasonal);
  CHECK(fc.error >= 0);
  CHECK(fc.error < 0.03);  // 1% noise: the horizon-ahead forecasts are close
  CHECK(fc.span > 3 * kDay - kHour);
}

TEST_CASE("predictive: a single spike does not make it overreact") {
  Sim sim;
  sim.load = [](TimeMs t) { return 400 * (1 + 0.03 * Noise(t)); };
  const TimeMs now = kT0 + 2 * kHour;
  sim.Record(now);
  const PredictiveSpec spec = Spec();
  const int calm = PredictiveRecommend("p", spec, sim.At(now, 4)).desired;
  CHECK(calm >= 4);
  CHECK(calm <= 5);
  SUBCASE("a 10x spike in the newest sample") {
    PolicyInput in = sim.At(now, 4);
    sim.windows["rps"].samples.back().value = 4000;
    CHECK(TargetTrackingRecommend("tt", Reactive(), in).desired == 40);
    const int spiked = PredictiveRecommend("p", spec, in).desired;
    CHECK(spiked >= calm);
    CHECK(spiked - calm <= 1);
  }
  SUBCASE("a 10x spike one minute ago, in history and window") {
    const TimeMs at = now - kMinute;
    for (PolicyRecord& r : sim.history) {
      if (r.at == at) r.metric = 4000;
    }
    PolicyInput in = sim.At(now, 4);
    for (Sample& s : sim.windows["rps"].samples) {
      if (s.t == at) s.value = 4000;
    }
    CHECK(PredictiveRecommend("p", spec, in).desired - calm <= 1);
  }
}

TEST_CASE("predictive: never scales in on the forecast alone") {
  Sim sim;
  const TimeMs fall = kT0 + kHour;  // 800 rps falling to 200 over 30 minutes
  sim.load = [fall](TimeMs t) {
    return t < fall ? 800.0 : std::max(200.0, 800 - 20.0 * static_cast<double>(t - fall) / kMinute);
  };
  const TimeMs now = fall + 20 * kMinute;
  sim.Record(now);
  Recommendation rec = PredictiveRecommend("p", Spec(), sim.At(now, 8));
  CHECK(rec.valid);
  CHECK_FALSE(rec.allow_scale_down);
  CHECK(rec.desired < 8);  // it may say less...
  PoolSpec pool;
  pool.min_active = 1;
  pool.max_active = 20;
  pool.behavior.scale_down.stabilization_window = 0;
  // ...but Decide does not scale in on it alone,
  Decision alone = Decide(pool, {rec}, BehaviorHistory{}, 8, now);
  CHECK(alone.desired == 8);
  // nor below it when a policy that may scale down wants fewer.
  Recommendation low;
  low.policy = "tt";
  low.valid = true;
  low.desired = rec.desired - 1;
  CHECK(Decide(pool, {rec, low}, BehaviorHistory{}, 8, now).desired >= rec.desired);
}

TEST_CASE("predictive: a missing or stale metric makes it invalid, whatever its history") {
  Sim sim;
  sim.load = [](TimeMs) { return 300.0; };
  const TimeMs now = kT0 + kHour;
  sim.Record(now);
  PolicyInput in = sim.At(now, 3);
  SUBCASE("no window") { sim.windows.clear(); }
  SUBCASE("empty window") { sim.windows["rps"].samples.clear(); }
  SUBCASE("only NaN") {
    for (Sample& s : sim.windows["rps"].samples) s.value = std::numeric_limits<double>::quiet_NaN();
  }
  SUBCASE("stale") { sim.windows["rps"].samples = {{now - 3 * kMinute, 300}}; }
  Recommendation rec = PredictiveRecommend("p", Spec(), in);
  CHECK_FALSE(rec.valid);
  CHECK(rec.reason.find("rps missing or stale") == 0);
}

TEST_CASE("predictive: pure, and works from a cold start with only the window") {
  Sim sim;
  sim.load = [](TimeMs t) { return 300 + 10.0 * static_cast<double>(t - kT0) / kMinute; };
  const TimeMs now = kT0 + 10 * kMinute;
  PolicyInput in = sim.At(now, 3);  // no history at all
  Recommendation a = PredictiveRecommend("p", Spec(), in), b = PredictiveRecommend("p", Spec(), in);
  CHECK(a.valid);
  CHECK(a.desired == b.desired);
  CHECK(a.reason == b.reason);
  CHECK(a.desired >= 4);  // 400 rps now and rising
  CHECK(a.reason.find("no forecast scored yet") != std::string::npos);
  // Gaps in history (NaN records, a controller restart) are skipped, not extrapolated wildly.
  sim.Record(now - 5 * kMinute);
  for (size_t i = 0; i < sim.history.size(); i += 2) sim.history[i].metric = std::nan("");
  Forecast fc = PredictiveForecast(Spec(), sim.At(now, 3));
  CHECK(fc.ok);
  CHECK(fc.peak > 390);
  CHECK(fc.peak < 460);
}

namespace {

bool Same(double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); }

// Plays `ticks` ticks of `load` as the controller does (a 5-minute window at the tick step, one
// record per tick, the history trimmed by a tenth at 20,000 records), calling `model` every tick,
// and checks its forecast against a fresh computation at every `every`-th tick and around trims.
// Returns how many ticks were compared.
int CheckResumedEqualsFresh(const PredictiveSpec& spec, const std::function<double(TimeMs)>& load, int ticks,
                            int every) {
  const DurationMs tick = 15 * kSecond;
  PredictiveModel model;
  std::vector<PolicyRecord> history;
  std::map<std::string, MetricWindow> windows;
  PoolState pool;
  int compared = 0, since_trim = 1000;
  for (int i = 0; i < ticks; ++i) {
    const TimeMs now = kT0 + i * tick;
    MetricWindow& w = windows["rps"];
    w.samples.clear();
    for (TimeMs t = now - 5 * kMinute + tick; t <= now; t += tick) w.samples.push_back({t, load(t)});
    PolicyInput in;
    in.windows = &windows;
    in.pool = &pool;
    in.now = now;
    in.stale_after = 2 * kMinute;
    in.history = history;
    const Forecast got = PredictiveForecast(spec, in, &model);
    if (i % every == 0 || since_trim < 8) {
      CAPTURE(i);
      const Forecast want = PredictiveForecast(spec, in);
      CHECK(got.ok == want.ok);
      CHECK(Same(got.peak, want.peak));
      CHECK(got.peak_in == want.peak_in);
      CHECK(Same(got.level, want.level));
      CHECK(Same(got.trend, want.trend));
      CHECK(Same(got.error, want.error));
      CHECK(got.span == want.span);
      CHECK(got.seasonal == want.seasonal);
      ++compared;
    }
    ++since_trim;
    if (history.size() >= 20000) {
      history.erase(history.begin(), history.begin() + 2000);
      since_trim = 0;
    }
    const std::optional<Sample> latest = w.Latest(now, in.stale_after);
    history.push_back({now, true, 0, latest ? latest->value : std::nan("")});
  }
  return compared;
}

// A daily shape with noise, spikes, a 20-minute outage (NaN) and a step up on the third day.
double Rough(TimeMs t) {
  if (t >= kT0 + 30 * kHour && t < kT0 + 30 * kHour + 20 * kMinute) return std::nan("");
  const double phase = 2 * std::numbers::pi * static_cast<double>((t - kT0) % kDay) / kDay;
  double v = (400 + 300 * std::sin(phase)) * (1 + 0.05 * Noise(t));
  if ((t / kSecond) % 7919 < 15) v *= 4;
  if (t >= kT0 + 2 * kDay + 7 * kHour) v += 250;
  return v;
}

}  // namespace

TEST_CASE("predictive: resuming the model gives what a fresh computation gives, tick after tick") {
  // 4.5 days at 15 s: the history is trimmed from 20,000 records on, the first and second seasons
  // complete, and the start runs from the first 10 buckets.
  const int ticks = static_cast<int>(4.5 * kDay / (15 * kSecond));
  CHECK(CheckResumedEqualsFresh(Spec(3 * kMinute), Rough, ticks, 97) > 250);
  // A short season (many season completions), a step of 2m, and a history shorter than the records:
  // the oldest sample goes every tick.
  PredictiveSpec short_history = Spec(5 * kMinute, 2 * kHour);
  short_history.step = 2 * kMinute;
  short_history.history = 5 * kHour;
  CHECK(CheckResumedEqualsFresh(short_history, Rough, 4000, 13) > 250);
  // No season: level and trend only.
  CHECK(CheckResumedEqualsFresh(Spec(2 * kMinute, 0), Rough, 9000, 29) > 250);
}

// The policy object resumes its model; its recommendations (reasons included) are a fresh one's.
TEST_CASE("predictive: a policy object recommends what a fresh one does") {
  std::vector<std::string> errors;
  auto policy = NewPredictivePolicy(
      "forecast", Params{"p", "", {{"metric", "rps"}, {"target_per_server", "50"}, {"horizon", "3m"}}},
      &errors);
  REQUIRE(policy);
  const DurationMs tick = 15 * kSecond;
  Sim sim;
  sim.load = Rough;
  for (int i = 0; i < 3 * 24 * 240; ++i) {
    const TimeMs now = kT0 + i * tick;
    PolicyInput in = sim.At(now, 4);
    in.explain = i % 50 == 0;
    const Recommendation got = policy->Recommend(in);
    if (in.explain) {
      CAPTURE(i);
      auto fresh = NewPredictivePolicy(
          "forecast", Params{"p", "", {{"metric", "rps"}, {"target_per_server", "50"}, {"horizon", "3m"}}},
          &errors);
      const Recommendation want = fresh->Recommend(in);
      CHECK(got.valid == want.valid);
      CHECK(got.desired == want.desired);
      CHECK(got.reason == want.reason);
    }
    sim.history.push_back({now, true, got.desired, sim.load(now)});
  }
}

TEST_CASE("predictive factory: defaults and path-named errors") {
  struct Case {
    const char* name;
    std::map<std::string, std::string> values;
    std::vector<std::string> want;  // exact errors, in order; empty = valid
  };
  const std::vector<Case> cases = {
      {"minimal", {{"metric", "rps"}, {"target_per_server", "100"}}, {}},
      {"everything",
       {{"metric", "rps"},
        {"target_per_server", "100"},
        {"horizon", "5m"},
        {"season", "7d"},
        {"history", "14d"},
        {"step", "5m"},
        {"alpha", "0.4"},
        {"beta", "0.05"},
        {"gamma", "0.2"}},
       {}},
      {"no season", {{"metric", "rps"}, {"target_per_server", "1"}, {"season", "0"}, {"history", "1h"}}, {}},
      {"nothing",
       {},
       {"p.metric: required (the name of one of the pool's metrics)",
        "p.target_per_server: required (the metric one server can carry)"}},
      {"bad numbers",
       {{"metric", "rps"}, {"target_per_server", "0"}, {"alpha", "1.5"}, {"horizon", "2"}},
       {"p.target_per_server: must be between 1e-09 and 1.79769e+308, got 0",
        "p.horizon: must be a duration like 15s, 5m or 1h30m (missing unit), got \"2\"",
        "p.alpha: must be between 1e-06 and 1, got 1.5"}},
      {"season not a multiple of step",
       {{"metric", "rps"}, {"target_per_server", "1"}, {"season", "90s"}, {"history", "1h"}},
       {"p.season: must be a multiple of step (1m), got 1m30s"}},
      {"history shorter than a season",
       {{"metric", "rps"}, {"target_per_server", "1"}, {"history", "6h"}},
       {"p.history: must cover at least one season (24h) to learn it, got 6h; or set season: 0 to forecast "
        "from the trend only"}},
      {"unknown key",
       {{"metric", "rps"}, {"target_per_server", "1"}, {"target_utilization", "0.5"}},
       {"p.target_utilization: unknown key"}},
  };
  for (const Case& c : cases) {
    const std::string name = c.name;
    CAPTURE(name);
    std::vector<std::string> errors;
    auto p = NewPredictivePolicy("pred", Params{"p", "", c.values}, &errors);
    CHECK(errors == c.want);
    CHECK((p != nullptr) == c.want.empty());
    if (p) CHECK(p->Inputs().metrics == std::vector<std::string>{"rps"});
  }
  std::vector<std::string> errors;
  auto p = CreatePolicy("predictive", "pred",
                        Params{"p", "", {{"metric", "rps"}, {"target_per_server", "1"}}}, &errors);
  REQUIRE(p);
  CHECK(p->Name() == "pred");
}
