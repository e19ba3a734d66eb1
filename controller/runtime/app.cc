#include "controller/runtime/app.h"

#include <chrono>

#include "controller/log/log.h"
#include "controller/sources/registry.h"
#include "controller/state/codec.h"
#include "providers/registry.h"
#include "warmpool/text.h"

namespace warmpool {
namespace {

// A store's document, decoded; nullopt when there is none, or (logged as `failure`) when it cannot be
// read or decoded.
// A store that refuses to load (kFailedPrecondition: unreadable by this user, not a regular file)
// sets `fatal` instead: starting fresh would drop what it holds.
template <typename T>
std::optional<T> LoadDocument(StateStore* store, Result<T> (*decode)(const std::string&),
                              const char* failure, Status* fatal) {
  Result<std::optional<std::string>> doc = store->Load();
  if (!doc.ok()) {
    if (doc.status().code() == Status::Code::kFailedPrecondition) {
      *fatal = doc.status();
      return std::nullopt;
    }
    Log(LogLevel::kError, failure, {{"error", doc.status().message()}});
    return std::nullopt;
  }
  if (!doc->has_value()) return std::nullopt;
  Result<T> decoded = decode(**doc);
  if (!decoded.ok()) {
    Log(LogLevel::kError, failure, {{"error", decoded.status().message()}});
    return std::nullopt;
  }
  return std::move(decoded).value();
}

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
  app->WriteAheadOfApply();
  return app;
}

void App::WriteAheadOfApply() {
  for (Pool& pool : pools_) {
    pool.controller->SetBeforeApply([this, name = pool.controller->spec().name](const ScalePlan& plan, TimeMs now) {
      if (!services_.state) return;
      {
        std::lock_guard<std::mutex> lock(state_mu_);
        PersistedState::Applying& a = applying_[name];
        a.at = now;
        a.plan = plan;
        a.plan.reason.clear();
      }
      // A failed save is logged, counted and alerted on by SaveState; the plan is applied all the same:
      // holding a pool in a surge because a disk is full would be the worse failure.
      SaveState();
    });
  }
}

Status App::Reload(const Config& config) {
  App next(clock_, force_dry_run_);
  if (Status st = next.Build(config, this); !st.ok()) return st;
  if (services_.metrics) {
    for (const PoolSpec& old : config_.pools) {
      bool kept = false;
      for (const PoolSpec& p : next.config_.pools) kept = kept || p.name == old.name;
      if (!kept) services_.metrics->ForgetPool(old.name);
    }
  }
  config_ = std::move(next.config_);
  metrics_ = std::move(next.metrics_);
  pools_ = std::move(next.pools_);
  WriteAheadOfApply();
  SetFences();
  if (services_.control_plane) services_.control_plane->SetPools(config_.pools);
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
    std::map<std::string, std::unique_ptr<MetricsSource>> fallbacks;
    std::unique_ptr<Shedder> shedder;
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
    for (const auto& [metric, fallback] : spec.fallbacks) {
      if (auto source = CreateFallbackSource(fallback.type, fallback.params, &errors)) {
        built[i].fallbacks[metric] = std::move(source);
      }
    }
    if (spec.overload.enabled) {
      built[i].shedder = CreateShedder(spec.provider.type, spec.overload_balancer, &errors);
    }
  }
  if (!errors.empty()) return Status::InvalidArgument(JoinErrors(errors));

  config_ = config;
  metrics_ = reuse_metrics ? std::move(previous->metrics_) : std::move(metrics);
  for (size_t i = 0; i < config.pools.size(); ++i) {
    const PoolSpec& spec = config.pools[i];
    Pool pool;
    BehaviorHistory history;
    PoolController* before = nullptr;  // this pool's controller in the previous config
    if (built[i].reuse >= 0) {
      Pool& old = previous->pools_[static_cast<size_t>(built[i].reuse)];
      pool.provider = std::move(old.provider);
    } else {
      pool.provider = std::move(built[i].provider);
      // A provider rebuilt for changed settings takes over what the old one remembered (its drains, its
      // machines); facts the new settings no longer bear out are dropped by its first Observe.
      if (previous) {
        for (Pool& old : previous->pools_) {
          if (old.provider && old.controller && old.controller->spec().name == spec.name &&
              old.controller->spec().provider.type == spec.provider.type) {
            pool.provider->Restore(old.provider->Memory());
          }
        }
      }
    }
    if (previous) {
      for (Pool& old : previous->pools_) {
        if (old.controller && old.controller->spec().name == spec.name) {
          history = old.controller->decider().behavior_history();
          before = old.controller.get();
        }
      }
    }
    pool.controller = std::make_unique<PoolController>(spec, std::move(built[i].policies),
                                                       pool.provider.get(), metrics_.get(), force_dry_run_);
    for (auto& [metric, source] : built[i].fallbacks) pool.controller->SetFallback(metric, std::move(source));
    if (built[i].shedder) pool.controller->SetShedder(std::move(built[i].shedder));
    if (spec.health.enabled && spec.health.probe.enabled) pool.controller->SetProber(CreateProber(spec.health.probe));
    pool.controller->decider().set_behavior_history(std::move(history));
    if (before != nullptr) pool.controller->decider().CarryLearned(&before->decider());
    pools_.push_back(std::move(pool));
  }
  return Status::Ok();
}

