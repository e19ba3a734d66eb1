// The YAML config loader: structure and ranges here, each plugin's own settings checked by creating
// it once through its factory. Every error is collected; nothing throws out of this file.
#include "controller/config/config.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <map>
#include <memory>
#include <set>

#include "controller/config/cluster.h"
#include "controller/config/health.h"
#include "controller/config/tokens_file.h"
#include "controller/config/yaml.h"
#include "controller/files/read_file.h"
#include "controller/sources/registry.h"
#include "policies/load_metric.h"
#include "policies/registry.h"
#include "policies/surge.h"
#include "policies/warm_pool_sizer.h"
#include "providers/registry.h"
#include "warmpool/clock.h"
#include "warmpool/metrics.h"
#include "warmpool/policy.h"
#include "warmpool/provider.h"
#include "warmpool/text.h"

namespace warmpool {
namespace {

constexpr size_t kMaxConfigBytes = size_t{16} << 20;
constexpr size_t kMaxPluginFileBytes = size_t{1} << 20;  // what a plugin reads through Params::read_file

using config_internal::Describe;
using config_internal::Flatten;
using config_internal::IndexPath;
using config_internal::JoinPath;
using config_internal::Quote;
using config_internal::YamlMap;

using Errors = std::vector<std::string>;

bool ValidPoolName(const std::string& name) {
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '.' || c == '-';
    if (!ok) return false;
  }
  return !name.empty();
}

// Checks that `node` (the value of a sequence field at `path`) is a sequence. Absent or null:
// "required" when `required`, else an empty sequence.
bool ExpectSequence(const YAML::Node* node, const std::string& path, bool required, Errors* errors) {
  if (node == nullptr || node->IsNull()) {
    if (required) errors->push_back(path + ": required");
    return false;
  }
  if (!node->IsSequence()) {
    errors->push_back(path + ": must be a sequence, got " + Describe(*node));
    return false;
  }
  if (required && node->size() == 0) {
    errors->push_back(path + ": must not be empty");
    return false;
  }
  return true;
}

// A plugin mapping: `type` (required), `name` when `named` (defaults to the type), and every other
// key flattened into params.
void ReadPlugin(const YAML::Node& node, const std::string& path, bool named, const std::string& base_dir,
                PluginSpec* out, Errors* errors) {
  out->params.path = path;
  out->params.base_dir = base_dir;
  out->params.read_file = [](const std::string& file) { return ReadWholeFile(file, kMaxPluginFileBytes); };
  YamlMap m(node, path, errors);
  if (!m.ok()) return;
  m.RequiredString("type", &out->type);
  if (named) {
    out->name = out->type;
    if (m.Has("name") && m.String("name", &out->name) && out->name.empty()) {
      m.Error("name", "must not be empty");
    }
  }
  for (const auto& [key, value] : m.TakeRest()) Flatten(value, key, &out->params, errors);
}

// A tick per pool faster than this only burns the Prometheus it queries.
constexpr DurationMs kMinInterval = 100;

void ReadGlobal(const YAML::Node& node, GlobalSpec* global, Errors* errors) {
  YamlMap m(node, "global", errors);
  if (m.Duration("interval", &global->interval, /*positive=*/true) && global->interval < kMinInterval) {
    m.Error("interval", "must be at least " + FormatDuration(kMinInterval) + ", got " +
                            Quote(FormatDuration(global->interval)));
  }
  m.Enum("log_format", &global->log_format, {"text", "json"});
  m.Enum("log_level", &global->log_level, {"trace", "debug", "info", "warn", "error"});
  m.Finish();
}

// A metric's scrape_health: {query, window}.
void ReadScrapeHealth(const YAML::Node& node, const std::string& path, MetricQuery* q, Errors* errors) {
  YamlMap h(node, path, errors);
  if (!h.ok()) return;
  if (h.RequiredString("query", &q->health_query) && q->health_query.empty()) {
    h.Error("query", "must not be empty, e.g. min(up{job=\"web\"})");
  }
  h.Duration("window", &q->health_window, /*positive=*/true);
  h.Finish();
}

void ReadMetrics(const YAML::Node* node, const std::string& path, const std::string& base_dir, PoolSpec* pool,
                 Errors* errors) {
  std::vector<MetricQuery>* out = &pool->metrics;
  if (!ExpectSequence(node, path, /*required=*/false, errors)) return;
  std::map<std::string, std::string> seen;  // name -> path of its first declaration
  for (size_t i = 0; i < node->size(); ++i) {
    std::string item_path = IndexPath(path, i);
    YamlMap m((*node)[i], item_path, errors);
    if (!m.ok()) continue;
    MetricQuery q;
    if (m.RequiredString("name", &q.name)) {
      auto [it, inserted] = seen.emplace(q.name, item_path);
      if (!inserted) {
        m.Error("name", "duplicate metric name " + Quote(q.name) + " (also " + it->second + ")");
      }
    }
    m.String("query", &q.query);
    m.Duration("window", &q.window, /*positive=*/true);
    m.Duration("step", &q.step, /*positive=*/true);
    if (const YAML::Node* health = m.Get("scrape_health")) {
      ReadScrapeHealth(*health, m.PathOf("scrape_health"), &q, errors);
    }
    if (const YAML::Node* fallback = m.Get("fallback")) {
      PluginSpec spec;
      if (fallback->IsMap()) {
        ReadPlugin(*fallback, m.PathOf("fallback"), /*named=*/false, base_dir, &spec, errors);
      } else {
        // `fallback: haproxy`: the type, every setting at its default. Its errors are the key's own:
        // there is no fallback.type in the file to blame.
        spec.params.path = m.PathOf("fallback");
        spec.params.base_dir = base_dir;
        const std::vector<std::string> types = FallbackSourceTypes();
        std::string known;
        for (const std::string& t : types) known += (known.empty() ? "" : ", ") + t;
        if (!fallback->IsScalar() || fallback->Scalar().empty()) {
          m.Error("fallback", "must be a fallback type (" + known + ") or a mapping of its settings, got " +
                                  Describe(*fallback));
        } else if (std::find(types.begin(), types.end(), fallback->Scalar()) == types.end()) {
          m.Error("fallback", "unknown fallback type " + Quote(fallback->Scalar()) + " (known: " + known + ")");
        } else {
          spec.type = fallback->Scalar();
        }
      }
      if (!q.name.empty()) pool->fallbacks[q.name] = std::move(spec);
    }
    m.Finish();
    out->push_back(std::move(q));
  }
}

void ReadRateLimit(const YAML::Node& node, const std::string& path, RateLimit* out, Errors* errors) {
  YamlMap m(node, path, errors);
  if (!m.ok()) return;
  std::string type;
  if (!m.Has("type")) {
    m.Error("type", "required");
  } else if (m.Enum("type", &type, {"servers", "percent"})) {
    out->kind = type == "servers" ? RateLimit::Kind::kServers : RateLimit::Kind::kPercent;
  }
  if (!m.Has("value")) {
    m.Error("value", "required");
  } else if (m.Number("value", &out->value)) {
    if (out->value <= 0) {
      m.Error("value", "must be > 0, got " + m.Get("value")->Scalar());
    } else if (type == "servers" && out->value != std::floor(out->value)) {
      m.Error("value", "must be a whole number of servers, got " + m.Get("value")->Scalar());
    }
  }
  m.Duration("period", &out->period, /*positive=*/true);
  m.Finish();
}

void ReadRules(const YAML::Node& node, const std::string& path, ScalingRules* out, Errors* errors) {
  YamlMap m(node, path, errors);
  if (!m.ok()) return;
  m.Duration("stabilization_window", &out->stabilization_window, /*positive=*/false);
  std::string select;
  if (m.Enum("select", &select, {"max", "min", "disabled"})) {
    out->select = select == "max"   ? ScalingRules::Select::kMax
                  : select == "min" ? ScalingRules::Select::kMin
                                    : ScalingRules::Select::kDisabled;
  }
  if (const YAML::Node* limits = m.Get("policies")) {
    if (!limits->IsSequence()) {
      m.Error("policies", "must be a sequence (use [] for no limit), got " + Describe(*limits));
    } else {
      out->limits.assign(limits->size(), RateLimit{});
      for (size_t i = 0; i < limits->size(); ++i) {
        ReadRateLimit((*limits)[i], IndexPath(m.PathOf("policies"), i), &out->limits[i], errors);
      }
    }
  }
  m.Finish();
}

void ReadBehavior(const YAML::Node& node, const std::string& path, BehaviorSpec* out, Errors* errors) {
  YamlMap m(node, path, errors);
  if (const YAML::Node* up = m.Get("scale_up")) {
    ReadRules(*up, m.PathOf("scale_up"), &out->scale_up, errors);
  }
  if (const YAML::Node* down = m.Get("scale_down")) {
    ReadRules(*down, m.PathOf("scale_down"), &out->scale_down, errors);
  }
  m.Finish();
}

// The config path to blame for a policy naming an undeclared metric: the parameter whose value is
// that name ("metric" preferred), else the policy itself.
std::string MetricRefPath(const PluginSpec& policy, const std::string& metric) {
  auto it = policy.params.values.find("metric");
  if (it != policy.params.values.end() && it->second == metric) {
    return JoinPath(policy.params.path, it->first);
  }
  for (const auto& [key, value] : policy.params.values) {
    if (value == metric) return JoinPath(policy.params.path, key);
  }
  return policy.params.path;
}

// Creates each plugin of `pool` once, so that their own errors are reported, and checks that every
// metric a policy reads is declared by the pool.
void ValidatePoolPlugins(const PoolSpec& pool, const std::string& path, Errors* errors) {
  for (const PluginSpec& spec : pool.policies) {
    if (spec.type.empty()) continue;  // already reported as required
    std::unique_ptr<Policy> policy = CreatePolicy(spec.type, spec.name, spec.params, errors);
    if (policy == nullptr) continue;
    for (const std::string& metric : policy->Inputs().metrics) {
      bool declared = false;
      for (const MetricQuery& q : pool.metrics) declared = declared || q.name == metric;
      if (!declared) {
        errors->push_back(MetricRefPath(spec, metric) + ": no metric named " + Quote(metric) + " in " + path +
                          ".metrics");
      }
    }
  }
  // The fallbacks' and the shedder's errors about the values they take from the provider name the
  // provider's keys (Params::origins): one error per key, the provider's own when it has one.
  std::set<std::string> blamed;
  if (!pool.provider.type.empty()) {
    ManualClock clock;
    Errors found;
    CreateProvider(pool.provider.type, pool.name, pool.provider.params, &clock, &found);
    for (const std::string& e : found) blamed.insert(e.substr(0, e.find(": ")));
    errors->insert(errors->end(), found.begin(), found.end());
  }
  auto add_once = [&](const Params& params, const Errors& found) {
    std::set<std::string> copied;
    for (const auto& [key, origin] : params.origins) copied.insert(origin);
    for (const std::string& e : found) {
      const std::string at = e.substr(0, e.find(": "));
      if (copied.count(at) != 0 && !blamed.insert(at).second) continue;
      errors->push_back(e);
    }
  };
  for (const auto& [metric, fallback] : pool.fallbacks) {
    if (fallback.type.empty()) continue;  // already reported
    Errors found;
    CreateFallbackSource(fallback.type, fallback.params, &found);
    add_once(fallback.params, found);
  }
  if (pool.overload.enabled && !pool.provider.type.empty()) {
    Params balancer = pool.overload_balancer;
    balancer.path = JoinPath(path, "overload");  // "needs a provider that can limit": on the block
    if (pool.provider.type == "haproxy") balancer.path = pool.overload_balancer.path;
    Errors found;
    CreateShedder(pool.provider.type, balancer, &found);
    add_once(balancer, found);
  }
}

// Gives `to[to_key]` the value of the provider's `from_key`, and names where it is written, so that an
// error about it blames the provider's key. The origin is recorded even when the provider lacks the
// key: the error "required" is the provider's then, and it reports it itself.
void CopyFromProvider(const Params& provider, const std::string& from_key, Params* to, const std::string& to_key) {
  if (auto it = provider.values.find(from_key); it != provider.values.end()) {
    to->values[to_key] = it->second;
  } else {
    to->values.erase(to_key);
  }
  to->origins[to_key] = JoinPath(provider.path, from_key);
}

// A haproxy fallback reads the pool's own balancer unless told otherwise: the socket and backend of
// the pool's haproxy provider.
void ResolveFallbacks(PoolSpec* pool) {
  if (pool->provider.type != "haproxy") return;
  for (auto& [metric, fallback] : pool->fallbacks) {
    if (fallback.type != "haproxy") continue;
    if (!fallback.params.values.count("socket")) {
      CopyFromProvider(pool->provider.params, "socket", &fallback.params, "socket");
    }
    if (!fallback.params.values.count("proxy")) {
      CopyFromProvider(pool->provider.params, "backend", &fallback.params, "proxy");
    }
  }
}

constexpr int kMaxServerConcurrency = 1'000'000;  // HAProxy's own server maxconn bound is far above any server

// `overload:`: the decision's settings, and `haproxy:` (the balancer's) into overload_balancer.
void ReadOverload(const YAML::Node& node, const std::string& path, const std::string& base_dir, PoolSpec* pool,
                  Errors* errors) {
  YamlMap m(node, path, errors);
  if (!m.ok()) return;
  ShedSpec& o = pool->overload;
  o.enabled = true;
  if (!m.Has("capacity")) {
    m.Error("capacity", "required: the requests a second one server serves at full capacity");
  } else if (m.Number("capacity", &o.capacity) && !(o.capacity > 0)) {
    m.Error("capacity", "must be > 0, got " + FormatNumber(o.capacity));
  }
  m.String("metric", &o.metric);
  m.Duration("protect_after", &o.protect_after, /*positive=*/false);
  if (m.Number("release_below", &o.release_below) && !(o.release_below > 0 && o.release_below < 1)) {
    m.Error("release_below", "must be between 0 and 1 (a share of the capacity), got " + FormatNumber(o.release_below));
  }
  m.Duration("release_after", &o.release_after, /*positive=*/false);
  m.Bool("per_client", &o.per_client);
  if (m.Int("server_concurrency", &o.server_concurrency, 0) && o.server_concurrency > kMaxServerConcurrency) {
    m.Error("server_concurrency", "must be at most " + std::to_string(kMaxServerConcurrency) + ", got " +
                                      std::to_string(o.server_concurrency));
  }
  Params& b = pool->overload_balancer;
  b.path = JoinPath(path, "haproxy");
  b.base_dir = base_dir;
  if (const YAML::Node* haproxy = m.Get("haproxy")) {
    YamlMap h(*haproxy, b.path, errors);
    for (const char* key : {"socket", "backend"}) {  // the provider's, always
      if (h.Get(key) != nullptr) h.Error(key, "unknown key (the pool's provider's " + std::string(key) + " is used)");
    }
    if (h.ok()) {
      for (const auto& [key, value] : h.TakeRest()) Flatten(value, key, &b, errors);
    }
  }
  m.Finish();
}

// The overload's balancer settings take the provider's socket (and backend), and its metric (the
// pool's load metric unless named) must be declared.
void ResolveOverload(PoolSpec* pool, const std::string& path, Errors* errors) {
  ShedSpec& o = pool->overload;
  if (!o.enabled) return;
  if (pool->provider.type == "haproxy") {
    CopyFromProvider(pool->provider.params, "socket", &pool->overload_balancer, "socket");
    // The per-server cap acts on the provider's backend (and the shedder manages maxconn only then).
    if (o.server_concurrency > 0) CopyFromProvider(pool->provider.params, "backend", &pool->overload_balancer, "backend");
  }
  const std::string at = JoinPath(path, "overload");
  if (o.metric.empty()) o.metric = FindLoadMetric(pool->policies, "").metric;
  if (o.metric.empty()) {
    errors->push_back(JoinPath(at, "metric") + ": required (no target_tracking or predictive policy to take the load metric from)");
    return;
  }
  bool declared = false;
  for (const MetricQuery& q : pool->metrics) declared = declared || q.name == o.metric;
  if (!declared) {
    errors->push_back(JoinPath(at, "metric") + ": no metric named " + Quote(o.metric) + " in " + path + ".metrics");
  }
}

// warm_standby.auto's (or warm_standby.stopped.auto's) settings: null (every default) or a mapping,
// read over the defaults already in `spec`.
void ReadWarmAuto(const YAML::Node& node, const std::string& path, WarmAutoSpec* spec, Errors* errors) {
  Params params;
  params.path = path;
  if (!node.IsNull()) {
    if (!node.IsMap()) {
      errors->push_back(path + ": must be a mapping of settings (min, max, horizon, quantile, ...), got " +
                        Describe(node));
      return;
    }
    YamlMap a(node, path, errors);
    for (const auto& [key, value] : a.TakeRest()) Flatten(value, key, &params, errors);
  }
  ReadWarmAutoSpec(params, spec, errors);
}

// One tier of warm_standby: a count, `auto` (every setting at its default), or {auto: {...}}.
// `key` is the tier's key in `m` ("warm_standby" itself, or "running"/"stopped" under it).
void ReadWarmTier(YamlMap* m, const std::string& key, const char* forms, int* count, WarmAutoSpec* spec,
                  Errors* errors) {
  const YAML::Node* warm = m->Get(key);
  if (warm == nullptr) return;
  if (warm->IsScalar() && warm->Scalar() == "auto") {
    spec->enabled = true;
  } else if (warm->IsMap()) {
    YamlMap w(*warm, m->PathOf(key), errors);
    if (const YAML::Node* settings = w.Get("auto")) {
      ReadWarmAuto(*settings, w.PathOf("auto"), spec, errors);
    } else {
      w.Error("auto", std::string("required: ") + key + " is " + forms);
    }
    w.Finish();
  } else if (warm->IsScalar() && !warm->Scalar().empty() &&
             std::isalpha(static_cast<unsigned char>(warm->Scalar()[0]))) {
    m->Error(key, std::string("must be ") + forms + ", got " + Quote(warm->Scalar()));
  } else {
    m->Int(key, count, 0);
  }
}

constexpr const char* kWarmForms =
    "a count >= 0, auto, {auto: {min: 0, max: 10, ...}}, or {running: N|auto, stopped: M|auto}";
constexpr const char* kTierForms = "a count >= 0, auto, or {auto: {min: 0, max: 10, ...}}";

// warm_standby: a count, `auto`, {auto: {...}} (the running tier alone), or the tiers
// {running: N|auto|{auto: ...}, stopped: M|auto|{auto: ...}}. Returns whether it was the tiers.
bool ReadWarmStandby(YamlMap* m, PoolSpec* pool, Errors* errors) {
  const YAML::Node* warm = m->Get("warm_standby");
  if (warm != nullptr && warm->IsMap() && !(*warm)["auto"] && ((*warm)["running"] || (*warm)["stopped"])) {
    YamlMap w(*warm, m->PathOf("warm_standby"), errors);
    ReadWarmTier(&w, "running", kTierForms, &pool->warm_standby, &pool->warm_auto, errors);
    // The stopped tier's auto defaults differ from the running tier's (a longer horizon, a higher
    // quantile); metric and server_capacity are resolved later.
    pool->stopped_auto = StoppedAutoDefaults(WarmAutoSpec{});
    ReadWarmTier(&w, "stopped", kTierForms, &pool->warm_stopped, &pool->stopped_auto, errors);
    w.Finish();
    return true;
  }
  ReadWarmTier(m, "warm_standby", kWarmForms, &pool->warm_standby, &pool->warm_auto, errors);
  return false;
}

// Fills a load-metric setting's metric and server_capacity (at `at`: warm_standby's auto sizers,
// surge) from the first target_tracking or predictive policy when they are not given, and checks the
// metric is the pool's.
void ResolveLoadMetric(std::string* metric, double* server_capacity, const std::string& at, const PoolSpec& pool,
                       const std::string& path, Errors* errors) {
  // The pool's load metric (policies/load_metric.h), on the metric given when it is.
  const LoadMetric load = FindLoadMetric(pool.policies, *metric);
  if (metric->empty()) {
    if (load.policy < 0) {
      errors->push_back(JoinPath(at, "metric") +
                        ": required (no target_tracking or predictive policy to take the load metric from)");
      return;
    }
    *metric = load.metric;
  }
  bool declared = false;
  for (const MetricQuery& q : pool.metrics) declared = declared || q.name == *metric;
  if (!declared) {
    errors->push_back(JoinPath(at, "metric") + ": no metric named " + Quote(*metric) + " in " + path +
                      ".metrics");
  }
  if (*server_capacity <= 0) {
    if (load.per_server <= 0) {
      errors->push_back(JoinPath(at, "server_capacity") + ": required (what one server carries of " +
                        Quote(*metric) + "; no policy with target_per_server on it to take it from)");
      return;
    }
    *server_capacity = load.per_server;
  }
}

// An auto sizer (warm_standby.auto, or warm_standby.stopped.auto at `at`): its metric and
// server_capacity as ResolveLoadMetric's, the stopped tier's from the running tier's first when it is auto.
void ResolveAutoSpec(WarmAutoSpec* spec, const WarmAutoSpec* running, const std::string& at, PoolSpec* pool,
                     const std::string& path, Errors* errors) {
  WarmAutoSpec& w = *spec;
  if (!w.enabled) return;
  if (running != nullptr && running->enabled) {
    if (w.metric.empty()) w.metric = running->metric;
    if (w.server_capacity <= 0 && w.metric == running->metric) w.server_capacity = running->server_capacity;
  }
  ResolveLoadMetric(&w.metric, &w.server_capacity, at, *pool, path, errors);
}

// surge: `on` (every setting at its default) or a mapping of settings (policies/surge.h).
void ReadSurge(const YAML::Node& node, const std::string& path, PoolSpec* pool, Errors* errors) {
  Params params;
  params.path = path;
  if (node.IsScalar() && (node.Scalar() == "on" || node.Scalar() == "true")) {
    pool->surge.enabled = true;
    return;
  }
  if (node.IsScalar() && (node.Scalar() == "off" || node.Scalar() == "false")) return;
  if (!node.IsNull()) {
    if (!node.IsMap()) {
      errors->push_back(path + ": must be on, off or a mapping of settings (window, lead, min_rise, ...), got " +
                        Describe(node));
      return;
    }
    YamlMap a(node, path, errors);
    for (const auto& [key, value] : a.TakeRest()) Flatten(value, key, &params, errors);
  }
  ReadSurgeSpec(params, &pool->surge, errors);
}

// surge's metric and server_capacity, from the pool's load metric as warm_standby.auto's.
void ResolveSurge(PoolSpec* pool, const std::string& path, Errors* errors) {
  SurgeSpec& s = pool->surge;
  if (s.enabled) ResolveLoadMetric(&s.metric, &s.server_capacity, JoinPath(path, "surge"), *pool, path, errors);
}

// `tiers`: warm_standby was written as {running: ..., stopped: ...} (errors name running.auto).
void ResolveWarmAuto(PoolSpec* pool, const std::string& path, bool tiers, Errors* errors) {
  ResolveAutoSpec(&pool->warm_auto, nullptr,
                  JoinPath(path, tiers ? "warm_standby.running.auto" : "warm_standby.auto"), pool, path,
                  errors);
  ResolveAutoSpec(&pool->stopped_auto, &pool->warm_auto, JoinPath(path, "warm_standby.stopped.auto"), pool,
                  path, errors);
  // A stopped tier needs a provider that can suspend and resume a machine: the simulated one, or the
  // exec commands (providers/exec) behind the balancer.
  if (!pool->HasStoppedTier() || pool->provider.type.empty() || pool->provider.type == "simulated") return;
  for (const char* key : {"exec.suspend", "exec.resume"}) {
    auto it = pool->provider.params.values.find(key);
    if (it == pool->provider.params.values.end() || it->second.empty()) {
      errors->push_back(JoinPath(path, "warm_standby.stopped") + ": a stopped tier needs the provider's " +
                        "exec.suspend and exec.resume commands, and " + JoinPath(path, "provider") + "." +
                        key + " is not set (provider " + Quote(pool->provider.type) + ")");
      return;
    }
  }
}

void ReadPool(const YAML::Node& node, const std::string& path, const std::string& base_dir, PoolSpec* pool,
              Errors* errors) {
  YamlMap m(node, path, errors);
  if (!m.ok()) return;
  if (m.RequiredString("name", &pool->name) && !ValidPoolName(pool->name)) {
    m.Error("name", "must match [A-Za-z0-9_.-]+, got " + Quote(pool->name));
  }
  bool min_ok = m.Int("min_active", &pool->min_active, 0) || !m.Has("min_active");
  bool max_ok = m.Int("max_active", &pool->max_active, 1) || !m.Has("max_active");
  if (min_ok && max_ok && pool->max_active < pool->min_active) {
    m.Error("max_active", "must be >= min_active (" + std::to_string(pool->min_active) + "), got " +
                              std::to_string(pool->max_active));
  }
  const bool warm_tiers = ReadWarmStandby(&m, pool, errors);
  if (m.Int("max_total", &pool->max_total, 0) && max_ok && pool->max_total > 0 &&
      pool->max_total < pool->max_active) {
    m.Error("max_total", "must be 0 or >= max_active (" + std::to_string(pool->max_active) + "), got " +
                             std::to_string(pool->max_total));
  }
  m.Duration("stale_after", &pool->stale_after, /*positive=*/true);
  m.Bool("dry_run", &pool->dry_run);
  ReadMetrics(m.Get("metrics"), m.PathOf("metrics"), base_dir, pool, errors);

  const YAML::Node* policies = m.Get("policies");
  std::string policies_path = m.PathOf("policies");
  if (ExpectSequence(policies, policies_path, /*required=*/true, errors)) {
    std::map<std::string, std::string> seen;  // name -> path of the first policy so named
    for (size_t i = 0; i < policies->size(); ++i) {
      std::string item_path = IndexPath(policies_path, i);
      PluginSpec spec;
      ReadPlugin((*policies)[i], item_path, /*named=*/true, base_dir, &spec, errors);
      if (!spec.name.empty()) {
        auto [it, inserted] = seen.emplace(spec.name, item_path);
        if (!inserted) {
          errors->push_back(JoinPath(item_path, "name") + ": duplicate policy name " + Quote(spec.name) +
                            " (also " + it->second + ")");
        }
      }
      pool->policies.push_back(std::move(spec));
    }
  }
  if (const YAML::Node* behavior = m.Get("behavior")) {
    ReadBehavior(*behavior, m.PathOf("behavior"), &pool->behavior, errors);
  }
  if (const YAML::Node* model = m.Get("capacity_model")) {
    // The backtest's model of this pool: the simulated provider's parameters.
    pool->capacity_model.type = "simulated";
    pool->capacity_model.params.path = m.PathOf("capacity_model");
    pool->capacity_model.params.base_dir = base_dir;
    YamlMap cm(*model, m.PathOf("capacity_model"), errors);
    if (cm.ok()) {
      for (const auto& [key, value] : cm.TakeRest())
        Flatten(value, key, &pool->capacity_model.params, errors);
      ManualClock clock;
      CreateProvider("simulated", pool->name, pool->capacity_model.params, &clock, errors);
    }
  }
  if (const YAML::Node* overload = m.Get("overload")) {
    ReadOverload(*overload, m.PathOf("overload"), base_dir, pool, errors);
  }
  if (const YAML::Node* surge = m.Get("surge")) ReadSurge(*surge, m.PathOf("surge"), pool, errors);
  if (const YAML::Node* health = m.Get("health")) config_internal::ReadHealth(*health, m.PathOf("health"), &pool->health, errors);
  if (const YAML::Node* provider = m.Get("provider")) {
    ReadPlugin(*provider, m.PathOf("provider"), /*named=*/false, base_dir, &pool->provider, errors);
  } else {
    m.Error("provider", "required");
  }
  m.Finish();
  ResolveWarmAuto(pool, path, warm_tiers, errors);
  ResolveSurge(pool, path, errors);
  ResolveFallbacks(pool);
  ResolveOverload(pool, path, errors);
  ValidatePoolPlugins(*pool, path, errors);
}

std::string Resolve(const std::string& base_dir, const std::string& path) {
  if (path.empty() || path[0] == '/' || base_dir.empty()) return path;
  return base_dir + "/" + path;
}

// A dotted-quad IPv4 address, as inet_pton reads one (this room has no socket headers).
bool IsIPv4(const std::string& host) {
  int parts = 0;
  for (size_t at = 0; at <= host.size(); ++parts) {
    size_t end = host.find('.', at);
    if (end == std::string::npos) end = host.size();
    const std::string part = host.substr(at, end - at);
    if (part.empty() || part.size() > 3 || part.find_first_not_of("0123456789") != std::string::npos ||
        (part.size() > 1 && part[0] == '0') || std::stoi(part) > 255) {
      return false;
    }
    at = end + 1;
  }
  return parts == 4;
}

// Why `address` is not one the API can listen on, or "": the rules of ParseListenAddress
// (controller/http/server.cc) and of the server's bind, which this room may not include.
std::string ListenAddressProblem(const std::string& address) {
  const size_t colon = address.rfind(':');
  if (!address.empty() && address[0] == '[') return "IPv6 addresses are not supported; use an IPv4 address";
  if (colon == std::string::npos) return "must be host:port, e.g. 127.0.0.1:9900 or :9900";
  const std::string host = address.substr(0, colon), port = address.substr(colon + 1);
  if (host.find(':') != std::string::npos) return "IPv6 addresses are not supported; use an IPv4 address";
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(port) > 65535) {
    return "the port must be a number from 0 to 65535";
  }
  if (!host.empty() && !IsIPv4(host)) {
    return "the host must be an IPv4 address (or empty: every address)";
  }
  return "";
}

