// Trace masks: finding collection gaps, mask files, holding the load over a gap, and what a masked
// backtest scores.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>

#include "controller/backtest/backtest.h"
#include "controller/sources/trace/mask.h"

using namespace warmpool;

namespace {

Trace Minutes(const std::vector<double>& rates) {
  Trace t;
  t.source = "synthetic";
  t.start = 600 * kSecond;
  t.step = kMinute;
  t.rates = rates;
  return t;
}

// 25/s for 20 min, zeros for 30 min (a gap), 25/s for 20 min.
std::vector<double> GapRates() {
  std::vector<double> r(70, 25);
  for (size_t i = 20; i < 50; ++i) r[i] = 0;
  return r;
}

PoolSpec Pool() {
  PoolSpec s;
  s.name = "web";
  s.min_active = 1;
  s.max_active = 10;
  s.warm_standby = 0;
  s.metrics = {MetricQuery{"rps", "", 5 * kMinute, 15 * kSecond}};
  s.policies = {
      PluginSpec{"target_tracking", "rps", Params{"p", "", {{"metric", "rps"}, {"target_per_server", "8"}}}}};
  s.provider = PluginSpec{"haproxy", "", {}};
  s.capacity_model =
      PluginSpec{"simulated", "", Params{"m", "", {{"capacity_per_server", "10"}, {"initial_active", "3"}}}};
  return s;
}

}  // namespace

TEST_CASE("mask: FindZeroGaps keeps zero runs at least min_gap long") {
  Trace t = Minutes({1, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0});
  std::vector<TimeSpan> gaps = FindZeroGaps(t, 3 * kMinute);
  REQUIRE(gaps.size() == 2);
  CHECK(gaps[0] == TimeSpan{t.start + 4 * kMinute, t.start + 8 * kMinute});
  CHECK(gaps[1] == TimeSpan{t.start + 9 * kMinute, t.start + 12 * kMinute});  // runs to the end
  CHECK(FindZeroGaps(t, 5 * kMinute).empty());
}

TEST_CASE("mask: files are start,end unix seconds, errors name the line") {
  Result<std::vector<TimeSpan>> ok = ParseMask("start,end\n# a comment\n\n100,160\n200,260\r\n", "m.csv");
  REQUIRE(ok.ok());
  REQUIRE(ok->size() == 2);
  CHECK((*ok)[0] == TimeSpan{100000, 160000});
  CHECK((*ok)[1] == TimeSpan{200000, 260000});
  CHECK(ParseMask("100;160\n", "m.csv").status().message() ==
        "m.csv:1: expected \"start,end\" (unix seconds)");
  CHECK(ParseMask("100,x\n", "m.csv").status().message() == "m.csv:1: the end is not a whole number of unix seconds");
  // No line of a file that is not a mask is echoed: the path may name a secret.
  CHECK(ParseMask("root:*:19000:0:99999:7:::\n", "m.csv").status().message().find("root") == std::string::npos);
  CHECK(ParseMask("1,2\n160,100\n", "m.csv").status().message() ==
        "m.csv:2: end 100 must be after start 160");
  CHECK(LoadMask("/nonexistent/m.csv").status().message().find("cannot read") != std::string::npos);
  // A FIFO without a writer is refused at once (it hung `backtest --mask`), a device is not read.
  char dir[] = "/tmp/warmpool-mask-XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  const std::string fifo = std::string(dir) + "/m.csv";
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  CHECK(LoadMask(fifo).status().message() == fifo + ": not a regular file (a FIFO)");
  CHECK(LoadMask("/dev/urandom").status().message() == "/dev/urandom: not a regular file (a character device)");
  std::remove(fifo.c_str());
  rmdir(dir);
}

