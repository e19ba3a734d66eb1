// Cron: a 5-field cron expression (minute hour day-of-month month day-of-week) matched against local
// wall-clock minutes.
//
// Fields accept `*`, numbers, lists (1,15), ranges (1-5), steps (*/15, 0-30/10, 5/20 = 5-max/20) and
// names (JAN-DEC, SUN-SAT, case-insensitive); day-of-week 0 and 7 are both Sunday. Macros: @yearly
// (@annually), @monthly, @weekly, @daily (@midnight), @hourly. As in Vixie cron, when both
// day-of-month and day-of-week are restricted (neither starts with `*`) a day matches if EITHER does.
#ifndef WARMPOOL_POLICIES_CRON_H_
#define WARMPOOL_POLICIES_CRON_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "policies/time_zone.h"
#include "warmpool/status.h"

namespace warmpool {

class Cron {
 public:
  // Returns InvalidArgument naming the field and the offending text.
  static Result<Cron> Parse(std::string_view text);

  bool MatchesDay(int64_t local_days) const;  // days since 1970-01-01, local calendar
  bool Matches(int64_t local_seconds) const;  // that minute (seconds are ignored)

  // The most recent instant u <= now at which the expression matched in `zone`, looking back no
  // further than `now - lookback` (exclusive); -1 when there is none. Seconds; pure arithmetic.
  // Daylight-saving changes, as Vixie cron handles them: an expression at fixed times (neither minute
  // nor hour starts with `*`) matches a repeated local minute once, the first time, and a skipped one
  // at the instant of the jump; an expression with a wildcard minute or hour follows the wall clock
  // (repeated minutes match twice, skipped ones never).
  int64_t LastMatch(const TimeZone& zone, int64_t now, int64_t lookback) const;

  const std::string& text() const { return text_; }

 private:
  std::string text_;
  uint64_t minutes_ = 0;  // bit i: minute i
  uint32_t hours_ = 0;
  uint32_t days_ = 0;      // bit d: day-of-month d (1..31)
  uint32_t months_ = 0;    // bit m: month m (1..12)
  uint32_t weekdays_ = 0;  // bit w: 0 = Sunday .. 6
  bool day_star_ = false, weekday_star_ = false;
  bool fixed_time_ = true;  // neither minute nor hour starts with `*`
};

}  // namespace warmpool

#endif  // WARMPOOL_POLICIES_CRON_H_
