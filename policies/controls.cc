#include "policies/controls.h"

#include <algorithm>

namespace warmpool {

void ApplyControls(const PoolControls& controls, const PoolSpec& spec, TimeMs now, Decision* d, int swapping) {
  const int before = d->desired;
  if (controls.override && !controls.override->Expired(now)) {
    const Override& o = *controls.override;
    std::string what;
    if (o.active) {
      d->desired = *o.active;
      what = "active " + std::to_string(*o.active);
    }
    if (o.min_active && d->desired < *o.min_active) d->desired = *o.min_active;
    if (o.max_active && d->desired > *o.max_active) d->desired = *o.max_active;
    if (o.min_active)
      what += std::string(what.empty() ? "" : ", ") + "min_active " + std::to_string(*o.min_active);
    if (o.max_active)
      what += std::string(what.empty() ? "" : ", ") + "max_active " + std::to_string(*o.max_active);
    d->desired = std::clamp(d->desired, 0, spec.MaxTotal());
    d->reason += "; override (" + what + (o.reason.empty() ? "" : ": " + o.reason) +
                 (o.expires_at ? ", until " + FormatTime(o.expires_at) : "") + ")" +
                 (d->desired != before ? " -> " + std::to_string(d->desired) : " (no change)");
    d->policy = "override";
  }
  // Swapping a serving server being replaced for another is not a scale-up: the hold leaves room for it.
  const int up_hold = d->current + std::max(0, swapping);
  if (controls.pause.scale_up && d->desired > up_hold) {
    d->reason += "; scale-up paused" +
                 (controls.pause.reason.empty() ? "" : " (" + controls.pause.reason + ")") + ", holding at " +
                 std::to_string(up_hold) + (swapping > 0 ? " (" + std::to_string(swapping) + " being replaced)" : "");
    d->desired = up_hold;
  }
  if (controls.pause.scale_down && d->desired < d->current) {
    d->reason += "; scale-down paused" +
                 (controls.pause.reason.empty() ? "" : " (" + controls.pause.reason + ")") + ", holding at " +
                 std::to_string(d->current);
    d->desired = d->current;
  }
  d->direction = d->desired > d->current   ? Direction::kUp
                 : d->desired < d->current ? Direction::kDown
                                           : Direction::kNone;
}

}  // namespace warmpool
