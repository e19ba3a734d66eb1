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
       "pools[0].warm_standby: must be a count >= 0, auto, {auto: {min: 0, max: 10, ...}}, or {running: "
       "N|auto, stopped: M|auto}, got \"autp\""},
      {"standby mapping without auto", OnePool({{"warm_standby", "{min: 1}"}}),
       "pools[0].warm_standby.auto: required: warm_standby is a count >= 0, auto, {auto: {min: 0, max: 10, "
       "...}}, or {running: N|auto, stopped: M|auto}"},
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

// Issue 18, finding 6: every config error names the right path.

TEST_CASE("config: an unknown key inside plugin parameters is named itself, not its parent") {
  const std::string haproxy = "type: haproxy, socket: /run/h.sock, backend: web";
  CheckErrorCases({
      {"a scalar", OnePool({{"provider", "{type: simulated, colour: red}"}}), "pools[0].provider.colour: unknown key"},
      {"an unknown block", OnePool({{"provider", "{type: simulated, colour: {shade: red}}"}}),
       "pools[0].provider.colour: unknown key"},
      {"a block inside a known block",
       OnePool({{"provider", "{" + haproxy + ", exec: {provision: p, retire: r, colour: {a: 1, b: 2}}}"}}),
       "pools[0].provider.exec.colour: unknown key"},
      {"inside a list's item",
       OnePool({{"provider", "{" + haproxy + ", servers: [{name: a, address: '10.0.0.1:80'}, "
                                             "{name: b, address: '10.0.0.2:80', colour: x}]}"}}),
       "pools[0].provider.servers[1].colour: unknown key"},
      {"in a fallback", OnePool({{"metrics", "[{name: rps, fallback: {type: haproxy, socket: /s, proxy: p, colour: {a: 1}}}]"}}),
       "pools[0].metrics[0].fallback.colour: unknown key"},
      {"in overload.haproxy",
       OnePool({{"overload", "{capacity: 40, haproxy: {colour: red}}"}, {"provider", "{" + haproxy + "}"}}),
       "pools[0].overload.haproxy.colour: unknown key"},
      // A key holding '.' would pass for a nested setting ("a" of a.b): refused as the key it is.
      {"a dotted key", OnePool({{"provider", "{type: simulated, 'colour.x': 1}"}}),
       "pools[0].provider: key \"colour.x\" must not contain '.', '[' or ']' (write nested settings as mappings)"},
      {"a bracketed key", OnePool({{"provider", "{" + haproxy + ", 'servers[0].name': a}"}}),
       "pools[0].provider: key \"servers[0].name\" must not contain '.', '[' or ']' (write nested settings as "
       "mappings)"},
  });
  ConfigLoad load = Parse(OnePool(
      {{"provider", "{" + haproxy + ", exec: {provision: p, retire: r, colour: {a: 1, b: 2}}}"}}));
  CHECK_MESSAGE(load.errors.size() == 1, Joined(load.errors));
}

TEST_CASE("config: the haproxy provider's servers are named item by item") {
  const std::string p = "pools[0].provider.";
  auto with_servers = [](const std::string& servers) {
    return OnePool({{"provider", "{type: haproxy, socket: /run/h.sock, backend: web, servers: " + servers + "}"}});
  };
  const std::string a = "{name: a, address: '10.0.0.1:80'}";
  CheckErrorCases({
      {"a bad address", with_servers("[" + a + ", {name: b, address: nonsense}]"),
       p + "servers[1].address: required: a numeric \"ip:port\" (HAProxy does not resolve names of servers added "
           "at run time), got \"nonsense\""},
      {"an address missing", with_servers("[" + a + ", {name: b}]"),
       p + "servers[1].address: required: a numeric \"ip:port\" (HAProxy does not resolve names of servers added "
           "at run time), got \"\""},
      {"a name missing", with_servers("[" + a + ", {address: '10.0.0.2:80'}]"),
       p + "servers[1].name: required: a server name (no '/', ';', '#' or spaces), got \"\""},
      {"a duplicate name", with_servers("[" + a + ", " + a + "]"), p + "servers[1].name: duplicate server name \"a\""},
      {"an item a scalar", with_servers("[" + a + ", web-2]"),
       p + "servers[1]: must be a mapping {name, address}, got \"web-2\""},
      {"an item null", with_servers("[" + a + ", null]"), p + "servers[1]: must be a mapping {name, address}, got nothing"},
      {"an item a sequence", with_servers("[[a]]"), p + "servers[0]: must be a mapping {name, address}, got a sequence"},
      {"an empty item before a good one", with_servers("[" + a + ", {}, {name: c, address: '10.0.0.3:80'}]"),
       p + "servers[1].name: required: a server name (no '/', ';', '#' or spaces), got \"\""},
      {"a name a sequence", with_servers("[{name: [a], address: '10.0.0.1:80'}]"),
       p + "servers[0].name: must be a server name, got a sequence"},
      {"an address a mapping", with_servers("[{name: a, address: {ip: 10.0.0.1}}]"),
       p + "servers[0].address: must be a numeric \"ip:port\", got a mapping"},
      {"servers a mapping", with_servers(a), p + "servers: must be a list of {name, address}, got a mapping"},
      {"servers a scalar", with_servers("web"), p + "servers: must be a list of {name, address}, got \"web\""},
  });
  // The item after an empty one is still read, and only the empty one is blamed.
  ConfigLoad load = Parse(with_servers("[" + a + ", {}, {name: c, address: '10.0.0.3:80'}]"));
  CHECK_MESSAGE(load.errors.size() == 2, Joined(load.errors));
  CHECK(Parse(with_servers("")).ok());  // `servers:` null is no server
}

