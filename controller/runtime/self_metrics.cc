#include "controller/runtime/self_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <exception>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <utility>
#include <vector>

#include "controller/log/log.h"

namespace warmpool {

using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;
using prometheus::Labels;

namespace {

constexpr const char* kActions[] = {"promote", "drain", "provision", "retire", "suspend", "resume"};
constexpr const char* kResults[] = {"ok", "error", "dry_run"};
constexpr struct {
  ServerState state;
  const char* label;
} kStates[] = {
    {ServerState::kActive, "active"},
    {ServerState::kStandby, "standby"},
    {ServerState::kProvisioning, "provisioning"},
    {ServerState::kDraining, "draining"},
    {ServerState::kStopped, "stopped"},  // the warm pool's stopped tier
    {ServerState::kCold, "cold"},
};

// A tick runs a provider observation, metric queries and maybe provider commands: milliseconds to
// tens of seconds.
const Histogram::BucketBoundaries kEvaluationBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                                        1,     2.5,  5,     10,   30,  60};

// The series one pool owns, so that ForgetPool can remove exactly them.
struct PoolSeries {
  std::vector<std::pair<Family<Gauge>*, Gauge*>> gauges;
  std::vector<std::pair<Family<Counter>*, Counter*>> counters;
  std::vector<std::pair<Family<Histogram>*, Histogram*>> histograms;
  // By metric name: its staleness, fallback and floor-only gauges; metrics leave with a reload.
  std::map<std::string, std::vector<Gauge*>> per_metric;
};

template <typename T>
Family<T>& Register(prometheus::Registry* r, const char* name, const char* help);
template <>
Family<Gauge>& Register<Gauge>(prometheus::Registry* r, const char* name, const char* help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(*r);
}
template <>
Family<Counter>& Register<Counter>(prometheus::Registry* r, const char* name, const char* help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(*r);
}
template <>
Family<Histogram>& Register<Histogram>(prometheus::Registry* r, const char* name, const char* help) {
  return prometheus::BuildHistogram().Name(name).Help(help).Register(*r);
}

// Adds (or finds) the series and remembers it as the pool's.
template <typename T, typename... Args>
T& Series(Family<T>& family, const Labels& labels, std::vector<std::pair<Family<T>*, T*>>* owned,
          Args&&... args) {
  const bool existed = family.Has(labels);
  T& metric = family.Add(labels, std::forward<Args>(args)...);
  if (!existed) owned->emplace_back(&family, &metric);
  return metric;
}

}  // namespace

struct SelfMetrics::Impl {
  explicit Impl(const std::string& version) {
    auto& info = Register<Gauge>(&registry, "warmpool_build_info",
                                 "Always 1; the version label says which Warmpool is running.");
    info.Add({{"version", version}}).Set(1);
  }

  Gauge& G(Family<Gauge>& f, PoolSeries* s, Labels labels) { return Series(f, labels, &s->gauges); }
  Counter& C(Family<Counter>& f, PoolSeries* s, Labels labels) { return Series(f, labels, &s->counters); }

  void Observe(const std::string& pool, const TickResult& tick, const PoolControls& controls,
               const PoolSpec& spec, double evaluation_seconds, bool is_dry_run);
  void Forget(const std::string& pool);

  mutable std::mutex mu;
  prometheus::Registry registry;
  std::map<std::string, PoolSeries> pools;

