#include "controller/runtime/pool_controller.h"

#include <cmath>
#include <limits>
#include <span>

#include "policies/decide.h"
#include "policies/planner.h"
#include "warmpool/text.h"

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
  if (spec_.warm_auto.enabled && spec_.warm_auto.server_capacity > 0) {
    sizer_ = std::make_unique<WarmPoolSizer>(spec_.warm_auto);
  }
  policy_history_.resize(policies_.size());
  for (const auto& policy : policies_) {
    policy_metrics_.push_back(policy->Metrics());
    uses_history_.push_back(policy->UsesHistory());
  }
  query_windows_.assign(spec_.metrics.size(), nullptr);
  stabilization_.Reset(spec_.behavior, behavior_);
}

void PoolController::FetchMetrics(TimeMs now, std::vector<std::string>* errors) {
  for (size_t i = 0; i < spec_.metrics.size(); ++i) {
    const MetricQuery& q = spec_.metrics[i];
    if (query_windows_[i] == nullptr) {
      query_windows_[i] = &windows_[q.name];
      ++windows_version_;
    }
    MetricWindow* w = query_windows_[i];
    Status st = metrics_ ? metrics_->FetchInto(q, now, w) : Status::Unavailable("no metrics source");
    if (!st.ok()) {
      for (MetricWindow*& p : query_windows_) {
        if (p == w) p = nullptr;  // every query of that name
      }
      windows_.erase(q.name);
      ++windows_version_;
      errors->push_back(q.name + ": " + st.ToString());
    }
  }
}

void PoolController::ResolveWindows() {
  if (resolved_version_ == windows_version_) return;
  resolved_version_ = windows_version_;
  auto find = [&](const std::string& name) -> const MetricWindow* {
    auto w = windows_.find(name);
    return w == windows_.end() ? nullptr : &w->second;
  };
  sorted_windows_.clear();
  for (const auto& [name, window] : windows_) sorted_windows_.push_back({&name, &window});
  policy_windows_.resize(policies_.size());
  for (size_t i = 0; i < policies_.size(); ++i) {
    policy_windows_[i].clear();
    for (const std::string& m : policy_metrics_[i]) policy_windows_[i].push_back(find(m));
  }
  warm_window_ = find(spec_.warm_auto.metric);
}

std::vector<Recommendation> PoolController::Recommend(const PoolState& observed, int current, TimeMs now,
                                                      bool explain, std::vector<Recommendation> recs) {
  recs.resize(policies_.size());  // the caller's storage, reused: each policy recommends into its own
  PolicyInput in;
  in.windows = &windows_;
  in.pool = &observed;
  in.current = current;
  in.now = now;
  in.stale_after = spec_.stale_after;
  in.explain = explain;
  for (size_t i = 0; i < policies_.size(); ++i) {
    const SlidingVector<PolicyRecord>& h = policy_history_[i];
    in.history = std::span<const PolicyRecord>(h.data(), h.size());
    policies_[i]->RecommendInto(in, &recs[i]);
  }
  return recs;
}

TickResult PoolController::RunOnce(TimeMs now, const PoolControls& controls) {
  TickResult out;
  RunOnce(now, controls, &out);
  return out;
}

