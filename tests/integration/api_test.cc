// The REST API over real HTTP: StartHttpServer + Api on 127.0.0.1 with an ephemeral port, spoken to
// with a raw-socket client (raw_http.h) and, for TLS, with the curl command line against a
// self-signed certificate made by the openssl command line. Loopback only, every call bounded.
#include "controller/api/api.h"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "controller/config/tokens_file.h"
#include "controller/http/server.h"
#include "tests/support/harness.h"
#include "tests/support/raw_http.h"

using namespace warmpool;
using namespace warmpool::testing;

namespace {

constexpr const char* kAdmin = "admin-secret-0123456789";
constexpr const char* kRead = "read-secret-0123456789";
constexpr TimeMs kNow = 1763702460000;  // 2025-11-21T05:21:00Z

PoolStatus Status(TimeMs at) {
  PoolStatus s;
  s.pool = "web";
  s.at = at;
  s.observed = true;
  s.min_active = 1;
  s.max_active = 8;
  s.warm_standby = 1;
  s.max_total = 9;
  s.state.servers = {{"web-1", "10.0.0.1:80", ServerState::kActive, Health::kHealthy, at - 1000},
                     {"web-2", "10.0.0.2:80", ServerState::kStandby, Health::kHealthy, at - 1000}};
  s.decision.at = at;
  s.decision.current = 1;
  s.decision.desired = 1;
  s.decision.reason = "holding";
  return s;
}

// A ControlPlane with pool "web", an Api with an admin and a read token, served on an ephemeral port.
struct ApiServer {
  explicit ApiServer(HttpServerOptions options = {}) : clock(kNow) {
    PoolSpec web;
    web.name = "web";
    cp.SetPools({web});
    cp.Publish(Status(kNow));
    cp.on_reload = [this] { ++reloads; };
    Result<ApiTokens> tokens =
        ParseApiTokens(std::string("tokens:\n  - {name: alice, role: admin, token: ") + kAdmin +
                           "}\n  - {name: grafana, role: read, token: " + kRead + "}\n",
                       "tokens.yaml");
    REQUIRE(tokens.ok());
    api = std::make_unique<Api>(&cp, *tokens, &clock, [] { return std::string("warmpool_up 1\n"); });
    options.max_body_bytes = Api::kDefaultMaxBodyBytes;
    Result<std::unique_ptr<HttpServer>> s =
        StartHttpServer(options, [this](const HttpServerRequest& r) { return api->Handle(r); });
    REQUIRE_MESSAGE(s.ok(), s.status().ToString());
    server = std::move(*s);
    REQUIRE(server->port() > 0);
  }
  RawReply Call(const std::string& method, const std::string& target, const std::string& body = "",
                const std::string& token = "") {
    RawRequest r;
    r.method = method;
    r.target = target;
    r.body = body;
    r.bearer = token;
    if (!body.empty()) r.headers.emplace_back("Content-Type", "application/json");
    std::optional<RawReply> reply = RawHttp(server->port(), r);
    REQUIRE_MESSAGE(reply, method << " " << target << ": no HTTP reply");
    return *reply;
  }
  bool Has(const RawReply& r, const std::string& text) { return r.body.find(text) != std::string::npos; }

