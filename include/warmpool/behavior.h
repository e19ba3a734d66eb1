// Behavior's settings and memory: the stabilization windows and rate limits of a pool (the Kubernetes
// HPA's semantics) and the plain history they read. Applying them is policies/behavior.h.
#ifndef WARMPOOL_BEHAVIOR_H_
#define WARMPOOL_BEHAVIOR_H_

#include <cstddef>
#include <string>
#include <vector>

#include "warmpool/sliding_vector.h"
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

// What behavior remembers between ticks. Plain data, so it can be persisted and replayed. Records are
// appended at the back and pruned from the front (SlidingVector: without moving the rest each tick).
struct BehaviorHistory {
  struct TimedCount {
    TimeMs at;
    int count;
  };
  using TimedCounts = SlidingVector<TimedCount>;
  TimedCounts recommendations;  // raw combined recommendations
  TimedCounts scale_ups;        // servers added, when
  TimedCounts scale_downs;      // servers removed, when

  // Drops what no window or period of `spec` can see any more at `now`.
  void Prune(const BehaviorSpec& spec, TimeMs now);
};

}  // namespace warmpool

#endif  // WARMPOOL_BEHAVIOR_H_
