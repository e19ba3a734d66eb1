#include "run.h"

#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <thread>

#include "app.h"
#include "config.h"
#include "log.h"
#include "loop.h"

namespace warmpool {
namespace {

struct Signals {
  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;
  bool reload = false;
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

void LogConfigErrors(const char* msg, const std::string& file, const std::vector<std::string>& errors) {
  for (const std::string& e : errors) Log(LogLevel::kError, msg, {{"file", file}, {"error", e}});
}

}  // namespace

int RunController(const RunOptions& opts) {
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

  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  Signals signals;
  std::thread signal_thread(SignalThread, set, &signals);

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
                        [&] { return s_->stop || s_->reload; });
      if (s_->stop) return Wake::kStop;
      if (s_->reload) {
        s_->reload = false;
        return Wake::kReload;
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
  int stopped_by = 0;
  {
    std::lock_guard<std::mutex> lock(signals.mu);
    stopped_by = signals.stop ? signals.last : 0;
    if (!signals.stop) pthread_kill(signal_thread.native_handle(), SIGTERM);  // wake it to exit
  }
  signal_thread.join();
  Log(LogLevel::kInfo, "warmpool stopped",
      {{"ticks", ticks},
       {"reason", stopped_by ? std::string(strsignal(stopped_by)) : std::string("--max-ticks reached")}});
  return 0;
}

}  // namespace warmpool
