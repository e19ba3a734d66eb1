// Unit tests of ClusterMember (controller/cluster/member.h) on a ManualClock over the in-memory etcd
// (fake_etcd.h): the fencing arithmetic and rule, joining, lease loss, ownership.
#include "controller/cluster/member.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "controller/cluster/rendezvous.h"
#include "tests/unit/controller/cluster/fake_etcd.h"

using namespace warmpool;

namespace {

// One fake etcd with two endpoints, and members built on it.
struct World {
  ManualClock clock{1'000'000};
  testing::FakeEtcd etcd{&clock};
  bool down[2] = {false, false};
  int lose[2] = {0, 0};

  std::unique_ptr<EtcdClient> Client() {
    EtcdConfig config;
    config.endpoints = {"http://e0:2379", "http://e1:2379"};
    std::vector<std::unique_ptr<HttpClient>> clients;
    for (int i = 0; i < 2; ++i) {
      clients.push_back(
          std::make_unique<testing::FakeEtcdEndpoint>(&etcd, config.endpoints[i], &down[i], &lose[i]));
    }
    auto client = EtcdClient::CreateWithClients(config, std::move(clients));
    REQUIRE(client.ok());
    return std::move(client).value();
  }
  // With `lease_client`, the member's lease has a client of its own (as recommended); without, one
  // client carries everything.
  std::unique_ptr<ClusterMember> Member(const std::string& name, DurationMs ttl = 10 * kSecond,
                                        bool lease_client = true) {
    ClusterMemberOptions options;
    options.name = name;
    options.lease_ttl = ttl;
    options.info = "{\"api\":\"" + name + ":8080\"}";
    return std::make_unique<ClusterMember>(Client(), options, &clock, lease_client ? Client() : nullptr);
  }
};

}  // namespace

TEST_CASE("fencing: the arithmetic of the deadline and the default margin") {
  CHECK(DefaultFencingMargin(10 * kSecond) == 2 * kSecond);  // ttl/5
  CHECK(DefaultFencingMargin(3 * kSecond) == kSecond);       // at least one second
  CHECK(DefaultFencingMargin(60 * kSecond) == 12 * kSecond);
  CHECK(FenceDeadline(5000, 10000, 2000) == 13000);
  CHECK(WithinFence(12999, 5000, 10000, 2000));
  CHECK_FALSE(WithinFence(13000, 5000, 10000, 2000));
  CHECK(CheckClusterMemberOptions({"replica-1", 10 * kSecond, 0, ""}).ok());
  CHECK(CheckClusterMemberOptions({"a/b", 10 * kSecond, 0, ""}).message() ==
        "cluster.member: must not contain '/', got \"a/b\"");
  CHECK(CheckClusterMemberOptions({"", 10 * kSecond, 0, ""}).message() ==
        "cluster.member: must not be empty");
  CHECK(CheckClusterMemberOptions({"a", 1 * kSecond, 0, ""})
            .message()
            .find("cluster.lease_ttl: must be between 2s") == 0);
  CHECK(CheckClusterMemberOptions({"a", 5 * kSecond, 5 * kSecond, ""}).message() ==
        "cluster.fencing_margin: must be below lease_ttl (5s), got 5s");
}

TEST_CASE("fencing: MayApply holds until the last renewal + ttl - margin, and a renewal moves it") {
  World w;
  auto a = w.Member("a");
  CHECK_FALSE(a->MayApply(w.clock.Now()));  // not joined
  CHECK(a->FenceReason(w.clock.Now()) == "not joined (no lease)");
  const TimeMs start = w.clock.Now();
  REQUIRE(a->Join().ok());
  CHECK(a->joined());
  CHECK(a->lease_ttl() == 10 * kSecond);
  CHECK(a->fence_deadline() == start + 8 * kSecond);
  CHECK(a->MayApply(start));
  CHECK(a->MayApply(start + 8 * kSecond - 1));
  CHECK_FALSE(a->MayApply(start + 8 * kSecond));
  CHECK(a->FenceReason(start + 8 * kSecond - 1).empty());
  CHECK(a->FenceReason(start + 8 * kSecond + 200) == "lease last renewed 8.2s ago (ttl 10s, margin 2s)");
  w.clock.Advance(3 * kSecond);
  REQUIRE(a->Renew().ok());
  CHECK(a->last_renewal() == start + 3 * kSecond);
  CHECK(a->MayApply(start + 11 * kSecond - 1));
  CHECK_FALSE(a->MayApply(start + 11 * kSecond));
}

