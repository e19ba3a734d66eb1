// Behavior: what happens to the combined recommendation before it becomes the desired count.
// Stabilization windows and rate limits, with the Kubernetes HPA semantics, over explicit history.
// Pure: `now` and the history are arguments, so a backtest replays exactly what live would do.
#ifndef WARMPOOL_POLICIES_BEHAVIOR_H_
#define WARMPOOL_POLICIES_BEHAVIOR_H_

#include <climits>
#include <string>

#include "warmpool/behavior.h"
#include "warmpool/time.h"

namespace warmpool {

struct BehaviorResult {
  int desired = 0;
  std::string reason;  // empty when behavior did not change the recommendation
};

// What stabilization reads of history.recommendations at some time: the lowest recommendation in the
// scale-up window and the highest in the scale-down window (INT_MAX / INT_MIN when a window has none).
struct StabilizationBounds {
  int up_min = INT_MAX;
  int down_max = INT_MIN;
};

// Stabilizes then rate-limits `recommended` given `current` active servers. Does not modify history.
// With `explain` false the reason is left empty (the desired count is the same). With `bounds`, they
// stand for history.recommendations (as a StabilizationTracker keeps them), which is not walked.
BehaviorResult ApplyBehavior(const BehaviorSpec& spec, const BehaviorHistory& history, int current,
                             int recommended, TimeMs now, bool explain = true,
                             const StabilizationBounds* bounds = nullptr);

// StabilizationBounds kept incrementally (a monotonic deque per window: O(1) amortized per record)
// for a caller that decides every tick, instead of ApplyBehavior walking every recommendation in its
// windows each time. A derived cache: BehaviorHistory stays the plain record that is persisted. It
// is valid while it has been given, in time order, exactly the recommendations appended to the history
// it was reset from, and the times asked about do not go back; otherwise Bounds returns false and the
// caller walks the history (Reset again from it to resume).
class StabilizationTracker {
 public:
  void Reset(const BehaviorSpec& spec, const BehaviorHistory& history);
  // `history.recommendations` got {at, count} appended.
  void Add(TimeMs at, int count);
  // The bounds at `now` for `spec` (the one it was reset with). false: not valid, walk the history.
  bool Bounds(const BehaviorSpec& spec, TimeMs now, StabilizationBounds* out);
  bool valid() const { return valid_; }

 private:
  bool valid_ = false;
  DurationMs up_window_ = 0, down_window_ = 0;
  TimeMs last_at_ = 0, last_now_ = 0;
  bool any_at_ = false, any_now_ = false;
  // Queues (no allocation once grown): popping the front is DropFront(1).
  BehaviorHistory::TimedCounts up_;    // increasing counts: the front is the lowest
  BehaviorHistory::TimedCounts down_;  // decreasing counts: the front is the highest
};

// Records this tick into history: the raw recommendation, and the change from current to desired.
void RecordBehavior(BehaviorHistory* history, int current, int recommended, int desired, TimeMs now);

}  // namespace warmpool

#endif  // WARMPOOL_POLICIES_BEHAVIOR_H_
