// Unit tests for the HAProxy side of overload protection that needs no HAProxy: reading the clients'
// rates from `show table`, and the settings. tests/integration/shed_test.cc drives a real one.
#include "providers/haproxy/haproxy_shedder.h"

#include <doctest/doctest.h>

using namespace warmpool;

TEST_CASE("haproxy shedder: client rates from show table, in requests a second") {
  // HAProxy 2.6's dump of `stick-table type ip size 100k expire 30s store http_req_rate(10s),gpc0,gpc0_rate(1s)`.
  Result<std::vector<ClientRate>> r = haproxy::ParseClientRates(
      "# table: warmpool_clients, type: ip, size:102400, used:2\n"
      "0x55d5c0b0e0a8: key=127.0.0.1 use=0 exp=29986 shard=0 gpc0=120 gpc0_rate(1000)=12 http_req_rate(10000)=1200\n"
      "0x55d5c0b0e0b8: key=127.0.0.2 use=1 exp=29990 shard=0 gpc0=3 gpc0_rate(1000)=1 http_req_rate(10000)=35\n"
      "0x55d5c0b0e0c8: key=127.0.0.3 use=0 exp=29990 shard=0 gpc0=3\n\n");
  REQUIRE(r.ok());
  REQUIRE(r->size() == 2);
  CHECK((*r)[0].client == "127.0.0.1");
  CHECK((*r)[0].rate == doctest::Approx(120));
  CHECK((*r)[1].rate == doctest::Approx(3.5));
  CHECK(haproxy::ParseClientRates("# table: t, type: ip, size:10, used:0\n")->empty());
  CHECK(haproxy::ParseClientRates("Unknown table name.\n").status().message() ==
        "show table: not a table dump: \"Unknown table name.\"");
  CHECK_FALSE(haproxy::ParseClientRates("# table: t\n0x1: key=a http_req_rate(0)=3\n").ok());
  CHECK_FALSE(haproxy::ParseClientRates("# table: t\n0x1: key=a http_req_rate(1000)=x\n").ok());
}

TEST_CASE("haproxy shedder: settings are checked with their path") {
  std::vector<std::string> errors;
  Params p{"pools[0].overload.haproxy", "", {{"socket", "/s"}, {"rate_var", "txn.x"}, {"client_table", "a b"}}};
  CHECK(NewHAProxyShedder(p, &errors) == nullptr);
  REQUIRE(errors.size() == 2);
  CHECK(errors[0] ==
        "pools[0].overload.haproxy.rate_var: must be a process variable like proc.warmpool_rate_limit ([A-Za-z0-9._]), got \"txn.x\"");
  CHECK(errors[1] == "pools[0].overload.haproxy.client_table: must be a stick table's name, got \"a b\"");
  errors.clear();
  CHECK(NewHAProxyShedder(Params{"pools[0].overload.haproxy", "", {{"socket", "/s"}}}, &errors) != nullptr);
  CHECK(errors.empty());
}
