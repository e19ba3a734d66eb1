// Replacement: which active servers are sick, and which of them to replace this tick, a pure function
// of the observed pool, the pool's `health:` settings and the replacements already under way.
//
//   sick         active, and DOWN at the balancer for at least `grace` (since = its last state change);
//   budget       at most max(1, max_parallel) replacements under way at once, so a small pool heals too;
//   breaker      when more than breaker_fraction of the active servers are DOWN at once (within their
//                grace too: servers dying together cross it a tick apart; a bad build everywhere),
//                replacing them with more of the same helps nobody: none is replaced, and the outcome
//                says so;
//   under way    a server chosen for replacement stays so (the planner drains it, then retires it, and
//                never promotes it again) until it is gone, cold or retired, or it is active and healthy
//                again (an operator mended it).
// The planner does the rest through the ordinary plan: the replaced server leaves the active count, so a
// standby is promoted in its place (or one provisioned), and it is drained and retired; a sick server
// is DOWN, so taking it out first costs no serving capacity.
#ifndef WARMPOOL_POLICIES_REPLACE_H_
#define WARMPOOL_POLICIES_REPLACE_H_

#include <set>
#include <string>
#include <vector>

#include "warmpool/pool_spec.h"
#include "warmpool/server.h"
#include "warmpool/time.h"

namespace warmpool {

struct ReplaceOutcome {
  std::vector<std::string> sick;     // every sick active server ("web-3: DOWN for 45s (grace 30s)")
  std::vector<std::string> started;  // replacements begun this tick, with their reasons, for the decision
  bool breaker_open = false;
  std::string reason;  // "replace web-3: DOWN for 45s (grace 30s)", "replacement breaker open: ...", or ""
};

// Updates `replacing` (the servers whose replacement is under way, kept by the caller from tick to tick)
// and returns what changed and why.
ReplaceOutcome FindReplacements(const HealthSpec& spec, const PoolState& pool, TimeMs now,
                                std::set<std::string>* replacing);

}  // namespace warmpool

#endif  // WARMPOOL_POLICIES_REPLACE_H_
