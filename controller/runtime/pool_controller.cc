#include "controller/runtime/pool_controller.h"

#include <cmath>

namespace warmpool {

PoolController::PoolController(PoolSpec spec, std::vector<std::unique_ptr<Policy>> policies,
                               Provider* provider, MetricsSource* metrics, bool force_dry_run)
    : decider_(spec, std::move(policies)), metrics_(metrics), actuator_(provider) {
  if (spec.dry_run || force_dry_run) {
    dry_run_ = std::make_unique<DryRunProvider>(provider);
    actuator_ = dry_run_.get();
  }
}

TickResult PoolController::RunOnce(TimeMs now, const PoolControls& controls) {
  TickResult out;
  out.applied.dry_run = dry_run();
  // 1. Observe: the provider is the source of truth, re-read every tick.
  Result<PoolState> observed = actuator_->Observe();
  if (!observed.ok()) {
    out.status = observed.status();
    out.decision.at = now;
    out.decision.reason = "cannot observe the pool, doing nothing: " + observed.status().ToString();
    out.provider_events = actuator_->TakeEvents();
    return out;
  }
  out.observed = std::move(observed).value();

  // 2. Measure. A metric that cannot be fetched is absent this tick (the pool still decides).
  for (const MetricQuery& q : spec().metrics) {
    Result<MetricWindow> w =
        metrics_ ? metrics_->Fetch(q, now) : Result<MetricWindow>(Status::Unavailable("no metrics source"));
    if (w.ok()) {
      windows_[q.name] = std::move(w).value();
    } else {
      windows_.erase(q.name);
      out.metric_errors.push_back(q.name + ": " + w.status().ToString());
    }
  }
  for (const auto& [name, window] : windows_) {
    for (auto it = window.samples.rbegin(); it != window.samples.rend(); ++it) {
      if (it->t <= now && std::isfinite(it->value)) {
        out.metric_age_seconds[name] = static_cast<double>(now - it->t) / 1000.0;
        break;
      }
    }
  }

  // 3. Decide and plan: one pure call.
  const PoolDecider::Outcome& decided = decider_.Decide(windows_, out.observed, controls, now);
  out.decision = decided.decision;
  out.plan = decided.plan;

  // 4. Act (or only record, in dry-run).
  if (!out.plan.empty()) out.applied = actuator_->Apply(out.plan);
  out.applied.dry_run = dry_run();
  decider_.Applied(out.applied);
  out.provider_events = actuator_->TakeEvents();
  return out;
}

}  // namespace warmpool
