// HttpClient against hostile HTTP servers on 127.0.0.1: each answer below once aborted the process
// (cpprestsdk), or could hang or exhaust it. Every one must come back as a named error, in bounded
// time, and the client must go on working.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "controller/http/client.h"

namespace warmpool {
namespace {

using Clock = std::chrono::steady_clock;

// Accepts connections on an ephemeral port; for each request it reads the header and hands the socket
// to `script`, which writes whatever it likes. The connection is closed when the script returns, or
// kept for the next request when it returns true.
class ScriptedServer {
 public:
  using Script = std::function<bool(int fd)>;
  explicit ScriptedServer(Script script) : script_(std::move(script)) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(listen(listen_fd_, 16) == 0);
    socklen_t len = sizeof addr;
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }
  ~ScriptedServer() {
    stop_ = true;
    shutdown(listen_fd_, SHUT_RDWR);
    acceptor_.join();
    for (std::thread& t : workers_) t.join();
    close(listen_fd_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int connections() const { return connections_; }
  int requests() const { return requests_; }

 private:
  void AcceptLoop() {
    while (!stop_) {
      const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) return;
      ++connections_;
      workers_.emplace_back([this, fd] { Serve(fd); });
    }
  }
  void Serve(int fd) {
    timeval tv{1, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string in;
    char buf[4096];
    while (!stop_) {
      size_t end;
      while ((end = in.find("\r\n\r\n")) == std::string::npos) {
        const ssize_t n = read(fd, buf, sizeof buf);
        if (n <= 0) {
          if (n < 0 && errno == EAGAIN && !stop_) continue;
          close(fd);
          return;
        }
        in.append(buf, static_cast<size_t>(n));
      }
      in.erase(0, end + 4);
      ++requests_;
      if (!script_(fd)) break;
    }
    close(fd);
  }

  Script script_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0}, requests_{0};
  std::thread acceptor_;
  std::vector<std::thread> workers_;
};

// Writes `text`; false when the peer is gone.
bool Send(int fd, const std::string& text) {
  size_t off = 0;
  while (off < text.size()) {
    const ssize_t n = send(fd, text.data() + off, text.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

struct Outcome {
  Result<HttpResponse> result;
  double seconds;
};

Outcome Get(HttpClient* client, const std::string& path = "/api/v1/query?query=up") {
  HttpRequest request;
  request.path_and_query = path;
  const Clock::time_point start = Clock::now();
  Result<HttpResponse> r = client->Do(request);
  return {std::move(r), std::chrono::duration<double>(Clock::now() - start).count()};
}

std::unique_ptr<HttpClient> Client(const std::string& url, HttpClientOptions options = {}) {
  Result<std::unique_ptr<HttpClient>> c = NewHttpClient(url, options);
  REQUIRE(c.ok());
  return std::move(c).value();
}

const std::string kChunkedHead = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";

}  // namespace

TEST_CASE("http client: hostile chunk sizes are named errors, not a crash") {
  struct Case {
    const char* body;
    const char* error;
  };
  const Case cases[] = {
      {"-1\r\n{}\r\n0\r\n\r\n", "malformed response (bad chunk)"},
      {"ffffffffffffffff\r\nx\r\n0\r\n\r\n", "response body larger than the limit of 64 MiB"},  // 2^64 - 1
      {"1ffffffffffffffff\r\nx\r\n0\r\n\r\n", "malformed response (bad chunk)"},  // past 2^64
      {"zz\r\nx\r\n0\r\n\r\n", "malformed response (bad chunk)"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.body);
    ScriptedServer server([&](int fd) { return Send(fd, kChunkedHead + c.body) && false; });
    auto client = Client(server.url());
    Outcome o = Get(client.get());
    REQUIRE_FALSE(o.result.ok());
    CHECK(o.result.status().code() == Status::Code::kUnavailable);
    CHECK(o.result.status().message() == "GET " + server.url() + "/api/v1/query: read: " + c.error);
    CHECK(o.seconds < 2);
  }
}

TEST_CASE("http client: a response past its size limits is refused as it arrives") {
  HttpClientOptions options;
  options.max_response_bytes = 1 << 20;
  options.timeout = 10 * kSecond;
  SUBCASE("an endless body") {
    ScriptedServer server([](int fd) {
      Send(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n");  // read until the close
      const std::string block(64 * 1024, 'x');
      for (int i = 0; i < 1000 && Send(fd, block); ++i) {
      }
      return false;
    });
    auto client = Client(server.url(), options);
    Outcome o = Get(client.get());
    REQUIRE_FALSE(o.result.ok());
    CHECK(o.result.status().message().find("response body larger than the limit of 1 MiB") != std::string::npos);
    CHECK(o.seconds < 5);
  }
  SUBCASE("a Content-Length past the limit, refused before the body") {
    ScriptedServer server([](int fd) { return Send(fd, "HTTP/1.1 200 OK\r\nContent-Length: 1000000000000\r\n\r\nx") && false; });
    auto client = Client(server.url(), options);
    Outcome o = Get(client.get());
    REQUIRE_FALSE(o.result.ok());
    CHECK(o.result.status().message().find("response body larger than the limit of 1 MiB") != std::string::npos);
  }
  SUBCASE("a 10 MB header") {
    ScriptedServer server([](int fd) {
      Send(fd, "HTTP/1.1 200 OK\r\nX-Big: " + std::string(10 << 20, 'a') + "\r\n\r\n");
      return false;
    });
    auto client = Client(server.url(), options);
    Outcome o = Get(client.get());
    REQUIRE_FALSE(o.result.ok());
    CHECK(o.result.status().message().find("response header larger than the limit of 64 KiB") != std::string::npos);
  }
}

TEST_CASE("http client: garbage, trickles and silence end in bounded time") {
  HttpClientOptions options;
  options.timeout = 1 * kSecond;
  options.connect_timeout = 1 * kSecond;
  SUBCASE("garbage instead of a status line") {
    ScriptedServer server([](int fd) { return Send(fd, "SSH-2.0-OpenSSH_9.2\r\n\r\n") && false; });
    auto client = Client(server.url(), options);
    Outcome o = Get(client.get());
    REQUIRE_FALSE(o.result.ok());
    CHECK(o.result.status().message().find(": read: malformed response (") != std::string::npos);
  }
  SUBCASE("one byte every 200 ms") {
    ScriptedServer server([](int fd) {
      const std::string text = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + std::string(100, 'x');
      for (char c : text) {
        if (!Send(fd, std::string(1, c))) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
      return false;
    });
    auto client = Client(server.url(), options);
    Outcome o = Get(client.get());
    REQUIRE_FALSE(o.result.ok());
    CHECK(o.result.status().code() == Status::Code::kDeadlineExceeded);
    CHECK(o.result.status().message() == "GET " + server.url() + "/api/v1/query: no complete response within 1s");
    CHECK(o.seconds < 1.5);
  }
  SUBCASE("a server that never answers") {
    ScriptedServer server([](int) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1500));
      return false;
    });
    auto client = Client(server.url(), options);
    Outcome o = Get(client.get());
    REQUIRE_FALSE(o.result.ok());
    CHECK(o.result.status().code() == Status::Code::kDeadlineExceeded);
    CHECK(o.seconds < 1.5);
  }
  SUBCASE("nobody listening") {
    std::string url;
    {
      ScriptedServer gone([](int) { return false; });
      url = gone.url();
    }
    auto client = Client(url, options);
    Outcome o = Get(client.get());
    REQUIRE_FALSE(o.result.ok());
    CHECK(o.result.status().code() == Status::Code::kUnavailable);
    CHECK(o.result.status().message().find("cannot connect: Connection refused") != std::string::npos);
  }
}

TEST_CASE("http client: keeps its connection alive, and reopens one the server closed") {
  const std::string ok = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
  SUBCASE("kept alive: three requests, one connection") {
    ScriptedServer server([&](int fd) { return Send(fd, ok); });
    auto client = Client(server.url());
    for (int i = 0; i < 3; ++i) {
      Outcome o = Get(client.get());
      REQUIRE(o.result.ok());
      CHECK(o.result->status == 200);
      CHECK(o.result->body == "{}");
      CHECK(o.result->content_type == "application/json");
    }
    CHECK(server.connections() == 1);
  }
  SUBCASE("the server closes after each answer without saying so: the next GET reconnects") {
    ScriptedServer server([&](int fd) {
      Send(fd, ok);
      return false;
    });
    auto client = Client(server.url());
    for (int i = 0; i < 3; ++i) {
      Outcome o = Get(client.get());
      REQUIRE_MESSAGE(o.result.ok(), o.result.status().ToString());
    }
    CHECK(server.requests() == 3);
  }
  SUBCASE("after a hostile answer the next request works") {
    std::atomic<int> n{0};
    ScriptedServer server([&](int fd) {
      if (n++ == 0) return Send(fd, kChunkedHead + "-1\r\n") && false;
      return Send(fd, ok);
    });
    auto client = Client(server.url());
    CHECK_FALSE(Get(client.get()).result.ok());
    Outcome o = Get(client.get());
    REQUIRE(o.result.ok());
    CHECK(o.result->body == "{}");
  }
}

}  // namespace warmpool
