// A recorded load trace: CSV "timestamp,requests", one row per fixed step (../shared/traces).
// The load is a request rate (requests per step / step seconds), linear between the points, each
// point at the start of its bin; the last bin holds its rate to its end.
#ifndef WARMPOOL_CONTROLLER_TRACE_H_
#define WARMPOOL_CONTROLLER_TRACE_H_

#include <string>
#include <vector>

#include "warmpool/status.h"
#include "warmpool/time.h"

namespace warmpool {

struct Trace {
  std::string source;         // file path, for messages
  TimeMs start = 0;           // first timestamp
  DurationMs step = 0;        // > 0
  std::vector<double> rates;  // requests per second, one per step

  TimeMs end() const { return start + step * static_cast<TimeMs>(rates.size()); }
  // The rate at `t` (0 outside [start, end)).
  double RateAt(TimeMs t) const;
  // The rate `into` ms after point i (REQUIRES: i < size, 0 <= into < step): RateAt's interpolation
  // for callers that walk the trace in steps and keep (i, into) themselves.
  double RateAfterPoint(size_t i, DurationMs into) const {
    if (i + 1 >= rates.size()) return rates[i];
    const double frac = static_cast<double>(into) / static_cast<double>(step);
    return rates[i] + (rates[i + 1] - rates[i]) * frac;
  }
  // The first point time strictly after `t` (end() at most).
  TimeMs NextPointAfter(TimeMs t) const;
  double TotalRequests() const;  // sum of rate * step
};

// Reads a trace. Errors name the file and line: "x.csv:12: timestamp 900 is not 60s after 780".
Result<Trace> LoadTrace(const std::string& path);
Result<Trace> ParseTrace(const std::string& text, const std::string& source);

}  // namespace warmpool

#endif  // WARMPOOL_CONTROLLER_TRACE_H_
