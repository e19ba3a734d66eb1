// Dry run: a Provider that can observe the real pool but cannot change it. It holds only an
// Observer, so there is no code path from it to a real Apply; plans are recorded instead.
#ifndef WARMPOOL_CONTROLLER_RUNTIME_DRY_RUN_H_
#define WARMPOOL_CONTROLLER_RUNTIME_DRY_RUN_H_

#include <vector>

#include "warmpool/provider.h"

namespace warmpool {

class DryRunProvider final : public Provider {
 public:
  explicit DryRunProvider(Observer* inner) : inner_(inner) {}  // `inner` outlives this
  Result<PoolState> Observe() override { return inner_->Observe(); }
  std::vector<std::string> TakeEvents() override { return inner_->TakeEvents(); }
  // Records the plan; every action reports OK with dry_run set. Changes nothing.
  ApplyResult Apply(const ScalePlan& plan) override;
  const std::vector<ScalePlan>& recorded() const { return recorded_; }

 private:
  Observer* inner_;
  std::vector<ScalePlan> recorded_;  // the most recent plans, bounded
};

}  // namespace warmpool

#endif  // WARMPOOL_CONTROLLER_RUNTIME_DRY_RUN_H_
