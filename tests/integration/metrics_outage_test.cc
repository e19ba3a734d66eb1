// When the numbers lie or stop: a scrape target frozen mid-run (SIGSTOP), and Prometheus killed in the
// middle of a surge, against a real Prometheus 2.42 and a real HAProxy on 127.0.0.1.
//   - a rate() over a target that is no longer scraped decays; a pool with scrape_health never scales
//     down on it, even with a 0 s scale-down window (the same pool without it does, which the test
//     checks too, so that it can fail);
//   - with a fallback, a pool whose Prometheus was killed scales up from HAProxy's own counters, never
//     down on them, and goes back to Prometheus once it is back.
#include <doctest/doctest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "controller/runtime/pool_controller.h"
#include "controller/sources/registry.h"
#include "providers/registry.h"
#include "providers/simulated/simulated_provider.h"
#include "tests/support/harness.h"
#include "tests/support/haproxy_test_util.h"
#include "tests/support/prometheus_test_util.h"

using namespace warmpool;
using namespace warmpool::testing;
using namespace std::chrono_literals;

namespace {

std::unique_ptr<MetricsSource> Prom(const std::string& url) {
  std::vector<std::string> errors;
  auto source = CreateMetricsSource(
      "prometheus", Params{"metrics_source", "", {{"url", url}, {"timeout", "2s"}, {"connect_timeout", "1s"}}},
      &errors);
  for (const std::string& e : errors) FAIL_CHECK(e);
  return source;
}

bool Listed(const std::vector<std::string>& names, const std::string& name) {
  for (const std::string& n : names) {
    if (n == name) return true;
  }
  return false;
}

// An exporter whose counter load_total grows by 100 a second, in its own process (so it can be frozen).
const char kExporter[] = R"(
import sys, time, http.server
t0 = time.time()
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = ("# TYPE load_total counter\nload_total %d\n" % int((time.time() - t0) * 100)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
)";

// A pool on a simulated provider (5 active, promotion at once) reading `q` at 20 per server.
struct SimPool {
  ManualClock clock{WallNow()};
  SimulatedProvider provider;
  std::unique_ptr<PoolController> controller;

  SimPool(const MetricQuery& q, MetricsSource* source) : provider("web", Sim(), &clock) {
    PoolSpec spec;
    spec.name = "web";
    spec.min_active = 1;
    spec.max_active = 10;
    spec.behavior.scale_down.stabilization_window = 0;  // nothing but the health check holds it
    spec.behavior.scale_up.limits.clear();
    spec.metrics = {q};
    spec.policies = {PluginSpec{"target_tracking", "tt",
                                Params{"pools[0].policies[0]", "", {{"metric", q.name}, {"target_per_server", "20"}}}}};
    spec.provider.type = "simulated";
    std::vector<std::string> errors;
    std::vector<std::unique_ptr<Policy>> policies = CreatePolicies(spec, &errors);
    REQUIRE(errors.empty());
    controller = std::make_unique<PoolController>(spec, std::move(policies), &provider, source);
  }
  static SimulatedSpec Sim() {
    SimulatedSpec sim;
    sim.promotion_delay = 0;
    sim.drain_delay = 0;
    sim.initial_active = 5;
    sim.initial_standby = 5;
    return sim;
  }
  TickResult Tick() {
    clock.Set(WallNow());
    return controller->RunOnce(clock.Now());
  }
};

}  // namespace

TEST_CASE("outage: a frozen scrape target never scales a pool with scrape_health down, even at a 0 s window") {
  const int exporter_port = PickFreePort();
  TempDir dir;
  auto exporter = Process::Start({"python3", "-c", kExporter, std::to_string(exporter_port)},
                                 dir.path() + "/exporter.log");
  REQUIRE(exporter);
  auto prom = StartPrometheus("  - job_name: app\n    static_configs: [{targets: ['127.0.0.1:" +
                              std::to_string(exporter_port) + "']}]\n");
  REQUIRE(prom);
  auto source = Prom(prom->url());

  MetricQuery q("load", "sum(rate(load_total[10s]))", 30 * kSecond, kSecond);
  MetricQuery guarded_q = q;
  guarded_q.health_query = "min(up{job=\"app\"})";
  guarded_q.health_window = 10 * kSecond;  // the rate()'s range
  SimPool guarded(guarded_q, source.get()), control(q, source.get());

  // Steady: 100 a second at 20 per server is 5, and the health window is covered. Prometheus and its
  // target are new: the rate's range fills over its first 10 s, and only scrape_health holds.
  std::string last;
  INFO("last tick: " << last);
  REQUIRE(WaitFor(
      [&] {
        TickResult g = guarded.Tick(), c = control.Tick();
        CHECK(g.plan.drain.empty());
        last = g.decision.reason + " // " + c.decision.reason;
        return g.metric_errors.empty() && g.decision.recommendations.at(0).valid && g.decision.desired == 5 &&
               g.metrics_floor_only.empty() && c.decision.recommendations.at(0).valid && c.decision.desired == 5;
      },
      40s));

  exporter->Signal(SIGSTOP);
  bool held_by_health = false, control_fell = false;
  for (int i = 0; i < 24; ++i) {  // 12 s: the rate's whole range
    std::this_thread::sleep_for(500ms);
    TickResult g = guarded.Tick(), c = control.Tick();
    INFO("guarded: " << g.decision.reason << " errors: " << g.metric_errors.size());
    INFO("control: " << c.decision.reason);
    CHECK(g.decision.desired >= 5);
    CHECK(g.plan.drain.empty());
    if (Listed(g.metrics_floor_only, "load") &&
        g.decision.reason.find("never scales in on it: scrape health \"min(up{job=\"app\"})\" was 0") !=
            std::string::npos) {
      held_by_health = true;
    }
    control_fell = control_fell || c.decision.desired < 5;
  }
  CHECK(held_by_health);
  CHECK(control_fell);  // the decay is real: without scrape_health the same pool scaled down

  // Thawed: healthy again once the window is covered, at the same 5 servers, never having drained.
  exporter->Signal(SIGCONT);
  REQUIRE(WaitFor(
      [&] {
        TickResult g = guarded.Tick();
        CHECK(g.plan.drain.empty());
        return g.metrics_floor_only.empty() && g.decision.desired == 5;
      },
      30s));
}

