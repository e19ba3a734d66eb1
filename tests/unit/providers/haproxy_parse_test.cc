// Parsers of HAProxy 2.6 runtime API replies, against output captured from the real haproxy 2.6.12
// (Debian 12): a backend with a healthy server (up1), a cfg `disabled` one (standby1), one without
// checks (nocheck), a DOWN one (down1), one draining with 2 sessions (slow) and a dynamic one added
// with `add server ... check` + `enable health` (dyn1).
#include "providers/haproxy/haproxy_parse.h"

#include <doctest/doctest.h>

#include <map>
#include <optional>

#include "providers/haproxy/haproxy_provider.h"
#include "providers/haproxy/runtime_client.h"
#include "providers/registry.h"
#include "warmpool/clock.h"
#include "warmpool/provider.h"

using namespace warmpool;
using namespace warmpool::haproxy;

namespace {

// `show servers state web`, verbatim (the trailing empty line ends the reply).
constexpr const char* kServersState =
    R"(1
# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port
3 web 1 up1 127.0.0.1 2 0 1 1 1 6 3 3 6 0 0 0 - 18081 - 0 0 - - 0
3 web 2 standby1 127.0.0.1 0 5 1 1 3 1 0 0 14 0 0 0 - 18082 - 0 0 - - 0
3 web 3 nocheck 127.0.0.1 2 0 1 1 1 1 0 0 0 0 0 0 - 18083 - 0 0 - - 0
3 web 4 down1 127.0.0.1 0 0 1 1 1 8 2 0 6 0 0 0 - 18084 - 0 0 - - 0
3 web 5 slow 127.0.0.1 2 8 1 1 1 6 3 3 6 0 0 0 - 18085 - 0 0 - - 0
3 web 6 dyn1 127.0.0.1 0 1 1 1 1 6 3 3 6 0 0 0 - 18083 - 0 0 - - 0

)";

// `show stat web 4 -1`, verbatim (129 columns).
constexpr const char* kShowStat =
    R"(# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,lastsess,last_chk,last_agt,qtime,ctime,rtime,ttime,agent_status,agent_code,agent_duration,check_desc,agent_desc,check_rise,check_fall,check_health,agent_rise,agent_fall,agent_health,addr,cookie,mode,algo,conn_rate,conn_rate_max,conn_tot,intercepted,dcon,dses,wrew,connect,reuse,cache_lookups,cache_hits,srv_icur,src_ilim,qtime_max,ctime_max,rtime_max,ttime_max,eint,idle_conn_cur,safe_conn_cur,used_conn_cur,need_conn_est,uweight,agg_server_status,agg_server_check_status,agg_check_status,-,ssl_sess,ssl_reused_sess,ssl_failed_handshake,h2_headers_rcvd,h2_data_rcvd,h2_settings_rcvd,h2_rst_stream_rcvd,h2_goaway_rcvd,h2_detected_conn_protocol_errors,h2_detected_strm_protocol_errors,h2_rst_stream_resp,h2_goaway_resp,h2_open_connections,h2_backend_open_streams,h2_total_connections,h2_backend_total_streams,h1_open_connections,h1_open_streams,h1_total_connections,h1_total_streams,h1_bytes_in,h1_bytes_out,h1_spliced_bytes_in,h1_spliced_bytes_out,
