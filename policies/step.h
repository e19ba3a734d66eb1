// step: threshold bands on one metric with fixed or percentage adjustments (step scaling).
//
//   - type: step
//     metric: memory
//     breaches: 3                      # consecutive samples required, default 1
//     bands:
//       - {above: 0.5, add: 1}         # memory above 50% adds a server
//       - {above: 0.8, add_percent: 50}
//       - {below: 0.2, add: -1}
//       - {below: 0.05, add_percent: -50}
//
// Samples: the metric window's finite samples no older than PolicyInput.stale_after, newest last. A
// band is breached when its last `breaches` such samples are all strictly above (below) its
// threshold; fewer breaching samples than that is no action. So `breaches` x the metric's step must
// fit within stale_after (and the metric's window), or the band can never be breached.
//
// Adjustment: `add` servers (may be negative), or `add_percent` of the current active count, rounded
// away from zero and at least 1 server when the percentage is not zero.
// Combining: among breached above-bands the largest adjustment wins. Below-bands (scale-in) count
// only when no above-band is breached; among them the deepest breached band (lowest threshold) wins,
// as in step scaling where each band is an interval of the metric (ties: the larger adjustment).
// Recommendation: max(0, current + adjustment); nothing breached keeps current; no fresh sample
// makes the policy invalid (the pool holds).
#ifndef WARMPOOL_POLICIES_STEP_H_
#define WARMPOOL_POLICIES_STEP_H_

#include <memory>
#include <string>
#include <vector>

#include "warmpool/policy.h"

namespace warmpool {

struct StepSpec {
  struct Band {
    bool above = true;  // false: below
    double threshold = 0;
    bool percent = false;  // add is a percentage of current
    double add = 0;
  };
  std::string metric;
  std::vector<Band> bands;
  int breaches = 1;  // >= 1
};

// The servers a band adds (negative: removes) with `current` active.
int StepAdjustment(const StepSpec::Band& band, int current);

// The pure rule, exposed for tests.
Recommendation StepRecommend(const std::string& name, const StepSpec& spec, const PolicyInput& in);

// Params: metric; bands[i].above | bands[i].below; bands[i].add | bands[i].add_percent; breaches.
std::unique_ptr<Policy> NewStepPolicy(const std::string& name, const Params& params,
                                      std::vector<std::string>* errors);

}  // namespace warmpool

#endif  // WARMPOOL_POLICIES_STEP_H_
