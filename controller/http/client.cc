// The HTTP client's helpers that need no networking library.
#include "controller/http/client.h"

namespace warmpool {

std::string HttpUrl::host_header() const {
  const std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  const bool default_port = port == (https ? 443 : 80);
  return default_port ? h : h + ":" + std::to_string(port);
}

Result<HttpUrl> ParseHttpUrl(const std::string& url) {
  auto bad = [&](const std::string& why) { return Status::InvalidArgument("url \"" + url + "\": " + why); };
  HttpUrl out;
  std::string_view rest(url);
  if (rest.rfind("https://", 0) == 0) {
    out.https = true;
    rest.remove_prefix(8);
  } else if (rest.rfind("http://", 0) == 0) {
    rest.remove_prefix(7);
  } else {
    return bad("must start with http:// or https://");
  }
  const size_t slash = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  if (!path.empty() && path[0] != '/') return bad("a query or fragment does not belong in a base URL");
  if (path.find_first_of("?#") != std::string_view::npos) {
    return bad("a query or fragment does not belong in a base URL");
  }
  if (authority.find('@') != std::string_view::npos) {
    return bad("credentials do not belong in the URL; use basic_auth");
  }
  std::string_view port;
  if (!authority.empty() && authority[0] == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad("unclosed '[' in the host");
    out.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return bad("expected ':' and a port after the IPv6 address");
      port = after.substr(1);
      if (port.empty()) return bad("empty port");
    }
  } else {
    const size_t colon = authority.find(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      if (port.empty()) return bad("empty port");
    }
  }
  if (out.host.empty()) return bad("has no host");
  for (char c : out.host) {
    if (static_cast<unsigned char>(c) <= ' ' || c == '/' || c == '\\') return bad("invalid character in the host");
  }
  out.port = out.https ? 443 : 80;
  if (!port.empty()) {
    if (port.size() > 5) return bad("port must be a number from 1 to 65535");
    int n = 0;
    for (char c : port) {
      if (c < '0' || c > '9') return bad("port must be a number from 1 to 65535");
      n = n * 10 + (c - '0');
    }
    if (n < 1 || n > 65535) return bad("port must be a number from 1 to 65535");
    out.port = n;
  }
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  for (char c : path) {
    if (static_cast<unsigned char>(c) <= ' ') return bad("invalid character in the path");
  }
  out.base_path = std::string(path);
  return out;
}

std::string Base64(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const unsigned v = static_cast<unsigned char>(bytes[i]) << 16 | static_cast<unsigned char>(bytes[i + 1]) << 8 |
                       static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i < bytes.size()) {
    unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

}  // namespace warmpool
