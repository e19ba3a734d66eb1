#include "controller/sources/prometheus/source.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <algorithm>
#include <limits>
#include <string_view>

#include "controller/files/read_file.h"
#include "warmpool/text.h"

namespace warmpool {
namespace {

constexpr std::string_view kHttp = "http://";
constexpr std::string_view kHttps = "https://";
constexpr size_t kMaxSecretFileBytes = 1 << 20;  // a password, a token or a CA bundle

std::string Resolve(const std::string& path, const std::string& base_dir) {
  if (path.empty() || path[0] == '/' || base_dir.empty()) return path;
  return base_dir + "/" + path;
}

// Reads the file named by `key` (a secret or a CA bundle), with a trailing newline trimmed when
// `trim`. Records an error naming the key and the path when it cannot, or when the file is empty.
std::optional<std::string> ReadFileParam(ParamReader& r, std::string_view key, const std::string& base_dir,
                                         bool trim) {
  const std::string path = Resolve(r.String(key), base_dir);
  if (path.empty()) {
    r.Error(key, "must name a file");
    return std::nullopt;
  }
  // A regular file only, bounded: a FIFO must not hang the config check or the start.
  Result<std::string> read = ReadWholeFile(path, kMaxSecretFileBytes);
  if (!read.ok()) {
    std::string why = read.status().message();  // "PATH: <why>"
    if (why.rfind(path + ": ", 0) == 0) why.erase(0, path.size() + 2);
    if (why.rfind("cannot read: ", 0) == 0) why.erase(0, 13);
    r.Error(key, "cannot read \"" + path + "\": " + why);
    return std::nullopt;
  }
  std::string text = std::move(read).value();
  while (trim && !text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  if (text.empty()) {
    r.Error(key, "file \"" + path + "\" is empty");
    return std::nullopt;
  }
  return text;
}

// Scheme, a host, nothing after the path. Never echoes a URL that may hold credentials.
void CheckUrl(ParamReader& r, const std::string& url) {
  const bool http = url.rfind(kHttp, 0) == 0, https = url.rfind(kHttps, 0) == 0;
  if (!http && !https) {
    r.Error("url", "must start with http:// or https://, got \"" + url + "\"");
    return;
  }
  const std::string rest = url.substr(https ? kHttps.size() : kHttp.size());
  const std::string authority = rest.substr(0, rest.find_first_of("/?#"));
  if (authority.find('@') != std::string::npos) {
    r.Error("url", "must not carry credentials; use basic_auth.username and basic_auth.password_file");
  } else if (authority.empty() || authority[0] == ':') {
    r.Error("url", "has no host: \"" + url + "\"");
  } else if (rest.find_first_of("?#") != std::string::npos) {
    r.Error("url", "must not have a query or fragment: \"" + url + "\"");
  }
}

void ReadAuth(ParamReader& r, const std::string& base_dir, HttpClientOptions* http) {
  const bool user = r.Has("basic_auth.username"), password = r.Has("basic_auth.password"),
             password_file = r.Has("basic_auth.password_file");
  const bool token = r.Has("bearer_token"), token_file = r.Has("bearer_token_file");
  http->basic_auth_user = r.String("basic_auth.username");
  if (user && http->basic_auth_user.empty()) r.Error("basic_auth.username", "must not be empty");
  if (password && password_file) {
    r.Error("basic_auth.password_file", "set basic_auth.password or basic_auth.password_file, not both");
  }
  if (password) http->basic_auth_password = r.String("basic_auth.password");
  if (password_file) {
    http->basic_auth_password = ReadFileParam(r, "basic_auth.password_file", base_dir, true).value_or("");
  }
  if ((password || password_file) && !user) {
    r.Error("basic_auth.username", "required with basic_auth.password or basic_auth.password_file");
  }
  if (user && !password && !password_file) {
    r.Error("basic_auth.password", "required with basic_auth.username (or basic_auth.password_file)");
  }
  if (token && token_file) r.Error("bearer_token_file", "set bearer_token or bearer_token_file, not both");
  if (token) {
    http->bearer_token = r.String("bearer_token");
    if (http->bearer_token.empty()) r.Error("bearer_token", "must not be empty");
  }
  if (token_file) http->bearer_token = ReadFileParam(r, "bearer_token_file", base_dir, true).value_or("");
  if ((token || token_file) && (user || password || password_file)) {
    r.Error(token ? "bearer_token" : "bearer_token_file", "set basic_auth or a bearer token, not both");
  }
}

void ReadTls(ParamReader& r, const std::string& base_dir, bool https, HttpClientOptions* http) {
  const bool ca = r.Has("tls.ca_file"), insecure = r.Has("tls.insecure_skip_verify");
  http->tls_insecure_skip_verify = r.Bool("tls.insecure_skip_verify", false);
  if (ca) {
    http->tls_ca_file = Resolve(r.String("tls.ca_file"), base_dir);
    if (https) ReadFileParam(r, "tls.ca_file", base_dir, false);  // readable now; NewHttpClient parses it
  }
  if (!https && (ca || insecure)) {
    r.Error(ca ? "tls.ca_file" : "tls.insecure_skip_verify", "only applies to an https:// url");
  } else if (ca && http->tls_insecure_skip_verify) {
    r.Error("tls.insecure_skip_verify", "true skips the verification tls.ca_file is for; set one of them");
  }
}

// `s` with `prefix` before its message, same code.
Status Annotate(const Status& s, const std::string& prefix) {
  std::string msg = prefix + s.message();
  switch (s.code()) {
    case Status::Code::kInvalidArgument: return Status::InvalidArgument(std::move(msg));
    case Status::Code::kNotFound: return Status::NotFound(std::move(msg));
    case Status::Code::kDeadlineExceeded: return Status::DeadlineExceeded(std::move(msg));
    case Status::Code::kFailedPrecondition: return Status::FailedPrecondition(std::move(msg));
    case Status::Code::kInternal: return Status::Internal(std::move(msg));
    case Status::Code::kOk:
    case Status::Code::kUnavailable: break;
  }
  return Status::Unavailable(std::move(msg));
}

}  // namespace

std::optional<PrometheusConfig> ReadPrometheusConfig(const Params& params, std::vector<std::string>* errors) {
  ParamReader r(params);
  PrometheusConfig c;
  c.url = r.String("url");
  if (c.url.empty()) {
    r.Error("url", "required, e.g. http://127.0.0.1:9090");
  } else {
    CheckUrl(r, c.url);
  }
  while (!c.url.empty() && c.url.back() == '/') c.url.pop_back();
  c.http.timeout = r.Duration("timeout", 5 * kSecond, 1);
  c.http.connect_timeout = r.Duration("connect_timeout", 2 * kSecond, 1);
  if (c.http.connect_timeout > c.http.timeout) {
    r.Error("connect_timeout", "must not exceed timeout (" + FormatDuration(c.http.timeout) + "), got " +
                                   FormatDuration(c.http.connect_timeout));
  }
  c.http.max_response_bytes = static_cast<size_t>(r.Int("max_response_bytes", 64 << 20, 4096, INT32_MAX));
  ReadAuth(r, params.base_dir, &c.http);
  ReadTls(r, params.base_dir, c.url.rfind(kHttps, 0) == 0, &c.http);
  if (!r.FinishInto(errors)) return std::nullopt;
  return c;
}

PrometheusMetricsSource::PrometheusMetricsSource(std::string url, std::unique_ptr<HttpClient> client)
    : url_(std::move(url)), client_(std::move(client)) {}

Result<PromResult> PrometheusMetricsSource::Get(const std::string& path) {
  HttpRequest request;
  request.path_and_query = path;
  request.headers.emplace_back("Accept", "application/json");
  Result<HttpResponse> response = client_->Do(request);
  if (!response.ok()) return response.status();
  return ParsePromResponse(response->status, response->body);
}

namespace {

// How far ahead of this host's clock a sample may be stamped before it is refused.
constexpr DurationMs kMaxClockSkew = kMinute;

// What a pool's load cannot be: a negative value (a rate, count or utilization), or a sample from
// beyond the clock skew the controller tolerates. Either is a query error, so the pool holds.
Status CheckSamples(const std::vector<Sample>& samples, TimeMs now) {
  for (const Sample& s : samples) {
    if (std::isfinite(s.value) && s.value < 0) {  // NaN and -Inf: missing, as the policies read them
      return Status::InvalidArgument("negative value " + FormatNumber(s.value) + " at " + FormatTime(s.t) +
                                     ": a rate, count or utilization cannot be negative");
    }
    if (s.t > now + kMaxClockSkew) {
      return Status::InvalidArgument("a sample at " + FormatTime(s.t) + " is " + FormatDuration(s.t - now) +
                                     " in the future (more than " + FormatDuration(kMaxClockSkew) +
                                     " of clock skew): check the clocks of Prometheus and this host");
    }
  }
  return Status::Ok();
}

}  // namespace

std::string PrometheusMetricsSource::ScrapeHealth(const MetricQuery& q, TimeMs now) {
  const std::string what = "scrape health \"" + q.health_query + "\"";
  const DurationMs step = std::min(q.step > 0 ? q.step : 15 * kSecond, q.health_window);
  const TimeMs start = now - q.health_window;
  Result<PromResult> result = Get(RangeQueryPath(q.health_query, start, now, step));
  if (!result.ok()) return what + " failed: " + result.status().message();
  if (result->series.empty()) return what + " returned nothing (no target is scraped)";
  Result<PromSeries> series = OnlySeries(*result);
  if (!series.ok()) return what + ": " + series.status().message();
  // Prometheus answers at start, start + step, ... <= now; a step without a value had no sample
  // within its lookback (a new target, or a Prometheus that started without the data).
  TimeMs expect = start;
  for (const Sample& s : series->samples) {
    if (s.t > expect + step / 2) break;
    if (!std::isfinite(s.value) || s.value == 0) {
      return what + " was " + FormatNumber(s.value) + " at " + FormatTime(s.t) + ", within " +
             FormatDuration(q.health_window) + ": a rate() over a target that is not scraped reads low";
    }
    expect = s.t + step;
  }
  if (expect <= now) {
    return what + " had no value at " + FormatTime(expect) + ", within " + FormatDuration(q.health_window) +
           ": its targets were not scraped for the whole window (a new target, or Prometheus restarted)";
  }
  return "";
}

Result<MetricWindow> PrometheusMetricsSource::Fetch(const MetricQuery& q, TimeMs now) {
  const std::string prefix = "prometheus " + url_ + ", query \"" + q.query + "\": ";
  if (q.query.empty()) return Status::InvalidArgument(prefix + "empty query");
  const bool range = q.window > 0;
  const DurationMs step = q.step > 0 ? q.step : 15 * kSecond;
  Result<PromResult> result =
      Get(range ? RangeQueryPath(q.query, now - q.window, now, step) : InstantQueryPath(q.query, now));
  if (!result.ok()) return Annotate(result.status(), prefix);
  Result<PromSeries> series = OnlySeries(*result);
  if (!series.ok()) return Annotate(series.status(), prefix);
  MetricWindow window;
  window.metric = q.name;
  std::vector<Sample>& samples = series->samples;
  if (Status st = CheckSamples(samples, now); !st.ok()) return Annotate(st, prefix);
  if (!q.health_query.empty() && !samples.empty()) window.floor_only = ScrapeHealth(q, now);
  if (result->result_type == "scalar" || samples.empty()) {
    window.samples = std::move(samples);
    return window;
  }

  // The age check (see the header). The newline ends a trailing PromQL comment in the query.
  const std::string probe = "timestamp(" + q.query + "\n)";
  Result<PromResult> newest = Get(InstantQueryPath(probe, now));
  if (!newest.ok()) {
    // bad_data: the expression has no raw samples to date (a scalar); nothing to correct.
    if (newest.status().code() == Status::Code::kInvalidArgument) {
      window.samples = std::move(samples);
      return window;
    }
    return Annotate(newest.status(), prefix + "checking the age of its newest sample: ");
  }
  if (std::optional<TimeMs> t = NewestRawSample(*newest)) {
    StampNewestRaw(&samples, *t, range ? now - q.window : std::numeric_limits<TimeMs>::min());
  }
  window.samples = std::move(samples);
  return window;
}

Result<std::map<std::string, MetricWindow>> PrometheusMetricsSource::FetchEach(const MetricQuery& q,
                                                                              const std::string& label, TimeMs now) {
  const std::string prefix = "prometheus " + url_ + ", query \"" + q.query + "\": ";
  if (q.query.empty()) return Status::InvalidArgument(prefix + "empty query");
  const DurationMs step = q.step > 0 ? q.step : 15 * kSecond;
  Result<PromResult> result = Get(q.window > 0 ? RangeQueryPath(q.query, now - q.window, now, step)
                                               : InstantQueryPath(q.query, now));
  if (!result.ok()) return Annotate(result.status(), prefix);
  std::map<std::string, MetricWindow> out;
  std::map<std::string, std::string> first;  // label value -> the series that had it first
  for (PromSeries& series : result->series) {
    auto value = series.label_values.find(label);
    if (value == series.label_values.end() || value->second.empty()) continue;
    for (const Sample& sample : series.samples) {
      if (sample.t > now + kMaxClockSkew) {
        return Annotate(Status::InvalidArgument("a sample of " + series.labels + " is " +
                                                FormatDuration(sample.t - now) +
                                                " in the future: check the clocks of Prometheus and this host"),
                        prefix);
      }
    }
    auto [it, inserted] = first.emplace(value->second, series.labels);
    if (!inserted) {
      return Annotate(Status::InvalidArgument("two series with " + label + "=\"" + value->second + "\": " +
                                              it->second + " and " + series.labels +
                                              " (aggregate them by " + label + ")"),
                      prefix);
    }
    MetricWindow& w = out[value->second];
    w.metric = q.name;
    w.samples = std::move(series.samples);
  }
  return out;
}

namespace {

// The error of a client that cannot be built, on the key to blame: a CA bundle it cannot load, or a
// URL the HTTP library will not take.
void ClientError(const Params& params, const PrometheusConfig& config, const Status& status,
                 std::vector<std::string>* errors) {
  const bool ca = !config.http.tls_ca_file.empty() && status.message().find("CA file") != std::string::npos;
  errors->push_back(ParamReader(params).PathOf(ca ? "tls.ca_file" : "url") + ": " + status.message());
}

}  // namespace

void CheckPrometheusMetricsSource(const Params& params, std::vector<std::string>* errors) {
  std::optional<PrometheusConfig> config = ReadPrometheusConfig(params, errors);
  if (!config) return;
  if (Status st = CheckHttpClient(config->url, config->http); !st.ok())
    ClientError(params, *config, st, errors);
}

std::unique_ptr<MetricsSource> NewPrometheusMetricsSource(const Params& params,
                                                          std::vector<std::string>* errors) {
  std::optional<PrometheusConfig> config = ReadPrometheusConfig(params, errors);
  if (!config) return nullptr;
  Result<std::unique_ptr<HttpClient>> client = NewHttpClient(config->url, config->http);
  if (!client.ok()) {
    ClientError(params, *config, client.status(), errors);
    return nullptr;
  }
  return std::make_unique<PrometheusMetricsSource>(config->url, std::move(client).value());
}

}  // namespace warmpool
