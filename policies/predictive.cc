#include "policies/predictive.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <span>
#include <utility>

#include "warmpool/params.h"
#include "warmpool/text.h"

namespace warmpool {
namespace {

constexpr double kClip = 3;           // observations are clipped to the forecast +/- kClip sigma
constexpr double kSigmaRate = 0.1;    // how fast sigma follows the absolute errors
constexpr double kSigmaFloor = 0.05;  // sigma >= this fraction of the mean |y|
constexpr int kInitPoints = 10;       // buckets in the least-squares start of a non-seasonal model
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The bucket of a time, walking forward by additions from the last one (samples come oldest first).
struct Bucketer {
  DurationMs step;
  int64_t b;  // the current bucket, [lo, lo + step)
  TimeMs lo;
  Bucketer(DurationMs s, int64_t bucket) : step(s), b(bucket), lo(bucket * s) {}
  int64_t Of(TimeMs t) {
    if (t >= lo + step && t < lo + 2 * step) {
      ++b, lo += step;
    } else if (t < lo || t >= lo + step) {
      b = FloorDiv(t, step), lo = b * step;
    }
    return b;
  }
};

// The Holt-Winters scalars after some buckets.
struct Model {
  double level = 0, trend = 0, sigma = 0;
  double err_sum = 0, abs_sum = 0;  // the WAPE's sums
  double seen_abs = 0;              // sum of |y| over the finite buckets so far (the noise floor)
  double seen = 0;                  // how many
  size_t slot = 0, phase = 0, phase_ahead = 0;
};

struct Shape {
  size_t m = 0;  // buckets per season, 0 without
  size_t h = 1;  // buckets in the horizon, rounded up, >= 1
  double alpha = 0, beta = 0, gamma = 0;
};

// How a run starts (see the header): from the first season(s), or a line through the first buckets.
struct Start {
  bool seasonal = false, with_trend = false;
  size_t start = 0;   // the first bucket the pass runs over
  size_t extent = 0;  // the start read buckets [0, extent)
};

// Writes to the seasonal shape and the ring of forecasts, for the tail to undo.
using UndoLog = std::vector<std::pair<double*, double>>;

// One bucket of the robust pass. `scored`: whether the bucket is complete (its error counts).
void Step(const Shape& k, double y, bool scored, Model* st, double* s, double* ahead, UndoLog* undo) {
  double& season = s[st->phase];
  const double forecast = st->level + st->trend + season;
  if (std::isfinite(y)) {
    st->seen_abs += std::fabs(y);
    st->seen += 1;
    const double floor = std::max(kSigmaFloor * st->seen_abs / st->seen, 1e-12);
    const double past = ahead[st->slot];
    if (scored && std::isfinite(past)) {
      st->err_sum += std::fabs(y - past);
      st->abs_sum += std::fabs(y);
    }
    const double e = y - forecast, clip = kClip * st->sigma;
    const double ystar = forecast + std::clamp(e, -clip, clip);
    st->sigma = std::max(floor, (1 - kSigmaRate) * st->sigma + kSigmaRate * std::min(std::fabs(e), clip));
    const double prev = st->level;
    st->level = k.alpha * (ystar - season) + (1 - k.alpha) * (st->level + st->trend);
    st->trend = k.beta * (st->level - prev) + (1 - k.beta) * st->trend;
    if (undo) undo->emplace_back(&season, season);
    season = k.gamma * (ystar - st->level) + (1 - k.gamma) * season;
  } else {
    st->level += st->trend;
    st->trend *= 1 - k.beta;
  }
  double& ahead_slot = ahead[st->slot == 0 ? k.h : st->slot - 1];  // (i + h) % (h + 1)
  if (undo) undo->emplace_back(&ahead_slot, ahead_slot);
  ahead_slot = st->level + static_cast<double>(k.h) * st->trend + (k.m > 0 ? s[st->phase_ahead] : 0);
  if (++st->slot == k.h + 1) st->slot = 0;
  if (k.m > 0 && ++st->phase == k.m) st->phase = 0;
  if (k.m > 0 && ++st->phase_ahead == k.m) st->phase_ahead = 0;
}

// The start `n` buckets get. `filled_first`: finite buckets among the first season's (n > m only).
Start ChooseStart(const Shape& k, const std::vector<double>& y, size_t n, size_t filled_first) {
  Start how;
  if (k.m > 0 && n > k.m && 2 * filled_first >= k.m) {
    how.seasonal = true;
    how.with_trend = n >= 2 * k.m;
    how.start = k.m;
    how.extent = how.with_trend ? 2 * k.m : k.m;
    return how;
  }
  int found = 0;
  size_t i = 0;
  for (; i < n && found < kInitPoints; ++i) {
    if (std::isfinite(y[i])) {
      ++found;
      how.start = i + 1;
    }
  }
  how.extent = found == kInitPoints ? how.start : n;
  return how;
}

// Sets the model, the seasonal shape and the ring as `how` starts them from y.
void Initialize(const Shape& k, const Start& how, const std::vector<double>& y, size_t phase0, Model* st,
                std::vector<double>* s, std::vector<double>* ahead) {
  const size_t m = k.m;
  *st = Model{};
  s->assign(std::max<size_t>(m, 1), 0.0);
  ahead->assign(k.h + 1, kNaN);
  if (how.seasonal) {
    auto mean = [&](size_t from, size_t to, double def) {
      double sum = 0;
      int c = 0;
      for (size_t i = from; i < to; ++i) {
        if (std::isfinite(y[i])) sum += y[i], ++c;
      }
      return c > 0 ? sum / c : def;
    };
    const double mean1 = mean(0, m, 0);
    if (how.with_trend) st->trend = (mean(m, 2 * m, mean1) - mean1) / static_cast<double>(m);
    for (size_t i = 0; i < m; ++i) (*s)[(phase0 + i) % m] = std::isfinite(y[i]) ? y[i] - mean1 : 0;
    st->level = mean1 + st->trend * static_cast<double>(m - 1) / 2;
  } else {
    // Least-squares line through the first finite buckets.
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    int c = 0;
    for (size_t i = 0; i < how.start; ++i) {
      if (!std::isfinite(y[i])) continue;
      const double x = static_cast<double>(i);
      sx += x, sy += y[i], sxx += x * x, sxy += x * y[i];
      ++c;
    }
    const double det = c * sxx - sx * sx;
    st->trend = c > 1 && det > 0 ? (c * sxy - sx * sy) / det : 0;
    st->level = sy / c + st->trend * (static_cast<double>(how.start - 1) - sx / c);
  }
  // The noise floor starts from the buckets the start read.
  for (size_t i = 0; i < how.start; ++i) {
    if (std::isfinite(y[i])) st->seen_abs += std::fabs(y[i]), st->seen += 1;
  }
  st->sigma = std::max(st->seen > 0 ? kSigmaFloor * st->seen_abs / st->seen : 0, 1e-12);
  st->slot = how.start % (k.h + 1);
  st->phase = m > 0 ? (phase0 + how.start) % m : 0;
  st->phase_ahead = m > 0 ? (st->phase + k.h) % m : 0;
}

bool SameRecord(const PolicyRecord& a, const PolicyRecord& b) {
  return a.at == b.at && std::memcmp(&a.metric, &b.metric, sizeof a.metric) == 0;
}

class PredictivePolicy final : public Policy {
 public:
  PredictivePolicy(std::string name, PredictiveSpec spec) : name_(std::move(name)), spec_(std::move(spec)) {}
  const std::string& Name() const override { return name_; }
  PolicyInputs Inputs() const override { return {{spec_.metric}, /*history=*/true}; }  // its season
  Recommendation Recommend(const PolicyInput& in) const override {
    return PredictiveRecommend(name_, spec_, in, &model_);
  }

