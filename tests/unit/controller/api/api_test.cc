// The REST API's reads and controls through Api::Handle, over a real ControlPlane (no network).
#include <doctest/doctest.h>

#include "tests/support/api_test_util.h"

using namespace warmpool;
using namespace warmpool::api_test;
using nlohmann::json;

TEST_CASE("api: GET /api/v1/pools shows every pool in config order with its status and controls") {
  ApiFixture f;
  HttpServerResponse r = f.Reader("GET", "/api/v1/pools");
  REQUIRE(r.status == 200);
  CHECK(r.content_type == "application/json");
  json pools = Body(r)["pools"];
  REQUIRE(pools.size() == 2);
  const json& web = pools[0];
  CHECK(web["name"] == "web");
  CHECK(web["dry_run"] == false);
  CHECK(web["ticked_at"] == "2025-11-21T05:21:00.000Z");
  CHECK(web["limits"] == json{{"min_active", 2},
                              {"max_active", 10},
                              {"warm_standby", 2},
                              {"warm_stopped", 0},
                              {"max_total", 12}});
  CHECK(
      web["counts"] ==
      json{{"active", 2}, {"standby", 1}, {"provisioning", 1}, {"draining", 0}, {"stopped", 0}, {"cold", 1}});
  REQUIRE(web["servers"].size() == 5);
  CHECK(web["servers"][0] == json{{"name", "web-1"},
                                  {"address", "10.0.0.1:8080"},
                                  {"state", "active"},
                                  {"health", "healthy"},
                                  {"since", "2025-11-21T05:20:00.000Z"}});
  CHECK(web["servers"][4]["since"].is_null());
  const json& d = web["decision"];
  CHECK(d["current"] == 2);
  CHECK(d["desired"] == 3);
  CHECK(d["direction"] == "up");
  CHECK(d["policy"] == "target_tracking");
  CHECK(d["reason"] == "rps 250.0 / 100.0 per server = 2.50 -> 3");
  REQUIRE(d["recommendations"].size() == 2);
  CHECK(d["recommendations"][1] ==
        json{{"policy", "queue"}, {"valid", false}, {"desired", 0}, {"reason", "metric queue missing"}});
  CHECK(web["plan"]["promote"] == json{"web-3"});
  CHECK(web["plan"]["provision"] == json{"web-6"});
  CHECK(web["plan"]["drain"] == json::array());
  CHECK(web["plan"]["reason"] == "promote 1 standby, refill the warm pool");
  CHECK(web["result"]["ok"] == false);
  CHECK(web["result"]["actions"][1]["error"] == "unavailable: no capacity");
  CHECK(web["metric_errors"] == json{"queue: no samples in the last 2m"});
  CHECK(web["override"].is_null());
  CHECK(web["pause"] == json{{"scale_up", false},
                             {"scale_down", false},
                             {"reason", nullptr},
                             {"set_by", nullptr},
                             {"set_at", nullptr}});
  // Not ticked yet: nulls, never stale or made-up values.
  const json& api = pools[1];
  CHECK(api["name"] == "api");
  CHECK(api["ticked_at"].is_null());
  CHECK(api["decision"].is_null());
  CHECK(api["plan"].is_null());
  CHECK(api["servers"] == json::array());
}

TEST_CASE("api: GET /api/v1/pools/{pool} answers one pool, an unknown pool is 404 naming it") {
  ApiFixture f;
  HttpServerResponse r = f.Reader("GET", "/api/v1/pools/web");
  REQUIRE(r.status == 200);
  CHECK(Body(r)["name"] == "web");
  r = f.Reader("GET", "/api/v1/pools/nope");
  CHECK(r.status == 404);
  CHECK(Body(r)["error"] == "unknown pool \"nope\" (pools: web, api)");
  CHECK(Body(r)["field"] == "pool");
}

