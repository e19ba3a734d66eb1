#include <doctest/doctest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "controller/config/config.h"
#include "controller/log/log.h"
#include "controller/runtime/app.h"
#include "controller/runtime/loop.h"
#include "controller/state/codec.h"
#include "warmpool/state_store.h"

using namespace warmpool;

namespace {

// One pool fed by the small real Clarknet trace (hourly steps).
std::string ConfigText(int max_active, const char* interval = "15s") {
  return std::string("global: {interval: ") + interval + "}\n" +
         "metrics_source: {type: trace, file: " WARMPOOL_TRACES_DIR
         "/clarknet-http-1995-1h.csv.gz}\n"
         "pools:\n"
         "  - name: web\n"
         "    min_active: 1\n"
         "    max_active: " +
         std::to_string(max_active) +
         "\n"
         "    warm_standby: 1\n"
         "    metrics: [{name: rps}]\n"
         "    policies: [{type: target_tracking, metric: rps, target_per_server: 0.5}]\n"
         "    provider: {type: simulated, initial_active: 1, initial_standby: 1, promotion_delay: 0s}\n";
}

Config MustParse(const std::string& text) {
  ConfigLoad load = ParseConfig(text);
  for (const std::string& e : load.errors) FAIL_CHECK(e);
  REQUIRE(load.ok());
  return load.config;
}

// Advances the manual clock to each deadline; scripted wakes (stop, reload) come first.
class ManualWaiter final : public Waiter {
 public:
  ManualWaiter(ManualClock* clock, std::vector<Wake> script) : clock_(clock), script_(std::move(script)) {}
  Wake WaitUntil(TimeMs deadline) override {
    deadlines.push_back(deadline);
    if (!script_.empty()) {
      Wake w = script_.front();
      script_.erase(script_.begin());
      if (w != Wake::kDeadline) return w;
    }
    clock_->Set(deadline);
    return Wake::kDeadline;
  }
  std::vector<TimeMs> deadlines;

 private:
  ManualClock* clock_;
  std::vector<Wake> script_;
};

// A StateStore in memory: what a restart would find on disk.
class MemoryStore final : public StateStore {
 public:
  Result<std::optional<std::string>> Load() override { return doc; }
  Status Save(const std::string& d) override {
    doc = d;
    ++saves;
    return Status::Ok();
  }
  std::optional<std::string> doc;
  int saves = 0;
};

// The seasonal part of a warm_standby auto reason: "seasonal 1.2 (seen in 1 of ...; 2 with data)".
std::string SeasonalPart(const std::string& reason) {
  const size_t at = reason.find("seasonal ");
  return at == std::string::npos ? "" : reason.substr(at, reason.find(')', at) - at);
}

// Three apps of one config, for restart tests: `a` runs throughout, saving what it learns to `learned`;
// `b` restarts from a copy of that file, `c` restarts without it.
struct RestartTrio {
  explicit RestartTrio(const std::string& text) {
    auto make = [&](ManualClock* clock) {
      Result<std::unique_ptr<App>> app = App::Create(MustParse(text), clock, false);
      REQUIRE(app.ok());
      return std::move(*app);
    };
    a = make(&clock_a), b = make(&clock_b), c = make(&clock_c);
    REQUIRE(a->Attach({nullptr, nullptr, nullptr, &learned}).ok());
  }
  // One tick at 0 for all three (the trace source maps time from each one's first tick), then `a`
  // alone up to `end`. Returns the time of the next tick.
  TimeMs TeachA(TimeMs end) {
    a->TickAll(0), b->TickAll(0), c->TickAll(0);
    TimeMs t = 15 * kSecond;
    for (; t < end; t += 15 * kSecond) {
      clock_a.Set(t);
      a->TickAll(t);
    }
    return t;
  }
  void RestartB() {
    copy = learned;
    REQUIRE(b->Attach({nullptr, nullptr, nullptr, &copy}).ok());
  }
  // The three ticks at `t`.
  std::vector<TickResult> Tick(TimeMs t) {
    clock_a.Set(t), clock_b.Set(t), clock_c.Set(t);
    return {a->TickAll(t)[0], b->TickAll(t)[0], c->TickAll(t)[0]};
  }
  ManualClock clock_a{0}, clock_b{0}, clock_c{0};
  std::unique_ptr<App> a, b, c;
  MemoryStore learned, copy;
};

}  // namespace

