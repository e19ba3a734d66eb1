// Small text and arithmetic helpers shared by the policies and the per-tick paths.
#ifndef WARMPOOL_TEXT_H_
#define WARMPOOL_TEXT_H_

#include <cstdint>
#include <string>

namespace warmpool {

// Equal strings, compared inline: names are a few bytes, cheaper than a call to memcmp.
inline bool SameName(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

// Floor division (rounds towards minus infinity), for bucketing times before the epoch too.
inline int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// A number as reasons print it: printf's "%.4g" (FormatG4), or "%.4g" below 1e4 and "%.0f" above
// (FormatNumber: no exponent for large rates). By std::to_chars, which prints what printf does.
std::string FormatG4(double v);
std::string FormatNumber(double v);

}  // namespace warmpool

#endif  // WARMPOOL_TEXT_H_
