// Small SVG charts for the backtest's HTML report: time series downsampled to one min/max pair per
// pixel column, so a month of 15-second ticks draws as fast and as sharp as an hour.
#ifndef WARMPOOL_CONTROLLER_BACKTEST_REPORT_SVG_CHART_H_
#define WARMPOOL_CONTROLLER_BACKTEST_REPORT_SVG_CHART_H_

#include <string>
#include <vector>

#include "warmpool/time.h"

namespace warmpool {

// One value range per pixel column over [t0, t1). Columns nothing touched take the previous
// column's last value (a step function holds).
class Columns {
 public:
  Columns(TimeMs t0, TimeMs t1, int n);
  // The series is `v` over [from, to).
  void AddStep(TimeMs from, TimeMs to, double v);
  // Call once after the last Add.
  void Finish();
  int size() const { return static_cast<int>(min_.size()); }
  double min(int i) const { return min_[static_cast<size_t>(i)]; }
  double max(int i) const { return max_[static_cast<size_t>(i)]; }
  double Max() const;  // over all columns
  int ColumnOf(TimeMs t) const;

 private:
  TimeMs t0_, t1_;
  std::vector<double> min_, max_, last_;
  std::vector<bool> seen_;
};

// An x-y chart: time on x, a linear scale from 0 on y.
class TimeChart {
 public:
  // The plot area is `width` x `height` pixels inside margins for the axes.
  TimeChart(TimeMs t0, TimeMs t1, int width, int height, double y_max, std::string y_label);
  int columns() const { return width_; }
  TimeMs t0() const { return t0_; }
  TimeMs t1() const { return t1_; }
  double X(TimeMs t) const;
  double Y(double v) const;

  // Filled between per-column min and max (or 0 and max when `from_zero`).
  void Band(const Columns& c, const std::string& fill, double opacity, bool from_zero);
  // Filled between two series' columns: lower's max and upper's max (e.g. capacity and capacity + standby).
  void Between(const Columns& lower, const Columns& upper, const std::string& fill, double opacity);
  // A line through each column's min (`use_min`) or max.
  void Line(const Columns& c, bool use_min, const std::string& stroke, double width,
            const std::string& dash = "");
  // A shaded span of time over the whole plot, with a tooltip.
  void Shade(TimeMs from, TimeMs to, const std::string& fill, double opacity, const std::string& title);
  // A rectangle outline over a span of time (the zoomed window).
  void Outline(TimeMs from, TimeMs to, const std::string& stroke);
  // A row of marks above the plot (row 0, 1 or 2), one per column with a positive value, darker for
  // more; `label` in the left margin.
  void TopStrip(int row, const std::vector<double>& per_column, const std::string& color,
                const std::string& label);
  // A small triangle at time t on the bottom strip (up or down), with a tooltip.
  void Marker(TimeMs t, bool up, const std::string& fill, const std::string& title);
  // Legend entries, drawn above the plot: a swatch and a label each.
  void Legend(const std::string& color, const std::string& label, bool line, const std::string& dash = "");
  // Raw SVG in plot coordinates.
  void Raw(const std::string& svg) { body_ += svg; }

  // The whole <svg> element. `secondary` > 0 adds a right axis of y / secondary (e.g. servers).
  std::string Render(double secondary = 0, const std::string& secondary_label = "") const;

 private:
  TimeMs t0_, t1_;
  int width_, height_;
  double y_max_;
  std::string y_label_;
  std::string body_;
  std::string legend_;
  int legend_x_ = 0;
};

// A scatter chart of (x, y) points: server-hours vs unserved requests for a sweep.
struct ScatterPoint {
  double x = 0, y = 0;
  std::string color, title, label;
  bool emphasize = false;
};
// More lines through some of the points (HPA's curve), drawn under them.
struct ScatterLine {
  std::vector<size_t> points;  // in drawing order
  std::string color, dash;
};
std::string ScatterSvg(const std::vector<ScatterPoint>& points, const std::vector<size_t>& front_line,
                       const std::string& x_label, const std::string& y_label, int width, int height,
                       const std::vector<ScatterLine>& lines = {});

// Escapes &, <, >, " for HTML and SVG text.
std::string HtmlEscape(const std::string& s);
// A compact number: 1234567 -> "1.23M", 0.5 -> "0.5".
std::string ShortNumber(double v);
// Nice axis steps: about `target` ticks over [0, max].
double NiceStep(double max, int target);

}  // namespace warmpool

#endif  // WARMPOOL_CONTROLLER_BACKTEST_REPORT_SVG_CHART_H_
