// Reading the top-level `cluster:` block (GlobalSpec::cluster, docs/configuration.md "cluster").
// Private to the config room.
#ifndef WARMPOOL_CONTROLLER_CONFIG_CLUSTER_H_
#define WARMPOOL_CONTROLLER_CONFIG_CLUSTER_H_

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "warmpool/pool_spec.h"

namespace warmpool::config_internal {

// Reads `node` (a mapping) at "cluster" into *cluster, reading password_file and checking tls.ca_file
// (relative paths against `base_dir`); errors name their path.
void ReadCluster(const YAML::Node& node, const std::string& base_dir, ClusterSpec* cluster,
                 std::vector<std::string>* errors);

// What `cluster` rules out elsewhere in the config (state.file: the state lives in etcd), appended as
// errors with their paths.
void CheckClusterAgainst(const GlobalSpec& global, std::vector<std::string>* errors);

}  // namespace warmpool::config_internal

#endif  // WARMPOOL_CONTROLLER_CONFIG_CLUSTER_H_
