// Helpers for the REST API's unit tests: an Api over a real ControlPlane with published statuses, a
// Call() that records every status it observes per route, and docs/openapi.yaml loaded with yaml-cpp.
// A fixture checks, when it goes away, that every status its test observed is documented for that
// route and method: the document cannot fall behind the tests.
#ifndef WARMPOOL_TESTS_SUPPORT_API_TEST_UTIL_H_
#define WARMPOOL_TESTS_SUPPORT_API_TEST_UTIL_H_

#include <doctest/doctest.h>
#include <yaml-cpp/yaml.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "controller/api/api.h"
#include "controller/api/control_plane.h"
#include "controller/config/tokens_file.h"
#include "controller/http/server.h"
#include "controller/log/log.h"

namespace warmpool::api_test {

inline constexpr const char* kAdminToken = "admin-secret-0123456789";
inline constexpr const char* kReadToken = "read-secret-0123456789";
inline constexpr TimeMs kStart = 1763702460000;  // 2025-11-21T05:21:00Z

inline ApiTokens TestTokens() {
  Result<ApiTokens> t =
      ParseApiTokens(std::string("tokens:\n  - {name: alice, role: admin, token: ") + kAdminToken +
                         "}\n  - {name: grafana, role: read, token: " + kReadToken + "}\n",
                     "tokens.yaml");
  REQUIRE_MESSAGE(t.ok(), t.status().ToString());
  return *t;
}

// docs/openapi.yaml.
class OpenApi {
 public:
  static const OpenApi& Get() {
    static const OpenApi doc(WARMPOOL_SOURCE_DIR "/docs/openapi.yaml");
    return doc;
  }
  explicit OpenApi(const std::string& path) : root_(YAML::LoadFile(path)) {}

  static std::string Lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  }
  YAML::Node Operation(const std::string& method, const std::string& path) const {
    YAML::Node item = root_["paths"][path];
    if (!item.IsMap()) return YAML::Node();
    return item[Lower(method)];
  }
  bool Documents(const std::string& method, const std::string& path, int status) const {
    YAML::Node op = Operation(method, path);
    return op.IsMap() && op["responses"][std::to_string(status)].IsDefined();
  }
  // Every (METHOD, path) the document describes.
  std::set<std::pair<std::string, std::string>> Operations() const {
    std::set<std::pair<std::string, std::string>> out;
    for (const auto& path : root_["paths"]) {
      for (const auto& op : path.second) {
        std::string m = op.first.as<std::string>();
        if (m == "parameters" || m == "summary" || m == "description") continue;
        for (char& c : m) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        out.emplace(m, path.first.as<std::string>());
      }
    }
    return out;
  }
  // The property names of an operation's JSON request body ($ref resolved).
  std::set<std::string> BodyProperties(const std::string& method, const std::string& path) const {
    const YAML::Node schema =
        Resolve(Operation(method, path)["requestBody"]["content"]["application/json"]["schema"]);
    std::set<std::string> out;
    for (const auto& p : schema["properties"]) out.insert(p.first.as<std::string>());
    return out;
  }
  // Follows "$ref: '#/components/schemas/X'". Nodes are rebound with reset(): yaml-cpp's operator=
  // would write into the document.
  YAML::Node Resolve(const YAML::Node& in) const {
    YAML::Node node;
    node.reset(in);
    while (node.IsMap() && static_cast<const YAML::Node&>(node)["$ref"]) {
      const std::string ref = static_cast<const YAML::Node&>(node)["$ref"].as<std::string>();
      YAML::Node at;
      at.reset(root_);
      size_t start = 2;  // after "#/"
      while (true) {
        const size_t end = ref.find('/', start);
        const YAML::Node& here = at;
        YAML::Node next = here[ref.substr(start, end == std::string::npos ? std::string::npos : end - start)];
        at.reset(next);
        if (end == std::string::npos) break;
        start = end + 1;
      }
      node.reset(at);
    }
    return node;
  }
  const YAML::Node& root() const { return root_; }

 private:
  YAML::Node root_;
};

