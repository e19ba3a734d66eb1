// The oracle on tiny synthetic traces, with server-hours computed by hand.
#include "controller/backtest/oracle.h"

#include <doctest/doctest.h>

using namespace warmpool;

namespace {

// One point per minute from t = 0, in requests per second.
Trace PerSecond(const std::vector<double>& rates) {
  Trace t;
  t.source = "synthetic";
  t.start = 0;
  t.step = kMinute;
  t.rates = rates;
  return t;
}

// `n` minutes at `low`, with `high` over the given point ranges [from, to).
std::vector<double> Pulses(int n, double low, double high, std::vector<std::pair<int, int>> ranges) {
  std::vector<double> r(static_cast<size_t>(n), low);
  for (auto [from, to] : ranges) {
    for (int i = from; i < to; ++i) r[static_cast<size_t>(i)] = high;
  }
  return r;
}

PoolSpec Pool(int min_active, int max_active) {
  PoolSpec s;
  s.name = "web";
  s.min_active = min_active;
  s.max_active = max_active;
  return s;
}

SimulatedSpec Model(DurationMs drain = 0) {
  SimulatedSpec m;
  m.capacity_per_server = 10;
  m.provisioning_delay = 90 * kSecond;
  m.promotion_delay = 2 * kSecond;
  m.drain_delay = drain;
  return m;
}

constexpr double kH = 3600;  // seconds per hour

}  // namespace

TEST_CASE("oracle: constant load needs ceil(load / capacity) servers for the whole span, nothing else") {
  OracleResult r = RunOracle(Pool(1, 10), Model(), PerSecond(std::vector<double>(60, 25)), {}, true);
  CHECK(r.summary.active_server_hours == doctest::Approx(3.0));  // 3 servers x 1 h
  CHECK(r.summary.standby_server_hours == 0);                    // needed at T0: they already exist
  CHECK(r.summary.unserved_requests == 0);
  CHECK(r.summary.scale_events == 0);
  CHECK(r.summary.peak_active == 3);
  CHECK(r.summary.total_requests == doctest::Approx(25.0 * 3600));
  REQUIRE(r.steps.size() == 1);
  CHECK(r.steps[0].serving == 3);
  CHECK(r.steps[0].existing == 3);
}

TEST_CASE("oracle: needed(t) steps where the linear load crosses a multiple of the capacity") {
  // 5/s for 10 min, 15/s for 10 min, 5/s for 10 min: the load crosses 10/s half-way between points,
  // at 9.5 min (2 needed from there) and 19.5 min (1 again).
  std::vector<OracleStep> n = OracleNeeded(PerSecond(Pulses(30, 5, 15, {{10, 20}})), 10, 1, 10);
  REQUIRE(n.size() == 3);
  CHECK(n[0].t == 0);
  CHECK(n[0].serving == 1);
  CHECK(n[1].t == 9 * kMinute + 30 * kSecond);
  CHECK(n[1].serving == 2);
  CHECK(n[2].t == 19 * kMinute + 30 * kSecond);
  CHECK(n[2].serving == 1);
  // min_active lifts the floor; max_active caps.
  CHECK(OracleNeeded(PerSecond(Pulses(30, 5, 15, {{10, 20}})), 10, 2, 10).size() == 1);
  CHECK(OracleNeeded(PerSecond(Pulses(30, 5, 35, {{10, 20}})), 10, 1, 2).back().serving == 1);
}

TEST_CASE("oracle: one surge pays its provisioning and promotion lead") {
  OracleResult r = RunOracle(Pool(1, 10), Model(), PerSecond(Pulses(30, 5, 15, {{10, 20}})), {}, true);
  // Level 1: the whole 30 min. Level 2: serving 9.5 -> 19.5 min, started 92 s earlier: 90 s
  // provisioning (standby) + 2 s promotion (active). No drain delay.
  CHECK(r.summary.active_server_hours == doctest::Approx((30 * 60 + 10 * 60 + 2) / kH));
  CHECK(r.summary.standby_server_hours == doctest::Approx(90 / kH));
  CHECK(r.summary.scale_events == 2);
  CHECK(r.summary.direction_changes == 1);
  CHECK(r.summary.peak_active == 2);
  CHECK(r.summary.unserved_requests == 0);
  // existing: 1, then 2 from 9.5 min - 92 s, back to 1 at 19.5 min.
  REQUIRE(r.steps.size() == 4);
  CHECK(r.steps[1].t == 9 * kMinute + 30 * kSecond - 92 * kSecond);
  CHECK(r.steps[1].serving == 1);
  CHECK(r.steps[1].existing == 2);
  CHECK(r.steps[2].serving == 2);
  CHECK(r.steps[3].existing == 1);
}

