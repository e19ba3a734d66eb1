// schedule: a minimum capacity by cron-like time windows in a time zone.
//
//   timezone: Europe/Paris           # IANA name, default UTC
//   windows:
//     - {cron: "0 9 * * 1-5", duration: 8h, min_active: 6}
//     - {cron: "30 11 * * *", duration: 2h, min_active: 8}
//
// A window opens at each instant its 5-field cron expression matches the local wall clock and stays
// open `duration` (elapsed time, so a window that spans a daylight-saving change still lasts exactly
// that long). The policy recommends the largest min_active of the windows open at `now`; outside every
// window it recommends 0 (valid, so the other policies decide). It may scale down (a window closing).
//
// Local time is computed from PolicyInput.now and the zone's TZif data, loaded once when the policy is
// created (see time_zone.h for why not std::chrono::locate_zone); never from the clock or the
// process's TZ. Cron semantics around daylight-saving changes are Vixie cron's (see cron.h).
#ifndef WARMPOOL_POLICIES_SCHEDULE_H_
#define WARMPOOL_POLICIES_SCHEDULE_H_

#include <memory>
#include <string>
#include <vector>

#include "policies/cron.h"
#include "policies/time_zone.h"
#include "warmpool/policy.h"

namespace warmpool {

struct ScheduleSpec {
  struct Window {
    Cron cron;
    DurationMs duration = 0;  // > 0
    int min_active = 0;
  };
  TimeZone zone = TimeZone::Utc();
  std::vector<Window> windows;
};

constexpr DurationMs kMaxScheduleWindow = 31 * 24 * kHour;

// The pure rule, exposed for tests.
Recommendation ScheduleRecommend(const std::string& name, const ScheduleSpec& spec, TimeMs now);

// Params: timezone (default UTC), zoneinfo_dir (default /usr/share/zoneinfo), windows[i].cron,
// windows[i].duration (up to 31d), windows[i].min_active (>= 0). At least one window.
std::unique_ptr<Policy> NewSchedulePolicy(const std::string& name, const Params& params,
                                          std::vector<std::string>* errors);

}  // namespace warmpool

#endif  // WARMPOOL_POLICIES_SCHEDULE_H_
