// The HAProxy provider across a restart of Warmpool, against the real haproxy on 127.0.0.1: what it
// remembers (ProviderMemory) lets the new process finish the drains the old one started, by itself and
// through the app's state file.
#include <doctest/doctest.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "controller/config/config.h"
#include "controller/runtime/app.h"
#include "controller/state/codec.h"
#include "controller/state/file_store.h"
#include "tests/support/haproxy_test_util.h"

using namespace warmpool;
using namespace warmpool::testing;
using namespace std::chrono_literals;

namespace {

// Two active servers and a fixed policy for one, on HAProxy's backend `web`: the first tick drains one.
ConfigLoad DrainOnePool(const std::string& socket) {
  return ParseConfig(
      "pools:\n"
      "  - name: web\n"
      "    min_active: 1\n"
      "    max_active: 2\n"
      "    policies: [{type: fixed, count: 1}]\n"
      "    behavior: {scale_down: {stabilization_window: 0s}}\n"
      "    provider: {type: haproxy, socket: " +
      socket + ", backend: web}\n");
}

}  // namespace

TEST_CASE("haproxy: a drain started before a restart is finished after it when the memory is restored") {
  Backend a("a"), b("b");
  const int port = PickFreePort();
  auto h = StartHAProxy(Cfg(port, {"a " + a.address() + " " + kCheck, "b " + b.address() + " " + kCheck}));
  REQUIRE(h);
  testing::SystemClock clock;
  ProviderMemory memory;
  {
    auto before = MakeProvider(h->socket_path, &clock);
    ScalePlan plan;
    plan.drain = {"b"};
    ApplyResult r = before->Apply(plan);
    REQUIRE_MESSAGE(r.ok(), Errors(r));
    memory = before->Memory();  // the process stops here, before its next Observe finishes the drain
  }
  REQUIRE(memory.count("draining_since") == 1);
  CHECK(memory.at("draining_since").count("b") == 1);
  CHECK(Row(*h, "b")->Draining());

  SUBCASE("without the memory: an unknown drain, observed and never finished") {
    auto after = MakeProvider(h->socket_path, &clock);
    for (int i = 0; i < 3; ++i) CHECK(Observed(*after, "b").state == ServerState::kDraining);
    CHECK(Row(*h, "b")->Draining());
    CHECK(after->Memory().empty());
  }
  SUBCASE("with it: the drain is ours, and it ends in maintenance (standby) once idle") {
    auto after = MakeProvider(h->socket_path, &clock);
    after->Restore(memory);
    CHECK(after->Memory() == memory);
    REQUIRE(WaitState(*after, "b", ServerState::kStandby, 3s));
    CHECK(Row(*h, "b")->InMaintenance());
    CHECK(after->TakeEvents().back() == "drain web/b: no sessions left, now in maintenance (standby)");
    CHECK(after->Memory().empty());  // nothing left to finish
  }
  SUBCASE("a remembered drain that an operator ended meanwhile is forgotten, not finished") {
    REQUIRE(HAProxyCommand(h->socket_path, "set server web/b state ready") == "\n");
    auto after = MakeProvider(h->socket_path, &clock);
    after->Restore(memory);
    CHECK(Observed(*after, "b").state == ServerState::kActive);
    CHECK(after->Memory().empty());
    CHECK_FALSE(Row(*h, "b")->InMaintenance());
  }
}

TEST_CASE(
    "haproxy: the app keeps its provider's drains in the state file, and a restarted app finishes them") {
  Backend a("a"), b("b");
  const int port = PickFreePort();
  auto h = StartHAProxy(Cfg(port, {"a " + a.address() + " " + kCheck, "b " + b.address() + " " + kCheck}));
  REQUIRE(h);
  TempDir dir;
  ConfigLoad load = DrainOnePool(h->socket_path);
  for (const std::string& e : load.errors) FAIL_CHECK(e);
  REQUIRE(load.ok());
  testing::SystemClock clock;
  FileStateStoreOptions options;
  options.validate = ValidateState;
  FileStateStore state(dir.path() + "/state", options);
  std::string drained;
  {
    Result<std::unique_ptr<App>> before = App::Create(load.config, &clock, false);
    REQUIRE(before.ok());
    REQUIRE((*before)->Attach({nullptr, nullptr, &state, nullptr}).ok());
    const TickResult r = (*before)->TickAll(clock.Now())[0];
    REQUIRE(r.plan.drain.size() == 1);
    drained = r.plan.drain[0];
    REQUIRE(r.applied.ok());
  }  // stops before a second tick could finish the drain
  REQUIRE(Row(*h, drained)->Draining());
  Result<std::optional<std::string>> doc = state.Load();
  REQUIRE(doc.ok());
  REQUIRE(doc->has_value());
  Result<PersistedState> saved = DecodeState(**doc);
  REQUIRE(saved.ok());
  CHECK(saved->providers.at("web").at("draining_since").count(drained) == 1);

  Result<std::unique_ptr<App>> after = App::Create(load.config, &clock, false);
  REQUIRE(after.ok());
  REQUIRE((*after)->Attach({nullptr, nullptr, &state, nullptr}).ok());
  const TickResult r = (*after)->TickAll(clock.Now())[0];
  CHECK(Row(*h, drained)->InMaintenance());  // the first tick's Observe finished it: no sessions
  CHECK(r.observed.Find(drained)->state == ServerState::kStandby);
  CHECK(r.provider_events.size() == 1);
}

