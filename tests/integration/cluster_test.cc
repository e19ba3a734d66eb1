// Integration tests of controller/cluster/ against a REAL etcd (Debian's etcd-server 3.4): a 3-member
// cluster on 127.0.0.1 with ephemeral ports and temp dirs (tests/support/etcd_test_util.h), stopped by
// PID. Leases and their expiry, compare-and-swap, endpoint failover, exclusive ownership among racing
// members, fencing of an owner that stops renewing, the leader killed under load, and 100 pools spread
// over 3 members.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "controller/cluster/etcd.h"
#include "controller/cluster/member.h"
#include "controller/cluster/rendezvous.h"
#include "tests/support/etcd_test_util.h"
#include "tests/support/harness.h"
#include "tests/support/prometheus_test_util.h"

using namespace warmpool;
using namespace warmpool::testing;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

std::unique_ptr<EtcdCluster> StartEtcd(int n = 3, const std::vector<std::string>& extra = {},
                                       const EtcdTlsFiles* tls = nullptr) {
  auto etcd = EtcdCluster::Start(n, extra, tls);
  REQUIRE_MESSAGE(etcd != nullptr, "the etcd cluster did not start (is etcd-server installed?)");
  return etcd;
}

std::unique_ptr<EtcdClient> Client(const EtcdConfig& config) {
  auto c = EtcdClient::Create(config);
  REQUIRE_MESSAGE(c.ok(), c.status().ToString());
  return std::move(c).value();
}

std::unique_ptr<EtcdClient> Client(const std::vector<std::string>& endpoints, const std::string& prefix) {
  return Client(TestEtcdConfig(endpoints, prefix));
}

// The endpoints starting at `first`, the others after it in order.
std::vector<std::string> Rotated(std::vector<std::string> endpoints, size_t first) {
  std::rotate(endpoints.begin(), endpoints.begin() + static_cast<long>(first % endpoints.size()),
              endpoints.end());
  return endpoints;
}

std::unique_ptr<ClusterMember> Member(const std::vector<std::string>& endpoints, const std::string& prefix,
                                      const std::string& name, DurationMs ttl) {
  ClusterMemberOptions options;
  options.name = name;
  options.lease_ttl = ttl;
  options.info = name;
  return std::make_unique<ClusterMember>(Client(endpoints, prefix), options, &MonotonicClock(),
                                         Client(endpoints, prefix));
}

TimeMs Now() { return MonotonicClock().Now(); }

bool Owns(const ClusterMember& m, const std::string& pool) {
  const std::vector<std::string> owned = m.OwnedPools();
  return std::find(owned.begin(), owned.end(), pool) != owned.end();
}

}  // namespace

TEST_CASE("cluster: etcd leases are granted, kept alive, revoked and expire on a real 3-member etcd") {
  auto etcd = StartEtcd();
  auto c = Client(etcd->endpoints(), "/t");
  Result<EtcdLease> lease = c->LeaseGrant(2 * kSecond);
  REQUIRE_MESSAGE(lease.ok(), lease.status().ToString());
  CHECK(lease->ttl_seconds >= 2);
  REQUIRE(c->Put("/t/leased", "v", lease->id).ok());
  Result<EtcdRange> r = c->Range("/t/leased");
  REQUIRE(r.ok());
  REQUIRE(r->kvs.size() == 1);
  CHECK(r->kvs[0].lease == lease->id);
  Result<int64_t> ttl = c->LeaseKeepAlive(lease->id);
  REQUIRE_MESSAGE(ttl.ok(), ttl.status().ToString());
  CHECK(*ttl == lease->ttl_seconds);
  REQUIRE(c->LeaseRevoke(lease->id).ok());
  CHECK(c->Range("/t/leased")->kvs.empty());  // the key went with the lease
  CHECK(c->LeaseKeepAlive(lease->id).status().code() == Status::Code::kNotFound);
  Status again = c->LeaseRevoke(lease->id);
  CHECK(again.code() == Status::Code::kNotFound);
  CHECK(again.message().find("etcdserver: requested lease not found") != std::string::npos);

  // Expiry: a lease nobody keeps alive takes its keys with it after its TTL (etcd checks every 0.5 s).
  Result<EtcdLease> short_lease = c->LeaseGrant(2 * kSecond);
  REQUIRE(short_lease.ok());
  const TimeMs granted = Now();
  REQUIRE(c->Put("/t/expiring", "v", short_lease->id).ok());
  REQUIRE(WaitFor([&] { return c->Range("/t/expiring")->kvs.empty(); }, seconds(10)));
  const DurationMs lived = Now() - granted;
  MESSAGE("a " << short_lease->ttl_seconds << "s lease expired after " << lived << " ms");
  CHECK(lived >= short_lease->ttl_seconds * kSecond - 100);
  CHECK(lived <= short_lease->ttl_seconds * kSecond + 4000);
  CHECK(c->LeaseKeepAlive(short_lease->id).status().code() == Status::Code::kNotFound);
  Result<int64_t> put = c->Put("/t/expiring", "v", short_lease->id);
  CHECK(put.status().code() == Status::Code::kNotFound);
}

