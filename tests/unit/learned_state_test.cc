// The learned document (controller/state_codec.h): round trip, and strict decoding with paths.
#include <doctest/doctest.h>

#include "state_codec.h"

using namespace warmpool;

TEST_CASE("learned codec: round trip, numbers bit for bit") {
  LearnedState s;
  s.saved_at = 1'700'000'000'000;
  s.seasonal["web"] = {
      24 * kHour, kMinute, {{28'333'333, 0.1, 0.30000000000000004}, {28'333'334, -2.5, 1e300}}};
  s.seasonal["api"] = {30 * kMinute, kMinute, {}};
  Result<LearnedState> back = DecodeLearned(EncodeLearned(s));
  REQUIRE(back.ok());
  CHECK(back->saved_at == s.saved_at);
  REQUIRE(back->seasonal.size() == 2);
  const auto& w = back->seasonal.at("web");
  CHECK(w.season == 24 * kHour);
  CHECK(w.step == kMinute);
  REQUIRE(w.steps.size() == 2);
  CHECK(w.steps[0].id == 28'333'333);
  CHECK(w.steps[0].hi == 0.30000000000000004);
  CHECK(w.steps[1].hi == 1e300);
  CHECK(back->seasonal.at("api").steps.empty());
}

TEST_CASE("learned codec: a document that is not ours, or not whole, is refused with its path") {
  auto error = [](const std::string& doc) { return DecodeLearned(doc).status().message(); };
  const std::string head = R"({"format":"warmpool-learned","version":1,"saved_at":5,"pools":)";
  CHECK(error("{").rfind("document: not JSON: ", 0) == 0);
  CHECK(error(R"({"format":"warmpool-state","version":1,"saved_at":5,"pools":{}})") ==
        "format: expected \"warmpool-learned\", got \"warmpool-state\"");
  CHECK(error(R"({"format":"warmpool-learned","version":2,"saved_at":5,"pools":{}})") ==
        "version: expected 1, got 2");
  CHECK(error(head + R"({"web":{"season_ms":60000,"step_ms":60000}}})") == "pools.web.steps: missing");
  CHECK(error(head + R"({"web":{"season_ms":60000,"step_ms":60000,"steps":[],"extra":1}}})") ==
        "pools.web.extra: unknown field");
  CHECK(error(head + R"({"web":{"season_ms":0,"step_ms":60000,"steps":[]}}})") ==
        "pools.web.season_ms: expected a duration (a positive integer of milliseconds), got 0");
  CHECK(error(head + R"({"web":{"season_ms":60000,"step_ms":60000,"steps":[[1,2]]}}})") ==
        "pools.web.steps[0]: expected [step, lowest, highest], got [1,2]");
  CHECK(error(head + R"({"web":{"season_ms":60000,"step_ms":60000,"steps":[[1,"2",3]]}}})") ==
        "pools.web.steps[0][1]: expected a number, got \"2\"");
  CHECK(error(head + R"({"web":{"season_ms":60000,"step_ms":60000,"steps":[[1,3,2]]}}})") ==
        "pools.web.steps[0]: expected lowest <= highest, got [1,3,2]");
  CHECK(DecodeLearned(head + "{}}").ok());
}
