// HttpClient over Boost.Beast and Asio. Do() runs the exchange on the caller's thread, on the client's
// own io_context: no background thread, so no exception can escape one, and every operation runs
// under a deadline (connect_timeout for resolve + connect + TLS handshake, timeout for the whole
// exchange). The response parser's limits bound what a hostile server can make the client buffer.
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <openssl/ssl.h>

#include <chrono>
#include <optional>
#include <variant>

#include "controller/files/read_file.h"
#include "controller/http/beast/protocol.h"
#include "controller/http/client.h"

namespace warmpool {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

constexpr auto kReuseIdle = std::chrono::seconds(30);  // older kept-alive connections are reopened

std::string WithoutQuery(const std::string& path_and_query) {
  return path_and_query.substr(0, path_and_query.find('?'));
}

constexpr size_t kMaxCaBytes = 1 << 20;  // a CA bundle

// The CA file's certificates into `ctx`: read through warmpool::files (a regular file, bounded: a FIFO
// must not hang the start), then handed to OpenSSL from memory.
Status LoadCaFile(const std::string& path, ssl::context* ctx) {
  Result<std::string> pem = ReadWholeFile(path, kMaxCaBytes);
  if (!pem.ok()) return Status::InvalidArgument("cannot load CA file: " + pem.status().message());
  boost::system::error_code ec;
  ctx->add_certificate_authority(boost::asio::buffer(*pem), ec);
  if (ec) return Status::InvalidArgument("cannot load CA file \"" + path + "\": " + ec.message());
  return Status::Ok();
}

Status CheckCaFile(const std::string& path) {
  ssl::context ctx(ssl::context::tls_client);
  return LoadCaFile(path, &ctx);
}

// One open connection, plain or TLS, with the bytes read past the last response.
struct Connection {
  std::variant<std::monostate, beast::tcp_stream, TlsStream> stream;
  beast::flat_buffer buffer;
  Clock::time_point last_used;
  beast::tcp_stream& Lowest() {
    if (auto* plain = std::get_if<beast::tcp_stream>(&stream)) return *plain;
    return beast::get_lowest_layer(std::get<TlsStream>(stream));
  }
};

// Why an attempt failed, and whether it is safe to try again on a fresh connection.
struct Failure {
  Status status;
  bool retry = false;
};

class BeastHttpClient final : public HttpClient {
 public:
  BeastHttpClient(std::string base_url, HttpUrl url, HttpClientOptions options)
      : base_url_(std::move(base_url)), url_(std::move(url)), options_(std::move(options)) {
    if (!options_.bearer_token.empty()) {
      authorization_ = "Bearer " + options_.bearer_token;
    } else if (!options_.basic_auth_user.empty()) {
      authorization_ = "Basic " + Base64(options_.basic_auth_user + ":" + options_.basic_auth_password);
    }
  }

  Result<HttpResponse> Do(const HttpRequest& request) override {
    const std::string where = request.method + " " + base_url_ + WithoutQuery(request.path_and_query);
    const Clock::time_point start = Clock::now();
    try {
      const bool reused = conn_ && Clock::now() - conn_->last_used < kReuseIdle;
      if (!reused) conn_.reset();
      std::variant<HttpResponse, Failure> first = Attempt(request, where, start);
      if (auto* f = std::get_if<Failure>(&first); f && reused && f->retry) {
        conn_.reset();  // the server closed the kept-alive connection: once more on a new one
        first = Attempt(request, where, start);
      }
      if (auto* f = std::get_if<Failure>(&first)) {
        conn_.reset();
        return f->status;
      }
      return std::move(std::get<HttpResponse>(first));
    } catch (const std::exception& e) {
      conn_.reset();
      return Status::Unavailable(where + ": " + e.what());
    }
  }

 private:
  // Runs one asynchronous operation on the client's io_context until it completes.
  template <class Start>
  beast::error_code Run(Start&& start) {
    beast::error_code result = net::error::would_block;
    start([&result](beast::error_code ec, auto&&...) { result = ec; });
    ioc_.restart();
    ioc_.run();
    return result;
  }

  std::variant<HttpResponse, Failure> Attempt(const HttpRequest& request, const std::string& where,
                                              Clock::time_point start) {
    const auto connect_deadline = start + std::chrono::milliseconds(std::min(options_.connect_timeout, options_.timeout));
    const auto deadline = start + std::chrono::milliseconds(options_.timeout);
    const bool fresh = !conn_;
    if (fresh) {
      if (std::optional<Failure> f = Connect(where, connect_deadline)) return *f;
    }
    auto fail = [&](beast::error_code ec, bool before_response, const char* what) -> Failure {
      if (ec == beast::error::timeout) {
        const bool connecting = Clock::now() >= connect_deadline && fresh && !sent_;
        return Failure{Status::DeadlineExceeded(
            where + ": " + (connecting ? "could not connect within " + FormatDuration(options_.connect_timeout)
                                       : "no complete response within " + FormatDuration(options_.timeout)))};
      }
      const bool idempotent = request.method == "GET" || request.method == "HEAD";
      // A kept-alive connection the server had closed fails at once: the write, or the first read.
      const bool retry = !fresh && (std::string(what) == "write" || (before_response && idempotent));
      return Failure{Status::Unavailable(where + ": " + std::string(what) + ": " +
                                         beast_http::DescribeResponseError(ec, options_)),
                     retry};
    };

    auto req = beast_http::MakeRequest(request, url_.host_header(), url_.base_path, authorization_);
    sent_ = false;
    conn_->Lowest().expires_at(deadline);
    beast::error_code ec = std::visit(
        [&](auto& s) -> beast::error_code {
          if constexpr (std::is_same_v<std::decay_t<decltype(s)>, std::monostate>) {
            return net::error::not_connected;
          } else {
            return Run([&](auto handler) { http::async_write(s, req, handler); });
          }
        },
        conn_->stream);
    if (ec) return fail(ec, true, "write");
    sent_ = true;

    beast_http::ResponseParser parser;
    beast_http::LimitResponseParser(parser, options_);
    ec = std::visit(
        [&](auto& s) -> beast::error_code {
          if constexpr (std::is_same_v<std::decay_t<decltype(s)>, std::monostate>) {
            return net::error::not_connected;
          } else {
            return Run([&](auto handler) { http::async_read(s, conn_->buffer, parser, handler); });
          }
        },
        conn_->stream);
    if (ec) {
      const bool nothing_read = !parser.got_some() && conn_->buffer.size() == 0;
      return fail(ec, nothing_read, "read");
    }
    const bool keep = parser.keep_alive();
    HttpResponse response = beast_http::ConvertResponse(parser.release());
    if (keep) {
      conn_->last_used = Clock::now();
    } else {
      conn_.reset();
    }
    return response;
  }

