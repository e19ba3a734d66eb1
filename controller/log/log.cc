#include "controller/log/log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "warmpool/time.h"

namespace warmpool {
namespace {

bool g_json = false;

spdlog::level::level_enum ToSpd(LogLevel l) {
  switch (l) {
    case LogLevel::kTrace: return spdlog::level::trace;
    case LogLevel::kDebug: return spdlog::level::debug;
    case LogLevel::kInfo: return spdlog::level::info;
    case LogLevel::kWarn: return spdlog::level::warn;
    case LogLevel::kError: return spdlog::level::err;
    case LogLevel::kOff: return spdlog::level::off;
  }
  return spdlog::level::info;
}

bool NeedsQuotes(const std::string& v) {
  if (v.empty()) return true;
  for (char c : v) {
    if (c == ' ' || c == '"' || c == '=' || c == '\n' || c == '\t') return true;
  }
  return false;
}

}  // namespace

LogField::LogField(std::string_view k, double v) : key(k), quote(false) {
  if (std::isfinite(v)) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", v);
    value = buf;
  } else {
    value = std::isnan(v) ? "NaN" : (v > 0 ? "+Inf" : "-Inf");
    quote = true;  // JSON has no NaN
  }
}

Status InitLogging(std::string_view format, std::string_view level) {
  if (format != "text" && format != "json") {
    return Status::InvalidArgument("log format must be text or json, got \"" + std::string(format) + "\"");
  }
  LogLevel lvl;
  if (level == "trace")
    lvl = LogLevel::kTrace;
  else if (level == "debug")
    lvl = LogLevel::kDebug;
  else if (level == "info")
    lvl = LogLevel::kInfo;
  else if (level == "warn")
    lvl = LogLevel::kWarn;
  else if (level == "error")
    lvl = LogLevel::kError;
  else if (level == "off")
    lvl = LogLevel::kOff;
  else
    return Status::InvalidArgument("log level must be one of trace, debug, info, warn, error, off, got \"" +
                                   std::string(level) + "\"");
  g_json = format == "json";
  auto logger = spdlog::get("warmpool");
  if (!logger) {
    logger = std::make_shared<spdlog::logger>("warmpool", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    spdlog::register_logger(logger);
  }
  // JSON lines carry their own time and level fields.
  logger->set_pattern(g_json ? "%v" : "%Y-%m-%dT%H:%M:%S.%e%z %^%-5l%$ %v");
  logger->set_level(ToSpd(lvl));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
  return Status::Ok();
}

namespace {

// spdlog's default logger. Its registry is built on first use inside libspdlog, which the thread
// sanitizer does not see into: the first use is made here, under this function-local static's guard,
// so a thread that logs first (a server thread, before anything initialised logging) is seen to have
// built it before any other thread reads it.
spdlog::logger* DefaultLogger() {
  static const bool kBuilt = spdlog::default_logger_raw() != nullptr;
  (void)kBuilt;
  return spdlog::default_logger_raw();
}

}  // namespace

bool LogEnabled(LogLevel level) { return DefaultLogger()->should_log(ToSpd(level)); }

void Log(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields) {
  auto* logger = DefaultLogger();
  if (!logger->should_log(ToSpd(level))) return;
  std::string line;
  if (g_json) {
    nlohmann::ordered_json j;
    j["time"] = FormatTime(std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count());
    j["level"] = std::string(spdlog::level::to_string_view(ToSpd(level)).data());
    j["msg"] = std::string(msg);
    for (const LogField& f : fields) {
      if (f.quote) {
        j[f.key] = f.value;
      } else {
        j[f.key] = nlohmann::json::parse(f.value, nullptr, false);
      }
    }
    line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    line = std::string(msg);
    for (const LogField& f : fields) {
      line += " " + f.key + "=";
      if (f.quote && NeedsQuotes(f.value)) {
        line += nlohmann::json(f.value).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      } else {
        line += f.value;
      }
    }
  }
  logger->log(ToSpd(level), "{}", line);
}

}  // namespace warmpool
