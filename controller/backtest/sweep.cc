#include "controller/backtest/sweep.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>

#include "controller/backtest/capacity_model.h"
#include "controller/backtest/parallel.h"
#include "policies/load_metric.h"
#include "policies/surge.h"
#include "policies/pool_decider.h"
#include "policies/warm_pool_sizer.h"

namespace warmpool {
namespace {

constexpr size_t kMaxPoints = 10000;

std::string Trim(const std::string& s) {
  const size_t a = s.find_first_not_of(" \t"), b = s.find_last_not_of(" \t");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t from = 0;
  for (size_t at = s.find(sep); at != std::string::npos; at = s.find(sep, from)) {
    out.push_back(Trim(s.substr(from, at - from)));
    from = at + 1;
  }
  out.push_back(Trim(s.substr(from)));
  return out;
}

bool ParseInt(const std::string& v, int* out) {
  char* end = nullptr;
  errno = 0;
  const long n = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || errno || n < 0 || n > INT_MAX) return false;
  *out = static_cast<int>(n);
  return true;
}

// The first policy of one of `types`, or nullptr.
PluginSpec* FirstPolicy(PoolSpec* spec, std::initializer_list<const char*> types) {
  for (PluginSpec& p : spec->policies) {
    for (const char* t : types) {
      if (p.type == t) return &p;
    }
  }
  return nullptr;
}

Status Bad(const std::string& key, const std::string& value, const std::string& why) {
  return Status::InvalidArgument("--sweep " + key + "=" + value + ": " + why);
}

// `KIND.SETTING=value` into `spec` with `read` (ReadWarmAutoSpec, ReadSurgeSpec): reading a setting turns
// the spec on, but whether it is on stays the point's own key's (warm_standby, warm_stopped, surge).
template <typename Spec>
Status SetOneSetting(const std::string& key, const std::string& value, const std::string& kind,
                     bool (*read)(const Params&, Spec*, std::vector<std::string>*), Spec* spec) {
  Params p;
  p.path = "--sweep " + kind;
  p.values[key.substr(kind.size() + 1)] = value;
  std::vector<std::string> errors;
  const bool enabled = spec->enabled;
  if (!read(p, spec, &errors)) return Bad(key, value, errors.front());
  spec->enabled = enabled;
  return Status::Ok();
}

}  // namespace

Result<std::vector<SweepAxis>> ParseSweep(const std::string& text) {
  std::vector<SweepAxis> axes;
  for (const std::string& part : Split(text, ';')) {
    if (part.empty()) continue;
    const size_t eq = part.find('=');
    if (eq == std::string::npos)
      return Status::InvalidArgument("--sweep: expected KEY=v1,v2,..., got \"" + part + "\"");
    SweepAxis axis{Trim(part.substr(0, eq)), Split(part.substr(eq + 1), ',')};
    if (axis.key.empty()) return Status::InvalidArgument("--sweep: missing key in \"" + part + "\"");
    for (const std::string& v : axis.values) {
      if (v.empty())
        return Status::InvalidArgument("--sweep " + axis.key + ": empty value in \"" + part + "\"");
    }
    for (const SweepAxis& a : axes) {
      if (a.key == axis.key) return Status::InvalidArgument("--sweep: key " + axis.key + " given twice");
    }
    axes.push_back(std::move(axis));
  }
  if (axes.empty()) return Status::InvalidArgument("--sweep: no KEY=values given");
  return axes;
}

