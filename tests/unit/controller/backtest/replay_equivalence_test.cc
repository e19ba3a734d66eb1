// The backtest's replay seam changes no result: the trace source's sliding windows equal fresh ones,
// the planner's shortcut agrees with the full planner, a decider that explains only changes decides
// exactly what one that explains every tick decides (with the same reasons where it explains), and
// the replay (the decider fed from the simulated pool's and the trace's own storage) decides what the
// live PoolController (observe, fetch, decide, apply) decides.
#include <doctest/doctest.h>

#include <random>
#include <set>

#include "controller/runtime/pool_controller.h"
#include "controller/sources/trace/source.h"
#include "policies/planner.h"
#include "policies/pool_decider.h"
#include "providers/simulated/simulated_provider.h"
#include "warmpool/clock.h"

using namespace warmpool;

namespace {

std::shared_ptr<const Trace> Wavy(int points, DurationMs step) {
  std::string csv = "timestamp,requests\n";
  for (int i = 0; i < points; ++i) {
    const double per_step = 600 + 500 * std::sin(i / 7.0) + 300 * ((i * 7919) % 13) / 13.0;
    csv += std::to_string(1'000'000 + i * step / 1000) + "," + std::to_string(per_step) + "\n";
  }
  return std::make_shared<const Trace>(*ParseTrace(csv, "wavy.csv"));
}

}  // namespace

TEST_CASE("trace source: a window slid from the last one equals one fetched afresh") {
  auto trace = Wavy(200, kMinute);
  for (DurationMs tick : {15 * kSecond, 10 * kSecond, 60 * kSecond, 7 * kMinute}) {
    CAPTURE(tick);
    const MetricQuery q{"rps", "", 5 * kMinute, 15 * kSecond};
    TraceMetricsSource sliding(trace, trace->start, 1.0);
    // From before the trace starts to after it ends, so the edges are crossed both ways.
    for (TimeMs now = trace->start - 3 * kMinute; now < trace->end() + 6 * kMinute; now += tick) {
      CAPTURE(now);
      const MetricWindow& w = sliding.WindowsAt({q}, now).at("rps");
      TraceMetricsSource fresh(trace, trace->start, 1.0);
      Result<MetricWindow> want = fresh.Fetch(q, now);
      REQUIRE(w.samples.size() == want->samples.size());
      for (size_t i = 0; i < w.samples.size(); ++i) {
        CHECK(w.samples[i].t == want->samples[i].t);
        CHECK(w.samples[i].value == want->samples[i].value);  // bit for bit
        CHECK(w.samples[i].value == trace->RateAt(w.samples[i].t));
      }
    }
  }
}

TEST_CASE("planner: the shortcut for a pool with nothing to do agrees with the full planner") {
  std::mt19937 rng(7);
  const ServerState states[] = {ServerState::kActive,   ServerState::kStandby, ServerState::kProvisioning,
                                ServerState::kDraining, ServerState::kCold,    ServerState::kRetired,
                                ServerState::kStopped};
  const Health healths[] = {Health::kHealthy, Health::kUnknown, Health::kUnhealthy};
  int empty = 0;
  for (int n = 0; n < 20000; ++n) {
    PoolSpec spec;
    spec.name = "p";
    spec.warm_standby = static_cast<int>(rng() % 4);
    spec.max_active = 2 + static_cast<int>(rng() % 6);
    spec.max_total = rng() % 2 ? 0 : spec.max_active + static_cast<int>(rng() % 3);
    spec.warm_stopped = rng() % 2 ? 0 : static_cast<int>(rng() % 3);  // the stopped tier, half the time
    PoolState pool;
    pool.pool = "p";
    const int size = static_cast<int>(rng() % 9);
    for (int i = 0; i < size; ++i) {
      const ServerState st = rng() % 3 ? states[rng() % 2] : states[rng() % 7];  // mostly active/standby
      const Health h = rng() % 5 ? Health::kHealthy : healths[rng() % 3];
      pool.servers.push_back({"p-" + std::to_string(i + 1), "a", st, h, static_cast<TimeMs>(rng() % 5)});
    }
    const int desired = std::max(0, pool.Count(ServerState::kActive) + static_cast<int>(rng() % 3) - 1);
    for (bool explain : {true, false}) {
      PlanOptions shortcut, full;
      shortcut.explain = full.explain = explain;
      full.shortcut = false;
      const ScalePlan a = Plan(spec, pool, desired, shortcut), b = Plan(spec, pool, desired, full);
      REQUIRE(a.Summary() == b.Summary());
      REQUIRE(a.reason == b.reason);
      const ServerCounts counts = CountServers(pool);  // as the decider keeps them
      CHECK(counts.active == pool.Count(ServerState::kActive));
      shortcut.counts = &counts;
      const ScalePlan c = Plan(spec, pool, desired, shortcut);
      REQUIRE(c.Summary() == a.Summary());
      REQUIRE(c.reason == a.reason);
      empty += a.empty();
    }
  }
  CHECK(empty > 2000);  // the shortcut was exercised
}

