// Unit tests for overload protection's pure decision (policies/shed.h): when to limit, by how much,
// the heaviest clients first, and when to lift it without flapping.
#include "policies/shed.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace warmpool;

namespace {

constexpr TimeMs kT0 = 1'000'000'000;

ShedSpec Spec() {
  ShedSpec s;
  s.enabled = true;
  s.capacity = 100;
  s.protect_after = 30 * kSecond;
  s.release_below = 0.8;
  s.release_after = 30 * kSecond;
  return s;
}

ShedInput In(double load, int serving, bool at_max, TimeMs at, std::vector<ClientRate> clients = {}) {
  ShedInput in;
  in.load = load;
  in.serving = serving;
  in.at_max = at_max;
  in.now = at;
  in.clients = std::move(clients);
  return in;
}

bool Has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("shed: the fair share cuts the heaviest clients first and leaves the ordinary ones whole") {
  CHECK(FairShare({}, 100) == 0);
  CHECK(FairShare({{"a", 30}, {"b", 40}}, 100) == 0);  // fits: no per-client limit
  // Ten clients at 10 and a bot at 500, capacity 200: the ten keep their 10, the bot gets 100.
  std::vector<ClientRate> clients(10, ClientRate{"user", 10});
  clients.push_back({"bot", 500});
  CHECK(FairShare(clients, 200) == doctest::Approx(100));
  // Two heavy clients share what the light ones leave.
  CHECK(FairShare({{"a", 5}, {"b", 300}, {"c", 200}}, 105) == doctest::Approx(50));
  // Everyone equal: each gets an equal share.
  CHECK(FairShare({{"a", 100}, {"b", 100}, {"c", 100}, {"d", 100}}, 200) == doctest::Approx(50));
}

TEST_CASE("shed: at max_active an overload is limited at once to what the serving servers take") {
  ShedDecider d(Spec());
  ShedOutcome o = d.Decide(In(900, 8, /*at_max=*/false, kT0));
  CHECK_FALSE(o.limits.active());  // it can still grow
  CHECK(o.reason.empty());
  std::vector<ClientRate> clients(10, ClientRate{"user", 60});
  clients.push_back({"bot", 1500});
  o = d.Decide(In(2100, 10, /*at_max=*/true, kT0 + 15 * kSecond, clients));
  CHECK(o.changed);
  CHECK(o.limits.rate == 1000);
  CHECK(o.limits.client == doctest::Approx(300));  // 10 x 60 = 600 of 90% of 1000: the bot gets 300
  INFO(o.reason);
  CHECK(Has(o.reason, "shed: 2.1x over capacity (2100 for 10 x 100) at max_active 10 serving, limiting to 1000 req/s"));
  CHECK(Has(o.reason, "300 req/s per client"));
}

TEST_CASE("shed: below max_active, only after protect_after without the capacity arriving") {
  ShedDecider d(Spec());
  CHECK_FALSE(d.Decide(In(500, 3, false, kT0)).limits.active());
  CHECK_FALSE(d.Decide(In(500, 3, false, kT0 + 29 * kSecond)).limits.active());
  ShedOutcome o = d.Decide(In(500, 3, false, kT0 + 30 * kSecond));
  CHECK(o.limits.rate == 300);
  CHECK(Has(o.reason, "for 30s without more capacity"));
  // An overload that stops restarts the clock.
  ShedDecider e(Spec());
  e.Decide(In(500, 3, false, kT0));
  e.Decide(In(200, 3, false, kT0 + 20 * kSecond));
  CHECK_FALSE(e.Decide(In(500, 3, false, kT0 + 40 * kSecond)).limits.active());
}

TEST_CASE("shed: in force, the limit follows the capacity, lifted after release_after below release_below") {
  ShedDecider d(Spec());
  TimeMs t = kT0;
  REQUIRE(d.Decide(In(1500, 10, true, t)).limits.rate == 1000);
  // A server more (max_active raised): the limit follows.
  ShedOutcome o = d.Decide(In(1500, 11, true, t += 15 * kSecond));
  CHECK(o.limits.rate == 1100);
  CHECK(o.changed);
  // Load at the edge, wobbling around the capacity: never lifted, no flapping.
  for (double load : {1050.0, 990.0, 1120.0, 950.0, 1010.0, 900.0, 1200.0}) {
    o = d.Decide(In(load, 11, true, t += 15 * kSecond));
    CHECK(o.limits.active());
  }
  // Below 80% (880) for 30 s: lifted.
  CHECK(d.Decide(In(800, 11, true, t += 15 * kSecond)).limits.active());
  CHECK(d.Decide(In(850, 11, true, t += 15 * kSecond)).limits.active());
  o = d.Decide(In(700, 11, true, t += 15 * kSecond));
  CHECK_FALSE(o.limits.active());
  CHECK(o.changed);
  CHECK(Has(o.reason, "shed: lifted, the load 700 has been below 80% of the capacity 1100 for 30s"));
  // And not again until overloaded again.
  CHECK_FALSE(d.Decide(In(1000, 11, true, t += 15 * kSecond)).limits.active());
}

TEST_CASE("shed: lifted when the pool can grow again and carries the load, and a missing load keeps the limits") {
  ShedDecider d(Spec());
  TimeMs t = kT0;
  REQUIRE(d.Decide(In(1500, 10, true, t)).limits.active());
  ShedInput missing = In(0, 10, true, t += 15 * kSecond);
  missing.load.reset();
  ShedOutcome o = d.Decide(missing);
  CHECK(o.limits.rate == 1000);
  CHECK_FALSE(o.changed);
  CHECK(o.reason == "shed: the load is missing, keeping the limits");
  o = d.Decide(In(1500, 16, false, t += 15 * kSecond));  // max_active raised, servers added
  CHECK_FALSE(o.limits.active());
  CHECK(Has(o.reason, "the pool can grow again"));
}

TEST_CASE("shed: per_client off sets only the frontend's limit") {
  ShedSpec spec = Spec();
  spec.per_client = false;
  ShedDecider d(spec);
  ShedOutcome o = d.Decide(In(300, 1, true, kT0, {{"bot", 250}, {"u", 50}}));
  CHECK(o.limits.rate == 100);
  CHECK(o.limits.client == 0);
}

TEST_CASE("shed: server_concurrency caps each server while the limits are in force, and is lifted with them") {
  ShedSpec spec = Spec();
  spec.server_concurrency = 8;
  ShedDecider d(spec);
  ShedOutcome o = d.Decide(In(90, 1, true, kT0, {}));  // within capacity: nothing in force
  CHECK_FALSE(o.limits.active());
  CHECK(o.limits.server_concurrency == 0);
  o = d.Decide(In(300, 1, true, kT0 + kSecond, {}));
  CHECK(o.limits.server_concurrency == 8);
  CAPTURE(o.reason);
  CHECK(o.reason.find(", 8 at once per server (the rest queued, then 503)") != std::string::npos);
  ShedLimits only_cap;
  only_cap.server_concurrency = 1;
  CHECK(only_cap.active());
  o = d.Decide(In(10, 1, true, kT0 + 2 * kSecond, {}));
  o = d.Decide(In(10, 1, true, kT0 + 2 * kSecond + spec.release_after, {}));
  CHECK_FALSE(o.limits.active());
  CHECK(o.limits.server_concurrency == 0);
}
