#include "controller/run_command.h"

#include <unistd.h>

#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>

#include "controller/api/api.h"
#include "controller/cluster_membership.h"
#include "controller/config/config.h"
#include "controller/config/tokens_file.h"
#include "controller/http/server.h"
#include "controller/log/log.h"
#include "controller/runtime/app.h"
#include "controller/runtime/loop.h"
#include "controller/state/codec.h"
#include "controller/state/file_store.h"

namespace warmpool {
namespace {

struct Signals {
  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;
  bool reload = false;
  bool tick = false;  // cluster mode: tick now (the members or owners changed)
  int last = 0;
};

// Waits for signals on a dedicated thread (they are blocked everywhere else), so the handlers do
// no work in signal context and the main loop wakes at once.
void SignalThread(sigset_t set, Signals* s) {
  for (;;) {
    int sig = 0;
    if (sigwait(&set, &sig) != 0) continue;
    std::lock_guard<std::mutex> lock(s->mu);
    s->last = sig;
    if (sig == SIGHUP) {
      s->reload = true;
    } else {
      s->stop = true;
    }
    s->cv.notify_all();
    if (s->stop) return;
  }
}

// Ends the signal thread (if no signal did already) and joins it.
void StopSignalThread(Signals* signals, std::thread* thread) {
  {
    std::lock_guard<std::mutex> lock(signals->mu);
    if (!signals->stop) pthread_kill(thread->native_handle(), SIGTERM);  // wake it to exit
  }
  thread->join();
}

void LogConfigErrors(const char* msg, const std::string& file, const std::vector<std::string>& errors) {
  for (const std::string& e : errors) Log(LogLevel::kError, msg, {{"file", file}, {"error", e}});
}

}  // namespace

// What the HTTP server refused, in the log: each kind at most once per 10 s, with the count of those
// left out since, so that an attack cannot flood the log (the counter warmpool_http_refused_total
// counts every one).
class RefusalLog {
 public:
  void Log(const std::string& kind, const std::string& detail) {
    const auto now = std::chrono::steady_clock::now();
    int suppressed = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      Entry& e = kinds_[kind];
      if (e.logged && now - e.last < std::chrono::seconds(10)) {
        ++e.suppressed;
        return;
      }
      e.logged = true;
      e.last = now;
      suppressed = e.suppressed;
      e.suppressed = 0;
    }
    warmpool::Log(kind == "internal" ? LogLevel::kError : LogLevel::kWarn, "http request refused",
                  {{"kind", kind}, {"detail", detail}, {"suppressed_since_last", suppressed}});
  }

 private:
  struct Entry {
    bool logged = false;
    std::chrono::steady_clock::time_point last;
    int suppressed = 0;
  };
  std::mutex mu_;
  std::map<std::string, Entry> kinds_;
};

