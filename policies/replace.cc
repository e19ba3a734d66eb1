#include "policies/replace.h"

#include <algorithm>

#include "warmpool/text.h"

namespace warmpool {

ReplaceOutcome FindReplacements(const HealthSpec& spec, const PoolState& pool, TimeMs now,
                                std::set<std::string>* replacing) {
  ReplaceOutcome out;
  if (!spec.enabled) {
    replacing->clear();
    return out;
  }
  // Done or moot: gone, cold, retired, or active and healthy again.
  for (auto it = replacing->begin(); it != replacing->end();) {
    const Server* s = pool.Find(*it);
    const bool done = s == nullptr || s->state == ServerState::kCold || s->state == ServerState::kRetired ||
                      (s->state == ServerState::kActive && s->health == Health::kHealthy);
    it = done ? replacing->erase(it) : std::next(it);
  }
  int active = 0, down = 0;  // down: every unhealthy active server, within grace or not, replaced or not
  std::vector<const Server*> sick;
  for (const Server& s : pool.servers) {
    if (s.state != ServerState::kActive) continue;
    ++active;
    if (s.health != Health::kUnhealthy) continue;
    ++down;
    if (now - s.since >= spec.grace && replacing->count(s.name) == 0) sick.push_back(&s);
  }
  // The longest sick first, then by name (deterministic).
  std::sort(sick.begin(), sick.end(), [](const Server* a, const Server* b) {
    return a->since != b->since ? a->since < b->since : a->name < b->name;
  });
  auto why = [&](const Server* s) {
    return s->name + ": DOWN for " + FormatDuration(now - s->since) + " (grace " + FormatDuration(spec.grace) + ")";
  };
  for (const Server* s : sick) out.sick.push_back(why(s));
  if (sick.empty()) return out;

  // The breaker counts every active server that is DOWN, within its grace or already being replaced
  // too: servers dying together cross their grace a tick apart.
  if (active > 0 && static_cast<double>(down) > spec.breaker_fraction * active) {
    out.breaker_open = true;
    out.reason = "replacement breaker open: " + std::to_string(down) + " of " + std::to_string(active) +
                 " active servers sick (more than " + FormatNumber(spec.breaker_fraction * 100) +
                 "%), replacing none: more of the same would not help";
    return out;
  }
  const int budget = std::max(1, spec.max_parallel) - static_cast<int>(replacing->size());
  for (const Server* s : sick) {
    if (static_cast<int>(out.started.size()) >= budget) break;
    replacing->insert(s->name);
    out.started.push_back("replace " + why(s));
  }
  for (const std::string& r : out.started) out.reason += (out.reason.empty() ? "" : "; ") + r;
  if (out.started.size() < sick.size()) {
    out.reason += (out.reason.empty() ? "" : "; ") + std::to_string(sick.size() - out.started.size()) +
                  " more sick, waiting for the replacements under way (max_parallel " +
                  std::to_string(std::max(1, spec.max_parallel)) + ")";
  }
  return out;
}

}  // namespace warmpool
