// HttpClient over cpprestsdk's asio http_client. The only file that includes cpprest headers; every
// exception cpprest or boost throws is caught here and becomes a Status.
//
// Timeouts. cpprest's own timer is an inactivity timer re-armed after every phase (resolve, connect,
// each read and write), so a server trickling bytes would never trip it, and it has no separate
// connect timeout. Both deadlines are therefore enforced here, over a cancellation token:
//   - connect_timeout: the request must be written (TCP connect, TLS handshake, headers sent) in
//     time. cpprest reports "request sent" through the progress handler (upload direction).
//   - timeout: the whole exchange, response body included, from the start.
// cpprest's timer is set a little beyond `timeout` as a backstop.
#include "controller/http/client.h"

#include <cpprest/http_client.h>

#include <atomic>
#include <chrono>
#include <exception>
#include <future>
#include <memory>
#include <system_error>

namespace warmpool {
namespace {

namespace http = web::http;
using Clock = std::chrono::steady_clock;

// What the cpprest task chain hands back to the waiting caller.
struct Outcome {
  HttpResponse response;
  std::exception_ptr error;
};

std::string WithoutQuery(const std::string& path_and_query) {
  return path_and_query.substr(0, path_and_query.find('?'));
}

std::string BasicAuthHeader(const std::string& user, const std::string& password) {
  const std::string userpass = user + ":" + password;
  return "Basic " +
         utility::conversions::to_base64(std::vector<unsigned char>(userpass.begin(), userpass.end()));
}

// Maps what cpprest threw to a Status naming `where` ("GET https://host:9090/api/v1/query").
Status FromException(const std::exception_ptr& error, const std::string& where) {
  try {
    std::rethrow_exception(error);
  } catch (const http::http_exception& e) {
    if (e.error_code() == std::errc::timed_out) return Status::DeadlineExceeded(where + ": " + e.what());
    return Status::Unavailable(where + ": " + e.what());
  } catch (const std::exception& e) {
    return Status::Unavailable(where + ": " + e.what());
  } catch (...) {
    return Status::Unavailable(where + ": unknown error");
  }
}

class CpprestHttpClient final : public HttpClient {
 public:
  CpprestHttpClient(std::string base_url, HttpClientOptions options,
                    std::unique_ptr<http::client::http_client> client)
      : base_url_(std::move(base_url)), options_(std::move(options)), client_(std::move(client)) {
    if (!options_.bearer_token.empty()) {
      authorization_ = "Bearer " + options_.bearer_token;
    } else if (!options_.basic_auth_user.empty()) {
      authorization_ = BasicAuthHeader(options_.basic_auth_user, options_.basic_auth_password);
    }
  }

  Result<HttpResponse> Do(const HttpRequest& request) override {
    const std::string where = request.method + " " + base_url_ + WithoutQuery(request.path_and_query);
    auto promise = std::make_shared<std::promise<Outcome>>();
    std::future<Outcome> future = promise->get_future();
    auto sent = std::make_shared<std::atomic<bool>>(false);
    pplx::cancellation_token_source cancel;
    const Clock::time_point start = Clock::now();
    try {
      http::http_request req(request.method);
      req.set_request_uri(request.path_and_query);
      for (const auto& [name, value] : request.headers) req.headers().add(name, value);
      if (!authorization_.empty()) req.headers().add(http::header_names::authorization, authorization_);
      if (!request.body.empty()) req.set_body(request.body);
      req.set_progress_handler([sent](http::message_direction::direction d, utility::size64_t) {
        if (d == http::message_direction::upload) sent->store(true);
      });
      client_->request(req, cancel.get_token())
          .then([](http::http_response resp) {
            return resp.extract_vector().then([resp](std::vector<unsigned char> body) {
              HttpResponse out;
              out.status = resp.status_code();
              out.body.assign(body.begin(), body.end());
              out.content_type = resp.headers().content_type();
              return out;
            });
          })
          .then([promise](pplx::task<HttpResponse> task) {
            Outcome outcome;
            try {
              outcome.response = task.get();
            } catch (...) {
              outcome.error = std::current_exception();
            }
            promise->set_value(std::move(outcome));
          });
    } catch (...) {  // a malformed path, or cpprest refusing the request before sending it
      return FromException(std::current_exception(), where);
    }

    const auto connect_deadline = start + std::chrono::milliseconds(options_.connect_timeout);
    const auto deadline = start + std::chrono::milliseconds(options_.timeout);
    std::string timed_out;
    if (future.wait_until(std::min(connect_deadline, deadline)) != std::future_status::ready &&
        !sent->load()) {
      timed_out =
          "could not connect within " + FormatDuration(std::min(options_.connect_timeout, options_.timeout));
    } else if (future.wait_until(deadline) != std::future_status::ready) {
      timed_out = "no complete response within " + FormatDuration(options_.timeout);
    }
    if (!timed_out.empty()) {
      cancel.cancel();  // closes the connection; the task chain settles soon after
      future.wait_for(std::chrono::seconds(1));
      return Status::DeadlineExceeded(where + ": " + timed_out);
    }
    Outcome outcome = future.get();
    if (outcome.error) return FromException(outcome.error, where);
    return std::move(outcome.response);
  }

