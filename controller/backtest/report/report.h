// Reports of a backtest comparison (and an optional sweep): JSON for machines, HTML for people.
#ifndef WARMPOOL_CONTROLLER_BACKTEST_REPORT_REPORT_H_
#define WARMPOOL_CONTROLLER_BACKTEST_REPORT_REPORT_H_

#include <string>

#include "controller/backtest/compare.h"
#include "controller/backtest/sweep.h"

namespace warmpool {

// {"warnings": [...] (the trace's peak beyond max_active), "summary": the configured run (as
//  BacktestToJson, kept for compatibility), "runs": {"warmpool": {...}, "hpa_baseline": {...}, "oracle": {...}},
//  "capacity_model": {...}, "peak": {rate, servers_needed, max_active, served_at_max_active},
//  "hpa_target": hpa_baseline's target, with several targets "hpa_curve": [{target, label,
//  hpa_baseline, summary}] and "vs_hpa_curve": {"unserved_at_equal_hours", "hours_at_equal_unserved"},
//  "masked": [{"start", "end"} unix seconds],
//  "timeline": [...] the configured run's ticks (when kept), "sweep": {...} (when given)}
std::string ComparisonToJson(const Comparison& c, const SweepResult* sweep);

// A self-contained HTML page (inline SVG and CSS, no script, nothing fetched): load, capacity and
// standby over time with the scale decisions, the baseline's and the oracle's capacity, a zoom on
// the busiest day, cumulative unserved requests and server-hours, and the summary tables.
// REQUIRES: the comparison was run with timelines.
std::string ComparisonToHtml(const Comparison& c, const SweepResult* sweep);

}  // namespace warmpool

#endif  // WARMPOOL_CONTROLLER_BACKTEST_REPORT_REPORT_H_
