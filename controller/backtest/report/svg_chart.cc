#include "controller/backtest/report/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace warmpool {
namespace {

constexpr int kLeft = 64, kRight = 64, kTop = 62, kBottom = 30;
constexpr double kInf = std::numeric_limits<double>::infinity();

std::string F(double v) {  // coordinates: one decimal is plenty
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

// Time labels: calendar dates for real timestamps, "day N" for traces timed from 0.
std::string TimeLabel(TimeMs t, DurationMs step, bool relative) {
  const std::string iso = FormatTime(t);  // 1995-07-13T19:49:00.000Z
  const std::string hm = iso.substr(11, 5);
  if (relative) {
    const std::string day = "day " + std::to_string(t / (24 * kHour) + 1);
    return step >= 24 * kHour || hm == "00:00" ? day : (step >= kHour ? day + " " + hm : hm);
  }
  const std::string date = iso.substr(5, 5);
  if (step >= 24 * kHour) return date;
  return hm == "00:00" ? date : hm;
}

}  // namespace

Columns::Columns(TimeMs t0, TimeMs t1, int n)
    : t0_(t0),
      t1_(std::max(t1, t0 + 1)),
      min_(static_cast<size_t>(n), kInf),
      max_(static_cast<size_t>(n), -kInf),
      last_(static_cast<size_t>(n), 0),
      seen_(static_cast<size_t>(n), false) {}

int Columns::ColumnOf(TimeMs t) const {
  const double f = static_cast<double>(t - t0_) / static_cast<double>(t1_ - t0_);
  return std::clamp(static_cast<int>(f * size()), 0, size() - 1);
}

void Columns::AddStep(TimeMs from, TimeMs to, double v) {
  if (to <= t0_ || from >= t1_ || !std::isfinite(v)) return;
  const int a = ColumnOf(std::max(from, t0_)), b = ColumnOf(std::min(to, t1_) - 1);
  for (int i = a; i <= b; ++i) {
    const size_t k = static_cast<size_t>(i);
    min_[k] = std::min(min_[k], v);
    max_[k] = std::max(max_[k], v);
    last_[k] = v;
    seen_[k] = true;
  }
}

void Columns::Finish() {
  double carry = 0;
  for (size_t k = 0; k < min_.size(); ++k) {
    if (!seen_[k]) min_[k] = max_[k] = carry;
    carry = seen_[k] ? last_[k] : carry;
  }
}

double Columns::Max() const {
  double m = 0;
  for (double v : max_) m = std::max(m, v);
  return m;
}

double NiceStep(double max, int target) {
  if (max <= 0) return 1;
  const double raw = max / target, mag = std::pow(10, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    if (m * mag >= raw) return m * mag;
  }
  return 10 * mag;
}

std::string ShortNumber(double v) {
  char buf[32];
  const double a = std::fabs(v);
  if (a >= 1e9) {
    std::snprintf(buf, sizeof buf, "%.3gG", v / 1e9);
  } else if (a >= 1e6) {
    std::snprintf(buf, sizeof buf, "%.3gM", v / 1e6);
  } else if (a >= 1e4) {
    std::snprintf(buf, sizeof buf, "%.3gk", v / 1e3);
  } else {
    std::snprintf(buf, sizeof buf, "%.4g", v);
  }
  return buf;
}

std::string HtmlEscape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

TimeChart::TimeChart(TimeMs t0, TimeMs t1, int width, int height, double y_max, std::string y_label)
    : t0_(t0),
      t1_(std::max(t1, t0 + 1)),
      width_(width),
      height_(height),
      y_max_(y_max > 0 ? y_max : 1),
      y_label_(std::move(y_label)) {}

double TimeChart::X(TimeMs t) const {
  return kLeft + static_cast<double>(t - t0_) / static_cast<double>(t1_ - t0_) * width_;
}

double TimeChart::Y(double v) const { return kTop + height_ - std::clamp(v / y_max_, 0.0, 1.05) * height_; }

void TimeChart::Band(const Columns& c, const std::string& fill, double opacity, bool from_zero) {
  std::string d = "M";
  for (int i = 0; i < c.size(); ++i)
    d += F(kLeft + i) + "," + F(Y(c.max(i))) + " " + F(kLeft + i + 1) + "," + F(Y(c.max(i))) + " ";
  for (int i = c.size() - 1; i >= 0; --i) {
    const double lo = from_zero ? 0 : c.min(i);
    d += F(kLeft + i + 1) + "," + F(Y(lo)) + " " + F(kLeft + i) + "," + F(Y(lo)) + " ";
  }
  body_ +=
      "<path d=\"" + d + "Z\" fill=\"" + fill + "\" fill-opacity=\"" + F(opacity) + "\" stroke=\"none\"/>\n";
}

void TimeChart::Between(const Columns& lower, const Columns& upper, const std::string& fill, double opacity) {
  std::string d = "M";
  for (int i = 0; i < upper.size(); ++i)
    d += F(kLeft + i) + "," + F(Y(upper.max(i))) + " " + F(kLeft + i + 1) + "," + F(Y(upper.max(i))) + " ";
  for (int i = lower.size() - 1; i >= 0; --i)
    d += F(kLeft + i + 1) + "," + F(Y(lower.max(i))) + " " + F(kLeft + i) + "," + F(Y(lower.max(i))) + " ";
  body_ +=
      "<path d=\"" + d + "Z\" fill=\"" + fill + "\" fill-opacity=\"" + F(opacity) + "\" stroke=\"none\"/>\n";
}

void TimeChart::Line(const Columns& c, bool use_min, const std::string& stroke, double width,
                     const std::string& dash) {
  std::string d = "M";
  for (int i = 0; i < c.size(); ++i) {
    const double y = Y(use_min ? c.min(i) : c.max(i));
    d += F(kLeft + i) + "," + F(y) + " " + F(kLeft + i + 1) + "," + F(y) + " ";
  }
  body_ += "<path d=\"" + d + "\" fill=\"none\" stroke=\"" + stroke + "\" stroke-width=\"" + F(width) + "\"" +
           (dash.empty() ? "" : " stroke-dasharray=\"" + dash + "\"") + " stroke-linejoin=\"round\"/>\n";
}

void TimeChart::Shade(TimeMs from, TimeMs to, const std::string& fill, double opacity,
                      const std::string& title) {
  const double x0 = X(std::max(from, t0_)), x1 = std::max(x0 + 1, X(std::min(to, t1_)));
  if (to <= t0_ || from >= t1_) return;
  body_ += "<rect x=\"" + F(x0) + "\" y=\"" + F(kTop) + "\" width=\"" + F(x1 - x0) + "\" height=\"" +
           F(height_) + "\" fill=\"" + fill + "\" fill-opacity=\"" + F(opacity) + "\"><title>" +
           HtmlEscape(title) + "</title></rect>\n";
}

void TimeChart::Outline(TimeMs from, TimeMs to, const std::string& stroke) {
  const double x0 = X(std::max(from, t0_)), x1 = std::max(x0 + 2, X(std::min(to, t1_)));
  body_ += "<rect x=\"" + F(x0) + "\" y=\"" + F(kTop - 2) + "\" width=\"" + F(x1 - x0) + "\" height=\"" +
           F(height_ + 4) + "\" fill=\"none\" stroke=\"" + stroke + "\" stroke-width=\"1.5\"/>\n";
}

void TimeChart::TopStrip(int row, const std::vector<double>& v, const std::string& color,
                         const std::string& label) {
  double max = 0;
  for (double x : v) max = std::max(max, x);
  const double y = kTop - 28 + row * 9;
  body_ += "<text class=\"strip\" x=\"" + F(kLeft - 6) + "\" y=\"" + F(y + 6) + "\">" + HtmlEscape(label) +
           "</text>";
  body_ += "<rect x=\"" + F(kLeft) + "\" y=\"" + F(y) + "\" width=\"" + F(width_) +
           "\" height=\"6\" fill=\"#f4f4f4\"/>";
  for (size_t i = 0; i < v.size() && max > 0; ++i) {
    if (v[i] <= 0) continue;
    const double a = 0.35 + 0.65 * std::log1p(v[i]) / std::log1p(max);
    body_ += "<rect x=\"" + F(kLeft + static_cast<double>(i) - 0.5) + "\" y=\"" + F(y) +
             "\" width=\"2\" height=\"6\" fill=\"" + color + "\" fill-opacity=\"" + F(a) + "\"/>";
  }
  body_ += "\n";
}

void TimeChart::Marker(TimeMs t, bool up, const std::string& fill, const std::string& title) {
  const double x = X(t), y = kTop + height_ - 1;
  const std::string pts =
      up ? F(x - 4) + "," + F(y) + " " + F(x + 4) + "," + F(y) + " " + F(x) + "," + F(y - 8)
         : F(x - 4) + "," + F(y - 8) + " " + F(x + 4) + "," + F(y - 8) + " " + F(x) + "," + F(y);
  body_ += "<polygon points=\"" + pts + "\" fill=\"" + fill + "\"><title>" + HtmlEscape(title) +
           "</title></polygon>\n";
}

void TimeChart::Legend(const std::string& color, const std::string& label, bool line,
                       const std::string& dash) {
  const int x = kLeft + legend_x_, y = 11;
  legend_ += line ? "<line x1=\"" + std::to_string(x) + "\" y1=\"" + std::to_string(y) + "\" x2=\"" +
                        std::to_string(x + 18) + "\" y2=\"" + std::to_string(y) + "\" stroke=\"" + color +
                        "\" stroke-width=\"2.5\"" +
                        (dash.empty() ? "" : " stroke-dasharray=\"" + dash + "\"") + "/>"
                  : "<rect x=\"" + std::to_string(x) + "\" y=\"" + std::to_string(y - 6) +
                        "\" width=\"18\" height=\"12\" fill=\"" + color + "\"/>";
  legend_ += "<text x=\"" + std::to_string(x + 23) + "\" y=\"" + std::to_string(y + 4) + "\">" +
             HtmlEscape(label) + "</text>\n";
  legend_x_ += 32 + static_cast<int>(label.size()) * 7;
}

std::string TimeChart::Render(double secondary, const std::string& secondary_label) const {
  const int w = kLeft + width_ + kRight, h = kTop + height_ + kBottom;
  std::string out = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 " +
                    std::to_string(w) + " " + std::to_string(h) + "\" width=\"" + std::to_string(w) +
                    "\" height=\"" + std::to_string(h) + "\">\n";
  out += "<rect x=\"" + F(kLeft) + "\" y=\"" + F(kTop) + "\" width=\"" + F(width_) + "\" height=\"" +
         F(height_) + "\" fill=\"#fff\" stroke=\"#ccc\"/>\n";
  // y grid and labels
  const double ys = NiceStep(y_max_, 5);
  for (double v = 0; v <= y_max_ * 1.0001; v += ys) {
    out += "<line x1=\"" + F(kLeft) + "\" x2=\"" + F(kLeft + width_) + "\" y1=\"" + F(Y(v)) + "\" y2=\"" +
           F(Y(v)) + "\" stroke=\"#eee\"/><text class=\"yl\" x=\"" + F(kLeft - 6) + "\" y=\"" + F(Y(v) + 4) +
           "\">" + ShortNumber(v) + "</text>\n";
  }
  out += "<text class=\"axis\" transform=\"translate(14," + F(kTop + height_ / 2.0) + ") rotate(-90)\">" +
         HtmlEscape(y_label_) + "</text>\n";
  if (secondary > 0) {
    const double ss = NiceStep(y_max_ / secondary, 5);
    for (double v = 0; v * secondary <= y_max_ * 1.0001; v += ss) {
      out += "<text class=\"yr\" x=\"" + F(kLeft + width_ + 6) + "\" y=\"" + F(Y(v * secondary) + 4) + "\">" +
             ShortNumber(v) + "</text>\n";
    }
    out += "<text class=\"axis\" transform=\"translate(" + F(w - 12) + "," + F(kTop + height_ / 2.0) +
           ") rotate(90)\">" + HtmlEscape(secondary_label) + "</text>\n";
  }
  // time grid and labels
  const DurationMs span = t1_ - t0_;
  static constexpr DurationMs kSteps[] = {kMinute,    5 * kMinute,    15 * kMinute,   30 * kMinute,
                                          kHour,      3 * kHour,      6 * kHour,      12 * kHour,
                                          24 * kHour, 2 * 24 * kHour, 7 * 24 * kHour, 14 * 24 * kHour};
  DurationMs step = kSteps[std::size(kSteps) - 1];
  for (DurationMs s : kSteps) {
    if (span / s <= width_ / 90) {
      step = s;
      break;
    }
  }
  const bool relative = t0_ < 400 * 24 * kHour;
  for (TimeMs t = (t0_ + step - 1) / step * step; t < t1_; t += step) {
    out += "<line x1=\"" + F(X(t)) + "\" x2=\"" + F(X(t)) + "\" y1=\"" + F(kTop) + "\" y2=\"" +
           F(kTop + height_) + "\" stroke=\"#f0f0f0\"/><text class=\"xl\" x=\"" + F(X(t)) + "\" y=\"" +
           F(kTop + height_ + 16) + "\">" + TimeLabel(t, step, relative) + "</text>\n";
  }
  out += body_ + legend_ + "</svg>\n";
  return out;
}

std::string ScatterSvg(const std::vector<ScatterPoint>& points, const std::vector<size_t>& front_line,
                       const std::string& x_label, const std::string& y_label, int width, int height,
                       const std::vector<ScatterLine>& lines) {
  double x_max = 0, y_max = 0, x_min = kInf;
  for (const ScatterPoint& p : points) {
    x_max = std::max(x_max, p.x), y_max = std::max(y_max, p.y), x_min = std::min(x_min, p.x);
  }
  x_min = std::floor(std::max(0.0, x_min * 0.95));
  x_max = x_max * 1.05 + 1e-9;
  // y on a log scale from 0: log10(1 + y), so that 0, 10 and 10,000 unserved all read.
  const double ly_max = std::max(1.0, std::log10(1 + y_max) * 1.08);
  auto X = [&](double x) { return kLeft + (x - x_min) / (x_max - x_min) * width; };
  auto Y = [&](double y) { return kTop + height - std::log10(1 + std::max(0.0, y)) / ly_max * height; };
  const int w = kLeft + width + 20, h = kTop + height + kBottom + 10;
  std::string out = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 " +
                    std::to_string(w) + " " + std::to_string(h) + "\" width=\"" + std::to_string(w) +
                    "\" height=\"" + std::to_string(h) + "\">\n<rect x=\"" + F(kLeft) + "\" y=\"" + F(kTop) +
                    "\" width=\"" + F(width) + "\" height=\"" + F(height) +
                    "\" fill=\"#fff\" stroke=\"#ccc\"/>\n";
  const double xs = NiceStep(x_max - x_min, 6);
  for (double v = 0; std::log10(1 + v) <= ly_max; v = v == 0 ? 1 : v * 10) {
    out += "<line x1=\"" + F(kLeft) + "\" x2=\"" + F(kLeft + width) + "\" y1=\"" + F(Y(v)) + "\" y2=\"" +
           F(Y(v)) + "\" stroke=\"#eee\"/><text class=\"yl\" x=\"" + F(kLeft - 6) + "\" y=\"" + F(Y(v) + 4) +
           "\">" + ShortNumber(v) + "</text>\n";
  }
  for (double v = std::ceil(x_min / xs) * xs; v <= x_max; v += xs) {
    out += "<line x1=\"" + F(X(v)) + "\" x2=\"" + F(X(v)) + "\" y1=\"" + F(kTop) + "\" y2=\"" +
           F(kTop + height) + "\" stroke=\"#f0f0f0\"/><text class=\"xl\" x=\"" + F(X(v)) + "\" y=\"" +
           F(kTop + height + 16) + "\">" + ShortNumber(v) + "</text>\n";
  }
  out += "<text class=\"axis\" x=\"" + F(kLeft + width / 2.0) + "\" y=\"" + F(h - 4) + "\">" +
         HtmlEscape(x_label) + "</text>\n<text class=\"axis\" transform=\"translate(14," +
         F(kTop + height / 2.0) + ") rotate(-90)\">" + HtmlEscape(y_label) + "</text>\n";
  if (front_line.size() > 1) {
    std::string d = "M";
    for (size_t i : front_line) d += F(X(points[i].x)) + "," + F(Y(points[i].y)) + " ";
    out += "<path d=\"" + d +
           "\" fill=\"none\" stroke=\"#238b45\" stroke-width=\"1.5\" stroke-dasharray=\"4 3\"/>\n";
  }
  for (const ScatterLine& line : lines) {
    if (line.points.size() < 2) continue;
    std::string d = "M";
    for (size_t i : line.points) d += F(X(points[i].x)) + "," + F(Y(points[i].y)) + " ";
    out += "<path d=\"" + d + "\" fill=\"none\" stroke=\"" + line.color + "\" stroke-width=\"1.8\"" +
           (line.dash.empty() ? "" : " stroke-dasharray=\"" + line.dash + "\"") + "/>\n";
  }
  for (const ScatterPoint& p : points) {
    out += "<circle cx=\"" + F(X(p.x)) + "\" cy=\"" + F(Y(p.y)) + "\" r=\"" + (p.emphasize ? "6" : "4") +
           "\" fill=\"" + p.color + "\" stroke=\"#333\" stroke-width=\"0.5\"><title>" + HtmlEscape(p.title) +
           "</title></circle>\n";
    if (!p.label.empty()) {
      out += "<text class=\"pl\" x=\"" + F(X(p.x) + 8) + "\" y=\"" + F(Y(p.y) - 6) + "\">" +
             HtmlEscape(p.label) + "</text>\n";
    }
  }
  return out + "</svg>\n";
}

}  // namespace warmpool
