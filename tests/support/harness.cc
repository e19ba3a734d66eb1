#include "tests/support/harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace warmpool::testing {
namespace fs = std::filesystem;

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/warmpool-it-XXXXXX";
  if (mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  if (!path_.empty()) fs::remove_all(path_, ec);
}

std::string TempDir::Write(const std::string& name, const std::string& text) const {
  const std::string file = path_ + "/" + name;
  std::ofstream(file, std::ios::binary | std::ios::trunc) << text;
  return file;
}

int PickFreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return 0;
  }
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

std::unique_ptr<Process> Process::Start(const std::vector<std::string>& argv, const std::string& log_path) {
  pid_t pid = fork();
  if (pid < 0) return nullptr;
  if (pid == 0) {
    int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    setpgid(0, 0);  // its own group: a stray child of it dies with it
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    std::fprintf(stderr, "exec %s: %s\n", args[0], std::strerror(errno));
    _exit(127);
  }
  return std::unique_ptr<Process>(new Process(pid, log_path));
}

Process::~Process() {
  if (!reaped_) Stop(SIGTERM, std::chrono::seconds(5));
}

bool Process::Running() {
  if (reaped_) return false;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    reaped_ = true;
    status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
    return false;
  }
  return true;
}

void Process::Signal(int sig) {
  if (!reaped_) kill(pid_, sig);
}

int Process::Stop(int sig, std::chrono::milliseconds timeout) {
  if (reaped_) return status_;
  kill(pid_, sig);
  if (!WaitFor([&] { return !Running(); }, timeout)) {
    kill(-pid_, SIGKILL);
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    reaped_ = true;
    status_ = -SIGKILL;
  }
  return status_;
}

