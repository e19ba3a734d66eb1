#include <algorithm>
#include <cmath>
#include <cstddef>
#include <iterator>

#include "warmpool/behavior.h"
#include "warmpool/decision.h"
#include "warmpool/metrics.h"
#include "warmpool/provider.h"
#include "warmpool/server.h"

namespace warmpool {

namespace {

// The name of enumerator `e` of an enum numbered 0, 1, ... in `names` (declaration order), or
// `fallback` for a value outside it.
template <typename Enum, size_t N>
const char* NameOf(Enum e, const char* const (&names)[N], const char* fallback) {
  const auto i = static_cast<size_t>(e);
  return i < N ? names[i] : fallback;
}

constexpr const char* kStateNames[] = {"cold",     "provisioning", "standby", "active",
                                       "draining", "stopped",      "retired"};
static_assert(std::size(kStateNames) == static_cast<size_t>(ServerState::kRetired) + 1);
constexpr const char* kHealthNames[] = {"unknown", "healthy", "unhealthy"};
static_assert(std::size(kHealthNames) == static_cast<size_t>(Health::kUnhealthy) + 1);
constexpr const char* kDirectionNames[] = {"none", "up", "down"};
static_assert(std::size(kDirectionNames) == static_cast<size_t>(Direction::kDown) + 1);

}  // namespace

const char* StateName(ServerState s) { return NameOf(s, kStateNames, "unknown"); }
const char* HealthName(Health h) { return NameOf(h, kHealthNames, "unknown"); }
const char* DirectionName(Direction d) { return NameOf(d, kDirectionNames, "none"); }

int PoolState::Count(ServerState s) const {
  int n = 0;
  for (const Server& srv : servers) n += srv.state == s;
  return n;
}

int PoolState::CountHealthy(ServerState s) const {
  int n = 0;
  for (const Server& srv : servers) n += srv.state == s && srv.health == Health::kHealthy;
  return n;
}

int PoolState::Total() const {
  int n = 0;
  for (const Server& srv : servers) {
    n += srv.state != ServerState::kCold && srv.state != ServerState::kRetired;
  }
  return n;
}

const Server* PoolState::Find(std::string_view name) const {
  for (const Server& srv : servers) {
    if (srv.name == name) return &srv;
  }
  return nullptr;
}

namespace {
void AppendList(std::string* out, const char* verb, const std::vector<std::string>& names) {
  if (names.empty()) return;
  if (!out->empty()) *out += "; ";
  *out += verb;
  *out += " [";
  for (size_t i = 0; i < names.size(); ++i) *out += (i ? "," : "") + names[i];
  *out += "]";
}
}  // namespace

std::string ScalePlan::Summary() const {
  std::string out;
  AppendList(&out, "promote", promote);
  AppendList(&out, "drain", drain);
  AppendList(&out, "provision", provision);
  AppendList(&out, "retire", retire);
  AppendList(&out, "suspend", suspend);
  AppendList(&out, "resume", resume);
  return out.empty() ? "no change" : out;
}

bool ApplyResult::ok() const {
  for (const Action& a : actions) {
    if (!a.status.ok()) return false;
  }
  return true;
}

std::string ApplyResult::Summary() const {
  int ok_count = 0;
  std::string failures;
  for (const Action& a : actions) {
    if (a.status.ok()) {
      ++ok_count;
    } else {
      failures += (failures.empty() ? "" : "; ") + a.kind + " " + a.server + ": " + a.status.ToString();
    }
  }
  std::string out = (dry_run ? "dry-run, " : "") + std::to_string(ok_count) + " ok";
  if (!failures.empty()) out += ", failed: " + failures;
  return out;
}

BehaviorSpec BehaviorSpec::Defaults() {
  BehaviorSpec b;
  b.scale_up.stabilization_window = 0;
  b.scale_up.select = ScalingRules::Select::kMax;
  b.scale_up.limits = {{RateLimit::Kind::kServers, 4, 15 * kSecond},
                       {RateLimit::Kind::kPercent, 100, 15 * kSecond}};
  b.scale_down.stabilization_window = 300 * kSecond;
  b.scale_down.select = ScalingRules::Select::kMax;
  b.scale_down.limits = {{RateLimit::Kind::kPercent, 100, 15 * kSecond}};
  return b;
}

void BehaviorHistory::Prune(const BehaviorSpec& spec, TimeMs now) {
  DurationMs keep = std::max(spec.scale_up.stabilization_window, spec.scale_down.stabilization_window);
  for (const RateLimit& l : spec.scale_up.limits) keep = std::max(keep, l.period);
  for (const RateLimit& l : spec.scale_down.limits) keep = std::max(keep, l.period);
  const TimeMs old = now - keep;  // records at or before it are old
  // Records are appended in time order, so the old ones are a prefix: drop it (usually one record,
  // or none). Were the clock to step back, an old record after a newer one stays until the ones
  // before it go; it changes nothing, as every reader filters by its window or period.
  auto drop_old = [old](TimedCounts* v) {
    size_t n = 0;
    while (n < v->size() && (*v)[n].at <= old) ++n;
    if (n > 0) v->DropFront(n);
  };
  drop_old(&recommendations);
  drop_old(&scale_ups);
  drop_old(&scale_downs);
}

}  // namespace warmpool

namespace warmpool {

Result<std::map<std::string, MetricWindow>> MetricsSource::FetchEach(const MetricQuery& q, const std::string&,
                                                                    TimeMs) {
  return Status::FailedPrecondition("metric \"" + q.name + "\": this source has no series per server");
}

}  // namespace warmpool
