// JSON rendering of a backtest, kept apart so only this file pays for nlohmann/json.
#include <nlohmann/json.hpp>

#include "backtest.h"

namespace warmpool {

std::string BacktestToJson(const BacktestResult& r) {
  const BacktestSummary& s = r.summary;
  nlohmann::ordered_json j;
  j["summary"] = {
      {"pool", s.pool},
      {"trace", s.trace},
      {"start", FormatTime(s.start)},
      {"end", FormatTime(s.end)},
      {"ticks", s.ticks},
      {"total_requests", s.total_requests},
      {"unserved_requests", s.unserved_requests},
      {"overloaded_seconds", s.overloaded_seconds},
      {"active_server_hours", s.active_server_hours},
      {"standby_server_hours", s.standby_server_hours},
      {"scale_events", s.scale_events},
      {"direction_changes", s.direction_changes},
      {"peak_active", s.peak_active},
  };
  nlohmann::ordered_json timeline = nlohmann::ordered_json::array();
  for (const BacktestTick& t : r.timeline) {
    nlohmann::ordered_json row = {
        {"t", t.t / 1000},        {"load", t.load},       {"capacity", t.capacity},
        {"active", t.active},     {"standby", t.standby}, {"provisioning", t.provisioning},
        {"draining", t.draining}, {"desired", t.desired}, {"direction", t.direction},
    };
    if (!t.reason.empty()) row["reason"] = t.reason;
    if (!t.plan.empty()) row["plan"] = t.plan;
    timeline.push_back(std::move(row));
  }
  j["timeline"] = std::move(timeline);
  return j.dump(1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace warmpool
