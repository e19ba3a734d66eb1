// A small etcd v3 client over etcd's HTTP/JSON gateway (served on every etcd 3.4 client port), through
// the project's own HttpClient: no gRPC stack. It offers what a cluster of Warmpool replicas needs and
// nothing more: leases, reads of a key or a prefix, puts, and the three compare-and-swap transactions
// that ownership and state need.
//
// Endpoints and failover: every call goes to the endpoint that answered last (the first one at the
// start), and when that one cannot answer -- connection refused or reset, a timeout, HTTP 5xx, etcd's
// "no leader", "request timed out" or "too many requests" -- to the next ones in order, each at most
// once (a request whose kept-alive connection turned out closed is first sent again on a new one). When none
// answers, the error is kUnavailable and names every endpoint tried with its reason:
//   "etcd: no endpoint answered: http://127.0.0.1:1 (connection refused), http://10.0.0.2:2379 (...)"
// A worst-case call therefore takes endpoints x http.timeout: keep http.timeout well under the lease
// TTL / 3 (a renewal's period) divided by the number of endpoints.
//
// etcd's own errors (a lease that is gone, a compacted revision, a permission, a bad password) are not
// retried elsewhere: they map to a Status carrying etcd's message and the endpoint that said it:
//   kNotFound            "etcdserver: requested lease not found"
//   kFailedPrecondition  "etcdserver: mvcc: required revision has been compacted", "permission denied"
//   kInvalidArgument     "etcdserver: authentication failed, invalid user ID or password"
//
// A write whose answer was lost (a timeout, an endpoint killed mid-request, "request timed out") may
// still have been applied, and the retry on the next endpoint then sees its effect: a CreateIfAbsent
// that fails because of our own earlier attempt reports the key's holder in `current`, so the caller
// can tell (ClusterMember compares the holder's lease with its own).
#ifndef WARMPOOL_CONTROLLER_CLUSTER_ETCD_H_
#define WARMPOOL_CONTROLLER_CLUSTER_ETCD_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "controller/http/client.h"
#include "warmpool/status.h"
#include "warmpool/time.h"

namespace warmpool {

struct EtcdConfig {
  // Client URLs, tried in this order: "http://127.0.0.1:2379", "https://etcd-1.example:2379".
  std::vector<std::string> endpoints;
  // Every key Warmpool writes lives under it: starts with '/', does not end with one.
  std::string prefix = "/warmpool";
  // etcd's own authentication (POST /v3/auth/authenticate, then its token on every request) when
  // set. The password comes from `password`, or from `password_file` (read through
  // controller/files, a trailing newline trimmed) at every authentication, so a rotated file is
  // picked up when etcd asks again. Set one of the two, not both.
  std::string username;
  std::string password;
  std::string password_file;
  // Timeouts, limits and TLS (tls_ca_file, tls_insecure_skip_verify) for every endpoint. Its
  // basic_auth_* and bearer_token must stay empty: etcd takes its own token.
  HttpClientOptions http;
};

// The config's errors, all at once (joined by "; "), each naming its field:
//   "etcd.endpoints: at least one is required"
//   "etcd.endpoints[1]: must start with http:// or https://, got \"127.0.0.1:2379\""
//   "etcd.prefix: must start with '/' and not end with one, got \"warmpool/\""
//   "etcd.password_file: cannot read \"/run/secret\": No such file or directory"
// OK or kInvalidArgument. Reads the password file (bounded, regular files only), contacts nothing.
Status CheckEtcdConfig(const EtcdConfig& config);

struct EtcdKeyValue {
  std::string key;
  std::string value;
  int64_t create_revision = 0;  // the revision that created the key (0: absent)
  int64_t mod_revision = 0;     // the revision of its last write
  int64_t version = 0;          // writes since it was created
  int64_t lease = 0;            // the lease it is bound to (0: none)
};

struct EtcdRange {
  std::vector<EtcdKeyValue> kvs;  // sorted by key
  int64_t revision = 0;           // the store's revision when the range was read (header.revision)
};

struct EtcdTxnResult {
  bool succeeded = false;  // the compare held and the write was done
  int64_t revision = 0;    // the store's revision after the txn: the write's own when succeeded
  // When !succeeded: the key as it is now (nullopt: absent). Empty when succeeded.
  std::optional<EtcdKeyValue> current;
  // When a guarded write (PutIfModRevisionWhileHeld) did not succeed: the guard key as it is now
  // (nullopt: absent). Its lease says whether the guard or the revision failed.
  std::optional<EtcdKeyValue> guard;
};

struct EtcdLease {
  int64_t id = 0;
  int64_t ttl_seconds = 0;  // as granted: etcd may raise a short TTL to its minimum (about 2 s)
};

struct EtcdEndpointStatus {
  std::string endpoint;
  uint64_t member_id = 0;  // the member that answered
  uint64_t leader = 0;     // the member it believes is the raft leader (0: none)
  std::string version;     // "3.4.23"
  bool is_leader() const { return member_id != 0 && member_id == leader; }
};

// Thread-compatible: one caller at a time (the HTTP clients it holds keep one connection each).
// Never throws.
class EtcdClient {
 public:
  // Checks the config (CheckEtcdConfig) and builds one HttpClient per endpoint; contacts nothing.
  static Result<std::unique_ptr<EtcdClient>> Create(const EtcdConfig& config);
  // The same over given HTTP clients, one per endpoint in the same order (tests hand in fakes).
  // REQUIRES: clients.size() == config.endpoints.size().
  static Result<std::unique_ptr<EtcdClient>> CreateWithClients(
      const EtcdConfig& config, std::vector<std::unique_ptr<HttpClient>> clients);
  ~EtcdClient();
  EtcdClient(const EtcdClient&) = delete;
  EtcdClient& operator=(const EtcdClient&) = delete;