TEST_CASE("haproxy: a retirement cut short is remembered without exec through a second restart, then done") {
  Backend a("a"), b("b");
  const int port = PickFreePort();
  auto h = StartHAProxy(Cfg(port, {"a " + a.address() + " " + kCheck, "b " + b.address() + " " + kCheck + " disabled"}));
  REQUIRE(h);
  testing::SystemClock clock;
  ScalePlan plan;
  plan.retire = {"b"};
  // Killed inside Apply: the next process is handed the plan, and killed again before its first Observe.
  auto first = MakeProvider(h->socket_path, &clock);
  first->Interrupted(plan, clock.Now());
  const ProviderMemory memory = first->Memory();
  CHECK(memory.count("retiring") == 1);
  auto second = MakeProvider(h->socket_path, &clock);
  second->Restore(memory);
  CHECK(second->Memory() == memory);
  // The third one restores that memory and finishes the retirement at its first Observe.
  auto third = MakeProvider(h->socket_path, &clock);
  third->Restore(second->Memory());
  Result<PoolState> seen = third->Observe();
  REQUIRE(seen.ok());
  const Server* sb = seen->Find("b");
  REQUIRE(sb != nullptr);
  CHECK(sb->state == ServerState::kCold);
  CHECK(third->Memory().at("retired").count("b") == 1);
  CHECK(third->Memory().count("retiring") == 0);
  // The control: without the memory, b is a standby.
  auto fresh = MakeProvider(h->socket_path, &clock);
  Result<PoolState> control = fresh->Observe();
  REQUIRE(control.ok());
  CHECK(control->Find("b")->state == ServerState::kStandby);
}

