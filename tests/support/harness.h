// Integration test harness: real servers (Prometheus, HAProxy) and tiny HTTP backends on 127.0.0.1,
// with ephemeral ports and temp dirs, stopped by PID. Never talks to anything but loopback.
#ifndef WARMPOOL_TESTS_SUPPORT_HARNESS_H_
#define WARMPOOL_TESTS_SUPPORT_HARNESS_H_

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace warmpool::testing {

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  // Writes `text` to path()/name and returns the full path.
  std::string Write(const std::string& name, const std::string& text) const;

 private:
  std::string path_;
};

// A port on 127.0.0.1 that was free a moment ago (bind to port 0, read it back, close).
int PickFreePort();

// A TCP connection to 127.0.0.1:port, or -1. A non-zero `timeout` bounds connect, send and receive
// (SO_SNDTIMEO / SO_RCVTIMEO).
int ConnectLoopback(int port, std::chrono::milliseconds timeout = std::chrono::milliseconds(0));

// A child process started with execvp, stdout+stderr to `log_path`. Destruction stops it: SIGTERM,
// then SIGKILL after 5 s.
class Process {
 public:
  static std::unique_ptr<Process> Start(const std::vector<std::string>& argv, const std::string& log_path);
  ~Process();
  pid_t pid() const { return pid_; }
  bool Running();
  void Signal(int sig);
  // SIGTERM (or `sig`), wait up to `timeout` then SIGKILL. Returns the exit status or -signal.
  int Stop(int sig = 15, std::chrono::milliseconds timeout = std::chrono::seconds(5));
  const std::string& log_path() const { return log_path_; }
  std::string Log() const;  // the log so far, for failure messages

 private:
  Process(pid_t pid, std::string log) : pid_(pid), log_path_(std::move(log)) {}
  pid_t pid_;
  std::string log_path_;
  bool reaped_ = false;
  int status_ = 0;
};

// Polls `pred` every 50 ms until it is true or `timeout` passes.
bool WaitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout);

struct HttpReply {
  int status = 0;
  std::string body;
};
// A plain HTTP/1.0 GET to 127.0.0.1:port. nullopt when the connection fails or times out.
std::optional<HttpReply> HttpGet(int port, const std::string& path,
                                 std::chrono::milliseconds timeout = std::chrono::seconds(2));

// A real Prometheus on 127.0.0.1 with its own temp dir. `scrape_configs` is the YAML under
// `scrape_configs:` (may be empty; @PORT@ becomes Prometheus' own port). Ready (answering /-/ready) when
// Start returns non-null. `extra_args` are appended to the command line (e.g. --web.config.file=...); with
// them, any HTTP answer counts as ready, since a web config may demand TLS or credentials this plain client
// lacks.
struct Prometheus {
  std::unique_ptr<TempDir> dir;
  std::unique_ptr<Process> process;
  int port = 0;
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port); }
};
std::unique_ptr<Prometheus> StartPrometheus(const std::string& scrape_configs,
                                            const std::string& interval = "1s", int port = 0,
                                            const std::vector<std::string>& extra_args = {});

// A real HAProxy in the foreground (-db). `config` is the whole haproxy.cfg; the placeholder
// @SOCKET@ is replaced by the admin socket path (also returned). Ready when the socket answers.
struct HAProxy {
  std::unique_ptr<TempDir> dir;
  std::unique_ptr<Process> process;
  std::string socket_path;
  std::string config_path;
};
std::unique_ptr<HAProxy> StartHAProxy(const std::string& config);
// Sends one runtime API command line to a unix socket and returns the reply ("" on failure).
std::string HAProxyCommand(const std::string& socket_path, const std::string& command);

// A tiny HTTP backend on 127.0.0.1:port() that answers every request with its name after `delay`,
// counting requests. Runs on its own threads until destroyed. With `crash_above` > 0 it falls over,
// as an overloaded server does, once more than that many requests have been in flight at once, with
// no relief (half as many or fewer) for `crash_after` (memory or threads run out): it stops listening
// and answers nothing more (crashed() turns true).
class Backend {
 public:
  explicit Backend(std::string name, std::chrono::milliseconds delay = std::chrono::milliseconds(0),
                   int crash_above = 0, std::chrono::milliseconds crash_after = std::chrono::milliseconds(0));
  bool crashed() const { return crashed_.load(); }
  ~Backend();
  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  const std::string& name() const { return name_; }
  int requests() const { return requests_.load(); }
  int in_flight() const { return in_flight_.load(); }
  // The most requests it has had in flight at once since it started or the last ResetPeak.
  int peak_in_flight() const { return peak_.load(); }
  void ResetPeak() { peak_ = in_flight_.load(); }

 private:
  void AcceptLoop();
  void Serve(int fd);
  std::string name_;
  std::chrono::milliseconds delay_;
  int crash_above_ = 0;
  std::chrono::milliseconds crash_after_;
  std::atomic<bool> crashed_{false};
  std::chrono::steady_clock::time_point over_since_;  // guarded by mu_; {} when not over the limit
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  std::atomic<int> in_flight_{0};
  std::atomic<int> peak_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::thread> workers_;
};

}  // namespace warmpool::testing

#endif  // WARMPOOL_TESTS_SUPPORT_HARNESS_H_
