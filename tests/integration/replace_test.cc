// Sick servers are replaced, not counted (health:), against a real HAProxy 2.6 and real backends on
// 127.0.0.1: a backend that dies while active goes DOWN at the balancer; after `grace` a standby is
// promoted in its place, and the dead one is drained and retired, never promoted again. When most of
// the pool dies at once, the breaker keeps every server and says why. A standby whose machine dies while
// it waits fails Warmpool's probe, is never promoted, and is retired.
#include <doctest/doctest.h>
#include <signal.h>

#include <cstdlib>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "controller/runtime/pool_controller.h"
#include "providers/probe/http_probe.h"
#include "providers/registry.h"
#include "tests/support/harness.h"
#include "tests/support/haproxy_test_util.h"

using namespace warmpool;
using namespace warmpool::testing;
using namespace std::chrono_literals;

namespace {

// Pool "web" at a fixed load, one warm standby, with health: grace 2s.
PoolSpec HealthPool() {
  PoolSpec spec = RpsPool(/*min_active=*/1, /*max_active=*/4, /*warm_standby=*/1);
  spec.health.enabled = true;
  spec.health.grace = 2 * kSecond;
  return spec;
}

// A load of *value req/s, always fresh, that the test may change.
class Load final : public MetricsSource {
 public:
  explicit Load(const double* value) : value_(value) {}
  Result<MetricWindow> Fetch(const MetricQuery& q, TimeMs now) override {
    MetricWindow w;
    w.metric = q.name;
    w.samples.push_back({now, *value_});
    return w;
  }

 private:
  const double* value_;
};

// In-process backends behind a real HAProxy: `active` in service, `standby` declared disabled; a
// PoolController over them at `load` req/s (10 per server) with HealthPool() or
// `spec`, started once every active server is healthy.
struct HealthStack {
  HealthStack(const std::vector<std::string>& active, const std::vector<std::string>& standby, double load_rps,
              PoolSpec pool_spec = HealthPool())
      : spec(std::move(pool_spec)), load(load_rps), metrics(&load) {
    std::vector<std::string> lines;
    for (const std::string& n : active) {
      backends[n] = std::make_unique<Backend>(n);
      lines.push_back(n + " " + backends[n]->address() + " " + kCheck);
    }
    for (const std::string& n : standby) {
      backends[n] = std::make_unique<Backend>(n);
      lines.push_back(n + " " + backends[n]->address() + " " + kCheck + " disabled");
    }
    haproxy = StartHAProxy(Cfg(PickFreePort(), lines));
    REQUIRE(haproxy);
    provider = MakeProvider(haproxy->socket_path, &clock);
    std::vector<std::string> errors;
    pool = std::make_unique<PoolController>(spec, CreatePolicies(spec, &errors), provider.get(), &metrics);
    REQUIRE(errors.empty());
    const int n = static_cast<int>(active.size());
    REQUIRE(WaitFor([&] { return Tick().observed.CountHealthy(ServerState::kActive) == n; }, 10s));
  }
  TickResult Tick() { return pool->RunOnce(clock.Now()); }
  void Kill(const std::string& name) { backends.at(name).reset(); }  // its port closes: checks fail

  PoolSpec spec;
  double load;
  Load metrics;
  std::map<std::string, std::unique_ptr<Backend>> backends;
  std::unique_ptr<HAProxy> haproxy;
  SystemClock clock;
  std::unique_ptr<HAProxyProvider> provider;
  std::unique_ptr<PoolController> pool;
};

}  // namespace

