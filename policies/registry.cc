// The one explicit table of policy types. Add a policy here; no static-initialization magic.
#include <algorithm>

#include "fixed.h"
#include "predictive.h"
#include "schedule.h"
#include "step.h"
#include "target_tracking.h"
#include "warmpool/policy.h"
#include "warmpool/text.h"

namespace warmpool {
namespace {

using Factory = std::unique_ptr<Policy> (*)(const std::string&, const Params&, std::vector<std::string>*);
struct Entry {
  const char* type;
  Factory factory;
};
constexpr Entry kPolicies[] = {
    {"target_tracking", &NewTargetTrackingPolicy},
    {"step", &NewStepPolicy},
    {"schedule", &NewSchedulePolicy},
    {"predictive", &NewPredictivePolicy},
    {"fixed", &NewFixedPolicy},
};

}  // namespace

const MetricWindow* PolicyInput::Window(const std::string& metric) const {
  if (windows->size() == 1) {  // most pools have one metric: one comparison instead of a search
    const auto& only = *windows->begin();
    return SameName(only.first, metric) ? &only.second : nullptr;
  }
  auto it = windows->find(metric);
  return it == windows->end() ? nullptr : &it->second;
}

std::unique_ptr<Policy> CreatePolicy(const std::string& type, const std::string& name, const Params& params,
                                     std::vector<std::string>* errors) {
  for (const Entry& e : kPolicies) {
    if (type == e.type) return e.factory(name, params, errors);
  }
  std::string known;
  for (const std::string& t : PolicyTypes()) known += (known.empty() ? "" : ", ") + t;
  errors->push_back((params.path.empty() ? std::string("type") : params.path + ".type") +
                    ": unknown policy type \"" + type + "\" (known: " + known + ")");
  return nullptr;
}

std::vector<std::string> PolicyTypes() {
  std::vector<std::string> out;
  for (const Entry& e : kPolicies) out.emplace_back(e.type);
  return out;
}

}  // namespace warmpool
