// PoolController: one pool's observe -> measure -> decide -> plan -> act step.
// The same code runs live, in dry-run and in the backtest; only the clock, the metrics source and
// the provider differ. Not thread-safe: one tick at a time.
#ifndef WARMPOOL_CONTROLLER_RUNTIME_POOL_CONTROLLER_H_
#define WARMPOOL_CONTROLLER_RUNTIME_POOL_CONTROLLER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "controller/runtime/dry_run.h"
#include "policies/planner.h"
#include "policies/warm_pool_sizer.h"
#include "warmpool/behavior.h"
#include "warmpool/controls.h"
#include "warmpool/decision.h"
#include "warmpool/metrics.h"
#include "warmpool/policy.h"
#include "warmpool/pool_spec.h"
#include "warmpool/provider.h"
#include "warmpool/sliding_vector.h"

namespace warmpool {

struct TickResult {
  Status status;  // not OK when the pool could not be observed: nothing was decided
  PoolState observed;
  std::vector<std::string> metric_errors;            // "rps: unavailable: ..." (the pool still decides)
  std::vector<std::string> provider_events;          // the provider's own news (Observer::TakeEvents)
  std::map<std::string, double> metric_age_seconds;  // per metric: age of its newest finite sample
  Decision decision;
  ScalePlan plan;
  ApplyResult applied;
};

class PoolController {
 public:
  // `provider` and `metrics` are not owned and must outlive the controller. With spec.dry_run or
  // `force_dry_run`, the provider is only observed: every plan goes to a DryRunProvider.
  PoolController(PoolSpec spec, std::vector<std::unique_ptr<Policy>> policies, Provider* provider,
                 MetricsSource* metrics, bool force_dry_run = false);

  // One tick. `controls` (an operator's override and pauses) act on the decision before planning.
  TickResult RunOnce(TimeMs now, const PoolControls& controls = {});
  // The same tick into `out`, whose storage is reused (a replay keeps one TickResult for all ticks).
  void RunOnce(TimeMs now, const PoolControls& controls, TickResult* out);

  const PoolSpec& spec() const { return spec_; }
  bool dry_run() const { return dry_run_ != nullptr; }
  const BehaviorHistory& behavior_history() const { return behavior_; }
  // Carries history over a config reload, so a reload neither forgets nor flaps.
  void set_behavior_history(BehaviorHistory h) {
    behavior_ = std::move(h);
    stabilization_.Reset(spec_.behavior, behavior_);
  }
  // Takes over what `old` (the same pool's controller before a config reload) has learned, where the
  // new config keeps the setting that learned it: each policy's history (a predictive policy's season)
  // when a policy of the same name has the same type and parameters, and warm_standby: auto's sizer
  // when its settings are unchanged. Call before the first tick; `old` is not used afterwards.
  void CarryLearned(PoolController* old);
  // warm_standby: auto's seasonal record, to keep across a restart (nullopt without auto or a season),
  // and its restoration before the first tick (false: none, or learned with another season or step).
  std::optional<WarmPoolSizer::SeasonalRecord> SeasonalRecord() const;
  bool RestoreSeasonalRecord(const WarmPoolSizer::SeasonalRecord& record);
  // The histories of the policies that read theirs (Policy::UsesHistory: a predictive policy's season
  // is learned from it), to keep across a restart; and their restoration before the first tick, each
  // to the policy of the same type, name and parameters (the rule of CarryLearned). Returns how many
  // policies got theirs back.
  std::vector<PolicyHistory> PolicyHistories() const;
  int RestorePolicyHistories(const std::vector<PolicyHistory>& saved);
  // With true, only ticks whose desired count differs from the previous tick's (the first tick: from
  // the active count) get reasons (decision, recommendations, plan): they are decided twice, the
  // second time with reasons; the others decide exactly the same numbers without building any text.
  // For replays that report only changes (the backtest). Default false: every tick is explained.
  void set_explain_changes_only(bool v) { explain_changes_only_ = v; }
  // With true, no tick gets reasons (the same numbers, no text at all): for replays that report no
  // reason anywhere (a sweep's points, a backtest without a timeline or a decision log).
  void set_explain_never(bool v) { explain_never_ = v; }

 private:
  void FetchMetrics(TimeMs now, std::vector<std::string>* errors);
  // Every policy's recommendation for this tick (history is read, not written), into `recs`'s storage.
  std::vector<Recommendation> Recommend(const PoolState& observed, int current, TimeMs now, bool explain,
                                        std::vector<Recommendation> recs = {});

  PoolSpec spec_;
  std::vector<std::unique_ptr<Policy>> policies_;
  MetricsSource* metrics_;
  std::unique_ptr<DryRunProvider> dry_run_;
  Provider* actuator_;  // the provider, or the dry-run wrapper around it
  BehaviorHistory behavior_;
  StabilizationTracker stabilization_;  // behavior_.recommendations' window extremes, kept as they come
  // Per policy, in policies_ order: its records, trimmed from the front (SlidingVector: without
  // moving the rest each time).
  std::vector<SlidingVector<PolicyRecord>> policy_history_;
  std::vector<std::vector<std::string>> policy_metrics_;  // per policy: Metrics(), asked once
  std::vector<bool> uses_history_;                        // per policy: UsesHistory(), asked once
  std::map<std::string, MetricWindow> windows_;           // this tick's windows (storage reused)
  // Pointers into windows_ (its nodes are stable): per query of spec_.metrics (nullptr: not in
  // windows_), and, resolved again when windows_ gains or loses a metric, per policy per metric, and
  // for warm_standby: auto's metric.
  std::vector<MetricWindow*> query_windows_;
  uint64_t windows_version_ = 0, resolved_version_ = ~uint64_t{0};
  std::vector<std::vector<const MetricWindow*>> policy_windows_;
  std::vector<std::pair<const std::string*, const MetricWindow*>> sorted_windows_;  // windows_, in order
  const MetricWindow* warm_window_ = nullptr;
  void ResolveWindows();
  // The observed servers counted, at the provider's ServersVersion counted_version_ (0: count again).
  ServerCounts counts_;
  uint64_t counted_version_ = 0;
  bool explain_changes_only_ = false;
  bool explain_never_ = false;
  std::optional<int> last_desired_;  // the previous decided tick's desired count
  // warm_standby: auto (REQUIRES spec_.warm_auto.enabled). The sizer learns from the load each tick;
  // the last target is held while the load metric is missing.
  int WarmTarget(TimeMs now, const PoolState& observed, Decision* decision, bool explain);
  struct StartFloor {
    TimeMs until;  // the sizer's first tick + recent
    int standbys;  // standby + provisioning servers seen on that tick
  };
  std::optional<StartFloor> start_floor_;
  std::unique_ptr<WarmPoolSizer> sizer_;
  std::optional<int> last_warm_;
};

// Creates the pool's policies from its spec. Returns an empty vector and appends errors on failure.
std::vector<std::unique_ptr<Policy>> CreatePolicies(const PoolSpec& spec, std::vector<std::string>* errors);

}  // namespace warmpool

#endif  // WARMPOOL_CONTROLLER_RUNTIME_POOL_CONTROLLER_H_
