// Which member of the cluster owns which pool: rendezvous (highest random weight) hashing. Every
// member computes the same answer from the same list of members, without talking to the others, and
// when a member joins or leaves only the pools it gains or held move: each pool goes to the member
// with the highest weight(pool, member), and removing a member changes no other pair's weight.
//
// Pure: no I/O, no clock. The hash is written here, never std::hash, whose values differ between
// standard libraries and builds: replicas built apart must agree.
#ifndef WARMPOOL_CONTROLLER_CLUSTER_RENDEZVOUS_H_
#define WARMPOOL_CONTROLLER_CLUSTER_RENDEZVOUS_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace warmpool {

// A stable 64-bit hash of bytes: FNV-1a 64, then splitmix64's finalizer to spread its low bits.
uint64_t StableHash64(std::string_view bytes);
// The weight of `member` for `pool`: the stable hash of the member's name, its length and the pool's
// name (so "ab"+"c" and "a"+"bc" differ).
uint64_t RendezvousWeight(std::string_view pool, std::string_view member);

// The member with the highest weight for `pool` (a tie, which needs a 64-bit collision, goes to the
// smaller name); "" when `members` is empty. Duplicates in `members` count once.
std::string OwnerOf(std::string_view pool, const std::vector<std::string>& members);

// Every member (each has an entry, possibly empty) with the pools it owns, in the order of `pools`.
std::map<std::string, std::vector<std::string>> Assign(const std::vector<std::string>& pools,
                                                       const std::vector<std::string>& members);

}  // namespace warmpool

#endif  // WARMPOOL_CONTROLLER_CLUSTER_RENDEZVOUS_H_