constexpr size_t kMaxPemBytes = size_t{1} << 20;  // as the API reads them (controller/http/beast)

// What `run` would refuse to start with: the file unreadable (missing, not a regular file, too large)
// or not PEM. Only the PEM markers are looked for here; OpenSSL parses the file when `run` loads it.
void CheckPemFile(YamlMap* m, const std::string& key, const std::string& file, bool private_key) {
  Result<std::string> text = ReadWholeFile(file, kMaxPemBytes);
  if (!text.ok()) {
    m->Error(key, text.status().message());
    return;
  }
  bool found = false;
  for (size_t at = text->find("-----BEGIN "); at != std::string::npos && !found;
       at = text->find("-----BEGIN ", at + 1)) {
    const size_t label = at + 11, end = text->find("-----", label);
    if (end == std::string::npos) break;
    const std::string name = text->substr(label, end - label);
    found = private_key ? name.size() >= 11 && name.compare(name.size() - 11, 11, "PRIVATE KEY") == 0
                        : name == "CERTIFICATE";
  }
  if (!found) {
    m->Error(key, file + ": not a PEM " +
                      (private_key ? "private key (no -----BEGIN ... PRIVATE KEY----- line)"
                                   : "certificate (no -----BEGIN CERTIFICATE----- line)"));
  }
}

