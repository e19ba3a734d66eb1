// Trace masks: spans of a trace that are collection gaps, not load (e.g. the Twitter stream's daily
// ~29-minute block of zeros, examples/traces/README.md). A backtest does not score masked spans (no
// unserved requests, no overload), and the policies see the metric held at its last value before
// the gap instead of a drop to zero. Servers running through a gap still cost server-hours.
#ifndef WARMPOOL_CONTROLLER_SOURCES_TRACE_MASK_H_
#define WARMPOOL_CONTROLLER_SOURCES_TRACE_MASK_H_

#include <algorithm>
#include <string>
#include <vector>

#include "controller/sources/trace/trace.h"
#include "warmpool/status.h"
#include "warmpool/time.h"

namespace warmpool {

struct TimeSpan {
  TimeMs start = 0;  // inclusive
  TimeMs end = 0;    // exclusive
  DurationMs length() const { return end - start; }
  bool operator==(const TimeSpan&) const = default;
};

// Runs of zero-rate points lasting at least `min_gap` (n zero points last n steps): each run masks
// [its first point, the point after its last). Sorted and disjoint.
std::vector<TimeSpan> FindZeroGaps(const Trace& trace, DurationMs min_gap);

// A mask file: CSV lines "start,end" in unix seconds, end > start. An optional header "start,end",
// blank lines and lines starting with '#' are skipped. Errors name the file and the line.
Result<std::vector<TimeSpan>> ParseMask(const std::string& text, const std::string& source);
Result<std::vector<TimeSpan>> LoadMask(const std::string& path);

// Clipped to [trace.start, trace.end()), sorted, overlapping or touching spans merged, empty dropped.
std::vector<TimeSpan> NormalizeSpans(std::vector<TimeSpan> spans, const Trace& trace);

// A copy of `trace` in which every point inside a span holds the rate of the last point before the
// span (the first point after it when the span starts the trace). `spans` must be normalized.
Trace HoldOverSpans(const Trace& trace, const std::vector<TimeSpan>& spans);

// Sum of span lengths.
DurationMs TotalLength(const std::vector<TimeSpan>& spans);

// Walks normalized spans forward in time (for scoring loops that only move forward).
class SpanCursor {
 public:
  explicit SpanCursor(const std::vector<TimeSpan>* spans) : spans_(spans) {}
  // Whether `t` is inside a span. REQUIRES: t not less than any earlier argument.
  bool Inside(TimeMs t) {
    Seek(t);
    return i_ < spans_->size() && (*spans_)[i_].start <= t;
  }
  // The next span boundary (start or end) strictly after `t`, or `limit` if none comes before it.
  TimeMs NextBoundary(TimeMs t, TimeMs limit) {
    Seek(t);
    if (i_ >= spans_->size()) return limit;
    const TimeSpan& s = (*spans_)[i_];
    return std::min(limit, s.start > t ? s.start : s.end);
  }

 private:
  void Seek(TimeMs t) {
    while (i_ < spans_->size() && (*spans_)[i_].end <= t) ++i_;
  }
  const std::vector<TimeSpan>* spans_;
  size_t i_ = 0;  // the first span that ends after the last time seen
};

}  // namespace warmpool

#endif  // WARMPOOL_CONTROLLER_SOURCES_TRACE_MASK_H_
