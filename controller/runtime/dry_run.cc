#include "controller/runtime/dry_run.h"

namespace warmpool {

ApplyResult DryRunProvider::Apply(const ScalePlan& plan) {
  constexpr size_t kKeep = 100;
  if (recorded_.size() >= kKeep) recorded_.erase(recorded_.begin());
  recorded_.push_back(plan);
  ApplyResult result;
  result.dry_run = true;
  auto record = [&](const char* kind, const std::vector<std::string>& names) {
    for (const std::string& n : names) result.actions.push_back({kind, n, Status::Ok()});
  };
  record("promote", plan.promote);
  record("resume", plan.resume);
  record("provision", plan.provision);
  record("drain", plan.drain);
  record("suspend", plan.suspend);
  record("retire", plan.retire);
  return result;
}

}  // namespace warmpool
