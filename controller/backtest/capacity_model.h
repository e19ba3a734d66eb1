// The backtest's model of a pool's servers: what one serves and how long each transition takes.
#ifndef WARMPOOL_CONTROLLER_BACKTEST_CAPACITY_MODEL_H_
#define WARMPOOL_CONTROLLER_BACKTEST_CAPACITY_MODEL_H_

#include "providers/simulated/simulated_provider.h"
#include "warmpool/pool_spec.h"
#include "warmpool/status.h"

namespace warmpool {

// The pool's `capacity_model` when it has one (any provider: haproxy, exec, ...), where
// initial_active defaults to min_active and initial_standby to warm_standby; else, for a pool whose
// provider is simulated, that provider's own parameters; else an error saying what to add.
Result<SimulatedSpec> ResolveCapacityModel(const PoolSpec& spec);

}  // namespace warmpool

#endif  // WARMPOOL_CONTROLLER_BACKTEST_CAPACITY_MODEL_H_
