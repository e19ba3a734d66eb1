#include "controller/cluster/member.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <set>
#include <utility>

#include "controller/cluster/rendezvous.h"

namespace warmpool {
namespace {

class SteadyClock final : public Clock {
 public:
  TimeMs Now() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
};

}  // namespace

DurationMs DefaultFencingMargin(DurationMs ttl) { return std::max<DurationMs>(ttl / 5, kSecond); }

TimeMs FenceDeadline(TimeMs last_renewal, DurationMs ttl, DurationMs margin) {
  return last_renewal + ttl - margin;
}

bool WithinFence(TimeMs now, TimeMs last_renewal, DurationMs ttl, DurationMs margin) {
  return now < FenceDeadline(last_renewal, ttl, margin);
}

const Clock& MonotonicClock() {
  static const SteadyClock clock;
  return clock;
}

Status CheckClusterMemberOptions(const ClusterMemberOptions& o) {
  std::vector<std::string> errors;
  if (o.name.empty()) errors.push_back("cluster.member: must not be empty");
  if (o.name.find('/') != std::string::npos) {
    errors.push_back("cluster.member: must not contain '/', got \"" + o.name + "\"");
  }
  if (std::any_of(o.name.begin(), o.name.end(),
                  [](char c) { return static_cast<unsigned char>(c) < 0x20; })) {
    errors.push_back("cluster.member: must not contain control characters");
  }
  if (o.lease_ttl < 2 * kSecond || o.lease_ttl > kHour) {
    errors.push_back("cluster.lease_ttl: must be between 2s and 1h, got " + FormatDuration(o.lease_ttl));
  }
  const DurationMs margin = o.fencing_margin > 0 ? o.fencing_margin : DefaultFencingMargin(o.lease_ttl);
  if (o.fencing_margin < 0 || margin >= o.lease_ttl) {
    errors.push_back("cluster.fencing_margin: must be below lease_ttl (" + FormatDuration(o.lease_ttl) +
                     "), got " + FormatDuration(margin));
  }
  if (errors.empty()) return Status::Ok();
  std::string text = errors[0];
  for (size_t i = 1; i < errors.size(); ++i) text += "; " + errors[i];
  return Status::InvalidArgument(text);
}

ClusterMember::ClusterMember(std::unique_ptr<EtcdClient> etcd, ClusterMemberOptions options,
                             const Clock* clock, std::unique_ptr<EtcdClient> lease_etcd)
    : etcd_(std::move(etcd)),
      own_lease_etcd_(std::move(lease_etcd)),
      lease_etcd_(own_lease_etcd_ ? own_lease_etcd_.get() : etcd_.get()),
      lease_mu_(own_lease_etcd_ ? &own_lease_mu_ : &call_mu_),
      options_(std::move(options)),
      margin_(options_.fencing_margin > 0 ? options_.fencing_margin
                                          : DefaultFencingMargin(options_.lease_ttl)),
      clock_(clock) {}

ClusterMember::~ClusterMember() = default;

std::string ClusterMember::MemberKey() const { return etcd_->prefix() + "/members/" + options_.name; }
std::string ClusterMember::OwnerKey(const std::string& pool) const {
  return etcd_->prefix() + "/owners/" + pool;
}

Status ClusterMember::NotJoined() const {
  return Status::FailedPrecondition("cluster: member \"" + options_.name +
                                    "\" has not joined (or lost its lease)");
}

void ClusterMember::LoseLease(int64_t lease) {
  int64_t expected = lease;
  // Only that lease: a Join() on the lease thread may have replaced it meanwhile.
  if (lease == 0 || !lease_id_.compare_exchange_strong(expected, 0)) return;
  std::lock_guard<std::mutex> lock(owned_mu_);
  if (lease_id_ == 0) owned_.clear();
}

Status ClusterMember::Join() {
  std::lock_guard<std::mutex> lock(*lease_mu_);
  if (joined()) return Status::Ok();
  const TimeMs start = clock_->Now();
  Result<EtcdLease> lease = lease_etcd_->LeaseGrant(options_.lease_ttl);
  if (!lease.ok()) return lease.status();
  Result<EtcdTxnResult> created = lease_etcd_->CreateIfAbsent(MemberKey(), options_.info, lease->id);
  if (!created.ok()) {
    lease_etcd_->LeaseRevoke(lease->id);  // best effort: it would expire anyway
    return created.status();
  }
  if (!created->succeeded && (!created->current || created->current->lease != lease->id)) {
    lease_etcd_->LeaseRevoke(lease->id);
    std::string holder = "a live member";
    if (created->current) {
      holder += " (lease " + std::to_string(created->current->lease) + ", registered at revision " +
                std::to_string(created->current->create_revision) + ")";
    }
    return Status::FailedPrecondition(
        "cluster: the member name \"" + options_.name + "\" is taken by " + holder + " under " + MemberKey() +
        ": each replica needs its own cluster.member; a restarted replica waits for its previous lease to "
        "expire (at most " +
        FormatDuration(lease->ttl_seconds * kSecond) + ")");
  }
  {
    std::lock_guard<std::mutex> owned_lock(owned_mu_);
    owned_.clear();
  }
  ttl_ = lease->ttl_seconds * kSecond;
  last_renewal_ = start;  // the grant left after `start`: etcd's expiry is later than start + ttl
  lease_id_ = lease->id;  // last: MayApply reads it first
  return Status::Ok();
}

Status ClusterMember::Renew() {
  std::lock_guard<std::mutex> lock(*lease_mu_);
  const int64_t lease = lease_id_;
  if (lease == 0) return NotJoined();
  const TimeMs start = clock_->Now();
  Result<int64_t> ttl = lease_etcd_->LeaseKeepAlive(lease);
  if (!ttl.ok()) {
    if (ttl.status().code() == Status::Code::kNotFound) {
      const int64_t lost = lease;
      LoseLease(lost);
      return Status::NotFound("cluster: member \"" + options_.name + "\" lost its lease " +
                              std::to_string(lost) + " (" + ttl.status().message() +
                              "); it owns nothing now and must join again");
    }
    return ttl.status();
  }
  ttl_ = *ttl * kSecond;
  last_renewal_ = start;
  return Status::Ok();
}

Status ClusterMember::Leave() {
  std::lock_guard<std::mutex> lock(*lease_mu_);
  const int64_t lease = lease_id_;
  if (lease == 0) return Status::Ok();
  LoseLease(lease);
  Status s = lease_etcd_->LeaseRevoke(lease);
  if (s.code() == Status::Code::kNotFound) return Status::Ok();  // expired already: the keys are gone
  return s;
}

bool ClusterMember::MayApply(TimeMs now) const {
  if (!joined()) return false;  // read first: Join() stores the renewal and the ttl before the lease
  return WithinFence(now, last_renewal_, ttl_, margin_);
}

std::string ClusterMember::FenceReason(TimeMs now) const {
  if (!joined()) return "not joined (no lease)";
  if (MayApply(now)) return "";
  char age[32];
  std::snprintf(age, sizeof age, "%.1fs", static_cast<double>(now - last_renewal_) / kSecond);
  return std::string("lease last renewed ") + age + " ago (ttl " + FormatDuration(ttl_) + ", margin " +
         FormatDuration(margin_) + ")";
}

TimeMs ClusterMember::fence_deadline() const {
  return joined() ? FenceDeadline(last_renewal_, ttl_, margin_) : 0;
}
TimeMs ClusterMember::last_renewal() const { return joined() ? last_renewal_.load() : 0; }
bool ClusterMember::joined() const { return lease_id_ != 0; }
int64_t ClusterMember::lease_id() const { return lease_id_; }
DurationMs ClusterMember::lease_ttl() const { return ttl_; }
DurationMs ClusterMember::fencing_margin() const { return margin_; }

Result<std::vector<std::string>> ClusterMember::Members() {
  std::lock_guard<std::mutex> lock(call_mu_);
  const std::string prefix = etcd_->prefix() + "/members/";
  Result<EtcdRange> range = etcd_->RangePrefix(prefix);
  if (!range.ok()) return range.status();
  std::vector<std::string> names;
  for (const EtcdKeyValue& kv : range->kvs) names.push_back(kv.key.substr(prefix.size()));
  return names;
}

Result<bool> ClusterMember::TryOwn(const std::string& pool) {
  std::lock_guard<std::mutex> lock(call_mu_);
  const int64_t lease = lease_id_;
  if (lease == 0) return NotJoined();
  Result<EtcdTxnResult> r = etcd_->CreateIfAbsent(OwnerKey(pool), options_.name, lease);
  if (!r.ok()) {
    if (r.status().code() == Status::Code::kNotFound) {  // "requested lease not found"
      LoseLease(lease);
      return Status::NotFound("cluster: member \"" + options_.name + "\" lost its lease (" +
                              r.status().message() + "); it owns nothing now and must join again");
    }
    return r.status();
  }
  std::lock_guard<std::mutex> owned_lock(owned_mu_);
  const bool ours = r->succeeded || (r->current && r->current->lease == lease);  // or an earlier attempt's
  if (!ours) {
    owned_.erase(pool);
    return false;
  }
  if (lease_id_ != lease) return NotJoined();  // the lease was lost meanwhile: the key goes with it
  owned_[pool] = r->succeeded ? r->revision : r->current->mod_revision;
  return true;
}

Status ClusterMember::Release(const std::string& pool) {
  std::lock_guard<std::mutex> lock(call_mu_);
  int64_t revision = 0;
  {
    std::lock_guard<std::mutex> owned_lock(owned_mu_);
    auto it = owned_.find(pool);
    if (it == owned_.end()) return Status::Ok();
    revision = it->second;
  }
  Result<EtcdTxnResult> r = etcd_->DeleteIfModRevision(OwnerKey(pool), revision);
  if (!r.ok()) return r.status();
  std::lock_guard<std::mutex> owned_lock(owned_mu_);
  owned_.erase(pool);  // deleted, or no longer ours anyway
  return Status::Ok();
}

Result<int64_t> ClusterMember::PutOwned(const std::string& pool, const std::string& key,
                                        const std::string& value, int64_t mod_revision) {
  std::lock_guard<std::mutex> lock(call_mu_);
  const int64_t lease = lease_id_;
  if (lease == 0) return NotJoined();
  Result<EtcdTxnResult> r = etcd_->PutIfModRevisionWhileHeld(key, value, mod_revision, OwnerKey(pool), lease);
  if (!r.ok()) return r.status();
  if (r->succeeded) return r->revision;
  if (!r->guard || r->guard->lease != lease) {
    {
      std::lock_guard<std::mutex> owned_lock(owned_mu_);
      owned_.erase(pool);
    }
    return Status::FailedPrecondition("cluster: member \"" + options_.name + "\" no longer owns pool \"" +
                                      pool +
                                      "\" (owner: " + (r->guard ? r->guard->value : std::string("none")) +
                                      "); " + key + " was not written");
  }
  return Status::FailedPrecondition("cluster: " + key + " changed meanwhile (revision " +
                                    std::to_string(r->current ? r->current->mod_revision : 0) + ", not " +
                                    std::to_string(mod_revision) + ")");
}

std::vector<std::string> ClusterMember::OwnedPools() const {
  std::lock_guard<std::mutex> lock(owned_mu_);
  std::vector<std::string> pools;
  for (const auto& entry : owned_) pools.push_back(entry.first);
  return pools;
}

Result<std::map<std::string, std::string>> ClusterMember::Owners() {
  std::lock_guard<std::mutex> lock(call_mu_);
  const std::string prefix = etcd_->prefix() + "/owners/";
  Result<EtcdRange> range = etcd_->RangePrefix(prefix);
  if (!range.ok()) return range.status();
  std::map<std::string, std::string> owners;
  std::map<std::string, int64_t> mine;
  const int64_t lease = lease_id_;
  for (const EtcdKeyValue& kv : range->kvs) {
    const std::string pool = kv.key.substr(prefix.size());
    owners[pool] = kv.value;
    if (lease != 0 && kv.lease == lease) mine[pool] = kv.mod_revision;
  }
  std::lock_guard<std::mutex> owned_lock(owned_mu_);
  if (lease_id_ == lease) owned_ = std::move(mine);  // unless the lease changed meanwhile
  return owners;
}

std::string ClusterMember::endpoint_in_use() const {
  std::lock_guard<std::mutex> lock(call_mu_);
  return etcd_->endpoint_in_use();
}

Result<ClusterMember::BalanceResult> ClusterMember::Balance(const std::vector<std::string>& pools) {
  BalanceResult out;
  Result<std::vector<std::string>> members = Members();
  if (!members.ok()) return members.status();
  out.members = std::move(members).value();
  if (std::find(out.members.begin(), out.members.end(), options_.name) == out.members.end()) {
    // Our registration is gone while the lease may live (deleted by hand): register again, or the
    // others would wait forever for the pools this member still holds.
    std::lock_guard<std::mutex> lock(call_mu_);
    const int64_t lease = lease_id_;
    if (lease == 0) return NotJoined();
    Result<EtcdTxnResult> r = etcd_->CreateIfAbsent(MemberKey(), options_.info, lease);
    if (!r.ok()) {
      if (r.status().code() == Status::Code::kNotFound) LoseLease(lease);
      return r.status();
    }
    if (!r->succeeded && (!r->current || r->current->lease != lease)) {
      return Status::FailedPrecondition("cluster: the member name \"" + options_.name +
                                        "\" was taken by another live member meanwhile");
    }
    out.members.push_back(options_.name);
    std::sort(out.members.begin(), out.members.end());
  }
  std::vector<std::string> share = Assign(pools, out.members)[options_.name];
  const std::set<std::string> wanted(share.begin(), share.end());
  for (const std::string& pool : OwnedPools()) {
    if (wanted.count(pool)) continue;
    Status s = Release(pool);
    if (s.ok()) {
      out.released.push_back(pool);
    } else if (out.error.ok()) {
      out.error = s;
    }
  }
  const std::vector<std::string> owned = OwnedPools();
  const std::set<std::string> had(owned.begin(), owned.end());
  for (const std::string& pool : share) {
    if (had.count(pool)) continue;
    Result<bool> r = TryOwn(pool);
    if (!r.ok()) {
      if (!joined()) return r.status();  // the lease is gone
      if (out.error.ok()) out.error = r.status();
      continue;
    }
    (*r ? out.taken : out.waiting).push_back(pool);
  }
  out.owned = OwnedPools();
  return out;
}

}  // namespace warmpool
