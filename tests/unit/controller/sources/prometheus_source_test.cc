// Unit tests of the Prometheus metrics source (controller/prometheus_source.h) without a network:
// fetches over a scripted HttpClient (paths, the age check, error messages) and its params.
#include <doctest/doctest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "controller/sources/prometheus/source.h"
#include "controller/sources/registry.h"

using namespace warmpool;

namespace {

constexpr TimeMs kNow = 1'795'240'530'177;

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::string Vector(const std::string& series) {
  return R"({"status":"success","data":{"resultType":"vector","result":[)" + series + "]}}";
}

// An HttpClient that answers from a script and records the paths asked for.
class ScriptedClient final : public HttpClient {
 public:
  std::function<Result<HttpResponse>(const std::string& path)> answer;
  std::vector<std::string> paths;
  Result<HttpResponse> Do(const HttpRequest& request) override {
    paths.push_back(request.path_and_query);
    return answer(request.path_and_query);
  }
};

bool IsProbe(const std::string& path) { return path.rfind("/api/v1/query?query=timestamp%28", 0) == 0; }

std::string Matrix(TimeMs from, TimeMs to, DurationMs step, const std::string& value) {
  std::string values;
  for (TimeMs t = from; t <= to; t += step) {
    values += (values.empty() ? "[" : ",[") + PromSeconds(t) + ",\"" + value + "\"]";
  }
  return R"({"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[)" + values +
         "]}]}}";
}

std::string ProbeAnswer(TimeMs newest_raw) {
  return Vector(R"({"metric":{},"value":[)" + PromSeconds(kNow) + ",\"" + PromSeconds(newest_raw) + "\"]}");
}

}  // namespace

TEST_CASE("prometheus source: range and instant fetches report the true age of the newest sample") {
  auto owned = std::make_unique<ScriptedClient>();
  ScriptedClient* client = owned.get();
  PrometheusMetricsSource source("http://p:9090", std::move(owned));
  TimeMs newest_raw = kNow - 45 * kSecond;  // the series stopped 45 s ago; Prometheus re-stamps it
  client->answer = [&](const std::string& path) -> Result<HttpResponse> {
    if (IsProbe(path)) return HttpResponse{200, ProbeAnswer(newest_raw), ""};
    if (path.rfind("/api/v1/query_range?", 0) == 0) {
      return HttpResponse{200, Matrix(kNow - kMinute, kNow, 15 * kSecond, "7"), ""};
    }
    return HttpResponse{200, Vector(R"({"metric":{},"value":[)" + PromSeconds(kNow) + R"(,"7"]})"), ""};
  };
  MetricQuery q{"queue", "queue_depth{backend=\"web\"}", kMinute, 15 * kSecond};

  Result<MetricWindow> w = source.Fetch(q, kNow);
  REQUIRE(w.ok());
  REQUIRE(client->paths.size() == 2);
  CHECK(client->paths[0] == RangeQueryPath(q.query, kNow - kMinute, kNow, 15 * kSecond));
  CHECK(client->paths[1] == InstantQueryPath("timestamp(" + q.query + "\n)", kNow));
  CHECK(w->metric == "queue");
  REQUIRE(w->samples.size() == 2);  // the step at now - 60 s, and the raw sample at now - 45 s
  CHECK(w->samples.back().t == newest_raw);
  CHECK_FALSE(w->Latest(kNow, 30 * kSecond));  // stale, although Prometheus stamped it `now`
  CHECK(w->Latest(kNow, kMinute)->value == 7);

  q.window = 0;  // instant query
  w = source.Fetch(q, kNow);
  REQUIRE(w.ok());
  CHECK(client->paths[2] == InstantQueryPath(q.query, kNow));
  REQUIRE(w->samples.size() == 1);
  CHECK(w->samples[0].t == newest_raw);

  newest_raw = kNow;  // a derived expression: timestamp() gives the evaluation time, nothing changes
  w = source.Fetch(q, kNow);
  REQUIRE(w.ok());
  CHECK(w->samples[0].t == kNow);
}

