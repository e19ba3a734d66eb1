// Helpers shared by the config loader's tests (config_test.cc, config_errors_test.cc).
#ifndef WARMPOOL_TESTS_SUPPORT_CONFIG_TEST_UTIL_H_
#define WARMPOOL_TESTS_SUPPORT_CONFIG_TEST_UTIL_H_

#include <doctest/doctest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "controller/config/config.h"

namespace warmpool::config_test {

namespace fs = std::filesystem;

// A pool as flow-style YAML fields, so a test can replace, add or (with kDrop) remove one.
using Fields = std::vector<std::pair<std::string, std::string>>;
inline constexpr char kDrop[] = "<drop>";

inline const Fields kPool = {
    {"name", "web"},
    {"metrics", "[{name: rps}]"},
    {"policies", "[{type: target_tracking, metric: rps, target_per_server: 100}]"},
    {"provider", "{type: simulated}"},
};

inline std::string PoolItem(const Fields& overrides) {
  Fields fields = kPool;
  for (const auto& [key, value] : overrides) {
    bool replaced = false;
    for (auto& field : fields) {
      if (field.first == key) {
        field.second = value;
        replaced = true;
      }
    }
    if (!replaced) fields.emplace_back(key, value);
  }
  std::string out;
  for (const auto& [key, value] : fields) {
    if (value == kDrop) continue;
    out += (out.empty() ? "  - " : "    ") + key + ": " + value + "\n";
  }
  return out;
}

// `top` goes before `pools:`, e.g. "global: {interval: 5s}\n".
inline std::string OnePool(const Fields& overrides = {}, const std::string& top = "") {
  return top + "pools:\n" + PoolItem(overrides);
}

inline ConfigLoad Parse(const std::string& yaml) { return ParseConfig(yaml, "test.yaml"); }

inline std::string Joined(const std::vector<std::string>& errors) {
  std::string out = std::to_string(errors.size()) + " error(s):";
  for (const std::string& e : errors) out += "\n  " + e;
  return out;
}

inline bool HasError(const ConfigLoad& load, const std::string& error) {
  for (const std::string& e : load.errors) {
    if (e == error) return true;
  }
  return false;
}

inline bool HasErrorContaining(const ConfigLoad& load, const std::string& part) {
  for (const std::string& e : load.errors) {
    if (e.find(part) != std::string::npos) return true;
  }
  return false;
}

// A temporary directory removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "warmpool-config-test-XXXXXX").string();
    path_ = mkdtemp(tmpl.data()) ? fs::path(tmpl) : fs::path();
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  std::string Write(const std::string& name, const std::string& text) const {
    fs::path file = path_ / name;
    std::ofstream(file) << text;
    return file.string();
  }

 private:
  fs::path path_;
};

inline constexpr char kTrace[] = "timestamp,requests\n0,600\n60,1200\n120,900\n";

inline void CheckRules(const ScalingRules& got, const ScalingRules& want) {
  CHECK(got.stabilization_window == want.stabilization_window);
  CHECK(got.select == want.select);
  REQUIRE(got.limits.size() == want.limits.size());
  for (size_t i = 0; i < want.limits.size(); ++i) {
    CHECK(got.limits[i].kind == want.limits[i].kind);
    CHECK(got.limits[i].value == want.limits[i].value);
    CHECK(got.limits[i].period == want.limits[i].period);
  }
}

struct ErrorCase {
  const char* name;
  std::string yaml;
  std::string error;  // the exact error expected among the errors
  bool exact = true;  // false: `error` is a substring of one of them
};

inline void CheckErrorCases(const std::vector<ErrorCase>& cases) {
  for (const ErrorCase& c : cases) {
    INFO(std::string(c.name));
    INFO(c.yaml);
    ConfigLoad load = Parse(c.yaml);
    CHECK_FALSE(load.ok());
    CHECK_MESSAGE((c.exact ? HasError(load, c.error) : HasErrorContaining(load, c.error)), "want \"", c.error,
                  "\", got ", Joined(load.errors));
  }
}

}  // namespace warmpool::config_test

#endif  // WARMPOOL_TESTS_SUPPORT_CONFIG_TEST_UTIL_H_
