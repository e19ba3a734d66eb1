// Unit tests for ExecMachines (providers/exec/exec_machines.h): real /bin/sh commands in a temp dir,
// no network. Time for timeouts is the `now` argument, so a 2-minute timeout is tested without
// waiting for it; the only real waiting is for the commands themselves, in short bounded loops.
#include "providers/exec/exec_machines.h"

#include <doctest/doctest.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace warmpool;
namespace fs = std::filesystem;

namespace {

constexpr TimeMs kT0 = 1'000'000'000;
constexpr auto kBound = std::chrono::seconds(20);  // far beyond what any command here needs

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "warmpool-exec-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }
  std::string str() const { return path_.string(); }

 private:
  fs::path path_;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void Pause() { std::this_thread::sleep_for(std::chrono::milliseconds(2)); }

// Waits until `path` holds a complete line (the writer's echo ended with '\n').
std::string WaitForLine(const std::string& path) {
  auto deadline = std::chrono::steady_clock::now() + kBound;
  std::string text;
  while ((text = ReadFile(path)).empty() || text.back() != '\n') {
    REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline, "nothing written to " << path);
    Pause();
  }
  return text;
}

bool Busy(const ExecMachines& m) {
  for (const auto& [name, machine] : m.machines()) {
    if (machine.state == ExecMachines::State::kProvisioning ||
        machine.state == ExecMachines::State::kRetiring ||
        machine.state == ExecMachines::State::kSuspending ||
        machine.state == ExecMachines::State::kResuming) {
      return true;
    }
  }
  return false;
}

// Polls at `now` until no command is running; returns every log line.
std::vector<std::string> Settle(ExecMachines& m, TimeMs now) {
  auto deadline = std::chrono::steady_clock::now() + kBound;
  std::vector<std::string> lines;
  while (true) {
    for (std::string& l : m.Poll(now)) lines.push_back(std::move(l));
    if (!Busy(m)) return lines;
    REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline, "commands still running");
    Pause();
  }
}

// Alive = exists and is not a zombie (an orphan's zombie waits for pid 1, which may not reap).
bool Alive(pid_t pid) {
  std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  size_t paren = stat.rfind(')');
  if (paren == std::string::npos || paren + 2 >= stat.size()) return false;
  char state = stat[paren + 2];
  return state != 'Z' && state != 'X';
}

bool EventuallyDead(pid_t pid) {
  auto deadline = std::chrono::steady_clock::now() + kBound;
  while (Alive(pid)) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    Pause();
  }
  return true;
}

ExecSpec Spec(std::string provision, std::string retire, const TempDir& dir) {
  ExecSpec spec;
  spec.provision = std::move(provision);
  spec.retire = std::move(retire);
  spec.working_dir = dir.str();
  return spec;
}

}  // namespace

TEST_CASE("exec: provision and retire run in working_dir with the slot's environment") {
  TempDir dir;
  const char* kEcho = R"(echo "$WARMPOOL_POOL $WARMPOOL_SERVER $WARMPOOL_ADDRESS $WARMPOOL_ACTION $MARK" >)";
  ExecMachines m("web", Spec(std::string(kEcho) + " up.txt", std::string(kEcho) + " down.txt", dir));
  setenv("MARK", "inherited", 1);
  setenv("WARMPOOL_SERVER", "stale-from-controller", 1);  // replaced, not duplicated

  REQUIRE(m.Provision("web-5", "127.0.0.1:8085", kT0).ok());
  CHECK(m.StateOf("web-5") == ExecMachines::State::kProvisioning);
  std::vector<std::string> lines = Settle(m, kT0 + 1200);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0] == "provision web-5 (127.0.0.1:8085): ok in 1.2s");
  CHECK(ReadFile(dir / "up.txt") == "web web-5 127.0.0.1:8085 provision inherited\n");
  const ExecMachines::Machine& machine = m.machines().at("web-5");
  CHECK(machine.state == ExecMachines::State::kReady);
  CHECK(machine.since == kT0 + 1200);
  CHECK(machine.last_error.empty());

  REQUIRE(m.Retire("web-5", "", kT0 + 5000).ok());  // "" = the address it was provisioned with
  CHECK(m.StateOf("web-5") == ExecMachines::State::kRetiring);
  lines = Settle(m, kT0 + 5000);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0] == "retire web-5 (127.0.0.1:8085): ok in 0.0s");
  CHECK(ReadFile(dir / "down.txt") == "web web-5 127.0.0.1:8085 retire inherited\n");
  CHECK(m.StateOf("web-5") == ExecMachines::State::kNone);
  CHECK(m.machines().empty());
  unsetenv("MARK");
  unsetenv("WARMPOOL_SERVER");
}

