// Servers sick by their own metrics (health.metrics), an operator's protect and replace, and
// max_lifetime, against a real HAProxy 2.6, a real Prometheus scraping each backend's /metrics, and the
// demo's backends (examples/demo/backend.py, whose memory ratio leaks per second until it falls over),
// all on 127.0.0.1. A load runs through HAProxy the whole time and must see no failed request.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "controller/runtime/pool_controller.h"
#include "controller/sources/registry.h"
#include "providers/registry.h"
#include "tests/support/harness.h"
#include "tests/support/haproxy_test_util.h"

using namespace warmpool;
using namespace warmpool::testing;
using namespace std::chrono_literals;

namespace {

using Names = std::vector<std::string>;

bool Has(const Names& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// The demo's backend as a process: `leak_per_second` > 0 makes its memory ratio (from 0.2) grow until
// it passes 0.95 and it exits.
struct PyBackend {
  PyBackend(const TempDir& dir, const std::string& name, double leak_per_second) : port(PickFreePort()) {
    std::vector<std::string> argv = {"python3", WARMPOOL_SOURCE_DIR "/examples/demo/backend.py", "--port",
                                     std::to_string(port), "--name", name, "--delay-ms", "2", "--max-conns", "16"};
    if (leak_per_second > 0) {
      argv.insert(argv.end(), {"--leak-per-second", std::to_string(leak_per_second), "--crash-memory", "0.95"});
    }
    process = Process::Start(argv, dir.path() + "/" + name + ".log");
    REQUIRE(process);
    REQUIRE_MESSAGE(WaitFor([&] { return HttpGet(port, "/health").has_value(); }, 10s), process->Log());
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port); }
  int port;
  std::unique_ptr<Process> process;
};

// The pool's load is fixed (25 req/s at 10 per server: 3 servers); its servers' memory comes from
// Prometheus.
class Sources final : public MetricsSource {
 public:
  explicit Sources(std::unique_ptr<MetricsSource> prometheus) : prometheus_(std::move(prometheus)) {}
  Result<MetricWindow> Fetch(const MetricQuery& q, TimeMs now) override { return load_.Fetch(q, now); }
  Result<std::map<std::string, MetricWindow>> FetchEach(const MetricQuery& q, const std::string& label,
                                                        TimeMs now) override {
    return prometheus_->FetchEach(q, label, now);
  }