  ManualClock clock;
  ControlPlane cp;
  std::atomic<int> reloads{0};
  std::unique_ptr<Api> api;
  std::unique_ptr<HttpServer> server;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("api over http: every endpoint once, on an ephemeral port") {
  ApiServer s;
  RawReply r = s.Call("GET", "/api/v1/pools", "", kRead);
  CHECK(r.status == 200);
  CHECK(r.headers["content-type"] == "application/json");
  CHECK(s.Has(r, "\"name\":\"web\""));
  CHECK(s.Has(r, "\"state\":\"standby\""));
  r = s.Call("GET", "/api/v1/pools/web", "", kRead);
  CHECK(r.status == 200);
  CHECK(s.Has(r, "\"max_total\":9"));

  r = s.Call("PUT", "/api/v1/pools/web/override", R"({"active": 4, "ttl": "30m", "reason": "launch"})",
             kAdmin);
  CHECK_MESSAGE(r.status == 200, r.body);
  CHECK(s.Has(r, "\"expires_at\":\"2025-11-21T05:51:00.000Z\""));
  CHECK(s.Has(s.Call("GET", "/api/v1/pools/web", "", kRead), "\"set_by\":\"alice\""));
  CHECK(s.Call("DELETE", "/api/v1/pools/web/override", "", kAdmin).status == 200);

  r = s.Call("PUT", "/api/v1/pools/web/pause", R"({"direction": "both", "reason": "incident"})", kAdmin);
  CHECK_MESSAGE(r.status == 200, r.body);
  r = s.Call("DELETE", "/api/v1/pools/web/pause?direction=scale_down", "", kAdmin);
  CHECK(r.status == 200);
  CHECK(s.Has(r, "\"scale_up\":true,\"scale_down\":false"));

  // The query arrives URL-decoded: %3A and %2B are ':' and '+'.
  r = s.Call("GET", "/api/v1/events?pool=web&limit=10&since=2025-11-21T06%3A21%3A00%2B01%3A00", "", kRead);
  CHECK(r.status == 200);
  CHECK(s.Has(r, "\"kind\":\"override\""));
  CHECK(s.Has(r, "\"kind\":\"pause\""));

  r = s.Call("GET", "/-/healthy");
  CHECK(r.status == 200);
  CHECK(s.Call("GET", "/-/ready").status == 200);
  r = s.Call("GET", "/metrics");
  CHECK(r.status == 200);
  CHECK(r.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8");
  CHECK(r.body == "warmpool_up 1\n");
  CHECK(s.Call("POST", "/-/reload", "", kAdmin).status == 200);
  CHECK(s.reloads == 1);
}

TEST_CASE("api over http: authentication and protocol errors keep their status, headers and JSON") {
  ApiServer s;
  RawReply r = s.Call("PUT", "/api/v1/pools/web/override", R"({"active": 4, "reason": "x"})");
  CHECK(r.status == 401);
  CHECK(r.headers["www-authenticate"] == "Bearer realm=\"warmpool\"");
  CHECK(s.Has(r, "\"error\":"));
  r = s.Call("PUT", "/api/v1/pools/web/override", R"({"active": 4, "reason": "x"})",
             "unknown-token-0123456789");
  CHECK(r.status == 401);
  CHECK(r.headers["www-authenticate"].find("invalid_token") != std::string::npos);
  CHECK(s.Call("PUT", "/api/v1/pools/web/override", R"({"active": 4, "reason": "x"})", kRead).status == 403);
  CHECK(s.Call("GET", "/api/v1/pools").status == 401);
  CHECK(s.Call("POST", "/-/reload", "", kRead).status == 403);
  CHECK(s.reloads == 0);

  r = s.Call("PATCH", "/api/v1/pools/web/pause", "{}", kAdmin);
  CHECK(r.status == 405);
  CHECK(r.headers["allow"] == "PUT, DELETE");
  r = s.Call("GET", "/nowhere", "", kAdmin);
  CHECK(r.status == 404);
  CHECK(r.headers["content-type"] == "application/json");
  r = s.Call("PUT", "/api/v1/pools/web/override", R"({"active": 40, "reason": "x"})", kAdmin);
  CHECK(r.status == 400);
  CHECK(s.Has(r, "\"field\":\"active\""));
  CHECK(s.Has(r, "got 40"));
  r = s.Call("PUT", "/api/v1/pools/nope/pause", R"({"direction": "both", "reason": "x"})", kAdmin);
  CHECK(r.status == 404);
  CHECK(s.Has(r, "unknown pool \\\"nope\\\""));
}

TEST_CASE("api over http: concurrent readers and writers are all answered") {
  ApiServer s;
  std::atomic<int> ok{0}, bad{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        RawRequest r;
        if ((i + t) % 3 == 0) {
          r.method = "PUT";
          r.target = "/api/v1/pools/web/pause";
          r.body = R"({"direction": "scale_up", "reason": "load test"})";
          r.bearer = kAdmin;
        } else {
          r.target = "/api/v1/pools/web";
          r.bearer = kRead;
        }
        std::optional<RawReply> reply = RawHttp(s.server->port(), r);
        (reply && reply->status == 200 ? ok : bad)++;
      }
    });
  }
  for (std::thread& c : clients) c.join();
  CHECK(ok == 100);
  CHECK(bad == 0);
  CHECK(s.cp.Controls("web", kNow).pause.scale_up);
}

