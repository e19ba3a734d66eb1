// List parameters: the config loader flattens `bands: [{above: 1}, ...]` into "bands[0].above", ...
#ifndef WARMPOOL_POLICIES_LIST_PARAMS_H_
#define WARMPOOL_POLICIES_LIST_PARAMS_H_

#include <algorithm>
#include <string>
#include <string_view>

#include "warmpool/params.h"

namespace warmpool {

// 1 + the largest index i of the keys "<list>[i]..." (0 when there is none), capped at `max` + 1 so
// that a typo like "bands[99999].add" cannot make the caller loop for long.
inline int ListSize(const Params& params, std::string_view list, int max = 1000) {
  int size = 0;
  for (const auto& entry : params.values) {
    std::string_view key = entry.first;
    if (key.size() <= list.size() + 2 || key.substr(0, list.size()) != list || key[list.size()] != '[')
      continue;
    int i = 0;
    size_t p = list.size() + 1;
    while (p < key.size() && key[p] >= '0' && key[p] <= '9' && i <= max) i = i * 10 + (key[p++] - '0');
    if (p < key.size() && key[p] == ']' && p > list.size() + 1) size = std::max(size, std::min(i, max) + 1);
  }
  return size;
}

inline std::string ListKey(std::string_view list, int i, std::string_view field) {
  return std::string(list) + "[" + std::to_string(i) + "]." + std::string(field);
}

}  // namespace warmpool

#endif  // WARMPOOL_POLICIES_LIST_PARAMS_H_
