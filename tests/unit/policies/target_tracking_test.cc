#include "policies/target_tracking.h"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <map>

using namespace warmpool;

namespace {

constexpr TimeMs kNow = 1'000'000'000;

struct Fixture {
  std::map<std::string, MetricWindow> windows;
  PoolState pool;
  PolicyInput Input(int current, DurationMs stale_after = 60 * kSecond) {
    PolicyInput in;
    in.windows = &windows;
    in.pool = &pool;
    in.current = current;
    in.now = kNow;
    in.stale_after = stale_after;
    return in;
  }
  void Set(double value, TimeMs at = kNow) { windows["m"] = MetricWindow{"m", {{at, value}}, {}, {}}; }
};

TargetTrackingSpec PerServer(double target, double tol = 0.1) {
  TargetTrackingSpec s;
  s.metric = "m";
  s.mode = TargetTrackingSpec::Mode::kPerServer;
  s.target = target;
  s.tolerance_up = s.tolerance_down = tol;
  return s;
}

TargetTrackingSpec Utilization(double target, double tol = 0.1) {
  TargetTrackingSpec s = PerServer(target, tol);
  s.mode = TargetTrackingSpec::Mode::kUtilization;
  return s;
}

}  // namespace

TEST_CASE("target_tracking: the HPA formula, table-driven") {
  struct Case {
    const char* name;
    TargetTrackingSpec spec;
    int current;
    double metric;
    bool valid;
    int want;
  };
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<Case> cases = {
      {"rate: exact fit keeps current", PerServer(100), 4, 400, true, 4},
      {"rate: inside tolerance above keeps current", PerServer(100), 4, 439, true, 4},
      {"rate: inside tolerance below keeps current", PerServer(100), 4, 361, true, 4},
      {"rate: just past tolerance scales up with ceil", PerServer(100), 4, 441, true, 5},
      {"rate: past tolerance below scales down", PerServer(100), 4, 350, true, 4},  // ceil(3.5)=4
      {"rate: well below scales down", PerServer(100), 4, 250, true, 3},
      {"rate: doubling", PerServer(100), 4, 800, true, 8},
      {"rate: zero current with load", PerServer(100), 0, 250, true, 3},
      {"rate: zero current, zero load", PerServer(100), 0, 0, true, 0},
      {"rate: zero load scales to zero (min_active clamps later)", PerServer(100), 4, 0, true, 0},
      {"rate: float noise does not add a server", PerServer(0.1), 3, 0.30000000000000004 * 10, true, 30},
      {"util: 90% on target 60% of 4 -> 6", Utilization(0.6), 4, 0.9, true, 6},
      {"util: inside tolerance", Utilization(60), 4, 65, true, 4},
      {"util: below -> scale down", Utilization(60), 4, 30, true, 2},
      {"util: zero current abstains", Utilization(60), 0, 90, false, 0},
      {"missing: NaN sample", PerServer(100), 4, nan, false, 0},
      {"missing: +Inf sample", PerServer(100), 4, inf, false, 0},
      {"asymmetric tolerance",
       [] {
         auto s = PerServer(100);
         s.tolerance_up = 0.5;
         s.tolerance_down = 0;
         return s;
       }(),
       4, 560, true, 4},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    Fixture f;
    f.Set(c.metric);
    Recommendation r = TargetTrackingRecommend("tt", c.spec, f.Input(c.current));
    CHECK(r.valid == c.valid);
    if (c.valid) CHECK(r.desired == c.want);
    CHECK(r.policy == "tt");
    CHECK_FALSE(r.reason.empty());
  }
}

TEST_CASE("target_tracking: missing and stale samples make it abstain, with a reason") {
  Fixture f;
  SUBCASE("no window") {
    Recommendation r = TargetTrackingRecommend("tt", PerServer(100), f.Input(3));
    CHECK_FALSE(r.valid);
    CHECK(r.reason.find("missing or stale") != std::string::npos);
  }
  SUBCASE("empty window") {
    f.windows["m"] = MetricWindow{"m", {}, {}, {}};
    CHECK_FALSE(TargetTrackingRecommend("tt", PerServer(100), f.Input(3)).valid);
  }
  SUBCASE("stale sample") {
    f.Set(1000, kNow - 61 * kSecond);
    CHECK_FALSE(TargetTrackingRecommend("tt", PerServer(100), f.Input(3, 60 * kSecond)).valid);
  }
  SUBCASE("NaN newest falls back to the last finite sample when fresh") {
    f.windows["m"] = MetricWindow{"m", {{kNow - 15 * kSecond, 800}, {kNow, std::nan("")}}, {}, {}};
    Recommendation r = TargetTrackingRecommend("tt", PerServer(100), f.Input(3));
    CHECK(r.valid);
    CHECK(r.desired == 8);
  }
}

