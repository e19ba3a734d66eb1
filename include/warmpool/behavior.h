// Behavior: what happens to the combined recommendation before it becomes the desired count.
// Stabilization windows and rate limits, with the Kubernetes HPA semantics, over explicit history.
// Pure: `now` and the history are arguments, so a backtest replays exactly what live would do.
#ifndef WARMPOOL_BEHAVIOR_H_
#define WARMPOOL_BEHAVIOR_H_

#include <string>
#include <vector>

#include "warmpool/time.h"

namespace warmpool {

struct RateLimit {
  enum class Kind { kServers, kPercent };
  Kind kind = Kind::kServers;
  double value = 0;
  DurationMs period = 15 * kSecond;
};

struct ScalingRules {
  enum class Select { kMax, kMin, kDisabled };
  DurationMs stabilization_window = 0;
  Select select = Select::kMax;   // kMax: the policy allowing the largest change wins
  std::vector<RateLimit> limits;  // empty: no limit
};

struct BehaviorSpec {
  ScalingRules scale_up;
  ScalingRules scale_down;
  // HPA defaults: up: no window, max(4 servers, 100%) per 15 s; down: 300 s window, 100% per 15 s.
  static BehaviorSpec Defaults();
};

// What behavior remembers between ticks. Plain data, so it can be persisted and replayed.
struct BehaviorHistory {
  struct TimedCount {
    TimeMs at;
    int count;
  };
  std::vector<TimedCount> recommendations;  // raw combined recommendations
  std::vector<TimedCount> scale_ups;        // servers added, when
  std::vector<TimedCount> scale_downs;      // servers removed, when

  // Drops what no window or period of `spec` can see any more at `now`.
  void Prune(const BehaviorSpec& spec, TimeMs now);
};

struct BehaviorResult {
  int desired = 0;
  std::string reason;  // empty when behavior did not change the recommendation
};

// Stabilizes then rate-limits `recommended` given `current` active servers. Does not modify history.
// With `explain` false the reason is left empty (the desired count is the same).
BehaviorResult ApplyBehavior(const BehaviorSpec& spec, const BehaviorHistory& history, int current,
                             int recommended, TimeMs now, bool explain = true);

// Records this tick into history: the raw recommendation, and the change from current to desired.
void RecordBehavior(BehaviorHistory* history, int current, int recommended, int desired, TimeMs now);

}  // namespace warmpool

#endif  // WARMPOOL_BEHAVIOR_H_
