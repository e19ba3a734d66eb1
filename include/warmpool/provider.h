// Provider: the only code that changes the world. An Observer reports what really exists; a
// Provider can also apply a plan. The dry-run wrapper holds only an Observer, so it cannot apply.
#ifndef WARMPOOL_PROVIDER_H_
#define WARMPOOL_PROVIDER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "warmpool/clock.h"
#include "warmpool/decision.h"
#include "warmpool/params.h"
#include "warmpool/server.h"
#include "warmpool/status.h"

namespace warmpool {

class Observer {
 public:
  virtual ~Observer() = default;
  // What exists now. Level-triggered: called every tick, never cached across ticks by the caller.
  virtual Result<PoolState> Observe() = 0;
  // What happened outside Apply's results since the last call, oldest first, for the log: commands
  // that finished, drains completed during Observe, ... Default: nothing.
  virtual std::vector<std::string> TakeEvents() { return {}; }
};

struct ApplyResult {
  struct Action {
    std::string kind;  // "promote", "drain", "provision", "retire"
    std::string server;
    Status status;
  };
  std::vector<Action> actions;
  bool dry_run = false;
  bool ok() const;
  std::string Summary() const;  // "4 ok, 1 failed: provision web-7: unavailable: ..."
};

// What a provider remembers that the pool itself cannot tell it, e.g. which drains it started: facts by
// kind ("draining_since"), each a server and a time. Kept across a restart in the state file.
using ProviderMemory = std::map<std::string, std::map<std::string, TimeMs>>;

class Provider : public Observer {
 public:
  // Applies every action it can; a failed action does not stop the others.
  virtual ApplyResult Apply(const ScalePlan& plan) = 0;
  // Its memory now, and its restoration after a restart, before the first Observe. A restored fact
  // that no longer matches the pool (the drain has ended meanwhile) is dropped by the next Observe, as
  // any stale fact is. Default: nothing to remember.
  virtual ProviderMemory Memory() const { return {}; }
  virtual void Restore(const ProviderMemory& memory) { (void)memory; }
  // After Restore, before the first Observe: the plan the last process was applying when it died (the
  // app writes it to the state file ahead of Apply). Any of its actions may have been done, half done or
  // not begun, and a command it started may still be running. The provider takes over what it can
  // finish (a drain it started) and makes sure of the rest (a machine being provisioned or retired).
  // Default: nothing.
  virtual void Interrupted(const ScalePlan& plan, TimeMs at) {
    (void)plan;
    (void)at;
  }
};

}  // namespace warmpool

#endif  // WARMPOOL_PROVIDER_H_
