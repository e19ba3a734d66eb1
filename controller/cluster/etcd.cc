#include "controller/cluster/etcd.h"

#include <algorithm>
#include <functional>
#include <utility>

#include "controller/cluster/etcd_json.h"
#include "controller/files/read_file.h"

namespace warmpool {
namespace {

constexpr size_t kMaxPasswordFileBytes = 64 << 10;
constexpr int kGrpcUnauthenticated = 16;

bool StartsWith(const std::string& s, std::string_view p) { return s.compare(0, p.size(), p) == 0; }

Result<std::string> ReadPassword(const std::string& path) {
  Result<std::string> read = ReadWholeFile(path, kMaxPasswordFileBytes);
  if (!read.ok()) {
    std::string why = read.status().message();  // "PATH: <why>"
    if (why.rfind(path + ": ", 0) == 0) why.erase(0, path.size() + 2);
    if (why.rfind("cannot read: ", 0) == 0) why.erase(0, 13);
    return Status::InvalidArgument("etcd.password_file: cannot read \"" + path + "\": " + why);
  }
  std::string text = std::move(read).value();
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  if (text.empty()) return Status::InvalidArgument("etcd.password_file: \"" + path + "\" is empty");
  return text;
}

// What an HttpClient error says after "METHOD URL: ", shortened for the list of endpoints tried:
// "connect: Connection refused" -> "connection refused".
std::string Reason(const Status& s, const std::string& endpoint) {
  std::string m = s.message();
  const size_t at = m.find(endpoint);
  if (at != std::string::npos) {
    const size_t colon = m.find(": ", at + endpoint.size());
    if (colon != std::string::npos) m.erase(0, colon + 2);
  }
  for (std::string_view head : {"cannot connect: ", "connect: "}) {
    if (m.rfind(head, 0) == 0) m.erase(0, head.size());
  }
  if (!m.empty() && m[0] >= 'A' && m[0] <= 'Z' && (m.size() < 2 || (m[1] >= 'a' && m[1] <= 'z'))) {
    m[0] = static_cast<char>(m[0] - 'A' + 'a');
  }
  return m;
}

// The failure of a request sent on a connection that turned out to be closed: nothing came back.
bool StaleConnection(const Status& s) {
  const std::string& m = s.message();
  return s.code() == Status::Code::kUnavailable &&
         (m.find("end of stream") != std::string::npos || m.find("reset by peer") != std::string::npos ||
          m.find("Broken pipe") != std::string::npos);
}

}  // namespace

Status CheckEtcdConfig(const EtcdConfig& config) {
  std::vector<std::string> errors;
  if (config.endpoints.empty()) errors.push_back("etcd.endpoints: at least one is required");
  for (size_t i = 0; i < config.endpoints.size(); ++i) {
    const std::string& e = config.endpoints[i];
    const std::string field = "etcd.endpoints[" + std::to_string(i) + "]";
    if (!StartsWith(e, "http://") && !StartsWith(e, "https://")) {
      errors.push_back(field + ": must start with http:// or https://, got \"" + e + "\"");
      continue;
    }
    const std::string rest = e.substr(e.find("//") + 2);
    if (rest.substr(0, rest.find_first_of("/?#")).find('@') != std::string::npos) {
      errors.push_back(field + ": must not carry credentials; use etcd.username and etcd.password_file");
      continue;
    }
    if (std::count(config.endpoints.begin(), config.endpoints.begin() + static_cast<long>(i), e) > 0) {
      errors.push_back(field + ": \"" + e + "\" is listed twice");
      continue;
    }
    if (Status s = CheckHttpClient(e, config.http); !s.ok()) errors.push_back(field + ": " + s.message());
  }
  const std::string& p = config.prefix;
  if (p.empty() || p[0] != '/' || p.back() == '/' || p.find('\0') != std::string::npos) {
    errors.push_back("etcd.prefix: must start with '/' and not end with one, got \"" + p + "\"");
  }
  if (!config.http.basic_auth_user.empty() || !config.http.bearer_token.empty()) {
    errors.push_back(
        "etcd.http: basic auth and bearer tokens are not etcd's; use etcd.username and a password");
  }
  const bool password = !config.password.empty(), file = !config.password_file.empty();
  if (password && file)
    errors.push_back("etcd.password_file: set etcd.password or etcd.password_file, not both");
  if ((password || file) && config.username.empty()) {
    errors.push_back("etcd.username: required with a password");
  }
  if (!config.username.empty() && !password && !file) {
    errors.push_back("etcd.password_file: required with etcd.username (or etcd.password)");
  }
  if (file) {
    if (Result<std::string> r = ReadPassword(config.password_file); !r.ok())
      errors.push_back(r.status().message());
  }
  if (config.http.timeout <= 0 || config.http.connect_timeout <= 0) {
    errors.push_back("etcd.http: timeout and connect_timeout must be positive");
  }
  if (errors.empty()) return Status::Ok();
  std::string text = errors[0];
  for (size_t i = 1; i < errors.size(); ++i) text += "; " + errors[i];
  return Status::InvalidArgument(text);
}

struct EtcdClient::Impl {
  EtcdConfig config;
  std::vector<std::unique_ptr<HttpClient>> clients;
  std::vector<std::string> tokens;  // per endpoint: etcd's simple tokens are known only to their member
  std::vector<char> auth_off;       // per endpoint: it said "authentication is not enabled"
  size_t current = 0;               // the endpoint that answered last
  std::string in_use;

