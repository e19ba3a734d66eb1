#include "warmpool/text.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace warmpool {

std::string FormatG4(double v) {
  char buf[32];
  const std::to_chars_result r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general, 4);
  if (r.ec == std::errc()) return std::string(buf, r.ptr);
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

std::string FormatNumber(double v) {
  char buf[48];
  const bool general = std::fabs(v) < 1e4;
  const std::to_chars_result r = general
                                     ? std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general, 4)
                                     : std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, 0);
  if (r.ec == std::errc()) return std::string(buf, r.ptr);
  std::snprintf(buf, sizeof buf, general ? "%.4g" : "%.0f", v);  // longer than buf: printf truncates
  return buf;
}

}  // namespace warmpool