TEST_CASE("exec: a failing command reports its exit code and the tail of its output") {
  TempDir dir;
  SUBCASE("stderr's last line") {
    ExecMachines m("web",
                   Spec("echo progress; echo first >&2; echo 'quota exceeded' >&2; exit 3", "true", dir));
    REQUIRE(m.Provision("web-5", "", kT0).ok());
    std::vector<std::string> lines = Settle(m, kT0 + 100);
    REQUIRE(lines.size() == 1);
    CHECK(lines[0] == "provision web-5: exit 3 after 0.1s: quota exceeded");
    CHECK(m.StateOf("web-5") == ExecMachines::State::kFailed);
    CHECK(m.machines().at("web-5").last_error == lines[0]);
  }
  SUBCASE("stdout when stderr is empty") {
    ExecMachines m("web", Spec("true", "echo only stdout; exit 1", dir));
    m.Adopt("web-5", "", kT0);
    REQUIRE(m.Retire("web-5", "", kT0).ok());
    std::vector<std::string> lines = Settle(m, kT0 + 90 * kSecond);
    REQUIRE(lines.size() == 1);
    CHECK(lines[0] == "retire web-5: exit 1 after 1m30s: only stdout");
    CHECK(m.StateOf("web-5") == ExecMachines::State::kFailed);  // may be half torn down: retire again
  }
  SUBCASE("killed by a signal") {
    ExecMachines m("web", Spec("kill -9 $$", "true", dir));
    REQUIRE(m.Provision("web-5", "", kT0).ok());
    std::vector<std::string> lines = Settle(m, kT0);
    REQUIRE(lines.size() == 1);
    CHECK(Contains(lines[0], "provision web-5: killed by signal 9"));
  }
  SUBCASE("more output than a pipe holds: drained, the tail kept") {
    ExecMachines m(
        "web", Spec("head -c 300000 /dev/zero | tr '\\0' x; echo; echo 'the end' >&2; exit 4", "true", dir));
    REQUIRE(m.Provision("web-5", "", kT0).ok());
    std::vector<std::string> lines = Settle(m, kT0);
    REQUIRE(lines.size() == 1);
    CHECK(lines[0] == "provision web-5: exit 4 after 0.0s: the end");
  }
  SUBCASE("a command that cannot start") {
    ExecSpec spec = Spec("true", "true", dir);
    spec.working_dir = dir / "missing";
    ExecMachines m("web", spec);
    Status st = m.Provision("web-5", "", kT0);
    CHECK(!st.ok());
    CHECK(m.StateOf("web-5") == ExecMachines::State::kFailed);
    CHECK(Contains(m.machines().at("web-5").last_error, "provision web-5: could not start"));
    CHECK(Contains(m.machines().at("web-5").last_error, "missing"));
    CHECK(m.Poll(kT0).empty());
  }
}

TEST_CASE("exec: Provision again after a failure retries") {
  TempDir dir;
  ExecMachines m("web", Spec("test -f ok || { echo 'not yet' >&2; exit 2; }", "true", dir));
  REQUIRE(m.Provision("web-1", "", kT0).ok());
  Settle(m, kT0);
  REQUIRE(m.StateOf("web-1") == ExecMachines::State::kFailed);
  std::ofstream(dir / "ok") << "";
  REQUIRE(m.Provision("web-1", "", kT0 + 1000).ok());
  CHECK(m.StateOf("web-1") == ExecMachines::State::kProvisioning);
  std::vector<std::string> lines = Settle(m, kT0 + 1000);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0] == "provision web-1: ok in 0.0s");
  CHECK(m.StateOf("web-1") == ExecMachines::State::kReady);
  CHECK(m.machines().at("web-1").last_error.empty());
}

