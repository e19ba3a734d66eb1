#include "controller/backtest/backtest.h"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

using namespace warmpool;

namespace {

// 20 min at 10/s, 20 min at 50/s, 20 min at 10/s, 1-minute steps.
std::shared_ptr<const Trace> StepTrace() {
  std::string csv = "timestamp,requests\n";
  for (int i = 0; i < 60; ++i) {
    const int per_min = (i >= 20 && i < 40) ? 3000 : 600;
    csv += std::to_string(1000000 + i * 60) + "," + std::to_string(per_min) + "\n";
  }
  return std::make_shared<const Trace>(*ParseTrace(csv, "step.csv"));
}

PoolSpec Pool(int warm, const char* provisioning_delay) {
  PoolSpec s;
  s.name = "web";
  s.min_active = 2;
  s.max_active = 20;
  s.warm_standby = warm;
  s.metrics = {MetricQuery{"rps", "", 5 * kMinute, 15 * kSecond}};
  s.policies = {
      PluginSpec{"target_tracking", "rps",
                 Params{"pools[0].policies[0]", "", {{"metric", "rps"}, {"target_per_server", "8"}}}}};
  s.provider = PluginSpec{"simulated", "",
                          Params{"pools[0].provider",
                                 "",
                                 {{"capacity_per_server", "10"},
                                  {"promotion_delay", "2s"},
                                  {"provisioning_delay", provisioning_delay},
                                  {"initial_active", "2"},
                                  {"initial_standby", std::to_string(warm)}}}};
  return s;
}

BacktestResult Run(const PoolSpec& spec, bool timeline = false) {
  BacktestOptions opts;
  opts.timeline = timeline;
  Result<BacktestResult> r = RunBacktest(spec, StepTrace(), opts);
  REQUIRE(r.ok());
  return std::move(r).value();
}

}  // namespace

TEST_CASE("backtest: scores a step surge, a warm pool serves it in seconds, a cold one does not") {
  BacktestResult warm = Run(Pool(6, "90s"));
  BacktestResult cold = Run(Pool(0, "90s"));
  const BacktestSummary& w = warm.summary;
  const BacktestSummary& c = cold.summary;
  CHECK(w.total_requests == doctest::Approx(600.0 * 40 + 3000 * 20));
  CHECK(w.ticks == 240);
  // The surge reaches the trace at minute 19-20 (linear ramp); with 6 warm servers capacity
  // arrives within one tick plus the 2 s promotion delay.
  CHECK(w.unserved_requests < c.unserved_requests / 5);
  CHECK(c.unserved_requests > 500);
  CHECK(w.overloaded_seconds < c.overloaded_seconds);
  CHECK(w.peak_active >= 7);  // 50/s at 8 per server
  CHECK(w.scale_events >= 2);
  CHECK(w.direction_changes >= 1);
  CHECK(w.standby_server_hours > c.standby_server_hours);
  CHECK(w.active_server_hours > 2.0);  // at least the 2 minimum servers for an hour
}

TEST_CASE("backtest: deterministic, and the timeline has one row per tick with reasons on changes") {
  BacktestResult a = Run(Pool(2, "90s"), true);
  BacktestResult b = Run(Pool(2, "90s"), true);
  CHECK(a.summary.unserved_requests == b.summary.unserved_requests);
  CHECK(a.summary.active_server_hours == b.summary.active_server_hours);
  REQUIRE(a.timeline.size() == static_cast<size_t>(a.summary.ticks));
  int with_reason = 0;
  for (const BacktestTick& t : a.timeline) with_reason += !t.reason.empty();
  CHECK(with_reason == a.summary.scale_events);
}

TEST_CASE("backtest: JSON has every summary key and the timeline") {
  BacktestResult r = Run(Pool(2, "90s"), true);
  nlohmann::json j = nlohmann::json::parse(BacktestToJson(r));
  for (const char* key :
       {"total_requests", "unserved_requests", "overloaded_seconds", "active_server_hours",
        "standby_server_hours", "scale_events", "direction_changes", "ticks", "pool", "trace"}) {
    CAPTURE(key);
    CHECK(j["summary"].contains(key));
  }
  CHECK(j["timeline"].size() == r.timeline.size());
  CHECK(j["timeline"][0].contains("load"));
  CHECK(BacktestToText(r.summary).find("unserved requests") != std::string::npos);
}

TEST_CASE("backtest: refuses a pool without a simulated capacity model") {
  PoolSpec s = Pool(2, "90s");
  s.provider.type = "haproxy";
  Result<BacktestResult> r = RunBacktest(s, StepTrace(), BacktestOptions{});
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("provider.type simulated") != std::string::npos);
}

namespace {

// Four days at 1-minute steps: 30 requests/s, and a surge to 120/s every day from 12:00 to 12:30.
std::shared_ptr<const Trace> DailySurgeTrace() {
  std::string csv = "timestamp,requests\n";
  const int64_t day0 = 1'700'006'400;  // a midnight (UTC)
  for (int i = 0; i < 4 * 1440; ++i) {
    const int minute = i % 1440;
    const int per_min = minute >= 720 && minute < 750 ? 7200 : 1800;
    csv += std::to_string(day0 + i * 60) + "," + std::to_string(per_min) + "\n";
  }
  return std::make_shared<const Trace>(*ParseTrace(csv, "daily.csv"));
}

}  // namespace

TEST_CASE("backtest: warm_standby auto is ready for a daily surge and pays for standbys only then") {
  auto run = [](const PoolSpec& spec) {
    Result<BacktestResult> r = RunBacktest(spec, DailySurgeTrace(), BacktestOptions{});
    REQUIRE(r.ok());
    return r->summary;
  };
  PoolSpec fixed = Pool(2, "90s");  // 10/s per server: the base needs 3 servers, the surge 12
  fixed.min_active = 3;
  fixed.policies[0].params.values["target_per_server"] = "10";
  PoolSpec none = fixed;
  none.warm_standby = 0;
  none.provider.params.values["initial_standby"] = "0";
  PoolSpec big = fixed;
  big.warm_standby = 9;
  PoolSpec autos = none;
  autos.warm_auto.enabled = true;
  autos.warm_auto.metric = "rps";
  autos.warm_auto.server_capacity = 10;
  autos.warm_auto.max = 12;
  autos.warm_auto.season_share = 0.2;  // 2 of 7 earlier days: ready from the third day on
  const BacktestSummary f = run(fixed), n = run(none), b = run(big), a = run(autos);
  MESSAGE("unserved none " << n.unserved_requests << " fixed 2 " << f.unserved_requests << " fixed 9 "
                           << b.unserved_requests << " auto " << a.unserved_requests);
  MESSAGE("hours none " << n.total_server_hours() << " fixed 2 " << f.total_server_hours() << " fixed 9 "
                        << b.total_server_hours() << " auto " << a.total_server_hours());
  // Days 1 and 2 teach it; on days 3 and 4 it has 9 standbys ready before noon, as the fixed pool of 9
  // has all the time: those surges lose only what a tick's lag loses (the fixed pool of 9 every day).
  const double lag_loss = b.unserved_requests / 4;
  const double unready_loss = n.unserved_requests / 4;
  CHECK(lag_loss < 0.3 * unready_loss);
  CHECK(a.unserved_requests < 2 * unready_loss + 2 * lag_loss + 1);
  CHECK(a.unserved_requests < f.unserved_requests);
  // At a fraction of the fixed pool's standby hours: standbys only around noon (and after a jump).
  CHECK(a.standby_server_hours < 0.35 * b.standby_server_hours);
  CHECK(a.total_server_hours() < f.total_server_hours());
}
