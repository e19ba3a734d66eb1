// warm_standby: auto — size the warm pool to the rise in load that is likely before new servers can
// be ready, instead of a fixed count.
//
//   warm_standby:
//     auto:
//       metric: rps              # default: the first target_tracking/predictive policy's metric
//       server_capacity: 100     # metric one server carries at full capacity (default: that policy's
//                                # target_per_server, which sizes a little larger)
//       min: 0                   # bounds of the standby count
//       max: 10
//       horizon: 2m              # how far ahead: the provisioning delay plus a tick
//       quantile: 0.95           # recent: the rise over `horizon` not exceeded in 95% of ...
//       recent: 1h               #   ... the ticks of the last hour
//       season: 24h              # seasonal: the rise seen at this time of earlier days (0: off;
//                                #   30m with seasons: 336 for surges at the same minute of a half-hour)
//       seasons: 7               #   over the last 7 of them
//       season_share: 0.2        #   prepare for a rise seen in at least 20% of those (2 of 7)
//       season_slack: 2m         #   the "same time" is +/- this (surges start a minute early or late)
//       step: 1m                 #   resolution of the seasonal record
//
// Why: promotion takes seconds, provisioning takes minutes. Between a surge and the moment new servers
// are ready, only the warm pool can add capacity, so it must hold the rise that is likely within the
// provisioning delay. A fixed count either pays for standbys nobody needs at night or is too small at
// the surge. The two estimates:
//   - recent: every tick's rise over the next `horizon` (its highest load in that span minus its load),
//     over the last `recent`; the `quantile` of those. It follows the current regime (busy hours are
//     jumpy, quiet hours are not). A new rise above the estimate raises it at once; a quieter spell
//     lowers it at the next minute.
//   - seasonal: for each of the last `seasons` seasons, the rise within [t - k*season - slack,
//     t - k*season + horizon + slack]: its highest load minus the lowest load up to the same time, less
//     what today's load already stands above that low (a surge that has come today has used its rise);
//     the rise seen in at least `season_share` of them (the ceil(share * seasons)-th largest). Surges
//     that come at the same time every day (jobs, batch uploads, a daily newsletter) are ready for
//     before they start, including the first minutes that the recent estimate cannot see coming.
// The likely rise is the larger of the two; the pool wants ceil((load + rise) / server_capacity)
// servers in all, and the standby count is that minus the active servers the decision wants, within
// [min, max]. Standby and active servers are the same machines: capacity the active servers already
// have to spare (rounding, a scale-down still stabilizing) counts toward the rise.
//
// Cost: O(1) amortized per tick for the rises (a running maximum of the loads since the oldest tick
// whose horizon has not passed), keeping the `recent / tick` rises sorted (the rise that enters takes
// the place of the one that leaves: two binary searches and a move of the rises between the two places
// per tick; the quantile is then an index, taken once a minute or on a new rise above it),
// O(seasons * (horizon + 2 slack) / step) and a sort of the seasons once per step, and per tick the
// seasonal rank over the seasons with the largest rises (a few times ceil(season_share * seasons) of
// them, at most all). Memory: the last `recent` of rises, and
// seasons * season / step buckets of two doubles plus as many windows kept per step of the season
// (7 days at 1m, as 24h x 7 or 30m x 336: about 720 KB). Pure in the sense of policies: no I/O, no
// clock; Observe is fed by the controller each tick.
#ifndef WARMPOOL_POLICIES_WARM_POOL_SIZER_H_
#define WARMPOOL_POLICIES_WARM_POOL_SIZER_H_

#include <cstdint>
#include <deque>
#include <limits>
#include <string>
#include <vector>

#include "warmpool/params.h"
#include "warmpool/pool_spec.h"
#include "warmpool/sliding_vector.h"
#include "warmpool/time.h"

namespace warmpool {

class WarmPoolSizer {
 public:
  // REQUIRES: a valid, resolved spec (enabled, server_capacity > 0), as the config loader makes it.
  explicit WarmPoolSizer(WarmAutoSpec spec);

  // Records the load seen at `t`. Times must increase; a non-finite load is ignored.
  void Observe(TimeMs t, double load);

