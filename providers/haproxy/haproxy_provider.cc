// HAProxyProvider: params, Observe and the state mapping. Apply and its actions: haproxy_actions.cc.
#include "providers/haproxy/haproxy_provider.h"

#include <arpa/inet.h>

#include <algorithm>
#include <sstream>

namespace warmpool {
namespace {

constexpr size_t kMaxEvents = 200;

bool ValidName(const std::string& s) {
  return !s.empty() && s.find_first_of("/; \t\r\n#") == std::string::npos;
}

// "ip:port" or "[ipv6]:port" with a numeric address: dynamic servers are not resolved.
bool ValidAddress(const std::string& a) {
  const size_t colon = a.rfind(':');
  if (colon == std::string::npos || colon + 1 == a.size()) return false;
  const std::string port = a.substr(colon + 1);
  if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) return false;
  const int p = std::stoi(port);
  if (p < 1 || p > 65535) return false;
  std::string host = a.substr(0, colon);
  unsigned char buf[16];
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
    return inet_pton(AF_INET6, host.c_str(), buf) == 1;
  }
  return inet_pton(AF_INET, host.c_str(), buf) == 1;
}

// The longest unix socket path: sun_path holds 108 bytes with the terminating NUL.
constexpr size_t kMaxUnixPath = 107;

// The unix path `socket` names, as the runtime client reads it ("unix@PATH", or anything that is not
// host:port), or "" for a TCP address.
std::string UnixPath(const std::string& socket) {
  if (socket.rfind("unix@", 0) == 0) return socket.substr(5);
  std::string s = socket;
  for (const char* prefix : {"ipv4@", "ipv6@", "tcp@", "tcp4@", "tcp6@"}) {
    if (s.rfind(prefix, 0) == 0) s = s.substr(std::string(prefix).size());
  }
  const size_t colon = s.rfind(':');
  const bool has_port = colon != std::string::npos && colon + 1 < s.size() &&
                        s.find_first_not_of("0123456789", colon + 1) == std::string::npos;
  return s.find('/') != std::string::npos || !has_port ? socket : "";
}

// "a mapping" or "a sequence" when the flattened params hold `key` as a block (key.x, key[0]), else "".
std::string BlockKind(const Params& params, const std::string& key) {
  auto it = params.values.lower_bound(key + ".");
  if (it != params.values.end() && it->first.rfind(key + ".", 0) == 0) return "a mapping";
  it = params.values.lower_bound(key + "[");
  if (it != params.values.end() && it->first.rfind(key + "[", 0) == 0) return "a sequence";
  return "";
}

// 1 + the largest i of the keys "servers[i]..." (0 when there is none), capped at kMaxServers + 1.
constexpr int kMaxServers = 10000;
int ServerCount(const Params& params) {
  int count = 0;
  for (auto it = params.values.lower_bound("servers["); it != params.values.end(); ++it) {
    const std::string& key = it->first;
    if (key.rfind("servers[", 0) != 0) break;
    size_t p = 8;
    long i = 0;
    while (p < key.size() && key[p] >= '0' && key[p] <= '9' && i <= kMaxServers) i = i * 10 + (key[p++] - '0');
    if (p > 8 && p < key.size() && key[p] == ']') count = std::max(count, static_cast<int>(std::min<long>(i, kMaxServers)) + 1);
  }
  return count;
}

// A string setting given as a mapping or a sequence: an error naming it, and false.
bool ScalarOrError(const Params& params, ParamReader* r, const std::string& key, const char* what) {
  const std::string kind = BlockKind(params, key);
  if (kind.empty()) return true;
  r->Error(key, std::string("must be ") + what + ", got " + kind);
  return false;
}

bool HasCheckKeyword(const std::string& options) {
  std::istringstream in(options);
  for (std::string word; in >> word;) {
    if (word == "check") return true;
  }
  return false;
}

}  // namespace

