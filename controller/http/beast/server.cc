// HttpServer over Boost.Beast and Asio. The only file that runs a listening socket; every exception
// Asio, Beast or the handler throws is caught here (see docs/ARCHITECTURE.md for why this replaced
// cpprestsdk's listener).
//
// One io_context per server, run by SetHttpThreads() threads. Each connection lives on its own strand
// and goes through: [TLS handshake] -> wait for a request (idle_timeout, or read_header_timeout for the
// first) -> header (read_header_timeout from its first byte) -> [100 Continue] -> body (read_timeout
// from the first byte) -> handler -> response (write_timeout) -> next request, or a lingering close.
// Pipelined requests stay in the connection's buffer and are answered in order, one at a time.
// The parser's limits (header bytes, body bytes, chunk sizes against the body limit) refuse a request
// before it is buffered; a refusal is answered and the connection closed.
#include <sys/resource.h>
#include <sys/stat.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <openssl/ssl.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>

#include "controller/files/read_file.h"
#include "controller/http/beast/protocol.h"
#include "controller/http/server.h"

namespace warmpool {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
using beast_http::RequestParser;
using beast_http::Response;

std::atomic<size_t> g_threads{2};
constexpr size_t kLingerBytes = 1 << 20;  // read and dropped after a refusal, before the close
constexpr auto kLingerTime = std::chrono::seconds(2);

std::chrono::milliseconds Ms(DurationMs d) { return std::chrono::milliseconds(d); }

// --- TLS: the context for new connections, reloaded when the PEM files change ---

struct FileStamp {
  timespec mtime{};
  off_t size = -1;
  ino_t inode = 0;
  bool operator==(const FileStamp& o) const {
    return mtime.tv_sec == o.mtime.tv_sec && mtime.tv_nsec == o.mtime.tv_nsec && size == o.size &&
           inode == o.inode;
  }
};

FileStamp Stamp(const std::string& path) {
  struct stat st {};
  FileStamp s;
  if (::stat(path.c_str(), &st) == 0) s = FileStamp{st.st_mtim, st.st_size, st.st_ino};
  return s;
}

constexpr size_t kMaxPemBytes = 1 << 20;  // a certificate chain or a key

Result<std::shared_ptr<ssl::context>> LoadTls(const std::string& cert, const std::string& key) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                   ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  boost::system::error_code ec;
  // Read through warmpool::files (a regular file, bounded: a FIFO named here must not hang the start),
  // then handed to OpenSSL from memory.
  Result<std::string> cert_pem = ReadWholeFile(cert, kMaxPemBytes);
  if (!cert_pem.ok()) return Status::InvalidArgument("tls cert_file: " + cert_pem.status().message());
  Result<std::string> key_pem = ReadWholeFile(key, kMaxPemBytes);
  if (!key_pem.ok()) return Status::InvalidArgument("tls key_file: " + key_pem.status().message());
  ctx->use_certificate_chain(boost::asio::buffer(*cert_pem), ec);
  if (ec) {
    return Status::InvalidArgument("tls cert_file \"" + cert + "\": cannot load a PEM certificate: " + ec.message());
  }
  ctx->use_private_key(boost::asio::buffer(*key_pem), ssl::context::pem, ec);
  if (ec) {
    return Status::InvalidArgument("tls key_file \"" + key + "\": cannot load a PEM private key matching cert_file \"" +
                                   cert + "\": " + ec.message());
  }
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
    return Status::InvalidArgument("tls key_file \"" + key + "\" does not match cert_file \"" + cert + "\"");
  }
  return ctx;
}

class TlsFiles {
 public:
  TlsFiles(std::string cert, std::string key) : cert_(std::move(cert)), key_(std::move(key)) {}
  Status Load() {
    Result<std::shared_ptr<ssl::context>> ctx = LoadTls(cert_, key_);
    if (!ctx.ok()) return ctx.status();
    ctx_ = std::move(ctx).value();
    stamps_ = {Stamp(cert_), Stamp(key_)};
    return Status::Ok();
  }
  // The context for a new connection; reloads it first when a file changed. `error` is set when a
  // changed file cannot be loaded (once per change): the previous context stays in use.
  std::shared_ptr<ssl::context> Current(std::string* error) {
    std::lock_guard<std::mutex> lock(mu_);
    const std::pair<FileStamp, FileStamp> now{Stamp(cert_), Stamp(key_)};
    if (now.first == stamps_.first && now.second == stamps_.second) return ctx_;
    stamps_ = now;
    Result<std::shared_ptr<ssl::context>> ctx = LoadTls(cert_, key_);
    if (ctx.ok()) {
      ctx_ = std::move(ctx).value();
    } else {
      *error = ctx.status().message() + " (the previous certificate stays in use)";
    }
    return ctx_;
  }

