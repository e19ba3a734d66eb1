#include "controller/config/health.h"

#include "controller/config/yaml.h"
#include "warmpool/text.h"

namespace warmpool::config_internal {
namespace {

constexpr int kMaxParallel = 1000;

void ReadProbe(const YAML::Node& node, const std::string& path, ProbeSpec* probe, std::vector<std::string>* errors) {
  YamlMap m(node, path, errors);
  if (!m.ok()) return;
  probe->enabled = true;
  if (m.String("path", &probe->path) && (probe->path.empty() || probe->path[0] != '/' ||
                                         probe->path.find_first_of(" \t\r\n") != std::string::npos)) {
    m.Error("path", "must start with / and hold no space or newline, got " + Quote(probe->path));
  }
  if (m.Int("status", &probe->status, 100) && probe->status > 599) {
    m.Error("status", "must be an HTTP status (100 to 599), got " + std::to_string(probe->status));
  }
  m.Duration("timeout", &probe->timeout, /*positive=*/true);
  m.Duration("interval", &probe->interval, /*positive=*/true);
  m.Finish();
}

}  // namespace

void ReadHealth(const YAML::Node& node, const std::string& path, HealthSpec* health, std::vector<std::string>* errors) {
  YamlMap m(node, path, errors);
  if (!m.ok()) return;
  health->enabled = true;
  m.Duration("grace", &health->grace, /*positive=*/false);
  if (m.Int("max_parallel", &health->max_parallel, 1) && health->max_parallel > kMaxParallel) {
    m.Error("max_parallel", "must be at most " + std::to_string(kMaxParallel) + ", got " +
                                std::to_string(health->max_parallel));
  }
  if (m.Number("breaker_fraction", &health->breaker_fraction) &&
      !(health->breaker_fraction > 0 && health->breaker_fraction < 1)) {
    m.Error("breaker_fraction", "must be between 0 and 1 (a share of the active servers), got " +
                                    FormatNumber(health->breaker_fraction));
  }
  if (const YAML::Node* probe = m.Get("probe")) ReadProbe(*probe, m.PathOf("probe"), &health->probe, errors);
  m.Finish();
}

}  // namespace warmpool::config_internal
