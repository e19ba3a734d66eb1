#include "policies/decide.h"

#include <algorithm>

#include "policies/behavior.h"
#include "warmpool/text.h"

namespace warmpool {
namespace {

// The combined recommendation before behavior, kept on the Decision so that RecordDecision can
// store the raw value (as HPA does) rather than the stabilized one. Its policy and reason are written
// into the Decision's strings (their storage reused tick to tick).
struct Combined {
  int recommended;
  bool hold_floor;  // a metric is missing, or only floor-only opinions: never go below current
};

Combined Combine(const std::vector<Recommendation>& recs, int current, bool explain, std::string* policy,
                 std::string* reason) {
  Combined c{current, false};
  reason->clear();
  const Recommendation* best = nullptr;
  std::string missing;
  bool any_missing = false;
  bool any_reactive = false;  // a valid opinion that may lower capacity
  for (const Recommendation& r : recs) {
    if (!r.valid) {
      any_missing = true;
      if (explain) missing += (missing.empty() ? "" : "; ") + r.policy + ": " + r.reason;
      continue;
    }
    any_reactive = any_reactive || r.allow_scale_down;
    if (best == nullptr || r.desired > best->desired) best = &r;
  }
  // Floor-only opinions (a forecast) may raise capacity but never lower it by themselves: with no
  // reactive opinion the pool holds at least at current.
  if (best != nullptr && !any_reactive) c.hold_floor = true;
  if (best == nullptr) {
    policy->clear();
    c.hold_floor = true;
    if (!explain) return c;
    *reason = recs.empty() ? "no policy: holding at " + std::to_string(current)
                           : "no usable metric, holding at " + std::to_string(current) + " (" + missing + ")";
    return c;
  }
  c.recommended = best->desired;
  if (!SameName(*policy, best->policy)) *policy = best->policy;  // usually the same as last tick's
  if (!explain) {
    if (any_missing) {
      c.hold_floor = true;
      c.recommended = std::max(c.recommended, current);
    }
    return c;
  }
  *reason = best->policy + ": " + best->reason;
  if (recs.size() > 1) *reason += " (largest of " + std::to_string(recs.size()) + " policies)";
  if (!any_reactive && c.recommended < current) {
    *reason += "; no opinion that may scale in, holding at " + std::to_string(current);
  }
  if (any_missing) {
    c.hold_floor = true;
    if (c.recommended < current) {
      c.recommended = current;
      *reason += "; not scaling down while a metric is missing (" + missing + ")";
    } else {
      *reason += "; also missing: " + missing;
    }
  }
  return c;
}

}  // namespace

Decision Decide(const PoolSpec& spec, std::vector<Recommendation> recommendations,
                const BehaviorHistory& history, int current, TimeMs now, bool explain,
                const StabilizationBounds* bounds) {
  Decision d;
  d.at = now;
  d.current = current;
  Combined c = Combine(recommendations, current, explain, &d.policy, &d.reason);
  int desired = c.recommended;
  if (c.hold_floor) desired = std::max(desired, current);

  BehaviorResult b = ApplyBehavior(spec.behavior, history, current, desired, now, explain, bounds);
  if (!b.reason.empty()) d.reason += "; " + b.reason;
  desired = b.desired;

  int clamped = std::clamp(desired, spec.min_active, std::max(spec.min_active, spec.max_active));
  if (clamped != desired && explain) {
    d.reason += "; clamped to " + std::string(clamped > desired ? "min_active " : "max_active ") +
                std::to_string(clamped);
  }
  d.desired = clamped;
  d.direction = clamped > current ? Direction::kUp : clamped < current ? Direction::kDown : Direction::kNone;
  d.raw_recommendation = c.recommended;
  d.recommendations = std::move(recommendations);
  return d;
}

void RecordDecision(const PoolSpec& spec, const Decision& decision, BehaviorHistory* history) {
  RecordBehavior(history, decision.current, decision.raw_recommendation, decision.desired, decision.at);
  history->Prune(spec.behavior, decision.at);
}

}  // namespace warmpool