TEST_CASE("http server: bodies above the limit are 413 before the handler, by Content-Length or by size") {
  std::atomic<int> calls{0};
  HttpServerOptions options;
  options.max_body_bytes = 1000;
  Result<std::unique_ptr<HttpServer>> server = StartHttpServer(options, [&](const HttpServerRequest& r) {
    ++calls;
    if (r.path == "/throw") throw std::runtime_error("boom");
    return HttpServerResponse{
        200, "text/plain", std::to_string(r.body.size()) + " " + r.method + " " + r.path, {}};
  });
  REQUIRE(server.ok());
  const int port = (*server)->port();
  RawRequest big;
  big.method = "PUT";
  big.target = "/x";
  big.body = std::string(2 * 1024 * 1024, 'a');  // 2 MiB: refused by its Content-Length, never read
  std::optional<RawReply> r = RawHttp(port, big);
  REQUIRE(r);
  CHECK(r->status == 413);
  CHECK(r->headers["content-type"] == "application/json");
  CHECK(r->body == "{\"error\":\"request body too large: the limit is 1000\"}\n");
  CHECK(r->headers["connection"] == "close");
  big.chunked = true;  // no Content-Length: the size is found while reading
  r = RawHttp(port, big);
  REQUIRE(r);
  CHECK(r->status == 413);
  CHECK(calls == 0);

  RawRequest exact;
  exact.method = "PUT";
  exact.target = "/x";
  exact.body = std::string(1000, 'b');
  r = RawHttp(port, exact);
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->body == "1000 PUT /x");
  exact.chunked = true;
  r = RawHttp(port, exact);
  REQUIRE(r);
  CHECK(r->body == "1000 PUT /x");
  RawRequest encoded;
  encoded.target = "/a%20b";
  r = RawHttp(port, encoded);
  REQUIRE(r);
  CHECK(r->body == "0 GET /a%20b");  // the path as sent: handlers route on PathSegments()

  encoded.target = "/throw";
  r = RawHttp(port, encoded);
  REQUIRE(r);
  CHECK(r->status == 500);
  CHECK(r->body == "{\"error\":\"internal error: boom\"}\n");
  CHECK(calls == 4);
}

TEST_CASE("http server: ephemeral ports differ, a taken port is an error, Stop closes the port") {
  auto handler = [](const HttpServerRequest&) { return HttpServerResponse{200, "text/plain", "ok", {}}; };
  Result<std::unique_ptr<HttpServer>> a = StartHttpServer({}, handler);
  Result<std::unique_ptr<HttpServer>> b = StartHttpServer({}, handler);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK((*a)->port() != (*b)->port());
  CHECK_FALSE((*a)->tls());
  HttpServerOptions taken;
  taken.listen_address = "127.0.0.1:" + std::to_string((*a)->port());
  Result<std::unique_ptr<HttpServer>> c = StartHttpServer(taken, handler);
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().code() == Status::Code::kUnavailable);
  CHECK(c.status().message() == "cannot listen on 127.0.0.1:" + std::to_string((*a)->port()) +
                                     ": Address already in use");
  Backend other("other");  // a socket of someone else's: the kernel says EADDRINUSE
  taken.listen_address = other.address();
  c = StartHttpServer(taken, handler);
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().code() == Status::Code::kUnavailable);
  CHECK(c.status().message().find(other.address()) != std::string::npos);

  // Stop closes the port at once; the other server goes on, and the port can be taken again.
  const int pa = (*a)->port(), pb = (*b)->port();
  REQUIRE(HttpGet(pb, "/"));
  (*b)->Stop();
  (*b)->Stop();  // idempotent
  CHECK(HttpGet(pa, "/")->body == "ok");
  CHECK_FALSE(HttpGet(pb, "/", std::chrono::milliseconds(500)));
  taken.listen_address = "127.0.0.1:" + std::to_string(pb);
  c = StartHttpServer(taken, handler);
  REQUIRE_MESSAGE(c.ok(), c.status().ToString());
  CHECK(HttpGet(pb, "/")->body == "ok");
  (*c)->Stop();
  (*a)->Stop();
  CHECK_FALSE(HttpGet(pa, "/", std::chrono::milliseconds(500)));

  HttpServerOptions bad;
  bad.listen_address = "[::1]:0";
  CHECK(StartHttpServer(bad, handler).status().code() == Status::Code::kInvalidArgument);
}

