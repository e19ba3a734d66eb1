// A whole-file reader for tests that hand one to a plugin (Params::read_file) or to LoadTimeZone.
#ifndef WARMPOOL_TESTS_SUPPORT_READ_FILE_H_
#define WARMPOOL_TESTS_SUPPORT_READ_FILE_H_

#include <fstream>
#include <sstream>
#include <string>

#include "warmpool/status.h"

namespace warmpool {

inline Result<std::string> ReadTestFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound(path + ": cannot read");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace warmpool

#endif  // WARMPOOL_TESTS_SUPPORT_READ_FILE_H_
