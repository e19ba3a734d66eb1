#include "controller/config/health.h"

#include <map>

#include "controller/config/yaml.h"
#include "policies/trend.h"
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

// One `metrics[i]` item: {name, query, label, match, above, horizon, window, step}.
void ReadServerMetric(const YAML::Node& node, const std::string& path, ServerMetricSpec* metric,
                      std::vector<std::string>* errors) {
  YamlMap m(node, path, errors);
  if (!m.ok()) return;
  if (m.RequiredString("name", &metric->name) && metric->name.find_first_of(" \t\r\n;") != std::string::npos) {
    m.Error("name", "must be one word (it names the metric in decisions), got " + Quote(metric->name));
  }
  m.RequiredString("query", &metric->query);
  if (m.String("label", &metric->label) && metric->label.empty()) m.Error("label", "must not be empty");
  std::string match = "address";
  if (m.Enum("match", &match, {"address", "name", "host"})) {
    metric->match = match == "name"   ? ServerMetricSpec::Match::kName
                    : match == "host" ? ServerMetricSpec::Match::kHost
                                      : ServerMetricSpec::Match::kAddress;
  }
  if (!m.Has("above")) {
    m.Error("above", "required: the value past which a server is sick, e.g. 0.85");
  } else {
    m.Number("above", &metric->above);
  }
  m.Duration("horizon", &metric->horizon, /*positive=*/false);
  m.Duration("window", &metric->window, /*positive=*/true);
  m.Duration("step", &metric->step, /*positive=*/true);
  if (metric->step > metric->window) {
    m.Error("step", "must not exceed window (" + FormatDuration(metric->window) + "), got " +
                        FormatDuration(metric->step));
  }
  if (metric->horizon > 0 && metric->step > 0 && metric->window / metric->step + 1 < kMinTrendSamples) {
    m.Error("window", "holds " + std::to_string(metric->window / metric->step + 1) + " samples at step " +
                          FormatDuration(metric->step) + "; the trend rule (horizon) needs at least " +
                          std::to_string(kMinTrendSamples));
  }
  m.Finish();
}

void ReadServerMetrics(const YAML::Node& node, const std::string& path, std::vector<ServerMetricSpec>* metrics,
                       std::vector<std::string>* errors) {
  if (node.IsNull()) return;
  if (!node.IsSequence()) {
    errors->push_back(path + ": must be a sequence, got " + Describe(node));
    return;
  }
  std::map<std::string, std::string> seen;  // name -> path of its first declaration
  for (size_t i = 0; i < node.size(); ++i) {
    ServerMetricSpec metric;
    const std::string item = IndexPath(path, i);
    ReadServerMetric(node[i], item, &metric, errors);
    if (metric.name.empty()) continue;
    auto [it, inserted] = seen.emplace(metric.name, item);
    if (!inserted) {
      errors->push_back(item + ".name: duplicate health metric " + Quote(metric.name) + " (also " + it->second + ")");
      continue;
    }
    metrics->push_back(std::move(metric));
  }
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
  m.Duration("breaker_hold", &health->breaker_hold, /*positive=*/false);
  if (const YAML::Node* probe = m.Get("probe")) ReadProbe(*probe, m.PathOf("probe"), &health->probe, errors);
  if (const YAML::Node* metrics = m.Get("metrics")) {
    ReadServerMetrics(*metrics, m.PathOf("metrics"), &health->metrics, errors);
  }
  m.Duration("max_lifetime", &health->max_lifetime, /*positive=*/false);
  m.Finish();
}

}  // namespace warmpool::config_internal
