// libFuzzer target: the parsers of what Warmpool reads from others and from its own files -- a
// Prometheus answer, HAProxy's runtime API replies, the state and learned documents, a trace and a
// mask, cron expressions and durations. The first input byte picks the parser; the rest is its input.
#include <cstddef>
#include <cstdint>
#include <string>

#include "controller/sources/prometheus/parse.h"
#include "controller/sources/trace/mask.h"
#include "controller/sources/trace/trace.h"
#include "controller/state/codec.h"
#include "policies/cron.h"
#include "providers/haproxy/haproxy_parse.h"
#include "warmpool/time.h"

using namespace warmpool;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 8) {
    case 0: {
      Result<PromResult> r = ParsePromResponse(200, text);
      if (r.ok()) {
        (void)OnlySeries(*r);
        (void)NewestRawSample(*r);
      }
      (void)ParsePromResponse(400 + data[0] % 100, text);
      break;
    }
    case 1: (void)haproxy::ParseServersState(text); break;
    case 2:
      (void)haproxy::ParseShowStat(text);
      (void)haproxy::ParseProxyCounter(text, "web", "BACKEND", "req_tot");
      (void)haproxy::ParseProxyCounter(text, "fe", "FRONTEND", "stot");
      break;
    case 3:
      for (const std::string& reply : haproxy::SplitReplies(text, 1 + data[0] % 4)) {
        (void)haproxy::CheckReply("show info", reply);
      }
      break;
    case 4:
      (void)DecodeState(text);
      (void)DecodeLearned(text);
      break;
    case 5: (void)ParseTrace(text, "fuzz.csv"); break;
    case 6: (void)ParseMask(text, "mask.csv"); break;
    case 7: {
      Result<DurationMs> d = ParseDuration(text);
      if (d.ok()) (void)ParseDuration(FormatDuration(*d));
      (void)Cron::Parse(text);
      break;
    }
  }
  return 0;
}
