#include "policies/target_tracking.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "warmpool/params.h"
#include "warmpool/text.h"

namespace warmpool {
namespace {

class TargetTrackingPolicy final : public Policy {
 public:
  TargetTrackingPolicy(std::string name, TargetTrackingSpec spec)
      : name_(std::move(name)), spec_(std::move(spec)) {}
  const std::string& Name() const override { return name_; }
  PolicyInputs Inputs() const override { return {{spec_.metric}, /*history=*/false}; }  // the window only
  Recommendation Recommend(const PolicyInput& in) const override {
    return TargetTrackingRecommend(name_, spec_, in);
  }

 private:
  std::string name_;
  TargetTrackingSpec spec_;
};

}  // namespace

Recommendation TargetTrackingRecommend(const std::string& name, const TargetTrackingSpec& spec,
                                       const PolicyInput& in) {
  Recommendation rec;
  rec.policy = name;
  const MetricWindow* window = in.Window(spec.metric);
  std::optional<Sample> latest = window ? window->Latest(in.now, in.stale_after) : std::nullopt;
  if (!latest) {
    rec.reason = spec.metric + " missing or stale (no finite sample in the last " +
                 FormatDuration(in.stale_after) + ")";
    return rec;
  }
  double value = latest->value;
  double slope = 0;  // per second, when leading on a rise
  if (spec.lead > 0) {
    // The slope from the newest finite sample at least `lead_window` older than the latest (the one
    // just before it with no window), or from the oldest one when the window does not reach that far.
    const SlidingVector<Sample>& ss = window->samples;
    const Sample* base = nullptr;
    for (auto it = ss.rbegin(); it != ss.rend(); ++it) {
      if (it->t >= latest->t || !std::isfinite(it->value)) continue;
      base = &*it;
      if (it->t <= latest->t - spec.lead_window) break;
    }
    if (base != nullptr) {
      slope = (latest->value - base->value) / (static_cast<double>(latest->t - base->t) / 1000.0);
    }
    slope = std::max(0.0, slope);
    value += slope * static_cast<double>(spec.lead) / 1000.0;
  }
  const int current = in.current;
  double ratio;  // metric per server / target
  double exact;  // servers the metric asks for, before rounding
  if (spec.mode == TargetTrackingSpec::Mode::kPerServer) {
    exact = value / spec.target;
    ratio = current > 0 ? exact / current : std::numeric_limits<double>::infinity();
    if (current == 0 && value <= 0) ratio = 1;  // nothing to serve and nothing serving
  } else {
    if (current == 0) {
      rec.reason = spec.metric + " is a utilization and no server is active: nothing to measure";
      return rec;
    }
    ratio = value / spec.target;
    exact = current * ratio;
  }
  rec.valid = true;
  const bool keep = ratio >= 1 - spec.tolerance_down && ratio <= 1 + spec.tolerance_up;
  // Guard against float noise turning 4.0000001 into 5.
  const double rounded = std::clamp(std::ceil(exact - 1e-9), 0.0, 1e6);
  rec.desired = keep ? current : static_cast<int>(rounded);
  if (!in.explain) return rec;
  std::string basis = spec.metric + " " +
                      (slope > 0 ? FormatG4(latest->value) + " rising " + FormatG4(slope) + "/s, " +
                                       FormatG4(value) + " in " + FormatDuration(spec.lead)
                                 : FormatG4(value)) +
                      (spec.mode == TargetTrackingSpec::Mode::kPerServer
                           ? " / target " + FormatG4(spec.target) + " per server"
                           : " vs target " + FormatG4(spec.target)) +
                      " on " + std::to_string(current) + " active";
  rec.reason =
      keep ? basis + ": ratio " + FormatG4(ratio) + " within tolerance, keep " + std::to_string(current)
           : basis + ": needs " + FormatG4(exact) + " -> " + std::to_string(rec.desired);
  return rec;
}

std::unique_ptr<Policy> NewTargetTrackingPolicy(const std::string& name, const Params& params,
                                                std::vector<std::string>* errors) {
  ParamReader r(params);
  TargetTrackingSpec spec;
  spec.metric = r.Required("metric", "the name of one of the pool's metrics");
  const double kMax = std::numeric_limits<double>::max();
  bool per_server = r.Has("target_per_server"), utilization = r.Has("target_utilization");
  if (per_server && utilization) {
    r.Error("target_utilization", "set either target_per_server or target_utilization, not both");
  } else if (!per_server && !utilization) {
    r.Error("target_per_server",
            "required: target_per_server (for a rate metric) or target_utilization (for a utilization)");
  }
  if (per_server) {
    spec.mode = TargetTrackingSpec::Mode::kPerServer;
    spec.target = r.Number("target_per_server", 1, 1e-9, kMax);
  } else if (utilization) {
    spec.mode = TargetTrackingSpec::Mode::kUtilization;
    spec.target = r.Number("target_utilization", 1, 1e-9, kMax);
  }
  double both = r.Number("tolerance", 0.1, 0, 10);
  spec.tolerance_up = r.Number("tolerance.up", both, 0, 10);
  spec.tolerance_down = r.Number("tolerance.down", both, 0, 1);
  spec.lead = r.Duration("lead", 0, 0);
  spec.lead_window = r.Duration("lead_window", 0, 0);
  if (spec.lead > kHour) r.Error("lead", "must be at most 1h, got " + FormatDuration(spec.lead));
  if (!r.FinishInto(errors)) return nullptr;
  return std::make_unique<TargetTrackingPolicy>(name, std::move(spec));
}

}  // namespace warmpool
