// Probe: Warmpool's own check of a server that the balancer does not check (a standby in maintenance
// has its health checks paused), so that a standby whose machine stopped answering is never promoted
// and is replaced before it is needed (PoolSpec::health.probe).
#ifndef WARMPOOL_PROBE_H_
#define WARMPOOL_PROBE_H_

#include <string>

#include "warmpool/server.h"
#include "warmpool/status.h"
#include "warmpool/time.h"

namespace warmpool {

// `health.probe:` of a pool: an HTTP GET of `path` on the server's address.
struct ProbeSpec {
  bool enabled = false;
  std::string path = "/health";
  int status = 200;                     // the answer that means healthy
  DurationMs timeout = kSecond;         // connect and answer, in all
  DurationMs interval = 10 * kSecond;   // each standby probed at most this often
  bool operator==(const ProbeSpec&) const = default;
};

class Prober {
 public:
  virtual ~Prober() = default;
  // OK when `server` answered as expected; otherwise what happened ("connect: Connection refused",
  // "answered 503, expected 200", "timed out after 1s").
  virtual Status Probe(const Server& server) = 0;
};

}  // namespace warmpool

#endif  // WARMPOOL_PROBE_H_