 private:
  std::string name_;
  PredictiveSpec spec_;
  mutable PredictiveModel model_;  // a cache: the same inputs give the same forecast with or without it
};

}  // namespace

// What the last call settled: the buckets' means and the model run over them (see the header).
struct PredictiveModel::State {
  bool valid = false;
  TimeMs first = 0;                    // the oldest sample used: bucket 0 is its bucket
  int64_t b0 = 0;                      // bucket 0, counted from the epoch
  size_t next = 0;                     // the index in the history of the first record not consumed
  PolicyRecord front, last;            // history[0] and history[next - 1] as they were then
  std::vector<double> y;               // the settled buckets' means (NaN: no sample)
  std::optional<size_t> filled_first;  // finite buckets among y[0, m), once they are all settled
  bool started = false;                // the model below is run over y[0, done)
  Start how;
  size_t done = 0;
  Model st;
  std::vector<double> s, ahead;  // the seasonal shape by phase; the horizon-ahead forecasts by slot
  // Scratch, kept for its storage.
  std::vector<double> sum;
  std::vector<int> count;
  std::vector<double> s2, ahead2;
  UndoLog undo;
};

PredictiveModel::PredictiveModel() : state_(std::make_unique<State>()) {}
PredictiveModel::~PredictiveModel() = default;

Forecast PredictiveModel::Run(const PredictiveSpec& spec, const PolicyInput& in) {
  Forecast fc;
  State& c = *state_;
  const MetricWindow* window = in.Window(spec.metric);
  const std::span<const PolicyRecord> hist = in.history;
  const auto before = [](const PolicyRecord& r, TimeMs t) { return r.at < t; };
  const TimeMs from = in.now - spec.history;
  // History records what earlier ticks saw; the window's samples are newer and have real timestamps.
  TimeMs cut = in.now + 1;
  if (window != nullptr && !window->samples.empty()) cut = std::min(cut, window->samples.front().t);
  const size_t hb =
      hist.empty() || hist.front().at >= from
          ? 0
          : static_cast<size_t>(std::lower_bound(hist.begin(), hist.end(), from, before) - hist.begin());
  TimeMs first = std::numeric_limits<TimeMs>::max();
  for (size_t i = hb; i < hist.size() && hist[i].at < cut; ++i) {
    if (std::isfinite(hist[i].metric)) {
      first = hist[i].at;
      break;
    }
  }
  if (window != nullptr) {
    for (const Sample& s : window->samples) {
      if (s.t <= in.now && std::isfinite(s.value)) {  // the window is always used whole
        first = std::min(first, s.t);
        break;
      }
    }
  }
  if (first == std::numeric_limits<TimeMs>::max()) return fc;

  const DurationMs step = spec.step;
  const int64_t b0 = FloorDiv(first, step), now_b = FloorDiv(in.now, step);
  const size_t n = static_cast<size_t>(now_b - b0 + 1);
  // Settled: the buckets that end at or before `cut`, except the one of `now`.
  const size_t settled = static_cast<size_t>(std::max<int64_t>(0, std::min(FloorDiv(cut, step), now_b) - b0));
  const TimeMs settled_end = (b0 + static_cast<int64_t>(settled)) * step;
  Shape k;
  k.m = spec.season > 0 ? static_cast<size_t>(spec.season / step) : 0;
  const double hs = static_cast<double>(spec.horizon) / static_cast<double>(step);
  k.h = static_cast<size_t>(std::max(1.0, std::ceil(hs - 1e-9)));
  k.alpha = spec.alpha, k.beta = spec.beta;
  const size_t phase0 = k.m > 0 ? static_cast<size_t>(((b0 % static_cast<int64_t>(k.m)) + k.m) % k.m) : 0;

  // Resume only when the inputs extend those of the last call: the same oldest sample, the records
  // consumed still there and unchanged (the controller trims its history from the front), and no
  // settled bucket unsettled.
  const bool resume = c.valid && c.first == first && from <= first && c.next <= hist.size() &&
                      (hist.empty() || SameRecord(hist.front(), c.front)) &&
                      (c.next == 0 || SameRecord(hist[c.next - 1], c.last)) && settled >= c.y.size();
  size_t settled_next = 0;  // the first record of the unsettled tail
  for (int attempt = 0;; ++attempt) {
    if (!resume || attempt > 0) {
      c.valid = true;
      c.first = first;
      c.b0 = b0;
      c.next = hb;
      c.y.clear();
      c.filled_first.reset();
      c.started = false;
    }
    // Consume the records of the buckets that settled since the last call.
    const size_t k0 = c.y.size();
    const size_t lo = std::max(c.next, hb);
    settled_next = static_cast<size_t>(
        std::lower_bound(hist.begin() + static_cast<ptrdiff_t>(lo), hist.end(), settled_end, before) -
        hist.begin());
    c.sum.assign(settled - k0, 0.0);
    c.count.assign(settled - k0, 0);
    Bucketer bucket(step, b0 + static_cast<int64_t>(k0));
    bool out_of_order = false;
    for (size_t i = lo; i < settled_next; ++i) {
      const PolicyRecord& r = hist[i];
      if (!(r.at >= first && r.at <= in.now && std::isfinite(r.metric))) continue;
      const int64_t j = bucket.Of(r.at) - b0;
      if (j < static_cast<int64_t>(k0)) {  // before what is settled: start again
        out_of_order = true;
        break;
      }
      if (j >= static_cast<int64_t>(settled)) continue;
      c.sum[static_cast<size_t>(j) - k0] += r.metric;
      ++c.count[static_cast<size_t>(j) - k0];
    }
    if (out_of_order) continue;  // only with k0 > 0, so the second attempt ends
    for (size_t j = 0; j < settled - k0; ++j) c.y.push_back(c.count[j] > 0 ? c.sum[j] / c.count[j] : kNaN);
    c.next = settled_next;
    if (!hist.empty()) c.front = hist.front();
    if (c.next > 0) c.last = hist[c.next - 1];
    break;
  }

  // The tail: records from the settled end to `cut`, then the window's samples, into y[settled, n).
  const size_t tail = n - settled;
  c.sum.assign(tail, 0.0);
  c.count.assign(tail, 0);
  Bucketer bucket(step, b0 + static_cast<int64_t>(settled));
  auto add = [&](TimeMs t, double v) {
    const int64_t j = bucket.Of(t) - b0 - static_cast<int64_t>(settled);
    if (j < 0 || j >= static_cast<int64_t>(tail)) return;
    c.sum[static_cast<size_t>(j)] += v;
    ++c.count[static_cast<size_t>(j)];
  };
  for (size_t i = settled_next; i < hist.size() && hist[i].at < cut; ++i) {
    const PolicyRecord& r = hist[i];
    if (r.at >= first && r.at <= in.now && std::isfinite(r.metric)) add(r.at, r.metric);
  }
  if (window != nullptr) {
    for (const Sample& s : window->samples) {
      if (s.t >= cut && s.t >= first && s.t <= in.now && std::isfinite(s.value)) add(s.t, s.value);
    }
  }
  for (size_t j = 0; j < tail; ++j) c.y.push_back(c.count[j] > 0 ? c.sum[j] / c.count[j] : kNaN);

  // How the model starts now; it is kept when it reads only settled buckets.
  size_t filled_first = 0;
  if (k.m > 0 && n > k.m) {
    if (c.filled_first) {
      filled_first = *c.filled_first;
    } else {
      for (size_t i = 0; i < k.m; ++i) filled_first += std::isfinite(c.y[i]);
      if (settled >= k.m) c.filled_first = filled_first;
    }
  }
  const bool same_start = c.started && c.how.seasonal == (k.m > 0 && n > k.m && 2 * filled_first >= k.m) &&
                          (!c.how.seasonal || c.how.with_trend == (n >= 2 * k.m));
  Model st;
  const std::vector<double>* s = &c.s;
  if (same_start) {
    k.gamma = c.how.seasonal ? spec.gamma : 0;
    for (; c.done < settled; ++c.done) Step(k, c.y[c.done], true, &c.st, c.s.data(), c.ahead.data(), nullptr);
  } else {
    const Start how = ChooseStart(k, c.y, n, filled_first);
    k.gamma = how.seasonal ? spec.gamma : 0;
    if (how.extent <= settled) {
      c.started = true;
      c.how = how;
      Initialize(k, how, c.y, phase0, &c.st, &c.s, &c.ahead);
      for (c.done = how.start; c.done < settled; ++c.done) {
        Step(k, c.y[c.done], true, &c.st, c.s.data(), c.ahead.data(), nullptr);
      }
    } else {  // the start reads the tail: run it all afresh, keeping nothing
      c.started = false;
      Initialize(k, how, c.y, phase0, &st, &c.s2, &c.ahead2);
      for (size_t i = how.start; i < n; ++i)
        Step(k, c.y[i], i + 1 < n, &st, c.s2.data(), c.ahead2.data(), nullptr);
      s = &c.s2;
      fc.seasonal = how.seasonal;
    }
  }
  c.undo.clear();
  if (c.started) {
    // The tail on a copy of the scalars; its writes to the shape and the ring are undone below.
    st = c.st;
    for (size_t i = std::max(settled, c.how.start); i < n; ++i) {
      Step(k, c.y[i], i + 1 < n, &st, c.s.data(), c.ahead.data(), &c.undo);
    }
    fc.seasonal = c.how.seasonal;
  }

  // The peak over [now, now + horizon].
  const size_t now_phase = k.m > 0 ? (phase0 + n - 1) % k.m : 0;
  fc.ok = true;
  fc.level = st.level;
  fc.trend = st.trend;
  fc.peak = -std::numeric_limits<double>::infinity();
  for (size_t j = 0; j <= k.h; ++j) {
    const double step_ahead = std::min(static_cast<double>(j), hs);
    const double f = st.level + step_ahead * st.trend + (fc.seasonal ? (*s)[(now_phase + j) % k.m] : 0);
    if (f > fc.peak) {
      fc.peak = f;
      fc.peak_in = static_cast<DurationMs>(std::llround(step_ahead * static_cast<double>(step)));
    }
  }
  fc.error = st.abs_sum > 0 ? st.err_sum / st.abs_sum : -1;
  fc.span = in.now - first;

  for (auto it = c.undo.rbegin(); it != c.undo.rend(); ++it) *it->first = it->second;
  c.y.resize(settled);
  return fc;
}

Forecast PredictiveForecast(const PredictiveSpec& spec, const PolicyInput& in, PredictiveModel* model) {
  if (model != nullptr) return model->Run(spec, in);
  PredictiveModel fresh;
  return fresh.Run(spec, in);
}

Recommendation PredictiveRecommend(const std::string& name, const PredictiveSpec& spec, const PolicyInput& in,
                                   PredictiveModel* model) {
  Recommendation rec;
  rec.policy = name;
  rec.allow_scale_down = false;
  const MetricWindow* window = in.Window(spec.metric);
  if (!window || !window->Latest(in.now, in.stale_after)) {
    rec.reason = spec.metric + " missing or stale (no finite sample in the last " +
                 FormatDuration(in.stale_after) + ")";
    return rec;
  }
  const Forecast fc = PredictiveForecast(spec, in, model);
  rec.valid = true;
  const double peak = std::max(0.0, fc.peak);
  rec.desired = static_cast<int>(std::min(1e6, std::ceil(peak / spec.target - 1e-9)));
  if (!in.explain) return rec;
  const DurationMs span = fc.span >= kMinute ? fc.span / kMinute * kMinute : fc.span / kSecond * kSecond;
  std::string error = fc.error < 0 ? "no forecast scored yet"
                                   : "WAPE " + FormatNumber(std::round(fc.error * 1000) / 10) + "% over " +
                                         FormatDuration(span);
  if (spec.season > 0) {
    error += fc.seasonal ? ", seasonal " + FormatDuration(spec.season)
                         : ", trend only until " + FormatDuration(spec.season) + " of history";
  }
  const DurationMs when = fc.peak_in / kSecond * kSecond;
  rec.reason = "forecast peak " + FormatNumber(peak) + " " + spec.metric +
               (when > 0 ? " in " + FormatDuration(when) : " now") + " (" + error + "): needs " +
               std::to_string(rec.desired);
  return rec;
}

std::unique_ptr<Policy> NewPredictivePolicy(const std::string& name, const Params& params,
                                            std::vector<std::string>* errors) {
  ParamReader r(params);
  PredictiveSpec spec;
  spec.metric = r.Required("metric", "the name of one of the pool's metrics");
  if (!r.Has("target_per_server")) r.Error("target_per_server", "required (the metric one server can carry)");
  spec.target = r.Number("target_per_server", 1, 1e-9, std::numeric_limits<double>::max());
  spec.step = r.Duration("step", kMinute, kSecond);
  if (spec.step > kHour) r.Error("step", "must be at most 1h, got " + FormatDuration(spec.step));
  spec.horizon = r.Duration("horizon", 2 * kMinute, 0);
  if (spec.horizon > 24 * kHour)
    r.Error("horizon", "must be at most 24h, got " + FormatDuration(spec.horizon));
  spec.season = r.Duration("season", 24 * kHour, 0);
  spec.history = r.Duration("history", 7 * 24 * kHour, 0);
  if (spec.season > 0 && spec.step > 0) {
    if (spec.season % spec.step != 0) {
      r.Error("season", "must be a multiple of step (" + FormatDuration(spec.step) + "), got " +
                            FormatDuration(spec.season));
    } else if (spec.season / spec.step > 100000) {
      r.Error("season", "has more than 100000 steps of " + FormatDuration(spec.step) + "; use a longer step");
    } else if (spec.history < spec.season) {
      r.Error("history", "must cover at least one season (" + FormatDuration(spec.season) +
                             ") to learn it, got " + FormatDuration(spec.history) +
                             "; or set season: 0 to forecast from the trend only");
    }
  }
  if (spec.history / spec.step > 1000000)
    r.Error("history", "has more than 1000000 steps; use a longer step");
  spec.alpha = r.Number("alpha", 0.5, 1e-6, 1);
  spec.beta = r.Number("beta", 0.2, 0, 1);
  spec.gamma = r.Number("gamma", 0.3, 0, 1);
  if (!r.FinishInto(errors)) return nullptr;
  return std::make_unique<PredictivePolicy>(name, std::move(spec));
}

}  // namespace warmpool
