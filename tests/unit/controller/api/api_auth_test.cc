// The REST API's authentication, its protocol errors (404 route, 405, 413), the tokens file, and the
// HTTP server's pure helpers.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "controller/http/client.h"
#include "tests/support/api_test_util.h"

using namespace warmpool;
using namespace warmpool::api_test;
using nlohmann::json;

namespace {

const char* kOverride = R"({"active": 3, "reason": "x"})";

}  // namespace

TEST_CASE("api auth: mutating calls need an admin token, 401 names the scheme, a read token is 403") {
  ApiFixture f;
  struct Call {
    const char* method;
    const char* target;
    const char* body;
  } mutating[] = {
      {"PUT", "/api/v1/pools/web/override", kOverride},
      {"DELETE", "/api/v1/pools/web/override", ""},
      {"PUT", "/api/v1/pools/web/pause", R"({"direction": "both", "reason": "x"})"},
      {"DELETE", "/api/v1/pools/web/pause", ""},
      {"POST", "/-/reload", ""},
  };
  for (const Call& c : mutating) {
    CAPTURE(c.target);
    HttpServerResponse r = f.Call(c.method, c.target, c.body);
    CHECK(r.status == 401);
    CHECK(Header(r, "WWW-Authenticate") == "Bearer realm=\"warmpool\"");
    CHECK(Body(r)["error"].get<std::string>().find("bearer token") != std::string::npos);
    r = f.Call(c.method, c.target, c.body, "not-a-configured-token");
    CHECK(r.status == 401);
    CHECK(Header(r, "WWW-Authenticate") == "Bearer realm=\"warmpool\", error=\"invalid_token\"");
    CHECK(Body(r)["error"] == "unknown token");
    r = f.Call(c.method, c.target, c.body, kReadToken);
    CHECK(r.status == 403);
    CHECK(Body(r)["error"] == "token \"grafana\" has role read; this call needs role admin");
  }
  CHECK(f.reloads == 0);
  CHECK_FALSE(f.cp.Controls("web", f.clock.Now()).override);
  // Authentication comes before the pool: no token learns nothing about which pools exist.
  CHECK(f.Call("PUT", "/api/v1/pools/secret/override", kOverride).status == 401);
  CHECK(f.Call("PUT", "/api/v1/pools/secret/override", kOverride, kReadToken).status == 403);
}

TEST_CASE("api auth: with tokens, reads need any valid token while probes and metrics are open") {
  ApiFixture f;
  for (const char* target : {"/api/v1/pools", "/api/v1/pools/web", "/api/v1/events"}) {
    CAPTURE(target);
    CHECK(f.Call("GET", target).status == 401);
    CHECK(f.Call("GET", target, "", "wrong-token-0123456789").status == 401);
    CHECK(f.Call("GET", target, "", kReadToken).status == 200);
    CHECK(f.Call("GET", target, "", kAdminToken).status == 200);
  }
  for (const char* target : {"/-/healthy", "/metrics"}) CHECK(f.Call("GET", target).status == 200);
  CHECK(f.Call("GET", "/-/ready").status == 503);  // open, and honest: not every pool observed yet
  // The scheme is case-insensitive; another scheme is no token at all.
  HttpServerRequest r;
  r.method = "GET";
  r.path = "/api/v1/pools";
  r.headers["authorization"] = std::string("bEaReR  ") + kReadToken;
  Api api(&f.cp, TestTokens(), &f.clock, nullptr);
  CHECK(api.Handle(r).status == 200);
  r.headers["authorization"] = std::string("Basic ") + kReadToken;
  CHECK(api.Handle(r).status == 401);
}

TEST_CASE("api auth: without a tokens file, reads are open and every mutating call is 401") {
  ApiFixture f(/*with_tokens=*/false);
  CHECK(f.Call("GET", "/api/v1/pools").status == 200);
  CHECK(f.Call("GET", "/api/v1/events").status == 200);
  HttpServerResponse r = f.Call("PUT", "/api/v1/pools/web/override", kOverride, kAdminToken);
  CHECK(r.status == 401);
  CHECK(Body(r)["error"] == "no API tokens are configured, so changes through the API are disabled");
  CHECK(f.Call("POST", "/-/reload").status == 401);
  CHECK(f.reloads == 0);
}

