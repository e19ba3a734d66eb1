#include "controller/config/cluster.h"

#include <algorithm>
#include <filesystem>

#include "controller/config/yaml.h"
#include "controller/files/read_file.h"
#include "warmpool/text.h"

namespace warmpool::config_internal {
namespace {

constexpr size_t kMaxSecretBytes = 4096;
constexpr DurationMs kMinLeaseTtl = 2 * kSecond;
constexpr DurationMs kMaxLeaseTtl = 5 * kMinute;

std::string Resolve(const std::string& base_dir, const std::string& path) {
  if (path.empty() || base_dir.empty() || std::filesystem::path(path).is_absolute()) return path;
  return (std::filesystem::path(base_dir) / path).string();
}

// "" when `url` is an etcd client URL we take: http:// or https://, a host, a port, nothing else.
std::string EndpointProblem(const std::string& url) {
  std::string rest;
  if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else if (url.rfind("https://", 0) == 0) {
    rest = url.substr(8);
  } else {
    return "must start with http:// or https://";
  }
  if (rest.find('@') != std::string::npos) return "must not hold credentials (use username and password_file)";
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.find('/') != std::string::npos) return "must not have a path: etcd's API is at the root";
  const size_t colon = rest.rfind(':');
  if (rest.empty() || colon == std::string::npos || colon == 0 || colon + 1 == rest.size() ||
      rest.substr(colon + 1).find_first_not_of("0123456789") != std::string::npos) {
    return "must be scheme://host:port";
  }
  return "";
}

bool IsMemberName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

void ReadCluster(const YAML::Node& node, const std::string& base_dir, ClusterSpec* cluster,
                 std::vector<std::string>* errors) {
  YamlMap m(node, "cluster", errors);
  if (!m.ok()) return;
  cluster->enabled = true;
  if (const YAML::Node* etcd_node = m.Get("etcd")) {
    YamlMap e(*etcd_node, m.PathOf("etcd"), errors);
    if (e.ok()) {
      const YAML::Node* endpoints = e.Get("endpoints");
      const std::string path = e.PathOf("endpoints");
      if (endpoints == nullptr || endpoints->IsNull()) {
        errors->push_back(path + ": required, e.g. [http://127.0.0.1:2379]");
      } else if (!endpoints->IsSequence() || endpoints->size() == 0) {
        errors->push_back(path + ": must be a non-empty sequence of URLs, got " + Describe(*endpoints));
      } else {
        for (size_t i = 0; i < endpoints->size(); ++i) {
          const YAML::Node& item = (*endpoints)[i];
          if (!item.IsScalar()) {
            errors->push_back(IndexPath(path, i) + ": must be a URL, got " + Describe(item));
            continue;
          }
          const std::string url = item.Scalar();
          if (std::string problem = EndpointProblem(url); !problem.empty()) {
            errors->push_back(IndexPath(path, i) + ": " + problem + ", got " + Quote(url));
            continue;
          }
          cluster->endpoints.push_back(url);
        }
      }
      if (e.String("prefix", &cluster->prefix) &&
          (cluster->prefix.size() < 2 || cluster->prefix[0] != '/' || cluster->prefix.back() == '/' ||
           cluster->prefix.find_first_of(" \t\r\n") != std::string::npos)) {
        e.Error("prefix", "must start with / and not end with one, with no space, e.g. /warmpool, got " +
                              Quote(cluster->prefix));
      }
      const bool user = e.String("username", &cluster->username);
      std::string password_file;
      if (e.String("password_file", &password_file)) {
        // Readable now; the client reads it again at every authentication, so a rotated file is used.
        cluster->password_file = Resolve(base_dir, password_file);
        if (Result<std::string> secret = ReadWholeFile(cluster->password_file, kMaxSecretBytes); !secret.ok()) {
          e.Error("password_file", secret.status().message());
        }
        if (!user) e.Error("password_file", "needs username");
      } else if (user) {
        e.Error("username", "needs password_file");
      }
      if (const YAML::Node* tls = e.Get("tls")) {
        YamlMap t(*tls, e.PathOf("tls"), errors);
        if (t.String("ca_file", &cluster->tls_ca_file)) {
          cluster->tls_ca_file = Resolve(base_dir, cluster->tls_ca_file);
          if (Result<std::string> ca = ReadWholeFile(cluster->tls_ca_file, 1 << 20); !ca.ok()) {
            t.Error("ca_file", ca.status().message());
          }
        }
        t.Bool("insecure_skip_verify", &cluster->tls_insecure_skip_verify);
        if (!cluster->tls_ca_file.empty() && cluster->tls_insecure_skip_verify) {
          t.Error("insecure_skip_verify", "true skips the verification ca_file is for; set one of them");
        }
        t.Finish();
      }
      e.Duration("timeout", &cluster->timeout, /*positive=*/true);
      e.Finish();
    }
  } else {
    m.Error("etcd", "required: {endpoints: [http://127.0.0.1:2379]}");
  }
  if (m.Duration("lease_ttl", &cluster->lease_ttl, /*positive=*/true) &&
      (cluster->lease_ttl < kMinLeaseTtl || cluster->lease_ttl > kMaxLeaseTtl)) {
    m.Error("lease_ttl", "must be from " + FormatDuration(kMinLeaseTtl) + " to " + FormatDuration(kMaxLeaseTtl) +
                             ", got " + Quote(FormatDuration(cluster->lease_ttl)));
  }
  if (m.String("member", &cluster->member) && !IsMemberName(cluster->member)) {
    m.Error("member", "must be 1 to 64 letters, digits, '.', '_' or '-', got " + Quote(cluster->member));
  }
  // A call tries every endpoint in turn: all of them timing out must still leave two more renewals
  // within the lease.
  const int64_t tries = std::max<int64_t>(1, static_cast<int64_t>(cluster->endpoints.size()));
  if (cluster->timeout * tries > cluster->lease_ttl / 3) {
    m.Error("etcd.timeout", "times the " + std::to_string(tries) + " endpoint(s) must be at most a third of lease_ttl (" +
                                FormatDuration(cluster->lease_ttl) + "): a renewal tries each in turn; got " +
                                FormatDuration(cluster->timeout));
  }
  m.Finish();
}

void CheckClusterAgainst(const GlobalSpec& global, std::vector<std::string>* errors) {
  if (!global.cluster.enabled) return;
  if (!global.state_file.empty()) {
    errors->push_back("state.file: not used with cluster: the state is kept in etcd under cluster.etcd.prefix");
  }
}

}  // namespace warmpool::config_internal
