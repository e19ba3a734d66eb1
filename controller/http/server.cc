// The HTTP server's helpers that need no networking library.
#include "controller/http/server.h"

#include <cstdio>

namespace warmpool {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string UrlDecode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%' && i + 2 < text.size()) {
      const int hi = HexValue(text[i + 1]), lo = HexValue(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += (plus_is_space && c == '+') ? ' ' : c;
  }
  return out;
}

std::vector<std::string> PathSegments(std::string_view path) {
  std::vector<std::string> out;
  if (!path.empty() && path[0] == '/') path.remove_prefix(1);
  for (;;) {
    const size_t slash = path.find('/');
    out.push_back(UrlDecode(path.substr(0, slash), false));
    if (slash == std::string_view::npos) return out;
    path.remove_prefix(slash + 1);
  }
}

std::map<std::string, std::string> ParseQueryString(std::string_view query) {
  std::map<std::string, std::string> out;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    std::string key = UrlDecode(pair.substr(0, eq), true);
    std::string value = eq == std::string_view::npos ? std::string() : UrlDecode(pair.substr(eq + 1), true);
    out[std::move(key)] = std::move(value);
  }
  return out;
}

Result<ListenAddress> ParseListenAddress(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("listen address \"" + std::string(text) + "\": " + why);
  };
  if (!text.empty() && text[0] == '[') return bad("IPv6 addresses are not supported; use an IPv4 address");
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return bad("must be host:port, e.g. 127.0.0.1:9100 or :9100");
  ListenAddress out;
  out.host = std::string(text.substr(0, colon));
  if (out.host.find(':') != std::string::npos) {
    return bad("IPv6 addresses are not supported; use an IPv4 address");
  }
  if (out.host.empty()) out.host = "0.0.0.0";
  const std::string_view port = text.substr(colon + 1);
  if (port.empty() || port.size() > 5) return bad("port must be a number from 0 to 65535");
  for (char c : port) {
    if (c < '0' || c > '9') return bad("port must be a number from 0 to 65535");
    out.port = out.port * 10 + (c - '0');
  }
  if (out.port > 65535) return bad("port must be a number from 0 to 65535");
  return out;
}

std::string JsonErrorBody(std::string_view message) {
  std::string out = "{\"error\":\"";
  for (char c : message) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"}\n";
}

}  // namespace warmpool
