// The metrics sources, created (or only checked) by type name from the one table in registry.cc.
#ifndef WARMPOOL_CONTROLLER_SOURCES_REGISTRY_H_
#define WARMPOOL_CONTROLLER_SOURCES_REGISTRY_H_

#include <memory>
#include <string>
#include <vector>

#include "warmpool/metrics.h"
#include "warmpool/params.h"

namespace warmpool {

// Creates a metrics source by type name ("trace", ...). Returns nullptr and appends path-named
// errors on a bad type or parameter.
std::unique_ptr<MetricsSource> CreateMetricsSource(const std::string& type, const Params& params,
                                                   std::vector<std::string>* errors);
// The same checks without building the source: what validating a config calls, so that validation
// builds no HTTP client (the process builds each once, to run).
void CheckMetricsSource(const std::string& type, const Params& params, std::vector<std::string>* errors);
std::vector<std::string> MetricsSourceTypes();

}  // namespace warmpool

#endif  // WARMPOOL_CONTROLLER_SOURCES_REGISTRY_H_
