// libFuzzer target: the client's response side. Bytes arrive as a server would send them, in pieces
// (the first input byte picks the piece size), through the same parser limits and conversion the
// client runs (controller/http/beast/protocol.h). A message that needs the end of the stream to end
// is given it, as the client gets it when the server closes.
#include <boost/asio/buffer.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "controller/http/beast/protocol.h"

using namespace warmpool;
using namespace warmpool::beast_http;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const HttpClientOptions options = [] {
    HttpClientOptions o;
    o.max_response_bytes = 256 * 1024;
    o.max_response_header_bytes = 8 * 1024;
    return o;
  }();
  if (size == 0) return 0;
  const size_t piece = 1 + data[0] % 64;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  ResponseParser parser;
  LimitResponseParser(parser, options);
  parser.eager(true);
  std::string pending;
  size_t fed = 0;
  boost::beast::error_code ec;
  while (!parser.is_done()) {
    if (pending.empty() || ec == http::error::need_more) {
      if (fed == input.size()) {
        ec = {};
        if (parser.got_some()) {
          parser.put_eof(ec);  // the server closed
        } else {
          ec = http::error::end_of_stream;  // as Beast's read reports a close before any byte
        }
        break;
      }
      const size_t n = std::min(piece, input.size() - fed);
      pending.append(input.substr(fed, n));
      fed += n;
    }
    ec = {};
    const size_t used = parser.put(boost::asio::buffer(pending), ec);
    pending.erase(0, used);
    if (!ec && used == 0) ec = http::error::need_more;  // no progress without more bytes
    if (ec && ec != http::error::need_more) break;
  }
  if (ec) {
    (void)DescribeResponseError(ec, options);
    return 0;
  }
  if (parser.is_done()) {
    HttpResponse r = ConvertResponse(parser.release());
    (void)r;
  }
  return 0;
}
