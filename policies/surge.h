// surge: a rise in load faster than anything in the pool's recent record (a flash crowd: a launch, a
// link from a front page, bots) is met at once, for where it is heading, not for this tick's load.
//
//   surge:
//     metric: rps             # default: the first target_tracking/predictive policy's metric
//     server_capacity: 100    # metric one server carries (default: that policy's target_per_server)
//     window: 1m              # a rise is measured over this: the load now minus the lowest in the window
//     lead: 90s               # how far ahead to provision: the time a new server takes to be ready
//     min_rise: 0.5           # a surge rises by at least 50% of the load it rose from,
//     min_servers: 2          #   by at least 2 servers' worth,
//     memory: 24h             #   and by more than any rise over `window` in the last 24h
//     hold: 2m                # it ends once the load has not risen that fast (min_rise, min_servers) for 2m
//
// Why: the policies and their behavior are built for the load the pool knows. Target tracking follows
// this tick's load, its scale-up limit (HPA's: 4 servers or 100% per 15 s) counts the active servers,
// and the warm pool holds the rise the record makes likely. A load x10 within a minute that nothing
// announced outruns all three: the limit doubles a pool that needs ten times its size, the servers
// ordered arrive a provisioning delay later for the load of the tick that ordered them, and the warm
// pool, sized on a quiet hour, is empty.
//
// While a surge lasts, the decision is at least (policies/pool_decider.h, after behavior, before an
// operator's controls, which still win: an override, a paused scale-up):
//   - every warm standby promoted at once (desired >= active + standbys; stopped ones are resumed), and
//   - the servers for the load projected `lead` ahead at the surge's rate (the rise over the window
//     divided by the time it took), so the servers provisioned now are the ones needed when they are
//     ready: ceil((load + rate * lead) / server_capacity);
// capped at max_active. The floor never falls while the surge lasts (hysteresis: a rise that pauses for
// a tick does not undo its servers), and is not written into the behavior's recommendations, so when
// the surge ends the pool is back under its policies and behavior at once: the scale-down window holds
// what the policies wanted, not the projection. The decision says so: "surge: rps +225% in 1m (200 ->
// 650; the record's largest rise +40), provisioning for 1325 in 1m30s -> 15".
//
// The record starts empty (a new pool or a restart): until `memory` has passed, a rise is judged only
// by min_rise and min_servers. It keeps the largest rise of each `window` of time; a window's enters the
// record two windows later (the rises since are this event's own), and the record is their running
// maximum over `memory`. Cost per tick: a scan of the window's few loads; memory: a few ticks' loads
// and at most memory / window maxima (usually far fewer: only a descending run is kept). Pure in the
// sense of policies: no I/O, no clock; Observe is fed each tick.
#ifndef WARMPOOL_POLICIES_SURGE_H_
#define WARMPOOL_POLICIES_SURGE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "warmpool/params.h"
#include "warmpool/pool_spec.h"
#include "warmpool/sliding_vector.h"
#include "warmpool/time.h"

namespace warmpool {

class SurgeDetector {
 public:
  // REQUIRES: a resolved spec (enabled, server_capacity > 0, window > 0), as the config loader makes it.
  explicit SurgeDetector(SurgeSpec spec);

  // Records the load at `t` (times increase; a non-finite load is ignored) and updates the surge.
  void Observe(TimeMs t, double load);

  struct Surge {
    bool active = false;
    int floor = 0;         // the servers the surge wants active (before max_active)
    bool started = false;  // it began at the last Observe
    bool ended = false;    // it ended at the last Observe
    std::string reason;    // "surge: ..." while active, "surge over: ..." when it ended, else ""
  };
  const Surge& Current() const { return surge_; }

  const SurgeSpec& spec() const { return spec_; }

 private:
  struct Point {
    TimeMs t;
    double load;
  };

  SurgeSpec spec_;
  SlidingVector<Point> points_;  // the loads of the last `window` (a few ticks)
  // The record: the largest rise of each `window` of time (a bucket). The bucket now and the one
  // before hold this event's own rises; older ones enter `record_`, a running maximum over `memory`
  // (ids ascending, maxima descending: its front is the record).
  struct Bucket {
    int64_t id = -1;  // t / window of the rises it holds; -1: none
    double max = 0;
  };
  Bucket now_, before_;
  TimeMs now_end_ = 0;  // where now_'s bucket ends
  SlidingVector<Bucket> record_;
  TimeMs last_fast_ = 0;      // the last tick the load rose fast enough to keep a surge going
  double peak_projection_ = 0;
  Surge surge_;
};

// Reads `surge:`'s settings from `params` into `spec` and checks them; metric and server_capacity are
// read too but resolved by the config loader. Errors name paths.
bool ReadSurgeSpec(const Params& params, SurgeSpec* spec, std::vector<std::string>* errors);

}  // namespace warmpool

#endif  // WARMPOOL_POLICIES_SURGE_H_
