#include "controller/api/tokens.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cctype>
#include <utility>

namespace warmpool {
namespace {

std::array<uint8_t, 32> Sha256(std::string_view text) {
  std::array<uint8_t, 32> out{};
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), out.data(), &len, EVP_sha256(), nullptr);
  return out;
}

}  // namespace

const char* ApiRoleName(ApiRole role) { return role == ApiRole::kAdmin ? "admin" : "read"; }

void ApiTokens::Add(ApiPrincipal principal, std::string_view token) {
  entries_.push_back(Entry{std::move(principal), Sha256(token)});
}

const ApiPrincipal* ApiTokens::Authenticate(std::string_view token) const {
  const std::array<uint8_t, 32> digest = Sha256(token);
  const ApiPrincipal* found = nullptr;
  for (const Entry& e : entries_) {
    // Every digest is compared in full; the result only selects, it never stops the loop.
    const bool equal = CRYPTO_memcmp(digest.data(), e.digest.data(), digest.size()) == 0;
    found = equal ? &e.principal : found;
  }
  return found;
}

std::string BearerToken(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size()) return "";
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != kScheme[i]) return "";
  }
  std::string_view token = authorization.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  return std::string(token);
}

}  // namespace warmpool
