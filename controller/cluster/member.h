// One Warmpool replica's place in the cluster: its lease, its registration, the pools it owns, and
// the fencing rule that decides whether it may act on them right now.
//
// Keys (under EtcdConfig::prefix, "/warmpool" by default):
//   <prefix>/members/<name>  value: ClusterMemberOptions::info   bound to the member's lease
//   <prefix>/owners/<pool>   value: the owner's name              bound to the owner's lease
// A key bound to a lease disappears with it: a replica that dies or is cut off from etcd loses its
// registration and its pools one TTL after its last renewal, and another member can then own them.
//
// The life of a replica: Join() once (retry with backoff while it fails: etcd unreachable, or the
// name still held by this replica's previous life, for at most one TTL); Renew() every lease_ttl/3
// on a thread of its own; Members() and rendezvous.h's Assign() say which pools are its share;
// TryOwn() each of them until it succeeds, Release() a pool that is no longer its share after its
// last tick; MayApply(now) before every Apply; Leave() at shutdown.
//
// FENCING. HAProxy cannot refuse a stale owner's commands, so the owner must stop by itself. etcd
// expires a lease `ttl` after the keep-alive that last reached it; that keep-alive left this process
// after the moment Renew() recorded (the clock is read before the request is sent), so etcd's expiry
// is never earlier than last_renewal + ttl. MayApply(now) is true only while
//     now < last_renewal + ttl - margin        (margin: max(ttl/5, 1 s) by default)
// What it guarantees: a member that stops renewing -- cut off from etcd, etcd down, or frozen
// (SIGSTOP, a long GC-like stall) and then woken -- finds MayApply false at least `margin` before its
// lease can expire, and so before any other member can own its pools; after a lost lease it stays
// false until Join() succeeds again (a new lease, with no pools). At no instant do two members both
// hold an ownership key and both pass MayApply, provided the clocks run at the same rate to within
// margin/ttl (20% by default) over one TTL: a clock that only drifts cannot break it.
// The window that remains: MayApply is a check at one instant. An Apply that passed it and then runs
// (or is frozen) past the deadline keeps sending its commands: the caller must keep each Apply much
// shorter than the margin and check MayApply again before every command it can split off, and a
// process frozen between the check and a command can still send that command when it wakes, after a
// new owner has taken over (the new owner's next level-triggered Observe sees and corrects it).
// Also outside it: a lease revoked or an ownership key deleted by hand (etcdctl) takes effect in
// etcd at once, while this member learns it at its next Renew() or Owners(); and a wall clock that
// jumps. Use MonotonicClock() (steady, never jumps), not the system clock, for a ClusterMember.
#ifndef WARMPOOL_CONTROLLER_CLUSTER_MEMBER_H_
#define WARMPOOL_CONTROLLER_CLUSTER_MEMBER_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "controller/cluster/etcd.h"
#include "warmpool/clock.h"
#include "warmpool/status.h"
#include "warmpool/time.h"

