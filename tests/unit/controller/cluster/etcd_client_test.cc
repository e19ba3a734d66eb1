// Unit tests of the etcd client (controller/cluster/etcd.h, etcd_json.h) without a network: the JSON
// gateway's answers as a real etcd 3.4.23 gave them (recorded verbatim), the error mapping, the
// config check, and failover over scripted endpoints.
#include <doctest/doctest.h>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "controller/cluster/etcd.h"
#include "controller/cluster/etcd_json.h"
#include "tests/unit/controller/cluster/fake_etcd.h"

using namespace warmpool;
using namespace warmpool::etcd_json;

namespace {

constexpr const char* kEp = "http://127.0.0.1:2379";

// Recorded from etcd 3.4.23's gateway.
constexpr const char* kRangeTwo =
    R"({"header":{"cluster_id":"324952591200643719","member_id":"3319814642761637952","revision":"3","raft_term":"2"},)"
    R"("kvs":[{"key":"L3dwL2E=","create_revision":"2","mod_revision":"2","version":"1","value":"aGVsbG8="},)"
    R"({"key":"L3dwL2I=","create_revision":"3","mod_revision":"3","version":"1","value":"aGk=","lease":"2324035804695984653"}],"count":"2"})";
constexpr const char* kRangeEmpty =
    R"({"header":{"cluster_id":"324952591200643719","member_id":"3319814642761637952","revision":"2","raft_term":"2"}})";
constexpr const char* kTxnFailed =
    R"({"header":{"cluster_id":"324952591200643719","member_id":"3319814642761637952","revision":"2","raft_term":"2"},)"
    R"("responses":[{"response_range":{"header":{"revision":"2"},"kvs":[{"key":"L3dwL2E=","create_revision":"2",)"
    R"("mod_revision":"2","version":"1","value":"aGVsbG8="}],"count":"1"}}]})";
constexpr const char* kTxnSucceeded =
    R"({"header":{"cluster_id":"324952591200643719","member_id":"3319814642761637952","revision":"3","raft_term":"2"},)"
    R"("succeeded":true,"responses":[{"response_put":{"header":{"revision":"3"}}}]})";
constexpr const char* kGrant =
    R"({"header":{"cluster_id":"324952591200643719","member_id":"3319814642761637952","revision":"1","raft_term":"2"},)"
    R"("ID":"2324035804695984645","TTL":"5"})";
constexpr const char* kKeepAlive =
    R"({"result":{"header":{"cluster_id":"324952591200643719","member_id":"3319814642761637952","revision":"2",)"
    R"("raft_term":"2"},"ID":"2324035804695984653","TTL":"5"}})"
    "\n";
constexpr const char* kKeepAliveExpired =
    R"({"result":{"header":{"cluster_id":"324952591200643719","member_id":"3319814642761637952","revision":"2",)"
    R"("raft_term":"2"},"ID":"123"}})";
constexpr const char* kCompacted =
    R"({"error":"etcdserver: mvcc: required revision has been compacted","message":"etcdserver: mvcc: required revision has been compacted","code":11})";
constexpr const char* kLeaseNotFound =
    R"({"error":"etcdserver: requested lease not found","message":"etcdserver: requested lease not found","code":5})";
constexpr const char* kBadPassword =
    R"({"error":"etcdserver: authentication failed, invalid user ID or password","message":"etcdserver: authentication failed, invalid user ID or password","code":3})";
constexpr const char* kBadToken =
    R"({"error":"etcdserver: invalid auth token","message":"etcdserver: invalid auth token","code":16})";
constexpr const char* kDenied =
    R"({"error":"etcdserver: permission denied","message":"etcdserver: permission denied","code":7})";
constexpr const char* kStatus =
    R"({"header":{"cluster_id":"324952591200643719","member_id":"3319814642761637952","revision":"2","raft_term":"2"},)"
    R"("version":"3.4.23","dbSize":"20480","leader":"3319814642761637952","raftIndex":"8","raftTerm":"2",)"
    R"("raftAppliedIndex":"8","dbSizeInUse":"16384"})";

// An HttpClient that answers with a function and records what it was asked.
class Scripted final : public HttpClient {
 public:
  using Fn = std::function<Result<HttpResponse>(const HttpRequest&)>;
  Scripted(Fn fn, std::vector<HttpRequest>* log) : fn_(std::move(fn)), log_(log) {}
  Result<HttpResponse> Do(const HttpRequest& r) override {
    if (log_) log_->push_back(r);
    return fn_(r);
  }

