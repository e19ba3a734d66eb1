// HAProxyProvider against the real haproxy 2.6 on 127.0.0.1: observe, promote through real traffic,
// drain with an in-flight request, inventory add/del, errors, idempotency, an operator's change, a
// restart under a PoolController, and machines started by exec commands.
#include <doctest/doctest.h>
#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <thread>

#include "controller/runtime/pool_controller.h"
#include "tests/support/haproxy_test_util.h"

using namespace warmpool;
using namespace warmpool::testing;
using namespace std::chrono_literals;

TEST_CASE("haproxy: Observe maps cfg-declared enabled, disabled, drained, DOWN and inventory servers") {
  Backend a("a"), b("b"), c("c");
  const int port = PickFreePort();
  auto h = StartHAProxy(
      Cfg(port, {"a " + a.address() + " " + kCheck, "b " + b.address() + " " + kCheck + " disabled",
                 "c " + c.address() + " " + kCheck, "nocheck " + a.address(), "down 127.0.0.1:1 " + kCheck}));
  REQUIRE(h);
  REQUIRE(HAProxyCommand(h->socket_path, "set server web/c state drain") == "\n");
  SystemClock clock;
  auto p =
      MakeProvider(h->socket_path, &clock, {{"servers[0].name", "x"}, {"servers[0].address", "127.0.0.1:9"}});
  REQUIRE(WaitFor([&] { return Observed(*p, "down").health == Health::kUnhealthy; }, 5s));

  Result<PoolState> s = p->Observe();
  REQUIRE(s.ok());
  CHECK(s->pool == "web");
  CHECK(s->servers.size() == 6);
  const Server* sa = s->Find("a");
  REQUIRE(sa);
  CHECK(sa->state == ServerState::kActive);
  CHECK(sa->health == Health::kHealthy);
  CHECK(sa->address == a.address());
  CHECK(sa->since <= s->observed_at);
  CHECK(s->Find("b")->state == ServerState::kStandby);  // `disabled`
  CHECK(s->Find("b")->health == Health::kUnknown);      // checks are paused in maintenance
  CHECK(s->Find("c")->state == ServerState::kDraining);
  CHECK(s->Find("c")->health == Health::kHealthy);
  CHECK(s->Find("nocheck")->state == ServerState::kActive);
  CHECK(s->Find("nocheck")->health == Health::kHealthy);
  CHECK(s->Find("down")->state == ServerState::kActive);
  CHECK(s->Find("x")->state == ServerState::kCold);  // inventory slot, not registered
  CHECK(s->Find("x")->address == "127.0.0.1:9");
  // Not our drain: observed, never finished by the provider.
  std::this_thread::sleep_for(300ms);
  CHECK(Observed(*p, "c").state == ServerState::kDraining);
}

TEST_CASE("haproxy: a promoted server gets traffic only after its health check passes") {
  Backend a("a"), b("b"), n("n");
  const int port = PickFreePort();
  // b's gate is long enough to look inside: 3 checks 1 s apart after `health down`.
  auto h = StartHAProxy(
      Cfg(port, {"a " + a.address() + " " + kCheck, "b " + b.address() + " check inter 1s rise 3 disabled",
                 "n " + n.address() + " disabled", "f " + n.address() + " " + kCheck + " disabled"}));
  REQUIRE(h);
  SystemClock clock;
  auto p = MakeProvider(h->socket_path, &clock);

  ScalePlan plan;
  plan.promote = {"b"};
  ApplyResult r = p->Apply(plan);
  REQUIRE_MESSAGE(r.ok(), Errors(r));
  // Before the checks pass: in service but not UP, and no request reaches it.
  std::optional<haproxy::ServerStateRow> row = Row(*h, "b");
  REQUIRE(row);
  CHECK_FALSE(row->InMaintenance());
  CHECK(row->op_state == haproxy::kOpStopped);
  Server sb = Observed(*p, "b");
  CHECK(sb.state == ServerState::kActive);
  CHECK(sb.health == Health::kUnknown);  // within promotion_grace
  CHECK(Get(port, 10) == 10);
  CHECK(b.requests() == 0);
  CHECK(a.requests() == 10);
  // After `rise` checks: UP, healthy, and it takes its share.
  REQUIRE(WaitFor([&] { return Observed(*p, "b").health == Health::kHealthy; }, 8s));
  CHECK(Row(*h, "b")->op_state == haproxy::kOpRunning);
  CHECK(Get(port, 10) == 10);
  CHECK(b.requests() >= 4);

  // A server without checks cannot pass any: it gets `state ready` alone and serves at once. The same
  // for a server whose checks were disabled by hand (configured, not enabled).
  REQUIRE(HAProxyCommand(h->socket_path, "disable health web/f") == "\n");
  plan.promote = {"n", "f"};
  r = p->Apply(plan);
  REQUIRE_MESSAGE(r.ok(), Errors(r));
  CHECK(Row(*h, "n")->op_state == haproxy::kOpRunning);
  CHECK(Row(*h, "f")->op_state == haproxy::kOpRunning);
  CHECK(Observed(*p, "n").health == Health::kHealthy);
  CHECK(Get(port, 8) == 8);
  CHECK(n.requests() >= 3);  // n and f share the same Backend
}

