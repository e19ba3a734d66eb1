// The persisted state document: the operator's controls and each pool's behavior history, as JSON.
// The state store keeps it as an opaque string; this file gives it a shape and checks it on the way in.
//
//   {"format": "warmpool-state", "version": 1, "saved_at": <ms>,
//    "controls": {"<pool>": {"override": null | {"active": n|null, "min_active": n|null,
//                                                 "max_active": n|null, "set_at": ms, "expires_at": ms,
//                                                 "reason": "..", "set_by": ".."},
//                            "pause": {"scale_up": b, "scale_down": b, "set_at": ms, "reason": "..",
//                                      "set_by": ".."}}},
//    "behavior": {"<pool>": {"recommendations": [{"at": ms, "count": n}, ..],
//                            "scale_ups": [..], "scale_downs": [..]}},
//    "providers": {"<pool>": {"<kind>": {"<server>": ms}}},
//    "applying": {"<pool>": {"at": ms, "promote": [".."], "drain": [..], "provision": [..],
//                            "retire": [..]}}}
//
// "providers" is what each pool's provider remembers that its servers cannot tell (ProviderMemory:
// the HAProxy provider's drains in progress, ...), so that a restart finishes what the last process
// started. Version 1 (without it) is still read. "applying" (optional) is the plan each pool was
// applying when the document was saved: it is written before Apply and gone from the save after it, so
// in a document a restart reads it is the plan the last process died in (Provider::Interrupted).
//
// Decoding is strict: every field must be present with its type (times and counts are non-negative
// integers), and unknown fields are refused, so a hand edit with a typo is caught, not half-applied.
//
// The learned document, the same way: what the pools have learned from their load, kept in its own file
// beside the state file (`<state file>.learned`) and saved once a minute, because it is large (a week of
// minutes is ~10,000 seasonal steps a pool; a policy's history is up to 20,000 ticks) and mostly changes
// once a step, while the state is saved every tick. Per pool: warm_standby: auto's seasonal record
// (null without a season) and the histories of the policies that read theirs (a predictive policy
// learns its season from it), each with the type, name and parameters of the policy that made it:
//
//   {"format": "warmpool-learned", "version": 2, "saved_at": <ms>,
//    "pools": {"<pool>": {"seasonal": null | {"season_ms": n, "step_ms": n,
//                                             "steps": [[step, lowest, highest], ..]},
//                         "policies": [{"type": "..", "name": "..", "params": {"<key>": "<value>", ..},
//                                       "records": [[at_ms, valid, desired, metric | null], ..]}]}}}
//
// Records are in time order. Version 1 (the seasonal record alone: "pools": {"<pool>": {"season_ms",
// "step_ms", "steps"}}) is still read.
#ifndef WARMPOOL_CONTROLLER_STATE_CODEC_H_
#define WARMPOOL_CONTROLLER_STATE_CODEC_H_

#include <map>
#include <string>
#include <vector>

#include "policies/warm_pool_sizer.h"
#include "warmpool/behavior.h"
#include "warmpool/controls.h"
#include "warmpool/policy.h"
#include "warmpool/provider.h"
#include "warmpool/status.h"
#include "warmpool/time.h"

namespace warmpool {

struct PersistedState {
  std::map<std::string, PoolControls> controls;
  std::map<std::string, BehaviorHistory> behavior;
  std::map<std::string, ProviderMemory>
      providers;  // by pool; pools whose provider remembers nothing are left out
  // The plan a pool was applying when this was saved (written ahead of Provider::Apply), by pool.
  struct Applying {
    TimeMs at = 0;
    ScalePlan plan;  // its reason is not kept
  };
  std::map<std::string, Applying> applying;
  TimeMs saved_at = 0;
};

constexpr int kStateVersion = 2;

std::string EncodeState(const PersistedState& state);

// Errors are InvalidArgument and name the JSON path, e.g.
// "controls.web.override.active: expected an integer or null, got \"three\"".
Result<PersistedState> DecodeState(const std::string& document);

// DecodeState's verdict alone, in the shape FileStateStore::Options::validate takes, so that a
// document that does not decode is moved aside like a corrupt one instead of being overwritten.
Status ValidateState(const std::string& document);

struct LearnedState {
  std::map<std::string, WarmPoolSizer::SeasonalRecord> seasonal;  // by pool
  std::map<std::string, std::vector<PolicyHistory>> histories;    // by pool
  TimeMs saved_at = 0;
};

constexpr int kLearnedVersion = 2;

std::string EncodeLearned(const LearnedState& state);
Result<LearnedState> DecodeLearned(const std::string& document);

}  // namespace warmpool

#endif  // WARMPOOL_CONTROLLER_STATE_CODEC_H_