void PoolController::RunOnce(TimeMs now, const PoolControls& controls, TickResult* result) {
  TickResult& out = *result;
  if (!out.status.ok()) out.status = Status::Ok();
  out.metric_errors.clear();
  out.applied.actions.clear();
  out.applied.dry_run = dry_run();
  // 1. Observe: the provider is the source of truth, re-read every tick.
  if (Status st = actuator_->ObserveInto(&out.observed); !st.ok()) {
    out = TickResult{};
    out.applied.dry_run = dry_run();
    out.status = st;
    out.decision.at = now;
    out.decision.reason = "cannot observe the pool, doing nothing: " + st.ToString();
    out.provider_events = actuator_->TakeEvents();
    return;
  }
  // Counted again only when the provider reports other servers (most ticks change none).
  if (const uint64_t v = actuator_->ServersVersion(); v == 0 || v != counted_version_) {
    counts_ = CountServers(out.observed);
    counted_version_ = v;
  }
  // What the policies and the stabilization compare against (PoolSpec::count_provisioning).
  const int current =
      counts_.active + (spec_.count_provisioning ? counts_.provisioning + counts_.standby : 0);

  // 2. Measure.
  FetchMetrics(now, &out.metric_errors);
  ResolveWindows();
  // Both are sorted by name: walk them together, updating ages in place (no lookups).
  auto age = out.metric_age_seconds.begin();
  for (const auto& [name_ptr, window_ptr] : sorted_windows_) {
    const std::string& name = *name_ptr;
    const MetricWindow& window = *window_ptr;
    bool listed = age != out.metric_age_seconds.end() && SameName(age->first, name);  // usually
    if (!listed) {
      while (age != out.metric_age_seconds.end() && age->first < name)
        age = out.metric_age_seconds.erase(age);
      listed = age != out.metric_age_seconds.end() && age->first == name;
    }
    auto it = window.samples.rbegin();
    while (it != window.samples.rend() && !(it->t <= now && std::isfinite(it->value))) ++it;
    if (it != window.samples.rend()) {
      const DurationMs ms = now - it->t;  // usually 0: a division less
      const double seconds = ms == 0 ? 0.0 : static_cast<double>(ms) / 1000.0;
      if (listed) {
        age->second = seconds;
        ++age;
      } else {
        out.metric_age_seconds.emplace_hint(age, name, seconds);
      }
    } else if (listed) {
      age = out.metric_age_seconds.erase(age);
    }
  }
  out.metric_age_seconds.erase(age, out.metric_age_seconds.end());

  // 3. Decide. Policies and Decide are pure: deciding again with reasons gives the same numbers.
  bool explain = !explain_changes_only_ && !explain_never_;
  // Stabilization's window extremes, kept as the recommendations come instead of walked (the same
  // numbers); the tracker starts again from the history when it could not follow it.
  if (!stabilization_.valid()) stabilization_.Reset(spec_.behavior, behavior_);
  StabilizationBounds bounds;
  const StabilizationBounds* b = stabilization_.Bounds(spec_.behavior, now, &bounds) ? &bounds : nullptr;
  DecideInto(spec_, Recommend(out.observed, current, now, explain, std::move(out.decision.recommendations)),
             behavior_, current, now, explain, b, &out.decision);
  ApplyControls(controls, spec_, now, &out.decision);
  if (!explain && !explain_never_ && out.decision.desired != last_desired_.value_or(current)) {
    explain = true;
    DecideInto(spec_, Recommend(out.observed, current, now, true, std::move(out.decision.recommendations)),
               behavior_, current, now, true, b, &out.decision);
    ApplyControls(controls, spec_, now, &out.decision);
  }
  for (size_t i = 0; i < policies_.size(); ++i) {
    if (!uses_history_[i]) continue;  // nobody would read it
    const Recommendation& rec = out.decision.recommendations[i];
    double metric = std::numeric_limits<double>::quiet_NaN();
    for (const MetricWindow* w : policy_windows_[i]) {
      if (w == nullptr) continue;
      if (auto s = w->Latest(now, spec_.stale_after)) metric = s->value;
    }
    SlidingVector<PolicyRecord>& h = policy_history_[i];
    if (h.size() >= kPolicyHistoryMax) h.DropFront(kPolicyHistoryMax / 10);
    h.push_back({now, rec.valid, rec.desired, metric});
  }
  RecordDecision(spec_, out.decision, &behavior_);
  stabilization_.Add(out.decision.at, out.decision.raw_recommendation);  // what RecordDecision appended
  last_desired_ = out.decision.desired;

  // 4. Plan, 5. Act (or only record, in dry-run).
  int warm = spec_.warm_standby;
  if (spec_.warm_auto.enabled) {
    warm = WarmTarget(now, out.observed, &out.decision, explain);
  } else {
    out.decision.warm_standby = warm;
  }
  PlanInto(spec_, out.observed, counts_, out.decision.desired, warm, explain, &out.plan);
  if (!out.plan.empty()) out.applied = actuator_->Apply(out.plan);
  out.applied.dry_run = dry_run();
  out.provider_events = actuator_->TakeEvents();
}

std::optional<WarmPoolSizer::SeasonalRecord> PoolController::SeasonalRecord() const {
  if (!sizer_ || sizer_->spec().season <= 0) return std::nullopt;
  return sizer_->ExportSeasonal();
}

