#include "backtest_score.h"

#include <algorithm>
#include <cmath>

namespace warmpool {

void ScoreSegment(double a, double b, double c, double len, double* unserved, double* over_s) {
  if (len <= 0) return;
  const double ea = a - c, eb = b - c;  // excess at both ends
  if (ea <= 0 && eb <= 0) return;
  if (ea >= 0 && eb >= 0) {
    *unserved += (ea + eb) / 2 * len;
    *over_s += len;
    return;
  }
  // Crosses capacity once: the positive part is a triangle.
  const double pos = std::max(ea, eb);
  const double frac = pos / (std::fabs(ea) + std::fabs(eb));
  *unserved += pos * frac * len / 2;
  *over_s += frac * len;
}

void ScoreSpan(const Trace& trace, SpanCursor* masks, TimeMs from, TimeMs to, double cap, double* unserved,
               double* over_s) {
  to = std::min(to, trace.end());
  for (TimeMs a = from; a < to;) {
    const TimeMs b = std::min(trace.NextPointAfter(a), masks->NextBoundary(a, to));
    if (!masks->Inside(a)) {
      const double la = trace.RateAt(a);
      // The load is continuous between points; past the last point it holds the last rate.
      const double lb = b >= trace.end() ? la : trace.RateAt(b);
      ScoreSegment(la, lb, cap, static_cast<double>(b - a) / 1000.0, unserved, over_s);
    }
    a = b;
  }
}

double UnmaskedRequests(const Trace& trace, const std::vector<TimeSpan>& spans) {
  SpanCursor cursor(&spans);
  double total = 0;
  for (size_t i = 0; i < trace.rates.size(); ++i) {
    if (!cursor.Inside(trace.start + static_cast<TimeMs>(i) * trace.step)) total += trace.rates[i];
  }
  return total * static_cast<double>(trace.step) / 1000.0;
}

}  // namespace warmpool
