#include "backtest.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "pool_controller.h"
#include "simulated/simulated_provider.h"
#include "trace_source.h"
#include "warmpool/clock.h"

namespace warmpool {
namespace {

// Over [0, len] seconds, load goes linearly from a to b against constant capacity c.
// Adds the requests above capacity and the seconds spent above it.
void ScoreSegment(double a, double b, double c, double len, double* unserved, double* over_s) {
  if (len <= 0) return;
  const double ea = a - c, eb = b - c;  // excess at both ends
  if (ea <= 0 && eb <= 0) return;
  if (ea >= 0 && eb >= 0) {
    *unserved += (ea + eb) / 2 * len;
    *over_s += len;
    return;
  }
  // Crosses capacity once: the positive part is a triangle.
  const double pos = std::max(ea, eb);
  const double frac = pos / (std::fabs(ea) + std::fabs(eb));
  *unserved += pos * frac * len / 2;
  *over_s += frac * len;
}

}  // namespace

Result<BacktestResult> RunBacktest(const PoolSpec& spec, std::shared_ptr<const Trace> trace,
                                   const BacktestOptions& options) {
  if (spec.provider.type != "simulated") {
    return Status::InvalidArgument("pool " + spec.name + ": the backtest needs provider.type simulated " +
                                   "(its parameters are the capacity model), got \"" + spec.provider.type +
                                   "\"");
  }
  if (options.interval <= 0) return Status::InvalidArgument("backtest interval must be > 0");
  std::vector<std::string> errors;
  ManualClock clock(trace->start);
  auto base = CreateProvider("simulated", spec.name, spec.provider.params, &clock, &errors);
  auto policies = CreatePolicies(spec, &errors);
  if (!errors.empty()) {
    std::string all;
    for (const std::string& e : errors) all += (all.empty() ? "" : "; ") + e;
    return Status::InvalidArgument(all);
  }
  auto* sim = static_cast<SimulatedProvider*>(base.get());
  TraceMetricsSource metrics(trace, trace->start, 1.0);
  PoolSpec live_spec = spec;
  live_spec.dry_run = false;  // the simulated pool is the thing being scored
  PoolController controller(live_spec, std::move(policies), sim, &metrics);

  BacktestResult result;
  BacktestSummary& s = result.summary;
  s.pool = spec.name;
  s.trace = trace->source;
  s.start = trace->start;
  s.end = trace->end();
  s.total_requests = trace->TotalRequests();
  int last_desired = sim->Count(ServerState::kActive);
  Direction last_dir = Direction::kNone;
  const double capacity_per_server = sim->spec().capacity_per_server;

  for (TimeMs t = trace->start; t < trace->end(); t += options.interval) {
    clock.Set(t);
    TickResult tick = controller.RunOnce(t);
    ++s.ticks;
    const int desired = tick.decision.desired;
    const bool changed = tick.status.ok() && desired != last_desired;
    if (changed) {
      ++s.scale_events;
      const Direction dir = desired > last_desired ? Direction::kUp : Direction::kDown;
      if (last_dir != Direction::kNone && dir != last_dir) ++s.direction_changes;
      last_dir = dir;
    }
    if (tick.status.ok()) last_desired = desired;

    BacktestTick row;
    row.t = t;
    row.load = trace->RateAt(t);
    row.capacity = sim->Capacity();
    row.active = sim->Count(ServerState::kActive);
    row.standby = sim->Count(ServerState::kStandby);
    row.provisioning = sim->Count(ServerState::kProvisioning);
    row.draining = sim->Count(ServerState::kDraining);
    row.desired = desired;
    row.direction = DirectionName(tick.decision.direction);
    if (changed) {
      row.reason = tick.decision.reason;
      row.plan = tick.plan.Summary();
    }
    s.peak_active = std::max(s.peak_active, row.active);
    if (changed && options.on_scale) options.on_scale(row);

    // Score [t, t + interval): split where the load bends (trace points) or capacity changes.
    const TimeMs tick_end = std::min(t + options.interval, trace->end());
    for (TimeMs a = t; a < tick_end;) {
      const TimeMs b = std::min({tick_end, trace->NextPointAfter(a), sim->NextTransitionAfter(a)});
      const double len = static_cast<double>(b - a) / 1000.0;
      const double cap = sim->Serving() * capacity_per_server;
      const double la = trace->RateAt(a);
      // The load is continuous between points; past the last point it holds the last rate.
      const double lb = b >= trace->end() ? la : trace->RateAt(b);
      ScoreSegment(la, lb, cap, len, &s.unserved_requests, &s.overloaded_seconds);
      const int act = sim->Count(ServerState::kActive) + sim->Count(ServerState::kDraining);
      const int stby = sim->Count(ServerState::kStandby) + sim->Count(ServerState::kProvisioning);
      s.active_server_hours += act * len / 3600.0;
      s.standby_server_hours += stby * len / 3600.0;
      sim->AdvanceTo(b);
      a = b;
    }
    if (options.timeline) result.timeline.push_back(std::move(row));
  }
  return result;
}

std::string BacktestToText(const BacktestSummary& s) {
  char buf[1024];
  std::snprintf(buf, sizeof buf,
                "backtest of pool %s over %s\n"
                "  span                 %s .. %s (%ld ticks)\n"
                "  total requests       %.0f\n"
                "  unserved requests    %.0f (%.4f%%)\n"
                "  overloaded           %.0f s\n"
                "  active server-hours  %.1f\n"
                "  standby server-hours %.1f\n"
                "  scale events         %d\n"
                "  direction changes    %d\n"
                "  peak active          %d\n",
                s.pool.c_str(), s.trace.c_str(), FormatTime(s.start).c_str(), FormatTime(s.end).c_str(),
                s.ticks, s.total_requests, s.unserved_requests,
                s.total_requests > 0 ? 100.0 * s.unserved_requests / s.total_requests : 0.0,
                s.overloaded_seconds, s.active_server_hours, s.standby_server_hours, s.scale_events,
                s.direction_changes, s.peak_active);
  return buf;
}

}  // namespace warmpool
