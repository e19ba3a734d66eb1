// The Prometheus metrics source (controller/sources/prometheus/source.h) against a real Prometheus 2.42 on
// 127.0.0.1: instant and range queries, every failure mode with its message, timeouts, a server
// that goes away, TLS and basic auth, the true age of stale samples, and a pool that holds while
// Prometheus is down and recovers when it is back.
#include <doctest/doctest.h>
#include <signal.h>

#include <chrono>
#include <cmath>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "controller/runtime/pool_controller.h"
#include "controller/sources/prometheus/parse.h"
#include "controller/sources/registry.h"
#include "providers/simulated/simulated_provider.h"
#include "tests/support/harness.h"
#include "tests/support/prometheus_test_util.h"
#include "warmpool/clock.h"
#include "warmpool/metrics.h"

using namespace warmpool;
using namespace warmpool::testing;

namespace {

const char kTwoJobs[] =
    "  - job_name: self\n    static_configs: [{targets: ['127.0.0.1:@PORT@']}]\n"
    "  - job_name: twin\n    static_configs: [{targets: ['127.0.0.1:@PORT@']}]\n";
const char kSelf[] = "  - job_name: self\n    static_configs: [{targets: ['127.0.0.1:@PORT@']}]\n";

std::unique_ptr<MetricsSource> Source(std::map<std::string, std::string> values,
                                      const std::string& base_dir = "") {
  std::vector<std::string> errors;
  auto source =
      CreateMetricsSource("prometheus", Params{"metrics_source", base_dir, std::move(values)}, &errors);
  for (const std::string& e : errors) FAIL_CHECK(e);
  return source;
}

Result<MetricWindow> Instant(MetricsSource* s, const std::string& query) {
  return s->Fetch(MetricQuery{"m", query, 0, 15 * kSecond}, WallNow());
}

std::string Prefix(const std::string& url, const std::string& query) {
  return "prometheus " + url + ", query \"" + query + "\": ";
}

// Waits until `query` has data (the first scrape comes a few seconds after start).
bool WaitForSeries(MetricsSource* s, const std::string& query) {
  return WaitFor([&] { return Instant(s, query).ok(); }, std::chrono::seconds(15));
}

// The value of header `name` in a request head ("" when absent).
std::string Header(const std::string& head, const std::string& name) {
  size_t at = head.find("\r\n" + name + ":");
  if (at == std::string::npos) return "";
  at = head.find_first_not_of(' ', at + name.size() + 3);
  return head.substr(at, head.find("\r\n", at) - at);
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

}  // namespace

TEST_CASE("prometheus source: instant and range queries against a real Prometheus, and what it refuses") {
  auto prom = StartPrometheus(kTwoJobs);
  REQUIRE(prom);
  auto source = Source({{"url", prom->url()}});
  REQUIRE(source);
  REQUIRE(WaitForSeries(source.get(), "count(up) == 2"));  // both targets scraped

  {  // instant: one sample of the expression, evaluated now
    const TimeMs now = WallNow();
    Result<MetricWindow> w = source->Fetch(MetricQuery{"up", "sum(up)", 0, 0}, now);
    REQUIRE(w.ok());
    CHECK(w->metric == "up");
    REQUIRE(w->samples.size() == 1);
    CHECK(w->samples[0].value == 2);
    CHECK(w->samples[0].t == now);  // a derived expression: as fresh as its evaluation
    Result<MetricWindow> scalar = Instant(source.get(), "1");
    REQUIRE(scalar.ok());
    CHECK(scalar->samples.at(0).value == 1);
  }
  {  // range: samples at each step, the newest at the true time of the raw sample
    REQUIRE(WaitFor([&] { return Instant(source.get(), "count_over_time(up{job=\"self\"}[10s]) > 4").ok(); },
                    std::chrono::seconds(10)));
    const TimeMs now = WallNow();
    Result<MetricWindow> w = source->Fetch(MetricQuery{"up", "up{job=\"self\"}", 3 * kSecond, 500}, now);
    REQUIRE(w.ok());
    REQUIRE(w->samples.size() >= 4);
    CHECK(w->samples.front().t == now - 3 * kSecond);
    CHECK(w->samples.back().value == 1);
    CHECK(w->samples.back().t <= now);
    CHECK(w->samples.back().t > now - 2 * kSecond);  // scraped every second
    CHECK(w->Latest(now, 5 * kSecond));
  }
  {  // NaN and infinities arrive as values; the window keeps them, Latest skips them
    Result<MetricWindow> nan = Instant(source.get(), "vector(0)/0");
    REQUIRE(nan.ok());
    CHECK(std::isnan(nan->samples.at(0).value));
    CHECK_FALSE(nan->Latest(WallNow(), kMinute));
    CHECK(Instant(source.get(), "vector(1)/0")->samples.at(0).value == INFINITY);
    CHECK(Instant(source.get(), "vector(-1)/0")->samples.at(0).value == -INFINITY);
    Result<MetricWindow> range =
        source->Fetch(MetricQuery{"m", "vector(0)/0", 2 * kSecond, kSecond}, WallNow());
    REQUIRE(range.ok());
    CHECK(range->samples.size() == 3);
    CHECK(std::isnan(range->samples.back().value));
  }
  {  // every refusal names the source, the query and the reason
    const std::string port = std::to_string(prom->port);
    struct Case {
      std::string query;
      Status::Code code;
      std::string want;
    } cases[] = {
        {"sum(", Status::Code::kInvalidArgument,
         "bad_data: invalid parameter \"query\": 1:5: parse error: unclosed left parenthesis (HTTP 400)"},
        {"up{job=\"nope\"}", Status::Code::kNotFound, "query returned no series"},
        {"up", Status::Code::kInvalidArgument,
         "query returned 2 series, expected exactly 1 (aggregate them, e.g. with sum()): "
         "up{instance=\"127.0.0.1:" +
             port + "\", job=\"self\"}, up{instance=\"127.0.0.1:" + port + "\", job=\"twin\"}"},
        {"\"hello\"", Status::Code::kInvalidArgument,
         "unexpected resultType \"string\" (want matrix, vector or scalar)"},
    };
    for (const Case& c : cases) {
      Result<MetricWindow> w = Instant(source.get(), c.query);
      REQUIRE_FALSE(w.ok());
      CHECK(w.status().code() == c.code);
      CHECK(w.status().message() == Prefix(prom->url(), c.query) + c.want);
    }
    auto wrong_path = Source({{"url", prom->url() + "/nope"}});
    Result<MetricWindow> w = Instant(wrong_path.get(), "up");
    CHECK(w.status().code() == Status::Code::kFailedPrecondition);
    CHECK(w.status().message() == Prefix(prom->url() + "/nope", "up") + "HTTP 404: \"404 page not found\"");
  }
}

TEST_CASE("prometheus source: a server that is not Prometheus gives a malformed-response error") {
  Backend backend("i am not prometheus");
  const std::string url = "http://" + backend.address();
  Result<MetricWindow> w = Instant(Source({{"url", url}}).get(), "up");
  REQUIRE_FALSE(w.ok());
  CHECK(w.status().code() == Status::Code::kUnavailable);
  CHECK(w.status().message() == Prefix(url, "up") + "malformed response: not JSON: \"i am not prometheus\"");
}

TEST_CASE("prometheus source: a server that accepts but never answers times out within the timeout") {
  SilentListener silent(/*full_backlog=*/false);
  auto source = Source({{"url", silent.url()}, {"timeout", "1s"}, {"connect_timeout", "500ms"}});
  const auto start = std::chrono::steady_clock::now();
  Result<MetricWindow> w = Instant(source.get(), "up");
  const double took = Seconds(start);
  REQUIRE_FALSE(w.ok());
  CHECK(w.status().code() == Status::Code::kDeadlineExceeded);
  CHECK(w.status().message() ==
        Prefix(silent.url(), "up") + "GET " + silent.url() + "/api/v1/query: no complete response within 1s");
  CHECK(took >= 0.9);
  CHECK(took < 2.5);
}

TEST_CASE("prometheus source: a connection that is never established fails at connect_timeout") {
  SilentListener full(/*full_backlog=*/true);
  auto source = Source({{"url", full.url()}, {"timeout", "5s"}, {"connect_timeout", "500ms"}});
  const auto start = std::chrono::steady_clock::now();
  Result<MetricWindow> w = Instant(source.get(), "up");
  const double took = Seconds(start);
  REQUIRE_FALSE(w.ok());
  CHECK(w.status().code() == Status::Code::kDeadlineExceeded);
  CHECK(w.status().message() ==
        Prefix(full.url(), "up") + "GET " + full.url() + "/api/v1/query: could not connect within 500ms");
  CHECK(took >= 0.45);
  CHECK(took < 2.0);
}

TEST_CASE("prometheus source: Prometheus stopped by PID is unavailable, quickly") {
  auto prom = StartPrometheus("");
  REQUIRE(prom);
  auto source = Source({{"url", prom->url()}});
  REQUIRE(Instant(source.get(), "vector(1)").ok());
  prom->process->Stop();
  const auto start = std::chrono::steady_clock::now();
  Result<MetricWindow> w = Instant(source.get(), "vector(1)");
  REQUIRE_FALSE(w.ok());
  CHECK(w.status().code() == Status::Code::kUnavailable);
  CHECK(w.status().message().rfind(
            Prefix(prom->url(), "vector(1)") + "GET " + prom->url() + "/api/v1/query: ", 0) == 0);
  CHECK(Seconds(start) < 1.0);
}

TEST_CASE("prometheus source: TLS with a CA file and basic auth against Prometheus' web config") {
  TempDir files;
  const std::string web_config = MakeWebConfig(files, "alice", "s3cret");
  REQUIRE_FALSE(web_config.empty());
  files.Write("password", "s3cret\n");
  files.Write("wrong", "guess\n");
  files.Write("token", "t0ken\n");
  auto prom = StartPrometheus(kSelf, "1s", 0, {"--web.config.file=" + web_config});
  REQUIRE(prom);
  const std::string url = "https://127.0.0.1:" + std::to_string(prom->port);
  auto good = Source({{"url", url},
                      {"tls.ca_file", "ca.crt"},
                      {"basic_auth.username", "alice"},
                      {"basic_auth.password_file", "password"}},
                     files.path());
  REQUIRE(WaitFor([&] { return Instant(good.get(), "vector(1)").ok(); }, std::chrono::seconds(10)));
  CHECK(Instant(good.get(), "vector(1)")->samples.at(0).value == 1);

  const std::string prefix = Prefix(url, "vector(1)");
  struct Case {
    std::map<std::string, std::string> params;
    Status::Code code;
    std::string want;  // the whole message, or its start when it ends with "*"
  } cases[] = {
      {{{"tls.ca_file", "ca.crt"}, {"basic_auth.username", "alice"}, {"basic_auth.password_file", "wrong"}},
       Status::Code::kFailedPrecondition,
       prefix + "HTTP 401: \"Unauthorized\""},
      {{{"tls.ca_file", "ca.crt"}}, Status::Code::kFailedPrecondition, prefix + "HTTP 401: \"Unauthorized\""},
      {{{"tls.ca_file", "ca.crt"}, {"bearer_token_file", "token"}},  // Prometheus' web config has no tokens
       Status::Code::kFailedPrecondition,
       prefix + "HTTP 401: \"Unauthorized\""},
      {{{"basic_auth.username", "alice"}, {"basic_auth.password", "s3cret"}},  // no CA: the certificate fails
       Status::Code::kUnavailable,
       prefix + "GET " + url + "/api/v1/query: *"},
      {{{"tls.insecure_skip_verify", "true"},
        {"basic_auth.username", "alice"},
        {"basic_auth.password", "s3cret"}},
       Status::Code::kOk,
       ""},
  };
  for (const Case& c : cases) {
    CAPTURE(c.want);
    std::map<std::string, std::string> params = c.params;
    params["url"] = url;
    Result<MetricWindow> w = Instant(Source(params, files.path()).get(), "vector(1)");
    CHECK(w.status().code() == c.code);
    if (c.code == Status::Code::kOk) continue;
    if (c.want.back() == '*') {
      CHECK(w.status().message().rfind(c.want.substr(0, c.want.size() - 1), 0) == 0);
    } else {
      CHECK(w.status().message() == c.want);
    }
  }
  // Plain HTTP to the TLS port: Prometheus says so.
  const std::string plain = "http://127.0.0.1:" + std::to_string(prom->port);
  Result<MetricWindow> w = Instant(Source({{"url", plain}}).get(), "vector(1)");
  CHECK(w.status().message() ==
        Prefix(plain, "vector(1)") + "HTTP 400: \"Client sent an HTTP request to an HTTPS server.\"");
}

TEST_CASE("prometheus source: bearer token and basic auth headers go out as configured") {
  CannedServer server(R"({"status":"success","data":{"resultType":"scalar","result":[1795240525.476,"3"]}})");
  TempDir files;
  files.Write("token", "t0ken\n");
  CHECK(Instant(Source({{"url", server.url()}, {"bearer_token_file", "token"}}, files.path()).get(), "1")
            ->samples.at(0)
            .value == 3);
  CHECK(
      Instant(
          Source({{"url", server.url()}, {"basic_auth.username", "alice"}, {"basic_auth.password", "s3cret"}})
              .get(),
          "1")
          .ok());
  std::vector<std::string> requests = server.requests();
  REQUIRE(requests.size() == 2);
  CHECK(requests[0].rfind("GET /api/v1/query?query=1&time=", 0) == 0);
  CHECK(Header(requests[0], "Authorization") == "Bearer t0ken");
  CHECK(Header(requests[1], "Authorization") == "Basic YWxpY2U6czNjcmV0");  // alice:s3cret
}

TEST_CASE("prometheus source: a series that stopped without a staleness marker reports its true age") {
  const std::string self_and_gone =
      std::string(kSelf) + "  - job_name: gone\n    static_configs: [{targets: ['127.0.0.1:@PORT@']}]\n";
  auto prom = StartPrometheus(self_and_gone);
  REQUIRE(prom);
  auto source = Source({{"url", prom->url()}});
  const std::string query = "up{job=\"gone\"}";
  REQUIRE(WaitForSeries(source.get(), "count_over_time(" + query + "[1m]) > 2"));
  prom->process->Stop(SIGKILL);  // no staleness markers; the restarted Prometheus no longer scrapes "gone"
  const TimeMs killed = WallNow();
  const std::string self = kSelf;
  REQUIRE(RestartPrometheus(prom.get(), &self));
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const TimeMs now = WallNow();

  // The premise: Prometheus stamps the old sample at every step up to `now` (its 5-minute lookback).
  auto raw = HttpGet(prom->port, RangeQueryPath(query, now - 10 * kSecond, now, kSecond));
  REQUIRE(raw);
  Result<PromResult> parsed = ParsePromResponse(raw->status, raw->body);
  REQUIRE(parsed.ok());
  CHECK(parsed->series.at(0).samples.back().t == now);

  Result<MetricWindow> w = source->Fetch(MetricQuery{"gone", query, 10 * kSecond, kSecond}, now);
  REQUIRE(w.ok());
  CHECK(w->samples.back().t <= killed);
  CHECK(now - w->samples.back().t >= 2 * kSecond);
  CHECK_FALSE(w->Latest(now, 2 * kSecond));  // a pool with stale_after 2s holds
  CHECK(w->Latest(now, kMinute));
  Result<MetricWindow> instant = source->Fetch(MetricQuery{"gone", query, 0, 0}, now);
  REQUIRE(instant.ok());
  CHECK(instant->samples.at(0).t == w->samples.back().t);

  // An aggregation is stamped with its evaluation time; last_over_time bounds its lookback instead.
  CHECK(source->Fetch(MetricQuery{"gone", "sum(" + query + ")", 0, 0}, now)->samples.at(0).t == now);
  const std::string bounded = "sum(last_over_time(" + query + "[1s]))";
  CHECK(source->Fetch(MetricQuery{"gone", bounded, 0, 0}, now).status().message() ==
        Prefix(prom->url(), bounded) + "query returned no series");
}

TEST_CASE(
    "prometheus source in a pool: killed mid-run the pool holds, restarted on the same port it recovers") {
  auto prom = StartPrometheus(kSelf);
  REQUIRE(prom);
  auto source = Source({{"url", prom->url()}, {"timeout", "2s"}, {"connect_timeout", "1s"}});
  const std::string query = "sum(up)";
  REQUIRE(WaitForSeries(source.get(), query));

  PoolSpec spec;
  spec.name = "web";
  spec.min_active = 1;
  spec.max_active = 10;
  spec.behavior.scale_down.stabilization_window = 0;
  spec.metrics = {MetricQuery{"load", query, 30 * kSecond, 5 * kSecond}};
  spec.policies = {
      PluginSpec{"target_tracking", "tt",
                 Params{"pools[0].policies[0]", "", {{"metric", "load"}, {"target_per_server", "0.5"}}}}};
  spec.provider.type = "simulated";
  ManualClock clock(WallNow());
  SimulatedSpec sim;
  sim.promotion_delay = 0;
  sim.initial_active = 5;
  sim.initial_standby = 2;
  SimulatedProvider provider("web", sim, &clock);
  std::vector<std::string> errors;
  std::vector<std::unique_ptr<Policy>> policies = CreatePolicies(spec, &errors);
  REQUIRE(errors.empty());
  PoolController pool(spec, std::move(policies), &provider, source.get());
  auto tick = [&] {
    clock.Set(WallNow());
    return pool.RunOnce(clock.Now());
  };

  TickResult t = tick();  // one target scraped: load 1 -> 2 servers
  CHECK(t.metric_errors.empty());
  CHECK(t.decision.desired == 2);
  CHECK(t.decision.reason.find("load 1 / target 0.5 per server on 5 active") != std::string::npos);
  CHECK(tick().decision.current == 2);

  prom->process->Stop(SIGKILL);
  for (int i = 0; i < 3; ++i) {
    t = tick();
    REQUIRE(t.status.ok());
    CHECK(t.decision.current == 2);
    CHECK(t.decision.desired >= t.decision.current);
    CHECK(t.plan.drain.empty());
    REQUIRE(t.metric_errors.size() == 1);
    CHECK(t.metric_errors[0].rfind("load: unavailable: " + Prefix(prom->url(), query) + "GET " + prom->url(),
                                   0) == 0);
    CHECK(t.decision.reason.find("no usable metric, holding at 2") != std::string::npos);
    CHECK_FALSE(t.decision.recommendations.at(0).valid);
  }

  // Back on the same port and data, now scraping a second target: the pool follows the new data.
  const std::string two = kTwoJobs;
  REQUIRE(RestartPrometheus(prom.get(), &two));
  REQUIRE(WaitFor(
      [&] {
        t = tick();
        return t.metric_errors.empty() && t.decision.desired == 4;
      },
      std::chrono::seconds(15)));
  CHECK(t.decision.recommendations.at(0).valid);
  CHECK(t.decision.reason.find("load 2 / target 0.5 per server on 2 active") != std::string::npos);
  CHECK(t.decision.direction == Direction::kUp);
}
