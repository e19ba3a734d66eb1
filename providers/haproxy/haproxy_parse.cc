#include "providers/haproxy/haproxy_parse.h"

#include <algorithm>
#include <charconv>
#include <map>

namespace warmpool::haproxy {
namespace {

std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    out.push_back(line);
    pos = nl + 1;
  }
  return out;
}

std::vector<std::string_view> Fields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos < line.size()) {
    size_t b = line.find_first_not_of(" \t", pos);
    if (b == std::string_view::npos) break;
    size_t e = line.find_first_of(" \t", b);
    if (e == std::string_view::npos) e = line.size();
    out.push_back(line.substr(b, e - b));
    pos = e;
  }
  return out;
}

// CSV fields; HAProxy quotes a field with a comma or a quote in it ("" inside for a quote).
std::vector<std::string> CsvFields(std::string_view line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        out.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        out.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.emplace_back();
    } else {
      out.back() += c;
    }
  }
  return out;
}

bool ToInt(std::string_view s, int64_t* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

std::string Excerpt(std::string_view text) {
  std::string s(text.substr(0, 120));
  for (char& c : s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return "\"" + s + (text.size() > 120 ? "...\"" : "\"");
}

std::string_view Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e + 1 - b);
}

bool StartsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

bool Contains(std::string_view s, std::string_view part) { return s.find(part) != std::string_view::npos; }

}  // namespace

