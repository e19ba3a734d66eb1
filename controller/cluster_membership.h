// The cluster mode of `warmpool run` (GlobalSpec::cluster): runtime/membership.h over etcd
// (controller/cluster/). Joins with backoff and renews the lease on a thread of its own (every
// lease_ttl/3); balances the pools over the live members before every tick; keeps each pool's
// documents under <prefix>/state/<pool> (written by its owner only, while it holds the pool) and
// <prefix>/controls/<pool> (written by any member, compare-and-swap).
#ifndef WARMPOOL_CONTROLLER_CLUSTER_MEMBERSHIP_H_
#define WARMPOOL_CONTROLLER_CLUSTER_MEMBERSHIP_H_

#include <memory>

#include "controller/runtime/membership.h"
#include "warmpool/pool_spec.h"

namespace warmpool {

// Builds the clients and the member (contacting nothing) and starts the renewal thread, which joins
// the cluster and retries with backoff while etcd cannot be reached, logging each failure with the
// endpoints it tried. `member` is the replica's name (the config's, or the host name).
Result<std::unique_ptr<Membership>> StartEtcdMembership(const ClusterSpec& spec, const std::string& member,
                                                        const std::string& info);

}  // namespace warmpool

#endif  // WARMPOOL_CONTROLLER_CLUSTER_MEMBERSHIP_H_
