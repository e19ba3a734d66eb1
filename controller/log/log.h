// Structured logging on top of spdlog, as text ("msg key=value ...") or one JSON object per line.
// spdlog stays out of this header.
#ifndef WARMPOOL_CONTROLLER_LOG_LOG_H_
#define WARMPOOL_CONTROLLER_LOG_LOG_H_

#include <initializer_list>
#include <string>
#include <string_view>

#include "warmpool/status.h"

namespace warmpool {

enum class LogLevel { kTrace, kDebug, kInfo, kWarn, kError, kOff };

struct LogField {
  LogField(std::string_view k, std::string_view v) : key(k), value(v), quote(true) {}
  LogField(std::string_view k, const char* v) : key(k), value(v), quote(true) {}
  LogField(std::string_view k, const std::string& v) : key(k), value(v), quote(true) {}
  LogField(std::string_view k, double v);
  LogField(std::string_view k, int v) : key(k), value(std::to_string(v)), quote(false) {}
  LogField(std::string_view k, long v) : key(k), value(std::to_string(v)), quote(false) {}
  LogField(std::string_view k, long long v) : key(k), value(std::to_string(v)), quote(false) {}
  LogField(std::string_view k, bool v) : key(k), value(v ? "true" : "false"), quote(false) {}
  std::string key, value;
  bool quote;  // a string (quoted in JSON); numbers and booleans are not
};

// Configures the process-wide logger (stderr). `format`: "text" or "json"; `level`: "trace",
// "debug", "info", "warn", "error" or "off". Returns an error naming a bad value.
Status InitLogging(std::string_view format, std::string_view level);
bool LogEnabled(LogLevel level);
void Log(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields = {});

}  // namespace warmpool

#endif  // WARMPOOL_CONTROLLER_LOG_LOG_H_