TEST_CASE("cluster: etcd range, prefix and compare-and-swap on a real etcd, a stale mod_revision fails") {
  auto etcd = StartEtcd();
  auto c = Client(etcd->endpoints(), "/t");
  const std::string binary("v\x00\xff\n\"{}", 7);
  REQUIRE(c->Put("/t/p/a", "1").ok());
  REQUIRE(c->Put("/t/p/b", binary).ok());
  REQUIRE(c->Put("/t/p0", "sibling").ok());  // shares the text but not the prefix "/t/p/"
  Result<EtcdRange> all = c->RangePrefix("/t/p/");
  REQUIRE(all.ok());
  REQUIRE(all->kvs.size() == 2);
  CHECK(all->kvs[0].key == "/t/p/a");
  CHECK(all->kvs[1].value == binary);
  CHECK(c->Range("/t/none")->kvs.empty());

  const int64_t rev = c->Range("/t/p/a")->kvs[0].mod_revision;
  Result<EtcdTxnResult> cas = c->PutIfModRevision("/t/p/a", "2", rev);
  REQUIRE(cas.ok());
  CHECK(cas->succeeded);
  CHECK(cas->revision > rev);
  CHECK(c->Range("/t/p/a")->kvs[0].mod_revision == cas->revision);
  // A stale writer, still holding `rev`, fails and learns what is there now.
  Result<EtcdTxnResult> stale = c->PutIfModRevision("/t/p/a", "stale", rev);
  REQUIRE(stale.ok());
  CHECK_FALSE(stale->succeeded);
  REQUIRE(stale->current.has_value());
  CHECK(stale->current->value == "2");
  CHECK(c->Range("/t/p/a")->kvs[0].value == "2");
  // mod_revision 0: the key must not exist.
  CHECK(c->PutIfModRevision("/t/new", "x", 0)->succeeded);
  CHECK_FALSE(c->PutIfModRevision("/t/new", "y", 0)->succeeded);
  // Create-if-absent, and delete only at the revision read.
  CHECK(c->CreateIfAbsent("/t/once", "first", 0)->succeeded);
  Result<EtcdTxnResult> second = c->CreateIfAbsent("/t/once", "second", 0);
  CHECK_FALSE(second->succeeded);
  CHECK(second->current->value == "first");
  CHECK_FALSE(c->DeleteIfModRevision("/t/p/a", rev)->succeeded);
  CHECK(c->DeleteIfModRevision("/t/p/a", cas->revision)->succeeded);
  CHECK(c->Range("/t/p/a")->kvs.empty());
}

