#include "controller/api/control_plane.h"

#include <algorithm>

#include "warmpool/text.h"

namespace warmpool {

void ControlPlane::SetPools(const std::vector<PoolSpec>& pools) {
  std::lock_guard<std::mutex> lock(mu_);
  ++version_;
  pools_.clear();
  for (const PoolSpec& p : pools) pools_.push_back(p.name);
  // Forget the status of pools that are gone; keep controls only for pools that remain.
  std::erase_if(status_, [&](const auto& kv) { return !std::count(pools_.begin(), pools_.end(), kv.first); });
  std::erase_if(controls_,
                [&](const auto& kv) { return !std::count(pools_.begin(), pools_.end(), kv.first); });
}

std::vector<std::string> ControlPlane::Pools() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pools_;
}

bool ControlPlane::HasPool(const std::string& pool) const {
  std::lock_guard<std::mutex> lock(mu_);
  return std::count(pools_.begin(), pools_.end(), pool) > 0;
}

namespace {

Event Ended(TimeMs at, const std::string& pool, const char* kind, std::string reason) {
  Event e;
  e.at = at;
  e.pool = pool;
  e.kind = kind;
  e.reason = std::move(reason);
  e.result = "ended";
  return e;
}

}  // namespace

PoolControls ControlPlane::Controls(const std::string& pool, TimeMs now) {
  std::vector<Event> expired;
  PoolControls out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = controls_.find(pool);
    if (it == controls_.end()) return {};
    if (it->second.override && it->second.override->Expired(now)) {
      expired.push_back(Ended(now, pool, "override", "override expired: " + it->second.override->reason));
      it->second.override.reset();
    }
    for (auto p = it->second.protect.begin(); p != it->second.protect.end();) {
      if (!p->second.Expired(now)) {
        ++p;
        continue;
      }
      expired.push_back(Ended(now, pool, "protect", "protection of " + p->first + " expired: " + p->second.reason));
      p = it->second.protect.erase(p);
    }
    if (!expired.empty()) ++version_;
    out = it->second;
  }
  for (Event& e : expired) Record(std::move(e));
  if (!expired.empty() && on_change) on_change();
  return out;
}

std::map<std::string, PoolControls> ControlPlane::AllControls() const {
  std::lock_guard<std::mutex> lock(mu_);
  return controls_;
}

namespace {

// An operator's change, as the event log shows it.
Event ControlEvent(TimeMs at, const std::string& pool, const char* kind, std::string reason,
                   std::string result) {
  Event e;
  e.at = at;
  e.pool = pool;
  e.kind = kind;
  e.reason = std::move(reason);
  e.result = std::move(result);
  return e;
}

}  // namespace

void ControlPlane::Announce(Event e) {
  Record(std::move(e));
  if (on_change) on_change();  // a failure is the store's to report (SetStoreError)
}

void ControlPlane::RestoreControls(std::map<std::string, PoolControls> controls) {
  std::lock_guard<std::mutex> lock(mu_);
  controls_ = std::move(controls);
  ++version_;
}

void ControlPlane::SetPoolControls(const std::string& pool, PoolControls controls) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!std::count(pools_.begin(), pools_.end(), pool)) return;
  controls_[pool] = std::move(controls);
  ++version_;
}

warmpool::Status ControlPlane::Change(const std::string& pool,
                            const std::function<warmpool::Status(PoolControls*, Event*)>& change) {
  std::lock_guard<std::mutex> serial(change_mu_);
  PoolControls before;
  Event e;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!std::count(pools_.begin(), pools_.end(), pool)) return warmpool::Status::NotFound("unknown pool \"" + pool + "\"");
    PoolControls& controls = controls_[pool];
    before = controls;
    if (warmpool::Status st = change(&controls, &e); !st.ok()) return st;
    ++version_;
  }
  // Acknowledged only once durable: a change that cannot be saved is taken back, and the controls
  // that are saved stay in force.
  if (on_change) {
    if (warmpool::Status saved = on_change(); !saved.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      controls_[pool] = before;
      ++version_;
      return warmpool::Status::Unavailable("not saved, so not applied: " + saved.message());
    }
  }
  Record(std::move(e));
  return warmpool::Status::Ok();
}