TEST_CASE("prometheus source: the age check is skipped for scalars and ignored when Prometheus refuses it") {
  auto owned = std::make_unique<ScriptedClient>();
  ScriptedClient* client = owned.get();
  PrometheusMetricsSource source("http://p:9090", std::move(owned));
  client->answer = [&](const std::string& path) -> Result<HttpResponse> {
    if (IsProbe(path)) {
      return HttpResponse{400, R"({"status":"error","errorType":"bad_data","error":"got scalar"})", ""};
    }
    if (path.rfind("/api/v1/query_range?", 0) == 0)
      return HttpResponse{200, Matrix(kNow - 30000, kNow, 15000, "1"), ""};
    return HttpResponse{
        200, R"({"status":"success","data":{"resultType":"scalar","result":[1795240530.177,"1"]}})", ""};
  };
  Result<MetricWindow> w = source.Fetch(MetricQuery{"one", "1", 0, 15 * kSecond}, kNow);
  REQUIRE(w.ok());
  CHECK(client->paths.size() == 1);
  CHECK(w->samples.at(0).t == kNow);
  w = source.Fetch(MetricQuery{"one", "1", 30 * kSecond, 15 * kSecond}, kNow);
  REQUIRE(w.ok());
  CHECK(client->paths.size() == 3);
  CHECK(w->samples.size() == 3);
}

TEST_CASE("prometheus source: every failure names the source and the query") {
  auto owned = std::make_unique<ScriptedClient>();
  ScriptedClient* client = owned.get();
  PrometheusMetricsSource source("http://p:9090", std::move(owned));
  const std::string prefix = "prometheus http://p:9090, query \"up\": ";
  MetricQuery q{"up", "up", 0, 15 * kSecond};
  struct Case {
    Result<HttpResponse> main;
    Result<HttpResponse> probe;
    Status::Code code;
    std::string want;
  } cases[] = {
      {Status::Unavailable("GET http://p:9090/api/v1/query: refused"), HttpResponse{},
       Status::Code::kUnavailable, "GET http://p:9090/api/v1/query: refused"},
      {Status::DeadlineExceeded("GET x: no complete response within 5s"), Status::Ok(),
       Status::Code::kDeadlineExceeded, "GET x: no complete response within 5s"},
      {HttpResponse{401, "Unauthorized", ""}, HttpResponse{}, Status::Code::kFailedPrecondition,
       "HTTP 401: \"Unauthorized\""},
      {HttpResponse{200, Vector(""), ""}, HttpResponse{}, Status::Code::kNotFound,
       "query returned no series"},
      {HttpResponse{200, Vector(R"({"metric":{},"value":[1,"1"]})"), ""},
       Status::Unavailable("GET http://p:9090/api/v1/query: refused"), Status::Code::kUnavailable,
       "checking the age of its newest sample: GET http://p:9090/api/v1/query: refused"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.want);
    client->answer = [&](const std::string& path) { return IsProbe(path) ? c.probe : c.main; };
    Result<MetricWindow> w = source.Fetch(q, kNow);
    REQUIRE_FALSE(w.ok());
    CHECK(w.status().code() == c.code);
    CHECK(w.status().message() == prefix + c.want);
  }
  const size_t asked = client->paths.size();
  CHECK(source.Fetch(MetricQuery{"x", "", 0, 0}, kNow).status().message() ==
        "prometheus http://p:9090, query \"\": empty query");
  CHECK(client->paths.size() == asked);
}