std::vector<PolicyHistory> PoolController::PolicyHistories() const {
  std::vector<PolicyHistory> out;
  for (size_t i = 0; i < policies_.size() && i < spec_.policies.size(); ++i) {
    if (!uses_history_[i]) continue;
    const PluginSpec& p = spec_.policies[i];
    const SlidingVector<PolicyRecord>& h = policy_history_[i];
    out.push_back({p.type, p.name, p.params.values, std::vector<PolicyRecord>(h.begin(), h.end())});
  }
  return out;
}

int PoolController::RestorePolicyHistories(const std::vector<PolicyHistory>& saved) {
  int restored = 0;
  for (size_t i = 0; i < policies_.size() && i < spec_.policies.size(); ++i) {
    if (!uses_history_[i]) continue;
    const PluginSpec& p = spec_.policies[i];
    for (const PolicyHistory& h : saved) {
      if (h.type != p.type || h.name != p.name || h.params != p.params.values) continue;
      const size_t keep = std::min(h.records.size(), kPolicyHistoryMax);  // as a tick would have trimmed
      SlidingVector<PolicyRecord>& mine = policy_history_[i];
      mine.clear();
      for (size_t k = h.records.size() - keep; k < h.records.size(); ++k) mine.push_back(h.records[k]);
      ++restored;
      break;
    }
  }
  return restored;
}

bool PoolController::RestoreSeasonalRecord(const WarmPoolSizer::SeasonalRecord& record) {
  return sizer_ && sizer_->ImportSeasonal(record);
}

void PoolController::CarryLearned(PoolController* old) {
  for (size_t i = 0; i < policies_.size() && i < spec_.policies.size(); ++i) {
    const PluginSpec& now = spec_.policies[i];
    for (size_t j = 0; j < old->policies_.size() && j < old->spec_.policies.size(); ++j) {
      const PluginSpec& was = old->spec_.policies[j];
      if (was.type == now.type && was.name == now.name && was.params.values == now.params.values) {
        policy_history_[i] = std::move(old->policy_history_[j]);
        break;
      }
    }
  }
  if (sizer_ != nullptr && old->sizer_ != nullptr && old->spec_.warm_auto == spec_.warm_auto) {
    sizer_ = std::move(old->sizer_);
    last_warm_ = old->last_warm_;
    start_floor_ = old->start_floor_;
  }
}

int PoolController::WarmTarget(TimeMs now, const PoolState& observed, Decision* decision, bool explain) {
  std::optional<Sample> load;
  if (warm_window_ != nullptr) load = warm_window_->Latest(now, spec_.stale_after);
  int warm;
  if (sizer_ == nullptr || !load) {
    warm = last_warm_.value_or(spec_.warm_auto.min);
    if (explain) {
      decision->reason += "; warm standby " + std::to_string(warm) + " (auto: " + spec_.warm_auto.metric +
                          (sizer_ == nullptr ? " has no server_capacity" : " missing or stale") +
                          ", holding)";
    }
  } else {
    sizer_->Observe(now, load->value);
    WarmPoolSizer::Size z = sizer_->Target(load->value, decision->desired, explain);
    warm = z.standby;
    if (explain) decision->reason += "; " + z.reason;
  }
  // Right after a start the sizer knows nothing and would size to `min`, retiring the standbys that
  // are there (a restart at the busy hour would empty the warm pool). Until it has seen `recent` of
  // load, it keeps at least the warm servers it found on its first tick.
  if (!start_floor_) {
    start_floor_ = StartFloor{now + spec_.warm_auto.recent, observed.Count(ServerState::kStandby) +
                                                                observed.Count(ServerState::kProvisioning)};
  }
  if (now < start_floor_->until && warm < start_floor_->standbys) {
    warm = std::min(start_floor_->standbys, std::max(spec_.warm_auto.min, spec_.warm_auto.max));
    if (explain) {
      decision->reason += "; keeping the " + std::to_string(warm) +
                          " standbys found at start while learning (until " +
                          FormatTime(start_floor_->until) + ")";
    }
  }
  last_warm_ = warm;
  decision->warm_standby = warm;
  return warm;
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