TEST_CASE("haproxy: promotion_grace ends, and a server that never comes UP is unhealthy") {
  const int port = PickFreePort();
  auto h = StartHAProxy(Cfg(port, {"dead 127.0.0.1:1 " + kCheck + " disabled"}));
  REQUIRE(h);
  SystemClock clock;
  auto p = MakeProvider(h->socket_path, &clock, {{"promotion_grace", "1s"}});
  ScalePlan plan;
  plan.promote = {"dead"};
  REQUIRE(p->Apply(plan).ok());
  CHECK(Observed(*p, "dead").health == Health::kUnknown);
  REQUIRE(WaitFor([&] { return Observed(*p, "dead").health == Health::kUnhealthy; }, 3s));
  CHECK(Observed(*p, "dead").state == ServerState::kActive);
}

TEST_CASE("haproxy: drain lets an in-flight request finish, takes no new ones, then goes to maintenance") {
  // Twice: with the frontend named as the backend too ("web"), which `show stat web` resolves to the
  // frontend: the sessions must still be read from the backend's servers.
  for (const char* frontend : {"fe", "web"}) {
  CAPTURE(std::string(frontend));
  Backend a("a"), slow("slow", 1200ms);
  const int port = PickFreePort();
  std::string cfg = Cfg(port, {"a " + a.address() + " " + kCheck + " disabled", "slow " + slow.address() + " " + kCheck});
  cfg.replace(cfg.find("frontend fe"), 11, std::string("frontend ") + frontend);
  auto h = StartHAProxy(cfg);
  REQUIRE(h);
  SystemClock clock;
  auto p = MakeProvider(h->socket_path, &clock);

  std::optional<HttpReply> reply;
  std::thread client([&] { reply = HttpGet(port, "/", 5s); });  // only `slow` is in service
  REQUIRE(WaitFor([&] { return slow.in_flight() == 1; }, 3s));
  REQUIRE(HAProxyCommand(h->socket_path, "set server web/a state ready") == "\n");
  ScalePlan plan;
  plan.drain = {"slow"};
  ApplyResult r = p->Apply(plan);
  REQUIRE_MESSAGE(r.ok(), Errors(r));
  CHECK(Observed(*p, "slow").state == ServerState::kDraining);  // one session still open
  CHECK(Get(port, 5) == 5);
  CHECK(a.requests() == 5);
  CHECK(slow.requests() == 1);
  client.join();
  REQUIRE(reply);
  CHECK(reply->status == 200);
  CHECK(reply->body == "slow");
  REQUIRE(WaitState(*p, "slow", ServerState::kStandby, 3s));
  CHECK(Row(*h, "slow")->InMaintenance());
  CHECK(p->TakeEvents().back() == "drain web/slow: no sessions left, now in maintenance (standby)");
  }
}

