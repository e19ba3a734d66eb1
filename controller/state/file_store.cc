#include "controller/state/file_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

namespace warmpool {
namespace {

constexpr std::string_view kMagic = "warmpool-state";
constexpr std::string_view kVersion = "v1";
constexpr size_t kMaxHeader = 128;

std::string Errno(int err) { return std::strerror(err); }

std::string DirOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string BaseOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string Printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 24)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return "\"" + out + (s.size() > 24 ? "...\"" : "\"");
}

Status WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::Unavailable(Errno(errno));
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Status FsyncDir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::Unavailable("cannot open directory " + dir + ": " + Errno(errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return Status::Unavailable("cannot fsync directory " + dir + ": " + Errno(err));
  return Status::Ok();
}

// What is wrong with `contents` as a state file, or OK with the body in *body.
Status Parse(const std::string& contents, std::string* body) {
  if (contents.empty()) return Status::Internal("is empty");
  const size_t eol = contents.find('\n');
  const std::string_view head(contents.data(), std::min(eol, contents.size()));
  if (head.substr(0, kMagic.size()) != kMagic) {
    return Status::Internal("is not a warmpool state file (it starts with " + Printable(contents) + ")");
  }
  if (eol == std::string::npos || eol > kMaxHeader) {
    return Status::Internal("has no complete header line (truncated?)");
  }
  char magic[32], version[32], crc_hex[32];
  unsigned long long length = 0;
  int consumed = 0;
  const std::string header(head);
  if (std::sscanf(header.c_str(), "%31s %31s %llu %31s%n", magic, version, &length, crc_hex, &consumed) !=
          4 ||
      static_cast<size_t>(consumed) != header.size() || magic != kMagic) {
    return Status::Internal("has a malformed header " + Printable(header));
  }
  if (version != kVersion) {
    return Status::Internal("has format version " + std::string(version) + ", this build reads " +
                            std::string(kVersion));
  }
  const size_t found = contents.size() - eol - 1;
  if (found < length) {
    return Status::Internal("is truncated: the header says " + std::to_string(length) + " bytes, found " +
                            std::to_string(found));
  }
  if (found > length) {
    return Status::Internal("has " + std::to_string(found) + " bytes where the header says " +
                            std::to_string(length) + " (trailing data)");
  }
  *body = contents.substr(eol + 1);
  char actual[16];
  std::snprintf(actual, sizeof actual, "%08x", FileStateStore::Crc32(*body));
  if (std::string_view(crc_hex) != actual) {
    return Status::Internal("fails its checksum (header " + std::string(crc_hex) + ", content " + actual +
                            ")");
  }
  return Status::Ok();
}

}  // namespace

uint32_t FileStateStore::Crc32(std::string_view data) {
  static const std::array<uint32_t, 256> kTable = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char b : data) crc = kTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

std::string FileStateStore::Header(std::string_view body) {
  char crc[16];
  std::snprintf(crc, sizeof crc, "%08x", Crc32(body));
  return std::string(kMagic) + " " + std::string(kVersion) + " " + std::to_string(body.size()) + " " + crc +
         "\n";
}

FileStateStore::FileStateStore(std::string path, Options options)
    : path_(std::move(path)), dir_(DirOf(path_)), options_(std::move(options)) {}

Status FileStateStore::CheckDirectory() const {
  struct stat st;
  if (::stat(dir_.c_str(), &st) != 0) {
    return Status::FailedPrecondition("state directory " + dir_ + " (for " + path_ + ") " +
                                      (errno == ENOENT ? std::string("does not exist") : Errno(errno)));
  }
  if (!S_ISDIR(st.st_mode)) {
    return Status::FailedPrecondition("state directory " + dir_ + " (for " + path_ + ") is not a directory");
  }
  if (::access(dir_.c_str(), W_OK | X_OK) != 0) {
    return Status::FailedPrecondition("state directory " + dir_ + " (for " + path_ +
                                      ") is not writable: " + Errno(errno));
  }
  return Status::Ok();
}

void FileStateStore::RemoveStaleTemps() const {
  DIR* d = ::opendir(dir_.c_str());
  if (d == nullptr) return;
  const std::string prefix = BaseOf(path_) + ".tmp-";
  while (const dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name.rfind(prefix, 0) != 0) continue;
    char* end = nullptr;
    const long pid = std::strtol(name.c_str() + prefix.size(), &end, 10);
    if (end == name.c_str() + prefix.size() || *end != '\0' || pid <= 0) continue;
    // Ours cannot be in flight (the caller holds mu_); another live process's may be: leave it.
    const bool gone = pid == ::getpid() || (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH);
    if (gone) ::unlink((dir_ + "/" + name).c_str());
  }
  ::closedir(d);
}

