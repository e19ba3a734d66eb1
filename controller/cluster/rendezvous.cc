#include "controller/cluster/rendezvous.h"

namespace warmpool {
namespace {

constexpr uint64_t kFnvOffset = 14695981039346656037ULL;
constexpr uint64_t kFnvPrime = 1099511628211ULL;

uint64_t Fnv1a(uint64_t h, std::string_view bytes) {
  for (unsigned char c : bytes) {
    h ^= c;
    h *= kFnvPrime;
  }
  return h;
}

// splitmix64's finalizer (Steele, Lea and Flood): every input bit affects every output bit.
uint64_t Mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

uint64_t StableHash64(std::string_view bytes) { return Mix(Fnv1a(kFnvOffset, bytes)); }

uint64_t RendezvousWeight(std::string_view pool, std::string_view member) {
  uint64_t h = kFnvOffset;
  char length[8];
  uint64_t n = member.size();
  for (char& b : length) {  // little-endian, whatever the host's order
    b = static_cast<char>(n & 0xff);
    n >>= 8;
  }
  h = Fnv1a(h, std::string_view(length, sizeof length));
  h = Fnv1a(h, member);
  h = Fnv1a(h, pool);
  return Mix(h);
}

std::string OwnerOf(std::string_view pool, const std::vector<std::string>& members) {
  const std::string* best = nullptr;
  uint64_t best_weight = 0;
  for (const std::string& m : members) {
    const uint64_t w = RendezvousWeight(pool, m);
    if (best == nullptr || w > best_weight || (w == best_weight && m < *best)) {
      best = &m;
      best_weight = w;
    }
  }
  return best ? *best : std::string();
}

std::map<std::string, std::vector<std::string>> Assign(const std::vector<std::string>& pools,
                                                       const std::vector<std::string>& members) {
  std::map<std::string, std::vector<std::string>> out;
  for (const std::string& m : members) out[m];
  for (const std::string& p : pools) {
    if (members.empty()) break;
    out[OwnerOf(p, members)].push_back(p);
  }
  return out;
}

}  // namespace warmpool
