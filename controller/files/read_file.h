// Reading a whole file the operator names, for every room that reads one: the config itself, the API
// tokens file, the files a plugin names but must not read itself (a schedule's time zone: policies/
// does no I/O, so the config hands it this reader through Params::read_file), Prometheus credentials
// and CA files, the API's TLS certificate and key, collection-gap masks. One rule for all: a regular
// file, bounded in size, and nothing that can hang (a FIFO without a writer) or flood (a device).
#ifndef WARMPOOL_CONTROLLER_FILES_READ_FILE_H_
#define WARMPOOL_CONTROLLER_FILES_READ_FILE_H_

#include <cstddef>
#include <string>

#include "warmpool/status.h"

namespace warmpool {

// The file's bytes. Only a regular file is read (a FIFO, a device or a directory is refused before
// any read, so neither hangs nor floods). Errors: "PATH: cannot read: <strerror>", "PATH: not a
// regular file (a FIFO)", "PATH: larger than N bytes".
Result<std::string> ReadWholeFile(const std::string& path, size_t max_bytes);
// "a FIFO", "a character device", "a directory", ... for a st_mode.
const char* FileKind(unsigned mode);

}  // namespace warmpool

#endif  // WARMPOOL_CONTROLLER_FILES_READ_FILE_H_