 private:
  Fn fn_;
  std::vector<HttpRequest>* log_;
};

EtcdConfig Config(std::vector<std::string> endpoints) {
  EtcdConfig c;
  c.endpoints = std::move(endpoints);
  return c;
}

}  // namespace

TEST_CASE("etcd json: range, txn, lease and status answers as etcd 3.4 writes them") {
  Result<EtcdRange> range = ParseRange(kRangeTwo, kEp);
  REQUIRE(range.ok());
  CHECK(range->revision == 3);
  REQUIRE(range->kvs.size() == 2);
  CHECK(range->kvs[0].key == "/wp/a");
  CHECK(range->kvs[0].value == "hello");
  CHECK(range->kvs[0].lease == 0);                      // left out when zero
  CHECK(range->kvs[1].lease == 2324035804695984653LL);  // past 2^53: a string, exact
  CHECK(range->kvs[1].create_revision == 3);
  Result<EtcdRange> empty = ParseRange(kRangeEmpty, kEp);
  REQUIRE(empty.ok());
  CHECK(empty->kvs.empty());  // no "kvs" at all

  Result<EtcdTxnResult> failed = ParseTxn(kTxnFailed, kEp);
  REQUIRE(failed.ok());
  CHECK_FALSE(failed->succeeded);  // no "succeeded" when false
  REQUIRE(failed->current.has_value());
  CHECK(failed->current->value == "hello");
  CHECK(failed->current->mod_revision == 2);
  Result<EtcdTxnResult> ok = ParseTxn(kTxnSucceeded, kEp);
  REQUIRE(ok.ok());
  CHECK(ok->succeeded);
  CHECK(ok->revision == 3);

  // A guarded write whose guard key is gone (its lease revoked): the key, then no guard.
  Result<EtcdTxnResult> guarded = ParseTxn(
      R"({"header":{"cluster_id":"15118495548433857066","member_id":"13668033151171901709","revision":"4",)"
      R"("raft_term":"2"},"responses":[{"response_range":{"header":{"revision":"4"},"kvs":[{"key":"L3Mvd2Vi",)"
      R"("create_revision":"3","mod_revision":"3","version":"1","value":"c3RhdGU="}],"count":"1"}},)"
      R"({"response_range":{"header":{"revision":"4"}}}]})",
      kEp);
  REQUIRE(guarded.ok());
  CHECK_FALSE(guarded->succeeded);
  CHECK(guarded->current->key == "/s/web");
  CHECK_FALSE(guarded->guard.has_value());
  CHECK(TxnBody("/s", "MOD", 3, true, "v", 0, "/o", 9)
            .find(R"({"key":"L28=","lease":"9","result":"EQUAL","target":"LEASE"})") != std::string::npos);

  Result<EtcdLease> lease = ParseLeaseGrant(kGrant, kEp);
  REQUIRE(lease.ok());
  CHECK(lease->id == 2324035804695984645LL);
  CHECK(lease->ttl_seconds == 5);
  Result<int64_t> ttl = ParseKeepAlive(kKeepAlive, kEp);
  REQUIRE(ttl.ok());
  CHECK(*ttl == 5);
  Result<int64_t> expired = ParseKeepAlive(kKeepAliveExpired, kEp);
  CHECK(expired.status().code() == Status::Code::kNotFound);  // not an error from etcd: TTL left out

  Result<EtcdEndpointStatus> status = ParseStatus(kStatus, kEp);
  REQUIRE(status.ok());
  CHECK(status->is_leader());
  CHECK(status->version == "3.4.23");

  CHECK(ParseRange("<html>bad gateway</html>", kEp).status().code() == Status::Code::kInternal);
  CHECK(ParseRange(R"({"header":{"revision":"x"}})", kEp).status().code() == Status::Code::kInternal);
  CHECK(ParseRange(R"({"header":{"revision":"1"},"kvs":[{"key":"not base64!"}]})", kEp).status().code() ==
        Status::Code::kInternal);
}