 private:
  const std::string cert_, key_;
  std::mutex mu_;
  std::shared_ptr<ssl::context> ctx_;
  std::pair<FileStamp, FileStamp> stamps_;
};

// --- what every connection of one server shares ---

class Connection {
 public:
  virtual ~Connection() = default;
  virtual void Evict() = 0;  // closes the connection on its own strand
};

struct Shared {
  HttpServerOptions options;
  HttpHandler handler;
  size_t max_connections = 0;  // options.max_connections, fitted to the descriptor limit

  void Report(const std::string& kind, const std::string& detail) const {
    if (!options.on_refused) return;
    try {
      options.on_refused(kind, detail);
    } catch (...) {  // a reporter that fails must not take the connection down with it
    }
  }

  // The registry of open connections: what the cap counts, and what it evicts from.
  struct Entry {
    std::weak_ptr<Connection> connection;
    bool handling = false;  // the handler runs: cannot be closed until it returns
    Clock::time_point since;
  };
  std::mutex mu;
  std::map<const Connection*, Entry> open;

  void Register(const std::shared_ptr<Connection>& c) {
    std::lock_guard<std::mutex> lock(mu);
    open[c.get()] = Entry{c, false, Clock::now()};
  }
  void Unregister(const Connection* c) {
    std::lock_guard<std::mutex> lock(mu);
    open.erase(c);
  }
  void SetHandling(const Connection* c, bool handling) {
    std::lock_guard<std::mutex> lock(mu);
    auto it = open.find(c);
    if (it == open.end()) return;
    it->second.handling = handling;
    it->second.since = Clock::now();
  }
  size_t Count() {
    std::lock_guard<std::mutex> lock(mu);
    return open.size();
  }
  // Closes the connection that has waited longest (for its client, or on a slow write) and is not in
  // its handler. False when every connection is in its handler.
  bool EvictOne() {
    std::shared_ptr<Connection> victim;
    {
      std::lock_guard<std::mutex> lock(mu);
      const Entry* oldest = nullptr;
      for (const auto& [key, entry] : open) {
        if (entry.handling || (oldest && entry.since >= oldest->since)) continue;
        oldest = &entry;
      }
      if (oldest) victim = oldest->connection.lock();
    }
    if (!victim) return false;
    victim->Evict();
    return true;
  }
};

template <class Stream>
class Session final : public Connection, public std::enable_shared_from_this<Session<Stream>> {
 public:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  // `tls` (null for plain HTTP) is the context the stream was made with: kept alive as long as the
  // stream, although a reload replaces the server's.
  template <class... Args>
  Session(std::shared_ptr<Shared> shared, std::string remote, std::shared_ptr<ssl::context> tls,
          Args&&... stream_args)
      : shared_(std::move(shared)),
        options_(shared_->options),
        remote_(std::move(remote)),
        tls_(std::move(tls)),
        stream_(std::forward<Args>(stream_args)...),
        buffer_(std::max<size_t>(options_.max_header_bytes, 8192) + 65536) {}
  ~Session() override { shared_->Unregister(this); }

  // Starts serving; `refusal` non-empty answers it 503 at once and closes (the connection cap).
  void Start(bool refuse) {
    shared_->Register(this->shared_from_this());
    net::dispatch(stream_.get_executor(), [self = this->shared_from_this(), refuse] {
      if constexpr (kTls) {
        self->Lowest().expires_after(Ms(self->options_.read_header_timeout));
        self->stream_.async_handshake(ssl::stream_base::server, [self, refuse](beast::error_code ec) {
          if (ec) {
            self->shared_->Report("tls_handshake", "from " + self->remote_ + ": " + ec.message());
            return self->Close();
          }
          self->Begin(refuse);
        });
      } else {
        self->Begin(refuse);
      }
    });
  }

  void Evict() override {
    net::post(stream_.get_executor(), [self = this->shared_from_this()] { self->Close(); });
  }

