// Bearer tokens for the REST API (the file that lists them is read by the config room:
// controller/config/tokens_file.h).
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

  // Adds a principal and its token; only the token's SHA-256 digest is kept. The caller has
  // checked the token (controller/config/tokens_file.h: length, characters, no duplicates).
  void Add(ApiPrincipal principal, std::string_view token);

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
