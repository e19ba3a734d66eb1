// App in cluster mode (App::Services::membership, runtime/membership.h): which pools this member acts
// on, taking a pool over and letting it go, and the pools' documents kept in the cluster.
#include <algorithm>

#include "controller/log/log.h"
#include "controller/runtime/app.h"
#include "controller/state/codec.h"
#include "warmpool/text.h"

namespace warmpool {
namespace {

constexpr const char* kState = "state";
constexpr const char* kControls = "controls";
constexpr const char* kLearned = "learned";

// The controls document of one pool: the state document with only its controls, saved_at 0 so that
// the same controls always read the same.
std::string ControlsText(const std::string& pool, const PoolControls& controls) {
  PersistedState doc;
  doc.controls[pool] = controls;
  return EncodeState(doc);
}

}  // namespace

void App::SetFences() {
  Membership* m = services_.membership;
  if (m == nullptr) return;
  if (services_.control_plane && !services_.control_plane->fence_now) {
    const Clock* clock = clock_;
    services_.control_plane->fence_now = [m, clock] { return m->MayApply(clock->Now()); };
  }
  for (Pool& pool : pools_) {
    pool.controller->SetFence([m](TimeMs now) { return m->MayApply(now) ? std::string() : m->FenceReason(now); });
  }
}

void App::ClusterEvent(const std::string& pool, TimeMs now, const std::string& reason, const std::string& result) {
  Log(LogLevel::kWarn, "hand-over", {{"pool", pool}, {"member", services_.membership->Name()}, {"reason", reason}});
  if (!services_.control_plane) return;
  Event e;
  e.at = now;
  e.pool = pool;
  e.kind = "cluster";
  e.reason = reason;
  e.result = result;
  services_.control_plane->Record(std::move(e));
}

std::set<std::string> App::BalanceCluster(TimeMs now) {
  Membership* m = services_.membership;
  std::vector<std::string> names;
  for (Pool& pool : pools_) names.push_back(pool.controller->spec().name);
  const std::set<std::string> owned = m->Balance(names, now);
  std::set<std::string> before;
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    before = owned_;
  }
  for (const std::string& name : before) {
    if (owned.count(name) == 0) {
      const bool known = std::find(names.begin(), names.end(), name) != names.end();
      LetGo(name, now, !known ? "the pool left the config" : m->MayApply(now) ? "the pools were balanced again"
                                                                               : m->FenceReason(now));
    }
  }
  std::set<std::string> acting;
  for (Pool& pool : pools_) {
    const std::string& name = pool.controller->spec().name;
    if (owned.count(name) == 0) continue;
    if (before.count(name) != 0 || TakeOver(pool, now)) acting.insert(name);
  }
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    owned_ = acting;
  }
  RefreshControls();
  const Membership::View v = m->Describe();
  if (services_.control_plane) {
    ClusterStatus c;
    c.enabled = true;
    c.member = v.member;
    c.joined = v.joined;
    c.may_apply = v.may_apply;
    c.lease_age = v.lease_age;
    c.lease_ttl = v.lease_ttl;
    c.members = v.members;
    c.owners = v.owners;
    c.endpoint = v.endpoint;
    c.renewal_failures = v.renewal_failures;
    c.error = v.error;
    c.at = now;
    services_.control_plane->SetCluster(std::move(c));
  }
  if (services_.metrics) {
    services_.metrics->ClusterObserved(static_cast<int>(v.members.size()), v.renewal_failures);
    for (const std::string& name : names) services_.metrics->SetOwned(name, acting.count(name) != 0);
  }
  return acting;
}

