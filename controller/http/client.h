// The project's own small HTTP client interface. The implementation (cpprestsdk) stays behind it,
// so the rest of the code never sees cpprest headers and the library can be replaced.
#ifndef WARMPOOL_CONTROLLER_HTTP_CLIENT_H_
#define WARMPOOL_CONTROLLER_HTTP_CLIENT_H_

#include <memory>
#include <string>
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
};

// Thread-compatible. Errors: kUnavailable (connection refused/reset, DNS, TLS), kDeadlineExceeded
// (connect or request timeout), each naming the URL. An HTTP error status is NOT an error here:
// the response carries it.
class HttpClient {
 public:
  virtual ~HttpClient() = default;
  virtual Result<HttpResponse> Do(const HttpRequest& request) = 0;
};

// What NewHttpClient checks (a malformed URL, an unreadable CA file, timeouts), without building a
// client: for validating a config, which must not start the HTTP library's threads.
Status CheckHttpClient(const std::string& base_url, const HttpClientOptions& options);
// `base_url` like "http://127.0.0.1:9090" or "https://prom.example:9090/prefix".
// Returns an error for a malformed URL or an unreadable CA file (CheckHttpClient's errors).
Result<std::unique_ptr<HttpClient>> NewHttpClient(const std::string& base_url,
                                                  const HttpClientOptions& options);

}  // namespace warmpool

#endif  // WARMPOOL_CONTROLLER_HTTP_CLIENT_H_
