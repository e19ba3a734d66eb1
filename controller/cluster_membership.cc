#include "controller/cluster_membership.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "controller/cluster/etcd.h"
#include "controller/cluster/member.h"
#include "controller/log/log.h"
#include "warmpool/text.h"

namespace warmpool {
namespace {

constexpr DurationMs kMaxJoinBackoff = 10 * kSecond;
constexpr DurationMs kWatchEvery = 250;  // how often the members and owners are looked at

class EtcdMembership final : public Membership {
 public:
  EtcdMembership(std::unique_ptr<ClusterMember> member, std::unique_ptr<EtcdClient> docs, DurationMs ttl)
      : member_(std::move(member)), docs_(std::move(docs)), ttl_(ttl), thread_([this] { Run(); }) {}

  ~EtcdMembership() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    wake_.notify_all();
    thread_.join();
    if (member_->joined()) {
      // Leaving at once hands the pools over now instead of one TTL later.
      if (Status st = member_->Leave(); !st.ok()) {
        Log(LogLevel::kWarn, "cluster: lease not revoked at exit", {{"error", st.message()}});
      }
    }
  }

  std::string Name() const override { return member_->name(); }

  void OnChange(std::function<void()> wake) override {
    std::lock_guard<std::mutex> lock(mu_);
    on_change_ = std::move(wake);
  }

  std::set<std::string> Balance(const std::vector<std::string>& pools, TimeMs) override {
    if (!member_->joined()) return {};
    // A new lease (the old one was lost while this thread waited on etcd) is a new life: the first
    // balance after it owns nothing, so the controller lets every pool go before it takes any back
    // and loads its state afresh.
    const int64_t lease = member_->lease_id();
    if (lease != balanced_lease_) {
      const bool first = balanced_lease_ == 0;
      balanced_lease_ = lease;
      if (!first) return {};
    }
    Result<ClusterMember::BalanceResult> r = member_->Balance(pools);
    if (!r.ok()) {
      Error("cluster: pools not balanced", r.status().message());
      const std::vector<std::string> owned = member_->OwnedPools();
      return {owned.begin(), owned.end()};
    }
    if (!r->error.ok()) Error("cluster: a pool not taken or released", r->error.message());
    {
      std::lock_guard<std::mutex> lock(mu_);
      members_ = r->members;
      if (r->error.ok()) error_.clear();
    }
    for (const std::string& pool : r->waiting) {
      Log(LogLevel::kInfo, "cluster: waiting for the last owner to let go", {{"pool", pool}});
    }
    return {r->owned.begin(), r->owned.end()};
  }

  bool MayApply(TimeMs) const override { return member_->MayApply(MonotonicClock().Now()); }

  std::string FenceReason(TimeMs) const override {
    const TimeMs now = MonotonicClock().Now();
    if (member_->MayApply(now)) return "";
    return "not an owner now (" + member_->name() + ": " + member_->FenceReason(now) + ")";
  }

  View Describe() override {
    View v;
    v.member = member_->name();
    v.joined = member_->joined();
    const TimeMs now = MonotonicClock().Now();
    v.may_apply = member_->MayApply(now);
    v.lease_age = v.joined ? now - member_->last_renewal() : 0;
    v.lease_ttl = member_->lease_ttl();
    v.endpoint = member_->endpoint_in_use();
    if (v.joined) {
      if (Result<std::map<std::string, std::string>> owners = member_->Owners(); owners.ok()) {
        v.owners = std::move(owners).value();
      } else {
        Error("cluster: owners not read", owners.status().message());
      }
    }
    std::lock_guard<std::mutex> lock(mu_);
    v.members = members_;
    v.renewal_failures = renewal_failures_;
    v.error = error_;
    return v;
  }

  Result<Document> Load(const std::string& pool, const std::string& kind) override {
    std::lock_guard<std::mutex> lock(docs_mu_);
    Result<EtcdRange> r = docs_->Range(Key(pool, kind));
    if (!r.ok()) return r.status();
    if (r->kvs.empty()) return Document{};
    return Document{r->kvs[0].value, r->kvs[0].mod_revision};
  }

  Result<std::map<std::string, Document>> LoadAll(const std::string& kind) override {
    std::lock_guard<std::mutex> lock(docs_mu_);
    const std::string prefix = docs_->prefix() + "/" + kind + "/";
    Result<EtcdRange> r = docs_->RangePrefix(prefix);
    if (!r.ok()) return r.status();
    std::map<std::string, Document> out;
    for (const EtcdKeyValue& kv : r->kvs) out[kv.key.substr(prefix.size())] = Document{kv.value, kv.mod_revision};
    return out;
  }

  Result<int64_t> Save(const std::string& pool, const std::string& kind, const std::string& text,
                       int64_t revision) override {
    if (kind == "state") return member_->PutOwned(pool, Key(pool, kind), text, revision);
    std::lock_guard<std::mutex> lock(docs_mu_);
    Result<EtcdTxnResult> r = docs_->PutIfModRevision(Key(pool, kind), text, revision);
    if (!r.ok()) return r.status();
    if (!r->succeeded) {
      return Status::FailedPrecondition("cluster: " + Key(pool, kind) + " changed on another member meanwhile (revision " +
                                        std::to_string(r->current ? r->current->mod_revision : 0) + ", not " +
                                        std::to_string(revision) + "); read it again and retry");
    }
    return r->revision;
  }