TEST_CASE("mask: spans are clipped, sorted and merged, the load is held over them") {
  Trace t = Minutes({4, 5, 0, 0, 0, 7, 8});
  const TimeMs s = t.start;
  std::vector<TimeSpan> spans = NormalizeSpans({{s + 3 * kMinute, s + 5 * kMinute},
                                                {s + 2 * kMinute, s + 4 * kMinute},
                                                {0, 1},
                                                {s + 100 * kMinute, s + 200 * kMinute}},
                                               t);
  REQUIRE(spans.size() == 1);
  CHECK(spans[0] == TimeSpan{s + 2 * kMinute, s + 5 * kMinute});
  Trace held = HoldOverSpans(t, spans);
  CHECK(held.rates == std::vector<double>{4, 5, 5, 5, 5, 7, 8});
  // A span at the very start holds the first point after it.
  CHECK(HoldOverSpans(t, {{s, s + 2 * kMinute}}).rates == std::vector<double>{0, 0, 0, 0, 0, 7, 8});
  CHECK(HoldOverSpans(Minutes({0, 0, 3}), {{s, s + 2 * kMinute}}).rates == std::vector<double>{3, 3, 3});
  SpanCursor c(&spans);
  CHECK_FALSE(c.Inside(s));
  CHECK(c.NextBoundary(s, s + 60 * kMinute) == s + 2 * kMinute);
  CHECK(c.Inside(s + 2 * kMinute));
  CHECK(c.NextBoundary(s + 2 * kMinute, s + 60 * kMinute) == s + 5 * kMinute);
  CHECK_FALSE(c.Inside(s + 5 * kMinute));
  CHECK(c.NextBoundary(s + 5 * kMinute, s + 60 * kMinute) == s + 60 * kMinute);
}

TEST_CASE("mask: the twitter stream's daily ~29-minute block of zeros is found every day") {
  Result<Trace> t = LoadTrace(std::string(WARMPOOL_TRACES_DIR) + "/twitter-stream-2021-08-1min.csv.gz");
  REQUIRE(t.ok());
  std::vector<TimeSpan> gaps = FindZeroGaps(*t, 20 * kMinute);
  CHECK(gaps.size() == 21);  // 22 days; the trace ends where the 22nd block would start
  for (const TimeSpan& g : gaps) {
    CAPTURE(g.start);
    const TimeMs of_day = (g.start / 1000) % 86400;
    CHECK(of_day >= 84660);  // 23:31 of each day
    CHECK(of_day <= 84720);
    CHECK(g.length() >= 28 * kMinute);
    CHECK(g.length() <= 29 * kMinute);
  }
  // Nothing but those blocks: no other zero run of 20 min or more.
  CHECK(TotalLength(gaps) < 22 * 30 * kMinute);
}

TEST_CASE("mask: a masked gap is not scored and the policy does not scale down through it") {
  auto trace = std::make_shared<const Trace>(Minutes(GapRates()));
  const std::vector<TimeSpan> gaps = FindZeroGaps(*trace, 20 * kMinute);
  REQUIRE(gaps.size() == 1);
  BacktestOptions masked_opts;
  masked_opts.timeline = true;
  masked_opts.masked = gaps;
  Result<BacktestResult> masked = RunBacktest(Pool(), trace, masked_opts);
  Result<BacktestResult> plain = RunBacktest(Pool(), trace, BacktestOptions{});
  REQUIRE(masked.ok());
  REQUIRE(plain.ok());
  CHECK(masked->summary.masked_seconds == 1800);
  CHECK(masked->summary.total_requests == plain->summary.total_requests);
  // Unmasked, the pool drops to min_active in the zeros and the return of the load finds it short
  // (no warm pool, 90 s provisioning); masked, the policy saw 25/s all along.
  CHECK(plain->summary.unserved_requests > 500);
  CHECK(masked->summary.unserved_requests == 0);
  CHECK(masked->summary.direction_changes == 0);
  for (const BacktestTick& t : masked->timeline) {
    CAPTURE(t.t);
    CHECK(t.desired == 3);  // 25/s on 3 servers at 8 per server: within tolerance, all along
    CHECK(t.load == 25);    // the held load, as the policies saw it
  }
}