Status ApplySweepSetting(const std::string& key, const std::string& value, PoolSpec* spec,
                         DurationMs* interval) {
  int n = 0;
  auto set_int = [&](int* field) {
    if (!ParseInt(value, &n)) return Bad(key, value, "must be a whole number >= 0");
    *field = n;
    return Status::Ok();
  };
  auto set_duration = [&](DurationMs* field, bool positive) {
    Result<DurationMs> d = ParseDuration(value);
    if (!d.ok()) return Bad(key, value, d.status().message());
    if (positive && *d <= 0) return Bad(key, value, "must be > 0");
    *field = *d;
    return Status::Ok();
  };
  auto set_param = [&](PluginSpec* p, const char* what, const char* param) {
    if (p == nullptr) return Bad(key, value, std::string("the pool has no ") + what + " policy");
    p->params.values[param] = value;
    return Status::Ok();
  };
  if (key == "warm_standby") {
    if (value == "auto") {
      if (spec->warm_auto.server_capacity <= 0) {
        return Bad(key, value, "the pool's config has no warm_standby.auto settings to switch to");
      }
      spec->warm_auto.enabled = true;
      return Status::Ok();
    }
    spec->warm_auto.enabled = false;
    return set_int(&spec->warm_standby);
  }
  if (key == "warm.running") return ApplySweepSetting("warm_standby", value, spec, interval);
  if (key == "warm_stopped" || key == "warm.stopped") {  // the stopped tier: a count, or auto
    if (value == "auto") {
      if (spec->stopped_auto.server_capacity <= 0) {
        // No stopped: auto in the config: its defaults on the running tier's (or the policy's) load.
        WarmAutoSpec running = spec->warm_auto;
        if (running.server_capacity <= 0) {
          const LoadMetric load = FindLoadMetric(spec->policies);
          running.metric = load.metric, running.server_capacity = load.per_server;
        }
        if (running.server_capacity <= 0) {
          return Bad(key, value, "no load metric with a server capacity to size the stopped tier on");
        }
        spec->stopped_auto = StoppedAutoDefaults(running);
      }
      spec->stopped_auto.enabled = true;
      return Status::Ok();
    }
    spec->stopped_auto.enabled = false;
    return set_int(&spec->warm_stopped);
  }
  if (key.rfind("stopped.", 0) ==
      0) {  // stopped.quantile, stopped.horizon, ...: of warm_standby.stopped.auto
    if (spec->stopped_auto.server_capacity <= 0) {
      return Bad(key, value, "the pool's config has no warm_standby.stopped.auto settings");
    }
    return SetOneSetting(key, value, "stopped", &ReadWarmAutoSpec, &spec->stopped_auto);
  }
  if (key.rfind("warm.", 0) == 0) {  // warm.quantile, warm.max, ...: a setting of warm_standby.auto
    if (spec->warm_auto.server_capacity <= 0) {
      return Bad(key, value, "the pool's config has no warm_standby.auto settings");
    }
    return SetOneSetting(key, value, "warm", &ReadWarmAutoSpec, &spec->warm_auto);
  }
  if (key == "surge" || key.rfind("surge.", 0) == 0) {  // surge=on,off; surge.SETTING: policies/surge.h
    if (spec->surge.server_capacity <= 0) {  // not in the config: from the load metric, as the config would
      const LoadMetric load = FindLoadMetric(spec->policies);
      if (load.per_server <= 0) return Bad(key, value, "the pool has no load metric with target_per_server for surge");
      spec->surge.metric = load.metric;
      spec->surge.server_capacity = load.per_server;
    }
    if (key == "surge") {
      if (value != "on" && value != "off") return Bad(key, value, "must be on or off");
      spec->surge.enabled = value == "on";
      return Status::Ok();
    }
    return SetOneSetting(key, value, "surge", &ReadSurgeSpec, &spec->surge);
  }
  if (key == "min_active") return set_int(&spec->min_active);
  if (key == "max_active") return set_int(&spec->max_active);
  if (key == "max_total") return set_int(&spec->max_total);
  if (key == "scale_up_window") return set_duration(&spec->behavior.scale_up.stabilization_window, false);
  if (key == "scale_down_window") return set_duration(&spec->behavior.scale_down.stabilization_window, false);
  if (key == "interval") return set_duration(interval, true);
  if (key == "target") {  // the load metric's policy (policies/load_metric.h), by its rate per server
    const LoadMetric load = FindLoadMetric(spec->policies);
    PluginSpec* p = load.per_server > 0 ? &spec->policies[static_cast<size_t>(load.policy)] : nullptr;
    return set_param(p, "target_tracking or predictive (with target_per_server)", "target_per_server");
  }
  if (key == "horizon") return set_param(FirstPolicy(spec, {"predictive"}), "predictive", "horizon");
  if (key == "tolerance") {
    PluginSpec* p = FirstPolicy(spec, {"target_tracking"});
    if (p != nullptr) p->params.values.erase("tolerance.up"), p->params.values.erase("tolerance.down");
    return set_param(p, "target_tracking", "tolerance");
  }
  const size_t dot = key.find('.');
  if (dot != std::string::npos) {
    const std::string name = key.substr(0, dot), param = key.substr(dot + 1);
    for (PluginSpec& p : spec->policies) {
      if ((p.name.empty() ? p.type : p.name) == name) {
        p.params.values[param] = value;
        return Status::Ok();
      }
    }
    return Bad(key, value, "no policy named \"" + name + "\" in pool " + spec->name);
  }
  return Bad(
      key, value,
      "unknown key (known: target, horizon, tolerance, warm_standby (or warm.running), warm_stopped (or "
      "warm.stopped), warm.SETTING, stopped.SETTING, min_active, max_active, "
      "max_total, scale_up_window, scale_down_window, interval, POLICY.PARAM)");
}