TEST_CASE("target_tracking factory validates its parameters with paths") {
  std::vector<std::string> errors;
  SUBCASE("valid with per-direction tolerance") {
    auto p = NewTargetTrackingPolicy("x",
                                     Params{"p",
                                            "",
                                            {{"metric", "rps"},
                                             {"target_per_server", "50"},
                                             {"tolerance.up", "0.05"},
                                             {"tolerance.down", "0.2"}}},
                                     &errors);
    REQUIRE(p);
    CHECK(errors.empty());
    CHECK(p->Inputs().metrics == std::vector<std::string>{"rps"});
  }
  SUBCASE("no target") {
    CHECK_FALSE(
        NewTargetTrackingPolicy("x", Params{"pools[0].policies[0]", "", {{"metric", "rps"}}}, &errors));
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].rfind("pools[0].policies[0].target_per_server: required", 0) == 0);
  }
  SUBCASE("both targets, a bad number and an unknown key") {
    CHECK_FALSE(NewTargetTrackingPolicy(
        "x",
        Params{
            "p",
            "",
            {{"metric", "rps"}, {"target_per_server", "-3"}, {"target_utilization", "0.5"}, {"targt", "1"}}},
        &errors));
    REQUIRE(errors.size() == 3);
    CHECK(errors[0] == "p.target_utilization: set either target_per_server or target_utilization, not both");
    CHECK(errors[1].find("p.target_per_server: must be between") == 0);
    CHECK(errors[1].find("got -3") != std::string::npos);
    CHECK(errors[2] == "p.targt: unknown key");
  }
}

TEST_CASE("target_tracking: lead sizes for a rising metric ahead, and takes a falling one as it is") {
  Fixture f;
  TargetTrackingSpec spec = PerServer(100, 0);
  spec.lead = 20 * kSecond;
  // 300 -> 400 over 15 s: 6.67/s; 20 s ahead 533 -> 6 servers (without lead: 4).
  f.windows["m"] = MetricWindow{"m", {{kNow - 30 * kSecond, 250}, {kNow - 15 * kSecond, 300}, {kNow, 400}}, {}, {}};
  Recommendation r = TargetTrackingRecommend("rps", spec, f.Input(4));
  CHECK(r.desired == 6);
  CHECK(r.reason ==
        "m 400 rising 6.667/s, 533.3 in 20s / target 100 per server on 4 active: needs 5.333 -> 6");
  spec.lead = 0;
  CHECK(TargetTrackingRecommend("rps", spec, f.Input(4)).desired == 4);
  // Falling: no lead.
  spec.lead = 20 * kSecond;
  f.windows["m"] = MetricWindow{"m", {{kNow - 15 * kSecond, 500}, {kNow, 400}}, {}, {}};
  CHECK(TargetTrackingRecommend("rps", spec, f.Input(4)).desired == 4);
  // A NaN before the latest is skipped; a single sample has no slope.
  const double nan = std::numeric_limits<double>::quiet_NaN();
  f.windows["m"] = MetricWindow{"m", {{kNow - 30 * kSecond, 300}, {kNow - 15 * kSecond, nan}, {kNow, 400}}, {}, {}};
  CHECK(TargetTrackingRecommend("rps", spec, f.Input(4)).desired == 5);  // 3.33/s: 466.7 -> 5
  f.Set(400);
  CHECK(TargetTrackingRecommend("rps", spec, f.Input(4)).desired == 4);
}

TEST_CASE("target_tracking: lead_window takes the slope over a longer baseline") {
  Fixture f;
  TargetTrackingSpec spec = PerServer(100, 0);
  spec.lead = 60 * kSecond;
  // A noisy last step (+90 in 15 s) on a flat minute: the last two samples say 6/s, the minute says 1.5/s.
  f.windows["m"] = MetricWindow{"m",
                                {{kNow - 60 * kSecond, 400},
                                 {kNow - 45 * kSecond, 390},
                                 {kNow - 30 * kSecond, 410},
                                 {kNow - 15 * kSecond, 400},
                                 {kNow, 490}}, {}, {}};
  CHECK(TargetTrackingRecommend("rps", spec, f.Input(5)).desired == 9);  // 490 + 6 * 60 = 850
  spec.lead_window = 60 * kSecond;
  CHECK(TargetTrackingRecommend("rps", spec, f.Input(5)).desired == 6);  // 490 + 1.5 * 60 = 580
  // A window shorter than lead_window: the oldest sample is the baseline.
  spec.lead_window = 10 * kMinute;
  CHECK(TargetTrackingRecommend("rps", spec, f.Input(5)).desired == 6);
}
