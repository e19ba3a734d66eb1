#include "controller/sources/trace/trace.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <sstream>

namespace warmpool {
namespace {

constexpr size_t kMaxTraceBytes = size_t{1} << 30;  // uncompressed; World Cup 98 at one minute is 1.9 MB

}  // namespace

double Trace::RateAt(TimeMs t) const {
  if (rates.empty() || t < start || t >= end()) return 0;
  const TimeMs off = t - start;
  return RateAfterPoint(static_cast<size_t>(off / step), off % step);
}

TimeMs Trace::NextPointAfter(TimeMs t) const {
  if (t < start) return start;
  const TimeMs next = start + ((t - start) / step + 1) * step;
  return next < end() ? next : end();
}

double Trace::TotalRequests() const {
  double total = 0;
  for (double r : rates) total += r;
  return total * static_cast<double>(step) / 1000.0;
}

Result<Trace> ParseTrace(const std::string& text, const std::string& source) {
  Trace trace;
  trace.source = source;
  std::istringstream in(text);
  std::string line;
  int line_no = 0;
  TimeMs prev_ts = 0;
  bool have_prev = false;
  std::vector<double> counts;
  auto error = [&](const std::string& msg) {
    return Status::InvalidArgument(source + ":" + std::to_string(line_no) + ": " + msg);
  };
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    if (line_no == 1) {
      if (line != "timestamp,requests") {
        // Not echoed: until its header matches, the file may be anything (a secret, /etc/shadow).
        return error("expected the header \"timestamp,requests\": not a trace file");
      }
      continue;
    }
    const size_t comma = line.find(',');
    if (comma == std::string::npos) return error("expected \"timestamp,requests\", got \"" + line + "\"");
    const std::string ts_text = line.substr(0, comma), count_text = line.substr(comma + 1);
    char* end = nullptr;
    errno = 0;
    const long long ts = std::strtoll(ts_text.c_str(), &end, 10);
    if (ts_text.empty() || *end != '\0' || errno) return error("bad timestamp \"" + ts_text + "\"");
    const double count = std::strtod(count_text.c_str(), &end);
    if (count_text.empty() || *end != '\0' || !std::isfinite(count) || count < 0) {
      return error("bad request count \"" + count_text + "\" (must be a number >= 0)");
    }
    const TimeMs t = static_cast<TimeMs>(ts) * 1000;
    if (!have_prev) {
      trace.start = t;
    } else if (trace.step == 0) {
      if (t <= prev_ts) return error("timestamps must increase");
      trace.step = t - prev_ts;
    } else if (t - prev_ts != trace.step) {
      return error("timestamp " + std::to_string(ts) + " is not " + FormatDuration(trace.step) + " after " +
                   std::to_string(prev_ts / 1000) + " (the step must be fixed, no gaps)");
    }
    prev_ts = t;
    have_prev = true;
    counts.push_back(count);
  }
  if (counts.size() < 2)
    return Status::InvalidArgument(source + ": needs at least 2 rows, got " + std::to_string(counts.size()));
  const double step_s = static_cast<double>(trace.step) / 1000.0;
  trace.rates.reserve(counts.size());
  for (double c : counts) trace.rates.push_back(c / step_s);
  return trace;
}

Result<Trace> LoadTrace(const std::string& path) {
  // Only a regular file: a FIFO with no writer must not hang (O_NONBLOCK), a device must not flood.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return Status::NotFound(path + ": cannot read: " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status::InvalidArgument(path + ": not a regular file");
  }
  // zlib reads a gzip file and passes any other file through unchanged: .csv and .csv.gz alike.
  gzFile f = gzdopen(fd, "rb");
  if (f == nullptr) {
    ::close(fd);
    return Status::Internal(path + ": cannot read: out of memory");
  }
  std::string text;
  char chunk[1 << 16];
  int n;
  while ((n = gzread(f, chunk, sizeof chunk)) > 0) {
    text.append(chunk, static_cast<size_t>(n));
    if (text.size() > kMaxTraceBytes) {
      gzclose(f);
      return Status::InvalidArgument(path + ": larger than " + std::to_string(kMaxTraceBytes >> 20) +
                                     " MiB uncompressed; split the trace");
    }
  }
  if (n < 0) {
    int code = 0;
    const std::string why = gzerror(f, &code);
    gzclose(f);
    return Status::InvalidArgument(path + ": cannot decompress: " + why);
  }
  gzclose(f);
  return ParseTrace(text, path);
}

}  // namespace warmpool
