// Applying an operator's controls (warmpool/controls.h) to a decision. Pure: time is an argument.
#ifndef WARMPOOL_POLICIES_CONTROLS_H_
#define WARMPOOL_POLICIES_CONTROLS_H_

#include "warmpool/controls.h"
#include "warmpool/decision.h"
#include "warmpool/pool_spec.h"
#include "warmpool/time.h"

namespace warmpool {

// Applies the controls to a decision made by Decide: the override first (active, then the floor and
// ceiling), then the pauses; the result is capped at the pool's max_total. An expired override is
// ignored. Appends what it did to d->reason and sets d->direction again. `swapping`: serving servers
// being replaced (not counted in d->current): a scale-up pause still lets that many be swapped in.
void ApplyControls(const PoolControls& controls, const PoolSpec& spec, TimeMs now, Decision* d, int swapping = 0);

}  // namespace warmpool

#endif  // WARMPOOL_POLICIES_CONTROLS_H_