TEST_CASE("exec: one command per slot, repeated calls are no-ops") {
  TempDir dir;
  ExecMachines m("web", Spec("echo run >> count.txt; while [ ! -f go ]; do sleep 0.01; done",
                             "echo retired > r.txt", dir));
  REQUIRE(m.Provision("web-1", "", kT0).ok());
  CHECK(m.Provision("web-1", "", kT0 + 1).ok());  // already provisioning
  Status st = m.Retire("web-1", "", kT0 + 2);
  CHECK(st.code() == Status::Code::kFailedPrecondition);
  CHECK(Contains(st.message(), "provision command is still running"));
  WaitForLine(dir / "count.txt");
  CHECK(m.Poll(kT0 + 3).empty());
  std::ofstream(dir / "go") << "";
  REQUIRE(Settle(m, kT0 + 4).size() == 1);
  CHECK(m.Provision("web-1", "", kT0 + 5).ok());  // already ready
  CHECK(m.Poll(kT0 + 5).empty());
  CHECK(ReadFile(dir / "count.txt") == "run\n");
  CHECK(m.StateOf("web-1") == ExecMachines::State::kReady);

  SUBCASE("Retire of a slot never provisioned does nothing") {
    CHECK(m.Retire("web-9", "", kT0).ok());
    CHECK(m.StateOf("web-9") == ExecMachines::State::kNone);
    CHECK(m.machines().count("web-9") == 0);
    CHECK(m.Poll(kT0).empty());
    CHECK(!fs::exists(dir / "r.txt"));
  }
  SUBCASE("Adopt marks a machine ready without running anything") {
    m.Adopt("web-3", "10.0.0.3:80", kT0 + 10);
    CHECK(m.StateOf("web-3") == ExecMachines::State::kReady);
    CHECK(m.machines().at("web-3").address == "10.0.0.3:80");
    CHECK(m.machines().at("web-3").since == kT0 + 10);
    CHECK(m.Provision("web-3", "10.0.0.3:80", kT0 + 11).ok());
    CHECK(m.Poll(kT0 + 11).empty());
    CHECK(ReadFile(dir / "count.txt") == "run\n");
    REQUIRE(m.Retire("web-3", "", kT0 + 12).ok());
    std::vector<std::string> lines = Settle(m, kT0 + 12);
    REQUIRE(lines.size() == 1);
    CHECK(lines[0] == "retire web-3 (10.0.0.3:80): ok in 0.0s");
    CHECK(ReadFile(dir / "r.txt") == "retired\n");
  }
}

TEST_CASE("exec: a command past its timeout is killed with its whole process group") {
  TempDir dir;
  SUBCASE("SIGTERM is enough") {
    ExecMachines m("web", Spec("sleep 100 & echo $! > child.pid; sleep 100", "true", dir));
    REQUIRE(m.Provision("web-1", "", kT0).ok());
    const pid_t child = std::stoi(WaitForLine(dir / "child.pid"));
    CHECK(m.Poll(kT0 + 2 * kMinute - 1).empty());
    CHECK(m.StateOf("web-1") == ExecMachines::State::kProvisioning);
    std::vector<std::string> lines = Settle(m, kT0 + 2 * kMinute);
    REQUIRE(lines.size() == 1);
    CHECK(lines[0] == "provision web-1: timed out after 2m, killed");
    CHECK(m.StateOf("web-1") == ExecMachines::State::kFailed);
    CHECK(m.machines().at("web-1").last_error == lines[0]);
    CHECK(EventuallyDead(child));
  }
  SUBCASE("SIGKILL 5 s later for a command that ignores SIGTERM") {
    ExecSpec spec = Spec("trap '' TERM; sleep 100 & echo $! > child.pid; wait", "true", dir);
    spec.timeout = 30 * kSecond;
    ExecMachines m("web", spec);
    REQUIRE(m.Provision("web-1", "", kT0).ok());
    const pid_t child = std::stoi(WaitForLine(dir / "child.pid"));
    for (int i = 0; i < 25; ++i) {  // SIGTERM sent, ignored by both
      CHECK(m.Poll(kT0 + 30 * kSecond).empty());
      Pause();
    }
    CHECK(m.Poll(kT0 + 34 * kSecond).empty());
    CHECK(Alive(child));
    std::vector<std::string> lines = Settle(m, kT0 + 35 * kSecond);
    REQUIRE(lines.size() == 1);
    CHECK(lines[0] == "provision web-1: timed out after 30s, killed");
    CHECK(EventuallyDead(child));
  }
}