web,up1,0,0,0,0,,0,0,0,,0,,0,0,0,0,UP,1,1,0,0,1,1,0,,1,3,1,,0,,2,0,,0,L4OK,,0,0,0,0,0,0,0,,,,0,0,0,,,,,-1,,,0,0,0,0,,,,Layer4 check passed,,2,2,3,,,,127.0.0.1:18081,,http,,,,,,,,0,0,0,,,0,,0,0,0,0,0,0,0,0,1,1,,,,-,0,0,0,,,,,,,,,,,,,,,,,,,,,,
web,standby1,0,0,0,0,,0,0,0,,0,,0,0,0,0,MAINT,1,1,0,0,0,3,3,,1,3,2,,0,,2,0,,0,,,,0,0,0,0,0,0,,,,0,0,0,,,,,-1,,,0,0,0,0,,,,,,,,,,,,127.0.0.1:18082,,http,,,,,,,,0,0,0,,,0,,0,0,0,0,0,0,0,0,0,1,,,,-,0,0,0,,,,,,,,,,,,,,,,,,,,,,
web,nocheck,0,0,0,0,,0,0,0,,0,,0,0,0,0,no check,1,1,0,,,1,,,1,3,3,,0,,2,0,,0,,,,0,0,0,0,0,0,,,,0,0,0,,,,,-1,,,0,0,0,0,,,,,,,,,,,,127.0.0.1:18083,,http,,,,,,,,0,0,0,,,0,,0,0,0,0,0,0,0,0,0,1,,,,-,0,0,0,,,,,,,,,,,,,,,,,,,,,,
web,down1,0,0,0,0,,0,0,0,,0,,0,0,0,0,DOWN,1,1,0,2,2,1,1,,1,3,4,,0,,2,0,,0,L4CON,,0,0,0,0,0,0,0,,,,0,0,0,,,,,-1,Connection refused,,0,0,0,0,,,,Layer4 connection problem,,2,2,0,,,,127.0.0.1:18084,,http,,,,,,,,0,0,0,,,0,,0,0,0,0,0,0,0,0,1,1,,,,-,0,0,0,,,,,,,,,,,,,,,,,,,,,,
web,slow,0,0,2,2,,2,0,0,,0,,0,0,0,0,DRAIN,1,1,0,1,1,1,0,,1,3,5,,2,,2,1,,2,L4OK,,0,0,0,0,0,0,0,,,,0,0,0,,,,,1,,,0,0,0,0,,,,Layer4 check passed,,2,2,3,,,,127.0.0.1:18085,,http,,,,,,,,0,2,0,,,0,,0,0,0,0,0,0,0,2,3,1,,,,-,0,0,0,,,,,,,,,,,,,,,,,,,,,,
web,dyn1,0,0,0,0,,0,0,0,,0,,0,0,0,0,MAINT,1,1,0,0,0,1,1,,1,3,6,,0,,2,0,,0,L4OK,,0,0,0,0,0,0,0,,,,0,0,0,,,,,-1,,,0,0,0,0,,,,Layer4 check passed,,2,2,3,,,,127.0.0.1:18083,,http,,,,,,,,0,0,0,,,0,0,0,0,0,0,0,0,0,0,1,1,,,,-,0,0,0,,,,,,,,,,,,,,,,,,,,,,

)";

// `show stat` (everything), the header and three lines of it: a frontend, a backend and a server.
constexpr const char* kShowStatAll =
    R"(# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,lastsess,last_chk,last_agt,qtime,ctime,rtime,ttime,agent_status,agent_code,agent_duration,check_desc,agent_desc,check_rise,check_fall,check_health,agent_rise,agent_fall,agent_health,addr,cookie,mode,algo,conn_rate,conn_rate_max,conn_tot,intercepted,dcon,dses,wrew,connect,reuse,cache_lookups,cache_hits,srv_icur,src_ilim,qtime_max,ctime_max,rtime_max,ttime_max,eint,idle_conn_cur,safe_conn_cur,used_conn_cur,need_conn_est,uweight,agg_server_status,agg_server_check_status,agg_check_status,-,ssl_sess,ssl_reused_sess,ssl_failed_handshake,h2_headers_rcvd,h2_data_rcvd,h2_settings_rcvd,h2_rst_stream_rcvd,h2_goaway_rcvd,h2_detected_conn_protocol_errors,h2_detected_strm_protocol_errors,h2_rst_stream_resp,h2_goaway_resp,h2_open_connections,h2_backend_open_streams,h2_total_connections,h2_backend_total_streams,h1_open_connections,h1_open_streams,h1_total_connections,h1_total_streams,h1_bytes_in,h1_bytes_out,h1_spliced_bytes_in,h1_spliced_bytes_out,
