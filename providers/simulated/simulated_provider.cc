#include "providers/simulated/simulated_provider.h"

#include <algorithm>

#include "warmpool/text.h"

namespace warmpool {

SimulatedProvider::SimulatedProvider(std::string pool, SimulatedSpec spec, const Clock* clock)
    : pool_(std::move(pool)), spec_(spec), clock_(clock) {
  const TimeMs now = clock_->Now();
  int n = 0;
  auto add = [&](ServerState state) {
    std::string name = pool_ + "-" + std::to_string(++n);
    servers_[name] = Sim{Server{name, "sim:" + name, state, Health::kHealthy, now}, kNever};
  };
  for (int i = 0; i < spec_.initial_active; ++i) add(ServerState::kActive);
  for (int i = 0; i < spec_.initial_standby; ++i) add(ServerState::kStandby);
}

void SimulatedProvider::SetDue(Sim* sim, TimeMs due) {
  sim->due = due;
  next_due_ = std::min(next_due_, due);
  ++version_;
}

void SimulatedProvider::AdvanceTo(TimeMs t) {
  if (t < next_due_) return;  // nothing is due
  TimeMs next = kNever;
  for (auto& [name, sim] : servers_) {
    if (sim.due > t) {
      next = std::min(next, sim.due);
      continue;
    }
    Server& s = sim.server;
    switch (s.state) {
      case ServerState::kProvisioning:  // ready (new or resumed): a healthy warm standby
        s.state = ServerState::kStandby;
        s.health = Health::kHealthy;
        s.since = sim.due;
        break;
      case ServerState::kActive:  // promotion's health gate passed
        if (s.health == Health::kUnknown) s.health = Health::kHealthy;
        break;
      case ServerState::kDraining:  // in-flight requests done
        s.state = ServerState::kStandby;
        s.since = sim.due;
        break;
      default: break;
    }
    sim.due = kNever;
    ++version_;
  }
  next_due_ = next;
}

TimeMs SimulatedProvider::NextTransitionAfter(TimeMs t) const {
  TimeMs next = kNever;
  for (const auto& [name, sim] : servers_) {
    if (sim.due > t) next = std::min(next, sim.due);
  }
  return next;
}

int SimulatedProvider::Count(ServerState state) const {
  int n = 0;
  for (const auto& [name, sim] : servers_) n += sim.server.state == state;
  return n;
}

const SimulatedProvider::Tally& SimulatedProvider::Recount() const {
  Tally t;
  for (const auto& [name, sim] : servers_) {
    ++t.count[static_cast<int>(sim.server.state)];
    t.serving += sim.server.Serving();
    t.next_due = std::min(t.next_due, sim.due);
  }
  tally_ = t;
  tally_version_ = version_;
  return tally_;
}

int SimulatedProvider::Serving() const {
  int n = 0;
  for (const auto& [name, sim] : servers_) n += sim.server.Serving();
  return n;
}

Status SimulatedProvider::TakeInjected(std::string_view kind) {
  if (failures_.empty()) return Status::Ok();
  auto it = failures_.find(kind);
  if (it == failures_.end() || it->second.count <= 0) return Status::Ok();
  --it->second.count;
  return it->second.status;
}

Result<PoolState> SimulatedProvider::Observe() {
  if (!failures_.empty()) {
    if (Status st = TakeInjected("observe"); !st.ok()) return st;
  }
  return State();
}

const PoolState& SimulatedProvider::State() {
  const TimeMs now = clock_->Now();
  AdvanceTo(now);
  state_.observed_at = now;
  if (state_version_ != version_ + 1) {  // rebuilt only after a server changed (most ticks change none)
    state_.pool = pool_;
    state_.servers.resize(servers_.size());
    size_t i = 0;
    for (const auto& [name, sim] : servers_) state_.servers[i++] = sim.server;  // reuses string storage
    state_version_ = version_ + 1;
    state_.servers_version = state_version_;
  }
  return state_;
}

Status SimulatedProvider::Act(const std::string& kind, const std::string& name, TimeMs now) {
  if (Status st = TakeInjected(kind); !st.ok()) return st;
  auto it = servers_.find(name);
  if (kind == "provision") {
    if (it != servers_.end() && it->second.server.state != ServerState::kCold) {
      return Status::FailedPrecondition("server " + name + " already exists (" +
                                        StateName(it->second.server.state) + ")");
    }
    Sim& sim = servers_[name] =
        Sim{Server{name, "sim:" + name, ServerState::kProvisioning, Health::kUnknown, now}};
    SetDue(&sim, now + spec_.provisioning_delay);
    AdvanceTo(now);  // a zero delay completes at once
    return Status::Ok();
  }
  if (it == servers_.end()) return Status::NotFound("no server " + name + " in pool " + pool_);
  Sim& sim = it->second;
  Server& s = sim.server;
  if (kind == "promote") {
    if (s.state == ServerState::kActive) return Status::Ok();  // idempotent
    if (s.state != ServerState::kStandby) {
      return Status::FailedPrecondition("cannot promote " + name + ": it is " + StateName(s.state));
    }
    if (s.health == Health::kUnhealthy) {
      return Status::FailedPrecondition("cannot promote " + name + ": it is unhealthy");
    }
    s.state = ServerState::kActive;
    s.health = Health::kUnknown;
    s.since = now;
    SetDue(&sim, now + spec_.promotion_delay);
  } else if (kind == "drain") {
    if (s.state == ServerState::kDraining) return Status::Ok();
    if (s.state != ServerState::kActive) {
      return Status::FailedPrecondition("cannot drain " + name + ": it is " + StateName(s.state));
    }
    s.state = ServerState::kDraining;
    s.since = now;
    SetDue(&sim, now + spec_.drain_delay);
  } else if (kind == "suspend") {
    if (s.state == ServerState::kStopped) return Status::Ok();
    if (s.state != ServerState::kStandby) {
      return Status::FailedPrecondition("cannot suspend " + name + ": it is " + StateName(s.state));
    }
    s.state = ServerState::kStopped;  // at once: it stops serving nothing, and is not promotable
    s.health = Health::kUnknown;
    s.since = now;
    SetDue(&sim, kNever);
  } else if (kind == "resume") {
    if (s.state == ServerState::kProvisioning || s.state == ServerState::kStandby) return Status::Ok();
    if (s.state != ServerState::kStopped) {
      return Status::FailedPrecondition("cannot resume " + name + ": it is " + StateName(s.state));
    }
    // Resuming is provisioning with the resume delay: on its way to a ready standby, priced as running.
    s.state = ServerState::kProvisioning;
    s.health = Health::kUnknown;
    s.since = now;
    SetDue(&sim, now + spec_.resume_delay);
  } else if (kind == "retire") {
    if (s.state == ServerState::kActive) {
      return Status::FailedPrecondition("cannot retire " + name + ": it is active (drain it first)");
    }
    servers_.erase(it);
    ++version_;
    return Status::Ok();
  } else {
    return Status::InvalidArgument("unknown action " + kind);
  }
  AdvanceTo(now);
  return Status::Ok();
}

ApplyResult SimulatedProvider::Apply(const ScalePlan& plan) {
  ApplyResult result;
  const TimeMs now = clock_->Now();
  AdvanceTo(now);
  auto run = [&](const char* kind, const std::vector<std::string>& names) {
    for (const std::string& name : names) {
      Status st = Act(kind, name, now);
      if (st.ok()) ++mutations_;
      result.actions.push_back({kind, name, std::move(st)});
    }
  };
  // Capacity first: promotions, resumptions and provisioning before drains, suspensions and retirements.
  run("promote", plan.promote);
  run("resume", plan.resume);
  run("provision", plan.provision);
  run("drain", plan.drain);
  run("suspend", plan.suspend);
  run("retire", plan.retire);
  return result;
}

void SimulatedProvider::InjectFailure(const std::string& kind, int count, Status status) {
  failures_[kind] = Injected{count, std::move(status)};
}

bool SimulatedProvider::SetHealth(const std::string& name, Health health) {
  auto it = servers_.find(name);
  if (it == servers_.end()) return false;
  it->second.server.health = health;
  ++version_;
  return true;
}

bool ReadSimulatedSpec(const Params& params, SimulatedSpec* spec, std::vector<std::string>* errors) {
  ParamReader r(params);
  spec->capacity_per_server = r.Number("capacity_per_server", spec->capacity_per_server, 1e-9, 1e12);
  spec->promotion_delay = r.Duration("promotion_delay", spec->promotion_delay);
  spec->provisioning_delay = r.Duration("provisioning_delay", spec->provisioning_delay);
  spec->drain_delay = r.Duration("drain_delay", spec->drain_delay);
  spec->resume_delay = r.Duration("resume_delay", spec->resume_delay);
  spec->cost.active = r.Number("cost.active", spec->cost.active, 0, 1e9);
  spec->cost.standby = r.Number("cost.standby", spec->cost.standby, 0, 1e9);
  spec->cost.stopped = r.Number("cost.stopped", spec->cost.stopped, 0, 1e9);
  // The oracle's gap costs are a lower bound only with these prices in this order (docs/backtest.md).
  if (spec->cost.standby > spec->cost.active) {
    r.Error("cost.standby", "must be <= cost.active (" + FormatNumber(spec->cost.active) + "), got " +
                                FormatNumber(spec->cost.standby));
  } else if (spec->cost.stopped > spec->cost.standby) {
    r.Error("cost.stopped", "must be <= cost.standby (" + FormatNumber(spec->cost.standby) + "), got " +
                                FormatNumber(spec->cost.stopped));
  }
  spec->initial_active = r.Int("initial_active", spec->initial_active, 0, 100000);
  spec->initial_standby = r.Int("initial_standby", spec->initial_standby, 0, 100000);
  return r.FinishInto(errors);
}

std::unique_ptr<Provider> NewSimulatedProvider(const std::string& pool, const Params& params,
                                               const Clock* clock, std::vector<std::string>* errors) {
  SimulatedSpec spec;
  if (!ReadSimulatedSpec(params, &spec, errors)) return nullptr;
  return std::make_unique<SimulatedProvider>(pool, spec, clock);
}

}  // namespace warmpool
