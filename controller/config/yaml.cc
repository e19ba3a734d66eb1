#include "controller/config/yaml.h"

#include <yaml-cpp/eventhandler.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <sstream>

namespace warmpool {
namespace config_internal {

std::string JoinPath(std::string_view path, std::string_view key) {
  if (path.empty()) return std::string(key);
  std::string out(path);
  out += '.';
  out += key;
  return out;
}

std::string IndexPath(std::string_view path, size_t i) {
  return std::string(path) + "[" + std::to_string(i) + "]";
}

std::string Quote(std::string_view text) { return QuoteValue(text); }

std::string Describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Sequence: return "a sequence";
    case YAML::NodeType::Scalar: return Quote(node.Scalar());
    case YAML::NodeType::Null: return "null";
    case YAML::NodeType::Undefined: break;
  }
  return "nothing";
}

bool ParseInt(std::string_view text, int* out) {
  size_t i = (!text.empty() && text[0] == '-') ? 1 : 0;
  if (i == text.size()) return false;
  long long n = 0;
  for (; i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    n = n * 10 + (text[i] - '0');
    if (n > 2147483648LL) return false;
  }
  if (text[0] == '-') n = -n;
  if (n > 2147483647LL) return false;
  *out = static_cast<int>(n);
  return true;
}

YamlMap::YamlMap(const YAML::Node& node, std::string path, std::vector<std::string>* errors)
    : path_(std::move(path)), errors_(errors) {
  if (!node.IsDefined() || node.IsNull()) return;
  if (!node.IsMap()) {
    ok_ = false;
    errors_->push_back(path_ + ": must be a mapping, got " + Describe(node));
    return;
  }
  for (const auto& kv : node) {
    if (!kv.first.IsScalar()) {
      errors_->push_back((path_.empty() ? "top level" : path_) + ": keys must be plain strings, got " +
                         Describe(kv.first));
      continue;
    }
    const std::string& key = kv.first.Scalar();
    if (key.empty()) {
      errors_->push_back((path_.empty() ? "top level" : path_) + ": empty key (line " +
                         std::to_string(kv.first.Mark().line + 1) + ")");
      continue;
    }
    if (Find(key) != nullptr) {
      errors_->push_back(PathOf(key) + ": duplicate key (line " + std::to_string(kv.first.Mark().line + 1) +
                         ")");
      continue;
    }
    entries_.emplace_back(key, kv.second);
  }
}

const YAML::Node* YamlMap::Find(std::string_view key) const {
  for (const auto& [k, v] : entries_) {
    if (k == key) return &v;
  }
  return nullptr;
}

bool YamlMap::Has(std::string_view key) const { return Find(key) != nullptr; }

const YAML::Node* YamlMap::Get(std::string_view key) {
  const YAML::Node* node = Find(key);
  if (node != nullptr) used_.insert(std::string(key));
  return node;
}

void YamlMap::Error(std::string_view key, std::string_view msg) {
  errors_->push_back(PathOf(key) + ": " + std::string(msg));
}

bool YamlMap::ScalarText(std::string_view key, const YAML::Node& node, std::string_view what,
                         std::string* text) {
  if (!node.IsScalar()) {
    Error(key, "must be " + std::string(what) + ", got " + Describe(node));
    return false;
  }
  *text = node.Scalar();
  return true;
}

bool YamlMap::String(std::string_view key, std::string* out) {
  const YAML::Node* node = Get(key);
  return node != nullptr && ScalarText(key, *node, "a string", out);
}

bool YamlMap::RequiredString(std::string_view key, std::string* out) {
  const YAML::Node* node = Get(key);
  if (node == nullptr || node->IsNull()) {
    Error(key, "required");
    return false;
  }
  std::string text;
  if (!ScalarText(key, *node, "a string", &text)) return false;
  if (text.empty()) {
    Error(key, "must not be empty");
    return false;
  }
  *out = std::move(text);
  return true;
}

bool YamlMap::Int(std::string_view key, int* out, int min) {
  const YAML::Node* node = Get(key);
  std::string text;
  if (node == nullptr || !ScalarText(key, *node, "an integer", &text)) return false;
  int n = 0;
  if (!ParseInt(text, &n)) {
    size_t sign = (!text.empty() && text[0] == '-') ? 1 : 0;
    bool digits = text.size() > sign && text.find_first_not_of("0123456789", sign) == std::string::npos;
    Error(key, std::string(digits ? "is out of range" : "must be an integer") + ", got " + Quote(text));
    return false;
  }
  if (n < min) {
    Error(key, "must be >= " + std::to_string(min) + ", got " + text);
    return false;
  }
  *out = n;
  return true;
}

bool YamlMap::Number(std::string_view key, double* out) {
  const YAML::Node* node = Get(key);
  std::string text;
  if (node == nullptr || !ScalarText(key, *node, "a number", &text)) return false;
  char* end = nullptr;
  errno = 0;
  double d = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(d) || errno == ERANGE) {
    Error(key, "must be a number, got " + Quote(text));
    return false;
  }
  *out = d;
  return true;
}

bool YamlMap::Bool(std::string_view key, bool* out) {
  const YAML::Node* node = Get(key);
  std::string text;
  if (node == nullptr || !ScalarText(key, *node, "true or false", &text)) return false;
  if (text == "true" || text == "True" || text == "TRUE") {
    *out = true;
  } else if (text == "false" || text == "False" || text == "FALSE") {
    *out = false;
  } else {
    Error(key, "must be true or false, got " + Quote(text));
    return false;
  }
  return true;
}

