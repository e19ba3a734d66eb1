// Unit tests for the persisted state document (controller/state/codec.h): every field round-trips,
// and every malformed field is refused with its JSON path. The file store is in state_file_test.cc.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "controller/state/codec.h"

using namespace warmpool;

namespace {

using Counts = BehaviorHistory::TimedCounts;

PersistedState FullState() {
  PersistedState s;
  s.saved_at = 1'790'000'000'123;
  Override o;
  o.active = 7;
  o.min_active = 3;
  o.max_active = 12;
  o.set_at = 1'790'000'000'000;
  o.expires_at = 1'790'003'600'000;
  o.reason = "launch at 14:00, \"quoted\" and ünïcode";
  o.set_by = "alice";
  s.controls["web"].override = o;
  s.controls["web"].pause = {true, false, 1'789'999'000'000, "incident 42", "bob"};
  Override floor_only;
  floor_only.min_active = 2;
  s.controls["api.v2"].override = floor_only;  // a pool name that needs quoting in a path
  s.controls["api.v2"].pause = {false, true, 5, "", ""};
  s.controls["idle"] = PoolControls{};
  s.controls["web"].shed = ShedControl{false, 812.5, 40, 1'790'000'100'000, "campaign", "carol"};
  s.controls["api.v2"].shed = ShedControl{true, 0, 0, 6, "bad limits", "dave"};
  s.controls["web"].protect["web-2"] = Protection{1'790'000'000'000, 1'790'000'600'000, "debugging", "erin"};
  s.controls["web"].protect["web.odd name"] = Protection{7, 0, "", "erin"};  // a name that needs quoting
  s.controls["web"].replace["web-3"] = ReplaceRequest{1'790'000'000'100, "kernel update", "frank"};
  s.behavior["web"].recommendations = {{1000, 3}, {16000, 5}, {31000, 4}};
  s.behavior["web"].scale_ups = {{16000, 2}};
  s.behavior["web"].scale_downs = {{31000, 1}, {46000, 0}};
  s.behavior["empty"] = BehaviorHistory{};
  s.providers["web"] = {{"draining_since", {{"web-3", 1'790'000'000'500}}},
                        {"retired", {{"b", 0}, {"c", 0}}}};
  PersistedState::Applying& a = s.applying["web"];
  a.at = 1'790'000'000'900;
  a.plan.drain = {"web-3", "web-4"};
  a.plan.provision = {"web-9"};
  return s;
}

void CheckCounts(const Counts& got, const Counts& want) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    CHECK(got[i].at == want[i].at);
    CHECK(got[i].count == want[i].count);
  }
}

void CheckSame(const PersistedState& got, const PersistedState& want) {
  CHECK(got.saved_at == want.saved_at);
  REQUIRE(got.controls.size() == want.controls.size());
  for (const auto& entry : want.controls) {  // not a structured binding: clang 14 cannot capture one
    const std::string& pool = entry.first;
    const PoolControls& w = entry.second;
    CAPTURE(pool);
    REQUIRE(got.controls.count(pool) == 1);
    const PoolControls& g = got.controls.at(pool);
    REQUIRE(g.override.has_value() == w.override.has_value());
    if (w.override) {
      CHECK(g.override->active == w.override->active);
      CHECK(g.override->min_active == w.override->min_active);
      CHECK(g.override->max_active == w.override->max_active);
      CHECK(g.override->set_at == w.override->set_at);
      CHECK(g.override->expires_at == w.override->expires_at);
      CHECK(g.override->reason == w.override->reason);
      CHECK(g.override->set_by == w.override->set_by);
    }
    CHECK(g.pause.scale_up == w.pause.scale_up);
    CHECK(g.pause.scale_down == w.pause.scale_down);
    CHECK(g.pause.set_at == w.pause.set_at);
    CHECK(g.pause.reason == w.pause.reason);
    CHECK(g.pause.set_by == w.pause.set_by);
    REQUIRE(g.shed.has_value() == w.shed.has_value());
    if (w.shed) {
      CHECK(g.shed->off == w.shed->off);
      CHECK(g.shed->rate == w.shed->rate);
      CHECK(g.shed->client == w.shed->client);
      CHECK(g.shed->set_at == w.shed->set_at);
      CHECK(g.shed->reason == w.shed->reason);
      CHECK(g.shed->set_by == w.shed->set_by);
    }
    REQUIRE(g.protect.size() == w.protect.size());
    for (const auto& p : w.protect) {
      REQUIRE(g.protect.count(p.first) == 1);
      const Protection& gp = g.protect.at(p.first);
      CHECK(gp.set_at == p.second.set_at);
      CHECK(gp.expires_at == p.second.expires_at);
      CHECK(gp.reason == p.second.reason);
      CHECK(gp.set_by == p.second.set_by);
    }
    REQUIRE(g.replace.size() == w.replace.size());
    for (const auto& r : w.replace) {
      REQUIRE(g.replace.count(r.first) == 1);
      const ReplaceRequest& gr = g.replace.at(r.first);
      CHECK(gr.set_at == r.second.set_at);
      CHECK(gr.reason == r.second.reason);
      CHECK(gr.set_by == r.second.set_by);
    }
  }
  REQUIRE(got.behavior.size() == want.behavior.size());
  for (const auto& entry : want.behavior) {
    const std::string& pool = entry.first;
    const BehaviorHistory& w = entry.second;
    CAPTURE(pool);
    REQUIRE(got.behavior.count(pool) == 1);
    CheckCounts(got.behavior.at(pool).recommendations, w.recommendations);
    CheckCounts(got.behavior.at(pool).scale_ups, w.scale_ups);
    CheckCounts(got.behavior.at(pool).scale_downs, w.scale_downs);
  }
  CHECK(got.providers == want.providers);
  REQUIRE(got.applying.size() == want.applying.size());
  for (const auto& [pool, a] : want.applying) {
    REQUIRE(got.applying.count(pool) == 1);
    const PersistedState::Applying& g = got.applying.at(pool);
    CHECK(g.at == a.at);
    CHECK(g.plan.promote == a.plan.promote);
    CHECK(g.plan.drain == a.plan.drain);
    CHECK(g.plan.provision == a.plan.provision);
    CHECK(g.plan.retire == a.plan.retire);
  }
}

