// Loading the YAML config into a validated Config. Private to controller/.
#ifndef WARMPOOL_CONTROLLER_CONFIG_CONFIG_H_
#define WARMPOOL_CONTROLLER_CONFIG_CONFIG_H_

#include <string>
#include <string_view>
#include <vector>

#include "warmpool/pool_spec.h"

namespace warmpool {

struct ConfigLoad {
  Config config;
  // Every problem found, each "path: message", e.g.
  // "pools[0].max_active: must be >= min_active (2), got 1". Empty = valid.
  std::vector<std::string> errors;
  bool ok() const { return errors.empty(); }
};

// Parses and validates YAML text. `source` names the input in errors about the file as a whole.
// Validation creates every policy and provider once, so that their own parameter errors are
// reported too, and checks the metrics source's settings without building it (CheckMetricsSource:
// no HTTP client, so validating starts no HTTP threads). Never throws.
ConfigLoad ParseConfig(std::string_view yaml, std::string_view source = "config");

// Reads `path` and parses it; an unreadable file is one error naming the path.
ConfigLoad LoadConfigFile(const std::string& path);

}  // namespace warmpool

#endif  // WARMPOOL_CONTROLLER_CONFIG_CONFIG_H_