  // One endpoint's answer: the HTTP exchange, with authentication (and once more after etcd said the
  // token is no longer valid). A transport failure is returned as the status.
  Result<HttpResponse> Exchange(size_t i, const std::string& path, const std::string& body) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (!config.username.empty() && tokens[i].empty() && !auth_off[i]) {
        Status s = Authenticate(i);
        if (!s.ok()) return s;
      }
      HttpRequest request;
      request.method = "POST";
      request.path_and_query = path;
      request.headers.emplace_back("Content-Type", "application/json");
      if (!tokens[i].empty()) request.headers.emplace_back("Authorization", tokens[i]);
      request.body = body;
      Result<HttpResponse> r = clients[i]->Do(request);
      if (!r.ok()) return r;
      const bool token_refused = r->status == 401 && etcd_json::ErrorCode(r->body) == kGrpcUnauthenticated;
      const bool token_missing = auth_off[i] && r->body.find("user name is empty") != std::string::npos;
      if (attempt == 0 && !config.username.empty() && (token_refused || token_missing)) {
        tokens[i].clear();  // expired (--auth-token-ttl), the member restarted, or auth was enabled since
        auth_off[i] = 0;
        continue;
      }
      return r;
    }
    return Status::Internal("unreachable");
  }

  Status Authenticate(size_t i) {
    std::string password = config.password;
    if (!config.password_file.empty()) {
      Result<std::string> read = ReadPassword(config.password_file);
      if (!read.ok()) return read.status();
      password = std::move(read).value();
    }
    HttpRequest request;
    request.method = "POST";
    request.path_and_query = "/v3/auth/authenticate";
    request.headers.emplace_back("Content-Type", "application/json");
    request.body = etcd_json::AuthenticateBody(config.username, password);
    Result<HttpResponse> r = clients[i]->Do(request);
    if (!r.ok()) return r.status();
    const std::string& endpoint = config.endpoints[i];
    if (r->status != 200) {
      if (etcd_json::EndpointUnavailable(r->status, r->body)) {
        return Status::Unavailable(etcd_json::ErrorStatus(r->status, r->body, endpoint).message());
      }
      // "authentication is not enabled": a username configured ahead of `etcdctl auth enable` works.
      if (r->body.find("authentication is not enabled") != std::string::npos) {
        auth_off[i] = 1;
        return Status::Ok();
      }
      return etcd_json::ErrorStatus(r->status, r->body, endpoint);
    }
    Result<std::string> token = etcd_json::ParseAuthToken(r->body, endpoint);
    if (!token.ok()) return token.status();
    tokens[i] = std::move(token).value();
    return Status::Ok();
  }

  // Sends `body` to `path` on the endpoints, the last good one first, and parses the first real
  // answer with `parse`.
  template <typename T>
  Result<T> Call(const std::string& path, const std::string& body,
                 const std::function<Result<T>(std::string_view, std::string_view)>& parse) {
    std::string tried;
    const size_t n = clients.size();
    for (size_t k = 0; k < n; ++k) {
      const size_t i = (current + k) % n;
      const std::string& endpoint = config.endpoints[i];
      Result<HttpResponse> r = Exchange(i, path, body);
      if (!r.ok() && StaleConnection(r.status())) {
        // A kept-alive connection the server closed (or a member that just died): the HttpClient
        // retries only GET on a new connection, and every call here is a POST. Each is safe to send
        // again (see etcd.h on lost answers), so once more on a new connection before moving on.
        r = Exchange(i, path, body);
      }
      std::string reason;
      if (!r.ok()) {
        const Status::Code code = r.status().code();
        if (code != Status::Code::kUnavailable && code != Status::Code::kDeadlineExceeded) {
          return r.status();  // an authentication error: the same everywhere
        }
        reason = Reason(r.status(), endpoint);
      } else if (etcd_json::EndpointUnavailable(r->status, r->body)) {
        reason = etcd_json::ErrorStatus(r->status, r->body, endpoint).message();
        reason.erase(0, ("etcd " + endpoint + ": ").size());
        tokens[i].clear();  // a restarted member forgets its tokens
      } else {
        current = i;
        in_use = endpoint;
        if (r->status != 200) return etcd_json::ErrorStatus(r->status, r->body, endpoint);
        return parse(r->body, endpoint);
      }
      tried += (tried.empty() ? "" : ", ") + endpoint + " (" + reason + ")";
    }
    return Status::Unavailable("etcd: no endpoint answered: " + tried);
  }
};

