#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <map>

#include "policies/cron.h"
#include "policies/fixed.h"
#include "policies/registry.h"
#include "policies/schedule.h"
#include "policies/step.h"
#include "policies/time_zone.h"
#include "tests/support/read_file.h"

using namespace warmpool;

namespace {

constexpr TimeMs kNow = 1'774'800'000'000;  // 2026-03-29T16:00:00Z
const double kNaN = std::numeric_limits<double>::quiet_NaN();

// Creates a policy from flat params and returns the errors (empty when it was created).
template <typename Factory>
std::vector<std::string> Errors(Factory factory, std::map<std::string, std::string> values) {
  std::vector<std::string> errors;
  auto p = factory("x", Params{"p", "", std::move(values), ReadTestFile}, &errors);
  CHECK((p != nullptr) == errors.empty());
  return errors;
}

// UTC milliseconds of a UTC date and time.
TimeMs Utc(int y, int mo, int d, int h, int mi, int s = 0) {
  return (DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s) * 1000;
}

TimeZone Paris() {
  Result<TimeZone> z = LoadTimeZone("/usr/share/zoneinfo", "Europe/Paris", ReadTestFile);
  REQUIRE_MESSAGE(z.ok(), z.status().message());
  return *z;
}

}  // namespace

TEST_CASE("fixed: recommends exactly its count") {
  std::vector<std::string> errors;
  auto p = CreatePolicy("fixed", "floor", Params{"p", "", {{"count", "3"}}}, &errors);
  REQUIRE(p);
  std::map<std::string, MetricWindow> windows;
  PoolState pool;
  for (int current : {0, 3, 9}) {
    PolicyInput in;
    in.windows = &windows;
    in.pool = &pool;
    in.current = current;
    Recommendation r = p->Recommend(in);
    CHECK(r.valid);
    CHECK(r.desired == 3);
    CHECK(r.policy == "floor");
    CHECK(r.reason.find("fixed at 3") == 0);
  }
  CHECK(p->Inputs().metrics.empty());
  CHECK(Errors(NewFixedPolicy, {{"count", "0"}}).empty());
  CHECK(Errors(NewFixedPolicy, {}) ==
        std::vector<std::string>{"p.count: required (the number of active servers to keep)"});
  CHECK(Errors(NewFixedPolicy, {{"count", "-1"}}) ==
        std::vector<std::string>{"p.count: must be between 0 and 1000000, got -1"});
  CHECK(Errors(NewFixedPolicy, {{"count", "2"}, {"cnt", "3"}}) ==
        std::vector<std::string>{"p.cnt: unknown key"});
}

TEST_CASE("policy registry lists every type") {
  CHECK(PolicyTypes() ==
        std::vector<std::string>{"target_tracking", "step", "schedule", "predictive", "fixed"});
}

TEST_CASE("step: adjustments, table-driven") {
  struct Case {
    bool percent;
    double add;
    int current, want;
  };
  const Case cases[] = {
      {false, 1, 4, 1},           {false, -2, 4, -2}, {true, 50, 4, 2},   {true, 20, 4, 1},
      {true, 10, 0, 1},           {true, -50, 5, -3}, {true, -10, 3, -1}, {true, 0, 7, 0},
      {true, 100, 3, 3},          {true, 10, 30, 3},  {true, 30, 10, 3},  {true, -100, 4, -4},
      {true, 33.333333333, 3, 1},
  };
  for (const Case& c : cases) {
    CAPTURE(c.add);
    CAPTURE(c.current);
    StepSpec::Band b;
    b.percent = c.percent;
    b.add = c.add;
    CHECK(StepAdjustment(b, c.current) == c.want);
  }
}

