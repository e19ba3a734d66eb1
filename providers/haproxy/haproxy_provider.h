// HAProxyProvider (type "haproxy"): one HAProxy backend is the pool, driven over the runtime API.
// HAProxy is the source of truth: Observe re-reads `show servers state` and `show stat` on every
// call, so an operator's change by hand or an HAProxy restart is simply observed. The provider's own
// memory is limited to what HAProxy cannot tell: when it promoted or drained a server, and which
// cfg-declared servers it retired. The app keeps that memory in its state file (Memory / Restore), so a
// restarted Warmpool finishes the drains the last process started.
//
// Mapping of a server line (srv_admin_state bits, srv_op_state):
//   maintenance (FMAINT|IMAINT|RMAINT)  -> standby (health unknown: checks are paused), or cold when
//                                          we retired it, or, with exec, when an inventory slot's
//                                          machine is not ready (provisioning while the provision
//                                          command runs, retired while the retire command runs).
//                                          A cfg-declared server in maintenance is a standby whose
//                                          machine the operator runs: exec adopts it as ready.
//                                          With exec suspend/resume: stopped while its machine is
//                                          being suspended or is suspended (remembered in Memory as
//                                          "machine_stopped", so a restart keeps it stopped), and
//                                          provisioning while the resume command runs.
//                                          CMAINT alone is NOT maintenance: HAProxy 2.6 keeps it on a
//                                          cfg `disabled` server after `state ready`.
//   drain (FDRAIN|IDRAIN)               -> draining (health from op_state)
//   otherwise                           -> active: UP (running/starting) = healthy; DOWN = unhealthy,
//                                          except within promotion_grace of our promote = unknown.
//   inventory slot not in the backend   -> cold (the planner names it for provisioning).
//   since = now - srv_time_since_last_change.
// Observe also finishes the drains we started: once the server's sessions (scur + qcur from
// `show stat`) reach zero, or drain_timeout passes, it goes to maintenance (standby). A drain we did not
// start (an operator's) is observed, not finished.
//
// Actions (each idempotent: promoting an active server, draining a draining one, ... is OK):
//   promote   `set server B/S state ready; set server B/S health down` on one line: the server comes
//             UP only after `rise` checks pass. Only when its health checks are configured AND enabled
//             (srv_check_state has CONFIGURED|ENABLED); a server without checks would stay forced down
//             forever, so it gets `state ready` alone and is UP at once. A draining server gets
//             `state ready` alone (its checks kept running during the drain).
//   drain     `set server B/S state drain`.
//   provision without exec: `add server B/NAME ADDR <server_options>` (+ `enable health B/NAME` when
//             the options have `check`) for an inventory slot: it starts in maintenance = standby; or
//             un-retires a cfg-declared server. With exec: ExecMachines::Provision; Observe registers the
//             slot once the command exits 0.
//   retire    an active server is refused (drain it first). Inventory slots: `set server B/S state
//             maint; del server B/S` (Observe retries a `del` that failed, e.g. on open connections);
//             cfg-declared servers: `state maint` and remembered as retired (cold). With exec, also
//             ExecMachines::Retire.
//   suspend   (exec only) a standby in maintenance: ExecMachines::Suspend; it stays in maintenance.
//   resume    (exec only) ExecMachines::Resume; once the command exits 0 the server is a standby again,
//             promoted like a provisioned one (health-gated by HAProxy's checks, probed when the pool
//             has health.probe): promote refuses a server whose machine is not ready.
// Not thread-safe: one caller (the pool's tick).
#ifndef WARMPOOL_PROVIDERS_HAPROXY_HAPROXY_PROVIDER_H_
#define WARMPOOL_PROVIDERS_HAPROXY_HAPROXY_PROVIDER_H_

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "providers/exec/exec_machines.h"
#include "providers/haproxy/haproxy_parse.h"
#include "providers/haproxy/runtime_client.h"
#include "warmpool/provider.h"

namespace warmpool {

struct HAProxySlot {
  std::string name;
  std::string address;  // "ip:port" (HAProxy does not resolve names of dynamic servers)
};

struct HAProxySpec {
  std::string socket;   // required: unix socket path or TCP host:port of an admin-level stats socket
  std::string backend;  // required
  DurationMs command_timeout = 2 * kSecond;
  DurationMs drain_timeout = 30 * kSecond;
  DurationMs promotion_grace = 10 * kSecond;
  std::vector<HAProxySlot> servers;      // inventory: slots registered at run time
  std::string server_options = "check";  // for `add server`
  std::optional<ExecSpec> exec;          // machines behind the slots, when set
};

// Reads the spec from params (keys: socket, backend, command_timeout, drain_timeout, promotion_grace,
// servers[i].name, servers[i].address, server_options, exec.*). Appends path-named errors, rejects
// unknown keys.
std::optional<HAProxySpec> ReadHAProxySpec(const Params& params, std::vector<std::string>* errors);

class HAProxyProvider final : public Provider {
 public:
  // `clock` must outlive the provider.
  HAProxyProvider(std::string pool, HAProxySpec spec, const Clock* clock);
  ~HAProxyProvider() override;

