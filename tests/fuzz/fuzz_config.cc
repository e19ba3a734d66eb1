// libFuzzer target: the config loader (YAML, every key's validation, the plugin tables' checks), as
// check-config and a SIGHUP reload run it on a file's text.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "controller/config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;  // the loader refuses files past 1 MiB before parsing; keep runs fast
  const warmpool::ConfigLoad load =
      warmpool::ParseConfig(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.yaml");
  (void)load;
  return 0;
}
