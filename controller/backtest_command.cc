#include "controller/backtest_command.h"

#include <CLI/CLI.hpp>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>

#include "controller/backtest/capacity_model.h"
#include "controller/backtest/report/report.h"
#include "controller/config/config.h"
#include "controller/log/log.h"
#include "controller/sources/trace/mask.h"
#include "controller/sources/trace/trace.h"

namespace warmpool {
namespace {

// Writes `text` to `path` through a temporary file, so a reader never sees half a report.
bool WriteAtomically(const std::string& flag, const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.flush()) {
      std::fprintf(stderr, "%s: cannot write %s\n", flag.c_str(), tmp.c_str());
      return false;
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::fprintf(stderr, "%s: cannot rename %s to %s\n", flag.c_str(), tmp.c_str(), path.c_str());
    return false;
  }
  return true;
}

Result<std::vector<TimeSpan>> ReadMask(const BacktestArgs& a, const Trace& trace) {
  if (a.mask == "none") return std::vector<TimeSpan>{};
  if (a.mask == "auto") {
    Result<DurationMs> gap = ParseDuration(a.mask_min_gap);
    if (!gap.ok()) return Status::InvalidArgument("--mask-min-gap: " + gap.status().message());
    if (*gap <= 0) return Status::InvalidArgument("--mask-min-gap: must be > 0");
    return FindZeroGaps(trace, *gap);
  }
  Result<std::vector<TimeSpan>> spans = LoadMask(a.mask);
  if (!spans.ok()) return Status::InvalidArgument("--mask: " + spans.status().message());
  return spans;
}

}  // namespace

CLI::App* AddBacktestCommand(CLI::App* cli, BacktestArgs* a) {
  auto* bt = cli->add_subcommand(
      "backtest",
      "Replay a recorded trace through the same decide/plan code against a simulated pool, beside the\n"
      "Kubernetes HPA defaults and an oracle that knows the future");
  bt->add_option("--config.file", a->config_file, "The YAML config file")->required();
  bt->add_option("--trace", a->trace_file, "CSV trace with the header timestamp,requests, plain or gzip-compressed (.csv.gz)")->required();
  bt->add_option("--json", a->json_out, "Also write the summaries and the per-tick timeline as JSON here");
  bt->add_option("--html", a->html_out, "Also write a self-contained HTML report (charts and tables) here");
  bt->add_option("--pool", a->pool, "The pool to replay (default: the first)");
  bt->add_option("--interval", a->interval, "Tick interval (default: the config's global.interval)");
  bt->add_option("--mask", a->mask,
                 "Trace collection gaps, not scored, the load held over them: none, auto (runs of zeros at "
                 "least --mask-min-gap long) or a CSV file of start,end unix seconds")
      ->capture_default_str();
  bt->add_option("--mask-min-gap", a->mask_min_gap, "Shortest run of zeros --mask auto treats as a gap")
      ->capture_default_str();
  bt->add_option("--sweep", a->sweep,
                 "Also run a grid, e.g. 'target=0.6,0.8;warm_standby=0,2,auto' (keys: target, horizon, "
                 "tolerance, warm_standby (a count, or auto: the config's warm_standby.auto), warm.SETTING "
                 "(warm.quantile, warm.max, ...), min_active, max_active, max_total, scale_up_window, "
                 "scale_down_window, interval, POLICY.PARAM) and report its Pareto front");
  bt->add_option("--baseline-target", a->baseline_target,
                 "The HPA baseline's targets, fractions of a server's capacity: several draw HPA's curve "
                 "(server-hours and unserved per target, 80% marked HPA@80% and reported as hpa_baseline) and "
                 "compare the pool with it at equal cost (active-server-hour equivalents) and at equal unserved; one (e.g. 0.8) runs "
                 "that baseline alone")
      ->capture_default_str();
  bt->add_option("--fit-capacity", a->fit_capacity,
                 "Set capacity_per_server to the trace's peak / N, so that the peak needs N servers (1 .. "
                 "max_active); every target_per_server and warm_standby.auto.server_capacity are scaled "
                 "alike, and runs start with the servers the first point needs (unless the model sets "
                 "initial_active). Says what it changed. A --sweep's target values are taken as given");
  bt->add_option("--threads", a->threads, "Threads for the runs (default 0: one per core)")
      ->check(CLI::NonNegativeNumber);
  return bt;
}