std::optional<HAProxySpec> ReadHAProxySpec(const Params& params, std::vector<std::string>* errors) {
  ParamReader r(params);
  HAProxySpec spec;
  if (!r.Has("socket") && BlockKind(params, "socket").empty()) {
    r.Error("socket", "required: the admin stats socket (a unix path or host:port)");
  } else if (ScalarOrError(params, &r, "socket", "a unix path or host:port")) {
    spec.socket = r.String("socket");
    const std::string path = UnixPath(spec.socket);
    if (spec.socket.empty()) {
      r.Error("socket", "must not be empty");
    } else if (path.size() > kMaxUnixPath) {
      r.Error("socket", "a unix socket path is at most " + std::to_string(kMaxUnixPath) + " bytes, got " +
                            std::to_string(path.size()));
    }
  }
  if (!r.Has("backend") && BlockKind(params, "backend").empty()) {
    r.Error("backend", "required: the HAProxy backend that is the pool");
  } else if (ScalarOrError(params, &r, "backend", "a backend name")) {
    spec.backend = r.String("backend");
    if (!ValidName(spec.backend)) {
      r.Error("backend", "must be a backend name (no '/', ';', '#' or spaces), got " + QuoteValue(spec.backend));
    }
  }
  spec.command_timeout = r.Duration("command_timeout", spec.command_timeout, 1);
  spec.drain_timeout = r.Duration("drain_timeout", spec.drain_timeout);
  spec.promotion_grace = r.Duration("promotion_grace", spec.promotion_grace);
  spec.server_options = r.String("server_options", spec.server_options);
  if (spec.server_options.find_first_of(";\r\n") != std::string::npos) {
    r.Error("server_options", "must not contain ';' or a newline");
  }
  // servers: a list of {name, address}. Every item is named by its index, whatever the others hold.
  if (const std::string kind = BlockKind(params, "servers"); kind == "a mapping") {
    r.Error("servers", "must be a list of {name, address}, got a mapping");
  } else if (r.Has("servers") && !r.String("servers").empty()) {  // null or '' is no server
    r.Error("servers", "must be a list of {name, address}, got " + QuoteValue(r.String("servers")));
  }
  std::set<std::string> seen;
  const int count = ServerCount(params);
  for (int i = 0; i < count; ++i) {
    const std::string base = "servers[" + std::to_string(i) + "]";
    if (r.Has(base)) {  // a scalar or null item
      r.Error(base, "must be a mapping {name, address}, got " +
                        (r.String(base).empty() ? std::string("nothing") : QuoteValue(r.String(base))));
      continue;
    }
    if (BlockKind(params, base) == "a sequence") {
      r.Error(base, "must be a mapping {name, address}, got a sequence");
      continue;
    }
    HAProxySlot slot;
    const std::string name_key = base + ".name", address_key = base + ".address";
    if (ScalarOrError(params, &r, name_key, "a server name")) {
      slot.name = r.String(name_key);
      if (!ValidName(slot.name)) {
        r.Error(name_key, "required: a server name (no '/', ';', '#' or spaces), got " + QuoteValue(slot.name));
      } else if (!seen.insert(slot.name).second) {
        r.Error(name_key, "duplicate server name " + QuoteValue(slot.name));
      }
    }
    if (ScalarOrError(params, &r, address_key, "a numeric \"ip:port\"")) {
      slot.address = r.String(address_key);
      if (!ValidAddress(slot.address)) {
        r.Error(address_key,
                "required: a numeric \"ip:port\" (HAProxy does not resolve names of servers added at run time), "
                "got " + QuoteValue(slot.address));
      }
    }
    spec.servers.push_back(std::move(slot));
  }
  const bool has_exec = std::any_of(params.values.begin(), params.values.end(),
                                    [](const auto& kv) { return kv.first.rfind("exec.", 0) == 0; });
  if (has_exec) spec.exec = ReadExecSpec(&r, "exec.");
  if (!r.FinishInto(errors)) return std::nullopt;
  return spec;
}

std::unique_ptr<Provider> NewHAProxyProvider(const std::string& pool, const Params& params,
                                             const Clock* clock, std::vector<std::string>* errors) {
  std::optional<HAProxySpec> spec = ReadHAProxySpec(params, errors);
  if (!spec) return nullptr;
  return std::make_unique<HAProxyProvider>(pool, std::move(*spec), clock);
}