  std::optional<Failure> Connect(const std::string& where, Clock::time_point deadline) {
    auto fail = [&](beast::error_code ec, const std::string& what) {
      if (ec == beast::error::timeout || ec == net::error::operation_aborted) {
        return Failure{Status::DeadlineExceeded(where + ": could not connect within " +
                                                FormatDuration(std::min(options_.connect_timeout, options_.timeout)))};
      }
      return Failure{Status::Unavailable(where + ": " + what + ": " + ec.message())};
    };
    // Resolve under the deadline: a timer cancels a lookup that hangs.
    tcp::resolver resolver(ioc_);
    net::steady_timer timer(ioc_);
    timer.expires_at(deadline);
    timer.async_wait([&resolver](beast::error_code ec) {
      if (!ec) resolver.cancel();
    });
    tcp::resolver::results_type endpoints;
    beast::error_code ec = Run([&](auto handler) {
      resolver.async_resolve(url_.host, std::to_string(url_.port),
                             [&endpoints, handler, &timer](beast::error_code e, tcp::resolver::results_type r) mutable {
                               timer.cancel();
                               endpoints = std::move(r);
                               handler(e);
                             });
    });
    if (ec) return fail(ec, "cannot resolve " + url_.host);

    auto conn = std::make_unique<Connection>();
    if (url_.https) {
      if (!tls_) {
        if (Status s = MakeTlsContext(); !s.ok()) return Failure{Status::Unavailable(where + ": " + s.message())};
      }
      conn->stream.emplace<TlsStream>(ioc_, *tls_);
    } else {
      conn->stream.emplace<beast::tcp_stream>(ioc_);
    }
    conn->Lowest().expires_at(deadline);
    ec = Run([&](auto handler) { conn->Lowest().async_connect(endpoints, handler); });
    if (ec) return fail(ec, "cannot connect");
    beast::error_code nodelay;
    conn->Lowest().socket().set_option(tcp::no_delay(true), nodelay);
    if (auto* tls = std::get_if<TlsStream>(&conn->stream)) {
      if (!SSL_set_tlsext_host_name(tls->native_handle(), url_.host.c_str())) {
        return Failure{Status::Unavailable(where + ": cannot set the TLS server name")};
      }
      if (!options_.tls_insecure_skip_verify) tls->set_verify_callback(ssl::host_name_verification(url_.host));
      ec = Run([&](auto handler) { tls->async_handshake(ssl::stream_base::client, handler); });
      if (ec) return fail(ec, "TLS handshake");
    }
    conn->last_used = Clock::now();
    conn_ = std::move(conn);
    return std::nullopt;
  }

  Status MakeTlsContext() {
    auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
    boost::system::error_code ec;
    if (options_.tls_insecure_skip_verify) {
      ctx->set_verify_mode(ssl::verify_none, ec);
    } else {
      ctx->set_verify_mode(ssl::verify_peer, ec);
      if (!options_.tls_ca_file.empty()) {
        if (Status st = LoadCaFile(options_.tls_ca_file, ctx.get()); !st.ok()) return st;
      } else {
        ctx->set_default_verify_paths(ec);
      }
    }
    tls_ = std::move(ctx);
    return Status::Ok();
  }

  const std::string base_url_;
  const HttpUrl url_;
  const HttpClientOptions options_;
  std::string authorization_;
  net::io_context ioc_{1};
  std::unique_ptr<ssl::context> tls_;  // made on the first https connection
  std::unique_ptr<Connection> conn_;   // kept alive between requests
  bool sent_ = false;
};

std::string WithoutTrailingSlashes(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

}  // namespace

Status CheckHttpClient(const std::string& base_url, const HttpClientOptions& options) {
  Result<HttpUrl> url = ParseHttpUrl(base_url);
  if (!url.ok()) return url.status();
  if (options.timeout <= 0 || options.connect_timeout <= 0) {
    return Status::InvalidArgument("timeouts must be positive");
  }
  if (options.max_response_bytes == 0 || options.max_response_header_bytes == 0) {
    return Status::InvalidArgument("response size limits must be positive");
  }
  if (url->https && !options.tls_ca_file.empty()) {
    if (Status s = CheckCaFile(options.tls_ca_file); !s.ok()) return s;
  }
  return Status::Ok();
}

Result<std::unique_ptr<HttpClient>> NewHttpClient(const std::string& base_url, const HttpClientOptions& options) {
  if (Status st = CheckHttpClient(base_url, options); !st.ok()) return st;
  Result<HttpUrl> url = ParseHttpUrl(base_url);
  return std::unique_ptr<HttpClient>(
      std::make_unique<BeastHttpClient>(WithoutTrailingSlashes(base_url), std::move(url).value(), options));
}

}  // namespace warmpool