fe,FRONTEND,,,2,2,9984,2,0,0,0,0,0,,,,,OPEN,,,,,,,,,1,2,0,,,,0,1,0,2,,,,0,0,0,0,0,0,,1,2,2,,,0,0,0,0,,,,,,,,,,,,,,,,,,,,,http,,1,2,2,0,0,0,0,,,0,0,,,,,,,0,,,,,,,,,-,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,2,2,2,2,158,0,0,0,
web,slow,0,0,2,2,,2,0,0,,0,,0,0,0,0,DRAIN,1,1,0,1,1,1,0,,1,3,5,,2,,2,1,,2,L4OK,,0,0,0,0,0,0,0,,,,0,0,0,,,,,1,,,0,0,0,0,,,,Layer4 check passed,,2,2,3,,,,127.0.0.1:18085,,http,,,,,,,,0,2,0,,,0,,0,0,0,0,0,0,0,2,3,1,,,,-,0,0,0,,,,,,,,,,,,,,,,,,,,,,
web,BACKEND,0,0,2,2,999,2,0,0,0,0,,0,0,0,0,UP,2,2,0,,0,3,0,,1,3,0,,2,,1,1,,2,,,,0,0,0,0,0,0,,,,0,0,0,0,0,0,0,1,,,0,0,0,0,,,,,,,,,,,,,,http,roundrobin,,,,,,,0,2,0,0,0,,,0,0,0,0,0,,,,,2,0,0,0,-,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,2,2,2,2,0,158,0,0,

)";

}  // namespace

TEST_CASE("haproxy: show servers state parses every column we use, from real output") {
  Result<std::vector<ServerStateRow>> rows = ParseServersState(kServersState);
  REQUIRE(rows.ok());
  REQUIRE(rows->size() == 6);
  const ServerStateRow& up1 = (*rows)[0];
  CHECK(up1.backend == "web");
  CHECK(up1.server_id == 1);
  CHECK(up1.name == "up1");
  CHECK(up1.Address() == "127.0.0.1:18081");
  CHECK(up1.op_state == kOpRunning);
  CHECK(up1.admin_state == 0);
  CHECK(up1.seconds_since_change == 1);
  CHECK(up1.check_result == 3);
  CHECK(up1.check_health == 3);
  CHECK(up1.Up());
  CHECK_FALSE(up1.InMaintenance());
  CHECK_FALSE(up1.Draining());
  CHECK(up1.ChecksEnabled());

  const ServerStateRow& standby1 = (*rows)[1];  // `disabled` in the cfg: FMAINT|CMAINT, checks paused
  CHECK(standby1.admin_state == 5);
  CHECK(standby1.InMaintenance());
  CHECK(standby1.check_state == 14);
  CHECK(standby1.ChecksEnabled());
  CHECK_FALSE(standby1.Up());

  const ServerStateRow& nocheck = (*rows)[2];
  CHECK(nocheck.Up());
  CHECK(nocheck.check_state == 0);
  CHECK_FALSE(nocheck.ChecksEnabled());

  const ServerStateRow& down1 = (*rows)[3];
  CHECK(down1.op_state == kOpStopped);
  CHECK_FALSE(down1.Up());
  CHECK_FALSE(down1.InMaintenance());

  const ServerStateRow& slow = (*rows)[4];  // `set server web/slow state drain`
  CHECK(slow.admin_state == 8);
  CHECK(slow.Draining());
  CHECK_FALSE(slow.InMaintenance());
  CHECK(slow.Up());

  const ServerStateRow& dyn1 = (*rows)[5];  // `add server` starts in maintenance (FMAINT)
  CHECK(dyn1.admin_state == 1);
  CHECK(dyn1.InMaintenance());
  CHECK(dyn1.ChecksEnabled());
}

TEST_CASE("haproxy: CMAINT alone is not maintenance, disabled health means no checks, FQDN addresses") {
  // The values HAProxy 2.6 reports for a cfg `disabled` server after `set server web/b state ready`
  // (admin 4 = CMAINT stays, and it is UP and takes traffic), after `disable health web/b` (check state
  // 2 = configured, not enabled), and, verbatim, a dynamic server added with an FQDN.
  const char* text =
      "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight "
      "srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state "
      "srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port "
      "srv_check_addr srv_agent_addr srv_agent_port\n"
      "3 web 2 b 127.0.0.1 2 4 1 1 0 6 3 3 6 0 0 0 - 18082 - 0 0 - - 0\n"
      "3 web 2 b 127.0.0.1 2 4 1 1 0 6 3 3 2 0 0 0 - 18082 - 0 0 - - 0\n"
      "3 web 6 f - 0 1 1 1 0 1 0 0 0 0 0 0 foo.example 80 - 0 0 - - 0\n\n";
  Result<std::vector<ServerStateRow>> rows = ParseServersState(text);
  REQUIRE(rows.ok());
  REQUIRE(rows->size() == 3);
  CHECK_FALSE((*rows)[0].InMaintenance());
  CHECK((*rows)[0].ChecksEnabled());
  CHECK_FALSE((*rows)[1].ChecksEnabled());
  CHECK((*rows)[2].Address() == "foo.example:80");
  CHECK((*rows)[2].InMaintenance());
}