TEST_CASE("api: an override with a ttl shows in GET and in the events, then expires by the clock") {
  ApiFixture f;
  HttpServerResponse r = f.Admin("PUT", "/api/v1/pools/web/override",
                                 R"({"active": 6, "ttl": "30m", "reason": "launch at 14:00"})");
  REQUIRE_MESSAGE(r.status == 200, r.body);
  CHECK(Body(r)["override"]["active"] == 6);
  json o = Body(f.Reader("GET", "/api/v1/pools/web"))["override"];
  CHECK(o == json{{"active", 6},
                  {"min_active", nullptr},
                  {"max_active", nullptr},
                  {"reason", "launch at 14:00"},
                  {"set_by", "alice"},
                  {"set_at", "2025-11-21T05:21:00.000Z"},
                  {"expires_at", "2025-11-21T05:51:00.000Z"}});
  std::optional<Override> in_plane = f.cp.Controls("web", f.clock.Now()).override;
  REQUIRE(in_plane);
  CHECK(*in_plane->active == 6);
  CHECK(in_plane->set_by == "alice");

  f.clock.Advance(30 * kMinute - 1);
  CHECK_FALSE(Body(f.Reader("GET", "/api/v1/pools/web"))["override"].is_null());
  f.clock.Advance(1);
  CHECK(Body(f.Reader("GET", "/api/v1/pools/web"))["override"].is_null());
  json events = Body(f.Reader("GET", "/api/v1/events?pool=web"))["events"];
  REQUIRE(events.size() == 2);
  CHECK(events[0]["kind"] == "override");
  CHECK(events[0]["result"].get<std::string>().find("by alice") != std::string::npos);
  CHECK(events[1]["reason"] == "override expired: launch at 14:00");
  // Expired is gone: there is nothing left to delete.
  CHECK(f.Admin("DELETE", "/api/v1/pools/web/override").status == 404);
}

TEST_CASE("api: a floor and a ceiling override replaces the last one until DELETE ends it") {
  ApiFixture f;
  REQUIRE(f.Admin("PUT", "/api/v1/pools/web/override", R"({"active": 4, "reason": "a"})").status == 200);
  HttpServerResponse r = f.Admin("PUT", "/api/v1/pools/web/override",
                                 R"({"min_active": 3, "max_active": 12, "reason": "sale"})");
  REQUIRE_MESSAGE(r.status == 200, r.body);
  json o = Body(f.Reader("GET", "/api/v1/pools/web"))["override"];
  CHECK(o["active"].is_null());
  CHECK(o["min_active"] == 3);
  CHECK(o["max_active"] == 12);
  CHECK(o["expires_at"].is_null());  // no ttl: until deleted
  f.clock.Advance(24 * kHour);
  CHECK_FALSE(Body(f.Reader("GET", "/api/v1/pools/web"))["override"].is_null());

  r = f.Admin("DELETE", "/api/v1/pools/web/override");
  CHECK(r.status == 200);
  CHECK(Body(r) == json{{"pool", "web"}, {"override", nullptr}});
  CHECK_FALSE(f.cp.Controls("web", f.clock.Now()).override);
  r = f.Admin("DELETE", "/api/v1/pools/web/override");
  CHECK(r.status == 404);
  CHECK(Body(r)["error"] == "pool \"web\" has no override");
  CHECK(f.Admin("DELETE", "/api/v1/pools/nope/override").status == 404);
}

