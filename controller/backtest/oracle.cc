#include "controller/backtest/oracle.h"

#include <algorithm>
#include <cmath>

#include "controller/backtest/score.h"

namespace warmpool {
namespace {

// Adds (t, n) to a step function, merging a step at the same time and dropping one that changes nothing.
void Emit(std::vector<OracleStep>* out, TimeMs t, int n) {
  if (!out->empty() && out->back().t == t) {
    out->back().serving = n;
    if (out->size() >= 2 && (*out)[out->size() - 2].serving == n) out->pop_back();
    return;
  }
  if (out->empty() || out->back().serving != n) out->push_back({t, n, 0});
}

// One server per level of needed(t), costed as oracle.h defines.
class Levels {
 public:
  Levels(const SimulatedSpec& m, bool stopped_tier, TimeMs t0, bool events)
      : lead_(m.provisioning_delay + m.promotion_delay),
        promo_(m.promotion_delay),
        drain_(m.drain_delay),
        resume_(m.resume_delay),
        cost_(m.cost),
        stopped_tier_(stopped_tier),
        t0_(t0),
        events_(events) {}

  void Change(int from, int to, TimeMs t) {
    if (static_cast<size_t>(std::max(from, to)) > on_since_.size()) {
      on_since_.resize(static_cast<size_t>(std::max(from, to)), -1);
      last_end_.resize(on_since_.size(), -1);
    }
    for (int k = from; k < to; ++k) TurnOn(static_cast<size_t>(k), t);
    for (int k = to; k < from; ++k) TurnOff(static_cast<size_t>(k), t);
  }

  void Finish(TimeMs t1) {
    for (size_t k = 0; k < on_since_.size(); ++k) {
      if (on_since_[k] >= 0) {
        active_ms_ += t1 - on_since_[k];
        Exist(t1, -1);
      } else if (last_end_[k] >= 0) {
        const DurationMs d = std::min(drain_, t1 - last_end_[k]);
        active_ms_ += d;
        Exist(last_end_[k] + d, -1);
      }
    }
  }

  double active_hours() const { return static_cast<double>(active_ms_) / kHour; }
  double standby_hours() const { return static_cast<double>(standby_ms_) / kHour; }
  double stopped_hours() const { return static_cast<double>(stopped_ms_) / kHour; }
  // (time, +1 or -1) for each server coming into or out of existence, unsorted.
  std::vector<std::pair<TimeMs, int>>& events() { return events_list_; }

 private:
  void Exist(TimeMs t, int delta) {
    if (events_) events_list_.push_back({t, delta});
  }
  // A new server for level k serving from t: it was started at t - lead (not before T0).
  void Lead(TimeMs t) {
    const TimeMs started = std::max(t0_, t - lead_);
    active_ms_ += t - std::max(started, t - promo_);                 // promoted, warming up
    standby_ms_ += std::max<DurationMs>(0, (t - promo_) - started);  // provisioning
    Exist(started, +1);
  }
  // A gap between two intervals of a level, bridged the cheapest way (oracle.h): kept idle, stopped
  // (drain, stopped, resume, promote), or retired and a new server led in.
  void TurnOn(size_t k, TimeMs t) {
    if (last_end_[k] < 0) {
      Lead(t);
      on_since_[k] = t;
      return;
    }
    const DurationMs gap = t - last_end_[k];
    const auto ms = [](DurationMs d) { return static_cast<double>(d); };
    const double keep = ms(gap) * cost_.standby;
    const double renew = ms(drain_ + promo_) * cost_.active + ms(lead_ - promo_) * cost_.standby;
    const DurationMs stopped_for = gap - drain_ - resume_ - promo_;
    const double stop =
        ms(drain_ + promo_) * cost_.active + ms(resume_) * cost_.standby + ms(stopped_for) * cost_.stopped;
    if (stopped_tier_ && stopped_for >= 0 && stop < keep && stop < renew) {
      active_ms_ += drain_ + promo_;  // drained, then promoted again after the resume
      standby_ms_ += resume_;
      stopped_ms_ += stopped_for;
    } else if (keep <= renew) {
      standby_ms_ += gap;  // bridged: idle but kept
    } else {
      active_ms_ += drain_;
      Exist(last_end_[k] + drain_, -1);
      Lead(t);
    }
    on_since_[k] = t;
  }
  void TurnOff(size_t k, TimeMs t) {
    active_ms_ += t - on_since_[k];
    last_end_[k] = t;
    on_since_[k] = -1;
  }

