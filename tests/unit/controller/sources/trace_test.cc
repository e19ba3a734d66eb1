#include "controller/sources/trace/trace.h"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "controller/sources/registry.h"
#include "controller/sources/trace/source.h"

using namespace warmpool;

TEST_CASE("trace: parses, converts counts per step to a rate, interpolates linearly") {
  Result<Trace> t = ParseTrace("timestamp,requests\n100,60\n160,120\n220,0\n", "t.csv");
  REQUIRE(t.ok());
  CHECK(t->start == 100000);
  CHECK(t->step == 60000);
  CHECK(t->end() == 280000);
  CHECK(t->RateAt(100000) == doctest::Approx(1.0));
  CHECK(t->RateAt(130000) == doctest::Approx(1.5));  // halfway between 1/s and 2/s
  CHECK(t->RateAt(160000) == doctest::Approx(2.0));
  CHECK(t->RateAt(250000) == doctest::Approx(0.0));  // the last bin holds its rate
  CHECK(t->RateAt(99999) == 0);
  CHECK(t->RateAt(280000) == 0);
  CHECK(t->NextPointAfter(100000) == 160000);
  CHECK(t->NextPointAfter(270000) == 280000);
  CHECK(t->TotalRequests() == doctest::Approx(180));
}

TEST_CASE("trace: a cursor gives RateAt's numbers, bit for bit, for times that do not go back") {
  std::string csv = "timestamp,requests\n";
  for (int i = 0; i < 50; ++i)
    csv += std::to_string(1000 + 60 * i) + "," + std::to_string((i * 7919) % 97) + ".3\n";
  Result<Trace> t = ParseTrace(csv, "t.csv");
  REQUIRE(t.ok());
  TraceCursor cursor(&*t);
  int n = 0;
  // From before the start to past the end, in steps that do and do not divide the trace's step, the
  // same time twice, and a step back now and then.
  for (TimeMs x = t->start - 45 * kSecond; x < t->end() + kMinute;
       x += (n % 4 == 0 ? 0 : 7 * kSecond + n % 3 * 4000)) {
    CAPTURE(x);
    CHECK(cursor.RateAt(x) == t->RateAt(x));
    if (++n % 37 == 0) CHECK(cursor.RateAt(x - 2 * kMinute) == t->RateAt(x - 2 * kMinute));
  }
  CHECK(n > 300);
}

TEST_CASE("trace: errors name the file and the line") {
  struct Case {
    const char* text;
    const char* want;
  } cases[] = {
      {"time,req\n1,2\n", "t.csv:1: expected the header \"timestamp,requests\": not a trace file"},
      {"root:*:19000:0:99999:7:::\n", "t.csv:1: expected the header \"timestamp,requests\": not a trace file"},
      {"timestamp,requests\n0,1\n60,x\n", "t.csv:3: bad request count \"x\" (must be a number >= 0)"},
      {"timestamp,requests\n0,1\n60,-1\n", "t.csv:3: bad request count \"-1\""},
      {"timestamp,requests\n0,1\n60,1\n180,1\n", "t.csv:4: timestamp 180 is not 1m after 60"},
      {"timestamp,requests\n0,1\nabc,1\n", "t.csv:3: bad timestamp \"abc\""},
      {"timestamp,requests\n60,1\n0,1\n", "t.csv:3: timestamps must increase"},
      {"timestamp,requests\n0,1\n", "t.csv: needs at least 2 rows, got 1"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.text);
    Result<Trace> t = ParseTrace(c.text, "t.csv");
    REQUIRE_FALSE(t.ok());
    CHECK(t.status().message().find(c.want) == 0);
  }
  CHECK(LoadTrace("/nonexistent/x.csv").status().message().find("/nonexistent/x.csv: cannot read") == 0);
}