TEST_CASE("api: override bodies are validated, each error naming its field") {
  ApiFixture f;
  struct Case {
    const char* body;
    const char* field;  // "" = no field
    const char* error;  // a part of the message
  } cases[] = {
      {R"({"active": 6, "reason": "x")", "", "malformed JSON: "},
      {"", "", "request body is empty"},
      {R"([6])", "", "must be a JSON object, got an array"},
      {R"({"active": 6, "reason": "x", "actvie": 1})", "actvie",
       "unknown field \"actvie\" (allowed: active, min_active"},
      {R"({"active": "6", "reason": "x"})", "active", "active must be an integer, got the string \"6\""},
      {R"({"active": 6.5, "reason": "x"})", "active", "active must be an integer, got 6.5"},
      {R"({"min_active": true, "reason": "x"})", "min_active", "min_active must be an integer, got true"},
      {R"({"active": 13, "reason": "x"})", "active",
       "active must be at most 12 (the max_total of pool \"web\"), got 13"},
      {R"({"max_active": 18446744073709551615, "reason": "x"})", "max_active", "must be at most 12"},
      {R"({"active": -1, "reason": "x"})", "active", "active must be at least 0, got -1"},
      {R"({"active": 6})", "reason", "reason is required"},
      {R"({"active": 6, "reason": "  "})", "reason", "reason must not be empty"},
      {R"({"active": 6, "reason": 7})", "reason", "reason must be a string, got 7"},
      {R"({"active": 6, "reason": "two\nlines"})", "reason", "control characters"},
      {R"({"reason": "x"})", "active", "one of active, min_active or max_active is required"},
      {R"({"active": 6, "max_active": 8, "reason": "x"})", "max_active",
       "active cannot be combined with max_active"},
      {R"({"min_active": 5, "max_active": 3, "reason": "x"})", "min_active",
       "min_active must be at most max_active 3, got 5"},
      {R"({"active": 6, "ttl": 30, "reason": "x"})", "ttl",
       "ttl must be a duration string like \"30m\", got 30"},
      {R"({"active": 6, "ttl": "soon", "reason": "x"})", "ttl", "ttl must be a duration like 15s"},
      {R"({"active": 6, "ttl": "0s", "reason": "x"})", "ttl", "ttl must be positive"},
      {R"({"active": 6, "ttl": "721h", "reason": "x"})", "ttl", "ttl must be at most 720h, got \"721h\""},
      {R"({"active": 6, "ttl": "1000000000000000ms", "reason": "x"})", "ttl", "ttl must be at most 720h"},
      // A number past a double is the JSON library's refusal, still a 400 naming the field.
      {R"({"active": 1e400, "reason": "x"})", "active", "active: number overflow parsing '1e400'"},
      {R"({"reason": "x", "min_active" :  -1e999})", "min_active", "min_active: number overflow"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.body);
    HttpServerResponse r = f.Admin("PUT", "/api/v1/pools/web/override", c.body);
    CHECK(r.status == 400);
    json j = Body(r);
    CHECK(j["error"].get<std::string>().find(c.error) != std::string::npos);
    if (*c.field) {
      CHECK(j["field"] == c.field);
    } else {
      CHECK_FALSE(j.contains("field"));
    }
  }
  CHECK_FALSE(f.cp.Controls("web", f.clock.Now()).override);  // nothing was set by a bad request
  // The bounds are inclusive.
  CHECK(f.Admin("PUT", "/api/v1/pools/web/override", R"({"active": 12, "reason": "x"})").status == 200);
  CHECK(f.Admin("PUT", "/api/v1/pools/web/override", R"({"active": 0, "reason": "x"})").status == 200);
  CHECK(f.Admin("PUT", "/api/v1/pools/web/override", R"({"min_active": 4, "max_active": 4, "reason": "x"})")
            .status == 200);
  CHECK(f.Admin("PUT", "/api/v1/pools/web/override", R"({"active": 1, "ttl": "720h", "reason": "x"})").status ==
        200);
}

TEST_CASE("api: an override needs the pool's max_total, so a pool that never ticked answers 503") {
  ApiFixture f;
  HttpServerResponse r = f.Admin("PUT", "/api/v1/pools/api/override", R"({"active": 1, "reason": "x"})");
  CHECK(r.status == 503);
  CHECK(Body(r)["error"].get<std::string>().find("has not published its status yet") != std::string::npos);
}

TEST_CASE("api: pauses per direction add up, and resume per direction") {
  ApiFixture f;
  HttpServerResponse r =
      f.Admin("PUT", "/api/v1/pools/web/pause", R"({"direction": "scale_down", "reason": "incident 4711"})");
  REQUIRE_MESSAGE(r.status == 200, r.body);
  CHECK(Body(r)["pause"] == json{{"scale_up", false},
                                 {"scale_down", true},
                                 {"reason", "incident 4711"},
                                 {"set_by", "alice"},
                                 {"set_at", "2025-11-21T05:21:00.000Z"}});
  r = f.Admin("PUT", "/api/v1/pools/web/pause", R"({"direction": "scale_up", "reason": "freeze"})");
  CHECK(Body(r)["pause"]["scale_down"] == true);  // the earlier pause stays
  CHECK(Body(r)["pause"]["scale_up"] == true);
  Pause p = f.cp.Controls("web", f.clock.Now()).pause;
  CHECK(p.scale_up);
  CHECK(p.scale_down);

  r = f.Admin("DELETE", "/api/v1/pools/web/pause?direction=scale_up");
  CHECK(r.status == 200);
  CHECK(Body(r)["pause"]["scale_up"] == false);
  CHECK(Body(r)["pause"]["scale_down"] == true);
  r = f.Admin("DELETE", "/api/v1/pools/web/pause?direction=scale_up");
  CHECK(r.status == 404);
  CHECK(Body(r)["error"] == "pool \"web\" has no scale_up pause");
  r = f.Admin("DELETE", "/api/v1/pools/web/pause");  // default: both
  CHECK(r.status == 200);
  CHECK_FALSE(f.cp.Controls("web", f.clock.Now()).pause.any());
  CHECK(Body(f.Reader("GET", "/api/v1/pools/web"))["pause"]["reason"].is_null());
  CHECK(f.Admin("DELETE", "/api/v1/pools/web/pause").status == 404);

  r = f.Admin("PUT", "/api/v1/pools/web/pause", R"({"direction": "both", "reason": "x"})");
  CHECK(Body(r)["pause"]["scale_up"] == true);
  CHECK(Body(r)["pause"]["scale_down"] == true);
  json events = Body(f.Reader("GET", "/api/v1/events?pool=web"))["events"];
  CHECK(events.size() == 5);
  CHECK(events.back()["kind"] == "pause");
}

