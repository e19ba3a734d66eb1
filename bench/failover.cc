// Failover time of the cluster room on a real 3-member etcd (Debian's etcd-server on loopback, temp
// dirs, stopped by PID): 3 replicas share the pools (ClusterMember::Balance every tick, Renew every
// ttl/3, each on its own thread, as a replica runs them); each round one replica dies without a word
// (its thread stops and its member is destroyed without Leave: etcd sees what it sees of a kill -9,
// since the gateway ties no lease to a connection), and the bench times, for every pool it owned, the
// moment another replica owns it and may apply (kill -> new owner). A replica with the dead one's name
// is started at once, as a supervisor would, and the time until it joins (its name is free only when
// the old lease expires) is reported too; the pools are balanced again before the next round, and
// the kill comes at a random moment (seeded) of a renewal period.
//
//   bench_failover [--kills 20] [--ttl 3s] [--tick 1s] [--pools 12]
//
// Expected: failover <= ttl + tick + etcd's expiry check (0.5 s); at least ttl*2/3 (the dead replica
// renewed at most ttl/3 before it died). The app's own failover (kill -> first plan applied) adds the
// new owner's state load and its first tick: that is bench material for the wired app.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "controller/cluster/member.h"
#include "controller/cluster/rendezvous.h"
#include "tests/support/etcd_test_util.h"

using namespace warmpool;
using namespace warmpool::testing;

namespace {

TimeMs Now() { return MonotonicClock().Now(); }

void Sleep(DurationMs ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

// One replica: joins (retrying while its name is still held), renews every ttl/3, balances every tick.
class Replica {
 public:
  Replica(const std::vector<std::string>& endpoints, std::string name, DurationMs ttl, DurationMs tick,
          const std::vector<std::string>* pools)
      : name_(std::move(name)), ttl_(ttl), tick_(tick), pools_(pools) {
    auto client = EtcdClient::Create(TestEtcdConfig(endpoints, "/bench"));
    auto lease_client = EtcdClient::Create(TestEtcdConfig(endpoints, "/bench"));
    if (!client.ok() || !lease_client.ok()) {
      std::fprintf(stderr, "%s\n", client.status().ToString().c_str());
      std::exit(1);
    }
    member_ =
        std::make_unique<ClusterMember>(std::move(client).value(), ClusterMemberOptions{name_, ttl, 0, name_},
                                        &MonotonicClock(), std::move(lease_client).value());
    started_ = Now();
    thread_ = std::thread([this] { Run(); });
  }
  // Dies without a word: no Leave, the lease is left to expire.
  ~Replica() {
    stop_ = true;
    thread_.join();
  }
  ClusterMember& member() { return *member_; }
  TimeMs joined_at() const { return joined_at_; }
  TimeMs started() const { return started_; }
  bool Holds(const std::string& pool) {
    const std::vector<std::string> owned = member_->OwnedPools();
    return member_->MayApply(Now()) && std::find(owned.begin(), owned.end(), pool) != owned.end();
  }

 private:
  void Run() {
    TimeMs next_renewal = 0, next_tick = 0;
    while (!stop_) {
      const TimeMs now = Now();
      if (!member_->joined()) {
        if (member_->Join().ok()) {
          joined_at_ = Now();
          next_renewal = joined_at_ + ttl_ / 3;
          next_tick = 0;
        } else {
          Sleep(100);
          continue;
        }
      }
      if (now >= next_renewal) {
        member_->Renew();
        next_renewal = now + ttl_ / 3;
      }
      if (now >= next_tick) {
        member_->Balance(*pools_);
        next_tick = now + tick_;
      }
      Sleep(5);
    }
  }

  std::string name_;
  DurationMs ttl_, tick_;
  const std::vector<std::string>* pools_;
  std::unique_ptr<ClusterMember> member_;
  std::atomic<bool> stop_{false};
  std::atomic<TimeMs> joined_at_{0};
  TimeMs started_ = 0;
  std::thread thread_;
};

DurationMs Percentile(std::vector<DurationMs> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5))];
}

