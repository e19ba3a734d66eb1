#include "providers/exec/exec_machines.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

extern char** environ;

namespace warmpool {
namespace {

constexpr size_t kTailBytes = 4096;             // output kept per stream
constexpr size_t kLogLineChars = 300;           // the stderr tail quoted in a log line
constexpr DurationMs kKillGrace = 5 * kSecond;  // SIGTERM, then SIGKILL this much later

std::string Errno(const char* what, int err) { return std::string(what) + ": " + std::strerror(err); }

// "0.1s", "59.9s"; a minute or more in whole units: "2m", "1m30s".
std::string Elapsed(DurationMs d) {
  if (d < 0) d = 0;
  if (d >= kMinute) return FormatDuration(d / kSecond * kSecond);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1fs", static_cast<double>(d) / kSecond);
  return buf;
}

// The last non-empty line of `text`, printable ASCII only, at most kLogLineChars.
std::string LastLine(const std::string& text) {
  size_t end = text.find_last_not_of(" \t\r\n");
  if (end == std::string::npos) return "";
  size_t begin = text.rfind('\n', end);
  begin = begin == std::string::npos ? 0 : begin + 1;
  std::string line = text.substr(begin, end + 1 - begin);
  for (char& c : line) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  if (line.size() > kLogLineChars) line = "..." + line.substr(line.size() - kLogLineChars);
  return line;
}

// One pipe from the child: the parent's non-blocking read end and the tail of what came through.
struct Stream {
  int fd = -1;
  std::string tail;

  // Reads everything available now; closes the fd at end of file or on an error.
  void Drain() {
    std::array<char, 4096> buf;
    while (fd >= 0) {
      ssize_t n = read(fd, buf.data(), buf.size());
      if (n > 0) {
        tail.append(buf.data(), static_cast<size_t>(n));
        if (tail.size() > kTailBytes) tail.erase(0, tail.size() - kTailBytes);
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else {
        if (n < 0 && errno == EAGAIN) return;
        Close();
      }
    }
  }
  void Close() {
    if (fd >= 0) close(fd);
    fd = -1;
  }
};

// A pipe whose read end is non-blocking and whose ends are both close-on-exec (the child gets
// the write end through dup2, which clears the flag on the copy).
Status MakePipe(int fds[2]) {
  if (pipe2(fds, O_CLOEXEC) != 0) return Status::Internal(Errno("pipe", errno));
  int flags = fcntl(fds[0], F_GETFL);
  if (flags < 0 || fcntl(fds[0], F_SETFL, flags | O_NONBLOCK) != 0) {
    int err = errno;
    close(fds[0]);
    close(fds[1]);
    return Status::Internal(Errno("fcntl", err));
  }
  return Status::Ok();
}

// The controller's environment without any WARMPOOL_* action variable, plus `extra`.
std::vector<std::string> ChildEnvironment(const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view kv(*e);
    bool replaced = false;
    for (const std::string& x : extra) {
      if (kv.substr(0, x.find('=') + 1) == std::string_view(x).substr(0, x.find('=') + 1)) replaced = true;
    }
    if (!replaced) env.emplace_back(kv);
  }
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

}  // namespace

struct ExecMachines::Running {
  std::string action;  // "provision", "retire", "suspend" or "resume"
  std::string address;
  pid_t pid = -1;  // also the process group id
  TimeMs started = 0;
  TimeMs term_sent = -1;  // when SIGTERM went to the group after the timeout; -1 = not yet
  bool killed = false;    // SIGKILL sent
  Stream out, err;

