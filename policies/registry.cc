// The one explicit table of policy types. Add a policy here; no static-initialization magic.
#include "warmpool/registry.h"

#include <algorithm>

#include "policies/fixed.h"
#include "policies/predictive.h"
#include "policies/registry.h"
#include "policies/schedule.h"
#include "policies/step.h"
#include "policies/target_tracking.h"
#include "warmpool/text.h"

namespace warmpool {
namespace {

using Factory = std::unique_ptr<Policy> (*)(const std::string&, const Params&, std::vector<std::string>*);
using Entry = PluginEntry<Factory>;
constexpr Entry kPolicies[] = {
    {"target_tracking", &NewTargetTrackingPolicy},
    {"step", &NewStepPolicy},
    {"schedule", &NewSchedulePolicy},
    {"predictive", &NewPredictivePolicy},
    {"fixed", &NewFixedPolicy},
};

}  // namespace

std::unique_ptr<Policy> CreatePolicy(const std::string& type, const std::string& name, const Params& params,
                                     std::vector<std::string>* errors) {
  const Entry* e = FindPlugin(kPolicies, type, "policy", params, errors);
  return e ? e->factory(name, params, errors) : nullptr;
}

std::vector<std::string> PolicyTypes() { return PluginTypes(kPolicies); }

}  // namespace warmpool
