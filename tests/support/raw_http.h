// A tiny raw-socket HTTP/1.1 client for the integration tests: any method, headers, a body sent as is
// (Content-Length or chunked), the reply's status, headers and body. Loopback only, bounded by a
// socket timeout. No cpprest: the tests must not share the code they test.
#ifndef WARMPOOL_TESTS_SUPPORT_RAW_HTTP_H_
#define WARMPOOL_TESTS_SUPPORT_RAW_HTTP_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/harness.h"

namespace warmpool::testing {

struct RawReply {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-cased names
  std::string body;
};

struct RawRequest {
  std::string method = "GET";
  std::string target = "/";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool chunked = false;  // send the body with Transfer-Encoding: chunked (in 4 KiB chunks)
  std::string bearer;    // "Authorization: Bearer ..." when set
};

inline std::string Serialize(const RawRequest& r) {
  std::string out = r.method + " " + r.target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  for (const auto& [k, v] : r.headers) out += k + ": " + v + "\r\n";
  if (!r.bearer.empty()) out += "Authorization: Bearer " + r.bearer + "\r\n";
  if (r.chunked) {
    out += "Transfer-Encoding: chunked\r\n\r\n";
    char size[32];
    for (size_t i = 0; i < r.body.size(); i += 4096) {
      const std::string part = r.body.substr(i, 4096);
      std::snprintf(size, sizeof size, "%zx\r\n", part.size());
      out += size + part + "\r\n";
    }
    return out + "0\r\n\r\n";
  }
  if (!r.body.empty() || r.method == "PUT" || r.method == "POST") {
    out += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
  }
  return out + "\r\n" + r.body;
}

// Parses a whole response (the server closed the connection after it).
inline std::optional<RawReply> ParseReply(const std::string& raw) {
  const size_t end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.", 0) != 0 || end == std::string::npos || raw.size() < 12) return std::nullopt;
  RawReply reply;
  reply.status = std::atoi(raw.c_str() + 9);
  size_t pos = raw.find("\r\n") + 2;
  while (pos < end) {
    const size_t eol = raw.find("\r\n", pos);
    const std::string line = raw.substr(pos, eol - pos);
    const size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      reply.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
    }
    pos = eol + 2;
  }
  std::string body = raw.substr(end + 4);
  if (reply.headers["transfer-encoding"] == "chunked") {
    std::string decoded;
    size_t p = 0;
    while (p < body.size()) {
      const size_t eol = body.find("\r\n", p);
      if (eol == std::string::npos) break;
      const size_t n = std::stoul(body.substr(p, eol - p), nullptr, 16);
      if (n == 0) break;
      decoded += body.substr(eol + 2, n);
      p = eol + 2 + n + 2;
    }
    body = decoded;
  }
  reply.body = body;
  return reply;
}

// Sends `request` to 127.0.0.1:port and reads the reply until the server closes. nullopt when the
// connection fails, times out or the reply is not HTTP.
inline std::optional<RawReply> RawHttp(int port, const RawRequest& request,
                                       std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const int fd = ConnectLoopback(port, timeout);
  if (fd < 0) return std::nullopt;
  const std::string bytes = Serialize(request);
  for (size_t sent = 0; sent < bytes.size();) {
    const ssize_t n = send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      close(fd);
      return std::nullopt;
    }
    sent += static_cast<size_t>(n);
  }
  std::string raw;
  char buf[8192];
  for (;;) {
    const ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0) {  // timed out: the server did not close
      close(fd);
      return std::nullopt;
    }
    if (n == 0) break;
    raw.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return ParseReply(raw);
}

}  // namespace warmpool::testing

#endif  // WARMPOOL_TESTS_SUPPORT_RAW_HTTP_H_
