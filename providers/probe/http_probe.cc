#include "providers/probe/http_probe.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>

namespace warmpool {
namespace {

using SteadyClock = std::chrono::steady_clock;

int MillisLeft(SteadyClock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

// Waits for `events` on fd until the deadline: true when ready, false on timeout or error (in *why).
bool Wait(int fd, short events, SteadyClock::time_point deadline, std::string* why) {
  for (;;) {
    pollfd p{fd, events, 0};
    const int rc = poll(&p, 1, MillisLeft(deadline));
    if (rc > 0) return true;
    if (rc == 0) {
      *why = "timed out";
      return false;
    }
    if (errno != EINTR) {
      *why = std::string("poll: ") + std::strerror(errno);
      return false;
    }
  }
}

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

}  // namespace

Status HttpProber::Probe(const Server& server) {
  const std::string& address = server.address;
  const std::string who = "probe " + server.name + " (" + address + "): ";
  const size_t colon = address.rfind(':');
  sockaddr_in to{};
  to.sin_family = AF_INET;
  int port = 0;
  if (colon == std::string::npos || inet_pton(AF_INET, address.substr(0, colon).c_str(), &to.sin_addr) != 1 ||
      (port = std::atoi(address.c_str() + colon + 1)) <= 0 || port > 65535) {
    return Status::InvalidArgument(who + "not a numeric ip:port");
  }
  to.sin_port = htons(static_cast<uint16_t>(port));
  const auto deadline = SteadyClock::now() + std::chrono::milliseconds(spec_.timeout);
  Fd s;
  s.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s.fd < 0) return Status::Internal(who + "socket: " + std::strerror(errno));
  std::string why;
  if (connect(s.fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
    if (errno != EINPROGRESS) return Status::Unavailable(who + "connect: " + std::strerror(errno));
    if (!Wait(s.fd, POLLOUT, deadline, &why)) return Status::Unavailable(who + "connect: " + why);
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return Status::Unavailable(who + "connect: " + std::strerror(err));
  }
  const std::string request = "GET " + spec_.path + " HTTP/1.0\r\nHost: " + address.substr(0, colon) +
                              "\r\nUser-Agent: warmpool-probe\r\nConnection: close\r\n\r\n";
  size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = send(s.fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!Wait(s.fd, POLLOUT, deadline, &why)) return Status::Unavailable(who + "send: " + why);
    } else {
      return Status::Unavailable(who + "send: " + std::strerror(errno));
    }
  }
  // The status line: "HTTP/1.x NNN ...".
  std::string head;
  while (head.find('\n') == std::string::npos && head.size() < 256) {
    char buf[256];
    const ssize_t n = recv(s.fd, buf, sizeof buf, 0);
    if (n > 0) {
      head.append(buf, static_cast<size_t>(n));
    } else if (n == 0) {
      break;
    } else if (errno == EAGAIN || errno == EINTR) {
      if (!Wait(s.fd, POLLIN, deadline, &why)) return Status::Unavailable(who + "no answer: " + why);
    } else {
      return Status::Unavailable(who + "recv: " + std::strerror(errno));
    }
  }
  if (head.rfind("HTTP/1.", 0) != 0 || head.size() < 12) {
    return Status::Unavailable(who + (head.empty() ? "closed without an answer" : "not an HTTP answer"));
  }
  const int status = std::atoi(head.substr(9, 3).c_str());
  if (status != spec_.status) {
    return Status::Unavailable(who + "answered " + std::to_string(status) + ", expected " + std::to_string(spec_.status));
  }
  return Status::Ok();
}

}  // namespace warmpool
