// Pure parsers for HAProxy 2.6 runtime API replies: `show servers state <backend>`, `show stat`
// CSV, the splitting of a multi-command reply, and the recognition of error replies. No I/O.
//
// Facts these rely on, checked against the real haproxy 2.6.12 (tests/unit/haproxy_parse_test.cc
// holds the captured output):
// - Replies are not reliably delimited in non-interactive mode: most end with an empty line, but some
//   errors do not ("Backend must use a dynamic load balancing to support dynamic servers." runs
//   straight into the next command's reply). In interactive mode ("prompt") every command's output is
//   followed by the prompt "> " at the start of a line, so the client sends
//   "prompt; <cmd1>; <cmd2>; quit" and splits at the prompts. A failed command does not stop the
//   commands after it on the same line.
// - A command that succeeds silently (set server, enable health, ...) replies with nothing.
// - Error replies are plain text: "No such server.", "No such backend.", "Can't find backend.",
//   "No such proxy.", "Require 'backend/server'.", "Unknown command, but maybe ...",
//   "'set server <srv> state' expects ...", "Permission denied", "unknown keyword 'x'.",
//   "Already exists a server with the same name in backend.", "Only servers in maintenance mode can
//   be deleted.", "Health check was not configured on this server, cannot enable.", ...
#ifndef WARMPOOL_PROVIDERS_HAPROXY_HAPROXY_PARSE_H_
#define WARMPOOL_PROVIDERS_HAPROXY_HAPROXY_PARSE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "warmpool/status.h"

namespace warmpool::haproxy {

// srv_op_state values.
constexpr int kOpStopped = 0;
constexpr int kOpStarting = 1;  // up, warming up (slowstart)
constexpr int kOpRunning = 2;
constexpr int kOpStopping = 3;  // up but soft-stopping (e.g. 404 with disable-on-404)

// srv_admin_state bits.
constexpr int kAdminFMaint = 0x01;  // forced (set server state maint, cfg `disabled`)
constexpr int kAdminIMaint = 0x02;  // inherited from a tracked server
constexpr int kAdminCMaint = 0x04;  // cfg `disabled`; STAYS set after `state ready` (not maintenance alone)
constexpr int kAdminFDrain = 0x08;
constexpr int kAdminIDrain = 0x10;
constexpr int kAdminRMaint = 0x20;  // address resolution failed
constexpr int kAdminHMaint = 0x40;  // FQDN set from the CLI (not maintenance)
// HAProxy's own SRV_ADMF_MAINT mask: what really takes a server out of maintenance-free service.
constexpr int kAdminMaintMask = kAdminFMaint | kAdminIMaint | kAdminRMaint;
constexpr int kAdminDrainMask = kAdminFDrain | kAdminIDrain;

// srv_check_state bits.
constexpr int kCheckInProgress = 0x01;
constexpr int kCheckConfigured = 0x02;  // `check` on the server line (or `add server ... check`)
constexpr int kCheckEnabled = 0x04;     // cleared by `disable health`; a dynamic server needs `enable health`
constexpr int kCheckPaused = 0x08;      // paused by maintenance

// One data line of `show servers state`.
struct ServerStateRow {
  std::string backend;
  int server_id = 0;
  std::string name;
  std::string addr;  // "-" when the server has an FQDN and no address yet
  std::string fqdn;  // "-" when none
  int port = 0;
  int op_state = kOpStopped;
  int admin_state = 0;
  int64_t seconds_since_change = 0;
  int check_result = 0;
  int check_health = 0;
  int check_state = 0;

  bool InMaintenance() const { return (admin_state & kAdminMaintMask) != 0; }
  bool Draining() const { return (admin_state & kAdminDrainMask) != 0; }
  // Health checks are configured AND enabled: only then can a forced `health down` ever be undone.
  bool ChecksEnabled() const {
    return (check_state & (kCheckConfigured | kCheckEnabled)) == (kCheckConfigured | kCheckEnabled);
  }
  bool Up() const { return op_state == kOpStarting || op_state == kOpRunning; }
  // "ip:port", or "fqdn:port" when the address is not resolved, or "" when neither is known.
  std::string Address() const;
};

// Parses the reply to `show servers state [<backend>]` (format version 1). Columns are found by
// their names in the "# be_id be_name ..." header, so extra or reordered columns are fine.
Result<std::vector<ServerStateRow>> ParseServersState(std::string_view text);

// One server line of `show stat` CSV.
struct ServerStat {
  std::string backend;
  std::string name;
  int64_t scur = 0;    // current sessions
  int64_t qcur = 0;    // queued requests
  std::string status;  // "UP", "DOWN", "MAINT", "DRAIN", "no check", ...
};

// Parses `show stat` CSV; keeps server lines only (not FRONTEND/BACKEND). Columns by header name.
Result<std::vector<ServerStat>> ParseShowStat(std::string_view csv);

// One cumulative counter (`column`, e.g. "req_tot" or "stot") of the FRONTEND or BACKEND line
// (`svname`) of proxy `proxy` in `show stat` CSV. NotFound when there is no such line or the column is
// empty for it (req_tot of a tcp-mode proxy); Internal when malformed.
Result<int64_t> ParseProxyCounter(std::string_view csv, std::string_view proxy, std::string_view svname,
                                  std::string_view column);

// Splits the raw interactive-mode output of "prompt; <cmd1>; ...; <cmdN>; quit" into one reply per
// command, without trailing newlines. Only complete replies (followed by their prompt) come back: the
// result is shorter than `n` when the connection closed early. Output that does not start with the
// prompt (not interactive) comes back whole as one reply. A reply line that starts with "> " would look
// like a prompt; pieces beyond `n` are joined back into the last reply.
std::vector<std::string> SplitReplies(std::string_view raw, size_t n);

// Ok, or the error that `reply` (to `command`) is, with the reply's text as the message. Knows what a
// success looks like for the commands the provider sends (empty for set/enable/disable, "New server
// registered." for add server, "Server deleted." for del server, the format line for show servers
// state, the CSV header for show stat); for other commands, recognizes HAProxy's error phrases.
// Codes: kNotFound (no such server/backend/proxy), kInvalidArgument (unknown command, bad syntax),
// kFailedPrecondition (anything else HAProxy refused, e.g. "Permission denied").
Status CheckReply(std::string_view command, std::string_view reply);

}  // namespace warmpool::haproxy

#endif  // WARMPOOL_PROVIDERS_HAPROXY_HAPROXY_PARSE_H_
