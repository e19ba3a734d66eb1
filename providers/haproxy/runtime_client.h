// RuntimeClient: HAProxy's runtime API over its stats socket (`stats socket ... level admin`), a
// unix socket path or a TCP "host:port", with plain POSIX sockets.
//
// One connection per call: the commands of a call go on ONE line separated by "; " (so HAProxy runs
// them back to back, as `set server B/S state ready; set server B/S health down` needs), wrapped in
// "prompt; ...; quit" so that every reply ends with the prompt (see haproxy_parse.h: some error replies
// have no other end). The client reads until `quit` closes the connection or the command timeout passes.
//
// Errors name the socket, the command and HAProxy's reply or the socket error:
//   haproxy /run/h.sock: "set server web/x state ready": No such server.
//   haproxy /run/h.sock: "show servers state web": connect: No such file or directory
//   haproxy 127.0.0.1:9999: "show stat": no complete reply within 2s
// Thread-compatible: a const client may be used from several threads (it keeps no connection).
#ifndef WARMPOOL_PROVIDERS_HAPROXY_RUNTIME_CLIENT_H_
#define WARMPOOL_PROVIDERS_HAPROXY_RUNTIME_CLIENT_H_

#include <string>
#include <vector>

#include "warmpool/status.h"
#include "warmpool/time.h"

namespace warmpool {

class RuntimeClient {
 public:
  // `endpoint`: a unix socket path ("/run/haproxy/admin.sock", "unix@/path" too), or TCP
  // "host:port" ("127.0.0.1:9999", "[::1]:9999", "ipv4@127.0.0.1:9999"). Anything with a '/' or
  // without a ':port' is a path.
  RuntimeClient(std::string endpoint, DurationMs timeout);

  // Sends `commands` on one connection and returns one reply per command (without HAProxy's
  // terminating empty line). Only socket problems and timeouts are errors here: a reply that is an
  // HAProxy error message is returned as a reply. REQUIRES: no command contains '\n' or ';'.
  Result<std::vector<std::string>> Exchange(const std::vector<std::string>& commands) const;

  // Like Exchange, but a reply that is an HAProxy error (haproxy/haproxy_parse.h: CheckReply) fails
  // the call with the first such command and its reply. HAProxy still ran the commands after it.
  Result<std::vector<std::string>> Call(const std::vector<std::string>& commands) const;
  Result<std::string> Call(const std::string& command) const;

  // The error for `command` with `what` after it, in the format above, keeping `code`.
  Status Error(Status::Code code, const std::string& command, const std::string& what) const;

  const std::string& endpoint() const { return endpoint_; }
  DurationMs timeout() const { return timeout_; }

 private:
  std::string endpoint_;
  DurationMs timeout_;
};

}  // namespace warmpool

#endif  // WARMPOOL_PROVIDERS_HAPROXY_RUNTIME_CLIENT_H_
