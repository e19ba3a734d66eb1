// A real etcd cluster for the cluster tests (tests/integration/cluster_test.cc): N `etcd` processes
// (Debian's etcd-server, 3.4) on 127.0.0.1 with ephemeral client and peer ports, each with its own
// temp data dir, one --initial-cluster, stopped by PID. Nothing but loopback.
#ifndef WARMPOOL_TESTS_SUPPORT_ETCD_TEST_UTIL_H_
#define WARMPOOL_TESTS_SUPPORT_ETCD_TEST_UTIL_H_

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "controller/cluster/etcd.h"
#include "tests/support/harness.h"

namespace warmpool::testing {

// Server TLS for the client URLs (https://): PEM files, and the CA a client verifies them with.
struct EtcdTlsFiles {
  std::string cert_file, key_file, ca_file;
};

struct EtcdNode {
  std::string name;
  int client_port = 0;
  int peer_port = 0;
  std::unique_ptr<TempDir> dir;
  std::unique_ptr<Process> process;
  bool alive = false;  // started and not killed
  bool https = false;
  std::string url() const {
    return (https ? "https://127.0.0.1:" : "http://127.0.0.1:") + std::to_string(client_port);
  }
  std::string peer_url() const { return "http://127.0.0.1:" + std::to_string(peer_port); }
};

class EtcdCluster {
 public:
  // Starts `n` members and waits (up to 30 s) until every one names a leader. nullptr when they did
  // not; the logs then went to stderr. `extra_args` go to every member; with `tls`, the client URLs
  // are https:// with that certificate (peers stay plain http on loopback).
  static std::unique_ptr<EtcdCluster> Start(int n = 3, const std::vector<std::string>& extra_args = {},
                                            const EtcdTlsFiles* tls = nullptr) {
    auto c = std::unique_ptr<EtcdCluster>(new EtcdCluster());
    if (tls) c->tls_ = *tls;
    std::string initial;
    for (int i = 0; i < n; ++i) {
      EtcdNode node;
      node.name = "etcd" + std::to_string(i);
      node.client_port = c->FreshPort();
      node.peer_port = c->FreshPort();
      node.dir = std::make_unique<TempDir>();
      node.https = tls != nullptr;
      initial += (initial.empty() ? "" : ",") + node.name + "=" + node.peer_url();
      c->nodes_.push_back(std::move(node));
    }
    c->initial_cluster_ = initial;
    c->token_ = "warmpool-test-" + std::to_string(getpid()) + "-" + std::to_string(c->nodes_[0].client_port);
    c->extra_args_ = extra_args;
    for (size_t i = 0; i < c->nodes_.size(); ++i) {
      if (!c->Launch(i, "new")) return nullptr;
    }
    if (!c->WaitHealthy(std::chrono::seconds(30))) {
      fprintf(stderr, "etcd cluster did not become healthy:\n%s\n", c->Logs().c_str());
      return nullptr;
    }
    return c;
  }

  size_t size() const { return nodes_.size(); }
  EtcdNode& node(size_t i) { return nodes_[i]; }
  std::vector<std::string> endpoints() const {
    std::vector<std::string> out;
    for (const EtcdNode& n : nodes_) out.push_back(n.url());
    return out;
  }

  // The member answers /v3/maintenance/status naming a leader.
  bool Healthy(size_t i) const {
    if (!nodes_[i].alive) return false;
    auto status = MemberStatus(i);
    return status.ok() && status->leader != 0;
  }
  // /v3/maintenance/status of member `i`, asked through the project's etcd client.
  Result<EtcdEndpointStatus> MemberStatus(size_t i) const {
    EtcdConfig config;
    config.endpoints = {nodes_[i].url()};
    config.http.connect_timeout = 1000;
    config.http.timeout = 2000;
    config.http.tls_ca_file = tls_.ca_file;
    auto client = EtcdClient::Create(config);
    if (!client.ok()) return client.status();
    return (*client)->EndpointStatus(0);
  }
  bool WaitHealthy(std::chrono::milliseconds timeout) const {
    return WaitFor(
        [&] {
          for (size_t i = 0; i < nodes_.size(); ++i) {
            if (nodes_[i].alive && !Healthy(i)) return false;
          }
          return true;
        },
        timeout);
  }

