// The project's own small HTTP server interface. The implementation (Boost.Beast, in
// controller/http/beast/server.cc) stays behind it, so the REST API never sees Boost headers and the
// library can be replaced. The pure helpers (URL decoding, path segments, listen address parsing) live
// in controller/http/server.cc.
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
#include "warmpool/time.h"

namespace warmpool {

struct HttpServerRequest {
  std::string method;                          // "GET", "PUT", ... as sent
  std::string path;  // as sent, NOT decoded, without the query: "/api/v1/pools/web". Route on
                     // PathSegments(path): "web%2Foverride" is one segment, never two.
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
  // (":9100") listens on every IPv4 interface. IPv6 literals are refused.
  std::string listen_address = "127.0.0.1:0";
  // PEM files. Both set: HTTPS (TLS 1.2 or later). The files are checked again when a connection
  // arrives and reloaded when they changed, so a renewed certificate is picked up without a restart
  // (a renewal that cannot be loaded keeps the previous certificate and is reported). Exactly one set
  // is an error.
  std::string tls_cert_file;
  std::string tls_key_file;

  // Limits on every connection. A request past one is answered (413, 431, 400 or 408, with a JSON
  // error and "Connection: close") and never reaches the handler.
  size_t max_body_bytes = 1 << 20;     // a Content-Length above it is refused before the body is read
  size_t max_header_bytes = 16 << 10;  // request line and header fields together
  size_t max_headers = 100;            // header fields
  size_t max_connections = 512;        // open at once; lowered to fit the process's descriptor limit.
                                       // At the cap, the longest-waiting connection that is not being
                                       // answered is closed to make room, so the API keeps answering.
  DurationMs read_header_timeout = 10 * kSecond;  // from the first byte of a request (or the
                                                  // connection's accept, or its TLS handshake) to its
                                                  // last header byte
  DurationMs read_timeout = 30 * kSecond;   // from the first byte of a request to its last body byte
  DurationMs write_timeout = 30 * kSecond;  // to write one response
  DurationMs idle_timeout = 60 * kSecond;   // a kept-alive connection waiting for its next request

  // Told about what the server refused or survived, never on a request's critical path: `kind` is one
  // of "bad_request", "body_too_large", "header_too_large", "timeout", "connection_limit",
  // "tls_reload", "internal"; `detail` says what and from whom. Called from the server's threads; may
  // be empty.
  std::function<void(const std::string& kind, const std::string& detail)> on_refused;
};

// A running server. Destruction stops it.
class HttpServer {
 public:
  virtual ~HttpServer() = default;
  virtual int port() const = 0;  // the bound port (the ephemeral one when asked for port 0)
  virtual bool tls() const = 0;  // serving https
  // Stops serving: closes the listening socket and every connection, waits for handlers in progress
  // to return; the handler is never called again and the port is free. Idempotent.
  virtual void Stop() = 0;
  // Connections open now.
  virtual size_t connections() const = 0;
};

// Starts listening before it returns. Errors (kInvalidArgument) name the bad listen address or the
// TLS file that cannot be loaded; kUnavailable when the address cannot be bound (in use, not local).
Result<std::unique_ptr<HttpServer>> StartHttpServer(const HttpServerOptions& options, HttpHandler handler);

// The number of threads each HTTP server runs its connections and handler on (default 2; at least
// 1). Applies to servers started afterwards. HTTP clients use no threads of their own: Do() runs on
// the caller's thread.
void SetHttpThreads(size_t threads);

// --- helpers, shared by the implementation and its tests ---

// Percent-decoding; with `plus_is_space` (query strings) '+' becomes ' '. A malformed escape is kept
// as is.
std::string UrlDecode(std::string_view text, bool plus_is_space);
// "/api/v1/pools/web%2Fx/" -> {"api", "v1", "pools", "web/x", ""}: split on '/' first, then each
// segment decoded. "/" -> {""}.
std::vector<std::string> PathSegments(std::string_view path);
// "a=1&b=x%20y&flag" -> {a: 1, b: "x y", flag: ""}.
std::map<std::string, std::string> ParseQueryString(std::string_view query);
struct ListenAddress {
  std::string host;  // "0.0.0.0" for an empty host
  int port = 0;
};
Result<ListenAddress> ParseListenAddress(std::string_view text);
// A JSON body {"error": message} for errors produced by the server itself.
std::string JsonErrorBody(std::string_view message);

}  // namespace warmpool

#endif  // WARMPOOL_CONTROLLER_HTTP_SERVER_H_
