// HAProxyProvider: Apply and its six actions. Every action is idempotent and reads the state it
// acts on from one `show servers state` taken at the start of Apply.
#include "providers/haproxy/haproxy_provider.h"

namespace warmpool {
namespace {

const char* ExecWord(ExecMachines::State s) {
  switch (s) {
    case ExecMachines::State::kNone: return "cold (never provisioned)";
    case ExecMachines::State::kProvisioning: return "still provisioning";
    case ExecMachines::State::kReady: return "ready";
    case ExecMachines::State::kFailed: return "failed";
    case ExecMachines::State::kRetiring: return "retiring";
    case ExecMachines::State::kSuspending: return "being suspended";
    case ExecMachines::State::kStopped: return "stopped (resume it first)";
    case ExecMachines::State::kResuming: return "still resuming";
  }
  return "unknown";
}

}  // namespace

ApplyResult HAProxyProvider::Apply(const ScalePlan& plan) {
  ApplyResult result;
  const TimeMs now = clock_->Now();
  Result<Snapshot> snap = Read(false);
  using Action = Status (HAProxyProvider::*)(const Snapshot&, const std::string&, TimeMs);
  auto run = [&](const char* kind, const std::vector<std::string>& names, Action action) {
    for (const std::string& name : names) {
      Status st = snap.ok() ? (this->*action)(*snap, name, now) : snap.status();
      result.actions.push_back({kind, name, std::move(st)});
    }
  };
  // Capacity first: promotions, resumptions and provisioning before drains, suspensions, retirements.
  run("promote", plan.promote, &HAProxyProvider::Promote);
  run("resume", plan.resume, &HAProxyProvider::ResumeMachine);
  run("provision", plan.provision, &HAProxyProvider::Provision);
  run("drain", plan.drain, &HAProxyProvider::Drain);
  run("suspend", plan.suspend, &HAProxyProvider::Suspend);
  run("retire", plan.retire, &HAProxyProvider::Retire);
  return result;
}

Status HAProxyProvider::Missing(const char* action, const std::string& name) const {
  if (Slot(name)) {
    return Status::FailedPrecondition(std::string("cannot ") + action + " " + Target(name) +
                                      ": it is cold (an inventory slot not registered in backend " +
                                      spec_.backend + "; provision it first)");
  }
  return Status::NotFound("no server " + name + " in backend " + spec_.backend + " (socket " + spec_.socket +
                          ")");
}

Status HAProxyProvider::NoMachineCommands(const char* action, const std::string& name) const {
  return Status::FailedPrecondition(std::string("cannot ") + action + " " + Target(name) +
                                    ": the provider has no exec.suspend and exec.resume commands");
}

Status HAProxyProvider::Promote(const Snapshot& snap, const std::string& name, TimeMs now) {
  const haproxy::ServerStateRow* row = snap.Find(name);
  if (!row) return Missing("promote", name);
  if (!row->InMaintenance() && !row->Draining()) return Status::Ok();  // already active
  if (row->InMaintenance() && retired_.count(name)) {
    return Status::FailedPrecondition("cannot promote " + Target(name) + ": it is retired (cold)");
  }
  if (row->InMaintenance() && exec_ && exec_->StateOf(name) != ExecMachines::State::kReady) {
    return Status::FailedPrecondition("cannot promote " + Target(name) + ": its machine is " +
                                      ExecWord(exec_->StateOf(name)));
  }
  std::vector<std::string> commands = {"set server " + Target(name) + " state ready"};
  // Health-gated only from maintenance and only when checks can bring it back UP; a draining server
  // was checked all along.
  const bool gated = row->InMaintenance() && row->ChecksEnabled();
  if (gated) commands.push_back("set server " + Target(name) + " health down");
  Result<std::vector<std::string>> r = client_.Call(commands);
  if (!r.ok()) return r.status();
  draining_since_.erase(name);
  if (gated) promoted_at_[name] = now;
  return Status::Ok();
}

Status HAProxyProvider::Drain(const Snapshot& snap, const std::string& name, TimeMs now) {
  const haproxy::ServerStateRow* row = snap.Find(name);
  if (!row) return Missing("drain", name);
  if (row->InMaintenance()) return Status::Ok();  // takes no traffic already: nothing to drain
  if (row->Draining()) {
    draining_since_.emplace(name, now);  // keeps the first time
    return Status::Ok();
  }
  Result<std::string> r = client_.Call("set server " + Target(name) + " state drain");
  if (!r.ok()) return r.status();
  draining_since_[name] = now;
  promoted_at_.erase(name);
  return Status::Ok();
}

// A standby's machine is suspended: the server stays in maintenance (it takes no traffic either way)
// and is a stopped standby while exec says so.
Status HAProxyProvider::Suspend(const Snapshot& snap, const std::string& name, TimeMs now) {
  const haproxy::ServerStateRow* row = snap.Find(name);
  if (!row) return Missing("suspend", name);
  if (!exec_) return NoMachineCommands("suspend", name);
  if (!row->InMaintenance()) {
    return Status::FailedPrecondition("cannot suspend " + Target(name) + ": it is in service (" +
                                      (row->Draining() ? "draining" : "active") + ")");
  }
  if (retired_.count(name))
    return Status::FailedPrecondition("cannot suspend " + Target(name) + ": it is retired");
  return exec_->Suspend(name, now);
}

// A stopped standby's machine is resumed; the server stays in maintenance and is a standby once the
// resume command exits 0, promoted (health-gated, probed) like any other.
Status HAProxyProvider::ResumeMachine(const Snapshot& snap, const std::string& name, TimeMs now) {
  const haproxy::ServerStateRow* row = snap.Find(name);
  if (!row) return Missing("resume", name);
  if (!exec_) return NoMachineCommands("resume", name);
  return exec_->Resume(name, now);
}

Status HAProxyProvider::Register(const HAProxySlot& slot) {
  std::vector<std::string> commands = {"add server " + Target(slot.name) + " " + slot.address +
                                       (spec_.server_options.empty() ? "" : " " + spec_.server_options)};
  if (options_check_) commands.push_back("enable health " + Target(slot.name));
  Result<std::vector<std::string>> r = client_.Exchange(commands);
  if (!r.ok()) return r.status();
  for (size_t i = 0; i < commands.size(); ++i) {
    const std::string& reply = (*r)[i];
    if (i == 0 && reply.rfind("Already exists a server with the same name", 0) == 0) continue;  // idempotent
    Status st = haproxy::CheckReply(commands[i], reply);
    if (!st.ok()) return client_.Error(st.code(), commands[i], st.message());
  }
  return Status::Ok();
}

Status HAProxyProvider::Provision(const Snapshot& snap, const std::string& name, TimeMs now) {
  const haproxy::ServerStateRow* row = snap.Find(name);
  const HAProxySlot* slot = Slot(name);
  if (!row && !slot) {
    return Status::NotFound("cannot provision " + Target(name) +
                            ": no inventory slot (servers[].name) and no " +
                            "server of that name in backend " + spec_.backend);
  }
  if (row && !row->InMaintenance()) {
    return Status::FailedPrecondition("cannot provision " + Target(name) + ": it is in service (" +
                                      (row->Draining() ? "draining" : "active") + ")");
  }
  retired_.erase(name);
  if (exec_) {
    const std::string address = slot ? slot->address : row->Address();
    if (Status st = exec_->Provision(name, address, now); !st.ok()) return st;
    // Already ready (e.g. provisioned before, retired from HAProxy only): register now.
    if (!row && exec_->StateOf(name) == ExecMachines::State::kReady) return Register(*slot);
    return Status::Ok();  // Observe registers the slot once its command exits 0
  }
  if (row) return Status::Ok();  // registered and in maintenance: a standby already
  return Register(*slot);
}

Status HAProxyProvider::Retire(const Snapshot& snap, const std::string& name, TimeMs now) {
  const haproxy::ServerStateRow* row = snap.Find(name);
  const HAProxySlot* slot = Slot(name);
  if (!row && !slot) return Missing("retire", name);
  if (row && !row->InMaintenance() && !row->Draining()) {
    return Status::FailedPrecondition("cannot retire " + Target(name) + ": it is active (drain it first)");
  }
  const std::string address = slot ? slot->address : row->Address();
  Status st;
  if (row && slot) {  // registered at run time: remove it from HAProxy
    Result<std::vector<std::string>> r =
        client_.Call({"set server " + Target(name) + " state maint", "del server " + Target(name)});
    if (!r.ok()) {
      retired_.insert(name);  // in maintenance at least (or it never left it); Observe retries the del
      st = r.status();
    }
  } else if (row) {  // declared in the cfg: keep it, in maintenance, remembered as retired
    Result<std::string> r = client_.Call("set server " + Target(name) + " state maint");
    if (!r.ok()) return r.status();
    retired_.insert(name);
  }
  draining_since_.erase(name);
  promoted_at_.erase(name);
  if (exec_) {
    Status ex = exec_->Retire(name, address, now);
    if (st.ok()) st = ex;
  }
  return st;
}

}  // namespace warmpool
