// Unit tests of the Prometheus API helpers (controller/sources/prometheus/parse.h): query paths, response
// parsing with every failure message, and the lookback correction. No network.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "controller/sources/prometheus/parse.h"

using namespace warmpool;

namespace {

constexpr TimeMs kNow = 1'795'240'530'177;  // 2026-11-21T...: "1795240530.177"

std::string Vector(const std::string& series) {
  return R"({"status":"success","data":{"resultType":"vector","result":[)" + series + "]}}";
}

}  // namespace

TEST_CASE("prometheus parse: query paths encode PromQL and give times in seconds") {
  CHECK(UrlEncode("sum(rate(x{a=\"b c\"}[1m]))") == "sum%28rate%28x%7Ba%3D%22b%20c%22%7D%5B1m%5D%29%29");
  CHECK(UrlEncode("a-b_c.d~9") == "a-b_c.d~9");
  CHECK(PromSeconds(kNow) == "1795240530.177");
  CHECK(PromSeconds(15000) == "15");
  CHECK(PromSeconds(500) == "0.5");
  CHECK(PromSeconds(1050) == "1.05");
  CHECK(PromSeconds(-1500) == "-1.5");
  CHECK(InstantQueryPath("up", kNow) == "/api/v1/query?query=up&time=1795240530.177");
  CHECK(RangeQueryPath("up", 1000, 61000, 15000) == "/api/v1/query_range?query=up&start=1&end=61&step=15");
}

TEST_CASE("prometheus parse: vector, matrix and scalar answers, NaN and Inf strings") {
  Result<PromResult> v = ParsePromResponse(
      200,
      Vector(R"({"metric":{"__name__":"up","job":"x","instance":"a:1"},"value":[1795240530.214,"4.75"]})"));
  REQUIRE(v.ok());
  CHECK(v->result_type == "vector");
  REQUIRE(v->series.size() == 1);
  CHECK(v->series[0].labels == "up{instance=\"a:1\", job=\"x\"}");
  REQUIRE(v->series[0].samples.size() == 1);
  CHECK(v->series[0].samples[0].t == 1'795'240'530'214);
  CHECK(v->series[0].samples[0].value == 4.75);

  Result<PromResult> m =
      ParsePromResponse(200, R"({"status":"success","data":{"resultType":"matrix","result":[
      {"metric":{},"values":[[1795240522.384,"1"],[1795240523,"NaN"],[1795240524.5,"+Inf"],[1795240525,"-Inf"]]}]}})");
  REQUIRE(m.ok());
  CHECK(m->result_type == "matrix");
  REQUIRE(m->series.size() == 1);
  CHECK(m->series[0].labels == "{}");
  const std::vector<Sample>& s = m->series[0].samples;
  REQUIRE(s.size() == 4);
  CHECK(s[0].t == 1'795'240'522'384);
  CHECK(s[1].t == 1'795'240'523'000);
  CHECK(std::isnan(s[1].value));
  CHECK(s[2].value == std::numeric_limits<double>::infinity());
  CHECK(s[3].value == -std::numeric_limits<double>::infinity());

  Result<PromResult> scalar = ParsePromResponse(
      200, R"({"status":"success","data":{"resultType":"scalar","result":[1795240525.476,"1"]}})");
  REQUIRE(scalar.ok());
  REQUIRE(scalar->series.size() == 1);
  CHECK(scalar->series[0].samples[0].value == 1);

  Result<PromResult> empty =
      ParsePromResponse(200, R"({"status":"success","data":{"resultType":"matrix","result":[]}})");
  REQUIRE(empty.ok());
  CHECK(empty->series.empty());
  CHECK(OnlySeries(*empty).status().code() == Status::Code::kNotFound);
  CHECK(OnlySeries(*empty).status().message() == "query returned no series");
}