TEST_CASE("api: pause bodies and the resume direction are validated") {
  ApiFixture f;
  struct Case {
    const char* body;
    const char* field;
    const char* error;
  } cases[] = {
      {R"({"reason": "x"})", "direction", "direction is required"},
      {R"({"direction": "up", "reason": "x"})", "direction",
       "direction must be scale_up, scale_down or both, got \"up\""},
      {R"({"direction": 1, "reason": "x"})", "direction", "direction must be a string"},
      {R"({"direction": "both"})", "reason", "reason is required"},
      {R"({"direction": "both", "reason": "x", "until": "1h"})", "until", "unknown field \"until\""},
      {R"({"direction": )", "", "malformed JSON"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.body);
    HttpServerResponse r = f.Admin("PUT", "/api/v1/pools/web/pause", c.body);
    CHECK(r.status == 400);
    CHECK(Body(r)["error"].get<std::string>().find(c.error) != std::string::npos);
    if (*c.field) CHECK(Body(r)["field"] == c.field);
  }
  HttpServerResponse r = f.Admin("DELETE", "/api/v1/pools/web/pause?direction=sideways");
  CHECK(r.status == 400);
  CHECK(Body(r)["field"] == "direction");
  CHECK(f.Admin("PUT", "/api/v1/pools/nope/pause", R"({"direction": "both", "reason": "x"})").status == 404);
}

TEST_CASE("api: events filter by pool, since (RFC 3339 or Unix seconds) and limit") {
  ApiFixture f;
  for (int i = 0; i < 5; ++i) {
    Event e;
    e.at = kStart + i * kMinute;
    e.pool = i % 2 ? "api" : "web";
    e.kind = "decision";
    e.from = i;
    e.to = i + 1;
    e.direction = "up";
    e.reason = "tick " + std::to_string(i);
    f.cp.Record(e);
  }
  json all = Body(f.Reader("GET", "/api/v1/events"))["events"];
  REQUIRE(all.size() == 5);
  CHECK(all[0]["seq"] == 1);
  CHECK(all[0]["at"] == "2025-11-21T05:21:00.000Z");
  CHECK(all[4]["reason"] == "tick 4");
  CHECK(Body(f.Reader("GET", "/api/v1/events?pool=api"))["events"].size() == 2);
  CHECK(Body(f.Reader("GET", "/api/v1/events?since=2025-11-21T05:23:00Z"))["events"].size() == 3);
  CHECK(Body(f.Reader("GET", "/api/v1/events?since=2025-11-21T06:23:00%2B01:00"))["events"].size() == 3);
  CHECK(Body(f.Reader("GET", "/api/v1/events?since=1763702580"))["events"].size() == 3);
  CHECK(Body(f.Reader("GET", "/api/v1/events?since=1763702580.001"))["events"].size() == 2);
  json last2 = Body(f.Reader("GET", "/api/v1/events?limit=2"))["events"];
  REQUIRE(last2.size() == 2);
  CHECK(last2[1]["reason"] == "tick 4");  // the newest, newest last

  for (const char* q : {"limit=0", "limit=1001", "limit=ten", "since=yesterday", "since=2025-13-01T00:00:00Z",
                        "since=2025-02-30T00:00:00Z", "since=2025-11-21T05:23:00", "colour=red"}) {
    CAPTURE(q);
    HttpServerResponse r = f.Reader("GET", std::string("/api/v1/events?") + q);
    CHECK(r.status == 400);
    const std::string field = std::string(q).substr(0, std::string(q).find('='));
    CHECK(Body(r)["field"] == field);
  }
  HttpServerResponse r = f.Reader("GET", "/api/v1/events?pool=nope");
  CHECK(r.status == 404);
  CHECK(Body(r)["field"] == "pool");
  CHECK(Body(f.Reader("GET", "/api/v1/events?limit=1000"))["events"].size() == 5);
}