std::vector<std::vector<std::pair<std::string, std::string>>> SweepGrid(const std::vector<SweepAxis>& axes) {
  std::vector<std::vector<std::pair<std::string, std::string>>> grid = {{}};
  for (const SweepAxis& axis : axes) {
    std::vector<std::vector<std::pair<std::string, std::string>>> next;
    for (const auto& point : grid) {
      for (const std::string& v : axis.values) {
        next.push_back(point);
        next.back().emplace_back(axis.key, v);
      }
    }
    grid = std::move(next);
  }
  return grid;
}

Result<SweepResult> RunSweep(const PoolSpec& spec, std::shared_ptr<const Trace> trace,
                             const std::vector<SweepAxis>& axes, const SweepOptions& options) {
  size_t count = 1;
  for (const SweepAxis& a : axes) {
    count *= std::max<size_t>(a.values.size(), 1);
    if (count > kMaxPoints) {
      return Status::InvalidArgument("--sweep: more than " + std::to_string(kMaxPoints) + " points");
    }
  }
  SweepResult result;
  result.axes = axes;
  // Build and check every point first, so a bad value fails before hours of running.
  struct Job {
    PoolSpec spec;
    DurationMs interval;
  };
  std::vector<Job> jobs;
  for (auto& settings : SweepGrid(axes)) {
    Job job{spec, options.interval};
    for (const auto& [key, value] : settings) {
      if (Status st = ApplySweepSetting(key, value, &job.spec, &job.interval); !st.ok()) return st;
    }
    std::vector<std::string> errors;
    CreatePolicies(job.spec, &errors);
    if (Result<SimulatedSpec> model = ResolveCapacityModel(job.spec); !model.ok()) {
      errors.push_back(model.status().message());
    }
    if (job.spec.max_active < job.spec.min_active) errors.push_back("max_active must be >= min_active");
    if (!errors.empty()) {
      std::string where;
      for (const auto& [k, v] : settings) where += (where.empty() ? "" : ";") + k + "=" + v;
      return Status::InvalidArgument("--sweep point " + where + ": " + errors.front());
    }
    jobs.push_back(std::move(job));
    result.points.push_back(SweepPoint{std::move(settings), {}, false});
  }
  std::vector<Status> failures(jobs.size());
  const auto t0 = std::chrono::steady_clock::now();
  result.threads = ParallelFor(jobs.size(), options.threads, [&](size_t i) {
    BacktestOptions opts;
    opts.interval = jobs[i].interval;
    opts.masked = options.masked;
    Result<BacktestResult> r = RunBacktest(jobs[i].spec, trace, opts);  // exactly as a run alone
    if (r.ok()) {
      result.points[i].summary = std::move(r->summary);
    } else {
      failures[i] = r.status();
    }
  });
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (const Status& st : failures) {
    if (!st.ok()) return st;
  }
  result.front = ParetoFront(result.points);
  for (size_t i : result.front) result.points[i].pareto = true;
  return result;
}