namespace {

PoolSpec WavySpec() {
  PoolSpec spec;
  spec.name = "web";
  spec.min_active = 1;
  spec.max_active = 30;
  spec.warm_standby = 2;
  spec.metrics = {MetricQuery{"rps", "", 5 * kMinute, 15 * kSecond}};
  spec.policies = {
      PluginSpec{"target_tracking", "rps", Params{"p0", "", {{"metric", "rps"}, {"target_per_server", "2"}}}},
      PluginSpec{"predictive", "forecast",
                 Params{"p1", "", {{"metric", "rps"}, {"target_per_server", "2.5"}, {"season", "0"}}}}};
  spec.behavior.scale_down.stabilization_window = 2 * kMinute;
  return spec;
}

SimulatedSpec WavyModel() {
  SimulatedSpec model;
  model.capacity_per_server = 3;
  model.initial_active = 2;
  return model;
}

std::vector<std::unique_ptr<Policy>> Policies(const PoolSpec& spec) {
  std::vector<std::string> errors;
  auto policies = CreatePolicies(spec, &errors);
  REQUIRE(errors.empty());
  return policies;
}

// The backtest's seam: a decider fed from the trace's and the simulated pool's own storage.
struct Replay {
  ManualClock clock;
  SimulatedProvider sim;
  TraceMetricsSource metrics;
  PoolDecider decider;
  Replay(const PoolSpec& spec, std::shared_ptr<const Trace> trace, PoolDecider::Explain explain)
      : clock(trace->start),
        sim("web", WavyModel(), &clock),
        metrics(trace, trace->start, 1.0),
        decider(spec, Policies(spec), explain) {}
  const PoolDecider::Outcome& Tick(TimeMs t, const std::vector<MetricQuery>& queries) {
    clock.Set(t);
    const PoolDecider::Outcome& out = decider.Decide(metrics.WindowsAt(queries, t), sim.State(), {}, t);
    if (!out.plan.empty()) sim.Apply(out.plan);
    return out;
  }
};

}  // namespace

TEST_CASE("pool decider: explaining only changes decides the same, with the same reasons on changes") {
  auto trace = Wavy(300, kMinute);
  const PoolSpec spec = WavySpec();
  Replay always(spec, trace, PoolDecider::Explain::kEveryTick),
      lazy(spec, trace, PoolDecider::Explain::kChangesOnly), never(spec, trace, PoolDecider::Explain::kNever);
  int changes = 0, quiet = 0;
  int last = always.sim.Count(ServerState::kActive);
  for (TimeMs t = trace->start; t < trace->end(); t += 15 * kSecond) {
    CAPTURE(t);
    const PoolDecider::Outcome& a = always.Tick(t, spec.metrics);
    const PoolDecider::Outcome& b = lazy.Tick(t, spec.metrics);
    const PoolDecider::Outcome& c = never.Tick(t, spec.metrics);
    REQUIRE(a.decision.desired == b.decision.desired);
    REQUIRE(a.decision.desired == c.decision.desired);
    REQUIRE(a.decision.raw_recommendation == b.decision.raw_recommendation);
    REQUIRE(a.plan.Summary() == b.plan.Summary());
    REQUIRE(a.plan.Summary() == c.plan.Summary());
    CHECK(c.decision.reason.empty());
    if (a.decision.desired != last) {
      ++changes;
      CHECK(a.decision.reason == b.decision.reason);
      CHECK(a.plan.reason == b.plan.reason);
      CHECK(!b.decision.reason.empty());
    } else {
      quiet += b.decision.reason.empty();
    }
    last = a.decision.desired;
  }
  CHECK(changes > 10);
  CHECK(quiet > 100);  // and the quiet ticks really skipped the text
}

