#include "policies/warm_pool_sizer.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <vector>

#include "warmpool/text.h"

using namespace warmpool;

namespace {

constexpr TimeMs kDay0 = 1'700'006'400'000;  // a midnight (UTC), so phases are easy to read
constexpr DurationMs kTick = 15 * kSecond;

WarmAutoSpec Spec() {
  WarmAutoSpec s;
  s.enabled = true;
  s.metric = "rps";
  s.server_capacity = 100;
  s.min = 0;
  s.max = 10;
  s.horizon = 2 * kMinute;
  s.quantile = 0.95;
  s.recent = kHour;
  s.season = 24 * kHour;
  s.seasons = 7;
  s.season_share = 0.2;  // 2 of 7
  s.season_slack = 2 * kMinute;
  s.step = kMinute;
  return s;
}

// A daily surge: 300 rps, except 1000 rps from 12:00 to 12:20 (a job, a newsletter).
double Daily(TimeMs t) {
  const TimeMs in_day = (t - kDay0) % (24 * kHour);
  return in_day >= 12 * kHour && in_day < 12 * kHour + 20 * kMinute ? 1000 : 300;
}

}  // namespace

TEST_CASE("warm_pool_sizer: a flat load keeps the minimum, and the reason says so") {
  WarmAutoSpec spec = Spec();
  spec.min = 1;
  WarmPoolSizer sizer(spec);
  WarmPoolSizer::Size z = sizer.Target(300, 3, true);
  CHECK(z.standby == 1);
  CHECK(z.reason.find("no rise learned yet") != std::string::npos);
  for (TimeMs t = kDay0; t < kDay0 + 2 * kHour; t += kTick) sizer.Observe(t, 300);
  z = sizer.Target(300, 3, true);
  CHECK(z.rise == 0);
  CHECK(z.needed == 3);
  CHECK(z.standby == 1);  // min, though 3 active already carry 300
  CHECK(z.reason.find("warm standby 1 (auto: rps 300 + likely rise 0 within 2m needs 3") == 0);
  CHECK(z.reason.find("bounded to [1, 10]") != std::string::npos);
}

TEST_CASE("warm_pool_sizer: a jumpy hour holds the rise most ticks see within the horizon") {
  WarmPoolSizer sizer(Spec());
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> noise(0, 250);
  for (TimeMs t = kDay0; t < kDay0 + kHour; t += kTick) sizer.Observe(t, 300 + noise(rng));
  WarmPoolSizer::Size z = sizer.Target(300, 3, false);
  // Rises over 2 minutes of a uniform 0..250 noise: the 95th percentile is close to 250.
  CHECK(z.recent > 180);
  CHECK(z.recent <= 250);
  CHECK(z.standby == static_cast<int>(std::ceil((300 + z.rise) / 100)) - 3);
  CHECK(z.standby >= 2);

  // Then an hour of calm: the jumpy ticks leave the window and the estimate falls to nothing.
  for (TimeMs t = kDay0 + kHour; t < kDay0 + 2 * kHour + 5 * kMinute; t += kTick) sizer.Observe(t, 300);
  CHECK(sizer.Target(300, 3, false).recent == 0);
  CHECK(sizer.Target(300, 3, false).standby == 0);
}