  Result<PoolState> Observe() override;
  ApplyResult Apply(const ScalePlan& plan) override;

  // What happened outside Apply's results since the last call, oldest first: exec commands that
  // finished ("provision web-3: exit 3 after 0.1s: <stderr>"), drains finished by Observe, failed
  // registrations. At most the last 200 are kept.
  std::vector<std::string> TakeEvents() override;
  // "draining_since" (drains we started: finished once idle, after a restart too), "promoted_at"
  // (health-gated promotions within their grace), "retired" (cfg-declared servers we retired, at 0),
  // and with exec the machines: "machine_ready" (restored as ready: a registered slot in maintenance
  // is a standby, not cold), "machine_stopped" (suspended: a stopped standby), "machine_provisioning",
  // "machine_retiring", "machine_suspending" and "machine_resuming" (the command's outcome was not
  // seen: it is run again at the first Observe; exec commands must be idempotent).
  ProviderMemory Memory() const override;
  void Restore(const ProviderMemory& memory) override;
  // A drain is taken over as ours (finished once idle or at drain_timeout); a promotion gets its grace;
  // a retirement is done again where the server is still in maintenance or gone (with exec, its retire
  // command runs again); with exec, a provisioning is run again unless the server is in service.
  void Interrupted(const ScalePlan& plan, TimeMs at) override;
  const ExecMachines* exec() const { return exec_.get(); }
  const HAProxySpec& spec() const { return spec_; }

 private:
  struct Snapshot {
    std::vector<haproxy::ServerStateRow> rows;
    std::map<std::string, haproxy::ServerStat> stats;  // by server name; only when asked for
    const haproxy::ServerStateRow* Find(const std::string& name) const;
  };
  Result<Snapshot> Read(bool with_stats) const;
  // Observe's own changes; each returns true when it changed HAProxy (the snapshot is then re-read).
  bool RegisterReadyMachines(const Snapshot& snap);
  bool FinishRetirements(const Snapshot& snap);
  bool FinishDrains(const Snapshot& snap, TimeMs now);
  // Runs again what a restart left unsure (Restore, Interrupted), once, at the first Observe.
  bool Resume(const Snapshot& snap, TimeMs now);
  Server ToServer(const haproxy::ServerStateRow& row, TimeMs now);

  Status Promote(const Snapshot& snap, const std::string& name, TimeMs now);
  Status Drain(const Snapshot& snap, const std::string& name, TimeMs now);
  Status Provision(const Snapshot& snap, const std::string& name, TimeMs now);
  Status Retire(const Snapshot& snap, const std::string& name, TimeMs now);
  Status Suspend(const Snapshot& snap, const std::string& name, TimeMs now);
  Status ResumeMachine(const Snapshot& snap, const std::string& name, TimeMs now);
  Status Register(const HAProxySlot& slot);

  const HAProxySlot* Slot(const std::string& name) const;
  std::string Target(const std::string& name) const { return spec_.backend + "/" + name; }
  Status Missing(const char* action, const std::string& name) const;
  Status NoMachineCommands(const char* action, const std::string& name) const;  // suspend/resume without exec
  void Event(std::string line);

  std::string pool_;
  HAProxySpec spec_;
  const Clock* clock_;
  RuntimeClient client_;
  bool options_check_ = false;  // server_options has the `check` keyword
  std::unique_ptr<ExecMachines> exec_;
  std::map<std::string, TimeMs> promoted_at_;     // health-gated promotions still within grace
  std::map<std::string, TimeMs> draining_since_;  // drains we started
  std::set<std::string> retired_;  // cfg-declared servers we retired; inventory slots whose del failed
  std::deque<std::string> events_;
  std::set<std::string> resume_provision_, resume_retire_;  // for Resume
  std::set<std::string> resume_suspend_, resume_resume_;    // for Resume (exec suspend/resume)
};

// Registry entry.
std::unique_ptr<Provider> NewHAProxyProvider(const std::string& pool, const Params& params,
                                             const Clock* clock, std::vector<std::string>* errors);

}  // namespace warmpool

#endif  // WARMPOOL_PROVIDERS_HAPROXY_HAPROXY_PROVIDER_H_