  // The index of the member that every live member names as raft leader, or -1 (none yet, or they
  // disagree). Asks each through /v3/maintenance/status.
  int Leader() const {
    int leader = -1;
    uint64_t leader_id = 0;
    for (size_t i = 0; i < nodes_.size(); ++i) {
      if (!nodes_[i].alive) continue;
      auto status = MemberStatus(i);
      if (!status.ok() || status->leader == 0) return -1;
      if (leader_id != 0 && status->leader != leader_id) return -1;
      leader_id = status->leader;
      if (status->is_leader()) leader = static_cast<int>(i);
    }
    return leader;
  }
  int WaitLeader(std::chrono::milliseconds timeout) const {
    int leader = -1;
    WaitFor([&] { return (leader = Leader()) >= 0; }, timeout);
    return leader;
  }

  // kill -9, and reaped.
  void Kill(size_t i) {
    if (nodes_[i].process) nodes_[i].process->Stop(9, std::chrono::seconds(5));
    nodes_[i].alive = false;
  }
  // Starts a killed member again on its ports and data dir (it rejoins the cluster).
  bool Restart(size_t i) { return Launch(i, "existing"); }

  // Runs etcdctl against member `i` (for test set-up, e.g. users and `auth enable`); true on exit 0.
  bool Etcdctl(size_t i, const std::string& args) const {
    const std::string cacert = tls_.ca_file.empty() ? "" : " --cacert=" + tls_.ca_file;
    const std::string cmd = "ETCDCTL_API=3 etcdctl --endpoints=" + nodes_[i].url() + cacert + " " + args +
                            " >>" + nodes_[i].dir->path() + "/etcdctl.log 2>&1";
    return std::system(cmd.c_str()) == 0;
  }

  std::string Logs() const {
    std::string out;
    for (const EtcdNode& n : nodes_) {
      if (!n.process) continue;
      std::string log = n.process->Log();
      if (log.size() > 4000) log = "..." + log.substr(log.size() - 4000);
      out += "--- " + n.name + " (" + n.url() + ")\n" + log + "\n";
    }
    return out;
  }

 private:
  EtcdCluster() = default;

  // A free port that no member of this cluster uses yet (PickFreePort may hand one out twice).
  int FreshPort() {
    for (;;) {
      const int port = PickFreePort();
      bool used = port == 0;
      for (const EtcdNode& n : nodes_) used = used || n.client_port == port || n.peer_port == port;
      for (int p : picked_) used = used || p == port;
      if (!used) {
        picked_.push_back(port);
        return port;
      }
    }
  }

  bool Launch(size_t i, const std::string& state) {
    EtcdNode& n = nodes_[i];
    std::vector<std::string> argv = {"etcd",
                                     "--name=" + n.name,
                                     "--data-dir=" + n.dir->path() + "/data",
                                     "--listen-client-urls=" + n.url(),
                                     "--advertise-client-urls=" + n.url(),
                                     "--listen-peer-urls=" + n.peer_url(),
                                     "--initial-advertise-peer-urls=" + n.peer_url(),
                                     "--initial-cluster=" + initial_cluster_,
                                     "--initial-cluster-state=" + state,
                                     "--initial-cluster-token=" + token_,
                                     "--logger=zap",
                                     "--log-outputs=stderr",
                                     "--log-level=warn"};
    if (n.https) {
      argv.push_back("--cert-file=" + tls_.cert_file);
      argv.push_back("--key-file=" + tls_.key_file);
    }
    argv.insert(argv.end(), extra_args_.begin(), extra_args_.end());
    n.process = Process::Start(argv, n.dir->path() + "/etcd-" + std::to_string(++launches_) + ".log");
    n.alive = n.process != nullptr;
    return n.alive;
  }

  std::vector<EtcdNode> nodes_;
  std::string initial_cluster_;
  std::string token_;
  std::vector<std::string> extra_args_;
  EtcdTlsFiles tls_;
  std::vector<int> picked_;
  int launches_ = 0;
};

// The config of a client of `endpoints` under `prefix`, with short timeouts so a dead member is
// skipped quickly.
inline EtcdConfig TestEtcdConfig(std::vector<std::string> endpoints, const std::string& prefix) {
  EtcdConfig c;
  c.endpoints = std::move(endpoints);
  c.prefix = prefix;
  c.http.connect_timeout = 500;
  c.http.timeout = 1500;
  return c;
}

}  // namespace warmpool::testing

#endif  // WARMPOOL_TESTS_SUPPORT_ETCD_TEST_UTIL_H_
