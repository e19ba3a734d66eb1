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
// 24h season is learned after one day and refined for about two more. It is carried over a reload and,
// with a state file, kept across a restart (`<state file>.learned`), while this policy's type, name
// and parameters stay the same.
//
// Method: additive Holt-Winters (level + trend + seasonal), robust to outliers. Inputs are the
// metric value the controller recorded with each of this policy's earlier ticks (PolicyInput.history,
// see policies/pool_decider.cc) followed by the metric window's samples (the recent part, which
// history has not recorded yet). They are averaged into buckets of `step` aligned to the epoch (so a
// bucket's seasonal phase is bucket index mod season/step), and the model runs over the buckets from
// the oldest sample used. The forecast is a function of the inputs alone: a policy object resumes
// the model where its last call left it (PredictiveModel below) only when the inputs extend the ones
// it ran over, and gives exactly what a fresh object computing from scratch gives.
//
//   e     = y - (level + trend + S[phase])                   one-step error
//   y*    = forecast + clamp(e, -3 sigma, +3 sigma)           Huber-clipped observation
//   sigma = 0.9 sigma + 0.1 min(|e|, 3 sigma), >= 5% of the mean |y| of the buckets so far
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
//
// The noise floor is 5% of a running mean (of |y| over the buckets up to the one being run, those the
// start read included), so that the model can be resumed. It used to be 5% of the mean over all the
// buckets, known only at the end; the two differ where the level moved a lot since the first buckets
// (a cold start, a ramp, a trace's first days), and only through sigma's floor.
//
// Cost: a bucket is settled once it ends before the window's oldest sample (only history records
// reach it, and history only grows at its end) and before the bucket of `now`. The policy keeps the
// settled buckets' means and the model run over them; a call consumes the records since the last one,
// runs the new settled buckets, then the unsettled tail (the window's ~5 buckets) on a copy, so a
// tick costs O(new records + window samples + horizon/step). It starts again from the oldest sample
// (O(history records + season/step)) when the inputs do not extend the last ones: the controller
// trimmed its history (every 2,000 records), `history` dropped the oldest sample, a record changed or
// came out of order, or while the start still reads unsettled buckets (the first 10 buckets, and the
// ticks when the first or second season completes). A spec with a `history` shorter than the records
// the controller keeps (e.g. 1d at 15 s ticks) drops a sample every tick, so it starts again every
// tick: measured ~55 us with 20,000 records, as every tick cost before the model could be resumed.
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

// The model's state between calls: the settled buckets and the model run over them. Not
// thread-safe (a policy is called by one controller, one tick at a time). Every call must pass the
// same spec.
class PredictiveModel {
 public:
  PredictiveModel();
  ~PredictiveModel();
  PredictiveModel(const PredictiveModel&) = delete;
  PredictiveModel& operator=(const PredictiveModel&) = delete;
  Forecast Run(const PredictiveSpec& spec, const PolicyInput& in);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// The model, exposed for tests and benchmarks. REQUIRES: a valid spec (as the factory checks).
// With `model`, resumes it (see PredictiveModel); without, computes from scratch.
Forecast PredictiveForecast(const PredictiveSpec& spec, const PolicyInput& in,
                            PredictiveModel* model = nullptr);
Recommendation PredictiveRecommend(const std::string& name, const PredictiveSpec& spec, const PolicyInput& in,
                                   PredictiveModel* model = nullptr);

// Params: metric, target_per_server, horizon, season, history, step, alpha, beta, gamma.
std::unique_ptr<Policy> NewPredictivePolicy(const std::string& name, const Params& params,
                                            std::vector<std::string>* errors);

}  // namespace warmpool

#endif  // WARMPOOL_POLICIES_PREDICTIVE_H_