  const std::string& prefix() const;
  // The endpoint that answered the last call ("" before any).
  const std::string& endpoint_in_use() const;

  // A new lease of `ttl` (rounded up to whole seconds, at least 1 s).
  Result<EtcdLease> LeaseGrant(DurationMs ttl);
  // Renews the lease once; returns its TTL in seconds, restarted now. kNotFound when the lease has
  // expired or was revoked (every key bound to it is gone).
  Result<int64_t> LeaseKeepAlive(int64_t id);
  // Ends the lease and deletes every key bound to it. kNotFound when it was already gone.
  Status LeaseRevoke(int64_t id);

  // One key (kvs empty when absent), or every key that starts with `prefix`.
  Result<EtcdRange> Range(const std::string& key);
  Result<EtcdRange> RangePrefix(const std::string& prefix);

  // Writes unconditionally, bound to `lease` when non-zero; returns the write's revision.
  // kNotFound when the lease is gone.
  Result<int64_t> Put(const std::string& key, const std::string& value, int64_t lease = 0);
  // Creates the key only if it does not exist (txn: create_revision == 0).
  Result<EtcdTxnResult> CreateIfAbsent(const std::string& key, const std::string& value, int64_t lease);
  // Compare-and-swap: writes only if the key's mod_revision is still `mod_revision` (0: the key must
  // not exist). A writer holding a stale revision fails, and learns what is there now.
  Result<EtcdTxnResult> PutIfModRevision(const std::string& key, const std::string& value,
                                         int64_t mod_revision, int64_t lease = 0);
  // As PutIfModRevision, and only while `guard_key` is bound to `guard_lease`: an owner's write of
  // its pool's documents, guarded by its ownership key, so a member that lost the pool (its lease
  // expired, the key deleted, another member owns it now) writes nothing, whatever revision it holds.
  // REQUIRES: guard_lease != 0.
  Result<EtcdTxnResult> PutIfModRevisionWhileHeld(const std::string& key, const std::string& value,
                                                  int64_t mod_revision, const std::string& guard_key,
                                                  int64_t guard_lease);
  // Deletes only if the key's mod_revision is still `mod_revision`. REQUIRES: mod_revision > 0.
  Result<EtcdTxnResult> DeleteIfModRevision(const std::string& key, int64_t mod_revision);

  // Asks one endpoint (no failover) who it is and who it follows: for health reports and tests.
  Result<EtcdEndpointStatus> EndpointStatus(size_t endpoint_index);
  size_t endpoint_count() const;

 private:
  struct Impl;
  explicit EtcdClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace warmpool

#endif  // WARMPOOL_CONTROLLER_CLUSTER_ETCD_H_