TEST_CASE("fencing: a member cut off from etcd stops before its lease expires and another owns its pool") {
  World w;
  auto a = w.Member("a"), b = w.Member("b");
  REQUIRE(a->Join().ok());
  REQUIRE(b->Join().ok());
  REQUIRE(a->TryOwn("web").value());
  CHECK_FALSE(b->TryOwn("web").value());
  // a's renewals stop reaching etcd; b's still do (b renews through the store directly each step).
  bool a_fenced_at_expiry = true, overlap = false;
  TimeMs a_stopped = 0, b_took_over = 0;
  const int64_t a_lease = a->lease_id();
  for (int step = 0; step < 150; ++step) {
    w.clock.Advance(100);
    w.down[0] = w.down[1] = true;
    CHECK_FALSE(a->Renew().ok());
    w.down[0] = w.down[1] = false;
    if (step % 30 == 0) REQUIRE(b->Renew().ok());
    const TimeMs now = w.clock.Now();
    const bool a_may = a->MayApply(now);
    if (!a_may && a_stopped == 0) a_stopped = now;
    const bool a_lease_alive = w.etcd.leases.count(a_lease) > 0 && now < w.etcd.leases[a_lease].expires;
    if (!a_lease_alive && a_may) a_fenced_at_expiry = false;
    if (b_took_over == 0 && b->TryOwn("web").value()) b_took_over = now;
    const auto a_owned = a->OwnedPools();
    const bool a_holds = std::find(a_owned.begin(), a_owned.end(), "web") != a_owned.end();
    if (b_took_over != 0 && a_holds && a_may && b->MayApply(now)) overlap = true;
  }
  CHECK(a_fenced_at_expiry);
  CHECK_FALSE(overlap);
  REQUIRE(a_stopped != 0);
  REQUIRE(b_took_over != 0);
  CHECK(b_took_over - a_stopped >= a->fencing_margin());  // a stopped at least a margin before b could start
  // a learns at its next renewal that its lease is gone, and owns nothing.
  Status lost = a->Renew();
  CHECK(lost.code() == Status::Code::kNotFound);
  CHECK(lost.message().find("lost its lease") != std::string::npos);
  CHECK_FALSE(a->joined());
  CHECK(a->OwnedPools().empty());
  CHECK_FALSE(a->MayApply(w.clock.Now()));
  CHECK(a->TryOwn("web").status().code() == Status::Code::kFailedPrecondition);
  REQUIRE(a->Join().ok());  // a new lease, nothing owned
  CHECK_FALSE(a->TryOwn("web").value());
}

TEST_CASE("cluster member: a name held by a live lease is refused, and free again after Leave") {
  World w;
  auto a = w.Member("replica-1", 10 * kSecond, false), twin = w.Member("replica-1");
  REQUIRE(a->Join().ok());
  const size_t leases = w.etcd.leases.size();
  Status s = twin->Join();
  CHECK(s.code() == Status::Code::kFailedPrecondition);
  CHECK(s.message().find("cluster: the member name \"replica-1\" is taken by a live member (lease ") == 0);
  CHECK(s.message().find("each replica needs its own cluster.member") != std::string::npos);
  CHECK(w.etcd.leases.size() == leases);  // the twin's new lease was revoked
  CHECK(a->Members().value() == std::vector<std::string>{"replica-1"});
  REQUIRE(a->TryOwn("web").value());
  REQUIRE(a->Leave().ok());
  CHECK_FALSE(a->MayApply(w.clock.Now()));
  CHECK(w.etcd.kvs.empty());  // registration and ownership went with the lease
  REQUIRE(twin->Join().ok());
  CHECK(twin->TryOwn("web").value());
}

