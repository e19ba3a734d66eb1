// TimeZone: UTC offsets of an IANA time zone, from its TZif file, without the C library's global TZ
// state and without reading the clock.
//
// Why not std::chrono::locate_zone: libstdc++ 12 (Debian 12's GCC) does not implement the C++20 time
// zone database. So this reads the zone's TZif file (RFC 8536; version 2+ 64-bit transitions) once,
// when a policy is created, and uses the POSIX TZ rule in the file's footer ("CET-1CEST,M3.5.0,
// M10.5.0/3") for instants after the last listed transition. After loading, a TimeZone is an immutable
// value: lookups are pure arithmetic, safe from any thread.
//
// Local times are seconds since 1970-01-01T00:00 on the local wall clock (as if it were UTC).
#ifndef WARMPOOL_POLICIES_TIME_ZONE_H_
#define WARMPOOL_POLICIES_TIME_ZONE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "warmpool/params.h"
#include "warmpool/status.h"

namespace warmpool {

// Days since 1970-01-01 <-> proleptic Gregorian dates (H. Hinnant's algorithms).
int64_t DaysFromCivil(int64_t year, int month, int day);
void CivilFromDays(int64_t days, int64_t* year, int* month, int* day);
int WeekdayFromDays(int64_t days);  // 0 = Sunday .. 6 = Saturday

class TimeZone {
 public:
  static TimeZone Utc();
  // A TZif file's bytes (versions 1 to 4). `name` is only for messages.
  static Result<TimeZone> FromTzif(std::string name, std::string_view bytes);
  // A POSIX TZ string such as "CET-1CEST,M3.5.0,M10.5.0/3" or "<+03>-3".
  static Result<TimeZone> FromPosix(std::string name, std::string_view tz);

  const std::string& name() const { return name_; }
  // The offset from UTC (seconds, east positive) in force at a UTC instant (seconds).
  int OffsetAt(int64_t utc) const;
  int64_t ToLocal(int64_t utc) const { return utc + OffsetAt(utc); }
  // The UTC instant of a local wall-clock time. A repeated local time (the clocks went back) gives
  // its first occurrence; a skipped one (the clocks went forward) gives the instant of the jump,
  // which is when cron runs the jobs of the skipped minutes.
  int64_t ToUtc(int64_t local) const;

 private:
  struct Rule {       // one transition date of a POSIX TZ rule
    char kind = 'M';  // 'J': Julian day 1..365 without Feb 29; 'D': zero-based day; 'M': month.week.day
    int a = 0, b = 0, c = 0;  // J/D: a = day; M: a = month, b = week 1..5, c = weekday 0..6
    int time = 2 * 3600;      // local seconds after midnight, may be negative or > 24 h
  };
  struct Posix {
    bool valid = false;
    int std_offset = 0;  // east positive
    bool has_dst = false;
    int dst_offset = 0;
    Rule start, end;
  };
  static bool ParsePosix(std::string_view tz, Posix* out);
  static int64_t RuleInstant(const Rule& r, int64_t year, int offset_before);
  int PosixOffset(int64_t utc) const;

  std::string name_ = "UTC";
  std::vector<int64_t> transitions_;  // UTC seconds, ascending
  std::vector<int> offsets_;          // offsets_[i] is in force from transitions_[i]
  int initial_offset_ = 0;            // before the first transition
  Posix posix_;                       // after the last transition, when valid
};

// Reads `dir`/`name` (e.g. /usr/share/zoneinfo/Europe/Paris) through `read_file`, the reader the
// caller hands in (Params::read_file: policies/ does no I/O of its own). "UTC" needs no file. Names
// with ".." or a leading '/' are refused. Done when a policy is created, never while recommending.
Result<TimeZone> LoadTimeZone(const std::string& dir, const std::string& name, const FileReader& read_file);

}  // namespace warmpool

#endif  // WARMPOOL_POLICIES_TIME_ZONE_H_
