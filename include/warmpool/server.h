// Servers and the pool they belong to, as a provider observes them.
//
// Lifecycle:
//   cold --provision--> provisioning --ready--> standby (warm: running, healthy, no traffic)
//   standby --promote--> active (in the balancer, serving) --drain--> draining --> standby or retired
//   standby --suspend--> stopped (a stopped standby: the machine is suspended, cheap, not ready)
//   stopped --resume--> provisioning (resuming: priced as running, not promotable until ready) --> standby
// A resuming server is `provisioning`: like a new one it is on its way to a ready standby, costs a
// running machine and must pass the health check before it may be promoted; only its delay differs.
#ifndef WARMPOOL_SERVER_H_
#define WARMPOOL_SERVER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "warmpool/time.h"

namespace warmpool {

enum class ServerState { kCold, kProvisioning, kStandby, kActive, kDraining, kStopped, kRetired };
enum class Health { kUnknown, kHealthy, kUnhealthy };

const char* StateName(ServerState s);  // "cold", "provisioning", ..., "stopped", "retired"
const char* HealthName(Health h);      // "unknown", "healthy", "unhealthy"

struct Server {
  std::string name;
  std::string address;  // "ip:port", may be empty for a cold slot
  ServerState state = ServerState::kCold;
  Health health = Health::kUnknown;
  TimeMs since = 0;  // when the server entered its current state

  // Takes traffic and can serve it: active and not known to be unhealthy.
  bool Serving() const { return state == ServerState::kActive && health == Health::kHealthy; }
};

// What really exists for one pool at one instant. The provider is the source of truth.
struct PoolState {
  std::string pool;
  TimeMs observed_at = 0;
  std::vector<Server> servers;
  // 0: unknown. Otherwise a provider's number for these servers: two observations with the same
  // nonzero number have the same servers, so what was derived from them (counts) still holds.
  uint64_t servers_version = 0;

  int Count(ServerState s) const;
  int CountHealthy(ServerState s) const;
  // Everything that exists or is on its way: provisioning, standby, active, draining, stopped.
  int Total() const;
  const Server* Find(std::string_view name) const;
};

}  // namespace warmpool

#endif  // WARMPOOL_SERVER_H_