TEST_CASE("cluster member: TryOwn, Release, a lost answer, and Owners() reconciling") {
  World w;
  auto a = w.Member("a", 10 * kSecond, false), b = w.Member("b", 10 * kSecond, false);
  REQUIRE(a->Join().ok());
  REQUIRE(b->Join().ok());
  CHECK(a->Members().value() == std::vector<std::string>{"a", "b"});
  REQUIRE(a->TryOwn("web").value());
  CHECK(a->TryOwn("web").value());  // again: still ours
  CHECK_FALSE(b->TryOwn("web").value());
  CHECK(w.etcd.kvs.at("/warmpool/owners/web").value == "a");
  REQUIRE(a->Release("web").ok());
  CHECK(a->OwnedPools().empty());
  CHECK(a->Release("web").ok());  // owned nothing: nothing to do
  // b's create reaches etcd but its answer is lost: the retry on the other endpoint sees b's key.
  w.lose[0] = 1;
  CHECK(b->TryOwn("web").value());
  CHECK(b->OwnedPools() == std::vector<std::string>{"web"});
  // Someone deletes b's key by hand: Owners() says so and b no longer counts the pool as its own.
  w.etcd.kvs.erase("/warmpool/owners/web");
  REQUIRE(b->TryOwn("api").value());
  auto owners = b->Owners();
  REQUIRE(owners.ok());
  CHECK(*owners == std::map<std::string, std::string>{{"api", "b"}});
  CHECK(b->OwnedPools() == std::vector<std::string>{"api"});
  // A stale release (the key was deleted and re-created by another since) deletes nothing.
  w.etcd.kvs.erase("/warmpool/owners/api");
  REQUIRE(a->TryOwn("api").value());
  REQUIRE(b->Release("api").ok());
  CHECK(b->OwnedPools().empty());
  REQUIRE(w.etcd.kvs.count("/warmpool/owners/api") == 1);
  CHECK(w.etcd.kvs.at("/warmpool/owners/api").value == "a");
}

TEST_CASE(
    "cluster member: Balance owns the rendezvous share, hands pools over in order, and heals a lost "
    "registration") {
  World w;
  std::vector<std::string> pools;
  for (int i = 0; i < 30; ++i) pools.push_back("pool-" + std::to_string(i));
  auto a = w.Member("a"), b = w.Member("b");
  REQUIRE(a->Join().ok());
  auto alone = a->Balance(pools);
  REQUIRE(alone.ok());
  CHECK(alone->owned.size() == 30);
  CHECK(alone->taken.size() == 30);
  REQUIRE(b->Join().ok());
  // b's share is still a's until a releases it at its next Balance.
  auto early = b->Balance(pools);
  REQUIRE(early.ok());
  CHECK(early->taken.empty());
  const std::vector<std::string> b_share = Assign(pools, {"a", "b"})["b"];
  CHECK(early->waiting == b_share);
  auto handed = a->Balance(pools);
  REQUIRE(handed.ok());
  std::vector<std::string> b_sorted = b_share;
  std::sort(b_sorted.begin(), b_sorted.end());
  CHECK(handed->released == b_sorted);  // in OwnedPools() order
  CHECK(handed->owned == [&] {
    auto v = Assign(pools, {"a", "b"})["a"];
    std::sort(v.begin(), v.end());
    return v;
  }());
  auto late = b->Balance(pools);
  REQUIRE(late.ok());
  CHECK(late->taken == b_share);
  CHECK(late->waiting.empty());
  CHECK(a->Owners().value().size() == 30);
  // b's registration deleted by hand: its next Balance registers it again and keeps its pools.
  w.etcd.kvs.erase("/warmpool/members/b");
  auto healed = b->Balance(pools);
  REQUIRE(healed.ok());
  CHECK(healed->members == std::vector<std::string>{"a", "b"});
  CHECK(w.etcd.kvs.count("/warmpool/members/b") == 1);
  CHECK(healed->released.empty());
  // A pool dropped from the config is released.
  auto fewer = b->Balance(std::vector<std::string>(pools.begin() + 1, pools.end()));
  REQUIRE(fewer.ok());
  if (std::find(b_share.begin(), b_share.end(), "pool-0") != b_share.end()) {
    CHECK(fewer->released == std::vector<std::string>{"pool-0"});
  } else {
    CHECK(fewer->released.empty());
  }
  // The lease gone: Balance says so, and the member is no longer joined.
  w.clock.Advance(11 * kSecond);
  auto lost = a->Balance(pools);
  CHECK_FALSE(lost.ok());
  CHECK_FALSE(a->joined());
}