TEST_CASE("cluster: a dead etcd endpoint is skipped, and when none answers every one is named") {
  auto etcd = StartEtcd(1);
  const int dead_port = PickFreePort();
  const std::string dead = "http://127.0.0.1:" + std::to_string(dead_port);
  auto c = Client({dead, etcd->endpoints()[0]}, "/t");
  REQUIRE(c->Put("/t/k", "v").ok());
  CHECK(c->endpoint_in_use() == etcd->endpoints()[0]);
  etcd->Kill(0);
  Result<EtcdRange> none = c->Range("/t/k");
  CHECK(none.status().code() == Status::Code::kUnavailable);
  CHECK(none.status().message() == "etcd: no endpoint answered: " + etcd->endpoints()[0] +
                                       " (connection refused), " + dead + " (connection refused)");
}

TEST_CASE("cluster: CreateIfAbsent is exclusive among 3 members racing from threads, 20 rounds") {
  auto etcd = StartEtcd();
  std::vector<std::unique_ptr<ClusterMember>> members;
  for (int i = 0; i < 3; ++i) {
    members.push_back(Member(Rotated(etcd->endpoints(), i), "/race", "m" + std::to_string(i), 10 * kSecond));
    Status s = members.back()->Join();
    REQUIRE_MESSAGE(s.ok(), s.ToString());
  }
  // A second replica with a live member's name is refused.
  auto twin = Member(etcd->endpoints(), "/race", "m0", 10 * kSecond);
  Status taken = twin->Join();
  CHECK(taken.code() == Status::Code::kFailedPrecondition);
  CHECK(taken.message().find("is taken by a live member") != std::string::npos);

  auto reader = Client(etcd->endpoints(), "/race");
  std::map<std::string, int> wins;
  for (int round = 0; round < 20; ++round) {
    const std::string pool = "pool-" + std::to_string(round);
    std::barrier start(3);
    std::vector<int> won(3, 0);
    std::vector<std::string> errors(3);
    std::vector<std::thread> threads;
    for (int i = 0; i < 3; ++i) {
      threads.emplace_back([&, i] {
        start.arrive_and_wait();
        Result<bool> r = members[i]->TryOwn(pool);
        if (!r.ok()) {
          errors[i] = r.status().ToString();
        } else {
          won[i] = *r ? 1 : 0;
        }
      });
    }
    for (std::thread& t : threads) t.join();
    for (const std::string& e : errors) CHECK_MESSAGE(e.empty(), e);
    CHECK_MESSAGE(won[0] + won[1] + won[2] == 1, "round " << round);
    const int winner = static_cast<int>(std::find(won.begin(), won.end(), 1) - won.begin());
    Result<EtcdRange> key = reader->Range("/race/owners/" + pool);
    REQUIRE(key.ok());
    REQUIRE(key->kvs.size() == 1);
    CHECK(key->kvs[0].value == "m" + std::to_string(winner));
    CHECK(key->kvs[0].lease == members[winner]->lease_id());
    ++wins["m" + std::to_string(winner)];
  }
  for (const auto& entry : wins) MESSAGE(entry.first << " won " << entry.second << " of 20");
  for (auto& m : members) CHECK(m->Leave().ok());
  CHECK(reader->RangePrefix("/race/")->kvs.empty());
}