TEST_CASE("trace: a gzip-compressed trace loads as its CSV does, a damaged one is refused by name") {
  char dir[] = "/tmp/warmpool-trace-XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  const std::string csv = std::string(dir) + "/t.csv", gz = csv + ".gz",
                    bad = std::string(dir) + "/bad.csv.gz";
  std::ofstream(csv) << "timestamp,requests\n0,60\n60,120\n120,30\n";
  REQUIRE(std::system(("gzip -k -n " + csv).c_str()) == 0);
  Result<Trace> plain = LoadTrace(csv);
  Result<Trace> packed = LoadTrace(gz);
  REQUIRE(plain.ok());
  REQUIRE(packed.ok());
  CHECK(packed->start == plain->start);
  CHECK(packed->step == plain->step);
  CHECK(packed->rates == plain->rates);
  // A gzip header followed by garbage: zlib's error, with the file's name.
  std::ofstream(bad, std::ios::binary) << std::string("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03garbage", 18);
  Result<Trace> damaged = LoadTrace(bad);
  REQUIRE_FALSE(damaged.ok());
  CHECK(damaged.status().message().find(bad + ": ") == 0);
  std::system(("rm -rf " + std::string(dir)).c_str());
}

TEST_CASE("trace: only a regular file is read, so a FIFO cannot hang check-config nor a device flood it") {
  char dir[] = "/tmp/warmpool-trace-XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  const std::string fifo = std::string(dir) + "/t.csv";
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  CHECK(LoadTrace(fifo).status().message() == fifo + ": not a regular file");
  CHECK(LoadTrace("/dev/urandom").status().message() == "/dev/urandom: not a regular file");
  std::remove(fifo.c_str());
  rmdir(dir);
}

TEST_CASE("trace: the real NASA trace loads") {
  Result<Trace> t = LoadTrace(WARMPOOL_TRACES_DIR "/nasa-http-1995-07-1min.csv.gz");
  REQUIRE(t.ok());
  CHECK(t->rates.size() == 39692);
  CHECK(t->TotalRequests() == doctest::Approx(1891672));
}

TEST_CASE("trace metrics source: samples aligned to the step, none outside the trace") {
  auto trace = std::make_shared<const Trace>(*ParseTrace("timestamp,requests\n0,60\n60,120\n120,180\n", "t"));
  MetricQuery q{"rps", "", 60 * kSecond, 15 * kSecond};
  SUBCASE("backtest mapping: origin = trace start") {
    TraceMetricsSource src(trace, trace->start, 1.0);
    Result<MetricWindow> w = src.Fetch(q, 90 * kSecond);
    REQUIRE(w.ok());
    REQUIRE(w->samples.size() == 5);
    CHECK(w->samples.front().t == 30 * kSecond);
    CHECK(w->samples.back().t == 90 * kSecond);
    CHECK(w->samples.back().value == doctest::Approx(2.5));
    CHECK(w->metric == "rps");
    CHECK(src.Fetch(q, 500 * kSecond)->samples.empty());  // past the end: no data, the pool holds
  }
  SUBCASE("live mapping: the first fetch is the trace start, speed scales time") {
    TraceMetricsSource src(trace, std::nullopt, 2.0);
    const TimeMs wall = 1'700'000'000'000;
    CHECK(src.Fetch(q, wall)->samples.back().value == doctest::Approx(1.0));
    CHECK(src.Fetch(q, wall + 30 * kSecond)->samples.back().value == doctest::Approx(2.0));
  }
}

TEST_CASE("trace metrics source factory: file is required, resolved against the config dir") {
  std::vector<std::string> errors;
  CHECK_FALSE(CreateMetricsSource("trace", Params{"metrics_source", "", {}}, &errors));
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].rfind("metrics_source.file: required", 0) == 0);
  errors.clear();
  CHECK(CreateMetricsSource(
      "trace", Params{"metrics_source", WARMPOOL_TRACES_DIR, {{"file", "clarknet-http-1995-1h.csv.gz"}}},
      &errors));
  CHECK(errors.empty());
  CHECK_FALSE(CreateMetricsSource("prometheus2", Params{"metrics_source", "", {}}, &errors));
  CHECK(errors.back().rfind("metrics_source.type: unknown metrics source type \"prometheus2\" (known: trace",
                            0) == 0);
}
