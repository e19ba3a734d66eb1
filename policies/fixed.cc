#include "policies/fixed.h"

#include "warmpool/params.h"

namespace warmpool {
namespace {

class FixedPolicy final : public Policy {
 public:
  FixedPolicy(std::string name, int count) : name_(std::move(name)), count_(count) {}
  const std::string& Name() const override { return name_; }
  PolicyInputs Inputs() const override { return {{}, /*history=*/false}; }  // the windows only
  Recommendation Recommend(const PolicyInput& in) const override {
    Recommendation rec;
    rec.policy = name_;
    rec.valid = true;
    rec.desired = count_;
    rec.reason = "fixed at " + std::to_string(count_) + " (" + std::to_string(in.current) + " active)";
    return rec;
  }

 private:
  std::string name_;
  int count_;
};

}  // namespace

std::unique_ptr<Policy> NewFixedPolicy(const std::string& name, const Params& params,
                                       std::vector<std::string>* errors) {
  ParamReader r(params);
  if (!r.Has("count")) r.Error("count", "required (the number of active servers to keep)");
  const int count = r.Int("count", 0, 0, 1000000);
  if (!r.FinishInto(errors)) return nullptr;
  return std::make_unique<FixedPolicy>(name, count);
}

}  // namespace warmpool