TEST_CASE(
    "cluster: an owner that stops renewing is fenced before its lease expires, then another member owns") {
  auto etcd = StartEtcd();
  const DurationMs ttl = 3 * kSecond;
  auto a = Member(etcd->endpoints(), "/fence", "a", ttl);
  auto b = Member(Rotated(etcd->endpoints(), 1), "/fence", "b", ttl);
  REQUIRE(a->Join().ok());
  REQUIRE(b->Join().ok());
  REQUIRE(a->TryOwn("web").value());
  CHECK_FALSE(b->TryOwn("web").value());
  Result<int64_t> state = a->PutOwned("web", "/fence/state/web", "a's state", 0);
  REQUIRE_MESSAGE(state.ok(), state.status().ToString());
  const TimeMs a_renewed = a->last_renewal(), a_deadline = a->fence_deadline();
  // b renews on its own thread as a replica does (every ttl/3); a has stopped (frozen, or cut off).
  std::atomic<bool> stop{false};
  std::atomic<int> b_renew_failures{0};
  std::thread renewer([&] {
    while (!stop) {
      if (!b->Renew().ok()) ++b_renew_failures;
      for (int i = 0; i < 10 && !stop; ++i) std::this_thread::sleep_for(milliseconds(ttl / 30));
    }
  });
  auto reader = Client(etcd->endpoints(), "/fence");
  TimeMs a_fenced = 0, key_gone = 0, b_owns = 0;
  int samples = 0, overlaps = 0;
  const TimeMs give_up = Now() + 4 * ttl;
  while (b_owns == 0 && Now() < give_up) {
    const bool a_may = a->MayApply(Now());
    if (!a_may && a_fenced == 0) a_fenced = Now();
    Result<EtcdRange> key = reader->Range("/fence/owners/web");
    REQUIRE(key.ok());
    const bool a_holds_key = !key->kvs.empty() && key->kvs[0].lease == a->lease_id();
    if (!a_holds_key && key_gone == 0) key_gone = Now();
    Result<bool> mine = b->TryOwn("web");
    REQUIRE(mine.ok());
    if (*mine) {
      b_owns = Now();
      if (key_gone == 0) key_gone = b_owns;  // it went between the read above and b's create
    }
    // Both members believe they hold the pool and both may apply: never.
    const TimeMs now = Now();
    if (Owns(*a, "web") && a->MayApply(now) && Owns(*b, "web") && b->MayApply(now)) ++overlaps;
    ++samples;
    std::this_thread::sleep_for(milliseconds(20));
  }
  stop = true;
  renewer.join();
  MESSAGE(samples << " samples; after a's last renewal: fenced at " << a_fenced - a_renewed
                  << " ms, key gone at " << key_gone - a_renewed << " ms, b owns at " << b_owns - a_renewed
                  << " ms (ttl " << ttl << " ms, margin " << a->fencing_margin() << " ms)");
  CHECK(overlaps == 0);
  CHECK(b_renew_failures == 0);
  REQUIRE(a_fenced != 0);
  REQUIRE(key_gone != 0);
  REQUIRE(b_owns != 0);
  CHECK(a_deadline == a_renewed + ttl - a->fencing_margin());
  CHECK(a_fenced >= a_deadline);  // never early (samples come late by up to one round under load)
  CHECK(a_fenced < key_gone);
  CHECK(key_gone >= a_deadline + a->fencing_margin());  // the key outlived a's fence by the margin at least
  CHECK(b_owns - a_renewed >= ttl);
  CHECK(b_owns - a_renewed <= ttl + 4000);  // etcd looks for expired leases every 0.5 s
  // a, waking, writes the state at the revision it read: refused by etcd, since the pool is b's now.
  Status stale = a->PutOwned("web", "/fence/state/web", "a's stale state", *state).status();
  CHECK(stale.code() == Status::Code::kFailedPrecondition);
  CHECK(stale.message().find("no longer owns pool \"web\" (owner: b)") != std::string::npos);
  CHECK(reader->Range("/fence/state/web")->kvs[0].value == "a's state");
  CHECK(b->PutOwned("web", "/fence/state/web", "b's state", *state).ok());
  // a learns it lost the lease at its next renewal, and may not apply until it joins again.
  CHECK(a->Renew().code() == Status::Code::kNotFound);
  CHECK_FALSE(a->joined());
  CHECK(a->OwnedPools().empty());
  CHECK_FALSE(a->MayApply(Now()));
}

