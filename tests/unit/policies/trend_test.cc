// Unit tests of the trend rule of per-server health metrics (policies/trend.h) on synthetic series.
#include "policies/trend.h"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <functional>

using namespace warmpool;

namespace {

constexpr TimeMs kNow = 1'800'000'000'000;

// Samples every `step` over the `span` before kNow, value f(seconds before now).
MetricWindow Series(const std::function<double(double)>& f, DurationMs span = 5 * kMinute, DurationMs step = 15 * kSecond) {
  MetricWindow w;
  w.metric = "memory";
  for (TimeMs t = kNow - span; t <= kNow; t += step) w.samples.push_back({t, f(static_cast<double>(kNow - t) / 1000)});
  return w;
}

// Deterministic noise in [-1, 1].
struct Noise {
  uint64_t x = 88172645463325252ull;
  double operator()() {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return static_cast<double>(x % 20001) / 10000.0 - 1.0;
  }
};

using V = LimitForecast::Verdict;

}  // namespace

TEST_CASE("trend: a steady leak is caught before it reaches the limit, with its rate and time left") {
  // 0.6 now, rising 0.01 a minute: 0.85 in 25 minutes.
  const MetricWindow leak = Series([](double ago) { return 0.6 - 0.01 * ago / 60; }, 5 * kMinute, 10 * kSecond);
  LimitForecast f = ForecastLimit(leak, 0.85, 30 * kMinute, kNow, kMinute);
  CHECK(f.verdict == V::kReaches);
  CHECK(f.rate_per_min == doctest::Approx(0.01));
  CHECK(f.eta == 25 * kMinute);
  CHECK(DescribeForecast("memory", 0.85, f) == "memory 0.6 rising 0.01/min reaches 0.85 in 25m");
  // Beyond the horizon: nothing yet.
  CHECK(ForecastLimit(leak, 0.85, 20 * kMinute, kNow, kMinute).verdict == V::kNone);
  // The trend rule off (horizon 0): only a value past the limit counts.
  CHECK(ForecastLimit(leak, 0.85, 0, kNow, kMinute).verdict == V::kNone);

  // The same leak under noise of +/-0.01 (a tenth of its rise over the window): still caught, close.
  Noise noise;
  const MetricWindow noisy = Series([&](double ago) { return 0.6 - 0.01 * ago / 60 + 0.01 * noise(); }, 5 * kMinute,
                                    10 * kSecond);
  f = ForecastLimit(noisy, 0.85, 40 * kMinute, kNow, kMinute);
  CHECK(f.verdict == V::kReaches);
  CHECK(f.rate_per_min == doctest::Approx(0.01).epsilon(0.3));
}

TEST_CASE("trend: noise around a level is no leak, however long the horizon") {
  Noise noise;
  for (int round = 0; round < 50; ++round) {
    const MetricWindow w = Series([&](double) { return 0.5 + 0.05 * noise(); });
    const LimitForecast f = ForecastLimit(w, 0.85, 365 * 24 * kHour, kNow, kMinute);
    CAPTURE(round);
    CHECK(f.verdict == V::kNone);
  }
}

TEST_CASE("trend: a step to a higher level that stays there is no leak") {
  for (double at : {0.25, 0.5, 0.75, 0.95}) {  // where in the window the step is, as a share of it
    const double at_ago = (1 - at) * 300;       // seconds before now
    Noise noise;
    const MetricWindow w = Series([&](double ago) { return (ago > at_ago ? 0.4 : 0.7) + 0.002 * noise(); });
    CAPTURE(at);
    CHECK(ForecastLimit(w, 0.85, 365 * 24 * kHour, kNow, kMinute).verdict == V::kNone);
  }
}

TEST_CASE("trend: past the limit, too few samples, stale or missing values") {
  MetricWindow w = Series([](double) { return 0.9; });
  LimitForecast f = ForecastLimit(w, 0.85, 0, kNow, kMinute);
  CHECK(f.verdict == V::kPast);
  CHECK(DescribeForecast("memory", 0.85, f) == "memory 0.9 > 0.85");
  // A rise of five samples is not enough to believe.
  w = Series([](double ago) { return 0.6 - 0.01 * ago; }, kMinute, 15 * kSecond);
  REQUIRE(w.samples.size() == 5);
  CHECK(ForecastLimit(w, 0.85, kHour, kNow, kMinute).verdict == V::kNone);
  // Nothing fresh: a server without a recent value is not judged, past the limit or not.
  w = Series([](double) { return 0.99; });
  CHECK(ForecastLimit(w, 0.85, kHour, kNow + 2 * kMinute, kMinute).verdict == V::kNone);
  w.samples.clear();
  CHECK(ForecastLimit(w, 0.85, kHour, kNow, kMinute).verdict == V::kNone);
  // NaN and infinities are skipped, not fitted.
  w = Series([](double ago) { return 0.6 - 0.01 * ago / 60; }, 5 * kMinute, 10 * kSecond);
  w.samples[3].value = std::nan("");
  w.samples[7].value = INFINITY;
  CHECK(ForecastLimit(w, 0.85, 30 * kMinute, kNow, kMinute).verdict == V::kReaches);
  // Falling: no leak.
  w = Series([](double ago) { return 0.6 + 0.01 * ago / 60; });
  CHECK(ForecastLimit(w, 0.85, 365 * 24 * kHour, kNow, kMinute).verdict == V::kNone);
}
