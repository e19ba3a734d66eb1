// predictive: forecast the load over a horizon and recommend capacity for the forecast peak.
//
//   - type: predictive
//     metric: rps
//     target_per_server: 100      # as in target_tracking
//     horizon: 2m                 # look this far ahead (see below)
//     season: 24h                 # 0 disables seasonality
//     history: 7d                 # how far back to use the policy's own history (window: always)
//     step: 1m                    # resolution of the model; season must be a multiple
//     alpha: 0.5                  # smoothing of the level, trend and seasonal shape, per step
//     beta: 0.2
//     gamma: 0.3
//
// Horizon: capacity asked for now arrives after a delay, so the horizon must cover it: set it to at
// least the promotion delay (standby -> active), or to the provisioning delay when the warm pool may
// be empty. A longer horizon leads more and errs more.
// History: the controller keeps at most 20,000 records per policy (~3.5 days at 15 s ticks), so a
// 24h season is learned after one day and refined for about two more.
//
// Method: additive Holt-Winters (level + trend + seasonal), robust to outliers. Inputs are the
// metric value the controller recorded with each of this policy's earlier ticks (PolicyInput.history,
// see controller/pool_controller.cc) followed by the metric window's samples (the recent part, which
// history has not recorded yet). They are averaged into buckets of `step` aligned to the epoch (so a
// bucket's seasonal phase is bucket index mod season/step), and the model is run over the buckets
// from scratch on every call: the policy keeps no state, and the same inputs give the same forecast.
//
//   e     = y - (level + trend + S[phase])                   one-step error
//   y*    = forecast + clamp(e, -3 sigma, +3 sigma)           Huber-clipped observation
//   sigma = 0.9 sigma + 0.1 min(|e|, 3 sigma), >= 5% of the mean |y|
//   level = alpha (y* - S[phase]) + (1 - alpha)(level + trend)
//   trend = beta (level - previous level) + (1 - beta) trend
//   S[phase] = gamma (y* - level) + (1 - gamma) S[phase]
//   forecast(now + h steps) = level + h trend + S[phase + h]
//
// The clip makes a single spike move the forecast by at most ~3 sigma, while a real shift raises sigma
// by 20% a step until it is followed (the reactive policies answer a real surge at once). A bucket
// with no sample keeps the forecast (level += trend) and decays the trend by (1 - beta), so a gap
// cannot extrapolate without bound. Initialization: with at least one season of buckets, the level is
// the first season's mean, its deviations are the seasonal shape, and the trend is the change between
// the first two seasons' means (0 with less than two); with less than a season of buckets, or when
// fewer than half of the first season's buckets have samples, or season 0, the model is level + trend
// only, started from a least-squares line through the first 10 buckets (so a cold start with only the
// metric window already has a trend).
//
// Defaults, per 1m step: alpha 0.5 follows the level within a couple of minutes (a forecaster that
// lags cannot lead); beta 0.2 averages the trend over ~5 minutes: a ramp is learned in ~10 minutes
// (0.1 took ~20 in the ramp test), while one jump, clipped, barely tilts it; gamma 0.3 weighs
// yesterday 30%, the day before 21%, ..., because the controller keeps only ~3.5 days of 15 s ticks
// (alpha + gamma <= 1 keeps it stable). The constants are per step, and trend noise grows with the
// steps in the horizon: for a long horizon use a longer step (about horizon / 4 to horizon / 2).
//
// Recommendation: ceil(peak forecast over [now, now + horizon] / target_per_server), with
// allow_scale_down = false: the forecast may raise capacity, never lower it on its own (Decide treats
// it as a floor-only opinion). The reason gives the peak, when, and the error of its horizon-ahead forecasts
// so far as WAPE (sum |y - forecast| / sum |y|, robust where MAPE explodes on near-zero load) over the
// history used. A missing or stale metric makes it invalid, like target_tracking.
// Cost: O(history records + history/step + season/step) per call and four vectors; measured ~9 us
// with 2,000 records and ~70 us with 20,000 (-O1, shared 2-core VM).
#ifndef WARMPOOL_POLICIES_PREDICTIVE_H_
#define WARMPOOL_POLICIES_PREDICTIVE_H_

#include <memory>
#include <string>
#include <vector>

#include "warmpool/policy.h"

namespace warmpool {

struct PredictiveSpec {
  std::string metric;
  double target = 1;  // per server, > 0
  DurationMs horizon = 2 * kMinute;
  DurationMs season = 24 * kHour;  // 0: no seasonality; else a multiple of step
  DurationMs history = 7 * 24 * kHour;
  DurationMs step = kMinute;
  double alpha = 0.5, beta = 0.2, gamma = 0.3;
};

struct Forecast {
  bool ok = false;              // false when there is no finite sample at all
  double peak = 0;              // the largest forecast over [now, now + horizon]
  DurationMs peak_in = 0;       // when, from now
  double level = 0, trend = 0;  // the model at now (trend per step)
  double error = -1;            // WAPE of the horizon-ahead forecasts as a fraction; -1 when none yet
  DurationMs span = 0;          // how much history the model ran over
  bool seasonal = false;        // a full season was seen
};

// The model, exposed for tests and benchmarks. REQUIRES: a valid spec (as the factory checks).
Forecast PredictiveForecast(const PredictiveSpec& spec, const PolicyInput& in);
Recommendation PredictiveRecommend(const std::string& name, const PredictiveSpec& spec,
                                   const PolicyInput& in);

// Params: metric, target_per_server, horizon, season, history, step, alpha, beta, gamma.
std::unique_ptr<Policy> NewPredictivePolicy(const std::string& name, const Params& params,
                                            std::vector<std::string>* errors);

}  // namespace warmpool

#endif  // WARMPOOL_POLICIES_PREDICTIVE_H_
