// HPA's curve (issue 17): reading a curve at equal server-hours and at equal unserved requests (hand-
// computed values) and --baseline-target. The comparison with a curve, the trace's peak against
// max_active and --fit-capacity: backtest_compare_test.cc.
#include <doctest/doctest.h>

#include <cmath>
#include "controller/backtest/compare.h"
#include "controller/backtest/curve.h"
#include "controller/backtest/hpa_baseline.h"

using namespace warmpool;

namespace {

// (hours, unserved): a curve with one point that spends more and serves less than another (95, 99).
// 1 + unserved is a power of 10, so that the interpolation (linear in log10(1 + unserved)) is easy by hand.
const std::vector<CurvePoint> kCurve = {{100, 0}, {90, 9}, {95, 99}, {80, 99}, {70, 999}};

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("curve: the envelope drops points that spend more and serve less, sorted by hours") {
  const std::vector<CurvePoint> env = CurveEnvelope(kCurve);
  REQUIRE(env.size() == 4);
  CHECK(env[0].hours == 70);
  CHECK(env[1].hours == 80);
  CHECK(env[2].hours == 90);
  CHECK(env[3].hours == 100);
  CHECK(env[3].unserved == 0);
  // Of two points at the same hours, the one that leaves less.
  const std::vector<CurvePoint> ties = CurveEnvelope({{80, 40}, {80, 30}});
  REQUIRE(ties.size() == 1);
  CHECK(ties[0].unserved == 30);
  CHECK(CurveEnvelope({}).empty());
}

TEST_CASE("curve: unserved at equal hours, linear in hours and log10(1 + unserved)") {
  // Midway between (80, 99) and (90, 9): log10(1 + u) = (2 + 1) / 2, u = 10^1.5 - 1 = 30.6228.
  CurveReading r = UnservedAtHours(kCurve, 85);
  CHECK(r.side == CurveSide::kInside);
  CHECK(r.value == doctest::Approx(30.6228).epsilon(1e-5));
  CHECK(r.lo == 70);
  CHECK(r.hi == 100);
  // Midway between (70, 999) and (80, 99): 10^2.5 - 1 = 315.2278 (a chord in unserved would say 549).
  CHECK(UnservedAtHours(kCurve, 75).value == doctest::Approx(315.2278).epsilon(1e-5));
  // (90, 9) .. (100, 0), not the dominated (95, 99): 10^(1 - 0.2) - 1 = 5.3096.
  CHECK(UnservedAtHours(kCurve, 92).value == doctest::Approx(5.3096).epsilon(1e-4));
  CHECK(UnservedAtHours(kCurve, 70).value == doctest::Approx(999));  // the ends are inside
  CHECK(UnservedAtHours(kCurve, 90).value == doctest::Approx(9));
  CHECK(UnservedAtHours(kCurve, 100).value == 0);
  // Outside: the nearest end's value, as a bound.
  r = UnservedAtHours(kCurve, 65);
  CHECK(r.side == CurveSide::kBelowRange);
  CHECK(r.value == 999);
  r = UnservedAtHours(kCurve, 105);
  CHECK(r.side == CurveSide::kAboveRange);
  CHECK(r.value == 0);
  // Past the envelope's last point and up to the most hours any point spent, the curve holds.
  r = UnservedAtHours({{70, 100}, {80, 40}, {90, 40}}, 85);
  CHECK(r.side == CurveSide::kInside);
  CHECK(r.value == doctest::Approx(40));
  CHECK(r.hi == 90);
  CHECK(UnservedAtHours({}, 85).side == CurveSide::kNoCurve);
}

TEST_CASE("curve: hours at equal unserved, linear in hours and log10(1 + unserved)") {
  // 30.6228 = 10^1.5 - 1 lies midway between (80, 99) and (90, 9) on that scale: 85 h.
  CurveReading r = HoursAtUnserved(kCurve, std::pow(10.0, 1.5) - 1);
  CHECK(r.side == CurveSide::kInside);
  CHECK(r.value == doctest::Approx(85));
  CHECK(r.lo == 0);
  CHECK(r.hi == 999);
  CHECK(HoursAtUnserved(kCurve, std::pow(10.0, 2.5) - 1).value == doctest::Approx(75));
  CHECK(HoursAtUnserved(kCurve, 999).value == 70);
  CHECK(HoursAtUnserved(kCurve, 99).value == doctest::Approx(80));
  CHECK(HoursAtUnserved(kCurve, 0).value == 100);  // the fewest hours that leave nothing
  CHECK(HoursAtUnserved(kCurve, std::sqrt(10.0) - 1).value == doctest::Approx(95));  // log10(1 + u) = 0.5
  r = HoursAtUnserved(kCurve, 1200);  // more than HPA leaves even at its cheapest
  CHECK(r.side == CurveSide::kAboveRange);
  CHECK(r.value == 70);
  r = HoursAtUnserved({{70, 100}, {80, 40}}, 30);  // fewer than HPA leaves at its most generous
  CHECK(r.side == CurveSide::kBelowRange);
  CHECK(r.value == 80);
  CHECK(r.lo == 40);
  CHECK(HoursAtUnserved({{80, 40}}, 40).value == 80);
  CHECK(HoursAtUnserved({}, 40).side == CurveSide::kNoCurve);
}

TEST_CASE("curve: ratios as text") {
  CHECK(RatioText(5, 100) == "0.05x");
  CHECK(RatioText(1, 3) == "0.333x");
  CHECK(RatioText(230, 100) == "2.3x");
  CHECK(RatioText(0, 0) == "both 0");
  CHECK(RatioText(3, 0) == "inf");
}

TEST_CASE("--baseline-target: a list of fractions, errors name the option and the value") {
  Result<std::vector<double>> t = ParseBaselineTargets("0.5, 0.8,1");
  REQUIRE(t.ok());
  CHECK(*t == std::vector<double>{0.5, 0.8, 1.0});
  CHECK(ParseBaselineTargets("0.8")->size() == 1);
  CHECK(ParseBaselineTargets("abc").status().message() ==
        "--baseline-target: \"abc\" is not a number (a fraction of a server's capacity, e.g. 0.8)");
  CHECK(Contains(ParseBaselineTargets("0.5,0").status().message(), "--baseline-target: 0 must be > 0"));
  CHECK(Contains(ParseBaselineTargets("0.5,").status().message(), "--baseline-target: \"\" is not a number"));
  CHECK(ParseBaselineTargets("0.8,0.8").status().message() == "--baseline-target: 0.8 given twice");
  CHECK(HpaLabel(0.8) == "HPA@80%");
  CHECK(HpaLabel(0.7) == "HPA@70%");
  CHECK(HpaLabel(0.825) == "HPA@82.5%");
}

