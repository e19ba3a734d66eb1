#include "controller/config/read_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace warmpool {

Result<std::string> ReadWholeFile(const std::string& path, size_t max_bytes) {
  std::string text;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::NotFound(path + ": cannot read: " + std::strerror(errno));
  int err = 0;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      text.append(buf, static_cast<size_t>(n));
      if (text.size() > max_bytes) break;
    } else if (n == 0) {
      break;
    } else if (errno != EINTR) {
      err = errno;
      break;
    }
  }
  ::close(fd);
  if (err != 0) return Status::InvalidArgument(path + ": cannot read: " + std::strerror(err));
  if (text.size() > max_bytes) {
    return Status::InvalidArgument(path + ": larger than " + std::to_string(max_bytes) + " bytes");
  }
  return text;
}

}  // namespace warmpool
