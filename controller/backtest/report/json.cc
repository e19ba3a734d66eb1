// JSON rendering of a backtest, kept apart so only this file pays for nlohmann/json.
#include <nlohmann/json.hpp>

#include "controller/backtest/backtest.h"
#include "controller/backtest/report/report.h"

namespace warmpool {
namespace {

using Json = nlohmann::ordered_json;

Json SummaryJson(const BacktestSummary& s) {
  return {
      {"pool", s.pool},
      {"trace", s.trace},
      {"start", FormatTime(s.start)},
      {"end", FormatTime(s.end)},
      {"ticks", s.ticks},
      {"total_requests", s.total_requests},
      {"unserved_requests", s.unserved_requests},
      {"unserved_percent", s.unserved_percent()},
      {"overloaded_seconds", s.overloaded_seconds},
      {"active_server_hours", s.active_server_hours},
      {"standby_server_hours", s.standby_server_hours},
      {"total_server_hours", s.total_server_hours()},
      {"scale_events", s.scale_events},
      {"direction_changes", s.direction_changes},
      {"peak_active", s.peak_active},
      {"masked_seconds", s.masked_seconds},
  };
}

Json TimelineJson(const std::vector<BacktestTick>& ticks) {
  Json timeline = Json::array();
  for (const BacktestTick& t : ticks) {
    Json row = {
        {"t", t.t / 1000},        {"load", t.load},       {"capacity", t.capacity},
        {"active", t.active},     {"standby", t.standby}, {"provisioning", t.provisioning},
        {"draining", t.draining}, {"desired", t.desired}, {"direction", DirectionName(t.direction)},
    };
    if (!t.reason.empty()) row["reason"] = t.reason;
    if (!t.plan.empty()) row["plan"] = t.plan;
    timeline.push_back(std::move(row));
  }
  return timeline;
}

std::string Dump(const Json& j) {
  return j.dump(1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace

std::string BacktestToJson(const BacktestResult& r) {
  Json j;
  j["summary"] = SummaryJson(r.summary);
  j["timeline"] = TimelineJson(r.timeline);
  return Dump(j);
}

std::string ComparisonToJson(const Comparison& c, const SweepResult* sweep) {
  Json j;
  j["summary"] = SummaryJson(c.warmpool.summary);
  Json runs;
  const std::vector<const BacktestSummary*> summaries = RunSummaries(c);
  for (size_t i = 0; i < summaries.size(); ++i) runs[kRunNames[i]] = SummaryJson(*summaries[i]);
  j["runs"] = std::move(runs);
  j["capacity_model"] = {
      {"capacity_per_server", c.model.capacity_per_server},
      {"promotion_delay_seconds", static_cast<double>(c.model.promotion_delay) / 1000},
      {"provisioning_delay_seconds", static_cast<double>(c.model.provisioning_delay) / 1000},
      {"drain_delay_seconds", static_cast<double>(c.model.drain_delay) / 1000},
      {"initial_active", c.model.initial_active},
      {"initial_standby", c.model.initial_standby},
  };
  Json masked = Json::array();
  for (const TimeSpan& s : c.masked) masked.push_back({{"start", s.start / 1000}, {"end", s.end / 1000}});
  j["masked"] = std::move(masked);
  j["timeline"] = TimelineJson(c.warmpool.timeline);
  if (sweep != nullptr) {
    Json axes = Json::object();
    for (const SweepAxis& a : sweep->axes) axes[a.key] = a.values;
    Json points = Json::array();
    for (const SweepPoint& p : sweep->points) {
      Json settings = Json::object();
      for (const auto& [k, v] : p.settings) settings[k] = v;
      Json s = SummaryJson(p.summary);
      points.push_back({{"settings", std::move(settings)}, {"pareto", p.pareto}, {"summary", std::move(s)}});
    }
    j["sweep"] = {{"axes", std::move(axes)},
                  {"threads", sweep->threads},
                  {"seconds", sweep->seconds},
                  {"points", std::move(points)},
                  {"pareto", sweep->front}};
  }
  return Dump(j);
}

}  // namespace warmpool
