#include "policies/step.h"

#include <algorithm>
#include <cmath>

#include "policies/list_params.h"
#include "warmpool/params.h"
#include "warmpool/text.h"

namespace warmpool {
namespace {

std::string Signed(int n) { return (n >= 0 ? "+" : "") + std::to_string(n); }

bool Breaches(const StepSpec::Band& b, double v) { return b.above ? v > b.threshold : v < b.threshold; }

std::string Describe(const StepSpec::Band& b) {
  return (b.above ? "above " : "below ") + FormatNumber(b.threshold);
}

class StepPolicy final : public Policy {
 public:
  StepPolicy(std::string name, StepSpec spec) : name_(std::move(name)), spec_(std::move(spec)) {}
  const std::string& Name() const override { return name_; }
  PolicyInputs Inputs() const override { return {{spec_.metric}, /*history=*/false}; }  // the windows only
  Recommendation Recommend(const PolicyInput& in) const override { return StepRecommend(name_, spec_, in); }

 private:
  std::string name_;
  StepSpec spec_;
};

}  // namespace

int StepAdjustment(const StepSpec::Band& band, int current) {
  if (!band.percent) return static_cast<int>(band.add);
  if (band.add == 0) return 0;
  const double x = current * band.add / 100;
  double rounded = x > 0 ? std::ceil(x - 1e-9) : std::floor(x + 1e-9);  // away from zero, float-noise safe
  if (rounded == 0) rounded = band.add > 0 ? 1 : -1;
  return static_cast<int>(std::clamp(rounded, -1e6, 1e6));
}

Recommendation StepRecommend(const std::string& name, const StepSpec& spec, const PolicyInput& in) {
  Recommendation rec;
  rec.policy = name;
  const MetricWindow* window = in.Window(spec.metric);
  // The fresh finite samples, newest first, as many as the breach count needs.
  std::vector<double> recent;
  if (window != nullptr) {
    for (auto it = window->samples.rbegin(); it != window->samples.rend(); ++it) {
      if (it->t > in.now) continue;
      if (in.now - it->t > in.stale_after) break;
      if (!std::isfinite(it->value)) continue;
      recent.push_back(it->value);
      if (static_cast<int>(recent.size()) == spec.breaches) break;
    }
  }
  if (recent.empty()) {
    rec.reason = spec.metric + " missing or stale (no finite sample in the last " +
                 FormatDuration(in.stale_after) + ")";
    return rec;
  }
  rec.valid = true;
  const int current = in.current;
  const std::string value = spec.metric + " " + FormatNumber(recent[0]);
  const StepSpec::Band* up = nullptr;
  const StepSpec::Band* down = nullptr;
  const StepSpec::Band* waiting = nullptr;  // breached by the newest samples, not yet enough of them
  int waiting_count = 0;
  for (const StepSpec::Band& b : spec.bands) {
    int count = 0;
    while (count < static_cast<int>(recent.size()) && Breaches(b, recent[count])) ++count;
    if (count < spec.breaches) {
      if (count > waiting_count) {
        waiting = &b;
        waiting_count = count;
      }
      continue;
    }
    const int adj = StepAdjustment(b, current);
    if (b.above) {
      if (up == nullptr || adj > StepAdjustment(*up, current)) up = &b;
    } else if (down == nullptr || b.threshold < down->threshold ||
               (b.threshold == down->threshold && adj > StepAdjustment(*down, current))) {
      down = &b;
    }
  }
  const StepSpec::Band* winner = up != nullptr ? up : down;
  if (winner == nullptr) {
    rec.desired = current;
    rec.reason = waiting != nullptr
                     ? value + " " + Describe(*waiting) + " for " + std::to_string(waiting_count) + " of " +
                           std::to_string(spec.breaches) + " samples: waiting, keep " +
                           std::to_string(current)
                     : value + ": no band breached, keep " + std::to_string(current);
    return rec;
  }
  const int adj = StepAdjustment(*winner, current);
  rec.desired = std::max(0, current + adj);
  std::string how = Signed(adj);
  if (winner->percent)
    how = (winner->add > 0 ? "+" : "") + FormatNumber(winner->add) + "% of " + std::to_string(current) +
          " = " + how;
  rec.reason = value + " " + Describe(*winner) + " for " + std::to_string(spec.breaches) + " of " +
               std::to_string(spec.breaches) + " samples: " + how + " -> " + std::to_string(rec.desired);
  return rec;
}

std::unique_ptr<Policy> NewStepPolicy(const std::string& name, const Params& params,
                                      std::vector<std::string>* errors) {
  ParamReader r(params);
  StepSpec spec;
  spec.metric = r.Required("metric", "the name of one of the pool's metrics");
  spec.breaches = r.Int("breaches", 1, 1, 1000);
  const int n = ListSize(params, "bands");
  if (n == 0) r.Error("bands", "required: at least one {above|below: <number>, add|add_percent: <number>}");
  const double kBig = 1e300;
  for (int i = 0; i < n; ++i) {
    const std::string above = ListKey("bands", i, "above"), below = ListKey("bands", i, "below");
    const std::string add = ListKey("bands", i, "add"), pct = ListKey("bands", i, "add_percent");
    StepSpec::Band b;
    bool ok = true;
    if (r.Has(above) == r.Has(below)) {
      r.Error(r.Has(above) ? below : above, r.Has(above) ? "set either above or below, not both"
                                                         : "required: above or below (a threshold)");
      ok = false;
    }
    b.above = r.Has(above);
    b.threshold = r.Number(b.above ? above : below, 0, -kBig, kBig);
    if (r.Has(add) == r.Has(pct)) {
      r.Error(r.Has(add) ? pct : add, r.Has(add) ? "set either add or add_percent, not both"
                                                 : "required: add (servers) or add_percent (of current)");
      ok = false;
    }
    b.percent = r.Has(pct) && !r.Has(add);
    b.add = b.percent ? r.Number(pct, 0, -100, 10000) : r.Int(add, 0, -1000000, 1000000);
    if (ok) spec.bands.push_back(b);
  }
  if (!r.FinishInto(errors)) return nullptr;
  return std::make_unique<StepPolicy>(name, std::move(spec));
}

}  // namespace warmpool
