// The control loop over a Clock: tick every pool at the interval, wake early for stop or reload.
// The waiting is behind Waiter, so a test drives the loop with a ManualClock and no sleeping.
#ifndef WARMPOOL_CONTROLLER_RUNTIME_LOOP_H_
#define WARMPOOL_CONTROLLER_RUNTIME_LOOP_H_

#include <functional>

#include "controller/runtime/app.h"
#include "warmpool/clock.h"

namespace warmpool {

class Waiter {
 public:
  enum class Wake { kDeadline, kStop, kReload, kTick };
  virtual ~Waiter() = default;
  // Blocks until `deadline` (by the loop's clock), a stop, a reload request, or a request to tick now
  // (cluster mode: the members or the owners changed, so a pool may be waiting for this member).
  virtual Wake WaitUntil(TimeMs deadline) = 0;
};

struct LoopOptions {
  long max_ticks = 0;            // 0 = until stopped
  std::function<void()> reload;  // called on Wake::kReload; may be empty
};

// Ticks `app` at clock.Now(), then every app->interval() (measured from the previous tick's
// deadline, so it does not drift; after a stall it skips ahead instead of bursting). A kTick wake
// ticks at once, between the deadlines, and keeps the schedule.
// Returns the number of ticks.
long RunLoop(App* app, const Clock& clock, Waiter* waiter, const LoopOptions& options);

}  // namespace warmpool

#endif  // WARMPOOL_CONTROLLER_RUNTIME_LOOP_H_