TEST_CASE("replace: a backend that dies while active is replaced after grace, and never promoted again") {
  HealthStack st({"a", "b"}, {"c"}, 20);
  SystemClock& clock = st.clock;
  HAProxy* h = st.haproxy.get();
  st.Kill("b");  // the machine dies: its port closes, HAProxy's checks fail
  std::string reason, started;
  TimeMs down_seen = 0, replaced_at = 0;
  for (int i = 0; i < 80 && replaced_at == 0; ++i) {
    std::this_thread::sleep_for(100ms);
    const TickResult t = st.Tick();
    const Server* sb = t.observed.Find("b");
    if (down_seen == 0 && sb && sb->health == Health::kUnhealthy) down_seen = clock.Now();
    if (!t.decision.replacements_started.empty()) {
      replaced_at = clock.Now();
      started = t.decision.replacements_started[0];
      reason = t.decision.reason;
      INFO(t.plan.Summary() << " / " << t.plan.reason << " / " << t.applied.Summary());
      CHECK(t.plan.promote == std::vector<std::string>{"c"});
      CHECK(t.plan.drain == std::vector<std::string>{"b"});
      for (const ApplyResult::Action& act : t.applied.actions) {
        if (act.kind != "provision") CHECK(act.status.ok());  // no inventory here to provision a standby into
      }
    }
  }
  REQUIRE(down_seen > 0);
  REQUIRE(replaced_at > 0);
  INFO(reason);
  CHECK(started.rfind("replace b: DOWN for ", 0) == 0);
  CHECK(started.find("(grace 2s)") != std::string::npos);
  CHECK(reason.find(started) != std::string::npos);
  // Not before grace: HAProxy counts the time since a server's last change in whole seconds (from its
  // first failed check), so grace holds to within a second.
  CHECK(replaced_at - down_seen >= 1000);

  // c serves in b's place; b is drained, then retired (cold). Without exec, b's slot may come back as
  // the warm standby (provisioning a haproxy.cfg server only takes it out of retirement), but it is not
  // put in service again while the load stays.
  std::string last;
  bool retired = false;
  INFO("last tick: " << last);
  REQUIRE(WaitFor(
      [&] {
        const TickResult t = st.Tick();
        const Server* sb = t.observed.Find("b");
        retired = retired || (sb && sb->state == ServerState::kCold);
        last = t.plan.Summary() + " / " + t.decision.reason + " / b " + (sb ? StateName(sb->state) : "-") + " / " +
               std::to_string(t.observed.CountHealthy(ServerState::kActive)) + " healthy / " + t.applied.Summary();
        return t.observed.CountHealthy(ServerState::kActive) == 2 && retired && t.decision.replacing.empty();
      },
      10s));
  CHECK_FALSE(Row(*h, "c")->InMaintenance());
  CHECK(Row(*h, "b")->InMaintenance());
  for (int i = 0; i < 5; ++i) {
    const TickResult t = st.Tick();
    CHECK(t.observed.Find("b")->state != ServerState::kActive);
    CHECK(t.observed.CountHealthy(ServerState::kActive) == 2);
  }
}

TEST_CASE("replace: when most of the pool dies at once, the breaker keeps every server and says why") {
  HealthStack st({"a", "b", "c"}, {"d"}, 30);
  HAProxy* h = st.haproxy.get();
  st.Kill("a");  // a bad build everywhere: two of three die
  st.Kill("b");
  bool open = false;
  for (int i = 0; i < 60 && !open; ++i) {
    std::this_thread::sleep_for(100ms);
    const TickResult t = st.Tick();
    CHECK(t.decision.replacements_started.empty());
    CHECK(t.plan.drain.empty());
    open = t.decision.replacement_breaker_open;
    if (open) {
      CHECK(t.decision.reason.find("replacement breaker open: 2 of 3 active servers sick (more than 50%), replacing none") !=
            std::string::npos);
    }
  }
  CHECK(open);
  CHECK_FALSE(Row(*h, "a")->InMaintenance());  // kept
  CHECK_FALSE(Row(*h, "b")->InMaintenance());
}

TEST_CASE("probe: an HTTP GET of the standby's address, its status compared, in bounded time") {
  Backend up("up");
  HttpProber prober(ProbeSpec{true, "/health", 200, 500, 10 * kSecond});
  Server s{"web-1", up.address(), ServerState::kStandby, Health::kUnknown, 0};
  CHECK(prober.Probe(s).ok());
  HttpProber wants_204(ProbeSpec{true, "/health", 204, 500, 10 * kSecond});
  CHECK(wants_204.Probe(s).message() == "probe web-1 (" + up.address() + "): answered 200, expected 204");
  s.address = "127.0.0.1:" + std::to_string(PickFreePort());  // nothing listens
  CHECK(prober.Probe(s).message().find("connect: Connection refused") != std::string::npos);
  s.address = "web-1.internal:80";
  CHECK(prober.Probe(s).message() == "probe web-1 (web-1.internal:80): not a numeric ip:port");
  // A listener that never answers: the deadline holds.
  Backend slow("slow", 3000ms);
  s.address = slow.address();
  const auto start = std::chrono::steady_clock::now();
  const Status st = prober.Probe(s);
  CHECK(st.message().find("no answer: timed out") != std::string::npos);
  CHECK(std::chrono::steady_clock::now() - start < 1500ms);
}