TEST_CASE("haproxy: drain_timeout puts a server in maintenance with a request still in flight") {
  Backend slow("slow", 2000ms);
  const int port = PickFreePort();
  auto h = StartHAProxy(Cfg(port, {"slow " + slow.address() + " " + kCheck}));
  REQUIRE(h);
  SystemClock clock;
  auto p = MakeProvider(h->socket_path, &clock, {{"drain_timeout", "500ms"}});
  std::optional<HttpReply> reply;
  std::thread client([&] { reply = HttpGet(port, "/", 5s); });
  REQUIRE(WaitFor([&] { return slow.in_flight() == 1; }, 3s));
  ScalePlan plan;
  plan.drain = {"slow"};
  REQUIRE(p->Apply(plan).ok());
  CHECK(Observed(*p, "slow").state == ServerState::kDraining);
  REQUIRE(WaitState(*p, "slow", ServerState::kStandby, 3s));
  CHECK(slow.in_flight() == 1);  // forced: the request was still running
  CHECK(p->TakeEvents().back().find("drain_timeout 500ms passed with 1 sessions") != std::string::npos);
  client.join();  // maintenance does not cut sessions already there
  REQUIRE(reply);
  CHECK(reply->status == 200);
}

TEST_CASE("haproxy: an inventory slot is added, promoted, drained and deleted") {
  Backend a("a"), x("x");
  const int port = PickFreePort();
  auto h = StartHAProxy(Cfg(port, {"a " + a.address() + " " + kCheck}));
  REQUIRE(h);
  SystemClock clock;
  auto p = MakeProvider(
      h->socket_path, &clock,
      {{"servers[0].name", "x"}, {"servers[0].address", x.address()}, {"server_options", kCheck}});
  CHECK(Observed(*p, "x").state == ServerState::kCold);
  ScalePlan plan;
  plan.provision = {"x"};
  ApplyResult r = p->Apply(plan);
  REQUIRE_MESSAGE(r.ok(), Errors(r));
  REQUIRE(Row(*h, "x"));
  CHECK(Row(*h, "x")->ChecksEnabled());  // `enable health` followed `add server ... check`
  CHECK(Observed(*p, "x").state == ServerState::kStandby);

  plan = ScalePlan{};
  plan.promote = {"x"};
  REQUIRE(p->Apply(plan).ok());
  CHECK(Row(*h, "x")->op_state == haproxy::kOpStopped);  // health-gated
  REQUIRE(WaitFor([&] { return Observed(*p, "x").health == Health::kHealthy; }, 5s));
  CHECK(Get(port, 6) == 6);
  const int served = x.requests();
  CHECK(served >= 2);

  plan = ScalePlan{};
  plan.drain = {"x"};
  REQUIRE(p->Apply(plan).ok());
  REQUIRE(WaitState(*p, "x", ServerState::kStandby));
  plan = ScalePlan{};
  plan.retire = {"x"};
  r = p->Apply(plan);
  REQUIRE_MESSAGE(r.ok(), Errors(r));
  CHECK_FALSE(Row(*h, "x"));  // `del server`
  CHECK(Observed(*p, "x").state == ServerState::kCold);
  CHECK(Get(port, 4) == 4);
  CHECK(x.requests() == served);
}

