#include "app.h"

#include <chrono>

#include "log.h"

namespace warmpool {
namespace {

bool SamePlugin(const PluginSpec& a, const PluginSpec& b) {
  return a.type == b.type && a.params.values == b.params.values && a.params.base_dir == b.params.base_dir;
}

std::string JoinErrors(const std::vector<std::string>& errors) {
  std::string all;
  for (const std::string& e : errors) all += (all.empty() ? "" : "; ") + e;
  return all;
}

}  // namespace

TimeMs SystemClock::Now() const {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

Result<std::unique_ptr<App>> App::Create(const Config& config, const Clock* clock, bool force_dry_run) {
  std::unique_ptr<App> app(new App(clock, force_dry_run));
  if (Status st = app->Build(config, nullptr); !st.ok()) return st;
  return app;
}

Status App::Reload(const Config& config) {
  App next(clock_, force_dry_run_);
  if (Status st = next.Build(config, this); !st.ok()) return st;
  config_ = std::move(next.config_);
  metrics_ = std::move(next.metrics_);
  pools_ = std::move(next.pools_);
  return Status::Ok();
}

// Builds from `config`, taking over what it can from `previous` (which is left unusable on success
// only; on failure `previous` is untouched).
Status App::Build(const Config& config, App* previous) {
  std::vector<std::string> errors;
  const PluginSpec& ms = config.global.metrics_source;
  std::unique_ptr<MetricsSource> metrics;
  bool reuse_metrics =
      previous && previous->metrics_ && SamePlugin(previous->config_.global.metrics_source, ms);
  if (!reuse_metrics && !ms.type.empty()) metrics = CreateMetricsSource(ms.type, ms.params, &errors);

  struct Built {
    std::unique_ptr<Provider> provider;  // null: reuse previous pool i's provider
    int reuse = -1;
    std::vector<std::unique_ptr<Policy>> policies;
  };
  std::vector<Built> built(config.pools.size());
  for (size_t i = 0; i < config.pools.size(); ++i) {
    const PoolSpec& spec = config.pools[i];
    if (previous) {
      for (size_t j = 0; j < previous->pools_.size(); ++j) {
        const PoolSpec& old = previous->pools_[j].controller->spec();
        if (old.name == spec.name && SamePlugin(old.provider, spec.provider))
          built[i].reuse = static_cast<int>(j);
      }
    }
    if (built[i].reuse < 0) {
      built[i].provider =
          CreateProvider(spec.provider.type, spec.name, spec.provider.params, clock_, &errors);
    }
    built[i].policies = CreatePolicies(spec, &errors);
  }
  if (!errors.empty()) return Status::InvalidArgument(JoinErrors(errors));

  config_ = config;
  metrics_ = reuse_metrics ? std::move(previous->metrics_) : std::move(metrics);
  for (size_t i = 0; i < config.pools.size(); ++i) {
    const PoolSpec& spec = config.pools[i];
    Pool pool;
    BehaviorHistory history;
    if (built[i].reuse >= 0) {
      Pool& old = previous->pools_[static_cast<size_t>(built[i].reuse)];
      pool.provider = std::move(old.provider);
    } else {
      pool.provider = std::move(built[i].provider);
    }
    if (previous) {
      for (Pool& old : previous->pools_) {
        if (old.controller && old.controller->spec().name == spec.name) {
          history = old.controller->behavior_history();
        }
      }
    }
    pool.controller = std::make_unique<PoolController>(spec, std::move(built[i].policies),
                                                       pool.provider.get(), metrics_.get(), force_dry_run_);
    pool.controller->set_behavior_history(std::move(history));
    pools_.push_back(std::move(pool));
  }
  return Status::Ok();
}

std::vector<TickResult> App::TickAll(TimeMs now) {
  std::vector<TickResult> results;
  results.reserve(pools_.size());
  for (Pool& pool : pools_) {
    results.push_back(pool.controller->RunOnce(now));
    LogTick(pool.controller->spec().name, results.back());
  }
  return results;
}

void LogTick(const std::string& pool, const TickResult& tick) {
  for (const std::string& e : tick.provider_events) {
    Log(LogLevel::kInfo, "provider", {{"pool", pool}, {"event", e}});
  }
  if (!tick.status.ok()) {
    Log(LogLevel::kError, "observe failed", {{"pool", pool}, {"error", tick.status.ToString()}});
    return;
  }
  for (const std::string& e : tick.metric_errors) {
    Log(LogLevel::kWarn, "metric query failed", {{"pool", pool}, {"error", e}});
  }
  const Decision& d = tick.decision;
  const bool acted = d.direction != Direction::kNone || !tick.plan.empty();
  const LogLevel level = !tick.applied.ok() ? LogLevel::kWarn : acted ? LogLevel::kInfo : LogLevel::kDebug;
  Log(level, "decision",
      {{"pool", pool},
       {"current", d.current},
       {"desired", d.desired},
       {"direction", DirectionName(d.direction)},
       {"policy", d.policy},
       {"reason", d.reason},
       {"plan", tick.plan.Summary()},
       {"plan_reason", tick.plan.reason},
       {"result", tick.plan.empty() ? std::string("nothing to do") : tick.applied.Summary()},
       {"dry_run", tick.applied.dry_run}});
}

}  // namespace warmpool