 private:
  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }
  std::shared_ptr<Session> Self() { return this->shared_from_this(); }

  void Begin(bool refuse) {
    if (refuse) {
      Refuse(HttpServerResponse{503, "application/json",
                                JsonErrorBody("too many connections: every one of the " +
                                              std::to_string(shared_->max_connections) +
                                              " allowed is in its handler; retry shortly"),
                                {{"Retry-After", "1"}}},
             "", "");
      return;
    }
    WaitForRequest(true);
  }

  // Waits for the first byte of the next request: the idle timeout between requests of a kept-alive
  // connection; a new connection has read_header_timeout for its whole header.
  void WaitForRequest(bool first) {
    parser_.emplace();
    beast_http::LimitRequestParser(*parser_, options_);
    if (first || buffer_.size() > 0) {
      request_start_ = Clock::now();
      return ReadHeader();
    }
    Lowest().expires_after(Ms(options_.idle_timeout));
    stream_.async_read_some(buffer_.prepare(4096), [self = Self()](beast::error_code ec, size_t n) {
      if (ec) return self->Close();  // idle timeout, or the client went away
      self->buffer_.commit(n);
      self->request_start_ = Clock::now();
      self->ReadHeader();
    });
  }

  void ReadHeader() {
    Lowest().expires_at(request_start_ + Ms(options_.read_header_timeout));
    http::async_read_header(stream_, buffer_, *parser_, [self = Self()](beast::error_code ec, size_t) {
      if (ec) return self->ReadFailed(ec, "header");
      if (beast_http::ExpectsContinue(self->parser_->get()) && !self->parser_->is_done()) {
        return self->SendContinue();
      }
      self->ReadBody();
    });
  }

  void SendContinue() {
    continue_ = std::make_shared<http::response<http::empty_body>>(http::status::continue_, 11);
    Lowest().expires_after(Ms(options_.write_timeout));
    http::async_write(stream_, *continue_, [self = Self()](beast::error_code ec, size_t) {
      self->continue_.reset();
      if (ec) return self->Close();
      self->ReadBody();
    });
  }

  void ReadBody() {
    if (parser_->is_done()) return Dispatch();
    Lowest().expires_at(request_start_ + Ms(options_.read_timeout));
    http::async_read(stream_, buffer_, *parser_, [self = Self()](beast::error_code ec, size_t) {
      if (ec) return self->ReadFailed(ec, "body");
      self->Dispatch();
    });
  }

  void ReadFailed(beast::error_code ec, const char* phase) {
    if (ec == http::error::end_of_stream || ec == net::error::operation_aborted) return Close();
    if (ec == beast::error::timeout) {
      const DurationMs limit = std::string(phase) == "header" ? options_.read_header_timeout : options_.read_timeout;
      return Refuse(HttpServerResponse{408, "application/json",
                                       JsonErrorBody(std::string("request ") + phase + " not received within " +
                                                     FormatDuration(limit)),
                                       {}},
                    "timeout", std::string("request ") + phase + " too slow");
    }
    if (ec.category() == http::make_error_code(http::error::bad_version).category()) {
      std::string kind;
      HttpServerResponse r = beast_http::RefusalFor(ec, options_, &kind);
      return Refuse(std::move(r), kind, std::string("request ") + phase + ": " + ec.message());
    }
    Close();  // reset, or the client closed in the middle: nobody to answer
  }

  void Dispatch() {
    shared_->SetHandling(this, true);
    bool keep_alive = false;
    unsigned version = 11;
    std::string method;
    HttpServerResponse answer;
    try {
      const RequestParser::value_type& message = parser_->get();
      keep_alive = message.keep_alive();
      version = message.version();
      beast_http::Converted converted = beast_http::ConvertRequest(message, options_, remote_);
      if (!converted.ok) {
        shared_->SetHandling(this, false);
        return Refuse(std::move(converted.refusal), converted.refusal_kind, "request refused");
      }
      method = converted.request.method;
      parser_.reset();  // the body is in the request now: drop the parser's copy
      answer = CallHandler(converted.request);
    } catch (const std::exception& e) {
      shared_->Report("internal", "answering a request from " + remote_ + ": " + e.what());
      answer = HttpServerResponse{500, "application/json", JsonErrorBody(std::string("internal error: ") + e.what()), {}};
      keep_alive = false;
    }
    shared_->SetHandling(this, false);
    Write(std::move(answer), version, method, keep_alive);
  }

  HttpServerResponse CallHandler(const HttpServerRequest& request) {
    try {
      return shared_->handler(request);
    } catch (const std::exception& e) {
      shared_->Report("internal", "handler of " + request.method + " " + request.path.substr(0, 200) + ": " + e.what());
      return HttpServerResponse{500, "application/json", JsonErrorBody(std::string("internal error: ") + e.what()), {}};
    } catch (...) {
      shared_->Report("internal", "handler of " + request.method + " " + request.path.substr(0, 200) + " threw");
      return HttpServerResponse{500, "application/json", JsonErrorBody("internal error"), {}};
    }
  }

  void Write(const HttpServerResponse& answer, unsigned version, const std::string& method, bool keep_alive) {
    response_ = std::make_shared<Response>(beast_http::MakeResponse(answer, version, method, keep_alive));
    Lowest().expires_after(Ms(options_.write_timeout));
    http::async_write(stream_, *response_, [self = Self(), keep_alive](beast::error_code ec, size_t) {
      self->response_.reset();
      if (ec) {
        if (ec == beast::error::timeout) self->shared_->Report("timeout", "response to " + self->remote_ + " not read in time");
        return self->Close();
      }
      if (!keep_alive) return self->Linger();
      self->WaitForRequest(false);
    });
  }

  // Answers a request that will not reach the handler, then closes.
  void Refuse(HttpServerResponse r, const std::string& kind, const std::string& detail) {
    if (!kind.empty()) shared_->Report(kind, detail + " from " + remote_ + " (answered " + std::to_string(r.status) + ")");
    parser_.reset();
    Write(std::move(r), 11, "", /*keep_alive=*/false);
  }

  // After the last response: stop sending, drop what the client still sends for a moment (so that a
  // reset does not destroy the response before it is read), then close.
  void Linger() {
    if constexpr (kTls) {
      Lowest().expires_after(std::chrono::seconds(1));
      stream_.async_shutdown([self = Self()](beast::error_code) { self->Close(); });
    } else {
      beast::error_code ec;
      Lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
      if (ec) return Close();
      buffer_.consume(buffer_.size());
      Lowest().expires_after(kLingerTime);
      Drain();
    }
  }

  void Drain() {
    stream_.async_read_some(buffer_.prepare(16384), [self = Self()](beast::error_code ec, size_t n) {
      self->drained_ += n;
      if (ec || self->drained_ > kLingerBytes) return self->Close();
      self->Drain();
    });
  }

  void Close() {
    beast::error_code ec;
    Lowest().socket().close(ec);  // cancels whatever is pending; the last handler frees the session
  }

  const std::shared_ptr<Shared> shared_;
  const HttpServerOptions& options_;
  const std::string remote_;
  const std::shared_ptr<ssl::context> tls_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<RequestParser> parser_;
  std::shared_ptr<Response> response_;
  std::shared_ptr<http::response<http::empty_body>> continue_;
  Clock::time_point request_start_;
  size_t drained_ = 0;
};