void ReadWeb(const YAML::Node& node, const std::string& base_dir, WebSpec* web, Errors* errors) {
  YamlMap m(node, "web", errors);
  m.String("listen_address", &web->listen_address);
  if (!web->listen_address.empty()) {
    if (std::string problem = ListenAddressProblem(web->listen_address); !problem.empty()) {
      m.Error("listen_address", problem + ", got " + Quote(web->listen_address));
    }
  }
  if (m.String("tokens_file", &web->tokens_file)) {
    web->tokens_file = Resolve(base_dir, web->tokens_file);
    // Checked now, so that check-config (and a reload) finds what `run` would refuse to start with.
    if (!web->tokens_file.empty()) {
      if (Result<ApiTokens> tokens = LoadApiTokens(web->tokens_file); !tokens.ok()) {
        m.Error("tokens_file", tokens.status().message());
      }
    }
  }
  if (const YAML::Node* tls = m.Get("tls")) {
    // Checked now too, as the tokens file is: `run` refuses to start without them.
    YamlMap t(*tls, m.PathOf("tls"), errors);
    if (t.RequiredString("cert_file", &web->tls_cert_file)) {
      web->tls_cert_file = Resolve(base_dir, web->tls_cert_file);
      CheckPemFile(&t, "cert_file", web->tls_cert_file, /*private_key=*/false);
    }
    if (t.RequiredString("key_file", &web->tls_key_file)) {
      web->tls_key_file = Resolve(base_dir, web->tls_key_file);
      CheckPemFile(&t, "key_file", web->tls_key_file, /*private_key=*/true);
    }
    t.Finish();
  }
  m.Int("max_body_bytes", &web->max_body_bytes, 1);
  m.Int("max_header_bytes", &web->max_header_bytes, 1024);
  m.Int("max_connections", &web->max_connections, 1);
  const std::pair<const char*, DurationMs*> timeouts[] = {{"read_header_timeout", &web->read_header_timeout},
                                                          {"read_timeout", &web->read_timeout},
                                                          {"write_timeout", &web->write_timeout},
                                                          {"idle_timeout", &web->idle_timeout}};
  for (const auto& [key, value] : timeouts) {
    if (m.Duration(key, value, /*positive=*/true) && *value > kHour) {
      m.Error(key, "must be at most 1h, got " + Quote(FormatDuration(*value)));
    }
  }
  m.Finish();
}