  Family<Gauge>& desired =
      Register<Gauge>(&registry, "warmpool_pool_desired_servers", "Active servers the last decision wants.");
  Family<Gauge>& recommended = Register<Gauge>(
      &registry, "warmpool_pool_recommended_servers",
      "The policies' combined recommendation before behavior, min/max clamps and operator controls.");
  Family<Gauge>& servers =
      Register<Gauge>(&registry, "warmpool_pool_servers", "Servers the provider reports, by state.");
  Family<Gauge>& min_active =
      Register<Gauge>(&registry, "warmpool_pool_min_active", "Configured lower bound on active servers.");
  Family<Gauge>& max_active =
      Register<Gauge>(&registry, "warmpool_pool_max_active", "Configured upper bound on active servers.");
  Family<Gauge>& warm_target = Register<Gauge>(&registry, "warmpool_pool_warm_standby_target",
                                               "Configured number of healthy standbys to keep ready.");
  Family<Gauge>& stopped_target =
      Register<Gauge>(&registry, "warmpool_pool_warm_stopped_target",
                      "Stopped (suspended) standbys the last decision keeps behind the running ones.");
  Family<Gauge>& last_tick = Register<Gauge>(&registry, "warmpool_pool_last_tick_timestamp_seconds",
                                             "Unix time of the pool's last tick.");
  Family<Gauge>& staleness = Register<Gauge>(
      &registry, "warmpool_metric_staleness_seconds",
      "Age of the newest finite sample of each configured metric at the last tick; +Inf when none.");
  Family<Gauge>& on_fallback = Register<Gauge>(
      &registry, "warmpool_metric_on_fallback",
      "1 while the metric's values come from its fallback (the balancer's counters), because the "
      "metrics source failed, is stale or vouches only for a floor.");
  Family<Gauge>& floor_only = Register<Gauge>(
      &registry, "warmpool_metric_floor_only",
      "1 while the metric may raise the pool but not lower it: its scrape health failed within its "
      "window, or it comes from a fallback whose scale_down is off.");
  Family<Gauge>& shedding = Register<Gauge>(
      &registry, "warmpool_shedding",
      "1 while overload protection limits the pool's load at the balancer (in dry-run: would limit).");
  Family<Gauge>& shed_limit = Register<Gauge>(
      &registry, "warmpool_shed_limit_requests_per_second",
      "The limit in force by kind: rate (the pool's frontend) or client (one client); 0 = none.");
  Family<Gauge>& shed_concurrency = Register<Gauge>(
      &registry, "warmpool_shed_server_concurrency",
      "The cap in force on requests one server takes at once (the rest queue, then 503); 0 = none.");
  Family<Counter>& replacements = Register<Counter>(
      &registry, "warmpool_replacements_total",
      "Replacements begun (sick by health:, past max_lifetime, or asked by an operator): a standby promoted in its "
      "place, then it drained and retired.");
  Family<Gauge>& protected_servers = Register<Gauge>(
      &registry, "warmpool_protected_servers",
      "Servers an operator protected (PUT .../servers/{server}/protect): never drained or replaced.");
  Family<Gauge>& replacing = Register<Gauge>(&registry, "warmpool_replacing",
                                             "Servers whose replacement is under way.");
  Family<Gauge>& breaker = Register<Gauge>(
      &registry, "warmpool_replacement_breaker_open",
      "1 while more than health.breaker_fraction of the active servers are sick at once: none is replaced.");
  Family<Gauge>& surge = Register<Gauge>(
      &registry, "warmpool_surge",
      "1 while the pool's load rises faster than anything in its record and the surge response holds its floor "
      "(surge:).");
  Family<Counter>& surges = Register<Counter>(&registry, "warmpool_surges_total",
                                              "Surge responses begun (surge:): a rise beyond the pool's record.");
  Family<Counter>& probe_failures = Register<Counter>(
      &registry, "warmpool_standby_probe_failures_total",
      "Probes of standbys (health.probe) that failed: such a standby is never promoted, and is retired and replaced.");
  Family<Counter>& shed_errors = Register<Counter>(
      &registry, "warmpool_shed_errors_total",
      "Ticks on which overload protection could not set its limits or read the clients' rates.");
  Family<Gauge>& override_active = Register<Gauge>(&registry, "warmpool_override_active",
                                                   "1 while an operator override applies to the pool.");
  Family<Gauge>& pause =
      Register<Gauge>(&registry, "warmpool_pause", "1 while scaling in this direction is paused.");
  Family<Gauge>& dry_run =
      Register<Gauge>(&registry, "warmpool_dry_run", "1 when the pool only records its plans.");
  Family<Counter>& decisions =
      Register<Counter>(&registry, "warmpool_decisions_total",
                        "Decisions made, one per observed tick, by direction and winning policy.");
  Family<Counter>& actions = Register<Counter>(&registry, "warmpool_plan_actions_total",
                                               "Plan actions by kind and result (dry_run: only recorded).");
  Family<Counter>& query_errors =
      Register<Counter>(&registry, "warmpool_metric_query_errors_total", "Metric queries that failed.");
  Family<Counter>& observe_errors = Register<Counter>(&registry, "warmpool_pool_observe_errors_total",
                                                      "Ticks on which the provider could not be observed.");
  Family<Histogram>& evaluation = Register<Histogram>(&registry, "warmpool_evaluation_duration_seconds",
                                                      "Wall time of one pool's tick (observe to act).");
  Family<Counter>& http_refused = Register<Counter>(
      &registry, "warmpool_http_refused_total",
      "Requests and connections the API's HTTP server refused or cut, by kind (bad_request, "
      "body_too_large, header_too_large, timeout, connection_limit, tls_handshake, tls_reload, internal).");
  Family<Counter>& state_save_errors = Register<Counter>(
      &registry, "warmpool_state_save_errors_total",
      "Saves of the state file (overrides, pauses, behavior history) that failed.");
  Family<Gauge>& pool_owned = Register<Gauge>(
      &registry, "warmpool_pool_owned",
      "Cluster mode: 1 while this member acts on the pool (it holds its ownership and its lease is fresh).");
  Family<Counter>& handovers = Register<Counter>(
      &registry, "warmpool_cluster_handovers_total",
      "Cluster mode: pools this member took over (direction acquired) or let go (released).");
  Family<Counter>& fencing_stops = Register<Counter>(
      &registry, "warmpool_fencing_stops_total",
      "Plans not applied because this member's lease was not fresh (cluster mode's fence).");
  Family<Gauge>& cluster_members =
      Register<Gauge>(&registry, "warmpool_cluster_members", "Cluster mode: the live members this one sees.");
  Family<Counter>& lease_renewal_failures = Register<Counter>(
      &registry, "warmpool_lease_renewal_failures_total",
      "Cluster mode: renewals of this member's lease that failed (etcd unreachable, the lease expired).");
  uint64_t renewal_failures_seen = 0;
  Family<Gauge>& state_save_failing = Register<Gauge>(
      &registry, "warmpool_state_save_failing",
      "1 while the state file's last save failed: operators' changes are refused (503) until it works.");
  Family<Gauge>& http_connections =
      Register<Gauge>(&registry, "warmpool_http_connections", "Connections open to the API's HTTP server.");
};