TEST_CASE("warm_pool_sizer: the recent estimate equals its definition, with ties, gaps and short records") {
  // The sizer keeps the record's rises sorted, moving one into the place of one that leaves; this
  // recomputes every rise from all observations, as the definition reads: a tick's rise is the highest
  // load within its horizon less its own, and the estimate the quantile of the rises of the ticks
  // finished within `recent`, taken at each new minute or when a new rise exceeds it.
  struct Case {
    DurationMs horizon, recent;
    double quantile;
  };
  for (const Case& c : {Case{2 * kMinute, kHour, 0.9}, Case{10 * kMinute, kHour, 0.99},
                        Case{2 * kMinute, 20 * kMinute, 0.5}, Case{3 * kMinute, 4 * kMinute, 0.95}}) {
    CAPTURE(c.horizon);
    CAPTURE(c.recent);
    WarmAutoSpec spec = Spec();
    spec.season = 0;
    spec.horizon = c.horizon;
    spec.recent = c.recent;
    spec.quantile = c.quantile;
    WarmPoolSizer sizer(spec);
    std::vector<std::pair<TimeMs, double>> seen;
    std::mt19937 rng(11);
    std::uniform_int_distribution<int> step(-3, 3);  // whole steps of 20: many equal loads and rises
    double load = 400, want = 0;
    int64_t minute = std::numeric_limits<int64_t>::min();
    int checked = 0, nonzero = 0;
    for (TimeMs t = kDay0; t < kDay0 + 6 * kHour; t += kTick) {
      const TimeMs in_day = t - kDay0;
      if (in_day >= 2 * kHour && in_day < 2 * kHour + 7 * kMinute) continue;  // a gap: many finish at once
      load = std::clamp(load + 20 * step(rng), 100.0, 1000.0);
      if (in_day % (40 * kMinute) == 0) load += 400;  // a jump now and then
      sizer.Observe(t, load);
      seen.emplace_back(t, load);
      std::vector<double> rises;
      bool raised = false;
      for (size_t i = 0; i < seen.size(); ++i) {
        const TimeMs ti = seen[i].first;
        if (ti + c.horizon >= t || ti < t - c.recent) continue;  // not finished, or left the record
        double peak = seen[i].second;
        for (size_t j = i; j < seen.size() && seen[j].first <= ti + c.horizon; ++j) {
          peak = std::max(peak, seen[j].second);
        }
        rises.push_back(std::max(0.0, peak - seen[i].second));
        // finished at this tick: the first observation after its horizon is this one
        const bool now = seen.size() >= 2 && seen[seen.size() - 2].first <= ti + c.horizon;
        raised = raised || (now && rises.back() > want);
      }
      if (raised || FloorDiv(t, kMinute) != minute) {
        minute = FloorDiv(t, kMinute);
        std::sort(rises.begin(), rises.end());
        const size_t n = rises.size();
        want =
            n == 0
                ? 0
                : rises[std::clamp<size_t>(static_cast<size_t>(std::ceil(c.quantile * n - 1e-9)), 1, n) - 1];
      }
      const double got = sizer.Target(load, 0, false).recent;
      if (got != want) {
        FAIL_CHECK("at " << in_day / kSecond << " s: recent " << got << ", by definition " << want);
        break;
      }
      ++checked;
      nonzero += want > 0;
    }
    CHECK(checked > 1000);
    CHECK(nonzero > 500);  // the comparison is not all zeros
  }
}

TEST_CASE("warm_pool_sizer: a new rise above the estimate raises it at once") {
  WarmPoolSizer sizer(Spec());
  TimeMs t = kDay0;
  for (; t < kDay0 + 30 * kMinute; t += kTick) sizer.Observe(t, 300);
  CHECK(sizer.Target(300, 3, false).recent == 0);
  // A jump to 900 at t: ticks up to two minutes before it see a rise of 600. Once the first of them
  // is finished (its horizon passed), the estimate moves, even mid-minute.
  for (int i = 0; i < 12; ++i, t += kTick) sizer.Observe(t, 900);
  CHECK(sizer.Target(900, 9, false).recent == doctest::Approx(600));
}

TEST_CASE("warm_pool_sizer: a daily surge is ready for before it starts, and not at other hours") {
  WarmPoolSizer sizer(Spec());
  auto run_until = [&](TimeMs end, TimeMs* t) {
    for (; *t < end; *t += kTick) sizer.Observe(*t, Daily(*t));
  };
  TimeMs t = kDay0;
  // Day 1: nothing learned about noon yet. Just before the surge the pool keeps only the minimum.
  run_until(kDay0 + 11 * kHour + 57 * kMinute, &t);
  CHECK(sizer.Target(300, 3, false).standby == 0);
  // Two days of surges are enough (season_share 0.2 of 7 seasons = 2 of them).
  run_until(kDay0 + 2 * 24 * kHour + 11 * kHour + 57 * kMinute, &t);
  WarmPoolSizer::Size z = sizer.Target(300, 3, true);
  CHECK(z.seasonal == doctest::Approx(700));
  CHECK(z.standby == 7);  // (300 + 700) / 100 = 10 servers, 3 active
  CHECK(z.reason.find("seasonal 700 (seen in 2 of the last 7 seasons of 24h at this time; 2 with data)") !=
        std::string::npos);
  // Provisioning takes ~90 s: 2.5 minutes before noon the standbys are already being asked for.
  WarmPoolSizer early(Spec());
  for (TimeMs u = kDay0; u < kDay0 + 2 * 24 * kHour + 11 * kHour + 57 * kMinute - 30 * kSecond; u += kTick) {
    early.Observe(u, Daily(u));
  }
  CHECK(early.Target(300, 3, false).standby == 7);
  // At 06:00 the same day nothing is expected: back to the minimum.
  run_until(kDay0 + 3 * 24 * kHour + 6 * kHour, &t);
  z = sizer.Target(300, 3, false);
  CHECK(z.seasonal == 0);
  CHECK(z.standby == 0);
}