TEST_CASE("config: a haproxy socket path longer than sun_path holds is refused with its path") {
  const std::string long_path = "/run/" + std::string(125, 'x');  // 130 bytes
  ConfigLoad load = Parse(OnePool({{"provider", "{type: haproxy, socket: " + long_path + ", backend: web}"}}));
  CHECK(load.errors ==
        std::vector<std::string>{"pools[0].provider.socket: a unix socket path is at most 107 bytes, got 130"});
  load = Parse(OnePool({{"provider", "{type: haproxy, socket: 'unix@/run/" + std::string(103, 'x') + "', backend: web}"}}));
  CHECK(load.errors ==
        std::vector<std::string>{"pools[0].provider.socket: a unix socket path is at most 107 bytes, got 108"});
  CHECK(Parse(OnePool({{"provider", "{type: haproxy, socket: '/run/" + std::string(102, 'x') + "', backend: web}"}})).ok());
  CHECK(Parse(OnePool({{"provider", "{type: haproxy, socket: '127.0.0.1:9999', backend: web}"}})).ok());
  load = Parse(OnePool({{"provider", "{type: haproxy, socket: {path: /s}, backend: [web]}"}}));
  CHECK(load.errors == std::vector<std::string>{"pools[0].provider.socket: must be a unix path or host:port, got a mapping",
                                                "pools[0].provider.backend: must be a backend name, got a sequence"});
}

TEST_CASE("config: a metric's fallback given as a scalar or null is named by its own key") {
  const std::string f = "pools[0].metrics[0].fallback";
  auto with_fallback = [](const std::string& fallback) {
    return OnePool({{"metrics", "[{name: rps, fallback: " + fallback + "}]"},
                    {"provider", "{type: haproxy, socket: /run/h.sock, backend: web}"}});
  };
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"graphite", f + ": unknown fallback type \"graphite\" (known: haproxy)"},
      {"''", f + ": must be a fallback type (haproxy) or a mapping of its settings, got \"\""},
      {"null", f + ": must be a fallback type (haproxy) or a mapping of its settings, got null"},
      {"", f + ": must be a fallback type (haproxy) or a mapping of its settings, got null"},
      {"[haproxy]", f + ": must be a fallback type (haproxy) or a mapping of its settings, got a sequence"},
      {"{}", f + ".type: required"},
      {"{type: ''}", f + ".type: must not be empty"},
      {"{type: graphite}", f + ".type: unknown fallback type \"graphite\" (known: haproxy)"},
  };
  for (const auto& c : cases) {
    const std::string& fallback = c.first;  // not a structured binding: clang 14 cannot capture one
    const std::string& error = c.second;
    CAPTURE(fallback);
    ConfigLoad load = Parse(with_fallback(fallback));
    CHECK(load.errors == std::vector<std::string>{error});  // that one, and no echo at fallback.type
  }
  CHECK(Parse(with_fallback("haproxy")).ok());
}