void SelfMetrics::Impl::Observe(const std::string& pool, const TickResult& tick, const PoolControls& controls,
                                const PoolSpec& spec, double evaluation_seconds, bool is_dry_run) {
  PoolSeries* s = &pools[pool];
  const Labels p = {{"pool", pool}};
  if (s->gauges.empty()) {  // first tick: counters with a closed label set start at 0
    for (const char* a : kActions) {
      for (const char* r : kResults) C(actions, s, {{"pool", pool}, {"action", a}, {"result", r}});
    }
    C(query_errors, s, p);
    C(observe_errors, s, p);
  }
  Series(evaluation, p, &s->histograms, kEvaluationBuckets).Observe(evaluation_seconds);
  G(last_tick, s, p).Set(static_cast<double>(tick.decision.at) / 1000.0);
  G(min_active, s, p).Set(spec.min_active);
  G(max_active, s, p).Set(spec.max_active);
  G(warm_target, s, p).Set(tick.status.ok() ? tick.decision.warm_standby : spec.warm_standby);
  G(stopped_target, s, p).Set(tick.status.ok() ? tick.decision.warm_stopped : spec.warm_stopped);
  G(dry_run, s, p).Set(is_dry_run ? 1 : 0);
  const bool overridden = controls.override.has_value() && !controls.override->Expired(tick.decision.at);
  G(override_active, s, p).Set(overridden ? 1 : 0);
  G(pause, s, {{"pool", pool}, {"direction", "up"}}).Set(controls.pause.scale_up ? 1 : 0);
  G(pause, s, {{"pool", pool}, {"direction", "down"}}).Set(controls.pause.scale_down ? 1 : 0);
  if (!tick.status.ok()) {
    C(observe_errors, s, p).Increment();
    return;  // nothing was measured or decided: the other series keep their last values
  }

  for (const auto& st : kStates) {
    G(servers, s, {{"pool", pool}, {"state", st.label}}).Set(tick.observed.Count(st.state));
  }
  if (tick.shed.enabled) {
    G(shedding, s, p).Set(tick.shed.limits.active() ? 1 : 0);
    G(shed_limit, s, {{"pool", pool}, {"kind", "rate"}}).Set(tick.shed.limits.rate);
    G(shed_limit, s, {{"pool", pool}, {"kind", "client"}}).Set(tick.shed.limits.client);
    G(shed_concurrency, s, p).Set(tick.shed.limits.server_concurrency);
    Counter& errors = C(shed_errors, s, p);
    if (!tick.shed.status.ok()) errors.Increment();
  }
  if (spec.health.enabled && spec.health.probe.enabled) {
    C(probe_failures, s, p).Increment(static_cast<double>(tick.probe_failures.size()));
  }
  if (!tick.fenced.empty()) C(fencing_stops, s, p).Increment();
  // An operator's replacement needs no health: settings.
  C(replacements, s, p).Increment(static_cast<double>(tick.decision.replacements_started.size()));
  G(replacing, s, p).Set(static_cast<double>(tick.decision.replacing.size()));
  if (spec.health.enabled) G(breaker, s, p).Set(tick.decision.replacement_breaker_open ? 1 : 0);
  if (spec.surge.enabled) {
    Gauge& in_surge = G(surge, s, p);
    Counter& begun = C(surges, s, p);
    if (tick.decision.surge && in_surge.Value() == 0) begun.Increment();
    in_surge.Set(tick.decision.surge ? 1 : 0);
  }
  int protecting = 0;
  for (const auto& entry : controls.protect) protecting += !entry.second.Expired(tick.decision.at);
  G(protected_servers, s, p).Set(protecting);
  G(desired, s, p).Set(tick.decision.desired);
  G(recommended, s, p).Set(tick.decision.raw_recommendation);
  const std::string policy = tick.decision.policy.empty() ? "none" : tick.decision.policy;
  C(decisions, s, {{"pool", pool}, {"direction", DirectionName(tick.decision.direction)}, {"policy", policy}})
      .Increment();
  C(query_errors, s, p).Increment(static_cast<double>(tick.metric_errors.size()));
  for (const ApplyResult::Action& a : tick.applied.actions) {
    const char* result = tick.applied.dry_run ? "dry_run" : a.status.ok() ? "ok" : "error";
    C(actions, s, {{"pool", pool}, {"action", a.kind}, {"result", result}}).Increment();
  }

  // Per configured metric: staleness, fallback, floor-only; series of metrics no longer configured go.
  std::set<std::string> configured;
  for (const MetricQuery& q : spec.metrics) configured.insert(q.name);
  Family<Gauge>* const families[] = {&staleness, &on_fallback, &floor_only};
  for (auto it = s->per_metric.begin(); it != s->per_metric.end();) {
    if (configured.count(it->first) != 0) {
      ++it;
      continue;
    }
    for (size_t f = 0; f < it->second.size(); ++f) {
      std::erase(s->gauges, std::pair<Family<Gauge>*, Gauge*>(families[f], it->second[f]));
      families[f]->Remove(it->second[f]);
    }
    it = s->per_metric.erase(it);
  }
  auto listed = [](const std::vector<std::string>& names, const std::string& m) {
    return std::find(names.begin(), names.end(), m) != names.end() ? 1.0 : 0.0;
  };
  for (const std::string& m : configured) {
    const Labels labels = {{"pool", pool}, {"metric", m}};
    std::vector<Gauge*>& gauges = s->per_metric[m];
    if (gauges.empty()) {
      for (Family<Gauge>* f : families) gauges.push_back(&G(*f, s, labels));
    }
    auto age = tick.metric_age_seconds.find(m);
    gauges[0]->Set(age != tick.metric_age_seconds.end() ? age->second : std::numeric_limits<double>::infinity());
    gauges[1]->Set(listed(tick.metrics_on_fallback, m));
    gauges[2]->Set(listed(tick.metrics_floor_only, m));
  }
}

