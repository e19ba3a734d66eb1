// warmpool: the command line. Subcommands: check-config, run, backtest.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <memory>

#include "controller/backtest_command.h"
#include "controller/config/config.h"
#include "controller/log/log.h"
#include "controller/run_command.h"
#include "controller/sources/trace/trace.h"
#include "policies/registry.h"
#include "providers/registry.h"
#include "warmpool/policy.h"
#include "warmpool/provider.h"

#ifndef WARMPOOL_VERSION
#define WARMPOOL_VERSION "0.0.0"
#endif

namespace warmpool {
namespace {

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

int CheckConfig(const std::string& file) {
  ConfigLoad load = LoadConfigFile(file);
  if (!load.ok()) {
    std::fprintf(stderr, "%s: invalid (%zu error%s)\n", file.c_str(), load.errors.size(),
                 load.errors.size() == 1 ? "" : "s");
    for (const std::string& e : load.errors) std::fprintf(stderr, "  %s\n", e.c_str());
    return 1;
  }
  std::printf("%s: valid, %zu pool%s:", file.c_str(), load.config.pools.size(),
              load.config.pools.size() == 1 ? "" : "s");
  for (const PoolSpec& p : load.config.pools) {
    const std::string warm = p.warm_auto.enabled
                                 ? "auto " + std::to_string(p.warm_auto.min) + ".." +
                                       std::to_string(p.warm_auto.max) + " on " + p.warm_auto.metric
                                 : std::to_string(p.warm_standby);
    std::string stopped;
    if (p.stopped_auto.enabled) {
      stopped = ", stopped auto " + std::to_string(p.stopped_auto.min) + ".." + std::to_string(p.stopped_auto.max);
    } else if (p.warm_stopped > 0) {
      stopped = ", stopped " + std::to_string(p.warm_stopped);
    }
    if (p.surge.enabled) stopped += ", surge on " + p.surge.metric;
    std::printf(" %s (active %d..%d, warm %s%s, max_total %d, provider %s)", p.name.c_str(), p.min_active,
                p.max_active, warm.c_str(), stopped.c_str(), p.MaxTotal(), p.provider.type.c_str());
  }
  std::printf("\n");
  return 0;
}

}  // namespace
}  // namespace warmpool

int main(int argc, char** argv) {
  using namespace warmpool;
  CLI::App cli{
      "Warmpool keeps a pool of servers sized to its load: it reads the load, decides with pluggable\n"
      "policies how many servers should serve, promotes warm standbys into the balancer or drains\n"
      "them, and refills the warm pool behind them. Every decision is logged with its reason.",
      "warmpool"};
  cli.set_version_flag("--version", std::string("warmpool ") + WARMPOOL_VERSION);
  cli.require_subcommand(1);
  cli.fallthrough();  // global options may also follow the subcommand
  std::string log_format, log_level;
  cli.add_option("--log.format", log_format, "Log format: text or json (default: the config's, else text)")
      ->check(CLI::IsMember({"text", "json"}));
  cli.add_option("--log.level", log_level, "Log level: trace, debug, info, warn, error, off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  cli.footer("Policy types: " + Join(PolicyTypes()) + ". Provider types: " + Join(ProviderTypes()) +
             ".\nExamples:\n  warmpool check-config examples/web.yaml\n"
             "  warmpool run --config.file examples/web.yaml --dry-run\n"
             "  warmpool backtest --config.file examples/web.yaml --trace nasa.csv --json out.json");

  std::string check_file;
  auto* check =
      cli.add_subcommand("check-config", "Validate a config file: exit 0 if valid, 1 with every error");
  check->add_option("file", check_file, "The YAML config file")->required();

  RunOptions run_opts;
  auto* run = cli.add_subcommand("run", "Run the controller until SIGTERM/SIGINT; SIGHUP reloads the config");
  run->add_option("--config.file", run_opts.config_file, "The YAML config file")->required();
  run->add_flag("--dry-run", run_opts.dry_run, "Decide and plan, log what would be done, change nothing");
  run->add_option(
      "--web.listen-address", run_opts.web_listen_address,
      "Address of the REST API and /metrics, host:port (default: the config's web.listen_address, "
      "127.0.0.1:9900; \"off\" disables it)");
  run->add_option("--cluster.member", run_opts.cluster_member,
                  "This replica's name in the cluster (default: the config's cluster.member, else the host "
                  "name); only with cluster: in the config");
  run->add_option("--max-ticks", run_opts.max_ticks,
                  "Stop after this many ticks (default: run until signalled)")
      ->check(CLI::NonNegativeNumber);

  BacktestArgs bt;
  auto* backtest = AddBacktestCommand(&cli, &bt);

  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cli.exit(e);
  }
  if (check->parsed()) return CheckConfig(check_file);
  run_opts.version = WARMPOOL_VERSION;
  run_opts.log_format = log_format;
  run_opts.log_level = log_level;
  if (run->parsed()) return RunController(run_opts);
  if (backtest->parsed()) return RunBacktestCommand(bt, log_format, log_level);
  return 2;
}