TEST_CASE("exec: the destructor kills and reaps running commands and their children") {
  TempDir dir;
  pid_t shell = 0, child = 0;
  {
    ExecMachines m("web", Spec("echo $$ > sh.pid; sleep 100 & echo $! > child.pid; wait", "true", dir));
    REQUIRE(m.Provision("web-1", "", kT0).ok());
    shell = std::stoi(WaitForLine(dir / "sh.pid"));
    child = std::stoi(WaitForLine(dir / "child.pid"));
    CHECK(Alive(shell));
    CHECK(Alive(child));
  }
  CHECK(kill(shell, 0) == -1);  // reaped: not even a zombie
  CHECK(EventuallyDead(child));
}

TEST_CASE("exec: a server a successful command left in the background is the machine: left alone") {
  TempDir dir;
  pid_t server = 0;
  {
    ExecMachines m("web", Spec("sleep 100 >/dev/null 2>&1 & echo $! > server.pid", "true", dir));
    REQUIRE(m.Provision("web-1", "", kT0).ok());
    REQUIRE(Settle(m, kT0).size() == 1);
    CHECK(m.StateOf("web-1") == ExecMachines::State::kReady);
    server = std::stoi(WaitForLine(dir / "server.pid"));
  }
  CHECK(Alive(server));
  kill(server, SIGKILL);
  CHECK(EventuallyDead(server));
}

TEST_CASE("exec: many commands at once, and no descriptor left open") {
  TempDir dir;
  auto open_fds = [] {
    return std::distance(fs::directory_iterator("/proc/self/fd"), fs::directory_iterator());
  };
  const auto fds_before = open_fds();
  ExecMachines m("web", Spec(R"(echo "$WARMPOOL_SERVER" > "$WARMPOOL_SERVER.out"; sleep 0.2)", "true", dir));
  constexpr int kCount = 40;
  for (int i = 0; i < kCount; ++i) REQUIRE(m.Provision("web-" + std::to_string(i), "", kT0).ok());
  std::vector<std::string> lines = Settle(m, kT0 + 300);
  CHECK(lines.size() == kCount);
  for (const std::string& line : lines) CHECK(Contains(line, ": ok in 0.3s"));
  for (int i = 0; i < kCount; ++i) {
    const std::string name = "web-" + std::to_string(i);
    CHECK(m.StateOf(name) == ExecMachines::State::kReady);
    CHECK(ReadFile(dir / (name + ".out")) == name + "\n");
  }
  CHECK(open_fds() == fds_before);
}