// A valid document with `controls` and `behavior` (JSON fragments) spliced in.
std::string Doc(const std::string& controls, const std::string& behavior = "{}",
                const std::string& head = R"("format": "warmpool-state", "version": 1, "saved_at": 5)") {
  return "{" + head + R"(, "controls": )" + controls + R"(, "behavior": )" + behavior + "}";
}

// The same in version 2, with `providers` spliced in.
std::string Doc2(const std::string& providers) {
  return R"({"format": "warmpool-state", "version": 2, "saved_at": 5, "controls": {}, "behavior": {},
             "providers": )" +
         providers + "}";
}

const char* kPause =
    R"("pause": {"scale_up": false, "scale_down": false, "set_at": 0, "reason": "", "set_by": ""})";

std::string OverrideDoc(const std::string& fields) {
  return R"({"web": {"override": {)" + fields + "}, " + kPause + "}}";
}
const char* kOverrideRest = R"("set_at": 1, "expires_at": 0, "reason": "r", "set_by": "s")";

}  // namespace

TEST_CASE("EncodeState/DecodeState round-trip every field") {
  const PersistedState want = FullState();
  const std::string doc = EncodeState(want);
  Result<PersistedState> got = DecodeState(doc);
  REQUIRE_MESSAGE(got.ok(), got.status().ToString());
  CheckSame(*got, want);
  CHECK(EncodeState(*got) == doc);  // stable: encoding the decoded state gives the same bytes
  CHECK(doc.find(R"("format": "warmpool-state")") != std::string::npos);
  CHECK(doc.find(R"("version": 2)") != std::string::npos);
  CHECK(doc.find(R"("active": null)") != std::string::npos);  // an unset optional is explicit
}

TEST_CASE("EncodeState/DecodeState: an applying plan's suspend and resume (the stopped tier) round-trip") {
  PersistedState want;
  PersistedState::Applying& a = want.applying["web"];
  a.at = 5;
  a.plan.suspend = {"web-2"};
  a.plan.resume = {"web-3", "web-4"};
  const std::string doc = EncodeState(want);
  Result<PersistedState> got = DecodeState(doc);
  REQUIRE(got.ok());
  CHECK(got->applying.at("web").plan.suspend == a.plan.suspend);
  CHECK(got->applying.at("web").plan.resume == a.plan.resume);
  CHECK(EncodeState(*got) == doc);
  // Without them (every older file) nothing is written and nothing is missing.
  PersistedState plain;
  plain.applying["web"].at = 5;
  CHECK(EncodeState(plain).find("suspend") == std::string::npos);
  Result<PersistedState> back = DecodeState(EncodeState(plain));
  REQUIRE(back.ok());
  CHECK(back->applying.at("web").plan.suspend.empty());
}