  ~Running() {
    out.Close();
    err.Close();
  }
};

ExecMachines::ExecMachines(std::string pool, ExecSpec spec)
    : pool_(std::move(pool)), spec_(std::move(spec)) {}

ExecMachines::~ExecMachines() {
  // Kill every running command with everything it started, and reap the command itself.
  // Processes that a command already finished with left behind (a daemonized server) are machines,
  // not commands, and are left alone.
  for (auto& [name, run] : running_) {
    killpg(run->pid, SIGKILL);
    kill(run->pid, SIGKILL);  // in case it left its group
    int status = 0;
    while (waitpid(run->pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
}

const char* ExecStateName(ExecMachines::State s) {
  switch (s) {
    case ExecMachines::State::kNone: return "none";
    case ExecMachines::State::kProvisioning: return "provisioning";
    case ExecMachines::State::kReady: return "ready";
    case ExecMachines::State::kFailed: return "failed";
    case ExecMachines::State::kRetiring: return "retiring";
    case ExecMachines::State::kSuspending: return "suspending";
    case ExecMachines::State::kStopped: return "stopped";
    case ExecMachines::State::kResuming: return "resuming";
  }
  return "unknown";
}

ExecMachines::State ExecMachines::StateOf(const std::string& name) const {
  auto it = machines_.find(name);
  return it == machines_.end() ? State::kNone : it->second.state;
}

void ExecMachines::Adopt(const std::string& name, const std::string& address, TimeMs now) {
  if (running_.count(name) != 0) return;  // a command owns the slot; its result decides
  machines_[name] = Machine{State::kReady, address, now, ""};
}

void ExecMachines::AdoptStopped(const std::string& name, const std::string& address, TimeMs since) {
  if (running_.count(name) != 0) return;
  machines_[name] = Machine{State::kStopped, address, since, ""};
}

Status ExecMachines::Suspend(const std::string& name, TimeMs now) {
  if (!CanSuspend()) {
    return Status::FailedPrecondition("cannot suspend " + name +
                                      ": no exec.suspend and exec.resume commands");
  }
  const State s = StateOf(name);
  if (s == State::kSuspending || s == State::kStopped) return Status::Ok();
  if (s != State::kReady) {
    return Status::FailedPrecondition("cannot suspend " + name + ": its machine is " + ExecStateName(s));
  }
  return Start("suspend", name, machines_[name].address, now);
}

Status ExecMachines::Resume(const std::string& name, TimeMs now) {
  if (!CanSuspend()) {
    return Status::FailedPrecondition("cannot resume " + name + ": no exec.suspend and exec.resume commands");
  }
  const State s = StateOf(name);
  if (s == State::kResuming || s == State::kReady) return Status::Ok();
  if (s != State::kStopped) {
    return Status::FailedPrecondition("cannot resume " + name + ": its machine is " + ExecStateName(s));
  }
  return Start("resume", name, machines_[name].address, now);
}

Status ExecMachines::Provision(const std::string& name, const std::string& address, TimeMs now) {
  State s = StateOf(name);
  if (s == State::kProvisioning || s == State::kReady) return Status::Ok();
  if (s == State::kRetiring) {
    return Status::FailedPrecondition("cannot provision " + name + ": its retire command is still running");
  }
  return Start("provision", name, address, now);
}

Status ExecMachines::Retire(const std::string& name, const std::string& address, TimeMs now) {
  State s = StateOf(name);
  if (s == State::kNone || s == State::kRetiring) return Status::Ok();
  if (s == State::kProvisioning || s == State::kSuspending || s == State::kResuming) {
    return Status::FailedPrecondition("cannot retire " + name + ": its " +
                                      (s == State::kProvisioning ? "provision"
                                       : s == State::kSuspending ? "suspend"
                                                                 : "resume") +
                                      " command is still running");
  }
  // A failed machine is retired too: its provision may have left something half-made.
  return Start("retire", name, address.empty() ? machines_[name].address : address, now);
}

Status ExecMachines::Start(const std::string& action, const std::string& name, const std::string& address,
                           TimeMs now) {
  Machine& m = machines_[name];
  m.address = address;
  m.since = now;
  auto fail = [&](std::string why) {
    // A suspend that never started leaves the machine running; a resume, stopped.
    m.state = action == "suspend" ? State::kReady : action == "resume" ? State::kStopped : State::kFailed;
    m.last_error = action + " " + name + ": could not start: " + why;
    return Status::Internal(m.last_error);
  };

  auto run = std::make_unique<Running>();
  run->action = action;
  run->address = address;
  run->started = now;
  int out[2], err[2];
  if (Status st = MakePipe(out); !st.ok()) return fail(st.message());
  if (Status st = MakePipe(err); !st.ok()) {
    close(out[0]);
    close(out[1]);
    return fail(st.message());
  }
  run->out.fd = out[0];
  run->err.fd = err[0];

  // Everything the child needs is built before the spawn: posix_spawn is safe in a threaded process.
  const std::string& command = action == "provision" ? spec_.provision
                               : action == "suspend" ? spec_.suspend
                               : action == "resume"  ? spec_.resume
                                                     : spec_.retire;
  std::vector<std::string> env =
      ChildEnvironment({"WARMPOOL_POOL=" + pool_, "WARMPOOL_SERVER=" + name, "WARMPOOL_ADDRESS=" + address,
                        "WARMPOOL_ACTION=" + action});
  std::vector<char*> envp;
  for (std::string& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string arg0 = "sh", arg1 = "-c", arg2 = command;
  char* argv[] = {arg0.data(), arg1.data(), arg2.data(), nullptr};

  posix_spawn_file_actions_t files;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&files);
  posix_spawnattr_init(&attr);
  posix_spawn_file_actions_addopen(&files, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&files, out[1], 1);
  posix_spawn_file_actions_adddup2(&files, err[1], 2);
  posix_spawn_file_actions_addclosefrom_np(&files, 3);  // no controller sockets leak into machines
  if (!spec_.working_dir.empty()) posix_spawn_file_actions_addchdir_np(&files, spec_.working_dir.c_str());
  // Its own process group (the timeout kills the whole group), default signal handling, nothing blocked.
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  sigdelset(&all, SIGKILL);
  sigdelset(&all, SIGSTOP);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);

  pid_t pid = -1;
  int rc = posix_spawn(&pid, "/bin/sh", &files, &attr, argv, envp.data());
  posix_spawn_file_actions_destroy(&files);
  posix_spawnattr_destroy(&attr);
  close(out[1]);
  close(err[1]);
  if (rc != 0) {
    std::string why = Errno("/bin/sh", rc);
    if (!spec_.working_dir.empty()) why += " (working_dir " + spec_.working_dir + ")";
    return fail(why);
  }
  run->pid = pid;
  m.state = action == "provision" ? State::kProvisioning
            : action == "suspend" ? State::kSuspending
            : action == "resume"  ? State::kResuming
                                  : State::kRetiring;
  running_[name] = std::move(run);
  return Status::Ok();
}

std::vector<std::string> ExecMachines::Poll(TimeMs now) {
  std::vector<std::string> lines;
  for (auto it = running_.begin(); it != running_.end();) {
    const std::string& name = it->first;
    Running& run = *it->second;
    run.out.Drain();
    run.err.Drain();

    // Has the command exited? WNOWAIT leaves it a zombie, so its process group id cannot be reused
    // while we still signal the group.
    siginfo_t info{};
    int rc = waitid(P_PID, static_cast<id_t>(run.pid), &info, WEXITED | WNOHANG | WNOWAIT);
    bool exited = rc == 0 ? info.si_pid == run.pid : errno == ECHILD;
    if (!exited) {
      if (run.term_sent < 0 && now - run.started >= spec_.timeout) {
        killpg(run.pid, SIGTERM);
        run.term_sent = now;
      } else if (run.term_sent >= 0 && !run.killed && now - run.term_sent >= kKillGrace) {
        killpg(run.pid, SIGKILL);
        run.killed = true;
      }
      ++it;
      continue;
    }
    // A timed-out command's children die with it, even those that ignore SIGTERM.
    if (run.term_sent >= 0) killpg(run.pid, SIGKILL);
    int status = 0;
    pid_t reaped = waitpid(run.pid, &status, 0);
    run.out.Drain();
    run.err.Drain();

    const std::string who = run.action + " " + name;
    const std::string took = Elapsed(now - run.started);
    std::string failure;
    if (run.term_sent >= 0) {
      failure = "timed out after " + FormatDuration(spec_.timeout) + ", killed";
    } else if (reaped != run.pid) {
      failure = "lost track of the command after " + took + " (its exit status was reaped elsewhere)";
    } else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
      failure = "exit " + std::to_string(WEXITSTATUS(status)) + " after " + took;
    } else if (WIFSIGNALED(status)) {
      failure = "killed by signal " + std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) +
                ") after " + took;
    }
    if (!failure.empty() && run.term_sent < 0) {
      std::string tail = LastLine(run.err.tail);
      if (tail.empty()) tail = LastLine(run.out.tail);
      if (!tail.empty()) failure += ": " + tail;
    }

    Machine& m = machines_[name];
    m.since = now;
    if (failure.empty()) {
      lines.push_back(who + (run.address.empty() ? "" : " (" + run.address + ")") + ": ok in " + took);
      if (run.action == "provision" || run.action == "resume") {
        m.state = State::kReady;
        m.last_error.clear();
      } else if (run.action == "suspend") {
        m.state = State::kStopped;
        m.last_error.clear();
      } else {
        machines_.erase(name);  // retired and forgotten: the slot is cold again
      }
    } else {
      // A failed suspend leaves a running machine (ready), a failed resume a stopped one: the next
      // plan asks again. A failed provision or retire leaves something unknown: failed (cold).
      m.state = run.action == "suspend"  ? State::kReady
                : run.action == "resume" ? State::kStopped
                                         : State::kFailed;
      m.last_error = who + ": " + failure;
      lines.push_back(m.last_error);
    }
    it = running_.erase(it);
  }
  return lines;
}

ExecSpec ReadExecSpec(ParamReader* reader, const std::string& prefix) {
  ExecSpec spec;
  auto command = [&](const std::string& key, const char* what) {
    if (!reader->Has(key)) {
      reader->Error(key, std::string("required: the shell command that ") + what);
      return std::string();
    }
    std::string v = reader->String(key);
    if (v.find_first_not_of(" \t\r\n") == std::string::npos) {
      reader->Error(key, std::string("must not be empty: the shell command that ") + what);
    }
    return v;
  };
  spec.provision = command(prefix + "provision", "starts a machine");
  spec.retire = command(prefix + "retire", "stops a machine");
  // Optional, together: a stopped tier of the warm pool (warm_standby.stopped) needs both.
  if (reader->Has(prefix + "suspend") || reader->Has(prefix + "resume")) {
    spec.suspend = command(prefix + "suspend", "suspends a standby's machine (the stopped tier)");
    spec.resume = command(prefix + "resume", "resumes a suspended machine");
  }
  spec.timeout = reader->Duration(prefix + "timeout", spec.timeout, 1);
  spec.working_dir = reader->String(prefix + "working_dir");
  return spec;
}

}  // namespace warmpool
