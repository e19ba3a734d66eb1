#include "controller/runtime/pool_controller.h"

#include <cmath>

#include "warmpool/text.h"

namespace warmpool {

PoolController::PoolController(PoolSpec spec, std::vector<std::unique_ptr<Policy>> policies,
                               Provider* provider, MetricsSource* metrics, bool force_dry_run)
    : decider_(spec, std::move(policies)), metrics_(metrics), actuator_(provider) {
  if (spec.dry_run || force_dry_run) {
    dry_run_ = std::make_unique<DryRunProvider>(provider);
    actuator_ = dry_run_.get();
  }
}

void PoolController::SetFallback(const std::string& metric, std::unique_ptr<MetricsSource> source) {
  fallbacks_[metric] = std::move(source);
}

void PoolController::Measure(const MetricQuery& q, TimeMs now, TickResult* out) {
  Result<MetricWindow> w =
      metrics_ ? metrics_->Fetch(q, now) : Result<MetricWindow>(Status::Unavailable("no metrics source"));
  if (!w.ok()) out->metric_errors.push_back(q.name + ": " + w.status().ToString());
  auto fallback = fallbacks_.find(q.name);
  if (fallback != fallbacks_.end()) {
    // Fetched every tick, so that a rate of counters is ready the tick the first source fails.
    Result<MetricWindow> f = fallback->second->Fetch(q, now);
    const DurationMs stale = spec().stale_after;
    const char* why = !w.ok()                                ? "the metrics source failed"
                      : !w->Latest(now, stale).has_value()   ? "the metrics source has no fresh sample"
                      : !w->floor_only.empty()               ? "the metrics source vouches only for a floor"
                                                             : nullptr;
    if (!f.ok()) {
      out->metric_errors.push_back(q.name + " (fallback): " + f.status().ToString());
    } else if (why != nullptr && f->Latest(now, stale).has_value()) {
      f->origin += std::string(" (") + why + ")";
      w = std::move(f);
      out->metrics_on_fallback.push_back(q.name);
    }
  }
  if (w.ok()) {
    if (!w->floor_only.empty()) out->metrics_floor_only.push_back(q.name);
    windows_[q.name] = std::move(w).value();
  } else {
    windows_.erase(q.name);
  }
}

void PoolController::SetShedder(std::unique_ptr<Shedder> shedder) {
  shedder_ = std::move(shedder);
  shed_ = std::make_unique<ShedDecider>(spec().overload);
  shed_applied_.reset();
}

void PoolController::Shed(TimeMs now, const PoolControls& controls, TickResult* out) {
  const PoolSpec& s = spec();
  ShedInput in;
  in.now = now;
  auto w = windows_.find(s.overload.metric);
  if (w != windows_.end()) {
    if (std::optional<Sample> latest = w->second.Latest(now, s.stale_after)) in.load = latest->value;
  }
  in.serving = out->observed.CountHealthy(ServerState::kActive);
  const int active = out->observed.Count(ServerState::kActive);
  int total = 0;
  for (ServerState st : {ServerState::kProvisioning, ServerState::kStandby, ServerState::kActive,
                         ServerState::kDraining, ServerState::kStopped}) {  // as max_total counts
    total += out->observed.Count(st);
  }
  in.at_max = active >= s.max_active || (total >= s.MaxTotal() && out->observed.Count(ServerState::kStandby) == 0);
  const bool overloaded = in.load && *in.load > in.serving * s.overload.capacity;
  if (s.overload.per_client && (overloaded || shed_->limits().active())) {
    Result<std::vector<ClientRate>> clients = shedder_->ClientRates();
    if (clients.ok()) {
      in.clients = std::move(clients).value();
    } else {
      out->shed.status = clients.status();
    }
  }
  ShedOutcome o = shed_->Decide(in);  // decided every tick, so that it is current when the hand lifts
  if (const std::optional<ShedControl>& hand = controls.shed) {
    o.limits = hand->off ? ShedLimits{} : ShedLimits{hand->rate, hand->client};
    o.reason = hand->off ? "shed: off, by " + hand->set_by + " (" + hand->reason + ")"
                         : "shed: set by " + hand->set_by + " to " + FormatNumber(hand->rate) + " req/s, " +
                               FormatNumber(hand->client) + " req/s per client (" + hand->reason + ")";
  }
  out->shed.enabled = true;
  out->shed.limits = o.limits;
  out->shed.changed = !(o.limits == shed_reported_);
  shed_reported_ = o.limits;
  out->shed.reason = std::move(o.reason);
  if (dry_run() || (shed_applied_ && *shed_applied_ == o.limits)) return;
  Status st = shedder_->SetLimits(o.limits);
  if (st.ok()) {
    shed_applied_ = o.limits;
  } else {
    out->shed.status = st;  // tried again next tick
  }
}

void PoolController::ProbeStandbys(TimeMs now, TickResult* out) {
  const ProbeSpec& spec = decider_.spec().health.probe;
  std::map<std::string, Probed> kept;
  for (Server& s : out->observed.servers) {
    if (s.state != ServerState::kStandby) continue;
    Probed p;
    auto it = probed_.find(s.name);
    if (it != probed_.end() && now - it->second.at < spec.interval) {
      p = it->second;
    } else {
      p.at = now;
      p.status = prober_->Probe(s);
      if (!p.status.ok()) out->probe_failures.push_back(p.status.message());
    }
    s.health = p.status.ok() ? Health::kHealthy : Health::kUnhealthy;
    kept[s.name] = std::move(p);
  }
  probed_ = std::move(kept);  // a server no longer a standby is probed afresh when it is one again
  out->observed.servers_version = 0;  // health changed here: what was derived from the version is stale
}

namespace {

// The servers of `pool` that `value` of a health metric's label names.
std::vector<std::string> ServersNamed(const PoolState& pool, ServerMetricSpec::Match match, const std::string& value) {
  std::vector<std::string> out;
  for (const Server& s : pool.servers) {
    bool is = false;
    switch (match) {
      case ServerMetricSpec::Match::kName: is = s.name == value; break;
      case ServerMetricSpec::Match::kAddress: is = !s.address.empty() && s.address == value; break;
      case ServerMetricSpec::Match::kHost: {
        const size_t colon = s.address.rfind(':');
        is = !s.address.empty() && s.address.substr(0, colon) == value;
        break;
      }
    }
    if (is) out.push_back(s.name);
  }
  return out;
}

}  // namespace

void PoolController::MeasureServers(TimeMs now, TickResult* out) {
  server_windows_.clear();
  for (const ServerMetricSpec& m : spec().health.metrics) {
    Result<std::map<std::string, MetricWindow>> each = metrics_->FetchEach(m.Query(), m.label, now);
    if (!each.ok()) {
      out->metric_errors.push_back("health " + m.name + ": " + each.status().ToString());
      continue;
    }
    std::map<std::string, MetricWindow>& by_server = server_windows_[m.name];
    for (auto& [value, window] : *each) {
      for (const std::string& name : ServersNamed(out->observed, m.match, value)) by_server[name] = window;
    }
  }
}

TickResult PoolController::RunOnce(TimeMs now, const PoolControls& controls) {
  TickResult out;
  out.applied.dry_run = dry_run();
  // 1. Observe: the provider is the source of truth, re-read every tick.
  Result<PoolState> observed = actuator_->Observe();
  if (!observed.ok()) {
    out.status = observed.status();
    out.decision.at = now;
    out.decision.reason = "cannot observe the pool, doing nothing: " + observed.status().ToString();
    out.provider_events = actuator_->TakeEvents();
    return out;
  }
  out.observed = std::move(observed).value();
  if (prober_) ProbeStandbys(now, &out);

  // 2. Measure. A metric that cannot be fetched is absent this tick (the pool still decides).
  for (const MetricQuery& q : spec().metrics) Measure(q, now, &out);
  for (const auto& [name, window] : windows_) {
    for (auto it = window.samples.rbegin(); it != window.samples.rend(); ++it) {
      if (it->t <= now && std::isfinite(it->value)) {
        out.metric_age_seconds[name] = static_cast<double>(now - it->t) / 1000.0;
        break;
      }
    }
  }

  if (!spec().health.metrics.empty()) MeasureServers(now, &out);

  // 3. Decide and plan: one pure call.
  const PoolDecider::Outcome& decided = decider_.Decide(windows_, out.observed, controls, now,
                                                        spec().health.metrics.empty() ? nullptr : &server_windows_);
  out.decision = decided.decision;
  out.plan = decided.plan;

  // 4. Act (or only record, in dry-run).
  if (!out.plan.empty()) {
    if (fence_ && !dry_run()) out.fenced = fence_(now);
    if (!out.fenced.empty()) {
      const Status refused = Status::FailedPrecondition("not applied: " + out.fenced);
      auto refuse = [&](const char* kind, const std::vector<std::string>& servers) {
        for (const std::string& s : servers) out.applied.actions.push_back({kind, s, refused});
      };
      refuse("promote", out.plan.promote);
      refuse("drain", out.plan.drain);
      refuse("provision", out.plan.provision);
      refuse("retire", out.plan.retire);
      refuse("suspend", out.plan.suspend);
      refuse("resume", out.plan.resume);
      out.decision.reason += (out.decision.reason.empty() ? "" : "; ") + std::string("not applied: ") + out.fenced;
    } else {
      if (before_apply_ && !dry_run()) before_apply_(out.plan, now);
      out.applied = actuator_->Apply(out.plan);
    }
  }
  out.applied.dry_run = dry_run();
  decider_.Applied(out.applied);
  if (shedder_) Shed(now, controls, &out);
  out.provider_events = actuator_->TakeEvents();
  return out;
}

}  // namespace warmpool
