// Unit tests for SelfMetrics (controller/runtime/self_metrics.h): hand-made TickResults in, exposition text
// out.
#include "controller/runtime/self_metrics.h"

#include <doctest/doctest.h>

#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace warmpool;

namespace {

Server Make(const std::string& name, ServerState state) {
  Server s;
  s.name = name;
  s.state = state;
  s.health = Health::kHealthy;
  return s;
}

PoolSpec Spec(const std::string& name) {
  PoolSpec spec;
  spec.name = name;
  spec.min_active = 2;
  spec.max_active = 8;
  spec.warm_standby = 2;
  spec.metrics = {MetricQuery{}, MetricQuery{}};
  spec.metrics[0].name = "rps";
  spec.metrics[1].name = "latency";
  return spec;
}

// A tick on `pool` at t=1000 s: 3 active, 1 standby, 1 provisioning, 1 draining, 2 cold; scaling up
// from 3 to 5 by target_tracking; one promote ok, one provision failed; one failed metric query.
TickResult Tick(const std::string& pool) {
  TickResult t;
  t.observed.pool = pool;
  for (const char* n : {"a1", "a2", "a3"}) t.observed.servers.push_back(Make(n, ServerState::kActive));
  t.observed.servers.push_back(Make("s1", ServerState::kStandby));
  t.observed.servers.push_back(Make("p1", ServerState::kProvisioning));
  t.observed.servers.push_back(Make("d1", ServerState::kDraining));
  t.observed.servers.push_back(Make("c1", ServerState::kCold));
  t.observed.servers.push_back(Make("c2", ServerState::kCold));
  t.metric_errors = {"latency: unavailable: connection refused"};
  t.metric_age_seconds = {{"rps", 12.5}};
  t.decision.at = 1'000'000;
  t.decision.current = 3;
  t.decision.desired = 5;
  t.decision.warm_standby = 2;  // as the controller sets it (the spec's fixed count, or auto's size)
  t.decision.warm_stopped = 4;
  t.decision.raw_recommendation = 9;
  t.decision.direction = Direction::kUp;
  t.decision.policy = "target_tracking";
  t.applied.actions = {{"promote", "s1", Status::Ok()},
                       {"provision", "c1", Status::Unavailable("no capacity")}};
  return t;
}

bool Has(const std::string& text, const std::string& line) {
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) {
    if (l == line) return true;
  }
  return false;
}

#define CHECK_LINE(text, line) \
  CHECK_MESSAGE(Has(text, line), "missing line: " << (line) << "\nin:\n" << (text))
#define CHECK_NO_LINE(text, line) CHECK_MESSAGE(!Has(text, line), "unexpected line: " << (line))

}  // namespace