TEST_CASE(
    "cluster: 100 pools over 3 members, each owns its Assign share, and a leaving member's pools move only") {
  auto etcd = StartEtcd();
  std::vector<std::string> pools;
  for (int i = 0; i < 100; ++i) pools.push_back("pool-" + std::to_string(i));
  std::vector<std::unique_ptr<ClusterMember>> m;
  for (int i = 0; i < 3; ++i) {
    m.push_back(
        Member(Rotated(etcd->endpoints(), i), "/shard", "replica-" + std::to_string(i), 10 * kSecond));
    REQUIRE(m.back()->Join().ok());
  }
  const std::vector<std::string> names = {"replica-0", "replica-1", "replica-2"};
  auto share = Assign(pools, names);
  std::vector<std::vector<std::string>> before(3);
  for (int i = 0; i < 3; ++i) {
    auto r = m[i]->Balance(pools);
    REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    CHECK(r->error.ok());
    CHECK(r->members == names);
    CHECK(r->waiting.empty());
    std::vector<std::string> expected = share[names[i]];
    std::sort(expected.begin(), expected.end());
    CHECK(r->owned == expected);
    CHECK(r->owned.size() >= 23);
    CHECK(r->owned.size() <= 43);
    MESSAGE(names[i] << " owns " << r->owned.size() << " pools");
    before[i] = r->owned;
  }
  Result<std::map<std::string, std::string>> owners = m[0]->Owners();
  REQUIRE(owners.ok());
  CHECK(owners->size() == 100);
  for (const auto& entry : *owners) CHECK(entry.second == OwnerOf(entry.first, names));

  // replica-2 leaves: its pools go to the other two, whose own pools stay where they are.
  REQUIRE(m[2]->Leave().ok());
  for (int i = 0; i < 2; ++i) {
    auto r = m[i]->Balance(pools);
    REQUIRE(r.ok());
    CHECK(r->released.empty());
    for (const std::string& p : before[i]) CHECK(Owns(*m[i], p));
    for (const std::string& p : r->taken) {
      INFO(p);
      CHECK(std::find(before[2].begin(), before[2].end(), p) != before[2].end());
    }
  }
  CHECK(m[0]->OwnedPools().size() + m[1]->OwnedPools().size() == 100);
  CHECK(m[0]->Owners()->size() == 100);

  // It comes back: the others release its share at their next Balance, then it takes it.
  REQUIRE(m[2]->Join().ok());
  for (int i = 0; i < 2; ++i) REQUIRE(m[i]->Balance(pools).ok());
  auto back = m[2]->Balance(pools);
  REQUIRE(back.ok());
  CHECK(back->owned == before[2]);
  for (int i = 0; i < 2; ++i) CHECK(m[i]->OwnedPools() == before[i]);
}