TEST_CASE("exec: ReadExecSpec") {
  Params params;
  params.path = "pools[0].provider";
  SUBCASE("all keys") {
    params.values = {{"exec.provision", "./up.sh"},
                     {"exec.retire", "./down.sh"},
                     {"exec.timeout", "30s"},
                     {"exec.working_dir", "/srv/machines"}};
    ParamReader reader(params);
    ExecSpec spec = ReadExecSpec(&reader, "exec.");
    CHECK(reader.Finish().empty());
    CHECK(spec.provision == "./up.sh");
    CHECK(spec.retire == "./down.sh");
    CHECK(spec.timeout == 30 * kSecond);
    CHECK(spec.working_dir == "/srv/machines");
  }
  SUBCASE("defaults") {
    params.values = {{"exec.provision", "a"}, {"exec.retire", "b"}};
    ParamReader reader(params);
    ExecSpec spec = ReadExecSpec(&reader, "exec.");
    CHECK(reader.Finish().empty());
    CHECK(spec.timeout == 2 * kMinute);
    CHECK(spec.working_dir.empty());
  }
  SUBCASE("errors name the path") {
    params.values = {{"exec.retire", " "}, {"exec.timeout", "0s"}, {"exec.timout", "1m"}};
    ParamReader reader(params);
    ReadExecSpec(&reader, "exec.");
    std::vector<std::string> errors = reader.Finish();
    REQUIRE(errors.size() == 4);
    std::string all;
    for (const std::string& e : errors) all += e + "\n";
    CHECK(Contains(all, "pools[0].provider.exec.provision: required"));
    CHECK(Contains(all, "pools[0].provider.exec.retire: must not be empty"));
    CHECK(Contains(all, "pools[0].provider.exec.timeout: must be at least 1ms"));
    CHECK(Contains(all, "pools[0].provider.exec.timout: unknown key"));
  }
  CHECK(std::string(ExecStateName(ExecMachines::State::kRetiring)) == "retiring");
}

TEST_CASE(
    "exec: suspend and resume run like provision, with the slot's environment, and failures keep the state") {
  TempDir dir;
  const char* kEcho = R"(echo "$WARMPOOL_SERVER $WARMPOOL_ADDRESS $WARMPOOL_ACTION" >>)";
  ExecSpec spec = Spec("true", "true", dir);
  spec.suspend = std::string(kEcho) + " log.txt";
  spec.resume = std::string(kEcho) + " log.txt";
  ExecMachines m("web", spec);
  CHECK(m.CanSuspend());
  // Only a ready machine is suspended.
  Status early = m.Suspend("web-1", kT0);
  CHECK_FALSE(early.ok());
  CHECK(Contains(early.message(), "cannot suspend web-1: its machine is none"));
  m.Adopt("web-1", "10.0.0.1:80", kT0);
  REQUIRE(m.Suspend("web-1", kT0).ok());
  CHECK(m.StateOf("web-1") == ExecMachines::State::kSuspending);
  CHECK(m.Suspend("web-1", kT0).ok());  // idempotent while it runs
  Settle(m, kT0 + 1);
  CHECK(m.StateOf("web-1") == ExecMachines::State::kStopped);
  CHECK(m.Suspend("web-1", kT0 + 2).ok());  // and once stopped
  CHECK(m.StateOf("web-1") == ExecMachines::State::kStopped);
  REQUIRE(m.Resume("web-1", kT0 + 3).ok());
  CHECK(m.StateOf("web-1") == ExecMachines::State::kResuming);
  Settle(m, kT0 + 4);
  CHECK(m.StateOf("web-1") == ExecMachines::State::kReady);
  CHECK(ReadFile(dir / "log.txt") == "web-1 10.0.0.1:80 suspend\nweb-1 10.0.0.1:80 resume\n");

  // A failed suspend leaves the machine ready; a failed resume leaves it stopped.
  ExecSpec failing = Spec("true", "true", dir);
  failing.suspend = "exit 3";
  failing.resume = "exit 4";
  ExecMachines f("web", failing);
  f.Adopt("web-2", "", kT0);
  REQUIRE(f.Suspend("web-2", kT0).ok());
  std::vector<std::string> lines = Settle(f, kT0 + 1);
  CHECK(f.StateOf("web-2") == ExecMachines::State::kReady);
  REQUIRE(lines.size() == 1);
  CHECK(Contains(lines[0], "suspend web-2: exit 3"));
  f.AdoptStopped("web-2", "", kT0);
  REQUIRE(f.Resume("web-2", kT0).ok());
  Settle(f, kT0 + 1);
  CHECK(f.StateOf("web-2") == ExecMachines::State::kStopped);

  // Without the commands: refused, naming them.
  ExecMachines none("web", Spec("true", "true", dir));
  CHECK_FALSE(none.CanSuspend());
  none.Adopt("web-3", "", kT0);
  CHECK(Contains(none.Suspend("web-3", kT0).message(), "no exec.suspend and exec.resume commands"));
}
