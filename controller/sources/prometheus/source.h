// The Prometheus metrics source: each MetricQuery is a PromQL expression that must yield exactly one
// series, fetched over Prometheus' HTTP API (/api/v1/query_range for q.window > 0, /api/v1/query
// for q.window == 0, evaluated at `now`).
//
// Every failure is a non-OK Status whose message starts with `prometheus <url>, query "<q>": `, so
// the controller logs it and holds the pool: server down (kUnavailable), timeout
// (kDeadlineExceeded), HTTP error status, a Prometheus error payload, no series (kNotFound), several
// series, a malformed answer. The details are listed in prometheus_parse.h.
//
// Staleness. Prometheus evaluates a query at each step by looking back up to 5 minutes (its
// lookback delta) for the newest raw sample, and stamps the result with the evaluation time. A
// series that stopped updating without a staleness marker (its Prometheus was restarted, the
// target exposes its own timestamps, federation, remote write) therefore looks fresh at every step
// for 5 minutes, longer than a pool's stale_after. To report the true age, every successful fetch
// is followed by a second instant query at `now`, `timestamp(<query>)`:
//   - for a plain selector (`haproxy_backend_current_queue{backend="web"}`, parentheses allowed),
//     Prometheus returns the timestamp of the newest raw sample. Points stamped after it are
//     lookback copies: they are dropped and the sample is kept once, at its true time (see
//     StampNewestRaw), so MetricWindow::Latest judges its real age against stale_after;
//   - for any other expression (sum, rate, arithmetic), timestamp() returns the evaluation time:
//     nothing changes. Such results are as fresh as their inputs allow: a range function such as
//     rate(x[1m]) returns nothing once its range holds no samples. To bound an aggregated gauge
//     the same way, write sum(last_over_time(g[1m])) rather than sum(g);
//   - a scalar result needs no probe; a probe Prometheus refuses as bad_data (timestamp() of a
//     scalar expression) changes nothing; a probe that cannot reach Prometheus fails the fetch.
// Chosen over parsing the PromQL for its selectors: no PromQL parser to get wrong, Prometheus
// resolves exactly the samples it used, and the probe is one small instant query per fetch. A plain
// selector with `offset` reports its sample's true, older time, and so reads as stale.
// Scrape health. A rate() over a target that stopped being scraped (frozen, down, or new after a
// Prometheus restart lost the data) reads low while its range is only partly covered, and looks like a
// fall in load. With MetricQuery::health_query set (e.g. min(up{job="web"})), every fetch also runs it
// over the last health_window: unless it was nonzero at every step, the window is floor_only (the pool
// may scale up on it, never down) with the reason; a health query that fails does the same.
// A fetch makes at most three requests, each bounded by the source's timeout.
#ifndef WARMPOOL_CONTROLLER_SOURCES_PROMETHEUS_SOURCE_H_
#define WARMPOOL_CONTROLLER_SOURCES_PROMETHEUS_SOURCE_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "controller/http/client.h"
#include "controller/sources/prometheus/parse.h"
#include "warmpool/metrics.h"
#include "warmpool/params.h"

namespace warmpool {

struct PrometheusConfig {
  std::string url;  // without a trailing slash
  HttpClientOptions http;
};

// Reads the params (below), reading credential files now. Appends path-named errors and returns
// nullopt when any is wrong.
//   url                          required, http:// or https://, no credentials in it
//   timeout                      whole request, default 5s
//   connect_timeout              connect + TLS handshake, default 2s, at most timeout
//   basic_auth.username          with basic_auth.password or basic_auth.password_file
//   bearer_token / bearer_token_file
//   tls.ca_file                  PEM CA bundle (https only)
//   tls.insecure_skip_verify     default false (https only)
// Files are read once (a trailing newline trimmed); relative paths resolve against params.base_dir.
std::optional<PrometheusConfig> ReadPrometheusConfig(const Params& params, std::vector<std::string>* errors);

class PrometheusMetricsSource final : public MetricsSource {
 public:
  // `url` only names the server in messages; `client` sends the requests.
  PrometheusMetricsSource(std::string url, std::unique_ptr<HttpClient> client);
  Result<MetricWindow> Fetch(const MetricQuery& q, TimeMs now) override;
  // One window per value of `label` (health.metrics). Series without the label are skipped; two with
  // the same value are an error. No freshness probe: a series whose target stopped being scraped
  // ends at Prometheus' staleness marker, and MetricWindow::Latest judges the rest by stale_after.
  Result<std::map<std::string, MetricWindow>> FetchEach(const MetricQuery& q, const std::string& label,
                                                        TimeMs now) override;

 private:
  Result<PromResult> Get(const std::string& path);
  // "" when q.health_query was nonzero at every step of q.health_window; else why not.
  std::string ScrapeHealth(const MetricQuery& q, TimeMs now);
  std::string url_;
  std::unique_ptr<HttpClient> client_;
};

// Registry entry (type "prometheus").
// ReadPrometheusConfig and the HTTP client's own checks (URL, CA file), without building the client.
void CheckPrometheusMetricsSource(const Params& params, std::vector<std::string>* errors);
std::unique_ptr<MetricsSource> NewPrometheusMetricsSource(const Params& params,
                                                          std::vector<std::string>* errors);

}  // namespace warmpool

#endif  // WARMPOOL_CONTROLLER_SOURCES_PROMETHEUS_SOURCE_H_
