// PoolDecider: one pool's whole decision as ONE call, from (this tick's metric windows, the observed
// pool, the operator's controls, the time) to (Decision, ScalePlan):
//
//   policies recommend -> Decide (combine, missing metrics, behavior, clamp) -> surge -> controls ->
//   warm pool target (fixed, or warm_standby: auto) -> Plan
//
// It does no I/O and reads no clock: the same inputs in the same order give the same outputs, live, in
// dry-run and in a backtest. What it remembers between calls is only what its windows need (behavior
// history, each policy's records, warm_standby: auto's record of rises), and it can hand that over
// across a restart or a config reload. The live PoolController (controller/runtime) and the backtest's
// replay (controller/backtest) both call it; neither decides anything itself.
//
// Not thread-safe: one call at a time.
#ifndef WARMPOOL_POLICIES_POOL_DECIDER_H_
#define WARMPOOL_POLICIES_POOL_DECIDER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "policies/behavior.h"
#include "policies/planner.h"
#include "policies/replace.h"
#include "policies/surge.h"
#include "policies/warm_pool_sizer.h"
#include "warmpool/behavior.h"
#include "warmpool/controls.h"
#include "warmpool/decision.h"
#include "warmpool/metrics.h"
#include "warmpool/policy.h"
#include "warmpool/pool_spec.h"
#include "warmpool/provider.h"
#include "warmpool/server.h"
#include "warmpool/sliding_vector.h"

namespace warmpool {

class PoolDecider {
 public:
  // Which ticks get their reasons written (decision, recommendations, plan). The numbers are the
  // same in every mode: a tick explained after the fact is decided again, with reasons.
  enum class Explain {
    kEveryTick,    // live and dry-run: every decision is logged with its reason
    kChangesOnly,  // a replay that reports only the ticks whose desired count changed
    kNever,        // a replay that reports no reason at all (a sweep's points)
  };

  PoolDecider(PoolSpec spec, std::vector<std::unique_ptr<Policy>> policies,
              Explain explain = Explain::kEveryTick);

  struct Outcome {
    Decision decision;
    ScalePlan plan;
  };
  // The decision and plan for this tick, recorded into the history the next ticks read. `windows`:
  // this tick's samples by metric name (a metric that could not be fetched is absent). The result
  // stays valid until the next call. REQUIRES: `now` does not decrease from call to call.
  // `server_windows`: the per-server health metrics (PoolSpec::health.metrics), by metric then server
  // name; null when the pool has none.
  const Outcome& Decide(const std::map<std::string, MetricWindow>& windows, const PoolState& pool,
                        const PoolControls& controls, TimeMs now,
                        const ServerWindows* server_windows = nullptr);

  // What the provider made of this tick's plan (call after Decide, before the next one). A scale event
  // whose promotions (or drains) all failed is taken back from the behavior history, so a failed apply
  // spends no rate-limit budget. Dry-run results change nothing.
  void Applied(const ApplyResult& result);

  const PoolSpec& spec() const { return spec_; }

  // --- What it has learned, to keep across a config reload or a restart ---
  const BehaviorHistory& behavior_history() const { return behavior_; }
  // Carries history over a config reload, so a reload neither forgets nor flaps.
  void set_behavior_history(BehaviorHistory h);
  // Takes over what `old` (the same pool's decider before a config reload) has learned, where the new
  // config keeps the setting that learned it: each policy's history when a policy of the same name has
  // the same type and parameters, and warm_standby: auto's sizer when its settings are unchanged. Call
  // before the first Decide; `old` is not used afterwards.
  void CarryLearned(PoolDecider* old);
  // warm_standby: auto's seasonal record (nullopt without auto or a season), and its restoration
  // before the first tick (false: none, or learned with another season or step).
  std::optional<WarmPoolSizer::SeasonalRecord> SeasonalRecord() const;
  bool RestoreSeasonalRecord(const WarmPoolSizer::SeasonalRecord& record);
  // The histories of the policies that read theirs (PolicyInputs::history: a predictive policy's
  // season is learned from it), and their restoration before the first tick, each to the policy of the
  // same type, name and parameters. Returns how many policies got theirs back.
  std::vector<PolicyHistory> PolicyHistories() const;
  int RestorePolicyHistories(const std::vector<PolicyHistory>& saved);

