// The sans-I/O half of the Beast server and client: how a request or a response is parsed (limits
// included), converted to the project's types, and how a parse error becomes an answer. The server,
// the client and the fuzzers (tests/fuzz/) all go through these functions, so what is fuzzed is what
// runs. Private to controller/http/beast/: it includes Boost.
#ifndef WARMPOOL_CONTROLLER_HTTP_BEAST_PROTOCOL_H_
#define WARMPOOL_CONTROLLER_HTTP_BEAST_PROTOCOL_H_

#include <boost/beast/core/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstddef>
#include <string>
#include <string_view>

#include "controller/http/client.h"
#include "controller/http/server.h"

namespace warmpool::beast_http {

namespace http = boost::beast::http;
using RequestParser = http::request_parser<http::string_body>;
using ResponseParser = http::response_parser<http::string_body>;
using Response = http::response<http::string_body>;

// The limits of HttpServerOptions applied to a fresh parser (one per request).
void LimitRequestParser(RequestParser& parser, const HttpServerOptions& options);

// A parsed request in the project's terms, or the answer that refuses it (a target that is not a
// path, too many header fields).
struct Converted {
  bool ok = false;
  HttpServerRequest request;
  HttpServerResponse refusal;  // when !ok
  std::string refusal_kind;    // HttpServerOptions::on_refused's kind
};
Converted ConvertRequest(const RequestParser::value_type& message, const HttpServerOptions& options,
                         std::string remote_address);

// The answer to a request the parser refused (`ec` from reading its header or body): 413 for a body
// past the limit, 431 for a header past it, 400 for anything malformed. `kind` is on_refused's kind.
HttpServerResponse RefusalFor(const boost::beast::error_code& ec, const HttpServerOptions& options,
                              std::string* kind);

// The wire message for `r`, answering a request of `request_version` (10 or 11) and `method`. HEAD
// gets the headers without the body.
Response MakeResponse(const HttpServerResponse& r, unsigned request_version, std::string_view method,
                      bool keep_alive);

// Whether the request asked for "100-continue" before sending its body.
bool ExpectsContinue(const RequestParser::value_type& message);

// The client's limits on a response it reads.
void LimitResponseParser(ResponseParser& parser, const HttpClientOptions& options);
// What a refused response is called in an error: "malformed response (bad chunk)", "response body
// larger than the limit of 32 MiB", ...
std::string DescribeResponseError(const boost::beast::error_code& ec, const HttpClientOptions& options);
HttpResponse ConvertResponse(ResponseParser::value_type&& message);

// One request for the client to write: the target is base_path + path_and_query.
http::request<http::string_body> MakeRequest(const HttpRequest& request, const std::string& host_header,
                                             const std::string& base_path, const std::string& authorization);

}  // namespace warmpool::beast_http

#endif  // WARMPOOL_CONTROLLER_HTTP_BEAST_PROTOCOL_H_
