// libFuzzer target: the REST API without a network, as the HTTP server hands it requests. The input's
// first line is "METHOD TARGET [TOKEN]" (TOKEN: admin, read or anything else), the rest is the body.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "controller/api/api.h"
#include "controller/api/control_plane.h"
#include "controller/http/server.h"
#include "warmpool/clock.h"

namespace {

using namespace warmpool;

constexpr TimeMs kNow = 1763702460000;
const char* kAdmin = "admin-token-0123456789abcdef";
const char* kRead = "read-token-0123456789abcdef";

struct World {
  ManualClock clock{kNow};
  ControlPlane cp;
  std::unique_ptr<Api> api;
  World() {
    PoolSpec web;
    web.name = "web";
    cp.SetPools({web});
    PoolStatus s;
    s.pool = "web";
    s.at = kNow;
    s.observed = true;
    s.min_active = 2;
    s.max_active = 10;
    s.max_total = 12;
    s.state.pool = "web";
    s.state.servers = {{"web-1", "10.0.0.1:8080", ServerState::kActive, Health::kHealthy, kNow - 60000}};
    cp.Publish(s);
    cp.on_change = [] { return Status::Ok(); };
    cp.on_reload = [] {};
    ApiTokens tokens;
    tokens.Add(ApiPrincipal{"alice", ApiRole::kAdmin}, kAdmin);
    tokens.Add(ApiPrincipal{"grafana", ApiRole::kRead}, kRead);
    api = std::make_unique<Api>(&cp, std::move(tokens), &clock, [] { return std::string("up 1\n"); });
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World* world = new World;  // one control plane across inputs, as in a running controller
  const std::string input(reinterpret_cast<const char*>(data), size);
  const size_t nl = input.find('\n');
  const std::string line = input.substr(0, nl);
  HttpServerRequest r;
  const size_t sp1 = line.find(' ');
  r.method = line.substr(0, sp1);
  const std::string rest = sp1 == std::string::npos ? "" : line.substr(sp1 + 1);
  const size_t sp2 = rest.find(' ');
  const std::string target = rest.substr(0, sp2), token = sp2 == std::string::npos ? "" : rest.substr(sp2 + 1);
  const size_t q = target.find('?');
  r.path = target.substr(0, q);
  if (q != std::string::npos) r.query = ParseQueryString(target.substr(q + 1));
  if (token == "admin") {
    r.headers["authorization"] = std::string("Bearer ") + kAdmin;
  } else if (token == "read") {
    r.headers["authorization"] = std::string("Bearer ") + kRead;
  } else if (!token.empty()) {
    r.headers["authorization"] = token;
  }
  if (nl != std::string::npos) r.body = input.substr(nl + 1);
  r.headers["content-type"] = "application/json";
  (void)world->api->Handle(r);
  return 0;
}
