// Reading YAML nodes for the config loader: typed getters that collect "path: message" errors
// instead of throwing, in the manner of ParamReader. Private to controller/ (config.cc).
//
// yaml-cpp throws; these helpers only touch nodes whose kind they have checked, and the caller
// (ParseConfig) still wraps everything in a catch of YAML::Exception.
#ifndef WARMPOOL_CONTROLLER_CONFIG_YAML_H_
#define WARMPOOL_CONTROLLER_CONFIG_YAML_H_

#include <yaml-cpp/yaml.h>

#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "warmpool/params.h"
#include "warmpool/time.h"

namespace warmpool {
namespace config_internal {

// "a", "b" -> "a.b"; "", "b" -> "b".
std::string JoinPath(std::string_view path, std::string_view key);
// "a", 2 -> "a[2]".
std::string IndexPath(std::string_view path, size_t i);
// How a value appears in an error: "\"text\"" for a scalar, "null", "a mapping", "a sequence".
std::string Describe(const YAML::Node& node);
// "\"text\"", escaped as QuoteValue (warmpool/params.h) does: an error stays on one line.
std::string Quote(std::string_view text);

// Parses an optional '-' followed by decimal digits. False on anything else or on int overflow.
bool ParseInt(std::string_view text, int* out);

// One YAML mapping being read. Keys are matched as the getters ask for them; Finish() reports every
// key nobody asked for. A null node reads as an empty mapping; any other non-mapping records
// "path: must be a mapping, got ..." and reads as empty. Duplicate keys and empty keys ("path: empty
// key (line 7)") are errors.
class YamlMap {
 public:
  YamlMap(const YAML::Node& node, std::string path, std::vector<std::string>* errors);

  // False when the node was neither a mapping nor null.
  bool ok() const { return ok_; }
  const std::string& path() const { return path_; }
  std::string PathOf(std::string_view key) const { return JoinPath(path_, key); }

  bool Has(std::string_view key) const;
  // The value of `key` (marks it as used), or nullptr when absent. Valid while this YamlMap lives.
  const YAML::Node* Get(std::string_view key);
  void Error(std::string_view key, std::string_view msg);

  // Each getter leaves *out unchanged and returns false when the key is absent or the value is bad
  // (a bad value, null included, records an error naming the path and the value); true when *out
  // was set.
  bool String(std::string_view key, std::string* out);
  // Absent or null: "path: required". Empty string: "path: must not be empty".
  bool RequiredString(std::string_view key, std::string* out);
  bool Int(std::string_view key, int* out, int min);
  bool Number(std::string_view key, double* out);
  bool Bool(std::string_view key, bool* out);
  // `positive`: zero is refused ("must be > 0, got \"0s\"").
  bool Duration(std::string_view key, DurationMs* out, bool positive);
  bool Enum(std::string_view key, std::string* out, const std::vector<std::string>& allowed);

  // Marks every key not yet used as used and returns those entries, in document order.
  std::vector<std::pair<std::string, YAML::Node>> TakeRest();

  // Records "path.key: unknown key" for every key no getter touched.
  void Finish();

 private:
  const YAML::Node* Find(std::string_view key) const;
  // Sets *text to the scalar text of `node`, or records "key: must be <what>, got ..." (a mapping,
  // a sequence or null) and returns false.
  bool ScalarText(std::string_view key, const YAML::Node& node, std::string_view what, std::string* text);

  std::string path_;
  std::vector<std::string>* errors_;
  bool ok_ = true;
  std::vector<std::pair<std::string, YAML::Node>> entries_;  // first occurrence of each key
  std::set<std::string, std::less<>> used_;
};

// The documents of a YAML text, counted into `count` (up to kMaxDocuments + 1) and returned when there
// are at most `limit` of them (a config has one: more is an error the caller names without needing
// them). Unlike YAML::LoadAll, it cannot loop forever: yaml-cpp 0.7 repeats a document that starts with
// ',' without end, allocating as it goes (its issue #1040); that is a YAML::ParserException here, at
// the document's start.
constexpr size_t kMaxDocuments = 16;
std::vector<YAML::Node> LoadDocuments(const std::string& text, size_t limit, size_t* count);

// Bounds on one plugin key's parameters, as expanded (aliases included).
constexpr size_t kMaxPluginParamNodes = 10000;
constexpr int kMaxPluginParamDepth = 32;
// Adds `node` under `key` to params->values: nested mapping keys joined with '.', sequence items as
// key[i], scalars as their text, null as "". Empty mappings and sequences add nothing. Errors (a
// non-scalar mapping key, an empty key or one holding '.', '[' or ']', a key flattened twice, past the
// bounds above: one error, and the rest of the key is not expanded) are named by params->path + "." +
// key, a refused key by the mapping that holds it.
void Flatten(const YAML::Node& node, const std::string& key, Params* params,
             std::vector<std::string>* errors);

}  // namespace config_internal
}  // namespace warmpool

#endif  // WARMPOOL_CONTROLLER_CONFIG_YAML_H_