TEST_CASE("config: an error about a value copied from the provider blames the provider's key, once") {
  const std::string two_fallbacks = "[{name: rps, fallback: haproxy}, {name: conn, fallback: {type: haproxy}}]";
  // The provider lacks its socket: the provider says so; the fallbacks and the shedder that would take
  // it add nothing of their own.
  ConfigLoad load = Parse(OnePool({{"metrics", two_fallbacks},
                                   {"overload", "{capacity: 40, server_concurrency: 4}"},
                                   {"provider", "{type: haproxy, backend: 'a b'}"}}));
  CHECK(load.errors == std::vector<std::string>{
                           "pools[0].provider.socket: required: the admin stats socket (a unix path or host:port)",
                           "pools[0].provider.backend: must be a backend name (no '/', ';', '#' or spaces), got \"a b\""});
  load = Parse(OnePool({{"metrics", two_fallbacks},
                        {"overload", "{capacity: 40}"},
                        {"provider", "{type: haproxy, socket: '', backend: web}"}}));
  CHECK(load.errors == std::vector<std::string>{"pools[0].provider.socket: must not be empty"});
  // A fallback's own socket and proxy are its own.
  load = Parse(OnePool({{"metrics", "[{name: rps, fallback: {type: haproxy, socket: /s, proxy: 'a b'}}]"},
                        {"provider", "{type: haproxy, socket: /run/h.sock, backend: web}"}}));
  CHECK(load.errors == std::vector<std::string>{
                           "pools[0].metrics[0].fallback.proxy: must be a proxy name (no '/', ';', '#' or spaces), got \"a b\""});
  // overload.metric missing: that error alone, not a bogus overload.haproxy.socket: required.
  load = Parse(OnePool({{"policies", "[{type: schedule, windows: [{cron: '0 9 * * *', duration: 1h, min_active: 2}]}]"},
                        {"overload", "{capacity: 40}"},
                        {"provider", "{type: haproxy, socket: /run/h.sock, backend: web}"}}));
  CHECK(load.errors == std::vector<std::string>{
                           "pools[0].overload.metric: required (no target_tracking or predictive policy to take the "
                           "load metric from)"});
  // The socket and backend of overload.haproxy are always the provider's: one written there is refused.
  load = Parse(OnePool({{"overload", "{capacity: 40, haproxy: {socket: /other.sock}}"},
                        {"provider", "{type: haproxy, socket: /run/h.sock, backend: web}"}}));
  CHECK(load.errors == std::vector<std::string>{
                           "pools[0].overload.haproxy.socket: unknown key (the pool's provider's socket is used)"});
}

TEST_CASE("config: a schedule's zoneinfo_dir is blamed when it is what is wrong") {
  TempDir dir;
  auto with_dir = [](const std::string& zoneinfo_dir, const std::string& zone) {
    return OnePool({{"policies", "[{type: schedule, timezone: " + zone + ", zoneinfo_dir: '" + zoneinfo_dir +
                                     "', windows: [{cron: '0 9 * * *', duration: 1h, min_active: 2}]}]"}});
  };
  const std::string p = "pools[0].policies[0].";
  const std::string missing = (dir.path() / "missing").string();
  ConfigLoad load = Parse(with_dir(missing, "Europe/Paris"));
  CHECK(load.errors == std::vector<std::string>{p + "zoneinfo_dir: " + missing + ": cannot read: No such file or directory"});
  const std::string file = dir.Write("a-file", "not a directory");
  load = Parse(with_dir(file, "Europe/Paris"));
  CHECK(load.errors == std::vector<std::string>{p + "zoneinfo_dir: not a directory: \"" + file + "\""});
  load = Parse(with_dir("", "Europe/Paris"));
  CHECK(load.errors == std::vector<std::string>{
                           p + "zoneinfo_dir: must not be empty (a directory of time zone files, e.g. /usr/share/zoneinfo)"});
  // The directory is there and the zone is not: the zone is blamed.
  load = Parse(with_dir(dir.path().string(), "Europe/Paris"));
  CHECK(load.errors == std::vector<std::string>{p + "timezone: unknown time zone \"Europe/Paris\" (no file " +
                                                dir.path().string() + "/Europe/Paris)"});
}

TEST_CASE("config: an empty key is an error naming the mapping that holds it") {
  CheckErrorCases({
      {"in a plugin", OnePool({{"provider", "{type: simulated, '': 1}"}}), "pools[0].provider: empty key (line 5)"},
      {"nested in a plugin", OnePool({{"provider", "{type: simulated, a: {'': 1}}"}}),
       "pools[0].provider.a: empty key (line 5)"},
      {"in a pool", OnePool({{"''", "1"}}), "pools[0]: empty key (line 6)"},
      {"at the top", OnePool({}, "'': 1\n"), "top level: empty key (line 1)"},
      {"in a metric", OnePool({{"metrics", "[{name: rps, '': x}]"}}), "pools[0].metrics[0]: empty key (line 3)"},
  });
}

