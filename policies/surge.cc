#include "policies/surge.h"

#include <algorithm>
#include <cmath>

#include "warmpool/text.h"

namespace warmpool {

SurgeDetector::SurgeDetector(SurgeSpec spec) : spec_(std::move(spec)) {}

void SurgeDetector::Observe(TimeMs t, double load) {
  surge_.started = surge_.ended = false;
  if (!std::isfinite(load)) return;

  // The lowest load of the window (a few ticks), and the rise from it.
  points_.push_back({t, load});
  size_t old = 0;
  while (points_[old].t < t - spec_.window) ++old;  // the newest point is never old
  if (old > 0) points_.DropFront(old);
  Point low = points_.back();
  for (const Point& p : points_) {
    if (p.load < low.load) low = p;
  }
  const double rise = load - low.load;
  const DurationMs took = t - low.t;

  // The record: every tick's rise, by bucket of time; a bucket enters the record two buckets later.
  if (t >= now_end_) {  // a new bucket (one division per bucket, not per tick)
    const int64_t id = t / spec_.window;
    now_end_ = (id + 1) * spec_.window;
    auto settle = [&](const Bucket& old_bucket) {
      if (old_bucket.id < 0 || old_bucket.id > id - 2) return;
      while (!record_.empty() && record_.back().max <= old_bucket.max) record_.pop_back();
      record_.push_back(old_bucket);
    };
    settle(before_);
    if (now_.id == id - 1) {
      before_ = now_;
    } else {
      settle(now_);
      before_ = Bucket{};
    }
    now_ = Bucket{id, rise};
    size_t expired = 0;
    const int64_t oldest = (t - spec_.memory) / spec_.window;
    while (expired < record_.size() && record_[expired].id < oldest) ++expired;
    if (expired > 0) record_.DropFront(expired);
  }
  now_.max = std::max(now_.max, rise);

  const double cap = spec_.server_capacity;
  const bool fast = took > 0 && rise >= spec_.min_servers * cap && rise >= spec_.min_rise * low.load;
  const std::string& m = spec_.metric;
  auto number = [](double v) { return FormatNumber(std::round(v * 10) / 10); };
  auto rose = [&] {
    return m + " " + (low.load > 0 ? "+" + FormatNumber(std::round(rise / low.load * 100)) + "%" : "+" + number(rise)) +
           " in " + FormatDuration(took) + " (" + number(low.load) + " -> " + number(load) + ")";
  };

  const double record = record_.empty() ? 0 : record_.front().max;
  if (!surge_.active && fast && rise > record) {
    surge_.active = surge_.started = true;
    peak_projection_ = 0;
  }
  if (!surge_.active) {
    surge_.reason.clear();
    return;
  }
  if (fast) {
    last_fast_ = t;
  } else if (t - last_fast_ >= spec_.hold) {
    surge_.active = false;
    surge_.ended = true;
    surge_.floor = 0;
    surge_.reason = "surge over: " + m + " has not risen by " + FormatNumber(spec_.min_rise * 100) + "% and " +
                    FormatNumber(spec_.min_servers) + " servers' worth within " + FormatDuration(spec_.window) +
                    " for " + FormatDuration(spec_.hold) + "; back to the policies";
    return;
  }
  // Where the surge is heading when the servers ordered now are ready; never lower while it lasts.
  const double projected = fast ? load + rise / static_cast<double>(took) * static_cast<double>(spec_.lead) : load;
  peak_projection_ = std::max(peak_projection_, projected);
  surge_.floor = static_cast<int>(std::ceil(peak_projection_ / cap - 1e-9));
  if (fast) {
    surge_.reason = "surge: " + rose() + (surge_.started ? ", beyond the record's largest rise (+" + number(record) + ")" : "") +
                    ", provisioning for " + number(peak_projection_) + " in " + FormatDuration(spec_.lead) + " -> " +
                    std::to_string(surge_.floor);
  } else {
    surge_.reason = "surge: holding " + std::to_string(surge_.floor) + " for " + number(peak_projection_) + " (" + m +
                    " " + number(load) + ", not rising fast for " + FormatDuration(t - last_fast_) + " of hold " +
                    FormatDuration(spec_.hold) + ")";
  }
}

bool ReadSurgeSpec(const Params& params, SurgeSpec* spec, std::vector<std::string>* errors) {
  ParamReader r(params);
  spec->enabled = true;
  spec->metric = r.String("metric", spec->metric);
  spec->server_capacity = r.Number("server_capacity", spec->server_capacity, 0, 1e300);
  if (r.Has("server_capacity") && spec->server_capacity <= 0) r.Error("server_capacity", "must be > 0");
  spec->window = r.Duration("window", spec->window, kSecond);
  if (spec->window > kHour) r.Error("window", "must be at most 1h, got " + FormatDuration(spec->window));
  spec->lead = r.Duration("lead", spec->lead, 0);
  if (spec->lead > kHour) r.Error("lead", "must be at most 1h, got " + FormatDuration(spec->lead));
  spec->min_rise = r.Number("min_rise", spec->min_rise, 0, 1000);
  spec->min_servers = r.Number("min_servers", spec->min_servers, 0, 100000);
  spec->memory = r.Duration("memory", spec->memory, 0);
  if (spec->memory > 30 * 24 * kHour) r.Error("memory", "must be at most 30d, got " + FormatDuration(spec->memory));
  spec->hold = r.Duration("hold", spec->hold, 0);
  return r.FinishInto(errors);
}

}  // namespace warmpool
