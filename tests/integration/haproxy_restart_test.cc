// The HAProxy provider across a restart of Warmpool, against the real haproxy on 127.0.0.1: what it
// remembers (ProviderMemory) lets the new process finish the drains the old one started, by itself and
// through the app's state file.
#include <doctest/doctest.h>

#include <memory>
#include <optional>
#include <string>

#include "controller/config/config.h"
#include "controller/runtime/app.h"
#include "controller/state/codec.h"
#include "controller/state/file_store.h"
#include "tests/support/haproxy_test_util.h"

using namespace warmpool;
using namespace warmpool::testing;
using namespace std::chrono_literals;

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
  // Two active servers and a fixed policy for one: the first tick drains one of them.
  ConfigLoad load = ParseConfig(
      "pools:\n"
      "  - name: web\n"
      "    min_active: 1\n"
      "    max_active: 2\n"
      "    policies: [{type: fixed, count: 1}]\n"
      "    behavior: {scale_down: {stabilization_window: 0s}}\n"
      "    provider: {type: haproxy, socket: " +
      h->socket_path + ", backend: web}\n");
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
