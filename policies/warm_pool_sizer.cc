#include "policies/warm_pool_sizer.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>

#include "warmpool/text.h"

namespace warmpool {
namespace {

// The ascending record of rises (a multiset in a sorted vector; equal values are interchangeable):
// two searches and one move of part of it per tick. The searches halve the range with a conditional
// move, not a branch: rises arrive in no order, so a branch per halving is mispredicted half the
// time, and those searches were the largest share of a replay's time.

// The first place in [first, first + n) whose value is greater than x (upper) or not less than x, as
// std::upper_bound and std::lower_bound find it.
template <bool kUpper>
double* Bound(double* first, size_t n, double x) {
  if (n == 0) return first;
  auto before = [x](double v) { return kUpper ? !(x < v) : v < x; };
  while (n > 1) {
    const size_t half = n / 2;
    first = before(first[half]) ? first + half : first;
    n -= half;
  }
  return first + (before(*first) ? 1 : 0);
}

void InsertSorted(std::vector<double>* v, double x) {
  v->insert(v->begin() + (Bound<true>(v->data(), v->size(), x) - v->data()), x);
}

// REQUIRES: a value equal to `old` is in v.
void EraseSorted(std::vector<double>* v, double old) {
  v->erase(v->begin() + (Bound<false>(v->data(), v->size(), old) - v->data()));
}

// EraseSorted(v, old) then InsertSorted(v, x), moving only the values between the two places (the
// two searches are independent, so they overlap).
void ReplaceSorted(std::vector<double>* v, double old, double x) {
  double* from = Bound<false>(v->data(), v->size(), old);
  double* to = Bound<true>(v->data(), v->size(), x);
  if (x >= old) {  // to > from, and the values in (from, to) are in [old, x]: each moves one place down
    std::move(from + 1, to, from);
    *(to - 1) = x;
  } else {  // to <= from, and the values in [to, from) are in (x, old): each moves one place up
    std::move_backward(to, from, from + 1);
    *to = x;
  }
}

}  // namespace

WarmPoolSizer::WarmPoolSizer(WarmAutoSpec spec)
    : spec_(std::move(spec)),
      season_need_(static_cast<size_t>(
          std::max(1.0, std::ceil(spec_.season_share * static_cast<double>(spec_.seasons) - 1e-9)))) {
  top_.resize(season_need_);
  if (spec_.season > 0 && spec_.step > 0) {
    const int64_t per_season = spec_.season / spec_.step;
    const int64_t reach = (spec_.horizon + 2 * spec_.season_slack) / spec_.step + 2;
    ring_.resize(static_cast<size_t>(per_season * spec_.seasons + reach));
    phases_.resize(static_cast<size_t>(per_season));
  }
}

void WarmPoolSizer::Observe(TimeMs t, double load) {
  if (!std::isfinite(load)) return;
  any_ = true;
  // Recent: ticks whose horizon has passed are finished; the others see this load. Their rises enter
  // the record in the places of those that leave it (older than `recent`), while there are any.
  const TimeMs cutoff = t - spec_.recent;
  size_t leaving = 0;
  while (leaving < rises_.size() && rises_[leaving].t < cutoff) ++leaving;
  size_t replaced = 0;
  bool raised = false;
  while (!pending_.empty() && pending_.front().t + spec_.horizon < t) {
    const Pending& p = pending_.front();
    // Its peak: the highest load from its own on, the first of peaks_ at or after it (one is: its own
    // load, or a later one at least as high that took its place).
    size_t passed = 0;
    while (peaks_[passed].t < p.t) ++passed;
    peaks_.DropFront(passed);
    const double rise = std::max(0.0, peaks_.front().load - p.load);
    rises_.push_back({p.t, rise});
    if (replaced < leaving) {
      ReplaceSorted(&sorted_, rises_[replaced++].rise, rise);
    } else {
      InsertSorted(&sorted_, rise);
    }
    raised = raised || rise > recent_;
    pending_.DropFront(1);
  }
  while (!peaks_.empty() && peaks_.back().load <= load) peaks_.pop_back();
  peaks_.push_back({t, load});
  pending_.push_back({t, load});
  size_t expired = replaced;
  for (; expired < rises_.size() && rises_[expired].t < cutoff; ++expired)
    EraseSorted(&sorted_, rises_[expired].rise);
  rises_.DropFront(expired);
  const int64_t minute = FloorDiv(t, kMinute);
  if (raised || minute != recent_minute_) {
    recent_minute_ = minute;
    RecomputeRecent();
  }

  // Seasonal: the step's lowest and highest load.
  if (!ring_.empty()) {
    const int64_t id = FloorDiv(t, spec_.step);
    Bucket& b = ring_[Slot(id)];
    if (b.id != id) {
      b.id = id;
      b.lo = b.hi = load;
    } else {
      b.lo = std::min(b.lo, load);
      b.hi = std::max(b.hi, load);
    }
    if (id != bucket_) {
      bucket_ = id;
      RecomputeSeasonal(id);
    }
  }
}

void WarmPoolSizer::RecomputeRecent() {
  if (rises_.empty()) {
    recent_ = 0;
    return;
  }
  // The smallest rise that at least `quantile` of them do not exceed: the k-th in order.
  const size_t n = sorted_.size();
  size_t k = static_cast<size_t>(std::ceil(spec_.quantile * static_cast<double>(n) - 1e-9));
  k = std::clamp<size_t>(k, 1, n) - 1;
  recent_ = sorted_[k];
}

WarmPoolSizer::Window WarmPoolSizer::WindowAt(int64_t at) const {
  const int64_t slack = spec_.season_slack / spec_.step;
  const int64_t ahead = (spec_.horizon + spec_.step - 1) / spec_.step;
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  // Consecutive ids: one division, then the next slot round the ring.
  size_t slot = Slot(at - slack);
  for (int64_t id = at - slack; id <= at + ahead + slack; ++id) {
    const Bucket* b = &ring_[slot];
    if (++slot == ring_.size()) slot = 0;
    if (b->id != id) continue;
    if (id <= at) lo = std::min(lo, b->lo);
    hi = std::max(hi, b->hi);
  }
  return {at, lo, hi, std::isfinite(lo) && std::isfinite(hi)};
}

void WarmPoolSizer::RecomputeSeasonal(int64_t now_id) {
  const int64_t per_season = spec_.season / spec_.step;
  phase_ = static_cast<size_t>(now_id - FloorDiv(now_id, per_season) * per_season);
  Phase& ph = phases_[phase_];
  auto by_rise = [](const SeasonRise& a, const SeasonRise& b) { return a.rise > b.rise; };
  const int64_t oldest = now_id - spec_.seasons * per_season, newest = now_id - per_season;
  while (!ph.by_time.empty() && ph.by_time.front().at < oldest) {
    const Window& w = ph.by_time.front();
    if (w.data) {  // equal windows are interchangeable: drop any one of them
      auto it = std::lower_bound(ph.by_rise.begin(), ph.by_rise.end(), SeasonRise{w.lo, w.hi, w.hi - w.lo},
                                 by_rise);
      while (it->lo != w.lo || it->hi != w.hi) ++it;
      ph.by_rise.erase(it);
    }
    ph.by_time.pop_front();
  }
  // The windows since this phase last came round (all of them after a gap or at the start).
  int64_t at = ph.by_time.empty() ? oldest : std::max(oldest, ph.by_time.back().at + per_season);
  for (; at <= newest; at += per_season) {
    const Window w = WindowAt(at);
    ph.by_time.push_back(w);
    if (!w.data) continue;
    const SeasonRise r{w.lo, w.hi, w.hi - w.lo};
    ph.by_rise.insert(std::upper_bound(ph.by_rise.begin(), ph.by_rise.end(), r, by_rise), r);
  }
}

const std::vector<WarmPoolSizer::SeasonRise>& WarmPoolSizer::Seasons() const {
  static const std::vector<SeasonRise> kNone;
  return bucket_ == std::numeric_limits<int64_t>::min() || phases_.empty() ? kNone : phases_[phase_].by_rise;
}

WarmPoolSizer::SeasonalRecord WarmPoolSizer::ExportSeasonal() const {
  SeasonalRecord r{spec_.season, spec_.step, {}};
  for (const Bucket& b : ring_) {
    if (b.id != std::numeric_limits<int64_t>::min()) r.steps.push_back({b.id, b.lo, b.hi});
  }
  std::sort(r.steps.begin(), r.steps.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return r;
}

bool WarmPoolSizer::ImportSeasonal(const SeasonalRecord& record) {
  if (ring_.empty() || record.season != spec_.season || record.step != spec_.step) return false;
  for (Bucket& b : ring_) b = Bucket{};
  for (const SeasonalRecord::Step& s : record.steps) {  // a later step in the same slot wins
    if (!std::isfinite(s.lo) || !std::isfinite(s.hi) || s.lo > s.hi) continue;
    Bucket& b = ring_[Slot(s.id)];
    if (b.id == std::numeric_limits<int64_t>::min() || b.id < s.id) b = Bucket{s.id, s.lo, s.hi};
  }
  for (Phase& ph : phases_) ph = Phase{};  // windows are computed again from the ring
  return true;
}

size_t WarmPoolSizer::Slot(int64_t id) const {
  const int64_t n = static_cast<int64_t>(ring_.size());
  return static_cast<size_t>(((id % n) + n) % n);
}

double WarmPoolSizer::Seasonal(double load) const {
  const size_t need = season_need_;
  const std::vector<SeasonRise>& seasons = Seasons();
  if (seasons.size() < need) return 0;
  // What is left of each season's rise: a surge that has already come today has used it. The
  // need-th largest: the least of the largest `need` (kept unordered, with the place of their least).
  // What is left never exceeds the season's whole rise (hi - lo), and the seasons are sorted by that:
  // once it is no more than the least kept, no later season can change it (most ticks stop after a
  // few times `need` seasons).
  auto left = [load](const SeasonRise& r) { return std::max(0.0, r.hi - std::max(r.lo, load)); };
  std::vector<double>& top = top_;
  auto least_of = [&top] {
    size_t m = 0;
    for (size_t j = 1; j < top.size(); ++j) m = top[j] < top[m] ? j : m;
    return m;
  };
  size_t i = 0;
  for (; i < need; ++i) top[i] = left(seasons[i]);
  size_t least = least_of();
  for (; i < seasons.size() && seasons[i].rise > top[least]; ++i) {
    const double v = left(seasons[i]);
    if (v <= top[least]) continue;
    top[least] = v;
    least = least_of();
  }
  return top[least];
}

WarmPoolSizer::Size WarmPoolSizer::Target(double load, int active, bool explain) const {
  Size z;
  z.recent = recent_;
  z.seasonal = Seasonal(load);
  z.rise = std::max(recent_, z.seasonal);
  const double servers = (std::max(0.0, load) + z.rise) / spec_.server_capacity;
  z.needed = static_cast<int>(std::min(1e6, std::ceil(servers - 1e-9)));
  z.standby = std::clamp(z.needed - active, spec_.min, std::max(spec_.min, spec_.max));
  if (!explain) return z;
  std::string why = "warm standby " + std::to_string(z.standby) + " (auto: " + spec_.metric + " " +
                    FormatNumber(load) + " + likely rise " + FormatNumber(z.rise) + " within " +
                    FormatDuration(spec_.horizon) + " needs " + std::to_string(z.needed) + " at " +
                    FormatNumber(spec_.server_capacity) + " per server, " + std::to_string(active) +
                    " active";
  if (!any_ || (rises_.empty() && Seasons().empty())) {
    why += "; no rise learned yet";
  } else {
    why += "; rise: recent p" + FormatNumber(spec_.quantile * 100) + " " + FormatNumber(recent_) + " over " +
           FormatDuration(spec_.recent);
    if (spec_.season > 0) {
      why += ", seasonal " + FormatNumber(z.seasonal) + " (seen in " + std::to_string(season_need_) +
             " of the last " + std::to_string(spec_.seasons) + " seasons of " + FormatDuration(spec_.season) +
             " at this time; " + std::to_string(Seasons().size()) + " with data)";
    }
  }
  if (z.standby != z.needed - active) {
    why += "; bounded to [" + std::to_string(spec_.min) + ", " + std::to_string(spec_.max) + "]";
  }
  z.reason = why + ")";
  return z;
}

WarmAutoSpec StoppedAutoDefaults(const WarmAutoSpec& running) {
  WarmAutoSpec s;
  s.metric = running.metric;
  s.server_capacity = running.server_capacity;
  s.horizon = 10 * kMinute;
  s.quantile = 0.99;
  s.season = 0;  // the running tier prepares for the surges that come at the same time
  s.min = 0;
  s.max = 10;
  return s;
}

bool ReadWarmAutoSpec(const Params& params, WarmAutoSpec* spec, std::vector<std::string>* errors) {
  ParamReader r(params);
  spec->enabled = true;
  spec->metric = r.String("metric", spec->metric);
  spec->server_capacity = r.Number("server_capacity", spec->server_capacity, 0, 1e300);
  if (r.Has("server_capacity") && spec->server_capacity <= 0) r.Error("server_capacity", "must be > 0");
  spec->min = r.Int("min", spec->min, 0, 100000);
  spec->max = r.Int("max", spec->max, 0, 100000);
  if (spec->max < spec->min) {
    r.Error("max", "must be >= min (" + std::to_string(spec->min) + "), got " + std::to_string(spec->max));
  }
  spec->horizon = r.Duration("horizon", spec->horizon, kSecond);
  if (spec->horizon > 24 * kHour)
    r.Error("horizon", "must be at most 24h, got " + FormatDuration(spec->horizon));
  spec->quantile = r.Number("quantile", spec->quantile, 0, 1);
  spec->recent = r.Duration("recent", spec->recent, 0);
  if (spec->recent > 7 * 24 * kHour)
    r.Error("recent", "must be at most 7d, got " + FormatDuration(spec->recent));
  spec->season = r.Duration("season", spec->season, 0);
  spec->seasons = r.Int("seasons", spec->seasons, 1, 100000);
  spec->season_share = r.Number("season_share", spec->season_share, 0, 1);
  spec->season_slack = r.Duration("season_slack", spec->season_slack, 0);
  spec->step = r.Duration("step", spec->step, kSecond);
  if (spec->season > 0) {
    if (spec->season % spec->step != 0) {
      r.Error("season", "must be a multiple of step (" + FormatDuration(spec->step) + "), got " +
                            FormatDuration(spec->season));
    } else if (spec->season / spec->step * spec->seasons > 1000000) {
      r.Error("seasons", "keep at most 1000000 steps of record (seasons * season / step); use a longer step");
    }
    const DurationMs reach =
        ((spec->horizon + spec->step - 1) / spec->step + spec->season_slack / spec->step + 1) *
        spec->step;  // a season's window, in whole steps, must end before now
    if (spec->season > spec->horizon + 2 * spec->season_slack && spec->season < reach) {
      r.Error("season", "must be at least horizon + season_slack + step in whole steps (" +
                            FormatDuration(reach) + "), got " + FormatDuration(spec->season));
    }
    if (spec->season <= spec->horizon + 2 * spec->season_slack) {
      r.Error("season", "must be longer than horizon + 2 * season_slack (" +
                            FormatDuration(spec->horizon + 2 * spec->season_slack) + "), got " +
                            FormatDuration(spec->season));
    }
  }
  return r.FinishInto(errors);
}

}  // namespace warmpool