Status FileStateStore::MoveAside(const std::string& what) {
  const TimeMs now = options_.clock ? options_.clock->Now()
                                    : std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count();
  std::string stamp;
  for (char c : FormatTime(now)) {
    if (c != '-' && c != ':') stamp += c;  // 2026-11-21T05:31:00.000Z -> 20261121T053100.000Z
  }
  std::string aside = path_ + ".corrupt-" + stamp;
  struct stat st;
  for (int i = 2; ::lstat(aside.c_str(), &st) == 0; ++i) {
    aside = path_ + ".corrupt-" + stamp + "-" + std::to_string(i);
  }
  if (::rename(path_.c_str(), aside.c_str()) != 0) {
    stuck_ = true;
    return Status::Internal("state file " + path_ + " " + what + "; it could not be moved aside to " + aside +
                            " (" + Errno(errno) + "), so it is left in place and will not be overwritten");
  }
  (void)FsyncDir(dir_);  // the rename is done; a lost fsync only risks seeing the file again
  stuck_ = false;
  return Status::Internal("state file " + path_ + " " + what + "; moved aside to " + aside);
}

namespace {
// A state document is a few KB per pool; anything this large is not one.
constexpr uint64_t kMaxFileBytes = 64 << 20;
}  // namespace

Result<std::optional<std::string>> FileStateStore::Load() {
  std::lock_guard<std::mutex> lock(mu_);
  if (Status st = CheckDirectory(); !st.ok()) return st;
  RemoveStaleTemps();
  // O_NONBLOCK: a FIFO in the file's place must not hang start-up (it is refused just below).
  const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) return std::optional<std::string>();
    if (err == EACCES || err == EPERM) {
      // Not corrupt: unreadable by this user. Starting fresh would drop its overrides and pauses.
      stuck_ = true;
      return Status::FailedPrecondition("state file " + path_ + " cannot be read (" + Errno(err) +
                                        "): give the controller's user read and write access to it");
    }
    return MoveAside("is unreadable (" + Errno(err) + ")");
  }
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    stuck_ = true;
    return Status::FailedPrecondition("state file " + path_ + " is not a regular file");
  }
  if (static_cast<uint64_t>(st.st_size) > kMaxFileBytes) {
    ::close(fd);
    return MoveAside("is larger than " + std::to_string(kMaxFileBytes >> 20) + " MiB");
  }
  std::string contents;
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return MoveAside("is unreadable (" + Errno(err) + ")");
    }
    if (n == 0) break;
    contents.append(buf, static_cast<size_t>(n));
    if (contents.size() > kMaxFileBytes) {  // it grew while being read
      ::close(fd);
      return MoveAside("is larger than " + std::to_string(kMaxFileBytes >> 20) + " MiB");
    }
  }
  ::close(fd);
  std::string body;
  if (Status st2 = Parse(contents, &body); !st2.ok()) return MoveAside(st2.message());
  if (options_.validate) {
    if (Status st2 = options_.validate(body); !st2.ok()) {
      return MoveAside("is intact but not a valid state document (" + st2.message() + ")");
    }
  }
  stuck_ = false;
  return std::optional<std::string>(std::move(body));
}

Status FileStateStore::Save(const std::string& document) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stuck_) {
    return Status::FailedPrecondition("not overwriting state file " + path_ +
                                      ": it could not be read back nor moved aside (see the load error)");
  }
  const std::string tmp = path_ + ".tmp-" + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    const int err = errno;
    if (Status dir = CheckDirectory(); !dir.ok()) return dir;
    return Status::Unavailable("cannot create " + tmp + ": " + Errno(err));
  }
  Status st = WriteAll(fd, Header(document));
  if (st.ok()) st = WriteAll(fd, document);
  if (st.ok() && ::fsync(fd) != 0) st = Status::Unavailable(Errno(errno));
  if (::close(fd) != 0 && st.ok()) st = Status::Unavailable(Errno(errno));
  if (!st.ok()) {
    ::unlink(tmp.c_str());
    return Status::Unavailable("cannot write " + tmp + ": " + st.message());
  }
  if (::rename(tmp.c_str(), path_.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return Status::Unavailable("cannot rename " + tmp + " to " + path_ + ": " + Errno(err));
  }
  return FsyncDir(dir_);
}

}  // namespace warmpool