TEST_CASE("probe: a standby whose machine died is never promoted, and is retired") {
  PoolSpec spec = HealthPool();
  spec.warm_standby = 2;
  spec.health.probe.enabled = true;
  spec.health.probe.timeout = 500;
  spec.health.probe.interval = 200;
  HealthStack st({"a", "b"}, {"c", "d"}, 20, spec);
  st.pool->SetProber(CreateProber(spec.health.probe));
  TickResult t = st.Tick();
  CHECK(t.observed.Find("c")->health == Health::kHealthy);  // probed: it answers
  CHECK(t.probe_failures.empty());

  st.Kill("c");  // the standby's machine dies while it waits
  std::string failure;
  bool retired = false;
  for (int i = 0; i < 20 && !retired; ++i) {
    std::this_thread::sleep_for(100ms);
    t = st.Tick();
    if (!t.probe_failures.empty()) failure = t.probe_failures[0];
    retired = std::find(t.plan.retire.begin(), t.plan.retire.end(), "c") != t.plan.retire.end();
  }
  INFO(failure);
  CHECK(failure.rfind("probe c (", 0) == 0);
  CHECK(failure.find("Connection refused") != std::string::npos);
  CHECK(retired);
  CHECK(t.plan.reason.find("retire 1 unhealthy standby") != std::string::npos);

  // The load rises: the healthy standby is promoted, never the dead one.
  st.load = 30;
  bool promoted = false;
  for (int i = 0; i < 30 && !promoted; ++i) {
    std::this_thread::sleep_for(100ms);
    t = st.Tick();
    CHECK(std::find(t.plan.promote.begin(), t.plan.promote.end(), "c") == t.plan.promote.end());
    promoted = std::find(t.plan.promote.begin(), t.plan.promote.end(), "d") != t.plan.promote.end();
  }
  CHECK(promoted);
}

TEST_CASE("probe: with exec, a standby whose machine died is retired and provisioned afresh, never promoted") {
  // Slot c's machine is the demo's backend, started and stopped by the demo's machine.sh (the exec
  // provider's provision and retire commands).
  TempDir state;
  REQUIRE(setenv("DEMO_STATE", state.path().c_str(), 1) == 0);
  struct StopMachine {  // whatever happens, no machine is left behind
    std::string pidfile;
    ~StopMachine() {
      const std::string pid = ReadFile(pidfile);
      if (!pid.empty()) kill(std::stoi(pid), SIGTERM);
      unsetenv("DEMO_STATE");
    }
  } stop_machine{state.path() + "/c.pid"};
  Backend a("a"), b("b");
  const int c_port = PickFreePort();
  auto h = StartHAProxy(Cfg(PickFreePort(), {"a " + a.address() + " " + kCheck, "b " + b.address() + " " + kCheck}));
  REQUIRE(h);
  SystemClock clock;
  const std::string machine = WARMPOOL_SOURCE_DIR "/examples/demo/machine.sh";
  auto provider = MakeProvider(h->socket_path, &clock,
                               {{"servers[0].name", "c"},
                                {"servers[0].address", "127.0.0.1:" + std::to_string(c_port)},
                                {"server_options", kCheck},
                                {"exec.provision", machine + " start"},
                                {"exec.retire", machine + " stop"},
                                {"exec.timeout", "10s"}});
  FixedMetrics metrics(20);
  PoolSpec spec = HealthPool();
  spec.health.probe.enabled = true;
  spec.health.probe.timeout = 500;
  spec.health.probe.interval = 200;
  std::vector<std::string> errors;
  PoolController pool(spec, CreatePolicies(spec, &errors), provider.get(), &metrics);
  REQUIRE(errors.empty());
  pool.SetProber(CreateProber(spec.health.probe));
  auto c_standby = [&] {
    const TickResult t = pool.RunOnce(clock.Now());
    CHECK(std::find(t.plan.promote.begin(), t.plan.promote.end(), "c") == t.plan.promote.end());
    const Server* c = t.observed.Find("c");
    return c != nullptr && c->state == ServerState::kStandby && c->health == Health::kHealthy;
  };
  REQUIRE(WaitFor(c_standby, 20s));  // provisioned: machine.sh started its backend
  const std::string pidfile = state.path() + "/c.pid";
  const std::string first_pid = ReadFile(pidfile);
  REQUIRE_FALSE(first_pid.empty());

  REQUIRE(kill(std::stoi(first_pid), SIGKILL) == 0);  // the standby's machine dies while it waits
  bool retired = false, failed = false;
  std::string last;
  INFO("last tick: " << last);
  REQUIRE(WaitFor(
      [&] {
        const TickResult t = pool.RunOnce(clock.Now());
        CHECK(std::find(t.plan.promote.begin(), t.plan.promote.end(), "c") == t.plan.promote.end());
        failed = failed || !t.probe_failures.empty();
        retired = retired || std::find(t.plan.retire.begin(), t.plan.retire.end(), "c") != t.plan.retire.end();
        const Server* c = t.observed.Find("c");
        last = t.plan.Summary() + " / " + (c ? StateName(c->state) : "-");
        return retired && c != nullptr && c->state == ServerState::kStandby && c->health == Health::kHealthy;
      },
      30s));
  CHECK(failed);
  const std::string second_pid = ReadFile(pidfile);
  CHECK_FALSE(second_pid.empty());
  CHECK(second_pid != first_pid);  // a fresh machine
  HttpReply reply = HttpGet(c_port, "/health").value_or(HttpReply{});
  CHECK(reply.status == 200);
}
