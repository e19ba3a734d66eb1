// ExecMachines: the machines behind a pool's server slots, started and stopped by the operator's
// own commands (a cloud CLI, systemctl, a script). Commands run asynchronously with a timeout; the
// caller polls. Composes with a balancer provider: exec starts a machine, the balancer puts it in
// rotation.
//
// Each command runs through /bin/sh -c with these environment variables (plus the controller's own
// environment): WARMPOOL_POOL, WARMPOOL_SERVER (the slot name), WARMPOOL_ADDRESS ("ip:port", may be
// empty), WARMPOOL_ACTION ("provision", "retire", "suspend" or "resume"). Exit 0 = success.
// suspend and resume (optional, for the warm pool's stopped tier) stop a ready machine cheaply and
// start it again (a cloud's stop/start, SIGSTOP/SIGCONT, ...): a failed suspend leaves the machine
// ready (running), a failed resume leaves it stopped; either is asked again by the next plan. stdout and
// stderr are kept (last 4 KiB) and logged with the exit status. Each command runs in its own process group,
// with stdin from /dev/null and no inherited descriptors; a timeout or the destructor kills the whole group.
// Once the command itself exits, whatever it left running in the background (a server it started) is the
// machine and is not touched, but its output pipes are closed: such a process must redirect its own output
// (`server >server.log 2>&1 &`). Not thread-safe: one caller (the provider's tick).
#ifndef WARMPOOL_PROVIDERS_EXEC_EXEC_MACHINES_H_
#define WARMPOOL_PROVIDERS_EXEC_EXEC_MACHINES_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "warmpool/params.h"
#include "warmpool/status.h"
#include "warmpool/time.h"

namespace warmpool {

struct ExecSpec {
  std::string provision;             // shell command; required
  std::string retire;                // shell command; required
  std::string suspend;               // shell command; optional (with resume): a standby -> stopped
  std::string resume;                // shell command; optional (with suspend): stopped -> running again
  DurationMs timeout = 2 * kMinute;  // a command running longer is killed (SIGTERM, then SIGKILL after 5 s)
  std::string working_dir;           // "" = the controller's
};

class ExecMachines {
 public:
  enum class State {
    kNone,          // never provisioned (or retired and forgotten): the slot is cold
    kProvisioning,  // the provision command is running
    kReady,         // provision exited 0: the machine is up (a warm standby once the balancer has it)
    kFailed,        // provision failed or timed out; Provision() again to retry
    kRetiring,      // the retire command is running
    kSuspending,    // the suspend command is running (a stopped standby on its way)
    kStopped,       // suspend exited 0: the machine is suspended (a stopped standby)
    kResuming,      // the resume command is running (ready again once it exits 0)
  };
  struct Machine {
    State state = State::kNone;
    std::string address;
    TimeMs since = 0;
    std::string last_error;  // "provision web-5: exit 3: <stderr tail>" or "... timed out after 2m"
  };

  ExecMachines(std::string pool, ExecSpec spec);
  ~ExecMachines();  // kills running commands

  // Starts the provision command for `name` unless it is already provisioning or ready.
  Status Provision(const std::string& name, const std::string& address, TimeMs now);
  // Starts the retire command unless it is already retiring or never provisioned (then OK, no-op).
  // A stopped machine is retired as it is (the retire command must handle a suspended machine).
  Status Retire(const std::string& name, const std::string& address, TimeMs now);
  // Starts the suspend command for a ready machine (OK, no-op, when suspending or stopped already).
  // REQUIRES CanSuspend(), else an error naming exec.suspend.
  Status Suspend(const std::string& name, TimeMs now);
  // Starts the resume command for a stopped machine (OK, no-op, when resuming or ready already).
  Status Resume(const std::string& name, TimeMs now);
  bool CanSuspend() const { return !spec_.suspend.empty() && !spec_.resume.empty(); }
  // Reaps finished commands and enforces timeouts; call once per tick before reading states.
  // Returns one line per command that finished since the last call, for the log.
  std::vector<std::string> Poll(TimeMs now);

  State StateOf(const std::string& name) const;
  const std::map<std::string, Machine>& machines() const { return machines_; }
  // Marks `name` ready without running anything (a machine that already exists at start-up).
  void Adopt(const std::string& name, const std::string& address, TimeMs now);
  // Marks `name` stopped without running anything (remembered across a restart: the state file).
  void AdoptStopped(const std::string& name, const std::string& address, TimeMs since);

 private:
  struct Running;
  // Spawns the `action` command for `name`; on failure to start, the slot is kFailed.
  Status Start(const std::string& action, const std::string& name, const std::string& address, TimeMs now);
  std::string pool_;
  ExecSpec spec_;
  std::map<std::string, Machine> machines_;
  std::map<std::string, std::unique_ptr<Running>> running_;
};

const char* ExecStateName(ExecMachines::State s);

// Reads an ExecSpec from params under `prefix` ("exec." inside a provider's params). Errors are
// path-named through the reader.
ExecSpec ReadExecSpec(ParamReader* reader, const std::string& prefix);

}  // namespace warmpool

#endif  // WARMPOOL_PROVIDERS_EXEC_EXEC_MACHINES_H_
