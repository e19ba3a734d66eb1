// Reading a pool's `health:` block (PoolSpec::health, docs/configuration.md "health"). Private to the
// config room.
#ifndef WARMPOOL_CONTROLLER_CONFIG_HEALTH_H_
#define WARMPOOL_CONTROLLER_CONFIG_HEALTH_H_

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "warmpool/pool_spec.h"

namespace warmpool::config_internal {

// Reads `node` (a mapping, or null for every default) at `path` into *health; errors name their path.
void ReadHealth(const YAML::Node& node, const std::string& path, HealthSpec* health, std::vector<std::string>* errors);

}  // namespace warmpool::config_internal

#endif  // WARMPOOL_CONTROLLER_CONFIG_HEALTH_H_
