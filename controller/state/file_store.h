// FileStateStore: the StateStore in one local file, replaced atomically.
//
// File format: one header line, then the document exactly as given to Save:
//
//   warmpool-state v1 <body length in bytes, decimal> <CRC-32 (IEEE) of the body, 8 lowercase hex>\n
//   <body>
//
// Save writes `<file>.tmp-<pid>` in the same directory, fsyncs it, renames it over `<file>` and fsyncs
// the directory: after a crash at any point the file holds the old or the new document, never a mix.
// Load checks the header, the length and the checksum (and the caller's validator, if any). A file
// that fails (unreadable, empty, truncated, trailing bytes, checksum, foreign, unknown version, or
// refused by the validator) is renamed to `<file>.corrupt-<UTC time, e.g. 20261121T053100.000Z>` and
// Load returns an Internal error that says what was wrong and where the file went; nothing is deleted.
// Temp files left by a crashed Save are ignored, and removed by Load when their process is gone.
//
// Errors: a missing or unwritable directory is FailedPrecondition and names the directory; other I/O
// failures are Unavailable. Thread-safe; one process per file (the leader) is assumed.
#ifndef WARMPOOL_CONTROLLER_STATE_FILE_STORE_H_
#define WARMPOOL_CONTROLLER_STATE_FILE_STORE_H_

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "warmpool/clock.h"
#include "warmpool/state_store.h"

namespace warmpool {

struct FileStateStoreOptions {
  const Clock* clock = nullptr;  // names the .corrupt- copies; nullptr: the system clock. Not owned.
  // Called by Load on a body whose header and checksum are fine; a non-OK answer moves the file aside
  // like a corrupt one (e.g. ValidateState from state_codec.h). Empty: every intact body is accepted.
  std::function<Status(const std::string&)> validate;
};

class FileStateStore final : public StateStore {
 public:
  using Options = FileStateStoreOptions;

  explicit FileStateStore(std::string path, Options options = {});

  Result<std::optional<std::string>> Load() override;
  Status Save(const std::string& document) override;

  // OK when the file's directory exists and this process may create files in it.
  Status CheckDirectory() const;
  const std::string& path() const { return path_; }

  // The header line Save writes for `body`, newline included (exposed for tests).
  static std::string Header(std::string_view body);
  // CRC-32 (IEEE 802.3, the zlib one): Crc32("123456789") == 0xcbf43926.
  static uint32_t Crc32(std::string_view data);

 private:
  Status MoveAside(const std::string& what);
  void RemoveStaleTemps() const;

  const std::string path_;
  const std::string dir_;
  Options options_;
  std::mutex mu_;
  bool stuck_ = false;  // a bad file could not be moved aside: Save must not overwrite it
};

}  // namespace warmpool

#endif  // WARMPOOL_CONTROLLER_STATE_FILE_STORE_H_