TEST_CASE("etcd json: errors keep etcd's message and map its gRPC code") {
  Status compacted = ErrorStatus(400, kCompacted, kEp);
  CHECK(compacted.code() == Status::Code::kFailedPrecondition);
  CHECK(compacted.message() ==
        "etcd http://127.0.0.1:2379: etcdserver: mvcc: required revision has been compacted");
  CHECK(ErrorStatus(404, kLeaseNotFound, kEp).code() == Status::Code::kNotFound);
  CHECK(ErrorStatus(400, kBadPassword, kEp).code() == Status::Code::kInvalidArgument);
  CHECK(ErrorStatus(401, kBadToken, kEp).code() == Status::Code::kFailedPrecondition);
  CHECK(ErrorStatus(403, kDenied, kEp).message().find("permission denied") != std::string::npos);
  CHECK(ErrorCode(kBadToken) == 16);
  // An error inside the keep-alive stream (HTTP 200).
  Result<int64_t> stream = ParseKeepAlive(
      R"({"error":{"grpc_code":14,"http_code":503,"message":"etcdserver: no leader","http_status":"Service Unavailable"}})",
      kEp);
  CHECK(stream.status().code() == Status::Code::kUnavailable);
  CHECK(stream.status().message().find("etcdserver: no leader") != std::string::npos);
  // Which answers send the client on to the next endpoint.
  CHECK(EndpointUnavailable(503, R"({"error":"etcdserver: no leader","code":14})"));
  CHECK(EndpointUnavailable(502, "<html>bad gateway</html>"));
  CHECK(EndpointUnavailable(429, R"({"error":"etcdserver: too many requests","code":8})"));
  CHECK_FALSE(EndpointUnavailable(404, kLeaseNotFound));
  CHECK_FALSE(EndpointUnavailable(400, kCompacted));
  // A body without etcd's shape still names the HTTP status.
  CHECK(ErrorStatus(418, "teapot", kEp).message() == "etcd http://127.0.0.1:2379: HTTP 418: teapot");
}

TEST_CASE("etcd json: base64 and the end of a prefix's range") {
  CHECK(DecodeBase64("L3dwL2E=").value() == "/wp/a");
  CHECK(DecodeBase64("aGk=").value() == "hi");
  CHECK(DecodeBase64("").value().empty());
  CHECK_FALSE(DecodeBase64("aGk").has_value());
  CHECK_FALSE(DecodeBase64("a=Gk").has_value());
  CHECK_FALSE(DecodeBase64("a*Gk").has_value());
  const std::string bytes("\x00\xff\x10 binary", 10);
  CHECK(DecodeBase64(Base64(bytes)).value() == bytes);
  CHECK(PrefixEnd("/warmpool/owners/") == "/warmpool/owners0");
  CHECK(PrefixEnd(std::string("a\xff", 2)) == "b");
  CHECK(PrefixEnd(std::string("\xff", 1)) == std::string(1, '\0'));
  // Request bodies: int64s as strings, the compare's field named after its target.
  CHECK(LeaseIdBody(2324035804695984653LL) == R"({"ID":"2324035804695984653"})");
  const std::string txn = TxnBody("/k", "CREATE", 0, true, "v", 7);
  CHECK(txn.find(R"("create_revision":"0")") != std::string::npos);
  CHECK(txn.find(R"("request_put":{"key":"L2s=","lease":"7","value":"dg=="})") != std::string::npos);
  CHECK(TxnBody("/k", "MOD", 5, false, "", 0).find(R"("request_delete_range":{"key":"L2s="})") !=
        std::string::npos);
}

