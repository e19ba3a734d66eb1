#include "controller/cluster/etcd_json.h"

#include <charconv>
#include <nlohmann/json.hpp>

#include "controller/http/client.h"

namespace warmpool::etcd_json {
namespace {

using nlohmann::json;

// gRPC status codes, as etcd puts them in "code".
constexpr int kGrpcInvalidArgument = 3;
constexpr int kGrpcDeadlineExceeded = 4;
constexpr int kGrpcNotFound = 5;
constexpr int kGrpcAlreadyExists = 6;
constexpr int kGrpcPermissionDenied = 7;
constexpr int kGrpcResourceExhausted = 8;
constexpr int kGrpcFailedPrecondition = 9;
constexpr int kGrpcOutOfRange = 11;
constexpr int kGrpcUnavailable = 14;
constexpr int kGrpcUnauthenticated = 16;

std::string Prefix(std::string_view endpoint) { return "etcd " + std::string(endpoint) + ": "; }

Status Unexpected(std::string_view endpoint, std::string_view what, std::string_view body) {
  std::string shown(body.substr(0, 200));
  for (char& c : shown) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  return Status::Internal(Prefix(endpoint) + "unexpected answer (" + std::string(what) + "): " + shown);
}

// The first JSON document in `body` (a streaming answer may hold several, one a line).
std::optional<json> ParseFirst(std::string_view body) {
  const size_t end = body.find('\n');
  json j = json::parse(body.substr(0, end), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  return j;
}

// An integer field as the gateway writes it (int64s as strings), or as a number; 0 when absent (the
// gateway leaves out zero values). nullopt when present but not an integer of type T.
template <typename T>
std::optional<T> Integer(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return T{0};
  if (it->is_number_integer()) return it->get<T>();
  if (!it->is_string()) return std::nullopt;
  const std::string& s = it->get_ref<const std::string&>();
  T v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}
std::optional<int64_t> Int64(const json& j, const char* name) { return Integer<int64_t>(j, name); }
std::optional<uint64_t> Uint64(const json& j, const char* name) { return Integer<uint64_t>(j, name); }

std::optional<int64_t> HeaderRevision(const json& j) {
  auto it = j.find("header");
  if (it == j.end() || !it->is_object()) return std::nullopt;
  return Int64(*it, "revision");
}

std::optional<EtcdKeyValue> ParseKv(const json& j) {
  if (!j.is_object()) return std::nullopt;
  EtcdKeyValue kv;
  for (auto [name, out] : {std::pair{"key", &kv.key}, std::pair{"value", &kv.value}}) {
    auto it = j.find(name);
    if (it == j.end()) continue;  // an empty value is left out
    if (!it->is_string()) return std::nullopt;
    std::optional<std::string> decoded = DecodeBase64(it->get_ref<const std::string&>());
    if (!decoded) return std::nullopt;
    *out = std::move(*decoded);
  }
  for (auto [name, out] :
       {std::pair{"create_revision", &kv.create_revision}, std::pair{"mod_revision", &kv.mod_revision},
        std::pair{"version", &kv.version}, std::pair{"lease", &kv.lease}}) {
    std::optional<int64_t> v = Int64(j, name);
    if (!v) return std::nullopt;
    *out = *v;
  }
  return kv;
}

std::optional<std::vector<EtcdKeyValue>> ParseKvs(const json& j) {
  std::vector<EtcdKeyValue> kvs;
  auto it = j.find("kvs");
  if (it == j.end()) return kvs;
  if (!it->is_array()) return std::nullopt;
  for (const json& e : *it) {
    std::optional<EtcdKeyValue> kv = ParseKv(e);
    if (!kv) return std::nullopt;
    kvs.push_back(std::move(*kv));
  }
  return kvs;
}

// The message and gRPC code of an error answer, from either shape the gateway uses.
std::pair<std::string, int> ErrorOf(std::string_view body) {
  std::optional<json> j = ParseFirst(body);
  if (!j) return {"", -1};
  auto err = j->find("error");
  if (err != j->end() && err->is_object()) {  // an error inside a stream
    std::string message = err->value("message", "");
    return {message, err->value("grpc_code", -1)};
  }
  std::string message = j->value("message", "");
  if (message.empty() && err != j->end() && err->is_string()) message = err->get<std::string>();
  auto code = j->find("code");
  return {message, code != j->end() && code->is_number_integer() ? code->get<int>() : -1};
}

Status FromGrpc(int code, int http_status, std::string message, std::string_view endpoint) {
  std::string msg = Prefix(endpoint) + message;
  switch (code) {
    case kGrpcNotFound: return Status::NotFound(std::move(msg));
    case kGrpcInvalidArgument: return Status::InvalidArgument(std::move(msg));
    case kGrpcAlreadyExists:
    case kGrpcPermissionDenied:
    case kGrpcFailedPrecondition:
    case kGrpcOutOfRange:
    case kGrpcUnauthenticated: return Status::FailedPrecondition(std::move(msg));
    case kGrpcDeadlineExceeded: return Status::DeadlineExceeded(std::move(msg));
    case kGrpcUnavailable:
    case kGrpcResourceExhausted: return Status::Unavailable(std::move(msg));
    default: break;
  }
  if (http_status >= 500) return Status::Unavailable(std::move(msg));
  if (http_status == 404) return Status::NotFound(std::move(msg));
  return Status::Internal(std::move(msg));
}

json B64(std::string_view bytes) { return Base64(bytes); }

}  // namespace

std::optional<std::string> DecodeBase64(std::string_view text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = text[i + k];
      if (c == '=' && last && k >= 2) {
        v[k] = 0;
        ++pad;
      } else if (pad > 0 || (v[k] = value(c)) < 0) {
        return std::nullopt;  // a '=' before the end, a character after a '=', or not base64
      }
    }
    const unsigned n = static_cast<unsigned>(v[0] << 18 | v[1] << 12 | v[2] << 6 | v[3]);
    out += static_cast<char>(n >> 16);
    if (pad < 2) out += static_cast<char>((n >> 8) & 0xff);
    if (pad < 1) out += static_cast<char>(n & 0xff);
  }
  return out;
}

