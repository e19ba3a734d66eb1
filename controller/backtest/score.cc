#include "controller/backtest/score.h"

#include <algorithm>
#include <cmath>

namespace warmpool {

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