TEST_CASE("cluster member: PutOwned writes a pool's document only while the pool is still its own") {
  World w;
  auto a = w.Member("a"), b = w.Member("b");
  REQUIRE(a->Join().ok());
  REQUIRE(b->Join().ok());
  REQUIRE(a->TryOwn("web").value());
  Result<int64_t> first = a->PutOwned("web", "/warmpool/state/web", "v1", 0);
  REQUIRE(first.ok());
  Result<int64_t> second = a->PutOwned("web", "/warmpool/state/web", "v2", *first);
  REQUIRE(second.ok());
  // A stale revision.
  Status stale = a->PutOwned("web", "/warmpool/state/web", "v3", *first).status();
  CHECK(stale.code() == Status::Code::kFailedPrecondition);
  CHECK(stale.message() == "cluster: /warmpool/state/web changed meanwhile (revision " +
                               std::to_string(*second) + ", not " + std::to_string(*first) + ")");
  // b does not own the pool: even at the right revision it writes nothing.
  Status not_owner = b->PutOwned("web", "/warmpool/state/web", "b's", *second).status();
  CHECK(not_owner.code() == Status::Code::kFailedPrecondition);
  CHECK(not_owner.message() ==
        "cluster: member \"b\" no longer owns pool \"web\" (owner: a); /warmpool/state/web was not written");
  // a's lease expires while it is frozen; b takes the pool; a's write at the revision it read fails.
  w.clock.Advance(5 * kSecond);
  REQUIRE(b->Renew().ok());  // b keeps its lease alive, a does not
  w.clock.Advance(5 * kSecond);
  REQUIRE(b->TryOwn("web").value());
  Status lost = a->PutOwned("web", "/warmpool/state/web", "stale owner", *second).status();
  CHECK(lost.code() == Status::Code::kFailedPrecondition);
  CHECK(lost.message().find("no longer owns pool \"web\" (owner: b)") != std::string::npos);
  CHECK(w.etcd.kvs.at("/warmpool/state/web").value == "v2");
  CHECK(b->PutOwned("web", "/warmpool/state/web", "b's", *second).ok());
}

TEST_CASE("cluster member: etcd unreachable at Join names every endpoint, and a later Join succeeds") {
  World w;
  auto a = w.Member("a");
  w.down[0] = w.down[1] = true;
  Status s = a->Join();
  CHECK(s.code() == Status::Code::kUnavailable);
  CHECK(
      s.message() ==
      "etcd: no endpoint answered: http://e0:2379 (connection refused), http://e1:2379 (connection refused)");
  CHECK_FALSE(a->joined());
  CHECK_FALSE(a->MayApply(w.clock.Now()));
  w.down[0] = w.down[1] = false;
  REQUIRE(a->Join().ok());
  CHECK(a->MayApply(w.clock.Now()));
}