TEST_CASE("haproxy: show servers state finds columns by name (extra and reordered columns)") {
  const char* text =
      "1\n# be_id be_name srv_id srv_name srv_future srv_addr srv_admin_state srv_op_state srv_uweight "
      "srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health "
      "srv_check_state srv_port more_stuff\n"
      "3 web 7 x zz 10.0.0.7 8 2 1 1 42 6 3 3 6 8080 a b c\n";
  Result<std::vector<ServerStateRow>> rows = ParseServersState(text);
  REQUIRE(rows.ok());
  REQUIRE(rows->size() == 1);
  CHECK((*rows)[0].name == "x");
  CHECK((*rows)[0].Address() == "10.0.0.7:8080");
  CHECK((*rows)[0].Draining());
  CHECK((*rows)[0].op_state == kOpRunning);
  CHECK((*rows)[0].seconds_since_change == 42);
  CHECK((*rows)[0].fqdn == "-");
}

TEST_CASE("haproxy: show servers state errors say what is wrong") {
  CHECK(ParseServersState("").status().message() == "show servers state: empty reply");
  CHECK(ParseServersState("Can't find backend.\n").status().message() ==
        "show servers state: expected format version 1, got \"Can't find backend.\"");
  CHECK(ParseServersState("2\n# be_id\n").status().message().find("expected format version 1") !=
        std::string::npos);
  CHECK(ParseServersState("1\n3 web 1 a\n").status().message() ==
        "show servers state: no \"# be_id be_name ...\" header line");
  CHECK(ParseServersState("1\n# be_id be_name srv_name\n").status().message() ==
        "show servers state: no column srv_id");
  std::string bad = kServersState;
  bad.replace(bad.find("3 web 1 up1 127.0.0.1 2"), 23, "3 web 1 up1 127.0.0.1 X");
  Result<std::vector<ServerStateRow>> r = ParseServersState(bad);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("malformed line \"3 web 1 up1 127.0.0.1 X") != std::string::npos);
  // An empty backend: the header and nothing else.
  Result<std::vector<ServerStateRow>> empty = ParseServersState(
      "1\n# be_id be_name srv_id srv_name srv_addr "
      "srv_op_state srv_admin_state srv_check_result "
      "srv_check_health srv_check_state srv_port\n\n");
  REQUIRE(empty.ok());
  CHECK(empty->empty());
}

TEST_CASE("haproxy: show stat gives the sessions of each server, from real output") {
  Result<std::vector<ServerStat>> stats = ParseShowStat(kShowStat);
  REQUIRE(stats.ok());
  REQUIRE(stats->size() == 6);
  CHECK((*stats)[0].backend == "web");
  CHECK((*stats)[0].name == "up1");
  CHECK((*stats)[0].status == "UP");
  CHECK((*stats)[1].status == "MAINT");
  CHECK((*stats)[2].status == "no check");
  CHECK((*stats)[4].name == "slow");
  CHECK((*stats)[4].status == "DRAIN");
  CHECK((*stats)[4].scur == 2);  // two slow requests in flight while it drains
  CHECK((*stats)[4].qcur == 0);
  for (size_t i : {0, 1, 2, 3, 5}) CHECK((*stats)[i].scur == 0);

  // The whole dump: frontends and backends are not servers.
  Result<std::vector<ServerStat>> all = ParseShowStat(kShowStatAll);
  REQUIRE(all.ok());
  REQUIRE(all->size() == 1);
  CHECK(all->front().name == "slow");
}

TEST_CASE("haproxy: show stat finds columns by name, handles quotes, and reports what is wrong") {
  Result<std::vector<ServerStat>> s =
      ParseShowStat("# svname,pxname,status,extra,scur,\nweb2,web,UP,\"a,b\",3,\nFRONTEND,fe,OPEN,,1,\n");
  REQUIRE(s.ok());
  REQUIRE(s->size() == 1);  // no `type` column: FRONTEND/BACKEND by name
  CHECK(s->front().name == "web2");
  CHECK(s->front().scur == 3);
  CHECK(s->front().qcur == 0);
  CHECK(ParseShowStat("No such proxy.\n").status().message() ==
        "show stat: no \"# pxname,svname,...\" header line");
  CHECK(ParseShowStat("# pxname,svname,qcur\n").status().message() == "show stat: no column scur");
  Result<std::vector<ServerStat>> bad = ParseShowStat("# pxname,svname,scur,type\nweb,a,x,2\n");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message() == "show stat: malformed scur in \"web,a,x,2\"");
}