bool App::TakeOver(Pool& pool, TimeMs now) {
  Membership* m = services_.membership;
  const std::string& name = pool.controller->spec().name;
  Result<Membership::Document> doc = m->Load(name, kState);
  if (!doc.ok()) {
    Log(LogLevel::kError, "cannot take the pool over yet: its state could not be read",
        {{"pool", name}, {"error", doc.status().message()}});
    return false;
  }
  std::string restored = "no state saved yet";
  std::optional<PersistedState> state;
  if (!doc->text.empty()) {
    Result<PersistedState> decoded = DecodeState(doc->text);
    if (decoded.ok()) {
      state = std::move(decoded).value();
      restored = "its state saved at " + FormatTime(state->saved_at) + " restored";
    } else {
      // Overwritten by this member's first save: the revision is known, so no one else's write is lost.
      Log(LogLevel::kError, "the pool's state in the cluster cannot be read, starting it fresh",
          {{"pool", name}, {"error", decoded.status().message()}});
      restored = "its saved state unreadable, started fresh";
    }
  }
  std::lock_guard<std::mutex> lock(state_mu_);
  state_revision_[name] = doc->revision;
  if (state) {
    if (auto b = state->behavior.find(name); b != state->behavior.end()) {
      pool.controller->decider().set_behavior_history(b->second);
    }
    if (auto p = state->providers.find(name); p != state->providers.end()) pool.provider->Restore(p->second);
    if (auto a = state->applying.find(name); a != state->applying.end() && !pool.controller->dry_run()) {
      Log(LogLevel::kWarn, "the last owner died applying a plan: taking it over",
          {{"pool", name}, {"plan", a->second.plan.Summary()}, {"at", FormatTime(a->second.at)}});
      pool.provider->Interrupted(a->second.plan, a->second.at);
      restored += ", its interrupted plan taken over";
    }
  }
  // What the pool learned (warm_standby: auto's seasons, predictive policies' histories), saved once a
  // minute by its owner.
  if (Result<Membership::Document> learned = m->Load(name, kLearned); !learned.ok()) {
    Log(LogLevel::kWarn, "the pool's learned state could not be read, learning afresh",
        {{"pool", name}, {"error", learned.status().message()}});
  } else {
    learned_revision_[name] = learned->revision;
    if (!learned->text.empty()) {
      if (Result<LearnedState> decoded = DecodeLearned(learned->text); decoded.ok()) {
        RestoreLearnedPool(pool, *decoded);
      } else {
        Log(LogLevel::kError, "the pool's learned state in the cluster cannot be read, learning afresh",
            {{"pool", name}, {"error", decoded.status().message()}});
      }
    }
  }
  saved_behavior_[name] = pool.controller->decider().behavior_history();
  ProviderMemory memory = pool.provider->Memory();
  if (memory.empty()) {
    saved_memory_.erase(name);
  } else {
    saved_memory_[name] = std::move(memory);
  }
  applying_.erase(name);
  ClusterEvent(name, now, "hand-over: " + m->Name() + " acts on pool " + name + " now (" + restored + ")", "owned");
  if (services_.metrics) services_.metrics->HandOver(name, true);
  return true;
}

void App::LetGo(const std::string& pool, TimeMs now, const std::string& why) {
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    state_revision_.erase(pool);
    learned_revision_.erase(pool);
    saved_behavior_.erase(pool);
    saved_memory_.erase(pool);
    applying_.erase(pool);
  }
  ClusterEvent(pool, now, "hand-over: " + services_.membership->Name() + " let pool " + pool + " go: " + why,
               "released");
  if (services_.metrics) services_.metrics->HandOver(pool, false);
}

void App::RefreshControls() {
  ControlPlane* cp = services_.control_plane;
  if (cp == nullptr) return;
  Result<std::map<std::string, Membership::Document>> all = services_.membership->LoadAll(kControls);
  if (!all.ok()) {
    Log(LogLevel::kWarn, "operators' controls not read from the cluster", {{"error", all.status().message()}});
    return;
  }
  std::lock_guard<std::mutex> lock(state_mu_);
  for (Pool& pool : pools_) {
    const std::string& name = pool.controller->spec().name;
    auto it = all->find(name);
    const Membership::Document doc = it == all->end() ? Membership::Document{} : it->second;
    auto known = controls_revision_.find(name);
    if (known != controls_revision_.end() && known->second == doc.revision) continue;
    PoolControls controls;
    if (!doc.text.empty()) {
      Result<PersistedState> decoded = DecodeState(doc.text);
      if (!decoded.ok()) {
        Log(LogLevel::kError, "a pool's controls in the cluster cannot be read, kept as they were",
            {{"pool", name}, {"error", decoded.status().message()}});
        continue;
      }
      if (auto c = decoded->controls.find(name); c != decoded->controls.end()) controls = c->second;
    }
    controls_revision_[name] = doc.revision;
    controls_text_[name] = ControlsText(name, controls);
    cp->SetPoolControls(name, std::move(controls));
  }
}

