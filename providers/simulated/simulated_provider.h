// The simulated provider: a pool of servers with a capacity each, a promotion delay (the health
// gate), a provisioning delay, a drain delay and a resume delay (a stopped standby back to a ready
// one; suspending is immediate), driven by a Clock. Used by the backtest, by unit
// tests and by dry runs without real infrastructure. Failures can be injected per action kind.
// Not thread-safe.
#ifndef WARMPOOL_PROVIDERS_SIMULATED_SIMULATED_PROVIDER_H_
#define WARMPOOL_PROVIDERS_SIMULATED_SIMULATED_PROVIDER_H_

#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "warmpool/provider.h"

namespace warmpool {

struct SimulatedSpec {
  double capacity_per_server = 100;              // requests/s one serving server handles
  DurationMs promotion_delay = 2 * kSecond;      // promote -> healthy and serving
  DurationMs provisioning_delay = 90 * kSecond;  // provision -> healthy standby
  DurationMs drain_delay = 0;                    // drain -> back in standby
  DurationMs resume_delay = 30 * kSecond;        // resume: stopped -> provisioning (resuming) -> standby
  // What an hour of a server costs in each state, in active-server-hour equivalents (the backtest's
  // cost): active and draining at `active`, standby and provisioning (a new or resuming machine runs)
  // at `standby`, stopped at `stopped`. REQUIRES 0 <= stopped <= standby <= active.
  struct Cost {
    double active = 1, standby = 1, stopped = 0.1;
  } cost;
  int initial_active = 0;                        // healthy active servers at start
  int initial_standby = 0;                       // healthy standby servers at start
};

class SimulatedProvider final : public Provider {
 public:
  static constexpr TimeMs kNever = std::numeric_limits<TimeMs>::max();

  // `clock` must outlive the provider.
  SimulatedProvider(std::string pool, SimulatedSpec spec, const Clock* clock);

  Result<PoolState> Observe() override;  // a copy of State(), or an injected "observe" failure
  ApplyResult Apply(const ScalePlan& plan) override;

  // The pool at the clock's time, in the provider's own storage (valid until the next call), for a
  // replay that reads it every tick without copying it. Its servers_version changes exactly when a
  // server does.
  const PoolState& State();

  // Moves every timed transition due at or before `t` (Observe does this at clock time).
  void AdvanceTo(TimeMs t);
  // The earliest pending transition strictly after `t`, or kNever.
  TimeMs NextTransitionAfter(TimeMs t) const;
  int Count(ServerState s) const;
  int Serving() const;  // active and healthy
  // Count, Serving and the earliest pending transition in one pass (the backtest's scoring loop);
  // computed again only after a server changed. The reference stays valid, and is brought up to date
  // by the next call, for the provider's lifetime.
  struct Tally {
    int count[static_cast<int>(ServerState::kRetired) + 1] = {};  // by ServerState
    int serving = 0;
    TimeMs next_due = kNever;
    int of(ServerState s) const { return count[static_cast<int>(s)]; }
  };
  const Tally& Counts() const { return tally_version_ == version_ ? tally_ : Recount(); }
  double Capacity() const { return Serving() * spec_.capacity_per_server; }
  const SimulatedSpec& spec() const { return spec_; }

  // Makes the next `count` actions of `kind` ("promote", "drain", "provision", "retire", "suspend",
  // "resume", or "observe") fail with `status`.
  void InjectFailure(const std::string& kind, int count, Status status);
  // Sets a server's health (e.g. a standby that broke). Returns false if there is no such server.
  bool SetHealth(const std::string& name, Health health);
  // How many actions Apply has carried out successfully since construction.
  int mutations() const { return mutations_; }

 private:
  struct Sim {
    Server server;
    TimeMs due = kNever;  // when the pending transition happens
  };
  Status Act(const std::string& kind, const std::string& name, TimeMs now);
  Status TakeInjected(std::string_view kind);
  void SetDue(Sim* sim, TimeMs due);
  const Tally& Recount() const;  // Counts() after a change

  std::string pool_;
  SimulatedSpec spec_;
  const Clock* clock_;
  std::map<std::string, Sim> servers_;
  struct Injected {
    int count;
    Status status;
  };
  std::map<std::string, Injected, std::less<>> failures_;
  int mutations_ = 0;
  uint64_t version_ = 0;        // bumped whenever a server changes (state, health, due, added, removed)
  TimeMs next_due_ = kNever;    // no transition is due before this (a lower bound: AdvanceTo's shortcut)
  PoolState state_;             // State(), rebuilt when a server changed
  uint64_t state_version_ = 0;  // version_ + 1 when state_ was built (0: never)
  mutable Tally tally_;         // Counts() at tally_version_
  mutable uint64_t tally_version_ = ~uint64_t{0};
};

// Reads the parameters below into `spec` (keys absent keep its values). Appends path-named errors
// (bad values, unknown keys) and returns false on any. Also reads a pool's backtest capacity_model.
bool ReadSimulatedSpec(const Params& params, SimulatedSpec* spec, std::vector<std::string>* errors);

// Registry entry. Params: capacity_per_server, promotion_delay, provisioning_delay, drain_delay,
// resume_delay, cost.active, cost.standby, cost.stopped, initial_active, initial_standby.
std::unique_ptr<Provider> NewSimulatedProvider(const std::string& pool, const Params& params,
                                               const Clock* clock, std::vector<std::string>* errors);

}  // namespace warmpool

#endif  // WARMPOOL_PROVIDERS_SIMULATED_SIMULATED_PROVIDER_H_