std::string PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    if (static_cast<unsigned char>(end.back()) < 0xff) {
      end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');
}

std::string RangeBody(std::string_view key, std::string_view range_end) {
  json j = {{"key", B64(key)}};
  if (!range_end.empty()) j["range_end"] = B64(range_end);
  return j.dump();
}

std::string PutBody(std::string_view key, std::string_view value, int64_t lease) {
  json j = {{"key", B64(key)}, {"value", B64(value)}};
  if (lease != 0) j["lease"] = std::to_string(lease);
  return j.dump();
}

std::string TxnBody(std::string_view key, std::string_view target, int64_t revision, bool then_put,
                    std::string_view value, int64_t lease, std::string_view guard_key, int64_t guard_lease) {
  // The compare's field is named after its target: "create_revision" for CREATE, "mod_revision" for MOD.
  const std::string field = target == "CREATE" ? "create_revision" : "mod_revision";
  json compares = json::array({json{{"key", B64(key)},
                                    {"result", "EQUAL"},
                                    {"target", std::string(target)},
                                    {field, std::to_string(revision)}}});
  json otherwise = json::array({json{{"request_range", {{"key", B64(key)}}}}});
  if (!guard_key.empty()) {
    compares.push_back({{"key", B64(guard_key)},
                        {"result", "EQUAL"},
                        {"target", "LEASE"},
                        {"lease", std::to_string(guard_lease)}});
    otherwise.push_back({{"request_range", {{"key", B64(guard_key)}}}});
  }
  json then;
  if (then_put) {
    json put = {{"key", B64(key)}, {"value", B64(value)}};
    if (lease != 0) put["lease"] = std::to_string(lease);
    then = {{"request_put", put}};
  } else {
    then = {{"request_delete_range", {{"key", B64(key)}}}};
  }
  return json{{"compare", compares}, {"success", json::array({then})}, {"failure", otherwise}}.dump();
}

std::string LeaseGrantBody(int64_t ttl_seconds) { return json{{"TTL", std::to_string(ttl_seconds)}}.dump(); }
std::string LeaseIdBody(int64_t id) { return json{{"ID", std::to_string(id)}}.dump(); }
std::string AuthenticateBody(std::string_view name, std::string_view password) {
  return json{{"name", std::string(name)}, {"password", std::string(password)}}.dump();
}

int ErrorCode(std::string_view body) { return ErrorOf(body).second; }

Status ErrorStatus(int http_status, std::string_view body, std::string_view endpoint) {
  auto [message, code] = ErrorOf(body);
  if (message.empty()) {
    std::string shown(body.substr(0, 200));
    for (char& c : shown) {
      if (static_cast<unsigned char>(c) < 0x20) c = ' ';
    }
    message = "HTTP " + std::to_string(http_status) + (shown.empty() ? "" : ": " + shown);
  }
  return FromGrpc(code, http_status, std::move(message), endpoint);
}

bool EndpointUnavailable(int http_status, std::string_view body) {
  if (http_status >= 500) return true;
  const int code = ErrorCode(body);
  return code == kGrpcUnavailable || code == kGrpcDeadlineExceeded || code == kGrpcResourceExhausted;
}

Result<EtcdRange> ParseRange(std::string_view body, std::string_view endpoint) {
  std::optional<json> j = ParseFirst(body);
  if (!j) return Unexpected(endpoint, "range: not a JSON object", body);
  std::optional<int64_t> revision = HeaderRevision(*j);
  std::optional<std::vector<EtcdKeyValue>> kvs = ParseKvs(*j);
  if (!revision || !kvs) return Unexpected(endpoint, "range", body);
  return EtcdRange{std::move(*kvs), *revision};
}

