// HttpProber: ProbeSpec's check over plain HTTP/1.0 to a server's numeric "ip:port", with one deadline
// for connect, send and the status line. Nothing else of the answer is read.
#ifndef WARMPOOL_PROVIDERS_PROBE_HTTP_PROBE_H_
#define WARMPOOL_PROVIDERS_PROBE_HTTP_PROBE_H_

#include "warmpool/probe.h"

namespace warmpool {

class HttpProber final : public Prober {
 public:
  explicit HttpProber(ProbeSpec spec) : spec_(std::move(spec)) {}
  Status Probe(const Server& server) override;

 private:
  ProbeSpec spec_;
};

}  // namespace warmpool

#endif  // WARMPOOL_PROVIDERS_PROBE_HTTP_PROBE_H_