// --- the server: acceptor, threads ---

size_t FitToDescriptorLimit(size_t wanted) {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return wanted;
  const size_t reserve = 64;  // the state files, the balancer's socket, Prometheus, logs
  const size_t room = rl.rlim_cur > reserve + 1 ? static_cast<size_t>(rl.rlim_cur) - reserve : 1;
  return std::max<size_t>(1, std::min(wanted, room));
}

class BeastHttpServer final : public HttpServer {
 public:
  BeastHttpServer(std::shared_ptr<Shared> shared, std::unique_ptr<TlsFiles> tls)
      : shared_(std::move(shared)), tls_(std::move(tls)), ioc_(std::make_unique<net::io_context>()) {}
  ~BeastHttpServer() override { Stop(); }

  Status Listen(const ListenAddress& address) {
    boost::system::error_code ec;
    const net::ip::address ip = net::ip::make_address(address.host, ec);
    if (ec) {
      return Status::InvalidArgument("listen address \"" + shared_->options.listen_address +
                                     "\": host must be an IPv4 address, got \"" + address.host + "\"");
    }
    const tcp::endpoint endpoint(ip, static_cast<unsigned short>(address.port));
    const std::string where = shared_->options.listen_address;
    acceptor_ = std::make_unique<tcp::acceptor>(net::make_strand(*ioc_));
    acceptor_->open(endpoint.protocol(), ec);
    if (!ec) acceptor_->set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_->bind(endpoint, ec);
    if (!ec) acceptor_->listen(net::socket_base::max_listen_connections, ec);
    if (ec) return Status::Unavailable("cannot listen on " + where + ": " + ec.message());
    port_ = acceptor_->local_endpoint(ec).port();
    retry_ = std::make_unique<net::steady_timer>(acceptor_->get_executor());
    Accept();
    const size_t threads = std::max<size_t>(1, g_threads.load());
    for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { Run(); });
    return Status::Ok();
  }

  int port() const override { return port_; }
  bool tls() const override { return tls_ != nullptr; }
  size_t connections() const override { return shared_->Count(); }

  void Stop() override {
    std::lock_guard<std::mutex> lock(stop_mu_);
    if (!ioc_) return;
    ioc_->stop();  // handlers in progress return first; nothing runs after the joins
    for (std::thread& t : threads_) t.join();
    threads_.clear();
    retry_.reset();
    acceptor_.reset();
    ioc_.reset();  // destroys every pending operation, and with them the connections
  }

 private:
  void Run() {
    for (;;) {
      try {
        ioc_->run();
        return;
      } catch (const std::exception& e) {
        shared_->Report("internal", std::string("an HTTP server thread caught: ") + e.what());
      } catch (...) {
        shared_->Report("internal", "an HTTP server thread caught an unknown exception");
      }
    }
  }

  void Accept() {
    acceptor_->async_accept(net::make_strand(*ioc_), [this](beast::error_code ec, tcp::socket socket) {
      if (ec == net::error::operation_aborted) return;
      if (ec) {
        // Out of descriptors (or another transient failure): make room, and try again shortly
        // rather than spinning on an accept that fails at once.
        shared_->Report("connection_limit", "accept failed: " + ec.message());
        shared_->EvictOne();
        retry_->expires_after(std::chrono::milliseconds(100));
        retry_->async_wait([this](beast::error_code wait) {
          if (!wait) Accept();
        });
        return;
      }
      OnAccepted(std::move(socket));
      Accept();
    });
  }

  void OnAccepted(tcp::socket socket) {
    beast::error_code ec;
    socket.set_option(tcp::no_delay(true), ec);
    const tcp::endpoint peer = socket.remote_endpoint(ec);
    const std::string remote = ec ? std::string() : peer.address().to_string();
    bool refuse = false;
    if (shared_->Count() >= shared_->max_connections) {
      if (!shared_->EvictOne()) refuse = true;
      shared_->Report("connection_limit", std::string("at the cap of ") + std::to_string(shared_->max_connections) +
                                              " connections: " +
                                              (refuse ? "refused one from " + remote : "closed the longest-waiting one"));
    }
    if (tls_) {
      std::string reload_error;
      std::shared_ptr<ssl::context> ctx = tls_->Current(&reload_error);
      if (!reload_error.empty()) shared_->Report("tls_reload", reload_error);
      ssl::context& context = *ctx;
      std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(shared_, remote, std::move(ctx),
                                                                     std::move(socket), context)
          ->Start(refuse);
    } else {
      std::make_shared<Session<beast::tcp_stream>>(shared_, remote, nullptr, std::move(socket))->Start(refuse);
    }
  }

  std::mutex stop_mu_;
  const std::shared_ptr<Shared> shared_;
  const std::unique_ptr<TlsFiles> tls_;
  std::unique_ptr<net::io_context> ioc_;
  std::unique_ptr<tcp::acceptor> acceptor_;
  std::unique_ptr<net::steady_timer> retry_;
  std::vector<std::thread> threads_;
  int port_ = 0;
};

}  // namespace