bool YamlMap::Duration(std::string_view key, DurationMs* out, bool positive) {
  const YAML::Node* node = Get(key);
  std::string text;
  if (node == nullptr || !ScalarText(key, *node, "a duration like 15s, 5m or 1h30m", &text)) {
    return false;
  }
  Result<DurationMs> d = ParseDuration(text);
  if (!d.ok()) {
    Error(key, d.status().message());
    return false;
  }
  if (positive && *d <= 0) {
    Error(key, "must be > 0, got " + Quote(text));
    return false;
  }
  if (*d > kMaxSettingDuration) {
    Error(key, "must be at most " + FormatDuration(kMaxSettingDuration) + ", got " + Quote(text));
    return false;
  }
  *out = *d;
  return true;
}

bool YamlMap::Enum(std::string_view key, std::string* out, const std::vector<std::string>& allowed) {
  const YAML::Node* node = Get(key);
  std::string list;
  for (const std::string& a : allowed) list += (list.empty() ? "" : ", ") + a;
  std::string text;
  if (node == nullptr || !ScalarText(key, *node, "one of " + list, &text)) return false;
  for (const std::string& a : allowed) {
    if (text == a) {
      *out = a;
      return true;
    }
  }
  Error(key, "must be one of " + list + ", got " + Quote(text));
  return false;
}

std::vector<std::pair<std::string, YAML::Node>> YamlMap::TakeRest() {
  std::vector<std::pair<std::string, YAML::Node>> rest;
  for (const auto& [key, node] : entries_) {
    if (used_.insert(key).second) rest.emplace_back(key, node);
  }
  return rest;
}

void YamlMap::Finish() {
  for (const auto& [key, node] : entries_) {
    if (used_.count(key) == 0) Error(key, "unknown key");
  }
}

namespace {

// Why `key` (a mapping key of plugin parameters) cannot be flattened, or "". Flattening joins keys
// with '.' and indexes lists with [i], so a key holding them would pass for a nested setting.
// An empty key (a YAML node) is named with its line: nothing else in the file shows it.
std::string KeyProblem(const std::string& text, const YAML::Node* key) {
  if (text.empty()) {
    return key != nullptr ? "empty key (line " + std::to_string(key->Mark().line + 1) + ")" : "empty key";
  }
  if (text.find_first_of(".[]") != std::string::npos) {
    return "key " + Quote(text) + " must not contain '.', '[' or ']' (write nested settings as mappings)";
  }
  return "";
}

// What one plugin's parameters may expand to. YAML aliases share nodes, so ten lines can stand for
// billions of values: the budget counts every value and level as expanded, aliases included.
struct FlattenBudget {
  size_t nodes_left = kMaxPluginParamNodes;
  bool exceeded = false;
};

void FlattenInto(const YAML::Node& node, const std::string& key, int depth, Params* params,
                 std::vector<std::string>* errors, FlattenBudget* budget) {
  if (budget->exceeded) return;
  if (budget->nodes_left == 0 || depth > kMaxPluginParamDepth) {
    budget->exceeded = true;
    errors->push_back(JoinPath(params->path, key) + ": expands to more than " +
                      std::to_string(kMaxPluginParamNodes) + " values or " + std::to_string(kMaxPluginParamDepth) +
                      " levels (YAML aliases count as expanded): refused");
    return;
  }
  --budget->nodes_left;
  switch (node.Type()) {
    case YAML::NodeType::Map:
      for (const auto& kv : node) {
        if (!kv.first.IsScalar()) {
          errors->push_back(JoinPath(params->path, key) + ": keys must be plain strings, got " +
                            Describe(kv.first));
          continue;
        }
        if (std::string problem = KeyProblem(kv.first.Scalar(), &kv.first); !problem.empty()) {
          errors->push_back(JoinPath(params->path, key) + ": " + problem);
          continue;
        }
        FlattenInto(kv.second, JoinPath(key, kv.first.Scalar()), depth + 1, params, errors, budget);
      }
      return;
    case YAML::NodeType::Sequence: {
      size_t i = 0;
      for (const auto& item : node) FlattenInto(item, IndexPath(key, i++), depth + 1, params, errors, budget);
      return;
    }
    case YAML::NodeType::Scalar:
    case YAML::NodeType::Null:
      if (!params->values.emplace(key, node.IsNull() ? "" : node.Scalar()).second) {
        errors->push_back(JoinPath(params->path, key) + ": duplicate key");
      }
      return;
    case YAML::NodeType::Undefined: return;
  }
}

}  // namespace

namespace {

// Records where each document starts, and nothing else.
class DocumentStarts final : public YAML::EventHandler {
 public:
  std::vector<YAML::Mark> starts;
  void OnDocumentStart(const YAML::Mark& mark) override { starts.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

}  // namespace

std::vector<YAML::Node> LoadDocuments(const std::string& text, size_t limit, size_t* count) {
  // First count the documents, with a parser that is stopped when it stops advancing.
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentStarts seen;
  while (seen.starts.size() <= kMaxDocuments && parser.HandleNextDocument(seen)) {
    const size_t n = seen.starts.size();
    if (n >= 2 && seen.starts[n - 1].pos == seen.starts[n - 2].pos) {
      throw YAML::ParserException(seen.starts[n - 1], "cannot parse the document that starts here");
    }
  }
  *count = seen.starts.size();
  // Only a stream parsed to its end without a repeat is handed to LoadAll, which then ends too.
  if (*count > limit || *count > kMaxDocuments) return {};
  return YAML::LoadAll(text);
}

void Flatten(const YAML::Node& node, const std::string& key, Params* params,
             std::vector<std::string>* errors) {
  if (std::string problem = KeyProblem(key, nullptr); !problem.empty()) {
    errors->push_back((params->path.empty() ? "top level" : params->path) + ": " + problem);
    return;
  }
  FlattenBudget budget;
  FlattenInto(node, key, 0, params, errors, &budget);
}

}  // namespace config_internal
}  // namespace warmpool
