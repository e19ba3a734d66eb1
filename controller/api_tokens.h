// Bearer tokens for the REST API, loaded from a YAML file:
//
//   tokens:
//     - {name: alice, role: admin, token: "..."}
//     - {name: grafana, role: read, token_file: grafana.token}   # relative to this file
//
// Roles: read (GET /api/v1/*) and admin (also PUT, DELETE, POST). Only SHA-256 digests of the tokens
// are kept in memory; a presented token is compared against every configured digest in constant time.
#ifndef WARMPOOL_CONTROLLER_API_TOKENS_H_
#define WARMPOOL_CONTROLLER_API_TOKENS_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "warmpool/status.h"

namespace warmpool {

enum class ApiRole { kRead, kAdmin };
const char* ApiRoleName(ApiRole role);  // "read", "admin"

// Who a request authenticated as.
struct ApiPrincipal {
  std::string name;
  ApiRole role = ApiRole::kRead;
};

// Immutable after construction: thread-safe.
class ApiTokens {
 public:
  static constexpr size_t kMinTokenLength = 16;

  ApiTokens() = default;  // no tokens: GETs are open, mutating calls are refused

  // Reads and validates the file. Errors name the path and the entry: "tokens.yaml: tokens[1]
  // (grafana): role must be read or admin, got \"writer\"". Checks: a `tokens` sequence of mappings
  // with exactly the keys name, role and one of token / token_file; names and tokens unique; a token
  // at least kMinTokenLength characters of printable ASCII without spaces.
  static Result<ApiTokens> Load(const std::string& path);
  // The same from text; `path` names the file in errors and token_file is relative to its directory.
  static Result<ApiTokens> Parse(const std::string& text, const std::string& path);

  bool configured() const { return !entries_.empty(); }
  size_t size() const { return entries_.size(); }
  // The principal whose token equals `token`, or nullptr. Compares the digest of `token` with every
  // configured digest, always all of them, without an early exit (CRYPTO_memcmp).
  const ApiPrincipal* Authenticate(std::string_view token) const;

 private:
  struct Entry {
    ApiPrincipal principal;
    std::array<uint8_t, 32> digest;
  };
  std::vector<Entry> entries_;
};

// The token of an "Authorization: Bearer <token>" header value ("" when it is not a bearer token).
// The scheme is case-insensitive.
std::string BearerToken(std::string_view authorization);

}  // namespace warmpool

#endif  // WARMPOOL_CONTROLLER_API_TOKENS_H_