Status App::SaveCluster() {
  Membership* m = services_.membership;
  ControlPlane* cp = services_.control_plane;
  Status result;
  // An operator's change made on this member: every pool whose controls differ from what the cluster
  // holds, each saved only over the revision this member last read (another member's change is never
  // overwritten: this one is refused, and read back on the next tick).
  if (cp) {
    for (const auto& [name, controls] : cp->AllControls()) {
      const std::string text = ControlsText(name, controls);
      if (auto t = controls_text_.find(name); t != controls_text_.end() && t->second == text) continue;
      Result<int64_t> revision = m->Save(name, kControls, text, controls_revision_[name]);
      if (!revision.ok()) {
        result = Status::Unavailable("pool " + name + "'s controls: " + revision.status().message());
        continue;
      }
      controls_revision_[name] = *revision;
      controls_text_[name] = text;
    }
  }
  // What each owned pool's decider and provider keep, over the revision this member wrote last: a
  // write that fails because another member wrote meanwhile means the pool is no longer this one's.
  for (const std::string& name : owned_) {
    PersistedState doc;
    if (auto b = saved_behavior_.find(name); b != saved_behavior_.end()) doc.behavior[name] = b->second;
    if (auto p = saved_memory_.find(name); p != saved_memory_.end()) doc.providers[name] = p->second;
    if (auto a = applying_.find(name); a != applying_.end()) doc.applying[name] = a->second;
    doc.saved_at = clock_->Now();
    Result<int64_t> revision = m->Save(name, kState, EncodeState(doc), state_revision_[name]);
    if (!revision.ok()) {
      result = Status::Unavailable("pool " + name + "'s state: " + revision.status().message());
      continue;
    }
    state_revision_[name] = *revision;
  }
  if (!result.ok()) Log(LogLevel::kError, "state not saved", {{"error", result.message()}});
  if (cp) cp->SetStoreError(result.ok() ? "" : result.message());
  if (services_.metrics) services_.metrics->StateSaved(result.ok());
  return result;
}

void App::SaveLearnedCluster(TimeMs now) {
  Membership* m = services_.membership;
  std::lock_guard<std::mutex> lock(state_mu_);
  for (Pool& pool : pools_) {
    const std::string& name = pool.controller->spec().name;
    if (owned_.count(name) == 0) continue;
    LearnedState state;
    state.saved_at = now;
    if (auto r = pool.controller->decider().SeasonalRecord()) state.seasonal[name] = std::move(*r);
    if (auto h = pool.controller->decider().PolicyHistories(); !h.empty()) state.histories[name] = std::move(h);
    if (state.seasonal.empty() && state.histories.empty()) continue;
    Result<int64_t> revision = m->Save(name, kLearned, EncodeLearned(state), learned_revision_[name]);
    if (!revision.ok()) {
      Log(LogLevel::kError, "learned state not saved", {{"pool", name}, {"error", revision.status().message()}});
      continue;
    }
    learned_revision_[name] = *revision;
  }
}

void App::PublishElsewhere(const std::string& pool, TimeMs now) {
  ControlPlane* cp = services_.control_plane;
  if (cp == nullptr) return;
  PoolStatus s;
  s.pool = pool;
  s.at = 0;
  s.elsewhere = true;
  s.observe_error = "acted on by another cluster member (GET /api/v1/cluster)";
  (void)now;
  for (Pool& p : pools_) {
    if (p.controller->spec().name != pool) continue;
    const PoolSpec& spec = p.controller->spec();
    s.min_active = spec.min_active;
    s.max_active = spec.max_active;
    s.warm_standby = spec.warm_standby;
    s.warm_stopped = spec.warm_stopped;
    s.max_total = spec.MaxTotal();
  }
  cp->Publish(std::move(s));
}

}  // namespace warmpool