HAProxyProvider::HAProxyProvider(std::string pool, HAProxySpec spec, const Clock* clock)
    : pool_(std::move(pool)),
      spec_(std::move(spec)),
      clock_(clock),
      client_(spec_.socket, spec_.command_timeout),
      options_check_(HasCheckKeyword(spec_.server_options)) {
  if (spec_.exec) exec_ = std::make_unique<ExecMachines>(pool_, *spec_.exec);
}

HAProxyProvider::~HAProxyProvider() = default;

const haproxy::ServerStateRow* HAProxyProvider::Snapshot::Find(const std::string& name) const {
  for (const haproxy::ServerStateRow& r : rows) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

const HAProxySlot* HAProxyProvider::Slot(const std::string& name) const {
  for (const HAProxySlot& s : spec_.servers) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

void HAProxyProvider::Event(std::string line) {
  events_.push_back(std::move(line));
  while (events_.size() > kMaxEvents) events_.pop_front();
}

std::vector<std::string> HAProxyProvider::TakeEvents() {
  std::vector<std::string> out(events_.begin(), events_.end());
  events_.clear();
  return out;
}

Result<HAProxyProvider::Snapshot> HAProxyProvider::Read(bool with_stats) const {
  std::vector<std::string> commands = {"show servers state " + spec_.backend};
  // Every proxy's servers, filtered by name below: `show stat <name>` resolves a name that a frontend
  // and a backend share to the frontend, which has no servers (every drain then waited its timeout).
  if (with_stats) commands.push_back("show stat -1 4 -1");
  Result<std::vector<std::string>> replies = client_.Call(commands);
  if (!replies.ok()) return replies.status();
  Snapshot snap;
  Result<std::vector<haproxy::ServerStateRow>> rows = haproxy::ParseServersState((*replies)[0]);
  if (!rows.ok()) return client_.Error(rows.status().code(), commands[0], rows.status().message());
  snap.rows = std::move(rows).value();
  if (with_stats) {
    Result<std::vector<haproxy::ServerStat>> stats = haproxy::ParseShowStat((*replies)[1]);
    if (!stats.ok()) return client_.Error(stats.status().code(), commands[1], stats.status().message());
    for (haproxy::ServerStat& s : *stats) {
      if (s.backend == spec_.backend) snap.stats[s.name] = std::move(s);
    }
  }
  return snap;
}

bool HAProxyProvider::RegisterReadyMachines(const Snapshot& snap) {
  if (!exec_) return false;
  bool changed = false;
  for (const HAProxySlot& slot : spec_.servers) {
    if (snap.Find(slot.name) || retired_.count(slot.name)) continue;
    if (exec_->StateOf(slot.name) != ExecMachines::State::kReady) continue;
    Status st = Register(slot);
    if (st.ok()) {
      changed = true;
      Event("register " + Target(slot.name) + " (" + slot.address + "): machine ready, now standby");
    } else {
      Event("register " + Target(slot.name) + ": " + st.message());
    }
  }
  return changed;
}

bool HAProxyProvider::FinishRetirements(const Snapshot& snap) {
  bool changed = false;
  for (auto it = retired_.begin(); it != retired_.end();) {
    const haproxy::ServerStateRow* row = snap.Find(*it);
    if (!row || !row->InMaintenance()) {
      // Gone (deleted, or HAProxy restarted without it), or put back in service by an operator.
      it = retired_.erase(it);
      continue;
    }
    if (Slot(*it)) {  // an inventory slot whose `del server` failed: try again
      Result<std::string> r = client_.Call("del server " + Target(*it));
      if (r.ok()) {
        Event("retire " + Target(*it) + ": deleted");
        changed = true;
        it = retired_.erase(it);
        continue;
      }
    }
    ++it;
  }
  return changed;
}

bool HAProxyProvider::FinishDrains(const Snapshot& snap, TimeMs now) {
  bool changed = false;
  for (auto it = draining_since_.begin(); it != draining_since_.end();) {
    const haproxy::ServerStateRow* row = snap.Find(it->first);
    if (!row || !row->Draining() || row->InMaintenance()) {  // finished or changed by someone else
      it = draining_since_.erase(it);
      continue;
    }
    auto stat = snap.stats.find(it->first);
    const int64_t sessions = stat == snap.stats.end() ? -1 : stat->second.scur + stat->second.qcur;
    const bool idle = sessions == 0;
    const bool timed_out = now - it->second >= spec_.drain_timeout;
    if (!idle && !timed_out) {
      ++it;
      continue;
    }
    const std::string cmd = "set server " + Target(it->first) + " state maint";
    Result<std::string> r = client_.Call(cmd);
    if (!r.ok()) {
      Event("drain " + Target(it->first) + ": " + r.status().message());
      ++it;
      continue;
    }
    Event("drain " + Target(it->first) +
          (idle ? ": no sessions left"
                : ": drain_timeout " + FormatDuration(spec_.drain_timeout) + " passed with " +
                      std::to_string(sessions) + " sessions") +
          ", now in maintenance (standby)");
    changed = true;
    it = draining_since_.erase(it);
  }
  return changed;
}

Server HAProxyProvider::ToServer(const haproxy::ServerStateRow& row, TimeMs now) {
  Server s;
  s.name = row.name;
  s.address = row.Address();
  s.since = now - row.seconds_since_change * kSecond;
  if (row.InMaintenance()) {
    s.health = Health::kUnknown;  // checks are paused in maintenance
    s.state = ServerState::kStandby;
    if (retired_.count(row.name) && !(exec_ && exec_->StateOf(row.name) == ExecMachines::State::kRetiring)) {
      s.state = ServerState::kCold;
    } else if (exec_) {
      // A server declared in haproxy.cfg (not an inventory slot) is a standby whose machine the
      // operator runs: adopt it. An inventory slot in maintenance has a machine only if we made one.
      if (!Slot(row.name) && exec_->StateOf(row.name) == ExecMachines::State::kNone) {
        exec_->Adopt(row.name, s.address, now);
      }
      switch (exec_->StateOf(row.name)) {
        case ExecMachines::State::kReady: break;
        case ExecMachines::State::kProvisioning: s.state = ServerState::kProvisioning; break;
        case ExecMachines::State::kRetiring: s.state = ServerState::kRetired; break;
        case ExecMachines::State::kSuspending:
        case ExecMachines::State::kStopped: s.state = ServerState::kStopped; break;
        case ExecMachines::State::kResuming: s.state = ServerState::kProvisioning; break;  // resuming
        case ExecMachines::State::kNone:
        case ExecMachines::State::kFailed: s.state = ServerState::kCold; break;
      }
      if (s.state != ServerState::kStandby) {
        auto m = exec_->machines().find(row.name);
        if (m != exec_->machines().end()) s.since = m->second.since;
      }
    }
    return s;
  }
  // In service: its machine evidently exists.
  if (exec_ && exec_->StateOf(row.name) == ExecMachines::State::kNone) exec_->Adopt(row.name, s.address, now);
  if (row.Draining()) {
    s.state = ServerState::kDraining;
    s.health = row.Up() ? Health::kHealthy : Health::kUnhealthy;
    return s;
  }
  s.state = ServerState::kActive;
  auto promoted = promoted_at_.find(row.name);
  const bool in_grace = promoted != promoted_at_.end() && now - promoted->second < spec_.promotion_grace;
  if (row.Up()) {
    s.health = Health::kHealthy;
    if (promoted != promoted_at_.end()) promoted_at_.erase(promoted);  // the health gate passed
  } else {
    s.health = in_grace ? Health::kUnknown : Health::kUnhealthy;
    if (!in_grace && promoted != promoted_at_.end()) promoted_at_.erase(promoted);
  }
  return s;
}

ProviderMemory HAProxyProvider::Memory() const {
  ProviderMemory m;
  if (!draining_since_.empty()) m["draining_since"] = draining_since_;
  if (!promoted_at_.empty()) m["promoted_at"] = promoted_at_;
  for (const std::string& name : retired_) m["retired"][name] = 0;
  // Retirements still to be run again (a restart before the first Observe), without exec; with exec
  // they are remembered as machines retiring, below.
  if (!exec_) {
    for (const std::string& name : resume_retire_) m["retiring"][name] = 0;
  }
  if (exec_) {
    for (const auto& [name, machine] : exec_->machines()) {
      switch (machine.state) {
        case ExecMachines::State::kReady: m["machine_ready"][name] = machine.since; break;
        case ExecMachines::State::kProvisioning: m["machine_provisioning"][name] = machine.since; break;
        case ExecMachines::State::kRetiring: m["machine_retiring"][name] = machine.since; break;
        case ExecMachines::State::kStopped: m["machine_stopped"][name] = machine.since; break;
        case ExecMachines::State::kSuspending: m["machine_suspending"][name] = machine.since; break;
        case ExecMachines::State::kResuming: m["machine_resuming"][name] = machine.since; break;
        default: break;  // failed: cold either way; the planner provisions it again
      }
    }
    // Still to be run again (a restart before the first Observe): remembered as they were.
    for (const std::string& name : resume_provision_) m["machine_provisioning"].emplace(name, 0);
    for (const std::string& name : resume_retire_) m["machine_retiring"].emplace(name, 0);
    for (const std::string& name : resume_suspend_) m["machine_suspending"].emplace(name, 0);
    for (const std::string& name : resume_resume_) m["machine_resuming"].emplace(name, 0);
  }
  return m;
}

void HAProxyProvider::Restore(const ProviderMemory& memory) {
  for (const auto& [kind, facts] : memory) {
    for (const auto& [name, at] : facts) {
      if (kind == "draining_since") draining_since_[name] = at;
      if (kind == "promoted_at") promoted_at_[name] = at;
      if (kind == "retired") retired_.insert(name);
      if (kind == "retiring") resume_retire_.insert(name);
      if (!exec_) continue;
      const HAProxySlot* slot = Slot(name);
      if (kind == "machine_ready") exec_->Adopt(name, slot ? slot->address : "", at);
      if (kind == "machine_provisioning") resume_provision_.insert(name);
      if (kind == "machine_retiring") resume_retire_.insert(name);
      // A stopped machine is stopped still; a suspend or resume whose outcome was not seen runs again
      // (from the state it started in).
      if (kind == "machine_stopped") exec_->AdoptStopped(name, slot ? slot->address : "", at);
      if (kind == "machine_suspending") {
        exec_->Adopt(name, slot ? slot->address : "", at);
        resume_suspend_.insert(name);
      }
      if (kind == "machine_resuming") {
        exec_->AdoptStopped(name, slot ? slot->address : "", at);
        resume_resume_.insert(name);
      }
    }
  }
}

void HAProxyProvider::Interrupted(const ScalePlan& plan, TimeMs at) {
  for (const std::string& name : plan.promote) promoted_at_.emplace(name, at);
  for (const std::string& name : plan.drain) draining_since_.emplace(name, at);
  for (const std::string& name : plan.retire) resume_retire_.insert(name);
  if (exec_) {
    for (const std::string& name : plan.provision) resume_provision_.insert(name);
    for (const std::string& name : plan.suspend) resume_suspend_.insert(name);
    for (const std::string& name : plan.resume) resume_resume_.insert(name);
  }
}

bool HAProxyProvider::Resume(const Snapshot& snap, TimeMs now) {
  if (resume_provision_.empty() && resume_retire_.empty() && resume_suspend_.empty() &&
      resume_resume_.empty()) {
    return false;
  }
  bool changed = false;
  for (const std::string& name : resume_retire_) {
    const haproxy::ServerStateRow* row = snap.Find(name);
    const HAProxySlot* slot = Slot(name);
    if (!row && !slot) continue;                 // not ours to retire any more (the config changed)
    if (row && !row->InMaintenance()) continue;  // in service: the retirement never began
    if (exec_ && exec_->StateOf(name) == ExecMachines::State::kNone) {
      exec_->Adopt(name, slot ? slot->address : row->Address(), now);  // its machine may still run
    }
    Status st = Retire(snap, name, now);
    Event("retire " + Target(name) + ": interrupted by a restart, done again: " +
          (st.ok() ? std::string("ok") : st.message()));
    changed = true;
  }
  for (const std::string& name : resume_provision_) {
    const haproxy::ServerStateRow* row = snap.Find(name);
    if ((row && !row->InMaintenance()) || resume_retire_.count(name) || retired_.count(name)) continue;
    if (exec_ && exec_->StateOf(name) == ExecMachines::State::kReady) continue;
    Status st = Provision(snap, name, now);
    Event("provision " + Target(name) + ": interrupted by a restart, run again: " +
          (st.ok() ? std::string("started") : st.message()));
    changed = true;
  }
  // Suspensions and resumptions whose outcome was not seen: asked again (the commands are idempotent).
  // Interrupted() names them from the plan: the machine is adopted in the state the action starts from.
  for (const std::string& name : resume_suspend_) {
    const haproxy::ServerStateRow* row = snap.Find(name);
    if (!row || !row->InMaintenance() || resume_retire_.count(name) || !exec_) continue;
    if (exec_->StateOf(name) == ExecMachines::State::kNone) exec_->Adopt(name, row->Address(), now);
    Status st = Suspend(snap, name, now);
    Event("suspend " + Target(name) +
          ": interrupted by a restart, run again: " + (st.ok() ? std::string("started") : st.message()));
  }
  for (const std::string& name : resume_resume_) {
    const haproxy::ServerStateRow* row = snap.Find(name);
    if (!row || !row->InMaintenance() || resume_retire_.count(name) || !exec_) continue;
    const ExecMachines::State was = exec_->StateOf(name);
    if (was == ExecMachines::State::kNone || was == ExecMachines::State::kReady) {
      exec_->AdoptStopped(name, row->Address(), now);
    }
    Status st = ResumeMachine(snap, name, now);
    Event("resume " + Target(name) +
          ": interrupted by a restart, run again: " + (st.ok() ? std::string("started") : st.message()));
  }
  resume_provision_.clear();
  resume_retire_.clear();
  resume_suspend_.clear();
  resume_resume_.clear();
  return changed;
}

Result<PoolState> HAProxyProvider::Observe() {
  const TimeMs now = clock_->Now();
  if (exec_) {
    for (std::string& line : exec_->Poll(now)) Event(std::move(line));
  }
  Result<Snapshot> snap = Read(true);
  if (!snap.ok()) return snap.status();
  if (Resume(*snap, now)) {
    snap = Read(true);
    if (!snap.ok()) return snap.status();
  }
  bool changed = RegisterReadyMachines(*snap);
  changed = FinishRetirements(*snap) || changed;
  changed = FinishDrains(*snap, now) || changed;
  if (changed) {
    snap = Read(false);
    if (!snap.ok()) return snap.status();
  }

  std::erase_if(promoted_at_, [&](const auto& kv) { return now - kv.second >= spec_.promotion_grace; });
  PoolState state;
  state.pool = pool_;
  state.observed_at = now;
  for (const haproxy::ServerStateRow& row : snap->rows) {
    if (!row.InMaintenance()) retired_.erase(row.name);  // an operator put it back in service
    state.servers.push_back(ToServer(row, now));
  }
  for (const HAProxySlot& slot : spec_.servers) {
    if (snap->Find(slot.name)) continue;
    retired_.erase(slot.name);  // deleted: nothing left to finish
    Server s{slot.name, slot.address, ServerState::kCold, Health::kUnknown, now};
    if (exec_) {
      auto m = exec_->machines().find(slot.name);
      if (m != exec_->machines().end()) {
        s.since = m->second.since;
        switch (m->second.state) {
          case ExecMachines::State::kProvisioning:
          case ExecMachines::State::kReady:  // ready but its registration failed: still on its way
            s.state = ServerState::kProvisioning;
            break;
          case ExecMachines::State::kRetiring: s.state = ServerState::kRetired; break;
          default: break;
        }
      }
    }
    state.servers.push_back(std::move(s));
  }
  return state;
}

}  // namespace warmpool
