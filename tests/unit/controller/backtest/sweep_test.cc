// Sweeps: parsing, settings, the Pareto front, and results identical to running each point alone.
#include "controller/backtest/sweep.h"

#include <doctest/doctest.h>

#include "controller/backtest/parallel.h"

using namespace warmpool;

namespace {

// A day-like swing with a surge: 2 hours at one-minute steps.
std::shared_ptr<const Trace> SwingTrace() {
  std::string csv = "timestamp,requests\n";
  for (int i = 0; i < 120; ++i) {
    int per_min = 600 + (i % 40) * 60;      // a saw 10/s -> 49/s
    if (i >= 70 && i < 80) per_min = 4800;  // a surge to 80/s
    csv += std::to_string(2000000 + i * 60) + "," + std::to_string(per_min) + "\n";
  }
  return std::make_shared<const Trace>(*ParseTrace(csv, "swing.csv"));
}

PoolSpec Pool() {
  PoolSpec s;
  s.name = "web";
  s.min_active = 1;
  s.max_active = 20;
  s.warm_standby = 1;
  s.metrics = {MetricQuery{"rps", "", 5 * kMinute, 15 * kSecond}};
  s.policies = {
      PluginSpec{"target_tracking", "rps", Params{"p0", "", {{"metric", "rps"}, {"target_per_server", "8"}}}},
      PluginSpec{"predictive", "forecast",
                 Params{"p1", "", {{"metric", "rps"}, {"target_per_server", "9"}, {"season", "0"}}}}};
  s.provider = PluginSpec{"haproxy", "", {}};
  s.capacity_model = PluginSpec{"simulated", "", Params{"m", "", {{"capacity_per_server", "10"}}}};
  return s;
}

SweepPoint Point(double unserved, double hours) {
  SweepPoint p;
  p.summary.unserved_requests = unserved;
  p.summary.active_server_hours = hours;
  p.summary.cost = hours;
  return p;
}

}  // namespace

TEST_CASE("sweep: parses KEY=v1,v2,KEY2=v, errors say what is wrong") {
  Result<std::vector<SweepAxis>> axes = ParseSweep(" target = 6, 8 ;warm_standby=0,1,2;");
  REQUIRE(axes.ok());
  REQUIRE(axes->size() == 2);
  CHECK((*axes)[0].key == "target");
  CHECK((*axes)[0].values == std::vector<std::string>{"6", "8"});
  CHECK((*axes)[1].values.size() == 3);
  CHECK(SweepGrid(*axes).size() == 6);
  CHECK(SweepGrid(*axes)[1] ==
        std::vector<std::pair<std::string, std::string>>{{"target", "6"}, {"warm_standby", "1"}});
  CHECK(ParseSweep("target").status().message() == "--sweep: expected KEY=v1,v2,..., got \"target\"");
  CHECK(ParseSweep("target=1,,2").status().message().find("empty value") != std::string::npos);
  CHECK(ParseSweep("a=1;a=2").status().message() == "--sweep: key a given twice");
  CHECK_FALSE(ParseSweep("").ok());
}

TEST_CASE("sweep: settings reach the pool, its policies and the interval") {
  PoolSpec s = Pool();
  DurationMs interval = 15 * kSecond;
  CHECK(ApplySweepSetting("target", "6.5", &s, &interval).ok());
  CHECK(s.policies[0].params.values.at("target_per_server") == "6.5");
  CHECK(s.policies[1].params.values.at("target_per_server") == "9");  // only the first
  CHECK(ApplySweepSetting("horizon", "5m", &s, &interval).ok());
  CHECK(s.policies[1].params.values.at("horizon") == "5m");
  CHECK(ApplySweepSetting("warm_standby", "4", &s, &interval).ok());
  CHECK(s.warm_standby == 4);
  CHECK(ApplySweepSetting("scale_down_window", "2m", &s, &interval).ok());
  CHECK(s.behavior.scale_down.stabilization_window == 2 * kMinute);
  CHECK(ApplySweepSetting("interval", "30s", &s, &interval).ok());
  CHECK(interval == 30 * kSecond);
  CHECK(ApplySweepSetting("forecast.alpha", "0.3", &s, &interval).ok());
  CHECK(s.policies[1].params.values.at("alpha") == "0.3");
  CHECK(ApplySweepSetting("warm_standby", "-1", &s, &interval).message() ==
        "--sweep warm_standby=-1: must be a whole number >= 0");
  CHECK(ApplySweepSetting("interval", "0s", &s, &interval).message() == "--sweep interval=0s: must be > 0");
  CHECK(ApplySweepSetting("nope.alpha", "1", &s, &interval).message().find("no policy named \"nope\"") !=
        std::string::npos);
  CHECK(ApplySweepSetting("targt", "1", &s, &interval).message().find("unknown key") != std::string::npos);
}

