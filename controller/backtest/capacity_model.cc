#include "controller/backtest/capacity_model.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace warmpool {

Result<SimulatedSpec> ResolveCapacityModel(const PoolSpec& spec) {
  SimulatedSpec model;
  std::vector<std::string> errors;
  if (!spec.capacity_model.type.empty()) {
    model.initial_active = spec.min_active;
    model.initial_standby = spec.warm_standby;
    ReadSimulatedSpec(spec.capacity_model.params, &model, &errors);
  } else if (spec.provider.type == "simulated") {
    ReadSimulatedSpec(spec.provider.params, &model, &errors);
  } else {
    return Status::InvalidArgument(
        "pool " + spec.name + ": the backtest needs a capacity model: add capacity_model " +
        "(capacity_per_server, promotion_delay, provisioning_delay, drain_delay) to the pool, or use " +
        "provider.type simulated (its parameters are the model); the provider is \"" + spec.provider.type +
        "\"");
  }
  if (!errors.empty()) {
    std::string all;
    for (const std::string& e : errors) all += (all.empty() ? "" : "; ") + e;
    return Status::InvalidArgument(all);
  }
  return model;
}

namespace {

std::string Exact(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string Short(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

}  // namespace

Result<CapacityFit> FitCapacity(const PoolSpec& spec, double peak, double first, int n) {
  const std::string flag = "--fit-capacity " + std::to_string(n);
  if (n < 1 || n > spec.max_active) {
    return Status::InvalidArgument(flag + ": must be between 1 and pool " + spec.name + "'s max_active (" +
                                   std::to_string(spec.max_active) + "): the servers the trace's peak needs");
  }
  if (!(peak > 0)) {
    return Status::InvalidArgument(flag + ": the trace's peak is 0 requests/s: there is no load to fit a capacity to");
  }
  Result<SimulatedSpec> model = ResolveCapacityModel(spec);
  if (!model.ok()) return Status::InvalidArgument(flag + ": " + model.status().message());
  CapacityFit fit;
  fit.spec = spec;
  fit.capacity_per_server = peak / n;
  const double factor = fit.capacity_per_server / model->capacity_per_server;
  Params& params = fit.spec.capacity_model.type.empty() ? fit.spec.provider.params : fit.spec.capacity_model.params;
  params.values["capacity_per_server"] = Exact(fit.capacity_per_server);
  fit.said = flag + ": capacity_per_server " + Short(model->capacity_per_server) + " -> " +
             Short(fit.capacity_per_server) + " (the trace's peak " + Short(peak) + " req/s / " +
             std::to_string(n) + ")";
  std::string scaled;
  for (PluginSpec& p : fit.spec.policies) {
    auto it = p.params.values.find("target_per_server");
    if (it == p.params.values.end()) continue;
    char* end = nullptr;
    const double v = std::strtod(it->second.c_str(), &end);
    if (it->second.empty() || *end != '\0' || !std::isfinite(v)) continue;  // the policy reports it
    it->second = Exact(v * factor);
    scaled += ", " + (p.name.empty() ? p.type : p.name) + ".target_per_server " + Short(v) + " -> " +
              Short(v * factor);
  }
  if (fit.spec.warm_auto.server_capacity > 0) {
    const double v = fit.spec.warm_auto.server_capacity;
    fit.spec.warm_auto.server_capacity = v * factor;
    scaled += ", warm_standby.auto.server_capacity " + Short(v) + " -> " + Short(v * factor);
  }
  if (fit.spec.surge.server_capacity > 0) {
    const double v = fit.spec.surge.server_capacity;
    fit.spec.surge.server_capacity = v * factor;
    scaled += ", surge.server_capacity " + Short(v) + " -> " + Short(v * factor);
  }
  if (fit.spec.stopped_auto.server_capacity > 0) {
    const double v = fit.spec.stopped_auto.server_capacity;
    fit.spec.stopped_auto.server_capacity = v * factor;
    scaled += ", warm_standby.stopped.auto.server_capacity " + Short(v) + " -> " + Short(v * factor);
  }
  if (!scaled.empty()) fit.said += "; scaled alike (x" + Short(factor) + "): " + scaled.substr(2);
  if (params.values.count("initial_active") == 0) {
    const int need = static_cast<int>(std::ceil(std::max(0.0, first) / fit.capacity_per_server - 1e-9));
    const int initial = std::min(spec.max_active, std::max(model->initial_active, need));
    if (initial != model->initial_active) {
      params.values["initial_active"] = std::to_string(initial);
      fit.said += "; initial_active " + std::to_string(model->initial_active) + " -> " + std::to_string(initial) +
                  " (the trace's first point needs " + std::to_string(need) + ")";
    }
  }
  return fit;
}

}  // namespace warmpool
