// Metric samples and the source that supplies them.
#ifndef WARMPOOL_METRICS_H_
#define WARMPOOL_METRICS_H_

#include <cmath>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
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
  // Set when the source vouches for these values only as a floor: a scrape target behind the query
  // was down within its health window (a rate() over it reads low), or the values come from a
  // fallback that may not scale down. Policies read the values as usual; the pool may scale up on
  // them but never down, and the decision says why (this text).
  std::string floor_only;
  // Where the values came from when not from the configured source (a fallback), for the decision.
  std::string origin;

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
  MetricQuery() = default;
  MetricQuery(std::string name_, std::string query_, DurationMs window_ = 5 * kMinute,
              DurationMs step_ = 15 * kSecond)
      : name(std::move(name_)), query(std::move(query_)), window(window_), step(step_) {}

  std::string name;                 // the name policies refer to, e.g. "rps"
  std::string query;                // source-specific (PromQL for Prometheus; ignored by a trace)
  DurationMs window = 5 * kMinute;  // how far back to fetch
  DurationMs step = 15 * kSecond;   // resolution of range queries
  // Optional, source-specific (Prometheus): an expression of one series that is nonzero while every
  // scrape target behind `query` is scraped, e.g. min(up{job="web"}). When it was zero or absent at
  // any step of the last `health_window` (which should cover the range of the query's rate()), the
  // window comes back floor_only.
  std::string health_query;
  DurationMs health_window = kMinute;
};

// Windows of a pool's per-server health metrics (HealthSpec::metrics): by metric name, then by server
// name. A server without a window has no recent value for that metric.
using ServerWindows = std::map<std::string, std::map<std::string, MetricWindow>>;

// Supplies metric windows. Implementations: trace (controller/sources/trace/source.h) and Prometheus
// (controller/sources/prometheus/source.h).
// Thread-compatible: one caller at a time.
class MetricsSource {
 public:
  virtual ~MetricsSource() = default;
  // Samples in [now - q.window, now]. An empty window is not an error (the caller holds the pool);
  // a failure to reach the source is.
  virtual Result<MetricWindow> Fetch(const MetricQuery& q, TimeMs now) = 0;
  // A query that yields one series per server (HealthSpec::metrics): a window per value of `label`
  // (series without the label are skipped). Sources that cannot answer one (a recorded trace) return
  // kFailedPrecondition.
  virtual Result<std::map<std::string, MetricWindow>> FetchEach(const MetricQuery& q, const std::string& label,
                                                                TimeMs now);
};

}  // namespace warmpool

#endif  // WARMPOOL_METRICS_H_
