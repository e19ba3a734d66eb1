// The one explicit table of provider types.
#include "haproxy/haproxy_provider.h"
#include "simulated/simulated_provider.h"
#include "warmpool/provider.h"

namespace warmpool {
namespace {

using Factory = std::unique_ptr<Provider> (*)(const std::string&, const Params&, const Clock*,
                                              std::vector<std::string>*);
struct Entry {
  const char* type;
  Factory factory;
};
constexpr Entry kProviders[] = {
    {"simulated", &NewSimulatedProvider},
    {"haproxy", &NewHAProxyProvider},
};

}  // namespace

std::unique_ptr<Provider> CreateProvider(const std::string& type, const std::string& pool,
                                         const Params& params, const Clock* clock,
                                         std::vector<std::string>* errors) {
  for (const Entry& e : kProviders) {
    if (type == e.type) return e.factory(pool, params, clock, errors);
  }
  std::string known;
  for (const std::string& t : ProviderTypes()) known += (known.empty() ? "" : ", ") + t;
  errors->push_back((params.path.empty() ? std::string("type") : params.path + ".type") +
                    ": unknown provider type \"" + type + "\" (known: " + known + ")");
  return nullptr;
}

std::vector<std::string> ProviderTypes() {
  std::vector<std::string> out;
  for (const Entry& e : kProviders) out.emplace_back(e.type);
  return out;
}

}  // namespace warmpool