 private:
  void Recommend(const std::map<std::string, MetricWindow>& windows, const PoolState& pool, int current,
                 TimeMs now, bool explain);
  void DecideOnce(const std::map<std::string, MetricWindow>& windows, const PoolState& pool,
                  const PoolControls& controls, int current, TimeMs now, bool explain,
                  const StabilizationBounds* bounds);
  // While a surge lasts: at least every warm standby and the surge's floor (policies/surge.h).
  void ApplySurge(int current, bool explain);
  void RecordPolicies(const std::map<std::string, MetricWindow>& windows, TimeMs now);
  // warm_standby: auto (REQUIRES spec_.warm_auto.enabled). The sizer learns from the load each tick;
  // the last target is held while the load metric is missing.
  int WarmTarget(const std::map<std::string, MetricWindow>& windows, const PoolState& pool, TimeMs now,
                 bool explain);
  // warm_standby.stopped: auto (REQUIRES spec_.stopped_auto.enabled): the servers its own sizer (its
  // horizon and quantile) wants for load + rise, minus the active ones wanted and the running tier
  // `warm`, within [min, max]; held while the load metric is missing, and kept at least at the stopped
  // standbys found at start while it learns, as the running tier is.
  int StoppedTarget(const std::map<std::string, MetricWindow>& windows, const PoolState& pool, TimeMs now,
                    int warm, bool explain);
  struct StartFloor {
    TimeMs until;  // the sizer's first tick + recent
    int standbys;  // the tier's servers seen on that tick (running: standby + provisioning; stopped)
  };
  // Right after a start a tier's sizer knows nothing and would size to `min`, retiring the standbys
  // that are there (a restart at the busy hour would empty the tier). Until it has seen `recent` of
  // load, the tier keeps at least the servers it found on its first tick: `target`, raised to
  // `floor.standbys` within the tier's max while now < floor.until (the reason says so).
  int KeepFoundAtStart(const StartFloor& floor, const WarmAutoSpec& spec, int target, TimeMs now,
                       const char* what, bool explain);

  PoolSpec spec_;
  std::vector<std::unique_ptr<Policy>> policies_;
  std::vector<PolicyInputs> inputs_;  // per policy: Inputs(), asked once
  Explain explain_;
  Outcome out_;
  BehaviorHistory behavior_;
  bool started_ = false;                // the first Decide has run (see the HPA's first recommendation there)
  StabilizationTracker stabilization_;  // behavior_.recommendations' window extremes, kept as they come
  // Per policy, in policies_ order: its records, trimmed from the front without moving the rest.
  std::vector<SlidingVector<PolicyRecord>> policy_history_;
  // The observed servers counted, for PoolState::servers_version counted_version_ (0: count again).
  ServerCounts counts_;
  uint64_t counted_version_ = 0;
  std::optional<int> last_desired_;  // the previous tick's desired count
  // What out_.plan was planned for (servers_version 0: not known, plan again).
  struct PlanKey {
    uint64_t servers_version = 0;
    int desired = 0, warm = 0, stopped = 0;
    bool explain = false;
    bool operator==(const PlanKey&) const = default;
  };
  PlanKey planned_;
  ReplaceMemory replace_;    // the replacements under way and the breaker (policies/replace.h)
  ReplaceOutcome replaced_;  // this tick's, when the pool replaces at all
  std::set<std::string> replacing_names_, protect_;  // this tick's plan's, by name
  int swapping_ = 0;                                 // this tick: serving active servers being replaced
  std::optional<StartFloor> start_floor_;
  std::unique_ptr<WarmPoolSizer> sizer_;
  std::optional<int> last_warm_;
  std::unique_ptr<SurgeDetector> surge_;  // surge: (policies/surge.h); null without it
  // The stopped tier's sizer (stopped: auto), its last target and its floor after a start.
  std::unique_ptr<WarmPoolSizer> stopped_sizer_;
  std::optional<int> last_stopped_;
  std::optional<StartFloor> stopped_floor_;
};

// Creates the pool's policies from its spec. Returns an empty vector and appends errors on failure.
std::vector<std::unique_ptr<Policy>> CreatePolicies(const PoolSpec& spec, std::vector<std::string>* errors);

}  // namespace warmpool

#endif  // WARMPOOL_POLICIES_POOL_DECIDER_H_