// A pool status as the loop would publish it after a tick.
inline PoolStatus WebStatus(TimeMs at) {
  PoolStatus s;
  s.pool = "web";
  s.at = at;
  s.observed = true;
  s.min_active = 2;
  s.max_active = 10;
  s.warm_standby = 2;
  s.max_total = 12;
  s.state.pool = "web";
  s.state.observed_at = at;
  s.state.servers = {{"web-1", "10.0.0.1:8080", ServerState::kActive, Health::kHealthy, at - 60000},
                     {"web-2", "10.0.0.2:8080", ServerState::kActive, Health::kHealthy, at - 60000},
                     {"web-3", "10.0.0.3:8080", ServerState::kStandby, Health::kHealthy, at - 30000},
                     {"web-4", "10.0.0.4:8080", ServerState::kProvisioning, Health::kUnknown, at - 5000},
                     {"web-5", "", ServerState::kCold, Health::kUnknown, 0}};
  s.decision.at = at;
  s.decision.current = 2;
  s.decision.desired = 3;
  s.decision.direction = Direction::kUp;
  s.decision.policy = "target_tracking";
  s.decision.reason = "rps 250.0 / 100.0 per server = 2.50 -> 3";
  s.decision.recommendations = {
      {"target_tracking", true, 3, true, "rps 250.0 / 100.0 per server = 2.50 -> 3"},
      {"queue", false, 0, true, "metric queue missing"}};
  s.plan.promote = {"web-3"};
  s.plan.provision = {"web-6"};
  s.plan.reason = "promote 1 standby, refill the warm pool";
  s.applied.actions = {{"promote", "web-3", Status::Ok()},
                       {"provision", "web-6", Status::Unavailable("no capacity")}};
  s.metric_errors = {"queue: no samples in the last 2m"};
  return s;
}

class ApiFixture {
 public:
  explicit ApiFixture(bool with_tokens = true) : clock(kStart) {
    REQUIRE(InitLogging("text", "off").ok());  // the refusals these tests provoke are logged
    PoolSpec web, api;
    web.name = "web";
    api.name = "api";
    cp.SetPools({web, api});
    cp.Publish(WebStatus(kStart));
    cp.on_reload = [this] { ++reloads; };
    api_ = std::make_unique<Api>(&cp, with_tokens ? TestTokens() : ApiTokens(), &clock,
                                 [this] { return metrics_text; });
  }
  ~ApiFixture() {
    const OpenApi& doc = OpenApi::Get();
    for (const auto& seen : observed) {  // not a structured binding: clang 14 cannot capture one
      const auto& [method, route, status] = seen;
      const bool documented = doc.Documents(method, route, status);
      CHECK_MESSAGE(documented, std::get<0>(seen) << " " << std::get<1>(seen) << " answered " << std::get<2>(seen)
                                                  << " but docs/openapi.yaml does not say so");
    }
  }

  // `target` is a path with an optional query: "/api/v1/events?limit=5".
  HttpServerResponse Call(const std::string& method, const std::string& target, const std::string& body = "",
                          const std::string& token = "") {
    HttpServerRequest r;
    r.method = method;
    const size_t q = target.find('?');
    r.path = target.substr(0, q);  // as the server hands it over: not decoded
    if (q != std::string::npos) r.query = ParseQueryString(target.substr(q + 1));
    if (!token.empty()) r.headers["authorization"] = "Bearer " + token;
    if (!body.empty()) r.headers["content-type"] = "application/json";
    r.body = body;
    HttpServerResponse out = api_->Handle(r);
    if (const std::string route = Api::MatchRoute(r.path); !route.empty() && out.status != 405) {
      observed.emplace_back(method, route, out.status);
    }
    return out;
  }
  HttpServerResponse Admin(const std::string& method, const std::string& target,
                           const std::string& body = "") {
    return Call(method, target, body, kAdminToken);
  }
  HttpServerResponse Reader(const std::string& method, const std::string& target) {
    return Call(method, target, "", kReadToken);
  }

  ManualClock clock;
  ControlPlane cp;
  std::string metrics_text = "warmpool_up 1\n";
  int reloads = 0;
  std::vector<std::tuple<std::string, std::string, int>> observed;

 private:
  std::unique_ptr<Api> api_;
};

inline nlohmann::json Body(const HttpServerResponse& r) {
  nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
  CHECK_MESSAGE(!j.is_discarded(), "not JSON: " << r.body);
  return j;
}

inline std::string Header(const HttpServerResponse& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (OpenApi::Lower(k) == OpenApi::Lower(name)) return v;
  }
  return "";
}

}  // namespace warmpool::api_test

#endif  // WARMPOOL_TESTS_SUPPORT_API_TEST_UTIL_H_