TEST_CASE("haproxy: errors name the socket, the command and HAProxy's reply") {
  Backend a("a");
  const int port = PickFreePort(), tcp_port = PickFreePort();
  auto h =
      StartHAProxy(Cfg(port, {"a " + a.address() + " " + kCheck},
                       "backend fixed\n  balance static-rr\n  server s " + a.address() + "\n", tcp_port));
  REQUIRE(h);
  SystemClock clock;
  const std::string& sock = h->socket_path;

  RuntimeClient client(sock, 2000);
  CHECK(client.Call("set server web/x state ready").status().ToString() ==
        "not found: haproxy " + sock + ": \"set server web/x state ready\": No such server.");
  // Over TCP, the same API.
  RuntimeClient tcp("127.0.0.1:" + std::to_string(tcp_port), 2000);
  Result<std::string> info = tcp.Call("show info");
  REQUIRE_MESSAGE(info.ok(), info.status().ToString());
  CHECK(info->find("Name: HAProxy") != std::string::npos);
  CHECK(MakeProvider(tcp.endpoint(), &clock)->Observe().ok());

  auto nope = MakeProvider(sock, &clock, {{"backend", "nope"}});
  Result<PoolState> s = nope->Observe();
  CHECK(s.status().ToString() ==
        "not found: haproxy " + sock + ": \"show servers state nope\": Can't find backend.");

  auto missing = MakeProvider(h->dir->path() + "/missing.sock", &clock);
  s = missing->Observe();
  CHECK(s.status().code() == Status::Code::kUnavailable);
  CHECK(s.status().message() ==
        "haproxy " + h->dir->path() +
            "/missing.sock: \"show servers state web; show stat -1 4 -1\": connect: No such "
            "file or directory");
  CHECK(RuntimeClient("127.0.0.1:1", 500).Call("show info").status().message() ==
        "haproxy 127.0.0.1:1: \"show info\": connect: Connection refused");
  // Something that accepts and never answers: the command timeout.
  Backend silent("silent");
  Result<std::string> late = RuntimeClient(silent.address(), 300).Call("show info");
  CHECK(late.status().code() == Status::Code::kDeadlineExceeded);
  CHECK(late.status().message() ==
        "haproxy " + silent.address() +
            ": \"show info\": no complete reply within 300ms (read 0 bytes, timed out)");
  // Something that floods: refused past the reply limit, long before the timeout.
  {
    const int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(listen(listener, 1) == 0);
    socklen_t len = sizeof addr;
    getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
    std::thread flood([listener] {
      const int fd = accept(listener, nullptr, nullptr);
      const std::string block(1 << 20, 'x');
      for (int i = 0; i < 100 && send(fd, block.data(), block.size(), MSG_NOSIGNAL) > 0; ++i) {
      }
      close(fd);
    });
    const std::string where = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
    Result<std::string> flooded = RuntimeClient(where, 10000).Call("show info");
    flood.join();
    close(listener);
    CHECK(flooded.status().message() ==
          "haproxy " + where + ": \"show info\": reply larger than 64 MiB: not a runtime API");
  }

  auto p = MakeProvider(sock, &clock);
  ScalePlan plan;
  plan.promote = {"ghost"};
  plan.drain = {"ghost"};
  ApplyResult r = p->Apply(plan);
  REQUIRE(r.actions.size() == 2);
  CHECK(r.actions[0].status.ToString() == "not found: no server ghost in backend web (socket " + sock + ")");

  // HAProxy's own refusal: a static-rr backend cannot take dynamic servers.
  auto fixed = MakeProvider(
      sock, &clock, {{"backend", "fixed"}, {"servers[0].name", "y"}, {"servers[0].address", "127.0.0.1:9"}});
  plan = ScalePlan{};
  plan.provision = {"y"};
  r = fixed->Apply(plan);
  REQUIRE(r.actions.size() == 1);
  CHECK(
      r.actions[0].status.ToString() ==
      "failed precondition: haproxy " + sock +
          ": \"add server fixed/y 127.0.0.1:9 check\": Backend must use a dynamic load balancing to support "
          "dynamic servers.");
  // Retiring an active server is refused before anything is sent.
  plan = ScalePlan{};
  plan.retire = {"a"};
  CHECK(p->Apply(plan).actions[0].status.message() == "cannot retire web/a: it is active (drain it first)");
}

TEST_CASE("haproxy: the same plan applied twice is OK twice and changes nothing more") {
  Backend a("a"), b("b"), x("x");
  const int port = PickFreePort();
  auto h = StartHAProxy(
      Cfg(port, {"a " + a.address() + " " + kCheck, "b " + b.address() + " " + kCheck + " disabled",
                 "e " + b.address() + " " + kCheck + " disabled"}));
  REQUIRE(h);
  SystemClock clock;
  auto p =
      MakeProvider(h->socket_path, &clock, {{"servers[0].name", "x"}, {"servers[0].address", x.address()}});
  ScalePlan plan;
  plan.promote = {"b"};
  plan.drain = {"a"};
  plan.provision = {"x"};
  plan.retire = {"e"};
  for (int i = 0; i < 3; ++i) {
    ApplyResult r = p->Apply(plan);
    CAPTURE(i);
    CHECK_MESSAGE(r.ok(), Errors(r));
    CHECK(r.actions.size() == 4);
    if (i == 1) REQUIRE(WaitState(*p, "a", ServerState::kStandby));  // the drain finishes in between
  }
  REQUIRE(WaitFor([&] { return Observed(*p, "b").health == Health::kHealthy; }, 5s));
  Result<PoolState> s = p->Observe();
  REQUIRE(s.ok());
  CHECK(s->Find("a")->state == ServerState::kStandby);
  CHECK(s->Find("b")->state == ServerState::kActive);
  CHECK(s->Find("x")->state == ServerState::kStandby);
  CHECK(s->Find("e")->state == ServerState::kCold);  // cfg-declared, retired: kept in maintenance
  CHECK(Row(*h, "e")->InMaintenance());
  // Provisioning it again brings it back as a standby.
  plan = ScalePlan{};
  plan.provision = {"e"};
  REQUIRE(p->Apply(plan).ok());
  CHECK(Observed(*p, "e").state == ServerState::kStandby);
}