// What `run` would refuse to start with, found without writing anything: the state file's directory
// missing or not a directory, or the file itself not a regular file. (Whether the directory is
// writable depends on the user `run` runs as: `run` checks that.)
std::string StateFileProblem(const std::string& file) {
  std::string dir = std::filesystem::path(file).parent_path().string();
  if (dir.empty()) dir = ".";
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    return "its directory " + dir + ": " + std::strerror(errno);
  }
  if (!S_ISDIR(st.st_mode)) return "its directory " + dir + ": not a directory (" + FileKind(st.st_mode) + ")";
  if (::stat(file.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    return file + ": not a regular file (" + FileKind(st.st_mode) + ")";
  }
  return "";
}

void ReadConfig(const YAML::Node& root, const std::string& base_dir, Config* config, Errors* errors) {
  YamlMap m(root, "", errors);
  if (const YAML::Node* global = m.Get("global")) ReadGlobal(*global, &config->global, errors);
  if (const YAML::Node* web = m.Get("web")) ReadWeb(*web, base_dir, &config->global.web, errors);
  if (const YAML::Node* state = m.Get("state")) {
    YamlMap s(*state, "state", errors);
    if (s.RequiredString("file", &config->global.state_file)) {
      config->global.state_file = Resolve(base_dir, config->global.state_file);
      if (std::string problem = StateFileProblem(config->global.state_file); !problem.empty()) {
        s.Error("file", problem);
      }
    }
    s.Finish();
  }
  if (const YAML::Node* cluster = m.Get("cluster")) {
    config_internal::ReadCluster(*cluster, base_dir, &config->global.cluster, errors);
  }
  if (const YAML::Node* source = m.Get("metrics_source")) {
    PluginSpec* spec = &config->global.metrics_source;
    ReadPlugin(*source, "metrics_source", /*named=*/false, base_dir, spec, errors);
    if (!spec->type.empty()) CheckMetricsSource(spec->type, spec->params, errors);
  }
  const YAML::Node* pools = m.Get("pools");
  if (ExpectSequence(pools, "pools", /*required=*/true, errors)) {
    std::map<std::string, std::string> seen;  // pool name -> path of its first declaration
    config->pools.resize(pools->size());
    for (size_t i = 0; i < pools->size(); ++i) {
      std::string path = IndexPath("pools", i);
      PoolSpec& pool = config->pools[i];
      ReadPool((*pools)[i], path, base_dir, &pool, errors);
      if (pool.name.empty()) continue;
      auto [it, inserted] = seen.emplace(pool.name, path);
      if (!inserted) {
        errors->push_back(path + ".name: duplicate pool name " + Quote(pool.name) + " (also " + it->second +
                          ")");
      }
    }
  }
  config_internal::CheckClusterAgainst(config->global, errors);
  m.Finish();
}