EtcdClient::EtcdClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EtcdClient::~EtcdClient() = default;

Result<std::unique_ptr<EtcdClient>> EtcdClient::Create(const EtcdConfig& config) {
  if (Status s = CheckEtcdConfig(config); !s.ok()) return s;
  std::vector<std::unique_ptr<HttpClient>> clients;
  for (const std::string& e : config.endpoints) {
    std::string base = e;
    while (!base.empty() && base.back() == '/') base.pop_back();
    Result<std::unique_ptr<HttpClient>> c = NewHttpClient(base, config.http);
    if (!c.ok()) return c.status();
    clients.push_back(std::move(c).value());
  }
  return CreateWithClients(config, std::move(clients));
}

Result<std::unique_ptr<EtcdClient>> EtcdClient::CreateWithClients(
    const EtcdConfig& config, std::vector<std::unique_ptr<HttpClient>> clients) {
  if (clients.size() != config.endpoints.size() || clients.empty()) {
    return Status::InvalidArgument("etcd: one HTTP client per endpoint is required");
  }
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  impl->clients = std::move(clients);
  impl->tokens.resize(impl->clients.size());
  impl->auth_off.resize(impl->clients.size(), 0);
  return std::unique_ptr<EtcdClient>(new EtcdClient(std::move(impl)));
}

const std::string& EtcdClient::prefix() const { return impl_->config.prefix; }
const std::string& EtcdClient::endpoint_in_use() const { return impl_->in_use; }
size_t EtcdClient::endpoint_count() const { return impl_->clients.size(); }