TEST_CASE("sweep: a warm.SETTING keeps the point's warm_standby, a count or auto, in either order") {
  PoolSpec s = Pool();
  s.warm_auto.enabled = true;
  s.warm_auto.server_capacity = 10;
  DurationMs interval = 15 * kSecond;
  // warm_standby=0 then warm.quantile=0.99 (the grid's order when warm_standby comes first): no warm pool.
  CHECK(ApplySweepSetting("warm_standby", "0", &s, &interval).ok());
  CHECK(ApplySweepSetting("warm.quantile", "0.99", &s, &interval).ok());
  CHECK_FALSE(s.warm_auto.enabled);
  CHECK(s.warm_standby == 0);
  CHECK(s.warm_auto.quantile == 0.99);
  // The setting first, then auto: auto with the setting.
  CHECK(ApplySweepSetting("warm.quantile", "0.95", &s, &interval).ok());
  CHECK(ApplySweepSetting("warm_standby", "auto", &s, &interval).ok());
  CHECK(s.warm_auto.enabled);
  CHECK(s.warm_auto.quantile == 0.95);
  // Without a warm_standby axis, the config's auto stays on.
  CHECK(ApplySweepSetting("warm.max", "5", &s, &interval).ok());
  CHECK(s.warm_auto.enabled);
}

TEST_CASE("sweep: the warm tiers' keys: warm_stopped (warm.stopped), warm.running, stopped.SETTING") {
  PoolSpec s = Pool();
  DurationMs interval = 15 * kSecond;
  CHECK(ApplySweepSetting("warm_stopped", "3", &s, &interval).ok());
  CHECK(s.warm_stopped == 3);
  CHECK(s.HasStoppedTier());
  CHECK(ApplySweepSetting("warm.running", "2", &s, &interval).ok());
  CHECK(s.warm_standby == 2);
  // stopped.SETTING needs stopped: auto settings; auto takes its defaults on the policy's load metric.
  CHECK(ApplySweepSetting("stopped.quantile", "0.9", &s, &interval).message() ==
        "--sweep stopped.quantile=0.9: the pool's config has no warm_standby.stopped.auto settings");
  CHECK(ApplySweepSetting("warm.stopped", "auto", &s, &interval).ok());
  CHECK(s.stopped_auto.enabled);
  CHECK(s.stopped_auto.metric == "rps");
  CHECK(s.stopped_auto.server_capacity == 8);
  CHECK(s.stopped_auto.horizon == 10 * kMinute);
  CHECK(ApplySweepSetting("stopped.horizon", "20m", &s, &interval).ok());
  CHECK(s.stopped_auto.horizon == 20 * kMinute);
  CHECK(s.stopped_auto.enabled);
  CHECK(ApplySweepSetting("warm_stopped", "0", &s, &interval).ok());
  CHECK_FALSE(s.HasStoppedTier());
  CHECK_FALSE(ApplySweepSetting("warm_stopped", "some", &s, &interval).ok());
}

