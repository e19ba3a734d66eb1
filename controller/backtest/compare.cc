#include "controller/backtest/compare.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "controller/backtest/capacity_model.h"
#include "controller/backtest/hpa_baseline.h"
#include "controller/backtest/parallel.h"

namespace warmpool {
namespace {

constexpr size_t kMaxBaselineTargets = 20;

std::string Printf(const char* format, double a) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, a);
  return buf;
}

// The index of the target nearest kHpaTargetFraction (the first of equals).
size_t MarkedTarget(const std::vector<double>& targets) {
  size_t best = 0;
  for (size_t i = 1; i < targets.size(); ++i) {
    if (std::fabs(targets[i] - kHpaTargetFraction) < std::fabs(targets[best] - kHpaTargetFraction)) best = i;
  }
  return best;
}

}  // namespace

Result<std::vector<double>> ParseBaselineTargets(const std::string& text) {
  std::vector<double> out;
  size_t from = 0;
  while (true) {
    const size_t comma = text.find(',', from);
    std::string item = text.substr(from, comma == std::string::npos ? std::string::npos : comma - from);
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    char* end = nullptr;
    errno = 0;
    const double v = std::strtod(item.c_str(), &end);
    if (item.empty() || *end != '\0' || errno || !std::isfinite(v)) {
      return Status::InvalidArgument("--baseline-target: \"" + item +
                                     "\" is not a number (a fraction of a server's capacity, e.g. 0.8)");
    }
    if (v <= 0 || v > 4) {
      return Status::InvalidArgument("--baseline-target: " + item +
                                     " must be > 0 and <= 4 (a fraction of a server's capacity, e.g. 0.8)");
    }
    for (double seen : out) {
      if (seen == v) return Status::InvalidArgument("--baseline-target: " + item + " given twice");
    }
    out.push_back(v);
    if (out.size() > kMaxBaselineTargets) {
      return Status::InvalidArgument("--baseline-target: more than " + std::to_string(kMaxBaselineTargets) +
                                     " targets");
    }
    if (comma == std::string::npos) break;
    from = comma + 1;
  }
  return out;
}

PeakCheck CheckPeak(const Trace& trace, const std::vector<TimeSpan>& masked, double capacity_per_server,
                    int max_active) {
  PeakCheck c;
  c.capacity_per_server = capacity_per_server;
  c.max_active = max_active;
  size_t span = 0;
  for (size_t i = 0; i < trace.rates.size(); ++i) {
    const TimeMs t = trace.start + static_cast<TimeMs>(i) * trace.step;
    while (span < masked.size() && masked[span].end <= t) ++span;
    if (span < masked.size() && masked[span].start <= t) continue;
    c.peak = std::max(c.peak, trace.rates[i]);
  }
  // A peak exactly at a multiple of the capacity needs that many, not one more for a rounding error.
  if (capacity_per_server > 0) c.needed = static_cast<int>(std::ceil(c.peak / capacity_per_server - 1e-9));
  return c;
}

std::string PeakWarning(const PeakCheck& c) {
  if (!c.short_of_peak()) return "";
  char buf[320];
  std::snprintf(buf, sizeof buf,
                "warning: the trace's peak %.6g req/s needs %d servers at capacity_per_server %.6g; max_active "
                "is %d: every policy leaves the excess unserved",
                c.peak, c.needed, c.capacity_per_server, c.max_active);
  return buf;
}

std::vector<CurvePoint> CurvePoints(const std::vector<HpaCurvePoint>& curve) {
  std::vector<CurvePoint> out;
  // On cost (active-server-hour equivalents): HPA has no stopped tier, so its cost is its hours at the
  // standby price; a run with stopped standbys is read at what it costs, not at its hours.
  for (const HpaCurvePoint& p : curve) out.push_back({p.summary.cost, p.summary.unserved_requests});
  return out;
}

VersusCurve CompareWithCurve(const BacktestSummary& run, const std::vector<HpaCurvePoint>& curve) {
  const std::vector<CurvePoint> points = CurvePoints(curve);
  return {UnservedAtHours(points, run.cost), HoursAtUnserved(points, run.unserved_requests)};
}

