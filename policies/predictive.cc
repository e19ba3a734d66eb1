#include "predictive.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "warmpool/params.h"

namespace warmpool {
namespace {

constexpr double kClip = 3;           // observations are clipped to the forecast +/- kClip sigma
constexpr double kSigmaRate = 0.1;    // how fast sigma follows the absolute errors
constexpr double kSigmaFloor = 0.05;  // sigma >= this fraction of the mean |y|
constexpr int kInitPoints = 10;       // buckets in the least-squares start of a non-seasonal model
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

std::string Fmt(double v) {
  char buf[48];
  std::snprintf(buf, sizeof buf, std::fabs(v) < 1e4 ? "%.4g" : "%.0f", v);
  return buf;
}

// Means of the samples per bucket of `step`, from bucket b0 to the bucket of `now`; NaN when empty.
struct Buckets {
  int64_t b0 = 0;
  std::vector<double> y;
  double mean_abs = 0;
  TimeMs first = 0;  // the oldest sample used
};

bool FillBuckets(const PredictiveSpec& spec, const PolicyInput& in, const MetricWindow* window,
                 Buckets* out) {
  const TimeMs from = in.now - spec.history;
  // History records what earlier ticks saw; the window's samples are newer and have real timestamps.
  TimeMs cut = in.now + 1;
  if (window != nullptr && !window->samples.empty()) cut = std::min(cut, window->samples.front().t);
  auto hist = std::lower_bound(in.history.begin(), in.history.end(), from,
                               [](const PolicyRecord& r, TimeMs t) { return r.at < t; });
  auto hist_end =
      std::lower_bound(hist, in.history.end(), cut, [](const PolicyRecord& r, TimeMs t) { return r.at < t; });
  TimeMs first = std::numeric_limits<TimeMs>::max();
  for (auto it = hist; it != hist_end && first == std::numeric_limits<TimeMs>::max(); ++it) {
    if (std::isfinite(it->metric)) first = it->at;
  }
  if (window != nullptr) {
    for (const Sample& s : window->samples) {
      if (s.t <= in.now && std::isfinite(s.value)) {  // the window is always used whole
        first = std::min(first, s.t);
        break;
      }
    }
  }
  if (first == std::numeric_limits<TimeMs>::max()) return false;
  const DurationMs step = spec.step;
  out->first = first;
  out->b0 = FloorDiv(first, step);
  const size_t n = static_cast<size_t>(FloorDiv(in.now, step) - out->b0 + 1);
  out->y.assign(n, 0);
  std::vector<int> count(n, 0);
  // Samples arrive oldest first, so the bucket index advances by additions, not divisions.
  size_t i = 0;
  TimeMs lo = out->b0 * step, hi = lo + step;
  auto add = [&](TimeMs t, double v) {
    if (t < lo) {  // out of order: recompute
      i = static_cast<size_t>(FloorDiv(t, step) - out->b0);
      lo = (out->b0 + static_cast<int64_t>(i)) * step;
      hi = lo + step;
    }
    while (t >= hi) {
      lo = hi;
      hi += step;
      ++i;
    }
    out->y[i] += v;
    ++count[i];
  };
  for (auto it = hist; it != hist_end; ++it) {
    if (it->at >= first && it->at <= in.now && std::isfinite(it->metric)) add(it->at, it->metric);
  }
  if (window != nullptr) {
    for (const Sample& s : window->samples) {
      if (s.t >= cut && s.t >= first && s.t <= in.now && std::isfinite(s.value)) add(s.t, s.value);
    }
  }
  double abs_sum = 0;
  int filled = 0;
  for (size_t k = 0; k < n; ++k) {
    if (count[k] == 0) {
      out->y[k] = kNaN;
    } else {
      out->y[k] /= count[k];
      abs_sum += std::fabs(out->y[k]);
      ++filled;
    }
  }
  out->mean_abs = filled > 0 ? abs_sum / filled : 0;
  return true;
}

class PredictivePolicy final : public Policy {
 public:
  PredictivePolicy(std::string name, PredictiveSpec spec) : name_(std::move(name)), spec_(std::move(spec)) {}
  const std::string& Name() const override { return name_; }
  std::vector<std::string> Metrics() const override { return {spec_.metric}; }
  Recommendation Recommend(const PolicyInput& in) const override {
    return PredictiveRecommend(name_, spec_, in);
  }

