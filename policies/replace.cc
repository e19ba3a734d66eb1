#include "policies/replace.h"

#include <algorithm>

#include "policies/trend.h"
#include "warmpool/text.h"

namespace warmpool {
namespace {

struct Sick {
  const Server* server;
  ReplaceCause cause;
  std::string why;     // "web-3: DOWN for 45s (grace 30s)"
  int rank = 0;        // DOWN 0, past a limit 1, reaching it 2
  DurationMs eta = 0;  // reaching it: how soon
};

// Why `s` is sick by one of the health metrics, or nothing.
std::optional<Sick> SickByMetric(const HealthSpec& spec, const Server& s, const ReplaceSignals& signals, TimeMs now) {
  if (signals.metrics == nullptr) return std::nullopt;
  std::optional<Sick> worst;
  for (const ServerMetricSpec& m : spec.metrics) {
    auto by_server = signals.metrics->find(m.name);
    if (by_server == signals.metrics->end()) continue;
    auto w = by_server->second.find(s.name);
    if (w == by_server->second.end()) continue;
    const LimitForecast f = ForecastLimit(w->second, m.above, m.horizon, now, signals.stale_after);
    if (f.verdict == LimitForecast::Verdict::kNone) continue;
    Sick sick{&s, ReplaceCause::kMetric, s.name + ": " + DescribeForecast(m.name, m.above, f),
              f.verdict == LimitForecast::Verdict::kPast ? 1 : 2, f.eta};
    if (!worst || sick.rank < worst->rank || (sick.rank == worst->rank && sick.eta < worst->eta)) worst = sick;
  }
  return worst;
}

void Append(std::string* text, const std::string& more) {
  if (more.empty()) return;
  *text += (text->empty() ? "" : "; ") + more;
}

}  // namespace

std::set<std::string> ProtectedServers(const PoolControls& controls, TimeMs now) {
  std::set<std::string> out;
  for (const auto& [name, p] : controls.protect) {
    if (!p.Expired(now)) out.insert(name);
  }
  return out;
}

ReplaceOutcome FindReplacements(const HealthSpec& spec, const PoolState& pool, TimeMs now, ReplaceMemory* memory,
                                const ReplaceSignals& signals) {
  ReplaceOutcome out;
  Replacements* replacing = &memory->under_way;
  const std::set<std::string> protect =
      signals.controls != nullptr ? ProtectedServers(*signals.controls, now) : std::set<std::string>{};
  // Done or moot: gone, cold, retired; DOWN and healthy again; protected; without `health:`, anything
  // but an operator's request.
  for (auto it = replacing->begin(); it != replacing->end();) {
    const Server* s = pool.Find(it->first);
    bool done = s == nullptr || s->state == ServerState::kCold || s->state == ServerState::kRetired ||
                (it->second.cause == ReplaceCause::kDown && s->state == ServerState::kActive &&
                 s->health == Health::kHealthy) ||
                (!spec.enabled && it->second.cause != ReplaceCause::kOperator);
    if (!done && protect.count(it->first) != 0) {
      done = true;
      Append(&out.reason, it->first + " protected: its replacement stopped");
    }
    it = done ? replacing->erase(it) : std::next(it);
  }

  // An operator's requests, at once.
  if (signals.controls != nullptr) {
    for (const auto& [name, request] : signals.controls->replace) {
      const Server* s = pool.Find(name);
      if (s == nullptr || replacing->count(name) != 0 || protect.count(name) != 0) continue;
      if (s->state != ServerState::kActive && s->state != ServerState::kStandby) continue;
      std::string why = "replace " + name + ": asked by " + (request.set_by.empty() ? "an operator" : request.set_by);
      if (!request.reason.empty()) why += " (" + request.reason + ")";
      (*replacing)[name] = Replacement{ReplaceCause::kOperator, now, why};
      out.started.push_back(why);
    }
  }
  if (!spec.enabled) {
    for (const std::string& r : out.started) Append(&out.reason, r);
    return out;
  }

  int active = 0, sick_active = 0;  // sick_active: every active server DOWN (within grace or not) or
                                    // sick by a metric, being replaced or not
  std::vector<Sick> sick;
  std::vector<std::string> sick_protected;
  for (const Server& s : pool.servers) {
    if (s.state == ServerState::kActive) ++active;
    if (s.state != ServerState::kActive && s.state != ServerState::kStandby) continue;
    std::optional<Sick> found;
    if (s.state == ServerState::kActive && s.health == Health::kUnhealthy) {
      if (now - s.since >= spec.grace) {
        found = Sick{&s, ReplaceCause::kDown,
                     s.name + ": DOWN for " + FormatDuration(now - s.since) + " (grace " + FormatDuration(spec.grace) + ")"};
      }
    } else {
      found = SickByMetric(spec, s, signals, now);
    }
    const bool counted = s.state == ServerState::kActive && (s.health == Health::kUnhealthy || found.has_value());
    if (counted) ++sick_active;
    if (!found) continue;
    out.sick.push_back(found->why);
    if (replacing->count(s.name) != 0) continue;
    if (protect.count(s.name) != 0) {
      sick_protected.push_back(s.name);
      continue;
    }
    sick.push_back(*found);
  }
  if (!sick_protected.empty()) {
    std::string names;
    for (const std::string& n : sick_protected) names += (names.empty() ? "" : ", ") + n;
    Append(&out.reason, "sick but protected, not replaced: " + names);
  }
  // DOWN first, the longest first; then past a limit; then the soonest to reach one; then by name.
  std::sort(sick.begin(), sick.end(), [](const Sick& a, const Sick& b) {
    if (a.rank != b.rank) return a.rank < b.rank;
    if (a.rank == 0 && a.server->since != b.server->since) return a.server->since < b.server->since;
    if (a.eta != b.eta) return a.eta < b.eta;
    return a.server->name < b.server->name;
  });

  int under_way = 0;  // the budget's: an operator's requests are outside it
  for (const auto& [name, r] : *replacing) under_way += r.cause != ReplaceCause::kOperator;
  const int budget = std::max(1, spec.max_parallel) - under_way;

  // The breaker holds for breaker_hold after the last tick that found too many sick.
  const bool held = memory->breaker_tripped >= 0 && now - memory->breaker_tripped < spec.breaker_hold;
  if (!sick.empty()) {
    // The breaker counts every active server that is sick, within its grace or already being replaced
    // too: servers dying together cross their grace a tick apart.
    const std::string counted = std::to_string(sick_active) + " of " + std::to_string(active) + " active servers sick";
    const std::string share = FormatNumber(spec.breaker_fraction * 100) + "%";
    std::string open;
    if (active > 0 && static_cast<double>(sick_active) > spec.breaker_fraction * active) {
      memory->breaker_tripped = now;
      open = "replacement breaker open: " + counted + " (more than " + share + ")";
    } else if (held) {
      open = "replacement breaker open: " + counted + " now, more than " + share + " " +
             FormatDuration(now - memory->breaker_tripped) + " ago (held for breaker_hold " +
             FormatDuration(spec.breaker_hold) + ")";
    }
    if (!open.empty()) {
      out.breaker_open = true;
      Append(&out.reason, open + ", replacing none: more of the same would not help");
      for (const std::string& r : out.started) Append(&out.reason, r);
      return out;
    }
    int n = 0;
    for (const Sick& s : sick) {
      if (n >= budget) break;
      const std::string why = "replace " + s.why;
      (*replacing)[s.server->name] = Replacement{s.cause, now, why};
      out.started.push_back(why);
      ++n;
    }
    for (const std::string& r : out.started) Append(&out.reason, r);
    if (static_cast<size_t>(n) < sick.size()) {
      Append(&out.reason, std::to_string(sick.size() - static_cast<size_t>(n)) +
                              " more sick, waiting for the replacements under way (max_parallel " +
                              std::to_string(std::max(1, spec.max_parallel)) + ")");
    }
    return out;
  }

  // Lifetime: one at a time, only when nothing else is being replaced.
  if (spec.max_lifetime > 0 && under_way == 0 && !held) {
    const Server* oldest = nullptr;
    for (const Server& s : pool.servers) {
      if (!s.Serving() || now - s.since < spec.max_lifetime || protect.count(s.name) != 0) continue;
      if (replacing->count(s.name) != 0) continue;
      if (oldest == nullptr || s.since < oldest->since || (s.since == oldest->since && s.name < oldest->name))
        oldest = &s;
    }
    if (oldest != nullptr) {
      const std::string why = "replace " + oldest->name + ": serving for " + FormatDuration(now - oldest->since) +
                              " (max_lifetime " + FormatDuration(spec.max_lifetime) + ")";
      (*replacing)[oldest->name] = Replacement{ReplaceCause::kLifetime, now, why};
      out.started.push_back(why);
    }
  }
  for (const std::string& r : out.started) Append(&out.reason, r);
  return out;
}

}  // namespace warmpool
