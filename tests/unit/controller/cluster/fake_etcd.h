// A small in-memory etcd behind the HttpClient interface, for the cluster room's unit tests: it
// speaks the v3 JSON gateway's shapes as a real etcd 3.4 does (base64 keys and values, int64s as
// strings, zero values left out, keep-alive answers wrapped in "result", errors with gRPC codes) for
// the calls EtcdClient makes, with leases that expire on a ManualClock. Each endpoint is its own
// HttpClient over the same store and can be taken down, or made to lose the answer of a request it
// applied. The real etcd is in tests/integration/cluster_test.cc.
#ifndef WARMPOOL_TESTS_UNIT_CONTROLLER_CLUSTER_FAKE_ETCD_H_
#define WARMPOOL_TESTS_UNIT_CONTROLLER_CLUSTER_FAKE_ETCD_H_

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "controller/http/client.h"
#include "warmpool/clock.h"

namespace warmpool::testing {

inline std::string B64Decode(const std::string& s) {
  static const std::string kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned v = 0;
  int bits = 0;
  for (char c : s) {
    if (c == '=') break;
    v = (v << 6) | static_cast<unsigned>(kAlphabet.find(c));
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((v >> bits) & 0xff);
    }
  }
  return out;
}

class FakeEtcd {
 public:
  explicit FakeEtcd(const ManualClock* clock) : clock_(clock) {}

  struct Kv {
    std::string value;
    int64_t create = 0, mod = 0, version = 0, lease = 0;
  };
  std::map<std::string, Kv> kvs;
  int64_t revision = 1;
  struct Lease {
    int64_t ttl = 0;
    TimeMs expires = 0;
  };
  std::map<int64_t, Lease> leases;
  int64_t next_lease = 7587000000000000001LL;  // past 2^53, as etcd's are
  std::vector<std::string> requests;           // "endpoint path", every request that reached the store

  HttpResponse Handle(const std::string& endpoint, const HttpRequest& request) {
    Expire();
    requests.push_back(endpoint + " " + request.path_and_query);
    using nlohmann::json;
    json in = json::parse(request.body, nullptr, false);
    const std::string& p = request.path_and_query;
    if (p == "/v3/lease/grant") {
      const int64_t ttl = std::max<int64_t>(2, std::stoll(in.value("TTL", "0")));
      const int64_t id = next_lease++;
      leases[id] = {ttl, clock_->Now() + ttl * kSecond};
      return Ok({{"ID", std::to_string(id)}, {"TTL", std::to_string(ttl)}});
    }
    if (p == "/v3/lease/keepalive") {
      const int64_t id = std::stoll(in.value("ID", "0"));
      auto it = leases.find(id);
      json result = {{"header", Header()}, {"ID", std::to_string(id)}};
      if (it != leases.end()) {
        it->second.expires = clock_->Now() + it->second.ttl * kSecond;
        result["TTL"] = std::to_string(it->second.ttl);
      }
      return {200, json{{"result", result}}.dump() + "\n", "application/json"};
    }
    if (p == "/v3/lease/revoke") {
      const int64_t id = std::stoll(in.value("ID", "0"));
      if (!leases.count(id)) return Error(404, 5, "etcdserver: requested lease not found");
      Drop(id);
      return Ok({});
    }
    if (p == "/v3/kv/range") return Range(in);
    if (p == "/v3/kv/put") {
      const int64_t lease = std::stoll(in.value("lease", "0"));
      if (lease != 0 && !leases.count(lease)) return Error(404, 5, "etcdserver: requested lease not found");
      Put(B64Decode(in["key"]), B64Decode(in.value("value", "")), lease);
      return Ok({});
    }
    if (p == "/v3/kv/txn") {
      bool holds = true;
      for (const json& c : in["compare"]) {
        auto it = kvs.find(B64Decode(c["key"]));
        const std::string target = c["target"];
        const std::string field = target == "CREATE" ? "create_revision"
                                  : target == "MOD"  ? "mod_revision"
                                                     : "lease";
        int64_t have = 0;
        if (it != kvs.end())
          have = target == "CREATE" ? it->second.create : target == "MOD" ? it->second.mod : it->second.lease;
        if (have != std::stoll(c.value(field, "0"))) holds = false;
      }
      if (holds) {
        const json& op = in["success"][0];
        json answer = json::object();
        if (op.contains("request_put")) {
          const std::string key = B64Decode(op["request_put"]["key"]);
          const int64_t lease = std::stoll(op["request_put"].value("lease", "0"));
          if (lease != 0 && !leases.count(lease))
            return Error(404, 5, "etcdserver: requested lease not found");
          Put(key, B64Decode(op["request_put"].value("value", "")), lease);
          answer["response_put"]["header"] = Header();
        } else {
          kvs.erase(B64Decode(op["request_delete_range"]["key"]));
          ++revision;
          answer["response_delete_range"]["deleted"] = "1";
        }
        return Ok({{"succeeded", true}, {"responses", json::array({answer})}});
      }
      json responses = json::array();
      for (const json& op : in["failure"]) {
        auto it = kvs.find(B64Decode(op["request_range"]["key"]));
        json range = {{"header", Header()}};
        if (it != kvs.end())
          range["kvs"] = json::array({KvJson(it->first, it->second)}), range["count"] = "1";
        json answer = json::object();
        answer["response_range"] = range;
        responses.push_back(answer);
      }
      return Ok({{"responses", responses}});
    }
    if (p == "/v3/maintenance/status") return Ok({{"leader", "42"}, {"version", "3.4.23"}});
    return Error(404, 5, "Not Found");
  }