TEST_CASE("step: bands, breaches and combining, table-driven") {
  auto band = [](bool above, double threshold, bool percent, double add) {
    StepSpec::Band b;
    b.above = above;
    b.threshold = threshold;
    b.percent = percent;
    b.add = add;
    return b;
  };
  StepSpec spec;
  spec.metric = "memory";
  spec.breaches = 3;
  spec.bands = {band(true, 0.5, false, 1), band(true, 0.8, true, 50), band(false, 0.2, false, -1),
                band(false, 0.05, true, -50)};
  struct Case {
    const char* name;
    std::vector<double> values;  // oldest first, 15 s apart, the last at now
    int current;
    bool valid;
    int want;
    const char* reason;  // must appear in the reason
  };
  const std::vector<Case> cases = {
      {"above for 3 of 3",
       {0.62, 0.62, 0.62},
       4,
       true,
       5,
       "memory 0.62 above 0.5 for 3 of 3 samples: +1 -> 5"},
      {"only 2 of 3 breach",
       {0.4, 0.62, 0.62},
       4,
       true,
       4,
       "memory 0.62 above 0.5 for 2 of 3 samples: waiting, keep 4"},
      {"older samples do not count", {0.9, 0.9, 0.4, 0.62, 0.62}, 4, true, 4, "for 2 of 3 samples: waiting"},
      {"largest of the breached above-bands",
       {0.9, 0.95, 0.9},
       4,
       true,
       6,
       "memory 0.9 above 0.8 for 3 of 3 samples: +50% of 4 = +2 -> 6"},
      {"a tie keeps the first band", {0.9, 0.9, 0.9}, 1, true, 2, "above 0.5"},
      {"below scales in", {0.1, 0.1, 0.1}, 4, true, 3, "memory 0.1 below 0.2 for 3 of 3 samples: -1 -> 3"},
      {"the deepest below-band wins",
       {0.01, 0.01, 0.01},
       5,
       true,
       2,
       "below 0.05 for 3 of 3 samples: -50% of 5 = -3 -> 2"},
      {"never below zero", {0.1, 0.1, 0.1}, 0, true, 0, "-1 -> 0"},
      {"between the bands keeps current",
       {0.3, 0.3, 0.3},
       4,
       true,
       4,
       "memory 0.3: no band breached, keep 4"},
      {"NaN samples are skipped, not breaks", {0.62, kNaN, 0.62, 0.62}, 4, true, 5, "for 3 of 3 samples"},
      {"fewer fresh samples than breaches", {0.62}, 4, true, 4, "for 1 of 3 samples: waiting"},
      {"no sample", {}, 4, false, 0, "memory missing or stale"},
      {"only NaN", {kNaN, kNaN}, 4, false, 0, "memory missing or stale"},
  };
  for (const Case& c : cases) {
    const std::string name = c.name;
    CAPTURE(name);
    std::map<std::string, MetricWindow> windows;
    MetricWindow& w = windows["memory"];
    for (size_t i = 0; i < c.values.size(); ++i) {
      w.samples.push_back({kNow - static_cast<TimeMs>(c.values.size() - 1 - i) * 15 * kSecond, c.values[i]});
    }
    PoolState pool;
    PolicyInput in;
    in.windows = &windows;
    in.pool = &pool;
    in.current = c.current;
    in.now = kNow;
    in.stale_after = 2 * kMinute;
    Recommendation r = StepRecommend("step", spec, in);
    CHECK(r.valid == c.valid);
    if (c.valid) CHECK(r.desired == c.want);
    CHECK_MESSAGE(r.reason.find(c.reason) != std::string::npos, r.reason);
  }
}

TEST_CASE("step: stale and future samples, and above-bands win over below-bands") {
  StepSpec spec;
  spec.metric = "m";
  spec.breaches = 2;
  spec.bands = {StepSpec::Band{true, 0.2, false, 1}, StepSpec::Band{false, 0.5, false, -1}};
  std::map<std::string, MetricWindow> windows;
  PoolState pool;
  PolicyInput in;
  in.windows = &windows;
  in.pool = &pool;
  in.current = 3;
  in.now = kNow;
  in.stale_after = kMinute;
  // 0.3 breaches both (overlapping bands): the above-band wins.
  windows["m"] = MetricWindow{"m", {{kNow - 15 * kSecond, 0.3}, {kNow, 0.3}}, {}, {}};
  CHECK(StepRecommend("s", spec, in).desired == 4);
  // A stale sample does not count towards the breaches; a sample from the future is ignored.
  windows["m"] = MetricWindow{"m", {{kNow - 2 * kMinute, 0.3}, {kNow, 0.3}, {kNow + 15 * kSecond, 0.3}}, {}, {}};
  Recommendation r = StepRecommend("s", spec, in);
  CHECK(r.desired == 3);
  CHECK(r.reason.find("for 1 of 2 samples: waiting") != std::string::npos);
  windows["m"] = MetricWindow{"m", {{kNow - 2 * kMinute, 0.3}}, {}, {}};
  CHECK_FALSE(StepRecommend("s", spec, in).valid);
}