TEST_CASE("haproxy: an operator's change by hand is simply observed") {
  Backend a("a"), b("b");
  const int port = PickFreePort();
  auto h = StartHAProxy(
      Cfg(port, {"a " + a.address() + " " + kCheck, "b " + b.address() + " " + kCheck + " disabled"}));
  REQUIRE(h);
  SystemClock clock;
  auto p = MakeProvider(h->socket_path, &clock);
  CHECK(Observed(*p, "a").state == ServerState::kActive);
  REQUIRE(HAProxyCommand(h->socket_path, "set server web/a state maint; set server web/b state ready") ==
          "\n\n");
  CHECK(Observed(*p, "a").state == ServerState::kStandby);
  CHECK(Observed(*p, "b").state == ServerState::kActive);  // CMAINT stays set, yet it is in service
  CHECK(Get(port, 3) == 3);
  CHECK(b.requests() == 3);
  REQUIRE(HAProxyCommand(h->socket_path, "set server web/b state drain") == "\n");
  CHECK(Observed(*p, "b").state == ServerState::kDraining);
  CHECK(Observed(*p, "b").state == ServerState::kDraining);  // not ours to finish
}

TEST_CASE("haproxy: after an HAProxy restart, a PoolController converges to the desired state again") {
  Backend a("a"), b("b"), c("c");
  const int port = PickFreePort();
  auto h = StartHAProxy(
      Cfg(port, {"a " + a.address() + " " + kCheck, "b " + b.address() + " " + kCheck + " disabled",
                 "c " + c.address() + " " + kCheck + " disabled"}));
  REQUIRE(h);
  SystemClock clock;
  auto p = MakeProvider(h->socket_path, &clock);
  PoolSpec spec = RpsPool(/*min_active=*/1, /*max_active=*/3, /*warm_standby=*/1);
  std::vector<std::string> errors;
  std::vector<std::unique_ptr<Policy>> policies = CreatePolicies(spec, &errors);
  REQUIRE(errors.empty());
  FixedMetrics metrics(20);  // 20 rps at 10 per server: 2 active, and 1 warm standby behind them
  PoolController controller(spec, std::move(policies), p.get(), &metrics);
  auto converged = [&] {
    TickResult t = controller.RunOnce(clock.Now());
    return t.status.ok() && t.observed.CountHealthy(ServerState::kActive) == 2 &&
           t.observed.Count(ServerState::kActive) == 2 && t.observed.Count(ServerState::kStandby) == 1;
  };
  REQUIRE(WaitFor(converged, 8s));
  CHECK(Get(port, 4) == 4);

  const pid_t old_pid = h->process->pid();
  h->process->Stop();
  TickResult down = controller.RunOnce(clock.Now());
  CHECK(down.status.code() == Status::Code::kUnavailable);
  CHECK(down.plan.empty());
  h->process = Process::Start({"haproxy", "-db", "-f", h->config_path}, h->dir->path() + "/haproxy-2.log");
  REQUIRE(h->process);
  CHECK(h->process->pid() != old_pid);
  const std::string sock = h->socket_path;
  REQUIRE(WaitFor([&] { return HAProxyCommand(sock, "show info").find("Name:") != std::string::npos; }, 10s));
  Result<PoolState> fresh = p->Observe();  // HAProxy forgot our changes: back to the cfg
  REQUIRE(fresh.ok());
  CHECK(fresh->Count(ServerState::kActive) == 1);
  CHECK(fresh->Count(ServerState::kStandby) == 2);
  REQUIRE(WaitFor(converged, 8s));
  CHECK(Get(port, 4) == 4);
}

