// Stabilization and rate limits with the Kubernetes HPA semantics
// (pkg/controller/podautoscaler: stabilizeRecommendationWithBehaviors and
// calculateScale{Up,Down}LimitWithScalingRules), over explicit history instead of the wall clock.
#include "policies/behavior.h"

#include <algorithm>
#include <climits>
#include <cmath>

namespace warmpool {
namespace {

// Servers changed by events in (now - period, now].
int ChangeInPeriod(const BehaviorHistory::TimedCounts& events, DurationMs period, TimeMs now) {
  int n = 0;
  for (const auto& e : events) {
    if (e.at > now - period) n += e.count;
  }
  return n;
}

int ScaleUpLimit(const ScalingRules& rules, const BehaviorHistory& h, int current, TimeMs now) {
  if (rules.select == ScalingRules::Select::kDisabled) return current;
  if (rules.limits.empty()) return INT_MAX;
  bool pick_min = rules.select == ScalingRules::Select::kMin;
  long result = pick_min ? LONG_MAX : LONG_MIN;
  for (const RateLimit& lim : rules.limits) {
    long start = static_cast<long>(current) - ChangeInPeriod(h.scale_ups, lim.period, now) +
                 ChangeInPeriod(h.scale_downs, lim.period, now);
    long proposed = lim.kind == RateLimit::Kind::kServers
                        ? start + static_cast<long>(lim.value)
                        : static_cast<long>(std::ceil(start * (1 + lim.value / 100)));
    result = pick_min ? std::min(result, proposed) : std::max(result, proposed);
  }
  return static_cast<int>(std::clamp<long>(result, 0, INT_MAX));
}

int ScaleDownLimit(const ScalingRules& rules, const BehaviorHistory& h, int current, TimeMs now) {
  if (rules.select == ScalingRules::Select::kDisabled) return current;
  if (rules.limits.empty()) return 0;
  // kMax = the largest change = the lowest floor.
  bool largest_change = rules.select == ScalingRules::Select::kMax;
  long result = largest_change ? LONG_MAX : LONG_MIN;
  for (const RateLimit& lim : rules.limits) {
    long start = static_cast<long>(current) - ChangeInPeriod(h.scale_ups, lim.period, now) +
                 ChangeInPeriod(h.scale_downs, lim.period, now);
    long proposed = lim.kind == RateLimit::Kind::kServers ? start - static_cast<long>(lim.value)
                                                          : static_cast<long>(start * (1 - lim.value / 100));
    result = largest_change ? std::min(result, proposed) : std::max(result, proposed);
  }
  return static_cast<int>(std::clamp<long>(result, 0, INT_MAX));
}

// "scale-up disabled" or "scale-up rate-limited to N", appended to `reason`.
void NoteLimit(const ScalingRules& rules, const char* direction, int desired, std::string* reason) {
  *reason +=
      std::string(reason->empty() ? "" : "; ") + direction +
      (rules.select == ScalingRules::Select::kDisabled ? " disabled"
                                                       : " rate-limited to " + std::to_string(desired));
}

}  // namespace

BehaviorResult ApplyBehavior(const BehaviorSpec& spec, const BehaviorHistory& history, int current,
                             int recommended, TimeMs now, bool explain, const StabilizationBounds* bounds) {
  BehaviorResult out;
  // Stabilization: scale up only as far as every recommendation in the up window agrees (their
  // minimum), scale down only as far as every one in the down window agrees (their maximum).
  int up = recommended, down = recommended;
  if (bounds != nullptr) {
    up = std::min(up, bounds->up_min);
    down = std::max(down, bounds->down_max);
  } else {
    for (const auto& rec : history.recommendations) {
      if (rec.at > now - spec.scale_up.stabilization_window) up = std::min(up, rec.count);
      if (rec.at > now - spec.scale_down.stabilization_window) down = std::max(down, rec.count);
    }
  }
  int stabilized = current;
  if (stabilized < up) stabilized = up;
  if (stabilized > down) stabilized = down;
  if (stabilized != recommended && explain) {
    if (recommended > current) {
      out.reason = "scale-up stabilized to " + std::to_string(stabilized) + " (lowest recommendation in " +
                   FormatDuration(spec.scale_up.stabilization_window) + " window)";
    } else {
      out.reason = "scale-down stabilized to " + std::to_string(stabilized) + " (highest recommendation in " +
                   FormatDuration(spec.scale_down.stabilization_window) + " window)";
    }
  }
  int desired = stabilized;
  if (desired > current) {
    int limit = ScaleUpLimit(spec.scale_up, history, current, now);
    if (desired > limit) {
      desired = std::max(limit, current);
      if (explain) NoteLimit(spec.scale_up, "scale-up", desired, &out.reason);
    }
  } else if (desired < current) {
    int limit = ScaleDownLimit(spec.scale_down, history, current, now);
    if (desired < limit) {
      desired = std::min(limit, current);
      if (explain) NoteLimit(spec.scale_down, "scale-down", desired, &out.reason);
    }
  }
  out.desired = desired;
  return out;
}

void StabilizationTracker::Reset(const BehaviorSpec& spec, const BehaviorHistory& history) {
  valid_ = true;
  up_window_ = spec.scale_up.stabilization_window;
  down_window_ = spec.scale_down.stabilization_window;
  any_at_ = any_now_ = false;
  up_.clear();
  down_.clear();
  for (const auto& rec : history.recommendations) Add(rec.at, rec.count);
}

void StabilizationTracker::Add(TimeMs at, int count) {
  if (!valid_) return;
  if (any_at_ && at < last_at_) {  // out of order: a later record may be older than one dropped
    valid_ = false;
    return;
  }
  any_at_ = true;
  last_at_ = at;
  // A record that is no lower (up) or no higher (down) and no older than another hides it for good.
  while (!up_.empty() && up_.back().count >= count) up_.pop_back();
  up_.push_back({at, count});
  while (!down_.empty() && down_.back().count <= count) down_.pop_back();
  down_.push_back({at, count});
}

bool StabilizationTracker::Bounds(const BehaviorSpec& spec, TimeMs now, StabilizationBounds* out) {
  if (!valid_ || spec.scale_up.stabilization_window != up_window_ ||
      spec.scale_down.stabilization_window != down_window_ || (any_now_ && now < last_now_)) {
    valid_ = false;
    return false;
  }
  any_now_ = true;
  last_now_ = now;
  // Records leave a window for good (times do not go back): the same test as ApplyBehavior's walk.
  while (!up_.empty() && !(up_.front().at > now - up_window_)) up_.DropFront(1);
  while (!down_.empty() && !(down_.front().at > now - down_window_)) down_.DropFront(1);
  out->up_min = up_.empty() ? INT_MAX : up_.front().count;
  out->down_max = down_.empty() ? INT_MIN : down_.front().count;
  return true;
}

void RecordBehavior(BehaviorHistory* history, int current, int recommended, int desired, TimeMs now) {
  history->recommendations.push_back({now, recommended});
  if (desired > current) history->scale_ups.push_back({now, desired - current});
  if (desired < current) history->scale_downs.push_back({now, current - desired});
}

}  // namespace warmpool