TEST_CASE("api: unknown routes are 404, wrong methods 405 with Allow, big bodies 413, unknown query 400") {
  ApiFixture f;
  HttpServerResponse r = f.Admin("GET", "/api/v1/poolz");
  CHECK(r.status == 404);
  CHECK(Body(r)["error"] == "no such route: \"/api/v1/poolz\"");
  CHECK(f.Admin("GET", "/api/v1/pools/web/extra").status == 404);
  CHECK(f.Admin("GET", "/api/v1/pools/").status == 404);
  CHECK(f.Admin("GET", "/").status == 404);

  r = f.Admin("POST", "/api/v1/pools/web/override", kOverride);
  CHECK(r.status == 405);
  CHECK(Header(r, "Allow") == "PUT, DELETE");
  CHECK(Body(r)["error"].get<std::string>().find("(allowed: PUT, DELETE)") != std::string::npos);
  CHECK(Header(f.Admin("DELETE", "/api/v1/pools"), "Allow") == "GET");
  CHECK(Header(f.Admin("GET", "/-/reload"), "Allow") == "POST");

  const std::string big =
      R"({"active": 3, "reason": ")" + std::string(Api::kDefaultMaxBodyBytes, 'x') + "\"}";
  r = f.Admin("PUT", "/api/v1/pools/web/override", big);
  CHECK(r.status == 413);
  CHECK(Body(r)["error"].get<std::string>().find("the limit is 65536") != std::string::npos);
  CHECK(f.Call("PUT", "/api/v1/pools/web/override", big).status == 401);  // who you are comes first
  // web.max_body_bytes above the default is the limit, not the default (it once overrode the setting).
  Api roomy(&f.cp, TestTokens(), &f.clock, nullptr, 4 * Api::kDefaultMaxBodyBytes);
  HttpServerRequest put;
  put.method = "PUT";
  put.path = "/api/v1/pools/web/override";
  put.headers["authorization"] = std::string("Bearer ") + kAdminToken;
  put.body = big;
  CHECK(roomy.Handle(put).status == 400);  // read and judged on its fields: the reason is too long
  put.body = std::string(4 * Api::kDefaultMaxBodyBytes + 1, ' ');
  CHECK(roomy.Handle(put).status == 413);

  r = f.Reader("GET", "/api/v1/pools?verbose=1");
  CHECK(r.status == 400);
  CHECK(Body(r)["field"] == "verbose");
  CHECK(Body(r)["error"] == "unknown query parameter \"verbose\" (allowed: none)");
}

TEST_CASE("api: route templates match whole segments") {
  CHECK(Api::MatchRoute("/api/v1/pools") == "/api/v1/pools");
  CHECK(Api::MatchRoute("/api/v1/pools/web") == "/api/v1/pools/{pool}");
  CHECK(Api::MatchRoute("/api/v1/pools/web/pause") == "/api/v1/pools/{pool}/pause");
  CHECK(Api::MatchRoute("/api/v1/pools//pause") == "");
  CHECK(Api::MatchRoute("/api/v1/poolsx") == "");
  CHECK(Api::MatchRoute("/metrics/") == "");
}

