// libFuzzer target: the server's request side. Bytes arrive as a client would send them, in pieces
// (the first input byte picks the piece size), through the same parser limits, conversion and
// response building the server runs (controller/http/beast/protocol.h), pipelined requests included.
#include <boost/asio/buffer.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "controller/http/beast/protocol.h"

namespace {

using namespace warmpool;
using namespace warmpool::beast_http;

HttpServerOptions Options() {
  HttpServerOptions o;
  o.max_body_bytes = 64 * 1024;
  o.max_header_bytes = 8 * 1024;
  o.max_headers = 50;
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const HttpServerOptions options = Options();
  if (size == 0) return 0;
  const size_t piece = 1 + data[0] % 64;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string pending;  // what the connection's buffer holds
  size_t fed = 0;
  for (int message = 0; message < 64; ++message) {
    RequestParser parser;
    LimitRequestParser(parser, options);
    parser.eager(true);
    boost::beast::error_code ec;
    while (!parser.is_done()) {
      if (pending.empty() || ec == http::error::need_more) {
        if (fed == input.size()) return 0;  // the client stopped sending: the server would time out
        const size_t n = std::min(piece, input.size() - fed);
        pending.append(input.substr(fed, n));
        fed += n;
      }
      ec = {};
      const size_t used = parser.put(boost::asio::buffer(pending), ec);
      pending.erase(0, used);
      if (!ec && used == 0) ec = http::error::need_more;  // no progress without more bytes
      if (ec && ec != http::error::need_more) {
        std::string kind;
        const HttpServerResponse refusal = RefusalFor(ec, options, &kind);
        (void)MakeResponse(refusal, 11, "", false);
        return 0;  // the server answers and closes
      }
    }
    Converted converted = ConvertRequest(parser.get(), options, "127.0.0.1");
    const HttpServerResponse answer =
        converted.ok ? HttpServerResponse{200, "text/plain", converted.request.path, {}} : converted.refusal;
    (void)PathSegments(converted.request.path);
    (void)ExpectsContinue(parser.get());
    (void)MakeResponse(answer, parser.get().version(), converted.request.method, parser.keep_alive());
    if (!converted.ok || !parser.keep_alive()) return 0;
  }
  return 0;
}
