#include <doctest/doctest.h>

#include "policies/cron.h"
#include "policies/time_zone.h"
#include "tests/support/read_file.h"
#include "warmpool/time.h"

using namespace warmpool;

namespace {

TimeMs Utc(int y, int mo, int d, int h, int mi, int s = 0) {
  return (DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s) * 1000;
}
int64_t Local(int y, int mo, int d, int h, int mi) {
  return DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60;
}

}  // namespace

TEST_CASE("cron: parsing, table-driven") {
  struct Case {
    const char* text;
    const char* error;  // "" = valid; else a part of the message
  };
  const Case cases[] = {
      {"0 9 * * 1-5", ""},
      {"*/15 * * * *", ""},
      {"0 0 1,15 * *", ""},
      {"0 22 * * SAT,sun", ""},
      {"0-30/10 8-18/2 * JAN-mar *", ""},
      {"5/20 * * * *", ""},
      {"  0\t9  * *   7 ", ""},
      {"@daily", ""},
      {"@hourly", ""},
      {"0 9 * *", "must have 5 fields (minute hour day-of-month month day-of-week), got 4"},
      {"", "got 0"},
      {"0 9 * * * *", "got 6"},
      {"60 * * * *", "minute field \"60\": \"60\" is out of range 0-59"},
      {"* 24 * * *", "hour field \"24\": \"24\" is out of range 0-23"},
      {"* * 0 * *", "day-of-month field \"0\": \"0\" is out of range 1-31"},
      {"* * * 13 *", "month field \"13\""},
      {"* * * * 8", "day-of-week field \"8\""},
      {"5-1 * * * *", "\"5-1\" is a backwards range"},
      {"*/0 * * * *", "step \"0\" must be a positive integer"},
      {"*/ * * * *", "step \"\" must be a positive integer"},
      {"1,,2 * * * *", "empty list item"},
      {"foo * * * *", "\"foo\" is not a value"},
      {"* * * FOO *", "\"FOO\" is not a value"},
      {"* * * * MON-", "\"\" is not a value"},
      {"@reboot", "unknown cron macro \"@reboot\""},
  };
  for (const Case& c : cases) {
    const std::string text = c.text;
    CAPTURE(text);
    Result<Cron> cron = Cron::Parse(c.text);
    CHECK(cron.ok() == (c.error[0] == '\0'));
    if (!cron.ok())
      CHECK_MESSAGE(cron.status().message().find(c.error) != std::string::npos, cron.status().message());
  }
}

TEST_CASE("cron: matching local minutes, table-driven") {
  struct Case {
    const char* text;
    int64_t local;
    bool want;
  };
  const Case cases[] = {
      {"0 9 * * 1-5", Local(2026, 3, 30, 9, 0), true},   // Monday
      {"0 9 * * 1-5", Local(2026, 3, 29, 9, 0), false},  // Sunday
      {"0 9 * * 1-5", Local(2026, 3, 30, 9, 1), false},
      {"0 0 13 * 5", Local(2026, 1, 13, 0, 0), true},  // the 13th (a Tuesday): either field matches
      {"0 0 13 * 5", Local(2026, 1, 16, 0, 0), true},  // a Friday
      {"0 0 13 * 5", Local(2026, 1, 14, 0, 0), false},
      {"0 0 */2 * *", Local(2026, 1, 3, 0, 0), true},  // day-of-week is *: day-of-month alone decides
      {"0 0 */2 * *", Local(2026, 1, 2, 0, 0), false},
      {"0 0 */2 * 1", Local(2026, 1, 12, 0, 0),
       false},  // "*/2" starts with *: both must match (a Monday, even)
      {"0 0 */2 * 1", Local(2026, 1, 7, 0, 0), false},  // odd, a Wednesday
      {"0 0 */2 * 1", Local(2026, 1, 19, 0, 0), true},  // odd, a Monday
      {"0 0 * * 0", Local(2026, 3, 29, 0, 0), true},
      {"0 0 * * 7", Local(2026, 3, 29, 0, 0), true},
      {"0 0 * * sun", Local(2026, 3, 30, 0, 0), false},
      {"*/15 * * * *", Local(2026, 3, 30, 10, 45), true},
      {"*/15 * * * *", Local(2026, 3, 30, 10, 50), false},
      {"0 0 29 2 *", Local(2028, 2, 29, 0, 0), true},
      {"0-30/10 8-18/2 * JAN-MAR *", Local(2026, 2, 2, 10, 20), true},
      {"0-30/10 8-18/2 * JAN-MAR *", Local(2026, 2, 2, 11, 20), false},
      {"0-30/10 8-18/2 * JAN-MAR *", Local(2026, 4, 2, 10, 20), false},
      {"5/20 * * * *", Local(2026, 2, 2, 10, 45), true},
      {"@daily", Local(1969, 12, 31, 0, 0), true},  // before the epoch
  };
  for (const Case& c : cases) {
    const std::string text = c.text;
    CAPTURE(text);
    CAPTURE(c.local);
    CHECK(Cron::Parse(c.text)->Matches(c.local) == c.want);
  }
}

