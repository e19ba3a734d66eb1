// Overload protection: when a pool's load is above what its serving servers can take and no more
// capacity can arrive in time, the balancer admits what the servers can serve and answers the rest
// fast (429 with Retry-After), the heaviest clients first. A Shedder is the balancer's side of it (a
// narrow role beside Provider: HAProxy's runtime API, providers/haproxy/haproxy_shedder.h); the
// decision of the limits is pure (policies/shed.h).
#ifndef WARMPOOL_SHEDDER_H_
#define WARMPOOL_SHEDDER_H_

#include <string>
#include <vector>

#include "warmpool/status.h"
#include "warmpool/time.h"

namespace warmpool {

// The limits in force at the balancer. Zero is "no limit".
struct ShedLimits {
  double rate = 0;    // requests a second the pool's frontend admits; above it, 429
  double client = 0;  // requests a second one client (address) is admitted; above it, 429
  int server_concurrency = 0;  // requests one server takes at once; the rest queue briefly, then 503
  bool active() const { return rate > 0 || client > 0 || server_concurrency > 0; }
  bool operator==(const ShedLimits&) const = default;
};

// One client's request rate, as the balancer measures it.
struct ClientRate {
  std::string client;  // its address
  double rate = 0;     // requests a second, offered
};

// `overload:` of a pool (docs/configuration.md).
struct ShedSpec {
  bool enabled = false;
  double capacity = 0;                  // load one serving server takes at full capacity (the load metric's unit)
  std::string metric;                   // the load metric; "" = the pool's load metric (policies/load_metric.h)
  DurationMs protect_after = 30 * kSecond;  // overloaded this long below max_active: capacity did not arrive in time
  double release_below = 0.8;           // loosen when the load falls below this share of the capacity...
  DurationMs release_after = 30 * kSecond;  // ...for this long
  bool per_client = true;               // limit the heaviest clients first (a stick table of client rates)
  int server_concurrency = 0;           // while limiting, cap each server at this many requests at once (0: no cap)
  bool operator==(const ShedSpec&) const = default;
};

class Shedder {
 public:
  virtual ~Shedder() = default;
  // The clients the balancer sees now, with their rates (any order). Empty when it tracks none.
  virtual Result<std::vector<ClientRate>> ClientRates() = 0;
  // Puts `limits` in force; all zero lifts every limit.
  virtual Status SetLimits(const ShedLimits& limits) = 0;
};

}  // namespace warmpool

#endif  // WARMPOOL_SHEDDER_H_