TEST_CASE("api: probes, metrics and reload") {
  ApiFixture f;
  HttpServerResponse r = f.Call("GET", "/-/healthy");
  CHECK(r.status == 200);
  CHECK(Body(r)["status"] == "healthy");
  r = f.Call("GET", "/-/ready");
  CHECK(r.status == 503);  // "api" has never observed its provider
  CHECK(Body(r)["status"] == "not ready");
  PoolStatus api;
  api.pool = "api";
  api.at = kStart;
  api.observed = true;
  f.cp.Publish(api);
  CHECK(f.Call("GET", "/-/ready").status == 200);
  CHECK(f.Call("GET", "/-/ready?probe=kubelet").status == 200);  // probes ignore their query

  r = f.Call("GET", "/metrics");
  CHECK(r.status == 200);
  CHECK(r.content_type == "text/plain; version=0.0.4; charset=utf-8");
  CHECK(r.body == "warmpool_up 1\n");

  r = f.Admin("POST", "/-/reload");
  CHECK(r.status == 200);
  CHECK(f.reloads == 1);
  json events = Body(f.Reader("GET", "/api/v1/events"))["events"];
  CHECK(events.back()["kind"] == "reload");
  CHECK(events.back()["reason"] == "reload requested through the API by alice");
  f.cp.on_reload = nullptr;
  CHECK(f.Admin("POST", "/-/reload").status == 503);
}

TEST_CASE("api: an operator turns overload protection off or sets its limits, durable, until DELETE") {
  ApiFixture f;
  CHECK(Body(f.Reader("GET", "/api/v1/pools/web"))["shed"].is_null());
  HttpServerResponse r = f.Admin("PUT", "/api/v1/pools/web/shed", R"({"mode": "manual", "rate": 800, "client": 25.5, "reason": "campaign"})");
  REQUIRE(r.status == 200);
  CHECK(Body(r)["shed"]["mode"] == "manual");
  CHECK(Body(r)["shed"]["rate"] == 800);
  CHECK(Body(r)["shed"]["client"] == 25.5);
  CHECK(Body(r)["shed"]["set_by"] == "alice");
  std::optional<ShedControl> s = f.cp.Controls("web", f.clock.Now()).shed;
  REQUIRE(s.has_value());
  CHECK_FALSE(s->off);
  CHECK(s->rate == 800);
  CHECK(Body(f.Reader("GET", "/api/v1/pools/web"))["shed"]["reason"] == "campaign");
  r = f.Admin("PUT", "/api/v1/pools/web/shed", R"({"mode": "off", "reason": "the limits hurt"})");
  REQUIRE(r.status == 200);
  CHECK(f.cp.Controls("web", f.clock.Now()).shed->off);
  CHECK(f.Admin("DELETE", "/api/v1/pools/web/shed").status == 200);
  CHECK_FALSE(f.cp.Controls("web", f.clock.Now()).shed.has_value());
  r = f.Admin("DELETE", "/api/v1/pools/web/shed");
  CHECK(r.status == 404);
  CHECK(Body(r)["error"] == "pool \"web\" has no shed control");
  CHECK(f.Call("PUT", "/api/v1/pools/web/shed", R"({"mode": "off", "reason": "x"})", kReadToken).status == 403);

  struct Case {
    const char* body;
    const char* field;
    const char* error;
  } cases[] = {
      {R"({"reason": "x"})", "mode", "mode is required: off or manual"},
      {R"({"mode": "auto", "reason": "x"})", "mode", "mode must be off or manual, got the string \"auto\""},
      {R"({"mode": "manual", "reason": "x"})", "rate", "mode manual needs rate or client"},
      {R"({"mode": "manual", "rate": -5, "reason": "x"})", "rate", "rate must be a number of requests a second from 0 to 1e9, got -5"},
      {R"({"mode": "manual", "client": 1e400, "reason": "x"})", "", ""},
      {R"({"mode": "off", "rate": 5, "reason": "x"})", "rate", "rate applies only to mode manual"},
      {R"({"mode": "manual", "rate": 5})", "reason", "reason is required"},
  };
  for (const Case& c : cases) {
    r = f.Admin("PUT", "/api/v1/pools/web/shed", c.body);
    INFO(c.body << " -> " << r.body);
    CHECK(r.status == 400);
    CHECK(Body(r)["error"].get<std::string>().find(c.error) != std::string::npos);
    if (*c.field) CHECK(Body(r)["field"] == c.field);
  }
}

