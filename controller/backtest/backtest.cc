#include "controller/backtest/backtest.h"

#include <algorithm>
#include <cstdio>

#include "controller/backtest/capacity_model.h"
#include "controller/backtest/score.h"
#include "controller/sources/trace/source.h"
#include "policies/pool_decider.h"
#include "warmpool/clock.h"

namespace warmpool {

Result<BacktestResult> RunBacktest(const PoolSpec& spec, std::shared_ptr<const Trace> trace,
                                   const BacktestOptions& options) {
  Result<SimulatedSpec> model = ResolveCapacityModel(spec);
  if (!model.ok()) return model.status();
  return RunBacktestWithModel(spec, *model, std::move(trace), options);
}

Result<BacktestResult> RunBacktestWithModel(const PoolSpec& spec, const SimulatedSpec& model,
                                            std::shared_ptr<const Trace> trace,
                                            const BacktestOptions& options) {
  if (options.interval <= 0) return Status::InvalidArgument("backtest interval must be > 0");
  std::vector<std::string> errors;
  auto policies = CreatePolicies(spec, &errors);
  if (!errors.empty()) {
    std::string all;
    for (const std::string& e : errors) all += (all.empty() ? "" : "; ") + e;
    return Status::InvalidArgument(all);
  }
  const std::vector<TimeSpan> masked = NormalizeSpans(options.masked, *trace);
  if (!masked.empty()) trace = std::make_shared<const Trace>(HoldOverSpans(*trace, masked));
  // The replay seam: the same PoolDecider as live, fed by the trace source's and the simulated
  // pool's own storage (slid and rebuilt only as they change) instead of a fetch and an observation
  // copied each tick. Reasons are written only on the ticks that change the desired count, and only
  // when someone reads them.
  ManualClock clock(trace->start);
  SimulatedProvider sim(spec.name, model, &clock);
  TraceMetricsSource metrics(trace, trace->start, 1.0);
  PoolSpec replayed = spec;
  replayed.dry_run = false;  // the simulated pool is the thing being scored
  PoolDecider decider(std::move(replayed), std::move(policies),
                      options.timeline || options.on_scale ? PoolDecider::Explain::kChangesOnly
                                                           : PoolDecider::Explain::kNever);

  BacktestResult result;
  BacktestSummary& s = result.summary;
  s.pool = spec.name;
  s.trace = trace->source;
  s.start = trace->start;
  s.end = trace->end();
  s.total_requests = UnmaskedRequests(*trace, masked);
  s.masked_seconds = static_cast<double>(TotalLength(masked)) / 1000.0;
  int last_desired = sim.Count(ServerState::kActive);
  Direction last_dir = Direction::kNone;
  const double capacity_per_server = model.capacity_per_server;
  SpanCursor mask(&masked);
  if (options.timeline) {
    result.timeline.reserve(static_cast<size_t>((trace->end() - trace->start) / options.interval + 1));
  }

  // The load at the last time asked: a segment's end is the next one's start, and the last segment's
  // end the next tick's time (RateAt is a pure function of the time: the same numbers).
  const TimeMs trace_end = trace->end();
  TimeMs rate_t = trace->start - 1;
  double rate_v = 0;
  TraceCursor rates(trace.get());  // the times asked never decrease
  auto rate_at = [&](TimeMs x) {
    if (x != rate_t) rate_t = x, rate_v = rates.RateAt(x);
    return rate_v;
  };
  // trace->NextPointAfter(a) for the times the scoring asks, which never decrease: a cursor instead
  // of a division.
  TimeMs next_point = trace->start;
  auto next_point_after = [&](TimeMs a) {
    while (next_point <= a) next_point += trace->step;
    return std::min(next_point, trace_end);
  };
  // A segment's length in seconds and its server-hours depend on its length in ms and the two counts
  // alone, which rarely change: computed again (by the same expressions) only when one of them does.
  struct SegmentHours {
    DurationMs ms = -1;
    int act = -1, stby = -1, stop = -1;
    double len = 0, act_h = 0, stby_h = 0, stop_h = 0, all_h = 0;
  } hours;
  BacktestTick row;                // reused: every field is set each tick
  const PoolControls no_controls;  // a backtest has no operator
  for (TimeMs t = trace->start; t < trace_end; t += options.interval) {
    clock.Set(t);
    const PoolDecider::Outcome& tick =
        decider.Decide(metrics.WindowsAt(spec.metrics, t), sim.State(), no_controls, t);
    // As live: the change spends rate-limit budget as far as the provider made it.
    decider.Applied(tick.plan.empty() ? ApplyResult{} : sim.Apply(tick.plan));
    ++s.ticks;
    const int desired = tick.decision.desired;
    const bool changed = desired != last_desired;
    if (changed) {
      ++s.scale_events;
      const Direction dir = desired > last_desired ? Direction::kUp : Direction::kDown;
      if (last_dir != Direction::kNone && dir != last_dir) ++s.direction_changes;
      last_dir = dir;
    }
    last_desired = desired;

    row.t = t;
    row.load = rate_at(t);
    const SimulatedProvider::Tally* n = &sim.Counts();  // brought up to date by the next Counts()
    row.capacity = n->serving * capacity_per_server;
    row.active = n->of(ServerState::kActive);
    row.standby = n->of(ServerState::kStandby);
    row.provisioning = n->of(ServerState::kProvisioning);
    row.draining = n->of(ServerState::kDraining);
    row.stopped = n->of(ServerState::kStopped);
    row.desired = desired;
    row.direction = tick.decision.direction;
    row.unserved = 0;
    row.server_hours = 0;
    if (changed) {
      row.reason = tick.decision.reason;
      row.plan = tick.plan.Summary();
    } else {
      row.reason.clear();
      row.plan.clear();
    }
    s.peak_active = std::max(s.peak_active, row.active);
    if (changed && options.on_scale) options.on_scale(row);

    // Score [t, t + interval): split where the load bends (trace points), capacity changes, or a
    // masked span begins or ends.
    const TimeMs tick_end = std::min(t + options.interval, trace_end);
    for (TimeMs a = t; a < tick_end;) {
      // Every transition due at or before `a` has happened, so the earliest pending one is after it.
      const TimeMs next = n->next_due > a ? n->next_due : sim.NextTransitionAfter(a);
      const TimeMs b = std::min({mask.NextBoundary(a, tick_end), next_point_after(a), next});
      const int act = n->of(ServerState::kActive) + n->of(ServerState::kDraining);
      const int stby = n->of(ServerState::kStandby) + n->of(ServerState::kProvisioning);
      const int stop = n->of(ServerState::kStopped);
      if (b - a != hours.ms || act != hours.act || stby != hours.stby || stop != hours.stop) {
        hours.ms = b - a, hours.act = act, hours.stby = stby, hours.stop = stop;
        hours.len = static_cast<double>(b - a) / 1000.0;
        hours.act_h = act * hours.len / 3600.0;
        hours.stby_h = stby * hours.len / 3600.0;
        hours.stop_h = stop * hours.len / 3600.0;
        hours.all_h = (act + stby + stop) * hours.len / 3600.0;
      }
      const double len = hours.len;
      if (!mask.Inside(a)) {
        const double cap = n->serving * capacity_per_server;
        const double la = rate_at(a);
        // The load is continuous between points; past the last point it holds the last rate.
        const double lb = b >= trace_end ? la : rate_at(b);
        double over_s = 0;
        ScoreSegment(la, lb, cap, len, &row.unserved, &over_s);
        s.overloaded_seconds += over_s;
      }
      s.active_server_hours += hours.act_h;
      s.standby_server_hours += hours.stby_h;
      s.stopped_server_hours += hours.stop_h;
      row.server_hours += hours.all_h;
      if (b >= next) {  // a server changed state at b
        sim.AdvanceTo(b);
        n = &sim.Counts();
      }
      a = b;
    }
    s.unserved_requests += row.unserved;
    if (options.timeline) result.timeline.push_back(row);
  }
  s.cost = BacktestCost(s, model.cost);
  return result;
}

double BacktestCost(const BacktestSummary& s, const SimulatedSpec::Cost& cost) {
  return s.active_server_hours * cost.active + s.standby_server_hours * cost.standby +
         s.stopped_server_hours * cost.stopped;
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
                "  stopped server-hours %.1f\n"
                "  cost                 %.1f (active-server-hour equivalents)\n"
                "  scale events         %d\n"
                "  direction changes    %d\n"
                "  peak active          %d\n",
                s.pool.c_str(), s.trace.c_str(), FormatTime(s.start).c_str(), FormatTime(s.end).c_str(),
                s.ticks, s.total_requests, s.unserved_requests, s.unserved_percent(), s.overloaded_seconds,
                s.active_server_hours, s.standby_server_hours, s.stopped_server_hours, s.cost, s.scale_events,
                s.direction_changes, s.peak_active);
  return buf;
}

}  // namespace warmpool
