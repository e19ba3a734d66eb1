// The warm pool's stopped tier (issue 17) over the real stack: HAProxy 2.6 on 127.0.0.1 and the demo's
// backends (examples/demo/backend.py), one per server. A stopped standby's "machine" is its backend
// process frozen with SIGSTOP by the exec `suspend` command and thawed with SIGCONT by `resume`.
// During a surge it is resumed, promoted (health-gated) only once the resume command has finished,
// and serves through HAProxy.
#include <doctest/doctest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "controller/runtime/pool_controller.h"
#include "tests/support/haproxy_test_util.h"
#include "tests/support/harness.h"

using namespace warmpool;
using namespace warmpool::testing;
using namespace std::chrono_literals;

namespace {

bool Has(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// The process state letter from /proc/PID/stat ('T': stopped by a signal).
char ProcState(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const size_t paren = all.rfind(')');
  return paren == std::string::npos || paren + 2 >= all.size() ? '?' : all[paren + 2];
}

// A load the test sets: one fresh sample of its value.
class SettableMetrics final : public MetricsSource {
 public:
  Result<MetricWindow> Fetch(const MetricQuery& q, TimeMs now) override {
    MetricWindow w;
    w.metric = q.name;
    w.samples.push_back({now, value.load()});
    return w;
  }
  std::atomic<double> value{5};
};

struct TierBackend {
  TierBackend(const TempDir& dir, const std::string& name) : port(PickFreePort()) {
    process = Process::Start({"python3", WARMPOOL_SOURCE_DIR "/examples/demo/backend.py", "--port",
                              std::to_string(port), "--name", name, "--delay-ms", "1"},
                             dir.path() + "/" + name + ".log");
    REQUIRE(process);
    REQUIRE_MESSAGE(WaitFor([&] { return HttpGet(port, "/health").has_value(); }, 10s), process->Log());
    std::ofstream(dir.path() + "/" + name + ".pid") << process->pid() << "\n";
  }
  ~TierBackend() {
    if (process) process->Signal(SIGCONT);  // a frozen one must be able to take its SIGTERM
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port); }
  int port;
  std::unique_ptr<Process> process;
};

}  // namespace

TEST_CASE("tiers: a stopped standby (SIGSTOPped) is resumed in a surge, promoted only after, and serves") {
  TempDir dir;
  std::map<std::string, std::unique_ptr<TierBackend>> backends;
  for (const char* name : {"a", "b", "c"}) backends[name] = std::make_unique<TierBackend>(dir, name);
  const int port = PickFreePort();
  std::unique_ptr<HAProxy> haproxy =
      StartHAProxy(Cfg(port, {"a " + backends["a"]->address() + " " + kCheck,
                              "b " + backends["b"]->address() + " " + kCheck + " disabled",
                              "c " + backends["c"]->address() + " " + kCheck + " disabled"}));
  REQUIRE(haproxy);
  const std::string log = dir.path() + "/exec.log";
  const std::string pid = "$(cat " + dir.path() + "/$WARMPOOL_SERVER.pid)";
  SystemClock clock;
  // provision and retire are required by exec; max_total 3 leaves them nothing to do here.
  std::unique_ptr<HAProxyProvider> provider = MakeProvider(
      haproxy->socket_path, &clock,
      {{"exec.provision", "echo provision $WARMPOOL_SERVER >> " + log},
       {"exec.retire", "echo retire $WARMPOOL_SERVER >> " + log},
       {"exec.suspend", "kill -STOP " + pid + " && echo suspend $WARMPOOL_SERVER >> " + log},
       // Resuming takes a moment, as a real machine's start does.
       {"exec.resume", "sleep 0.5 && kill -CONT " + pid + " && echo resume $WARMPOOL_SERVER >> " + log},
       {"exec.timeout", "10s"}});
  PoolSpec spec = RpsPool(/*min_active=*/1, /*max_active=*/3, /*warm_standby=*/1);
  spec.warm_stopped = 1;
  spec.max_total = 3;
  SettableMetrics metrics;  // 5 req/s at 10 per server: one active
  std::vector<std::string> errors;
  PoolController pool(spec, CreatePolicies(spec, &errors), provider.get(), &metrics, false);
  REQUIRE(errors.empty());
  std::string last;
  auto tick = [&] {
    std::this_thread::sleep_for(200ms);
    TickResult t = pool.RunOnce(clock.Now(), {});
    last = t.decision.reason + " / " + t.plan.Summary() + " / " + t.applied.Summary();
    return t;
  };

  // Two standbys, one wanted running: the newer (by name among equals: c) is suspended into the
  // stopped tier by the exec command, which freezes its process. It stays in maintenance.
  bool stopped = false;
  for (int i = 0; i < 50 && !stopped; ++i)
    stopped = tick().observed.Find("c")->state == ServerState::kStopped;
  INFO("last tick: " << last);
  REQUIRE(stopped);
  CHECK(ReadFile(log).find("suspend c") != std::string::npos);
  CHECK(ProcState(backends["c"]->process->pid()) == 'T');
  CHECK(Row(*haproxy, "c")->InMaintenance());
  CHECK(Observed(*provider, "b").state == ServerState::kStandby);
  // The provider remembers it: a restarted one (from its Memory) sees c stopped, not a ready standby.
  const ProviderMemory memory = provider->Memory();
  REQUIRE(memory.count("machine_stopped"));
  CHECK(memory.at("machine_stopped").count("c") == 1);
  {
    std::unique_ptr<HAProxyProvider> restarted = MakeProvider(haproxy->socket_path, &clock,
                                                              {{"exec.provision", "true"},
                                                               {"exec.retire", "true"},
                                                               {"exec.suspend", "true"},
                                                               {"exec.resume", "true"}});
    restarted->Restore(memory);
    CHECK(Observed(*restarted, "c").state == ServerState::kStopped);
  }
  // Held steady: nothing more happens to the tiers.
  for (int i = 0; i < 3; ++i) {
    const TickResult t = tick();
    CHECK(t.plan.empty());
  }

  // The surge: 25 req/s wants 3 active. b is promoted at once, c resumed; c is promoted only once its
  // resume command has finished (and HAProxy's checks bring it UP: the health gate).
  metrics.value = 25;
  bool resumed_in_plan = false, c_serving = false;
  for (int i = 0; i < 60 && !c_serving; ++i) {
    const TickResult t = tick();
    resumed_in_plan = resumed_in_plan || Has(t.plan.resume, "c");
    if (Has(t.plan.promote, "c")) {
      CHECK_MESSAGE(ReadFile(log).find("resume c") != std::string::npos, "c promoted before it was resumed");
      CHECK(ProcState(backends["c"]->process->pid()) != 'T');
    }
    const Server* c = t.observed.Find("c");
    c_serving = c != nullptr && c->Serving();
  }
  INFO("last tick: " << last);
  CHECK(resumed_in_plan);
  REQUIRE(c_serving);
  CHECK_FALSE(Row(*haproxy, "b")->InMaintenance());
  CHECK_FALSE(Row(*haproxy, "c")->InMaintenance());
  // c answers through HAProxy (roundrobin over a, b, c).
  int from_c = 0, ok = 0;
  for (int i = 0; i < 30; ++i) {
    const std::optional<HttpReply> r = HttpGet(port, "/");
    ok += r && r->status == 200;
    from_c += r && r->body == "c\n";
  }
  CHECK(ok == 30);
  CHECK(from_c >= 5);
}