TEST_CASE("etcd config: every error names its field") {
  EtcdConfig c = Config({"127.0.0.1:2379", "http://user:pw@etcd:2379", "http://a:1", "http://a:1"});
  c.prefix = "warmpool/";
  c.password = "x";
  Status s = CheckEtcdConfig(c);
  REQUIRE_FALSE(s.ok());
  const std::string& m = s.message();
  CHECK(m.find("etcd.endpoints[0]: must start with http:// or https://, got \"127.0.0.1:2379\"") !=
        std::string::npos);
  CHECK(m.find("etcd.endpoints[1]: must not carry credentials") != std::string::npos);
  CHECK(m.find("etcd.endpoints[3]: \"http://a:1\" is listed twice") != std::string::npos);
  CHECK(m.find("etcd.prefix: must start with '/'") != std::string::npos);
  CHECK(m.find("etcd.username: required with a password") != std::string::npos);
  CHECK(CheckEtcdConfig(Config({})).message() == "etcd.endpoints: at least one is required");
  EtcdConfig f = Config({"http://a:1"});
  f.username = "warmpool";
  f.password_file = "/nonexistent/etcd-password";
  CHECK(CheckEtcdConfig(f).message() ==
        "etcd.password_file: cannot read \"/nonexistent/etcd-password\": No such file or directory");
  CHECK(CheckEtcdConfig(Config({"http://127.0.0.1:2379", "https://[::1]:2379"})).ok());
}

TEST_CASE("etcd client: a dead endpoint is skipped, the next one stays in use, every one tried is named") {
  ManualClock clock(1000000);
  testing::FakeEtcd etcd(&clock);
  bool down[3] = {true, false, false};
  int lose[3] = {0, 0, 0};
  const std::vector<std::string> urls = {"http://127.0.0.1:1", "http://127.0.0.1:2", "http://127.0.0.1:3"};
  std::vector<std::unique_ptr<HttpClient>> clients;
  for (int i = 0; i < 3; ++i)
    clients.push_back(std::make_unique<testing::FakeEtcdEndpoint>(&etcd, urls[i], &down[i], &lose[i]));
  auto client = EtcdClient::CreateWithClients(Config(urls), std::move(clients));
  REQUIRE(client.ok());
  EtcdClient& c = **client;
  REQUIRE(c.Put("/warmpool/x", "1").ok());
  CHECK(c.endpoint_in_use() == "http://127.0.0.1:2");
  down[0] = false;
  REQUIRE(c.Range("/warmpool/x").ok());
  CHECK(c.endpoint_in_use() == "http://127.0.0.1:2");  // the one that answered last goes first
  down[1] = true;
  REQUIRE(c.Range("/warmpool/x").ok());
  CHECK(c.endpoint_in_use() == "http://127.0.0.1:3");
  down[0] = down[2] = true;
  Result<EtcdRange> none = c.Range("/warmpool/x");
  CHECK(none.status().code() == Status::Code::kUnavailable);
  CHECK(none.status().message() ==
        "etcd: no endpoint answered: http://127.0.0.1:3 (connection refused), http://127.0.0.1:1 (connection "
        "refused), http://127.0.0.1:2 (connection refused)");
  // etcd's own error is not retried elsewhere.
  down[0] = down[1] = down[2] = false;
  const size_t before = etcd.requests.size();
  Status revoke = c.LeaseRevoke(12345);
  CHECK(revoke.code() == Status::Code::kNotFound);
  CHECK(revoke.message() == "etcd http://127.0.0.1:3: etcdserver: requested lease not found");
  CHECK(etcd.requests.size() == before + 1);
}