  const DurationMs lead_, promo_, drain_, resume_;
  const SimulatedSpec::Cost cost_;
  const bool stopped_tier_;
  const TimeMs t0_;
  const bool events_;
  std::vector<TimeMs> on_since_;  // per level (k - 1): serving since, or -1
  std::vector<TimeMs> last_end_;  // per level: end of its last interval, or -1 if never on
  DurationMs active_ms_ = 0, standby_ms_ = 0, stopped_ms_ = 0;
  std::vector<std::pair<TimeMs, int>> events_list_;
};

}  // namespace

std::vector<OracleStep> OracleNeeded(const Trace& trace, double c, int min_active, int max_active) {
  const double lo = min_active, hi = std::max(min_active, max_active);
  auto units = [c](double x) { return std::max(0.0, std::ceil(x / c - 1e-9)); };
  auto need = [&](double x) { return static_cast<int>(std::clamp(units(x), lo, hi)); };
  std::vector<OracleStep> out;
  const size_t n = trace.rates.size();
  const double step = static_cast<double>(trace.step);
  for (size_t i = 0; i < n; ++i) {
    const TimeMs ti = trace.start + static_cast<TimeMs>(i) * trace.step;
    const double a = trace.rates[i], b = i + 1 < n ? trace.rates[i + 1] : a;
    Emit(&out, ti, need(a));
    auto at = [&](double x) {  // when the load crosses x within this segment
      const TimeMs t = ti + static_cast<TimeMs>(std::llround((x - a) / (b - a) * step));
      return std::clamp(t, ti, ti + trace.step);
    };
    if (b > a) {  // rising: past k*c, k+1 servers are needed
      for (double k = std::max(units(a), lo); k < std::min(units(b), hi); ++k) {
        Emit(&out, at(k * c), static_cast<int>(k) + 1);
      }
    } else if (b < a) {  // falling: at k*c, k servers suffice
      for (double k = std::min(units(a), hi) - 1; k >= std::max(units(b), lo); --k) {
        Emit(&out, at(k * c), static_cast<int>(k));
      }
    }
  }
  return out;
}

OracleResult RunOracle(const PoolSpec& spec, const SimulatedSpec& model, const Trace& trace,
                       const std::vector<TimeSpan>& masked_in, bool want_steps) {
  const std::vector<TimeSpan> masked = NormalizeSpans(masked_in, trace);
  Trace held_storage;
  const Trace* held = &trace;
  if (!masked.empty()) {
    held_storage = HoldOverSpans(trace, masked);
    held = &held_storage;
  }
  const int hi = std::max(spec.min_active, spec.max_active);
  OracleResult result;
  BacktestSummary& s = result.summary;
  s.pool = spec.name;
  s.trace = trace.source;
  s.start = trace.start;
  s.end = trace.end();
  s.total_requests = UnmaskedRequests(*held, masked);
  s.masked_seconds = static_cast<double>(TotalLength(masked)) / 1000.0;

  SpanCursor cursor(&masked);
  ScoreSpan(*held, &cursor, s.start, s.end, hi * model.capacity_per_server, &s.unserved_requests,
            &s.overloaded_seconds);

  std::vector<OracleStep> needed = OracleNeeded(*held, model.capacity_per_server, spec.min_active, hi);
  Levels levels(model, spec.HasStoppedTier(), s.start, want_steps);
  int prev = 0;
  Direction last_dir = Direction::kNone;
  for (size_t i = 0; i < needed.size(); ++i) {
    const OracleStep& st = needed[i];
    levels.Change(prev, st.serving, st.t);
    if (i > 0) {
      ++s.scale_events;
      const Direction dir = st.serving > prev ? Direction::kUp : Direction::kDown;
      if (last_dir != Direction::kNone && dir != last_dir) ++s.direction_changes;
      last_dir = dir;
    }
    s.peak_active = std::max(s.peak_active, st.serving);
    prev = st.serving;
  }
  levels.Finish(s.end);
  s.active_server_hours = levels.active_hours();
  s.standby_server_hours = levels.standby_hours();
  s.stopped_server_hours = levels.stopped_hours();
  s.cost = BacktestCost(s, model.cost);
  if (!want_steps) return result;

  // Merge the serving steps with the existence events into one step function.
  auto& events = levels.events();
  std::sort(events.begin(), events.end());
  size_t e = 0;
  int existing = 0;
  int serving = 0;
  size_t j = 0;
  while (j < needed.size() || e < events.size()) {
    const TimeMs t =
        std::min(j < needed.size() ? needed[j].t : s.end, e < events.size() ? events[e].first : s.end);
    while (j < needed.size() && needed[j].t == t) serving = needed[j++].serving;
    while (e < events.size() && events[e].first == t) existing += events[e++].second;
    if (t >= s.end) break;
    if (!result.steps.empty() && result.steps.back().serving == serving &&
        result.steps.back().existing == existing)
      continue;
    result.steps.push_back({t, serving, existing});
  }
  return result;
}

}  // namespace warmpool