TEST_CASE("replay seam: the backtest's replay decides what the live PoolController decides") {
  auto trace = Wavy(300, kMinute);
  const PoolSpec spec = WavySpec();
  Replay replay(spec, trace, PoolDecider::Explain::kEveryTick);
  ManualClock clock(trace->start);
  SimulatedProvider sim("web", WavyModel(), &clock);
  TraceMetricsSource metrics(trace, trace->start, 1.0);
  PoolController live(spec, Policies(spec), &sim, &metrics);
  int changes = 0;
  for (TimeMs t = trace->start; t < trace->end(); t += 15 * kSecond) {
    CAPTURE(t);
    clock.Set(t);
    const TickResult a = live.RunOnce(t);
    const PoolDecider::Outcome& b = replay.Tick(t, spec.metrics);
    REQUIRE(a.status.ok());
    REQUIRE(a.decision.desired == b.decision.desired);
    REQUIRE(a.decision.reason == b.decision.reason);
    REQUIRE(a.plan.Summary() == b.plan.Summary());
    REQUIRE(a.plan.reason == b.plan.reason);
    // And both pools are the same afterwards, server for server.
    const PoolState& x = sim.State();
    const PoolState& y = replay.sim.State();
    REQUIRE(x.servers.size() == y.servers.size());
    for (size_t i = 0; i < x.servers.size(); ++i) {
      REQUIRE(x.servers[i].name == y.servers[i].name);
      REQUIRE(x.servers[i].state == y.servers[i].state);
    }
    changes += a.decision.direction != Direction::kNone;
  }
  CHECK(changes > 10);
}

TEST_CASE("trace source: Fetch's copies equal the slid windows, whatever the caller does with them") {
  auto trace = Wavy(100, kMinute);
  const MetricQuery q{"rps", "", 5 * kMinute, 15 * kSecond};
  const MetricQuery other{"conn", "", 3 * kMinute, 10 * kSecond};
  TraceMetricsSource source(trace, trace->start, 1.0);
  auto fresh = [&](const MetricQuery& query, TimeMs now) {
    TraceMetricsSource s(trace, trace->start, 1.0);
    return std::move(s.Fetch(query, now)).value().samples;
  };
  auto same = [](const SlidingVector<Sample>& x, const SlidingVector<Sample>& y) {
    if (x.size() != y.size()) return false;
    for (size_t i = 0; i < x.size(); ++i) {
      if (x[i].t != y[i].t || x[i].value != y[i].value) return false;
    }
    return true;
  };
  int n = 0;
  for (TimeMs now = trace->start; now < trace->start + 60 * kMinute; now += 15 * kSecond, ++n) {
    CAPTURE(now);
    // Two queries slid side by side, now and then fetched as copies that the caller then changes.
    const auto& windows = source.WindowsAt({q, other}, now);
    CHECK(same(windows.at("rps").samples, fresh(q, now)));
    CHECK(same(windows.at("conn").samples, fresh(other, now)));
    if (n % 3 == 2) {
      Result<MetricWindow> f = source.Fetch(q, now);
      REQUIRE(f.ok());
      CHECK(same(f->samples, fresh(q, now)));
      if (!f->samples.empty()) f->samples.back().value += 1;  // the copy is the caller's
    }
  }
}