ConfigLoad Parse(std::string_view yaml, std::string_view source, const std::string& base_dir) {
  ConfigLoad out;
  const std::string src(source);
  try {
    size_t count = 0;
    std::vector<YAML::Node> docs = config_internal::LoadDocuments(std::string(yaml), 1, &count);
    if (count > 1) {
      out.errors.push_back(src + ": expected one YAML document, got " +
                           (count > config_internal::kMaxDocuments
                                ? "more than " + std::to_string(config_internal::kMaxDocuments)
                                                  : std::to_string(count)));
    } else if (docs.empty() || docs[0].IsNull()) {
      out.errors.push_back(src + ": empty config");
    } else if (!docs[0].IsMap()) {
      out.errors.push_back(src + ": must be a mapping at the top level, got " + Describe(docs[0]));
    } else {
      ReadConfig(docs[0], base_dir, &out.config, &out.errors);
    }
  } catch (const YAML::ParserException& e) {
    out.errors.push_back(src + ":" + std::to_string(e.mark.line + 1) + ":" +
                         std::to_string(e.mark.column + 1) + ": " + e.msg);
  } catch (const std::exception& e) {  // YAML::Exception, or a plugin factory breaking the rules
    out.errors.push_back(src + ": " + e.what());
  }
  // One line each, whatever a plugin echoed (a value with a newline, a key with a tab).
  for (std::string& e : out.errors) e = EscapeControls(e);
  return out;
}

}  // namespace

ConfigLoad ParseConfig(std::string_view yaml, std::string_view source) { return Parse(yaml, source, ""); }

ConfigLoad LoadConfigFile(const std::string& path) {
  Result<std::string> text = ReadWholeFile(path, kMaxConfigBytes);
  if (!text.ok()) {
    ConfigLoad out;
    out.errors.push_back(text.status().message());
    return out;
  }
  std::string dir = std::filesystem::path(path).parent_path().string();
  return Parse(*text, path, dir.empty() ? "." : dir);
}

}  // namespace warmpool