std::vector<size_t> ParetoFront(const std::vector<SweepPoint>& points) {
  std::vector<size_t> front;
  for (size_t i = 0; i < points.size(); ++i) {
    const BacktestSummary& p = points[i].summary;
    bool dominated = false;
    for (size_t j = 0; j < points.size() && !dominated; ++j) {
      const BacktestSummary& q = points[j].summary;
      const double pu = p.unserved_requests, qu = q.unserved_requests;
      const double ph = p.cost, qh = q.cost;  // hours priced by state: a stopped hour is cheaper
      dominated = qu <= pu && qh <= ph && (qu < pu || qh < ph);
    }
    if (!dominated) front.push_back(i);
  }
  std::stable_sort(front.begin(), front.end(),
                   [&](size_t a, size_t b) { return points[a].summary.cost < points[b].summary.cost; });
  return front;
}

std::string SweepToText(const SweepResult& sweep) {
  std::string out;
  char buf[256];
  std::snprintf(buf, sizeof buf, "\nsweep: %zu points on %d thread%s in %.2f s (* = Pareto front)\n",
                sweep.points.size(), sweep.threads, sweep.threads == 1 ? "" : "s", sweep.seconds);
  out += buf;
  auto row = [&](const SweepPoint& p, bool mark) {
    std::string line = mark ? "  * " : "    ";
    for (const auto& [k, v] : p.settings) {
      std::snprintf(buf, sizeof buf, "%-*s ", static_cast<int>(std::max<size_t>(k.size(), 8)), v.c_str());
      line += buf;
    }
    const BacktestSummary& s = p.summary;
    std::snprintf(buf, sizeof buf, "%14.0f %9.4f%% %10.1f %10.1f %10.1f %10.1f %10.1f %7d\n",
                  s.unserved_requests, s.unserved_percent(), s.active_server_hours, s.standby_server_hours,
                  s.stopped_server_hours, s.total_server_hours(), s.cost, s.scale_events);
    return line + buf;
  };
  std::string header = "    ";
  for (const SweepAxis& a : sweep.axes) {
    std::snprintf(buf, sizeof buf, "%-*s ", static_cast<int>(std::max<size_t>(a.key.size(), 8)),
                  a.key.c_str());
    header += buf;
  }
  std::snprintf(buf, sizeof buf, "%14s %10s %10s %10s %10s %10s %10s %7s\n", "unserved req", "unserved%",
                "active h", "standby h", "stopped h", "total h", "cost", "scales");
  header += buf;
  out += header;
  for (const SweepPoint& p : sweep.points) out += row(p, p.pareto);
  out += "\nPareto front, unserved requests vs cost (cheapest first)\n" + header;
  for (size_t i : sweep.front) out += row(sweep.points[i], true);
  return out;
}

namespace {

// A reading as a ratio of `mine` to the curve's, or which side of the curve's range it lies on.
std::string CurveCell(double mine, const CurveReading& r, const char* below, const char* above) {
  switch (r.side) {
    case CurveSide::kInside:
      return RatioText(mine, r.value);
    case CurveSide::kBelowRange:
      return below;
    case CurveSide::kAboveRange:
      return above;
    case CurveSide::kNoCurve:
      break;
  }
  return "-";
}

}  // namespace

std::string FrontVsCurveText(const SweepResult& sweep, const std::vector<HpaCurvePoint>& curve) {
  if (curve.empty() || sweep.front.empty()) return "";
  std::string out =
      "\nPareto front against HPA's curve (ratios to the curve; outside: beyond the range the curve covers)\n";
  char buf[256];
  for (size_t i : sweep.front) {
    const SweepPoint& p = sweep.points[i];
    std::string settings;
    for (const auto& kv : p.settings) settings += (settings.empty() ? "" : " ") + kv.first + "=" + kv.second;
    const VersusCurve v = CompareWithCurve(p.summary, curve);
    const std::string at_hours = CurveCell(p.summary.unserved_requests, v.unserved_at_hours,
                                           "outside (fewer h)", "outside (more h)");
    const std::string at_unserved = CurveCell(p.summary.total_server_hours(), v.hours_at_unserved,
                                              "outside (fewer unserved)", "outside (more unserved)");
    std::snprintf(buf, sizeof buf, "  %9.1f h %12.0f unserved   unserved at equal h: %-16s  h at equal unserved: %-24s  ",
                  p.summary.total_server_hours(), p.summary.unserved_requests, at_hours.c_str(),
                  at_unserved.c_str());
    out += buf + settings + "\n";
  }
  return out;
}

}  // namespace warmpool
