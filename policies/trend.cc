#include "policies/trend.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "warmpool/text.h"

namespace warmpool {
namespace {

struct Fit {
  double slope = 0;  // per ms
  double r2 = 0;
  bool ok = false;
};

// Least squares over points[begin, end). Times are taken relative to the first point, so that epoch
// milliseconds do not swallow the precision of the sums.
Fit LeastSquares(const std::vector<Sample>& points, size_t begin, size_t end) {
  Fit f;
  const double n = static_cast<double>(end - begin);
  if (end - begin < 2) return f;
  const double t0 = static_cast<double>(points[begin].t);
  double st = 0, sv = 0;
  for (size_t i = begin; i < end; ++i) {
    st += static_cast<double>(points[i].t) - t0;
    sv += points[i].value;
  }
  const double mt = st / n, mv = sv / n;
  double stt = 0, stv = 0, svv = 0;
  for (size_t i = begin; i < end; ++i) {
    const double dt = static_cast<double>(points[i].t) - t0 - mt, dv = points[i].value - mv;
    stt += dt * dt;
    stv += dt * dv;
    svv += dv * dv;
  }
  if (stt <= 0) return f;
  f.ok = true;
  f.slope = stv / stt;
  f.r2 = svv > 0 ? (stv * stv) / (stt * svv) : 0;  // a flat line explains nothing: no trend
  return f;
}

}  // namespace

LimitForecast ForecastLimit(const MetricWindow& window, double above, DurationMs horizon, TimeMs now,
                            DurationMs stale_after) {
  LimitForecast out;
  const std::optional<Sample> latest = window.Latest(now, stale_after);
  if (!latest) return out;
  out.value = latest->value;
  if (latest->value > above) {
    out.verdict = LimitForecast::Verdict::kPast;
    return out;
  }
  if (horizon <= 0) return out;
  std::vector<Sample> points;
  for (const Sample& s : window.samples) {
    if (s.t <= now && std::isfinite(s.value)) points.push_back(s);
  }
  if (static_cast<int>(points.size()) < kMinTrendSamples) return out;
  const Fit whole = LeastSquares(points, 0, points.size());
  if (!whole.ok || whole.slope <= 0 || whole.r2 < kMinTrendFit) return out;
  // The halves, split at the middle of the time span.
  const TimeMs mid = points.front().t + (points.back().t - points.front().t) / 2;
  const size_t split = static_cast<size_t>(
      std::upper_bound(points.begin(), points.end(), mid, [](TimeMs t, const Sample& s) { return t < s.t; }) -
      points.begin());
  const Fit first = LeastSquares(points, 0, split), second = LeastSquares(points, split, points.size());
  if (!first.ok || !second.ok) return out;
  // A step is flat on one side of it; a leak rises on both at about the window's rate.
  if (first.slope < kMinHalfShare * whole.slope || second.slope < kMinHalfShare * whole.slope) return out;
  const double rate = std::min({whole.slope, first.slope, second.slope});
  if (rate <= 0) return out;
  const double eta = (above - latest->value) / rate;
  if (eta > static_cast<double>(horizon)) return out;
  out.verdict = LimitForecast::Verdict::kReaches;
  out.rate_per_min = rate * static_cast<double>(kMinute);
  out.eta = std::llround(eta / kSecond) * kSecond;
  return out;
}

std::string DescribeForecast(const std::string& metric, double above, const LimitForecast& f) {
  switch (f.verdict) {
    case LimitForecast::Verdict::kNone: return "";
    case LimitForecast::Verdict::kPast: return metric + " " + FormatNumber(f.value) + " > " + FormatNumber(above);
    case LimitForecast::Verdict::kReaches:
      return metric + " " + FormatNumber(f.value) + " rising " + FormatNumber(f.rate_per_min) + "/min reaches " +
             FormatNumber(above) + " in " + FormatDuration(f.eta);
  }
  return "";
}

}  // namespace warmpool