namespace {
// Records what history each tick shows it: its size and its first and last times.
class HistoryProbe final : public Policy {
 public:
  struct Seen {
    size_t size;
    TimeMs first, last;
  };
  explicit HistoryProbe(std::vector<Seen>* seen) : seen_(seen) {}
  const std::string& Name() const override { return name_; }
  PolicyInputs Inputs() const override { return {{"rps"}, /*history=*/true}; }
  Recommendation Recommend(const PolicyInput& in) const override {
    seen_->push_back({in.history.size(), in.history.empty() ? 0 : in.history.front().at,
                      in.history.empty() ? 0 : in.history.back().at});
    Recommendation r;
    r.policy = name_;
    r.valid = true;
    r.desired = in.current;
    return r;
  }

 private:
  std::string name_ = "probe";
  std::vector<Seen>* seen_;
};
}  // namespace

TEST_CASE("pool decider: a policy's history is trimmed from the front as before (the same records)") {
  auto trace = Wavy(200, kMinute);
  PoolSpec spec;
  spec.name = "web";
  spec.min_active = 1;
  spec.max_active = 5;
  spec.metrics = {MetricQuery{"rps", "", 5 * kMinute, 15 * kSecond}};
  SimulatedSpec model;
  model.initial_active = 1;
  ManualClock clock(trace->start);
  SimulatedProvider sim("web", model, &clock);
  TraceMetricsSource metrics(trace, trace->start, 1.0);
  std::vector<HistoryProbe::Seen> seen;
  std::vector<std::unique_ptr<Policy>> policies;
  policies.push_back(std::make_unique<HistoryProbe>(&seen));
  PoolDecider decider(spec, std::move(policies), PoolDecider::Explain::kChangesOnly);
  // The plain rule: at 20,000 records, the oldest 2,000 go before the next is added.
  std::vector<TimeMs> want;
  for (int i = 0; i < 45000; ++i) {
    const TimeMs t = trace->start + i * kSecond;
    clock.Set(t);
    seen.clear();
    const PoolDecider::Outcome& out = decider.Decide(metrics.WindowsAt(spec.metrics, t), sim.State(), {}, t);
    if (!out.plan.empty()) sim.Apply(out.plan);
    REQUIRE(!seen.empty());
    for (const HistoryProbe::Seen& s : seen) {
      REQUIRE(s.size == want.size());
      if (!want.empty()) {
        REQUIRE(s.first == want.front());
        REQUIRE(s.last == want.back());
      }
    }
    if (want.size() >= 20000) want.erase(want.begin(), want.begin() + 2000);
    want.push_back(t);
  }
}

TEST_CASE("planner: new servers get the first free \"<pool>-<n>\", whatever the other names look like") {
  std::mt19937 rng(3);
  const char* odd[] = {"web-0",  "web-01", "web-",    "web--1",          "web-1a", "webb-2", "we-3",
                       "web-+4", "web- 5", "web-1e1", "web-99999999999", "x",      ""};
  int checked = 0;
  for (int n = 0; n < 5000; ++n) {
    PoolSpec spec;
    spec.name = "web";
    spec.max_active = 50;
    spec.max_total = 0;
    spec.warm_standby = 1 + static_cast<int>(rng() % 8);
    PoolState pool;
    pool.pool = "web";
    const int size = static_cast<int>(rng() % 10);
    for (int i = 0; i < size; ++i) {
      std::string name =
          rng() % 4 == 0 ? odd[rng() % std::size(odd)] : "web-" + std::to_string(rng() % 12 + 1);
      pool.servers.push_back({name, "a", ServerState::kActive, Health::kHealthy, 0});
    }
    PlanOptions full;
    full.explain = false;
    full.shortcut = false;
    const ScalePlan plan = Plan(spec, pool, size, full);
    // The plain rule: every name taken, then the first free "web-<n>" for each new server.
    std::set<std::string> taken;
    for (const Server& s : pool.servers) taken.insert(s.name);
    std::vector<std::string> want;
    for (int i = 1; want.size() < plan.provision.size(); ++i) {
      std::string name = "web-" + std::to_string(i);
      if (taken.insert(name).second) want.push_back(name);
    }
    REQUIRE(plan.provision == want);
    checked += !want.empty();
  }
  CHECK(checked > 4000);
}
