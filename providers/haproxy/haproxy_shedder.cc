#include "providers/haproxy/haproxy_shedder.h"

#include <charconv>
#include <cmath>
#include <utility>

#include "providers/haproxy/haproxy_parse.h"

namespace warmpool {
namespace {

// HAProxy variable names: a scope, then [A-Za-z0-9._].
bool ValidVar(const std::string& v) {
  if (v.rfind("proc.", 0) != 0 || v.size() == 5) return false;
  for (char c : v) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_') return false;
  }
  return true;
}

bool ValidTable(const std::string& t) {
  if (t.empty()) return false;
  for (char c : t) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') return false;
  }
  return true;
}

// A limit as the rules compare it: whole requests a second, at least 1 while in force.
long long AsInt(double limit) { return limit <= 0 ? 0 : std::max(1LL, static_cast<long long>(std::floor(limit))); }

}  // namespace

namespace haproxy {

Result<std::vector<ClientRate>> ParseClientRates(std::string_view text) {
  if (text.rfind("# table:", 0) != 0) {
    const std::string_view first = text.substr(0, text.find('\n'));
    return Status::Internal("show table: not a table dump: \"" + std::string(first.substr(0, 80)) + "\"");
  }
  std::vector<ClientRate> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    const size_t key = line.find(" key=");
    const size_t rate = line.find(" http_req_rate(");
    if (line.empty() || line[0] == '#' || key == std::string_view::npos || rate == std::string_view::npos) continue;
    ClientRate c;
    const size_t key_end = line.find(' ', key + 5);
    c.client = std::string(line.substr(key + 5, key_end - key - 5));
    const size_t period_begin = rate + 15, period_end = line.find(")=", period_begin);
    if (period_end == std::string_view::npos) return Status::Internal("show table: malformed http_req_rate");
    long long period = 0, count = 0;
    const char* p = line.data();
    if (std::from_chars(p + period_begin, p + period_end, period).ec != std::errc() || period <= 0) {
      return Status::Internal("show table: malformed http_req_rate period");
    }
    const size_t count_begin = period_end + 2;
    size_t count_end = line.find(' ', count_begin);
    if (count_end == std::string_view::npos) count_end = line.size();
    if (std::from_chars(p + count_begin, p + count_end, count).ec != std::errc() || count < 0) {
      return Status::Internal("show table: malformed http_req_rate count");
    }
    c.rate = static_cast<double>(count) * 1000.0 / static_cast<double>(period);
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace haproxy

HAProxyShedder::HAProxyShedder(HAProxyShedSpec spec)
    : spec_(std::move(spec)), client_(spec_.socket, spec_.timeout) {}

Result<std::vector<ClientRate>> HAProxyShedder::ClientRates() {
  const std::string command = "show table " + spec_.client_table;
  Result<std::string> reply = client_.Call(command);
  if (!reply.ok()) return reply.status();
  Result<std::vector<ClientRate>> rates = haproxy::ParseClientRates(*reply);
  if (!rates.ok()) return client_.Error(rates.status().code(), command, rates.status().message());
  return rates;
}

Status HAProxyShedder::SetLimits(const ShedLimits& limits) {
  Result<std::vector<std::string>> r =
      client_.Call({"experimental-mode on", "set var " + spec_.rate_var + " int(" + std::to_string(AsInt(limits.rate)) + ")",
                    "set var " + spec_.client_var + " int(" + std::to_string(AsInt(limits.client)) + ")"});
  if (!r.ok() || spec_.backend.empty()) return r.ok() ? Status::Ok() : r.status();
  const std::string show = "show servers state " + spec_.backend;
  Result<std::string> state = client_.Call(show);
  if (!state.ok()) return state.status();
  Result<std::vector<haproxy::ServerStateRow>> rows = haproxy::ParseServersState(*state);
  if (!rows.ok()) return client_.Error(rows.status().code(), show, rows.status().message());
  const int maxconn = limits.server_concurrency > 0 ? limits.server_concurrency : spec_.server_maxconn_normal;
  std::vector<std::string> commands;
  for (const haproxy::ServerStateRow& row : *rows) {
    commands.push_back("set maxconn server " + spec_.backend + "/" + row.name + " " + std::to_string(maxconn));
  }
  if (commands.empty()) return Status::Ok();
  Result<std::vector<std::string>> set = client_.Call(commands);
  return set.ok() ? Status::Ok() : set.status();
}

std::unique_ptr<Shedder> NewHAProxyShedder(const Params& params, std::vector<std::string>* errors) {
  ParamReader r(params);
  HAProxyShedSpec spec;
  spec.socket = r.String("socket");
  if (spec.socket.empty()) r.Error("socket", "required: the pool's provider must be haproxy");
  spec.rate_var = r.String("rate_var", spec.rate_var);
  spec.client_var = r.String("client_var", spec.client_var);
  for (const auto& [key, value] : {std::pair{"rate_var", spec.rate_var}, std::pair{"client_var", spec.client_var}}) {
    if (!ValidVar(value)) {
      r.Error(key, "must be a process variable like proc.warmpool_rate_limit ([A-Za-z0-9._]), got \"" + value + "\"");
    }
  }
  if (spec.rate_var == spec.client_var) r.Error("client_var", "must differ from rate_var");
  spec.client_table = r.String("client_table", spec.client_table);
  if (!ValidTable(spec.client_table)) {
    r.Error("client_table", "must be a stick table's name, got \"" + spec.client_table + "\"");
  }
  spec.timeout = r.Duration("timeout", spec.timeout, 1);
  spec.backend = r.String("backend");
  spec.server_maxconn_normal = r.Int("server_maxconn_normal", 0, 0, 1'000'000);
  if (!r.FinishInto(errors)) return nullptr;
  return std::make_unique<HAProxyShedder>(std::move(spec));
}

}  // namespace warmpool
