#include "policies/planner.h"

#include <algorithm>
#include <string>
#include <vector>

namespace warmpool {
namespace {

// The numbers n for which "<pool>-<n>" is taken (by a server of the pool, or an earlier new name),
// with n written as std::to_string writes it; filled only when a new name is needed.
struct TakenNames {
  bool filled = false;
  std::vector<size_t> used;  // ascending
};

// The first "<pool>-<n>" (n = 1, 2, ...) not taken.
std::string NewServerName(const PoolState& pool, TakenNames* taken) {
  std::vector<size_t>& used = taken->used;
  if (!taken->filled) {
    taken->filled = true;
    const size_t prefix = pool.pool.size() + 1;
    for (const Server& s : pool.servers) {
      // "<pool>-" then 1 to 9 digits without a leading zero: a name some n would spell.
      const std::string& name = s.name;
      if (name.size() <= prefix || name.size() > prefix + 9 || name[prefix - 1] != '-' ||
          name.compare(0, prefix - 1, pool.pool) != 0 || name[prefix] == '0') {
        continue;
      }
      size_t n = 0;
      bool digits = true;
      for (size_t i = prefix; i < name.size() && digits; ++i) {
        digits = name[i] >= '0' && name[i] <= '9';
        n = n * 10 + static_cast<size_t>(name[i] - '0');
      }
      if (digits) used.push_back(n);
    }
    std::sort(used.begin(), used.end());
    used.erase(std::unique(used.begin(), used.end()), used.end());
  }
  size_t n = 1;
  auto it = std::lower_bound(used.begin(), used.end(), n);
  while (it != used.end() && *it == n) ++it, ++n;
  used.insert(it, n);
  return pool.pool + "-" + std::to_string(n);
}

void AddReason(ScalePlan* plan, const std::string& why) {
  plan->reason += (plan->reason.empty() ? "" : "; ") + why;
}

// Whether the plan is empty, from counts alone (most ticks): the full planner below would find
// nothing to promote, drain, retire or provision. Keep in step with it.
bool NothingToDo(const PoolSpec& spec, const ServerCounts& n, int desired, int warm_target,
                 int stopped_target) {
  if (n.unhealthy_standby) return false;  // to retire
  if (desired != n.active) return false;
  const int ready = n.standby, warm = n.standby + n.provisioning + n.draining, target = warm_target;
  if (n.stopped > 0 && warm < target) return false;  // to resume
  const int surplus = std::max(0, std::min(warm - target, ready - target));
  const int stopped_short = std::max(0, stopped_target - n.stopped);
  if (std::min(surplus, stopped_short) > 0) return false;  // to suspend
  const int pending = std::max(0, warm - target) - surplus;
  if (stopped_short > pending) return false;  // to provision for the stopped tier
  const int over_total = n.total - spec.MaxTotal();
  if (std::min(n.stopped, std::max(n.stopped - stopped_target, over_total)) > 0) return false;  // to retire
  const int n_retire = std::min(ready, std::max(surplus, over_total));
  return n_retire == 0 && warm >= target;
}

}  // namespace

ServerCounts CountServers(const PoolState& pool) {
  ServerCounts n;
  for (const Server& s : pool.servers) {
    switch (s.state) {
      case ServerState::kActive: ++n.active; break;
      case ServerState::kStandby:
        ++n.standby;
        n.unhealthy_standby |= s.health == Health::kUnhealthy;
        break;
      case ServerState::kProvisioning: ++n.provisioning; break;
      case ServerState::kDraining: ++n.draining; break;
      case ServerState::kStopped: ++n.stopped; break;
      default: break;
    }
    n.total += s.state != ServerState::kCold && s.state != ServerState::kRetired;
  }
  return n;
}

namespace {

ScalePlan PlanInFull(const PoolSpec& spec, const PoolState& pool, int desired, int warm_standby,
                     int stopped_standby, bool explain, const std::set<std::string>* replacing,
                     const std::set<std::string>* protect) {
  ScalePlan plan;
  std::vector<const Server*> active, standby, unhealthy_standby, cold, replaced, replaced_serving, stopped;
  active.reserve(pool.servers.size());  // one allocation, not one per doubling
  standby.reserve(pool.servers.size());
  int provisioning = 0, draining = 0;
  TakenNames taken;  // filled only when a new name is needed
  for (const Server& s : pool.servers) {
    if (replacing != nullptr && replacing->count(s.name) != 0) {
      // Being replaced: out of the counts. Active and not serving: drained now; active and serving:
      // drained once enough others serve (below); standby: retired; draining: it will not come back
      // as a warm standby.
      if (s.state == ServerState::kActive) (s.Serving() ? replaced_serving.push_back(&s) : plan.drain.push_back(s.name));
      if (s.state == ServerState::kStandby) replaced.push_back(&s);
      if (s.state == ServerState::kActive || s.state == ServerState::kStandby || s.state == ServerState::kDraining) {
        continue;
      }
    }
    switch (s.state) {
      case ServerState::kActive: active.push_back(&s); break;
      case ServerState::kStandby:
        (s.health == Health::kUnhealthy ? unhealthy_standby : standby).push_back(&s);
        break;
      case ServerState::kProvisioning: ++provisioning; break;
      case ServerState::kDraining: ++draining; break;
      case ServerState::kCold: cold.push_back(&s); break;
      case ServerState::kStopped: stopped.push_back(&s); break;
      default: break;
    }
  }
  // Promotion order: healthy before unknown, then longest warm, then name (deterministic).
  std::sort(standby.begin(), standby.end(), [](const Server* a, const Server* b) {
    bool ha = a->health == Health::kHealthy, hb = b->health == Health::kHealthy;
    if (ha != hb) return ha;
    if (a->since != b->since) return a->since < b->since;
    return a->name < b->name;
  });
  // Drain order: unhealthy first, then most recently promoted.
  std::sort(active.begin(), active.end(), [](const Server* a, const Server* b) {
    bool ua = a->health == Health::kUnhealthy, ub = b->health == Health::kUnhealthy;
    if (ua != ub) return ua;
    if (a->since != b->since) return a->since > b->since;
    return a->name > b->name;
  });
  std::sort(cold.begin(), cold.end(), [](const Server* a, const Server* b) { return a->name < b->name; });
  // Resume order: the longest stopped first (retired from the other end).
  std::sort(stopped.begin(), stopped.end(), [](const Server* a, const Server* b) {
    if (a->since != b->since) return a->since < b->since;
    return a->name < b->name;
  });

  if (!plan.drain.empty() && explain) {
    AddReason(&plan, "drain " + std::to_string(plan.drain.size()) + " being replaced");
  }
  for (const Server* s : replaced) plan.retire.push_back(s->name);
  if (!replaced.empty() && explain) AddReason(&plan, "retire " + std::to_string(replaced.size()) + " replaced");
  // A serving server being replaced leaves once the others serving are as many as wanted (its
  // replacement is in rotation and healthy): a replacement never lowers the serving count below it.
  if (!replaced_serving.empty()) {
    int serving = 0;
    for (const Server* s : active) serving += s->Serving();
    if (serving >= desired) {
      for (const Server* s : replaced_serving) plan.drain.push_back(s->name);
      if (explain) AddReason(&plan, "drain " + std::to_string(replaced_serving.size()) + " replaced, " +
                                        std::to_string(serving) + " others serving");
    } else if (explain) {
      AddReason(&plan, "keep " + std::to_string(replaced_serving.size()) + " being replaced serving until " +
                           std::to_string(desired) + " others serve (" + std::to_string(serving) + " now)");
    }
  }
  const size_t replaced_drains = plan.drain.size();

  const int n_active = static_cast<int>(active.size());
  int shortfall = 0;  // actives wanted that no standby can supply yet
  size_t next_standby = 0;
  if (desired > n_active) {
    int need = desired - n_active;
    while (need > 0 && next_standby < standby.size()) {
      plan.promote.push_back(standby[next_standby++]->name);
      --need;
    }
    shortfall = need;
    if (explain)
      AddReason(&plan, "promote " + std::to_string(plan.promote.size()) + " of " +
                           std::to_string(desired - n_active) + " wanted");
    if (shortfall > 0 && explain)
      AddReason(&plan, std::to_string(shortfall) + " short: no healthy standby left");
  } else if (desired < n_active) {
    // Never a protected server: fewer are drained when only protected ones are left to drain.
    int drained = 0;
    for (const Server* s : active) {
      if (drained == n_active - desired) break;
      if (protect != nullptr && protect->count(s->name) != 0) {
        continue;
      }
      plan.drain.push_back(s->name);
      ++drained;
    }
    if (explain) {
      AddReason(&plan, "drain " + std::to_string(drained));
      if (drained < n_active - desired)
        AddReason(&plan, std::to_string(n_active - desired - drained) + " more not drained: protected");
    }
  }

  for (const Server* s : unhealthy_standby) plan.retire.push_back(s->name);
  if (!unhealthy_standby.empty()) {
    if (explain)
      AddReason(&plan, "retire " + std::to_string(unhealthy_standby.size()) + " unhealthy standby");
  }

  // The warm pool after this plan: the ready standbys not promoted, and the servers on their way to
  // standby (provisioning, draining, or drained by this plan).
  const int warm_target = warm_standby + shortfall;
  std::vector<const Server*> ready(standby.begin() + static_cast<long>(next_standby), standby.end());
  const int n_ready = static_cast<int>(ready.size());
  const int incoming = provisioning + draining + static_cast<int>(plan.drain.size() - replaced_drains);
  int warm = n_ready + incoming;
  // The replaced servers leave the total as they go: those still active or draining count until then.
  int total = pool.Total() - static_cast<int>(plan.retire.size());

  // Resume stopped standbys for what the running tier lacks (a shortfall first): ready after the
  // resume delay, sooner than a new server.
  int n_stopped = static_cast<int>(stopped.size());
  const int n_resume = std::min(n_stopped, std::max(0, warm_target - warm));
  for (int i = 0; i < n_resume; ++i) plan.resume.push_back(stopped[static_cast<size_t>(i)]->name);
  if (n_resume > 0 && explain) {
    AddReason(&plan,
              "resume " + std::to_string(n_resume) + " stopped standby (ready after the resume delay)");
  }
  warm += n_resume;
  n_stopped -= n_resume;

  // Ready standbys beyond the running target: into the stopped tier while it is short (the most
  // recently warmed first), else retired. Warm servers on their way beyond the target (provisioning,
  // draining) will be standbys to suspend: they count toward the stopped tier already.
  const int surplus = std::max(0, std::min(warm - warm_target, n_ready - warm_target));
  int stopped_short = std::max(0, stopped_standby - n_stopped);
  const int n_suspend = std::min(surplus, stopped_short);
  for (int i = 0; i < n_suspend; ++i)
    plan.suspend.push_back(ready[static_cast<size_t>(n_ready - 1 - i)]->name);
  if (n_suspend > 0 && explain) {
    AddReason(&plan, "suspend " + std::to_string(n_suspend) + " surplus standby to keep " +
                         std::to_string(stopped_standby) + " stopped");
  }
  stopped_short -= n_suspend;
  const int pending = std::max(0, warm - warm_target) - surplus;
  stopped_short = std::max(0, stopped_short - pending);
  const int n_ready_left = n_ready - n_suspend;
  warm -= n_suspend;

  // Stopped standbys beyond their target, and beyond max_total stopped before running ones: retired,
  // the most recently stopped first.
  int over_total = total - spec.MaxTotal();
  const int stopped_surplus = std::max(0, n_stopped - stopped_standby);
  const int n_retire_stopped = std::min(n_stopped, std::max(stopped_surplus, over_total));
  for (int i = 0; i < n_retire_stopped; ++i)
    plan.retire.push_back(stopped[stopped.size() - 1 - static_cast<size_t>(i)]->name);
  if (n_retire_stopped > 0 && explain) {
    AddReason(&plan,
              "retire " + std::to_string(n_retire_stopped) + " surplus stopped" +
                  (over_total > stopped_surplus ? " (over max_total " + std::to_string(spec.MaxTotal()) + ")"
                                                : ""));
  }
  total -= n_retire_stopped;
  over_total -= n_retire_stopped;

  // Retire surplus ready standbys, the most recently warmed first, but never below the warm target
  // on the strength of servers that are not ready yet; beyond max_total, retire regardless.
  const int surplus_left = surplus - n_suspend;
  const int n_retire = std::min(n_ready_left, std::max(surplus_left, over_total));
  for (int i = 0; i < n_retire; ++i)
    plan.retire.push_back(ready[static_cast<size_t>(n_ready_left - 1 - i)]->name);
  if (n_retire > 0) {
    if (explain)
      AddReason(&plan, "retire " + std::to_string(n_retire) + " surplus standby" +
                           (over_total >= n_retire && over_total > surplus_left
                                ? " (over max_total " + std::to_string(spec.MaxTotal()) + ")"
                                : ""));
  }
  warm -= n_retire;
  total -= n_retire;

  const int want_running = std::max(0, warm_target - warm);
  const int want_new = want_running + stopped_short;
  if (want_new > 0) {
    int room = std::max(0, spec.MaxTotal() - total);
    int n = std::min(want_new, room);
    for (int i = 0; i < n; ++i) {
      plan.provision.push_back(static_cast<size_t>(i) < cold.size() ? cold[static_cast<size_t>(i)]->name
                                                                    : NewServerName(pool, &taken));
    }
    if (explain)
      AddReason(&plan,
                "provision " + std::to_string(n) + " to keep " + std::to_string(warm_target) + " warm" +
                    (stopped_short > 0
                         ? " and " + std::to_string(stopped_standby) + " stopped (suspended once ready)"
                         : ""));
    if (n < want_new) {
      if (explain)
        AddReason(&plan, "max_total " + std::to_string(spec.MaxTotal()) + " reached, " +
                             std::to_string(want_new - n) + " not provisioned");
    }
  }
  if (plan.empty() && plan.reason.empty() && explain) plan.reason = "no change";
  return plan;
}

}  // namespace

ScalePlan Plan(const PoolSpec& spec, const PoolState& pool, int desired, const PlanOptions& options) {
  const int warm_standby = options.warm_target.value_or(spec.warm_standby);
  const int stopped_standby = options.stopped_target.value_or(spec.warm_stopped);
  const bool replacing = options.replacing != nullptr && !options.replacing->empty();
  const bool protect = options.protect != nullptr && !options.protect->empty();
  if (options.shortcut && !replacing) {
    const ServerCounts counts = options.counts != nullptr ? *options.counts : CountServers(pool);
    if (NothingToDo(spec, counts, desired, warm_standby, stopped_standby)) {
      ScalePlan plan;
      if (options.explain) plan.reason = "no change";
      return plan;
    }
  }
  return PlanInFull(spec, pool, desired, warm_standby, stopped_standby, options.explain,
                    replacing ? options.replacing : nullptr, protect ? options.protect : nullptr);
}

}  // namespace warmpool
