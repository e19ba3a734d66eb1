#include "controller/sources/trace/source.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "warmpool/text.h"

namespace warmpool {

TraceMetricsSource::TraceMetricsSource(std::shared_ptr<const Trace> trace, std::optional<TimeMs> origin,
                                       double speed)
    : trace_(std::move(trace)), origin_(origin), speed_(speed) {}

TimeMs TraceMetricsSource::ToTraceTime(TimeMs now) const {
  return trace_->start + static_cast<TimeMs>(std::llround(static_cast<double>(now - *origin_) * speed_));
}

Result<MetricWindow> TraceMetricsSource::Fetch(const MetricQuery& q, TimeMs now) { return Slide(q, now); }

const std::map<std::string, MetricWindow>& TraceMetricsSource::WindowsAt(
    const std::vector<MetricQuery>& queries, TimeMs now) {
  for (const MetricQuery& q : queries) Slide(q, now);
  return windows_;
}

// At speed 1, trace time is a shift of `now` (exactly what ToTraceTime computes): walk the trace by
// whole steps, keeping the point index and the offset into it instead of dividing per sample. The
// position depends on the time alone, so a walk that starts where the last one stopped resumes it.
void TraceMetricsSource::FillShifted(TimeMs first, TimeMs last, DurationMs step, SlidingVector<Sample>* out,
                                     Walk* walk) {
  const Trace& tr = *trace_;
  const TimeMs shift = tr.start - *origin_;
  const TimeMs end = tr.end();
  TimeMs t;
  size_t i;
  DurationMs into;
  if (walk->valid && walk->t == first) {  // walk->t is inside the trace's start: t is `first`
    t = walk->t, i = walk->i, into = walk->into;
  } else {
    t = std::max(first, tr.start - shift);
    t = first + (t - first + step - 1) / step * step;  // the first aligned sample inside the trace
    if (t > last || t + shift >= end) return;
    const DurationMs off = t + shift - tr.start;
    i = static_cast<size_t>(off / tr.step);
    into = off % tr.step;
  }
  for (; t <= last && t + shift < end; t += step) {
    out->push_back({t, tr.RateAfterPoint(i, fracs_.Get(into, tr.step))});
    into += step;
    while (into >= tr.step) into -= tr.step, ++i;
  }
  *walk = Walk{true, t, i, into};
}

const MetricWindow& TraceMetricsSource::Slide(const MetricQuery& q, TimeMs now) {
  if (!origin_) origin_ = now;
  // Most pools have one metric: its node is the first, found without comparing more than once.
  auto w_it = windows_.size() == 1 && SameName(windows_.begin()->first, q.name)
                  ? windows_.begin()
                  : windows_.try_emplace(q.name).first;
  MetricWindow& w = w_it->second;
  if (w.metric.empty()) w.metric = q.name;
  SlidingVector<Sample>& out = w.samples;
  const DurationMs step = q.step > 0 ? q.step : 15 * kSecond;
  if (speed_ == 1.0) {
    Slid& c =
        slid_.size() == 1 && SameName(slid_.begin()->first, q.name) ? slid_.begin()->second : slid_[q.name];
    const bool same_query = c.step == step && c.window == q.window;
    if (!same_query) c.span = (q.window / step) * step;  // kept: a division less per tick
    const TimeMs first = now - c.span;
    const DurationMs moved = now - c.now;  // usually one step
    if (same_query && now >= c.now && moved <= q.window && (moved == step || moved % step == 0)) {
      size_t old = 0;  // samples before `first` (in time order: a prefix, usually of one)
      while (old < out.size() && out[old].t < first) ++old;
      out.DropFront(old);
      FillShifted(c.now + step, now, step, &out, &c.walk);
    } else {
      out.clear();
      FillShifted(first, now, step, &out, &c.walk);
    }
    c.now = now, c.step = step, c.window = q.window;
    return w;
  }
  out.clear();
  const TimeMs first = now - (q.window / step) * step;
  // Aligned to the step, newest sample exactly at `now`.
  for (TimeMs t = first; t <= now; t += step) {
    const TimeMs tt = ToTraceTime(t);
    if (tt < trace_->start || tt >= trace_->end()) continue;
    out.push_back({t, trace_->RateAt(tt)});
  }
  return w;
}

std::unique_ptr<MetricsSource> NewTraceMetricsSource(const Params& params, std::vector<std::string>* errors) {
  ParamReader r(params);
  std::string file = r.String("file");
  double speed = r.Number("speed", 1, 1e-3, 1e6);
  std::shared_ptr<const Trace> trace;
  if (file.empty()) {
    r.Error("file", "required (a CSV with the header timestamp,requests)");
  } else {
    if (file[0] != '/' && !params.base_dir.empty()) file = params.base_dir + "/" + file;
    Result<Trace> loaded = LoadTrace(file);
    if (!loaded.ok()) {
      r.Error("file", loaded.status().message());
    } else {
      trace = std::make_shared<const Trace>(std::move(loaded).value());
    }
  }
  if (!r.FinishInto(errors)) return nullptr;
  return std::make_unique<TraceMetricsSource>(std::move(trace), std::nullopt, speed);
}

}  // namespace warmpool