int RunBacktestCommand(const BacktestArgs& a, const std::string& log_format, const std::string& log_level) {
  ConfigLoad load = LoadConfigFile(a.config_file);
  if (Status st = InitLogging(log_format.empty() ? load.config.global.log_format : log_format,
                              log_level.empty() ? "warn" : log_level);
      !st.ok()) {
    std::fprintf(stderr, "warmpool: %s\n", st.message().c_str());
    return 2;
  }
  if (!load.ok()) {
    std::fprintf(stderr, "%s: invalid config:\n", a.config_file.c_str());
    for (const std::string& e : load.errors) std::fprintf(stderr, "  %s\n", e.c_str());
    return 1;
  }
  const PoolSpec* spec = &load.config.pools.front();
  if (!a.pool.empty()) {
    spec = nullptr;
    for (const PoolSpec& p : load.config.pools) {
      if (p.name == a.pool) spec = &p;
    }
    if (!spec) {
      std::fprintf(stderr, "--pool: no pool named \"%s\" in %s\n", a.pool.c_str(), a.config_file.c_str());
      return 1;
    }
  }
  Result<Trace> trace = LoadTrace(a.trace_file);
  if (!trace.ok()) {
    std::fprintf(stderr, "--trace: %s\n", trace.status().message().c_str());
    return 1;
  }
  Result<std::vector<TimeSpan>> mask = ReadMask(a, *trace);
  if (!mask.ok()) {
    std::fprintf(stderr, "%s\n", mask.status().message().c_str());
    return 1;
  }
  ComparisonOptions opts;
  opts.interval = load.config.global.interval;
  if (!a.interval.empty()) {
    Result<DurationMs> d = ParseDuration(a.interval);
    if (!d.ok() || *d <= 0) {
      std::fprintf(stderr, "--interval: %s\n", d.ok() ? "must be > 0" : d.status().message().c_str());
      return 1;
    }
    opts.interval = *d;
  }
  Result<std::vector<double>> targets = ParseBaselineTargets(a.baseline_target);
  if (!targets.ok()) {
    std::fprintf(stderr, "%s\n", targets.status().message().c_str());
    return 1;
  }
  opts.baseline_targets = std::move(targets).value();
  std::optional<CapacityFit> fit;
  if (!a.fit_capacity.empty()) {
    char* end = nullptr;
    errno = 0;
    const long n = std::strtol(a.fit_capacity.c_str(), &end, 10);
    if (*end != '\0' || errno || n < INT_MIN || n > INT_MAX) {
      std::fprintf(stderr, "--fit-capacity: \"%s\" is not a whole number of servers\n", a.fit_capacity.c_str());
      return 1;
    }
    const PeakCheck peak = CheckPeak(*trace, NormalizeSpans(*mask, *trace), 0, spec->max_active);
    Result<CapacityFit> r = FitCapacity(*spec, peak.peak, trace->rates.front(), static_cast<int>(n));
    if (!r.ok()) {
      std::fprintf(stderr, "%s\n", r.status().message().c_str());
      return 1;
    }
    fit = std::move(r).value();
    spec = &fit->spec;
  }
  std::vector<SweepAxis> axes;
  if (!a.sweep.empty()) {
    Result<std::vector<SweepAxis>> parsed = ParseSweep(a.sweep);
    if (!parsed.ok()) {
      std::fprintf(stderr, "%s\n", parsed.status().message().c_str());
      return 1;
    }
    axes = std::move(parsed).value();
  }
  opts.masked = std::move(mask).value();
  opts.timelines = !a.json_out.empty() || !a.html_out.empty();
  opts.threads = a.threads;
  const std::string pool = spec->name;
  if (LogEnabled(LogLevel::kDebug))
    opts.on_scale = [pool](const BacktestTick& t) {
      Log(LogLevel::kDebug, "decision",
          {{"pool", pool},
           {"t", FormatTime(t.t)},
           {"load", t.load},
           {"desired", t.desired},
           {"direction", DirectionName(t.direction)},
           {"reason", t.reason},
           {"plan", t.plan}});
    };
  auto shared = std::make_shared<const Trace>(std::move(trace).value());
  Result<Comparison> result = RunComparison(*spec, shared, opts);
  if (!result.ok()) {
    std::fprintf(stderr, "backtest: %s\n", result.status().message().c_str());
    return 1;
  }
  std::optional<SweepResult> sweep;
  if (!axes.empty()) {
    SweepOptions so;
    so.interval = opts.interval;
    so.masked = result->masked;
    so.threads = a.threads;
    Result<SweepResult> r = RunSweep(*spec, shared, axes, so);
    if (!r.ok()) {
      std::fprintf(stderr, "%s\n", r.status().message().c_str());
      return 1;
    }
    sweep = std::move(r).value();
  }
  if (fit) std::printf("%s\n", fit->said.c_str());
  std::fputs(ComparisonToText(*result).c_str(), stdout);
  if (sweep) {
    std::fputs(SweepToText(*sweep).c_str(), stdout);
    std::fputs(FrontVsCurveText(*sweep, result->hpa_curve).c_str(), stdout);
  }
  const SweepResult* sw = sweep ? &*sweep : nullptr;
  if (!a.json_out.empty()) {
    if (!WriteAtomically("--json", a.json_out, ComparisonToJson(*result, sw))) return 1;
    std::printf("  json                 %s\n", a.json_out.c_str());
  }
  if (!a.html_out.empty()) {
    if (!WriteAtomically("--html", a.html_out, ComparisonToHtml(*result, sw))) return 1;
    std::printf("  html                 %s\n", a.html_out.c_str());
  }
  return 0;
}

}  // namespace warmpool