TEST_CASE("SelfMetrics: one tick becomes gauges, counters and a histogram with their labels") {
  SelfMetrics m("1.2.3");
  PoolControls controls;
  controls.override = Override{};
  controls.override->active = 5;
  controls.pause.scale_down = true;
  m.ObserveTick("web", Tick("web"), controls, Spec("web"), 0.042, false);
  const std::string text = m.Render();

  CHECK_LINE(text, "warmpool_build_info{version=\"1.2.3\"} 1");
  CHECK_LINE(text, "warmpool_pool_desired_servers{pool=\"web\"} 5");
  CHECK_LINE(text, "warmpool_pool_recommended_servers{pool=\"web\"} 9");
  CHECK_LINE(text, "warmpool_pool_servers{pool=\"web\",state=\"active\"} 3");
  CHECK_LINE(text, "warmpool_pool_servers{pool=\"web\",state=\"standby\"} 1");
  CHECK_LINE(text, "warmpool_pool_servers{pool=\"web\",state=\"provisioning\"} 1");
  CHECK_LINE(text, "warmpool_pool_servers{pool=\"web\",state=\"draining\"} 1");
  CHECK_LINE(text, "warmpool_pool_servers{pool=\"web\",state=\"cold\"} 2");
  CHECK_LINE(text, "warmpool_pool_min_active{pool=\"web\"} 2");
  CHECK_LINE(text, "warmpool_pool_max_active{pool=\"web\"} 8");
  CHECK_LINE(text, "warmpool_pool_warm_standby_target{pool=\"web\"} 2");
  CHECK_LINE(text, "warmpool_pool_warm_stopped_target{pool=\"web\"} 4");
  CHECK_LINE(text, "warmpool_pool_last_tick_timestamp_seconds{pool=\"web\"} 1000");
  CHECK_LINE(text, "warmpool_decisions_total{direction=\"up\",policy=\"target_tracking\",pool=\"web\"} 1");
  CHECK_LINE(text, "warmpool_plan_actions_total{action=\"promote\",pool=\"web\",result=\"ok\"} 1");
  CHECK_LINE(text, "warmpool_plan_actions_total{action=\"provision\",pool=\"web\",result=\"error\"} 1");
  CHECK_LINE(text, "warmpool_plan_actions_total{action=\"drain\",pool=\"web\",result=\"ok\"} 0");  // pre-set
  CHECK_LINE(text, "warmpool_metric_query_errors_total{pool=\"web\"} 1");
  CHECK_LINE(text, "warmpool_pool_observe_errors_total{pool=\"web\"} 0");
  CHECK_LINE(text, "warmpool_metric_staleness_seconds{metric=\"rps\",pool=\"web\"} 12.5");
  CHECK_LINE(text, "warmpool_metric_staleness_seconds{metric=\"latency\",pool=\"web\"} +Inf");
  CHECK_LINE(text, "warmpool_override_active{pool=\"web\"} 1");
  CHECK_LINE(text, "warmpool_pause{direction=\"up\",pool=\"web\"} 0");
  CHECK_LINE(text, "warmpool_pause{direction=\"down\",pool=\"web\"} 1");
  CHECK_LINE(text, "warmpool_dry_run{pool=\"web\"} 0");
  CHECK_LINE(text, "warmpool_evaluation_duration_seconds_count{pool=\"web\"} 1");
  CHECK_LINE(text, "warmpool_evaluation_duration_seconds_sum{pool=\"web\"} 0.042");
  CHECK_LINE(text, "warmpool_evaluation_duration_seconds_bucket{pool=\"web\",le=\"0.025\"} 0");
  CHECK_LINE(text, "warmpool_evaluation_duration_seconds_bucket{pool=\"web\",le=\"0.05\"} 1");
  CHECK_LINE(text, "warmpool_evaluation_duration_seconds_bucket{pool=\"web\",le=\"+Inf\"} 1");
}

TEST_CASE("SelfMetrics: counters accumulate, dry-run actions and holding decisions are labelled") {
  SelfMetrics m("dev");
  TickResult t = Tick("web");
  m.ObserveTick("web", t, {}, Spec("web"), 0.01, false);
  t.applied.dry_run = true;
  t.decision.direction = Direction::kNone;
  t.decision.policy = "";
  m.ObserveTick("web", t, {}, Spec("web"), 0.01, true);
  const std::string text = m.Render();
  CHECK_LINE(text, "warmpool_plan_actions_total{action=\"promote\",pool=\"web\",result=\"ok\"} 1");
  CHECK_LINE(text, "warmpool_plan_actions_total{action=\"promote\",pool=\"web\",result=\"dry_run\"} 1");
  CHECK_LINE(text, "warmpool_plan_actions_total{action=\"provision\",pool=\"web\",result=\"dry_run\"} 1");
  CHECK_LINE(text, "warmpool_decisions_total{direction=\"none\",policy=\"none\",pool=\"web\"} 1");
  CHECK_LINE(text, "warmpool_metric_query_errors_total{pool=\"web\"} 2");
  CHECK_LINE(text, "warmpool_dry_run{pool=\"web\"} 1");
  CHECK_LINE(text, "warmpool_override_active{pool=\"web\"} 0");
  CHECK_LINE(text, "warmpool_evaluation_duration_seconds_count{pool=\"web\"} 2");
}

TEST_CASE("SelfMetrics: an expired override does not count as active") {
  SelfMetrics m("dev");
  PoolControls controls;
  controls.override = Override{};
  controls.override->expires_at = 999'000;  // before the tick at 1'000'000
  m.ObserveTick("web", Tick("web"), controls, Spec("web"), 0.01, false);
  CHECK_LINE(m.Render(), "warmpool_override_active{pool=\"web\"} 0");
}

