// App in cluster mode (App::Services::membership) over an in-memory cluster: only owned pools are
// ticked, a pool's state follows it from one member to the next, the fence stops a member whose lease
// is stale, an operator's change on any member reaches the owner, and a stale write is refused.
#include <doctest/doctest.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "controller/api/control_plane.h"
#include "controller/config/config.h"
#include "controller/log/log.h"
#include "controller/runtime/app.h"
#include "controller/runtime/membership.h"
#include "controller/state/codec.h"

using namespace warmpool;

namespace {

// What etcd holds, for every member: documents with revisions, and who owns which pool.
struct FakeCluster {
  std::map<std::pair<std::string, std::string>, Membership::Document> docs;  // (pool, kind)
  int64_t revision = 0;
  std::map<std::string, std::string> owner;  // pool -> member
  std::map<std::string, bool> fresh;         // member -> lease fresh
};

class FakeMember final : public Membership {
 public:
  FakeMember(std::string name, FakeCluster* cluster) : name_(std::move(name)), c_(cluster) { c_->fresh[name_] = true; }
  std::string Name() const override { return name_; }
  std::set<std::string> Balance(const std::vector<std::string>& pools, TimeMs) override {
    std::set<std::string> out;
    for (const std::string& p : pools) {
      if (c_->owner[p] == name_) out.insert(p);
    }
    return out;
  }
  bool MayApply(TimeMs) const override { return c_->fresh[name_]; }
  std::string FenceReason(TimeMs now) const override {
    return MayApply(now) ? "" : "lease of " + name_ + " not renewed in time";
  }
  View Describe() override {
    View v;
    v.member = name_;
    v.joined = true;
    v.may_apply = c_->fresh[name_];
    v.owners = c_->owner;
    return v;
  }
  Result<Document> Load(const std::string& pool, const std::string& kind) override {
    auto it = c_->docs.find({pool, kind});
    return it == c_->docs.end() ? Document{} : it->second;
  }
  Result<std::map<std::string, Document>> LoadAll(const std::string& kind) override {
    std::map<std::string, Document> out;
    for (const auto& [key, doc] : c_->docs) {
      if (key.second == kind) out[key.first] = doc;
    }
    return out;
  }
  Result<int64_t> Save(const std::string& pool, const std::string& kind, const std::string& text,
                       int64_t revision) override {
    Document& doc = c_->docs[{pool, kind}];
    if (doc.revision != revision) return Status::FailedPrecondition("revision " + std::to_string(revision) + " is stale");
    doc.text = text;
    doc.revision = ++c_->revision;
    return doc.revision;
  }

