// The backtest with warm tiers (issue 17): hours per state and their cost on a tiny hand-made trace,
// a stopped standby that serves only after its resume delay, the oracle with a stopped tier, and the
// HPA baseline that never has one.
#include <doctest/doctest.h>

#include "controller/backtest/backtest.h"
#include "controller/backtest/capacity_model.h"
#include "controller/backtest/compare.h"
#include "controller/backtest/hpa_baseline.h"
#include "controller/backtest/oracle.h"
#include "policies/warm_pool_sizer.h"

using namespace warmpool;

namespace {

constexpr double kH = 3600;  // seconds per hour

// `rates` requests/s, one point per minute from t = 1,000,000 s.
std::shared_ptr<const Trace> PerMinute(const std::vector<double>& rates) {
  std::string csv = "timestamp,requests\n";
  for (size_t i = 0; i < rates.size(); ++i) {
    csv += std::to_string(1000000 + i * 60) + "," + std::to_string(rates[i] * 60) + "\n";
  }
  return std::make_shared<const Trace>(*ParseTrace(csv, "tiny.csv"));
}

// One active server is enough at 5/s (capacity 10, target 8); running and stopped tiers as given.
PoolSpec Pool(int running, int stopped) {
  PoolSpec s;
  s.name = "web";
  s.min_active = 1;
  s.max_active = 10;
  s.warm_standby = running;
  s.warm_stopped = stopped;
  s.metrics = {MetricQuery{"rps", "", 5 * kMinute, 15 * kSecond}};
  s.policies = {
      PluginSpec{"target_tracking", "rps",
                 Params{"pools[0].policies[0]", "", {{"metric", "rps"}, {"target_per_server", "8"}}}}};
  s.provider = PluginSpec{"simulated", "",
                          Params{"pools[0].provider",
                                 "",
                                 {{"capacity_per_server", "10"},
                                  {"promotion_delay", "2s"},
                                  {"provisioning_delay", "60s"},
                                  {"resume_delay", "20s"},
                                  {"cost.active", "1"},
                                  {"cost.standby", "0.5"},
                                  {"cost.stopped", "0.1"},
                                  {"initial_active", "1"},
                                  {"initial_standby", std::to_string(running)}}}};
  return s;
}

BacktestResult Run(const PoolSpec& spec, std::shared_ptr<const Trace> trace, bool timeline = false) {
  BacktestOptions opts;
  opts.timeline = timeline;
  Result<BacktestResult> r = RunBacktest(spec, std::move(trace), opts);
  REQUIRE_MESSAGE(r.ok(), r.status().message());
  return std::move(r).value();
}

}  // namespace

TEST_CASE("backtest tiers: hours per state and their cost, exactly, on a constant load") {
  // 10 minutes at 5/s: one active server throughout, one running standby throughout, and the
  // stopped tier's server: provisioned at t = 0 (60 s, priced as running), suspended at the 60 s tick,
  // stopped for the remaining 540 s.
  const BacktestResult r = Run(Pool(1, 1), PerMinute(std::vector<double>(10, 5)), true);
  const BacktestSummary& s = r.summary;
  CHECK(s.active_server_hours == doctest::Approx(600 / kH));
  CHECK(s.standby_server_hours == doctest::Approx((600 + 60) / kH));
  CHECK(s.stopped_server_hours == doctest::Approx(540 / kH));
  CHECK(s.total_server_hours() == doctest::Approx((600 + 660 + 540) / kH));
  CHECK(s.cost == doctest::Approx((600 * 1 + 660 * 0.5 + 540 * 0.1) / kH));
  CHECK(s.unserved_requests == 0);
  REQUIRE(r.timeline.size() == 40);
  CHECK(r.timeline[0].provisioning == 1);
  CHECK(r.timeline[3].stopped == 0);  // 45 s: still provisioning
  CHECK(r.timeline[4].stopped == 1);  // 60 s: ready, and suspended by the same tick
  CHECK(r.timeline.back().stopped == 1);
  CHECK(r.timeline.back().standby == 1);
  // Without a stopped tier: the same run, no stopped hours, cost = hours priced.
  const BacktestResult none = Run(Pool(1, 0), PerMinute(std::vector<double>(10, 5)));
  CHECK(none.summary.stopped_server_hours == 0);
  CHECK(none.summary.cost == doctest::Approx((600 * 1 + 600 * 0.5) / kH));
  // JSON and text report them.
  const std::string json = BacktestToJson(r);
  CHECK(json.find("\"stopped_server_hours\"") != std::string::npos);
  CHECK(json.find("\"cost\"") != std::string::npos);
  CHECK(BacktestToText(s).find("  cost                 0.3 (active-server-hour equivalents)") !=
        std::string::npos);
}

