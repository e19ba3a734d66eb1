// HttpServer over cpprestsdk's asio http_listener. The only file that includes cpprest's listener; every
// exception cpprest, boost or the handler throws is caught here.
//
// What cpprest's listener does and does not do, and what this file does about it:
//  - Ephemeral ports: the listener binds the port written in its URI and has no way to report the
//    port it bound, and its listeners are keyed by "host:port", so two listeners on port 0 would
//    collide. For port 0 this file therefore picks a port the kernel hands out (bind to port 0 on the
//    same host, read it back with getsockname, close), opens the listener on it, and on EADDRINUSE
//    (someone took it in between) picks again, up to kPortAttempts times.
//  - Bodies: the listener dispatches a request as soon as its headers are read and keeps reading the
//    body into an unbounded in-memory buffer; it writes a response only after the whole body has been
//    read. So the body is consumed here in chunks: up to max_body_bytes it is kept, beyond that it is
//    read and dropped, and the request is answered 413 without calling the handler (also at once for
//    a Content-Length above the limit). Memory stays bounded; the peer still gets to send its bytes.
//  - Not handled by cpprest (documented limits): header size and slow clients are not bounded, so do
//    not expose the listener to untrusted networks without a proxy in front.
//  - One listener per host:port per process: cpprest keeps its listeners in one process-wide table
//    keyed by "host:port", and when a listener fails to register under a key that is taken, it
//    erases the key, which closes the listener that held it. Closing a listener does not erase its
//    key either: its socket stays bound (answering 404) until the process's last listener closes.
//    So this file keeps its own table of the keys cpprest holds and refuses them up front.
//  - TLS: the context callback runs for every new connection; it loads the PEM files each time (a
//    renewed certificate needs no restart) and refuses TLS below 1.2. StartHttpServer loads them once
//    up front so that a bad file is a start-up error rather than dropped connections.
//  - pplx terminates the process on a task exception nobody observed: every continuation here is
//    task-based, observes its antecedent and never throws.
#include "controller/http/server.h"

#include <cpprest/http_listener.h>
#include <openssl/ssl.h>
#include <pplx/threadpool.h>

#include <array>
#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <set>

namespace warmpool {
namespace {

namespace http = web::http;
namespace listener = web::http::experimental::listener;

constexpr int kPortAttempts = 20;
constexpr size_t kChunkBytes = 16 * 1024;

HttpServerResponse ErrorResponse(int status, const std::string& message) {
  return HttpServerResponse{status, "application/json", JsonErrorBody(message), {}};
}

// What every request shares: the handler, the limit, and the count of handlers in progress.
class Core {
 public:
  Core(HttpHandler handler, size_t max_body_bytes)
      : handler_(std::move(handler)), max_body_(max_body_bytes) {}
  size_t max_body_bytes() const { return max_body_; }

  HttpServerResponse Call(const HttpServerRequest& request) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopped_) return ErrorResponse(503, "the server is stopping");
      ++active_;
    }
    struct Leave {
      Core* core;
      ~Leave() {
        std::lock_guard<std::mutex> lock(core->mu_);
        if (--core->active_ == 0) core->cv_.notify_all();
      }
    } leave{this};
    try {
      return handler_(request);
    } catch (const std::exception& e) {
      return ErrorResponse(500, std::string("internal error: ") + e.what());
    } catch (...) {
      return ErrorResponse(500, "internal error");
    }
  }

  void StopAndWait() {
    std::unique_lock<std::mutex> lock(mu_);
    stopped_ = true;
    cv_.wait(lock, [this] { return active_ == 0; });
  }

 private:
  HttpHandler handler_;
  const size_t max_body_;
  std::mutex mu_;
  std::condition_variable cv_;
  int active_ = 0;
  bool stopped_ = false;
};

void Reply(http::http_request& request, const HttpServerResponse& r, bool close_connection) {
  try {
    http::http_response response(static_cast<http::status_code>(r.status));
    for (const auto& [name, value] : r.headers) response.headers().add(name, value);
    if (close_connection) response.headers().add(http::header_names::connection, "close");
    // The Content-Type first, then the bytes: set_body(std::string) reinterprets a streambuf<char>
    // as streambuf<unsigned char> (UBSan flags it); the vector overload keeps a header already set.
    response.headers().set_content_type(r.content_type);
    response.set_body(std::vector<unsigned char>(r.body.begin(), r.body.end()));
    request.reply(response).then([](pplx::task<void> sent) {
      try {
        sent.get();
      } catch (...) {  // the peer went away: nothing to tell anyone
      }
    });
  } catch (...) {  // already replied, or cpprest refused the response
  }
}