TEST_CASE("prometheus source: garbage numbers are query errors, so the pool holds") {
  auto owned = std::make_unique<ScriptedClient>();
  ScriptedClient* client = owned.get();
  PrometheusMetricsSource source("http://p:9090", std::move(owned));
  const std::string prefix = "prometheus http://p:9090, query \"rps\": ";
  MetricQuery q{"rps", "rps", 0, 15 * kSecond};
  auto answer = [&](const std::string& t, const std::string& v) {
    client->answer = [=](const std::string& path) -> Result<HttpResponse> {
      if (IsProbe(path)) return HttpResponse{200, ProbeAnswer(kNow), ""};
      return HttpResponse{200, Vector(R"({"metric":{},"value":[)" + t + ",\"" + v + "\"]}"), ""};
    };
    return source.Fetch(q, kNow);
  };
  Result<MetricWindow> w = answer(PromSeconds(kNow), "-50");
  REQUIRE_FALSE(w.ok());
  CHECK(w.status().message().rfind(prefix + "negative value -50 at ", 0) == 0);
  CHECK(Contains(w.status().message(), "a rate, count or utilization cannot be negative"));
  w = answer(PromSeconds(kNow + 2 * kMinute), "5");
  REQUIRE_FALSE(w.ok());
  CHECK(Contains(w.status().message(), " is 2m in the future (more than 1m of clock skew)"));
  CHECK(answer(PromSeconds(kNow + 30 * kSecond), "5").ok());  // within the skew
  for (const char* t : {"-1e300", "1e300", "9.3e15", "-1"}) {
    CAPTURE(t);
    w = answer(t, "5");
    REQUIRE_FALSE(w.ok());
    CHECK(w.status().message().rfind(prefix, 0) == 0);
  }
  CHECK(answer(PromSeconds(kNow), "0").ok());
}

namespace {

// A temp dir for credential files, removed at the end of the test.
struct FilesDir {
  std::string path;
  FilesDir() {
    std::string tmpl = std::filesystem::temp_directory_path().string() + "/warmpool-prom-XXXXXX";
    path = mkdtemp(tmpl.data()) ? tmpl : "";
  }
  ~FilesDir() { std::filesystem::remove_all(path); }
  std::string Write(const std::string& name, const std::string& text) const {
    std::ofstream(path + "/" + name) << text;
    return path + "/" + name;
  }
};

Params PromParams(std::map<std::string, std::string> values, std::string base_dir = "") {
  return Params{"metrics_source", std::move(base_dir), std::move(values)};
}

}  // namespace

TEST_CASE("prometheus source params: defaults, credential files read at creation, relative to the config") {
  std::vector<std::string> errors;
  std::optional<PrometheusConfig> c =
      ReadPrometheusConfig(PromParams({{"url", "http://127.0.0.1:9090/"}}), &errors);
  REQUIRE(c);
  CHECK(errors.empty());
  CHECK(c->url == "http://127.0.0.1:9090");
  CHECK(c->http.timeout == 5 * kSecond);
  CHECK(c->http.connect_timeout == 2 * kSecond);
  CHECK(c->http.bearer_token.empty());
  CHECK(c->http.basic_auth_user.empty());

  FilesDir dir;
  dir.Write("token", "t0ken\n");
  dir.Write("password", "s3cret\r\n");
  const std::string ca = dir.Write("ca.pem", "not a certificate");
  c = ReadPrometheusConfig(PromParams({{"url", "https://prom:9090/prefix"},
                                       {"timeout", "3s"},
                                       {"connect_timeout", "500ms"},
                                       {"bearer_token_file", "token"},
                                       {"tls.ca_file", "ca.pem"}},
                                      dir.path),
                           &errors);
  REQUIRE(c);
  CHECK(errors.empty());
  CHECK(c->http.timeout == 3 * kSecond);
  CHECK(c->http.connect_timeout == 500);
  CHECK(c->http.bearer_token == "t0ken");
  CHECK(c->http.tls_ca_file == ca);
  c = ReadPrometheusConfig(
      PromParams(
          {{"url", "http://p"}, {"basic_auth.username", "alice"}, {"basic_auth.password_file", "password"}},
          dir.path),
      &errors);
  REQUIRE(c);
  CHECK(c->http.basic_auth_user == "alice");
  CHECK(c->http.basic_auth_password == "s3cret");

  // The factory loads the CA bundle: one that is not PEM is an error naming the key.
  CHECK_FALSE(
      CreateMetricsSource("prometheus", PromParams({{"url", "https://p"}, {"tls.ca_file", ca}}), &errors));
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].rfind("metrics_source.tls.ca_file: cannot load CA file \"" + ca + "\"", 0) == 0);
  errors.clear();
  CHECK(CreateMetricsSource("prometheus", PromParams({{"url", "http://127.0.0.1:9090"}}), &errors));
  CHECK(errors.empty());
}

