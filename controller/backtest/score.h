// Scoring shared by the backtest and the oracle: load above capacity, integrated exactly.
#ifndef WARMPOOL_CONTROLLER_BACKTEST_SCORE_H_
#define WARMPOOL_CONTROLLER_BACKTEST_SCORE_H_

#include <algorithm>
#include <cmath>

#include "controller/sources/trace/mask.h"
#include "controller/sources/trace/trace.h"

namespace warmpool {

// Over [0, len] seconds, load goes linearly from a to b against constant capacity c.
// Adds the requests above capacity and the seconds spent above it.
// Inline: the backtest calls it every tick.
inline void ScoreSegment(double a, double b, double c, double len, double* unserved, double* over_s) {
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

// Scores the trace's load over [from, to) against constant capacity `cap`, split where the load
// bends (trace points) and skipping masked time. `masks` only moves forward: calls must come in
// time order.
void ScoreSpan(const Trace& trace, SpanCursor* masks, TimeMs from, TimeMs to, double cap, double* unserved,
               double* over_s);

// Requests in the trace's bins whose point is outside every span. `spans`: normalized.
double UnmaskedRequests(const Trace& trace, const std::vector<TimeSpan>& spans);

}  // namespace warmpool

#endif  // WARMPOOL_CONTROLLER_BACKTEST_SCORE_H_
