// SlidingVector holds what a std::vector erased at its front holds, whatever the mix of operations.
#include "warmpool/sliding_vector.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <stdexcept>
#include <vector>

using namespace warmpool;

namespace {

void CheckSame(const SlidingVector<int>& s, const std::vector<int>& v) {
  REQUIRE(s.size() == v.size());
  CHECK(s.empty() == v.empty());
  CHECK(static_cast<size_t>(s.end() - s.begin()) == v.size());
  for (size_t i = 0; i < v.size(); ++i) REQUIRE(s[i] == v[i]);
  if (!v.empty()) {
    CHECK(s.front() == v.front());
    CHECK(s.back() == v.back());
    CHECK(s.data() == &s[0]);
    CHECK(*s.rbegin() == v.back());
  }
  CHECK(std::vector<int>(s.rbegin(), s.rend()) == std::vector<int>(v.rbegin(), v.rend()));
}

}  // namespace

TEST_CASE("sliding vector: a window sliding by one each tick equals the plain window recomputed") {
  for (int width : {1, 2, 21, 64}) {
    CAPTURE(width);
    SlidingVector<int> s;
    for (int tick = 0; tick < 5000; ++tick) {
      s.push_back(tick);
      if (s.size() > static_cast<size_t>(width)) s.DropFront(s.size() - static_cast<size_t>(width));
      std::vector<int> want;  // the last `width` ticks, recomputed
      for (int t = std::max(0, tick - width + 1); t <= tick; ++t) want.push_back(t);
      CheckSame(s, want);
    }
  }
}

TEST_CASE("sliding vector: random pushes, pops and drops match a vector erased at its front") {
  std::mt19937 rng(11);
  SlidingVector<int> s;
  std::vector<int> v;
  for (int n = 0; n < 50000; ++n) {
    const unsigned op = rng() % 10;
    if (op < 5) {
      const int x = static_cast<int>(rng() % 1000);
      s.push_back(x);
      v.push_back(x);
    } else if (op < 8 && !v.empty()) {
      const size_t k = rng() % (v.size() + 1);
      s.DropFront(k);
      v.erase(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k));
    } else if (op == 8 && !v.empty()) {
      s.pop_back();
      v.pop_back();
    } else if (rng() % 50 == 0) {
      s.clear();
      v.clear();
    }
    CheckSame(s, v);
  }
  SlidingVector<int> copy = s;  // a copy holds the live elements
  CheckSame(copy, v);
  SlidingVector<int> from_vector = std::vector<int>{1, 2, 3}, from_list = {1, 2, 3};
  CheckSame(from_vector, {1, 2, 3});
  CheckSame(from_list, {1, 2, 3});
  CHECK(from_list.at(2) == 3);
  CHECK_THROWS_AS(from_list.at(3), std::out_of_range);
}
