#include "backtest_report.h"

namespace warmpool {

std::string ComparisonToHtml(const Comparison& c, const SweepResult*) {
  return "<!doctype html><title>backtest</title><pre>" + ComparisonToText(c) + "</pre>\n";
}

}  // namespace warmpool
