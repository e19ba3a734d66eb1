#include <doctest/doctest.h>

#include "warmpool/params.h"
#include "warmpool/time.h"

using namespace warmpool;

TEST_CASE("ParseDuration accepts units and combinations") {
  struct Case {
    const char* text;
    DurationMs want;
  } cases[] = {{"0", 0},          {"0s", 0},        {"500ms", 500},     {"15s", 15000},
               {"5m", 300000},    {"1h", 3600000},  {"1h30m", 5400000}, {"1.5s", 1500},
               {"2m30s", 150000}, {"1d", 86400000}, {"90s", 90000}};
  for (const Case& c : cases) {
    CAPTURE(c.text);
    Result<DurationMs> d = ParseDuration(c.text);
    REQUIRE(d.ok());
    CHECK(*d == c.want);
  }
}

TEST_CASE("ParseDuration refuses bad input with the value in the message") {
  const char* bad[] = {"", "15", "15x", "s", "-5s", "1h30", "m5"};
  for (const char* text : bad) {
    CAPTURE(text);
    Result<DurationMs> d = ParseDuration(text);
    REQUIRE_FALSE(d.ok());
    CHECK(d.status().message().find(std::string("got \"") + text + "\"") != std::string::npos);
  }
  CHECK(ParseDuration("15").status().message().find("missing unit") != std::string::npos);
}

TEST_CASE("FormatDuration and FormatTime") {
  CHECK(FormatDuration(0) == "0s");
  CHECK(FormatDuration(15000) == "15s");
  CHECK(FormatDuration(90000) == "1m30s");
  CHECK(FormatDuration(250) == "250ms");
  CHECK(FormatDuration(3600000 + 1000) == "1h1s");
  CHECK(FormatTime(0) == "1970-01-01T00:00:00.000Z");
  CHECK(FormatTime(804571200000) == "1995-07-01T04:00:00.000Z");
}

TEST_CASE("ParamReader reads typed values and names the path of every error") {
  Params p{
      "pools[0].policies[1]",
      "",
      {{"n", "3.5"}, {"i", "two"}, {"d", "15"}, {"e", "up"}, {"b", "yes"}, {"big", "11"}, {"extra", "1"}}};
  ParamReader r(p);
  CHECK(r.Number("n", 0, 0, 10) == 3.5);
  CHECK(r.Int("i", 7, 0, 10) == 7);
  CHECK(r.Duration("d", 1) == 1);
  CHECK(r.Enum("e", "max", {"max", "min"}) == "max");
  CHECK(r.Bool("b", false) == false);
  CHECK(r.Int("big", 0, 0, 10) == 0);
  CHECK(r.Number("absent", 42, 0, 100) == 42);
  std::vector<std::string> errors = r.Finish();
  REQUIRE(errors.size() == 6);
  CHECK(errors[0] == "pools[0].policies[1].i: must be an integer, got \"two\"");
  CHECK(errors[1].rfind("pools[0].policies[1].d: must be a duration", 0) == 0);
  CHECK(errors[2] == "pools[0].policies[1].e: must be one of max, min, got \"up\"");
  CHECK(errors[3] == "pools[0].policies[1].b: must be true or false, got \"yes\"");
  CHECK(errors[4] == "pools[0].policies[1].big: must be between 0 and 10, got 11");
  CHECK(errors[5] == "pools[0].policies[1].extra: unknown key");
}

TEST_CASE("QuoteValue and EscapeControls keep an error on one line") {
  CHECK(QuoteValue("web") == "\"web\"");
  CHECK(QuoteValue("a\nb\tc\rd") == "\"a\\nb\\tc\\rd\"");
  CHECK(QuoteValue(std::string("x\x01y\x7f", 4)) == "\"x\\x01y\\x7f\"");
  CHECK(QuoteValue("say \"hi\" \\o/") == "\"say \\\"hi\\\" \\\\o/\"");
  CHECK(QuoteValue("été") == "\"été\"");  // UTF-8 is not a control character
  CHECK(EscapeControls("pools[0].a\nb: \"x\"") == "pools[0].a\\nb: \"x\"");
  Params p{"pools[0].provider", "", {{"n", "1\n2"}, {"e", "up\n"}}};
  ParamReader r(p);
  r.Int("n", 0, 0, 10);
  r.Enum("e", "max", {"max"});
  std::vector<std::string> errors = r.Finish();
  REQUIRE(errors.size() == 2);
  CHECK(errors[0] == "pools[0].provider.n: must be an integer, got \"1\\n2\"");
  CHECK(errors[1] == "pools[0].provider.e: must be one of max, got \"up\\n\"");
}

TEST_CASE("ParamReader names an unknown key where it leaves what was read") {
  Params p{"pools[0].provider",
           "",
           {{"exec.provision", "p"},
            {"exec.colour.a", "1"},
            {"exec.colour.b", "2"},
            {"colour", "red"},
            {"shade.x", "1"},
            {"shade.y", "2"},
            {"list[0]", "a"},
            {"servers[0].name", "a"},
            {"servers[1].colour", "x"},
            {"servers[2]", "x"}}};
  ParamReader r(p);
  r.String("exec.provision");
  r.String("servers[0].name");
  std::vector<std::string> errors = r.Finish();
  CHECK(errors == std::vector<std::string>{
                      "pools[0].provider.colour: unknown key",
                      "pools[0].provider.exec.colour: unknown key",  // one error, not one per value
                      "pools[0].provider.list: unknown key",
                      "pools[0].provider.servers[1].colour: unknown key",  // the setting, not the item
                      "pools[0].provider.servers[2]: unknown key",
                      "pools[0].provider.shade: unknown key",
                  });
}

TEST_CASE("ParamReader: an error covers the values under its key, and a copied value names its origin") {
  Params p{"pools[0].metrics[0].fallback", "", {{"proxy", "a b"}, {"servers.x", "1"}, {"servers.y", "2"}}};
  p.origins["proxy"] = "pools[0].provider.backend";
  p.origins["socket"] = "pools[0].provider.socket";
  ParamReader r(p);
  if (r.String("socket").empty()) r.Error("socket", "required");
  r.Error("proxy", "must be a proxy name, got " + QuoteValue(r.String("proxy")));
  r.Error("servers", "must be a list, got a mapping");
  std::vector<std::string> errors = r.Finish();
  CHECK(errors == std::vector<std::string>{
                      "pools[0].provider.socket: required",
                      "pools[0].provider.backend: must be a proxy name, got \"a b\"",
                      "pools[0].metrics[0].fallback.servers: must be a list, got a mapping",
                  });
}
