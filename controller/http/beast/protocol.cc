#include "controller/http/beast/protocol.h"

#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>

#include <algorithm>
#include <cctype>

namespace warmpool::beast_http {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

HttpServerResponse Refuse(int status, const std::string& message) {
  return HttpServerResponse{status, "application/json", JsonErrorBody(message), {}};
}

std::string Bytes(uint64_t n) {
  if (n >= (1u << 20) && n % (1u << 20) == 0) return std::to_string(n >> 20) + " MiB";
  if (n >= 1024 && n % 1024 == 0) return std::to_string(n >> 10) + " KiB";
  return std::to_string(n) + " bytes";
}

}  // namespace

void LimitRequestParser(RequestParser& parser, const HttpServerOptions& options) {
  parser.header_limit(static_cast<std::uint32_t>(std::min<size_t>(options.max_header_bytes, UINT32_MAX)));
  parser.body_limit(static_cast<std::uint64_t>(options.max_body_bytes));
}

Converted ConvertRequest(const RequestParser::value_type& message, const HttpServerOptions& options,
                         std::string remote_address) {
  Converted out;
  const std::string_view target(message.target().data(), message.target().size());
  if (target.empty() || target[0] != '/') {
    out.refusal = Refuse(400, "bad request: the request target must be a path starting with '/'");
    out.refusal_kind = "bad_request";
    return out;
  }
  size_t fields = 0;
  for (const auto& field : message) {
    (void)field;
    if (++fields > options.max_headers) {
      out.refusal = Refuse(431, "request has more than " + std::to_string(options.max_headers) +
                                    " header fields");
      out.refusal_kind = "header_too_large";
      return out;
    }
  }
  HttpServerRequest& r = out.request;
  r.method = std::string(message.method_string());
  const size_t question = target.find('?');
  r.path = std::string(target.substr(0, question));
  if (question != std::string_view::npos) r.query = ParseQueryString(target.substr(question + 1));
  for (const auto& field : message) {
    std::string& slot = r.headers[Lower(field.name_string())];
    const std::string_view value(field.value().data(), field.value().size());
    if (slot.empty()) {
      slot = std::string(value);
    } else {
      slot.append(", ").append(value);
    }
  }
  r.body = message.body();
  r.remote_address = std::move(remote_address);
  out.ok = true;
  return out;
}

HttpServerResponse RefusalFor(const boost::beast::error_code& ec, const HttpServerOptions& options,
                              std::string* kind) {
  if (ec == http::error::body_limit) {
    *kind = "body_too_large";
    return Refuse(413, "request body too large: the limit is " + std::to_string(options.max_body_bytes));
  }
  if (ec == http::error::header_limit) {
    *kind = "header_too_large";
    return Refuse(431, "request header too large: the limit is " + std::to_string(options.max_header_bytes) +
                           " bytes");
  }
  *kind = "bad_request";
  return Refuse(400, "bad request: " + ec.message());
}

Response MakeResponse(const HttpServerResponse& r, unsigned request_version, std::string_view method,
                      bool keep_alive) {
  Response res;
  res.version(request_version == 10 ? 10 : 11);
  res.result(static_cast<unsigned>(r.status));
  res.set(http::field::content_type, r.content_type);
  for (const auto& [name, value] : r.headers) res.insert(name, value);
  res.keep_alive(keep_alive);
  if (method == "HEAD") {
    res.content_length(r.body.size());
  } else {
    res.body() = r.body;
    res.prepare_payload();
  }
  return res;
}

bool ExpectsContinue(const RequestParser::value_type& message) {
  const auto it = message.find(http::field::expect);
  return it != message.end() && Lower(std::string_view(it->value().data(), it->value().size())) == "100-continue";
}

void LimitResponseParser(ResponseParser& parser, const HttpClientOptions& options) {
  parser.header_limit(static_cast<std::uint32_t>(std::min<size_t>(options.max_response_header_bytes, UINT32_MAX)));
  parser.body_limit(static_cast<std::uint64_t>(options.max_response_bytes));
}

std::string DescribeResponseError(const boost::beast::error_code& ec, const HttpClientOptions& options) {
  if (ec == http::error::body_limit) {
    return "response body larger than the limit of " + Bytes(options.max_response_bytes);
  }
  if (ec == http::error::header_limit) {
    return "response header larger than the limit of " + Bytes(options.max_response_header_bytes);
  }
  if (ec.category() == http::make_error_code(http::error::bad_version).category()) {
    return "malformed response (" + ec.message() + ")";
  }
  return ec.message();
}

HttpResponse ConvertResponse(ResponseParser::value_type&& message) {
  HttpResponse out;
  out.status = static_cast<int>(message.result_int());
  const auto it = message.find(http::field::content_type);
  if (it != message.end()) out.content_type = std::string(it->value());
  out.body = std::move(message.body());
  return out;
}

http::request<http::string_body> MakeRequest(const HttpRequest& request, const std::string& host_header,
                                             const std::string& base_path, const std::string& authorization) {
  http::request<http::string_body> req;
  req.version(11);
  req.method_string(request.method);
  req.target(base_path + request.path_and_query);
  req.set(http::field::host, host_header);
  req.set(http::field::user_agent, "warmpool");
  for (const auto& [name, value] : request.headers) req.insert(name, value);
  if (!authorization.empty()) req.set(http::field::authorization, authorization);
  req.body() = request.body;
  req.keep_alive(true);
  req.prepare_payload();
  return req;
}

}  // namespace warmpool::beast_http