TEST_CASE("prometheus source params: errors name the key") {
  FilesDir dir;
  dir.Write("empty", "\n");
  struct Case {
    std::map<std::string, std::string> values;
    std::string want;
  } cases[] = {
      {{}, "metrics_source.url: required, e.g. http://127.0.0.1:9090"},
      {{{"url", "prom:9090"}}, "metrics_source.url: must start with http:// or https://, got \"prom:9090\""},
      {{{"url", "http://u:pw@prom"}},
       "metrics_source.url: must not carry credentials; use basic_auth.username and "
       "basic_auth.password_file"},
      {{{"url", "http://"}}, "metrics_source.url: has no host: \"http://\""},
      {{{"url", "http://p/?x=1"}},
       "metrics_source.url: must not have a query or fragment: \"http://p/?x=1\""},
      {{{"url", "http://p"}, {"timeot", "1s"}}, "metrics_source.timeot: unknown key"},
      {{{"url", "http://p"}, {"timeout", "1s"}, {"connect_timeout", "2s"}},
       "metrics_source.connect_timeout: must not exceed timeout (1s), got 2s"},
      {{{"url", "http://p"}, {"basic_auth.username", "a"}},
       "metrics_source.basic_auth.password: required with basic_auth.username (or basic_auth.password_file)"},
      {{{"url", "http://p"}, {"basic_auth.password", "x"}},
       "metrics_source.basic_auth.username: required with basic_auth.password or basic_auth.password_file"},
      {{{"url", "http://p"},
        {"basic_auth.username", "a"},
        {"basic_auth.password", "x"},
        {"basic_auth.password_file", "f"}},
       "metrics_source.basic_auth.password_file: set basic_auth.password or basic_auth.password_file, not "
       "both"},
      {{{"url", "http://p"}, {"bearer_token_file", "missing"}},
       "metrics_source.bearer_token_file: cannot read \"" + dir.path +
           "/missing\": No such file or directory"},
      {{{"url", "http://p"}, {"bearer_token_file", "empty"}},
       "metrics_source.bearer_token_file: file \"" + dir.path + "/empty\" is empty"},
      {{{"url", "http://p"}, {"bearer_token", "t"}, {"bearer_token_file", "f"}},
       "metrics_source.bearer_token_file: set bearer_token or bearer_token_file, not both"},
      {{{"url", "http://p"},
        {"bearer_token", "t"},
        {"basic_auth.username", "a"},
        {"basic_auth.password", "x"}},
       "metrics_source.bearer_token: set basic_auth or a bearer token, not both"},
      {{{"url", "http://p"}, {"tls.insecure_skip_verify", "true"}},
       "metrics_source.tls.insecure_skip_verify: only applies to an https:// url"},
      {{{"url", "https://p"}, {"tls.ca_file", "missing"}},
       "metrics_source.tls.ca_file: cannot read \"" + dir.path + "/missing\": No such file or directory"},
      {{{"url", "https://p"}, {"tls.insecure_skip_verify", "yes"}},
       "metrics_source.tls.insecure_skip_verify: must be true or false, got \"yes\""},
  };
  for (const Case& c : cases) {
    CAPTURE(c.want);
    std::vector<std::string> errors;
    CHECK_FALSE(ReadPrometheusConfig(PromParams(c.values, dir.path), &errors));
    CHECK(std::find(errors.begin(), errors.end(), c.want) != errors.end());
    for (const std::string& e : errors) CHECK_MESSAGE(!Contains(e, "pw@"), e);  // never echo credentials
  }
}
