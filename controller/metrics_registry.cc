// The one explicit table of metrics source types.
#include "prometheus_source.h"
#include "trace_source.h"
#include "warmpool/metrics.h"

namespace warmpool {
namespace {

using Factory = std::unique_ptr<MetricsSource> (*)(const Params&, std::vector<std::string>*);
struct Entry {
  const char* type;
  Factory factory;
};
constexpr Entry kSources[] = {
    {"trace", &NewTraceMetricsSource},
    {"prometheus", &NewPrometheusMetricsSource},
};

}  // namespace

std::unique_ptr<MetricsSource> CreateMetricsSource(const std::string& type, const Params& params,
                                                   std::vector<std::string>* errors) {
  for (const Entry& e : kSources) {
    if (type == e.type) return e.factory(params, errors);
  }
  std::string known;
  for (const std::string& t : MetricsSourceTypes()) known += (known.empty() ? "" : ", ") + t;
  errors->push_back((params.path.empty() ? std::string("type") : params.path + ".type") +
                    ": unknown metrics source type \"" + type + "\" (known: " + known + ")");
  return nullptr;
}

std::vector<std::string> MetricsSourceTypes() {
  std::vector<std::string> out;
  for (const Entry& e : kSources) out.emplace_back(e.type);
  return out;
}

}  // namespace warmpool