TEST_CASE("cluster: the etcd leader killed under load, members fail over and ownership stays unique") {
  auto etcd = StartEtcd();
  const int leader = etcd->WaitLeader(seconds(10));
  REQUIRE_MESSAGE(leader >= 0, etcd->Logs());
  const DurationMs ttl = 5 * kSecond;
  std::vector<std::string> pools;
  for (int i = 0; i < 12; ++i) pools.push_back("pool-" + std::to_string(i));
  // Every member talks to the leader first, so killing it makes each one fail over.
  std::vector<std::unique_ptr<ClusterMember>> m;
  for (int i = 0; i < 3; ++i) {
    m.push_back(Member(Rotated(etcd->endpoints(), leader), "/failover", "m" + std::to_string(i), ttl));
    REQUIRE(m.back()->Join().ok());
  }
  for (auto& member : m) REQUIRE(member->Balance(pools).ok());
  for (auto& member : m) REQUIRE(member->Balance(pools).ok());
  CHECK(m[0]->Owners()->size() == pools.size());

  std::atomic<bool> stop{false};
  std::atomic<int> renew_failures{0}, balance_failures{0}, lost_leases{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([&, i] {
      TimeMs next_renewal = 0;
      while (!stop) {
        if (Now() >= next_renewal) {
          Status s = m[i]->Renew();
          if (s.code() == Status::Code::kNotFound) ++lost_leases;
          if (!s.ok()) ++renew_failures;
          next_renewal = Now() + ttl / 3;
        }
        if (!m[i]->Balance(pools).ok()) ++balance_failures;
        std::this_thread::sleep_for(milliseconds(100));
      }
    });
  }
  int overlaps = 0, samples = 0;
  auto sample_for = [&](milliseconds d) {
    const auto end = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < end) {
      const TimeMs now = Now();
      for (const std::string& p : pools) {
        int acting = 0;
        for (auto& member : m) acting += Owns(*member, p) && member->MayApply(now) ? 1 : 0;
        if (acting > 1) ++overlaps;
      }
      ++samples;
      std::this_thread::sleep_for(milliseconds(10));
    }
  };
  sample_for(milliseconds(1500));
  const TimeMs killed = Now();
  etcd->Kill(static_cast<size_t>(leader));
  const int new_leader = etcd->WaitLeader(seconds(15));
  const DurationMs election = Now() - killed;
  sample_for(milliseconds(2 * ttl));
  stop = true;
  for (std::thread& t : threads) t.join();
  MESSAGE("leader " << leader << " killed; new leader " << new_leader << " after " << election << " ms; "
                    << samples << " samples, renewal failures " << renew_failures.load()
                    << ", balance failures " << balance_failures.load()
                    << "; endpoints now: " << m[0]->endpoint_in_use() << " " << m[1]->endpoint_in_use() << " "
                    << m[2]->endpoint_in_use());
  CHECK(new_leader >= 0);
  CHECK(new_leader != leader);
  CHECK(overlaps == 0);
  CHECK(lost_leases == 0);  // a new leader extends the leases it finds: nobody lost its pools
  const std::string dead = etcd->endpoints()[static_cast<size_t>(leader)];
  for (auto& member : m) {
    CHECK(member->joined());
    CHECK(member->MayApply(Now()));
    CHECK(member->endpoint_in_use() != dead);
  }
  Result<std::map<std::string, std::string>> owners = m[0]->Owners();
  REQUIRE(owners.ok());
  CHECK(owners->size() == pools.size());
  size_t owned = 0;
  for (auto& member : m) owned += member->OwnedPools().size();
  CHECK(owned == pools.size());
}

TEST_CASE(
    "cluster: etcd with auth enabled, a password file, and a wrong password refused with etcd's message") {
  auto etcd = StartEtcd(1, {"--auth-token-ttl=2"});
  REQUIRE(etcd->Etcdctl(0, "user add root:rootpw"));
  REQUIRE(etcd->Etcdctl(0, "user add warmpool:s3cret"));
  REQUIRE(etcd->Etcdctl(0, "role add warmpool"));
  REQUIRE(etcd->Etcdctl(0, "role grant-permission warmpool --prefix=true readwrite /auth/"));
  REQUIRE(etcd->Etcdctl(0, "user grant-role warmpool warmpool"));
  REQUIRE(etcd->Etcdctl(0, "auth enable"));
  TempDir dir;
  EtcdConfig config = TestEtcdConfig(etcd->endpoints(), "/auth");
  config.username = "warmpool";
  config.password_file = dir.Write("etcd-password", "s3cret\n");
  auto c = EtcdClient::Create(config);
  REQUIRE_MESSAGE(c.ok(), c.status().ToString());
  Result<int64_t> put = (*c)->Put("/auth/k", "v");
  REQUIRE_MESSAGE(put.ok(), put.status().ToString());
  Status denied = (*c)->Put("/elsewhere", "v").status();
  CHECK(denied.code() == Status::Code::kFailedPrecondition);
  CHECK(denied.message().find("etcdserver: permission denied") != std::string::npos);
  // The token expires (--auth-token-ttl=2): the client authenticates again by itself.
  std::this_thread::sleep_for(seconds(4));
  Result<EtcdRange> read = (*c)->Range("/auth/k");
  REQUIRE_MESSAGE(read.ok(), read.status().ToString());
  CHECK(read->kvs.size() == 1);

  dir.Write("etcd-password", "wrong\n");  // read again at the next authentication
  EtcdConfig wrong = config;
  auto w = EtcdClient::Create(wrong);
  REQUIRE(w.ok());
  Status refused = (*w)->Range("/auth/k").status();
  CHECK(refused.code() == Status::Code::kInvalidArgument);
  CHECK(refused.message() ==
        "etcd " + etcd->endpoints()[0] + ": etcdserver: authentication failed, invalid user ID or password");
}