TEST_CASE("oracle: a gap shorter than lead + drain is bridged, a longer one is not") {
  // Level 2 serves 9.5 -> 14.5 min and 16.5 -> 21.5 min: a 120 s gap.
  const Trace t = PerSecond(Pulses(30, 5, 15, {{10, 15}, {17, 22}}));
  // Drain 0: lead + drain = 92 s < 120 s: stop and start again: two leads of 90 s + 2 s.
  OracleResult stop = RunOracle(Pool(1, 10), Model(0), t, {}, false);
  CHECK(stop.summary.active_server_hours == doctest::Approx((30 * 60 + 10 * 60 + 2 * 2) / kH));
  CHECK(stop.summary.standby_server_hours == doctest::Approx(2 * 90 / kH));
  // Drain 30 s: 122 s >= 120 s: keep it idle through the gap (120 s), one lead, and the final
  // drain after 21.5 min (30 s, active as the simulated pool counts draining).
  OracleResult keep = RunOracle(Pool(1, 10), Model(30 * kSecond), t, {}, false);
  CHECK(keep.summary.active_server_hours == doctest::Approx((30 * 60 + 10 * 60 + 2 + 30) / kH));
  CHECK(keep.summary.standby_server_hours == doctest::Approx((90 + 120) / kH));
}

TEST_CASE("oracle: a lead that would start before the trace is clipped to its start") {
  // 2 needed from 30 s (the load crosses 10/s half-way to the second point).
  OracleResult r = RunOracle(Pool(1, 10), Model(), PerSecond(Pulses(10, 5, 15, {{1, 10}})), {}, false);
  // Level 2: serving 30 s -> 10 min; started at T0: 28 s provisioning, 2 s promotion.
  CHECK(r.summary.active_server_hours == doctest::Approx((10 * 60 + 9.5 * 60 + 2) / kH));
  CHECK(r.summary.standby_server_hours == doctest::Approx(28 / kH));
}

TEST_CASE("oracle: only load above max_active can go unserved") {
  OracleResult r = RunOracle(Pool(1, 2), Model(), PerSecond(std::vector<double>(60, 25)), {}, false);
  CHECK(r.summary.active_server_hours == doctest::Approx(2.0));
  CHECK(r.summary.unserved_requests == doctest::Approx(5.0 * 3600));
  CHECK(r.summary.overloaded_seconds == doctest::Approx(3600));
}

TEST_CASE("oracle: a masked gap keeps the held load and is not scored") {
  // 25/s, then 30 min of zeros (a collection gap), then 25/s again; max_active 2 so that load is unserved.
  std::vector<double> rates = Pulses(60, 25, 0, {{10, 40}});
  const std::vector<TimeSpan> gap = {{10 * kMinute, 40 * kMinute}};
  OracleResult masked = RunOracle(Pool(1, 2), Model(), PerSecond(rates), gap, false);
  OracleResult unmasked = RunOracle(Pool(1, 2), Model(), PerSecond(rates), {}, false);
  // Held at 25/s through the gap: 2 servers all along, none stopped.
  CHECK(masked.summary.active_server_hours == doctest::Approx(2.0));
  CHECK(masked.summary.masked_seconds == 1800);
  // Unserved only outside the gap: 5/s over 30 min (ramps excluded: the held load is flat).
  CHECK(masked.summary.unserved_requests == doctest::Approx(5.0 * 1800));
  CHECK(unmasked.summary.active_server_hours < 2.0);
  CHECK(masked.summary.total_requests == unmasked.summary.total_requests);
}