std::string VersusCurveText(const std::string& name, const BacktestSummary& run, const VersusCurve& v) {
  const std::string h = Printf("%.1f", run.cost), u = Printf("%.0f", run.unserved_requests);
  // "warmpool's 412 unserved are outside HPA's curve (474 .. 26179: fewer than it leaves); at its
  // nearest end HPA spends 4342.0 h (warmpool: 3757.3 h)"
  auto outside = [&](const CurveReading& r, const std::string& mine, const std::string& range, const char* verb,
                     const std::string& end, const std::string& mine_there) {
    if (r.side == CurveSide::kNoCurve) return std::string("no curve");
    return name + "'s " + mine + " are outside HPA's curve (" + range + ": " +
           (r.side == CurveSide::kBelowRange ? "fewer" : "more") + " than it " + verb + "); at its nearest end HPA " + end +
           " (" + name + ": " + mine_there + ")";
  };
  const CurveReading& a = v.unserved_at_hours;
  const CurveReading& b = v.hours_at_unserved;
  return "  unserved at equal cost: " +
         (a.inside() ? name + " leaves " + u + " at " + h + "; HPA's curve leaves " + Printf("%.0f", a.value) +
                           " there: " + RatioText(run.unserved_requests, a.value)
                     : outside(a, "cost " + h, Printf("%.1f", a.lo) + " .. " + Printf("%.1f", a.hi), "spends",
                               "leaves " + Printf("%.0f", a.value), u)) +
         "\n  cost at equal unserved: " +
         (b.inside() ? name + " spends " + h + " for " + u + " unserved; HPA's curve spends " +
                           Printf("%.1f", b.value) + " for as many: " + RatioText(run.cost, b.value)
                     : outside(b, u + " unserved", Printf("%.0f", b.lo) + " .. " + Printf("%.0f", b.hi), "leaves",
                               "spends " + Printf("%.1f", b.value), h)) +
         "\n";
}

Result<Comparison> RunComparison(const PoolSpec& spec, std::shared_ptr<const Trace> trace,
                                 const ComparisonOptions& options) {
  Result<SimulatedSpec> model = ResolveCapacityModel(spec);
  if (!model.ok()) return model.status();
  std::vector<double> targets = options.baseline_targets;
  if (targets.empty()) targets = {kHpaTargetFraction};
  std::sort(targets.begin(), targets.end());
  std::vector<HpaBaseline> hpas;
  for (double target : targets) {
    Result<HpaBaseline> hpa = MakeHpaBaseline(spec, *model, target);
    if (!hpa.ok()) return hpa.status();
    hpas.push_back(std::move(hpa).value());
  }
  Comparison c;
  c.model = *model;
  c.masked = NormalizeSpans(options.masked, *trace);
  c.hpa_marked = MarkedTarget(targets);
  c.hpa_target = targets[c.hpa_marked];
  c.peak = CheckPeak(*trace, c.masked, model->capacity_per_server, spec.max_active);
  if (c.peak.short_of_peak()) c.warnings.push_back(PeakWarning(c.peak));

  BacktestOptions mine;
  mine.interval = options.interval;
  mine.timeline = options.timelines;
  mine.masked = c.masked;
  mine.on_scale = options.on_scale;
  // The runs go in parallel: the configured run first (the longest), HPA's targets, the oracle.
  const size_t k = hpas.size();
  std::vector<Result<BacktestResult>> runs(k + 1, Result<BacktestResult>(Status::Internal("not run")));
  ParallelFor(k + 2, options.threads, [&](size_t i) {
    if (i == 0) {
      runs[0] = RunBacktestWithModel(spec, *model, trace, mine);
    } else if (i <= k) {
      const HpaBaseline& hpa = hpas[i - 1];
      BacktestOptions theirs = mine;
      theirs.interval = hpa.interval;
      theirs.on_scale = nullptr;
      theirs.timeline = options.timelines && i - 1 == c.hpa_marked;  // only the baseline is drawn
      runs[i] = RunBacktestWithModel(hpa.spec, hpa.model, trace, theirs);
    } else {
      c.oracle = RunOracle(spec, *model, *trace, c.masked, options.timelines);
    }
  });
  if (!runs[0].ok()) return runs[0].status();
  c.warmpool = std::move(runs[0]).value();
  for (size_t j = 0; j < k; ++j) {
    if (!runs[j + 1].ok()) {
      return Status::Internal("the HPA baseline (" + HpaLabel(targets[j]) +
                              ") failed: " + runs[j + 1].status().message());
    }
    if (k > 1) c.hpa_curve.push_back({targets[j], runs[j + 1]->summary});
  }
  c.hpa_baseline = std::move(runs[c.hpa_marked + 1]).value();
  return c;
}