TEST_CASE("cluster: etcd over https, the server verified with tls.ca_file, and refused without it") {
  TempDir certs;
  // A CA and a certificate for 127.0.0.1 (the helper also writes a Prometheus web config, unused here).
  REQUIRE_FALSE(MakeWebConfig(certs, "unused", "unused").empty());
  const EtcdTlsFiles tls{certs.path() + "/server.crt", certs.path() + "/server.key",
                         certs.path() + "/ca.crt"};
  auto etcd = StartEtcd(1, {}, &tls);
  REQUIRE(etcd->endpoints()[0].rfind("https://", 0) == 0);
  EtcdConfig config = TestEtcdConfig(etcd->endpoints(), "/tls");
  config.http.tls_ca_file = tls.ca_file;
  auto member = std::make_unique<ClusterMember>(Client(config), ClusterMemberOptions{"a", 5 * kSecond, 0, ""},
                                                &MonotonicClock());
  Status joined = member->Join();
  REQUIRE_MESSAGE(joined.ok(), joined.ToString());
  CHECK(member->TryOwn("web").value());
  CHECK(member->Renew().ok());
  // Without the CA, the server's certificate is not trusted: the endpoint does not answer.
  auto untrusted = Client(TestEtcdConfig(etcd->endpoints(), "/tls"));
  Status refused = untrusted->Range("/tls/owners/web").status();
  CHECK(refused.code() == Status::Code::kUnavailable);
  CHECK(refused.message().find("etcd: no endpoint answered: " + etcd->endpoints()[0] + " (") == 0);
  MESSAGE(refused.message());
  CHECK(member->Leave().ok());
}

TEST_CASE(
    "cluster: etcd lost mid-run, owners stop acting within the TTL, and resume with their pools when it "
    "returns") {
  auto etcd = StartEtcd();
  const DurationMs ttl = 3 * kSecond;
  auto a = Member(etcd->endpoints(), "/outage", "a", ttl);
  REQUIRE(a->Join().ok());
  REQUIRE(a->TryOwn("web").value());
  for (size_t i = 0; i < etcd->size(); ++i) etcd->Kill(i);
  const TimeMs lost = Now();
  // Renewals fail, naming every endpoint; the fence closes on its own.
  Status renew = a->Renew();
  CHECK(renew.code() == Status::Code::kUnavailable);
  for (const std::string& e : etcd->endpoints()) CHECK(renew.message().find(e + " (") != std::string::npos);
  REQUIRE(WaitFor([&] { return !a->MayApply(Now()); }, milliseconds(ttl)));
  MESSAGE("fenced " << Now() - lost << " ms after etcd was lost: " << a->FenceReason(Now()));
  std::this_thread::sleep_for(milliseconds(ttl + 1000));  // past the TTL: still fenced, still joined locally
  CHECK_FALSE(a->MayApply(Now()));
  CHECK(a->joined());
  // etcd comes back (same data dirs): a new leader extends every lease it finds, so the member's
  // lease, registration and ownership survived the outage, and its next renewal opens the fence.
  for (size_t i = 0; i < etcd->size(); ++i) REQUIRE(etcd->Restart(i));
  REQUIRE_MESSAGE(etcd->WaitHealthy(seconds(30)), etcd->Logs());
  Status back = Status::Unavailable("not tried");
  REQUIRE(WaitFor([&] { return (back = a->Renew()).ok(); }, seconds(15)));
  CHECK(a->MayApply(Now()));
  CHECK(a->OwnedPools() == std::vector<std::string>{"web"});
  Result<std::map<std::string, std::string>> owners = a->Owners();
  REQUIRE(owners.ok());
  CHECK(*owners == std::map<std::string, std::string>{{"web", "a"}});
  CHECK(a->Members().value() == std::vector<std::string>{"a"});
}
