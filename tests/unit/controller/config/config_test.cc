// Unit tests for the YAML config loader (controller/config.h): the structure that lands in Config,
// the defaults, and plugin params flattening. Errors: config_errors_test.cc.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "tests/support/config_test_util.h"

namespace warmpool {
namespace {
using namespace config_test;
namespace fs = std::filesystem;
}  // namespace

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
  // target_tracking knows none of these: each block is reported once by its factory, by its path.
  CHECK_MESSAGE(HasError(load, "pools[0].policies[0].bands: unknown key"), Joined(load.errors));
  CHECK_MESSAGE(HasError(load, "pools[0].policies[0].matrix: unknown key"), Joined(load.errors));
  CHECK_MESSAGE(HasError(load, "pools[0].policies[0].note: unknown key"), Joined(load.errors));
  CHECK(load.errors.size() == 4);  // and quoted: one error per unknown block, not per value

  // A key holding '.', '[' or ']' would pass for a nested setting: it is refused, named by its mapping.
  ConfigLoad clash = Parse(OnePool({{"provider", "{type: simulated, a: {b: 1}, a.b: 2}"}}));
  CHECK_MESSAGE(HasError(clash, "pools[0].provider: key \"a.b\" must not contain '.', '[' or ']' (write nested "
                                "settings as mappings)"),
                Joined(clash.errors));
  CHECK_MESSAGE(HasError(clash, "pools[0].provider.a: unknown key"), Joined(clash.errors));
  CHECK(clash.errors.size() == 2);
}

}  // namespace warmpool

namespace warmpool {
TEST_CASE("config: capacity_model is the simulated provider's parameters, checked like them") {
  using namespace config_test;
  ConfigLoad ok = Parse(OnePool({{"capacity_model", "{capacity_per_server: 50, provisioning_delay: 90s}"}}));
  REQUIRE_MESSAGE(ok.ok(), Joined(ok.errors));
  const PluginSpec& cm = ok.config.pools[0].capacity_model;
  CHECK(cm.type == "simulated");
  CHECK(cm.params.path == "pools[0].capacity_model");
  CHECK(cm.params.values.at("capacity_per_server") == "50");
  CHECK(Parse(OnePool()).config.pools[0].capacity_model.type.empty());
  ConfigLoad bad = Parse(OnePool({{"capacity_model", "{capacity_per_server: -1, colour: red}"}}));
  CHECK(HasErrorContaining(bad, "pools[0].capacity_model.capacity_per_server: must be between"));
  CHECK(HasError(bad, "pools[0].capacity_model.colour: unknown key"));
}
}  // namespace warmpool

namespace warmpool {

TEST_CASE("config: warm_standby auto takes the load metric and server capacity from the policies") {
  using namespace config_test;
  ConfigLoad plain = Parse(OnePool({{"warm_standby", "auto"}, {"max_active", "20"}}));
  REQUIRE(plain.ok());
  const PoolSpec& p = plain.config.pools[0];
  CHECK(p.warm_auto.enabled);
  CHECK(p.warm_auto.metric == "rps");
  CHECK(p.warm_auto.server_capacity == 100);
  CHECK(p.warm_auto.min == 0);
  CHECK(p.warm_auto.max == 10);
  CHECK(p.MaxTotal() == 30);  // max_active + the most standbys auto may want

  ConfigLoad set =
      Parse(OnePool({{"metrics", "[{name: rps}, {name: cpu}]"},
                     {"policies",
                      "[{type: target_tracking, metric: cpu, target_utilization: 0.6}, "
                      "{type: predictive, metric: rps, target_per_server: 80}]"},
                     {"warm_standby",
                      "{auto: {min: 1, max: 6, horizon: 3m, quantile: 0.9, recent: 2h, season: 168h, "
                      "seasons: 3, season_share: 0.5, season_slack: 5m, step: 5m}}"}}));
  REQUIRE(set.ok());
  const WarmAutoSpec& w = set.config.pools[0].warm_auto;
  CHECK(w.metric == "rps");  // the first policy with a metric and target_per_server... on rps
  CHECK(w.server_capacity == 80);
  CHECK(w.min == 1);
  CHECK(w.max == 6);
  CHECK(w.horizon == 3 * kMinute);
  CHECK(w.quantile == 0.9);
  CHECK(w.recent == 2 * kHour);
  CHECK(w.season == 168 * kHour);
  CHECK(w.seasons == 3);
  CHECK(w.season_share == 0.5);
  CHECK(w.season_slack == 5 * kMinute);
  CHECK(w.step == 5 * kMinute);

  ConfigLoad utilization =
      Parse(OnePool({{"policies", "[{type: target_tracking, metric: rps, target_utilization: 0.6}]"},
                     {"warm_standby", "auto"}}));
  CHECK(
      HasError(utilization,
               "pools[0].warm_standby.auto.server_capacity: required (what one server carries of \"rps\"; no "
               "policy with target_per_server on it to take it from)"));
  ConfigLoad explicit_capacity =
      Parse(OnePool({{"policies", "[{type: target_tracking, metric: rps, target_utilization: 0.6}]"},
                     {"warm_standby", "{auto: {metric: rps, server_capacity: 250}}"}}));
  REQUIRE(explicit_capacity.ok());
  CHECK(explicit_capacity.config.pools[0].warm_auto.server_capacity == 250);
}

}  // namespace warmpool