TEST_CASE(
    "etcd client: an answer that says no leader moves on, and the lost answer of a create is recognised") {
  std::vector<HttpRequest> log;
  std::vector<std::unique_ptr<HttpClient>> clients;
  clients.push_back(std::make_unique<Scripted>(
      [](const HttpRequest&) -> Result<HttpResponse> {
        return HttpResponse{
            503, R"({"error":"etcdserver: no leader","message":"etcdserver: no leader","code":14})", ""};
      },
      &log));
  clients.push_back(std::make_unique<Scripted>(
      [](const HttpRequest&) -> Result<HttpResponse> {
        return HttpResponse{200, kRangeEmpty, ""};
      },
      &log));
  auto client = EtcdClient::CreateWithClients(Config({"http://a:1", "http://b:2"}), std::move(clients));
  REQUIRE(client.ok());
  CHECK((*client)->Range("/k").ok());
  CHECK(log.size() == 2);
  CHECK((*client)->endpoint_in_use() == "http://b:2");

  // A create whose answer was lost: the next endpoint sees the key, bound to the caller's lease.
  ManualClock clock(0);
  testing::FakeEtcd etcd(&clock);
  bool down[2] = {false, false};
  int lose[2] = {1, 0};
  std::vector<std::unique_ptr<HttpClient>> fakes;
  fakes.push_back(std::make_unique<testing::FakeEtcdEndpoint>(&etcd, "http://a:1", &down[0], &lose[0]));
  fakes.push_back(std::make_unique<testing::FakeEtcdEndpoint>(&etcd, "http://b:2", &down[1], &lose[1]));
  auto c = EtcdClient::CreateWithClients(Config({"http://a:1", "http://b:2"}), std::move(fakes));
  REQUIRE(c.ok());
  lose[0] = 0;
  Result<EtcdLease> lease = (*c)->LeaseGrant(10 * kSecond);
  REQUIRE(lease.ok());
  lose[0] = 1;
  Result<EtcdTxnResult> created = (*c)->CreateIfAbsent("/k", "me", lease->id);
  REQUIRE(created.ok());
  CHECK_FALSE(created->succeeded);  // the retry found the first attempt's key
  REQUIRE(created->current.has_value());
  CHECK(created->current->lease == lease->id);
}

TEST_CASE("etcd client: authenticates per endpoint and again when etcd forgets the token") {
  std::vector<HttpRequest> log;
  int authentications = 0;
  bool token_valid = false;
  std::vector<std::unique_ptr<HttpClient>> clients;
  clients.push_back(std::make_unique<Scripted>(
      [&](const HttpRequest& r) -> Result<HttpResponse> {
        if (r.path_and_query == "/v3/auth/authenticate") {
          ++authentications;
          token_valid = true;
          if (r.body.find("\"password\":\"s3cret\"") == std::string::npos)
            return HttpResponse{400, kBadPassword, ""};
          return HttpResponse{200,
                              R"({"header":{"revision":"4"},"token":"xUXrLhaXrsFijXMt.)" +
                                  std::to_string(authentications) + R"("})",
                              ""};
        }
        std::string auth;
        for (const auto& h : r.headers) {
          if (h.first == "Authorization") auth = h.second;
        }
        if (!token_valid || auth != "xUXrLhaXrsFijXMt." + std::to_string(authentications)) {
          return HttpResponse{401, kBadToken, ""};
        }
        return HttpResponse{200, kRangeEmpty, ""};
      },
      &log));
  EtcdConfig config = Config({"http://a:1"});
  config.username = "warmpool";
  config.password = "s3cret";
  auto client = EtcdClient::CreateWithClients(config, std::move(clients));
  REQUIRE(client.ok());
  REQUIRE((*client)->Range("/k").ok());
  CHECK(authentications == 1);
  REQUIRE((*client)->Range("/k").ok());
  CHECK(authentications == 1);  // the token is kept
  token_valid = false;          // the token expired (--auth-token-ttl)
  REQUIRE((*client)->Range("/k").ok());
  CHECK(authentications == 2);

  std::vector<std::unique_ptr<HttpClient>> wrong;
  wrong.push_back(std::make_unique<Scripted>(
      [](const HttpRequest&) -> Result<HttpResponse> {
        return HttpResponse{400, kBadPassword, ""};
      },
      nullptr));
  config.password = "wrong";
  auto bad = EtcdClient::CreateWithClients(config, std::move(wrong));
  REQUIRE(bad.ok());
  Status s = (*bad)->Range("/k").status();
  CHECK(s.code() == Status::Code::kInvalidArgument);
  CHECK(s.message() == "etcd http://a:1: etcdserver: authentication failed, invalid user ID or password");
}