TEST_CASE("EncodeState/DecodeState round-trip an empty state") {
  Result<PersistedState> got = DecodeState(EncodeState(PersistedState{}));
  REQUIRE_MESSAGE(got.ok(), got.status().ToString());
  CheckSame(*got, PersistedState{});
  CHECK(ValidateState(EncodeState(PersistedState{})).ok());
}

TEST_CASE("DecodeState: the valid baseline of the error table decodes") {
  const std::string ok_override =
      OverrideDoc(R"("active": 3, "min_active": null, "max_active": null, )" + std::string(kOverrideRest));
  Result<PersistedState> got =
      DecodeState(Doc(ok_override, R"({"web": {"recommendations": [{"at": 1, "count": 2}],
                                                               "scale_ups": [], "scale_downs": []}})"));
  REQUIRE_MESSAGE(got.ok(), got.status().ToString());
  CHECK(got->controls.at("web").override->active == 3);
  CHECK(got->behavior.at("web").recommendations.size() == 1);
}

TEST_CASE("DecodeState: version 1 (before the providers' memory) is still read") {
  Result<PersistedState> got = DecodeState(Doc("{}", R"({"web": {"recommendations": [{"at": 1, "count": 2}],
                                                                  "scale_ups": [], "scale_downs": []}})"));
  REQUIRE_MESSAGE(got.ok(), got.status().ToString());
  CHECK(got->behavior.at("web").recommendations.size() == 1);
  CHECK(got->providers.empty());
  Result<PersistedState> v2 = DecodeState(Doc2(R"({"web": {"draining_since": {"web-3": 7}}})"));
  REQUIRE_MESSAGE(v2.ok(), v2.status().ToString());
  CHECK(v2->providers.at("web").at("draining_since").at("web-3") == 7);
}

