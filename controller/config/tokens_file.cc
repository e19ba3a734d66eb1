#include "controller/config/tokens_file.h"

#include <yaml-cpp/yaml.h>

#include <set>
#include <string>
#include <vector>

#include "controller/files/read_file.h"

namespace warmpool {
namespace {

constexpr size_t kMaxTokensFileBytes = size_t{1} << 20;

// "cannot read \"PATH\": <why>", as the tokens file's errors have always said it.
Result<std::string> ReadFile(const std::string& path) {
  Result<std::string> text = ReadWholeFile(path, kMaxTokensFileBytes);
  if (!text.ok()) {
    std::string why = text.status().message();
    if (why.rfind(path + ": ", 0) == 0) why = why.substr(path.size() + 2);
    if (why.rfind("cannot read: ", 0) == 0) why = why.substr(13);
    return Status::InvalidArgument("cannot read \"" + path + "\": " + why);
  }
  return text;
}

std::string Directory(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash + 1);
}

std::string TrimTrailingSpace(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '\t')) {
    s.pop_back();
  }
  return s;
}

// Printable ASCII without spaces: what can travel in an Authorization header unchanged.
bool TokenCharsOk(std::string_view token) {
  for (char c : token) {
    if (c <= ' ' || c > '~') return false;
  }
  return true;
}

struct RawEntry {
  std::string name, role, token;
};

// Reads entry `i`; appends "tokens[i] (name): ..." errors.
RawEntry ReadEntry(const YAML::Node& node, size_t i, const std::string& dir,
                   std::vector<std::string>* errors) {
  RawEntry e;
  std::string where = "tokens[" + std::to_string(i) + "]";
  if (!node.IsMap()) {
    errors->push_back(where + ": must be a mapping with name, role and token (or token_file)");
    return e;
  }
  if (node["name"] && node["name"].IsScalar()) e.name = node["name"].Scalar();
  if (!e.name.empty()) where += " (" + e.name + ")";
  auto error = [&](const std::string& msg) { errors->push_back(where + ": " + msg); };
  std::string token_file;
  bool has_token = false;
  for (const auto& kv : node) {
    const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "?";
    if (key != "name" && key != "role" && key != "token" && key != "token_file") {
      error("unknown key \"" + key + "\" (allowed: name, role, token, token_file)");
    } else if (!kv.second.IsScalar()) {
      error(key + " must be a string");
    } else if (key == "role") {
      e.role = kv.second.Scalar();
    } else if (key == "token") {
      e.token = kv.second.Scalar();
      has_token = true;
    } else if (key == "token_file") {
      token_file = kv.second.Scalar();
    }
  }
  if (e.name.empty()) error("name is required");
  if (e.role != "read" && e.role != "admin") {
    error(e.role.empty() ? "role is required (read or admin)"
                         : "role must be read or admin, got \"" + e.role + "\"");
  }
  if (has_token && !token_file.empty()) {
    error("set token or token_file, not both");
  } else if (!token_file.empty()) {
    const std::string path = token_file[0] == '/' ? token_file : dir + token_file;
    Result<std::string> text = ReadFile(path);
    if (!text.ok()) {
      error("token_file: " + text.status().message());
      return e;
    }
    e.token = TrimTrailingSpace(*text);
    if (e.token.empty()) error("token_file \"" + path + "\" is empty");
  } else if (!has_token) {
    error("token or token_file is required");
  }
  if (!e.token.empty() && !TokenCharsOk(e.token)) {
    error("the token must be printable ASCII without spaces");
  } else if (!e.token.empty() && e.token.size() < ApiTokens::kMinTokenLength) {
    error("the token is too short (" + std::to_string(e.token.size()) + " characters; at least " +
          std::to_string(ApiTokens::kMinTokenLength) + ")");
  }
  return e;
}

}  // namespace

Result<ApiTokens> LoadApiTokens(const std::string& path) {
  Result<std::string> text = ReadFile(path);
  if (!text.ok()) return Status::InvalidArgument("api tokens: " + text.status().message());
  return ParseApiTokens(*text, path);
}

Result<ApiTokens> ParseApiTokens(const std::string& text, const std::string& path) {
  std::vector<std::string> errors;
  std::vector<RawEntry> raw;
  try {
    YAML::Node root = YAML::Load(text);
    if (!root.IsMap() || !root["tokens"]) {
      errors.push_back("must be a mapping with a tokens sequence");
    } else {
      for (const auto& kv : root) {
        if (!kv.first.IsScalar() || kv.first.Scalar() != "tokens") {
          errors.push_back("unknown key \"" + (kv.first.IsScalar() ? kv.first.Scalar() : "?") +
                           "\" (allowed: tokens)");
        }
      }
      const YAML::Node list = root["tokens"];
      if (!list.IsSequence()) {
        errors.push_back("tokens must be a sequence");
      } else {
        for (size_t i = 0; i < list.size(); ++i)
          raw.push_back(ReadEntry(list[i], i, Directory(path), &errors));
      }
    }
  } catch (const YAML::Exception& e) {
    errors.push_back("line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  ApiTokens out;
  std::set<std::string> names;
  for (size_t i = 0; i < raw.size(); ++i) {
    const RawEntry& r = raw[i];
    if (r.name.empty() || r.token.empty()) continue;  // already reported
    const std::string where = "tokens[" + std::to_string(i) + "] (" + r.name + ")";
    if (!names.insert(r.name).second) errors.push_back(where + ": duplicate name");
    for (size_t j = 0; j < i; ++j) {
      if (raw[j].token == r.token)
        errors.push_back(where + ": same token as tokens[" + std::to_string(j) + "]");
    }
    out.Add({r.name, r.role == "admin" ? ApiRole::kAdmin : ApiRole::kRead}, r.token);
  }
  if (errors.empty() && !out.configured()) errors.push_back("tokens is empty");
  if (!errors.empty()) {
    std::string msg = "api tokens \"" + path + "\": ";
    for (size_t i = 0; i < errors.size(); ++i) msg += (i ? "; " : "") + errors[i];
    return Status::InvalidArgument(msg);
  }
  return out;
}

}  // namespace warmpool
