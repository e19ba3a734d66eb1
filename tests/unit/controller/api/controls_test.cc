#include "warmpool/controls.h"

#include <doctest/doctest.h>

#include "controller/api/control_plane.h"
#include "policies/controls.h"

using namespace warmpool;

namespace {
constexpr TimeMs kNow = 1'000'000;

Decision D(int current, int desired) {
  Decision d;
  d.at = kNow;
  d.current = current;
  d.desired = desired;
  d.policy = "rps";
  d.reason = "rps: needs " + std::to_string(desired);
  d.direction = desired > current ? Direction::kUp : desired < current ? Direction::kDown : Direction::kNone;
  return d;
}

PoolSpec Spec() {
  PoolSpec s;
  s.name = "web";
  s.min_active = 2;
  s.max_active = 10;
  s.warm_standby = 2;
  s.max_total = 12;
  return s;
}

Override Active(int n, TimeMs expires = 0) {
  Override o;
  o.active = n;
  o.reason = "launch at 14:00";
  o.set_by = "alice";
  o.set_at = kNow;
  o.expires_at = expires;
  return o;
}
}  // namespace

TEST_CASE("controls: override, floor, ceiling and pauses act on the decision, table-driven") {
  struct Case {
    const char* name;
    PoolControls controls;
    int current, desired, want;
    const char* reason_part;
  };
  Override floor_only;
  floor_only.min_active = 6;
  floor_only.reason = "sale";
  Override ceiling_only;
  ceiling_only.max_active = 3;
  ceiling_only.reason = "budget";
  Pause up_paused;
  up_paused.scale_up = true;
  up_paused.reason = "incident";
  Pause down_paused;
  down_paused.scale_down = true;
  std::vector<Case> cases = {
      {"no controls: unchanged", {}, 4, 6, 6, "rps: needs 6"},
      {"active sets the count", {Active(8), {}, {}, {}, {}}, 4, 5, 8, "override (active 8: launch at 14:00) -> 8"},
      {"active within max_total", {Active(50), {}, {}, {}, {}}, 4, 5, 12, "-> 12"},
      {"expired override is ignored", {Active(8, kNow - 1), {}, {}, {}, {}}, 4, 5, 5, "rps: needs 5"},
      {"override until a time names it",
       {Active(8, kNow + 60'000), {}, {}, {}, {}},
       4,
       5,
       8,
       "until 1970-01-01T00:17:40.000Z"},
      {"floor raises", {floor_only, {}, {}, {}, {}}, 4, 3, 6, "min_active 6: sale"},
      {"floor leaves a higher decision", {floor_only, {}, {}, {}, {}}, 4, 9, 9, "(no change)"},
      {"ceiling lowers", {ceiling_only, {}, {}, {}, {}}, 4, 9, 3, "max_active 3: budget"},
      {"scale-up paused holds", {{}, up_paused, {}, {}, {}}, 4, 9, 4, "scale-up paused (incident), holding at 4"},
      {"scale-up paused lets scale-down through", {{}, up_paused, {}, {}, {}}, 4, 2, 2, "rps: needs 2"},
      {"scale-down paused holds", {{}, down_paused, {}, {}, {}}, 4, 2, 4, "scale-down paused, holding at 4"},
      {"pause beats the override", {Active(2), down_paused, {}, {}, {}}, 4, 4, 4, "scale-down paused"},
  };
  for (const Case& c : cases) {
    CAPTURE(std::string(c.name));
    Decision d = D(c.current, c.desired);
    ApplyControls(c.controls, Spec(), kNow, &d);
    CHECK(d.desired == c.want);
    CHECK(d.reason.find(c.reason_part) != std::string::npos);
    CHECK(d.direction == (c.want > c.current   ? Direction::kUp
                          : c.want < c.current ? Direction::kDown
                                               : Direction::kNone));
  }
}

TEST_CASE("control plane: controls per pool, expiry recorded as an event, unknown pools refused") {
  ControlPlane cp(100);
  cp.SetPools({Spec()});
  int changes = 0;
  cp.on_change = [&] {
    ++changes;
    return Status::Ok();
  };
  CHECK_FALSE(cp.SetOverride("nope", Active(3)).ok());
  REQUIRE(cp.SetOverride("web", Active(8, kNow + 1000)).ok());
  CHECK(changes == 1);
  CHECK(cp.Controls("web", kNow).override->active == 8);
  CHECK_FALSE(cp.Controls("web", kNow + 1000).override.has_value());  // expired, dropped
  CHECK(changes == 2);
  std::vector<Event> events = cp.Events("web", 0, 10);
  REQUIRE(events.size() == 2);
  CHECK(events[0].kind == "override");
  CHECK(events[0].result.find("set active 8 by alice") == 0);
  CHECK(events[1].reason.find("override expired") == 0);
  CHECK(events[0].seq < events[1].seq);

  Pause p;
  p.scale_down = true;
  p.set_by = "bob";
  REQUIRE(cp.SetPause("web", p).ok());
  CHECK(cp.Controls("web", kNow).pause.scale_down);
  CHECK_FALSE(cp.ClearOverride("web", "bob", kNow).ok());  // none in force
  REQUIRE(cp.SetOverride("web", Active(5)).ok());
  CHECK(cp.ClearOverride("web", "bob", kNow).ok());
  CHECK(cp.AllControls().at("web").pause.scale_down);
}

TEST_CASE("control plane: a change that cannot be saved is taken back, never acknowledged") {
  ControlPlane cp(100);
  cp.SetPools({Spec()});
  Status store = Status::Ok();
  cp.on_change = [&] { return store; };
  REQUIRE(cp.SetOverride("web", Active(5)).ok());
  store = Status::Unavailable("cannot create state.tmp-1: Is a directory");
  Status st = cp.SetOverride("web", Active(7));
  CHECK(st.code() == Status::Code::kUnavailable);
  CHECK(st.message() == "not saved, so not applied: cannot create state.tmp-1: Is a directory");
  CHECK(cp.Controls("web", kNow).override->active == 5);  // the saved one stays in force
  Pause p;
  p.scale_up = true;
  CHECK_FALSE(cp.SetPause("web", p).ok());
  CHECK_FALSE(cp.Controls("web", kNow).pause.scale_up);
  CHECK_FALSE(cp.ClearOverride("web", "bob", kNow).ok());
  CHECK(cp.Controls("web", kNow).override.has_value());
  CHECK(cp.Events("web", 0, 10).size() == 1);  // only the change that was saved
  CHECK(cp.ClearOverride("web", "bob", kNow).code() == Status::Code::kUnavailable);
  store = Status::Ok();
  CHECK(cp.SetOverride("web", Active(7)).ok());
  CHECK(cp.Controls("web", kNow).override->active == 7);
}

TEST_CASE("control plane: readiness, statuses in config order, bounded events filtered by pool and time") {
  PoolSpec a = Spec(), b = Spec();
  b.name = "api";
  ControlPlane cp(3);
  cp.SetPools({a, b});
  CHECK_FALSE(cp.Ready());
  PoolStatus s;
  s.pool = "web";
  s.observed = true;
  cp.Publish(s);
  CHECK_FALSE(cp.Ready());
  s.pool = "api";
  cp.Publish(s);
  CHECK(cp.Ready());
  s.observed = false;  // a later failure does not make it unready: it has observed once
  cp.Publish(s);
  CHECK(cp.Ready());
  std::vector<PoolStatus> all = cp.Statuses();
  REQUIRE(all.size() == 2);
  CHECK(all[0].pool == "web");
  CHECK(all[1].pool == "api");

  for (int i = 0; i < 5; ++i)
    cp.Record(Event{0, kNow + i, i % 2 ? "api" : "web", "decision", i, i + 1, "up", "", "", "", ""});
  CHECK(cp.Events("", 0, 100).size() == 3);  // bounded at 3: the oldest went first
  CHECK(cp.Events("", 0, 100).front().at == kNow + 2);
  CHECK(cp.Events("web", 0, 100).size() == 2);
  CHECK(cp.Events("", kNow + 4, 100).size() == 1);
  CHECK(cp.Events("", 0, 1).back().at == kNow + 4);  // the newest within the limit

  cp.SetPools({a});  // a reload dropped "api"
  CHECK_FALSE(cp.HasPool("api"));
  CHECK(cp.Statuses().size() == 1);
}

TEST_CASE("control plane: Version changes with everything the API shows, and only then") {
  ControlPlane cp(10);
  cp.SetPools({Spec()});
  uint64_t v = cp.Version();
  auto changed = [&] {
    const uint64_t now = cp.Version();
    const bool c = now != v;
    v = now;
    return c;
  };
  CHECK_FALSE(changed());
  cp.Controls("web", kNow);  // a read
  cp.Events("", 0, 10);
  CHECK_FALSE(changed());
  PoolStatus s;
  s.pool = "web";
  cp.Publish(s);
  CHECK(changed());
  REQUIRE(cp.SetOverride("web", Active(4, kNow + 10)).ok());
  CHECK(changed());
  cp.Controls("web", kNow + 10);  // expiry drops it
  CHECK(changed());
  Pause p;
  p.scale_up = true;
  REQUIRE(cp.SetPause("web", p).ok());
  CHECK(changed());
  REQUIRE(cp.SetOverride("web", Active(4)).ok());
  changed();
  REQUIRE(cp.ClearOverride("web", "bob", kNow).ok());
  CHECK(changed());
  cp.RestoreControls({});
  CHECK(changed());
  cp.SetPools({Spec()});
  CHECK(changed());
}
