// Time as plain numbers: milliseconds since the Unix epoch, and durations in milliseconds.
// Policies and behavior receive time as an argument; only controller/ reads a clock.
#ifndef WARMPOOL_TIME_H_
#define WARMPOOL_TIME_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "warmpool/status.h"

namespace warmpool {

using TimeMs = int64_t;      // milliseconds since 1970-01-01T00:00:00Z
using DurationMs = int64_t;  // milliseconds

constexpr DurationMs kSecond = 1000;
constexpr DurationMs kMinute = 60 * kSecond;
constexpr DurationMs kHour = 60 * kMinute;
// The longest duration any setting takes (a year): anything longer is a typo, and would overflow the
// arithmetic on times (now + delay) long before it meant anything.
constexpr DurationMs kMaxSettingDuration = 366 * 24 * kHour;

// Parses "500ms", "15s", "5m", "1h", "1h30m", "1.5s". A bare number is refused (the unit is
// required so that "15" cannot mean seconds to one reader and minutes to another).
Result<DurationMs> ParseDuration(std::string_view text);

// The shortest exact spelling: 15000 -> "15s", 90000 -> "1m30s", 250 -> "250ms", 0 -> "0s".
std::string FormatDuration(DurationMs d);

// RFC 3339 UTC with milliseconds: "2026-11-21T05:31:00.000Z".
std::string FormatTime(TimeMs t);

}  // namespace warmpool

#endif  // WARMPOOL_TIME_H_