std::string ServerStateRow::Address() const {
  const std::string& host = addr != "-" && !addr.empty() ? addr : fqdn != "-" ? fqdn : std::string();
  if (host.empty()) return "";
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<std::vector<ServerStateRow>> ParseServersState(std::string_view text) {
  std::vector<std::string_view> lines = Lines(text);
  size_t i = 0;
  while (i < lines.size() && Trim(lines[i]).empty()) ++i;
  if (i == lines.size()) return Status::Internal("show servers state: empty reply");
  if (Trim(lines[i]) != "1") {
    return Status::Internal("show servers state: expected format version 1, got " + Excerpt(lines[i]));
  }
  ++i;
  if (i == lines.size() || !StartsWith(lines[i], "#")) {
    return Status::Internal("show servers state: no \"# be_id be_name ...\" header line");
  }
  std::map<std::string_view, size_t> col;
  {
    std::vector<std::string_view> names = Fields(lines[i].substr(1));
    for (size_t c = 0; c < names.size(); ++c) col.emplace(names[c], c);
  }
  static constexpr const char* kRequired[] = {
      "be_name",         "srv_id",           "srv_name",         "srv_addr",        "srv_op_state",
      "srv_admin_state", "srv_check_result", "srv_check_health", "srv_check_state", "srv_port"};
  for (const char* name : kRequired) {
    if (col.count(name) == 0) return Status::Internal(std::string("show servers state: no column ") + name);
  }
  std::vector<ServerStateRow> rows;
  for (++i; i < lines.size(); ++i) {
    std::string_view line = Trim(lines[i]);
    if (line.empty() || line.front() == '#') continue;
    std::vector<std::string_view> f = Fields(line);
    auto get = [&](std::string_view name) -> std::string_view {
      auto it = col.find(name);
      return it != col.end() && it->second < f.size() ? f[it->second] : std::string_view();
    };
    auto num = [&](std::string_view name, int64_t* out) { return ToInt(get(name), out); };
    ServerStateRow r;
    int64_t id = 0, op = 0, admin = 0, result = 0, health = 0, check = 0, port = 0, since = 0;
    if (!num("srv_id", &id) || !num("srv_op_state", &op) || !num("srv_admin_state", &admin) ||
        !num("srv_check_result", &result) || !num("srv_check_health", &health) ||
        !num("srv_check_state", &check) || !num("srv_port", &port)) {
      return Status::Internal("show servers state: malformed line " + Excerpt(line));
    }
    num("srv_time_since_last_change", &since);  // optional: 0 when missing
    r.backend = std::string(get("be_name"));
    r.server_id = static_cast<int>(id);
    r.name = std::string(get("srv_name"));
    r.addr = std::string(get("srv_addr"));
    r.fqdn = col.count("srv_fqdn") ? std::string(get("srv_fqdn")) : "-";
    r.port = static_cast<int>(port);
    r.op_state = static_cast<int>(op);
    r.admin_state = static_cast<int>(admin);
    r.seconds_since_change = since;
    r.check_result = static_cast<int>(result);
    r.check_health = static_cast<int>(health);
    r.check_state = static_cast<int>(check);
    rows.push_back(std::move(r));
  }
  return rows;
}

Result<std::vector<ServerStat>> ParseShowStat(std::string_view csv) {
  std::vector<std::string_view> lines = Lines(csv);
  size_t i = 0;
  while (i < lines.size() && Trim(lines[i]).empty()) ++i;
  if (i == lines.size() || !StartsWith(lines[i], "# ")) {
    return Status::Internal("show stat: no \"# pxname,svname,...\" header line");
  }
  std::map<std::string, size_t> col;
  {
    std::vector<std::string> names = CsvFields(lines[i].substr(2));
    for (size_t c = 0; c < names.size(); ++c) col.emplace(names[c], c);
  }
  for (const char* name : {"pxname", "svname", "scur"}) {
    if (col.count(name) == 0) return Status::Internal(std::string("show stat: no column ") + name);
  }
  std::vector<ServerStat> out;
  for (++i; i < lines.size(); ++i) {
    if (Trim(lines[i]).empty() || lines[i].front() == '#') continue;
    std::vector<std::string> f = CsvFields(lines[i]);
    auto get = [&](const char* name) -> std::string {
      auto it = col.find(name);
      return it != col.end() && it->second < f.size() ? f[it->second] : std::string();
    };
    const std::string type = get("type");  // 0 frontend, 1 backend, 2 server, 3 listener
    const std::string sv = get("svname");
    if (!type.empty() ? type != "2" : (sv == "FRONTEND" || sv == "BACKEND")) continue;
    ServerStat s;
    s.backend = get("pxname");
    s.name = sv;
    s.status = get("status");
    const std::string scur = get("scur"), qcur = get("qcur");
    if (!ToInt(scur, &s.scur)) return Status::Internal("show stat: malformed scur in " + Excerpt(lines[i]));
    if (!qcur.empty() && !ToInt(qcur, &s.qcur)) {
      return Status::Internal("show stat: malformed qcur in " + Excerpt(lines[i]));
    }
    out.push_back(std::move(s));
  }
  return out;
}

Result<int64_t> ParseProxyCounter(std::string_view csv, std::string_view proxy, std::string_view svname,
                                  std::string_view column) {
  std::vector<std::string_view> lines = Lines(csv);
  size_t i = 0;
  while (i < lines.size() && Trim(lines[i]).empty()) ++i;
  if (i == lines.size() || !StartsWith(lines[i], "# ")) {
    return Status::Internal("show stat: no \"# pxname,svname,...\" header line");
  }
  const std::vector<std::string> names = CsvFields(lines[i].substr(2));
  size_t px = names.size(), sv = names.size(), col = names.size();
  for (size_t c = 0; c < names.size(); ++c) {
    if (names[c] == "pxname") px = c;
    if (names[c] == "svname") sv = c;
    if (names[c] == column) col = c;
  }
  if (px == names.size() || sv == names.size()) return Status::Internal("show stat: no pxname or svname column");
  if (col == names.size()) return Status::NotFound("show stat: no column " + std::string(column));
  for (++i; i < lines.size(); ++i) {
    if (Trim(lines[i]).empty() || lines[i].front() == '#') continue;
    const std::vector<std::string> f = CsvFields(lines[i]);
    if (f.size() <= std::max({px, sv, col}) || f[px] != proxy || f[sv] != svname) continue;
    if (f[col].empty()) {
      return Status::NotFound("show stat: " + std::string(proxy) + " " + std::string(svname) + " has no " +
                              std::string(column) + " (req_tot counts only HTTP requests: use stot for tcp)");
    }
    int64_t value = 0;
    if (!ToInt(f[col], &value) || value < 0) {
      return Status::Internal("show stat: malformed " + std::string(column) + " in " + Excerpt(lines[i]));
    }
    return value;
  }
  return Status::NotFound("show stat: no " + std::string(svname) + " line for proxy " + std::string(proxy));
}

std::vector<std::string> SplitReplies(std::string_view raw, size_t n) {
  // "prompt" answers with an empty line, then every command's output is followed by the prompt "> ".
  constexpr std::string_view kPrompt = "\n> ";
  std::vector<std::string> pieces;
  if (raw.substr(0, kPrompt.size()) != kPrompt) {
    if (!raw.empty()) pieces.emplace_back(Trim(raw));  // not interactive: all of it, as one reply
    return pieces;
  }
  raw.remove_prefix(kPrompt.size());
  for (;;) {
    size_t p = raw.find(kPrompt);
    if (p == std::string_view::npos) {
      pieces.emplace_back(raw);  // after the last prompt: nothing (quit), or a reply cut short
      break;
    }
    pieces.emplace_back(raw.substr(0, p));
    raw.remove_prefix(p + kPrompt.size());
  }
  pieces.pop_back();                    // only complete replies, each followed by its prompt
  while (n > 0 && pieces.size() > n) {  // an output line that starts with "> ": rejoin it
    pieces[pieces.size() - 2] += std::string(kPrompt) + pieces.back();
    pieces.pop_back();
  }
  for (std::string& piece : pieces) {
    while (!piece.empty() && (piece.back() == '\n' || piece.back() == '\r')) piece.pop_back();
  }
  return pieces;
}

Status CheckReply(std::string_view command, std::string_view reply) {
  const std::string_view text = Trim(reply);
  const std::string msg(text);
  const std::string_view cmd = Trim(command);
  bool ok;
  if (StartsWith(cmd, "show servers state")) {
    ok = StartsWith(text, "1\n#") || text == "1";
  } else if (StartsWith(cmd, "show stat")) {
    ok = StartsWith(text, "# pxname");
  } else if (StartsWith(cmd, "add server")) {
    ok = text == "New server registered.";
  } else if (StartsWith(cmd, "del server")) {
    ok = text == "Server deleted.";
  } else if (StartsWith(cmd, "set server") || StartsWith(cmd, "enable ") || StartsWith(cmd, "disable ")) {
    // Silent on success, except `set server ... addr` and friends, which report what they did.
    ok = text.empty() || StartsWith(text, "IP changed from") || StartsWith(text, "no need to change") ||
         StartsWith(text, "port changed from");
  } else {
    static constexpr std::string_view kErrors[] = {
        "No such",      "Can't find",      "Unknown command", "Require ",    "Permission denied",
        "expects",      "unknown keyword", "Missing",         "Invalid ",    "invalid ",
        "not accepted", "Already exists",  "cannot",          "Only servers"};
    ok = true;
    for (std::string_view e : kErrors) ok = ok && !Contains(text.substr(0, 200), e);
  }
  if (ok) return Status::Ok();
  if (text.empty()) return Status::Internal("empty reply");
  if (StartsWith(text, "No such") || StartsWith(text, "Can't find")) return Status::NotFound(msg);
  if (StartsWith(text, "Unknown command")) {
    return Status::InvalidArgument(msg.substr(0, msg.find('\n')));  // drop the list of suggestions
  }
  if (StartsWith(text, "Require ") || Contains(text, "expects") || StartsWith(text, "unknown keyword") ||
      StartsWith(text, "invalid ") || StartsWith(text, "Invalid ")) {
    return Status::InvalidArgument(msg);
  }
  return Status::FailedPrecondition(msg);
}

}  // namespace warmpool::haproxy
