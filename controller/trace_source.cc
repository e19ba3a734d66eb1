#include "trace_source.h"

#include <cmath>

namespace warmpool {

TraceMetricsSource::TraceMetricsSource(std::shared_ptr<const Trace> trace, std::optional<TimeMs> origin,
                                       double speed)
    : trace_(std::move(trace)), origin_(origin), speed_(speed) {}

TimeMs TraceMetricsSource::ToTraceTime(TimeMs now) const {
  return trace_->start + static_cast<TimeMs>(std::llround(static_cast<double>(now - *origin_) * speed_));
}

Result<MetricWindow> TraceMetricsSource::Fetch(const MetricQuery& q, TimeMs now) {
  if (!origin_) origin_ = now;
  MetricWindow w;
  w.metric = q.name;
  const DurationMs step = q.step > 0 ? q.step : 15 * kSecond;
  // Aligned to the step, newest sample exactly at `now`.
  for (TimeMs t = now - (q.window / step) * step; t <= now; t += step) {
    const TimeMs tt = ToTraceTime(t);
    if (tt < trace_->start || tt >= trace_->end()) continue;
    w.samples.push_back({t, trace_->RateAt(tt)});
  }
  return w;
}

std::unique_ptr<MetricsSource> NewTraceMetricsSource(const Params& params, std::vector<std::string>* errors) {
  ParamReader r(params);
  std::string file = r.String("file");
  double speed = r.Number("speed", 1, 1e-3, 1e6);
  std::vector<std::string> errs;
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
  errs = r.Finish();
  if (!errs.empty()) {
    errors->insert(errors->end(), errs.begin(), errs.end());
    return nullptr;
  }
  return std::make_unique<TraceMetricsSource>(std::move(trace), std::nullopt, speed);
}

}  // namespace warmpool