namespace warmpool {
namespace {

constexpr const char* kPrometheusPool = R"yaml(
metrics_source: {type: prometheus, url: "http://127.0.0.1:9"}
pools:
  - name: web
    min_active: 1
    max_active: 4
    metrics: [{name: rps, query: "sum(rate(x[1m]))"}]
    policies:
      - {type: target_tracking, metric: rps, target_per_server: 10}
      - type: schedule
        timezone: Europe/Paris
        windows: [{cron: "0 9 * * 1-5", duration: 8h, min_active: 2}]
    provider: {type: simulated}
)yaml";

}  // namespace

TEST_CASE("config: validating checks the Prometheus source's URL and CA file without a client") {
  ConfigLoad load = config_test::Parse(kPrometheusPool);
  CHECK(load.errors == std::vector<std::string>{});
  ConfigLoad bad = config_test::Parse(
      "metrics_source: {type: prometheus, url: \"https://127.0.0.1:9\", tls: {ca_file: "
      "/nonexistent/ca.pem}}\n"
      "pools: []\n");
  bool named = false;
  for (const std::string& e : bad.errors) named = named || e.rfind("metrics_source.tls.ca_file: ", 0) == 0;
  CHECK(named);
  // The credential and CA files are regular files: a FIFO hung check-config and the start.
  char dir[] = "/tmp/warmpool-secrets-XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  const std::string fifo = std::string(dir) + "/secret";
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  for (const std::string key : {"basic_auth: {username: u, password_file: ", "bearer_token_file: ", "tls: {ca_file: "}) {
    const bool nested = key.find('{') != std::string::npos;
    ConfigLoad fifo_load = config_test::Parse("metrics_source: {type: prometheus, url: \"https://127.0.0.1:9\", " + key +
                                              fifo + (nested ? "}" : "") + "}\npools: []\n");
    CAPTURE(key);
    int found = 0;  // besides "pools: must not be empty"
    for (const std::string& e : fifo_load.errors) found += e.find(": cannot read \"" + fifo + "\": not a regular file (a FIFO)") != std::string::npos;
    CHECK(found == 1);
  }
  std::remove(fifo.c_str());
  rmdir(dir);
}

TEST_CASE("config: a schedule's time zone is read by the config, not by the policy") {
  // policies/ reads no file: the loader hands its reader in, and an unknown zone is named.
  std::string yaml = kPrometheusPool;
  CHECK(config_test::Parse(yaml).ok());
  yaml.replace(yaml.find("Europe/Paris"), 12, "Europe/Nowhere");
  ConfigLoad load = config_test::Parse(yaml);
  REQUIRE(load.errors.size() == 1);
  CHECK(load.errors[0] ==
        "pools[0].policies[1].timezone: unknown time zone \"Europe/Nowhere\" (no file "
        "/usr/share/zoneinfo/Europe/Nowhere)");
}

}  // namespace warmpool

namespace warmpool {

TEST_CASE(
    "config: warm_standby: auto takes the pool's load metric by the one rule, a rate over a utilization") {
  ConfigLoad load = config_test::Parse(R"yaml(
metrics_source: {type: prometheus, url: "http://127.0.0.1:9"}
pools:
  - name: web
    min_active: 1
    max_active: 4
    warm_standby: auto
    metrics: [{name: cpu, query: "avg(cpu)"}, {name: rps, query: "sum(rate(x[1m]))"}]
    policies:
      - {type: target_tracking, metric: cpu, target_utilization: 0.6}
      - {type: predictive, metric: rps, target_per_server: 80}
    provider: {type: simulated}
)yaml");
  REQUIRE(load.errors == std::vector<std::string>{});
  CHECK(load.config.pools[0].warm_auto.metric == "rps");
  CHECK(load.config.pools[0].warm_auto.server_capacity == 80);
}

}  // namespace warmpool