void SelfMetrics::Impl::Forget(const std::string& pool) {
  auto it = pools.find(pool);
  if (it == pools.end()) return;
  for (auto& [family, metric] : it->second.gauges) family->Remove(metric);
  for (auto& [family, metric] : it->second.counters) family->Remove(metric);
  for (auto& [family, metric] : it->second.histograms) family->Remove(metric);
  pools.erase(it);
}

SelfMetrics::SelfMetrics(std::string version) : impl_(std::make_unique<Impl>(version)) {}
SelfMetrics::~SelfMetrics() = default;

void SelfMetrics::ObserveTick(const std::string& pool, const TickResult& tick, const PoolControls& controls,
                              const PoolSpec& spec, double evaluation_seconds, bool dry_run) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  try {
    impl_->Observe(pool, tick, controls, spec, evaluation_seconds, dry_run);
  } catch (const std::exception& e) {  // prometheus-cpp throws only on invalid names: a bug here
    Log(LogLevel::kError, "self metrics not updated", {{"pool", pool}, {"error", e.what()}});
  }
}

void SelfMetrics::StateSaved(bool ok) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  Counter& errors = impl_->state_save_errors.Add({});
  if (!ok) errors.Increment();
  impl_->state_save_failing.Add({}).Set(ok ? 0 : 1);
}

