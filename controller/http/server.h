// The project's own small HTTP server interface. The implementation (cpprestsdk's http_listener, in
// controller/http/cpprest/server.cc) stays behind it, so the REST API never sees cpprest headers and
// the library can be replaced. The pure helpers (URL decoding, listen address parsing) live in
// controller/http/server.cc.
#ifndef WARMPOOL_CONTROLLER_HTTP_SERVER_H_
#define WARMPOOL_CONTROLLER_HTTP_SERVER_H_

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "warmpool/status.h"

namespace warmpool {

struct HttpServerRequest {
  std::string method;                          // "GET", "PUT", ... as sent
  std::string path;                            // URL-decoded, without the query: "/api/v1/pools/web"
  std::map<std::string, std::string> query;    // URL-decoded ('+' is a space); a repeated key keeps the last
  std::map<std::string, std::string> headers;  // names lower-cased; repeated headers joined by ", "
  std::string body;                            // at most HttpServerOptions::max_body_bytes
  std::string remote_address;                  // the peer's IP, when known

  // The header's value, or "" when absent. `name` must be lower case.
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

struct HttpServerResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers, e.g. {"Allow", "GET"}
};

// Called concurrently from the server's threads: it must be thread-safe. An exception it throws
// becomes a 500 with a JSON error. It must not call Stop() of its own server (Stop waits for it).
using HttpHandler = std::function<HttpServerResponse(const HttpServerRequest&)>;

struct HttpServerOptions {
  // "host:port". Port 0 picks a free ephemeral port; HttpServer::port() reports it. An empty host
  // (":9100") listens on every IPv4 interface. IPv6 literals are refused (cpprest's listener splits
  // "host:port" at the first colon).
  std::string listen_address = "127.0.0.1:0";
  // PEM files. Both set: HTTPS (TLS 1.2 or later), read again for every new connection, so a renewed
  // certificate is picked up without a restart. Exactly one set is an error.
  std::string tls_cert_file;
  std::string tls_key_file;
  // Larger request bodies are answered 413 (with a JSON error) and never reach the handler: a
  // Content-Length above the limit, or a chunked body that grows past it. The excess is read and
  // discarded, never buffered.
  size_t max_body_bytes = 1 << 20;
};

// A running server. Destruction stops it.
class HttpServer {
 public:
  virtual ~HttpServer() = default;
  virtual int port() const = 0;  // the bound port (the ephemeral one when asked for port 0)
  virtual bool tls() const = 0;  // serving https
  // Stops serving: waits for handlers in progress to return, later requests get 503 (or, once the
  // listener is closed, 404 from cpprest), and the handler is never called again. Idempotent.
  // The port is released when the process's LAST HttpServer stops: until then cpprest keeps the
  // socket bound, and StartHttpServer refuses that host:port.
  virtual void Stop() = 0;
};

// Starts listening before it returns. Errors (kInvalidArgument) name the bad listen address or the
// TLS file that cannot be loaded; kUnavailable when the address cannot be bound (in use, not local).
Result<std::unique_ptr<HttpServer>> StartHttpServer(const HttpServerOptions& options, HttpHandler handler);

// Sizes the thread pool behind every HTTP server and client of the process (cpprest's shared pool;
// its default of 40 threads only adds scheduling delay on a small machine). Call once, before any
// HTTP client or server exists; returns false (and changes nothing) when it is too late.
bool SetHttpThreads(size_t threads);

// --- helpers, shared by the implementation and its tests ---

// Percent-decoding; with `plus_is_space` (query strings) '+' becomes ' '. A malformed escape is kept
// as is.
std::string UrlDecode(std::string_view text, bool plus_is_space);
// "a=1&b=x%20y&flag" -> {a: 1, b: "x y", flag: ""}.
std::map<std::string, std::string> ParseQueryString(std::string_view query);
struct ListenAddress {
  std::string host;  // "0.0.0.0" for an empty host
  int port = 0;
};
Result<ListenAddress> ParseListenAddress(std::string_view text);
// A port on IPv4 `host` that was free a moment ago: bind to port 0, read it back, close.
Result<int> PickFreePort(const std::string& host);
// A JSON body {"error": message} for errors produced by the server itself.
std::string JsonErrorBody(std::string_view message);

}  // namespace warmpool

#endif  // WARMPOOL_CONTROLLER_HTTP_SERVER_H_