TEST_CASE("api: an operator protects a server and asks for one to be replaced, durable, admin only") {
  ApiFixture f;
  // Protect: until deleted, or for a ttl; shown on the pool; admin only.
  HttpServerResponse r = f.Admin("PUT", "/api/v1/pools/web/servers/web-1/protect", R"({"reason": "heap profile", "ttl": "2h"})");
  REQUIRE(r.status == 200);
  CHECK(Body(r)["server"] == "web-1");
  CHECK(Body(r)["protect"]["set_by"] == "alice");
  CHECK(Body(r)["protect"]["expires_at"] == FormatTime(kStart + 2 * kHour));
  CHECK(f.cp.Controls("web", kStart).protect.count("web-1") == 1);
  CHECK(Body(f.Reader("GET", "/api/v1/pools/web"))["protected"]["web-1"]["reason"] == "heap profile");
  CHECK(f.Call("PUT", "/api/v1/pools/web/servers/web-2/protect", R"({"reason": "x"})", kReadToken).status == 403);
  CHECK(f.Call("POST", "/api/v1/pools/web/servers/web-2/replace", R"({"reason": "x"})", kReadToken).status == 403);
  CHECK(f.Call("POST", "/api/v1/pools/web/servers/web-2/replace", R"({"reason": "x"})", "").status == 401);
  // A protected server cannot be replaced by hand; an unknown one is named with the ones there are.
  r = f.Admin("POST", "/api/v1/pools/web/servers/web-1/replace", R"({"reason": "kernel update"})");
  CHECK(r.status == 409);
  CHECK(Body(r)["error"] == "server \"web-1\" is protected (heap profile, by alice): delete its protection first");
  r = f.Admin("POST", "/api/v1/pools/web/servers/web-9/replace", R"({"reason": "x"})");
  CHECK(r.status == 404);
  CHECK(Body(r)["error"] == "pool \"web\" has no server \"web-9\" (servers: web-1, web-2, web-3, web-4, web-5)");
  CHECK(Body(r)["field"] == "server");
  r = f.Admin("POST", "/api/v1/pools/web/servers/web-4/replace", R"({"reason": "x"})");
  CHECK(r.status == 409);
  CHECK(Body(r)["error"] == "server \"web-4\" is provisioning: only an active or standby server can be replaced");
  CHECK(f.Admin("POST", "/api/v1/pools/web/servers/web-2/replace", "").status == 400);  // a reason is required
  CHECK(f.Admin("POST", "/api/v1/pools/web/servers/web-2/replace", R"({"reason": "x", "now": true})").status == 400);
  CHECK(f.Admin("PUT", "/api/v1/pools/web/servers/web-2/protect", R"({"reason": "x", "ttl": "0s"})").status == 400);
  // Replace by hand: recorded, shown, with an event.
  r = f.Admin("POST", "/api/v1/pools/web/servers/web-2/replace", R"({"reason": "kernel update"})");
  REQUIRE(r.status == 200);
  CHECK(Body(r)["replace"]["reason"] == "kernel update");
  CHECK(f.cp.Controls("web", kStart).replace.count("web-2") == 1);
  CHECK(Body(f.Reader("GET", "/api/v1/pools/web"))["replace_requests"]["web-2"]["set_by"] == "alice");
  json events = Body(f.Reader("GET", "/api/v1/events"))["events"];
  CHECK(events.back()["kind"] == "replace");
  CHECK(events.back()["result"] == "replacement of web-2 asked by alice");
  // The request ends when a tick observes the server gone.
  PoolStatus later = WebStatus(kStart + kMinute);
  later.state.servers.erase(later.state.servers.begin() + 1);
  f.cp.Publish(later);
  CHECK(f.cp.Controls("web", kStart + kMinute).replace.empty());
  events = Body(f.Reader("GET", "/api/v1/events"))["events"];
  CHECK(events.back()["reason"] == "replacement of web-2 asked by alice done: no longer in the pool");
  // Unprotect; again is 404; an expired protection is dropped with an event.
  CHECK(f.Admin("DELETE", "/api/v1/pools/web/servers/web-1/protect").status == 200);
  r = f.Admin("DELETE", "/api/v1/pools/web/servers/web-1/protect");
  CHECK(r.status == 404);
  CHECK(Body(r)["error"] == "server \"web-1\" of pool \"web\" is not protected");
  REQUIRE(f.Admin("PUT", "/api/v1/pools/web/servers/web-3/protect", R"({"reason": "short", "ttl": "1m"})").status == 200);
  CHECK(f.cp.Controls("web", kStart + 2 * kMinute).protect.empty());
  events = Body(f.Reader("GET", "/api/v1/events"))["events"];
  CHECK(events.back()["reason"] == "protection of web-3 expired: short");
}
