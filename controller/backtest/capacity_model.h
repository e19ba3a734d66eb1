// The backtest's model of a pool's servers: what one serves and how long each transition takes.
#ifndef WARMPOOL_CONTROLLER_BACKTEST_CAPACITY_MODEL_H_
#define WARMPOOL_CONTROLLER_BACKTEST_CAPACITY_MODEL_H_

#include <string>

#include "providers/simulated/simulated_provider.h"
#include "warmpool/pool_spec.h"
#include "warmpool/status.h"

namespace warmpool {

// The pool's `capacity_model` when it has one (any provider: haproxy, exec, ...), where
// initial_active defaults to min_active and initial_standby to warm_standby; else, for a pool whose
// provider is simulated, that provider's own parameters; else an error saying what to add.
Result<SimulatedSpec> ResolveCapacityModel(const PoolSpec& spec);

// `backtest --fit-capacity N`: the pool with capacity_per_server = peak / N, so that the trace's peak
// needs N servers, and with it, scaled alike (they are stated for the old capacity), every policy's
// target_per_server and warm_standby.auto's server_capacity; runs start with the servers the trace's
// first point needs (at least the model's initial_active) unless the model sets initial_active.
// `peak` and `first`: the trace's highest rate and its first, in requests/s.
struct CapacityFit {
  PoolSpec spec;
  double capacity_per_server = 0;
  std::string said;  // what it did, in one line
};
// Errors name --fit-capacity: N < 1 or N > max_active, no load to fit, no capacity model.
Result<CapacityFit> FitCapacity(const PoolSpec& spec, double peak, double first, int n);
}  // namespace warmpool

#endif  // WARMPOOL_CONTROLLER_BACKTEST_CAPACITY_MODEL_H_
