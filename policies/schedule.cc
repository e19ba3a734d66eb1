#include "policies/schedule.h"

#include <cstdio>

#include "policies/list_params.h"
#include "warmpool/params.h"
#include "warmpool/text.h"

namespace warmpool {
namespace {

constexpr const char* kWeekdayNames[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};

// "Mon 09:00" or "09:00" of a local time (seconds).
std::string LocalClock(int64_t local, bool with_weekday) {
  const int64_t days = FloorDiv(local, 86400);
  const int64_t secs = local - days * 86400;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%s%s%02d:%02d", with_weekday ? kWeekdayNames[WeekdayFromDays(days)] : "",
                with_weekday ? " " : "", static_cast<int>(secs / 3600), static_cast<int>(secs / 60 % 60));
  return buf;
}

std::string LocalDate(int64_t local) {
  int64_t year;
  int month, day;
  const int64_t days = FloorDiv(local, 86400);
  CivilFromDays(days, &year, &month, &day);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%s %04lld-%02d-%02d ", kWeekdayNames[WeekdayFromDays(days)],
                static_cast<long long>(year), month, day);
  return buf + LocalClock(local, false);
}

class SchedulePolicy final : public Policy {
 public:
  SchedulePolicy(std::string name, ScheduleSpec spec) : name_(std::move(name)), spec_(std::move(spec)) {}
  const std::string& Name() const override { return name_; }
  PolicyInputs Inputs() const override { return {{}, /*history=*/false}; }  // the windows only
  Recommendation Recommend(const PolicyInput& in) const override {
    return ScheduleRecommend(name_, spec_, in.now);
  }

 private:
  std::string name_;
  ScheduleSpec spec_;
};

}  // namespace

Recommendation ScheduleRecommend(const std::string& name, const ScheduleSpec& spec, TimeMs now) {
  Recommendation rec;
  rec.policy = name;
  rec.valid = true;
  rec.allow_scale_down = true;
  const int64_t now_s = FloorDiv(now, 1000);
  const ScheduleSpec::Window* best = nullptr;
  int64_t best_start = 0;
  int open = 0;
  for (const ScheduleSpec::Window& w : spec.windows) {
    // Open when the latest match u satisfies u <= now < u + duration (milliseconds).
    const int64_t lookback = FloorDiv(w.duration, 1000) + 1;
    const int64_t start = w.cron.LastMatch(spec.zone, now_s, lookback);
    if (start < 0 || now >= start * 1000 + w.duration) continue;
    ++open;
    if (best == nullptr || w.min_active > best->min_active) {
      best = &w;
      best_start = start;
    }
  }
  if (best == nullptr) {
    rec.desired = 0;
    rec.reason = "outside every window in " + spec.zone.name() + " (local " +
                 LocalDate(spec.zone.ToLocal(now_s)) + "): no minimum, 0";
    return rec;
  }
  const int64_t from = spec.zone.ToLocal(best_start);
  const int64_t end_utc = best_start + FloorDiv(best->duration, 1000);
  const int64_t to = spec.zone.ToLocal(end_utc);
  const bool same_day = FloorDiv(from, 86400) == FloorDiv(to, 86400);
  rec.desired = best->min_active;
  rec.reason = "window '" + best->cron.text() + "' for " + FormatDuration(best->duration) + " in " +
               spec.zone.name() + " (" + LocalClock(from, !same_day) + "-" + LocalClock(to, !same_day) +
               "): at least " + std::to_string(best->min_active);
  if (open > 1) rec.reason += " (largest of " + std::to_string(open) + " open windows)";
  return rec;
}

std::unique_ptr<Policy> NewSchedulePolicy(const std::string& name, const Params& params,
                                          std::vector<std::string>* errors) {
  ParamReader r(params);
  ScheduleSpec spec;
  const std::string tz = r.String("timezone", "UTC");
  const bool own_dir = r.Has("zoneinfo_dir");
  const std::string dir = r.String("zoneinfo_dir", "/usr/share/zoneinfo");
  if (own_dir && dir.empty()) {
    r.Error("zoneinfo_dir", "must not be empty (a directory of time zone files, e.g. /usr/share/zoneinfo)");
  } else if (Result<TimeZone> zone = LoadTimeZone(dir, tz, params.read_file); zone.ok()) {
    spec.zone = std::move(zone).value();
  } else if (own_dir && zone.status().code() == Status::Code::kNotFound && params.read_file) {
    // The zone's file is not there: blame the directory when it is the one that is missing (or a
    // file), the zone's name otherwise. A directory is refused by the reader, not read.
    Result<std::string> probe = params.read_file(dir);
    if (probe.ok()) {
      r.Error("zoneinfo_dir", "not a directory: " + QuoteValue(dir));
    } else if (probe.status().code() == Status::Code::kNotFound) {
      r.Error("zoneinfo_dir", probe.status().message());
    } else {
      r.Error("timezone", zone.status().message());
    }
  } else {
    r.Error("timezone", zone.status().message());
  }
  const int n = ListSize(params, "windows");
  if (n == 0) r.Error("windows", "required: at least one {cron, duration, min_active}");
  for (int i = 0; i < n; ++i) {
    const std::string cron_key = ListKey("windows", i, "cron"),
                      duration_key = ListKey("windows", i, "duration");
    const std::string min_key = ListKey("windows", i, "min_active");
    ScheduleSpec::Window w;
    bool ok = true;
    if (!r.Has(cron_key)) {
      r.Error(cron_key, "required (a 5-field cron expression such as \"0 9 * * 1-5\")");
      ok = false;
    } else {
      Result<Cron> cron = Cron::Parse(r.String(cron_key));
      if (cron.ok()) {
        w.cron = std::move(cron).value();
      } else {
        r.Error(cron_key, cron.status().message());
        ok = false;
      }
    }
    if (!r.Has(duration_key)) {
      r.Error(duration_key, "required (how long the window stays open after each match, e.g. 8h)");
      ok = false;
    } else {
      w.duration = r.Duration(duration_key, 0, 1);
      if (w.duration > kMaxScheduleWindow) {
        r.Error(duration_key, "must be at most " + FormatDuration(kMaxScheduleWindow));
        ok = false;
      }
      ok = ok && w.duration > 0;
    }
    if (!r.Has(min_key)) {
      r.Error(min_key, "required (the active servers to keep at least while the window is open)");
      ok = false;
    } else {
      w.min_active = r.Int(min_key, 0, 0, 1000000);
    }
    if (ok) spec.windows.push_back(std::move(w));
  }
  if (!r.FinishInto(errors)) return nullptr;
  return std::make_unique<SchedulePolicy>(name, std::move(spec));
}

}  // namespace warmpool
