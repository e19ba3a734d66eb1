// Unit tests for FileStateStore (controller/state/file_store.h): round trip, a missing file, every kind
// of bad file moved aside with its new path in the error, leftover temp files, bad directories, and
// atomicity under SIGKILL at random points of Save.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "controller/state/codec.h"
#include "controller/state/file_store.h"

using namespace warmpool;
namespace fs = std::filesystem;

namespace {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "warmpool-state-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

std::vector<std::string> Names(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// 2026-11-21T05:31:00.000Z, the time the moved-aside copies are named after.
constexpr TimeMs kNow = 1'795'239'060'000;
const char* kAside = ".corrupt-20261121T053100.000Z";

// Loads a file holding `contents`: the error must contain `what` and name the moved-aside copy,
// which must hold `contents` unchanged; the state file is gone and the next Load finds nothing.
void ExpectMovedAside(const std::string& contents, const std::string& what) {
  TempDir dir;
  ManualClock clock(kNow);
  const std::string path = dir.path() + "/state";
  WriteFile(path, contents);
  FileStateStore store(path, {&clock, nullptr});
  Result<std::optional<std::string>> got = store.Load();
  REQUIRE_FALSE(got.ok());
  const std::string& msg = got.status().message();
  CHECK(got.status().code() == Status::Code::kInternal);
  CHECK_MESSAGE(Contains(msg, what), msg);
  CHECK_MESSAGE(Contains(msg, "moved aside to " + path + kAside), msg);
  CHECK(ReadFile(path + kAside) == contents);
  CHECK_FALSE(fs::exists(path));
  Result<std::optional<std::string>> again = store.Load();
  REQUIRE(again.ok());
  CHECK_FALSE(again->has_value());
  CHECK(store.Save("fresh").ok());
}

}  // namespace

TEST_CASE("FileStateStore: CRC-32 and header") {
  CHECK(FileStateStore::Crc32("123456789") == 0xcbf43926u);
  CHECK(FileStateStore::Crc32("") == 0u);
  CHECK(FileStateStore::Header("123456789") == "warmpool-state v1 9 cbf43926\n");
}

TEST_CASE("FileStateStore: a missing file is no state, Save then Load returns the document") {
  TempDir dir;
  FileStateStore store(dir.path() + "/state.json");
  Result<std::optional<std::string>> none = store.Load();
  REQUIRE_MESSAGE(none.ok(), none.status().ToString());
  CHECK_FALSE(none->has_value());

  const std::string doc = EncodeState(PersistedState{});
  REQUIRE(store.Save(doc).ok());
  CHECK(ReadFile(dir.path() + "/state.json") == FileStateStore::Header(doc) + doc);
  const std::string binary("second\nwith\0nul", 15);  // any bytes: the length is in the header
  REQUIRE(store.Save(binary).ok());
  Result<std::optional<std::string>> got = FileStateStore(dir.path() + "/state.json").Load();
  REQUIRE(got.ok());
  CHECK(**got == binary);
  CHECK(Names(dir.path()) == std::vector<std::string>{"state.json"});  // no temp file left behind
}

TEST_CASE("FileStateStore: every kind of bad file is moved aside with its path in the error") {
  const std::string body = "{\"format\": \"warmpool-state\"}";
  const std::string good = FileStateStore::Header(body) + body;
  SUBCASE("checksum") {
    std::string flipped = good;
    flipped.back() = '!';
    ExpectMovedAside(flipped, "fails its checksum (header ");
  }
  SUBCASE("truncated body") {
    ExpectMovedAside(good.substr(0, good.size() - 5), "is truncated: the header says " +
                                                          std::to_string(body.size()) + " bytes, found " +
                                                          std::to_string(body.size() - 5));
  }
  SUBCASE("truncated header") { ExpectMovedAside("warmpool-state v1 12", "has no complete header line"); }
  SUBCASE("empty") { ExpectMovedAside("", "is empty"); }
  SUBCASE("trailing data") { ExpectMovedAside(good + "x", "(trailing data)"); }
  SUBCASE("foreign") {
    ExpectMovedAside("{\"controls\": {}}\n",
                     "is not a warmpool state file (it starts with \"{\"controls\": {}}?\")");
  }
  SUBCASE("malformed header") {
    ExpectMovedAside("warmpool-state v1 twelve abc\nbody", "has a malformed header");
  }
  SUBCASE("unknown version") {
    ExpectMovedAside("warmpool-state v2 4 00000000\nbody", "has format version v2, this build reads v1");
  }
}

TEST_CASE("FileStateStore: an intact document the validator refuses is moved aside too") {
  TempDir dir;
  ManualClock clock(kNow);
  const std::string path = dir.path() + "/state";
  FileStateStore store(path, {&clock, ValidateState});
  REQUIRE(store.Save("{\"format\": \"warmpool-state\"}").ok());
  Result<std::optional<std::string>> got = store.Load();
  REQUIRE_FALSE(got.ok());
  CHECK_MESSAGE(
      Contains(got.status().message(), "is intact but not a valid state document (version: missing)"),
      got.status().message());
  CHECK(Contains(got.status().message(), "moved aside to " + path + kAside));

  // A second bad file in the same millisecond does not overwrite the first copy.
  REQUIRE(store.Save("[]").ok());
  got = store.Load();
  REQUIRE_FALSE(got.ok());
  CHECK_MESSAGE(Contains(got.status().message(), path + kAside + "-2"), got.status().message());
  CHECK(fs::exists(path + kAside));

  REQUIRE(store.Save(EncodeState(PersistedState{})).ok());
  CHECK(store.Load().ok());
}

TEST_CASE("FileStateStore: leftover temp files are ignored and cleaned when their process is gone") {
  TempDir dir;
  const std::string path = dir.path() + "/state";
  const pid_t dead = fork();
  REQUIRE(dead >= 0);
  if (dead == 0) _exit(0);
  REQUIRE(waitpid(dead, nullptr, 0) == dead);
  const std::string dead_tmp = path + ".tmp-" + std::to_string(dead);
  const std::string own_tmp = path + ".tmp-" + std::to_string(getpid());
  const std::string live_tmp = path + ".tmp-" + std::to_string(getppid());  // a live process, not ours
  for (const std::string& t : {dead_tmp, own_tmp, live_tmp}) WriteFile(t, "warmpool-state v1 999 0\nhalf");

  FileStateStore store(path);
  Result<std::optional<std::string>> none = store.Load();
  REQUIRE_MESSAGE(none.ok(), none.status().ToString());
  CHECK_FALSE(none->has_value());  // a temp file is never taken for the document
  CHECK_FALSE(fs::exists(dead_tmp));
  CHECK_FALSE(fs::exists(own_tmp));
  CHECK(fs::exists(live_tmp));  // it may be another process's save in flight
  REQUIRE(store.Save("doc").ok());
  CHECK(**store.Load() == "doc");
}

TEST_CASE("FileStateStore: a missing or non-directory parent is an error naming it") {
  TempDir dir;
  const std::string missing = dir.path() + "/nope";
  FileStateStore store(missing + "/state");
  for (const Status& st : {store.Load().status(), store.Save("x"), store.CheckDirectory()}) {
    CHECK(st.code() == Status::Code::kFailedPrecondition);
    CHECK_MESSAGE(
        Contains(st.message(), "state directory " + missing + " (for " + missing + "/state) does not exist"),
        st.message());
  }
  WriteFile(missing, "a file");
  Status st = FileStateStore(missing + "/state").Save("x");
  CHECK_MESSAGE(Contains(st.message(),
                         "state directory " + missing + " (for " + missing + "/state) is not a directory"),
                st.message());
}

TEST_CASE("FileStateStore: an unwritable directory is an error naming it") {
  // Root may write anywhere, so the check runs in a child that drops to nobody when needed.
  TempDir dir;
  REQUIRE(chmod(dir.path().c_str(), 0755) == 0);  // nobody must reach ro/ to be refused there
  const std::string ro = dir.path() + "/ro";
  REQUIRE(mkdir(ro.c_str(), 0555) == 0);
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    close(fds[0]);
    if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) _exit(3);
    FileStateStore store(ro + "/state");
    const std::string out = store.Save("x").message() + "\n" + store.Load().status().message();
    (void)!write(fds[1], out.data(), out.size());
    _exit(0);
  }
  close(fds[1]);
  std::string out;
  char buf[512];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  const std::string want = "state directory " + ro + " (for " + ro + "/state) is not writable";
  CHECK_MESSAGE(out.find(want) == 0, out);                         // Save
  CHECK_MESSAGE(out.find("\n" + want) != std::string::npos, out);  // Load
}

