// The trace metrics source: serves a recorded trace's request rate as a metric, for backtests and
// for running the controller against recorded load. Every query of the pool gets the same series.
#ifndef WARMPOOL_CONTROLLER_SOURCES_TRACE_SOURCE_H_
#define WARMPOOL_CONTROLLER_SOURCES_TRACE_SOURCE_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "controller/sources/trace/trace.h"
#include "warmpool/metrics.h"
#include "warmpool/params.h"
#include "warmpool/text.h"

namespace warmpool {

class TraceMetricsSource final : public MetricsSource {
 public:
  // Trace time = trace.start + (now - origin) * speed. With origin unset, the first Fetch sets it
  // (replaying from the trace's start); the backtest passes origin = trace.start, speed = 1.
  TraceMetricsSource(std::shared_ptr<const Trace> trace, std::optional<TimeMs> origin, double speed);
  // Samples at q.step over [now - q.window, now]; none outside the trace (the pool then holds).
  Result<MetricWindow> Fetch(const MetricQuery& q, TimeMs now) override;
  Status FetchInto(const MetricQuery& q, TimeMs now, MetricWindow* out) override;
  const Trace& trace() const { return *trace_; }

 private:
  TimeMs ToTraceTime(TimeMs now) const;
  // Where a walk of the trace stopped: the next time and its position (point index, ms into it).
  struct Walk {
    bool valid = false;
    TimeMs t = 0;
    size_t i = 0;
    DurationMs into = 0;
  };
  // Samples at first, first + step, ... <= last that fall inside the trace, appended to `out`; the last
  // one appended also to `pushed` (from registers: reading out->back() would wait for the store).
  // REQUIRES speed 1.
  void FillShifted(TimeMs first, TimeMs last, DurationMs step, SlidingVector<Sample>* out, Walk* walk,
                   Sample* pushed);
  // The last window served per query (speed 1): the next tick's is mostly the same samples, so when
  // the caller passes back the same MetricWindow, untouched (the same object, size and first and last
  // samples), its samples are slid in place instead of computed (and copied) again.
  struct Window {
    std::string name;  // the query's
    TimeMs now = 0;
    DurationMs step = 0, window = -1;
    DurationMs span = 0;                // (window / step) * step: `first` is now - span
    const MetricWindow* out = nullptr;  // where they went
    size_t size = 0;
    Sample front, back;  // of out->samples when size > 0
    Walk walk;           // the last FillShifted's
  };
  Window& Slot(const std::string& name) {  // usually the last one asked for
    if (last_slot_ < windows_.size() && SameName(windows_[last_slot_].name, name))
      return windows_[last_slot_];
    return FindSlot(name);
  }
  Window& FindSlot(const std::string& name);
  std::vector<Window> windows_;  // few: one per metric of the pool
  size_t last_slot_ = 0;
  std::shared_ptr<const Trace> trace_;
  FracCache fracs_;  // for FillShifted
  std::optional<TimeMs> origin_;
  double speed_;
};

// Registry entry. Params: file (required; relative to the config file), speed (default 1).
std::unique_ptr<MetricsSource> NewTraceMetricsSource(const Params& params, std::vector<std::string>* errors);

}  // namespace warmpool

#endif  // WARMPOOL_CONTROLLER_SOURCES_TRACE_SOURCE_H_
