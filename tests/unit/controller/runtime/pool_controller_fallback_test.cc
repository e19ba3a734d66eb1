// Unit tests for a metric that its source vouches for only as a floor (MetricWindow::floor_only: a
// scrape target down within the health window) and for a metric's fallback source (the balancer's
// counters when Prometheus fails), through PoolController's tick with in-test sources.
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "controller/runtime/pool_controller.h"
#include "tests/support/pool_controller_test_util.h"

using namespace warmpool;
using namespace warmpool::pc_test;

namespace {

bool Listed(const std::vector<std::string>& names, const std::string& name) {
  for (const std::string& n : names) {
    if (n == name) return true;
  }
  return false;
}

// A FakeMetrics the controller owns as rps's fallback; the test keeps a pointer to script it.
FakeMetrics* AddFallback(Harness* h, std::vector<double> values, bool scale_down) {
  auto fallback = std::make_unique<FakeMetrics>();
  fallback->values["rps"] = std::move(values);
  fallback->origin = "haproxy web backend req_tot";
  if (!scale_down) fallback->floor_only = "values from the fallback (haproxy web backend req_tot), whose scale_down is off";
  FakeMetrics* raw = fallback.get();
  h->controller->SetFallback("rps", std::move(fallback));
  return raw;
}

}  // namespace

TEST_CASE("PoolController: a floor-only metric scales up but never down, whatever the window, and says why") {
  Harness h(MakeSpec(0), Sim(5, 0));  // scale-down window 0
  h.metrics.floor_only = "scrape health \"min(up)\" was 0 at 12:00:00";
  h.metrics.values["rps"] = {10, 80};  // wants 1, then 8

  TickResult t = h.Tick();
  CHECK(t.decision.desired == 5);
  CHECK(t.plan.drain.empty());
  CHECK(Listed(t.metrics_floor_only, "rps"));
  CHECK(Contains(t.decision.reason, "never scales in on it: scrape health \"min(up)\" was 0"));
  CHECK(Contains(t.decision.reason, "no opinion that may scale in, holding at 5"));

  h.clock.Advance(15 * kSecond);
  t = h.Tick();
  CHECK(t.decision.desired == 8);

  // Healthy again: the same low load scales down at once (window 0).
  h.metrics.floor_only.clear();
  h.metrics.values["rps"] = {10};
  h.clock.Advance(15 * kSecond);
  t = h.Tick();
  CHECK(t.decision.desired < 8);
  CHECK(t.metrics_floor_only.empty());
}

TEST_CASE("PoolController: when the metrics source fails, the fallback scales up, never down, and is named") {
  Harness h(MakeSpec(2), Sim(3, 2));  // two standbys kept warm
  h.metrics.values["rps"] = {30};
  FakeMetrics* fallback = AddFallback(&h, {30, 50, 10}, /*scale_down=*/false);

  TickResult t = h.Tick();  // the source is fine: its values, the fallback fetched all the same
  CHECK(fallback->fetches == 1);
  CHECK(t.metrics_on_fallback.empty());
  CHECK_FALSE(Contains(t.decision.reason, "haproxy"));

  h.metrics.fail["rps"] = Status::Unavailable("prometheus http://127.0.0.1:1: connection refused");
  h.clock.Advance(15 * kSecond);
  t = h.Tick();  // 50 from the counters: 5
  CHECK(t.decision.desired == 5);
  CHECK(Listed(t.metrics_on_fallback, "rps"));
  CHECK(Listed(t.metrics_floor_only, "rps"));
  CHECK(t.metric_errors.size() == 1);  // the source's failure is still reported
  CHECK(Contains(t.decision.reason, "[rps from haproxy web backend req_tot (the metrics source failed)]"));
  CHECK(t.plan.promote.size() == 2);

  h.clock.Advance(15 * kSecond);
  t = h.Tick();  // 10 from the counters would be 1: never down on the fallback
  CHECK(t.decision.desired == 5);
  CHECK(t.plan.drain.empty());

  // The source is back: its own values again, and they may scale down.
  h.metrics.fail.clear();
  h.metrics.values["rps"] = {10};
  h.clock.Advance(15 * kSecond);
  t = h.Tick();
  CHECK(t.metrics_on_fallback.empty());
  CHECK(t.decision.desired < 5);
}

TEST_CASE("PoolController: a stale or floor-only source gives way to the fallback, and scale_down lets it lower") {
  SUBCASE("stale") {
    Harness h(MakeSpec(0), Sim(5, 0));
    h.metrics.values["rps"] = {50};
    h.metrics.age = 10 * kMinute;  // older than stale_after (2m)
    AddFallback(&h, {20}, /*scale_down=*/true);
    TickResult t = h.Tick();
    CHECK(Listed(t.metrics_on_fallback, "rps"));
    CHECK(Contains(t.decision.reason, "(the metrics source has no fresh sample)"));
    CHECK(t.decision.desired == 2);  // scale_down: true, window 0
  }
  SUBCASE("floor-only") {
    Harness h(MakeSpec(0), Sim(5, 0));
    h.metrics.values["rps"] = {10};
    h.metrics.floor_only = "scrape health \"min(up)\" was 0";
    AddFallback(&h, {30}, /*scale_down=*/true);
    TickResult t = h.Tick();
    CHECK(Listed(t.metrics_on_fallback, "rps"));
    CHECK(t.metrics_floor_only.empty());
    CHECK(t.decision.desired == 3);
  }
  SUBCASE("a fallback without a fresh sample is not used, and its failure is reported") {
    Harness h(MakeSpec(0), Sim(5, 0));
    h.metrics.fail["rps"] = Status::Unavailable("down");
    FakeMetrics* fallback = AddFallback(&h, {}, /*scale_down=*/false);
    TickResult t = h.Tick();
    CHECK(t.metrics_on_fallback.empty());
    CHECK(t.decision.desired == 5);  // missing: hold
    fallback->fail["rps"] = Status::Unavailable("haproxy /run/h.sock: \"show stat web 2 -1\": connect: refused");
    h.clock.Advance(15 * kSecond);
    t = h.Tick();
    CHECK(t.metric_errors.size() == 2);
    CHECK(Contains(t.metric_errors[1], "rps (fallback): "));
  }
}
