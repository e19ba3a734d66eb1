#include "providers/haproxy/runtime_client.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "providers/haproxy/haproxy_parse.h"

namespace warmpool {
namespace {

using SteadyClock = std::chrono::steady_clock;

Status WithCode(Status::Code code, std::string msg) {
  switch (code) {
    case Status::Code::kOk: return Status::Ok();
    case Status::Code::kInvalidArgument: return Status::InvalidArgument(std::move(msg));
    case Status::Code::kNotFound: return Status::NotFound(std::move(msg));
    case Status::Code::kUnavailable: return Status::Unavailable(std::move(msg));
    case Status::Code::kDeadlineExceeded: return Status::DeadlineExceeded(std::move(msg));
    case Status::Code::kFailedPrecondition: return Status::FailedPrecondition(std::move(msg));
    case Status::Code::kInternal: break;
  }
  return Status::Internal(std::move(msg));
}

std::string Errno(const char* what, int err) { return std::string(what) + ": " + std::strerror(err); }

// Closes the fd on every path out.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

int MillisLeft(SteadyClock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

// Waits for `events` on fd until the deadline. Returns "" or the problem.
std::string WaitFd(int fd, short events, SteadyClock::time_point deadline, bool* timed_out) {
  for (;;) {
    pollfd p{fd, events, 0};
    int rc = poll(&p, 1, MillisLeft(deadline));
    if (rc > 0) return "";
    if (rc == 0) {
      *timed_out = true;
      return "timed out";
    }
    if (errno != EINTR) return Errno("poll", errno);
  }
}

struct Endpoint {
  bool unix_socket = true;
  std::string path, host, port;
};

Endpoint ParseEndpoint(const std::string& endpoint) {
  Endpoint e;
  std::string s = endpoint;
  if (s.rfind("unix@", 0) == 0) {
    e.path = s.substr(5);
    return e;
  }
  for (const char* prefix : {"ipv4@", "ipv6@", "tcp@", "tcp4@", "tcp6@"}) {
    if (s.rfind(prefix, 0) == 0) s = s.substr(std::strlen(prefix));
  }
  const size_t colon = s.rfind(':');
  const bool has_port = colon != std::string::npos && colon + 1 < s.size() &&
                        s.find_first_not_of("0123456789", colon + 1) == std::string::npos;
  if (s.find('/') != std::string::npos || !has_port) {
    e.path = endpoint;
    return e;
  }
  e.unix_socket = false;
  e.host = s.substr(0, colon);
  if (e.host.size() >= 2 && e.host.front() == '[' && e.host.back() == ']')
    e.host = e.host.substr(1, e.host.size() - 2);
  e.port = s.substr(colon + 1);
  return e;
}

// A connected, non-blocking socket, or "" in *error.
int Connect(const Endpoint& e, SteadyClock::time_point deadline, std::string* error, bool* timed_out) {
  if (e.unix_socket) {
    sockaddr_un addr{};
    if (e.path.size() >= sizeof addr.sun_path) {
      *error = "socket path too long (" + std::to_string(e.path.size()) + " bytes)";
      return -1;
    }
    // A unix connect completes at once (or fails with EAGAIN when the backlog is full, which a
    // non-blocking socket would not wait out): connect blocking, then switch to non-blocking.
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      *error = Errno("socket", errno);
      return -1;
    }
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, e.path.c_str(), e.path.size());
    int rc;
    do {
      rc = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    } while (rc != 0 && errno == EINTR);
    const int flags = rc == 0 ? fcntl(fd, F_GETFL) : -1;
    if (rc != 0 || flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
      *error = Errno(rc != 0 ? "connect" : "fcntl", errno);
      close(fd);
      return -1;
    }
    return fd;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* list = nullptr;
  if (int rc = getaddrinfo(e.host.c_str(), e.port.c_str(), &hints, &list); rc != 0) {
    *error = "resolve " + e.host + ": " + gai_strerror(rc);
    return -1;
  }
  int fd = -1;
  for (addrinfo* ai = list; ai != nullptr && fd < 0; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd < 0) {
      *error = Errno("socket", errno);
      continue;
    }
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      if (errno != EINPROGRESS) {
        *error = Errno("connect", errno);
        close(fd);
        fd = -1;
        continue;
      }
      std::string problem = WaitFd(fd, POLLOUT, deadline, timed_out);
      int err = 0;
      socklen_t len = sizeof err;
      if (problem.empty() && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err != 0) {
        problem = Errno("connect", err);
      }
      if (!problem.empty()) {
        *error = problem == "timed out" ? "connect: timed out" : problem;
        close(fd);
        fd = -1;
        if (*timed_out) break;
      }
    }
  }
  freeaddrinfo(list);
  return fd;
}

}  // namespace

