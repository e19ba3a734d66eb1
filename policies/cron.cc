#include "policies/cron.h"

#include <cctype>
#include <vector>

#include "warmpool/text.h"

namespace warmpool {
namespace {

struct Field {
  const char* name;
  int min, max;
  const char* const* names;  // names[i] means min + i; nullptr when the field has none
};
constexpr const char* kMonths[] = {"jan", "feb", "mar", "apr", "may", "jun",  "jul",
                                   "aug", "sep", "oct", "nov", "dec", nullptr};
constexpr const char* kWeekdays[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", nullptr};
constexpr Field kFields[] = {{"minute", 0, 59, nullptr},
                             {"hour", 0, 23, nullptr},
                             {"day-of-month", 1, 31, nullptr},
                             {"month", 1, 12, kMonths},
                             {"day-of-week", 0, 7, kWeekdays}};

constexpr int64_t kDay = 86400;

bool ParseValue(std::string_view s, const Field& f, int* out) {
  if (s.empty()) return false;
  if (f.names != nullptr && std::isalpha(static_cast<unsigned char>(s[0]))) {
    std::string lower;
    for (char c : s) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (int i = 0; f.names[i] != nullptr; ++i) {
      if (lower == f.names[i]) {
        *out = f.min + i;
        return true;
      }
    }
    return false;
  }
  int n = 0;
  for (char c : s) {
    if (c < '0' || c > '9' || n > 1000) return false;
    n = n * 10 + (c - '0');
  }
  *out = n;
  return true;
}

// Sets the bits of one field; returns "" or what is wrong.
std::string ParseField(std::string_view text, const Field& f, uint64_t* bits) {
  auto quoted = [](std::string_view s) { return "\"" + std::string(s) + "\""; };
  if (text.empty()) return "empty";
  while (true) {
    const size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    if (item.empty()) return "empty list item";
    std::string_view range = item, step_text;
    if (size_t slash = item.find('/'); slash != std::string_view::npos) {
      range = item.substr(0, slash);
      step_text = item.substr(slash + 1);
    }
    int lo = f.min, hi = f.max, step = 1;
    if (range != "*") {
      const size_t dash = range.find('-');
      if (!ParseValue(range.substr(0, dash), f, &lo))
        return quoted(range.substr(0, dash)) + " is not a value";
      hi = lo;
      if (dash != std::string_view::npos) {
        if (!ParseValue(range.substr(dash + 1), f, &hi))
          return quoted(range.substr(dash + 1)) + " is not a value";
      } else if (!step_text.empty() || item.find('/') != std::string_view::npos) {
        hi = f.max;  // "5/20" means 5-max/20
      }
      if (lo < f.min || lo > f.max || hi < f.min || hi > f.max) {
        return quoted(range) + " is out of range " + std::to_string(f.min) + "-" + std::to_string(f.max);
      }
      if (lo > hi) return quoted(range) + " is a backwards range";
    }
    if (item.find('/') != std::string_view::npos) {
      if (!ParseValue(step_text, Field{"", 0, 0, nullptr}, &step) || step < 1) {
        return "step " + quoted(step_text) + " must be a positive integer";
      }
    }
    for (int v = lo; v <= hi; v += step) *bits |= uint64_t{1} << v;
    if (comma == std::string_view::npos) return "";
    text.remove_prefix(comma + 1);
  }
}

}  // namespace

Result<Cron> Cron::Parse(std::string_view text) {
  Cron c;
  c.text_ = std::string(text);
  std::string_view spec = text;
  if (!text.empty() && text[0] == '@') {
    static constexpr std::pair<std::string_view, std::string_view> kMacros[] = {
        {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
        {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
        {"@hourly", "0 * * * *"}};
    spec = {};
    for (const auto& [macro, expansion] : kMacros) {
      if (text == macro) spec = expansion;
    }
    if (spec.empty()) {
      return Status::InvalidArgument("unknown cron macro \"" + std::string(text) +
                                     "\" (known: @yearly, @annually, @monthly, @weekly, @daily, "
                                     "@midnight, @hourly)");
    }
  }
  std::vector<std::string_view> fields;
  size_t i = 0;
  while (i < spec.size()) {
    while (i < spec.size() && std::isspace(static_cast<unsigned char>(spec[i]))) ++i;
    size_t j = i;
    while (j < spec.size() && !std::isspace(static_cast<unsigned char>(spec[j]))) ++j;
    if (j > i) fields.push_back(spec.substr(i, j - i));
    i = j;
  }
  if (fields.size() != 5) {
    return Status::InvalidArgument("cron \"" + std::string(text) + "\" must have 5 fields (minute hour " +
                                   "day-of-month month day-of-week), got " + std::to_string(fields.size()));
  }
  uint64_t bits[5] = {};
  for (int f = 0; f < 5; ++f) {
    std::string err = ParseField(fields[f], kFields[f], &bits[f]);
    if (!err.empty()) {
      return Status::InvalidArgument("cron \"" + std::string(text) + "\": " + kFields[f].name + " field \"" +
                                     std::string(fields[f]) + "\": " + err);
    }
  }
  c.minutes_ = bits[0];
  c.hours_ = static_cast<uint32_t>(bits[1]);
  c.days_ = static_cast<uint32_t>(bits[2]);
  c.months_ = static_cast<uint32_t>(bits[3]);
  c.weekdays_ = static_cast<uint32_t>((bits[4] | (bits[4] >> 7)) & 0x7f);  // 7 is Sunday too
  c.day_star_ = fields[2][0] == '*';
  c.weekday_star_ = fields[4][0] == '*';
  c.fixed_time_ = fields[0][0] != '*' && fields[1][0] != '*';
  return c;
}

bool Cron::MatchesDay(int64_t local_days) const {
  int64_t year;
  int month, day;
  CivilFromDays(local_days, &year, &month, &day);
  if (!(months_ >> month & 1)) return false;
  const bool dom = days_ >> day & 1, dow = weekdays_ >> WeekdayFromDays(local_days) & 1;
  return day_star_ || weekday_star_ ? dom && dow : dom || dow;
}

bool Cron::Matches(int64_t local_seconds) const {
  const int64_t minute_of_day = FloorDiv(local_seconds, 60) - FloorDiv(local_seconds, kDay) * 1440;
  return (minutes_ >> (minute_of_day % 60) & 1) && (hours_ >> (minute_of_day / 60) & 1) &&
         MatchesDay(FloorDiv(local_seconds, kDay));
}

int64_t Cron::LastMatch(const TimeZone& zone, int64_t now, int64_t lookback) const {
  const int64_t oldest = now - lookback;  // exclusive
  if (!fixed_time_) {
    // A wildcard minute or hour follows the wall clock: repeated minutes match twice, skipped ones
    // never. Walk real minutes back.
    for (int64_t u = FloorDiv(now, 60) * 60; u > oldest; u -= 60) {
      if (Matches(zone.ToLocal(u))) return u;
    }
    return -1;
  }
  // A fixed time: walk local minutes back; ToUtc is monotonic, so the first match at or before `now`
  // is the latest. Start 3 h ahead of the local time now: a repeated hour maps back to earlier instants.
  const int64_t start = zone.ToLocal(now) + 3 * 3600, stop = zone.ToLocal(oldest) - 3 * 3600;
  for (int64_t day = FloorDiv(start, kDay); day >= FloorDiv(stop, kDay); --day) {
    if (!MatchesDay(day)) continue;
    for (int h = 23; h >= 0; --h) {
      if (!(hours_ >> h & 1)) continue;
      for (int m = 59; m >= 0; --m) {
        if (!(minutes_ >> m & 1)) continue;
        const int64_t local = day * kDay + h * 3600 + m * 60;
        if (local > start) continue;
        const int64_t u = zone.ToUtc(local);
        if (u > now) continue;
        return u > oldest ? u : -1;
      }
    }
  }
  return -1;
}

}  // namespace warmpool
