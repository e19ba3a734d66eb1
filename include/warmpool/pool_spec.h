// The configuration vocabulary: what the YAML config becomes once loaded and validated.
#ifndef WARMPOOL_POOL_SPEC_H_
#define WARMPOOL_POOL_SPEC_H_

#include <map>
#include <string>
#include <vector>

#include "warmpool/behavior.h"
#include "warmpool/metrics.h"
#include "warmpool/params.h"
#include "warmpool/probe.h"
#include "warmpool/shedder.h"
#include "warmpool/time.h"

namespace warmpool {

// `warm_standby: auto`: size the warm pool to the rise in load likely within `horizon` (the
// provisioning delay plus a tick), learned from the load the pool has seen (policies/warm_pool_sizer.h).
struct WarmAutoSpec {
  bool enabled = false;
  std::string metric;                // the load metric; "" = the first target_tracking/predictive policy's
  double server_capacity = 0;        // metric one server carries at full capacity; 0 = that policy's target
  int min = 0, max = 10;             // standby bounds
  DurationMs horizon = 2 * kMinute;  // how far ahead the warm pool must cover
  double quantile = 0.95;            // of the rises over `recent`
  DurationMs recent = kHour;         // window of recent rises
  DurationMs season = 24 * kHour;    // rises at the same time of earlier seasons; 0 = off
  int seasons = 7;                   // how many earlier seasons
  double season_share = 0.2;         // prepare for a rise seen in at least this share of them
  DurationMs season_slack = 2 * kMinute;  // phase tolerance around the same time
  DurationMs step = kMinute;              // resolution of the seasonal record

  bool operator==(const WarmAutoSpec&) const = default;
};

// `surge:` of a pool: the response to a rise faster than anything in its recent record (a flash crowd),
// policies/surge.h.
struct SurgeSpec {
  bool enabled = false;
  std::string metric;                // the load metric; "" = the first target_tracking/predictive policy's
  double server_capacity = 0;        // metric one server carries; 0 = that policy's target_per_server
  DurationMs window = kMinute;       // a rise is measured over this
  DurationMs lead = 90 * kSecond;    // how far ahead to provision: the time a new server takes
  double min_rise = 0.5;             // a surge rises at least this share of the load it rose from ...
  double min_servers = 2;            // ... and at least this many servers' worth
  DurationMs memory = 24 * kHour;    // ... and more than any rise over `window` in this much record
  DurationMs hold = 2 * kMinute;     // it ends once the load has not risen that fast for this long
  bool operator==(const SurgeSpec&) const = default;
};

// A plugin (policy, provider, metrics source) chosen by type, with its own settings.
struct PluginSpec {
  std::string type;
  std::string name;  // policies: how decisions name it (defaults to the type)
  Params params;
};

// `health:` of a pool: sick servers are replaced, not counted (docs/configuration.md, "health").
// `health.metrics[]`: a per-server signal, a query that returns one series per server.
struct ServerMetricSpec {
  enum class Match { kAddress, kName, kHost };  // what the label's value is: "ip:port", the name, "ip"
  std::string name;                  // the words of its decisions, e.g. "memory"
  std::string query;                 // PromQL, one series per server
  std::string label = "instance";    // the label that names the server
  Match match = Match::kAddress;
  double above = 0;                  // a server past this is sick
  DurationMs horizon = 0;            // ...or whose trend reaches `above` within this; 0: no trend rule
  DurationMs window = 5 * kMinute;   // fetched, and the trend fitted over it
  DurationMs step = 15 * kSecond;
  MetricQuery Query() const { return MetricQuery(name, query, window, step); }
  bool operator==(const ServerMetricSpec&) const = default;
};

struct HealthSpec {
  bool enabled = false;             // `health:` is present
  DurationMs grace = 30 * kSecond;  // an active server the balancer has had DOWN this long is sick
  int max_parallel = 1;             // replacements under way at once (at least one, whatever the pool's size)
  double breaker_fraction = 0.5;    // more than this share of the active servers sick at once: replace none
  DurationMs breaker_hold = kMinute;  // ...and for this long after the last tick that found so many
  ProbeSpec probe;                  // Warmpool's own check of the standbys (warmpool/probe.h)
  std::vector<ServerMetricSpec> metrics;  // per-server signals with their limits and trend rule
  DurationMs max_lifetime = 0;      // an active server serving longer than this is replaced; 0: never
  bool operator==(const HealthSpec&) const = default;
};

struct PoolSpec {
  std::string name;
  int min_active = 1;
  int max_active = 10;
  int warm_standby = 0;    // healthy standbys to keep ready behind the active servers (fixed): running
  WarmAutoSpec warm_auto;  // enabled: the standby count follows the likely rise instead
  SurgeSpec surge;         // enabled: a rise beyond the record is met at once (policies/surge.h)
  // The stopped tier (`warm_standby: {running: N, stopped: M}`): standbys kept suspended, cheaper than
  // running ones and ready only after the provider's resume delay. stopped_auto (`stopped: auto`): a
  // second sizer on the same load at its own (longer) horizon and (higher) quantile; the tier is what
  // it wants beyond the active servers and the running tier, within [min, max].
  int warm_stopped = 0;
  WarmAutoSpec stopped_auto;
  int max_total = 0;  // cap on provisioning+standby+active+draining+stopped; 0 = max_active + both tiers' max
  DurationMs stale_after = 2 * kMinute;  // samples older than this count as missing
  bool dry_run = false;
  // The count the policies and the stabilization compare against includes the servers on their way in
  // (provisioning, or ready and not promoted yet), as Kubernetes' HPA does (a Deployment's replicas
  // include pods not ready yet): what it ordered is kept through the scale-down window even if the load
  // falls back before it is ready. Set for the HPA baseline (no warm pool: every standby is an arrival);
  // Warmpool itself counts active servers (an order the load no longer needs becomes a standby, or is
  // retired).
  bool count_provisioning = false;
  std::vector<MetricQuery> metrics;
  // A metric's second source (`metrics[].fallback`), by metric name: read every tick, and used when the
  // first fails, has no fresh sample, or vouches only for a floor. type "haproxy": the balancer's own
  // request counter.
  std::map<std::string, PluginSpec> fallbacks;
  std::vector<PluginSpec> policies;
  BehaviorSpec behavior = BehaviorSpec::Defaults();
  PluginSpec provider;
  // Overload protection (`overload:`): the decision's settings, and the balancer's (for the pool's
  // provider type: haproxy's variables and client table, its socket filled in from the provider).
  ShedSpec overload;
  Params overload_balancer;
  HealthSpec health;
  // For the backtest: capacity_per_server, promotion_delay, provisioning_delay, drain_delay,
  // resume_delay, cost (the simulated provider's parameters; suspending is immediate). type is
  // "simulated" when set, "" when absent.
  PluginSpec capacity_model;