void SelfMetrics::HandOver(const std::string& pool, bool acquired) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  try {
    impl_->pool_owned.Add({{"pool", pool}}).Set(acquired ? 1 : 0);
    impl_->handovers.Add({{"pool", pool}, {"direction", acquired ? "acquired" : "released"}}).Increment();
  } catch (const std::exception& e) {
    Log(LogLevel::kError, "self metrics not updated", {{"pool", pool}, {"error", e.what()}});
  }
}

void SelfMetrics::SetOwned(const std::string& pool, bool owned) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  try {
    impl_->pool_owned.Add({{"pool", pool}}).Set(owned ? 1 : 0);
  } catch (const std::exception& e) {
    Log(LogLevel::kError, "self metrics not updated", {{"pool", pool}, {"error", e.what()}});
  }
}

void SelfMetrics::ClusterObserved(int members, uint64_t renewal_failures) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->cluster_members.Add({}).Set(members);
  Counter& failures = impl_->lease_renewal_failures.Add({});
  if (renewal_failures > impl_->renewal_failures_seen) {
    failures.Increment(static_cast<double>(renewal_failures - impl_->renewal_failures_seen));
    impl_->renewal_failures_seen = renewal_failures;
  }
}

void SelfMetrics::HttpRefused(const std::string& kind) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  try {
    impl_->http_refused.Add({{"kind", kind}}).Increment();
  } catch (const std::exception& e) {
    Log(LogLevel::kError, "self metrics not updated", {{"kind", kind}, {"error", e.what()}});
  }
}

void SelfMetrics::SetHttpConnections(size_t open) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->http_connections.Add({}).Set(static_cast<double>(open));
}

void SelfMetrics::ForgetPool(const std::string& pool) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->Forget(pool);
}

std::string SelfMetrics::Render() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  try {
    std::vector<prometheus::MetricFamily> families = impl_->registry.Collect();
    for (prometheus::MetricFamily& f : families) {  // stable order for people and diffs
      std::sort(f.metric.begin(), f.metric.end(),
                [](const prometheus::ClientMetric& a, const prometheus::ClientMetric& b) {
                  return a.label < b.label;
                });
    }
    return prometheus::TextSerializer().Serialize(families);
  } catch (const std::exception& e) {
    Log(LogLevel::kError, "self metrics not rendered", {{"error", e.what()}});
    return "";
  }
}

}  // namespace warmpool