Result<EtcdLease> EtcdClient::LeaseGrant(DurationMs ttl) {
  const int64_t seconds = std::max<int64_t>(1, (ttl + kSecond - 1) / kSecond);
  return impl_->Call<EtcdLease>("/v3/lease/grant", etcd_json::LeaseGrantBody(seconds),
                                etcd_json::ParseLeaseGrant);
}

Result<int64_t> EtcdClient::LeaseKeepAlive(int64_t id) {
  return impl_->Call<int64_t>("/v3/lease/keepalive", etcd_json::LeaseIdBody(id), etcd_json::ParseKeepAlive);
}

Status EtcdClient::LeaseRevoke(int64_t id) {
  return impl_->Call<int64_t>("/v3/lease/revoke", etcd_json::LeaseIdBody(id), etcd_json::ParseRevision)
      .status();
}

Result<EtcdRange> EtcdClient::Range(const std::string& key) {
  return impl_->Call<EtcdRange>("/v3/kv/range", etcd_json::RangeBody(key, ""), etcd_json::ParseRange);
}

Result<EtcdRange> EtcdClient::RangePrefix(const std::string& prefix) {
  return impl_->Call<EtcdRange>("/v3/kv/range", etcd_json::RangeBody(prefix, etcd_json::PrefixEnd(prefix)),
                                etcd_json::ParseRange);
}

Result<int64_t> EtcdClient::Put(const std::string& key, const std::string& value, int64_t lease) {
  return impl_->Call<int64_t>("/v3/kv/put", etcd_json::PutBody(key, value, lease), etcd_json::ParseRevision);
}

Result<EtcdTxnResult> EtcdClient::CreateIfAbsent(const std::string& key, const std::string& value,
                                                 int64_t lease) {
  return impl_->Call<EtcdTxnResult>("/v3/kv/txn", etcd_json::TxnBody(key, "CREATE", 0, true, value, lease),
                                    etcd_json::ParseTxn);
}

Result<EtcdTxnResult> EtcdClient::PutIfModRevision(const std::string& key, const std::string& value,
                                                   int64_t mod_revision, int64_t lease) {
  return impl_->Call<EtcdTxnResult>(
      "/v3/kv/txn", etcd_json::TxnBody(key, "MOD", mod_revision, true, value, lease), etcd_json::ParseTxn);
}

Result<EtcdTxnResult> EtcdClient::PutIfModRevisionWhileHeld(const std::string& key, const std::string& value,
                                                            int64_t mod_revision,
                                                            const std::string& guard_key,
                                                            int64_t guard_lease) {
  if (guard_lease == 0 || guard_key.empty()) {
    return Status::InvalidArgument("etcd: PutIfModRevisionWhileHeld needs a guard key and its lease");
  }
  return impl_->Call<EtcdTxnResult>(
      "/v3/kv/txn", etcd_json::TxnBody(key, "MOD", mod_revision, true, value, 0, guard_key, guard_lease),
      etcd_json::ParseTxn);
}

Result<EtcdTxnResult> EtcdClient::DeleteIfModRevision(const std::string& key, int64_t mod_revision) {
  if (mod_revision <= 0) return Status::InvalidArgument("etcd: DeleteIfModRevision needs a revision > 0");
  return impl_->Call<EtcdTxnResult>("/v3/kv/txn", etcd_json::TxnBody(key, "MOD", mod_revision, false, "", 0),
                                    etcd_json::ParseTxn);
}

Result<EtcdEndpointStatus> EtcdClient::EndpointStatus(size_t endpoint_index) {
  if (endpoint_index >= impl_->clients.size()) return Status::InvalidArgument("etcd: no such endpoint");
  const std::string& endpoint = impl_->config.endpoints[endpoint_index];
  Result<HttpResponse> r = impl_->Exchange(endpoint_index, "/v3/maintenance/status", "{}");
  if (!r.ok()) return r.status();
  if (r->status != 200) return etcd_json::ErrorStatus(r->status, r->body, endpoint);
  return etcd_json::ParseStatus(r->body, endpoint);
}

}  // namespace warmpool
