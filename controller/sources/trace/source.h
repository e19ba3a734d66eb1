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
  // Trace time = trace.start + (now - origin) * speed. With origin unset, the first call sets it
  // (replaying from the trace's start); the backtest passes origin = trace.start, speed = 1.
  TraceMetricsSource(std::shared_ptr<const Trace> trace, std::optional<TimeMs> origin, double speed);
  // Samples at q.step over [now - q.window, now]; none outside the trace (the pool then holds).
  Result<MetricWindow> Fetch(const MetricQuery& q, TimeMs now) override;
  // Every query's window at `now`, by name, in the source's own storage (valid until the next call):
  // what a replay reads each tick without copying. Fetch returns the same samples. At speed 1 each
  // window is slid from the last call's when `now` moved by whole steps (the same samples as computed
  // afresh: the dropped ones are older than the window, the new ones newer than before).
  const std::map<std::string, MetricWindow>& WindowsAt(const std::vector<MetricQuery>& queries, TimeMs now);
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
  // Samples at first, first + step, ... <= last that fall inside the trace, appended to `out`.
  // REQUIRES speed 1.
  void FillShifted(TimeMs first, TimeMs last, DurationMs step, SlidingVector<Sample>* out, Walk* walk);
  // Brings windows_[q.name] to `now` and returns it.
  const MetricWindow& Slide(const MetricQuery& q, TimeMs now);
  // How each window was last computed (speed 1), to slide it the next time.
  struct Slid {
    TimeMs now = 0;
    DurationMs step = 0, window = -1;
    DurationMs span = 0;  // (window / step) * step: the window's first sample is at now - span
    Walk walk;            // the last FillShifted's
  };
  std::map<std::string, MetricWindow> windows_;  // by query name
  std::map<std::string, Slid> slid_;             // the same keys
  std::shared_ptr<const Trace> trace_;
  FracCache fracs_;  // for FillShifted
  std::optional<TimeMs> origin_;
  double speed_;
};

// Registry entry. Params: file (required; relative to the config file), speed (default 1).
std::unique_ptr<MetricsSource> NewTraceMetricsSource(const Params& params, std::vector<std::string>* errors);

}  // namespace warmpool

#endif  // WARMPOOL_CONTROLLER_SOURCES_TRACE_SOURCE_H_
