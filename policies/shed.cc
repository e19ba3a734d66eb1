#include "policies/shed.h"

#include <algorithm>

#include "warmpool/text.h"

namespace warmpool {

double FairShare(std::vector<ClientRate> clients, double capacity) {
  double total = 0;
  for (const ClientRate& c : clients) total += std::max(0.0, c.rate);
  if (clients.empty() || total <= capacity) return 0;
  std::sort(clients.begin(), clients.end(), [](const ClientRate& a, const ClientRate& b) { return a.rate < b.rate; });
  double remaining = capacity;
  for (size_t i = 0; i < clients.size(); ++i) {
    const double left = static_cast<double>(clients.size() - i);
    const double rate = std::max(0.0, clients[i].rate);
    if (rate * left > remaining) return remaining / left;  // every client from here on is cut to this
    remaining -= rate;
  }
  return 0;  // not reached: total > capacity
}

namespace {
// The clients' fair share fills this much of the capacity, so that the frontend-wide limit (a
// backstop, measured over bursty seconds) is rarely what refuses an ordinary client.
constexpr double kClientShare = 0.9;
}  // namespace

ShedOutcome ShedDecider::Decide(const ShedInput& in) {
  ShedOutcome out;
  const ShedLimits before = limits_;
  if (!in.load.has_value() || in.serving <= 0) {
    // Nothing to measure the overload by (the limits stay), or no server to protect.
    if (limits_.active()) {
      out.reason = in.load.has_value() ? "shed: no serving server, keeping the limits"
                                       : "shed: the load is missing, keeping the limits";
    }
    out.limits = limits_;
    return out;
  }
  const double load = *in.load;
  const double capacity = in.serving * spec_.capacity;
  const bool overloaded = load > capacity;
  if (overloaded) {
    if (!overloaded_since_) overloaded_since_ = in.now;
  } else {
    overloaded_since_.reset();
  }
  const bool late = overloaded && in.now - *overloaded_since_ >= spec_.protect_after;
  const bool cannot_grow = in.at_max || late;
  const std::string ratio = FormatNumber(load / capacity) + "x";
  const std::string why = in.at_max ? "at max_active " + std::to_string(in.serving) + " serving"
                                    : "for " + FormatDuration(in.now - overloaded_since_.value_or(in.now)) +
                                          " without more capacity";
  auto tighten = [&](const std::string& verb) {
    limits_.rate = capacity;
    // The balancer's per-client rates are averaged over their own period (often 10 s, slower than
    // the load metric in a surge): they give each client's share of the load, scaled to the load.
    std::vector<ClientRate> clients = in.clients;
    double sum = 0;
    for (const ClientRate& c : clients) sum += std::max(0.0, c.rate);
    for (ClientRate& c : clients) c.rate = sum > 0 ? std::max(0.0, c.rate) * load / sum : 0;
    limits_.client = spec_.per_client ? FairShare(std::move(clients), kClientShare * capacity) : 0;
    limits_.server_concurrency = spec_.server_concurrency;
    out.reason = "shed: " + verb + ratio + " over capacity (" + FormatNumber(load) + " for " +
                 std::to_string(in.serving) + " x " + FormatNumber(spec_.capacity) + ") " + why +
                 ", limiting to " + FormatNumber(capacity) + " req/s";
    if (limits_.client > 0) out.reason += ", " + FormatNumber(limits_.client) + " req/s per client";
    if (limits_.server_concurrency > 0) {
      out.reason += ", " + std::to_string(limits_.server_concurrency) + " at once per server (the rest queued, then 503)";
    }
  };

  if (!limits_.active()) {
    if (overloaded && cannot_grow) tighten("");
  } else {
    const bool calm = load < spec_.release_below * capacity;
    if (!calm) calm_since_.reset();
    if (calm && !calm_since_) calm_since_ = in.now;
    if (calm && in.now - *calm_since_ >= spec_.release_after) {
      limits_ = ShedLimits{};
      out.reason = "shed: lifted, the load " + FormatNumber(load) + " has been below " +
                   FormatNumber(spec_.release_below * 100) + "% of the capacity " + FormatNumber(capacity) +
                   " for " + FormatDuration(in.now - *calm_since_);
    } else if (!in.at_max && !overloaded) {
      limits_ = ShedLimits{};
      out.reason = "shed: lifted, the pool can grow again and carries the load " + FormatNumber(load) +
                   " (capacity " + FormatNumber(capacity) + ")";
    } else {
      tighten("still ");
    }
  }
  if (!limits_.active()) calm_since_.reset();
  out.limits = limits_;
  out.changed = !(limits_ == before);
  return out;
}

}  // namespace warmpool
