// PoolController: one pool's live tick: observe the pool, fetch its metrics, make the ONE decision
// call (PoolDecider::Decide: windows, pool, controls, now -> Decision and ScalePlan), apply the plan.
// Live and dry-run run it; the backtest replays the same PoolDecider behind its own seam
// (controller/backtest/backtest.cc). Not thread-safe: one tick at a time.
#ifndef WARMPOOL_CONTROLLER_RUNTIME_POOL_CONTROLLER_H_
#define WARMPOOL_CONTROLLER_RUNTIME_POOL_CONTROLLER_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "controller/runtime/dry_run.h"
#include "policies/pool_decider.h"
#include "policies/shed.h"
#include "warmpool/controls.h"
#include "warmpool/decision.h"
#include "warmpool/metrics.h"
#include "warmpool/policy.h"
#include "warmpool/pool_spec.h"
#include "warmpool/probe.h"
#include "warmpool/provider.h"
#include "warmpool/shedder.h"

namespace warmpool {

struct TickResult {
  Status status;  // not OK when the pool could not be observed: nothing was decided
  PoolState observed;
  std::vector<std::string> metric_errors;            // "rps: unavailable: ..." (the pool still decides)
  std::vector<std::string> provider_events;          // the provider's own news (Observer::TakeEvents)
  std::map<std::string, double> metric_age_seconds;  // per metric: age of its newest finite sample
  std::vector<std::string> metrics_on_fallback;      // metrics whose values came from their fallback
  std::vector<std::string> metrics_floor_only;       // metrics that could only raise the pool this tick
  std::vector<std::string> probe_failures;           // standbys that failed a probe this tick, with why
  std::string fenced;  // why this tick's plan was not applied (PoolController::SetFence); "" when it was
  Decision decision;
  ScalePlan plan;
  ApplyResult applied;
  // Overload protection (PoolSpec::overload), when the pool has it.
  struct Shed {
    bool enabled = false;
    ShedLimits limits;    // in force after this tick (in dry-run: what would be)
    bool changed = false;  // tightened, loosened or lifted this tick
    std::string reason;   // empty when nothing is in force and nothing changed
    Status status;        // putting the limits in force, or reading the clients' rates, failed
  } shed;
};

class PoolController {
 public:
  // `provider` and `metrics` are not owned and must outlive the controller. With spec.dry_run or
  // `force_dry_run`, the provider is only observed: every plan goes to a DryRunProvider.
  PoolController(PoolSpec spec, std::vector<std::unique_ptr<Policy>> policies, Provider* provider,
                 MetricsSource* metrics, bool force_dry_run = false);
  // A metric's fallback source (PoolSpec::fallbacks), owned: fetched every tick, used when `metrics`
  // fails for it, has no fresh sample, or vouches only for a floor.
  void SetFallback(const std::string& metric, std::unique_ptr<MetricsSource> source);
  // The pool's overload protection at the balancer (PoolSpec::overload), owned. In dry-run the limits
  // are decided and reported, never set. The first tick puts the decided limits (none) in force, so
  // that limits left by a process that died are lifted.
  void SetShedder(std::unique_ptr<Shedder> shedder);
  // Called with each non-empty plan just before the provider applies it (never in dry-run), so that
  // the plan can be made durable first: a process killed in the middle of Apply leaves it behind for
  // the next one (Provider::Interrupted).
  // Warmpool's own probe of the standbys (PoolSpec::health.probe), owned: each standby is probed at
  // most once per interval, and one that fails is reported unhealthy to the decider (never promoted,
  // retired and replaced by the warm pool's refill) until it answers again.
  void SetProber(std::unique_ptr<Prober> prober) { prober_ = std::move(prober); }
  using BeforeApply = std::function<void(const ScalePlan& plan, TimeMs now)>;
  void SetBeforeApply(BeforeApply hook) { before_apply_ = std::move(hook); }
  // Asked just before every Apply (never in dry-run): "" when this process may change the pool now,
  // or why not (a cluster member whose lease is not fresh: runtime/membership.h). A plan it refuses is
  // decided and reported but not applied: every action fails with the reason, and it spends no budget.
  using Fence = std::function<std::string(TimeMs now)>;
  void SetFence(Fence fence) { fence_ = std::move(fence); }

  // One tick. `controls` (an operator's override and pauses) act on the decision before planning.
  TickResult RunOnce(TimeMs now, const PoolControls& controls = {});

  const PoolSpec& spec() const { return decider_.spec(); }
  bool dry_run() const { return dry_run_ != nullptr; }
  // The pool's decision and what it has learned (kept across a reload or a restart by the app).
  PoolDecider& decider() { return decider_; }
  const PoolDecider& decider() const { return decider_; }

 private:
  PoolDecider decider_;
  MetricsSource* metrics_;
  std::unique_ptr<DryRunProvider> dry_run_;
  Provider* actuator_;                           // the provider, or the dry-run wrapper around it
  std::map<std::string, MetricWindow> windows_;  // this tick's windows, by metric name
  std::map<std::string, std::unique_ptr<MetricsSource>> fallbacks_;  // by metric name
  std::unique_ptr<Shedder> shedder_;
  std::unique_ptr<ShedDecider> shed_;
  std::optional<ShedLimits> shed_applied_;  // what the balancer has, as far as we know
  ShedLimits shed_reported_;                // what the last tick reported in force
  BeforeApply before_apply_;
  Fence fence_;
  std::unique_ptr<Prober> prober_;
  struct Probed {
    TimeMs at = 0;
    Status status;
  };
  std::map<std::string, Probed> probed_;  // the standbys' last probes, by server

  void ProbeStandbys(TimeMs now, TickResult* out);

  void Shed(TimeMs now, const PoolControls& controls, TickResult* out);

  // This tick's window of `q` into windows_ (or none), from the source or its fallback.
  void Measure(const MetricQuery& q, TimeMs now, TickResult* out);
  // This tick's per-server health metrics (PoolSpec::health.metrics) into server_windows_, each series
  // given to the servers its label names; a metric that cannot be fetched is absent (judges no one).
  void MeasureServers(TimeMs now, TickResult* out);
  ServerWindows server_windows_;
};

}  // namespace warmpool

#endif  // WARMPOOL_CONTROLLER_RUNTIME_POOL_CONTROLLER_H_