TEST_CASE("config: a value with a newline or a control character leaves every error on one line") {
  ConfigLoad load = Parse(OnePool({{"min_active", "\"1\\n2\""},
                                   {"name", "\"we\\tb\""},
                                   {"policies", "[{type: schedule, timezone: \"Europe/Paris\\nx\", "
                                                "windows: [{cron: \"0 9 * * *\\x01\", duration: 1h, min_active: 2}]}]"},
                                   {"provider", "{type: simulated, \"co\\nlour\": 1, initial_active: \"x\\\"y\"}"}}));
  const std::vector<std::string> want = {
      "pools[0].name: must match [A-Za-z0-9_.-]+, got \"we\\tb\"",
      "pools[0].min_active: must be an integer, got \"1\\n2\"",
      "pools[0].policies[0].timezone: not a time zone name: \"Europe/Paris\\nx\"",
      "pools[0].provider.initial_active: must be an integer, got \"x\\\"y\"",
      "pools[0].provider.co\\nlour: unknown key",
  };
  for (const std::string& w : want) CHECK_MESSAGE(HasError(load, w), w, "\n", Joined(load.errors));
  for (const std::string& e : load.errors) {
    CAPTURE(e);
    CHECK(e.find_first_of("\n\r\t\x01") == std::string::npos);
  }
}

TEST_CASE("config: web and state are checked as run would check them, each named by its path") {
  TempDir dir;
  const std::string cert = dir.Write("cert.pem", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
  const std::string key = dir.Write("key.pem", "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n");
  const std::string rsa = dir.Write("rsa.pem", "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n");
  auto tls = [](const std::string& c, const std::string& k) {
    return OnePool({}, "web: {tls: {cert_file: '" + c + "', key_file: '" + k + "'}}\n");
  };
  CHECK_MESSAGE(Parse(tls(cert, key)).ok(), Joined(Parse(tls(cert, key)).errors));
  CHECK(Parse(tls(cert, rsa)).ok());
  const std::string missing = (dir.path() / "missing.pem").string();
  CHECK(Parse(tls(missing, key)).errors ==
        std::vector<std::string>{"web.tls.cert_file: " + missing + ": cannot read: No such file or directory"});
  CHECK(Parse(tls(cert, dir.path().string())).errors ==
        std::vector<std::string>{"web.tls.key_file: " + dir.path().string() + ": not a regular file (a directory)"});
  CHECK(Parse(tls(cert, "/dev/null")).errors ==
        std::vector<std::string>{"web.tls.key_file: /dev/null: not a regular file (a character device)"});
  CHECK(Parse(tls(key, cert)).errors ==
        std::vector<std::string>{
            "web.tls.cert_file: " + key + ": not a PEM certificate (no -----BEGIN CERTIFICATE----- line)",
            "web.tls.key_file: " + cert + ": not a PEM private key (no -----BEGIN ... PRIVATE KEY----- line)"});

  const std::vector<std::pair<std::string, std::string>> addresses = {
      {"localhost:9900", "the host must be an IPv4 address (or empty: every address)"},
      {"[::1]:9900", "IPv6 addresses are not supported; use an IPv4 address"},
      {"127.0.0.1:99999", "the port must be a number from 0 to 65535"},
      {"127.0.0.1:", "the port must be a number from 0 to 65535"},
      {"127.0.0.1", "must be host:port, e.g. 127.0.0.1:9900 or :9900"},
      {"127.0.0.256:80", "the host must be an IPv4 address (or empty: every address)"},
  };
  for (const auto& [address, why] : addresses) {
    CHECK(Parse(OnePool({}, "web: {listen_address: '" + address + "'}\n")).errors ==
          std::vector<std::string>{"web.listen_address: " + why + ", got \"" + address + "\""});
  }
  for (const std::string ok : {"127.0.0.1:9900", ":9900", "0.0.0.0:0", ""}) {
    CHECK_MESSAGE(Parse(OnePool({}, "web: {listen_address: '" + ok + "'}\n")).ok(), ok);
  }

  auto state = [](const std::string& file) { return OnePool({}, "state: {file: '" + file + "'}\n"); };
  CHECK(Parse(state((dir.path() / "state").string())).ok());
  const std::string gone = (dir.path() / "gone").string();
  CHECK(Parse(state(gone + "/state")).errors ==
        std::vector<std::string>{"state.file: its directory " + gone + ": No such file or directory"});
  CHECK(Parse(state(cert + "/state")).errors ==
        std::vector<std::string>{"state.file: its directory " + cert + ": not a directory (a regular file)"});
  CHECK(Parse(state(dir.path().string())).errors ==
        std::vector<std::string>{"state.file: " + dir.path().string() + ": not a regular file (a directory)"});
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
