// HAProxyShedder: overload protection at HAProxy 2.6, through the runtime API, on rules the user adds
// to the pool's frontend once (docs/configuration.md, "overload"):
//   - the limits are two process variables, set with `experimental-mode on; set var proc.X int(N)`
//     (0 = no limit), which the frontend's rules compare with the admitted rates: the whole
//     frontend's (a one-entry stick table) and each client's (a stick table keyed by source address);
//   - the clients' offered rates come from `show table <client_table>` (http_req_rate);
//   - the per-server cap is each server's maxconn (`set maxconn server B/S N`, every server of the
//     backend at the time): HAProxy queues what is above it for the backend's `timeout queue`, then
//     answers 503; lifting sets server_maxconn_normal back. A server added while the cap is in force
//     gets it at the next change of the limits.
// Vars and table are named by the settings below, so pools behind one HAProxy use their own.
#ifndef WARMPOOL_PROVIDERS_HAPROXY_HAPROXY_SHEDDER_H_
#define WARMPOOL_PROVIDERS_HAPROXY_HAPROXY_SHEDDER_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "providers/haproxy/runtime_client.h"
#include "warmpool/params.h"
#include "warmpool/shedder.h"

namespace warmpool {

struct HAProxyShedSpec {
  std::string socket;                                  // the provider's admin socket
  std::string rate_var = "proc.warmpool_rate_limit";   // requests/s the frontend admits
  std::string client_var = "proc.warmpool_client_limit";  // requests/s one client is admitted
  std::string client_table = "warmpool_clients";       // stick table: type ip, store http_req_rate(...)
  DurationMs timeout = 2 * kSecond;
  // The per-server cap (ShedLimits::server_concurrency): the backend whose servers get `set maxconn
  // server` while it is in force ("" = never touch maxconn), and their maxconn when it is lifted.
  std::string backend;
  int server_maxconn_normal = 0;  // 0 = no limit, HAProxy's default
};

class HAProxyShedder final : public Shedder {
 public:
  explicit HAProxyShedder(HAProxyShedSpec spec);
  Result<std::vector<ClientRate>> ClientRates() override;
  Status SetLimits(const ShedLimits& limits) override;

 private:
  HAProxyShedSpec spec_;
  RuntimeClient client_;
};

namespace haproxy {
// The entries of `show table <name>`: each entry's key and its http_req_rate(<period ms>)=<count> as
// requests a second. Entries without http_req_rate are skipped; Internal when it is not a table dump.
Result<std::vector<ClientRate>> ParseClientRates(std::string_view text);
}  // namespace haproxy

// Reads `overload.haproxy` settings (rate_var, client_var, client_table, timeout, server_maxconn_normal)
// plus `socket` and, with overload.server_concurrency, `backend` (the provider's). Appends path-named errors and returns nullptr when any is wrong.
std::unique_ptr<Shedder> NewHAProxyShedder(const Params& params, std::vector<std::string>* errors);

}  // namespace warmpool

#endif  // WARMPOOL_PROVIDERS_HAPROXY_HAPROXY_SHEDDER_H_
