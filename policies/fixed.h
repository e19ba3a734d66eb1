// fixed: always recommends the same number of active servers.
//
//   - {type: fixed, count: 3}
//
// Useful as a floor beside other policies (the largest recommendation wins), for a pool that must
// not autoscale, and in tests and backtests as a baseline.
#ifndef WARMPOOL_POLICIES_FIXED_H_
#define WARMPOOL_POLICIES_FIXED_H_

#include <memory>
#include <string>
#include <vector>

#include "warmpool/policy.h"

namespace warmpool {

// Params: count (required, integer >= 0).
std::unique_ptr<Policy> NewFixedPolicy(const std::string& name, const Params& params,
                                       std::vector<std::string>* errors);

}  // namespace warmpool

#endif  // WARMPOOL_POLICIES_FIXED_H_