// A child saves big documents in a loop and is SIGKILLed at a random moment; every Load in the parent
// returns a complete document, the last one saved or a newer one, never a torn or mixed one.
TEST_CASE("FileStateStore: Save is atomic under SIGKILL at random points") {
  TempDir dir;
  const std::string path = dir.path() + "/state";
  constexpr size_t kSize = 2 << 20;  // 2 MiB: a write and an fsync take long enough to be interrupted
  auto doc = [&](long gen) {
    std::string d = "generation " + std::to_string(gen) + "\n";
    d.resize(kSize, static_cast<char>('a' + gen % 26));
    return d;
  };
  auto generation = [](const std::string& d) { return std::stol(d.substr(11, d.find('\n') - 11)); };

  FileStateStore store(path);
  REQUIRE(store.Save(doc(0)).ok());
  constexpr int kRounds = 60;
  long last = 0;  // the newest generation seen: a later Load may not go back before it
  int mid_save = 0;
  std::mt19937 rng(20261121);
  // At least kRounds, and more (up to kMaxRounds) until a kill has landed inside a Save: where the write
  // is fast (tmpfs) and building the document slow (a sanitizer build), a kill mid-save is rarer.
  constexpr int kMaxRounds = 400;
  int rounds = 0;
  for (int round = 0; round < kRounds || (mid_save == 0 && round < kMaxRounds); ++round, ++rounds) {
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    const pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      close(fds[0]);
      FileStateStore writer(path);
      for (long gen = last + 1;; ++gen) {
        if (write(fds[1], "s", 1) != 1) _exit(2);  // "starting a save"
        if (!writer.Save(doc(gen)).ok()) _exit(1);
      }
    }
    close(fds[1]);
    const int saves = 1 + static_cast<int>(rng() % 3);
    char c;
    for (int i = 0; i < saves; ++i) REQUIRE(read(fds[0], &c, 1) == 1);
    // Spin (no sleeping) for a random 0..~3 ms worth of work into the current Save.
    volatile uint64_t sink = 0;
    for (uint32_t i = rng() % 3'000'000; i > 0; --i) sink = sink + i;
    kill(child, SIGKILL);
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    CHECK(WIFSIGNALED(status));
    close(fds[0]);
    if (fs::exists(path + ".tmp-" + std::to_string(child))) ++mid_save;

    Result<std::optional<std::string>> got = FileStateStore(path).Load();
    REQUIRE_MESSAGE(got.ok(), got.status().ToString());
    REQUIRE(got->has_value());
    const long gen = generation(**got);
    CAPTURE(gen);
    CHECK(gen >= last);
    CHECK(**got == doc(gen));
    last = gen;
    CHECK_FALSE(fs::exists(path + ".tmp-" + std::to_string(child)));  // Load cleaned the dead child's temp
  }
  MESSAGE("kills that landed inside a Save: " << mid_save << " of " << rounds << "; newest generation "
                                              << last);
  CHECK(mid_save > 0);
  CHECK(last > 0);
  for (const std::string& name : Names(dir.path())) CHECK(name == "state");  // nothing moved aside
}