std::vector<TickResult> App::TickAll(TimeMs now) {
  std::vector<TickResult> results;
  results.reserve(pools_.size());
  ControlPlane* cp = services_.control_plane;
  std::set<std::string> acting;
  if (services_.membership) acting = BalanceCluster(now);
  for (Pool& pool : pools_) {
    const PoolSpec& spec = pool.controller->spec();
    if (services_.membership && acting.count(spec.name) == 0) {
      PublishElsewhere(spec.name, now);
      continue;
    }
    const PoolControls controls = cp ? cp->Controls(spec.name, now) : PoolControls{};
    const auto started = std::chrono::steady_clock::now();
    results.push_back(pool.controller->RunOnce(now, controls));
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const TickResult& tick = results.back();
    LogTick(spec.name, tick);
    if (tick.status.ok()) Replacements(spec.name, tick, pool.controller->dry_run());  // an operator's needs no health:
    if (services_.metrics) {
      services_.metrics->ObserveTick(spec.name, tick, controls, spec, seconds, pool.controller->dry_run());
    }
    if (cp) Publish(cp, spec, tick, pool.controller->dry_run(), services_.membership);
  }
  if (services_.state || services_.membership) {
    {
      std::lock_guard<std::mutex> lock(state_mu_);
      for (Pool& pool : pools_) {
        const std::string& name = pool.controller->spec().name;
        if (services_.membership && owned_.count(name) == 0) continue;
        saved_behavior_[name] = pool.controller->decider().behavior_history();
        applying_.erase(name);  // applied: what it changed is in the provider's memory now
        ProviderMemory memory = pool.provider->Memory();
        if (memory.empty()) {
          saved_memory_.erase(name);
        } else {
          saved_memory_[name] = std::move(memory);
        }
      }
    }
    SaveState();
  }
  if ((services_.learned || services_.membership) && FloorDiv(now, kMinute) != learned_saved_minute_) {
    SaveLearned(now);
  }
  return results;
}

void App::SaveLearned(TimeMs now) {
  if (services_.membership) {
    learned_saved_minute_ = FloorDiv(now, kMinute);
    SaveLearnedCluster(now);
    return;
  }
  if (!services_.learned) return;
  learned_saved_minute_ = FloorDiv(now, kMinute);
  LearnedState state;
  state.saved_at = now;
  for (Pool& pool : pools_) {
    const std::string& name = pool.controller->spec().name;
    if (auto r = pool.controller->decider().SeasonalRecord()) state.seasonal[name] = std::move(*r);
    if (auto h = pool.controller->decider().PolicyHistories(); !h.empty())
      state.histories[name] = std::move(h);
  }
  if (state.seasonal.empty() && state.histories.empty()) return;
  if (Status st = services_.learned->Save(EncodeLearned(state)); !st.ok()) {
    Log(LogLevel::kError, "learned state not saved", {{"error", st.message()}});
  }
}

Status App::RestoreLearned() {
  Status fatal;
  std::optional<LearnedState> learned =
      LoadDocument(services_.learned, &DecodeLearned, "learned state not restored, learning afresh", &fatal);
  if (!learned) return fatal;
  for (Pool& pool : pools_) RestoreLearnedPool(pool, *learned);
  return Status::Ok();
}

