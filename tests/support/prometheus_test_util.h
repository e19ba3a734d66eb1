// Helpers for tests/integration/prometheus_test.cc: Prometheus restarts on the same port and temp
// dir, sockets that never answer, a canned HTTP server that records requests, TLS and bcrypt files
// made with the openssl and htpasswd command-line tools. Everything on 127.0.0.1.
#ifndef WARMPOOL_TESTS_SUPPORT_PROMETHEUS_TEST_UTIL_H_
#define WARMPOOL_TESTS_SUPPORT_PROMETHEUS_TEST_UTIL_H_

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/harness.h"
#include "warmpool/metrics.h"
#include "warmpool/params.h"

namespace warmpool::testing {

inline TimeMs WallNow() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

inline std::string PrometheusConfigText(const std::string& scrape_configs, int port) {
  std::string scrape = scrape_configs;
  for (size_t pos; (pos = scrape.find("@PORT@")) != std::string::npos;)
    scrape.replace(pos, 6, std::to_string(port));
  return "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n" + scrape + "\n";
}

// Starts Prometheus again on `prom`'s port and temp dir, so its data survives, after the previous
// process was stopped. With `scrape_configs`, the config is replaced first. Returns once ready.
inline bool RestartPrometheus(Prometheus* prom, const std::string* scrape_configs = nullptr) {
  const std::string dir = prom->dir->path();
  if (scrape_configs) prom->dir->Write("prometheus.yml", PrometheusConfigText(*scrape_configs, prom->port));
  prom->process = Process::Start(
      {"prometheus", "--config.file=" + dir + "/prometheus.yml", "--storage.tsdb.path=" + dir + "/data",
       "--web.listen-address=127.0.0.1:" + std::to_string(prom->port), "--log.level=warn"},
      dir + "/prometheus-restarted.log");
  const int port = prom->port;
  return prom->process && WaitFor(
                              [&] {
                                auto r = HttpGet(port, "/-/ready", std::chrono::milliseconds(500));
                                return r && r->status == 200;
                              },
                              std::chrono::seconds(20));
}

inline int ListenLoopback(int backlog, int* port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  listen(fd, backlog);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  *port = ntohs(addr.sin_port);
  return fd;
}

// A port that takes TCP connections and never answers. With `full_backlog`, its accept queue is
// filled first, so that new connections are not even established (the kernel drops their SYNs).
class SilentListener {
 public:
  explicit SilentListener(bool full_backlog) {
    fd_ = ListenLoopback(full_backlog ? 0 : 16, &port_);
    for (int i = 0; full_backlog && i < 3; ++i) {
      int c = socket(AF_INET, SOCK_STREAM, 0);
      fcntl(c, F_SETFL, O_NONBLOCK);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      addr.sin_port = htons(static_cast<uint16_t>(port_));
      connect(c, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
      fillers_.push_back(c);
    }
    if (full_backlog) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ~SilentListener() {
    for (int c : fillers_) close(c);
    close(fd_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::vector<int> fillers_;
};

// Answers every request with `body` (HTTP 200, JSON) and records the request heads.
class CannedServer {
 public:
  explicit CannedServer(std::string body) : body_(std::move(body)) {
    fd_ = ListenLoopback(16, &port_);
    thread_ = std::thread([this] { Loop(); });
  }
  ~CannedServer() {
    stop_ = true;
    thread_.join();
    close(fd_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<std::string> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  void Loop() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      int c = accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      std::string head;
      char buf[4096];
      while (head.find("\r\n\r\n") == std::string::npos) {
        pollfd q{c, POLLIN, 0};
        if (poll(&q, 1, 2000) <= 0) break;
        ssize_t n = read(c, buf, sizeof buf);
        if (n <= 0) break;
        head.append(buf, static_cast<size_t>(n));
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        requests_.push_back(head);
      }
      const std::string reply =
          "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
          "Content-Length: " +
          std::to_string(body_.size()) + "\r\n\r\n" + body_;
      ssize_t ignored = write(c, reply.data(), reply.size());
      (void)ignored;
      close(c);
    }
  }
  std::string body_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::string> requests_;
};

// A CA, a server certificate for 127.0.0.1 signed by it, and a web config for Prometheus with TLS
// and basic auth (user `user`, bcrypt hash of `password` by htpasswd). Returns the web config path,
// "" on failure; the CA is dir/ca.crt.
inline std::string MakeWebConfig(const TempDir& dir, const std::string& user, const std::string& password) {
  const std::string d = dir.path();
  const std::string quiet = " >>" + d + "/tools.log 2>&1";
  const std::string cmds[] = {
      "openssl req -x509 -newkey rsa:2048 -nodes -keyout " + d + "/ca.key -out " + d +
          "/ca.crt -days 1 -subj '/CN=warmpool test CA'" + quiet,
      "openssl req -newkey rsa:2048 -nodes -keyout " + d + "/server.key -out " + d +
          "/server.csr -subj '/CN=127.0.0.1'" + quiet,
      "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > " + d + "/ext.cnf",
      "openssl x509 -req -in " + d + "/server.csr -CA " + d + "/ca.crt -CAkey " + d +
          "/ca.key -CAcreateserial -out " + d + "/server.crt -days 1 -extfile " + d + "/ext.cnf" + quiet,
      "htpasswd -nbB " + user + " " + password + " | cut -d: -f2 | tr -d '\\n' > " + d + "/hash",
  };
  for (const std::string& cmd : cmds) {
    if (std::system(cmd.c_str()) != 0) return "";
  }
  std::FILE* f = std::fopen((d + "/hash").c_str(), "r");
  if (!f) return "";
  char hash[128] = {};
  size_t n = std::fread(hash, 1, sizeof hash - 1, f);
  std::fclose(f);
  if (n == 0) return "";
  return dir.Write("web.yml", "tls_server_config:\n  cert_file: " + d + "/server.crt\n  key_file: " + d +
                                  "/server.key\nbasic_auth_users:\n  " + user + ": '" + std::string(hash, n) +
                                  "'\n");
}

}  // namespace warmpool::testing

#endif  // WARMPOOL_TESTS_SUPPORT_PROMETHEUS_TEST_UTIL_H_