TEST_CASE("step factory: path-named errors, table-driven") {
  using V = std::vector<std::string>;
  struct Case {
    const char* name;
    std::map<std::string, std::string> values;
    V want;
  };
  const std::vector<Case> cases = {
      {"valid",
       {{"metric", "memory"},
        {"breaches", "3"},
        {"bands[0].above", "0.5"},
        {"bands[0].add", "1"},
        {"bands[1].below", "0.1"},
        {"bands[1].add_percent", "-25"}},
       {}},
      {"nothing",
       {},
       {"p.metric: required (the name of one of the pool's metrics)",
        "p.bands: required: at least one {above|below: <number>, add|add_percent: <number>}"}},
      {"above and below",
       {{"metric", "m"}, {"bands[0].above", "1"}, {"bands[0].below", "0"}, {"bands[0].add", "1"}},
       {"p.bands[0].below: set either above or below, not both"}},
      {"no threshold",
       {{"metric", "m"}, {"bands[0].add", "1"}},
       {"p.bands[0].above: required: above or below (a threshold)"}},
      {"add and add_percent",
       {{"metric", "m"}, {"bands[0].above", "1"}, {"bands[0].add", "1"}, {"bands[0].add_percent", "10"}},
       {"p.bands[0].add_percent: set either add or add_percent, not both"}},
      {"no adjustment",
       {{"metric", "m"}, {"bands[0].above", "1"}},
       {"p.bands[0].add: required: add (servers) or add_percent (of current)"}},
      {"bad values",
       {{"metric", "m"}, {"breaches", "0"}, {"bands[0].above", "high"}, {"bands[0].add", "1.5"}},
       {"p.breaches: must be between 1 and 1000, got 0", "p.bands[0].above: must be a number, got \"high\"",
        "p.bands[0].add: must be an integer, got \"1.5\""}},
      {"a hole in the list and a typo",
       {{"metric", "m"},
        {"bands[0].above", "1"},
        {"bands[0].add", "1"},
        {"bands[2].above", "2"},
        {"bands[2].ad", "1"}},
       {"p.bands[1].above: required: above or below (a threshold)",
        "p.bands[1].add: required: add (servers) or add_percent (of current)",
        "p.bands[2].add: required: add (servers) or add_percent (of current)", "p.bands[2].ad: unknown key"}},
  };
  for (const Case& c : cases) {
    const std::string name = c.name;
    CAPTURE(name);
    CHECK(Errors(NewStepPolicy, c.values) == c.want);
  }
}

TEST_CASE("schedule: windows in Europe/Paris across both daylight-saving changes, table-driven") {
  auto window = [](const char* cron, DurationMs duration, int min_active) {
    return ScheduleSpec::Window{*Cron::Parse(cron), duration, min_active};
  };
  ScheduleSpec office;
  office.zone = Paris();
  office.windows = {window("0 9 * * 1-5", 8 * kHour, 6), window("30 11 * * *", 2 * kHour, 8)};
  ScheduleSpec night = office;
  night.windows = {window("30 2 * * *", kHour, 3), window("0 0 * * *", 8 * kHour, 2)};
  ScheduleSpec weekend = office;
  weekend.windows = {window("0 22 * * 5", 6 * kHour, 4), window("*/30 * * * *", 10 * kMinute, 1)};
  struct Case {
    const char* name;
    const ScheduleSpec* spec;
    TimeMs now;
    int want;
    const char* reason;
  };
  const std::vector<Case> cases = {
      {"opens at 09:00 CEST", &office, Utc(2026, 3, 30, 7, 0), 6,
       "window '0 9 * * 1-5' for 8h in Europe/Paris (09:00-17:00): at least 6"},
      {"closed a minute before", &office, Utc(2026, 3, 30, 6, 59), 0,
       "outside every window in Europe/Paris (local Mon 2026-03-30 08:59): no minimum, 0"},
      {"the largest open window", &office, Utc(2026, 3, 30, 9, 45), 8,
       "window '30 11 * * *' for 2h in Europe/Paris (11:30-13:30): at least 8 (largest of 2 open windows)"},
      {"last second of the window", &office, Utc(2026, 3, 30, 14, 59, 59), 6, "(09:00-17:00)"},
      {"closed at 17:00", &office, Utc(2026, 3, 30, 15, 0), 0, "outside every window"},
      {"a daily window on Sunday", &office, Utc(2026, 3, 29, 9, 45), 8, "(11:30-13:30)"},
      {"09:00 CET in winter", &office, Utc(2026, 3, 23, 8, 0), 6, "(09:00-17:00)"},
      {"08:00 CET is not 09:00", &office, Utc(2026, 3, 23, 7, 0), 0, "outside every window"},
      // 2026-03-29: 02:00 CET jumps to 03:00 CEST at 01:00Z, so 02:30 does not exist.
      {"a skipped 02:30 opens at the jump", &night, Utc(2026, 3, 29, 1, 0), 3,
       "window '30 2 * * *' for 1h in Europe/Paris (03:00-04:00): at least 3"},
      {"and lasts an hour from there", &night, Utc(2026, 3, 29, 1, 59), 3, "(03:00-04:00)"},
      {"midnight + 8h elapsed spans the jump", &night, Utc(2026, 3, 29, 6, 59), 2, "(00:00-09:00)"},
      {"and closes 8h after midnight", &night, Utc(2026, 3, 29, 7, 0), 0, "outside every window"},
      // 2026-10-25: 03:00 CEST goes back to 02:00 CET at 01:00Z, so 02:30 happens twice.
      {"a repeated 02:30 opens the first time", &night, Utc(2026, 10, 25, 0, 30), 3, "(02:30-02:30)"},
      {"and not again the second time", &night, Utc(2026, 10, 25, 1, 45), 2, "'0 0 * * *' for 8h"},
      {"midnight CEST + 8h ends at 07:00 CET", &night, Utc(2026, 10, 25, 5, 59), 2, "(00:00-07:00)"},
      {"closed then", &night, Utc(2026, 10, 25, 6, 0), 0, "outside every window"},
      {"a window across midnight names the days", &weekend, Utc(2026, 3, 28, 2, 0), 4,
       "(Fri 22:00-Sat 04:00): at least 4"},
      {"a wildcard minute repeats in the repeated hour", &weekend, Utc(2026, 10, 25, 1, 5), 1,
       "(02:00-02:10)"},
      {"and resumes after the skipped hour", &weekend, Utc(2026, 3, 29, 1, 5), 1, "(03:00-03:10)"},
      {"between wildcard matches", &weekend, Utc(2026, 3, 29, 1, 15), 0, "outside every window"},
  };
  for (const Case& c : cases) {
    const std::string name = c.name;
    CAPTURE(name);
    Recommendation r = ScheduleRecommend("sched", *c.spec, c.now);
    CHECK(r.valid);
    CHECK(r.allow_scale_down);
    CHECK(r.desired == c.want);
    CHECK_MESSAGE(r.reason.find(c.reason) != std::string::npos, r.reason);
  }
}