namespace warmpool {

// The fencing rule as plain arithmetic (member.h's header comment says why it is safe).
// The default margin: ttl/5, at least one second.
DurationMs DefaultFencingMargin(DurationMs ttl);
// The instant from which a member whose last successful renewal started at `last_renewal` must not
// apply anything: last_renewal + ttl - margin.
TimeMs FenceDeadline(TimeMs last_renewal, DurationMs ttl, DurationMs margin);
// now < FenceDeadline(...).
bool WithinFence(TimeMs now, TimeMs last_renewal, DurationMs ttl, DurationMs margin);

// A steady clock (milliseconds since an arbitrary start, never jumps): the one to give a
// ClusterMember, whose deadlines are differences of its readings.
const Clock& MonotonicClock();

struct ClusterMemberOptions {
  std::string name;                     // this replica; non-empty, no '/', no control characters
  DurationMs lease_ttl = 10 * kSecond;  // at least 2 s; etcd may grant more (its minimum is about 2 s)
  DurationMs fencing_margin = 0;        // 0: DefaultFencingMargin(lease_ttl); must be below lease_ttl
  std::string info;                     // the value of <prefix>/members/<name> (e.g. its API address)
};
// Errors name the field: "cluster.member: must not contain '/', got \"a/b\"".
Status CheckClusterMemberOptions(const ClusterMemberOptions& options);

// Thread-safe: Renew() may run on its own thread while the ticking thread calls MayApply(), TryOwn()
// and the rest. The lease's calls (Join, Renew, Leave) take turns on the lease client, the others on
// the main client; MayApply(), OwnedPools() and the accessors never wait for either.
class ClusterMember {
 public:
  // REQUIRES: CheckClusterMemberOptions(options).ok(); `clock` outlives this object.
  // `lease_etcd` (optional, a second client of the same config) carries Join(), Renew() and Leave()
  // on a connection of their own, so a renewal never waits behind the ticking thread's calls (a
  // Balance() over many pools, a slow etcd): recommended. Without it, they share `etcd` and take turns.
  ClusterMember(std::unique_ptr<EtcdClient> etcd, ClusterMemberOptions options, const Clock* clock,
                std::unique_ptr<EtcdClient> lease_etcd = nullptr);
  ~ClusterMember();
  ClusterMember(const ClusterMember&) = delete;
  ClusterMember& operator=(const ClusterMember&) = delete;

  // Grants a lease and registers <prefix>/members/<name> with it (a txn: only if absent). When the
  // name is held by another live lease, kFailedPrecondition naming it, and the new lease is revoked.
  // OK at once when already joined.
  Status Join();
  // One keep-alive. On success the renewal is recorded at the clock's reading taken before the
  // request left. kNotFound when the lease is gone (expired or revoked): the member is no longer
  // joined, owns nothing, and MayApply is false at once; call Join() again. Another error (etcd
  // unreachable) changes nothing: MayApply turns false on its own at the deadline.
  // kFailedPrecondition when not joined.
  Status Renew();
  // Revokes the lease, so the registration and every ownership key go at once. Locally the member
  // stops whatever etcd answers (MayApply false, nothing owned); an error means the keys stay until
  // the lease expires.
  Status Leave();

  // The fencing rule: joined and now < FenceDeadline(last renewal, granted ttl, margin).
  bool MayApply(TimeMs now) const;
  // Why MayApply(now) is false, for a decision's reason and the logs; "" when it is true:
  //   "lease last renewed 8.2s ago (ttl 10s, margin 2s)", "not joined (no lease)".
  std::string FenceReason(TimeMs now) const;
  TimeMs fence_deadline() const;  // 0 when not joined
  TimeMs last_renewal() const;    // the clock's reading of the last successful renewal; 0 when not joined
  bool joined() const;
  int64_t lease_id() const;      // 0 when not joined
  DurationMs lease_ttl() const;  // as etcd granted it (0 before Join)
  DurationMs fencing_margin() const;
  const std::string& name() const { return options_.name; }