std::string Process::Log() const {
  std::ifstream f(log_path_);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

bool WaitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

namespace {

// Reads until EOF or timeout.
std::string ReadAll(int fd, std::chrono::milliseconds timeout) {
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  for (;;) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

}  // namespace

int ConnectLoopback(int port, std::chrono::milliseconds timeout) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  if (timeout.count() > 0) {
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

std::optional<HttpReply> HttpGet(int port, const std::string& path, std::chrono::milliseconds timeout) {
  const int fd = ConnectLoopback(port);
  if (fd < 0) return std::nullopt;
  const std::string req = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  if (write(fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) {
    close(fd);
    return std::nullopt;
  }
  std::string raw = ReadAll(fd, timeout);
  close(fd);
  if (raw.rfind("HTTP/", 0) != 0) return std::nullopt;
  HttpReply reply;
  reply.status = std::atoi(raw.c_str() + raw.find(' ') + 1);
  size_t body = raw.find("\r\n\r\n");
  if (body != std::string::npos) reply.body = raw.substr(body + 4);
  return reply;
}

std::unique_ptr<Prometheus> StartPrometheus(const std::string& scrape_configs, const std::string& interval,
                                            int port, const std::vector<std::string>& extra_args) {
  auto p = std::make_unique<Prometheus>();
  p->dir = std::make_unique<TempDir>();
  p->port = port ? port : PickFreePort();
  std::string scrape = scrape_configs;
  const std::string port_text = std::to_string(p->port);
  for (size_t pos; (pos = scrape.find("@PORT@")) != std::string::npos;) scrape.replace(pos, 6, port_text);
  const std::string cfg = p->dir->Write("prometheus.yml", "global:\n  scrape_interval: " + interval +
                                                              "\n  evaluation_interval: " + interval +
                                                              "\nscrape_configs:\n" + scrape + "\n");
  std::vector<std::string> argv = {
      "prometheus", "--config.file=" + cfg, "--storage.tsdb.path=" + p->dir->path() + "/data",
      "--web.listen-address=127.0.0.1:" + std::to_string(p->port), "--log.level=warn"};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  p->process = Process::Start(argv, p->dir->path() + "/prometheus.log");
  if (!p->process) return nullptr;
  const int prom_port = p->port;
  const bool any_answer = !extra_args.empty();
  if (!WaitFor(
          [&] {
            auto r = HttpGet(prom_port, "/-/ready", std::chrono::milliseconds(500));
            return r && (r->status == 200 || any_answer);
          },
          std::chrono::seconds(20))) {
    return nullptr;
  }
  return p;
}

std::string HAProxyCommand(const std::string& socket_path, const std::string& command) {
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, socket_path.c_str(), sizeof addr.sun_path - 1);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return "";
  }
  const std::string line = command + "\n";
  if (write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
    close(fd);
    return "";
  }
  std::string out = ReadAll(fd, std::chrono::seconds(2));
  close(fd);
  return out;
}

std::unique_ptr<HAProxy> StartHAProxy(const std::string& config) {
  auto h = std::make_unique<HAProxy>();
  h->dir = std::make_unique<TempDir>();
  h->socket_path = h->dir->path() + "/admin.sock";
  std::string cfg = config;
  for (size_t pos; (pos = cfg.find("@SOCKET@")) != std::string::npos;) cfg.replace(pos, 8, h->socket_path);
  h->config_path = h->dir->Write("haproxy.cfg", cfg);
  h->process = Process::Start({"haproxy", "-db", "-f", h->config_path}, h->dir->path() + "/haproxy.log");
  if (!h->process) return nullptr;
  const std::string sock = h->socket_path;
  if (!WaitFor([&] { return HAProxyCommand(sock, "show info").find("Name:") != std::string::npos; },
               std::chrono::seconds(10))) {
    return nullptr;
  }
  return h;
}

Backend::Backend(std::string name, std::chrono::milliseconds delay, int crash_above,
                 std::chrono::milliseconds crash_after)
    : name_(std::move(name)), delay_(delay), crash_above_(crash_above), crash_after_(crash_after) {
  listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  listen(listen_fd_, 128);
  socklen_t len = sizeof addr;
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

Backend::~Backend() {
  stop_ = true;
  shutdown(listen_fd_, SHUT_RDWR);
  close(listen_fd_);
  acceptor_.join();
  std::lock_guard<std::mutex> lock(mu_);
  for (std::thread& t : workers_) t.join();
}

void Backend::AcceptLoop() {
  while (!stop_ && !crashed_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    int fd = accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) continue;
    std::lock_guard<std::mutex> lock(mu_);
    workers_.emplace_back([this, fd] { Serve(fd); });
  }
}

void Backend::Serve(int fd) {
  std::string req;
  char buf[2048];
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (req.find("\r\n\r\n") == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    req.append(buf, static_cast<size_t>(n));
  }
  if (crashed_) {
    close(fd);
    return;
  }
  if (req.find("\r\n\r\n") != std::string::npos) {  // health checks connect and close: not counted
    const int in_flight = ++in_flight_;
    for (int peak = peak_.load(); in_flight > peak && !peak_.compare_exchange_weak(peak, in_flight);) {
    }
    if (crash_above_ > 0) {
      std::unique_lock<std::mutex> lock(mu_);
      const auto now = std::chrono::steady_clock::now();
      if (in_flight <= crash_above_ / 2) {  // relieved: it recovers
        over_since_ = {};
      } else if (over_since_ == std::chrono::steady_clock::time_point{}) {
        over_since_ = now;
      }
      if (in_flight > crash_above_ && now - over_since_ >= crash_after_) {
        crashed_ = true;  // falls over: stops listening, answers nothing more
        shutdown(listen_fd_, SHUT_RDWR);
        --in_flight_;
        lock.unlock();
        close(fd);
        return;
      }
    }
    ++requests_;
    if (delay_.count() > 0) std::this_thread::sleep_for(delay_);
    const std::string resp =
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: " +
        std::to_string(name_.size()) + "\r\n\r\n" + name_;
    ssize_t ignored = write(fd, resp.data(), resp.size());
    (void)ignored;
    --in_flight_;
  }
  close(fd);
}

}  // namespace warmpool::testing
