#include "controller/sources/trace/source.h"

#include <algorithm>
#include <bit>
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

Result<MetricWindow> TraceMetricsSource::Fetch(const MetricQuery& q, TimeMs now) {
  MetricWindow w;
  FetchInto(q, now, &w);
  return w;
}

// At speed 1, trace time is a shift of `now` (exactly what ToTraceTime computes): walk the trace by
// whole steps, keeping the point index and the offset into it instead of dividing per sample. The
// position depends on the time alone, so a walk that starts where the last one stopped resumes it.
void TraceMetricsSource::FillShifted(TimeMs first, TimeMs last, DurationMs step, SlidingVector<Sample>* out,
                                     Walk* walk, Sample* pushed) {
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
    const double v = tr.RateAfterPoint(i, fracs_.Get(into, tr.step));
    out->push_back({t, v});
    *pushed = {t, v};
    into += step;
    while (into >= tr.step) into -= tr.step, ++i;
  }
  *walk = Walk{true, t, i, into};
}

TraceMetricsSource::Window& TraceMetricsSource::FindSlot(const std::string& name) {
  for (size_t i = 0; i < windows_.size(); ++i) {
    if (SameName(windows_[i].name, name)) return windows_[last_slot_ = i];
  }
  last_slot_ = windows_.size();
  windows_.emplace_back().name = name;
  return windows_.back();
}

namespace {
bool SameSample(const Sample& a, const Sample& b) {
  return a.t == b.t && std::bit_cast<uint64_t>(a.value) == std::bit_cast<uint64_t>(b.value);
}
}  // namespace

Status TraceMetricsSource::FetchInto(const MetricQuery& q, TimeMs now, MetricWindow* w) {
  if (!origin_) origin_ = now;
  if (!SameName(w->metric, q.name)) w->metric = q.name;
  const DurationMs step = q.step > 0 ? q.step : 15 * kSecond;
  if (speed_ == 1.0) {
    // A replay asks every tick for a window one tick later, into the same MetricWindow: slide it in
    // place (same samples as computing it afresh: the dropped ones are older than `first`, the new
    // ones newer than before). Anything else (another MetricWindow, or this one changed since) is
    // computed afresh.
    Window& c = Slot(q.name);
    const bool same_query = c.step == step && c.window == q.window;
    if (!same_query) c.span = (q.window / step) * step;  // kept: a division less per tick
    const TimeMs first = now - c.span;
    SlidingVector<Sample>& out = w->samples;
    const bool untouched =
        c.out == w && out.size() == c.size &&
        (c.size == 0 || (SameSample(out.front(), c.front) && SameSample(out.back(), c.back)));
    const DurationMs moved = now - c.now;  // usually one step
    if (untouched && same_query && now >= c.now && moved <= q.window &&
        (moved == step || moved % step == 0)) {
      size_t old = 0;  // samples before `first` (in time order: a prefix, usually of one)
      while (old < out.size() && out[old].t < first) ++old;
      out.DropFront(old);
      FillShifted(c.now + step, now, step, &out, &c.walk, &c.back);
    } else {
      out.clear();
      FillShifted(first, now, step, &out, &c.walk, &c.back);
    }
    c.now = now, c.step = step, c.window = q.window;
    c.out = w;
    c.size = out.size();
    if (!out.empty()) c.front = out.front();  // and FillShifted wrote c.back, if it pushed any
    return Status::Ok();
  }
  w->samples.clear();
  const TimeMs first = now - (q.window / step) * step;
  // Aligned to the step, newest sample exactly at `now`.
  for (TimeMs t = first; t <= now; t += step) {
    const TimeMs tt = ToTraceTime(t);
    if (tt < trace_->start || tt >= trace_->end()) continue;
    w->samples.push_back({t, trace_->RateAt(tt)});
  }
  return Status::Ok();
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
