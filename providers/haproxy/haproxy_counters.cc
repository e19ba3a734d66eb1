#include "providers/haproxy/haproxy_counters.h"

#include <utility>

#include "providers/haproxy/haproxy_parse.h"
#include "warmpool/text.h"

namespace warmpool {

HAProxyCounterSource::HAProxyCounterSource(HAProxyCounterSpec spec)
    : spec_(std::move(spec)),
      client_(spec_.socket, spec_.timeout),
      // Every proxy of that kind, the row picked by name: `show stat <name>` resolves a name a frontend
      // and a backend share to the frontend.
      command_(std::string("show stat -1 ") + (spec_.side == "frontend" ? "1" : "2") + " -1"),
      svname_(spec_.side == "frontend" ? "FRONTEND" : "BACKEND"),
      origin_("haproxy " + spec_.proxy + " " + spec_.side + " " + spec_.counter) {}

Result<MetricWindow> HAProxyCounterSource::Fetch(const MetricQuery& q, TimeMs now) {
  Result<std::string> reply = client_.Call(command_);
  if (!reply.ok()) return reply.status();
  Result<int64_t> counter = haproxy::ParseProxyCounter(*reply, spec_.proxy, svname_, spec_.counter);
  if (!counter.ok()) {
    return client_.Error(counter.status().code(), command_, counter.status().message());
  }
  const double value = static_cast<double>(*counter);
  if (!readings_.empty() && (value < readings_.back().value || now <= readings_.back().t)) {
    readings_.clear();  // the counter restarted (HAProxy restarted or reloaded), or the clock went back
  }
  readings_.push_back({now, value});
  while (readings_.size() > 1 && readings_.front().t < now - q.window - spec_.rate_window) readings_.pop_front();

  MetricWindow w;
  w.metric = q.name;
  w.origin = origin_;
  if (!spec_.scale_down) w.floor_only = "values from the fallback (" + origin_ + "), whose scale_down is off";
  // The rate at each reading inside the window, against the oldest reading within rate_window of it.
  size_t from = 0;
  for (size_t i = 1; i < readings_.size(); ++i) {
    while (from + 1 < i && readings_[from].t < readings_[i].t - spec_.rate_window) ++from;
    if (readings_[i].t < now - q.window) continue;
    const Sample& a = readings_[from];
    const Sample& b = readings_[i];
    w.samples.push_back({b.t, (b.value - a.value) * 1000.0 / static_cast<double>(b.t - a.t)});
  }
  return w;
}

std::unique_ptr<MetricsSource> NewHAProxyCounterSource(const Params& params, std::vector<std::string>* errors) {
  ParamReader r(params);
  HAProxyCounterSpec spec;
  spec.socket = r.String("socket");
  if (spec.socket.empty()) {
    r.Error("socket", "required: HAProxy's admin socket (taken from the pool's provider when it is haproxy)");
  }
  spec.proxy = r.String("proxy");
  if (spec.proxy.empty() || spec.proxy.find_first_of("/; \t\r\n#") != std::string::npos) {
    r.Error("proxy", spec.proxy.empty()
                         ? "required: the proxy to count (taken from the pool's provider's backend when it is haproxy)"
                         : "must be a proxy name (no '/', ';', '#' or spaces), got \"" + spec.proxy + "\"");
  }
  spec.side = r.Enum("side", spec.side, {"backend", "frontend"});
  spec.counter = r.Enum("counter", spec.counter, {"req_tot", "stot"});
  spec.rate_window = r.Duration("rate_window", spec.rate_window, kSecond);
  spec.timeout = r.Duration("timeout", spec.timeout, 1);
  spec.scale_down = r.Bool("scale_down", spec.scale_down);
  if (!r.FinishInto(errors)) return nullptr;
  return std::make_unique<HAProxyCounterSource>(std::move(spec));
}

}  // namespace warmpool