Result<int64_t> ParseRevision(std::string_view body, std::string_view endpoint) {
  std::optional<json> j = ParseFirst(body);
  std::optional<int64_t> revision = j ? HeaderRevision(*j) : std::nullopt;
  if (!revision) return Unexpected(endpoint, "no header.revision", body);
  return *revision;
}

Result<EtcdTxnResult> ParseTxn(std::string_view body, std::string_view endpoint) {
  std::optional<json> j = ParseFirst(body);
  if (!j) return Unexpected(endpoint, "txn: not a JSON object", body);
  EtcdTxnResult r;
  std::optional<int64_t> revision = HeaderRevision(*j);
  if (!revision) return Unexpected(endpoint, "txn: no header.revision", body);
  r.revision = *revision;
  auto succeeded = j->find("succeeded");
  r.succeeded = succeeded != j->end() && succeeded->is_boolean() && succeeded->get<bool>();
  if (r.succeeded) return r;
  // The failure branch ranges the key (what holds it now), then the guard key of a guarded write.
  auto responses = j->find("responses");
  if (responses == j->end() || !responses->is_array() || responses->empty() || responses->size() > 2) {
    return Unexpected(endpoint, "txn: the failed compare's range is missing", body);
  }
  for (size_t i = 0; i < responses->size(); ++i) {
    auto range = (*responses)[i].find("response_range");
    if (range == (*responses)[i].end() || !range->is_object()) {
      return Unexpected(endpoint, "txn: no response_range", body);
    }
    std::optional<std::vector<EtcdKeyValue>> kvs = ParseKvs(*range);
    if (!kvs) return Unexpected(endpoint, "txn: response_range", body);
    if (!kvs->empty()) (i == 0 ? r.current : r.guard) = std::move(kvs->front());
  }
  return r;
}

Result<EtcdLease> ParseLeaseGrant(std::string_view body, std::string_view endpoint) {
  std::optional<json> j = ParseFirst(body);
  if (!j) return Unexpected(endpoint, "lease grant: not a JSON object", body);
  if (auto error = j->find("error");
      error != j->end() && error->is_string() && !error->get<std::string>().empty()) {
    return ErrorStatus(200, body, endpoint);  // LeaseGrantResponse.error: etcd's own refusal
  }
  std::optional<int64_t> id = Int64(*j, "ID"), ttl = Int64(*j, "TTL");
  if (!id || !ttl || *id == 0 || *ttl <= 0) return Unexpected(endpoint, "lease grant", body);
  return EtcdLease{*id, *ttl};
}

Result<int64_t> ParseKeepAlive(std::string_view body, std::string_view endpoint) {
  std::optional<json> j = ParseFirst(body);
  if (!j) return Unexpected(endpoint, "lease keepalive: not a JSON object", body);
  if (auto error = j->find("error"); error != j->end()) return ErrorStatus(200, body, endpoint);
  auto result = j->find("result");
  if (result == j->end() || !result->is_object())
    return Unexpected(endpoint, "lease keepalive: no result", body);
  std::optional<int64_t> ttl = Int64(*result, "TTL");
  if (!ttl) return Unexpected(endpoint, "lease keepalive: TTL", body);
  if (*ttl <= 0) {
    // etcd answers a keep-alive of an expired or revoked lease with TTL 0 (left out), not an error.
    return Status::NotFound(Prefix(endpoint) + "lease " + std::to_string(Int64(*result, "ID").value_or(0)) +
                            " has expired or was revoked (keepalive answered TTL 0)");
  }
  return *ttl;
}

Result<std::string> ParseAuthToken(std::string_view body, std::string_view endpoint) {
  std::optional<json> j = ParseFirst(body);
  if (!j) return Unexpected(endpoint, "authenticate: not a JSON object", body);
  auto token = j->find("token");
  if (token == j->end() || !token->is_string() || token->get<std::string>().empty()) {
    return Unexpected(endpoint, "authenticate: no token", "");  // never echo a body that may hold a token
  }
  return token->get<std::string>();
}

Result<EtcdEndpointStatus> ParseStatus(std::string_view body, std::string_view endpoint) {
  std::optional<json> j = ParseFirst(body);
  if (!j) return Unexpected(endpoint, "status: not a JSON object", body);
  auto header = j->find("header");
  if (header == j->end() || !header->is_object()) return Unexpected(endpoint, "status: no header", body);
  std::optional<uint64_t> member = Uint64(*header, "member_id"), leader = Uint64(*j, "leader");
  if (!member || !leader) return Unexpected(endpoint, "status", body);
  EtcdEndpointStatus s;
  s.endpoint = std::string(endpoint);
  s.member_id = *member;
  s.leader = *leader;
  s.version = j->value("version", "");
  return s;
}

}  // namespace warmpool::etcd_json
