#include "controller/sources/trace/mask.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "controller/files/read_file.h"

namespace warmpool {
namespace {
constexpr size_t kMaxMaskBytes = 64 << 20;  // spans of a year of minutes fit many times over
}  // namespace


std::vector<TimeSpan> FindZeroGaps(const Trace& trace, DurationMs min_gap) {
  std::vector<TimeSpan> out;
  const size_t n = trace.rates.size();
  for (size_t i = 0; i < n;) {
    if (trace.rates[i] != 0) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < n && trace.rates[j] == 0) ++j;
    const DurationMs len = static_cast<DurationMs>(j - i) * trace.step;
    if (len >= min_gap && len > 0) {
      const TimeMs start = trace.start + static_cast<TimeMs>(i) * trace.step;
      out.push_back({start, start + len});
    }
    i = j;
  }
  return out;
}

Result<std::vector<TimeSpan>> ParseMask(const std::string& text, const std::string& source) {
  std::vector<TimeSpan> out;
  std::istringstream in(text);
  std::string line;
  int line_no = 0;
  auto error = [&](const std::string& msg) {
    return Status::InvalidArgument(source + ":" + std::to_string(line_no) + ": " + msg);
  };
  auto number = [](const std::string& s, long long* v) {
    char* end = nullptr;
    errno = 0;
    *v = std::strtoll(s.c_str(), &end, 10);
    return !s.empty() && *end == '\0' && errno == 0;
  };
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    if (out.empty() && line == "start,end") continue;
    const size_t comma = line.find(',');
    // Lines are not echoed: a mask has no header to show it is one, and the path may name any file.
    if (comma == std::string::npos) return error("expected \"start,end\" (unix seconds)");
    long long start = 0, end = 0;
    const std::string a = line.substr(0, comma), b = line.substr(comma + 1);
    if (!number(a, &start)) return error("the start is not a whole number of unix seconds");
    if (!number(b, &end)) return error("the end is not a whole number of unix seconds");
    if (end <= start) return error("end " + b + " must be after start " + a);
    out.push_back({static_cast<TimeMs>(start) * 1000, static_cast<TimeMs>(end) * 1000});
  }
  return out;
}

Result<std::vector<TimeSpan>> LoadMask(const std::string& path) {
  Result<std::string> text = ReadWholeFile(path, kMaxMaskBytes);  // no hang on a FIFO, no flood from a device
  if (!text.ok()) return text.status();
  return ParseMask(*text, path);
}

std::vector<TimeSpan> NormalizeSpans(std::vector<TimeSpan> spans, const Trace& trace) {
  for (TimeSpan& s : spans) {
    s.start = std::max(s.start, trace.start);
    s.end = std::min(s.end, trace.end());
  }
  std::erase_if(spans, [](const TimeSpan& s) { return s.end <= s.start; });
  std::sort(spans.begin(), spans.end(),
            [](const TimeSpan& a, const TimeSpan& b) { return a.start < b.start; });
  std::vector<TimeSpan> out;
  for (const TimeSpan& s : spans) {
    if (!out.empty() && s.start <= out.back().end) {
      out.back().end = std::max(out.back().end, s.end);
    } else {
      out.push_back(s);
    }
  }
  return out;
}

Trace HoldOverSpans(const Trace& trace, const std::vector<TimeSpan>& spans) {
  Trace out = trace;
  const size_t n = trace.rates.size();
  for (const TimeSpan& s : spans) {
    // Points i with start <= t_i < end.
    const TimeMs from = s.start - trace.start, to = s.end - trace.start;
    size_t first = static_cast<size_t>((from + trace.step - 1) / trace.step);
    size_t last = std::min(n, static_cast<size_t>((to + trace.step - 1) / trace.step));  // exclusive
    if (first >= last) continue;
    double held;
    if (first > 0) {
      held = out.rates[first - 1];  // already held if the span before touched it
    } else if (last < n) {
      held = trace.rates[last];
    } else {
      continue;  // the whole trace is masked: nothing to hold
    }
    for (size_t i = first; i < last; ++i) out.rates[i] = held;
  }
  return out;
}

DurationMs TotalLength(const std::vector<TimeSpan>& spans) {
  DurationMs total = 0;
  for (const TimeSpan& s : spans) total += s.length();
  return total;
}

}  // namespace warmpool