TEST_CASE("time zone: Europe/Paris offsets and daylight-saving changes, from the TZif file") {
  Result<TimeZone> loaded = LoadTimeZone("/usr/share/zoneinfo", "Europe/Paris", ReadTestFile);
  REQUIRE_MESSAGE(loaded.ok(), loaded.status().message());
  const TimeZone& paris = *loaded;
  struct Case {
    TimeMs utc;
    int offset;
  };
  const Case offsets[] = {
      {Utc(2026, 1, 15, 12, 0), 3600},      {Utc(2026, 7, 15, 12, 0), 7200},
      {Utc(2026, 3, 29, 0, 59, 59), 3600},  {Utc(2026, 3, 29, 1, 0), 7200},
      {Utc(2026, 10, 25, 0, 59, 59), 7200}, {Utc(2026, 10, 25, 1, 0), 3600},
      {Utc(2060, 7, 1, 0, 0), 7200},        {Utc(2060, 12, 1, 0, 0), 3600},  // from the footer rule
      {Utc(1990, 7, 1, 0, 0), 7200},
  };
  for (const Case& c : offsets) {
    CAPTURE(FormatTime(c.utc));
    CHECK(paris.OffsetAt(c.utc / 1000) == c.offset);
  }
  // Local -> UTC: skipped minutes map to the jump, repeated ones to their first occurrence.
  CHECK(paris.ToUtc(Local(2026, 3, 29, 1, 59)) * 1000 == Utc(2026, 3, 29, 0, 59));
  CHECK(paris.ToUtc(Local(2026, 3, 29, 2, 30)) * 1000 == Utc(2026, 3, 29, 1, 0));
  CHECK(paris.ToUtc(Local(2026, 3, 29, 3, 0)) * 1000 == Utc(2026, 3, 29, 1, 0));
  CHECK(paris.ToUtc(Local(2026, 10, 25, 2, 30)) * 1000 == Utc(2026, 10, 25, 0, 30));
  CHECK(paris.ToUtc(Local(2026, 10, 25, 3, 0)) * 1000 == Utc(2026, 10, 25, 2, 0));
  // The southern hemisphere, from a POSIX rule: summer time spans the new year.
  Result<TimeZone> sydney = TimeZone::FromPosix("Sydney", "AEST-10AEDT,M10.1.0,M4.1.0/3");
  REQUIRE(sydney.ok());
  CHECK(sydney->OffsetAt(Utc(2026, 1, 15, 0, 0) / 1000) == 39600);
  CHECK(sydney->OffsetAt(Utc(2026, 7, 15, 0, 0) / 1000) == 36000);
  CHECK(TimeZone::FromPosix("x", "<+03>-3")->OffsetAt(0) == 10800);
  CHECK_FALSE(TimeZone::FromPosix("x", "CET-1CEST,M3.5").ok());
  CHECK_FALSE(TimeZone::FromTzif("x", "TZif2 but far too short").ok());
  CHECK(LoadTimeZone("/usr/share/zoneinfo", "Europe/Nowhere", ReadTestFile).status().message() ==
        "unknown time zone \"Europe/Nowhere\" (no file /usr/share/zoneinfo/Europe/Nowhere)");
  CHECK_FALSE(LoadTimeZone("/usr/share/zoneinfo", "../../etc/passwd", ReadTestFile).ok());
  CHECK(LoadTimeZone("/nonexistent", "UTC", ReadTestFile).ok());
  // policies/ reads no file of its own: without a reader handed in, only UTC can be had.
  CHECK(LoadTimeZone("/usr/share/zoneinfo", "UTC", nullptr).ok());
  CHECK(LoadTimeZone("/usr/share/zoneinfo", "Europe/Paris", nullptr).status().message() ==
        "time zone \"Europe/Paris\": no file reader was handed in");
}