int RunController(const RunOptions& opts) {
  // Block the signals before any thread exists (the HTTP server's included), so that every thread
  // inherits the mask and only the signal thread below ever receives them.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  // One thread per core, at least 2, for the API's connections and handler (see SetHttpThreads).
  SetHttpThreads(std::max(2u, std::thread::hardware_concurrency()));
  ConfigLoad load = LoadConfigFile(opts.config_file);
  const std::string format = !opts.log_format.empty() ? opts.log_format : load.config.global.log_format;
  const std::string level = !opts.log_level.empty() ? opts.log_level : load.config.global.log_level;
  if (Status st = InitLogging(format, level); !st.ok()) {
    std::fprintf(stderr, "warmpool: %s\n", st.message().c_str());
    return 1;
  }
  if (!load.ok()) {
    LogConfigErrors("invalid config", opts.config_file, load.errors);
    return 1;
  }
  SystemClock clock;
  Result<std::unique_ptr<App>> created = App::Create(load.config, &clock, opts.dry_run);
  if (!created.ok()) {
    Log(LogLevel::kError, "cannot start",
        {{"file", opts.config_file}, {"error", created.status().message()}});
    return 1;
  }
  std::unique_ptr<App> app = std::move(created).value();
  const GlobalSpec& global = app->config().global;
  // Cluster mode: this replica joins (in the background, retrying while etcd cannot be reached) and
  // acts only on the pools it owns; the pools' state lives in etcd instead of a state file.
  Signals signals;  // before the membership, whose thread may wake the loop until it is destroyed
  std::unique_ptr<Membership> membership;
  if (!opts.cluster_member.empty() && !global.cluster.enabled) {
    Log(LogLevel::kError, "cannot start", {{"error", "--cluster.member: the config has no cluster:"}});
    return 1;
  }
  if (global.cluster.enabled) {
    std::string name = !opts.cluster_member.empty() ? opts.cluster_member : global.cluster.member;
    if (name.empty()) {
      char host[256] = {0};
      if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') {
        Log(LogLevel::kError, "cannot start", {{"error", "cluster.member: not set, and the host name is unknown"}});
        return 1;
      }
      name = host;
    }
    Result<std::unique_ptr<Membership>> started = StartEtcdMembership(
        global.cluster, name, !opts.web_listen_address.empty() ? opts.web_listen_address : global.web.listen_address);
    if (!started.ok()) {
      Log(LogLevel::kError, "cannot start", {{"file", opts.config_file}, {"error", started.status().message()}});
      return 1;
    }
    membership = std::move(started).value();
    std::string endpoints;
    for (const std::string& e : global.cluster.endpoints) endpoints += (endpoints.empty() ? "" : ", ") + e;
    Log(LogLevel::kInfo, "cluster: joining", {{"member", name}, {"endpoints", endpoints}, {"prefix", global.cluster.prefix}});
  }

  // Durable state: overrides, pauses and behavior history survive a restart (kill -9 included).
  std::unique_ptr<FileStateStore> store;
  if (!global.state_file.empty()) {
    FileStateStoreOptions so;
    so.clock = &clock;
    so.validate = [](const std::string& doc) { return DecodeState(doc).status(); };
    store = std::make_unique<FileStateStore>(global.state_file, so);
    if (Status st = store->CheckDirectory(); !st.ok()) {
      Log(LogLevel::kError, "cannot start", {{"state_file", global.state_file}, {"error", st.message()}});
      return 1;
    }
  }
  // What the pools learned (warm_standby: auto's seasons, predictive policies' histories), beside it.
  std::unique_ptr<FileStateStore> learned;
  if (!global.state_file.empty()) {
    FileStateStoreOptions lo;
    lo.clock = &clock;
    lo.validate = [](const std::string& doc) { return DecodeLearned(doc).status(); };
    learned = std::make_unique<FileStateStore>(global.state_file + ".learned", lo);
  }
  ControlPlane control_plane;
  SelfMetrics self_metrics(opts.version);
  if (Status st = app->Attach({&control_plane, &self_metrics, store.get(), learned.get(), membership.get()});
      !st.ok()) {
    Log(LogLevel::kError, "cannot start", {{"state_file", global.state_file}, {"error", st.message()}});
    return 1;
  }
  control_plane.on_change = [&app] { return app->SaveState(); };

  if (membership) {
    membership->OnChange([&signals] {
      std::lock_guard<std::mutex> lock(signals.mu);
      signals.tick = true;
      signals.cv.notify_all();
    });
  }
  std::thread signal_thread(SignalThread, set, &signals);
  control_plane.on_reload = [&signals] {  // POST /-/reload: the same as SIGHUP
    std::lock_guard<std::mutex> lock(signals.mu);
    signals.reload = true;
    signals.cv.notify_all();
  };

  // The REST API and /metrics.
  const std::string listen =
      !opts.web_listen_address.empty() ? opts.web_listen_address : global.web.listen_address;
  std::unique_ptr<Api> api;
  std::unique_ptr<HttpServer> server;
  std::atomic<const HttpServer*> serving{nullptr};  // `server`, for the handler's threads
  if (!listen.empty() && listen != "off") {
    ApiTokens tokens;
    if (!global.web.tokens_file.empty()) {
      Result<ApiTokens> loaded = LoadApiTokens(global.web.tokens_file);
      if (!loaded.ok()) {
        Log(LogLevel::kError, "cannot start",
            {{"tokens_file", global.web.tokens_file}, {"error", loaded.status().message()}});
        StopSignalThread(&signals, &signal_thread);
        return 1;
      }
      tokens = std::move(loaded).value();
      if (struct stat st {}; ::stat(global.web.tokens_file.c_str(), &st) == 0 && (st.st_mode & S_IROTH)) {
        Log(LogLevel::kWarn, "tokens file readable by every user of this host",
            {{"tokens_file", global.web.tokens_file}, {"fix", "chmod 600 it (or 640 with a group)"}});
      }
    }
    api = std::make_unique<Api>(
        &control_plane, std::move(tokens), &clock,
        [&self_metrics, &serving] {
          if (const HttpServer* s = serving.load()) self_metrics.SetHttpConnections(s->connections());
          return self_metrics.Render();
        },
        static_cast<size_t>(global.web.max_body_bytes));
    HttpServerOptions so;
    so.listen_address = listen;
    so.tls_cert_file = global.web.tls_cert_file;
    so.tls_key_file = global.web.tls_key_file;
    so.max_body_bytes = static_cast<size_t>(global.web.max_body_bytes);
    so.max_header_bytes = static_cast<size_t>(global.web.max_header_bytes);
    so.max_connections = static_cast<size_t>(global.web.max_connections);
    so.read_header_timeout = global.web.read_header_timeout;
    so.read_timeout = global.web.read_timeout;
    so.write_timeout = global.web.write_timeout;
    so.idle_timeout = global.web.idle_timeout;
    so.on_refused = [&self_metrics, limiter = std::make_shared<RefusalLog>()](const std::string& kind,
                                                                             const std::string& detail) {
      self_metrics.HttpRefused(kind);
      limiter->Log(kind, detail);
    };
    Result<std::unique_ptr<HttpServer>> started =
        StartHttpServer(so, [a = api.get()](const HttpServerRequest& r) { return a->Handle(r); });
    if (!started.ok()) {
      Log(LogLevel::kError, "cannot start",
          {{"web.listen_address", listen}, {"error", started.status().message()}});
      StopSignalThread(&signals, &signal_thread);
      return 1;
    }
    server = std::move(started).value();
    serving = server.get();
    const std::string host = listen.substr(0, listen.rfind(':'));
    Log(LogLevel::kInfo, "api listening",
        {{"address", (host.empty() ? std::string("0.0.0.0") : host) + ":" + std::to_string(server->port())},
         {"tls", server->tls()},
         {"tokens", global.web.tokens_file.empty() ? std::string("none: mutating calls are refused")
                                                   : global.web.tokens_file}});
  }

  Log(LogLevel::kInfo, "warmpool started",
      {{"config", opts.config_file},
       {"pools", static_cast<int>(app->config().pools.size())},
       {"interval", FormatDuration(app->interval())},
       {"dry_run", opts.dry_run}});
  // Wakes the loop at its deadline, or at once for a signal.
  class SignalWaiter final : public Waiter {
   public:
    explicit SignalWaiter(Signals* s) : s_(s) {}
    Wake WaitUntil(TimeMs deadline) override {
      std::unique_lock<std::mutex> lock(s_->mu);
      s_->cv.wait_until(lock, std::chrono::system_clock::time_point(std::chrono::milliseconds(deadline)),
                        [&] { return s_->stop || s_->reload || s_->tick; });
      if (s_->stop) return Wake::kStop;
      if (s_->reload) {
        s_->reload = false;
        return Wake::kReload;
      }
      if (s_->tick) {
        s_->tick = false;
        return Wake::kTick;
      }
      return Wake::kDeadline;
    }

   private:
    Signals* s_;
  } waiter(&signals);

  LoopOptions loop;
  loop.max_ticks = opts.max_ticks;
  loop.reload = [&] {
    ConfigLoad fresh = LoadConfigFile(opts.config_file);
    if (!fresh.ok()) {
      LogConfigErrors("reload rejected, keeping the running config", opts.config_file, fresh.errors);
    } else if (Status st = app->Reload(fresh.config); !st.ok()) {
      Log(LogLevel::kError, "reload rejected, keeping the running config",
          {{"file", opts.config_file}, {"error", st.message()}});
    } else {
      Log(LogLevel::kInfo, "config reloaded",
          {{"file", opts.config_file}, {"pools", static_cast<int>(app->config().pools.size())}});
    }
  };
  const long ticks = RunLoop(app.get(), clock, &waiter, loop);
  if (server) server->Stop();
  int stopped_by = 0;
  {
    std::lock_guard<std::mutex> lock(signals.mu);
    stopped_by = signals.stop ? signals.last : 0;
  }
  StopSignalThread(&signals, &signal_thread);
  app->SaveState();
  if (learned) app->SaveLearned(clock.Now());
  Log(LogLevel::kInfo, "warmpool stopped",
      {{"ticks", ticks},
       {"reason", stopped_by ? std::string(strsignal(stopped_by)) : std::string("--max-ticks reached")}});
  return 0;
}

}  // namespace warmpool