warmpool::Status ControlPlane::SetOverride(const std::string& pool, Override o) {
  return Change(pool, [&](PoolControls* c, Event* e) {
    std::string what = o.active ? "active " + std::to_string(*o.active) : "";
    if (o.min_active)
      what += (what.empty() ? "" : ", ") + std::string("min_active ") + std::to_string(*o.min_active);
    if (o.max_active)
      what += (what.empty() ? "" : ", ") + std::string("max_active ") + std::to_string(*o.max_active);
    *e = ControlEvent(
        o.set_at, pool, "override", o.reason,
        "set " + what + " by " + o.set_by + (o.expires_at ? " until " + FormatTime(o.expires_at) : ""));
    c->override = std::move(o);
    return warmpool::Status::Ok();
  });
}

warmpool::Status ControlPlane::ClearOverride(const std::string& pool, const std::string& by, TimeMs now) {
  return Change(pool, [&](PoolControls* c, Event* e) {
    if (!c->override) return warmpool::Status::NotFound("pool \"" + pool + "\" has no override");
    *e = ControlEvent(now, pool, "override", c->override->reason, "deleted by " + by);
    c->override.reset();
    return warmpool::Status::Ok();
  });
}

warmpool::Status ControlPlane::SetPause(const std::string& pool, Pause p) {
  return Change(pool, [&](PoolControls* c, Event* e) {
    *e = ControlEvent(p.set_at, pool, "pause", p.reason,
                      std::string(p.scale_up ? "scale_up paused" : "scale_up running") + ", " +
                          (p.scale_down ? "scale_down paused" : "scale_down running") + " by " + p.set_by);
    c->pause = std::move(p);
    return warmpool::Status::Ok();
  });
}

warmpool::Status ControlPlane::SetShed(const std::string& pool, ShedControl s) {
  return Change(pool, [&](PoolControls* c, Event* e) {
    const std::string what = s.off ? "overload protection off"
                                   : "load limits set to " + FormatNumber(s.rate) + " req/s, " +
                                         FormatNumber(s.client) + " req/s per client";
    *e = ControlEvent(s.set_at, pool, "shed", s.reason, what + " by " + s.set_by);
    c->shed = std::move(s);
    return warmpool::Status::Ok();
  });
}

warmpool::Status ControlPlane::ClearShed(const std::string& pool, const std::string& by, TimeMs now) {
  return Change(pool, [&](PoolControls* c, Event* e) {
    if (!c->shed) return warmpool::Status::NotFound("pool \"" + pool + "\" has no shed control");
    *e = ControlEvent(now, pool, "shed", c->shed->reason, "back to automatic, by " + by);
    c->shed.reset();
    return warmpool::Status::Ok();
  });
}

warmpool::Status ControlPlane::SetProtect(const std::string& pool, const std::string& server, Protection p) {
  return Change(pool, [&](PoolControls* c, Event* e) {
    *e = ControlEvent(p.set_at, pool, "protect", p.reason,
                      server + " protected by " + p.set_by +
                          (p.expires_at ? " until " + FormatTime(p.expires_at) : " until deleted"));
    c->protect[server] = std::move(p);
    return warmpool::Status::Ok();
  });
}

warmpool::Status ControlPlane::ClearProtect(const std::string& pool, const std::string& server,
                                            const std::string& by, TimeMs now) {
  return Change(pool, [&](PoolControls* c, Event* e) {
    auto it = c->protect.find(server);
    if (it == c->protect.end()) {
      return warmpool::Status::NotFound("server \"" + server + "\" of pool \"" + pool + "\" is not protected");
    }
    *e = ControlEvent(now, pool, "protect", it->second.reason, "protection of " + server + " deleted by " + by);
    c->protect.erase(it);
    return warmpool::Status::Ok();
  });
}

