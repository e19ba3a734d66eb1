// App: the live controller, every pool of a config with its provider and the shared metrics
// source, ticked together. Reload swaps the config and keeps what must survive it.
#ifndef WARMPOOL_CONTROLLER_RUNTIME_APP_H_
#define WARMPOOL_CONTROLLER_RUNTIME_APP_H_

#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "controller/api/control_plane.h"
#include "controller/runtime/membership.h"
#include "controller/runtime/pool_controller.h"
#include "controller/runtime/self_metrics.h"
#include "controller/state/codec.h"
#include "warmpool/clock.h"
#include "warmpool/pool_spec.h"
#include "warmpool/state_store.h"

namespace warmpool {

// The wall clock. The only Clock that reads real time.
class SystemClock final : public Clock {
 public:
  TimeMs Now() const override;
};

class App {
 public:
  // Builds every pool. `clock` outlives the App. With `force_dry_run` no pool applies anything.
  // Errors name the pool and the plugin.
  static Result<std::unique_ptr<App>> Create(const Config& config, const Clock* clock, bool force_dry_run);

  // Ticks every pool once at `now` and logs each decision. Returns the results, pool by pool.
  std::vector<TickResult> TickAll(TimeMs now);

  // Switches to `config`. A pool keeps its provider (and so its servers) when its provider settings
  // did not change, and keeps its behavior history when its name did not. On error nothing changes.
  Status Reload(const Config& config);

  const Config& config() const { return config_; }
  DurationMs interval() const { return config_.global.interval; }

  // What the live controller adds around the loop; each may be null. None is owned; all outlive the
  // App. Attach restores overrides, pauses and behavior history from `state` (a state that cannot be
  // read is logged, moved aside by the store, and the controller starts fresh), and from then on
  // every tick publishes to `control_plane`, feeds `metrics` and saves to `state`.
  struct Services {
    ControlPlane* control_plane = nullptr;
    SelfMetrics* metrics = nullptr;
    StateStore* state = nullptr;
    StateStore* learned = nullptr;  // what the pools learned (controller/state/codec.h), saved once a minute
    // Cluster mode (runtime/membership.h): the app ticks only the pools this member owns, loads a
    // pool's state when it takes the pool over, saves each owned pool's state and every operator's
    // change there instead of `state`, and fences every Apply. Null: one process, every pool.
    Membership* membership = nullptr;
  };
  // Restores the state and learned documents. An error (a file this user cannot read, or not a
  // regular file) means the controller must not start: starting fresh would drop what it holds. A
  // corrupt file is moved aside and logged, and the pools start fresh.
  Status Attach(Services services);
  // Saves controls and behavior history now (also called by the control plane when controls change,
  // from API threads). Errors are logged, counted, and shown by /-/ready (ControlPlane::SetStoreError)
  // until a save succeeds; the control plane takes back an operator's change whose save failed.
  Status SaveState();
  // Saves what the pools learned (warm_standby: auto's seasonal records, the histories of the policies
  // that read theirs) to Services::learned now (TickAll does once a minute; this is for a clean
  // shutdown). Errors are logged.
  void SaveLearned(TimeMs now);

 private:
  struct Pool {
    std::unique_ptr<Provider> provider;
    std::unique_ptr<PoolController> controller;
  };
  App(const Clock* clock, bool force_dry_run) : clock_(clock), force_dry_run_(force_dry_run) {}
  Status Build(const Config& config, App* previous);
  // Has every pool's plan written to the state file before its provider applies it (Provider::Interrupted).
  void WriteAheadOfApply();
  // Logs and records (events) the replacements begun this tick and the breaker's changes.
  void Replacements(const std::string& pool, const TickResult& tick, bool dry_run);
  std::map<std::string, bool> breaker_open_;  // by pool, as last logged
  std::map<std::string, bool> surge_;         // by pool, as last logged

  // --- cluster mode (Services::membership), controller/runtime/app_cluster.cc ---
  void SetFences();
  // Balances the pools over the members, releases and takes over pools, and reads every pool's
  // controls. Returns the pools this member acts on this tick.
  std::set<std::string> BalanceCluster(TimeMs now);
  bool TakeOver(Pool& pool, TimeMs now);     // loads the pool's state; false: cannot act on it yet
  void LetGo(const std::string& pool, TimeMs now, const std::string& why);
  void RefreshControls();
  Status SaveCluster();  // SaveState's cluster half; REQUIRES state_mu_ held
  void SaveLearnedCluster(TimeMs now);  // SaveLearned's: each owned pool's learned document
  std::map<std::string, int64_t> learned_revision_;  // of each owned pool's learned document
  void PublishElsewhere(const std::string& pool, TimeMs now);
  void ClusterEvent(const std::string& pool, TimeMs now, const std::string& reason, const std::string& result);
  std::set<std::string> owned_;                     // the pools this member acts on (guarded by state_mu_)
  std::map<std::string, int64_t> state_revision_;   // of each owned pool's state document
  std::map<std::string, int64_t> controls_revision_;  // of each pool's controls document, as last read or written
  std::map<std::string, std::string> controls_text_;  // ...and its text
  static void Publish(ControlPlane* cp, const PoolSpec& spec, const TickResult& tick, bool dry_run,
                      const Membership* membership);

  const Clock* clock_;
  bool force_dry_run_;
  Config config_;
  std::unique_ptr<MetricsSource> metrics_;
  std::vector<Pool> pools_;
  Services services_;
  std::mutex state_mu_;  // guards saved_behavior_ and saved_memory_, and serializes saves
  std::map<std::string, BehaviorHistory> saved_behavior_;               // as of the last tick
  std::map<std::string, ProviderMemory> saved_memory_;                  // the providers', as of the last tick
  std::map<std::string, PersistedState::Applying> applying_;            // plans being applied, by pool
  int64_t learned_saved_minute_ = std::numeric_limits<int64_t>::min();  // of the last learned save
  Status RestoreLearned();
  void RestoreLearnedPool(Pool& pool, const LearnedState& learned);
};

// Logs one tick in the house format: pool, current, desired, direction, policy, reason, plan, result.
void LogTick(const std::string& pool, const TickResult& tick);

}  // namespace warmpool

#endif  // WARMPOOL_CONTROLLER_RUNTIME_APP_H_