TEST_CASE("SelfMetrics: a tick that could not observe counts an error and keeps the last picture") {
  SelfMetrics m("dev");
  m.ObserveTick("web", Tick("web"), {}, Spec("web"), 0.01, false);
  TickResult failed;
  failed.status = Status::Unavailable("haproxy socket: connection refused");
  failed.decision.at = 1'015'000;
  m.ObserveTick("web", failed, {}, Spec("web"), 2.0, false);
  const std::string text = m.Render();
  CHECK_LINE(text, "warmpool_pool_observe_errors_total{pool=\"web\"} 1");
  CHECK_LINE(text, "warmpool_pool_servers{pool=\"web\",state=\"active\"} 3");  // as last observed
  CHECK_LINE(text, "warmpool_decisions_total{direction=\"up\",policy=\"target_tracking\",pool=\"web\"} 1");
  CHECK_LINE(text, "warmpool_metric_staleness_seconds{metric=\"rps\",pool=\"web\"} 12.5");
  CHECK_LINE(text, "warmpool_pool_last_tick_timestamp_seconds{pool=\"web\"} 1015");
  CHECK_LINE(text, "warmpool_evaluation_duration_seconds_count{pool=\"web\"} 2");
}

TEST_CASE("SelfMetrics: ForgetPool removes exactly that pool's series, a dropped metric loses its series") {
  SelfMetrics m("dev");
  m.ObserveTick("web", Tick("web"), {}, Spec("web"), 0.01, false);
  m.ObserveTick("api", Tick("api"), {}, Spec("api"), 0.01, false);
  PoolSpec fewer = Spec("api");
  fewer.metrics.pop_back();  // "latency" left the config on a reload
  m.ObserveTick("api", Tick("api"), {}, fewer, 0.01, false);
  m.ForgetPool("web");
  m.ForgetPool("never-seen");
  const std::string text = m.Render();
  CHECK(text.find("pool=\"web\"") == std::string::npos);
  CHECK_LINE(text, "warmpool_pool_desired_servers{pool=\"api\"} 5");
  CHECK_LINE(text, "warmpool_metric_staleness_seconds{metric=\"rps\",pool=\"api\"} 12.5");
  CHECK_NO_LINE(text, "warmpool_metric_staleness_seconds{metric=\"latency\",pool=\"api\"} +Inf");
  CHECK_LINE(text, "warmpool_build_info{version=\"dev\"} 1");
  // The pool comes back cleanly after being forgotten.
  m.ObserveTick("web", Tick("web"), {}, Spec("web"), 0.01, false);
  CHECK_LINE(m.Render(),
             "warmpool_decisions_total{direction=\"up\",policy=\"target_tracking\",pool=\"web\"} 1");
}

TEST_CASE("SelfMetrics: names follow the Prometheus conventions") {
  SelfMetrics m("dev");
  m.ObserveTick("web", Tick("web"), {}, Spec("web"), 0.01, false);
  const std::string text = m.Render();
  const std::regex type_line(R"(# TYPE (\S+) (\S+))");
  std::set<std::string> names;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) {
    std::smatch match;
    if (!std::regex_match(l, match, type_line)) continue;
    const std::string name = match[1], type = match[2];
    CAPTURE(name);
    names.insert(name);
    CHECK(name.rfind("warmpool_", 0) == 0);
    CHECK(std::regex_match(name, std::regex("[a-z_]+")));
    const bool total = name.size() > 6 && name.substr(name.size() - 6) == "_total";
    CHECK(total == (type == "counter"));  // counters and only counters end in _total
    if (type == "histogram" || name.find("staleness") != std::string::npos) {
      CHECK(name.substr(name.size() - 8) == "_seconds");  // base unit in the name
    }
    if (name.find("timestamp") != std::string::npos) CHECK(name.substr(name.size() - 8) == "_seconds");
  }
  CHECK(names.size() == 23);  // replacements, replacing and protected servers, the stopped target: every pool
}

TEST_CASE("SelfMetrics: rendering while ticks are observed is safe") {
  SelfMetrics m("dev");
  std::thread writer([&] {
    for (int i = 0; i < 200; ++i) {
      m.ObserveTick(i % 2 ? "web" : "api", Tick("web"), {}, Spec("web"), 0.01, false);
      if (i % 50 == 49) m.ForgetPool("api");
    }
  });
  size_t rendered = 0;
  for (int i = 0; i < 200; ++i) rendered += m.Render().size();
  writer.join();
  CHECK(rendered > 0);
  CHECK_LINE(m.Render(),
             "warmpool_decisions_total{direction=\"up\",policy=\"target_tracking\",pool=\"web\"} 100");
}