// One request in flight: its body is read chunk by chunk, then the handler is called.
struct Exchange {
  std::shared_ptr<Core> core;
  http::http_request request;
  HttpServerRequest converted;
  size_t received = 0;
  bool too_large = false;
  std::array<uint8_t, kChunkBytes> chunk;
};

// Answers the exchange. Never throws (it runs in pplx continuations, see the top).
void Finish(const std::shared_ptr<Exchange>& ex, const std::string& read_error) {
  try {
    if (!read_error.empty()) {
      Reply(ex->request, ErrorResponse(400, "could not read the request body: " + read_error), true);
    } else if (ex->too_large) {
      Reply(ex->request,
            ErrorResponse(413, "request body too large: " + std::to_string(ex->received) +
                                   " bytes, the limit is " + std::to_string(ex->core->max_body_bytes())),
            true);
    } else {
      Reply(ex->request, ex->core->Call(ex->converted), false);
    }
  } catch (...) {  // out of memory building the reply: cpprest answers 500 when the request dies
  }
}

void ReadBody(std::shared_ptr<Exchange> ex);

// One chunk of the body arrived (or the end, or an error). Never throws.
void OnChunk(const std::shared_ptr<Exchange>& ex, pplx::task<size_t> t) {
  try {
    const size_t n = t.get();
    if (n == 0) {
      Finish(ex, "");
      return;
    }
    ex->received += n;
    std::string& body = ex->converted.body;
    if (!ex->too_large && body.size() + n > ex->core->max_body_bytes()) {
      ex->too_large = true;
      std::string().swap(body);
    }
    if (!ex->too_large) body.append(reinterpret_cast<const char*>(ex->chunk.data()), n);
  } catch (const std::exception& e) {
    Finish(ex, e.what());
    return;
  } catch (...) {
    Finish(ex, "unknown error");
    return;
  }
  ReadBody(ex);
}

void ReadBody(std::shared_ptr<Exchange> ex) {
  try {
    ex->request.body().streambuf().getn(ex->chunk.data(), ex->chunk.size()).then([ex](pplx::task<size_t> t) {
      OnChunk(ex, std::move(t));
    });
  } catch (const std::exception& e) {
    Finish(ex, e.what());
  } catch (...) {
    Finish(ex, "unknown error");
  }
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

void HandleRequest(const std::shared_ptr<Core>& core, http::http_request request) {
  auto ex = std::make_shared<Exchange>();
  ex->core = core;
  ex->request = request;
  try {
    HttpServerRequest& r = ex->converted;
    r.method = request.method();
    const web::uri& uri = request.request_uri();
    r.path = UrlDecode(uri.path(), false);
    r.query = ParseQueryString(uri.query());
    for (const auto& [name, value] : request.headers()) {
      std::string& slot = r.headers[Lower(name)];
      slot = slot.empty() ? value : slot + ", " + value;
    }
    r.remote_address = request.remote_address();
    const std::string length = r.Header("content-length");
    if (!length.empty()) {
      errno = 0;
      char* end = nullptr;
      const unsigned long long n = std::strtoull(length.c_str(), &end, 10);
      if (*end != '\0' || errno == ERANGE || n > ex->core->max_body_bytes()) ex->too_large = true;
    }
  } catch (const std::exception& e) {
    Reply(request, ErrorResponse(400, std::string("bad request: ") + e.what()), true);
    return;
  }
  ReadBody(std::move(ex));
}

void ConfigureTls(boost::asio::ssl::context& ctx, const std::string& cert, const std::string& key) {
  namespace ssl = boost::asio::ssl;
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                  ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
  ctx.use_certificate_chain_file(cert);
  ctx.use_private_key_file(key, ssl::context::pem);
}

Status CheckTls(const std::string& cert, const std::string& key) {
  boost::asio::ssl::context ctx(boost::asio::ssl::context::tls_server);
  try {
    ctx.use_certificate_chain_file(cert);
  } catch (const std::exception& e) {
    return Status::InvalidArgument("tls cert_file \"" + cert +
                                   "\": cannot load a PEM certificate: " + e.what());
  }
  try {
    ctx.use_private_key_file(key, boost::asio::ssl::context::pem);
  } catch (const std::exception& e) {
    return Status::InvalidArgument("tls key_file \"" + key +
                                   "\": cannot load a PEM private key matching cert_file \"" + cert +
                                   "\": " + e.what());
  }
  if (SSL_CTX_check_private_key(ctx.native_handle()) != 1) {
    return Status::InvalidArgument("tls key_file \"" + key + "\" does not match cert_file \"" + cert + "\"");
  }
  return Status::Ok();
}

// The "host:port" keys this process's listeners hold (see the top). A stopped server's key stays
// held while another server lives: cpprest keeps the stopped one's socket open (answering 404) until
// its last listener closes, and reusing that socket would hand the new listener the old one's TLS
// callback, which is gone.
class HeldAddresses {
 public:
  static HeldAddresses& Get() {
    static HeldAddresses* held = new HeldAddresses;  // never destroyed: a server may outlive statics
    return *held;
  }
  static std::string Key(const std::string& host, int port) {
    return Lower(host) + ":" + std::to_string(port);
  }
  // "" when taken, else why not.
  std::string Take(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    if (live_.count(key)) return "this process already listens there";
    if (stale_.count(key))
      return "a stopped server of this process holds it until every server of the process stops";
    live_.insert(key);
    return "";
  }
  // `key` no longer listens: it failed to open (`opened` false) or its server stopped.
  void Release(const std::string& key, bool opened) {
    std::lock_guard<std::mutex> lock(mu_);
    live_.erase(key);
    if (live_.empty()) {
      stale_.clear();
    } else if (opened) {
      stale_.insert(key);
    }
  }

 private:
  std::mutex mu_;
  std::set<std::string> live_, stale_;
};

class CpprestHttpServer final : public HttpServer {
 public:
  CpprestHttpServer(std::shared_ptr<Core> core, std::unique_ptr<listener::http_listener> l, std::string held,
                    int port, bool tls)
      : core_(std::move(core)), listener_(std::move(l)), held_(std::move(held)), port_(port), tls_(tls) {}
  ~CpprestHttpServer() override { Stop(); }
  int port() const override { return port_; }
  bool tls() const override { return tls_; }
  void Stop() override {
    std::lock_guard<std::mutex> lock(stop_mu_);
    if (!listener_) return;
    core_->StopAndWait();
    try {
      listener_->close().wait();
    } catch (...) {  // closing a listener whose connections already failed
    }
    listener_.reset();
    HeldAddresses::Get().Release(held_, true);
  }

 private:
  std::mutex stop_mu_;
  std::shared_ptr<Core> core_;
  std::unique_ptr<listener::http_listener> listener_;
  const std::string held_;
  const int port_;
  const bool tls_;
};

}  // namespace

