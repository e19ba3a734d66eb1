// `health:` of a pool (controller/config/health.cc): defaults, every key, and what is refused, by path.
#include <doctest/doctest.h>

#include "tests/support/config_test_util.h"

using namespace warmpool;
using namespace warmpool::config_test;

namespace {

bool Has(const ConfigLoad& load, const std::string& error) {
  for (const std::string& e : load.errors) {
    if (e == error) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("config: health, its defaults, its probe and what is refused") {
  CHECK_FALSE(Parse(OnePool()).config.pools[0].health.enabled);
  ConfigLoad load = Parse(OnePool({{"health", "{}"}}));
  INFO(Joined(load.errors));
  REQUIRE(load.ok());
  HealthSpec h = load.config.pools[0].health;
  CHECK(h.enabled);
  CHECK(h.grace == 30 * kSecond);
  CHECK(h.max_parallel == 1);
  CHECK(h.breaker_fraction == 0.5);
  CHECK(h.breaker_hold == kMinute);
  CHECK_FALSE(h.probe.enabled);

  load = Parse(OnePool({{"health", "{grace: 1m, max_parallel: 3, breaker_fraction: 0.3, breaker_hold: 5m, "
                                   "probe: {path: /ready, status: 204, timeout: 500ms, interval: 5s}}"}}));
  INFO(Joined(load.errors));
  REQUIRE(load.ok());
  h = load.config.pools[0].health;
  CHECK(h.grace == kMinute);
  CHECK(h.max_parallel == 3);
  CHECK(h.breaker_fraction == 0.3);
  CHECK(h.breaker_hold == 5 * kMinute);
  CHECK(h.probe.enabled);
  CHECK(h.probe.path == "/ready");
  CHECK(h.probe.status == 204);
  CHECK(h.probe.timeout == 500);
  CHECK(h.probe.interval == 5 * kSecond);
  CHECK(Parse(OnePool({{"health", "{probe: }"}})).config.pools[0].health.probe.enabled);  // every default

  load = Parse(OnePool({{"health", "{max_parallel: 0, breaker_fraction: 1.5, colour: red, "
                                   "probe: {path: ready, status: 700, timeout: 0s}}"}}));
  INFO(Joined(load.errors));
  CHECK(Has(load, "pools[0].health.max_parallel: must be >= 1, got 0"));
  CHECK(Has(load, "pools[0].health.breaker_fraction: must be between 0 and 1 (a share of the active servers), got 1.5"));
  CHECK(Has(load, "pools[0].health.colour: unknown key"));
  CHECK(Has(load, "pools[0].health.probe.path: must start with / and hold no space or newline, got \"ready\""));
  CHECK(Has(load, "pools[0].health.probe.status: must be an HTTP status (100 to 599), got 700"));
  bool timeout_named = false;
  for (const std::string& e : load.errors) timeout_named |= e.rfind("pools[0].health.probe.timeout: ", 0) == 0;
  CHECK(timeout_named);
  load = Parse(OnePool({{"health", "[1]"}}));
  REQUIRE(load.errors.size() == 1);
  CHECK(load.errors[0].rfind("pools[0].health: must be a mapping", 0) == 0);
}

TEST_CASE("config: health.metrics and max_lifetime, their defaults and what is refused") {
  ConfigLoad load = Parse(OnePool({{"health", "{max_lifetime: 6h, metrics: [{name: memory, query: 'mem_ratio', above: 0.85}, "
                                              "{name: fds, query: 'fd_ratio', label: host, match: host, above: 0.9, "
                                              "horizon: 10m, window: 2m, step: 5s}]}"}}));
  INFO(Joined(load.errors));
  REQUIRE(load.ok());
  const HealthSpec h = load.config.pools[0].health;
  CHECK(h.max_lifetime == 6 * kHour);
  REQUIRE(h.metrics.size() == 2);
  CHECK(h.metrics[0].name == "memory");
  CHECK(h.metrics[0].query == "mem_ratio");
  CHECK(h.metrics[0].label == "instance");
  CHECK(h.metrics[0].match == ServerMetricSpec::Match::kAddress);
  CHECK(h.metrics[0].above == 0.85);
  CHECK(h.metrics[0].horizon == 0);
  CHECK(h.metrics[0].window == 5 * kMinute);
  CHECK(h.metrics[0].step == 15 * kSecond);
  CHECK(h.metrics[1].label == "host");
  CHECK(h.metrics[1].match == ServerMetricSpec::Match::kHost);
  CHECK(h.metrics[1].horizon == 10 * kMinute);
  CHECK(h.metrics[1].window == 2 * kMinute);
  CHECK(h.metrics[1].step == 5 * kSecond);

  load = Parse(OnePool({{"health", "{max_lifetime: -1s, metrics: [{name: memory}, {name: memory, query: q, above: .inf, "
                                   "match: ip, label: ''}, {name: 'a b', query: q, above: 1, horizon: 5m, window: 1m, "
                                   "step: 15s}, {query: q, above: 1, step: 2m, window: 1m}]}"}}));
  INFO(Joined(load.errors));
  CHECK(Has(load, "pools[0].health.metrics[0].query: required"));
  CHECK(Has(load, "pools[0].health.metrics[0].above: required: the value past which a server is sick, e.g. 0.85"));
  CHECK(Has(load, "pools[0].health.metrics[1].name: duplicate health metric \"memory\" (also pools[0].health.metrics[0])"));
  CHECK(Has(load, "pools[0].health.metrics[1].above: must be a number, got \".inf\""));
  CHECK(Has(load, "pools[0].health.metrics[1].label: must not be empty"));
  bool match_named = false, lifetime_named = false;
  for (const std::string& e : load.errors) {
    match_named |= e.rfind("pools[0].health.metrics[1].match: ", 0) == 0;
    lifetime_named |= e.rfind("pools[0].health.max_lifetime: ", 0) == 0;
  }
  CHECK(match_named);
  CHECK(lifetime_named);
  CHECK(Has(load, "pools[0].health.metrics[2].name: must be one word (it names the metric in decisions), got \"a b\""));
  CHECK(Has(load, "pools[0].health.metrics[2].window: holds 5 samples at step 15s; the trend rule (horizon) needs at least 6"));
  CHECK(Has(load, "pools[0].health.metrics[3].name: required"));
  CHECK(Has(load, "pools[0].health.metrics[3].step: must not exceed window (1m), got 2m"));
  load = Parse(OnePool({{"health", "{metrics: {name: memory}}"}}));
  REQUIRE(load.errors.size() == 1);
  CHECK(load.errors[0].rfind("pools[0].health.metrics: must be a sequence", 0) == 0);
}

TEST_CASE("config: surge, on with its defaults from the load metric, its settings, and what is refused") {
  CHECK_FALSE(Parse(OnePool()).config.pools[0].surge.enabled);
  ConfigLoad load = Parse(OnePool({{"surge", "on"}}));
  INFO(Joined(load.errors));
  REQUIRE(load.ok());
  SurgeSpec s = load.config.pools[0].surge;
  CHECK(s.enabled);
  CHECK(s.metric == "rps");            // the target_tracking policy's metric ...
  CHECK(s.server_capacity == 100);     // ... and its target_per_server
  CHECK(s.window == kMinute);
  CHECK(s.lead == 90 * kSecond);
  CHECK_FALSE(Parse(OnePool({{"surge", "off"}})).config.pools[0].surge.enabled);

  load = Parse(OnePool({{"surge", "{window: 30s, lead: 2m, min_rise: 1, min_servers: 4, memory: 7d, hold: 1m, "
                                  "server_capacity: 80}"}}));
  INFO(Joined(load.errors));
  REQUIRE(load.ok());
  s = load.config.pools[0].surge;
  CHECK(s.window == 30 * kSecond);
  CHECK(s.lead == 2 * kMinute);
  CHECK(s.min_rise == 1);
  CHECK(s.min_servers == 4);
  CHECK(s.memory == 7 * 24 * kHour);
  CHECK(s.hold == kMinute);
  CHECK(s.server_capacity == 80);

  load = Parse(OnePool({{"surge", "{metric: cpu, lead: 2h, colour: red}"}}));
  INFO(Joined(load.errors));
  CHECK(Has(load, "pools[0].surge.metric: no metric named \"cpu\" in pools[0].metrics"));
  CHECK(Has(load, "pools[0].surge.lead: must be at most 1h, got 2h"));
  bool colour = false;
  for (const std::string& e : load.errors) colour |= e.rfind("pools[0].surge.colour", 0) == 0;
  CHECK(colour);
  load = Parse(OnePool({{"surge", "[1]"}}));
  REQUIRE(load.errors.size() == 1);
  CHECK(load.errors[0].rfind("pools[0].surge: must be on, off or a mapping", 0) == 0);
}