TEST_CASE("sweep: the front read on HPA's curve, ratios or the side of its range") {
  // HPA's curve through (hours, unserved) = (80, 99) and (90, 9): at 85 h it leaves 10^1.5 - 1 = 30.62.
  std::vector<HpaCurvePoint> curve(2);
  curve[0].target = 0.7, curve[0].summary = Point(9, 90).summary;
  curve[1].target = 0.8, curve[1].summary = Point(99, 80).summary;
  SweepResult sw;
  sw.axes = {{"warm_standby", {"0", "1", "2"}}};
  sw.points = {Point(15.31, 85), Point(500, 70), Point(1, 95)};
  for (size_t i = 0; i < sw.points.size(); ++i) sw.points[i].settings = {{"warm_standby", std::to_string(i)}};
  sw.front = {1, 0, 2};
  const std::string text = FrontVsCurveText(sw, curve);
  CHECK(text.find("Pareto front against HPA's curve") != std::string::npos);
  CHECK(text.find("unserved at equal h: 0.5x") != std::string::npos);  // 15.31 / 30.62
  CHECK(text.find("h at equal unserved: 0.") != std::string::npos);
  CHECK(text.find("unserved at equal h: outside (fewer h)") != std::string::npos);  // 70 h < 80
  CHECK(text.find("h at equal unserved: outside (more unserved)") != std::string::npos);  // 500 > 99
  CHECK(text.find("unserved at equal h: outside (more h)") != std::string::npos);  // 95 h > 90
  CHECK(text.find("h at equal unserved: outside (fewer unserved)") != std::string::npos);  // 1 < 9
  CHECK(text.find("warm_standby=2") != std::string::npos);
  CHECK(FrontVsCurveText(sw, {}).empty());
}

TEST_CASE("sweep: the Pareto front of unserved requests vs server-hours") {
  std::vector<SweepPoint> pts = {Point(100, 10), Point(50, 12),  Point(60, 13),
                                 Point(0, 20),   Point(100, 11), Point(50, 12)};
  // (60,13) is beaten by (50,12); (100,11) by (100,10); the two (50,12) tie and both stay.
  CHECK(ParetoFront(pts) == std::vector<size_t>{0, 1, 5, 3});
}

TEST_CASE("sweep: every point equals the same run alone, whatever the thread count") {
  auto axes = ParseSweep("target=6,9;warm_standby=0,2;scale_down_window=1m,5m");
  REQUIRE(axes.ok());
  SweepOptions one;
  one.threads = 1;
  SweepOptions many;
  many.threads = 4;  // more threads than cores is fine: the results must not care
  Result<SweepResult> a = RunSweep(Pool(), SwingTrace(), *axes, one);
  Result<SweepResult> b = RunSweep(Pool(), SwingTrace(), *axes, many);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  REQUIRE(a->points.size() == 8);
  CHECK(a->threads == 1);
  CHECK(b->threads == 4);
  for (size_t i = 0; i < a->points.size(); ++i) {
    CAPTURE(i);
    PoolSpec alone = Pool();
    DurationMs interval = 15 * kSecond;
    for (const auto& [k, v] : a->points[i].settings) REQUIRE(ApplySweepSetting(k, v, &alone, &interval).ok());
    BacktestOptions opts;
    opts.interval = interval;
    Result<BacktestResult> r = RunBacktest(alone, SwingTrace(), opts);
    REQUIRE(r.ok());
    for (const BacktestSummary* s : {&a->points[i].summary, &b->points[i].summary}) {
      CHECK(s->unserved_requests == r->summary.unserved_requests);  // exactly: same code, same inputs
      CHECK(s->active_server_hours == r->summary.active_server_hours);
      CHECK(s->standby_server_hours == r->summary.standby_server_hours);
      CHECK(s->scale_events == r->summary.scale_events);
      CHECK(s->direction_changes == r->summary.direction_changes);
    }
    CHECK(a->points[i].pareto == b->points[i].pareto);
  }
  CHECK(a->front == b->front);
  CHECK(!a->front.empty());
  // The points differ: the grid really changed the runs.
  CHECK(a->points[0].summary.total_server_hours() != a->points[7].summary.total_server_hours());
  const std::string text = SweepToText(*a);
  CHECK(text.find("Pareto front") != std::string::npos);
  CHECK(text.find("warm_standby") != std::string::npos);
}

TEST_CASE("sweep: a bad point fails before anything runs, naming the point") {
  auto axes = ParseSweep("target=8,-1");
  REQUIRE(axes.ok());
  Result<SweepResult> r = RunSweep(Pool(), SwingTrace(), *axes, SweepOptions{});
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("--sweep point target=-1: p0.target_per_server") != std::string::npos);
}

TEST_CASE("parallel: every index exactly once") {
  std::vector<int> hits(1000, 0);
  const int used = ParallelFor(hits.size(), 3, [&](size_t i) { ++hits[i]; });
  CHECK(used == 3);
  for (int h : hits) CHECK(h == 1);
  CHECK(ParallelFor(0, 2, [](size_t) {}) == 1);
}
