// The sans-I/O half of the etcd client (private to controller/cluster/): the JSON bodies etcd's v3
// HTTP/JSON gateway (grpc-gateway) takes and gives, and how its answers become Status codes. Pure
// functions over strings, so the unit tests drive them with answers recorded from a real etcd 3.4.
//
// What the gateway does that a reader might not expect (all seen on etcd 3.4.23):
// - keys and values are base64 in both directions;
// - every int64 comes back as a JSON string ("revision":"5"), and a field equal to its zero value is
//   left out altogether: no "kvs" for an empty range, no "lease" on a key without one, no "succeeded"
//   on a txn whose compare failed, no "TTL" in a keep-alive answer for a lease that has expired;
// - an error is {"error": msg, "message": msg, "code": <gRPC code>} with an HTTP status derived from
//   the gRPC code (NotFound 404, InvalidArgument/OutOfRange/FailedPrecondition 400, PermissionDenied
//   403, Unauthenticated 401, Unavailable 503), sent chunked with a trailer;
// - /v3/lease/keepalive is a streaming call: each answer is wrapped in {"result": {...}}, and an error
//   in the stream is {"error": {"grpc_code": N, "message": ...}} with HTTP 200.
#ifndef WARMPOOL_CONTROLLER_CLUSTER_ETCD_JSON_H_
#define WARMPOOL_CONTROLLER_CLUSTER_ETCD_JSON_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "controller/cluster/etcd.h"
#include "warmpool/status.h"

namespace warmpool::etcd_json {

// Standard base64 with padding; nullopt for anything else.
std::optional<std::string> DecodeBase64(std::string_view text);
// The end of the range of every key that starts with `prefix` (etcd's "prefix + 1"): the prefix with
// its last byte below 0xff incremented and what follows it dropped; "\0" (every key) when there is no
// such byte.
std::string PrefixEnd(std::string_view prefix);

// Request bodies. Int64s are written as JSON strings, which the gateway accepts for every int64 field.
std::string RangeBody(std::string_view key, std::string_view range_end);
std::string PutBody(std::string_view key, std::string_view value, int64_t lease);
// A txn: if the key's `target` ("CREATE" or "MOD") revision equals `revision` -- and, with a
// `guard_key`, if that key is bound to `guard_lease` (target LEASE; an absent key has lease 0) --
// then `then_put` (a put of value/lease) or, when !then_put, a delete; else a range of the key (and
// of the guard key), so a failed compare tells what holds them.
std::string TxnBody(std::string_view key, std::string_view target, int64_t revision, bool then_put,
                    std::string_view value, int64_t lease, std::string_view guard_key = "",
                    int64_t guard_lease = 0);
std::string LeaseGrantBody(int64_t ttl_seconds);
std::string LeaseIdBody(int64_t id);  // keepalive, revoke
std::string AuthenticateBody(std::string_view name, std::string_view password);

// The answer of one endpoint, parsed. `endpoint` names it in every message. An error answer (any
// non-2xx status, or an {"error": ...} in a 200 stream) becomes the Status of etcd's gRPC code with
// etcd's own message: "etcd <endpoint>: etcdserver: requested lease not found".
// A body that is not the JSON expected is kInternal ("etcd <endpoint>: unexpected answer ...").
Status ErrorStatus(int http_status, std::string_view body, std::string_view endpoint);
// The gRPC code in an error answer (e.g. 16 Unauthenticated), or -1 when the body names none.
int ErrorCode(std::string_view body);
// True for an answer that says this endpoint cannot serve now (HTTP 5xx, gRPC Unavailable,
// DeadlineExceeded or ResourceExhausted), so the next endpoint is tried.
bool EndpointUnavailable(int http_status, std::string_view body);

Result<EtcdRange> ParseRange(std::string_view body, std::string_view endpoint);
Result<int64_t> ParseRevision(std::string_view body, std::string_view endpoint);  // header.revision
Result<EtcdTxnResult> ParseTxn(std::string_view body, std::string_view endpoint);
Result<EtcdLease> ParseLeaseGrant(std::string_view body, std::string_view endpoint);
// The remaining TTL in seconds; kNotFound when the answer says the lease is gone (TTL absent or <= 0).
Result<int64_t> ParseKeepAlive(std::string_view body, std::string_view endpoint);
Result<std::string> ParseAuthToken(std::string_view body, std::string_view endpoint);
Result<EtcdEndpointStatus> ParseStatus(std::string_view body, std::string_view endpoint);

}  // namespace warmpool::etcd_json

#endif  // WARMPOOL_CONTROLLER_CLUSTER_ETCD_JSON_H_