warmpool::Status ControlPlane::RequestReplace(const std::string& pool, const std::string& server, ReplaceRequest r) {
  return Change(pool, [&](PoolControls* c, Event* e) {
    *e = ControlEvent(r.set_at, pool, "replace", r.reason, "replacement of " + server + " asked by " + r.set_by);
    c->replace[server] = std::move(r);
    return warmpool::Status::Ok();
  });
}

void ControlPlane::SetCluster(ClusterStatus cluster) {
  std::lock_guard<std::mutex> lock(mu_);
  cluster_ = std::move(cluster);
  ++version_;
}

ClusterStatus ControlPlane::Cluster() const {
  ClusterStatus c;
  {
    std::lock_guard<std::mutex> lock(mu_);
    c = cluster_;
  }
  if (c.enabled && fence_now) c.may_apply = fence_now();
  return c;
}

void ControlPlane::SetStoreError(std::string error) {
  std::lock_guard<std::mutex> lock(mu_);
  if (store_error_ != error) ++version_;
  store_error_ = std::move(error);
}

std::string ControlPlane::StoreError() const {
  std::lock_guard<std::mutex> lock(mu_);
  return store_error_;
}

void ControlPlane::Publish(PoolStatus status) {
  std::vector<Event> done;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (status.elsewhere) ever_observed_[status.pool] = true;  // not this member's to observe
    if (status.observed) {
      ever_observed_[status.pool] = true;
      if (auto it = controls_.find(status.pool); it != controls_.end()) {
        std::map<std::string, ReplaceRequest>& requests = it->second.replace;
        for (auto r = requests.begin(); r != requests.end();) {
          const Server* s = status.state.Find(r->first);
          if (s != nullptr && s->state != ServerState::kCold && s->state != ServerState::kRetired) {
            ++r;
            continue;
          }
          done.push_back(Ended(status.at, status.pool, "replace",
                               "replacement of " + r->first + " asked by " + r->second.set_by + " done: " +
                                   (s == nullptr ? "no longer in the pool" : StateName(s->state))));
          r = requests.erase(r);
        }
      }
    }
    status_[status.pool] = std::move(status);
    ++version_;
  }
  for (Event& e : done) Record(std::move(e));
  if (!done.empty() && on_change) on_change();
}

std::optional<PoolStatus> ControlPlane::Status(const std::string& pool) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = status_.find(pool);
  if (it == status_.end()) return std::nullopt;
  return it->second;
}

std::vector<PoolStatus> ControlPlane::Statuses() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<PoolStatus> out;
  for (const std::string& p : pools_) {
    auto it = status_.find(p);
    if (it != status_.end()) {
      out.push_back(it->second);
    } else {
      PoolStatus empty;
      empty.pool = p;
      out.push_back(std::move(empty));
    }
  }
  return out;
}

bool ControlPlane::Ready() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (pools_.empty()) return false;
  if (cluster_.enabled && !cluster_.joined) return false;  // a member is ready once it has joined
  for (const std::string& p : pools_) {
    auto it = ever_observed_.find(p);
    if (it == ever_observed_.end() || !it->second) return false;
  }
  return true;
}

uint64_t ControlPlane::Version() const {
  std::lock_guard<std::mutex> lock(mu_);
  return version_;
}

void ControlPlane::Record(Event e) {
  std::lock_guard<std::mutex> lock(mu_);
  e.seq = next_seq_++;
  events_.push_back(std::move(e));
  while (events_.size() > max_events_) events_.pop_front();
}

std::vector<Event> ControlPlane::Events(const std::string& pool, TimeMs since, size_t limit) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Event> out;
  for (auto it = events_.rbegin(); it != events_.rend() && out.size() < limit; ++it) {
    if (it->at < since) continue;
    if (!pool.empty() && it->pool != pool) continue;
    out.push_back(*it);
  }
  std::reverse(out.begin(), out.end());
  return out;
}

}  // namespace warmpool