TEST_CASE("etcd client: a username before auth is enabled works, and authenticates once auth is on") {
  int authentications = 0;
  bool enabled = false;
  std::vector<std::unique_ptr<HttpClient>> clients;
  clients.push_back(std::make_unique<Scripted>(
      [&](const HttpRequest& r) -> Result<HttpResponse> {
        if (r.path_and_query == "/v3/auth/authenticate") {
          ++authentications;
          if (!enabled) {
            return HttpResponse{400, R"({"error":"etcdserver: authentication is not enabled","code":9})", ""};
          }
          return HttpResponse{200, R"({"header":{"revision":"4"},"token":"t.1"})", ""};
        }
        const bool has_token = std::any_of(r.headers.begin(), r.headers.end(),
                                           [](const auto& h) { return h.first == "Authorization"; });
        if (enabled && !has_token) {
          return HttpResponse{400, R"({"error":"etcdserver: user name is empty","code":3})", ""};
        }
        return HttpResponse{200, kRangeEmpty, ""};
      },
      nullptr));
  EtcdConfig config = Config({"http://a:1"});
  config.username = "warmpool";
  config.password = "s3cret";
  auto client = EtcdClient::CreateWithClients(config, std::move(clients));
  REQUIRE(client.ok());
  REQUIRE((*client)->Range("/k").ok());
  REQUIRE((*client)->Range("/k").ok());
  CHECK(authentications == 1);  // asked once, then no more
  enabled = true;               // etcdctl auth enable
  REQUIRE((*client)->Range("/k").ok());
  CHECK(authentications == 2);
}

TEST_CASE("etcd client: a kept-alive connection found closed is retried once on the same endpoint") {
  std::vector<HttpRequest> log;
  int calls = 0;
  std::vector<std::unique_ptr<HttpClient>> clients;
  clients.push_back(std::make_unique<Scripted>(
      [&](const HttpRequest&) -> Result<HttpResponse> {
        if (++calls == 1)
          return Status::Unavailable("POST http://a:1/v3/kv/range: read: malformed response (end of stream)");
        return HttpResponse{200, kRangeEmpty, ""};
      },
      &log));
  clients.push_back(std::make_unique<Scripted>(
      [](const HttpRequest&) -> Result<HttpResponse> { return Status::Internal("never asked"); }, &log));
  auto client = EtcdClient::CreateWithClients(Config({"http://a:1", "http://b:2"}), std::move(clients));
  REQUIRE(client.ok());
  REQUIRE((*client)->Range("/k").ok());
  CHECK(log.size() == 2);
  CHECK((*client)->endpoint_in_use() == "http://a:1");
  // Timeouts are named as the HTTP client says them, after the endpoint.
  std::vector<std::unique_ptr<HttpClient>> slow;
  slow.push_back(std::make_unique<Scripted>(
      [](const HttpRequest&) -> Result<HttpResponse> {
        return Status::DeadlineExceeded("POST http://c:3/v3/lease/keepalive: could not connect within 500ms");
      },
      nullptr));
  auto timed_out = EtcdClient::CreateWithClients(Config({"http://c:3"}), std::move(slow));
  REQUIRE(timed_out.ok());
  Status s = (*timed_out)->LeaseKeepAlive(1).status();
  CHECK(s.code() == Status::Code::kUnavailable);
  CHECK(s.message() == "etcd: no endpoint answered: http://c:3 (could not connect within 500ms)");
}