// A bound on one exchange's replies: `show servers state` for thousands of servers is a few MB; an
// endpoint that sends more is not HAProxy's runtime API, and must not fill the memory before the timeout.
constexpr size_t kMaxReplyBytes = 64 << 20;

RuntimeClient::RuntimeClient(std::string endpoint, DurationMs timeout)
    : endpoint_(std::move(endpoint)), timeout_(timeout) {}

Status RuntimeClient::Error(Status::Code code, const std::string& command, const std::string& what) const {
  return WithCode(code, "haproxy " + endpoint_ + ": \"" + command + "\": " + what);
}

Result<std::vector<std::string>> RuntimeClient::Exchange(const std::vector<std::string>& commands) const {
  std::string line;
  for (const std::string& c : commands) {
    if (c.find_first_of("\n;") != std::string::npos) {
      return Error(Status::Code::kInvalidArgument, c, "a command must not contain a newline or ';'");
    }
    line += (line.empty() ? "" : "; ") + c;
  }
  if (commands.empty()) return std::vector<std::string>{};
  const auto deadline = SteadyClock::now() + std::chrono::milliseconds(timeout_);
  auto fail = [&](std::string what, bool timed_out) {
    return timed_out ? Error(Status::Code::kDeadlineExceeded, line,
                             "no complete reply within " + FormatDuration(timeout_) + " (" + what + ")")
                     : Error(Status::Code::kUnavailable, line, what);
  };

  bool timed_out = false;
  std::string error;
  Fd sock{Connect(ParseEndpoint(endpoint_), deadline, &error, &timed_out)};
  if (sock.fd < 0) return fail(error, timed_out);

  // Interactive mode: every reply ends with the prompt, a delimiter that no reply lacks.
  const std::string out = "prompt; " + line + "; quit\n";
  size_t sent = 0;
  while (sent < out.size()) {
    ssize_t n = send(sock.fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (std::string p = WaitFd(sock.fd, POLLOUT, deadline, &timed_out); !p.empty())
        return fail("send: " + p, timed_out);
    } else {
      return fail(Errno("send", errno), false);
    }
  }

  std::string raw;
  char buf[8192];
  for (;;) {
    ssize_t n = recv(sock.fd, buf, sizeof buf, 0);
    if (n > 0) {
      raw.append(buf, static_cast<size_t>(n));
      if (raw.size() > kMaxReplyBytes) {
        return fail("reply larger than " + std::to_string(kMaxReplyBytes >> 20) + " MiB: not a runtime API", false);
      }
    } else if (n == 0) {
      break;  // `quit`
    } else if (errno == EAGAIN || errno == EINTR) {
      if (std::string p = WaitFd(sock.fd, POLLIN, deadline, &timed_out); !p.empty()) {
        return fail("read " + std::to_string(raw.size()) + " bytes, " + p, timed_out);
      }
    } else {
      return fail(Errno("recv", errno), false);
    }
  }
  std::vector<std::string> replies = haproxy::SplitReplies(raw, commands.size());
  if (replies.size() < commands.size()) {
    return Error(Status::Code::kUnavailable, commands[replies.size()],
                 "connection closed before its reply (" + std::to_string(raw.size()) + " bytes in all)");
  }
  return replies;
}

Result<std::vector<std::string>> RuntimeClient::Call(const std::vector<std::string>& commands) const {
  Result<std::vector<std::string>> replies = Exchange(commands);
  if (!replies.ok()) return replies;
  for (size_t i = 0; i < commands.size(); ++i) {
    Status st = haproxy::CheckReply(commands[i], (*replies)[i]);
    if (!st.ok()) return Error(st.code(), commands[i], st.message());
  }
  return replies;
}

Result<std::string> RuntimeClient::Call(const std::string& command) const {
  Result<std::vector<std::string>> replies = Call(std::vector<std::string>{command});
  if (!replies.ok()) return replies.status();
  return std::move((*replies)[0]);
}

}  // namespace warmpool