TEST_CASE("haproxy: a proxy's cumulative counter from its FRONTEND or BACKEND line, and what is missing") {
  CHECK(*ParseProxyCounter(kShowStatAll, "fe", "FRONTEND", "req_tot") == 2);
  CHECK(*ParseProxyCounter(kShowStatAll, "web", "BACKEND", "stot") == 2);
  CHECK(*ParseProxyCounter(kShowStatAll, "web", "BACKEND", "req_tot") == 0);
  CHECK(ParseProxyCounter(kShowStatAll, "web", "FRONTEND", "req_tot").status().message() ==
        "show stat: no FRONTEND line for proxy web");
  CHECK(ParseProxyCounter(kShowStatAll, "fe", "FRONTEND", "nope").status().message() == "show stat: no column nope");
  // A tcp-mode proxy leaves req_tot empty.
  Result<int64_t> tcp = ParseProxyCounter("# pxname,svname,stot,req_tot\ndb,BACKEND,7,\n", "db", "BACKEND", "req_tot");
  CHECK(tcp.status().code() == Status::Code::kNotFound);
  CHECK(tcp.status().message().find("use stot for tcp") != std::string::npos);
  CHECK(ParseProxyCounter("# pxname,svname,stot\ndb,BACKEND,-3\n", "db", "BACKEND", "stot").status().message() ==
        "show stat: malformed stot in \"db,BACKEND,-3\"");
  CHECK(ParseProxyCounter("Unknown command.\n", "db", "BACKEND", "stot").status().code() == Status::Code::kInternal);
}

TEST_CASE("haproxy: the interactive reply to several commands splits at each prompt") {
  // Real output of "prompt; <commands>; quit" on one line.
  // set server web/a state drain; set server web/nope state ready; set server web/a state ready
  std::vector<std::string> r = SplitReplies("\n> \n> No such server.\n\n> \n> ", 3);
  REQUIRE(r.size() == 3);
  CHECK(r[0].empty());
  CHECK(r[1] == "No such server.");
  CHECK(r[2].empty());
  // add server other/y 127.0.0.1:9 check; enable health other/y: the first error has no empty line
  // after it, so only the prompt tells where it ends.
  r = SplitReplies(
      "\n> Backend must use a dynamic load balancing to support dynamic servers.\n> No such server.\n\n> ",
      2);
  REQUIRE(r.size() == 2);
  CHECK(r[0] == "Backend must use a dynamic load balancing to support dynamic servers.");
  CHECK(r[1] == "No such server.");
  // add server web/a2 ...; set server web/a2 state maint; del server web/a2 (no empty line either)
  r = SplitReplies("\n> New server registered.\n\n> \n> Server deleted.\n> ", 3);
  REQUIRE(r.size() == 3);
  CHECK(r[0] == "New server registered.");
  CHECK(r[1].empty());
  CHECK(r[2] == "Server deleted.");
  // show servers state web; show stat web 4 -1
  r = SplitReplies(std::string("\n> ") + kServersState + "> " + kShowStat + "> ", 2);
  REQUIRE(r.size() == 2);
  CHECK(ParseServersState(r[0]).ok());
  CHECK(ParseShowStat(r[1])->size() == 6);
  CHECK(r[1].rfind("# pxname", 0) == 0);
  // The connection closed early: only the replies followed by their prompt.
  CHECK(SplitReplies("", 2).empty());
  CHECK(SplitReplies("\n> ", 2).empty());
  r = SplitReplies("\n> \n> 1\n# be_id", 3);
  REQUIRE(r.size() == 1);
  CHECK(r[0].empty());
  // Not interactive (no prompt): all of it as one reply.
  r = SplitReplies("Permission denied\n\n", 2);
  REQUIRE(r.size() == 1);
  CHECK(r[0] == "Permission denied");
  // A reply line that starts with "> " looks like a prompt: extra pieces are joined back.
  r = SplitReplies("\n> a\n> b\n\n> ", 1);
  REQUIRE(r.size() == 1);
  CHECK(r[0] == "a\n> b");
}

