// The project's own small HTTP client interface. The implementation (Boost.Beast, in
// controller/http/beast/client.cc) stays behind it, so the rest of the code never sees Boost headers
// and the library can be replaced.
#ifndef WARMPOOL_CONTROLLER_HTTP_CLIENT_H_
#define WARMPOOL_CONTROLLER_HTTP_CLIENT_H_

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "warmpool/status.h"
#include "warmpool/time.h"

namespace warmpool {

struct HttpRequest {
  std::string method = "GET";
  std::string path_and_query;  // "/api/v1/query?query=up" (already URL-encoded), appended to the base URL
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct HttpResponse {
  int status = 0;
  std::string body;
  std::string content_type;
};

struct HttpClientOptions {
  DurationMs connect_timeout = 2 * kSecond;
  DurationMs timeout = 5 * kSecond;  // the whole request
  std::string basic_auth_user;       // basic auth when non-empty
  std::string basic_auth_password;
  std::string bearer_token;  // "Authorization: Bearer ..." when non-empty
  std::string tls_ca_file;   // PEM CA bundle to verify an https server
  bool tls_insecure_skip_verify = false;
  // Limits on what the client reads: a response past one is an error naming the limit, and the
  // connection is closed. Chunk sizes count against the body limit as they are announced.
  size_t max_response_bytes = 64 << 20;
  size_t max_response_header_bytes = 64 << 10;
};

// Thread-compatible: Do() runs on the caller's thread, one request at a time, and keeps the
// connection open for the next (a kept-alive connection the server closed meanwhile is reopened and,
// for GET and HEAD, the request retried once). Errors: kUnavailable (connection refused/reset, DNS,
// TLS, a malformed response, a response past a limit), kDeadlineExceeded (connect or request
// timeout), each naming the method and URL. Never throws. An HTTP error status is NOT an error here:
// the response carries it.
class HttpClient {
 public:
  virtual ~HttpClient() = default;
  virtual Result<HttpResponse> Do(const HttpRequest& request) = 0;
};

// What NewHttpClient checks (a malformed URL, an unreadable CA file, timeouts), without building a
// client: for validating a config.
Status CheckHttpClient(const std::string& base_url, const HttpClientOptions& options);
// `base_url` like "http://127.0.0.1:9090", "https://prom.example:9090/prefix" or "http://[::1]:9090".
// Returns an error for a malformed URL or an unreadable CA file (CheckHttpClient's errors).
Result<std::unique_ptr<HttpClient>> NewHttpClient(const std::string& base_url,
                                                  const HttpClientOptions& options);

// A base URL taken apart (a pure helper shared by the implementation and its tests).
struct HttpUrl {
  bool https = false;
  std::string host;       // without brackets: "::1", "prom.example"
  int port = 0;           // 80 or 443 when the URL names none
  std::string base_path;  // "" or "/prefix" (no trailing slash)
  std::string host_header() const;  // "prom.example:9090", "[::1]:9090"
};
Result<HttpUrl> ParseHttpUrl(const std::string& url);
std::string Base64(std::string_view bytes);

}  // namespace warmpool

#endif  // WARMPOOL_CONTROLLER_HTTP_CLIENT_H_