TEST_CASE("prometheus parse: every failure is a Status with a clear message") {
  using Code = Status::Code;
  struct Case {
    int http;
    std::string body;
    Code code;
    std::string want;  // the whole message, or its start when it ends with "*"
  } cases[] = {
      {400,
       R"({"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:5: parse error: unclosed left parenthesis"})",
       Code::kInvalidArgument,
       "bad_data: invalid parameter \"query\": 1:5: parse error: unclosed left parenthesis (HTTP 400)"},
      {503, R"({"status":"error","errorType":"timeout","error":"query timed out in expression evaluation"})",
       Code::kDeadlineExceeded, "timeout: query timed out in expression evaluation (HTTP 503)"},
      {422, R"({"status":"error","errorType":"execution","error":"too many samples"})", Code::kUnavailable,
       "execution: too many samples (HTTP 422)"},
      {200, R"({"status":"error"})", Code::kUnavailable, "unknown: (no message) (HTTP 200)"},
      {401, "Unauthorized\n", Code::kFailedPrecondition, "HTTP 401: \"Unauthorized\""},
      {404, "404 page not found\n", Code::kFailedPrecondition, "HTTP 404: \"404 page not found\""},
      {502, "<html>\n<b>Bad Gateway</b></html>", Code::kUnavailable,
       "HTTP 502: \"<html> <b>Bad Gateway</b></html>\""},
      {500, std::string(300, 'x'), Code::kUnavailable, "HTTP 500: \"" + std::string(200, 'x') + "...\""},
      {200, "backend", Code::kUnavailable, "malformed response: not JSON: \"backend\""},
      {200, "[1,2]", Code::kUnavailable, "malformed response: not a JSON object: \"[1,2]\""},
      {200, R"({"status":"success"})", Code::kUnavailable, "malformed response: no \"data\" object: *"},
      {200, R"({"status":"weird","data":{}})", Code::kUnavailable,
       "malformed response: \"status\" is not \"success\"*"},
      {200, R"({"status":"success","data":{"result":[]}})", Code::kUnavailable,
       "malformed response: no \"resultType\"*"},
      {200, R"({"status":"success","data":{"resultType":"vector"}})", Code::kUnavailable,
       "malformed response: no \"result\" array*"},
      {200, R"({"status":"success","data":{"resultType":"string","result":[1,"hello"]}})",
       Code::kInvalidArgument, "unexpected resultType \"string\" (want matrix, vector or scalar)"},
      {200, Vector(R"({"metric":{"job":"x"},"value":[1,"abc"]})"), Code::kUnavailable,
       "malformed response: bad sample [1,\"abc\"] in {job=\"x\"}*"},
      {200, Vector(R"({"metric":{"job":"x"},"value":[1,2]})"), Code::kUnavailable,
       "malformed response: bad sample*"},
      {200, Vector(R"({"value":[1,"2"]})"), Code::kUnavailable,
       "malformed response: a series without \"metric\"*"},
      {200, Vector(R"({"metric":{},"histogram":[1,{}]})"), Code::kInvalidArgument,
       "series {} holds a native histogram, not a number"},
      {200, R"({"status":"success","data":{"resultType":"matrix","result":[{"metric":{}}]}})",
       Code::kUnavailable, "malformed response: series {} without \"values\"*"},
      {200, R"({"status":"success","data":{"resultType":"scalar","result":[1]}})", Code::kUnavailable,
       "malformed response: bad scalar [1]*"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.body);
    Result<PromResult> r = ParsePromResponse(c.http, c.body);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == c.code);
    if (c.want.back() == '*') {
      CHECK(r.status().message().rfind(c.want.substr(0, c.want.size() - 1), 0) == 0);
    } else {
      CHECK(r.status().message() == c.want);
    }
  }
}

TEST_CASE("prometheus parse: more than one series names how many and the first few") {
  std::string series;
  for (const char* job : {"a", "b", "c", "d"}) {
    series += std::string(series.empty() ? "" : ",") + R"({"metric":{"__name__":"up","job":")" + job +
              R"("},"value":[1,"1"]})";
  }
  Result<PromSeries> one = OnlySeries(*ParsePromResponse(200, Vector(series)));
  REQUIRE_FALSE(one.ok());
  CHECK(one.status().code() == Status::Code::kInvalidArgument);
  CHECK(one.status().message() ==
        "query returned 4 series, expected exactly 1 (aggregate them, e.g. with sum()): "
        "up{job=\"a\"}, up{job=\"b\"}, up{job=\"c\"}, ...");
}

TEST_CASE("prometheus parse: lookback copies are replaced by the newest raw sample at its true time") {
  const std::vector<Sample> steps = {{10, 1}, {20, 2}, {30, 3}, {40, 3}, {50, 3}};
  struct Case {
    TimeMs newest_raw;
    TimeMs window_start;
    std::vector<Sample> want;
  } cases[] = {
      {50, 0, steps},                                 // fresh: nothing changes
      {60, 0, steps},                                 // newer than every point (between steps): unchanged
      {30, 0, {{10, 1}, {20, 2}, {30, 3}}},           // a point at the raw time: copies dropped
      {35, 0, {{10, 1}, {20, 2}, {30, 3}, {35, 3}}},  // between steps: the sample at its time
      {5, 0, {{5, 3}}},                               // older than every point
      {5, 8, {}},                                     // ... and older than the window: nothing left
  };
  for (const Case& c : cases) {
    CAPTURE(c.newest_raw);
    std::vector<Sample> got = steps;
    StampNewestRaw(&got, c.newest_raw, c.window_start);
    REQUIRE(got.size() == c.want.size());
    for (size_t i = 0; i < got.size(); ++i) {
      CHECK(got[i].t == c.want[i].t);
      CHECK(got[i].value == c.want[i].value);
    }
  }
  PromResult probe{"vector", {{"{}", {{kNow, 1795240529.514}}, {}}}};
  CHECK(NewestRawSample(probe) == 1'795'240'529'514);
  CHECK_FALSE(NewestRawSample(PromResult{"vector", {}}));
  probe.series[0].samples[0].value = std::numeric_limits<double>::quiet_NaN();
  CHECK_FALSE(NewestRawSample(probe));
}