namespace warmpool {

TEST_CASE("config: only a regular file is read: a FIFO neither hangs nor a device floods") {
  char dir[] = "/tmp/warmpool-config-XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  const std::string fifo = std::string(dir) + "/config.yaml";
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);  // no writer: a blocking open would wait forever
  ConfigLoad load = LoadConfigFile(fifo);
  REQUIRE(load.errors.size() == 1);
  CHECK(load.errors[0] == fifo + ": not a regular file (a FIFO)");
  load = LoadConfigFile("/dev/zero");
  REQUIRE(load.errors.size() == 1);
  CHECK(load.errors[0] == "/dev/zero: not a regular file (a character device)");
  load = LoadConfigFile(dir);
  REQUIRE(load.errors.size() == 1);
  CHECK(load.errors[0] == std::string(dir) + ": not a regular file (a directory)");
  std::remove(fifo.c_str());
  rmdir(dir);
}


TEST_CASE("config: a metric's scrape_health and fallback, and a haproxy fallback reads the pool's own balancer") {
  const std::string metrics =
      "[{name: rps, query: 'sum(rate(x[1m]))', scrape_health: {query: 'min(up{job=\"web\"})', window: 90s},"
      " fallback: {type: haproxy, side: frontend, counter: stot, scale_down: true}}]";
  ConfigLoad load = Parse(OnePool({{"metrics", metrics},
                                   {"provider", "{type: haproxy, socket: /run/h.sock, backend: web-be}"}}));
  INFO(Joined(load.errors));
  REQUIRE(load.ok());
  const PoolSpec& pool = load.config.pools[0];
  CHECK(pool.metrics[0].health_query == "min(up{job=\"web\"})");
  CHECK(pool.metrics[0].health_window == 90 * kSecond);
  REQUIRE(pool.fallbacks.count("rps") == 1);
  const PluginSpec& fallback = pool.fallbacks.at("rps");
  CHECK(fallback.type == "haproxy");
  CHECK(fallback.params.values.at("socket") == "/run/h.sock");  // from the provider
  CHECK(fallback.params.values.at("proxy") == "web-be");
  CHECK(fallback.params.values.at("side") == "frontend");

  // `fallback: haproxy` is every default; the health window defaults to a minute.
  load = Parse(OnePool({{"metrics", "[{name: rps, scrape_health: {query: up}, fallback: haproxy}]"},
                        {"provider", "{type: haproxy, socket: /run/h.sock, backend: web}"}}));
  INFO(Joined(load.errors));
  REQUIRE(load.ok());
  CHECK(load.config.pools[0].metrics[0].health_window == kMinute);
  CHECK(load.config.pools[0].fallbacks.at("rps").params.values.at("proxy") == "web");

  // Without a haproxy provider the socket and proxy must be given; settings are checked with their path.
  load = Parse(OnePool({{"metrics", "[{name: rps, fallback: haproxy}]"}}));
  CHECK(HasErrorContaining(load, "pools[0].metrics[0].fallback.socket: required"));
  CHECK(HasErrorContaining(load, "pools[0].metrics[0].fallback.proxy: required"));
  load = Parse(OnePool({{"metrics",
                         "[{name: rps, fallback: {type: haproxy, socket: /s, proxy: 'a b', counter: hits, "
                         "rate_window: 0s, colour: red}}]"}}));
  INFO(Joined(load.errors));
  CHECK(HasError(load, "pools[0].metrics[0].fallback.proxy: must be a proxy name (no '/', ';', '#' or spaces), got \"a b\""));
  CHECK(HasErrorContaining(load, "pools[0].metrics[0].fallback.counter: must be one of req_tot, stot"));
  CHECK(HasErrorContaining(load, "pools[0].metrics[0].fallback.rate_window: "));
  CHECK(HasError(load, "pools[0].metrics[0].fallback.colour: unknown key"));
  load = Parse(OnePool({{"metrics", "[{name: rps, fallback: {type: graphite}}]"}}));
  CHECK(HasError(load, "pools[0].metrics[0].fallback.type: unknown fallback type \"graphite\" (known: haproxy)"));
  load = Parse(OnePool({{"metrics", "[{name: rps, scrape_health: {window: 0s}}]"}}));
  CHECK(HasError(load, "pools[0].metrics[0].scrape_health.query: required"));
  CHECK(HasError(load, "pools[0].metrics[0].scrape_health.window: must be > 0, got \"0s\""));
  load = Parse(OnePool({{"metrics", "[{name: rps, scrape_health: 'up'}]"}}));
  CHECK(HasErrorContaining(load, "pools[0].metrics[0].scrape_health: must be a mapping"));
}

}  // namespace warmpool