TEST_CASE("loop: ticks at the interval over a manual clock, without drift, and stops on request") {
  REQUIRE(InitLogging("text", "off").ok());
  ManualClock clock(1'000'000);
  auto app = App::Create(MustParse(ConfigText(10)), &clock, false);
  REQUIRE(app.ok());
  using W = Waiter::Wake;
  ManualWaiter waiter(&clock, {W::kDeadline, W::kDeadline, W::kStop});
  long ticks = RunLoop(app->get(), clock, &waiter, LoopOptions{});
  CHECK(ticks == 3);
  REQUIRE(waiter.deadlines.size() == 3);
  CHECK(waiter.deadlines[0] == 1'000'000 + 15'000);
  CHECK(waiter.deadlines[1] == 1'000'000 + 30'000);
  CHECK(waiter.deadlines[2] == 1'000'000 + 45'000);
}

TEST_CASE("loop: max_ticks, and a reload wake calls reload and keeps the same deadline") {
  ManualClock clock(0);
  auto app = App::Create(MustParse(ConfigText(10)), &clock, false);
  REQUIRE(app.ok());
  using W = Waiter::Wake;
  ManualWaiter waiter(&clock, {W::kReload, W::kDeadline});
  int reloads = 0;
  LoopOptions opts;
  opts.max_ticks = 3;
  opts.reload = [&] { ++reloads; };
  CHECK(RunLoop(app->get(), clock, &waiter, opts) == 3);
  CHECK(reloads == 1);
  REQUIRE(waiter.deadlines.size() == 3);
  CHECK(waiter.deadlines[0] == waiter.deadlines[1]);  // woken early, waited again for the same tick
}

TEST_CASE("loop: a tick wake ticks at once, between deadlines, and keeps the schedule") {
  ManualClock clock(0);
  auto app = App::Create(MustParse(ConfigText(10)), &clock, false);
  REQUIRE(app.ok());
  using W = Waiter::Wake;
  ManualWaiter waiter(&clock, {W::kTick, W::kDeadline});
  LoopOptions opts;
  opts.max_ticks = 4;
  CHECK(RunLoop(app->get(), clock, &waiter, opts) == 4);
  // Ticks at 0, an extra one at 0 (woken), then at 15 s and 30 s: the schedule did not move.
  REQUIRE(waiter.deadlines.size() == 3);
  CHECK(waiter.deadlines[0] == 15'000);
  CHECK(waiter.deadlines[1] == 15'000);
  CHECK(waiter.deadlines[2] == 30'000);
}

TEST_CASE("app: reload keeps the pool's servers and history when the provider is unchanged") {
  ManualClock clock(0);
  auto created = App::Create(MustParse(ConfigText(10)), &clock, false);
  REQUIRE(created.ok());
  App& app = **created;
  // Clarknet's first hour is ~2.4 req/s: at 0.5 per server the pool scales up from 1.
  std::vector<TickResult> first = app.TickAll(0);
  REQUIRE(first.size() == 1);
  REQUIRE(first[0].status.ok());
  CHECK(first[0].decision.desired > 1);
  clock.Set(15'000);
  const int active_before = app.TickAll(15'000)[0].observed.Count(ServerState::kActive);
  CHECK(active_before > 1);

  SUBCASE("valid reload: same provider, servers kept") {
    REQUIRE(app.Reload(MustParse(ConfigText(12))).ok());
    CHECK(app.config().pools[0].max_active == 12);
    std::vector<TickResult> after = app.TickAll(30'000);
    CHECK(after[0].observed.Count(ServerState::kActive) == active_before);
  }
  SUBCASE("a reload that fails to build changes nothing") {
    Config bad = MustParse(ConfigText(12));
    bad.pools[0].policies[0].type = "no_such_policy";
    Status st = app.Reload(bad);
    CHECK_FALSE(st.ok());
    CHECK(st.message().find("unknown policy type \"no_such_policy\"") != std::string::npos);
    CHECK(app.config().pools[0].max_active == 10);
    CHECK(app.TickAll(30'000)[0].observed.Count(ServerState::kActive) == active_before);
  }
}

TEST_CASE("app: force_dry_run never changes the pool") {
  ManualClock clock(0);
  auto created = App::Create(MustParse(ConfigText(10)), &clock, true);
  REQUIRE(created.ok());
  for (int i = 0; i < 5; ++i) {
    clock.Set(i * 15'000);
    TickResult t = (*created)->TickAll(clock.Now())[0];
    CHECK(t.applied.dry_run);
    CHECK(t.observed.Count(ServerState::kActive) == 1);
    CHECK(t.observed.Count(ServerState::kStandby) == 1);
    CHECK_FALSE(t.plan.empty());
  }
}

TEST_CASE(
    "app: a reload keeps what warm_standby auto and the policies learned, unless their settings change") {
  auto text = [](int max_active, const char* quantile) {
    std::string t = ConfigText(max_active);
    const std::string fixed = "    warm_standby: 1\n";
    t.replace(
        t.find(fixed), fixed.size(),
        std::string("    warm_standby: {auto: {server_capacity: 0.5, horizon: 30m, season: 0, quantile: ") +
            quantile + "}}\n");
    return t;
  };
  ManualClock clock_a(0), clock_b(0);
  auto a = App::Create(MustParse(text(10, "0.9")), &clock_a, false);
  auto b = App::Create(MustParse(text(10, "0.9")), &clock_b, false);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  // Nine hours of Clarknet (from midnight: the morning ramp) teach both the same rises.
  TimeMs t = 0;
  for (; t < 9 * kHour; t += 15 * kSecond) {
    clock_a.Set(t), clock_b.Set(t);
    (*a)->TickAll(t);
    (*b)->TickAll(t);
  }
  SUBCASE("settings unchanged: the reloaded app decides exactly as one never reloaded") {
    REQUIRE((*a)->Reload(MustParse(text(12, "0.9"))).ok());
    for (int i = 0; i < 40; ++i, t += 15 * kSecond) {
      clock_a.Set(t), clock_b.Set(t);
      TickResult ra = (*a)->TickAll(t)[0], rb = (*b)->TickAll(t)[0];
      CHECK(ra.decision.warm_standby == rb.decision.warm_standby);
      CHECK(ra.decision.desired == rb.decision.desired);
      if (i == 0) {
        CHECK(ra.decision.warm_standby > 0);  // it learned something worth keeping
        CHECK(ra.decision.reason.find("no rise learned yet") == std::string::npos);
      }
    }
  }
  SUBCASE("the sizer's settings changed: it starts again") {
    REQUIRE((*a)->Reload(MustParse(text(10, "0.95"))).ok());
    clock_a.Set(t);
    TickResult ra = (*a)->TickAll(t)[0];
    CHECK(ra.decision.reason.find("no rise learned yet") != std::string::npos);
  }
}

TEST_CASE("app: a restart restores what warm_standby auto's season learned, from the learned file") {
  std::string text = ConfigText(10);
  const std::string fixed = "    warm_standby: 1\n";
  text.replace(
      text.find(fixed), fixed.size(),
      "    warm_standby: {auto: {server_capacity: 0.5, season: 24h, seasons: 2, season_share: 0.5}}\n");
  RestartTrio trio(text);
  TimeMs t = trio.TeachA(2 * 24 * kHour);    // two days of Clarknet for the one never restarted
  CHECK(trio.learned.saves == 2 * 24 * 60);  // once a minute, not every tick
  REQUIRE(trio.learned.doc.has_value());
  trio.RestartB();  // at midnight
  int same = 0, learned_something = 0;
  for (int i = 0; i < 12 * 60 * 4; ++i, t += 15 * kSecond) {  // the next morning, tick by tick
    const std::vector<TickResult> r = trio.Tick(t);
    const std::string sa = SeasonalPart(r[0].decision.reason);
    const std::string sb = SeasonalPart(r[1].decision.reason);
    const std::string sc = SeasonalPart(r[2].decision.reason);
    REQUIRE(!sa.empty());
    same += sa == sb;
    learned_something += sa != sc;
  }
  CHECK(same == 12 * 60 * 4);      // the restored app's season is the never-restarted one's
  CHECK(learned_something > 100);  // and the one that lost it is different
}

TEST_CASE("app: a restart gives a predictive policy back the history it learned its season from") {
  // Target tracking (which reads no history) and a daily predictive forecast (which learns from its
  // own), over Clarknet's hourly steps.
  std::string text = ConfigText(10);
  const std::string policies =
      "    policies: [{type: target_tracking, metric: rps, target_per_server: 0.5}]\n";
  text.replace(text.find(policies), policies.size(),
               "    policies:\n"
               "      - {type: target_tracking, metric: rps, target_per_server: 0.5}\n"
               "      - {type: predictive, name: forecast, metric: rps, target_per_server: 0.5,\n"
               "         horizon: 30m, season: 24h}\n");
  RestartTrio trio(text);
  TimeMs t = trio.TeachA(30 * kHour);
  trio.a->SaveLearned(t - 15 * kSecond);  // a clean shutdown's save (run.cc), after the last tick
  REQUIRE(trio.learned.doc.has_value());
  Result<LearnedState> doc = DecodeLearned(*trio.learned.doc);
  REQUIRE(doc.ok());
  REQUIRE(doc->histories.count("web") == 1);
  const std::vector<PolicyHistory>& saved = doc->histories.at("web");
  REQUIRE(saved.size() == 1);  // target tracking's is neither kept nor saved
  CHECK(saved[0].name == "forecast");
  CHECK(saved[0].records.size() == 30 * 60 * 4);  // every tick's
  trio.RestartB();
  int same = 0, learned_something = 0;
  for (int i = 0; i < 6 * 60 * 4; ++i, t += 15 * kSecond) {  // the next six hours, tick by tick
    const std::vector<TickResult> r = trio.Tick(t);
    const Recommendation& ra = r[0].decision.recommendations.at(1);
    const Recommendation& rb = r[1].decision.recommendations.at(1);
    const Recommendation& rc = r[2].decision.recommendations.at(1);
    REQUIRE(ra.policy == "forecast");
    same += ra.reason == rb.reason && ra.desired == rb.desired;
    learned_something += ra.reason != rc.reason;
  }
  CHECK(same == 6 * 60 * 4);       // the restored forecast is the never-restarted one's, reason and all
  CHECK(learned_something > 100);  // the one that lost its history forecasts otherwise
}
