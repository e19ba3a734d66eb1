// The one shape of a plugin table (policies, providers, metrics sources): an explicit array of
// entries, each with a `type` name and what creates that type, looked up by name. No static
// initialization: adding a plugin is adding a line to its table.
#ifndef WARMPOOL_REGISTRY_H_
#define WARMPOOL_REGISTRY_H_

#include <cstddef>
#include <string>
#include <vector>

#include "warmpool/params.h"

namespace warmpool {

// One line of a table: a type name and what creates that type.
template <typename Factory>
struct PluginEntry {
  const char* type;
  Factory factory;
};

// The entry of `table` named `type`; nullptr and an error naming the path, the `kind` of plugin and
// the known types otherwise: "pools[0].provider.type: unknown provider type \"x\" (known: a, b)".
template <typename Entry, size_t N>
const Entry* FindPlugin(const Entry (&table)[N], const std::string& type, const char* kind,
                        const Params& params, std::vector<std::string>* errors) {
  for (const Entry& e : table) {
    if (type == e.type) return &e;
  }
  std::string known;
  for (const Entry& e : table) known += (known.empty() ? "" : ", ") + std::string(e.type);
  errors->push_back((params.path.empty() ? std::string("type") : params.path + ".type") + ": unknown " +
                    kind + " type \"" + type + "\" (known: " + known + ")");
  return nullptr;
}

// The type names of `table`, in its order (for --help and error messages).
template <typename Entry, size_t N>
std::vector<std::string> PluginTypes(const Entry (&table)[N]) {
  std::vector<std::string> out;
  for (const Entry& e : table) out.emplace_back(e.type);
  return out;
}

}  // namespace warmpool

#endif  // WARMPOOL_REGISTRY_H_