TEST_CASE("warm_pool_sizer: a surge seen on one day of seven is not prepared for at share 0.2") {
  WarmPoolSizer sizer(Spec());
  TimeMs t = kDay0;
  for (; t < kDay0 + 7 * 24 * kHour + 11 * kHour + 58 * kMinute; t += kTick) {
    const bool day_three = t >= kDay0 + 2 * 24 * kHour && t < kDay0 + 3 * 24 * kHour;
    sizer.Observe(t, day_three ? Daily(t) : 300);
  }
  CHECK(sizer.Target(300, 3, false).seasonal == 0);
  WarmAutoSpec any = Spec();
  any.season_share = 0.1;  // 1 of 7
  WarmPoolSizer eager(any);
  for (TimeMs u = kDay0; u < t; u += kTick) {
    const bool day_three = u >= kDay0 + 2 * 24 * kHour && u < kDay0 + 3 * 24 * kHour;
    eager.Observe(u, day_three ? Daily(u) : 300);
  }
  CHECK(eager.Target(300, 3, false).seasonal == doctest::Approx(700));
}

TEST_CASE("warm_pool_sizer: a short season over many seasons: surges at the same minute of some half-hours") {
  // 300 rps, and on every fourth half-hour 1100 rps from minute 2 to minute 10 (the shape of the
  // Twitter trace's hh:02/hh:32 surges). A week of 30-minute seasons: 84 surges in 336 half-hours.
  auto load = [](TimeMs t) {
    const int64_t half_hour = (t - kDay0) / (30 * kMinute);
    const TimeMs in = (t - kDay0) % (30 * kMinute);
    return half_hour % 4 == 0 && in >= 2 * kMinute && in < 10 * kMinute ? 1100.0 : 300.0;
  };
  WarmAutoSpec spec = Spec();
  spec.max = 20;
  spec.season = 30 * kMinute;
  spec.seasons = 336;
  spec.season_share = 0.2;  // the 68th largest of 336: a rise seen in 25% of half-hours counts
  WarmAutoSpec rarer = spec;
  rarer.season_share = 0.3;  // the 101st: it does not
  WarmPoolSizer sizer(spec), strict(rarer);
  // Up to 30 s into a half-hour, a week on: 90 s before its minute 2.
  const TimeMs end = kDay0 + 7 * 24 * kHour + 30 * kSecond;
  for (TimeMs t = kDay0; t <= end; t += kTick) {
    sizer.Observe(t, load(t));
    strict.Observe(t, load(t));
  }
  WarmPoolSizer::Size z = sizer.Target(300, 3, true);
  CHECK(z.seasonal == doctest::Approx(800));
  CHECK(z.standby == 8);  // (300 + 800) / 100 = 11 servers, 3 active
  CHECK(z.reason.find("seen in 68 of the last 336 seasons of 30m at this time; 336 with data") !=
        std::string::npos);
  CHECK(strict.Target(300, 3, false).seasonal == 0);  // ranks past 64 are not cut short
  // Mid-half-hour nothing is expected.
  WarmPoolSizer mid(spec);
  for (TimeMs t = kDay0; t <= end + 15 * kMinute; t += kTick) mid.Observe(t, load(t));
  CHECK(mid.Target(300, 3, false).seasonal == 0);
}

TEST_CASE("warm_pool_sizer: the seasonal estimate equals its definition, across gaps in the record") {
  // The sizer keeps each step of the season's windows and computes a window once; this recomputes
  // every window from all observations at every tick, as the definition reads.
  WarmAutoSpec spec = Spec();
  spec.season = 30 * kMinute;
  spec.seasons = 20;
  spec.season_share = 0.2;  // the 4th largest
  spec.season_slack = kMinute;
  WarmPoolSizer sizer(spec);
  std::map<int64_t, std::pair<double, double>> steps;  // step -> lowest, highest load
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> noise(-40, 40);
  double load = 300;
  int checked = 0, nonzero = 0;
  for (TimeMs t = kDay0; t < kDay0 + 16 * kHour; t += kTick) {
    const TimeMs in_day = t - kDay0;
    if ((in_day >= 2 * kHour && in_day < 2 * kHour + 45 * kMinute) ||
        (in_day >= 6 * kHour && in_day < 9 * kHour)) {
      continue;  // the controller saw no metric: a 45-minute and a 3-hour gap
    }
    load = std::clamp(load + noise(rng), 100.0, 2000.0);
    if ((t / kMinute) % 30 == 2 && (t / kTick) % 3 == 0) load += 500;  // surges at hh:02 and hh:32
    sizer.Observe(t, load);
    const int64_t id = FloorDiv(t, kMinute);
    auto [it, fresh] = steps.try_emplace(id, load, load);
    it->second = {std::min(it->second.first, load), std::max(it->second.second, load)};
    std::vector<double> left;
    for (int k = 1; k <= spec.seasons; ++k) {
      const int64_t at = id - k * 30;
      double lo = INFINITY, hi = -INFINITY;
      for (int64_t s = at - 1; s <= at + 2 + 1; ++s) {
        auto found = steps.find(s);
        if (found == steps.end()) continue;
        if (s <= at) lo = std::min(lo, found->second.first);
        hi = std::max(hi, found->second.second);
      }
      if (std::isfinite(lo) && std::isfinite(hi)) left.push_back(std::max(0.0, hi - std::max(lo, load)));
    }
    std::sort(left.rbegin(), left.rend());
    const double want = left.size() < 4 ? 0 : left[3];
    const double got = sizer.Target(load, 0, false).seasonal;
    if (got != want) {
      FAIL_CHECK("at " << in_day / kMinute << " min: seasonal " << got << ", by definition " << want);
      break;
    }
    ++checked;
    nonzero += want > 0;
  }
  CHECK(checked > 2500);
  CHECK(nonzero > 500);  // the comparison is not all zeros
}