void App::RestoreLearnedPool(Pool& pool, const LearnedState& learned) {
  const std::string& name = pool.controller->spec().name;
  if (auto h = learned.histories.find(name); h != learned.histories.end()) {
    const int restored = pool.controller->decider().RestorePolicyHistories(h->second);
    const int saved = static_cast<int>(h->second.size());
    Log(restored == saved ? LogLevel::kInfo : LogLevel::kWarn,
        restored == saved ? "policy histories restored"
                          : "policy histories not all restored: a policy's type, name or parameters changed",
        {{"pool", name}, {"restored", restored}, {"saved", saved}, {"saved_at", FormatTime(learned.saved_at)}});
  }
  auto it = learned.seasonal.find(name);
  if (it == learned.seasonal.end()) return;
  const bool ok = pool.controller->decider().RestoreSeasonalRecord(it->second);
  Log(ok ? LogLevel::kInfo : LogLevel::kWarn,
      ok ? "seasonal record restored" : "seasonal record not restored: learned with another season or step",
      {{"pool", name}, {"steps", static_cast<int>(it->second.steps.size())}, {"saved_at", FormatTime(learned.saved_at)}});
}

Status App::Attach(Services services) {
  services_ = services;
  if (services_.control_plane) services_.control_plane->SetPools(config_.pools);
  SetFences();
  if (services_.learned) {
    if (Status st = RestoreLearned(); !st.ok()) return st;
  }
  if (!services_.state) return Status::Ok();
  Status fatal;
  std::optional<PersistedState> state =
      LoadDocument(services_.state, &DecodeState, "state not restored, starting fresh", &fatal);
  if (!state) return fatal;
  int restored = 0;
  for (Pool& pool : pools_) {
    const std::string& name = pool.controller->spec().name;
    auto it = state->behavior.find(name);
    if (it != state->behavior.end()) pool.controller->decider().set_behavior_history(it->second);
    if (auto m = state->providers.find(name); m != state->providers.end()) {
      pool.provider->Restore(m->second);  // facts the pool no longer bears out are dropped on Observe
      int facts = 0;
      for (const auto& [kind, servers] : m->second) facts += static_cast<int>(servers.size());
      Log(LogLevel::kInfo, "provider memory restored", {{"pool", name}, {"facts", facts}});
    }
    if (auto a = state->applying.find(name); a != state->applying.end() && !pool.controller->dry_run()) {
      Log(LogLevel::kWarn, "the last process died applying a plan: taking it over",
          {{"pool", name}, {"plan", a->second.plan.Summary()}, {"at", FormatTime(a->second.at)}});
      pool.provider->Interrupted(a->second.plan, a->second.at);
    }
  }
  if (services_.control_plane) {
    std::map<std::string, PoolControls> controls;
    for (auto& [name, c] : state->controls) {
      if (services_.control_plane->HasPool(name)) {
        controls[name] = c;
        restored += c.override.has_value() + c.pause.any();
      }
    }
    services_.control_plane->RestoreControls(std::move(controls));
  }
  std::lock_guard<std::mutex> lock(state_mu_);
  saved_behavior_ = state->behavior;
  // What the providers remember now: the restored facts and what they took over from an interrupted
  // plan, so that a second kill before the first tick's save loses neither.
  saved_memory_.clear();
  for (Pool& pool : pools_) {
    ProviderMemory memory = pool.provider->Memory();
    if (!memory.empty()) saved_memory_[pool.controller->spec().name] = std::move(memory);
  }
  Log(LogLevel::kInfo, "state restored",
      {{"saved_at", FormatTime(state->saved_at)},
       {"controls", restored},
       {"pools", static_cast<int>(state->behavior.size())}});
  return Status::Ok();
}

Status App::SaveState() {
  if (services_.membership) {
    std::lock_guard<std::mutex> lock(state_mu_);
    return SaveCluster();
  }
  if (!services_.state) return Status::Ok();
  std::lock_guard<std::mutex> lock(state_mu_);
  PersistedState state;
  if (services_.control_plane) state.controls = services_.control_plane->AllControls();
  state.behavior = saved_behavior_;
  state.providers = saved_memory_;
  state.applying = applying_;
  state.saved_at = clock_->Now();
  Status st = services_.state->Save(EncodeState(state));
  if (!st.ok()) Log(LogLevel::kError, "state not saved", {{"error", st.message()}});
  if (services_.control_plane) services_.control_plane->SetStoreError(st.ok() ? "" : st.message());
  if (services_.metrics) services_.metrics->StateSaved(st.ok());
  return st;
}

