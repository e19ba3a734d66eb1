// docs/openapi.yaml against the implementation: the same routes and methods, the same access rules,
// the same request-body fields and query parameters. (Every status code a test observes is checked
// by ApiFixture in api_test_util.h as each test ends.)
#include <doctest/doctest.h>

#include "tests/support/api_test_util.h"

using namespace warmpool;
using namespace warmpool::api_test;

namespace {

std::set<std::string> ToSet(const std::vector<std::string>& v) { return {v.begin(), v.end()}; }

std::string Join(const std::set<std::string>& s) {
  std::string out;
  for (const std::string& x : s) out += (out.empty() ? "" : ", ") + x;
  return out;
}

}  // namespace

TEST_CASE("openapi: every route and method the Api serves is documented, and nothing else") {
  const OpenApi& doc = OpenApi::Get();
  CHECK(doc.root()["openapi"].as<std::string>().rfind("3.0", 0) == 0);
  std::set<std::pair<std::string, std::string>> served;
  for (const ApiRoute& r : Api::Routes()) served.emplace(r.method, r.path);
  const auto documented = doc.Operations();
  for (const auto& op : served) {  // not structured bindings: clang 14 cannot capture them
    CHECK_MESSAGE(documented.count(op), op.first << " " << op.second << " is served but not documented");
  }
  for (const auto& op : documented) {
    CHECK_MESSAGE(served.count(op), op.first << " " << op.second << " is documented but not served");
  }
  CHECK(served.size() == 17);
}

TEST_CASE("openapi: the routes documented without security are exactly the open ones") {
  const OpenApi& doc = OpenApi::Get();
  CHECK(doc.root()["components"]["securitySchemes"]["bearer"]["scheme"].as<std::string>() == "bearer");
  for (const ApiRoute& r : Api::Routes()) {
    CAPTURE(r.method + " " + r.path);
    const YAML::Node op = doc.Operation(r.method, r.path);
    const bool documented_open = op["security"].IsDefined() && op["security"].size() == 0;
    CHECK(documented_open == (r.access == ApiAccess::kOpen));
    // Every call that needs a token documents 401; every admin call documents 403 too.
    CHECK(doc.Documents(r.method, r.path, 200));
    if (r.access != ApiAccess::kOpen) CHECK(doc.Documents(r.method, r.path, 401));
    if (r.access == ApiAccess::kAdmin) CHECK(doc.Documents(r.method, r.path, 403));
  }
}

TEST_CASE(
    "openapi: the request bodies of PUT override and PUT pause have exactly the fields the Api accepts") {
  const OpenApi& doc = OpenApi::Get();
  const auto override_doc = doc.BodyProperties("PUT", "/api/v1/pools/{pool}/override");
  CHECK_MESSAGE(override_doc == ToSet(Api::OverrideFields()), "documented: " << Join(override_doc));
  const auto pause_doc = doc.BodyProperties("PUT", "/api/v1/pools/{pool}/pause");
  CHECK_MESSAGE(pause_doc == ToSet(Api::PauseFields()), "documented: " << Join(pause_doc));
  CHECK(override_doc == std::set<std::string>{"active", "min_active", "max_active", "ttl", "reason"});
  CHECK(pause_doc == std::set<std::string>{"direction", "reason"});
  const auto shed_doc = doc.BodyProperties("PUT", "/api/v1/pools/{pool}/shed");
  CHECK_MESSAGE(shed_doc == ToSet(Api::ShedFields()), "documented: " << Join(shed_doc));
  const auto protect_doc = doc.BodyProperties("PUT", "/api/v1/pools/{pool}/servers/{server}/protect");
  CHECK_MESSAGE(protect_doc == ToSet(Api::ProtectFields()), "documented: " << Join(protect_doc));
  const auto replace_doc = doc.BodyProperties("POST", "/api/v1/pools/{pool}/servers/{server}/replace");
  CHECK_MESSAGE(replace_doc == ToSet(Api::ReplaceFields()), "documented: " << Join(replace_doc));
  // The Direction enum is the values ParseDirection accepts.
  const YAML::Node direction =
      doc.Resolve(doc.root()["components"]["schemas"]["PauseRequest"]["properties"]["direction"]);
  std::set<std::string> values;
  for (const auto& v : direction["enum"]) values.insert(v.as<std::string>());
  CHECK(values == std::set<std::string>{"scale_up", "scale_down", "both"});
}

TEST_CASE("openapi: the query parameters documented per route are the ones the Api accepts") {
  const OpenApi& doc = OpenApi::Get();
  for (const ApiRoute& r : Api::Routes()) {
    if (r.access == ApiAccess::kOpen) continue;  // probes ignore their query
    CAPTURE(r.method + " " + r.path);
    std::set<std::string> documented;
    for (const YAML::Node& list :
         {doc.root()["paths"][r.path]["parameters"], doc.Operation(r.method, r.path)["parameters"]}) {
      for (const auto& p : list) {
        const YAML::Node param = doc.Resolve(p);
        if (param["in"].as<std::string>() == "query") documented.insert(param["name"].as<std::string>());
      }
    }
    CHECK(documented == ToSet(r.query));
    if (!r.query.empty()) CHECK(doc.Documents(r.method, r.path, 400));
  }
}
