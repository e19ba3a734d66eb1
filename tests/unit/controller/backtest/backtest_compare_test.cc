// The capacity model (and --fit-capacity), the HPA baseline's construction, the three-way comparison
// with its JSON, HPA's curve in a comparison, and the warning for a pool short of the trace's peak.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "controller/backtest/capacity_model.h"
#include "controller/backtest/compare.h"
#include "controller/backtest/hpa_baseline.h"
#include "controller/backtest/report/report.h"

using namespace warmpool;

namespace {

// 10/s for 20 min, 50/s for 20 min, 10/s for 20 min.
std::shared_ptr<const Trace> StepTrace() {
  std::string csv = "timestamp,requests\n";
  for (int i = 0; i < 60; ++i) {
    csv += std::to_string(1000000 + i * 60) + "," + ((i >= 20 && i < 40) ? "3000" : "600") + "\n";
  }
  return std::make_shared<const Trace>(*ParseTrace(csv, "step.csv"));
}

PoolSpec Pool() {
  PoolSpec s;
  s.name = "web";
  s.min_active = 2;
  s.max_active = 20;
  s.warm_standby = 3;
  s.metrics = {MetricQuery{"other", "", kMinute, 15 * kSecond},
               MetricQuery{"rps", "", 5 * kMinute, 15 * kSecond}};
  s.policies = {PluginSpec{"fixed", "floor", Params{"p0", "", {{"count", "2"}}}},
                PluginSpec{"target_tracking", "rps",
                           Params{"p1", "", {{"metric", "rps"}, {"target_per_server", "9"}}}}};
  s.behavior.scale_down.stabilization_window = kMinute;
  s.provider = PluginSpec{"haproxy", "", Params{"provider", "", {{"socket", "/run/haproxy.sock"}}}};
  s.capacity_model = PluginSpec{
      "simulated", "",
      Params{"pools[0].capacity_model", "", {{"capacity_per_server", "10"}, {"provisioning_delay", "90s"}}}};
  return s;
}

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("capacity model: from capacity_model (any provider), initial counts from the pool") {
  Result<SimulatedSpec> m = ResolveCapacityModel(Pool());
  REQUIRE(m.ok());
  CHECK(m->capacity_per_server == 10);
  CHECK(m->provisioning_delay == 90 * kSecond);
  CHECK(m->promotion_delay == 2 * kSecond);  // the simulated provider's default
  CHECK(m->initial_active == 2);             // min_active
  CHECK(m->initial_standby == 3);            // warm_standby
  PoolSpec explicit_counts = Pool();
  explicit_counts.capacity_model.params.values["initial_active"] = "5";
  explicit_counts.capacity_model.params.values["initial_standby"] = "0";
  CHECK(ResolveCapacityModel(explicit_counts)->initial_active == 5);
  CHECK(ResolveCapacityModel(explicit_counts)->initial_standby == 0);
}

TEST_CASE("capacity model: else the simulated provider's parameters, else a clear error") {
  PoolSpec sim = Pool();
  sim.capacity_model = {};
  sim.provider = PluginSpec{"simulated", "", Params{"p", "", {{"capacity_per_server", "7"}}}};
  Result<SimulatedSpec> m = ResolveCapacityModel(sim);
  REQUIRE(m.ok());
  CHECK(m->capacity_per_server == 7);
  CHECK(m->initial_active == 0);  // the provider's own default, as live

  PoolSpec none = Pool();
  none.capacity_model = {};
  Result<SimulatedSpec> err = ResolveCapacityModel(none);
  REQUIRE_FALSE(err.ok());
  CHECK(err.status().message().find("add capacity_model") != std::string::npos);
  CHECK(err.status().message().find("\"haproxy\"") != std::string::npos);

  PoolSpec typo = Pool();
  typo.capacity_model.params.values["capacity"] = "3";
  CHECK(ResolveCapacityModel(typo).status().message() == "pools[0].capacity_model.capacity: unknown key");
}

TEST_CASE("HPA baseline: target tracking at 80% of capacity, 15 s, HPA behavior, no warm pool") {
  const PoolSpec pool = Pool();
  Result<HpaBaseline> b = MakeHpaBaseline(pool, *ResolveCapacityModel(pool));
  REQUIRE(b.ok());
  CHECK(b->interval == 15 * kSecond);
  CHECK(b->spec.warm_standby == 0);
  CHECK(b->spec.MaxTotal() == pool.max_active);
  CHECK(b->spec.min_active == 2);
  CHECK(b->spec.max_active == 20);
  CHECK(b->model.initial_standby == 0);
  CHECK(b->model.initial_active == 2);
  CHECK(b->model.provisioning_delay == 90 * kSecond);
  REQUIRE(b->spec.policies.size() == 1);
  const PluginSpec& p = b->spec.policies[0];
  CHECK(p.type == "target_tracking");
  CHECK(p.params.values.at("metric") == "rps");  // the target_tracking policy's, not the first metric
  CHECK(std::stod(p.params.values.at("target_per_server")) == doctest::Approx(8.0));
  CHECK(p.params.values.at("tolerance") == "0.1");
  REQUIRE(b->spec.metrics.size() == 1);
  CHECK(b->spec.metrics[0].window == 5 * kMinute);
  const BehaviorSpec hpa = BehaviorSpec::Defaults();
  CHECK(b->spec.behavior.scale_down.stabilization_window == hpa.scale_down.stabilization_window);
  CHECK(b->spec.behavior.scale_up.limits.size() == hpa.scale_up.limits.size());

  PoolSpec no_metric = pool;
  no_metric.metrics.clear();
  CHECK_FALSE(MakeHpaBaseline(no_metric, SimulatedSpec{}).ok());

  // A utilization first and a rate second: the load is the rate, for the baseline as for
  // warm_standby: auto (policies/load_metric.h), not whichever policy comes first.
  PoolSpec mixed = pool;
  mixed.metrics.push_back(MetricQuery{"cpu", "avg(cpu)", 5 * kMinute, 15 * kSecond});
  mixed.policies.insert(mixed.policies.begin(),
                        PluginSpec{"target_tracking", "cpu",
                                   Params{"p", "", {{"metric", "cpu"}, {"target_utilization", "0.6"}}}});
  Result<HpaBaseline> m = MakeHpaBaseline(mixed, *ResolveCapacityModel(pool));
  REQUIRE(m.ok());
  CHECK(m->spec.policies[0].params.values.at("metric") == "rps");
  CHECK(m->spec.metrics[0].name == "rps");
}

TEST_CASE("HPA baseline: servers it ordered are kept through the scale-down window, as Kubernetes does") {
  // 10/s, then a one-minute blip to 50/s at minute 10, then 10/s again. HPA orders servers on the way
  // up; they are ready 90 s later, after the blip. Kubernetes counts them (its replicas include pods not
  // ready yet) and its 5-minute scale-down window keeps them; they are not dropped on arrival.
  std::string csv = "timestamp,requests\n";
  for (int i = 0; i < 30; ++i)
    csv += std::to_string(1000000 + i * 60) + "," + (i == 11 ? "3000" : "600") + "\n";
  auto trace = std::make_shared<const Trace>(*ParseTrace(csv, "blip.csv"));
  Result<HpaBaseline> b = MakeHpaBaseline(Pool(), *ResolveCapacityModel(Pool()));
  REQUIRE(b.ok());
  CHECK(b->spec.count_provisioning);
  BacktestOptions opts;
  opts.interval = b->interval;
  opts.timeline = true;
  Result<BacktestResult> r = RunBacktestWithModel(b->spec, b->model, trace, opts);
  REQUIRE(r.ok());
  auto active_at = [&](DurationMs since_start) {
    for (const BacktestTick& t : r->timeline) {
      if (t.t >= 1000000 * kSecond + since_start) return t.active;
    }
    return -1;
  };
  CHECK(active_at(9 * kMinute) == 2);
  CHECK(active_at(14 * kMinute) >= 6);  // ordered at ~10:30-11:00, ready ~12:30, kept
  CHECK(active_at(15 * kMinute) >= 6);  // within 5 minutes of the highest recommendation (11:00)
  CHECK(active_at(25 * kMinute) == 2);  // then the scale-down
}

TEST_CASE("comparison: oracle <= warmpool, and the cold baseline leaves more unserved than a warm pool") {
  ComparisonOptions opts;
  opts.timelines = true;
  Result<Comparison> c = RunComparison(Pool(), StepTrace(), opts);
  REQUIRE(c.ok());
  const BacktestSummary& w = c->warmpool.summary;
  const BacktestSummary& h = c->hpa_baseline.summary;
  const BacktestSummary& o = c->oracle.summary;
  CHECK(w.total_requests == h.total_requests);
  CHECK(o.total_requests == w.total_requests);
  CHECK(o.unserved_requests == 0);
  CHECK(o.total_server_hours() < w.total_server_hours());
  CHECK(o.total_server_hours() < h.total_server_hours());
  CHECK(h.unserved_requests > 500);  // 90 s of provisioning into a 5x step
  CHECK(w.unserved_requests < h.unserved_requests / 5);
  CHECK(h.standby_server_hours < 0.25);  // only provisioning, and drained until retired
  CHECK(w.standby_server_hours > 2.9);   // 3 warm standbys for an hour
  CHECK(h.ticks == 240);
  CHECK(c->warmpool.timeline.size() == 240);
  CHECK(!c->oracle.steps.empty());
  const std::string text = ComparisonToText(*c);
  for (const char* name : kRunNames) CHECK(text.find(name) != std::string::npos);
}

TEST_CASE("comparison: JSON has the summary (compatibility) and runs.{warmpool,hpa_baseline,oracle}") {
  ComparisonOptions opts;
  opts.timelines = true;
  opts.masked = {{StepTrace()->start, StepTrace()->start + kMinute}};
  Result<Comparison> c = RunComparison(Pool(), StepTrace(), opts);
  REQUIRE(c.ok());
  nlohmann::json j = nlohmann::json::parse(ComparisonToJson(*c, nullptr));
  const char* keys[] = {"total_requests",     "unserved_requests",   "unserved_percent",
                        "overloaded_seconds", "active_server_hours", "standby_server_hours",
                        "total_server_hours", "scale_events",        "direction_changes",
                        "masked_seconds"};
  for (const char* key : keys) {
    CAPTURE(key);
    CHECK(j["summary"].contains(key));
    for (const char* run : kRunNames) CHECK(j["runs"][run].contains(key));
  }
  CHECK(j["summary"] == j["runs"]["warmpool"]);
  CHECK(j["runs"]["oracle"]["unserved_requests"] == 0);
  CHECK(j["timeline"].size() == 240);
  CHECK(j["capacity_model"]["capacity_per_server"] == 10);
  CHECK(j["masked"].size() == 1);
  CHECK(j["masked"][0]["end"].get<long>() - j["masked"][0]["start"].get<long>() == 60);
  CHECK_FALSE(j.contains("sweep"));
}

TEST_CASE("peak: a pool that cannot serve the trace's peak at max_active says so, in numbers") {
  const std::shared_ptr<const Trace> trace = StepTrace();
  PeakCheck p = CheckPeak(*trace, {}, 10, 3);
  CHECK(p.peak == 50);
  CHECK(p.needed == 5);
  CHECK(p.short_of_peak());
  CHECK(PeakWarning(p) ==
        "warning: the trace's peak 50 req/s needs 5 servers at capacity_per_server 10; max_active is 3: "
        "every policy leaves the excess unserved");
  CHECK(CheckPeak(*trace, {}, 10, 5).needed == 5);  // exactly 5 servers' worth
  CHECK(PeakWarning(CheckPeak(*trace, {}, 10, 5)).empty());
  // A masked span is not load: masking the surge leaves the 10/s.
  const TimeMs t0 = trace->start;
  CHECK(CheckPeak(*trace, {{t0 + 20 * kMinute, t0 + 40 * kMinute}}, 10, 3).peak == 10);
}

TEST_CASE("peak: the warning comes before the numbers, in text and JSON") {
  PoolSpec small = Pool();
  small.max_active = 3;
  Result<Comparison> c = RunComparison(small, StepTrace(), ComparisonOptions{});
  REQUIRE(c.ok());
  const std::string text = ComparisonToText(*c);
  CHECK(text.rfind("warning: the trace's peak 50 req/s needs 5 servers at capacity_per_server 10; max_active "
                   "is 3: every policy leaves the excess unserved\n",
                   0) == 0);
  nlohmann::json j = nlohmann::json::parse(ComparisonToJson(*c, nullptr));
  REQUIRE(j["warnings"].size() == 1);
  CHECK(j["warnings"][0].get<std::string>().rfind("warning: the trace's peak 50 req/s", 0) == 0);
  CHECK(j["peak"]["servers_needed"] == 5);
  CHECK(j["peak"]["served_at_max_active"] == false);

  Result<Comparison> fine = RunComparison(Pool(), StepTrace(), ComparisonOptions{});
  REQUIRE(fine.ok());
  CHECK(fine->warnings.empty());
  CHECK(nlohmann::json::parse(ComparisonToJson(*fine, nullptr))["warnings"].empty());
}

TEST_CASE("--fit-capacity: the peak needs N servers, targets scaled alike, said in one line") {
  Result<CapacityFit> f = FitCapacity(Pool(), 50, 10, 4);  // 12.5 per server: x1.25
  REQUIRE(f.ok());
  CHECK(f->capacity_per_server == 12.5);
  CHECK(ResolveCapacityModel(f->spec)->capacity_per_server == 12.5);
  CHECK(std::stod(f->spec.policies[1].params.values.at("target_per_server")) == doctest::Approx(11.25));
  CHECK(ResolveCapacityModel(f->spec)->initial_active == 2);  // the first point needs 1: min_active stays
  CHECK(f->said ==
        "--fit-capacity 4: capacity_per_server 10 -> 12.5 (the trace's peak 50 req/s / 4); scaled alike "
        "(x1.25): rps.target_per_server 9 -> 11.25");

  PoolSpec warm = Pool();
  warm.warm_auto.enabled = true;
  warm.warm_auto.server_capacity = 10;
  f = FitCapacity(warm, 50, 10, 20);  // 2.5 per server: the first point's 10/s needs 4
  REQUIRE(f.ok());
  CHECK(f->spec.warm_auto.server_capacity == doctest::Approx(2.5));
  CHECK(ResolveCapacityModel(f->spec)->initial_active == 4);
  CHECK(Contains(f->said, "warm_standby.auto.server_capacity 10 -> 2.5"));
  CHECK(Contains(f->said, "initial_active 2 -> 4 (the trace's first point needs 4)"));

  // An initial_active the model sets is kept.
  PoolSpec set = Pool();
  set.capacity_model.params.values["initial_active"] = "3";
  CHECK(ResolveCapacityModel(FitCapacity(set, 50, 10, 20)->spec)->initial_active == 3);

  CHECK(FitCapacity(Pool(), 50, 10, 0).status().message() ==
        "--fit-capacity 0: must be between 1 and pool web's max_active (20): the servers the trace's peak needs");
  CHECK(Contains(FitCapacity(Pool(), 50, 10, 21).status().message(), "--fit-capacity 21: must be between 1"));
  CHECK(Contains(FitCapacity(Pool(), 0, 0, 5).status().message(), "--fit-capacity 5: the trace's peak is 0"));
  PoolSpec none = Pool();
  none.capacity_model = {};
  CHECK(Contains(FitCapacity(none, 50, 10, 5).status().message(), "--fit-capacity 5: pool web: the backtest needs"));
}

TEST_CASE("comparison: several baseline targets draw HPA's curve, its 80% point is the baseline") {
  ComparisonOptions one;
  Result<Comparison> alone = RunComparison(Pool(), StepTrace(), one);
  REQUIRE(alone.ok());
  CHECK(alone->hpa_curve.empty());
  CHECK(alone->hpa_target == 0.8);

  ComparisonOptions many;
  many.baseline_targets = {1.0, 0.5, 0.8};  // any order
  many.threads = 4;
  Result<Comparison> c = RunComparison(Pool(), StepTrace(), many);
  REQUIRE(c.ok());
  REQUIRE(c->hpa_curve.size() == 3);
  CHECK(c->hpa_curve[0].target == 0.5);
  CHECK(c->hpa_curve[2].target == 1.0);
  CHECK(c->hpa_marked == 1);
  // The baseline is exactly the run alone.
  CHECK(c->hpa_baseline.summary.unserved_requests == alone->hpa_baseline.summary.unserved_requests);
  CHECK(c->hpa_baseline.summary.total_server_hours() == alone->hpa_baseline.summary.total_server_hours());
  CHECK(c->hpa_curve[1].summary.total_server_hours() == alone->hpa_baseline.summary.total_server_hours());
  // A lower target spends more hours.
  CHECK(c->hpa_curve[0].summary.total_server_hours() > c->hpa_curve[2].summary.total_server_hours());
  // The same on one thread.
  many.threads = 1;
  Result<Comparison> serial = RunComparison(Pool(), StepTrace(), many);
  REQUIRE(serial.ok());
  for (size_t i = 0; i < 3; ++i) {
    CHECK(serial->hpa_curve[i].summary.unserved_requests == c->hpa_curve[i].summary.unserved_requests);
    CHECK(serial->hpa_curve[i].summary.total_server_hours() == c->hpa_curve[i].summary.total_server_hours());
  }

  const std::string text = ComparisonToText(*c);
  CHECK(Contains(text, "HPA's curve"));
  CHECK(Contains(text, "HPA@50%"));
  CHECK(Contains(text, "= hpa_baseline"));
  CHECK(Contains(text, "unserved at equal cost: "));
  CHECK(Contains(text, "cost at equal unserved: "));
  CHECK_FALSE(Contains(ComparisonToText(*alone), "HPA's curve"));

  nlohmann::json j = nlohmann::json::parse(ComparisonToJson(*c, nullptr));
  REQUIRE(j["hpa_curve"].size() == 3);
  CHECK(j["hpa_curve"][1]["label"] == "HPA@80%");
  CHECK(j["hpa_curve"][1]["hpa_baseline"] == true);
  CHECK(j["hpa_curve"][1]["summary"] == j["runs"]["hpa_baseline"]);
  const VersusCurve v = CompareWithCurve(c->warmpool.summary, c->hpa_curve);
  CHECK(j["vs_hpa_curve"]["unserved_at_equal_hours"]["side"] ==
        (v.unserved_at_hours.inside() ? "inside" : v.unserved_at_hours.side == CurveSide::kBelowRange ? "below"
                                                                                                      : "above"));
  CHECK(j["vs_hpa_curve"]["hours_at_equal_unserved"]["server_hours"] ==
        doctest::Approx(c->warmpool.summary.total_server_hours()));
  CHECK_FALSE(nlohmann::json::parse(ComparisonToJson(*alone, nullptr)).contains("hpa_curve"));

  // Without 80% the baseline is the target nearest it.
  many.baseline_targets = {0.6, 0.9};
  CHECK(RunComparison(Pool(), StepTrace(), many)->hpa_target == 0.9);
}
