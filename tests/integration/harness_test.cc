// The harness itself, against the real servers: if these fail, the integration tests cannot be trusted.
#include "tests/support/harness.h"

#include <doctest/doctest.h>
#include <signal.h>

using namespace warmpool::testing;

TEST_CASE("harness: a real Prometheus starts on an ephemeral port, scrapes itself, and stops by PID") {
  auto prom = StartPrometheus("  - job_name: self\n    static_configs: [{targets: ['127.0.0.1:@PORT@']}]\n");
  REQUIRE(prom);
  CHECK(prom->process->Running());
  auto up = HttpGet(prom->port, "/api/v1/query?query=up");
  REQUIRE(up);
  CHECK(up->status == 200);
  CHECK(up->body.find("\"status\":\"success\"") != std::string::npos);
  int pid = prom->process->pid();
  prom->process->Stop();
  CHECK_FALSE(prom->process->Running());
  CHECK(kill(pid, 0) != 0);
}

TEST_CASE("harness: a real HAProxy balances to tiny backends and answers on its admin socket") {
  Backend a("a"), b("b");
  auto haproxy_port = PickFreePort();
  auto h = StartHAProxy(
      "global\n  stats socket @SOCKET@ mode 600 level admin\n"
      "defaults\n  mode http\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\n"
      "frontend fe\n  bind 127.0.0.1:" +
      std::to_string(haproxy_port) +
      "\n  default_backend web\n"
      "backend web\n  balance roundrobin\n"
      "  server a " +
      a.address() + "\n  server b " + b.address() + "\n");
  REQUIRE(h);
  for (int i = 0; i < 4; ++i) {
    auto r = HttpGet(haproxy_port, "/");
    REQUIRE(r);
    CHECK(r->status == 200);
  }
  CHECK(a.requests() == 2);
  CHECK(b.requests() == 2);
  CHECK(HAProxyCommand(h->socket_path, "show servers state web").find(" a ") != std::string::npos);
}
