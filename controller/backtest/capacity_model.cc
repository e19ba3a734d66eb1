#include "controller/backtest/capacity_model.h"

#include <string>
#include <vector>

namespace warmpool {

Result<SimulatedSpec> ResolveCapacityModel(const PoolSpec& spec) {
  SimulatedSpec model;
  std::vector<std::string> errors;
  if (!spec.capacity_model.type.empty()) {
    model.initial_active = spec.min_active;
    model.initial_standby = spec.warm_standby;
    ReadSimulatedSpec(spec.capacity_model.params, &model, &errors);
  } else if (spec.provider.type == "simulated") {
    ReadSimulatedSpec(spec.provider.params, &model, &errors);
  } else {
    return Status::InvalidArgument(
        "pool " + spec.name + ": the backtest needs a capacity model: add capacity_model " +
        "(capacity_per_server, promotion_delay, provisioning_delay, drain_delay) to the pool, or use " +
        "provider.type simulated (its parameters are the model); the provider is \"" + spec.provider.type +
        "\"");
  }
  if (!errors.empty()) {
    std::string all;
    for (const std::string& e : errors) all += (all.empty() ? "" : "; ") + e;
    return Status::InvalidArgument(all);
  }
  return model;
}

}  // namespace warmpool
