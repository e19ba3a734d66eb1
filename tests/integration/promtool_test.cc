// The operator's kit checked by the real tools: promtool (Debian's prometheus package) validates and
// unit-tests the alert rules and lints SelfMetrics::Render(); every metric the dashboard and the rules
// name exists in that output; every dashboard query parses in a real Prometheus.
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <cctype>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "controller/runtime/self_metrics.h"
#include "tests/support/harness.h"

using namespace warmpool;
using namespace warmpool::testing;

namespace {

const std::string kSource = WARMPOOL_SOURCE_DIR;
const std::string kRules = kSource + "/examples/prometheus/warmpool-alerts.yml";
const std::string kRuleTests = kSource + "/examples/prometheus/warmpool-alerts.test.yml";
const std::string kServerRules = kSource + "/examples/prometheus/server-alerts.yml";
const std::string kServerRuleTests = kSource + "/examples/prometheus/server-alerts.test.yml";
const std::string kDashboard = kSource + "/examples/grafana/warmpool-dashboard.json";

struct Run {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

// Runs `command` through /bin/sh and captures what it prints.
Run Shell(const std::string& command) {
  Run r;
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  REQUIRE_MESSAGE(p != nullptr, command);
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) r.output.append(buf, n);
  const int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "cannot read " << path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Server Make(const std::string& name, ServerState state) {
  Server s;
  s.name = name;
  s.state = state;
  return s;
}

// Every series SelfMetrics can produce: two pools, every action result, a stale and a missing metric,
// an override and a pause, a dry-run pool and an observe failure.
std::string RenderEverything() {
  SelfMetrics m("0.1.0");
  PoolSpec spec;
  spec.name = "web";
  spec.warm_standby = 2;
  spec.health.enabled = true;
  spec.health.probe.enabled = true;
  spec.surge.enabled = true;
  spec.metrics.resize(2);
  spec.metrics[0].name = "rps";
  spec.metrics[1].name = "latency";
  TickResult t;
  t.observed.servers = {Make("a1", ServerState::kActive), Make("s1", ServerState::kStandby),
                        Make("p1", ServerState::kProvisioning), Make("d1", ServerState::kDraining),
                        Make("c1", ServerState::kCold)};
  t.metric_errors = {"latency: unavailable: down"};
  t.metric_age_seconds = {{"rps", 3.5}};
  t.decision = Decision{1'000'000, 1, 2, Direction::kUp, 3, "target_tracking", "why", {}, 0, {}, {}, false};
  t.applied.actions = {{"promote", "s1", Status::Ok()}, {"provision", "c1", Status::Unavailable("no")}};
  PoolControls controls;
  controls.override = Override{};
  controls.override->active = 2;
  controls.pause.scale_down = true;
  t.shed.enabled = true;
  t.shed.limits = ShedLimits{160, 40};
  t.shed.status = Status::Unavailable("socket gone");
  m.ObserveTick("web", t, controls, spec, 0.03, false);
  m.HttpRefused("connection_limit");
  m.HttpRefused("internal");
  m.SetHttpConnections(3);
  m.StateSaved(false);
  // Cluster mode's series.
  m.HandOver("web", true);
  m.SetOwned("web", true);
  m.ClusterObserved(3, 1);
  t.fenced = "lease not renewed";
  t.applied.dry_run = true;
  spec.name = "api";
  m.ObserveTick("api", t, {}, spec, 0.2, true);
  TickResult failed;
  failed.status = Status::Unavailable("socket gone");
  m.ObserveTick("api", failed, {}, spec, 1.5, true);
  return m.Render();
}

// The names of the series in an exposition (histograms contribute _bucket, _sum and _count).
std::set<std::string> SeriesNames(const std::string& exposition) {
  std::set<std::string> names;
  std::istringstream in(exposition);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    names.insert(line.substr(0, line.find_first_of("{ ")));
  }
  return names;
}

std::set<std::string> WarmpoolNames(const std::string& text) {
  static const std::regex kName("warmpool_[a-z_]+");
  std::set<std::string> out;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), kName); it != std::sregex_iterator(); ++it) {
    out.insert(it->str());
  }
  return out;
}

// Every PromQL expression of the dashboard: panel targets (rows included) and variable queries.
void CollectQueries(const nlohmann::json& j, std::vector<std::string>* out) {
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) {
      if ((k == "expr" || k == "query" || k == "definition") && v.is_string() && v != "prometheus") {
        out->push_back(v.get<std::string>());
      }
      CollectQueries(v, out);
    }
  } else if (j.is_array()) {
    for (const auto& v : j) CollectQueries(v, out);
  }
}

std::string UrlEncode(const std::string& s) {
  std::string out;
  char hex[4];
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      std::snprintf(hex, sizeof hex, "%%%02X", c);
      out += hex;
    }
  }
  return out;
}

}  // namespace

TEST_CASE("promtool check rules accepts the alert rules") {
  const Run r = Shell("promtool check rules " + kRules);
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("SUCCESS: 23 rules found") != std::string::npos);
}