TEST_CASE("outage: Prometheus killed mid-surge, the pool scales up from HAProxy's counters, never down") {
  std::vector<std::unique_ptr<Backend>> backends;
  std::vector<std::string> servers;
  for (const char* name : {"a", "b", "c", "d", "e"}) {
    backends.push_back(std::make_unique<Backend>(name));
    const bool standby = servers.size() >= 2;
    servers.push_back(std::string(name) + " " + backends.back()->address() + " " + kCheck +
                      (standby ? " disabled" : ""));
  }
  const int port = PickFreePort(), stats_port = PickFreePort();
  auto h = StartHAProxy(Cfg(port, servers,
                            "frontend stats\n  bind 127.0.0.1:" + std::to_string(stats_port) +
                                "\n  http-request use-service prometheus-exporter if { path /metrics }\n"));
  REQUIRE(h);
  auto prom = StartPrometheus("  - job_name: haproxy\n    static_configs: [{targets: ['127.0.0.1:" +
                              std::to_string(stats_port) + "']}]\n");
  REQUIRE(prom);
  auto source = Prom(prom->url());

  // Load: `rate` requests a second through the frontend, from one thread.
  std::atomic<int> rate{15};
  std::atomic<bool> stop{false};
  std::atomic<int> failed{0};
  std::thread load([&] {
    auto next = std::chrono::steady_clock::now();
    while (!stop) {
      auto r = HttpGet(port, "/", 2s);
      if (!r || r->status != 200) ++failed;
      next += std::chrono::microseconds(1'000'000 / rate.load());
      std::this_thread::sleep_until(next);
    }
  });
  struct Join {
    std::atomic<bool>* stop;
    std::thread* t;
    ~Join() {
      *stop = true;
      t->join();
    }
  } join{&stop, &load};

  SystemClock clock;
  auto provider = MakeProvider(h->socket_path, &clock);
  PoolSpec spec = RpsPool(/*min_active=*/2, /*max_active=*/5, /*warm_standby=*/3);
  spec.max_total = 5;
  spec.metrics[0] = MetricQuery("rps", "sum(rate(haproxy_backend_http_requests_total{proxy=\"web\"}[5s]))",
                                30 * kSecond, kSecond);
  std::vector<std::string> errors;
  std::vector<std::unique_ptr<Policy>> policies = CreatePolicies(spec, &errors);
  REQUIRE(errors.empty());
  PoolController pool(spec, std::move(policies), provider.get(), source.get());
  pool.SetFallback("rps", CreateFallbackSource("haproxy",
                                               Params{"pools[0].metrics[0].fallback", "",
                                                      {{"socket", h->socket_path}, {"proxy", "web"}, {"rate_window", "5s"}}},
                                               &errors));
  REQUIRE(errors.empty());
  auto tick = [&] {
    TickResult t = pool.RunOnce(clock.Now());
    REQUIRE(t.status.ok());
    return t;
  };

  // 15 a second at 10 per server: 2, from Prometheus.
  REQUIRE(WaitFor(
      [&] {
        TickResult t = tick();
        return t.metric_errors.empty() && t.metrics_on_fallback.empty() && t.decision.desired == 2 &&
               t.decision.recommendations.at(0).valid;
      },
      30s));

  // The surge starts as Prometheus dies: the counters carry the pool up.
  prom->process->Stop(SIGKILL);
  rate = 45;
  TickResult t;
  REQUIRE(WaitFor(
      [&] {
        std::this_thread::sleep_for(300ms);
        t = tick();
        CHECK(t.plan.drain.empty());
        return t.observed.CountHealthy(ServerState::kActive) >= 4;
      },
      30s));
  CHECK(Listed(t.metrics_on_fallback, "rps"));
  CHECK(t.decision.reason.find("[rps from haproxy web backend req_tot (the metrics source failed)]") !=
        std::string::npos);
  const int peak = t.observed.Count(ServerState::kActive);

  // The load falls while Prometheus is still down: the counters never scale in.
  rate = 8;
  for (int i = 0; i < 16; ++i) {
    std::this_thread::sleep_for(500ms);
    t = tick();
    CHECK(t.plan.drain.empty());
    CHECK(t.decision.desired >= peak);
  }
  CHECK(Listed(t.metrics_floor_only, "rps"));

  // Prometheus is back: its numbers again, and they may scale in.
  REQUIRE(RestartPrometheus(prom.get()));
  REQUIRE(WaitFor(
      [&] {
        std::this_thread::sleep_for(300ms);
        t = tick();
        return t.metrics_on_fallback.empty() && t.metric_errors.empty() && t.decision.desired < peak;
      },
      40s));
  CHECK(failed.load() == 0);
}
