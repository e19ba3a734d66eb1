#include "controller/backtest/compare.h"

#include <cstdio>

#include "controller/backtest/capacity_model.h"
#include "controller/backtest/hpa_baseline.h"
#include "controller/backtest/parallel.h"

namespace warmpool {

Result<Comparison> RunComparison(const PoolSpec& spec, std::shared_ptr<const Trace> trace,
                                 const ComparisonOptions& options) {
  Result<SimulatedSpec> model = ResolveCapacityModel(spec);
  if (!model.ok()) return model.status();
  Result<HpaBaseline> hpa = MakeHpaBaseline(spec, *model);
  if (!hpa.ok()) return hpa.status();
  Comparison c;
  c.model = *model;
  c.masked = NormalizeSpans(options.masked, *trace);

  BacktestOptions mine;
  mine.interval = options.interval;
  mine.timeline = options.timelines;
  mine.masked = c.masked;
  mine.on_scale = options.on_scale;
  BacktestOptions theirs = mine;
  theirs.interval = hpa->interval;
  theirs.on_scale = nullptr;
  Result<BacktestResult> runs[2] = {Status::Internal("not run"), Status::Internal("not run")};
  ParallelFor(3, options.threads, [&](size_t i) {
    if (i == 0) runs[0] = RunBacktestWithModel(spec, *model, trace, mine);
    if (i == 1) runs[1] = RunBacktestWithModel(hpa->spec, hpa->model, trace, theirs);
    if (i == 2) c.oracle = RunOracle(spec, *model, *trace, c.masked, options.timelines);
  });
  if (!runs[0].ok()) return runs[0].status();
  if (!runs[1].ok()) return Status::Internal("the HPA baseline failed: " + runs[1].status().message());
  c.warmpool = std::move(runs[0]).value();
  c.hpa_baseline = std::move(runs[1]).value();
  return c;
}

std::vector<const BacktestSummary*> RunSummaries(const Comparison& c) {
  return {&c.warmpool.summary, &c.hpa_baseline.summary, &c.oracle.summary};
}

std::string ComparisonToText(const Comparison& c) {
  std::string out = BacktestToText(c.warmpool.summary);
  char buf[512];
  const BacktestSummary& w = c.warmpool.summary;
  if (w.masked_seconds > 0) {
    std::snprintf(buf, sizeof buf, "  masked (not scored)  %.0f min in %zu span%s\n", w.masked_seconds / 60,
                  c.masked.size(), c.masked.size() == 1 ? "" : "s");
    out += buf;
  }
  out += "\ncompared on the same trace and capacity model\n";
  std::snprintf(buf, sizeof buf, "  %-13s %14s %10s %12s %10s %10s %10s %7s %7s\n", "run", "unserved req",
                "unserved%", "overload s", "active h", "standby h", "total h", "scales", "flips");
  out += buf;
  const std::vector<const BacktestSummary*> runs = RunSummaries(c);
  for (size_t i = 0; i < runs.size(); ++i) {
    const BacktestSummary& s = *runs[i];
    std::snprintf(buf, sizeof buf, "  %-13s %14.0f %9.4f%% %12.0f %10.1f %10.1f %10.1f %7d %7d\n",
                  kRunNames[i], s.unserved_requests, s.unserved_percent(), s.overloaded_seconds,
                  s.active_server_hours, s.standby_server_hours, s.total_server_hours(), s.scale_events,
                  s.direction_changes);
    out += buf;
  }
  out +=
      "  (hpa_baseline: target_tracking at 80% of capacity, 15 s, HPA default behavior, no warm pool;\n"
      "   oracle: the fewest server-hours serving all load with these delays; flips: direction changes)\n";
  return out;
}

}  // namespace warmpool
