// The long-running `warmpool run`: ticks every pool at the configured interval until SIGTERM or
// SIGINT, and reloads the config file on SIGHUP (an invalid new config keeps the old one running).
#ifndef WARMPOOL_CONTROLLER_RUN_COMMAND_H_
#define WARMPOOL_CONTROLLER_RUN_COMMAND_H_

#include <string>

namespace warmpool {

struct RunOptions {
  std::string config_file;
  bool dry_run = false;
  std::string log_format;          // overrides global.log_format when set
  std::string log_level;           // overrides global.log_level when set
  long max_ticks = 0;              // stop after this many ticks (0 = run until signalled); for tests
  std::string web_listen_address;  // overrides web.listen_address when set ("off" disables the API)
  std::string cluster_member;      // overrides cluster.member when set
  std::string version;             // for warmpool_build_info
};

// Returns the process exit code: 0 after a clean stop, 1 when the config cannot be used.
int RunController(const RunOptions& options);

}  // namespace warmpool

#endif  // WARMPOOL_CONTROLLER_RUN_COMMAND_H_
