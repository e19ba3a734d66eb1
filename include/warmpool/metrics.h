// Metric samples and the source that supplies them.
#ifndef WARMPOOL_METRICS_H_
#define WARMPOOL_METRICS_H_

#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "warmpool/sliding_vector.h"
#include "warmpool/status.h"
#include "warmpool/time.h"

namespace warmpool {

struct Sample {
  TimeMs t = 0;
  double value = 0;  // may be NaN (missing) or +/-Inf; see MetricWindow::Latest
};

// Timestamped samples of one metric, oldest first. A SlidingVector, so that a source that slides the
// window tick to tick (the trace source) drops its oldest samples without moving the others.
struct MetricWindow {
  std::string metric;
  SlidingVector<Sample> samples;

  // The newest finite sample no older than `stale_after` at `now`, or nullopt when there is none
  // (empty window, only NaN/Inf, or all samples stale). Inline: every policy asks every tick.
  std::optional<Sample> Latest(TimeMs now, DurationMs stale_after) const {
    for (auto it = samples.rbegin(); it != samples.rend(); ++it) {
      if (it->t > now) continue;  // from the future: ignore
      if (now - it->t > stale_after) return std::nullopt;
      if (std::isfinite(it->value)) return *it;
    }
    return std::nullopt;
  }
};

// What a pool asks for: a named metric and the query that produces it.
struct MetricQuery {
  std::string name;                 // the name policies refer to, e.g. "rps"
  std::string query;                // source-specific (PromQL for Prometheus; ignored by a trace)
  DurationMs window = 5 * kMinute;  // how far back to fetch
  DurationMs step = 15 * kSecond;   // resolution of range queries
};

// Supplies metric windows. Implementations: trace (controller/sources/trace/source.h) and Prometheus
// (controller/sources/prometheus/source.h).
// Thread-compatible: one caller at a time.
class MetricsSource {
 public:
  virtual ~MetricsSource() = default;
  // Samples in [now - q.window, now]. An empty window is not an error (the caller holds the pool);
  // a failure to reach the source is.
  virtual Result<MetricWindow> Fetch(const MetricQuery& q, TimeMs now) = 0;
};

}  // namespace warmpool

#endif  // WARMPOOL_METRICS_H_