 private:
  HttpResponse Ok(nlohmann::json body) {
    body["header"] = Header();
    return {200, body.dump(), "application/json"};
  }
  static HttpResponse Error(int http, int code, const std::string& msg) {
    return {http, nlohmann::json{{"error", msg}, {"message", msg}, {"code", code}}.dump(),
            "application/json"};
  }
  nlohmann::json Header() const {
    return {
        {"cluster_id", "1"}, {"member_id", "42"}, {"revision", std::to_string(revision)}, {"raft_term", "2"}};
  }
  static nlohmann::json KvJson(const std::string& key, const Kv& kv) {
    nlohmann::json j = {{"key", Base64(key)},
                        {"create_revision", std::to_string(kv.create)},
                        {"mod_revision", std::to_string(kv.mod)},
                        {"version", std::to_string(kv.version)}};
    if (!kv.value.empty()) j["value"] = Base64(kv.value);
    if (kv.lease != 0) j["lease"] = std::to_string(kv.lease);
    return j;
  }
  HttpResponse Range(const nlohmann::json& in) {
    const std::string key = B64Decode(in["key"]);
    const std::string end = in.contains("range_end") ? B64Decode(in["range_end"]) : "";
    nlohmann::json list = nlohmann::json::array();
    for (const auto& [k, kv] : kvs) {
      if (end.empty() ? k == key : (k >= key && k < end)) list.push_back(KvJson(k, kv));
    }
    nlohmann::json body = nlohmann::json::object();
    if (!list.empty()) body["kvs"] = list, body["count"] = std::to_string(list.size());
    return Ok(body);
  }
  void Put(const std::string& key, const std::string& value, int64_t lease) {
    ++revision;
    Kv& kv = kvs[key];
    if (kv.create == 0) kv.create = revision;
    kv.mod = revision;
    ++kv.version;
    kv.value = value;
    kv.lease = lease;
  }
  void Drop(int64_t id) {
    leases.erase(id);
    for (auto it = kvs.begin(); it != kvs.end();) {
      it = it->second.lease == id ? kvs.erase(it) : std::next(it);
    }
    ++revision;
  }
  void Expire() {
    std::vector<int64_t> gone;
    for (const auto& [id, lease] : leases) {
      if (clock_->Now() >= lease.expires) gone.push_back(id);
    }
    for (int64_t id : gone) Drop(id);
  }
  const ManualClock* clock_;
};

// One endpoint of a FakeEtcd. `down`: every request fails as a refused connection does.
// `lose_answers` > 0: that many requests are applied, then fail as a reset connection does.
class FakeEtcdEndpoint final : public HttpClient {
 public:
  FakeEtcdEndpoint(FakeEtcd* etcd, std::string url, bool* down, int* lose_answers)
      : etcd_(etcd), url_(std::move(url)), down_(down), lose_answers_(lose_answers) {}
  Result<HttpResponse> Do(const HttpRequest& request) override {
    const std::string where = request.method + " " + url_ + request.path_and_query;
    if (*down_) return Status::Unavailable(where + ": connect: Connection refused");
    HttpResponse r = etcd_->Handle(url_, request);
    if (*lose_answers_ > 0) {
      --*lose_answers_;
      return Status::Unavailable(where + ": read: Connection reset by peer");
    }
    return r;
  }

 private:
  FakeEtcd* etcd_;
  std::string url_;
  bool* down_;
  int* lose_answers_;
};

}  // namespace warmpool::testing

#endif  // WARMPOOL_TESTS_UNIT_CONTROLLER_CLUSTER_FAKE_ETCD_H_