bool Balanced(std::vector<std::unique_ptr<Replica>>& replicas, const std::vector<std::string>& pools,
              const std::vector<std::string>& names) {
  auto share = Assign(pools, names);
  for (size_t i = 0; i < replicas.size(); ++i) {
    std::vector<std::string> want = share[names[i]];
    std::sort(want.begin(), want.end());
    if (replicas[i]->member().OwnedPools() != want || !replicas[i]->member().MayApply(Now())) return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  int kills = 20, pool_count = 12;
  DurationMs ttl = 3 * kSecond, tick = kSecond;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--kills") {
      kills = std::stoi(value);
    } else if (flag == "--pools") {
      pool_count = std::stoi(value);
    } else if (flag == "--ttl" || flag == "--tick") {
      Result<DurationMs> d = ParseDuration(value);
      if (!d.ok()) {
        std::fprintf(stderr, "%s: %s\n", flag.c_str(), d.status().message().c_str());
        return 2;
      }
      (flag == "--ttl" ? ttl : tick) = *d;
    } else {
      std::fprintf(stderr, "usage: bench_failover [--kills N] [--ttl 3s] [--tick 1s] [--pools N]\n");
      return 2;
    }
  }
  auto etcd = EtcdCluster::Start(3);
  if (!etcd) return 1;
  std::vector<std::string> pools;
  for (int i = 0; i < pool_count; ++i) pools.push_back("pool-" + std::to_string(i));
  const std::vector<std::string> names = {"replica-0", "replica-1", "replica-2"};
  std::vector<std::unique_ptr<Replica>> replicas;
  for (const std::string& n : names)
    replicas.push_back(std::make_unique<Replica>(etcd->endpoints(), n, ttl, tick, &pools));
  if (!WaitFor([&] { return Balanced(replicas, pools, names); }, std::chrono::seconds(30))) {
    std::fprintf(stderr, "the replicas did not balance the pools\n");
    return 1;
  }
  std::printf("failover on a real 3-member etcd: %d kills, ttl %s, tick %s, %d pools over 3 replicas\n",
              kills, FormatDuration(ttl).c_str(), FormatDuration(tick).c_str(), pool_count);
  std::printf("%5s %-10s %6s %12s %12s %12s\n", "kill", "replica", "pools", "failover ms", "since renew",
              "rejoin ms");
  std::vector<DurationMs> failovers, rejoins;
  std::mt19937 rng(1);
  std::uniform_real_distribution<double> phase(0.0, 1.0);
  for (int k = 0; k < kills; ++k) {
    Sleep(static_cast<DurationMs>(phase(rng) * static_cast<double>(ttl) /
                                  3));  // any moment of a renewal period
    const size_t victim = static_cast<size_t>(k) % replicas.size();
    const std::vector<std::string> lost = replicas[victim]->member().OwnedPools();
    const TimeMs renewed = replicas[victim]->member().last_renewal();
    const TimeMs killed = Now();
    replicas[victim].reset();  // dies: no Leave
    // The supervisor starts it again at once; it joins once the old lease has expired.
    replicas[victim] = std::make_unique<Replica>(etcd->endpoints(), names[victim], ttl, tick, &pools);
    std::map<std::string, TimeMs> taken;
    while (taken.size() < lost.size() && Now() - killed < 3 * ttl + 10 * tick) {
      for (const std::string& p : lost) {
        if (taken.count(p)) continue;
        for (size_t i = 0; i < replicas.size(); ++i) {
          if (replicas[i]->Holds(p)) taken[p] = Now();
        }
      }
      Sleep(2);
    }
    if (taken.size() < lost.size()) {
      std::fprintf(stderr, "kill %d: %zu of %zu pools never got a new owner\n", k, lost.size() - taken.size(),
                   lost.size());
      return 1;
    }
    DurationMs failover = 0;
    for (const auto& entry : taken) failover = std::max(failover, entry.second - killed);
    if (!WaitFor([&] { return Balanced(replicas, pools, names); }, std::chrono::seconds(30))) {
      std::fprintf(stderr, "kill %d: the replicas did not balance again\n", k);
      return 1;
    }
    const DurationMs rejoin = replicas[victim]->joined_at() - killed;
    failovers.push_back(failover);
    rejoins.push_back(rejoin);
    std::printf("%5d %-10s %6zu %12lld %12lld %12lld\n", k + 1, names[victim].c_str(), lost.size(),
                static_cast<long long>(failover), static_cast<long long>(killed - renewed),
                static_cast<long long>(rejoin));
    std::fflush(stdout);
  }
  std::printf(
      "failover (kill -> every pool it owned owned again by a replica that may apply): median %lld ms, "
      "p90 %lld ms, max %lld ms; ttl %lld ms, ttl + tick %lld ms\n",
      static_cast<long long>(Percentile(failovers, 0.5)), static_cast<long long>(Percentile(failovers, 0.9)),
      static_cast<long long>(Percentile(failovers, 1.0)), static_cast<long long>(ttl),
      static_cast<long long>(ttl + tick));
  std::printf("rejoin under the same name (kill -> joined): median %lld ms, max %lld ms\n",
              static_cast<long long>(Percentile(rejoins, 0.5)),
              static_cast<long long>(Percentile(rejoins, 1.0)));
  return Percentile(failovers, 1.0) <= ttl + tick + 500 ? 0 : 3;
}
