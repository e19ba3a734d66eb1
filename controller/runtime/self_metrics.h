// SelfMetrics: Warmpool's own metrics, for Prometheus to scrape from /metrics. The loop feeds it one
// TickResult per pool per tick; the API renders it. prometheus-cpp stays behind this header.
//
// Series (every per-pool series carries `pool`):
//   gauges    warmpool_pool_desired_servers, warmpool_pool_recommended_servers (before behavior, clamps
//             and controls), warmpool_pool_servers{state=active|standby|provisioning|draining|cold},
//             warmpool_pool_min_active, warmpool_pool_max_active, warmpool_pool_warm_standby_target,
//             warmpool_metric_staleness_seconds{metric}, warmpool_override_active (0/1),
//             warmpool_pause{direction=up|down} (0/1), warmpool_dry_run (0/1),
//             warmpool_pool_last_tick_timestamp_seconds, warmpool_build_info{version} (always 1)
//   counters  warmpool_decisions_total{direction=up|down|none,policy}, warmpool_plan_actions_total
//             {action=promote|drain|provision|retire,result=ok|error|dry_run},
//             warmpool_metric_query_errors_total, warmpool_pool_observe_errors_total,
//             warmpool_http_refused_total{kind} (no pool: the API's HTTP server; see HttpServerOptions)
//   gauge     warmpool_http_connections (no pool)
//   counter   warmpool_state_save_errors_total, gauge warmpool_state_save_failing (no pool)
//   histogram warmpool_evaluation_duration_seconds
//
// Staleness: for every metric the pool's config names, the age of its newest finite sample; +Inf when
// the tick found none (query failed, empty or all-NaN window), so "staleness > 120" also fires for a
// metric that never arrives. A tick that could not observe the pool (tick.status not OK) counts an
// observe error and the evaluation time and leaves every other series as it was: nothing was measured
// or decided. Counters with a closed label set start at 0 on a pool's first tick, so rate() and
// increase() see their first increment.
#ifndef WARMPOOL_CONTROLLER_RUNTIME_SELF_METRICS_H_
#define WARMPOOL_CONTROLLER_RUNTIME_SELF_METRICS_H_

#include <cstdint>
#include <memory>
#include <string>

#include "controller/runtime/pool_controller.h"
#include "warmpool/controls.h"
#include "warmpool/pool_spec.h"

namespace warmpool {

class SelfMetrics {
 public:
  explicit SelfMetrics(std::string version);
  ~SelfMetrics();
  SelfMetrics(const SelfMetrics&) = delete;
  SelfMetrics& operator=(const SelfMetrics&) = delete;

  // Records one pool's tick: `controls` are those the tick ran with, `spec` the pool's config,
  // `evaluation_seconds` the wall time RunOnce took, `dry_run` whether the pool only records plans.
  void ObserveTick(const std::string& pool, const TickResult& tick, const PoolControls& controls,
                   const PoolSpec& spec, double evaluation_seconds, bool dry_run);
  // A save of the state file succeeded or failed: warmpool_state_save_errors_total counts failures,
  // warmpool_state_save_failing is 1 until a save succeeds.
  void StateSaved(bool ok);
  // Cluster mode: this member took `pool` over (acquired) or let it go. warmpool_pool_owned{pool} is 1
  // while it acts on it; warmpool_cluster_handovers_total{pool,direction} counts both.
  void HandOver(const std::string& pool, bool acquired);
  // Cluster mode: whether this member acts on `pool` now (set for every pool of the config every tick,
  // so that "no member owns it" reads as every member's 0).
  void SetOwned(const std::string& pool, bool owned);
  // Cluster mode: the live members, and the lease renewals that failed so far.
  void ClusterObserved(int members, uint64_t renewal_failures);
  // The API's HTTP server refused or cut a request or connection of `kind`.
  void HttpRefused(const std::string& kind);
  void SetHttpConnections(size_t open);
  // Removes every series of `pool` (it left the config on a reload).
  void ForgetPool(const std::string& pool);
  // Prometheus text exposition format 0.0.4; serve it with kContentType.
  std::string Render() const;
  static constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

  // Thread-safety: every method may be called from any thread; one mutex serializes them, so a
  // render never shows half a tick.

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace warmpool

#endif  // WARMPOOL_CONTROLLER_RUNTIME_SELF_METRICS_H_
