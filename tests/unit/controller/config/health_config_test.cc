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
  CHECK_FALSE(h.probe.enabled);

  load = Parse(OnePool({{"health", "{grace: 1m, max_parallel: 3, breaker_fraction: 0.3, "
                                   "probe: {path: /ready, status: 204, timeout: 500ms, interval: 5s}}"}}));
  INFO(Joined(load.errors));
  REQUIRE(load.ok());
  h = load.config.pools[0].health;
  CHECK(h.grace == kMinute);
  CHECK(h.max_parallel == 3);
  CHECK(h.breaker_fraction == 0.3);
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