Result<std::unique_ptr<HttpServer>> StartHttpServer(const HttpServerOptions& options, HttpHandler handler) {
  Result<ListenAddress> address = ParseListenAddress(options.listen_address);
  if (!address.ok()) return address.status();
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return Status::InvalidArgument("tls: cert_file and key_file must be set together");
  }
  if (!handler) return Status::InvalidArgument("no handler");
  if (options.max_body_bytes == 0 || options.max_header_bytes == 0 || options.max_headers == 0 ||
      options.max_connections == 0) {
    return Status::InvalidArgument("HTTP server limits must be positive");
  }
  if (options.read_header_timeout <= 0 || options.read_timeout <= 0 || options.write_timeout <= 0 ||
      options.idle_timeout <= 0) {
    return Status::InvalidArgument("HTTP server timeouts must be positive");
  }
  std::unique_ptr<TlsFiles> tls;
  if (!options.tls_cert_file.empty()) {
    tls = std::make_unique<TlsFiles>(options.tls_cert_file, options.tls_key_file);
    if (Status s = tls->Load(); !s.ok()) return s;
  }
  auto shared = std::make_shared<Shared>();
  shared->options = options;
  shared->handler = std::move(handler);
  shared->max_connections = FitToDescriptorLimit(options.max_connections);
  try {
    auto server = std::make_unique<BeastHttpServer>(shared, std::move(tls));
    if (Status s = server->Listen(*address); !s.ok()) return s;
    return std::unique_ptr<HttpServer>(std::move(server));
  } catch (const std::exception& e) {
    return Status::Unavailable("cannot listen on " + options.listen_address + ": " + e.what());
  }
}

void SetHttpThreads(size_t threads) { g_threads.store(std::max<size_t>(1, threads)); }

}  // namespace warmpool