TEST_CASE(
    "haproxy: exec machines: provisioning, standby after exit 0, a failure reported and the slot cold") {
  Backend a("a"), x("x");
  const int port = PickFreePort();
  auto h = StartHAProxy(
      Cfg(port, {"a " + a.address() + " " + kCheck, "b " + a.address() + " " + kCheck + " disabled"}));
  REQUIRE(h);
  TempDir dir;
  const std::string log = dir.path() + "/log";
  SystemClock clock;
  auto p =
      MakeProvider(h->socket_path, &clock,
                   {{"servers[0].name", "x"},
                    {"servers[0].address", x.address()},
                    {"servers[1].name", "bad"},
                    {"servers[1].address", "127.0.0.1:9"},
                    {"server_options", kCheck},
                    {"exec.provision",
                     "echo started $WARMPOOL_SERVER $WARMPOOL_ADDRESS >> " + log +
                         "; sleep 0.3; if [ $WARMPOOL_SERVER = bad ]; then echo no capacity >&2; exit 3; fi"},
                    {"exec.retire", "echo retired $WARMPOOL_SERVER >> " + log},
                    {"exec.timeout", "10s"}});
  Result<PoolState> s = p->Observe();
  REQUIRE(s.ok());
  CHECK(s->Find("a")->state == ServerState::kActive);   // in service: its machine exists (adopted)
  CHECK(s->Find("b")->state == ServerState::kStandby);  // cfg-declared standby: its machine is adopted
  CHECK(s->Find("x")->state == ServerState::kCold);
  CHECK(s->Find("bad")->state == ServerState::kCold);

  ScalePlan plan;
  plan.provision = {"x", "bad", "b"};  // b: already ready, a no-op
  ApplyResult r = p->Apply(plan);
  REQUIRE_MESSAGE(r.ok(), Errors(r));
  s = p->Observe();
  REQUIRE(s.ok());
  CHECK(s->Find("x")->state == ServerState::kProvisioning);
  CHECK(s->Find("bad")->state == ServerState::kProvisioning);
  CHECK_FALSE(Row(*h, "x"));  // registered only once its machine is ready
  REQUIRE(WaitState(*p, "x", ServerState::kStandby));
  REQUIRE(Row(*h, "x"));
  CHECK(Row(*h, "x")->InMaintenance());
  REQUIRE(WaitState(*p, "b", ServerState::kStandby));
  REQUIRE(WaitState(*p, "bad", ServerState::kCold));
  CHECK_FALSE(Row(*h, "bad"));
  const std::string error = p->exec()->machines().at("bad").last_error;
  CHECK(error.find("provision bad: exit 3 after") == 0);
  CHECK(error.find(": no capacity") != std::string::npos);
  bool reported = false;
  for (const std::string& e : p->TakeEvents()) reported = reported || e == error;
  CHECK(reported);
  CHECK(ReadFile(log).find("started x " + x.address() + "\n") != std::string::npos);
  CHECK(ReadFile(log).find("started b " + a.address()) == std::string::npos);  // adopted, not started

  // A ready standby serves once promoted; retiring deletes it and runs the retire command.
  plan = ScalePlan{};
  plan.promote = {"x"};
  REQUIRE(p->Apply(plan).ok());
  REQUIRE(WaitFor([&] { return Observed(*p, "x").health == Health::kHealthy; }, 5s));
  plan = ScalePlan{};
  plan.drain = {"x"};
  REQUIRE(p->Apply(plan).ok());
  REQUIRE(WaitState(*p, "x", ServerState::kStandby));
  plan = ScalePlan{};
  plan.retire = {"x"};
  r = p->Apply(plan);
  REQUIRE_MESSAGE(r.ok(), Errors(r));
  CHECK_FALSE(Row(*h, "x"));
  REQUIRE(WaitState(*p, "x", ServerState::kCold));
  CHECK(ReadFile(log).find("retired x\n") != std::string::npos);
}