 private:
  FixedMetrics load_{25};
  std::unique_ptr<MetricsSource> prometheus_;
};

// Requests through HAProxy's frontend, one after another, from its own thread, counting what failed.
class LoadGenerator {
 public:
  explicit LoadGenerator(int port)
      : thread_([this, port] {
          while (!stop_) {
            const std::optional<HttpReply> r = HttpGet(port, "/", 2s);
            ++sent_;
            if (!r || r->status != 200) ++failed_;
            std::this_thread::sleep_for(10ms);
          }
        }) {}
  ~LoadGenerator() { Stop(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int sent() const { return sent_; }
  int failed() const { return failed_; }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int> sent_{0}, failed_{0};
  std::thread thread_;
};

// a, b, c active and d a warm standby behind HAProxy; Prometheus scrapes all four; health.metrics
// reads `demo_memory_ratio` per server (by address) with a 30 s horizon over a 10 s window.
struct Stack {
  explicit Stack(const std::map<std::string, double>& leaks) {
    for (const char* name : {"a", "b", "c", "d"}) {
      auto it = leaks.find(name);
      backends[name] = std::make_unique<PyBackend>(dir, name, it == leaks.end() ? 0 : it->second);
    }
    std::string targets;
    for (const auto& entry : backends) targets += (targets.empty() ? "'" : ", '") + entry.second->address() + "'";
    prom = StartPrometheus("  - job_name: backends\n    static_configs: [{targets: [" + targets + "]}]\n");
    REQUIRE(prom);
    port = PickFreePort();
    haproxy = StartHAProxy(Cfg(port, {"a " + backends["a"]->address() + " " + kCheck,
                                      "b " + backends["b"]->address() + " " + kCheck,
                                      "c " + backends["c"]->address() + " " + kCheck,
                                      "d " + backends["d"]->address() + " " + kCheck + " disabled"}));
    REQUIRE(haproxy);
    provider = MakeProvider(haproxy->socket_path, &clock);
    std::vector<std::string> errors;
    metrics = std::make_unique<Sources>(CreateMetricsSource(
        "prometheus", Params{"metrics_source", "", {{"url", prom->url()}, {"timeout", "2s"}}}, &errors));
    REQUIRE(errors.empty());
    spec = RpsPool(/*min_active=*/1, /*max_active=*/4, /*warm_standby=*/1);
    spec.health.enabled = true;
    spec.health.grace = 2 * kSecond;
    ServerMetricSpec memory;
    memory.name = "memory";
    memory.query = "demo_memory_ratio";
    memory.above = 0.85;
    memory.horizon = 30 * kSecond;
    memory.window = 10 * kSecond;
    memory.step = kSecond;
    spec.health.metrics.push_back(memory);
  }

  void Start(bool dry_run = false) {
    std::vector<std::string> errors;
    pool = std::make_unique<PoolController>(spec, CreatePolicies(spec, &errors), provider.get(), metrics.get(),
                                            dry_run);
    REQUIRE(errors.empty());
    REQUIRE(WaitFor([&] { return Tick().observed.CountHealthy(ServerState::kActive) == 3; }, 10s));
  }

  TickResult Tick(const PoolControls& controls = {}) {
    TickResult t = pool->RunOnce(clock.Now(), controls);
    INFO(t.decision.reason);
    for (const std::string& e : t.metric_errors) FAIL_CHECK(e);
    return t;
  }

  TempDir dir;
  std::map<std::string, std::unique_ptr<PyBackend>> backends;
  std::unique_ptr<Prometheus> prom;
  int port = 0;
  std::unique_ptr<HAProxy> haproxy;
  SystemClock clock;
  std::unique_ptr<HAProxyProvider> provider;
  std::unique_ptr<Sources> metrics;
  PoolSpec spec;
  std::unique_ptr<PoolController> pool;
};

}  // namespace

TEST_CASE("leak: a leaking backend is replaced before it falls over, and the load sees no failed request") {
  Stack s({{"a", 0.02}});  // a: 0.2 + 0.02/s passes 0.85 after 32 s and falls over after 37 s
  s.Start();
  LoadGenerator load(s.port);
  std::string started, last;
  bool out_of_rotation = false;
  const auto begin = std::chrono::steady_clock::now();
  int min_serving = 99;
  while (!out_of_rotation && std::chrono::steady_clock::now() - begin < 30s) {
    std::this_thread::sleep_for(200ms);
    const TickResult t = s.Tick();
    min_serving = std::min(min_serving, t.observed.CountHealthy(ServerState::kActive));
    if (!t.decision.replacements_started.empty()) started = t.decision.replacements_started[0];
    last = t.decision.reason + " / " + t.plan.Summary() + " / " + t.applied.Summary();
    out_of_rotation = Row(*s.haproxy, "a")->InMaintenance();
  }
  INFO("last tick: " << last);
  REQUIRE(out_of_rotation);
  // Caught by its trend, long before the limit: "replace a: memory 0.41 rising 1.2/min reaches 0.85 in 22s".
  CHECK(started.rfind("replace a: memory ", 0) == 0);
  CHECK(started.find(" rising ") != std::string::npos);
  CHECK(s.backends["a"]->process->Running());  // still up when it left rotation
  CHECK_FALSE(Row(*s.haproxy, "d")->InMaintenance());  // d serves in its place
  CHECK(min_serving >= 3);                               // never fewer serving than wanted
  // A little more load after it left, then the count.
  std::this_thread::sleep_for(1s);
  load.Stop();
  CHECK(load.sent() > 50);
  CHECK(load.failed() == 0);
}

TEST_CASE("leak: every backend leaking opens the breaker after the budget, and nothing more is replaced") {
  Stack s({{"a", 0.02}, {"b", 0.02}, {"c", 0.02}});
  // No room for a replacement (d, the standby, is retired as surplus at the first tick): the first
  // replacement stays under way, with its server serving, until the others cross. With room, a
  // replacement can finish (d promoted, the sick one drained and retired) within a second, before
  // Prometheus has scraped the other leaks past the rule, and the next one would then be a replacement
  // of its own, not the breaker.
  s.spec.warm_standby = 0;
  s.spec.max_total = 3;
  s.Start();
  // The leaks cross the trend rule a tick or two apart: the first may be replaced (the budget of one),
  // then the breaker opens and holds every other server.
  bool open = false;
  std::string reason, first;
  auto tick = [&] {
    std::this_thread::sleep_for(200ms);
    const TickResult t = s.Tick();
    for (const std::string& r : t.decision.replacements_started) {
      CHECK_MESSAGE(first.empty(), "a second replacement: " << r << " after " << first);
      first = r;
    }
    for (const std::string& d : t.plan.drain) CHECK(first.rfind("replace " + d + ":", 0) == 0);
    return t;
  };
  for (int i = 0; i < 100 && !open; ++i) {
    const TickResult t = tick();
    open = t.decision.replacement_breaker_open;
    reason = t.decision.reason;
  }
  INFO(reason);
  REQUIRE(open);
  CHECK(reason.find("replacement breaker open: ") != std::string::npos);
  // 2 or 3 of 3: the server being replaced still serves.
  CHECK(reason.find(" active servers sick (more than 50%), replacing none") != std::string::npos);
  for (int i = 0; i < 10; ++i) CHECK(tick().decision.replacement_breaker_open);
  int kept = 0;
  for (const char* name : {"a", "b", "c"}) kept += !Row(*s.haproxy, name)->InMaintenance();
  CHECK(kept >= 2);
}

TEST_CASE("leak: a protected server is left alone, and an operator's replacement is done") {
  Stack s({{"a", 0.02}});
  s.Start();
  PoolControls controls;
  controls.protect["a"] = Protection{s.clock.Now(), 0, "heap profile", "alice"};
  bool seen_sick = false;
  for (int i = 0; i < 60 && !seen_sick; ++i) {
    std::this_thread::sleep_for(200ms);
    const TickResult t = s.Tick(controls);
    CHECK(t.decision.replacing.empty());
    CHECK_FALSE(Has(t.plan.drain, "a"));
    seen_sick = t.decision.reason.find("sick but protected, not replaced: a") != std::string::npos;
  }
  CHECK(seen_sick);
  CHECK_FALSE(Row(*s.haproxy, "a")->InMaintenance());

  // Asked by hand: b, healthy, is replaced; its replacement serves before it leaves.
  controls.replace["b"] = ReplaceRequest{s.clock.Now(), "kernel update", "alice"};
  TickResult t = s.Tick(controls);
  CHECK(t.decision.replacements_started == Names{"replace b: asked by alice (kernel update)"});
  CHECK(t.plan.promote == Names{"d"});
  CHECK(t.plan.drain.empty());
  std::string last;
  INFO("last tick: " << last);
  REQUIRE(WaitFor(
      [&] {
        t = s.Tick(controls);
        CHECK(t.observed.CountHealthy(ServerState::kActive) >= 3);
        CHECK_FALSE(Has(t.plan.drain, "a"));
        last = t.decision.reason + " / " + t.plan.Summary();
        return Row(*s.haproxy, "b")->InMaintenance();
      },
      10s));
  CHECK_FALSE(Row(*s.haproxy, "d")->InMaintenance());
  CHECK_FALSE(Row(*s.haproxy, "a")->InMaintenance());
}

TEST_CASE("lifetime: max_lifetime cycles a 3-server pool one at a time with no drop in serving capacity") {
  Stack s({});
  s.spec.health.metrics.clear();
  s.spec.health.max_lifetime = 3 * kSecond;
  s.Start();
  std::vector<std::string> replaced;
  int min_serving = 99;
  const auto begin = std::chrono::steady_clock::now();
  while (replaced.size() < 3 && std::chrono::steady_clock::now() - begin < 40s) {
    std::this_thread::sleep_for(200ms);
    const TickResult t = s.Tick();
    min_serving = std::min(min_serving, t.observed.CountHealthy(ServerState::kActive));
    CHECK(t.decision.replacing.size() <= 1);  // one at a time
    for (const std::string& r : t.decision.replacements_started) {
      CHECK(r.find("(max_lifetime 3s)") != std::string::npos);
      replaced.push_back(r);
    }
  }
  INFO(replaced.size());
  CHECK(replaced.size() >= 3);
  CHECK(min_serving >= 3);
}

TEST_CASE("leak: dry-run shows the replacement in the decision and the plan, and changes nothing") {
  Stack s({{"a", 0.02}});
  s.Start(/*dry_run=*/true);
  TickResult t;
  bool shown = false;
  for (int i = 0; i < 100 && !shown; ++i) {
    std::this_thread::sleep_for(200ms);
    t = s.Tick();
    shown = !t.decision.replacements_started.empty();
  }
  INFO(t.decision.reason << " / " << t.plan.Summary());
  REQUIRE(shown);
  CHECK(t.decision.replacements_started[0].rfind("replace a: memory ", 0) == 0);
  CHECK(t.plan.promote == Names{"d"});
  CHECK(t.applied.dry_run);
  for (int i = 0; i < 10; ++i) {  // the plan stays a plan: d is never promoted, a never drained
    std::this_thread::sleep_for(200ms);
    t = s.Tick();
    CHECK(t.decision.replacing == Names{"a"});
  }
  CHECK(Row(*s.haproxy, "d")->InMaintenance());
  CHECK_FALSE(Row(*s.haproxy, "a")->InMaintenance());
}
