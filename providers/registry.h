// The providers, created by type name from the one table in registry.cc.
#ifndef WARMPOOL_PROVIDERS_REGISTRY_H_
#define WARMPOOL_PROVIDERS_REGISTRY_H_

#include <memory>
#include <string>
#include <vector>

#include "warmpool/clock.h"
#include "warmpool/metrics.h"
#include "warmpool/params.h"
#include "warmpool/probe.h"
#include "warmpool/provider.h"
#include "warmpool/shedder.h"

namespace warmpool {

// Creates a provider by type name ("simulated", ...) for pool `pool`. `clock` outlives it.
// Returns nullptr and appends path-named errors on a bad type or parameter.
std::unique_ptr<Provider> CreateProvider(const std::string& type, const std::string& pool,
                                         const Params& params, const Clock* clock,
                                         std::vector<std::string>* errors);
std::vector<std::string> ProviderTypes();

// Creates a metric's fallback source (`metrics[].fallback`) by type name: "haproxy", the balancer's
// own request counter (providers/haproxy/haproxy_counters.h). Returns nullptr and appends path-named
// errors on a bad type or parameter.
std::unique_ptr<MetricsSource> CreateFallbackSource(const std::string& type, const Params& params,
                                                    std::vector<std::string>* errors);
std::vector<std::string> FallbackSourceTypes();

// Creates the overload protection of a pool whose provider is `provider_type` (`overload:`): "haproxy"
// (providers/haproxy/haproxy_shedder.h). Returns nullptr and appends path-named errors when the
// provider has none, or on a bad parameter.
std::unique_ptr<Shedder> CreateShedder(const std::string& provider_type, const Params& params,
                                       std::vector<std::string>* errors);

// Creates the probe of a pool's standbys (`health.probe`): an HTTP GET (providers/probe/http_probe.h).
std::unique_ptr<Prober> CreateProber(const ProbeSpec& spec);

}  // namespace warmpool

#endif  // WARMPOOL_PROVIDERS_REGISTRY_H_