namespace warmpool {

TEST_CASE("config: overload protection, its defaults, the haproxy settings and what is refused") {
  ConfigLoad load = Parse(OnePool({{"overload", "{capacity: 40, release_after: 10s, haproxy: {client_table: t1}}"},
                                   {"provider", "{type: haproxy, socket: /run/h.sock, backend: web}"}}));
  INFO(Joined(load.errors));
  REQUIRE(load.ok());
  const ShedSpec& o = load.config.pools[0].overload;
  CHECK(o.enabled);
  CHECK(o.capacity == 40);
  CHECK(o.metric == "rps");  // the pool's load metric
  CHECK(o.protect_after == 30 * kSecond);
  CHECK(o.release_below == 0.8);
  CHECK(o.release_after == 10 * kSecond);
  CHECK(o.per_client);
  CHECK(o.server_concurrency == 0);
  CHECK(load.config.pools[0].overload_balancer.values.at("socket") == "/run/h.sock");
  CHECK(load.config.pools[0].overload_balancer.values.at("client_table") == "t1");
  CHECK_FALSE(Parse(OnePool()).config.pools[0].overload.enabled);

  load = Parse(OnePool({{"overload", "{capacity: 40}"}}));  // a simulated provider cannot shed
  CHECK(HasError(load, "pools[0].overload: needs a provider that can limit the load at the balancer (haproxy), not \"simulated\""));
  load = Parse(OnePool({{"overload", "{metric: conn, release_below: 1.5, colour: red, haproxy: {rate_var: x}}"},
                        {"provider", "{type: haproxy, socket: /run/h.sock, backend: web}"}}));
  INFO(Joined(load.errors));
  CHECK(HasError(load, "pools[0].overload.capacity: required: the requests a second one server serves at full capacity"));
  CHECK(HasError(load, "pools[0].overload.release_below: must be between 0 and 1 (a share of the capacity), got 1.5"));
  CHECK(HasError(load, "pools[0].overload.colour: unknown key"));
  CHECK(HasError(load, "pools[0].overload.metric: no metric named \"conn\" in pools[0].metrics"));
  CHECK(HasErrorContaining(load, "pools[0].overload.haproxy.rate_var: must be a process variable"));

  // The per-server cap acts on the provider's backend; without it the shedder never touches maxconn.
  CHECK(Parse(OnePool({{"overload", "{capacity: 40}"}, {"provider", "{type: haproxy, socket: /run/h.sock, backend: web}"}}))
            .config.pools[0]
            .overload_balancer.values.count("backend") == 0);
  load = Parse(OnePool({{"overload", "{capacity: 40, server_concurrency: 8, haproxy: {server_maxconn_normal: 50}}"},
                        {"provider", "{type: haproxy, socket: /run/h.sock, backend: web}"}}));
  INFO(Joined(load.errors));
  REQUIRE(load.ok());
  CHECK(load.config.pools[0].overload.server_concurrency == 8);
  CHECK(load.config.pools[0].overload_balancer.values.at("backend") == "web");
  load = Parse(OnePool({{"overload", "{capacity: 40, server_concurrency: -1}"},
                        {"provider", "{type: haproxy, socket: /run/h.sock, backend: web}"}}));
  CHECK(HasErrorContaining(load, "pools[0].overload.server_concurrency: "));
  load = Parse(OnePool({{"overload", "{capacity: 40, server_concurrency: 2000000}"},
                        {"provider", "{type: haproxy, socket: /run/h.sock, backend: web}"}}));
  CHECK(HasError(load, "pools[0].overload.server_concurrency: must be at most 1000000, got 2000000"));
}

TEST_CASE("config: the tokens file is checked with the config, its errors under web.tokens_file") {
  ConfigLoad load = Parse(OnePool({}, "web: {tokens_file: /nonexistent/tokens.yaml}\n"));
  REQUIRE(load.errors.size() == 1);
  CHECK(load.errors[0].rfind("web.tokens_file: api tokens: cannot read \"/nonexistent/tokens.yaml\"", 0) == 0);
  load = Parse(OnePool({}, "web: {tokens_file: /dev/null}\n"));
  REQUIRE(load.errors.size() == 1);
  CHECK(load.errors[0] == "web.tokens_file: api tokens: cannot read \"/dev/null\": not a regular file (a character device)");
}

}  // namespace warmpool
