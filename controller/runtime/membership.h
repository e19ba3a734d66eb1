// Membership: what the live controller needs from a cluster (GlobalSpec::cluster): which pools this
// replica acts on, the fence checked before every change, and each pool's documents kept where every
// replica reads them. Implemented over etcd by the executable (controller/cluster_membership.cc, over
// controller/cluster/); tests use an in-memory one. Without one, a single process acts on every pool
// and keeps its state in the state file.
//
// A pool is acted on only by the member that owns it. A hand-over is ordered: the old owner releases
// (it stops ticking the pool, or its lease expires), and the new owner loads the pool's state from
// here before its first tick. The fence covers the rest: a member that has not renewed its lease
// within its TTL less a margin applies nothing, so by the time its lease expires and another member
// can own the pool, it has stopped changing the world.
#ifndef WARMPOOL_CONTROLLER_RUNTIME_MEMBERSHIP_H_
#define WARMPOOL_CONTROLLER_RUNTIME_MEMBERSHIP_H_

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "warmpool/status.h"
#include "warmpool/time.h"

namespace warmpool {

class Membership {
 public:
  virtual ~Membership() = default;

  // This member's name, for logs, events and the API.
  virtual std::string Name() const = 0;
  // Called before every tick with the config's pools: takes the pools this member should own and
  // lets go of the others. Returns the pools it owns now (empty while it cannot reach the cluster).
  virtual std::set<std::string> Balance(const std::vector<std::string>& pools, TimeMs now) = 0;
  // Called (from another thread) when the members or the pools' owners change, so the controller can
  // tick at once instead of at its next interval (a dead member's pools are taken over sooner).
  virtual void OnChange(std::function<void()> wake) { (void)wake; }
  // The fence: true only while this member's lease was renewed within its TTL less a safety margin.
  virtual bool MayApply(TimeMs now) const = 0;
  // Why not, for the decision ("lease last renewed 9.1s ago (ttl 10s, margin 2s)"); "" when it may.
  virtual std::string FenceReason(TimeMs now) const = 0;

  // What GET /api/v1/cluster shows, as this member sees it now.
  struct View {
    std::string member;                         // this one
    bool joined = false;                        // it holds a lease
    bool may_apply = false;                     // its fence
    DurationMs lease_age = 0;                   // since its last successful renewal
    DurationMs lease_ttl = 0;
    std::vector<std::string> members;           // live members
    std::map<std::string, std::string> owners;  // pool -> the member that owns it
    std::string endpoint;                       // the etcd endpoint that answered last
    uint64_t renewal_failures = 0;              // since start
    std::string error;                          // the last error talking to the cluster, "" when none
  };
  virtual View Describe() = 0;

  // A pool's document of `kind` ("state": what its owner keeps; "controls": what operators set, on
  // any member) and its revision; revision 0 and an empty text when there is none.
  struct Document {
    std::string text;
    int64_t revision = 0;
  };
  virtual Result<Document> Load(const std::string& pool, const std::string& kind) = 0;
  // Every pool's document of `kind`, by pool (one request).
  virtual Result<std::map<std::string, Document>> LoadAll(const std::string& kind) = 0;
  // Replaces it only if it is still at `revision` (0: it must not exist); returns the new revision.
  // kFailedPrecondition when it changed meanwhile (another member wrote it).
  virtual Result<int64_t> Save(const std::string& pool, const std::string& kind, const std::string& text,
                               int64_t revision) = 0;
};

}  // namespace warmpool

#endif  // WARMPOOL_CONTROLLER_RUNTIME_MEMBERSHIP_H_