std::vector<const BacktestSummary*> RunSummaries(const Comparison& c) {
  return {&c.warmpool.summary, &c.hpa_baseline.summary, &c.oracle.summary};
}

std::string ComparisonToText(const Comparison& c) {
  std::string out;
  for (const std::string& w : c.warnings) out += w + "\n";
  out += BacktestToText(c.warmpool.summary);
  char buf[512];
  const BacktestSummary& w = c.warmpool.summary;
  if (w.masked_seconds > 0) {
    std::snprintf(buf, sizeof buf, "  masked (not scored)  %.0f min in %zu span%s\n", w.masked_seconds / 60,
                  c.masked.size(), c.masked.size() == 1 ? "" : "s");
    out += buf;
  }
  out += "\ncompared on the same trace and capacity model\n";
  const char* header_format = "  %-13s %14s %10s %12s %10s %10s %10s %10s %10s %7s %7s\n";
  const char* row_format = "  %-13s %14.0f %9.4f%% %12.0f %10.1f %10.1f %10.1f %10.1f %10.1f %7d %7d\n";
  std::snprintf(buf, sizeof buf, header_format, "run", "unserved req", "unserved%", "overload s", "active h",
                "standby h", "stopped h", "total h", "cost", "scales", "flips");
  out += buf;
  auto row = [&](const std::string& name, const BacktestSummary& s) {
    std::snprintf(buf, sizeof buf, row_format, name.c_str(), s.unserved_requests, s.unserved_percent(),
                  s.overloaded_seconds, s.active_server_hours, s.standby_server_hours, s.stopped_server_hours,
                  s.total_server_hours(), s.cost, s.scale_events, s.direction_changes);
    out += buf;
  };
  const std::vector<const BacktestSummary*> runs = RunSummaries(c);
  for (size_t i = 0; i < runs.size(); ++i) row(kRunNames[i], *runs[i]);
  out +=
      "  (hpa_baseline: target_tracking at " + Printf("%.4g%%", 100 * c.hpa_target) +
      " of capacity, 15 s, HPA default behavior, no warm pool;\n"
      "   oracle: the least cost serving all load with these delays; cost: hours priced by state, active = " +
      Printf("%.4g", c.model.cost.active) + ", standby = " + Printf("%.4g", c.model.cost.standby) +
      ", stopped = " + Printf("%.4g", c.model.cost.stopped) + "; flips: direction changes)\n";
  if (c.hpa_curve.empty()) return out;
  out += "\nHPA's curve: the baseline at each target (a fraction of a server's capacity)\n";
  std::snprintf(buf, sizeof buf, header_format, "target", "unserved req", "unserved%", "overload s",
                "active h", "standby h", "stopped h", "total h", "cost", "scales", "flips");
  out += buf;
  for (size_t i = 0; i < c.hpa_curve.size(); ++i) {
    row(HpaLabel(c.hpa_curve[i].target), c.hpa_curve[i].summary);
    if (i == c.hpa_marked) out.insert(out.size() - 1, "   = hpa_baseline");
  }
  out += "warmpool against HPA's curve (its lower envelope; between targets linear in hours and log(1 + unserved))\n";
  out += VersusCurveText("warmpool", w, CompareWithCurve(w, c.hpa_curve));
  return out;
}

}  // namespace warmpool