  // The most standbys the pool may want: warm_standby, or warm_auto.max.
  int MaxWarm() const { return warm_auto.enabled ? warm_auto.max : warm_standby; }
  // The most stopped standbys the pool may want: warm_stopped, or stopped_auto.max.
  int MaxStopped() const { return stopped_auto.enabled ? stopped_auto.max : warm_stopped; }
  bool HasStoppedTier() const { return stopped_auto.enabled || warm_stopped > 0; }
  int MaxTotal() const { return max_total > 0 ? max_total : max_active + MaxWarm() + MaxStopped(); }
};

// The REST API and /metrics (controller/api/api.h).
struct WebSpec {
  std::string listen_address = "127.0.0.1:9900";  // "" disables the API
  std::string tokens_file;    // bearer tokens with roles; without it mutating calls are refused
  std::string tls_cert_file;  // https when both are set
  std::string tls_key_file;
  int max_body_bytes = 64 * 1024;
  // Every connection's limits (see docs/configuration.md, "web").
  int max_header_bytes = 16 * 1024;
  int max_connections = 512;
  DurationMs read_header_timeout = 10 * kSecond;
  DurationMs read_timeout = 30 * kSecond;
  DurationMs write_timeout = 30 * kSecond;
  DurationMs idle_timeout = 60 * kSecond;
};

// `cluster:` (docs/configuration.md, "cluster"): several replicas share the pools through etcd, each
// pool acted on by one member at a time. Absent: one process, its state in state.file.
struct ClusterSpec {
  bool enabled = false;
  std::vector<std::string> endpoints;  // etcd client URLs (http:// or https://), tried in order
  std::string prefix = "/warmpool";    // every key lives under it
  std::string username;                // etcd authentication, with the password in password_file
  std::string password_file;           // resolved; read again at every authentication (rotation works)
  std::string tls_ca_file;
  bool tls_insecure_skip_verify = false;
  DurationMs timeout = kSecond;           // one etcd request (each endpoint is tried in turn)
  DurationMs lease_ttl = 10 * kSecond;    // a member silent this long loses its pools
  std::string member;                     // this replica's name; "" = the host name
};

struct GlobalSpec {
  DurationMs interval = 15 * kSecond;  // one tick per pool per interval
  std::string log_format = "text";     // text | json
  std::string log_level = "info";
  PluginSpec metrics_source;  // type "prometheus" or "trace"
  WebSpec web;
  std::string state_file;  // overrides, pauses and behavior history survive restarts here ("" = none)
  ClusterSpec cluster;
};

struct Config {
  GlobalSpec global;
  std::vector<PoolSpec> pools;
};

}  // namespace warmpool

#endif  // WARMPOOL_POOL_SPEC_H_