TEST_CASE("promtool checks and unit-tests the per-server alert rules (node_exporter, HAProxy's exporter)") {
  const Run check = Shell("promtool check rules " + kServerRules);
  INFO(check.output);
  CHECK(check.exit_code == 0);
  CHECK(check.output.find("SUCCESS: 6 rules found") != std::string::npos);
  const Run test = Shell("promtool test rules " + kServerRuleTests);
  INFO(test.output);
  CHECK(test.exit_code == 0);
  CHECK(test.output.find("SUCCESS") != std::string::npos);
}

TEST_CASE("amtool check-config accepts the Alertmanager config, its routes, inhibitions and receivers") {
  const Run r = Shell("amtool check-config " + std::string(WARMPOOL_SOURCE_DIR) + "/examples/alertmanager/alertmanager.yml");
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("SUCCESS") != std::string::npos);
  CHECK(r.output.find("5 inhibit rules") != std::string::npos);
  CHECK(r.output.find("3 receivers") != std::string::npos);
  // Every alert the routes and inhibitions name exists in the rules.
  const std::string rules = ReadFile(kRules) + ReadFile(kServerRules), am = ReadFile(std::string(WARMPOOL_SOURCE_DIR) + "/examples/alertmanager/alertmanager.yml");
  for (const char* name : {"Watchdog", "WarmpoolControllerDown", "WarmpoolPoolAtMaxWhileOverloaded",
                           "WarmpoolStandbyPoolExhausted", "WarmpoolShedding", "WarmpoolMetricOnFallback",
                           "WarmpoolMetricQueriesFailing", "WarmpoolMetricStale",
                           "ServerMemoryCritical", "ServerMemoryHigh"}) {
    CHECK_MESSAGE(am.find(name) != std::string::npos, name);
    CHECK_MESSAGE(rules.find("alert: " + std::string(name)) != std::string::npos, name);
  }
}

TEST_CASE("promtool test rules: every alert fires when it should and only then") {
  const Run r = Shell("promtool test rules " + kRuleTests);
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("SUCCESS") != std::string::npos);
}

TEST_CASE("promtool check metrics accepts SelfMetrics::Render()") {
  TempDir dir;
  const std::string text = RenderEverything();
  const std::string file = dir.Write("metrics.txt", text);
  const Run r = Shell("promtool check metrics < " + file);
  INFO("promtool said:\n" << r.output << "\nfor:\n" << text);
  CHECK(r.exit_code == 0);
  CHECK(r.output.empty());  // no lint findings at all
}

TEST_CASE("every metric the dashboard and the alert rules use exists in Render()") {
  const std::set<std::string> exported = SeriesNames(RenderEverything());
  nlohmann::json dashboard;
  REQUIRE_NOTHROW(dashboard = nlohmann::json::parse(ReadFile(kDashboard)));
  CHECK(dashboard["title"] == "Warmpool");
  std::vector<std::string> queries;
  CollectQueries(dashboard, &queries);
  REQUIRE(queries.size() > 15);
  std::set<std::string> used;
  for (const std::string& q : queries) {
    for (const std::string& name : WarmpoolNames(q)) {
      CHECK_MESSAGE(exported.count(name) == 1, name << " (in " << q << ") is not exported");
      used.insert(name);
    }
  }
  // The panels the dashboard promises.
  for (const char* name : {"warmpool_pool_servers", "warmpool_pool_desired_servers",
                           "warmpool_decisions_total", "warmpool_plan_actions_total",
                           "warmpool_evaluation_duration_seconds_bucket", "warmpool_metric_staleness_seconds",
                           "warmpool_override_active", "warmpool_pause", "warmpool_dry_run"}) {
    CHECK_MESSAGE(used.count(name) == 1, name << " is not on the dashboard");
  }
  const std::set<std::string> in_rules = WarmpoolNames(ReadFile(kRules));
  CHECK(in_rules.size() >= 8);
  for (const std::string& name : in_rules) CHECK_MESSAGE(exported.count(name) == 1, name << " (alert rules)");
}

TEST_CASE("every dashboard query parses in a real Prometheus") {
  auto prom = StartPrometheus("");
  REQUIRE(prom != nullptr);
  nlohmann::json dashboard = nlohmann::json::parse(ReadFile(kDashboard));
  std::vector<std::string> queries;
  CollectQueries(dashboard, &queries);
  for (std::string q : queries) {
    // Grafana's variables, as Grafana would substitute them.
    q = std::regex_replace(q, std::regex(R"(\$__rate_interval)"), "1m");
    q = std::regex_replace(q, std::regex(R"(\$(job|pool))"), ".+");
    if (q.rfind("label_values(", 0) == 0) {  // a Grafana function: check its selector instead
      q = std::regex_replace(q, std::regex(R"(^label_values\((.*), *[a-z_]+\)$)"), "$1");
    }
    auto reply = HttpGet(prom->port, "/api/v1/query?query=" + UrlEncode(q));
    REQUIRE(reply.has_value());
    CHECK_MESSAGE(reply->status == 200, q << "\n -> " << reply->body);
    CHECK_MESSAGE(reply->body.find("\"status\":\"success\"") != std::string::npos,
                  q << "\n -> " << reply->body);
  }
}
