// StateStore: where the controller keeps what must survive a restart (overrides, pauses, and the
// history the behavior windows need), as one opaque document. The default is a local file written
// atomically (controller/state/file_store.h).
#ifndef WARMPOOL_STATE_STORE_H_
#define WARMPOOL_STATE_STORE_H_

#include <optional>
#include <string>

#include "warmpool/status.h"

namespace warmpool {

class StateStore {
 public:
  virtual ~StateStore() = default;
  // The last document saved, nullopt when there is none yet. A document that cannot be read back
  // (unreadable, truncated, not what Save wrote) is an error that says where it went: the file
  // implementation moves it aside and reports the new path; it is never silently used or lost.
  virtual Result<std::optional<std::string>> Load() = 0;
  // Replaces the document atomically: after a crash at any point, Load returns the old or the new one.
  virtual Status Save(const std::string& document) = 0;
};

}  // namespace warmpool

#endif  // WARMPOOL_STATE_STORE_H_
