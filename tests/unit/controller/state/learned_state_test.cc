// The learned document (controller/state/codec.h): round trip, and strict decoding with paths. The
// refusals of the seasonal record are checked in version 1's shape, which is still read.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <map>

#include "controller/state/codec.h"

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
  CHECK(back->histories.empty());
}

TEST_CASE("learned codec: policy histories round trip with the policy's identity, a missing metric as null") {
  LearnedState s;
  s.saved_at = 9;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  s.histories["web"] = {{"predictive",
                         "forecast",
                         {{"metric", "rps"}, {"season", "24h"}},
                         {{1000, true, 3, 0.1 + 0.2}, {1000, false, 0, nan}, {16000, true, 4, 1e-300}}},
                        {"predictive", "weekly", {}, {}}};
  s.seasonal["api"] = {30 * kMinute, kMinute, {{1, 0, 1}}};  // another pool: seasonal only
  const std::string doc = EncodeLearned(s);
  CHECK(doc.find(R"("api":{"seasonal":{"season_ms":1800000)") != std::string::npos);
  CHECK(doc.find(R"("policies":[]})") != std::string::npos);  // api has none
  CHECK(doc.find(R"("web":{"seasonal":null,"policies":[{"type":"predictive")") != std::string::npos);
  Result<LearnedState> back = DecodeLearned(doc);
  REQUIRE(back.ok());
  CHECK(back->seasonal.size() == 1);
  CHECK(back->seasonal.count("web") == 0);
  REQUIRE(back->histories.size() == 1);
  const std::vector<PolicyHistory>& h = back->histories.at("web");
  REQUIRE(h.size() == 2);
  CHECK(h[0].type == "predictive");
  CHECK(h[0].name == "forecast");
  CHECK(h[0].params == std::map<std::string, std::string>{{"metric", "rps"}, {"season", "24h"}});
  REQUIRE(h[0].records.size() == 3);
  CHECK(h[0].records[0].at == 1000);
  CHECK(h[0].records[0].valid);
  CHECK(h[0].records[0].desired == 3);
  CHECK(h[0].records[0].metric == 0.1 + 0.2);  // bit for bit
  CHECK_FALSE(h[0].records[1].valid);
  CHECK(std::isnan(h[0].records[1].metric));
  CHECK(h[0].records[2].metric == 1e-300);
  CHECK(h[1].name == "weekly");
  CHECK(h[1].records.empty());
}

TEST_CASE("learned codec: version 2's pools and records are checked with their paths") {
  auto error = [](const std::string& doc) { return DecodeLearned(doc).status().message(); };
  const std::string head = R"({"format":"warmpool-learned","version":2,"saved_at":5,"pools":{"web":)";
  const std::string policy =
      R"({"seasonal":null,"policies":[{"type":"predictive","name":"f","params":{},"records":)";
  CHECK(DecodeLearned(head + policy + "[[1,true,2,3.5],[1,false,0,null]]}]}}}").ok());
  CHECK(error(head + R"({"seasonal":null}}})") == "pools.web.policies: missing");
  CHECK(error(head + R"({"seasonal":{"season_ms":60000,"step_ms":60000},"policies":[]}}})") ==
        "pools.web.seasonal.steps: missing");
  CHECK(error(head + R"({"seasonal":null,"policies":{}}}})") ==
        "pools.web.policies: expected an array, got {}");
  CHECK(
      error(
          head +
          R"({"seasonal":null,"policies":[{"type":"predictive","name":"f","params":{"season":24},"records":[]}]}}})") ==
      "pools.web.policies[0].params.season: expected a string, got 24");
  CHECK(error(head + policy + "[[1,true,2]]}]}}}") ==
        "pools.web.policies[0].records[0]: expected [at, valid, desired, metric or null], got [1,true,2]");
  CHECK(error(head + policy + "[[1,1,2,3]]}]}}}") ==
        "pools.web.policies[0].records[0][1]: expected true or false, got 1");
  CHECK(error(head + policy + "[[1,true,-2,3]]}]}}}") ==
        "pools.web.policies[0].records[0][2]: expected a count (an integer in [0, 2147483647]), got -2");
  CHECK(error(head + policy + R"([[1,true,2,"3"]]}]}}})") ==
        "pools.web.policies[0].records[0][3]: expected a number or null, got \"3\"");
  CHECK(error(head + policy + "[[5,true,2,3],[4,true,2,3]]}]}}}") ==
        "pools.web.policies[0].records[1][0]: expected a time not before the previous record's, got 4");
  // Version 1 (the seasonal record alone, as the first release wrote it) is still read.
  Result<LearnedState> v1 = DecodeLearned(
      R"({"format":"warmpool-learned","version":1,"saved_at":5,"pools":{"web":{"season_ms":60000,"step_ms":60000,"steps":[[1,2,3]]}}})");
  REQUIRE(v1.ok());
  CHECK(v1->seasonal.at("web").steps.size() == 1);
  CHECK(v1->histories.empty());
}

TEST_CASE("learned codec: a document that is not ours, or not whole, is refused with its path") {
  auto error = [](const std::string& doc) { return DecodeLearned(doc).status().message(); };
  const std::string head = R"({"format":"warmpool-learned","version":1,"saved_at":5,"pools":)";
  CHECK(error("{").rfind("document: not JSON: ", 0) == 0);
  CHECK(error(R"({"format":"warmpool-state","version":1,"saved_at":5,"pools":{}})") ==
        "format: expected \"warmpool-learned\", got \"warmpool-state\"");
  CHECK(error(R"({"format":"warmpool-learned","version":3,"saved_at":5,"pools":{}})") ==
        "version: expected 1 or 2, got 3");
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
