// ControlPlane: what the control loop and the REST API share, behind one mutex. The loop publishes a
// status per pool after every tick and reads each pool's controls before it; the API reads statuses
// and events and sets controls. Thread-safe.
#ifndef WARMPOOL_CONTROLLER_API_CONTROL_PLANE_H_
#define WARMPOOL_CONTROLLER_API_CONTROL_PLANE_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "warmpool/controls.h"
#include "warmpool/status.h"
#include "warmpool/decision.h"
#include "warmpool/pool_spec.h"
#include "warmpool/provider.h"
#include "warmpool/server.h"

namespace warmpool {

// One pool as of its last tick.
struct PoolStatus {
  std::string pool;
  TimeMs at = 0;              // 0: not ticked yet
  bool observed = false;      // the last tick observed the provider
  std::string observe_error;  // why not, when !observed
  bool dry_run = false;
  int min_active = 0, max_active = 0, warm_standby = 0, max_total = 0;
  int warm_stopped = 0;  // the stopped tier's target (this tick's, when auto-sized)
  PoolState state;
  Decision decision;  // with the policies' recommendations
  ScalePlan plan;
  ApplyResult applied;
  std::vector<std::string> metric_errors;
  // Cluster mode (GlobalSpec::cluster): the member acting on the pool ("" in a single process), and
  // whether that is another member (this one then only shows the pool and takes operators' changes).
  std::string owner;
  bool elsewhere = false;
};

// Cluster mode: the cluster as this member sees it (GET /api/v1/cluster).
struct ClusterStatus {
  bool enabled = false;
  std::string member;
  bool joined = false;
  bool may_apply = false;
  DurationMs lease_age = 0, lease_ttl = 0;
  std::vector<std::string> members;
  std::map<std::string, std::string> owners;  // pool -> member
  std::string endpoint;
  uint64_t renewal_failures = 0;
  std::string error;
  TimeMs at = 0;
};

// One entry of the decision and action log.
struct Event {
  uint64_t seq = 0;  // increasing, assigned by Record
  TimeMs at = 0;
  std::string pool;
  std::string kind;  // "decision", "override", "pause", "reload"
  int from = 0, to = 0;
  std::string direction;  // "up", "down", "none"
  std::string policy;
  std::string reason;
  std::string plan;    // ScalePlan::Summary()
  std::string result;  // ApplyResult::Summary(), or what the API call did
};

class ControlPlane {
 public:
  explicit ControlPlane(size_t max_events = 10000) : max_events_(max_events) {}

  // The pools of the running config (the API answers 404 for others). Keeps their controls.
  void SetPools(const std::vector<PoolSpec>& pools);
  std::vector<std::string> Pools() const;
  bool HasPool(const std::string& pool) const;

  // --- controls ---
  // The pool's controls at `now`. An expired override is dropped here, with an "override" event.
  PoolControls Controls(const std::string& pool, TimeMs now);
  std::map<std::string, PoolControls> AllControls() const;
  void RestoreControls(std::map<std::string, PoolControls> controls);  // from the state store
  // One pool's controls as another cluster member saved them (no event: that member recorded it).
  void SetPoolControls(const std::string& pool, PoolControls controls);
  // Each changes the pool's controls, calls on_change to persist them, and records an event. An
  // operator's change is acknowledged only once durable: when on_change fails, the change is taken
  // back and kUnavailable says why. kNotFound for an unknown pool (or, to clear, no override).
  warmpool::Status SetOverride(const std::string& pool, Override o);
  warmpool::Status ClearOverride(const std::string& pool, const std::string& by, TimeMs now);
  warmpool::Status SetPause(const std::string& pool, Pause p);
  // An operator's hand on overload protection (nullopt: back to automatic); kNotFound to clear none.
  warmpool::Status SetShed(const std::string& pool, ShedControl s);
  warmpool::Status ClearShed(const std::string& pool, const std::string& by, TimeMs now);

  // One server: protected (never drained or replaced) until it expires or is cleared; and an
  // operator's replacement, kept until the server is gone. kNotFound: unknown pool, or (to clear) no
  // protection.
  warmpool::Status SetProtect(const std::string& pool, const std::string& server, Protection p);
  warmpool::Status ClearProtect(const std::string& pool, const std::string& server, const std::string& by, TimeMs now);
  warmpool::Status RequestReplace(const std::string& pool, const std::string& server, ReplaceRequest r);

  // Cluster mode: published by the app after every tick. Cluster() reads may_apply live from
  // `fence_now` when set (a tick stuck on an unreachable etcd must not show a stale fence).
  void SetCluster(ClusterStatus cluster);
  ClusterStatus Cluster() const;
  std::function<bool()> fence_now;

  // What the state store last said: "" when its last save succeeded. /-/ready is 503 while it fails.
  void SetStoreError(std::string error);
  std::string StoreError() const;

  // --- status ---
  // Also ends the replacements asked for by hand whose server this tick observed gone (retired, cold,
  // or no longer in the pool), with an event, and persists that.
  void Publish(PoolStatus status);
  std::optional<PoolStatus> Status(const std::string& pool) const;
  std::vector<PoolStatus> Statuses() const;  // in config order
  // True once every pool's latest tick observed its provider at least once since start (a pool another
  // cluster member acts on counts as observed).
  bool Ready() const;

  // --- events ---
  void Record(Event e);    // bounded: the oldest go first
  void Announce(Event e);  // Record, then on_change
  // Newest last. `pool` empty = all; events with at >= since; at most `limit` (the newest ones).
  std::vector<Event> Events(const std::string& pool, TimeMs since, size_t limit) const;

  // Changes whenever anything the API shows changes (a status, controls, the pool list); readers
  // may cache what they render from the plane for as long as it stays the same.
  uint64_t Version() const;

  // --- hooks (set once before the API starts) ---
  std::function<void()> on_reload;  // POST /-/reload
  // Controls changed: persist them (called without the lock held, one change at a time).
  std::function<warmpool::Status()> on_change;

 private:
  mutable std::mutex mu_;
  size_t max_events_;
  uint64_t next_seq_ = 1;
  uint64_t version_ = 1;
  std::vector<std::string> pools_;
  std::map<std::string, PoolControls> controls_;
  std::string store_error_;
  ClusterStatus cluster_;
  std::mutex change_mu_;  // one operator's change (and its save) at a time
  warmpool::Status Change(const std::string& pool,
                          const std::function<warmpool::Status(PoolControls*, Event*)>& change);
  std::map<std::string, PoolStatus> status_;
  std::map<std::string, bool> ever_observed_;
  std::deque<Event> events_;
};

}  // namespace warmpool

#endif  // WARMPOOL_CONTROLLER_API_CONTROL_PLANE_H_
