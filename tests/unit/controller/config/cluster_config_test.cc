// `cluster:` (controller/config/cluster.cc): defaults, every key, and what is refused, by path.
#include <doctest/doctest.h>

#include "tests/support/config_test_util.h"

using namespace warmpool;
using namespace warmpool::config_test;

namespace {

bool Has(const ConfigLoad& load, const std::string& error) {
  for (const std::string& e : load.errors) {
    if (e == error) return true;
  }
  return false;
}

bool Starts(const ConfigLoad& load, const std::string& prefix) {
  for (const std::string& e : load.errors) {
    if (e.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("config: cluster, its defaults and every key") {
  CHECK_FALSE(Parse(OnePool()).config.global.cluster.enabled);
  ConfigLoad load = Parse(OnePool({}, "global: {interval: 1s}\ncluster: {etcd: {endpoints: [http://127.0.0.1:2379]}}\n"));
  INFO(Joined(load.errors));
  REQUIRE(load.ok());
  ClusterSpec c = load.config.global.cluster;
  CHECK(c.enabled);
  CHECK(c.endpoints == std::vector<std::string>{"http://127.0.0.1:2379"});
  CHECK(c.prefix == "/warmpool");
  CHECK(c.lease_ttl == 10 * kSecond);
  CHECK(c.timeout == kSecond);
  CHECK(c.member.empty());  // the host name, filled in by run

  load = Parse(OnePool({}, "global: {interval: 2s}\n"
                           "cluster:\n  etcd: {endpoints: ['http://10.0.0.1:2379', 'https://etcd-2.internal:2379/'], "
                           "prefix: /prod/warmpool, timeout: 1s, tls: {insecure_skip_verify: true}}\n"
                           "  lease_ttl: 15s\n  member: web-ctl-1\n"));
  INFO(Joined(load.errors));
  REQUIRE(load.ok());
  c = load.config.global.cluster;
  CHECK(c.endpoints.size() == 2);
  CHECK(c.prefix == "/prod/warmpool");
  CHECK(c.timeout == kSecond);
  CHECK(c.tls_insecure_skip_verify);
  CHECK(c.lease_ttl == 15 * kSecond);
  CHECK(c.member == "web-ctl-1");
}

TEST_CASE("config: cluster, what is refused names its path") {
  ConfigLoad load = Parse(OnePool({}, "cluster: {lease_ttl: 1s, member: 'a b', colour: red}\n"));
  INFO(Joined(load.errors));
  CHECK(Has(load, "cluster.etcd: required: {endpoints: [http://127.0.0.1:2379]}"));
  CHECK(Has(load, "cluster.lease_ttl: must be from 2s to 5m, got \"1s\""));
  CHECK(Has(load, "cluster.member: must be 1 to 64 letters, digits, '.', '_' or '-', got \"a b\""));
  CHECK(Has(load, "cluster.colour: unknown key"));

  load = Parse(OnePool({}, "cluster: {etcd: {endpoints: [127.0.0.1:2379, 'http://u:p@h:1', 'http://h:2379/v3', "
                           "'http://h', [1]], prefix: warmpool, username: root, timeout: 20s}}\n"));
  INFO(Joined(load.errors));
  CHECK(Has(load, "cluster.etcd.endpoints[0]: must start with http:// or https://, got \"127.0.0.1:2379\""));
  CHECK(Has(load, "cluster.etcd.endpoints[1]: must not hold credentials (use username and password_file), got \"http://u:p@h:1\""));
  CHECK(Has(load, "cluster.etcd.endpoints[2]: must not have a path: etcd's API is at the root, got \"http://h:2379/v3\""));
  CHECK(Has(load, "cluster.etcd.endpoints[3]: must be scheme://host:port, got \"http://h\""));
  CHECK(Starts(load, "cluster.etcd.endpoints[4]: must be a URL, got "));
  CHECK(Has(load, "cluster.etcd.prefix: must start with / and not end with one, with no space, e.g. /warmpool, got \"warmpool\""));
  CHECK(Has(load, "cluster.etcd.username: needs password_file"));
  CHECK(Has(load, "cluster.etcd.timeout: times the 1 endpoint(s) must be at most a third of lease_ttl (10s): a renewal tries each in turn; got 20s"));

  load = Parse(OnePool({}, "cluster: {etcd: {endpoints: [], password_file: /nonexistent/secret}}\n"));
  INFO(Joined(load.errors));
  CHECK(Starts(load, "cluster.etcd.endpoints: must be a non-empty sequence of URLs"));
  CHECK(Starts(load, "cluster.etcd.password_file: /nonexistent/secret"));
  CHECK(Has(load, "cluster.etcd.password_file: needs username"));

  // What a cluster rules out elsewhere: a state file (the state is in etcd). The lease is renewed on its
  // own thread, so any tick interval goes with any lease.
  load = Parse(OnePool({}, "global: {interval: 30s}\nstate: {file: /tmp/warmpool.state}\n"
                           "cluster: {etcd: {endpoints: [http://127.0.0.1:2379]}}\n"));
  INFO(Joined(load.errors));
  REQUIRE(load.errors.size() == 1);
  CHECK(Has(load, "state.file: not used with cluster: the state is kept in etcd under cluster.etcd.prefix"));
}
