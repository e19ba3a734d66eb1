#include "policies/time_zone.h"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <memory>

#include "warmpool/text.h"

namespace warmpool {
namespace {

constexpr int64_t kDay = 86400;

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

uint32_t Be32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}
int64_t Be64(const unsigned char* p) {
  return static_cast<int64_t>((uint64_t{Be32(p)} << 32) | uint64_t{Be32(p + 4)});
}

bool ParseNumber(std::string_view* s, int max_digits, int* out) {
  int n = 0, digits = 0;
  while (!s->empty() && (*s)[0] >= '0' && (*s)[0] <= '9' && digits < max_digits) {
    n = n * 10 + ((*s)[0] - '0');
    s->remove_prefix(1);
    ++digits;
  }
  *out = n;
  return digits > 0;
}

// [+-]hh[:mm[:ss]] -> seconds.
bool ParseHms(std::string_view* s, int* out) {
  int sign = 1;
  if (!s->empty() && ((*s)[0] == '+' || (*s)[0] == '-')) {
    sign = (*s)[0] == '-' ? -1 : 1;
    s->remove_prefix(1);
  }
  int h = 0, m = 0, sec = 0;
  if (!ParseNumber(s, 3, &h) || h > 167) return false;
  if (!s->empty() && (*s)[0] == ':') {
    s->remove_prefix(1);
    if (!ParseNumber(s, 2, &m) || m > 59) return false;
    if (!s->empty() && (*s)[0] == ':') {
      s->remove_prefix(1);
      if (!ParseNumber(s, 2, &sec) || sec > 59) return false;
    }
  }
  *out = sign * (h * 3600 + m * 60 + sec);
  return true;
}

bool ParseAbbrev(std::string_view* s) {
  size_t n = 0;
  if (!s->empty() && (*s)[0] == '<') {
    n = s->find('>');
    if (n == std::string_view::npos) return false;
    s->remove_prefix(n + 1);
    return true;
  }
  while (n < s->size() && (((*s)[n] >= 'A' && (*s)[n] <= 'Z') || ((*s)[n] >= 'a' && (*s)[n] <= 'z'))) ++n;
  s->remove_prefix(n);
  return n >= 3;
}

}  // namespace

int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = FloorDiv(y, 400);
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void CivilFromDays(int64_t z, int64_t* year, int* month, int* day) {
  z += 719468;
  const int64_t era = FloorDiv(z, 146097);
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  *day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  *month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  *year = yoe + era * 400 + (*month <= 2);
}

int WeekdayFromDays(int64_t z) { return static_cast<int>(((z % 7) + 7 + 4) % 7); }

TimeZone TimeZone::Utc() { return TimeZone(); }

bool TimeZone::ParsePosix(std::string_view s, Posix* out) {
  Posix p;
  int off = 0;
  if (!ParseAbbrev(&s) || !ParseHms(&s, &off)) return false;
  p.std_offset = -off;  // POSIX offsets count west of Greenwich
  p.dst_offset = p.std_offset + 3600;
  if (!s.empty()) {
    if (!ParseAbbrev(&s)) return false;
    p.has_dst = true;
    if (!s.empty() && s[0] != ',') {
      if (!ParseHms(&s, &off)) return false;
      p.dst_offset = -off;
    }
    if (s.empty()) s = ",M3.2.0,M11.1.0";  // the POSIX default (US rules)
    for (Rule* r : {&p.start, &p.end}) {
      if (s.empty() || s[0] != ',') return false;
      s.remove_prefix(1);
      if (s.empty()) return false;
      if (s[0] == 'M') {
        s.remove_prefix(1);
        r->kind = 'M';
        bool ok = ParseNumber(&s, 2, &r->a) && !s.empty() && s[0] == '.';
        if (ok) s.remove_prefix(1);
        ok = ok && ParseNumber(&s, 1, &r->b) && !s.empty() && s[0] == '.';
        if (ok) s.remove_prefix(1);
        ok = ok && ParseNumber(&s, 1, &r->c);
        if (!ok || r->a < 1 || r->a > 12 || r->b < 1 || r->b > 5 || r->c > 6) return false;
      } else {
        r->kind = s[0] == 'J' ? 'J' : 'D';
        if (s[0] == 'J') s.remove_prefix(1);
        if (!ParseNumber(&s, 3, &r->a) || r->a > 365 || (r->kind == 'J' && r->a < 1)) return false;
      }
      if (!s.empty() && s[0] == '/' && (s.remove_prefix(1), !ParseHms(&s, &r->time))) return false;
    }
    if (!s.empty()) return false;
  }
  p.valid = true;
  *out = p;
  return true;
}

int64_t TimeZone::RuleInstant(const Rule& r, int64_t year, int offset_before) {
  int64_t day;
  if (r.kind == 'J') {
    day = DaysFromCivil(year, 1, 1) + r.a - 1 + (IsLeap(year) && r.a >= 60 ? 1 : 0);
  } else if (r.kind == 'D') {
    day = DaysFromCivil(year, 1, 1) + r.a;
  } else {
    const int64_t first = DaysFromCivil(year, r.a, 1);
    const int64_t next = r.a == 12 ? DaysFromCivil(year + 1, 1, 1) : DaysFromCivil(year, r.a + 1, 1);
    day = first + (r.c - WeekdayFromDays(first) + 7) % 7 + 7 * (r.b - 1);
    while (day >= next) day -= 7;  // week 5 means the last
  }
  return day * kDay + r.time - offset_before;
}

