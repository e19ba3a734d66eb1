// Clock: the one seam through which the controller learns the time. Tests and the backtest use
// ManualClock; the live controller uses the system clock (SystemClock, controller/runtime/app.h).
#ifndef WARMPOOL_CLOCK_H_
#define WARMPOOL_CLOCK_H_

#include "warmpool/time.h"

namespace warmpool {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimeMs Now() const = 0;
};

// A clock that moves only when told to. Not thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimeMs start = 0) : now_(start) {}
  TimeMs Now() const override { return now_; }
  void Set(TimeMs t) { now_ = t; }
  void Advance(DurationMs d) { now_ += d; }

 private:
  TimeMs now_;
};

}  // namespace warmpool

#endif  // WARMPOOL_CLOCK_H_
