// JSON rendering of a backtest, kept apart so only this file pays for nlohmann/json.
#include <nlohmann/json.hpp>

#include "controller/backtest/backtest.h"
#include "controller/backtest/hpa_baseline.h"
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
      {"stopped_server_hours", s.stopped_server_hours},
      {"total_server_hours", s.total_server_hours()},
      {"cost", s.cost},
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
        {"t", t.t / 1000},        {"load", t.load},
        {"capacity", t.capacity}, {"active", t.active},
        {"standby", t.standby},   {"provisioning", t.provisioning},
        {"draining", t.draining}, {"stopped", t.stopped},
        {"desired", t.desired},   {"direction", DirectionName(t.direction)},
    };
    if (!t.reason.empty()) row["reason"] = t.reason;
    if (!t.plan.empty()) row["plan"] = t.plan;
    timeline.push_back(std::move(row));
  }
  return timeline;
}

const char* SideName(CurveSide side) {
  switch (side) {
    case CurveSide::kInside:
      return "inside";
    case CurveSide::kBelowRange:
      return "below";
    case CurveSide::kAboveRange:
      return "above";
    case CurveSide::kNoCurve:
      break;
  }
  return "none";
}

// One reading: the run's value, the curve's (null outside its range), their ratio (null when the
// curve's is 0 or outside), the range the curve covers, and where the run lies against it.
Json ReadingJson(double mine, const CurveReading& r) {
  Json j = {{"side", SideName(r.side)}, {"range", {r.lo, r.hi}}};
  j["hpa"] = r.inside() ? Json(r.value) : Json(nullptr);
  j["hpa_nearest_end"] = r.value;
  j["ratio"] = r.inside() && r.value > 0 ? Json(mine / r.value) : Json(nullptr);
  return j;
}

Json VersusJson(const BacktestSummary& s, const std::vector<HpaCurvePoint>& curve) {
  const VersusCurve v = CompareWithCurve(s, curve);
  // Read on cost (the server-hours without a stopped tier); the keys keep their names.
  Json a = ReadingJson(s.unserved_requests, v.unserved_at_hours);
  a["server_hours"] = s.total_server_hours();
  a["cost"] = s.cost;
  a["unserved_requests"] = s.unserved_requests;
  Json b = ReadingJson(s.cost, v.hours_at_unserved);
  b["unserved_requests"] = s.unserved_requests;
  b["server_hours"] = s.total_server_hours();
  b["cost"] = s.cost;
  return {{"unserved_at_equal_hours", std::move(a)}, {"hours_at_equal_unserved", std::move(b)}};
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
  j["warnings"] = c.warnings;
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
      {"resume_delay_seconds", static_cast<double>(c.model.resume_delay) / 1000},
      {"cost",
       {{"active", c.model.cost.active},
        {"standby", c.model.cost.standby},
        {"stopped", c.model.cost.stopped}}},
      {"initial_active", c.model.initial_active},
      {"initial_standby", c.model.initial_standby},
  };
  j["peak"] = {{"rate", c.peak.peak},
               {"servers_needed", c.peak.needed},
               {"max_active", c.peak.max_active},
               {"served_at_max_active", !c.peak.short_of_peak()}};
  j["hpa_target"] = c.hpa_target;
  if (!c.hpa_curve.empty()) {
    Json curve = Json::array();
    for (size_t i = 0; i < c.hpa_curve.size(); ++i) {
      curve.push_back({{"target", c.hpa_curve[i].target},
                       {"label", HpaLabel(c.hpa_curve[i].target)},
                       {"hpa_baseline", i == c.hpa_marked},
                       {"summary", SummaryJson(c.hpa_curve[i].summary)}});
    }
    j["hpa_curve"] = std::move(curve);
    j["vs_hpa_curve"] = VersusJson(c.warmpool.summary, c.hpa_curve);
  }
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
      Json point = {{"settings", std::move(settings)}, {"pareto", p.pareto}, {"summary", std::move(s)}};
      if (!c.hpa_curve.empty()) point["vs_hpa_curve"] = VersusJson(p.summary, c.hpa_curve);
      points.push_back(std::move(point));
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