TEST_CASE("haproxy: error replies are recognized, with HAProxy's own words") {
  // Successes.
  CHECK(CheckReply("set server web/a state ready", "").ok());
  CHECK(CheckReply("set server web/a health down", "\n").ok());
  CHECK(CheckReply("enable health web/e", "").ok());
  CHECK(CheckReply("add server web/e 127.0.0.1:1 check", "New server registered.").ok());
  CHECK(CheckReply("del server web/e", "Server deleted.").ok());
  CHECK(CheckReply("show servers state web", kServersState).ok());
  CHECK(CheckReply("show stat web 4 -1", kShowStat).ok());
  CHECK(CheckReply("show info", "Name: HAProxy\nVersion: 2.6.12-1+deb12u4").ok());

  // Every error below is a real haproxy 2.6 reply to the command beside it.
  struct Case {
    const char* command;
    const char* reply;
    Status::Code code;
  };
  const Case cases[] = {
      {"set server web/nope state ready", "No such server.", Status::Code::kNotFound},
      {"set server nope/a state ready", "No such backend.", Status::Code::kNotFound},
      {"show servers state nope", "Can't find backend.", Status::Code::kNotFound},
      {"show stat nope 4 -1", "No such proxy.", Status::Code::kNotFound},
      {"set server web state ready", "Require 'backend/server'.", Status::Code::kInvalidArgument},
      {"set server web/a state bogus", "'set server <srv> state' expects 'ready', 'drain' and 'maint'.",
       Status::Code::kInvalidArgument},
      {"bogus command",
       "Unknown command, but maybe one of the following ones is a better match:\n"
       "  add map [@<ver>] <map> <key> <val>      : add a map entry (payload supported instead of key/val)",
       Status::Code::kInvalidArgument},
      {"add server web/h 127.0.0.1:1 bogus", "unknown keyword 'bogus'.", Status::Code::kInvalidArgument},
      {"add server web/z3 1.2.3.4:99999", "invalid port '99999'", Status::Code::kInvalidArgument},
      {"add server web/e 127.0.0.1:1", "Already exists a server with the same name in backend.",
       Status::Code::kFailedPrecondition},
      {"add server other/y 127.0.0.1:1",
       "Backend must use a dynamic load balancing to support dynamic servers.",
       Status::Code::kFailedPrecondition},
      {"add server web/g 127.0.0.1:1 cookie x", "'cookie' option is not accepted for dynamic server",
       Status::Code::kFailedPrecondition},
      {"del server web/a", "Only servers in maintenance mode can be deleted.",
       Status::Code::kFailedPrecondition},
      {"enable health web/c", "Health check was not configured on this server, cannot enable.",
       Status::Code::kFailedPrecondition},
      {"set server web/a state drain", "Permission denied", Status::Code::kFailedPrecondition},
      {"show info", "Permission denied", Status::Code::kFailedPrecondition},
      {"show info", "Unknown command, but maybe ...", Status::Code::kInvalidArgument},
  };
  for (const Case& c : cases) {
    CAPTURE(c.command);
    Status st = CheckReply(c.command, c.reply);
    CHECK_FALSE(st.ok());
    CHECK(st.code() == c.code);
  }
  CHECK(CheckReply("bogus command", cases[6].reply).message() ==
        "Unknown command, but maybe one of the following ones is a better match:");
  CHECK(CheckReply("set server web/nope state ready", "No such server.\n").message() == "No such server.");
  CHECK(CheckReply("add server web/e 127.0.0.1:1", "").message() == "empty reply");
}

TEST_CASE("haproxy: RuntimeClient refuses a command it cannot put on one line") {
  RuntimeClient client("/nonexistent/h.sock", 100);
  Result<std::vector<std::string>> r =
      client.Exchange({"show info", "set server web/a state ready; show info"});
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Status::Code::kInvalidArgument);
  CHECK(r.status().message() ==
        "haproxy /nonexistent/h.sock: \"set server web/a state ready; show info\": a command must not "
        "contain a "
        "newline or ';'");
  CHECK(client.Error(Status::Code::kNotFound, "set server web/x state ready", "No such server.").ToString() ==
        "not found: haproxy /nonexistent/h.sock: \"set server web/x state ready\": No such server.");
}

namespace {

Params HParams(std::map<std::string, std::string> values) {
  Params p;
  p.path = "pools[0].provider";
  p.values = std::move(values);
  return p;
}

std::string Joined(const std::vector<std::string>& errors) {
  std::string out;
  for (const std::string& e : errors) out += e + "\n";
  return out;
}

}  // namespace

