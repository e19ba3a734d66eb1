#include "warmpool/policy.h"

#include "warmpool/text.h"

namespace warmpool {

const MetricWindow* PolicyInput::Window(const std::string& metric) const {
  if (windows->size() == 1) {  // most pools have one metric: one comparison instead of a search
    const auto& only = *windows->begin();
    return SameName(only.first, metric) ? &only.second : nullptr;
  }
  auto it = windows->find(metric);
  return it == windows->end() ? nullptr : &it->second;
}

}  // namespace warmpool
