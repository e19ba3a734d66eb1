#include "policies/decide.h"

#include <doctest/doctest.h>

using namespace warmpool;

namespace {
constexpr TimeMs kNow = 50'000'000;

Recommendation Rec(const char* policy, int desired, bool valid = true, const char* reason = "r") {
  Recommendation r;
  r.policy = policy;
  r.desired = desired;
  r.valid = valid;
  r.reason = reason;
  return r;
}

PoolSpec Spec(int min_active, int max_active) {
  PoolSpec s;
  s.name = "web";
  s.min_active = min_active;
  s.max_active = max_active;
  s.behavior.scale_down.stabilization_window = 0;
  return s;
}
}  // namespace

TEST_CASE("decide: combining, missing metrics and clamping, table-driven") {
  struct Case {
    const char* name;
    std::vector<Recommendation> recs;
    int min, max, current, want;
    const char* policy;       // the winner ("" = holding)
    const char* reason_part;  // must appear in the reason
  };
  std::vector<Case> cases = {
      {"largest wins", {Rec("a", 3), Rec("b", 7), Rec("c", 5)}, 1, 20, 5, 7, "b", "largest of 3"},
      {"scale down", {Rec("a", 2)}, 1, 20, 5, 2, "a", "a: r"},
      {"all missing holds",
       {Rec("a", 0, false, "rps missing")},
       1,
       20,
       5,
       5,
       "",
       "no usable metric, holding at 5"},
      {"no scale-down while one metric is missing",
       {Rec("a", 2), Rec("b", 0, false, "cpu missing")},
       1,
       20,
       5,
       5,
       "a",
       "not scaling down while a metric is missing"},
      {"scale-up on present metrics is allowed",
       {Rec("a", 9), Rec("b", 0, false, "cpu missing")},
       1,
       20,
       5,
       9,
       "a",
       "also missing"},
      {"clamped to max", {Rec("a", 30)}, 1, 10, 8, 10, "a", "clamped to max_active 10"},
      {"clamped to min", {Rec("a", 0)}, 2, 10, 3, 2, "a", "clamped to min_active 2"},
      {"min applies even when holding", {Rec("a", 0, false)}, 4, 10, 1, 4, "", "clamped to min_active 4"},
      {"no policy holds", {}, 1, 10, 3, 3, "", "no policy"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    Decision d = Decide(Spec(c.min, c.max), c.recs, BehaviorHistory{}, c.current, kNow);
    CHECK(d.desired == c.want);
    CHECK(d.policy == c.policy);
    CHECK(d.reason.find(c.reason_part) != std::string::npos);
    CHECK(d.direction == (c.want > c.current   ? Direction::kUp
                          : c.want < c.current ? Direction::kDown
                                               : Direction::kNone));
    CHECK(d.recommendations.size() == c.recs.size());
  }
}

TEST_CASE("decide: a floor-only opinion raises but never lowers by itself, and does not block others") {
  Recommendation predictive = Rec("predictive", 1);
  predictive.allow_scale_down = false;
  struct Case {
    const char* name;
    int reactive;  // -1: no reactive policy
    int forecast, current, want;
  } cases[] = {
      {"forecast alone below current holds", -1, 1, 5, 5},
      {"forecast alone above current raises", -1, 8, 5, 8},
      {"reactive scales in, forecast below it", 2, 1, 5, 2},
      {"reactive scales in, forecast above it is the floor", 2, 3, 5, 3},
      {"forecast above a reactive scale-up wins", 6, 9, 5, 9},
  };
  for (const Case& c : cases) {
    CAPTURE(std::string(c.name));
    std::vector<Recommendation> recs;
    if (c.reactive >= 0) recs.push_back(Rec("tt", c.reactive));
    predictive.desired = c.forecast;
    recs.push_back(predictive);
    CHECK(Decide(Spec(1, 20), recs, BehaviorHistory{}, c.current, kNow).desired == c.want);
  }
}

TEST_CASE("decide: a policy that may not scale down only raises") {
  Recommendation r = Rec("predictive", 2);
  r.allow_scale_down = false;
  Decision d = Decide(Spec(1, 20), {r}, BehaviorHistory{}, 5, kNow);
  CHECK(d.desired == 5);
  r.desired = 8;
  CHECK(Decide(Spec(1, 20), {r}, BehaviorHistory{}, 5, kNow).desired == 8);
}

TEST_CASE("decide: behavior applies between combining and clamping, and history records the raw value") {
  PoolSpec spec = Spec(1, 100);
  spec.behavior = BehaviorSpec::Defaults();
  BehaviorHistory h;
  Decision d = Decide(spec, {Rec("a", 50)}, h, 2, kNow);
  CHECK(d.desired == 6);
  CHECK(d.reason.find("scale-up rate-limited to 6") != std::string::npos);
  RecordDecision(spec, d, &h);
  REQUIRE(h.recommendations.size() == 1);
  CHECK(h.recommendations[0].count == 50);
  CHECK(h.scale_ups.back().count == 4);
  // 15 s later the limit allows doubling from 6.
  Decision next = Decide(spec, {Rec("a", 50)}, h, 6, kNow + 15 * kSecond);
  CHECK(next.desired == 12);
  // Scale-down is held by the default 300 s window that remembers 50.
  Decision down = Decide(spec, {Rec("a", 3)}, h, 12, kNow + 60 * kSecond);
  CHECK(down.desired == 12);
  CHECK(down.reason.find("scale-down stabilized") != std::string::npos);
}