void App::Publish(ControlPlane* cp, const PoolSpec& spec, const TickResult& tick, bool dry_run,
                  const Membership* membership) {
  PoolStatus s;
  s.pool = spec.name;
  if (membership) s.owner = membership->Name();
  s.at = tick.decision.at;
  s.observed = tick.status.ok();
  if (!s.observed) s.observe_error = tick.status.ToString();
  s.dry_run = dry_run;
  s.min_active = spec.min_active;
  s.max_active = spec.max_active;
  s.warm_standby =
      tick.status.ok() ? tick.decision.warm_standby : spec.warm_standby;  // auto: this tick's size
  s.warm_stopped = tick.status.ok() ? tick.decision.warm_stopped : spec.warm_stopped;
  s.max_total = spec.MaxTotal();
  s.state = tick.observed;
  s.decision = tick.decision;
  s.plan = tick.plan;
  s.applied = tick.applied;
  s.metric_errors = tick.metric_errors;
  const bool acted = tick.decision.direction != Direction::kNone || !tick.plan.empty() || !tick.status.ok();
  cp->Publish(std::move(s));
  if (tick.shed.changed) {
    Event shed;
    shed.at = tick.decision.at;
    shed.pool = spec.name;
    shed.kind = "shed";
    shed.reason = tick.shed.reason;
    shed.result = dry_run ? std::string("dry run: not set") : tick.shed.status.ok() ? std::string("in force")
                                                                                    : tick.shed.status.ToString();
    cp->Record(std::move(shed));
  }
  if (!acted) return;
  Event e;
  e.at = tick.decision.at;
  e.pool = spec.name;
  e.kind = "decision";
  e.from = tick.decision.current;
  e.to = tick.decision.desired;
  e.direction = DirectionName(tick.decision.direction);
  e.policy = tick.decision.policy;
  e.reason = tick.decision.reason;
  e.plan = tick.plan.Summary();
  e.result = !tick.status.ok()   ? tick.status.ToString()
             : tick.plan.empty() ? std::string("nothing to do")
                                 : tick.applied.Summary();
  cp->Record(std::move(e));
}

void App::Replacements(const std::string& pool, const TickResult& tick, bool dry_run) {
  ControlPlane* cp = services_.control_plane;
  auto record = [&](const std::string& reason, const std::string& result) {
    if (!cp) return;
    Event e;
    e.at = tick.decision.at;
    e.pool = pool;
    e.kind = "replace";
    e.from = tick.decision.current;
    e.to = tick.decision.desired;
    e.direction = DirectionName(tick.decision.direction);
    e.policy = tick.decision.policy;
    e.reason = reason;
    e.plan = tick.plan.Summary();
    e.result = dry_run ? "dry run: not done" : result;
    cp->Record(std::move(e));
  };
  for (const std::string& r : tick.decision.replacements_started) {
    Log(LogLevel::kWarn, "replace", {{"pool", pool}, {"reason", r}, {"plan", tick.plan.Summary()}, {"dry_run", dry_run}});
    record(r, tick.applied.Summary());
  }
  bool& was_open = breaker_open_[pool];
  if (tick.decision.replacement_breaker_open != was_open) {
    was_open = tick.decision.replacement_breaker_open;
    const std::string reason = was_open ? tick.decision.reason : "replacement breaker closed: few enough servers sick";
    Log(was_open ? LogLevel::kError : LogLevel::kInfo, "replacement breaker", {{"pool", pool}, {"reason", reason}});
    record(reason, was_open ? "every sick server kept" : "replacing again");
  }
  bool& was_surge = surge_[pool];
  if (tick.decision.surge != was_surge) {
    was_surge = tick.decision.surge;
    // The surge's own part of the decision's reason ("surge: rps +225% in 15s ...").
    std::string reason = was_surge ? "surge" : "surge over: back to the policies";
    const std::string& all = tick.decision.reason;
    const size_t at = all.find(was_surge ? "surge: " : "surge over: ");
    if (at != std::string::npos) reason = all.substr(at, all.find("; ", at) - at);
    Log(was_surge ? LogLevel::kWarn : LogLevel::kInfo, "surge", {{"pool", pool}, {"reason", reason},
        {"desired", tick.decision.desired}, {"plan", tick.plan.Summary()}, {"dry_run", dry_run}});
    record(reason, tick.applied.Summary());
  }
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
  for (const std::string& e : tick.probe_failures) {
    Log(LogLevel::kWarn, "standby probe failed", {{"pool", pool}, {"error", e}});
  }
  if (tick.shed.changed || !tick.shed.status.ok()) {
    Log(tick.shed.status.ok() ? LogLevel::kWarn : LogLevel::kError, "shed",
        {{"pool", pool},
         {"reason", tick.shed.reason},
         {"rate_limit", tick.shed.limits.rate},
         {"client_limit", tick.shed.limits.client},
         {"error", tick.shed.status.ok() ? std::string() : tick.shed.status.ToString()},
         {"dry_run", tick.applied.dry_run}});
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