 private:
  std::string Key(const std::string& pool, const std::string& kind) const {
    return docs_->prefix() + "/" + kind + "/" + pool;
  }

  void Error(const char* what, const std::string& message) {
    Log(LogLevel::kWarn, what, {{"member", member_->name()}, {"error", message}});
    std::lock_guard<std::mutex> lock(mu_);
    error_ = message;
  }

  // Joins (with backoff while it fails), then renews every ttl/3; a lost lease joins again. Between
  // renewals it looks at the members and owners every kWatchEvery and wakes the controller when they
  // change (a member gone, a pool let go), so a pool waiting for this member is taken at once.
  void Run() {
    DurationMs backoff = 500;
    TimeMs renewed = MonotonicClock().Now();
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
      lock.unlock();
      DurationMs wait = std::min<DurationMs>(ttl_ / 3, kWatchEvery);
      if (member_->joined() && MonotonicClock().Now() - renewed < ttl_ / 3) {
        Watch();
      } else if (!member_->joined()) {
        Status st = member_->Join();
        if (st.ok()) {
          Log(LogLevel::kInfo, "cluster: joined", {{"member", member_->name()}, {"lease_ttl", FormatDuration(member_->lease_ttl())},
                                                  {"endpoint", member_->endpoint_in_use()}});
          backoff = 500;
        } else {
          Error("cluster: cannot join yet, acting on nothing meanwhile", st.message());
          wait = backoff;
          backoff = std::min(backoff * 2, kMaxJoinBackoff);
        }
      } else if (Status st = member_->Renew(); !st.ok()) {
        {
          std::lock_guard<std::mutex> g(mu_);
          ++renewal_failures_;
        }
        Error(st.code() == Status::Code::kNotFound ? "cluster: lease lost, joining again" : "cluster: lease not renewed",
              st.message());
        wait = std::min<DurationMs>(wait, 1000);
      } else {
        renewed = MonotonicClock().Now();
      }
      lock.lock();
      wake_.wait_for(lock, std::chrono::milliseconds(wait), [this] { return stop_; });
    }
  }

  // Members and owners as last seen by Run(); a change calls on_change_.
  void Watch() {
    std::string seen;
    {
      std::lock_guard<std::mutex> lock(docs_mu_);
      Result<EtcdRange> members = docs_->RangePrefix(docs_->prefix() + "/members/");
      Result<EtcdRange> owners = docs_->RangePrefix(docs_->prefix() + "/owners/");
      if (!members.ok() || !owners.ok()) return;
      for (const EtcdKeyValue& kv : members->kvs) seen += kv.key + "\n";
      for (const EtcdKeyValue& kv : owners->kvs) seen += kv.key + "=" + kv.value + "\n";
    }
    std::function<void()> wake;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (seen == watched_) return;
      const bool first = watched_.empty();
      watched_ = seen;
      if (first) return;
      wake = on_change_;
    }
    if (wake) wake();
  }

  std::unique_ptr<ClusterMember> member_;
  std::unique_ptr<EtcdClient> docs_;  // reads and controls' writes, beside the member's own client
  std::mutex docs_mu_;
  const DurationMs ttl_;
  std::mutex mu_;  // guards the fields below
  std::condition_variable wake_;
  bool stop_ = false;
  std::vector<std::string> members_;
  uint64_t renewal_failures_ = 0;
  std::string error_;
  std::string watched_;
  int64_t balanced_lease_ = 0;  // the lease of the last Balance (the loop's thread only)
  std::function<void()> on_change_;
  std::thread thread_;  // last: started once everything above exists
};

}  // namespace

Result<std::unique_ptr<Membership>> StartEtcdMembership(const ClusterSpec& spec, const std::string& member,
                                                        const std::string& info) {
  EtcdConfig config;
  config.endpoints = spec.endpoints;
  config.prefix = spec.prefix;
  config.username = spec.username;
  config.password_file = spec.password_file;
  config.http.timeout = spec.timeout;
  config.http.connect_timeout = std::min<DurationMs>(spec.timeout, kSecond);
  config.http.tls_ca_file = spec.tls_ca_file;
  config.http.tls_insecure_skip_verify = spec.tls_insecure_skip_verify;
  Result<std::unique_ptr<EtcdClient>> client = EtcdClient::Create(config);
  if (!client.ok()) return client.status();
  Result<std::unique_ptr<EtcdClient>> docs = EtcdClient::Create(config);
  if (!docs.ok()) return docs.status();
  // The lease's own connection: a renewal never waits behind a Balance over many pools.
  Result<std::unique_ptr<EtcdClient>> lease = EtcdClient::Create(config);
  if (!lease.ok()) return lease.status();
  ClusterMemberOptions options;
  options.name = member;
  options.lease_ttl = spec.lease_ttl;
  options.info = info;
  if (Status st = CheckClusterMemberOptions(options); !st.ok()) return st;
  auto m = std::make_unique<ClusterMember>(std::move(client).value(), options, &MonotonicClock(),
                                           std::move(lease).value());
  return std::unique_ptr<Membership>(
      std::make_unique<EtcdMembership>(std::move(m), std::move(docs).value(), spec.lease_ttl));
}

}  // namespace warmpool
