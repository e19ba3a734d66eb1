#include "pool_controller.h"

#include <cmath>
#include <limits>

#include "decide.h"
#include "planner.h"

namespace warmpool {
namespace {
constexpr size_t kPolicyHistoryMax = 20000;  // ~3.5 days at 15 s
}  // namespace

PoolController::PoolController(PoolSpec spec, std::vector<std::unique_ptr<Policy>> policies,
                               Provider* provider, MetricsSource* metrics, bool force_dry_run)
    : spec_(std::move(spec)), policies_(std::move(policies)), metrics_(metrics), actuator_(provider) {
  if (spec_.dry_run || force_dry_run) {
    dry_run_ = std::make_unique<DryRunProvider>(provider);
    actuator_ = dry_run_.get();
  }
}

std::map<std::string, MetricWindow> PoolController::FetchMetrics(TimeMs now,
                                                                 std::vector<std::string>* errors) {
  std::map<std::string, MetricWindow> windows;
  for (const MetricQuery& q : spec_.metrics) {
    Result<MetricWindow> w =
        metrics_ ? metrics_->Fetch(q, now) : Result<MetricWindow>(Status::Unavailable("no metrics source"));
    if (w.ok()) {
      windows[q.name] = std::move(w).value();
    } else {
      errors->push_back(q.name + ": " + w.status().ToString());
    }
  }
  return windows;
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
  const int current = out.observed.Count(ServerState::kActive);

  // 2. Measure.
  std::map<std::string, MetricWindow> windows = FetchMetrics(now, &out.metric_errors);
  for (const auto& [name, window] : windows) {
    for (auto it = window.samples.rbegin(); it != window.samples.rend(); ++it) {
      if (it->t <= now && std::isfinite(it->value)) {
        out.metric_age_seconds[name] = static_cast<double>(now - it->t) / 1000.0;
        break;
      }
    }
  }

  // 3. Decide.
  std::vector<Recommendation> recs;
  recs.reserve(policies_.size());
  for (const auto& policy : policies_) {
    std::vector<PolicyRecord>& hist = policy_history_[policy->Name()];
    PolicyInput in;
    in.windows = &windows;
    in.pool = &out.observed;
    in.current = current;
    in.now = now;
    in.stale_after = spec_.stale_after;
    in.history = hist;
    Recommendation rec = policy->Recommend(in);
    double metric = std::numeric_limits<double>::quiet_NaN();
    for (const std::string& m : policy->Metrics()) {
      if (const MetricWindow* w = in.Window(m)) {
        if (auto s = w->Latest(now, spec_.stale_after)) metric = s->value;
      }
    }
    if (hist.size() >= kPolicyHistoryMax) hist.erase(hist.begin(), hist.begin() + kPolicyHistoryMax / 10);
    hist.push_back({now, rec.valid, rec.desired, metric});
    recs.push_back(std::move(rec));
  }
  out.decision = Decide(spec_, std::move(recs), behavior_, current, now);
  ApplyControls(controls, spec_, now, &out.decision);
  RecordDecision(spec_, out.decision, &behavior_);

  // 4. Plan, 5. Act (or only record, in dry-run).
  out.plan = Plan(spec_, out.observed, out.decision.desired);
  if (!out.plan.empty()) out.applied = actuator_->Apply(out.plan);
  out.applied.dry_run = dry_run();
  out.provider_events = actuator_->TakeEvents();
  return out;
}

std::vector<std::unique_ptr<Policy>> CreatePolicies(const PoolSpec& spec, std::vector<std::string>* errors) {
  std::vector<std::unique_ptr<Policy>> out;
  const size_t before = errors->size();
  for (const PluginSpec& p : spec.policies) {
    auto policy = CreatePolicy(p.type, p.name.empty() ? p.type : p.name, p.params, errors);
    if (policy) out.push_back(std::move(policy));
  }
  if (errors->size() != before) out.clear();
  return out;
}

}  // namespace warmpool