 private:
  std::string base_url_;
  HttpClientOptions options_;
  std::string authorization_;
  std::unique_ptr<http::client::http_client> client_;
};

Status CheckCaFile(const std::string& path) {
  try {
    boost::asio::ssl::context ctx(boost::asio::ssl::context::sslv23);
    ctx.load_verify_file(path);
    return Status::Ok();
  } catch (const std::exception& e) {
    return Status::InvalidArgument("cannot load CA file \"" + path + "\": " + e.what());
  }
}

std::string WithoutTrailingSlashes(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

}  // namespace

Status CheckHttpClient(const std::string& base_url, const HttpClientOptions& options) {
  const std::string url = WithoutTrailingSlashes(base_url);
  const bool https = url.rfind("https://", 0) == 0;
  if (!https && url.rfind("http://", 0) != 0) {
    return Status::InvalidArgument("url \"" + base_url + "\" must start with http:// or https://");
  }
  if (options.timeout <= 0 || options.connect_timeout <= 0) {
    return Status::InvalidArgument("timeouts must be positive");
  }
  if (https && !options.tls_ca_file.empty()) {
    if (Status s = CheckCaFile(options.tls_ca_file); !s.ok()) return s;
  }
  try {
    // Parsing the URL builds no client: cpprest's thread pool is not started (SetHttpThreads).
    if (web::uri(url).host().empty()) return Status::InvalidArgument("url \"" + base_url + "\" has no host");
  } catch (const std::exception& e) {
    return Status::InvalidArgument("url \"" + base_url + "\": " + e.what());
  }
  return Status::Ok();
}

Result<std::unique_ptr<HttpClient>> NewHttpClient(const std::string& base_url,
                                                  const HttpClientOptions& options) {
  if (Status st = CheckHttpClient(base_url, options); !st.ok()) return st;
  std::string url = WithoutTrailingSlashes(base_url);
  const bool https = url.rfind("https://", 0) == 0;
  try {
    http::client::http_client_config config;
    config.set_timeout(std::chrono::milliseconds(options.timeout + kSecond));  // backstop, see the top
    if (https) {
      config.set_validate_certificates(!options.tls_insecure_skip_verify);
      if (!options.tls_ca_file.empty()) {
        const std::string ca = options.tls_ca_file;
        // Called for every new connection; a CA file that became unreadable since NewHttpClient
        // throws here, and cpprest reports it as that request's failure.
        config.set_ssl_context_callback([ca](boost::asio::ssl::context& ctx) { ctx.load_verify_file(ca); });
      }
    }
    auto client = std::make_unique<http::client::http_client>(web::uri(url), config);
    return std::unique_ptr<HttpClient>(
        std::make_unique<CpprestHttpClient>(std::move(url), options, std::move(client)));
  } catch (const std::exception& e) {
    return Status::InvalidArgument("url \"" + base_url + "\": " + e.what());
  }
}

}  // namespace warmpool