TEST_CASE("warm_pool_sizer: the seasonal record exported and imported gives the same estimate") {
  WarmPoolSizer before(Spec());
  TimeMs t = kDay0;
  for (; t < kDay0 + 3 * 24 * kHour; t += kTick) before.Observe(t, Daily(t));
  WarmPoolSizer restored(Spec()), fresh(Spec());
  REQUIRE(restored.ImportSeasonal(before.ExportSeasonal()));
  int with_surge = 0;
  for (; t < kDay0 + 4 * 24 * kHour; t += kTick) {
    before.Observe(t, Daily(t));
    restored.Observe(t, Daily(t));
    fresh.Observe(t, Daily(t));
    const double want = before.Target(300, 3, false).seasonal;
    CHECK(restored.Target(300, 3, false).seasonal == want);
    with_surge += want > 0;
    if (want > 0) CHECK(fresh.Target(300, 3, false).seasonal == 0);  // it had nothing to go on
  }
  CHECK(with_surge > 10);
  // A record of another season or step is refused, and changes nothing.
  WarmPoolSizer::SeasonalRecord other = before.ExportSeasonal();
  other.season = 12 * kHour;
  CHECK_FALSE(fresh.ImportSeasonal(other));
}

TEST_CASE("warm_pool_sizer: bounds, active servers' spare capacity, and missing samples") {
  WarmAutoSpec spec = Spec();
  spec.max = 4;
  WarmPoolSizer sizer(spec);
  TimeMs t = kDay0;
  for (; t < kDay0 + 20 * kMinute; t += kTick) sizer.Observe(t, 300);
  for (int i = 0; i < 12; ++i, t += kTick) sizer.Observe(t, 1300);  // a rise of 1000
  sizer.Observe(t, std::numeric_limits<double>::quiet_NaN());       // ignored
  WarmPoolSizer::Size z = sizer.Target(1300, 13, true);
  CHECK(z.needed == 23);
  CHECK(z.standby == 4);  // max
  CHECK(z.reason.find("bounded to [0, 4]") != std::string::npos);
  // Active servers beyond the load (a scale-down still stabilizing) count toward the rise.
  CHECK(sizer.Target(1300, 21, false).standby == 2);
  CHECK(sizer.Target(1300, 30, false).standby == 0);
}

TEST_CASE("warm_pool_sizer: settings are checked with their paths") {
  auto errors_of = [](std::map<std::string, std::string> values) {
    Params p{"pools[0].warm_standby.auto", "", std::move(values)};
    WarmAutoSpec spec;
    std::vector<std::string> errors;
    ReadWarmAutoSpec(p, &spec, &errors);
    return errors;
  };
  CHECK(errors_of({}).empty());
  CHECK(errors_of({{"min", "3"}, {"max", "2"}}) ==
        std::vector<std::string>{"pools[0].warm_standby.auto.max: must be >= min (3), got 2"});
  CHECK(errors_of({{"quantile", "1.5"}}).size() == 1);
  CHECK(errors_of({{"season", "90m"}, {"step", "7m"}}).front().find("must be a multiple of step (7m)") !=
        std::string::npos);
  CHECK(errors_of({{"season", "5m"}}).front() ==
        "pools[0].warm_standby.auto.season: must be longer than horizon + 2 * season_slack (6m), got 5m");
  CHECK(errors_of({{"quantlie", "0.9"}}).front() == "pools[0].warm_standby.auto.quantlie: unknown key");
  CHECK(errors_of({{"season", "30m"}, {"seasons", "336"}}).empty());  // a week of half-hours
  // A season's window (horizon rounded up to whole steps, + slack) must end before now.
  CHECK(errors_of({{"season", "3m"}, {"horizon", "150s"}, {"season_slack", "0s"}}).front() ==
        "pools[0].warm_standby.auto.season: must be at least horizon + season_slack + step in whole steps "
        "(4m), got 3m");
  CHECK(errors_of({{"server_capacity", "0"}}).front() ==
        "pools[0].warm_standby.auto.server_capacity: must be > 0");
}
