// The configuration vocabulary: what the YAML config becomes once loaded and validated.
#ifndef WARMPOOL_POOL_SPEC_H_
#define WARMPOOL_POOL_SPEC_H_

#include <string>
#include <vector>

#include "warmpool/behavior.h"
#include "warmpool/metrics.h"
#include "warmpool/params.h"
#include "warmpool/time.h"

namespace warmpool {

// A plugin (policy, provider, metrics source) chosen by type, with its own settings.
struct PluginSpec {
  std::string type;
  std::string name;  // policies: how decisions name it (defaults to the type)
  Params params;
};

struct PoolSpec {
  std::string name;
  int min_active = 1;
  int max_active = 10;
  int warm_standby = 0;  // healthy standbys to keep ready behind the active servers
  int max_total = 0;     // cap on provisioning+standby+active+draining; 0 = max_active + warm_standby
  DurationMs stale_after = 2 * kMinute;  // samples older than this count as missing
  bool dry_run = false;
  std::vector<MetricQuery> metrics;
  std::vector<PluginSpec> policies;
  BehaviorSpec behavior = BehaviorSpec::Defaults();
  PluginSpec provider;
  // For the backtest: capacity_per_server, promotion_delay, provisioning_delay, drain_delay (the
  // simulated provider's parameters). type is "simulated" when set, "" when absent.
  PluginSpec capacity_model;

  int MaxTotal() const { return max_total > 0 ? max_total : max_active + warm_standby; }
};

// The REST API and /metrics (controller/api.h).
struct WebSpec {
  std::string listen_address = "127.0.0.1:9900";  // "" disables the API
  std::string tokens_file;    // bearer tokens with roles; without it mutating calls are refused
  std::string tls_cert_file;  // https when both are set
  std::string tls_key_file;
  int max_body_bytes = 64 * 1024;
};

struct GlobalSpec {
  DurationMs interval = 15 * kSecond;  // one tick per pool per interval
  std::string log_format = "text";     // text | json
  std::string log_level = "info";
  PluginSpec metrics_source;  // type "prometheus" or "trace"
  WebSpec web;
  std::string state_file;  // overrides, pauses and behavior history survive restarts here ("" = none)
};

struct Config {
  GlobalSpec global;
  std::vector<PoolSpec> pools;
};

}  // namespace warmpool

#endif  // WARMPOOL_POOL_SPEC_H_