Result<std::unique_ptr<HttpServer>> StartHttpServer(const HttpServerOptions& options, HttpHandler handler) {
  Result<ListenAddress> address = ParseListenAddress(options.listen_address);
  if (!address.ok()) return address.status();
  const std::string cert_file = options.tls_cert_file, key_file = options.tls_key_file;
  if (cert_file.empty() != key_file.empty()) {
    return Status::InvalidArgument("tls: cert_file and key_file must be set together");
  }
  const bool tls = !cert_file.empty();
  if (tls) {
    if (Status s = CheckTls(cert_file, key_file); !s.ok()) return s;
  }
  if (!handler) return Status::InvalidArgument("no handler");
  auto core = std::make_shared<Core>(std::move(handler), options.max_body_bytes);

  listener::http_listener_config config;
  if (tls) {
    config.set_ssl_context_callback(
        [cert_file, key_file](boost::asio::ssl::context& ctx) { ConfigureTls(ctx, cert_file, key_file); });
  }
  const bool ephemeral = address->port == 0;
  std::string last_error;
  for (int attempt = 0; attempt < (ephemeral ? kPortAttempts : 1); ++attempt) {
    int port = address->port;
    if (ephemeral) {
      Result<int> picked = PickFreePort(address->host);
      if (!picked.ok()) return picked.status();
      port = *picked;
    }
    const std::string where = address->host + ":" + std::to_string(port);
    const std::string held = HeldAddresses::Key(address->host, port);
    if (std::string why = HeldAddresses::Get().Take(held); !why.empty()) {
      last_error = "cannot listen on " + where + ": " + why;
      continue;  // with a fixed port, the loop ends here
    }
    const std::string url = std::string(tls ? "https" : "http") + "://" + where + "/";
    try {
      auto l = std::make_unique<listener::http_listener>(web::uri(url), config);
      l->support([core](http::http_request request) { HandleRequest(core, std::move(request)); });
      l->open().wait();
      return std::unique_ptr<HttpServer>(
          std::make_unique<CpprestHttpServer>(core, std::move(l), held, port, tls));
    } catch (const boost::system::system_error& e) {
      HeldAddresses::Get().Release(held, false);
      last_error = "cannot listen on " + where + ": " + e.what();
      if (e.code() != boost::asio::error::address_in_use) break;
    } catch (const std::exception& e) {
      HeldAddresses::Get().Release(held, false);
      last_error = "cannot listen on " + where + ": " + e.what();
      break;
    }
  }
  return Status::Unavailable(last_error);
}

bool SetHttpThreads(size_t threads) {
  try {
    crossplat::threadpool::initialize_with_threads(threads);
    return true;
  } catch (const std::exception&) {  // already initialized
    return false;
  }
}

}  // namespace warmpool
