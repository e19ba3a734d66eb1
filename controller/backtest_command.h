// `warmpool backtest`: its options and what it runs (the configured policies beside the HPA
// baseline and the oracle, optionally masks, a sweep, JSON and HTML reports).
#ifndef WARMPOOL_CONTROLLER_BACKTEST_COMMAND_H_
#define WARMPOOL_CONTROLLER_BACKTEST_COMMAND_H_

#include <string>

namespace CLI {
class App;
}  // namespace CLI

namespace warmpool {

struct BacktestArgs {
  std::string config_file, trace_file, json_out, html_out, pool;
  std::string interval;
  std::string mask = "none";
  std::string mask_min_gap = "20m";
  std::string sweep;
  std::string baseline_target = "0.5,0.6,0.7,0.8,0.9,1.0";  // HPA's curve (one value: the baseline alone)
  std::string fit_capacity;  // N: the trace's peak needs N servers; empty: the config's capacity_per_server
  int threads = 0;
};

// Adds the "backtest" subcommand to `cli`, filling `args`.
CLI::App* AddBacktestCommand(CLI::App* cli, BacktestArgs* args);

// Runs it. Exit status: 0 done, 1 bad input (config, trace, mask, sweep, baseline target, fit) or failed
// output, 2 bad logging flags.
int RunBacktestCommand(const BacktestArgs& args, const std::string& log_format, const std::string& log_level);

}  // namespace warmpool

#endif  // WARMPOOL_CONTROLLER_BACKTEST_COMMAND_H_
