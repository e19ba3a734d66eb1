// HAProxyCounterSource: a metric read from the balancer itself, the request rate of one proxy from its
// cumulative `show stat` counter over the runtime API. It is a metric's fallback
// (`metrics[].fallback: {type: haproxy}`): when Prometheus fails or its answer is stale, the pool can
// still see its load and scale up (docs/configuration.md, "fallback").
//
// Every Fetch reads the counter once and returns the rate between that reading and the oldest one
// within `rate_window` (at least the previous one), for every reading in the query's window. So the
// caller fetches it every tick, also while the first source is fine: the rate is ready the tick
// Prometheus fails. A counter that went down (HAProxy restarted or reloaded) starts the readings again.
// Unless `scale_down` is set, every window is MetricWindow::floor_only: HAProxy's counters see what
// this balancer admitted, not the demand Prometheus may aggregate over several, so by default they may
// only raise the pool.
#ifndef WARMPOOL_PROVIDERS_HAPROXY_HAPROXY_COUNTERS_H_
#define WARMPOOL_PROVIDERS_HAPROXY_HAPROXY_COUNTERS_H_

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "providers/haproxy/runtime_client.h"
#include "warmpool/metrics.h"
#include "warmpool/params.h"

namespace warmpool {

struct HAProxyCounterSpec {
  std::string socket;             // the admin socket (defaults to the pool's haproxy provider's)
  std::string proxy;              // defaults to the provider's backend
  std::string side = "backend";   // the proxy's FRONTEND or BACKEND line
  std::string counter = "req_tot";  // req_tot (HTTP requests) or stot (sessions, any mode)
  DurationMs rate_window = 30 * kSecond;
  DurationMs timeout = 2 * kSecond;
  bool scale_down = false;  // its values may lower the pool
};

class HAProxyCounterSource final : public MetricsSource {
 public:
  explicit HAProxyCounterSource(HAProxyCounterSpec spec);
  Result<MetricWindow> Fetch(const MetricQuery& q, TimeMs now) override;

 private:
  HAProxyCounterSpec spec_;
  RuntimeClient client_;
  std::string command_;  // show stat <proxy> <type> -1
  std::string svname_;   // FRONTEND or BACKEND
  std::string origin_;   // "haproxy web backend req_tot"
  std::deque<Sample> readings_;  // (time, counter), oldest first
};

// Registry entry (fallback type "haproxy"). Params: socket, proxy, side, counter, rate_window, timeout,
// scale_down. Appends path-named errors and returns nullptr when any is wrong.
std::unique_ptr<MetricsSource> NewHAProxyCounterSource(const Params& params, std::vector<std::string>* errors);

}  // namespace warmpool

#endif  // WARMPOOL_PROVIDERS_HAPROXY_HAPROXY_COUNTERS_H_