  struct Size {
    int standby = 0;      // the warm pool target
    int needed = 0;       // servers for load + rise
    double rise = 0;      // the likely rise (max of the two)
    double recent = 0;    // the recent estimate
    double seasonal = 0;  // the seasonal estimate
    std::string reason;   // empty unless explained
  };
  // The target for `load` now, with `active` servers wanted by the decision.
  Size Target(double load, int active, bool explain) const;

  const WarmAutoSpec& spec() const { return spec_; }

  // The seasonal record (each step's lowest and highest load), for keeping it across a restart: the
  // recent estimate relearns within `recent`, a week of seasons would take a week.
  struct SeasonalRecord {
    DurationMs season = 0, step = 0;  // what the record means: it restores only into the same ones
    struct Step {
      int64_t id;  // the step's start / step
      double lo, hi;
    };
    std::vector<Step> steps;  // oldest first
  };
  SeasonalRecord ExportSeasonal() const;
  // Replaces the seasonal record with `record` (before the first Observe). False, changing nothing,
  // when its season or step differ from the spec's or the seasonal estimate is off.
  bool ImportSeasonal(const SeasonalRecord& record);

 private:
  struct Pending {
    TimeMs t;
    double load;
  };
  struct Rise {
    TimeMs t;
    double rise;
  };
  struct Bucket {
    int64_t id =
        std::numeric_limits<int64_t>::min();  // which step this slot holds; slots are reused round the ring
    double lo = 0, hi = 0;
  };
  void RecomputeRecent();
  void RecomputeSeasonal(int64_t bucket);
  double Seasonal(double load) const;
  size_t Slot(int64_t bucket) const;  // the ring slot of a bucket id

  WarmAutoSpec spec_;
  size_t season_need_;              // ceil(season_share * seasons), at least 1: the rank of the seasonal rise
  SlidingVector<Pending> pending_;  // ticks whose horizon has not passed yet
  // The loads since the oldest pending tick that a later one has not exceeded (descending): the
  // running maximum that gives each pending tick its peak in O(1) amortized, not O(horizon / tick).
  SlidingVector<Pending> peaks_;
  SlidingVector<Rise> rises_;   // finished rises within `recent`
  std::vector<double> sorted_;  // the same rises' values, ascending (the quantile is an index)
  double recent_ = 0;
  int64_t recent_minute_ = std::numeric_limits<int64_t>::min();
  std::vector<Bucket> ring_;
  int64_t bucket_ = std::numeric_limits<int64_t>::min();  // the step of the last observation
  struct SeasonRise {
    double lo, hi;  // an earlier season's lowest load up to this time (within the slack), highest after
    double rise;    // hi - lo
  };
  struct Window {
    int64_t at;  // the step, in an earlier season, that matches this time
    double lo, hi;
    bool data;
  };
  // One per step of the season: the windows of the last `seasons` seasons at that step, in time order
  // and (those with data) by rise. A window lies wholly in the past, so it is computed once, when its
  // step of the season next comes round, and kept until it is `seasons` seasons old.
  struct Phase {
    std::deque<Window> by_time;
    std::vector<SeasonRise> by_rise;  // largest rise first
  };
  Window WindowAt(int64_t at) const;
  std::vector<Phase> phases_;
  const std::vector<SeasonRise>& Seasons() const;  // this step's phase: the earlier seasons with data
  size_t phase_ = 0;                               // the phase of the last observation's step
  mutable std::vector<double> top_;                // Seasonal's largest `season_need_` rises left (scratch)
  bool any_ = false;
};

// warm_standby.stopped: auto's defaults: a longer horizon (10m: a new server's provisioning, where a
// resume is the faster answer) and a higher quantile (0.99: the rarer, larger rises) than the running
// tier's, on the same load metric and server capacity (taken from `running`, resolved or not); the
// season off (0: the running tier prepares for the surges that come at the same time), the other
// settings at their defaults.
WarmAutoSpec StoppedAutoDefaults(const WarmAutoSpec& running);

// Reads `warm_standby.auto`'s settings (min, max, horizon, ...) from `params` into `spec` and checks
// them; metric and server_capacity are read too but resolved by the config loader. Errors name paths.
bool ReadWarmAutoSpec(const Params& params, WarmAutoSpec* spec, std::vector<std::string>* errors);

}  // namespace warmpool

#endif  // WARMPOOL_POLICIES_WARM_POOL_SIZER_H_
