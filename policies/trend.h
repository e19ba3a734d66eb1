// The trend rule of a per-server health metric (HealthSpec::metrics): is a server's value past its
// limit, or will it be within the horizon at its present rate? A pure function of one window.
//
//   past      the newest fresh sample is above `above`;
//   reaches   a least-squares line through the window rises, and the time left until the newest
//             value reaches `above` at the window's rate is within `horizon` (the time to
//             exhaustion: a leak is caught before the crash).
//
// A rate is believed only when the window shows a steady rise, not noise and not a step:
//   - at least kMinTrendSamples finite samples;
//   - the line explains most of the variance (R^2 >= kMinTrendFit): noise around a level does not;
//   - the first half of the window and the second half each rise on their own, at least
//     kMinHalfShare of the whole window's rate, and the rate used is the least of the three slopes:
//     a step (a level that jumped once and stays) is flat on at least one side of it, a leak rises on
//     both.
// A metric with no fresh sample says nothing (a missing metric never replaces a server).
#ifndef WARMPOOL_POLICIES_TREND_H_
#define WARMPOOL_POLICIES_TREND_H_

#include <string>

#include "warmpool/metrics.h"
#include "warmpool/time.h"

namespace warmpool {

inline constexpr int kMinTrendSamples = 6;
inline constexpr double kMinTrendFit = 0.6;
inline constexpr double kMinHalfShare = 0.3;

struct LimitForecast {
  enum class Verdict { kNone, kPast, kReaches };
  Verdict verdict = Verdict::kNone;
  double value = 0;          // the newest fresh sample (when there is one)
  double rate_per_min = 0;   // the believed rate, per minute (kReaches)
  DurationMs eta = 0;        // time until `above` at that rate (kReaches)
};

// `horizon` 0: the trend rule is off (only kPast). Samples after `now` are ignored.
LimitForecast ForecastLimit(const MetricWindow& window, double above, DurationMs horizon, TimeMs now,
                            DurationMs stale_after);

// "memory 0.91 > 0.85", "memory 0.62 rising 0.021/min reaches 0.85 in 11m", "" for kNone.
std::string DescribeForecast(const std::string& metric, double above, const LimitForecast& f);

}  // namespace warmpool

#endif  // WARMPOOL_POLICIES_TREND_H_
