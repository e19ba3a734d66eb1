// Replacement: which servers are sick, and which of them to replace this tick, a pure function of the
// observed pool, the pool's `health:` settings, its per-server metrics, the operator's controls and
// the replacements already under way.
//
//   sick         active and DOWN at the balancer for at least `grace` (since = its last state change);
//                or, active or standby, past a health metric's limit or rising to reach it within its
//                horizon (policies/trend.h);
//   budget       at most max(1, max_parallel) replacements under way at once, so a small pool heals too;
//   breaker      when more than breaker_fraction of the active servers are sick at once (DOWN within
//                their grace too: servers dying together cross it a tick apart; a bad build
//                everywhere), replacing them with more of the same helps nobody: none is replaced, and
//                the outcome says so; once open it holds for breaker_hold after the last tick that found
//                too many sick, so a signal that flickers (a trend fit dipping under its R^2 for a tick)
//                neither closes it nor lets one more through;
//   lifetime     with max_lifetime, the active server serving longest, once past it, when nothing else
//                is being replaced (one at a time);
//   operator     a server an operator asked to replace (PoolControls::replace) is, at once, outside
//                the budget and the breaker; a protected server (PoolControls::protect) never is;
//   under way    a server chosen for replacement stays so (the planner drains it once its replacement
//                serves, then retires it, and never promotes it again) until it is gone, cold or
//                retired, or, replaced for being DOWN, it is active and healthy again (an operator
//                mended it), or an operator protects it.
// The planner does the rest through the ordinary plan: the replaced server leaves the active count, so a
// standby is promoted in its place (or one provisioned), and a serving one is drained only once enough
// others serve (policies/planner.h): a replacement never lowers the serving count below the desired one.
#ifndef WARMPOOL_POLICIES_REPLACE_H_
#define WARMPOOL_POLICIES_REPLACE_H_

#include <map>
#include <set>
#include <string>
#include <vector>

#include "warmpool/controls.h"
#include "warmpool/metrics.h"
#include "warmpool/pool_spec.h"
#include "warmpool/server.h"
#include "warmpool/time.h"

namespace warmpool {

enum class ReplaceCause { kDown, kMetric, kLifetime, kOperator };

struct Replacement {
  ReplaceCause cause = ReplaceCause::kDown;
  TimeMs since = 0;    // when it began
  std::string reason;  // "replace web-3: memory 0.91 > 0.85"
};
using Replacements = std::map<std::string, Replacement>;  // by server name

// What FindReplacements keeps from tick to tick (the caller holds it).
struct ReplaceMemory {
  Replacements under_way;
  TimeMs breaker_tripped = -1;  // the last tick that found more than breaker_fraction sick; -1: none
};

// The inputs beyond the pool and its spec; each may be absent.
struct ReplaceSignals {
  const ServerWindows* metrics = nullptr;  // per-server windows of spec.metrics, by metric then server
  DurationMs stale_after = 2 * kMinute;    // samples older than this say nothing
  const PoolControls* controls = nullptr;  // protected servers, and replacements asked for by hand
};

struct ReplaceOutcome {
  std::vector<std::string> sick;     // every sick server, with why ("web-3: DOWN for 45s (grace 30s)")
  std::vector<std::string> started;  // replacements begun this tick, with their reasons, for the decision
  bool breaker_open = false;
  std::string reason;  // "replace web-3: DOWN for 45s (grace 30s)", "replacement breaker open: ...", or ""
};

// Updates `memory` (the replacements under way and the breaker) and returns what changed and why.
// Without spec.enabled only an operator's requests are acted on.
ReplaceOutcome FindReplacements(const HealthSpec& spec, const PoolState& pool, TimeMs now, ReplaceMemory* memory,
                                const ReplaceSignals& signals = {});

// The servers of `controls` protected at `now` (expired protections left out).
std::set<std::string> ProtectedServers(const PoolControls& controls, TimeMs now);

}  // namespace warmpool

#endif  // WARMPOOL_POLICIES_REPLACE_H_