  // The names of the live members (every registration still bound to a live lease), sorted.
  Result<std::vector<std::string>> Members();
  // Owns the pool if nobody does: creates <prefix>/owners/<pool> only if absent, bound to this
  // member's lease. true when this member owns it now (also when it already did, or when an earlier
  // attempt whose answer was lost had created it), false when another member does.
  // kFailedPrecondition when not joined; kNotFound (and no longer joined) when the lease is gone.
  Result<bool> TryOwn(const std::string& pool);
  // Gives the pool up: deletes its key if this member still holds it (a txn on its revision). OK when
  // it owned nothing. On an etcd error the pool stays owned (so a retry can release it) and the
  // error is returned; the key would go with the lease anyway.
  Status Release(const std::string& pool);
  // The pools this member believes it owns (created under its current lease, not released), sorted.
  // It acts on one only while MayApply(now) as well.
  std::vector<std::string> OwnedPools() const;
  // Writes a document of a pool this member owns (its state, e.g. <prefix>/state/<pool>; not bound to
  // the lease, so it outlives the owner) with compare-and-swap on the document's revision (0: it must
  // not exist), and only while <prefix>/owners/<pool> is still bound to this member's lease: a member
  // that lost the pool writes nothing, whatever revision it read. Returns the new revision.
  // kFailedPrecondition when not written, saying why: "cluster: member \"a\" no longer owns pool
  // \"web\" (owner: b)" (the pool is dropped from OwnedPools()), or "cluster: <key> changed meanwhile
  // (revision 12, not 9)". kFailedPrecondition when not joined.
  Result<int64_t> PutOwned(const std::string& pool, const std::string& key, const std::string& value,
                           int64_t mod_revision);
  // Every ownership key in etcd: pool -> owner's name. Also brings OwnedPools() in line with etcd:
  // a key of this member's lease that was lost (deleted by hand) is dropped, one it holds is added.
  Result<std::map<std::string, std::string>> Owners();

  // Takes this member's share of `pools` and lets go of the rest, for the caller to run before every
  // tick: reads the live members (registering this one again if its key was deleted by hand), gives
  // each pool to its rendezvous owner (Assign), releases what it owns outside its share (after its
  // last tick: the caller ticks only owned pools, so calling this between ticks orders the hand-over),
  // and tries to own each pool of its share. A pool whose previous owner has not let go yet (it
  // releases at its next Balance, or its lease expires) is `waiting` and taken at a later call.
  // An error only when the members cannot be read or the lease is gone (then not joined, as Renew);
  // a failed TryOwn or Release of one pool is in `error` and the rest is still done.
  struct BalanceResult {
    std::vector<std::string> owned;     // after the call, sorted
    std::vector<std::string> taken;     // owned by this call
    std::vector<std::string> released;  // given up by this call
    std::vector<std::string> waiting;   // its share, still held by another member
    std::vector<std::string> members;   // the live members it balanced over
    Status error;                       // the first per-pool error, if any
  };
  Result<BalanceResult> Balance(const std::vector<std::string>& pools);

  // The etcd endpoint that answered last, for logs ("" before any call).
  std::string endpoint_in_use() const;

  std::string MemberKey() const;                        // <prefix>/members/<name>
  std::string OwnerKey(const std::string& pool) const;  // <prefix>/owners/<pool>

 private:
  // `lease` is gone: not joined, nothing owned, fenced at once. Nothing when the member's lease is
  // another by now (a Join on the lease thread replaced it).
  void LoseLease(int64_t lease);
  Status NotJoined() const;

  std::unique_ptr<EtcdClient> etcd_;
  std::unique_ptr<EtcdClient> own_lease_etcd_;  // may be null
  std::mutex own_lease_mu_;
  mutable std::mutex call_mu_;    // one call at a time on etcd_
  EtcdClient* const lease_etcd_;  // own_lease_etcd_, or etcd_ when there is none
  std::mutex* const lease_mu_;    // own_lease_mu_, or call_mu_ when they share a client
  const ClusterMemberOptions options_;
  const DurationMs margin_;
  const Clock* clock_;

  mutable std::mutex owned_mu_;           // taken briefly, never across a call
  std::map<std::string, int64_t> owned_;  // pool -> the mod_revision of its ownership key

  // Read without a lock by MayApply and the accessors. lease_id_ != 0 is "joined": Join() stores it
  // last, after the renewal and the ttl, and MayApply reads it first.
  std::atomic<TimeMs> last_renewal_{0};
  std::atomic<DurationMs> ttl_{0};
  std::atomic<int64_t> lease_id_{0};
};

}  // namespace warmpool

#endif  // WARMPOOL_CONTROLLER_CLUSTER_MEMBER_H_
