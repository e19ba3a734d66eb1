// Helpers of tests/integration/haproxy_test.cc: an haproxy.cfg with one frontend and backend `web`,
// a provider on its admin socket, and short ways to read the real state back.
#ifndef WARMPOOL_TESTS_SUPPORT_HAPROXY_TEST_UTIL_H_
#define WARMPOOL_TESTS_SUPPORT_HAPROXY_TEST_UTIL_H_

#include <doctest/doctest.h>

#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "controller/runtime/app.h"
#include "providers/haproxy/haproxy_parse.h"
#include "providers/haproxy/haproxy_provider.h"
#include "tests/support/harness.h"
#include "warmpool/metrics.h"
#include "warmpool/pool_spec.h"

namespace warmpool::testing {

// The wall clock (the provider's promotion grace and drain timeout are real time here).
using warmpool::SystemClock;

// Fast checks: a server comes UP 2 checks (~0.4 s) after `health down`.
inline const std::string kCheck = "check inter 200ms rise 2 fall 2";

// A whole haproxy.cfg: admin socket @SOCKET@ (plus a TCP one when tcp_port > 0), frontend on
// `port`, backend `web` (roundrobin) with `servers` ("name addr options" each), then `extra`.
inline std::string Cfg(int port, const std::vector<std::string>& servers, const std::string& extra = "",
                       int tcp_port = 0) {
  std::string cfg = "global\n  stats socket @SOCKET@ mode 600 level admin\n";
  if (tcp_port > 0) cfg += "  stats socket ipv4@127.0.0.1:" + std::to_string(tcp_port) + " level admin\n";
  cfg += "defaults\n  mode http\n  timeout connect 1s\n  timeout client 10s\n  timeout server 10s\n";
  cfg += "frontend fe\n  bind 127.0.0.1:" + std::to_string(port) + "\n  default_backend web\n";
  cfg += "backend web\n  balance roundrobin\n";
  for (const std::string& s : servers) cfg += "  server " + s + "\n";
  return cfg + extra;
}

inline std::unique_ptr<HAProxyProvider> MakeProvider(const std::string& socket, const Clock* clock,
                                                     std::map<std::string, std::string> values = {}) {
  Params p;
  p.path = "pools[0].provider";
  p.values = std::move(values);
  p.values["socket"] = socket;
  if (!p.values.count("backend")) p.values["backend"] = "web";
  std::vector<std::string> errors;
  std::optional<HAProxySpec> spec = ReadHAProxySpec(p, &errors);
  std::string joined;
  for (const std::string& e : errors) joined += e + "\n";
  INFO(joined);
  REQUIRE(spec);
  return std::make_unique<HAProxyProvider>("web", std::move(*spec), clock);
}

// The provider's view of one server; fails the test when it cannot observe.
inline Server Observed(HAProxyProvider& p, const std::string& name) {
  Result<PoolState> s = p.Observe();
  INFO(s.status().ToString());
  REQUIRE(s.ok());
  const Server* server = s->Find(name);
  if (!server) return Server{name, "", ServerState::kRetired, Health::kUnknown, 0};  // absent
  return *server;
}

// HAProxy's own view of one server (not through the provider).
inline std::optional<haproxy::ServerStateRow> Row(const HAProxy& h, const std::string& name) {
  Result<std::vector<haproxy::ServerStateRow>> rows =
      haproxy::ParseServersState(HAProxyCommand(h.socket_path, "show servers state web"));
  if (!rows.ok()) return std::nullopt;
  for (const haproxy::ServerStateRow& r : *rows) {
    if (r.name == name) return r;
  }
  return std::nullopt;
}

// Sends `n` requests through the frontend; returns how many got a 200.
inline int Get(int port, int n) {
  int ok = 0;
  for (int i = 0; i < n; ++i) {
    auto r = HttpGet(port, "/");
    ok += r && r->status == 200;
  }
  return ok;
}

inline std::string Errors(const ApplyResult& r) { return r.Summary(); }

inline bool WaitState(HAProxyProvider& p, const std::string& name, ServerState state,
                      std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  return WaitFor([&] { return Observed(p, name).state == state; }, timeout);
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// One sample of a fixed value, always fresh.
class FixedMetrics final : public MetricsSource {
 public:
  explicit FixedMetrics(double value) : value_(value) {}
  Result<MetricWindow> Fetch(const MetricQuery& q, TimeMs now) override {
    MetricWindow w;
    w.metric = q.name;
    w.samples.push_back({now, value_});
    return w;
  }

 private:
  double value_;
};

// Pool "web": target_tracking on "rps" at 10 per server, no rate limits, no scale-down window.
inline PoolSpec RpsPool(int min_active, int max_active, int warm_standby) {
  PoolSpec spec;
  spec.name = "web";
  spec.min_active = min_active;
  spec.max_active = max_active;
  spec.warm_standby = warm_standby;
  spec.behavior.scale_up.limits.clear();
  spec.behavior.scale_down.stabilization_window = 0;
  MetricQuery q;
  q.name = "rps";
  q.query = "rps";
  spec.metrics.push_back(q);
  Params params;
  params.path = "pools[0].policies[0]";
  params.values = {{"metric", "rps"}, {"target_per_server", "10"}};
  spec.policies.push_back(PluginSpec{"target_tracking", "tt", params});
  spec.provider.type = "haproxy";
  return spec;
}

}  // namespace warmpool::testing

#endif  // WARMPOOL_TESTS_SUPPORT_HAPROXY_TEST_UTIL_H_
