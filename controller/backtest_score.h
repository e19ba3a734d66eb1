// Scoring shared by the backtest and the oracle: load above capacity, integrated exactly.
#ifndef WARMPOOL_CONTROLLER_BACKTEST_SCORE_H_
#define WARMPOOL_CONTROLLER_BACKTEST_SCORE_H_

#include "trace.h"
#include "trace_mask.h"

namespace warmpool {

// Over [0, len] seconds, load goes linearly from a to b against constant capacity c.
// Adds the requests above capacity and the seconds spent above it.
void ScoreSegment(double a, double b, double c, double len, double* unserved, double* over_s);

// Scores the trace's load over [from, to) against constant capacity `cap`, split where the load
// bends (trace points) and skipping masked time. `masks` only moves forward: calls must come in
// time order.
void ScoreSpan(const Trace& trace, SpanCursor* masks, TimeMs from, TimeMs to, double cap, double* unserved,
               double* over_s);

// Requests in the trace's bins whose point is outside every span. `spans`: normalized.
double UnmaskedRequests(const Trace& trace, const std::vector<TimeSpan>& spans);

}  // namespace warmpool

#endif  // WARMPOOL_CONTROLLER_BACKTEST_SCORE_H_
