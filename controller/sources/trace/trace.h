// A recorded load trace: CSV "timestamp,requests", one row per fixed step (examples/traces).
// The load is a request rate (requests per step / step seconds), linear between the points, each
// point at the start of its bin; the last bin holds its rate to its end.
#ifndef WARMPOOL_CONTROLLER_SOURCES_TRACE_TRACE_H_
#define WARMPOOL_CONTROLLER_SOURCES_TRACE_TRACE_H_

#include <cstdint>
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
    return RateAfterPoint(i, static_cast<double>(into) / static_cast<double>(step));
  }
  // The same with the fraction into / step given (as FracCache keeps it).
  double RateAfterPoint(size_t i, double frac) const {
    if (i + 1 >= rates.size()) return rates[i];
    return rates[i] + (rates[i + 1] - rates[i]) * frac;
  }
  // The first point time strictly after `t` (end() at most).
  TimeMs NextPointAfter(TimeMs t) const;
  double TotalRequests() const;  // sum of rate * step
};

// The fraction into / step of RateAfterPoint for the offsets a walk of a trace meets. A replay meets
// a few, over and over (0, 15, 30 and 45 s into a one-minute point at 15 s ticks): they are kept in
// 16 slots, by whole seconds into the point modulo 16, instead of divided again. The same numbers.
// `step` must not change.
class FracCache {
 public:
  double Get(DurationMs into, DurationMs step) {
    Slot& s = slots_[static_cast<uint64_t>(into) / 1000 % 16];
    if (s.into != into) s.into = into, s.frac = static_cast<double>(into) / static_cast<double>(step);
    return s.frac;
  }

 private:
  struct Slot {
    DurationMs into = -1;
    double frac = 0;
  };
  Slot slots_[16];
};

// Trace::RateAt for times that do not go back (a replay's): the point and the offset into it are kept
// from the last call instead of divided out each time. The same numbers as RateAt.
class TraceCursor {
 public:
  explicit TraceCursor(const Trace* trace) : trace_(trace), end_(trace->end()), point_(trace->start) {}
  double RateAt(TimeMs t) {
    const Trace& tr = *trace_;
    if (t < point_ || t >= end_) return tr.RateAt(t);  // before the last call, or outside
    while (t - point_ >= tr.step) point_ += tr.step, ++i_;
    return tr.RateAfterPoint(i_, fracs_.Get(t - point_, tr.step));
  }

 private:
  const Trace* trace_;
  TimeMs end_;
  FracCache fracs_;
  TimeMs point_;  // the time of point i_, at most the last time asked for
  size_t i_ = 0;
};

// Reads a trace, plain or gzip-compressed (.csv.gz). Errors name the file and line: "x.csv:12: timestamp 900
// is not 60s after 780".
Result<Trace> LoadTrace(const std::string& path);
Result<Trace> ParseTrace(const std::string& text, const std::string& source);

}  // namespace warmpool

#endif  // WARMPOOL_CONTROLLER_SOURCES_TRACE_TRACE_H_