TEST_CASE("haproxy provider params: defaults, inventory and exec") {
  std::vector<std::string> errors;
  std::optional<HAProxySpec> spec = ReadHAProxySpec(HParams({{"socket", "/run/h.sock"},
                                                             {"backend", "web"},
                                                             {"servers[0].name", "web-3"},
                                                             {"servers[0].address", "10.0.0.3:8080"},
                                                             {"servers[1].name", "web-4"},
                                                             {"servers[1].address", "[::1]:8080"},
                                                             {"exec.provision", "start-vm"},
                                                             {"exec.retire", "stop-vm"}}),
                                                    &errors);
  INFO(Joined(errors));
  REQUIRE(spec);
  CHECK(spec->socket == "/run/h.sock");
  CHECK(spec->backend == "web");
  CHECK(spec->command_timeout == 2 * kSecond);
  CHECK(spec->drain_timeout == 30 * kSecond);
  CHECK(spec->promotion_grace == 10 * kSecond);
  CHECK(spec->server_options == "check");
  REQUIRE(spec->servers.size() == 2);
  CHECK(spec->servers[1].address == "[::1]:8080");
  REQUIRE(spec->exec);
  CHECK(spec->exec->provision == "start-vm");

  errors.clear();
  spec = ReadHAProxySpec(HParams({{"socket", "127.0.0.1:9999"},
                                  {"backend", "web"},
                                  {"drain_timeout", "5s"},
                                  {"promotion_grace", "0s"},
                                  {"server_options", "check inter 1s"}}),
                         &errors);
  REQUIRE(spec);
  CHECK(spec->drain_timeout == 5 * kSecond);
  CHECK(spec->promotion_grace == 0);
  CHECK_FALSE(spec->exec);
  CHECK(spec->servers.empty());
}

TEST_CASE("haproxy provider params: errors are path-named, unknown keys rejected") {
  std::vector<std::string> errors;
  CHECK_FALSE(ReadHAProxySpec(HParams({{"sockett", "/x"}}), &errors));
  CHECK(Joined(errors) ==
        "pools[0].provider.socket: required: the admin stats socket (a unix path or host:port)\n"
        "pools[0].provider.backend: required: the HAProxy backend that is the pool\n"
        "pools[0].provider.sockett: unknown key\n");

  errors.clear();
  CHECK_FALSE(ReadHAProxySpec(HParams({{"socket", "/x"},
                                       {"backend", "web/a"},
                                       {"command_timeout", "2"},
                                       {"servers[0].name", "a"},
                                       {"servers[0].address", "app.example:80"},
                                       {"servers[1].name", "a"},
                                       {"servers[1].address", "10.0.0.1:70000"},
                                       {"servers[2].address", "10.0.0.2:80"},
                                       {"server_options", "check; del server web/a"},
                                       {"exec.provision", "x"}}),
                              &errors));
  const std::string all = Joined(errors);
  INFO(all);
  CHECK(all.find("pools[0].provider.backend: must be a backend name") != std::string::npos);
  CHECK(all.find("pools[0].provider.command_timeout: ") != std::string::npos);
  CHECK(all.find("pools[0].provider.servers[0].address: required: a numeric \"ip:port\"") !=
        std::string::npos);
  CHECK(all.find("pools[0].provider.servers[1].name: duplicate server name \"a\"") != std::string::npos);
  CHECK(all.find("pools[0].provider.servers[1].address: ") != std::string::npos);
  CHECK(all.find("pools[0].provider.servers[2].name: required: a server name") != std::string::npos);
  CHECK(all.find("pools[0].provider.server_options: must not contain ';'") != std::string::npos);
  CHECK(all.find("pools[0].provider.exec.retire: required") != std::string::npos);

  // The registry knows the type and passes the errors on.
  errors.clear();
  ManualClock clock;
  CHECK(CreateProvider("haproxy", "web", HParams({{"backend", "web"}}), &clock, &errors) == nullptr);
  CHECK(Joined(errors) ==
        "pools[0].provider.socket: required: the admin stats socket (a unix path or host:port)\n");
  errors.clear();
  CHECK(CreateProvider("haproxy", "web", HParams({{"socket", "/x"}, {"backend", "web"}}), &clock, &errors));
  CHECK(errors.empty());
}