namespace {

// The exec provider's slots x and y, each machine a Backend the test runs; the commands log what they do.
std::map<std::string, std::string> ExecParams(const Backend& x, const Backend& y, const std::string& log) {
  return {{"servers[0].name", "x"},
          {"servers[0].address", x.address()},
          {"servers[1].name", "y"},
          {"servers[1].address", y.address()},
          {"server_options", kCheck},
          {"exec.provision", "sleep 0.2; echo provision $WARMPOOL_SERVER >> " + log},
          {"exec.retire", "echo retire $WARMPOOL_SERVER >> " + log},
          {"exec.timeout", "10s"}};
}

int Count(const std::string& text, const std::string& line) {
  int n = 0;
  for (size_t at = text.find(line); at != std::string::npos; at = text.find(line, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("haproxy: exec machines across a restart: a ready standby stays one, what was under way runs again") {
  Backend a("a"), x("x"), y("y");
  const int port = PickFreePort();
  auto h = StartHAProxy(Cfg(port, {"a " + a.address() + " " + kCheck}));
  REQUIRE(h);
  TempDir dir;
  const std::string log = dir.path() + "/log";
  testing::SystemClock clock;
  ProviderMemory ready;
  {
    auto before = MakeProvider(h->socket_path, &clock, ExecParams(x, y, log));
    ScalePlan plan;
    plan.provision = {"x"};
    REQUIRE(before->Apply(plan).ok());
    REQUIRE(WaitState(*before, "x", ServerState::kStandby));
    ready = before->Memory();
  }
  REQUIRE(ready.count("machine_ready") == 1);
  CHECK(ready.at("machine_ready").count("x") == 1);
  REQUIRE(Row(*h, "x"));

  SUBCASE("without the memory, the registered slot's running machine is taken for cold") {
    auto after = MakeProvider(h->socket_path, &clock, ExecParams(x, y, log));
    CHECK(Observed(*after, "x").state == ServerState::kCold);
  }
  SUBCASE("with it, a standby; and a retirement interrupted before it began is done again") {
    auto after = MakeProvider(h->socket_path, &clock, ExecParams(x, y, log));
    after->Restore(ready);
    CHECK(Observed(*after, "x").state == ServerState::kStandby);
    ScalePlan plan;
    plan.retire = {"x"};
    auto again = MakeProvider(h->socket_path, &clock, ExecParams(x, y, log));
    again->Restore(ready);
    again->Interrupted(plan, clock.Now());
    REQUIRE(WaitState(*again, "x", ServerState::kCold));
    CHECK_FALSE(Row(*h, "x"));
    CHECK(Count(ReadFile(log), "retire x\n") == 1);
    bool said = false;
    for (const std::string& e : again->TakeEvents()) said = said || e.find("retire web/x: interrupted") == 0;
    CHECK(said);
  }
  SUBCASE("a provisioning cut short by the process's end is run again, and its slot registered") {
    ProviderMemory cut;
    {
      auto before = MakeProvider(h->socket_path, &clock, ExecParams(x, y, log));
      ScalePlan plan;
      plan.provision = {"y"};
      REQUIRE(before->Apply(plan).ok());
      cut = before->Memory();
    }  // the destructor kills the command in its sleep
    REQUIRE(cut.count("machine_provisioning") == 1);
    CHECK(Count(ReadFile(log), "provision y\n") == 0);
    auto after = MakeProvider(h->socket_path, &clock, ExecParams(x, y, log));
    after->Restore(cut);
    REQUIRE(WaitState(*after, "y", ServerState::kStandby));
    CHECK(Row(*h, "y"));
    CHECK(Count(ReadFile(log), "provision y\n") == 1);
  }
  SUBCASE("a provisioning known only from the interrupted plan is run again too") {
    auto after = MakeProvider(h->socket_path, &clock, ExecParams(x, y, log));
    ScalePlan plan;
    plan.provision = {"y"};
    after->Interrupted(plan, clock.Now());
    CHECK(after->Memory().at("machine_provisioning").count("y") == 1);  // kept until it has run
    REQUIRE(WaitState(*after, "y", ServerState::kStandby));
    CHECK(Count(ReadFile(log), "provision y\n") == 1);
  }
}

namespace {

// A state store that keeps every document saved, so a test can restart from any of them (the one a
// kill at that moment would have left).
class RecordingStore final : public StateStore {
 public:
  Result<std::optional<std::string>> Load() override {
    if (docs.empty()) return std::optional<std::string>();
    return std::optional<std::string>(docs.back());
  }
  Status Save(const std::string& document) override {
    docs.push_back(document);
    return Status::Ok();
  }
  std::vector<std::string> docs;
};

}  // namespace

TEST_CASE("haproxy: an app killed inside Apply leaves its plan in the state file, and the next one finishes it") {
  Backend a("a"), b("b");
  const int port = PickFreePort();
  auto h = StartHAProxy(Cfg(port, {"a " + a.address() + " " + kCheck, "b " + b.address() + " " + kCheck}));
  REQUIRE(h);
  ConfigLoad load = DrainOnePool(h->socket_path);
  REQUIRE(load.ok());
  testing::SystemClock clock;
  RecordingStore store;
  std::string drained;
  {
    Result<std::unique_ptr<App>> before = App::Create(load.config, &clock, false);
    REQUIRE(before.ok());
    REQUIRE((*before)->Attach({nullptr, nullptr, &store, nullptr}).ok());
    const TickResult r = (*before)->TickAll(clock.Now())[0];
    REQUIRE(r.plan.drain.size() == 1);
    drained = r.plan.drain[0];
  }
  REQUIRE(Row(*h, drained)->Draining());
  // Saved ahead of Apply: the plan, and no drain in the provider's memory yet. After it: no plan.
  REQUIRE(store.docs.size() == 2);
  Result<PersistedState> ahead = DecodeState(store.docs[0]);
  REQUIRE(ahead.ok());
  REQUIRE(ahead->applying.count("web") == 1);
  CHECK(ahead->applying.at("web").plan.drain == std::vector<std::string>{drained});
  CHECK(ahead->providers.count("web") == 0);
  Result<PersistedState> after_apply = DecodeState(store.docs[1]);
  REQUIRE(after_apply.ok());
  CHECK(after_apply->applying.empty());

  // Killed between the two saves: the next process starts from the first.
  store.docs.resize(1);
  SUBCASE("the next process takes the drain over and finishes it") {
    Result<std::unique_ptr<App>> next = App::Create(load.config, &clock, false);
    REQUIRE(next.ok());
    REQUIRE((*next)->Attach({nullptr, nullptr, &store, nullptr}).ok());
    const TickResult r = (*next)->TickAll(clock.Now())[0];
    CHECK(Row(*h, drained)->InMaintenance());
    CHECK(r.observed.Find(drained)->state == ServerState::kStandby);
  }
  SUBCASE("without the plan, the drain would be taken for an operator's, never finished") {
    PersistedState without = *ahead;
    without.applying.clear();
    store.docs[0] = EncodeState(without);
    Result<std::unique_ptr<App>> next = App::Create(load.config, &clock, false);
    REQUIRE(next.ok());
    REQUIRE((*next)->Attach({nullptr, nullptr, &store, nullptr}).ok());
    for (int i = 0; i < 3; ++i) (*next)->TickAll(clock.Now());
    CHECK(Row(*h, drained)->Draining());
  }
}