TEST_CASE("http server: TLS with a self-signed certificate, verified by curl --cacert") {
  TempDir dir;
  const std::string d = dir.path();
  const std::string make_cert =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout " + d +
      "/key.pem -out " + d + "/cert.pem -days 1 -subj /CN=127.0.0.1 " +
      "-addext subjectAltName=IP:127.0.0.1 >" + d + "/openssl.log 2>&1";
  REQUIRE_MESSAGE(std::system(make_cert.c_str()) == 0, ReadFile(d + "/openssl.log"));

  HttpServerOptions options;
  options.tls_cert_file = d + "/cert.pem";
  options.tls_key_file = d + "/key.pem";
  ApiServer s(options);
  REQUIRE(s.server->tls());
  const std::string url = "https://127.0.0.1:" + std::to_string(s.server->port());
  auto curl = [&](const std::string& args) {
    const std::string cmd = "curl -sS --max-time 10 -o " + d + "/body -w '%{http_code}' " + args + " >" + d +
                            "/code 2>" + d + "/err";
    const int rc = std::system(cmd.c_str());
    return std::make_pair(rc, ReadFile(d + "/code"));
  };
  auto [rc, code] = curl("--cacert " + d + "/cert.pem " + url + "/-/healthy");
  CHECK_MESSAGE(rc == 0, ReadFile(d + "/err"));
  CHECK(code == "200");
  CHECK(ReadFile(d + "/body").find("healthy") != std::string::npos);
  std::tie(rc, code) =
      curl("--cacert " + d + "/cert.pem -X PUT -H 'Authorization: Bearer " + std::string(kAdmin) +
           "' -H 'Content-Type: application/json' --data '{\"direction\": \"scale_up\", \"reason\": "
           "\"tls\"}' " +
           url + "/api/v1/pools/web/pause");
  CHECK(code == "200");
  CHECK(s.cp.Controls("web", kNow).pause.scale_up);
  // Without the certificate curl refuses the server; TLS below 1.2 is refused by the server.
  std::tie(rc, code) = curl(url + "/-/healthy");
  CHECK(rc != 0);
  // The client is told to allow TLS 1.1 (security level 0), so a refusal is the server's: its alert.
  const std::string port = std::to_string(s.server->port());
  auto s_client = [&](const std::string& version) {
    const std::string cmd = "openssl s_client -connect 127.0.0.1:" + port + " " + version +
                            " -cipher DEFAULT@SECLEVEL=0 </dev/null >" + d + "/s_client 2>&1";
    const int status = std::system(cmd.c_str());
    return std::make_pair(status, ReadFile(d + "/s_client"));
  };
  auto [rc11, out11] = s_client("-tls1_1");
  CHECK(rc11 != 0);
  CHECK_MESSAGE(out11.find("alert protocol version") != std::string::npos, out11);
  auto [rc12, out12] = s_client("-tls1_2");
  CHECK_MESSAGE(out12.find("New, TLSv1.2, Cipher is") != std::string::npos, out12);
  // Plain HTTP to the TLS port gets no HTTP answer.
  CHECK_FALSE(HttpGet(s.server->port(), "/-/healthy", std::chrono::milliseconds(1000)).has_value());

  // Bad files are start-up errors naming the file.
  HttpServerOptions bad = options;
  bad.tls_key_file = d + "/missing.pem";
  Result<std::unique_ptr<HttpServer>> r =
      StartHttpServer(bad, [](const HttpServerRequest&) { return HttpServerResponse{}; });
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find(d + "/missing.pem") != std::string::npos);
  bad = options;
  bad.tls_cert_file = d + "/key.pem";  // a key is not a certificate
  r = StartHttpServer(bad, [](const HttpServerRequest&) { return HttpServerResponse{}; });
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("cert_file") != std::string::npos);
  bad = options;
  bad.tls_key_file = "";
  CHECK_FALSE(StartHttpServer(bad, [](const HttpServerRequest&) { return HttpServerResponse{}; }).ok());
  // A FIFO (no writer) or a device is refused at once, not waited on or read forever.
  const std::string fifo = d + "/cert.fifo";
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  bad = options;
  bad.tls_cert_file = fifo;
  r = StartHttpServer(bad, [](const HttpServerRequest&) { return HttpServerResponse{}; });
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message() == "tls cert_file: " + fifo + ": not a regular file (a FIFO)");
  bad = options;
  bad.tls_key_file = "/dev/zero";
  r = StartHttpServer(bad, [](const HttpServerRequest&) { return HttpServerResponse{}; });
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message() == "tls key_file: /dev/zero: not a regular file (a character device)");
}