TEST_CASE("api tokens: a tokens file with inline tokens and token files relative to it") {
  const std::string dir =
      (std::filesystem::temp_directory_path() / ("warmpool-api-tokens-" + std::to_string(::getpid())))
          .string();
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/grafana.token") << "grafana-secret-0123456789\n";
  std::ofstream(dir + "/tokens.yaml") << "tokens:\n"
                                         "  - {name: alice, role: admin, token: alice-secret-0123456789}\n"
                                         "  - {name: grafana, role: read, token_file: grafana.token}\n";
  Result<ApiTokens> t = LoadApiTokens(dir + "/tokens.yaml");
  REQUIRE_MESSAGE(t.ok(), t.status().ToString());
  CHECK(t->configured());
  CHECK(t->size() == 2);
  const ApiPrincipal* p = t->Authenticate("grafana-secret-0123456789");
  REQUIRE(p != nullptr);
  CHECK(p->name == "grafana");
  CHECK(p->role == ApiRole::kRead);
  p = t->Authenticate("alice-secret-0123456789");
  REQUIRE(p != nullptr);
  CHECK(p->role == ApiRole::kAdmin);
  CHECK(t->Authenticate("alice-secret-012345678") == nullptr);  // a prefix is not the token
  CHECK(t->Authenticate("") == nullptr);
  CHECK_FALSE(ApiTokens().configured());

  Result<ApiTokens> missing = LoadApiTokens(dir + "/nope.yaml");
  CHECK_FALSE(missing.ok());
  CHECK(missing.status().message().find(dir + "/nope.yaml") != std::string::npos);
  std::ofstream(dir + "/bad.yaml") << "tokens:\n  - {name: ci, role: admin, token_file: ci.token}\n";
  Result<ApiTokens> bad = LoadApiTokens(dir + "/bad.yaml");
  CHECK_FALSE(bad.ok());
  CHECK(bad.status().message().find("tokens[0] (ci): token_file: cannot read \"" + dir + "/ci.token\"") !=
        std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("api tokens: errors name the file and the entry") {
  struct Case {
    const char* yaml;
    const char* error;
  } cases[] = {
      {"tokens:\n  - {name: a, role: writer, token: aaaaaaaaaaaaaaaa}\n",
       "api tokens \"t.yaml\": tokens[0] (a): role must be read or admin, got \"writer\""},
      {"tokens:\n  - {role: read, token: aaaaaaaaaaaaaaaa}\n", "tokens[0]: name is required"},
      {"tokens:\n  - {name: a, role: read}\n", "tokens[0] (a): token or token_file is required"},
      {"tokens:\n  - {name: a, role: read, token: short}\n",
       "tokens[0] (a): the token is too short (5 characters"},
      {"tokens:\n  - {name: a, role: read, token: 'has a space in it'}\n", "printable ASCII without spaces"},
      {"tokens:\n  - {name: a, role: read, token: aaaaaaaaaaaaaaaa, token_file: f}\n",
       "set token or token_file, not both"},
      {"tokens:\n  - {name: a, role: read, token: aaaaaaaaaaaaaaaa, scope: all}\n",
       "tokens[0] (a): unknown key \"scope\""},
      {"tokens:\n  - {name: a, role: read, token: aaaaaaaaaaaaaaaa}\n  - {name: a, role: admin, token: "
       "bbbbbbbbbbbbbbbb}\n",
       "tokens[1] (a): duplicate name"},
      {"tokens:\n  - {name: a, role: read, token: aaaaaaaaaaaaaaaa}\n  - {name: b, role: admin, token: "
       "aaaaaaaaaaaaaaaa}\n",
       "tokens[1] (b): same token as tokens[0]"},
      {"tokens: []\n", "tokens is empty"},
      {"tokens: {a: b}\n", "tokens must be a sequence"},
      {"users: []\n", "must be a mapping with a tokens sequence"},
      {"tokens: [\n", "line "},
  };
  for (const Case& c : cases) {
    CAPTURE(c.yaml);
    Result<ApiTokens> t = ParseApiTokens(c.yaml, "t.yaml");
    REQUIRE_FALSE(t.ok());
    CHECK(t.status().message().find(c.error) != std::string::npos);
    CHECK(t.status().message().rfind("api tokens \"t.yaml\": ", 0) == 0);
  }
}

TEST_CASE("http server helpers: URL decoding, query strings, listen addresses, JSON errors") {
  CHECK(UrlDecode("/api/v1/pools/we%62", false) == "/api/v1/pools/web");
  CHECK(UrlDecode("a+b%2", false) == "a+b%2");
  CHECK(UrlDecode("a+b%zz", true) == "a b%zz");
  auto q = ParseQueryString("pool=web&since=2025-11-21T06%3A23%3A00%2B01%3A00&flag&&x=a+b");
  CHECK(q.size() == 4);
  CHECK(q["pool"] == "web");
  CHECK(q["since"] == "2025-11-21T06:23:00+01:00");
  CHECK(q["flag"] == "");
  CHECK(q["x"] == "a b");

  Result<ListenAddress> a = ParseListenAddress("127.0.0.1:9100");
  REQUIRE(a.ok());
  CHECK(a->host == "127.0.0.1");
  CHECK(a->port == 9100);
  a = ParseListenAddress(":0");
  REQUIRE(a.ok());
  CHECK(a->host == "0.0.0.0");
  CHECK(a->port == 0);
  for (const char* bad : {"9100", "host:", "host:65536", "host:9x", "[::1]:9100", "::1:9100"}) {
    CAPTURE(bad);
    Result<ListenAddress> r = ParseListenAddress(bad);
    CHECK_FALSE(r.ok());
    CHECK(r.status().message().find(std::string("\"") + bad + "\"") != std::string::npos);
  }
  CHECK(JsonErrorBody("a \"b\"\n") == "{\"error\":\"a \\\"b\\\"\\n\"}\n");

  // Paths are split first, then each segment decoded: an encoded slash stays inside its segment.
  CHECK(PathSegments("/api/v1/pools/web%2Foverride") == std::vector<std::string>{"api", "v1", "pools", "web/override"});
  CHECK(PathSegments("/a%20b/") == std::vector<std::string>{"a b", ""});
  CHECK(PathSegments("/") == std::vector<std::string>{""});
}

TEST_CASE("api: routes on raw path segments, and TRACE or OPTIONS are 405 like any other method") {
  ApiFixture f;
  HttpServerResponse r = f.Admin("PUT", "/api/v1/pools/web%2Foverride", kOverride);
  CHECK(r.status == 405);  // the pool route, for a pool named "web/override": never the override route
  CHECK_FALSE(f.cp.Controls("web", f.clock.Now()).override.has_value());
  CHECK(f.Admin("GET", "/api/v1/pools/web%2Foverride").status == 404);
  CHECK(f.Admin("GET", "/api/v1/pools/w%65b").status == 200);  // an encoded letter is still the letter
  for (const char* method : {"TRACE", "OPTIONS", "CONNECT"}) {
    CAPTURE(method);
    r = f.Admin(method, "/api/v1/pools");
    CHECK(r.status == 405);
    CHECK(Header(r, "Allow") == "GET");
    CHECK(r.body.find("Bearer") == std::string::npos);
  }
}

TEST_CASE("http client helpers: base URLs taken apart, base64") {
  Result<HttpUrl> u = ParseHttpUrl("https://prom.example:9443/prefix/");
  REQUIRE(u.ok());
  CHECK(u->https);
  CHECK(u->host == "prom.example");
  CHECK(u->port == 9443);
  CHECK(u->base_path == "/prefix");
  CHECK(u->host_header() == "prom.example:9443");
  u = ParseHttpUrl("http://[::1]:9090");
  REQUIRE(u.ok());
  CHECK(u->host == "::1");
  CHECK(u->host_header() == "[::1]:9090");
  u = ParseHttpUrl("http://127.0.0.1");
  REQUIRE(u.ok());
  CHECK(u->port == 80);
  CHECK(u->host_header() == "127.0.0.1");
  for (const char* bad : {"ftp://x", "http://", "http://:9090", "http://h:0", "http://h:65536", "http://h:9x",
                          "http://u:p@h", "http://h/p?q=1", "http://[::1", "http://h:"}) {
    CAPTURE(bad);
    Result<HttpUrl> r = ParseHttpUrl(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message().rfind(std::string("url \"") + bad + "\": ", 0) == 0);
  }
  CHECK(Base64("") == "");
  CHECK(Base64("f") == "Zg==");
  CHECK(Base64("fo") == "Zm8=");
  CHECK(Base64("foo") == "Zm9v");
  CHECK(Base64("user:pass") == "dXNlcjpwYXNz");
}

TEST_CASE("api: a change the store cannot save is 503 and not applied, and /-/ready says the store fails") {
  ApiFixture f;
  Status store = Status::Ok();
  f.cp.on_change = [&] { return store; };
  REQUIRE(f.Admin("PUT", "/api/v1/pools/web/override", R"({"active": 5, "reason": "saved"})").status == 200);
  store = Status::Unavailable("cannot rename: Read-only file system");
  f.cp.SetStoreError(store.message());
  HttpServerResponse r = f.Admin("PUT", "/api/v1/pools/web/override", R"({"active": 7, "reason": "lost?"})");
  CHECK(r.status == 503);
  CHECK(Body(r)["error"] == "not saved, so not applied: cannot rename: Read-only file system");
  CHECK(f.cp.Controls("web", f.clock.Now()).override->active == 5);
  CHECK(f.Admin("DELETE", "/api/v1/pools/web/override").status == 503);
  CHECK(f.Admin("PUT", "/api/v1/pools/web/pause", R"({"direction": "both", "reason": "x"})").status == 503);
  r = f.Call("GET", "/-/ready");
  CHECK(r.status == 503);
  CHECK(Body(r)["error"] == "the state store is failing: cannot rename: Read-only file system");
  store = Status::Ok();
  f.cp.SetStoreError("");
  CHECK(f.Admin("DELETE", "/api/v1/pools/web/override").status == 200);
}
