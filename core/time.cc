#include "warmpool/time.h"

#include <cmath>
#include <cstdio>
#include <ctime>

namespace warmpool {
namespace {

// Units longest first so that "ms" is tried before "m".
struct Unit {
  std::string_view suffix;
  double ms;
};
constexpr Unit kUnits[] = {{"ms", 1}, {"h", 3600e3}, {"m", 60e3}, {"s", 1e3}, {"d", 86400e3}};

Status BadDuration(std::string_view text, std::string_view why) {
  return Status::InvalidArgument("must be a duration like 15s, 5m or 1h30m (" + std::string(why) +
                                 "), got \"" + std::string(text) + "\"");
}

}  // namespace

Result<DurationMs> ParseDuration(std::string_view text) {
  if (text.empty()) return BadDuration(text, "empty");
  if (text == "0") return DurationMs{0};
  std::string_view rest = text;
  double total = 0;
  while (!rest.empty()) {
    size_t i = 0;
    while (i < rest.size() && ((rest[i] >= '0' && rest[i] <= '9') || rest[i] == '.')) ++i;
    if (i == 0) return BadDuration(text, "expected a number");
    std::string number(rest.substr(0, i));
    char* end = nullptr;
    double value = std::strtod(number.c_str(), &end);
    if (end != number.c_str() + number.size()) return BadDuration(text, "bad number");
    rest.remove_prefix(i);
    const Unit* unit = nullptr;
    for (const Unit& u : kUnits) {
      if (rest.substr(0, u.suffix.size()) == u.suffix) {
        unit = &u;
        break;
      }
    }
    if (unit == nullptr) return BadDuration(text, rest.empty() ? "missing unit" : "unknown unit");
    rest.remove_prefix(unit->suffix.size());
    total += value * unit->ms;
  }
  if (total > 1e15) return BadDuration(text, "too large");
  return static_cast<DurationMs>(std::llround(total));
}

std::string FormatDuration(DurationMs d) {
  if (d == 0) return "0s";
  std::string out;
  if (d < 0) {
    out = "-";
    d = -d;
  }
  if (d % kSecond != 0 && d < kMinute) return out + std::to_string(d) + "ms";
  DurationMs h = d / kHour, m = (d % kHour) / kMinute, ms = d % kMinute;
  if (h) out += std::to_string(h) + "h";
  if (m) out += std::to_string(m) + "m";
  if (ms) {
    if (ms % kSecond == 0) {
      out += std::to_string(ms / kSecond) + "s";
    } else {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.3gs", static_cast<double>(ms) / kSecond);
      out += buf;
    }
  }
  return out;
}

std::string FormatTime(TimeMs t) {
  std::time_t secs = static_cast<std::time_t>(t >= 0 ? t / 1000 : (t - 999) / 1000);
  int millis = static_cast<int>(t - static_cast<TimeMs>(secs) * 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
  return buf;
}

}  // namespace warmpool
