// The one explicit table of metrics source types.
#include "warmpool/registry.h"

#include "controller/sources/prometheus/source.h"
#include "controller/sources/registry.h"
#include "controller/sources/trace/source.h"

namespace warmpool {
namespace {

using Factory = std::unique_ptr<MetricsSource> (*)(const Params&, std::vector<std::string>*);
using Check = void (*)(const Params&, std::vector<std::string>*);
struct Entry {
  const char* type;
  Factory factory;
  Check check;  // validates without building what only a run needs (an HTTP client); null: create once
};
constexpr Entry kSources[] = {
    {"trace", &NewTraceMetricsSource, nullptr},
    {"prometheus", &NewPrometheusMetricsSource, &CheckPrometheusMetricsSource},
};

}  // namespace

std::unique_ptr<MetricsSource> CreateMetricsSource(const std::string& type, const Params& params,
                                                   std::vector<std::string>* errors) {
  const Entry* e = FindPlugin(kSources, type, "metrics source", params, errors);
  return e ? e->factory(params, errors) : nullptr;
}

void CheckMetricsSource(const std::string& type, const Params& params, std::vector<std::string>* errors) {
  const Entry* e = FindPlugin(kSources, type, "metrics source", params, errors);
  if (e == nullptr) return;
  if (e->check != nullptr) {
    e->check(params, errors);
  } else {
    e->factory(params, errors);
  }
}

std::vector<std::string> MetricsSourceTypes() { return PluginTypes(kSources); }

}  // namespace warmpool
