// Policy: a pure function of (metric windows, pool, now, its own history) -> Recommendation.
// No I/O and no clock reads: the same inputs give the same output, live or in a backtest.
#ifndef WARMPOOL_POLICY_H_
#define WARMPOOL_POLICY_H_

#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "warmpool/decision.h"
#include "warmpool/metrics.h"
#include "warmpool/params.h"
#include "warmpool/server.h"
#include "warmpool/time.h"

namespace warmpool {

// A past recommendation of one policy, as the controller recorded it.
struct PolicyRecord {
  TimeMs at = 0;
  bool valid = false;
  int desired = 0;
  double metric = 0;  // the metric value the policy acted on (NaN when missing)
};

// One policy's records, with what identifies the policy that made them: kept across a restart (the
// learned file) and given back only to a policy of the same type, name and parameters.
struct PolicyHistory {
  std::string type, name;
  std::map<std::string, std::string> params;
  std::vector<PolicyRecord> records;  // oldest first
};

struct PolicyInput {
  const std::map<std::string, MetricWindow>* windows = nullptr;  // by metric name; never null
  const PoolState* pool = nullptr;                               // never null
  int current = 0;                                               // active servers now
  TimeMs now = 0;
  DurationMs stale_after = 0;             // samples older than this are missing
  std::span<const PolicyRecord> history;  // this policy's earlier records, oldest first
  // false: the caller does not need the reason this time and the policy may leave it empty (a replay
  // asks again, with true, on the ticks it reports). Never changes `desired` or `valid`.
  bool explain = true;

  // The window of `metric`, or nullptr when the pool did not fetch it.
  const MetricWindow* Window(const std::string& metric) const;
};

// What a policy reads besides the pool, asked once when it is created.
struct PolicyInputs {
  std::vector<std::string> metrics;  // metric names (the pool fetches them)
  // Whether Recommend reads PolicyInput::history. false: it gets an empty history, and none is
  // recorded for it each tick nor kept across a restart.
  bool history = false;
};

class Policy {
 public:
  virtual ~Policy() = default;
  virtual const std::string& Name() const = 0;
  virtual PolicyInputs Inputs() const = 0;
  virtual Recommendation Recommend(const PolicyInput& in) const = 0;
};

}  // namespace warmpool

#endif  // WARMPOOL_POLICY_H_