 private:
  std::string name_;
  FakeCluster* c_;
};

// Two pools on simulated providers, fed by the Clarknet trace; `warm` is each pool's warm_standby.
Config TwoPools(const std::string& warm = "1") {
  std::string text =
      "global: {interval: 1s}\n"
      "metrics_source: {type: trace, file: " WARMPOOL_TRACES_DIR "/clarknet-http-1995-1h.csv.gz}\n"
      "pools:\n";
  for (const char* name : {"web", "api"}) {
    text += std::string("  - name: ") + name +
            "\n    min_active: 1\n    max_active: 10\n    warm_standby: " + warm + "\n    metrics: [{name: rps}]\n"
            "    policies: [{type: target_tracking, metric: rps, target_per_server: 0.5}]\n"
            "    provider: {type: simulated, initial_active: 1, initial_standby: 1, promotion_delay: 0s}\n";
  }
  ConfigLoad load = ParseConfig(text);
  for (const std::string& e : load.errors) FAIL_CHECK(e);
  REQUIRE(load.ok());
  return load.config;
}

struct Member {
  Member(const std::string& name, FakeCluster* cluster, ManualClock* clock, const std::string& warm = "1")
      : membership(name, cluster) {
    Result<std::unique_ptr<App>> created = App::Create(TwoPools(warm), clock, false);
    REQUIRE(created.ok());
    app = std::move(created).value();
    cp.on_change = [this] { return app->SaveState(); };
    REQUIRE(app->Attach({&cp, nullptr, nullptr, nullptr, &membership}).ok());
  }
  // This tick's results by pool.
  std::map<std::string, TickResult> Tick(TimeMs now) {
    std::map<std::string, TickResult> out;
    for (TickResult& t : app->TickAll(now)) out[t.observed.pool] = std::move(t);
    return out;
  }
  FakeMember membership;
  ControlPlane cp;
  std::unique_ptr<App> app;
};

bool HasEvent(const ControlPlane& cp, const std::string& words) {
  for (const Event& e : cp.Events("", 0, 1000)) {
    if (e.kind == "cluster" && e.reason.find(words) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("cluster app: each member ticks only its pools, and a pool's state follows it to its next owner") {
  REQUIRE(InitLogging("text", "off").ok());
  FakeCluster cluster;
  cluster.owner = {{"web", "a"}, {"api", "b"}};
  ManualClock clock(8 * kHour);  // Clarknet's morning ramp: the behavior history fills
  Member a("a", &cluster, &clock), b("b", &cluster, &clock);
  for (int i = 0; i < 30; ++i) {
    clock.Set(clock.Now() + kSecond * 15);
    std::map<std::string, TickResult> ra = a.Tick(clock.Now()), rb = b.Tick(clock.Now());
    REQUIRE(ra.size() == 1);
    REQUIRE(ra.count("web") == 1);
    REQUIRE(rb.count("api") == 1);
  }
  CHECK(a.cp.Status("api")->elsewhere);
  CHECK(a.cp.Status("web")->owner == "a");
  CHECK(a.cp.Ready());  // the pool b acts on counts as observed
  CHECK(HasEvent(a.cp, "hand-over: a acts on pool web now (no state saved yet)"));
  REQUIRE(cluster.docs.count({"web", "state"}) == 1);
  Result<PersistedState> saved = DecodeState(cluster.docs[{"web", "state"}].text);
  REQUIRE(saved.ok());
  CHECK(saved->behavior.at("web").recommendations.size() >= 10);  // a's history (its window), kept in the cluster
  CHECK(saved->controls.empty());                                 // operators' controls are their own document

  // web moves to b: a lets it go, b restores what a saved and goes on from there.
  cluster.owner["web"] = "b";
  clock.Set(clock.Now() + kSecond * 15);
  std::map<std::string, TickResult> ra = a.Tick(clock.Now()), rb = b.Tick(clock.Now());
  CHECK(ra.empty());
  REQUIRE(rb.count("web") == 1);
  CHECK(HasEvent(a.cp, "hand-over: a let pool web go: the pools were balanced again"));
  CHECK(HasEvent(b.cp, "hand-over: b acts on pool web now (its state saved at "));
  // b saves web's state over a's revision, with a's history and its own tick on top.
  saved = DecodeState(cluster.docs[{"web", "state"}].text);
  REQUIRE(saved.ok());
  CHECK(saved->behavior.at("web").recommendations.size() >= 10);
  CHECK(saved->behavior.at("web").recommendations.back().at == clock.Now());
}

TEST_CASE("cluster app: a member whose lease is stale decides but applies nothing") {
  REQUIRE(InitLogging("text", "off").ok());
  FakeCluster cluster;
  cluster.owner = {{"web", "a"}, {"api", "a"}};
  ManualClock clock(8 * kHour);
  Member a("a", &cluster, &clock);
  cluster.fresh["a"] = false;
  bool planned = false;
  for (int i = 0; i < 40 && !planned; ++i) {
    clock.Set(clock.Now() + kSecond * 15);
    for (auto& [pool, t] : a.Tick(clock.Now())) {
      if (t.plan.empty()) continue;
      planned = true;
      CHECK(t.fenced == "lease of a not renewed in time");
      CHECK(t.decision.reason.find("not applied: lease of a not renewed in time") != std::string::npos);
      CHECK_FALSE(t.applied.ok());
      for (const ApplyResult::Action& act : t.applied.actions) CHECK(act.status.message().rfind("not applied: ", 0) == 0);
    }
  }
  CHECK(planned);
}

TEST_CASE("cluster app: an operator's change on any member reaches the owner, and a stale write is refused") {
  REQUIRE(InitLogging("text", "off").ok());
  FakeCluster cluster;
  cluster.owner = {{"web", "a"}, {"api", "a"}};
  ManualClock clock(8 * kHour);
  Member a("a", &cluster, &clock), b("b", &cluster, &clock);
  a.Tick(clock.Now());
  b.Tick(clock.Now());
  // b does not own web; an override sent to b is saved in the cluster, and a acts on it next tick.
  Override o;
  o.active = 4;
  o.reason = "launch";
  o.set_by = "alice";
  o.set_at = clock.Now();
  REQUIRE(b.cp.SetOverride("web", o).ok());
  clock.Set(clock.Now() + 15 * kSecond);
  std::map<std::string, TickResult> ra = a.Tick(clock.Now());
  REQUIRE(ra.count("web") == 1);
  CHECK(ra["web"].decision.desired == 4);
  CHECK(ra["web"].decision.reason.find("override (active 4: launch") != std::string::npos);
  // a has not read b's next change yet: a's own change over the revision it knows is refused (503 at
  // the API), never written over b's.
  Override other = o;
  other.active = 6;
  REQUIRE(b.cp.SetOverride("web", other).ok());
  Override mine = o;
  mine.active = 2;
  const Status st = a.cp.SetOverride("web", mine);
  CHECK(st.code() == Status::Code::kUnavailable);
  CHECK(st.message().find("stale") != std::string::npos);
  clock.Set(clock.Now() + 15 * kSecond);
  ra = a.Tick(clock.Now());
  CHECK(ra["web"].decision.desired == 6);  // b's change stands
}

TEST_CASE("cluster app: what a pool learned is kept in the cluster once a minute and follows the pool") {
  REQUIRE(InitLogging("text", "off").ok());
  FakeCluster cluster;
  cluster.owner = {{"web", "a"}, {"api", "a"}};
  ManualClock clock(8 * kHour);
  const std::string warm = "{auto: {server_capacity: 0.5, horizon: 5m, season: 1h, step: 1m, seasons: 2}}";
  Member a("a", &cluster, &clock, warm), b("b", &cluster, &clock, warm);
  for (int i = 0; i < 12; ++i) {  // three minutes
    clock.Set(clock.Now() + 15 * kSecond);
    a.Tick(clock.Now());
    b.Tick(clock.Now());
  }
  REQUIRE(cluster.docs.count({"web", "learned"}) == 1);
  const int64_t saved_by_a = cluster.docs[{"web", "learned"}].revision;
  Result<LearnedState> learned = DecodeLearned(cluster.docs[{"web", "learned"}].text);
  REQUIRE(learned.ok());
  CHECK(learned->seasonal.count("web") == 1);
  // web moves to b, which restores it and saves it next minute over a's revision.
  cluster.owner["web"] = "b";
  for (int i = 0; i < 5; ++i) {
    clock.Set(clock.Now() + 15 * kSecond);
    a.Tick(clock.Now());
    b.Tick(clock.Now());
  }
  CHECK(cluster.docs[{"web", "learned"}].revision > saved_by_a);
  learned = DecodeLearned(cluster.docs[{"web", "learned"}].text);
  REQUIRE(learned.ok());
  REQUIRE(learned->seasonal.count("web") == 1);
  CHECK(learned->seasonal.at("web").steps.size() >= 4);  // a's minutes and b's
}
