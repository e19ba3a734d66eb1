// Unit tests for the YAML config loader's errors: every problem reported as "path: message".
#include <doctest/doctest.h>

#include <chrono>

#include "tests/support/config_test_util.h"

namespace warmpool {
namespace {
using namespace config_test;
namespace fs = std::filesystem;
}  // namespace

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
      {"interval too short", OnePool({}, "global: {interval: 50ms}\n"),
       "global.interval: must be at least 100ms, got \"50ms\""},
      {"interval past a year", OnePool({}, "global: {interval: 367d}\n"),
       "global.interval: must be at most 8784h, got \"367d\""},
      {"a plugin duration past a year", OnePool({{"provider", "{type: simulated, provisioning_delay: 1000000000000000ms}"}}),
       "pools[0].provider.provisioning_delay: must be at most 8784h, got \"1000000000000000ms\""},
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
      {"standby a word", OnePool({{"warm_standby", "autp"}}),
       "pools[0].warm_standby: must be a count >= 0, auto, or {auto: {min: 0, max: 10, ...}}, got \"autp\""},
      {"standby mapping without auto", OnePool({{"warm_standby", "{min: 1}"}}),
       "pools[0].warm_standby.auto: required: warm_standby is a count, auto, or {auto: {min: 0, max: 10, "
       "...}}"},
      {"standby auto a scalar", OnePool({{"warm_standby", "{auto: yes}"}}),
       "pools[0].warm_standby.auto: must be a mapping of settings (min, max, horizon, quantile, ...), got "
       "\"yes\""},
      {"standby auto bad setting", OnePool({{"warm_standby", "{auto: {max: -1}}"}}),
       "pools[0].warm_standby.auto.max: must be between 0 and 100000, got -1"},
      {"standby auto unknown setting", OnePool({{"warm_standby", "{auto: {quantle: 0.9}}"}}),
       "pools[0].warm_standby.auto.quantle: unknown key"},
      {"standby auto unknown metric", OnePool({{"warm_standby", "{auto: {metric: cpu}}"}}),
       "pools[0].warm_standby.auto.metric: no metric named \"cpu\" in pools[0].metrics"},
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
      // yaml-cpp 0.7's LoadAll repeats a document that starts with ',' forever (found by tests/fuzz/).
      {"a leading comma", ",xQ :*x\n", "test.yaml:1:1: cannot parse the document that starts here"},
      {"a comma after a tag", "--- !t ,x\n", "test.yaml:1:8: cannot parse the document that starts here"},
      {"a comma in a second document", OnePool() + "---\n,x\n", "cannot parse the document that starts here", false},
      {"seventeen documents", [] {
         std::string s;
         for (int i = 0; i < 17; ++i) s += "---\na: 1\n";
         return s;
       }(), "test.yaml: expected one YAML document, got more than 16"},
  });
  ConfigLoad load = ParseConfig("a: 1\n b: 2\n");  // the default source name
  CHECK(load.errors == std::vector<std::string>{"config:2:3: illegal map value"});
}

TEST_CASE("config: a YAML alias bomb in plugin parameters is refused at once, naming its path") {
  // Nine levels of ten aliases: 10^9 values once expanded, a few hundred bytes written.
  std::string bomb = "    a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  for (char c = 'b'; c <= 'i'; ++c) {
    const std::string prev(1, static_cast<char>(c - 1));
    bomb += std::string("    ") + c + ": &" + c + " [";
    for (int i = 0; i < 10; ++i) bomb += (i ? ", *" : "*") + prev;
    bomb += "]\n";
  }
  const std::string yaml = "pools:\n  - name: web\n    min_active: 1\n    max_active: 4\n"
                           "    metrics: [{name: rps}]\n"
                           "    policies: [{type: target_tracking, metric: rps, target_per_server: 10}]\n"
                           "    provider:\n      type: simulated\n      lol:\n" +
                           [&] {
                             std::string indented;
                             for (size_t at = 0; at < bomb.size();) {
                               const size_t nl = bomb.find('\n', at);
                               indented += "    " + bomb.substr(at, nl - at + 1);
                               at = nl + 1;
                             }
                             return indented;
                           }();
  const auto start = std::chrono::steady_clock::now();
  ConfigLoad load = Parse(yaml);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
  bool named = false;
  for (const std::string& e : load.errors) {
    named = named || (e.rfind("pools[0].provider.lol.", 0) == 0 &&
                      e.find("expands to more than 10000 values or 32 levels") != std::string::npos);
  }
  CHECK_MESSAGE(named, load.errors.size() << " errors, the first: " << (load.errors.empty() ? "" : load.errors[0]));
  CHECK(load.errors.size() < 20);
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
    CHECK(load.errors == std::vector<std::string>{dir.path().string() + ": not a regular file (a directory)"});
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

}  // namespace warmpool
