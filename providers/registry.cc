// The one explicit table of provider types.
#include "warmpool/registry.h"

#include "providers/haproxy/haproxy_counters.h"
#include "providers/haproxy/haproxy_provider.h"
#include "providers/haproxy/haproxy_shedder.h"
#include "providers/probe/http_probe.h"
#include "providers/registry.h"
#include "providers/simulated/simulated_provider.h"

namespace warmpool {
namespace {

using Factory = std::unique_ptr<Provider> (*)(const std::string&, const Params&, const Clock*,
                                              std::vector<std::string>*);
using Entry = PluginEntry<Factory>;
constexpr Entry kProviders[] = {
    {"simulated", &NewSimulatedProvider},
    {"haproxy", &NewHAProxyProvider},
};

using FallbackFactory = std::unique_ptr<MetricsSource> (*)(const Params&, std::vector<std::string>*);
constexpr PluginEntry<FallbackFactory> kFallbacks[] = {
    {"haproxy", &NewHAProxyCounterSource},
};

}  // namespace

std::unique_ptr<Provider> CreateProvider(const std::string& type, const std::string& pool,
                                         const Params& params, const Clock* clock,
                                         std::vector<std::string>* errors) {
  const Entry* e = FindPlugin(kProviders, type, "provider", params, errors);
  return e ? e->factory(pool, params, clock, errors) : nullptr;
}

std::vector<std::string> ProviderTypes() { return PluginTypes(kProviders); }

std::unique_ptr<MetricsSource> CreateFallbackSource(const std::string& type, const Params& params,
                                                    std::vector<std::string>* errors) {
  const PluginEntry<FallbackFactory>* e = FindPlugin(kFallbacks, type, "fallback", params, errors);
  return e ? e->factory(params, errors) : nullptr;
}

std::vector<std::string> FallbackSourceTypes() { return PluginTypes(kFallbacks); }

std::unique_ptr<Shedder> CreateShedder(const std::string& provider_type, const Params& params,
                                       std::vector<std::string>* errors) {
  if (provider_type == "haproxy") return NewHAProxyShedder(params, errors);
  errors->push_back(params.path + ": needs a provider that can limit the load at the balancer (haproxy), not " +
                    "\"" + provider_type + "\"");
  return nullptr;
}

std::unique_ptr<Prober> CreateProber(const ProbeSpec& spec) { return std::make_unique<HttpProber>(spec); }

}  // namespace warmpool
