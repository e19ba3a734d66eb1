// ShedDecider: when to tighten the balancer and by how much, a pure function of the load, the serving
// capacity and its own short memory (no I/O, no clock: `now` is an argument).
//
//   overloaded   load > serving servers x capacity;
//   cannot grow  the pool is at max_active (or its max_total), or it has been overloaded for
//                protect_after without the capacity arriving (nothing warm, provisioning slower);
//   tighten      when both hold: the frontend admits serving x capacity a second, and, with per-client
//                limits, each client at most the fair share t that fills 90% of that capacity when
//                every client takes min(its rate, t) (water-filling: the heaviest clients are cut
//                first, ordinary ones not at all; the 10% keep the frontend-wide limit a backstop).
//                The clients' rates are taken as shares of the load (the balancer averages them over
//                its own, slower period). With server_concurrency, each server also takes at most that
//                many requests at once (a burst within the second: the rest wait in the balancer's
//                queue, then get a fast 503);
//   follow       while in force, the limits follow the serving capacity every tick (more servers, a
//                higher limit);
//   loosen       once the load has stayed below release_below x capacity for release_after, or the
//                pool can grow again, every limit is lifted (hysteresis: no flapping at the edge).
// The load should count offered requests (the frontend's, refused ones included), so that it still
// shows the demand while the limit is in force.
#ifndef WARMPOOL_POLICIES_SHED_H_
#define WARMPOOL_POLICIES_SHED_H_

#include <optional>
#include <string>
#include <vector>

#include "warmpool/shedder.h"
#include "warmpool/time.h"

namespace warmpool {

struct ShedInput {
  std::optional<double> load;  // nullopt: missing this tick (the limits stay as they are)
  int serving = 0;             // healthy active servers
  bool at_max = false;         // active >= max_active, or the pool is at max_total
  std::vector<ClientRate> clients;
  TimeMs now = 0;
};

struct ShedOutcome {
  ShedLimits limits;    // what should be in force after this tick
  bool changed = false;  // differs from the last tick's
  std::string reason;   // "shed: 2.1x over capacity at max_active 8, limiting to 800 req/s", ...
};

class ShedDecider {
 public:
  explicit ShedDecider(ShedSpec spec) : spec_(std::move(spec)) {}
  ShedOutcome Decide(const ShedInput& in);
  const ShedLimits& limits() const { return limits_; }

 private:
  ShedSpec spec_;
  ShedLimits limits_;
  std::optional<TimeMs> overloaded_since_;
  std::optional<TimeMs> calm_since_;
};

// The per-client limit t with sum(min(rate_i, t)) == capacity (the heaviest clients cut first), or 0
// when the clients' rates fit within `capacity` already.
double FairShare(std::vector<ClientRate> clients, double capacity);

}  // namespace warmpool

#endif  // WARMPOOL_POLICIES_SHED_H_
