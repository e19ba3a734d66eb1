// The builtin policies, created by type name from the one table in registry.cc.
#ifndef WARMPOOL_POLICIES_REGISTRY_H_
#define WARMPOOL_POLICIES_REGISTRY_H_

#include <memory>
#include <string>
#include <vector>

#include "warmpool/params.h"
#include "warmpool/policy.h"

namespace warmpool {

// Creates a policy by its type name ("target_tracking", ...). `name` is how decisions refer to it.
// Returns nullptr and appends errors (with their config paths) on a bad type or parameter.
std::unique_ptr<Policy> CreatePolicy(const std::string& type, const std::string& name, const Params& params,
                                     std::vector<std::string>* errors);
// The registered type names, for --help and error messages.
std::vector<std::string> PolicyTypes();

}  // namespace warmpool

#endif  // WARMPOOL_POLICIES_REGISTRY_H_
