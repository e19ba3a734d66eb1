// The learned document: what warm_standby: auto's seasonal estimate has recorded, per pool, kept in its
// own file next to the state file (`<state_file>.learned`) and saved once a minute, because it is large
// (a week of minutes is ~10,000 steps) and changes once a step, while the state is saved every tick.
//
//   {"format": "warmpool-learned", "version": 1, "saved_at": <ms>,
//    "pools": {"<pool>": {"season_ms": n, "step_ms": n, "steps": [[id, lo, hi], ...]}}}
//
// Decoding is strict like the state's: every field present with its type, unknown fields refused,
// errors naming the JSON path.
#ifndef WARMPOOL_CONTROLLER_LEARNED_CODEC_H_
#define WARMPOOL_CONTROLLER_LEARNED_CODEC_H_

#include <map>
#include <string>

#include "warm_pool_sizer.h"
#include "warmpool/status.h"
#include "warmpool/time.h"

namespace warmpool {

struct LearnedState {
  std::map<std::string, WarmPoolSizer::SeasonalRecord> seasonal;
  TimeMs saved_at = 0;
};

std::string EncodeLearned(const LearnedState& state);
Result<LearnedState> DecodeLearned(const std::string& document);

}  // namespace warmpool

#endif  // WARMPOOL_CONTROLLER_LEARNED_CODEC_H_
