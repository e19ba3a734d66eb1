// The HTML report of a backtest comparison: inline SVG charts and plain tables, nothing to fetch and
// no script (tooltips are SVG <title>s).
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "controller/backtest/hpa_baseline.h"
#include "controller/backtest/report/report.h"
#include "controller/backtest/report/svg_chart.h"

namespace warmpool {
namespace {

constexpr int kWidth = 1180;  // plot columns of the wide charts
constexpr const char* kLoad = "#6baed6";
constexpr const char* kMine = "#1b7837";
constexpr const char* kWarm = "#a6dba0";
constexpr const char* kHpa = "#e66101";
constexpr const char* kOracle = "#5e3c99";
constexpr const char* kUnserved = "#d7191c";

std::string Fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

// Adds each tick's value over [t, next tick).
template <typename F>
void AddTicks(Columns* c, const std::vector<BacktestTick>& ticks, TimeMs end, F value) {
  for (size_t i = 0; i < ticks.size(); ++i) {
    c->AddStep(ticks[i].t, i + 1 < ticks.size() ? ticks[i + 1].t : end, value(ticks[i]));
  }
}

struct Series {
  Columns load, mine, warm, hpa, oracle;
  Series(TimeMs a, TimeMs b, int n)
      : load(a, b, n), mine(a, b, n), warm(a, b, n), hpa(a, b, n), oracle(a, b, n) {}
};

Series Build(const Comparison& c, TimeMs from, TimeMs to) {
  Series s(from, to, kWidth);
  const double cps = c.model.capacity_per_server;
  const TimeMs end = c.warmpool.summary.end;
  AddTicks(&s.load, c.warmpool.timeline, end, [](const BacktestTick& t) { return t.load; });
  AddTicks(&s.mine, c.warmpool.timeline, end, [](const BacktestTick& t) { return t.capacity; });
  AddTicks(&s.warm, c.warmpool.timeline, end,
           [cps](const BacktestTick& t) { return t.capacity + t.standby * cps; });
  AddTicks(&s.hpa, c.hpa_baseline.timeline, end, [](const BacktestTick& t) { return t.capacity; });
  const std::vector<OracleStep>& steps = c.oracle.steps;
  for (size_t i = 0; i < steps.size(); ++i) {
    s.oracle.AddStep(steps[i].t, i + 1 < steps.size() ? steps[i + 1].t : end, steps[i].serving * cps);
  }
  for (Columns* col : {&s.load, &s.mine, &s.warm, &s.hpa, &s.oracle}) col->Finish();
  return s;
}

// Per-column sums of a tick value (unserved requests), for the strips above the plot.
std::vector<double> ColumnSums(const std::vector<BacktestTick>& ticks, const TimeChart& chart) {
  std::vector<double> sums(static_cast<size_t>(chart.columns()), 0);
  for (const BacktestTick& t : ticks) {
    if (t.t < chart.t0() || t.t >= chart.t1() || t.unserved <= 0) continue;
    const double x = (chart.X(t.t) - chart.X(chart.t0()));
    sums[std::min(sums.size() - 1, static_cast<size_t>(std::max(0.0, x)))] += t.unserved;
  }
  return sums;
}

// The time-series chart of load and capacity over [from, to).
std::string CapacityChart(const Comparison& c, TimeMs from, TimeMs to, bool markers, TimeMs zoom_from,
                          TimeMs zoom_to) {
  Series s = Build(c, from, to);
  const double cps = c.model.capacity_per_server;
  const double top = std::max({s.load.Max(), s.mine.Max(), s.warm.Max(), s.hpa.Max(), s.oracle.Max()}) * 1.05;
  TimeChart chart(from, to, kWidth, 330, top, "requests/s");
  chart.Between(s.mine, s.warm, kWarm, 0.55);
  chart.Band(s.load, kLoad, 0.55, /*from_zero=*/true);
  chart.Line(s.oracle, false, kOracle, 1.1, "");
  chart.Line(s.hpa, false, kHpa, 1.5, "5 3");
  chart.Line(s.mine, false, kMine, 1.8);
  chart.TopStrip(0, ColumnSums(c.warmpool.timeline, chart), kUnserved, "warmpool");
  chart.TopStrip(1, ColumnSums(c.hpa_baseline.timeline, chart), kHpa, "HPA");
  if (!c.masked.empty()) {
    std::vector<double> masked(static_cast<size_t>(chart.columns()), 0);
    for (const TimeSpan& m : c.masked) {
      chart.Shade(m.start, m.end, "#777", 0.3,
                  "masked (collection gap, not scored): " + FormatTime(m.start) + " .. " + FormatTime(m.end));
      if (m.end <= from || m.start >= to) continue;
      const int a = s.load.ColumnOf(std::max(m.start, from)), b = s.load.ColumnOf(std::min(m.end, to) - 1);
      for (int i = a; i <= b; ++i) masked[static_cast<size_t>(i)] = 1;
    }
    chart.TopStrip(2, masked, "#777", "masked");
  }
  if (zoom_to > zoom_from) chart.Outline(zoom_from, zoom_to, "#444");
  if (markers) {
    for (const BacktestTick& t : c.warmpool.timeline) {
      if (t.t < from || t.t >= to || t.reason.empty()) continue;
      chart.Marker(t.t, t.direction == Direction::kUp, t.direction == Direction::kUp ? kMine : "#888",
                   FormatTime(t.t) + ": " + DirectionName(t.direction) + " to " + std::to_string(t.desired) +
                       " active. " + t.reason + ". Plan: " + t.plan);
    }
  }
  chart.Legend(kUnserved, "unserved (rows above)", false);
  chart.Legend(kLoad, "load", false);
  chart.Legend(kMine, "warmpool capacity", true);
  chart.Legend(kWarm, "+ standby", false);
  chart.Legend(kHpa, "HPA baseline", true, "5 3");
  chart.Legend(kOracle, "oracle", true);
  if (!c.masked.empty()) chart.Legend("#bbb", "masked", false);
  if (markers) chart.Legend(kMine, "\xe2\x96\xb2\xe2\x96\xbc decisions (hover for why)", false);
  return chart.Render(cps, "servers");
}

// The window of `len` with the most unserved requests of `ticks`; [0, 0) when there are none.
std::pair<TimeMs, TimeMs> WorstWindow(const std::vector<BacktestTick>& ticks, DurationMs len) {
  double sum = 0, best = 0;
  std::pair<TimeMs, TimeMs> out{0, 0};
  for (size_t i = 0, j = 0; j < ticks.size(); ++j) {
    sum += ticks[j].unserved;
    while (ticks[j].t - ticks[i].t >= len) sum -= ticks[i++].unserved;
    if (sum > best * (1 + 1e-9) && sum > 1e-6) {
      best = sum;
      out = {ticks[i].t, ticks[i].t + len};
    }
  }
  return out;
}

std::string CumulativeChart(const Comparison& c, bool hours) {
  const TimeMs a = c.warmpool.summary.start, b = c.warmpool.summary.end;
  Columns mine(a, b, 500), hpa(a, b, 500), oracle(a, b, 500);
  for (auto [col, run] : {std::pair{&mine, &c.warmpool}, std::pair{&hpa, &c.hpa_baseline}}) {
    double sum = 0;
    AddTicks(col, run->timeline, b,
             [&](const BacktestTick& t) { return sum += hours ? t.server_hours : t.unserved; });
  }
  double sum = 0;
  const std::vector<OracleStep>& steps = c.oracle.steps;
  for (size_t i = 0; i < steps.size(); ++i) {
    const TimeMs next = i + 1 < steps.size() ? steps[i + 1].t : b;
    if (hours) sum += steps[i].existing * static_cast<double>(next - steps[i].t) / kHour;
    oracle.AddStep(steps[i].t, next, hours ? sum : 0);
  }
  for (Columns* col : {&mine, &hpa, &oracle}) col->Finish();
  TimeChart chart(a, b, 500, 200, std::max({mine.Max(), hpa.Max(), oracle.Max(), 1.0}) * 1.08,
                  hours ? "server-hours (cumulative)" : "unserved requests (cumulative)");
  chart.Line(oracle, false, kOracle, 1.4);
  chart.Line(hpa, false, kHpa, 1.6, "5 3");
  chart.Line(mine, false, kMine, 2);
  chart.Legend(kMine, "warmpool", true);
  chart.Legend(kHpa, "HPA baseline", true, "5 3");
  chart.Legend(kOracle, hours || c.oracle.summary.unserved_requests == 0 ? "oracle" : "oracle (not drawn)",
               true);
  return chart.Render();
}

std::string SummaryTable(const Comparison& c) {
  const std::vector<const BacktestSummary*> runs = RunSummaries(c);
  const std::string hpa = "HPA baseline (" + HpaLabel(c.hpa_target) + ")";
  const char* labels[] = {"warmpool (your policies)", hpa.c_str(), "oracle (lower bound)"};
  const char* colors[] = {kMine, kHpa, kOracle};
  const double oracle_cost = c.oracle.summary.cost;
  std::string out =
      "<table class=\"sum\"><tr><th>run</th><th>unserved requests</th><th>unserved</th><th>overloaded</th>"
      "<th>active h</th><th>standby h</th><th>stopped h</th><th>total server-hours</th><th>cost</th>"
      "<th>vs oracle (cost)</th><th>scale events</th>"
      "<th>direction changes</th><th>peak active</th></tr>\n";
  for (size_t i = 0; i < runs.size(); ++i) {
    const BacktestSummary& s = *runs[i];
    out += std::string("<tr><td><span class=\"sw\" style=\"background:") + colors[i] + "\"></span>" +
           labels[i] + "</td><td>" + Fmt("%.0f", s.unserved_requests) + "</td><td>" +
           Fmt("%.4f%%", s.unserved_percent()) + "</td><td>" + Fmt("%.0f s", s.overloaded_seconds) +
           "</td><td>" + Fmt("%.1f", s.active_server_hours) + "</td><td>" +
           Fmt("%.1f", s.standby_server_hours) + "</td><td>" + Fmt("%.1f", s.stopped_server_hours) +
           "</td><td>" + Fmt("%.1f", s.total_server_hours()) + "</td><td><b>" + Fmt("%.1f", s.cost) +
           "</b></td><td>" + (oracle_cost > 0 ? Fmt("%.2fx", s.cost / oracle_cost) : "-") + "</td><td>" +
           std::to_string(s.scale_events) + "</td><td>" + std::to_string(s.direction_changes) + "</td><td>" +
           std::to_string(s.peak_active) + "</td></tr>\n";
  }
  return out + "</table>\n";
}

// HPA's curve (cost against unserved requests, one point per target), warmpool's point, the
// oracle's, and the sweep's front when there is one; then the two readings and the curve's table.
std::string CurveSection(const Comparison& c, const SweepResult* sw) {
  std::vector<ScatterPoint> pts;
  std::vector<size_t> front;
  if (sw != nullptr) {
    for (size_t i : sw->front) {
      const SweepPoint& p = sw->points[i];
      std::string settings;
      for (const auto& [k, v] : p.settings) settings += (settings.empty() ? "" : ", ") + k + "=" + v;
      front.push_back(pts.size());
      pts.push_back({p.summary.cost, p.summary.unserved_requests, kWarm,
                     "sweep front: " + settings + Fmt(": %.0f unserved, ", p.summary.unserved_requests) +
                         Fmt("cost %.1f", p.summary.cost),
                     "", false});
    }
  }
  ScatterLine curve{{}, kHpa, ""};
  for (size_t i = 0; i < c.hpa_curve.size(); ++i) {
    const BacktestSummary& s = c.hpa_curve[i].summary;
    const std::string label = HpaLabel(c.hpa_curve[i].target);
    curve.points.push_back(pts.size());
    pts.push_back({s.cost, s.unserved_requests, kHpa,
                   label + Fmt(": %.0f unserved, ", s.unserved_requests) +
                       Fmt("cost %.1f", s.cost),
                   label, i == c.hpa_marked});
  }
  const BacktestSummary& w = c.warmpool.summary;
  const BacktestSummary& o = c.oracle.summary;
  pts.push_back({w.cost, w.unserved_requests, kMine,
                 "warmpool" + Fmt(": %.0f unserved, ", w.unserved_requests) +
                     Fmt("cost %.1f", w.cost),
                 "warmpool", true});
  pts.push_back({o.cost, o.unserved_requests, kOracle,
                 "oracle" + Fmt(": %.0f unserved, ", o.unserved_requests) +
                     Fmt("cost %.1f", o.cost),
                 "oracle", true});
  std::string out =
      "<h2>Against HPA's curve</h2>\n<p class=\"note\">The HPA baseline run at each target (orange, a "
      "fraction of a server's capacity): lower targets spend more and leave fewer requests unserved "
      "(cost: active-server-hour equivalents; the server-hours without a stopped tier). A policy is better than HPA where it lies below and left of the curve." +
      std::string(sw != nullptr ? " Light green: the sweep's Pareto front." : "") + "</p>\n";
  out += ScatterSvg(pts, front, "cost (active-server-hour equivalents)", "unserved requests (log scale)", 760, 320, {curve});
  std::string readings = VersusCurveText("warmpool", w, CompareWithCurve(w, c.hpa_curve));
  out += "<p>";
  for (size_t at = 0, nl; (nl = readings.find('\n', at)) != std::string::npos; at = nl + 1) {
    std::string line = readings.substr(at, nl - at);
    line.erase(0, line.find_first_not_of(' '));
    const size_t colon = line.find(": ");
    out += "<b>" + HtmlEscape(line.substr(0, colon)) + "</b>" + HtmlEscape(line.substr(colon)) + "<br>\n";
  }
  out +=
      "</p>\n<table class=\"sum\"><tr><th>target</th><th>unserved requests</th><th>unserved</th>"
      "<th>total server-hours</th><th>cost</th><th>warmpool's unserved / this</th>"
      "<th>warmpool's hours / this</th><th>warmpool's cost / this</th></tr>\n";
  for (size_t i = 0; i < c.hpa_curve.size(); ++i) {
    const BacktestSummary& s = c.hpa_curve[i].summary;
    out += std::string(i == c.hpa_marked ? "<tr class=\"front\">" : "<tr>") + "<td>" +
           HtmlEscape(HpaLabel(c.hpa_curve[i].target)) + (i == c.hpa_marked ? " (the baseline above)" : "") +
           "</td><td>" + Fmt("%.0f", s.unserved_requests) + "</td><td>" +
           Fmt("%.4f%%", s.unserved_percent()) + "</td><td>" + Fmt("%.1f", s.total_server_hours()) +
           "</td><td>" + Fmt("%.1f", s.cost) + "</td><td>" +
           RatioText(w.unserved_requests, s.unserved_requests) + "</td><td>" +
           RatioText(w.total_server_hours(), s.total_server_hours()) + "</td><td>" +
           RatioText(w.cost, s.cost) + "</td></tr>\n";
  }
  return out + "</table>\n";
}

std::string SweepSection(const Comparison& c, const SweepResult& sw) {
  std::vector<ScatterPoint> pts;
  for (const SweepPoint& p : sw.points) {
    std::string settings;
    for (const auto& [k, v] : p.settings) settings += (settings.empty() ? "" : ", ") + k + "=" + v;
    pts.push_back({p.summary.cost, p.summary.unserved_requests, p.pareto ? kMine : "#9ecae1",
                   settings + ": " + Fmt("%.0f unserved, ", p.summary.unserved_requests) +
                       Fmt("cost %.1f", p.summary.cost),
                   "", false});
  }
  const std::vector<size_t> front = sw.front;
  const BacktestSummary* refs[] = {&c.warmpool.summary, &c.hpa_baseline.summary, &c.oracle.summary};
  const char* names[] = {"configured", "HPA baseline", "oracle"};
  const char* colors[] = {"#fff", kHpa, kOracle};
  for (int i = 0; i < 3; ++i) {
    pts.push_back({refs[i]->cost, refs[i]->unserved_requests, colors[i],
                   std::string(names[i]) + Fmt(": %.0f unserved, ", refs[i]->unserved_requests) +
                       Fmt("cost %.1f", refs[i]->cost),
                   names[i], true});
  }
  std::string out = "<h2>Sweep: " + std::to_string(sw.points.size()) +
                    " points</h2>\n<p>Each point is a full " + "backtest with the settings changed (" +
                    std::to_string(sw.threads) + " threads, " + Fmt("%.1f s", sw.seconds) +
                    "). Green points are on the Pareto front: no other point has both " +
                    "fewer unserved requests and a lower cost (active-server-hour equivalents).</p>\n";
  out += ScatterSvg(pts, front, "cost (active-server-hour equivalents)", "unserved requests (log scale)", 760, 320);
  out += "<table class=\"sum\"><tr>";
  for (const SweepAxis& a : sw.axes) out += "<th>" + HtmlEscape(a.key) + "</th>";
  out +=
      "<th>unserved requests</th><th>unserved</th><th>total server-hours</th><th>cost</th><th>scale "
      "events</th><th>Pareto</th></tr>\n";
  for (const SweepPoint& p : sw.points) {
    out += p.pareto ? "<tr class=\"front\">" : "<tr>";
    for (const auto& kv : p.settings) out += "<td>" + HtmlEscape(kv.second) + "</td>";
    out += "<td>" + Fmt("%.0f", p.summary.unserved_requests) + "</td><td>" +
           Fmt("%.4f%%", p.summary.unserved_percent()) + "</td><td>" +
           Fmt("%.1f", p.summary.total_server_hours()) + "</td><td>" + Fmt("%.1f", p.summary.cost) +
           "</td><td>" + std::to_string(p.summary.scale_events) + "</td><td>" +
           (p.pareto ? "\xe2\x98\x85" : "") + "</td></tr>\n";
  }
  return out + "</table>\n";
}

constexpr const char* kStyle = R"(<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#222;margin:24px 32px;background:#fafafa}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:26px 0 6px}p{margin:4px 0;max-width:1250px}
.facts{color:#555}.chart{display:block;background:#fff;border:1px solid #ddd;border-radius:4px;margin:6px 0}
.chart text{font-size:11.5px;fill:#333}.chart .yl{text-anchor:end}.chart .yr{text-anchor:start}
.chart .xl{text-anchor:middle;fill:#555}.chart .axis{font-size:12px;text-anchor:middle;fill:#555}
.chart .strip{font-size:10px;fill:#666;text-anchor:end}.chart .pl{font-size:12px;font-weight:600}
table.sum{border-collapse:collapse;background:#fff;margin:8px 0}table.sum th,table.sum td{border:1px solid #ddd;padding:4px 10px;text-align:right}
table.sum th{background:#f0f0f0;font-weight:600}table.sum td:first-child{white-space:nowrap}table.sum td:first-child,table.sum th:first-child{text-align:left}
tr.front td{background:#eef7ee}.sw{display:inline-block;width:11px;height:11px;margin-right:6px;border-radius:2px;vertical-align:-1px}
.row{display:flex;gap:12px;flex-wrap:wrap}.note{color:#555;font-size:13px}
</style>)";

}  // namespace

std::string ComparisonToHtml(const Comparison& c, const SweepResult* sweep) {
  const BacktestSummary& w = c.warmpool.summary;
  const DurationMs span = w.end - w.start;
  const DurationMs step = span / std::max<long>(1, static_cast<long>(c.warmpool.timeline.size()));
  const DurationMs zoom_len = std::max<DurationMs>(6 * kHour, (span / 40 + kHour - 1) / kHour * kHour);
  std::pair<TimeMs, TimeMs> zoom = WorstWindow(c.warmpool.timeline, zoom_len);
  std::string zoom_why = "the " + FormatDuration(zoom_len) + " with the most unserved requests (warmpool)";
  if (zoom.second <= zoom.first) {
    zoom = WorstWindow(c.hpa_baseline.timeline, zoom_len);
    zoom_why = "the " + FormatDuration(zoom_len) + " with the most unserved requests of the HPA baseline " +
               "(warmpool served everything)";
  }
  if (zoom.second <= zoom.first) {
    zoom = {w.start, w.start + zoom_len};
    zoom_why = "the first " + FormatDuration(zoom_len) + " (no run left anything unserved)";
  }
  zoom.first = std::max(w.start, (zoom.first - zoom_len / 8) / kMinute * kMinute);
  zoom.second = std::min(w.end, zoom.first + zoom_len);
  const bool zoomed = span > 2 * zoom_len;
  (void)step;

  std::string out = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>Backtest: " +
                    HtmlEscape(w.pool) + " over " + HtmlEscape(w.trace) + "</title>\n" + kStyle +
                    "</head><body>\n";
  out += "<h1>Backtest of pool " + HtmlEscape(w.pool) + "</h1>\n<p class=\"facts\">" + HtmlEscape(w.trace) +
         ", " + FormatTime(w.start) + " .. " + FormatTime(w.end) + " (" + std::to_string(w.ticks) +
         " ticks). Servers serve " + Fmt("%g", c.model.capacity_per_server) +
         " requests/s each; a new server takes " + FormatDuration(c.model.provisioning_delay) +
         " to provision, a standby " + FormatDuration(c.model.promotion_delay) +
         " to start serving, a drain " + FormatDuration(c.model.drain_delay) + ", a stopped standby " +
         FormatDuration(c.model.resume_delay) + " to resume. An hour costs " +
         Fmt("%g", c.model.cost.active) + " active, " + Fmt("%g", c.model.cost.standby) +
         " standby (or provisioning), " + Fmt("%g", c.model.cost.stopped) +
         " stopped (cost: active-server-hour equivalents)." +
         (c.masked.empty() ? ""
                           : " " + std::to_string(c.masked.size()) +
                                 (c.masked.size() == 1 ? " collection gap (" : " collection gaps (") +
                                 Fmt("%.0f min", w.masked_seconds / 60) + ") masked: not scored.") +
         "</p>\n";
  for (const std::string& warning : c.warnings) {
    out += "<p style=\"color:" + std::string(kUnserved) + ";font-weight:600\">" + HtmlEscape(warning) + "</p>\n";
  }
  out += SummaryTable(c);
  if (!c.hpa_curve.empty()) out += CurveSection(c, sweep);
  out +=
      "<h2>Load and capacity over the whole trace</h2>\n<p class=\"note\">A long trace has many ticks per "
      "pixel: each pixel column shows the highest load and the highest capacity within it. The rows above "
      "the "
      "plot mark every column where requests went unserved, darker for more.</p>\n";
  out += CapacityChart(c, w.start, w.end, false, zoomed ? zoom.first : 0, zoomed ? zoom.second : 0);
  if (zoomed) {
    out += "<h2>Zoom: " + FormatTime(zoom.first) + " .. " + FormatTime(zoom.second) +
           "</h2>\n<p class=\"note\">" + HtmlEscape(zoom_why) +
           "; the box in the chart above. Triangles mark warmpool's scale decisions; hover one " +
           "for its reason and plan.</p>\n";
    out += CapacityChart(c, zoom.first, zoom.second, true, 0, 0);
  }
  out += "<h2>Where the cost and the shortfalls accrue</h2>\n<div class=\"row\">" +
         CumulativeChart(c, false) + CumulativeChart(c, true) + "</div>\n";
  if (sweep != nullptr) out += SweepSection(c, *sweep);
  out +=
      "<h2>How to read this</h2>\n<p class=\"note\"><b>warmpool</b> replays the trace through the pool's "
      "configured policies with the same decide and plan code as live. <b>HPA baseline</b>: what a "
      "Kubernetes "
      "HorizontalPodAutoscaler with its defaults would do: target tracking at " +
      Fmt("%.4g%%", 100 * c.hpa_target) +
      " of a server's capacity, a 15 s sync period, the default scale-up and scale-down behavior (300 s "
      "scale-down stabilization), and no warm pool: every new server pays the provisioning delay. "
      "<b>oracle</b>: the fewest server-hours that serve all load knowing the future: at every instant "
      "ceil(load / capacity) servers serve (within min_active..max_active), each started provisioning + "
      "promotion delay before it is needed, and kept idle through a gap shorter than that lead plus its "
      "drain "
      "(cheaper than stopping it). No controller can do better; the ratio to it is the price of not "
      "knowing the future.</p>\n</body></html>\n";
  return out;
}

}  // namespace warmpool