 private:
  std::string name_;
  PredictiveSpec spec_;
};

}  // namespace

Forecast PredictiveForecast(const PredictiveSpec& spec, const PolicyInput& in) {
  Forecast fc;
  Buckets b;
  if (!FillBuckets(spec, in, in.Window(spec.metric), &b)) return fc;
  const std::vector<double>& y = b.y;
  const size_t n = y.size();
  const size_t m = spec.season > 0 ? static_cast<size_t>(spec.season / spec.step) : 0;
  const size_t phase0 = m > 0 ? static_cast<size_t>(((b.b0 % static_cast<int64_t>(m)) + m) % m) : 0;
  const double floor = std::max(kSigmaFloor * b.mean_abs, 1e-12);

  // Initialization.
  std::vector<double> s(std::max<size_t>(m, 1), 0.0);
  double level = 0, trend = 0;
  size_t start = 0;
  size_t filled_first = 0;
  for (size_t i = 0; i < std::min(m, n); ++i) filled_first += std::isfinite(y[i]);
  if (m > 0 && n > m && 2 * filled_first >= m) {
    fc.seasonal = true;
    auto mean = [&](size_t from, size_t to, double def) {
      double sum = 0;
      int k = 0;
      for (size_t i = from; i < to && i < n; ++i) {
        if (std::isfinite(y[i])) sum += y[i], ++k;
      }
      return k > 0 ? sum / k : def;
    };
    const double mean1 = mean(0, m, 0);
    if (n >= 2 * m) trend = (mean(m, 2 * m, mean1) - mean1) / static_cast<double>(m);
    for (size_t i = 0; i < m; ++i) s[(phase0 + i) % m] = std::isfinite(y[i]) ? y[i] - mean1 : 0;
    level = mean1 + trend * static_cast<double>(m - 1) / 2;
    start = m;
  } else {
    // Least-squares line through the first finite buckets.
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    int k = 0;
    size_t last = 0;
    for (size_t i = 0; i < n && k < kInitPoints; ++i) {
      if (!std::isfinite(y[i])) continue;
      const double x = static_cast<double>(i);
      sx += x, sy += y[i], sxx += x * x, sxy += x * y[i];
      ++k;
      last = i;
    }
    const double det = k * sxx - sx * sx;
    trend = k > 1 && det > 0 ? (k * sxy - sx * sy) / det : 0;
    level = sy / k + trend * (static_cast<double>(last) - sx / k);
    start = last + 1;
  }

  // The robust Holt-Winters pass, scoring the horizon-ahead forecasts as it goes.
  const double hs = static_cast<double>(spec.horizon) / static_cast<double>(spec.step);
  const size_t h = static_cast<size_t>(std::max(1.0, std::ceil(hs - 1e-9)));
  std::vector<double> ahead(h + 1, kNaN);  // ahead[i % (h+1)]: the forecast made at i - h for i
  size_t slot = start % (h + 1);           // i % (h + 1), kept without dividing in the loop
  double sigma = floor, err_sum = 0, abs_sum = 0;
  size_t phase = m > 0 ? (phase0 + start) % m : 0, phase_ahead = m > 0 ? (phase + h) % m : 0;
  const double a = spec.alpha, be = spec.beta, g = fc.seasonal ? spec.gamma : 0;
  for (size_t i = start; i < n; ++i) {
    double& season = s[phase];
    const double forecast = level + trend + season;
    if (std::isfinite(y[i])) {
      const double past = ahead[slot];
      if (i + 1 < n && std::isfinite(past)) {  // the current bucket is still filling: not scored
        err_sum += std::fabs(y[i] - past);
        abs_sum += std::fabs(y[i]);
      }
      const double e = y[i] - forecast, clip = kClip * sigma;
      const double ystar = forecast + std::clamp(e, -clip, clip);
      sigma = std::max(floor, (1 - kSigmaRate) * sigma + kSigmaRate * std::min(std::fabs(e), clip));
      const double prev = level;
      level = a * (ystar - season) + (1 - a) * (level + trend);
      trend = be * (level - prev) + (1 - be) * trend;
      season = g * (ystar - level) + (1 - g) * season;
    } else {
      level += trend;
      trend *= 1 - be;
    }
    // (i + h) % (h + 1) is the slot before i's.
    ahead[slot == 0 ? h : slot - 1] = level + static_cast<double>(h) * trend + (m > 0 ? s[phase_ahead] : 0);
    if (++slot == h + 1) slot = 0;
    if (m > 0 && ++phase == m) phase = 0;
    if (m > 0 && ++phase_ahead == m) phase_ahead = 0;
  }

  // The peak over [now, now + horizon].
  const size_t now_phase = m > 0 ? (phase0 + n - 1) % m : 0;
  fc.ok = true;
  fc.level = level;
  fc.trend = trend;
  fc.peak = -std::numeric_limits<double>::infinity();
  for (size_t j = 0; j <= h; ++j) {
    const double step_ahead = std::min(static_cast<double>(j), hs);
    const double f = level + step_ahead * trend + (fc.seasonal ? s[(now_phase + j) % m] : 0);
    if (f > fc.peak) {
      fc.peak = f;
      fc.peak_in = static_cast<DurationMs>(std::llround(step_ahead * static_cast<double>(spec.step)));
    }
  }
  fc.error = abs_sum > 0 ? err_sum / abs_sum : -1;
  fc.span = in.now - b.first;
  return fc;
}

Recommendation PredictiveRecommend(const std::string& name, const PredictiveSpec& spec,
                                   const PolicyInput& in) {
  Recommendation rec;
  rec.policy = name;
  rec.allow_scale_down = false;
  const MetricWindow* window = in.Window(spec.metric);
  if (!window || !window->Latest(in.now, in.stale_after)) {
    rec.reason = spec.metric + " missing or stale (no finite sample in the last " +
                 FormatDuration(in.stale_after) + ")";
    return rec;
  }
  const Forecast fc = PredictiveForecast(spec, in);
  rec.valid = true;
  const double peak = std::max(0.0, fc.peak);
  rec.desired = static_cast<int>(std::min(1e6, std::ceil(peak / spec.target - 1e-9)));
  if (!in.explain) return rec;
  const DurationMs span = fc.span >= kMinute ? fc.span / kMinute * kMinute : fc.span / kSecond * kSecond;
  std::string error =
      fc.error < 0 ? "no forecast scored yet"
                   : "WAPE " + Fmt(std::round(fc.error * 1000) / 10) + "% over " + FormatDuration(span);
  if (spec.season > 0) {
    error += fc.seasonal ? ", seasonal " + FormatDuration(spec.season)
                         : ", trend only until " + FormatDuration(spec.season) + " of history";
  }
  const DurationMs when = fc.peak_in / kSecond * kSecond;
  rec.reason = "forecast peak " + Fmt(peak) + " " + spec.metric +
               (when > 0 ? " in " + FormatDuration(when) : " now") + " (" + error + "): needs " +
               std::to_string(rec.desired);
  return rec;
}

std::unique_ptr<Policy> NewPredictivePolicy(const std::string& name, const Params& params,
                                            std::vector<std::string>* errors) {
  ParamReader r(params);
  PredictiveSpec spec;
  spec.metric = r.String("metric");
  if (spec.metric.empty()) r.Error("metric", "required (the name of one of the pool's metrics)");
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