TEST_CASE("backtest tiers: a surge is met by the running standby at once, the stopped one after its resume") {
  // 5/s for 5 minutes, then 25/s (3 servers at 10 each) for 5 minutes: one active, one running, one
  // stopped standby. The ramp crosses 10/s at ~4.25 min and 20/s at ~4.75 min (linear between points).
  std::vector<double> rates(10, 5);
  for (size_t i = 5; i < 10; ++i) rates[i] = 25;
  PoolSpec spec = Pool(1, 1);
  // Start with the stopped standby in place (the tick at 0 would otherwise provision it).
  const BacktestResult r = Run(spec, PerMinute(rates), true);
  int first_resume = -1, first_three = -1;
  for (size_t i = 0; i < r.timeline.size(); ++i) {
    const BacktestTick& t = r.timeline[i];
    if (first_resume < 0 && t.plan.find("resume") != std::string::npos) first_resume = static_cast<int>(i);
    if (first_three < 0 && t.capacity >= 30) first_three = static_cast<int>(i);
  }
  REQUIRE(first_resume >= 0);
  REQUIRE(first_three >= 0);
  // The resumed server serves only after the resume delay (20 s) and a promotion: at least two
  // ticks (15 s each) after it was resumed.
  CHECK(first_three >= first_resume + 2);
  CHECK(r.summary.stopped_server_hours > 0);
}

TEST_CASE("oracle tiers: a gap is bridged stopped when that is cheapest, and stays a lower bound") {
  // One point per minute, 60 min: level 2 serves 9.5 -> 19.5 min and 29.5 -> 39.5 min: a 600 s gap.
  Trace t;
  t.source = "synthetic";
  t.start = 0;
  t.step = kMinute;
  t.rates.assign(60, 5);
  for (int i = 10; i < 20; ++i) t.rates[static_cast<size_t>(i)] = 15;
  for (int i = 30; i < 40; ++i) t.rates[static_cast<size_t>(i)] = 15;
  SimulatedSpec m;
  m.capacity_per_server = 10;
  m.provisioning_delay = 90 * kSecond;
  m.promotion_delay = 2 * kSecond;
  m.drain_delay = 0;
  m.resume_delay = 20 * kSecond;
  PoolSpec pool;
  pool.name = "web";
  pool.min_active = 1;
  pool.max_active = 10;
  // No stopped tier: keep costs 600, renew 92: a new server (two leads of 90 s + 2 s).
  OracleResult none = RunOracle(pool, m, t, {}, false);
  CHECK(none.summary.active_server_hours == doctest::Approx((3600 + 600 + 600 + 2 + 2) / kH));
  CHECK(none.summary.standby_server_hours == doctest::Approx((90 + 90) / kH));
  CHECK(none.summary.stopped_server_hours == 0);
  CHECK(none.summary.cost == doctest::Approx((4804 + 180 + 0) / kH));  // default prices 1, 1 (0.1)
  // A stopped tier: drain 0 + resume 20 + promote 2, stopped 578 s at 0.1: 2 + 20 + 57.8 = 79.8 < 92.
  pool.warm_stopped = 1;
  OracleResult tier = RunOracle(pool, m, t, {}, false);
  CHECK(tier.summary.active_server_hours == doctest::Approx((3600 + 600 + 600 + 2 + 2) / kH));
  CHECK(tier.summary.standby_server_hours == doctest::Approx((90 + 20) / kH));
  CHECK(tier.summary.stopped_server_hours == doctest::Approx(578 / kH));
  CHECK(tier.summary.cost == doctest::Approx((4804 + 110 + 57.8) / kH));
  CHECK(tier.summary.cost < none.summary.cost);
  // Stopped dearer (0.5): 2 + 20 + 289 > 92: a new server again.
  m.cost.stopped = 0.5;
  OracleResult dear = RunOracle(pool, m, t, {}, false);
  CHECK(dear.summary.stopped_server_hours == 0);
  CHECK(dear.summary.cost == doctest::Approx(none.summary.cost));
  // Prices apply to the hours: standby at 0.5 (no tier): renew = 2 + 45 < keep 300.
  m.cost = {1, 0.5, 0.1};
  pool.warm_stopped = 0;
  OracleResult priced = RunOracle(pool, m, t, {}, false);
  CHECK(priced.summary.cost == doctest::Approx((4804 * 1 + 180 * 0.5) / kH));
}