TEST_CASE("schedule factory: UTC by default, path-named errors, table-driven") {
  std::vector<std::string> errors;
  auto p = CreatePolicy(
      "schedule", "sched",
      Params{
          "p",
          "",
          {{"windows[0].cron", "0 9 * * *"}, {"windows[0].duration", "1h"}, {"windows[0].min_active", "4"}}},
      &errors);
  REQUIRE(p);
  CHECK(p->Inputs().metrics.empty());
  std::map<std::string, MetricWindow> windows;
  PoolState pool;
  PolicyInput in;
  in.windows = &windows;
  in.pool = &pool;
  in.now = Utc(2026, 3, 29, 9, 30);
  CHECK(p->Recommend(in).reason == "window '0 9 * * *' for 1h in UTC (09:00-10:00): at least 4");
  using V = std::vector<std::string>;
  struct Case {
    const char* name;
    std::map<std::string, std::string> values;
    V want;
  };
  const std::vector<Case> cases = {
      {"valid in a zone",
       {{"timezone", "America/New_York"},
        {"windows[0].cron", "@daily"},
        {"windows[0].duration", "30m"},
        {"windows[0].min_active", "0"}},
       {}},
      {"no windows", {}, {"p.windows: required: at least one {cron, duration, min_active}"}},
      {"unknown zone",
       {{"timezone", "Europe/Nowhere"},
        {"windows[0].cron", "@daily"},
        {"windows[0].duration", "1h"},
        {"windows[0].min_active", "1"}},
       {"p.timezone: unknown time zone \"Europe/Nowhere\" (no file /usr/share/zoneinfo/Europe/Nowhere)"}},
      {"bad cron",
       {{"windows[0].cron", "0 25 * * *"}, {"windows[0].duration", "1h"}, {"windows[0].min_active", "1"}},
       {"p.windows[0].cron: cron \"0 25 * * *\": hour field \"25\": \"25\" is out of range 0-23"}},
      {"missing fields",
       {{"windows[0].cron", "@daily"}},
       {"p.windows[0].duration: required (how long the window stays open after each match, e.g. 8h)",
        "p.windows[0].min_active: required (the active servers to keep at least while the window is open)"}},
      {"bad values",
       {{"windows[0].cron", "@daily"},
        {"windows[0].duration", "40d"},
        {"windows[0].min_active", "-1"},
        {"windows[0].mn_active", "1"}},
       {"p.windows[0].duration: must be at most 744h",
        "p.windows[0].min_active: must be between 0 and 1000000, got -1",
        "p.windows[0].mn_active: unknown key"}},
      {"zero duration",
       {{"windows[0].cron", "@daily"}, {"windows[0].duration", "0"}, {"windows[0].min_active", "1"}},
       {"p.windows[0].duration: must be at least 1ms, got \"0\""}},
  };
  for (const Case& c : cases) {
    const std::string name = c.name;
    CAPTURE(name);
    CHECK(Errors(NewSchedulePolicy, c.values) == c.want);
  }
}
