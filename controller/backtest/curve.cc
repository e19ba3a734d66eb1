#include "controller/backtest/curve.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace warmpool {
namespace {

// Linear between (x0, y0) and (x1, y1) at x; y0 when the two x are equal.
double Lerp(double x0, double y0, double x1, double y1, double x) {
  if (x1 == x0) return y0;
  return y0 + (y1 - y0) * (x - x0) / (x1 - x0);
}

// The scale unserved requests are interpolated on: log10(1 + u), and back.
double Log(double unserved) { return std::log10(1 + std::max(0.0, unserved)); }
double Unlog(double l) { return std::pow(10.0, l) - 1; }

}  // namespace

std::vector<CurvePoint> CurveEnvelope(const std::vector<CurvePoint>& points) {
  std::vector<CurvePoint> sorted = points;
  std::stable_sort(sorted.begin(), sorted.end(), [](const CurvePoint& a, const CurvePoint& b) {
    return a.hours < b.hours || (a.hours == b.hours && a.unserved < b.unserved);
  });
  std::vector<CurvePoint> env;
  for (const CurvePoint& p : sorted) {
    if (env.empty() || p.unserved < env.back().unserved) env.push_back(p);
  }
  return env;
}

namespace {

// y at x on the polyline through (xs[i], ys[i]), xs increasing, linear between; outside [xs.front(),
// xs.back()], the side and the nearest end's y. REQUIRES: xs not empty, as many ys.
CurveReading OnPolyline(const std::vector<double>& xs, const std::vector<double>& ys, double x) {
  CurveReading r;
  r.lo = xs.front();
  r.hi = xs.back();
  if (x < r.lo) {
    r.side = CurveSide::kBelowRange;
    r.value = ys.front();
    return r;
  }
  if (x > r.hi) {
    r.side = CurveSide::kAboveRange;
    r.value = ys.back();
    return r;
  }
  r.side = CurveSide::kInside;
  r.value = ys.back();
  for (size_t i = 0; i + 1 < xs.size(); ++i) {
    if (x <= xs[i + 1]) {
      r.value = Lerp(xs[i], ys[i], xs[i + 1], ys[i + 1], x);
      break;
    }
  }
  return r;
}

}  // namespace

CurveReading UnservedAtHours(const std::vector<CurvePoint>& points, double hours) {
  const std::vector<CurvePoint> env = CurveEnvelope(points);
  if (env.empty()) return {};
  std::vector<double> xs, ys;
  for (const CurvePoint& p : env) xs.push_back(p.hours), ys.push_back(Log(p.unserved));
  // Up to the most hours any point spent, the envelope's last point holds: spending more gained nothing.
  double most = xs.back();
  for (const CurvePoint& p : points) most = std::max(most, p.hours);
  if (most > xs.back()) xs.push_back(most), ys.push_back(ys.back());
  CurveReading r = OnPolyline(xs, ys, hours);
  r.value = Unlog(r.value);
  return r;
}

CurveReading HoursAtUnserved(const std::vector<CurvePoint>& points, double unserved) {
  const std::vector<CurvePoint> env = CurveEnvelope(points);
  if (env.empty()) return {};
  // Unserved falls strictly along the envelope: read it backwards, by increasing unserved.
  std::vector<double> xs, ys;
  for (auto p = env.rbegin(); p != env.rend(); ++p) xs.push_back(Log(p->unserved)), ys.push_back(p->hours);
  CurveReading r = OnPolyline(xs, ys, Log(unserved));
  r.lo = env.back().unserved;
  r.hi = env.front().unserved;
  return r;
}

std::string RatioText(double mine, double theirs) {
  if (theirs == 0) return mine == 0 ? "both 0" : "inf";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3gx", mine / theirs);
  return buf;
}

}  // namespace warmpool
