#include "controller/runtime/loop.h"

namespace warmpool {

long RunLoop(App* app, const Clock& clock, Waiter* waiter, const LoopOptions& options) {
  long ticks = 0;
  TimeMs next = clock.Now();
  for (;;) {
    app->TickAll(clock.Now());
    ++ticks;
    if (options.max_ticks > 0 && ticks >= options.max_ticks) return ticks;
    next += app->interval();
    if (next < clock.Now()) next = clock.Now();  // fell behind: skip, don't burst
    for (;;) {
      const Waiter::Wake wake = waiter->WaitUntil(next);
      if (wake == Waiter::Wake::kStop) return ticks;
      if (wake == Waiter::Wake::kDeadline) break;
      if (wake == Waiter::Wake::kTick) {  // an extra tick now; the schedule stays
        app->TickAll(clock.Now());
        ++ticks;
        if (options.max_ticks > 0 && ticks >= options.max_ticks) return ticks;
        continue;
      }
      if (options.reload) options.reload();  // then keep waiting for the same deadline
    }
  }
}

}  // namespace warmpool
