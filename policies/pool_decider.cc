#include "policies/pool_decider.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <span>

#include "policies/behavior.h"
#include "policies/controls.h"
#include "policies/decide.h"
#include "policies/registry.h"
#include "warmpool/text.h"

namespace warmpool {
namespace {

constexpr size_t kPolicyHistoryMax = 20000;  // ~3.5 days at 15 s

// The window of `name`, or nullptr. Most pools fetch one metric: one comparison instead of a search.
const MetricWindow* FindWindow(const std::map<std::string, MetricWindow>& windows, const std::string& name) {
  if (windows.size() == 1) {
    const auto& only = *windows.begin();
    return SameName(only.first, name) ? &only.second : nullptr;
  }
  auto it = windows.find(name);
  return it == windows.end() ? nullptr : &it->second;
}

// A recommendation made on a window its source vouches for only as a floor (MetricWindow::floor_only)
// may raise capacity but not lower it; one made on a fallback's values says where they came from.
void MarkFloorOnly(const std::map<std::string, MetricWindow>& windows,
                   const std::vector<std::string>& metrics, bool explain, Recommendation* rec) {
  for (const std::string& name : metrics) {
    const MetricWindow* w = FindWindow(windows, name);
    if (w == nullptr) continue;
    if (!w->floor_only.empty()) rec->allow_scale_down = false;
    if (!explain) continue;
    if (!w->origin.empty()) rec->reason += " [" + name + " from " + w->origin + "]";
    if (!w->floor_only.empty()) rec->reason += "; never scales in on it: " + w->floor_only;
  }
}

}  // namespace

PoolDecider::PoolDecider(PoolSpec spec, std::vector<std::unique_ptr<Policy>> policies, Explain explain)
    : spec_(std::move(spec)), policies_(std::move(policies)), explain_(explain) {
  if (spec_.warm_auto.enabled && spec_.warm_auto.server_capacity > 0) {
    sizer_ = std::make_unique<WarmPoolSizer>(spec_.warm_auto);
  }
  if (spec_.surge.enabled && spec_.surge.server_capacity > 0 && spec_.surge.window > 0) {
    surge_ = std::make_unique<SurgeDetector>(spec_.surge);
  }
  if (spec_.stopped_auto.enabled && spec_.stopped_auto.server_capacity > 0) {
    stopped_sizer_ = std::make_unique<WarmPoolSizer>(spec_.stopped_auto);
  }
  policy_history_.resize(policies_.size());
  for (const auto& policy : policies_) inputs_.push_back(policy->Inputs());
  stabilization_.Reset(spec_.behavior, behavior_);
}

void PoolDecider::set_behavior_history(BehaviorHistory h) {
  behavior_ = std::move(h);
  stabilization_.Reset(spec_.behavior, behavior_);
}

void PoolDecider::Recommend(const std::map<std::string, MetricWindow>& windows, const PoolState& pool,
                            int current, TimeMs now, bool explain) {
  std::vector<Recommendation>& recs = out_.decision.recommendations;
  recs.resize(policies_.size());
  PolicyInput in;
  in.windows = &windows;
  in.pool = &pool;
  in.current = current;
  in.now = now;
  in.stale_after = spec_.stale_after;
  in.explain = explain;
  for (size_t i = 0; i < policies_.size(); ++i) {
    const SlidingVector<PolicyRecord>& h = policy_history_[i];
    in.history = std::span<const PolicyRecord>(h.data(), h.size());
    recs[i] = policies_[i]->Recommend(in);
    if (recs[i].valid) MarkFloorOnly(windows, inputs_[i].metrics, explain, &recs[i]);
  }
}

void PoolDecider::ApplySurge(int current, bool explain) {
  const SurgeDetector::Surge& surge = surge_->Current();
  Decision& d = out_.decision;
  if (explain && !surge.reason.empty()) d.reason += "; " + surge.reason;
  d.surge = surge.active;
  if (!surge.active) return;
  // Every warm standby at once, running or stopped (those are resumed), and the servers for where the
  // surge is heading (policies/surge.h).
  const int wanted =
      std::min(std::max(surge.floor, current + counts_.standby + counts_.stopped), spec_.max_active);
  if (wanted <= d.desired) return;
  if (explain) d.reason += ": " + std::to_string(d.desired) + " -> " + std::to_string(wanted);
  d.desired = wanted;
  d.policy = "surge";
  d.direction = wanted > current ? Direction::kUp : wanted < current ? Direction::kDown : Direction::kNone;
}

void PoolDecider::DecideOnce(const std::map<std::string, MetricWindow>& windows, const PoolState& pool,
                             const PoolControls& controls, int current, TimeMs now, bool explain,
                             const StabilizationBounds* bounds) {
  Recommend(windows, pool, current, now, explain);
  out_.decision = warmpool::Decide(spec_, std::move(out_.decision.recommendations), behavior_, current, now,
                                   explain, bounds);
  if (surge_ != nullptr) ApplySurge(current, explain);
  ApplyControls(controls, spec_, now, &out_.decision, swapping_);
}

const PoolDecider::Outcome& PoolDecider::Decide(const std::map<std::string, MetricWindow>& windows,
                                                const PoolState& pool, const PoolControls& controls,
                                                TimeMs now, const ServerWindows* server_windows) {
  // Counted again only when the pool's servers may have changed (most ticks change none).
  if (pool.servers_version == 0 || pool.servers_version != counted_version_) {
    counts_ = CountServers(pool);
    counted_version_ = pool.servers_version;
  }
  // Replacement first (policies/replace.h): the active servers being replaced are leaving, and are not
  // counted below, so that a hold (a pause, a scale-down limit) keeps the servers that stay, not the ones
  // on their way out with their replacements on top.
  const bool replacement = spec_.health.enabled || !controls.replace.empty() || !replace_.under_way.empty();
  if (replacement) {
    ReplaceSignals signals;
    signals.metrics = server_windows;
    signals.stale_after = spec_.stale_after;
    signals.controls = &controls;
    replaced_ = FindReplacements(spec_.health, pool, now, &replace_, signals);
  }
  int leaving = 0;
  swapping_ = 0;
  for (const auto& [name, r] : replace_.under_way) {
    const Server* s = pool.Find(name);
    if (s == nullptr || s->state != ServerState::kActive) continue;
    ++leaving;
    swapping_ += s->Serving();
  }
  // What the policies and the stabilization compare against (PoolSpec::count_provisioning).
  const int current =
      counts_.active - leaving + (spec_.count_provisioning ? counts_.provisioning + counts_.standby : 0);

  // The Kubernetes HPA's first recommendation: this decider's first tick, finding no recommendation
  // within the scale-down window (a new pool, a start without a state file, or a downtime longer than
  // the window), records the current count first, so nothing scales down within the window after a
  // start without history.
  if (!started_) {
    started_ = true;
    const DurationMs window = spec_.behavior.scale_down.stabilization_window;
    bool recent = false;
    for (const auto& rec : behavior_.recommendations) recent = recent || rec.at > now - window;
    if (!recent && window > 0) {
      behavior_.recommendations.push_back({now, current});
      stabilization_.Reset(spec_.behavior, behavior_);
    }
  }

  // The surge detector learns from this tick's load once (DecideOnce may run twice).
  if (surge_ != nullptr) {
    if (const MetricWindow* w = FindWindow(windows, spec_.surge.metric)) {
      if (auto load = w->Latest(now, spec_.stale_after)) surge_->Observe(now, load->value);
    }
  }
  // Policies and Decide are pure: deciding again with reasons gives the same numbers.
  bool explain = explain_ == Explain::kEveryTick;
  // Stabilization's window extremes, kept as the recommendations come instead of walked (the same
  // numbers); the tracker starts again from the history when it could not follow it.
  if (!stabilization_.valid()) stabilization_.Reset(spec_.behavior, behavior_);
  StabilizationBounds bounds;
  const StabilizationBounds* b = stabilization_.Bounds(spec_.behavior, now, &bounds) ? &bounds : nullptr;
  DecideOnce(windows, pool, controls, current, now, explain, b);
  if (explain_ == Explain::kChangesOnly && out_.decision.desired != last_desired_.value_or(current)) {
    explain = true;
    DecideOnce(windows, pool, controls, current, now, explain, b);
  }
  RecordPolicies(windows, now);
  RecordDecision(spec_, out_.decision, &behavior_);
  stabilization_.Add(out_.decision.at, out_.decision.raw_recommendation);  // what RecordDecision appended
  last_desired_ = out_.decision.desired;

  if (replacement) {
    const ReplaceOutcome& r = replaced_;
    if (!r.reason.empty()) out_.decision.reason += (out_.decision.reason.empty() ? "" : "; ") + r.reason;
    if (leaving > 0) {
      out_.decision.reason += "; " + std::to_string(leaving) + " active being replaced, not counted";
    }
    out_.decision.replacing.clear();
    for (const auto& [name, replacement_of] : replace_.under_way) out_.decision.replacing.push_back(name);
    out_.decision.replacements_started = r.started;
    out_.decision.replacement_breaker_open = r.breaker_open;
  }
  // What the plan must not touch, and what it replaces, by name (kept between ticks: most have none).
  std::set<std::string>& replacing_names = replacing_names_;
  std::set<std::string>& protect = protect_;
  if (!replacing_names.empty()) replacing_names.clear();
  for (const auto& [name, r] : replace_.under_way) replacing_names.insert(name);
  if (!protect.empty()) protect.clear();
  if (!controls.protect.empty()) protect = ProtectedServers(controls, now);

  int warm = spec_.warm_standby;
  if (spec_.warm_auto.enabled) warm = WarmTarget(windows, pool, now, explain);
  out_.decision.warm_standby = warm;
  int stopped = spec_.warm_stopped;
  if (spec_.stopped_auto.enabled) stopped = StoppedTarget(windows, pool, now, warm, explain);
  out_.decision.warm_stopped = stopped;
  // The plan is a function of (pool, desired, warm targets, explain): the same servers (a known
  // servers_version) asked for the same numbers get the same plan as last tick (most replay ticks).
  const PlanKey key{pool.servers_version, out_.decision.desired, warm, stopped, explain};
  const bool by_name = !replacing_names.empty() || !protect.empty();
  if (key.servers_version == 0 || !(key == planned_) || by_name) {
    PlanOptions plan;
    plan.warm_target = warm;
    plan.stopped_target = stopped;
    plan.explain = explain;
    plan.counts = &counts_;
    plan.replacing = &replacing_names;
    plan.protect = &protect;
    out_.plan = Plan(spec_, pool, out_.decision.desired, plan);
    // A plan made with replacements under way or servers protected is never reused: it acts by name.
    planned_ = by_name ? PlanKey{} : key;
  }
  return out_;
}

void PoolDecider::Applied(const ApplyResult& result) {
  if (result.dry_run) return;  // dry-run spends the budget a live run would: the same decisions
  const Decision& d = out_.decision;
  const bool up = d.desired > d.current, down = d.desired < d.current;
  if (!up && !down) return;
  const char* kind = up ? "promote" : "drain";
  int done = 0;
  for (const ApplyResult::Action& a : result.actions)
    if (a.kind == kind && a.status.ok()) ++done;
  // The change spends rate-limit budget only as far as the provider made it, as the HPA records only
  // the changes it made: promotions (or drains) that failed, and servers still being provisioned
  // because no standby was ready, did not change the pool this tick.
  BehaviorHistory::TimedCounts& events = up ? behavior_.scale_ups : behavior_.scale_downs;
  if (events.empty() || events.back().at != d.at) return;
  if (done == 0) {
    events.pop_back();
  } else if (done < events.back().count) {
    events.back().count = done;
  }
}

void PoolDecider::RecordPolicies(const std::map<std::string, MetricWindow>& windows, TimeMs now) {
  for (size_t i = 0; i < policies_.size(); ++i) {
    if (!inputs_[i].history) continue;  // nobody would read it
    const Recommendation& rec = out_.decision.recommendations[i];
    double metric = std::numeric_limits<double>::quiet_NaN();
    for (const std::string& name : inputs_[i].metrics) {
      const MetricWindow* w = FindWindow(windows, name);
      if (w == nullptr) continue;
      if (auto s = w->Latest(now, spec_.stale_after)) metric = s->value;
    }
    SlidingVector<PolicyRecord>& h = policy_history_[i];
    if (h.size() >= kPolicyHistoryMax) h.DropFront(kPolicyHistoryMax / 10);
    h.push_back({now, rec.valid, rec.desired, metric});
  }
}

int PoolDecider::WarmTarget(const std::map<std::string, MetricWindow>& windows, const PoolState& pool,
                            TimeMs now, bool explain) {
  Decision* decision = &out_.decision;
  std::optional<Sample> load;
  if (const MetricWindow* w = FindWindow(windows, spec_.warm_auto.metric))
    load = w->Latest(now, spec_.stale_after);
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
  if (!start_floor_) {
    start_floor_ = StartFloor{now + spec_.warm_auto.recent,
                              pool.Count(ServerState::kStandby) + pool.Count(ServerState::kProvisioning)};
  }
  warm = KeepFoundAtStart(*start_floor_, spec_.warm_auto, warm, now, "standbys", explain);
  last_warm_ = warm;
  return warm;
}

int PoolDecider::StoppedTarget(const std::map<std::string, MetricWindow>& windows, const PoolState& pool,
                               TimeMs now, int warm, bool explain) {
  const WarmAutoSpec& spec = spec_.stopped_auto;
  Decision* decision = &out_.decision;
  std::optional<Sample> load;
  if (const MetricWindow* w = FindWindow(windows, spec.metric)) load = w->Latest(now, spec_.stale_after);
  int stopped;
  if (stopped_sizer_ == nullptr || !load) {
    stopped = last_stopped_.value_or(spec.min);
    if (explain) {
      decision->reason += "; stopped standby " + std::to_string(stopped) + " (auto: " + spec.metric +
                          (stopped_sizer_ == nullptr ? " has no server_capacity" : " missing or stale") +
                          ", holding)";
    }
  } else {
    stopped_sizer_->Observe(now, load->value);
    const WarmPoolSizer::Size z = stopped_sizer_->Target(load->value, decision->desired, false);
    stopped = std::clamp(z.needed - decision->desired - warm, spec.min, std::max(spec.min, spec.max));
    if (explain) {
      decision->reason += "; stopped standby " + std::to_string(stopped) + " (auto: " + spec.metric + " " +
                          FormatNumber(load->value) + " + likely rise " + FormatNumber(z.rise) + " within " +
                          FormatDuration(spec.horizon) + " (p" + FormatNumber(spec.quantile * 100) +
                          ") needs " + std::to_string(z.needed) + ", less " +
                          std::to_string(decision->desired) + " active and " + std::to_string(warm) +
                          " running standby, within [" + std::to_string(spec.min) + ", " +
                          std::to_string(spec.max) + "])";
    }
  }
  if (!stopped_floor_) stopped_floor_ = StartFloor{now + spec.recent, pool.Count(ServerState::kStopped)};
  stopped = KeepFoundAtStart(*stopped_floor_, spec, stopped, now, "stopped standbys", explain);
  last_stopped_ = stopped;
  return stopped;
}

int PoolDecider::KeepFoundAtStart(const StartFloor& floor, const WarmAutoSpec& spec, int target, TimeMs now,
                                  const char* what, bool explain) {
  if (now >= floor.until || target >= floor.standbys) return target;
  target = std::min(floor.standbys, std::max(spec.min, spec.max));
  if (explain) {
    out_.decision.reason += "; keeping the " + std::to_string(target) + " " + what +
                            " found at start while learning (until " + FormatTime(floor.until) + ")";
  }
  return target;
}

std::optional<WarmPoolSizer::SeasonalRecord> PoolDecider::SeasonalRecord() const {
  if (!sizer_ || sizer_->spec().season <= 0) return std::nullopt;
  return sizer_->ExportSeasonal();
}

bool PoolDecider::RestoreSeasonalRecord(const WarmPoolSizer::SeasonalRecord& record) {
  return sizer_ && sizer_->ImportSeasonal(record);
}

std::vector<PolicyHistory> PoolDecider::PolicyHistories() const {
  std::vector<PolicyHistory> out;
  for (size_t i = 0; i < policies_.size() && i < spec_.policies.size(); ++i) {
    if (!inputs_[i].history) continue;
    const PluginSpec& p = spec_.policies[i];
    const SlidingVector<PolicyRecord>& h = policy_history_[i];
    out.push_back({p.type, p.name, p.params.values, std::vector<PolicyRecord>(h.begin(), h.end())});
  }
  return out;
}

int PoolDecider::RestorePolicyHistories(const std::vector<PolicyHistory>& saved) {
  int restored = 0;
  for (size_t i = 0; i < policies_.size() && i < spec_.policies.size(); ++i) {
    if (!inputs_[i].history) continue;
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

void PoolDecider::CarryLearned(PoolDecider* old) {
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
  if (surge_ != nullptr && old->surge_ != nullptr && old->spec_.surge == spec_.surge)
    surge_ = std::move(old->surge_);
  if (sizer_ != nullptr && old->sizer_ != nullptr && old->spec_.warm_auto == spec_.warm_auto) {
    sizer_ = std::move(old->sizer_);
    last_warm_ = old->last_warm_;
    start_floor_ = old->start_floor_;
  }
  if (stopped_sizer_ != nullptr && old->stopped_sizer_ != nullptr &&
      old->spec_.stopped_auto == spec_.stopped_auto) {
    stopped_sizer_ = std::move(old->stopped_sizer_);
    last_stopped_ = old->last_stopped_;
    stopped_floor_ = old->stopped_floor_;
  }
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