int TimeZone::PosixOffset(int64_t utc) const {
  if (!posix_.has_dst) return posix_.std_offset;
  int64_t year;
  int month, day;
  CivilFromDays(FloorDiv(utc + posix_.std_offset, kDay), &year, &month, &day);
  const int64_t start = RuleInstant(posix_.start, year, posix_.std_offset);
  const int64_t end = RuleInstant(posix_.end, year, posix_.dst_offset);
  const bool dst = start < end ? (utc >= start && utc < end) : !(utc >= end && utc < start);
  return dst ? posix_.dst_offset : posix_.std_offset;
}

Result<TimeZone> TimeZone::FromPosix(std::string name, std::string_view tz) {
  TimeZone z;
  z.name_ = std::move(name);
  if (!ParsePosix(tz, &z.posix_)) {
    return Status::InvalidArgument("bad POSIX TZ rule \"" + std::string(tz) + "\"");
  }
  z.initial_offset_ = z.posix_.std_offset;
  return z;
}

Result<TimeZone> TimeZone::FromTzif(std::string name, std::string_view bytes) {
  auto bad = [&](const char* why) {
    return Status::InvalidArgument("time zone \"" + name + "\": not a valid TZif file (" + why + ")");
  };
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t size = bytes.size();
  if (size < 44 || bytes.substr(0, 4) != "TZif") return bad("bad header");
  const bool v2 = p[4] >= '2';
  size_t pos = 0;
  for (int pass = 0; pass < (v2 ? 2 : 1); ++pass) {
    if (pos + 44 > size || bytes.substr(pos, 4) != "TZif") return bad("bad header");
    const uint32_t isut = Be32(p + pos + 20), isstd = Be32(p + pos + 24), leap = Be32(p + pos + 28);
    const uint32_t timecnt = Be32(p + pos + 32), typecnt = Be32(p + pos + 36), charcnt = Be32(p + pos + 40);
    const size_t tsize = (v2 && pass == 0) || !v2 ? 4 : 8;
    pos += 44;
    const size_t need = timecnt * tsize + timecnt + typecnt * 6 + charcnt + leap * (tsize + 4) + isstd + isut;
    if (typecnt == 0 || timecnt > 100000 || typecnt > 256 || pos + need > size) return bad("truncated");
    if (v2 && pass == 0) {  // skip the 32-bit block
      pos += need;
      continue;
    }
    TimeZone z;
    z.name_ = name;
    const unsigned char* times = p + pos;
    const unsigned char* idx = times + timecnt * tsize;
    const unsigned char* types = idx + timecnt;
    auto type_offset = [&](uint32_t t) {
      return static_cast<int>(static_cast<int32_t>(Be32(types + 6 * t)));
    };
    z.initial_offset_ = type_offset(0);
    for (uint32_t i = 0; i < timecnt; ++i) {
      if (idx[i] >= typecnt) return bad("bad type index");
      const int64_t t = tsize == 8 ? Be64(times + 8 * i) : int64_t{static_cast<int32_t>(Be32(times + 4 * i))};
      if (!z.transitions_.empty() && t <= z.transitions_.back()) return bad("unsorted transitions");
      z.transitions_.push_back(t);
      z.offsets_.push_back(type_offset(idx[i]));
    }
    pos += need;
    if (v2 && pos < size && bytes[pos] == '\n') {
      const size_t end = bytes.find('\n', pos + 1);
      if (end == std::string_view::npos) return bad("unterminated footer");
      std::string_view footer = bytes.substr(pos + 1, end - pos - 1);
      if (!footer.empty() && !ParsePosix(footer, &z.posix_)) return bad("bad footer rule");
    }
    return z;
  }
  return bad("no data");
}

int TimeZone::OffsetAt(int64_t utc) const {
  if (transitions_.empty()) return posix_.valid ? PosixOffset(utc) : initial_offset_;
  if (utc < transitions_.front()) return initial_offset_;
  const size_t i = static_cast<size_t>(std::upper_bound(transitions_.begin(), transitions_.end(), utc) -
                                       transitions_.begin()) -
                   1;
  if (i + 1 == transitions_.size() && posix_.valid) return PosixOffset(utc);
  return offsets_[i];
}

int64_t TimeZone::ToUtc(int64_t local) const {
  const int before = OffsetAt(local - kDay), after = OffsetAt(local + kDay);
  int64_t best = std::numeric_limits<int64_t>::max();
  for (int o : {before, after}) {
    if (OffsetAt(local - o) == o) best = std::min(best, local - o);
  }
  if (best != std::numeric_limits<int64_t>::max()) return best;
  // Skipped: find the first instant that has the offset after the jump.
  int64_t lo = local - std::max(before, after), hi = local - std::min(before, after);
  const int target = OffsetAt(hi);
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (OffsetAt(mid) == target) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  return hi;
}

Result<TimeZone> LoadTimeZone(const std::string& dir, const std::string& name, const FileReader& read_file) {
  if (name == "UTC" || name == "Etc/UTC") return TimeZone::Utc();
  const bool safe = !name.empty() && name[0] != '/' && name.find("..") == std::string::npos &&
                    std::all_of(name.begin(), name.end(), [](char c) {
                      return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                             c == '/' || c == '_' || c == '-' || c == '+';
                    });
  if (!safe) return Status::InvalidArgument("not a time zone name: \"" + name + "\"");
  const std::string path = dir + "/" + name;
  if (!read_file) return Status::Unavailable("time zone \"" + name + "\": no file reader was handed in");
  Result<std::string> bytes = read_file(path);
  if (!bytes.ok()) return Status::NotFound("unknown time zone \"" + name + "\" (no file " + path + ")");
  return TimeZone::FromTzif(name, *bytes);
}

}  // namespace warmpool