TEST_CASE("DecodeState: errors name the JSON path of the bad field") {
  const std::string nulls = R"("min_active": null, "max_active": null, )";
  const std::string behavior_head = R"({"web": {"scale_ups": [], "scale_downs": [], "recommendations": )";
  struct Case {
    std::string doc;
    std::string error;  // the whole message must start with this
  };
  const std::vector<Case> cases = {
      {"not json", "document: not JSON: "},
      {"", "document: not JSON: "},
      // A number past a double once escaped as an exception and aborted the start-up (tests/fuzz/).
      {Doc("{}", "{}", R"("format": "warmpool-state", "version": 1, "saved_at": 1e400)"),
       "document: [json.exception.out_of_range.406] number overflow parsing '1e400'"},
      {"[]", "document: expected an object, got []"},
      {Doc("{}", "{}", R"("format": "warmpool-state", "version": 1)"), "saved_at: missing"},
      {Doc("{}", "{}", R"("format": "warmpool-state", "version": 1, "saved_at": 5, "extra": 1)"),
       "extra: unknown field"},
      {Doc("{}", "{}", R"("format": "other", "version": 1, "saved_at": 5)"),
       R"(format: expected "warmpool-state", got "other")"},
      {Doc("{}", "{}", R"("format": "warmpool-state", "version": 3, "saved_at": 5)"),
       "version: expected 1 or 2, got 3"},
      {Doc("{}", "{}", R"("format": "warmpool-state", "version": 2, "saved_at": 5)"), "providers: missing"},
      {Doc2("[]"), "providers: expected an object keyed by pool name, got []"},
      {Doc2(R"({}, "applying": {"web": {"at": 1, "promote": [], "drain": [""], "provision": [], "retire": []}})"),
       R"(applying.web.drain[0]: expected a server name, got "")"},
      {Doc2(R"({}, "applying": {"web": {"at": 1, "promote": [], "drain": [], "provision": []}})"),
       "applying.web.retire: missing"},
      {Doc2(R"({}, "applying": {"web": {"at": 1, "promote": "a", "drain": [], "provision": [], "retire": []}})"),
       R"(applying.web.promote: expected an array of server names, got "a")"},
      {Doc2(R"({"web": []})"), "providers.web: expected an object of kinds, got []"},
      {Doc2(R"({"web": {"draining_since": [1]}})"),
       "providers.web.draining_since: expected an object of servers and times, got [1]"},
      {Doc2(R"({"web": {"draining_since": {"web-3": "now"}}})"),
       R"(providers.web.draining_since.web-3: expected a time (non-negative integer milliseconds since the epoch), got "now")"},
      {Doc("{}", "{}", R"("format": "warmpool-state", "version": 1, "saved_at": -1)"),
       "saved_at: expected a time (non-negative integer milliseconds since the epoch), got -1"},
      {Doc("[]"), "controls: expected an object keyed by pool name, got []"},
      {Doc(R"({"web": {"override": null}})"), "controls.web.pause: missing"},
      {Doc(R"({"web": {"override": null, "paused": 1, )" + std::string(kPause) + "}}"),
       "controls.web.paused: unknown field"},
      {Doc(OverrideDoc(R"("active": "three", )" + nulls + kOverrideRest)),
       R"(controls.web.override.active: expected an integer or null, got "three")"},
      {Doc(OverrideDoc(R"("active": 1, "min_active": 3000000000, "max_active": null, )" +
                       std::string(kOverrideRest))),
       "controls.web.override.min_active: expected a count (an integer in [0, 2147483647]), got 3000000000"},
      {Doc(OverrideDoc(R"("active": -2, )" + nulls + kOverrideRest)),
       "controls.web.override.active: expected a count (an integer in [0, 2147483647]), got -2"},
      {Doc(OverrideDoc(R"("active": 1, )" + nulls +
                       R"("set_at": 1, "expires_at": 1.5, "reason": "r", "set_by": "s")")),
       "controls.web.override.expires_at: expected a time"},
      {Doc(OverrideDoc(R"("active": 1, )" + nulls +
                       R"("set_at": 1, "expires_at": 0, "reason": 7, "set_by": "s")")),
       "controls.web.override.reason: expected a string, got 7"},
      {Doc(OverrideDoc(R"("active": 1, )" + nulls + R"("set_at": 1, "expires_at": 0, "reason": "r")")),
       "controls.web.override.set_by: missing"},
      {Doc(R"({"web": {"override": null, "pause": {"scale_up": 1, "scale_down": false, "set_at": 0, "reason": "",
              "set_by": ""}}})"),
       "controls.web.pause.scale_up: expected true or false, got 1"},
      {Doc(R"({"a.b": {"override": null}})"), R"(controls["a.b"].pause: missing)"},
      {Doc(R"({"": {}})"), R"(controls[""]: empty pool name)"},
      {Doc("{}", R"({"web": []})"), "behavior.web: expected an object, got []"},
      {Doc("{}", behavior_head + R"({}}})"), "behavior.web.recommendations: expected an array, got {}"},
      {Doc("{}", behavior_head + R"([{"at": 1, "count": 2}, {"at": 2, "count": -1}]}})"),
       "behavior.web.recommendations[1].count: expected a count (an integer in [0, 2147483647]), got -1"},
      {Doc("{}", behavior_head + R"([{"at": "soon", "count": 2}]}})"),
       R"(behavior.web.recommendations[0].at: expected a time (non-negative integer milliseconds since the epoch), got "soon")"},
      {Doc("{}", behavior_head + R"([{"at": 1}]}})"), "behavior.web.recommendations[0].count: missing"},
      {Doc("{}", R"({"web": {"recommendations": [], "scale_ups": [], "scale_downs": [], "x": []}})"),
       "behavior.web.x: unknown field"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.doc);
    Result<PersistedState> got = DecodeState(c.doc);
    REQUIRE_FALSE(got.ok());
    CHECK(got.status().code() == Status::Code::kInvalidArgument);
    CHECK_MESSAGE(got.status().message().rfind(c.error, 0) == 0,
                  "want prefix: " << c.error << "\n got: " << got.status().message());
    CHECK(ValidateState(c.doc).message() == got.status().message());
  }
}

TEST_CASE("DecodeState: an operator's shed control decodes, and a bad one names its path") {
  const std::string ok = R"({"format": "warmpool-state", "version": 2, "saved_at": 5, "behavior": {}, "providers": {},
    "controls": {"web": {"override": null, )" + std::string(kPause) +
                         R"(, "shed": {"off": false, "rate": 800, "client": 25.5, "set_at": 9, "reason": "r", "set_by": "s"}}}})";
  Result<PersistedState> got = DecodeState(ok);
  REQUIRE_MESSAGE(got.ok(), got.status().ToString());
  REQUIRE(got->controls.at("web").shed.has_value());
  CHECK(got->controls.at("web").shed->client == 25.5);
  std::string bad = ok;
  bad.replace(bad.find("\"rate\": 800"), std::string("\"rate\": 800").size(), "\"rate\": -1");
  CHECK(DecodeState(bad).status().message() == "controls.web.shed.rate: expected a non-negative number, got -1");
  bad = ok;
  bad.replace(bad.find("\"off\": false"), 12, "\"off\": 0");
  CHECK(DecodeState(bad).status().message() == "controls.web.shed.off: expected true or false, got 0");
}