TEST_CASE("oracle tiers: never above what the backtest spends, with a stopped tier") {
  std::vector<double> rates(60, 5);
  for (size_t i = 20; i < 30; ++i) rates[i] = 25;
  for (size_t i = 45; i < 50; ++i) rates[i] = 25;
  const PoolSpec spec = Pool(1, 2);
  const std::shared_ptr<const Trace> trace = PerMinute(rates);
  const BacktestResult run = Run(spec, trace);
  Result<SimulatedSpec> model = ResolveCapacityModel(spec);
  REQUIRE(model.ok());
  const OracleResult oracle = RunOracle(spec, *model, *trace, {}, false);
  CHECK(oracle.summary.cost <= run.summary.cost);
}

TEST_CASE("HPA baseline: never a stopped tier") {
  PoolSpec spec = Pool(1, 3);
  spec.stopped_auto.enabled = true;
  SimulatedSpec model;
  Result<HpaBaseline> hpa = MakeHpaBaseline(spec, model);
  REQUIRE(hpa.ok());
  CHECK_FALSE(hpa->spec.HasStoppedTier());
  CHECK(hpa->spec.MaxStopped() == 0);
}

TEST_CASE("backtest tiers: stopped: auto sizes the stopped tier within its bounds, beyond the running tier") {
  // Spikes to 45/s every 20 minutes from a base of 5/s: the 10-minute p99 rise is large, the running
  // tier fixed at 1: the stopped tier is what the rise needs beyond the actives and the running one.
  std::vector<double> rates(120, 5);
  for (size_t i = 0; i < rates.size(); i += 20) rates[i + 10] = 45;
  PoolSpec spec = Pool(1, 0);
  spec.stopped_auto = StoppedAutoDefaults(WarmAutoSpec{});
  spec.stopped_auto.enabled = true;
  spec.stopped_auto.metric = "rps";
  spec.stopped_auto.server_capacity = 10;
  spec.stopped_auto.season = 0;
  spec.stopped_auto.max = 3;
  REQUIRE(spec.HasStoppedTier());
  const BacktestResult r = Run(spec, PerMinute(rates), true);
  int most = 0;
  for (const BacktestTick& t : r.timeline) most = std::max(most, t.stopped);
  CHECK(most >= 1);
  CHECK(most <= 3);   // max
  bool said = false;  // the decision says how it sized the tier, on the ticks that explain
  for (const BacktestTick& t : r.timeline)
    said = said || t.reason.find("; stopped standby ") != std::string::npos;
  CHECK(said);
  CHECK(r.summary.stopped_server_hours > 0);
  // A stopped tier fixed at 0 (the same pool otherwise) never stops anything.
  const BacktestResult none = Run(Pool(1, 0), PerMinute(rates));
  CHECK(none.summary.stopped_server_hours == 0);
}
