// The Prometheus HTTP API as pure functions: request paths, response parsing, and the freshness
// correction of a fetched series. No I/O; the source (prometheus_source.h) does the requests.
// Every error message here is the detail after the source's "prometheus URL, query "Q": " prefix.
#ifndef WARMPOOL_CONTROLLER_SOURCES_PROMETHEUS_PARSE_H_
#define WARMPOOL_CONTROLLER_SOURCES_PROMETHEUS_PARSE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "warmpool/metrics.h"
#include "warmpool/status.h"
#include "warmpool/time.h"

namespace warmpool {

// Percent-encodes everything but the unreserved characters (RFC 3986), for a query parameter.
std::string UrlEncode(std::string_view text);

// Seconds with up to millisecond decimals, as the API takes times and steps:
// 1700000000123 -> "1700000000.123", 15000 -> "15", 500 -> "0.5", -1500 -> "-1.5".
std::string PromSeconds(int64_t ms);

// "/api/v1/query?query=Q&time=T".
std::string InstantQueryPath(std::string_view query, TimeMs time);
// "/api/v1/query_range?query=Q&start=S&end=E&step=STEP".
std::string RangeQueryPath(std::string_view query, TimeMs start, TimeMs end, DurationMs step);

struct PromSeries {
  std::string labels;  // as Prometheus prints them: up{instance="a:1", job="x"}, {} when none
  std::vector<Sample> samples;
  std::map<std::string, std::string> label_values;  // the labels by name (__name__ too when present)
};

struct PromResult {
  std::string result_type;  // "matrix", "vector" or "scalar" (a scalar becomes one series "{}")
  std::vector<PromSeries> series;
};

// Parses the body of a /api/v1/query or /api/v1/query_range answer with its HTTP status.
// Sample values are strings: "NaN", "+Inf" and "-Inf" become those doubles.
// Errors (message, code):
//   {"status":"error"} payload  "<errorType>: <error> (HTTP <status>)"; bad_data -> kInvalidArgument,
//                               timeout -> kDeadlineExceeded, others -> kUnavailable
//   other HTTP status != 2xx    "HTTP <status>: \"<body excerpt>\""; 4xx -> kFailedPrecondition
//                               (auth, wrong path: retrying will not help), others -> kUnavailable
//   not JSON / unexpected shape "malformed response: <why>: \"<body excerpt>\"" (kUnavailable)
//   resultType string or other  "unexpected resultType \"string\" (want matrix, vector or scalar)"
//                               (kInvalidArgument)
Result<PromResult> ParsePromResponse(int http_status, std::string_view body);

// The only series of `result`. Errors: kNotFound "query returned no series"; kInvalidArgument
// "query returned N series, expected exactly 1 (aggregate them, e.g. with sum()): a{..}, b{..}, ..."
// naming at most the first 3.
Result<PromSeries> OnlySeries(const PromResult& result);

// The answer to the freshness probe `timestamp(<query>)` (see prometheus_source.h): the time of the
// newest raw sample behind the query, or nullopt when the probe cannot say (no series, more than
// one, or a non-finite value). `result` must come from ParsePromResponse.
std::optional<TimeMs> NewestRawSample(const PromResult& result);

// Undoes Prometheus' lookback re-stamping. Points of `samples` (oldest first) stamped after
// `newest_raw` are copies of the raw sample at `newest_raw`: they are removed, and that sample is
// put back once at its true time if that time is not before `window_start`.
void StampNewestRaw(std::vector<Sample>* samples, TimeMs newest_raw, TimeMs window_start);

// At most `max` characters of `text` on one line (control characters as spaces), "..." when cut.
std::string Excerpt(std::string_view text, size_t max = 200);

}  // namespace warmpool

#endif  // WARMPOOL_CONTROLLER_SOURCES_PROMETHEUS_PARSE_H_
