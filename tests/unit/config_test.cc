// Unit tests for the YAML config loader (controller/config.h): the structure that lands in Config,
// the defaults, plugin params flattening, and the exact "path: message" errors.
#include "config.h"

#include <doctest/doctest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace warmpool {
namespace {

namespace fs = std::filesystem;

// A pool as flow-style YAML fields, so a test can replace, add or (with kDrop) remove one.
using Fields = std::vector<std::pair<std::string, std::string>>;
constexpr char kDrop[] = "<drop>";

const Fields kPool = {
    {"name", "web"},
    {"metrics", "[{name: rps}]"},
    {"policies", "[{type: target_tracking, metric: rps, target_per_server: 100}]"},
    {"provider", "{type: simulated}"},
};

std::string PoolItem(const Fields& overrides) {
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
std::string OnePool(const Fields& overrides = {}, const std::string& top = "") {
  return top + "pools:\n" + PoolItem(overrides);
}

ConfigLoad Parse(const std::string& yaml) { return ParseConfig(yaml, "test.yaml"); }

std::string Joined(const std::vector<std::string>& errors) {
  std::string out = std::to_string(errors.size()) + " error(s):";
  for (const std::string& e : errors) out += "\n  " + e;
  return out;
}

bool HasError(const ConfigLoad& load, const std::string& error) {
  for (const std::string& e : load.errors) {
    if (e == error) return true;
  }
  return false;
}

bool HasErrorContaining(const ConfigLoad& load, const std::string& part) {
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

constexpr char kTrace[] = "timestamp,requests\n0,600\n60,1200\n120,900\n";

void CheckRules(const ScalingRules& got, const ScalingRules& want) {
  CHECK(got.stabilization_window == want.stabilization_window);
  CHECK(got.select == want.select);
  REQUIRE(got.limits.size() == want.limits.size());
  for (size_t i = 0; i < want.limits.size(); ++i) {
    CHECK(got.limits[i].kind == want.limits[i].kind);
    CHECK(got.limits[i].value == want.limits[i].value);
    CHECK(got.limits[i].period == want.limits[i].period);
  }
}

TEST_CASE("config: a full config lands in every field") {
  TempDir dir;
  dir.Write("trace.csv", kTrace);
  const std::string path = dir.Write("warmpool.yaml", R"(
global:
  interval: 30s
  log_format: json
  log_level: debug
metrics_source:
  type: trace
  file: trace.csv
  speed: 2
pools:
  - name: web
    min_active: 2
    max_active: 20
    warm_standby: 3
    max_total: 26
    stale_after: 90s
    dry_run: true
    metrics:
      - name: rps
        query: 'sum(rate(http_requests_total[1m]))'
        window: 10m
        step: 30s
      - name: cpu
    policies:
      - type: target_tracking
        name: rps-tracking
        metric: rps
        target_per_server: 100
        tolerance: {up: 0.05, down: 0.1}
      - type: target_tracking
        metric: cpu
        target_utilization: 0.6
    behavior:
      scale_up:
        stabilization_window: 0s
        select: min
        policies:
          - {type: servers, value: 2, period: 30s}
          - {type: percent, value: 50, period: 1m}
      scale_down:
        stabilization_window: 10m
        select: disabled
        policies: []
    provider:
      type: simulated
      capacity_per_server: 100
      promotion_delay: 5s
  - name: api
    policies: [{type: target_tracking, metric: rps, target_per_server: 10}]
    metrics: [{name: rps}]
    provider: {type: simulated}
)");
  ConfigLoad load = LoadConfigFile(path);
  REQUIRE_MESSAGE(load.ok(), Joined(load.errors));
  const Config& c = load.config;

  CHECK(c.global.interval == 30 * kSecond);
  CHECK(c.global.log_format == "json");
  CHECK(c.global.log_level == "debug");
  CHECK(c.global.metrics_source.type == "trace");
  CHECK(c.global.metrics_source.params.path == "metrics_source");
  CHECK(c.global.metrics_source.params.base_dir == dir.path().string());
  CHECK(c.global.metrics_source.params.values ==
        std::map<std::string, std::string>{{"file", "trace.csv"}, {"speed", "2"}});

  REQUIRE(c.pools.size() == 2);
  const PoolSpec& web = c.pools[0];
  CHECK(web.name == "web");
  CHECK(web.min_active == 2);
  CHECK(web.max_active == 20);
  CHECK(web.warm_standby == 3);
  CHECK(web.max_total == 26);
  CHECK(web.MaxTotal() == 26);
  CHECK(web.stale_after == 90 * kSecond);
  CHECK(web.dry_run);

  REQUIRE(web.metrics.size() == 2);
  CHECK(web.metrics[0].name == "rps");
  CHECK(web.metrics[0].query == "sum(rate(http_requests_total[1m]))");
  CHECK(web.metrics[0].window == 10 * kMinute);
  CHECK(web.metrics[0].step == 30 * kSecond);
  CHECK(web.metrics[1].name == "cpu");
  CHECK(web.metrics[1].query.empty());
  CHECK(web.metrics[1].window == 5 * kMinute);
  CHECK(web.metrics[1].step == 15 * kSecond);

  REQUIRE(web.policies.size() == 2);
  CHECK(web.policies[0].type == "target_tracking");
  CHECK(web.policies[0].name == "rps-tracking");
  CHECK(web.policies[0].params.path == "pools[0].policies[0]");
  CHECK(web.policies[0].params.base_dir == dir.path().string());
  CHECK(web.policies[0].params.values == std::map<std::string, std::string>{{"metric", "rps"},
                                                                            {"target_per_server", "100"},
                                                                            {"tolerance.up", "0.05"},
                                                                            {"tolerance.down", "0.1"}});
  CHECK(web.policies[1].name == "target_tracking");  // defaults to the type
  CHECK(web.policies[1].params.path == "pools[0].policies[1]");
  CHECK(web.policies[1].params.values.at("target_utilization") == "0.6");

  CheckRules(web.behavior.scale_up,
             {0,
              ScalingRules::Select::kMin,
              {{RateLimit::Kind::kServers, 2, 30 * kSecond}, {RateLimit::Kind::kPercent, 50, kMinute}}});
  CheckRules(web.behavior.scale_down, {10 * kMinute, ScalingRules::Select::kDisabled, {}});

  CHECK(web.provider.type == "simulated");
  CHECK(web.provider.name.empty());
  CHECK(web.provider.params.path == "pools[0].provider");
  CHECK(web.provider.params.values ==
        std::map<std::string, std::string>{{"capacity_per_server", "100"}, {"promotion_delay", "5s"}});

  CHECK(c.pools[1].name == "api");
  CHECK(c.pools[1].policies[0].params.path == "pools[1].policies[0]");
  CHECK(c.pools[1].provider.params.path == "pools[1].provider");
}

TEST_CASE("config: defaults when fields are absent") {
  ConfigLoad load = Parse(OnePool());
  REQUIRE_MESSAGE(load.ok(), Joined(load.errors));
  const Config& c = load.config;
  CHECK(c.global.interval == 15 * kSecond);
  CHECK(c.global.log_format == "text");
  CHECK(c.global.log_level == "info");
  CHECK(c.global.metrics_source.type.empty());
  REQUIRE(c.pools.size() == 1);
  const PoolSpec& p = c.pools[0];
  CHECK(p.min_active == 1);
  CHECK(p.max_active == 10);
  CHECK(p.warm_standby == 0);
  CHECK(p.max_total == 0);
  CHECK(p.MaxTotal() == 10);
  CHECK(p.stale_after == 2 * kMinute);
  CHECK_FALSE(p.dry_run);
  REQUIRE(p.metrics.size() == 1);
  CHECK(p.metrics[0].query.empty());
  CHECK(p.metrics[0].window == 5 * kMinute);
  CHECK(p.metrics[0].step == 15 * kSecond);
  CHECK(p.policies[0].name == "target_tracking");
  CHECK(p.policies[0].params.base_dir.empty());  // parsed from text, not a file
  const BehaviorSpec defaults = BehaviorSpec::Defaults();
  CheckRules(p.behavior.scale_up, defaults.scale_up);
  CheckRules(p.behavior.scale_down, defaults.scale_down);
}

TEST_CASE("config: behavior overrides only what it names") {
  const BehaviorSpec defaults = BehaviorSpec::Defaults();
  SUBCASE("a window alone keeps the default limits and the other direction") {
    ConfigLoad load = Parse(OnePool({{"behavior", "{scale_up: {stabilization_window: 30s}}"}}));
    REQUIRE_MESSAGE(load.ok(), Joined(load.errors));
    ScalingRules want_up = defaults.scale_up;
    want_up.stabilization_window = 30 * kSecond;
    CheckRules(load.config.pools[0].behavior.scale_up, want_up);
    CheckRules(load.config.pools[0].behavior.scale_down, defaults.scale_down);
  }
  SUBCASE("a list of limits replaces the default list") {
    ConfigLoad load =
        Parse(OnePool({{"behavior", "{scale_down: {policies: [{type: servers, value: 1, period: 1m}]}}"}}));
    REQUIRE_MESSAGE(load.ok(), Joined(load.errors));
    ScalingRules want_down = defaults.scale_down;
    want_down.limits = {{RateLimit::Kind::kServers, 1, kMinute}};
    CheckRules(load.config.pools[0].behavior.scale_down, want_down);
    CheckRules(load.config.pools[0].behavior.scale_up, defaults.scale_up);
  }
  SUBCASE("an empty list means no limit; period defaults to 15s") {
    ConfigLoad load = Parse(OnePool({{"behavior",
                                      "{scale_up: {policies: []}, scale_down: {policies: "
                                      "[{type: percent, value: 10}]}}"}}));
    REQUIRE_MESSAGE(load.ok(), Joined(load.errors));
    CHECK(load.config.pools[0].behavior.scale_up.limits.empty());
    CheckRules(load.config.pools[0].behavior.scale_down, {defaults.scale_down.stabilization_window,
                                                          ScalingRules::Select::kMax,
                                                          {{RateLimit::Kind::kPercent, 10, 15 * kSecond}}});
  }
  SUBCASE("null behavior and null directions are the defaults") {
    ConfigLoad load = Parse(OnePool({{"behavior", "{scale_up: , scale_down: }"}}));
    REQUIRE_MESSAGE(load.ok(), Joined(load.errors));
    CheckRules(load.config.pools[0].behavior.scale_up, defaults.scale_up);
    CheckRules(load.config.pools[0].behavior.scale_down, defaults.scale_down);
  }
}

TEST_CASE("config: durations") {
  struct Case {
    const char* text;
    DurationMs want;
  };
  const Case cases[] = {{"500ms", 500}, {"15s", 15 * kSecond},   {"1.5s", 1500},          {"5m", 5 * kMinute},
                        {"1h", kHour},  {"1h30m", 90 * kMinute}, {"2m30s", 150 * kSecond}};
  for (const Case& c : cases) {
    INFO("stale_after: ", std::string(c.text));
    ConfigLoad load = Parse(OnePool({{"stale_after", c.text}}));
    REQUIRE_MESSAGE(load.ok(), Joined(load.errors));
    CHECK(load.config.pools[0].stale_after == c.want);
  }
  ConfigLoad zero = Parse(OnePool({{"behavior", "{scale_down: {stabilization_window: 0}}"}}));
  REQUIRE_MESSAGE(zero.ok(), Joined(zero.errors));
  CHECK(zero.config.pools[0].behavior.scale_down.stabilization_window == 0);
}

TEST_CASE("config: scalar spellings that are accepted") {
  ConfigLoad load = Parse(OnePool({{"dry_run", "True"}, {"min_active", "'3'"}, {"max_active", "-0"}}));
  CHECK(load.config.pools[0].dry_run);
  CHECK(load.config.pools[0].min_active == 3);  // a quoted integer is still an integer
  CHECK(HasError(load, "pools[0].max_active: must be >= 1, got -0"));
}

TEST_CASE("config: plugin keys are flattened with their paths") {
  ConfigLoad load = Parse(OnePool({{"policies", R"([{type: target_tracking, metric: rps,
        target_per_server: 100, note: , quoted: "0.50",
        bands: [{above: 1, add: 2}, {above: 2.50}], matrix: [[1, 2], [3]], empty: {}}])"}}));
  const Params& params = load.config.pools[0].policies[0].params;
  CHECK(params.path == "pools[0].policies[0]");
  CHECK(params.values == std::map<std::string, std::string>{{"metric", "rps"},
                                                            {"target_per_server", "100"},
                                                            {"note", ""},
                                                            {"quoted", "0.50"},
                                                            {"bands[0].above", "1"},
                                                            {"bands[0].add", "2"},
                                                            {"bands[1].above", "2.50"},
                                                            {"matrix[0][0]", "1"},
                                                            {"matrix[0][1]", "2"},
                                                            {"matrix[1][0]", "3"}});
  // target_tracking knows none of these: each is reported by its factory with its full path.
  CHECK_MESSAGE(HasError(load, "pools[0].policies[0].bands[0].above: unknown key"), Joined(load.errors));
  CHECK_MESSAGE(HasError(load, "pools[0].policies[0].matrix[1][0]: unknown key"), Joined(load.errors));
  CHECK_MESSAGE(HasError(load, "pools[0].policies[0].note: unknown key"), Joined(load.errors));

  ConfigLoad clash = Parse(OnePool({{"provider", "{type: simulated, a: {b: 1}, a.b: 2}"}}));
  CHECK_MESSAGE(HasError(clash, "pools[0].provider.a.b: duplicate key"), Joined(clash.errors));
}

struct ErrorCase {
  const char* name;
  std::string yaml;
  std::string error;  // the exact error expected among the errors
  bool exact = true;  // false: `error` is a substring of one of them
};

void CheckErrorCases(const std::vector<ErrorCase>& cases) {
  for (const ErrorCase& c : cases) {
    INFO(std::string(c.name));
    INFO(c.yaml);
    ConfigLoad load = Parse(c.yaml);
    CHECK_FALSE(load.ok());
    CHECK_MESSAGE((c.exact ? HasError(load, c.error) : HasErrorContaining(load, c.error)), "want \"", c.error,
                  "\", got ", Joined(load.errors));
  }
}

TEST_CASE("config: top-level and global errors") {
  CheckErrorCases({
      {"pools missing", "global: {interval: 15s}\n", "pools: required"},
      {"pools null", "pools:\n", "pools: required"},
      {"pools empty", "pools: []\n", "pools: must not be empty"},
      {"pools a mapping", "pools: {web: 1}\n", "pools: must be a sequence, got a mapping"},
      {"pool a scalar", "pools: [web]\n", "pools[0]: must be a mapping, got \"web\""},
      {"unknown top key", OnePool({}, "pool_defaults: {}\n"), "pool_defaults: unknown key"},
      {"non-string key", OnePool({}, "? [a]\n: 1\n"),
       "top level: keys must be plain strings, got a sequence"},
      {"global not a mapping", OnePool({}, "global: [1]\n"), "global: must be a mapping, got a sequence"},
      {"unknown global key", OnePool({}, "global: {intervl: 15s}\n"), "global.intervl: unknown key"},
      {"interval without unit", OnePool({}, "global: {interval: 15}\n"),
       "global.interval: must be a duration like 15s, 5m or 1h30m (missing unit), got \"15\""},
      {"interval zero", OnePool({}, "global: {interval: 0s}\n"), "global.interval: must be > 0, got \"0s\""},
      {"interval a mapping", OnePool({}, "global: {interval: {s: 1}}\n"),
       "global.interval: must be a duration like 15s, 5m or 1h30m, got a mapping"},
      {"log format", OnePool({}, "global: {log_format: xml}\n"),
       "global.log_format: must be one of text, json, got \"xml\""},
      {"log level", OnePool({}, "global: {log_level: verbose}\n"),
       "global.log_level: must be one of trace, debug, info, warn, error, got \"verbose\""},
      {"metrics source without type", OnePool({}, "metrics_source: {file: x.csv}\n"),
       "metrics_source.type: required"},
      {"metrics source null", OnePool({}, "metrics_source:\n"), "metrics_source.type: required"},
      {"metrics source unknown type", OnePool({}, "metrics_source: {type: graphite}\n"),
       "metrics_source.type: unknown metrics source type \"graphite\"", false},
      {"metrics source own param", OnePool({}, "metrics_source: {type: trace}\n"),
       "metrics_source.file: required", false},
  });
}

TEST_CASE("config: pool field errors") {
  CheckErrorCases({
      {"name missing", OnePool({{"name", kDrop}}), "pools[0].name: required"},
      {"name empty", OnePool({{"name", "''"}}), "pools[0].name: must not be empty"},
      {"name charset", OnePool({{"name", "'we b'"}}),
       "pools[0].name: must match [A-Za-z0-9_.-]+, got \"we b\""},
      {"name a sequence", OnePool({{"name", "[web]"}}), "pools[0].name: must be a string, got a sequence"},
      {"unknown pool key", OnePool({{"min_actve", "2"}}), "pools[0].min_actve: unknown key"},
      {"int word", OnePool({{"min_active", "two"}}), "pools[0].min_active: must be an integer, got \"two\""},
      {"int fraction", OnePool({{"warm_standby", "1.5"}}),
       "pools[0].warm_standby: must be an integer, got \"1.5\""},
      {"int null", OnePool({{"min_active", ""}}), "pools[0].min_active: must be an integer, got null"},
      {"int sequence", OnePool({{"max_total", "[1]"}}),
       "pools[0].max_total: must be an integer, got a sequence"},
      {"int overflow", OnePool({{"max_active", "99999999999"}}),
       "pools[0].max_active: is out of range, got \"99999999999\""},
      {"min negative", OnePool({{"min_active", "-1"}}), "pools[0].min_active: must be >= 0, got -1"},
      {"max zero", OnePool({{"min_active", "0"}, {"max_active", "0"}}),
       "pools[0].max_active: must be >= 1, got 0"},
      {"max below min", OnePool({{"min_active", "2"}, {"max_active", "1"}}),
       "pools[0].max_active: must be >= min_active (2), got 1"},
      {"max below default min", OnePool({{"min_active", "12"}}),
       "pools[0].max_active: must be >= min_active (12), got 10"},
      {"standby negative", OnePool({{"warm_standby", "-2"}}), "pools[0].warm_standby: must be >= 0, got -2"},
      {"max_total below max_active", OnePool({{"max_active", "20"}, {"max_total", "5"}}),
       "pools[0].max_total: must be 0 or >= max_active (20), got 5"},
      {"stale_after unit", OnePool({{"stale_after", "2"}}),
       "pools[0].stale_after: must be a duration like 15s, 5m or 1h30m (missing unit), got \"2\""},
      {"stale_after bad unit", OnePool({{"stale_after", "2w"}}),
       "pools[0].stale_after: must be a duration like 15s, 5m or 1h30m (unknown unit), got \"2w\""},
      {"stale_after zero", OnePool({{"stale_after", "0s"}}), "pools[0].stale_after: must be > 0, got \"0s\""},
      {"dry_run yes", OnePool({{"dry_run", "yes"}}), "pools[0].dry_run: must be true or false, got \"yes\""},
  });
}

TEST_CASE("config: metrics, policies and provider errors") {
  CheckErrorCases({
      {"metrics a mapping", OnePool({{"metrics", "{rps: x}"}}),
       "pools[0].metrics: must be a sequence, got a mapping"},
      {"metric item a scalar", OnePool({{"metrics", "[rps]"}}),
       "pools[0].metrics[0]: must be a mapping, got \"rps\""},
      {"metric name missing", OnePool({{"metrics", "[{name: rps}, {query: up}]"}}),
       "pools[0].metrics[1].name: required"},
      {"metric name duplicate", OnePool({{"metrics", "[{name: rps}, {name: rps}]"}}),
       "pools[0].metrics[1].name: duplicate metric name \"rps\" (also pools[0].metrics[0])"},
      {"metric unknown key", OnePool({{"metrics", "[{name: rps, querry: up}]"}}),
       "pools[0].metrics[0].querry: unknown key"},
      {"metric window zero", OnePool({{"metrics", "[{name: rps, window: 0s}]"}}),
       "pools[0].metrics[0].window: must be > 0, got \"0s\""},
      {"metric step unit", OnePool({{"metrics", "[{name: rps, step: 10}]"}}),
       "pools[0].metrics[0].step: must be a duration like 15s, 5m or 1h30m (missing unit), got "
       "\"10\""},
      {"metric query a mapping", OnePool({{"metrics", "[{name: rps, query: {a: 1}}]"}}),
       "pools[0].metrics[0].query: must be a string, got a mapping"},
      {"policies missing", OnePool({{"policies", kDrop}}), "pools[0].policies: required"},
      {"policies empty", OnePool({{"policies", "[]"}}), "pools[0].policies: must not be empty"},
      {"policies a mapping", OnePool({{"policies", "{type: target_tracking}"}}),
       "pools[0].policies: must be a sequence, got a mapping"},
      {"policy type missing", OnePool({{"policies", "[{metric: rps, target_per_server: 1}]"}}),
       "pools[0].policies[0].type: required"},
      {"policy type unknown", OnePool({{"policies", "[{type: magic}]"}}),
       "pools[0].policies[0].type: unknown policy type \"magic\"", false},
      {"policy name empty",
       OnePool({{"policies", "[{type: target_tracking, name: '', metric: rps, target_per_server: 1}]"}}),
       "pools[0].policies[0].name: must not be empty"},
      {"policy names clash",
       OnePool({{"policies",
                 "[{type: target_tracking, metric: rps, target_per_server: 1},"
                 " {type: target_tracking, metric: rps, target_utilization: 0.5}]"}}),
       "pools[0].policies[1].name: duplicate policy name \"target_tracking\" (also "
       "pools[0].policies[0])"},
      {"policy own unknown key",
       OnePool({{"policies", "[{type: target_tracking, metric: rps, targt: 100}]"}}),
       "pools[0].policies[0].targt: unknown key"},
      {"policy own bad value",
       OnePool({{"policies", "[{type: target_tracking, metric: rps, target_per_server: lots}]"}}),
       "pools[0].policies[0].target_per_server: must be a number, got \"lots\""},
      {"policy undeclared metric",
       OnePool({{"policies", "[{type: target_tracking, metric: rpx, target_per_server: 100}]"}}),
       "pools[0].policies[0].metric: no metric named \"rpx\" in pools[0].metrics"},
      {"policy metric with no metrics at all", OnePool({{"metrics", kDrop}}),
       "pools[0].policies[0].metric: no metric named \"rps\" in pools[0].metrics"},
      {"provider missing", OnePool({{"provider", kDrop}}), "pools[0].provider: required"},
      {"provider a scalar", OnePool({{"provider", "simulated"}}),
       "pools[0].provider: must be a mapping, got \"simulated\""},
      {"provider type missing", OnePool({{"provider", "{capacity_per_server: 100}"}}),
       "pools[0].provider.type: required"},
      {"provider type unknown", OnePool({{"provider", "{type: cloud}"}}),
       "pools[0].provider.type: unknown provider type \"cloud\"", false},
      {"provider own unknown key", OnePool({{"provider", "{type: simulated, capcity: 1}"}}),
       "pools[0].provider.capcity: unknown key"},
  });
}

TEST_CASE("config: behavior errors") {
  const std::string up = "pools[0].behavior.scale_up";
  const std::string down = "pools[0].behavior.scale_down";
  CheckErrorCases({
      {"behavior a sequence", OnePool({{"behavior", "[]"}}),
       "pools[0].behavior: must be a mapping, got a sequence"},
      {"unknown direction", OnePool({{"behavior", "{scale_upp: {}}"}}),
       "pools[0].behavior.scale_upp: unknown key"},
      {"unknown rules key", OnePool({{"behavior", "{scale_up: {window: 0s}}"}}), up + ".window: unknown key"},
      {"select", OnePool({{"behavior", "{scale_up: {select: maximum}}"}}),
       up + ".select: must be one of max, min, disabled, got \"maximum\""},
      {"window unit", OnePool({{"behavior", "{scale_down: {stabilization_window: 300}}"}}),
       down + ".stabilization_window: must be a duration like 15s, 5m or 1h30m (missing unit), got "
              "\"300\""},
      {"limits null", OnePool({{"behavior", "{scale_up: {policies: }}"}}),
       up + ".policies: must be a sequence (use [] for no limit), got null"},
      {"limits a mapping", OnePool({{"behavior", "{scale_up: {policies: {type: servers}}}"}}),
       up + ".policies: must be a sequence (use [] for no limit), got a mapping"},
      {"limit a scalar", OnePool({{"behavior", "{scale_up: {policies: [servers]}}"}}),
       up + ".policies[0]: must be a mapping, got \"servers\""},
      {"limit type missing", OnePool({{"behavior", "{scale_up: {policies: [{value: 1}]}}"}}),
       up + ".policies[0].type: required"},
      {"limit type", OnePool({{"behavior", "{scale_up: {policies: [{type: pods, value: 1}]}}"}}),
       up + ".policies[0].type: must be one of servers, percent, got \"pods\""},
      {"limit value missing", OnePool({{"behavior", "{scale_up: {policies: [{type: servers}]}}"}}),
       up + ".policies[0].value: required"},
      {"limit value word", OnePool({{"behavior", "{scale_up: {policies: [{type: percent, value: all}]}}"}}),
       up + ".policies[0].value: must be a number, got \"all\""},
      {"limit value zero", OnePool({{"behavior", "{scale_up: {policies: [{type: percent, value: 0}]}}"}}),
       up + ".policies[0].value: must be > 0, got 0"},
      {"limit servers fraction",
       OnePool({{"behavior", "{scale_up: {policies: [{type: servers, value: 1.5}]}}"}}),
       up + ".policies[0].value: must be a whole number of servers, got 1.5"},
      {"limit period zero",
       OnePool({{"behavior",
                 "{scale_down: {policies: [{type: servers, value: 1}, "
                 "{type: servers, value: 1, period: 0s}]}}"}}),
       down + ".policies[1].period: must be > 0, got \"0s\""},
      {"limit unknown key",
       OnePool({{"behavior", "{scale_up: {policies: [{type: servers, value: 1, perod: 15s}]}}"}}),
       up + ".policies[0].perod: unknown key"},
  });
}

TEST_CASE("config: duplicate pool names and duplicate keys") {
  ConfigLoad load = Parse("pools:\n" + PoolItem({}) + PoolItem({{"name", "api"}}) + PoolItem({}));
  CHECK_MESSAGE(HasError(load, "pools[2].name: duplicate pool name \"web\" (also pools[0])"),
                Joined(load.errors));
  CHECK(load.errors.size() == 1);

  ConfigLoad dup = Parse(OnePool({{"min_active", "1\n    min_active: 2"}}));
  CHECK_MESSAGE(HasError(dup, "pools[0].min_active: duplicate key (line 7)"), Joined(dup.errors));
}

TEST_CASE("config: every error is reported, not just the first") {
  ConfigLoad load = Parse("global: {interval: 15, colour: blue}\npools:\n" +
                          PoolItem({{"min_active", "two"}, {"provider", "{type: simulated, capcity: 1}"}}) +
                          PoolItem({{"max_active", "0"}, {"policies", kDrop}}));
  const std::vector<std::string> want = {
      "global.interval: must be a duration like 15s, 5m or 1h30m (missing unit), got \"15\"",
      "global.colour: unknown key",
      "pools[0].min_active: must be an integer, got \"two\"",
      "pools[0].provider.capcity: unknown key",
      "pools[1].max_active: must be >= 1, got 0",
      "pools[1].policies: required",
      "pools[1].name: duplicate pool name \"web\" (also pools[0])",
  };
  for (const std::string& w : want) CHECK_MESSAGE(HasError(load, w), w, "\n", Joined(load.errors));
  CHECK_MESSAGE(load.errors.size() == want.size(), Joined(load.errors));
}

TEST_CASE("config: the document as a whole") {
  CheckErrorCases({
      {"empty", "", "test.yaml: empty config"},
      {"only comments", "# nothing yet\n", "test.yaml: empty config"},
      {"explicit empty document", "---\n", "test.yaml: empty config"},
      {"two documents", OnePool() + "---\n" + OnePool(), "test.yaml: expected one YAML document, got 2"},
      {"a sequence", "- web\n", "test.yaml: must be a mapping at the top level, got a sequence"},
      {"a scalar", "web\n", "test.yaml: must be a mapping at the top level, got \"web\""},
      {"bad indentation", "global:\n  interval: 15s\n bad: 1\n", "test.yaml:3:2: end of map not found"},
      {"unclosed flow", "pools: [\n", "test.yaml:2:1: end of sequence flow not found"},
      {"undefined alias", "pools: *pools\n", "test.yaml:1:8: the referenced anchor is not defined"},
  });
  ConfigLoad load = ParseConfig("a: 1\n b: 2\n");  // the default source name
  CHECK(load.errors == std::vector<std::string>{"config:2:3: illegal map value"});
}

TEST_CASE("config: LoadConfigFile") {
  TempDir dir;
  SUBCASE("a missing file") {
    const std::string path = (dir.path() / "missing.yaml").string();
    ConfigLoad load = LoadConfigFile(path);
    CHECK(load.errors == std::vector<std::string>{path + ": cannot read: No such file or directory"});
  }
  SUBCASE("a directory") {
    ConfigLoad load = LoadConfigFile(dir.path().string());
    CHECK(load.errors == std::vector<std::string>{dir.path().string() + ": cannot read: Is a directory"});
  }
  SUBCASE("syntax errors name the file") {
    const std::string path = dir.Write("bad.yaml", "pools:\n  - name: web\n   min_active: 1\n");
    ConfigLoad load = LoadConfigFile(path);
    REQUIRE(load.errors.size() == 1);
    CHECK(load.errors[0].rfind(path + ":3:4: ", 0) == 0);
  }
  SUBCASE("relative plugin files resolve against the config's directory") {
    fs::create_directory(dir.path() / "traces");
    dir.Write("traces/web.csv", kTrace);
    const std::string path =
        dir.Write("ok.yaml", OnePool({}, "metrics_source: {type: trace, file: traces/web.csv}\n"));
    ConfigLoad load = LoadConfigFile(path);
    CHECK_MESSAGE(load.ok(), Joined(load.errors));
    CHECK(load.config.global.metrics_source.params.base_dir == dir.path().string());
    ConfigLoad missing = LoadConfigFile(
        dir.Write("missing.yaml", OnePool({}, "metrics_source: {type: trace, file: nope.csv}\n")));
    CHECK_MESSAGE(HasErrorContaining(missing, "metrics_source.file: "), Joined(missing.errors));
  }
}

}  // namespace
}  // namespace warmpool
