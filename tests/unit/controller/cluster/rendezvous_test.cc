// Unit tests of rendezvous hashing (controller/cluster/rendezvous.h): pure, no etcd.
#include "controller/cluster/rendezvous.h"

#include <doctest/doctest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

using namespace warmpool;

namespace {

std::vector<std::string> Pools(int n) {
  std::vector<std::string> pools;
  for (int i = 0; i < n; ++i) pools.push_back("pool-" + std::to_string(i));
  return pools;
}

std::map<std::string, std::string> OwnerMap(const std::vector<std::string>& pools,
                                            const std::vector<std::string>& members) {
  std::map<std::string, std::string> out;
  for (const std::string& p : pools) out[p] = OwnerOf(p, members);
  return out;
}

}  // namespace

TEST_CASE("rendezvous: the hash is stable across builds (golden values computed apart, in Python)") {
  // FNV-1a 64 then splitmix64's finalizer; the same numbers from a separate implementation.
  CHECK(StableHash64("") == 0xf52a15e9a9b5e89bULL);
  CHECK(StableHash64("warmpool") == 0x536d6abb2099cf3cULL);
  CHECK(RendezvousWeight("web", "a") == 0xe17499e44e264ee3ULL);
  const std::vector<std::string> members = {"a", "b", "c"};
  CHECK(OwnerOf("web", members) == "b");
  CHECK(OwnerOf("api", members) == "c");
  CHECK(OwnerOf("pool-0", members) == "c");
  CHECK(OwnerOf("pool-42", members) == "b");
  // The member's length is hashed too: "ab"+"c" and "a"+"bc" are different pairs.
  CHECK(RendezvousWeight("c", "ab") != RendezvousWeight("bc", "a"));
}

TEST_CASE("rendezvous: 100 pools over 3 members gives each 33 +/- 10") {
  for (const std::vector<std::string>& members :
       std::vector<std::vector<std::string>>{{"a", "b", "c"},
                                             {"replica-1", "replica-2", "replica-3"},
                                             {"warmpool-0", "warmpool-1", "warmpool-2"}}) {
    auto assigned = Assign(Pools(100), members);
    REQUIRE(assigned.size() == 3);
    size_t total = 0;
    for (const auto& entry : assigned) {
      INFO(entry.first);
      CHECK(entry.second.size() >= 23);
      CHECK(entry.second.size() <= 43);
      total += entry.second.size();
    }
    CHECK(total == 100);
  }
}

TEST_CASE("rendezvous: removing a member moves only its pools, adding one moves only pools to it") {
  const std::vector<std::string> pools = Pools(200);
  const std::vector<std::string> three = {"a", "b", "c"}, two = {"a", "c"}, four = {"a", "b", "c", "d"};
  const auto before = OwnerMap(pools, three);
  const auto removed = OwnerMap(pools, two);
  int moved = 0;
  for (const std::string& p : pools) {
    INFO(p);
    if (before.at(p) == "b") {
      CHECK(removed.at(p) != "b");
      ++moved;
    } else {
      CHECK(removed.at(p) == before.at(p));  // nobody else's pool moves
    }
  }
  CHECK(moved > 0);
  const auto added = OwnerMap(pools, four);
  int gained = 0;
  for (const std::string& p : pools) {
    INFO(p);
    if (added.at(p) != before.at(p)) {
      CHECK(added.at(p) == "d");  // a pool moves only to the new member
      ++gained;
    }
  }
  CHECK(gained >= 30);  // about a quarter of 200
  CHECK(gained <= 70);
}

TEST_CASE("rendezvous: the order of members and duplicates do not matter, no members owns nothing") {
  const std::vector<std::string> pools = Pools(50);
  CHECK(OwnerMap(pools, {"a", "b", "c"}) == OwnerMap(pools, {"c", "a", "b"}));
  CHECK(OwnerMap(pools, {"a", "b", "c"}) == OwnerMap(pools, {"c", "a", "b", "a"}));
  CHECK(OwnerOf("web", {}).empty());
  CHECK(Assign(pools, {}).empty());
  auto one = Assign(pools, {"solo"});
  REQUIRE(one.size() == 1);
  CHECK(one["solo"] == pools);  // in the order given
  auto none = Assign({}, {"a", "b"});
  CHECK(none.size() == 2);
  CHECK(none["a"].empty());
}
