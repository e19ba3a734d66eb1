// Overload protection against a real HAProxy 2.6 and backends that fall over after 2 s with more than 6
// requests in flight: load at twice what the pool at max_active serves, from four ordinary clients
// (127.0.0.1, .3, .4, .5) and one heavy client (127.0.0.2). Without protection a backend falls over;
// with it none does, the heavy client gets the 429s, the ordinary ones are served, and the limit is
// lifted once the load falls, once.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "controller/runtime/pool_controller.h"
#include "providers/haproxy/haproxy_counters.h"
#include "providers/haproxy/haproxy_shedder.h"
#include "tests/support/harness.h"
#include "tests/support/haproxy_test_util.h"

using namespace warmpool;
using namespace warmpool::testing;
using namespace std::chrono_literals;

namespace {

// The rules a user adds to the frontend (docs/configuration.md, "overload").
const char kShedRules[] =
    "  http-request track-sc0 src table warmpool_clients\n"
    "  http-request track-sc1 int(1) table warmpool_total\n"
    "  http-request deny deny_status 429 hdr Retry-After 1 if { var(proc.warmpool_client_limit) -m int gt 0 } "
    "{ sc0_gpc0_rate(warmpool_clients),sub(proc.warmpool_client_limit) ge 0 }\n"
    "  http-request deny deny_status 429 hdr Retry-After 1 if { var(proc.warmpool_rate_limit) -m int gt 0 } "
    "{ sc1_gpc0_rate(warmpool_total),sub(proc.warmpool_rate_limit) ge 0 }\n"
    "  http-request sc-inc-gpc0(0)\n"
    "  http-request sc-inc-gpc0(1)\n";
const char kShedTables[] =
    "backend warmpool_clients\n"
    "  stick-table type ip size 100k expire 30s store http_req_rate(10s),gpc0,gpc0_rate(1s)\n"
    "backend warmpool_total\n"
    "  stick-table type integer size 1 expire 30s store gpc0,gpc0_rate(1s)\n";

// One GET from `source` (a 127.0.0.0/8 address) to 127.0.0.1:port: the status (0: no answer) and
// the seconds it took.
std::pair<int, double> Get(int port, const std::string& source) {
  const auto start = std::chrono::steady_clock::now();
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in from{};
  from.sin_family = AF_INET;
  inet_pton(AF_INET, source.c_str(), &from.sin_addr);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(port));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int status = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) == 0 &&
      connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0) {
    const std::string req = "GET / HTTP/1.0\r\nHost: x\r\n\r\n";
    if (write(fd, req.data(), req.size()) == static_cast<ssize_t>(req.size())) {
      char buf[512];
      ssize_t n = read(fd, buf, sizeof buf);
      if (n > 12) status = std::atoi(std::string(buf + 9, 3).c_str());
    }
  }
  close(fd);
  return {status, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()};
}

// Open-loop load from one client address: `threads` senders, `rate` requests a second in all.
struct Client {
  std::string source;
  double rate;
  int threads;
  std::mutex mu;
  std::vector<double> latencies;  // of 200s
  int ok = 0, limited = 0, failed = 0;
  bool in_step = false;  // every sender at the same moments (bursts), instead of spread over the period
};

class Load {
 public:
  Load(int port, std::vector<Client*> clients) {
    for (Client* c : clients) {
      for (int i = 0; i < c->threads; ++i) {
        threads_.emplace_back([this, port, c] {
          const auto period = std::chrono::microseconds(static_cast<int64_t>(1e6 * c->threads / c->rate));
          auto next = std::chrono::steady_clock::now() + (c->in_step ? period * 0 : period * (std::rand() % 100) / 100);
          while (!stop_) {
            std::this_thread::sleep_until(next);
            next += period;
            auto [status, seconds] = Get(port, c->source);
            std::lock_guard<std::mutex> lock(c->mu);
            if (status == 200) {
              ++c->ok;
              c->latencies.push_back(seconds);
            } else if (status == 429) {
              ++c->limited;
            } else {
              ++c->failed;
            }
          }
        });
      }
    }
  }
  ~Load() { Stop(); }
  void Stop() {
    stop_ = true;
    for (std::thread& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

 private:
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

double P99(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, v.size() * 99 / 100)];
}

// Two backends (100 ms a request, fall over after 2 s past 6 in flight) behind the frontend with the rules.
struct Stack {
  std::vector<std::unique_ptr<Backend>> backends;
  std::unique_ptr<HAProxy> haproxy;
  int port = 0;
  Stack() {
    std::vector<std::string> servers;
    for (const char* name : {"a", "b"}) {
      backends.push_back(std::make_unique<Backend>(name, 100ms, /*crash_above=*/6, /*crash_after=*/2000ms));
      servers.push_back(std::string(name) + " " + backends.back()->address() + " " + kCheck);
    }
    port = PickFreePort();
    std::string cfg = Cfg(port, servers, kShedTables);
    cfg.replace(cfg.find("  default_backend web\n"), 0, kShedRules);
    haproxy = StartHAProxy(cfg);
  }
  bool AnyCrashed() const {
    for (const auto& b : backends) {
      if (b->crashed()) return true;
    }
    return false;
  }
};

struct Clients {
  Client users[4] = {{"127.0.0.1", 10, 2, {}, {}}, {"127.0.0.3", 10, 2, {}, {}}, {"127.0.0.4", 10, 2, {}, {}},
                     {"127.0.0.5", 10, 2, {}, {}}};
  Client heavy{"127.0.0.2", 120, 16, {}, {}};  // users 40 + 120: twice the 80 the pool serves
  std::vector<Client*> All() { return {&users[0], &users[1], &users[2], &users[3], &heavy}; }
  std::vector<Client*> Users() { return {&users[0], &users[1], &users[2], &users[3]}; }
};

}  // namespace

TEST_CASE("shed: without protection, twice the capacity makes a backend fall over") {
  Stack stack;
  REQUIRE(stack.haproxy);
  Clients c;
  Load load(stack.port, c.All());
  CHECK(WaitFor([&] { return stack.AnyCrashed(); }, 15s));
}

TEST_CASE("shed: at max_active the heavy client is limited first, the users are served, nothing falls over") {
  Stack stack;
  REQUIRE(stack.haproxy);
  SystemClock clock;
  auto provider = MakeProvider(stack.haproxy->socket_path, &clock);
  PoolSpec spec = RpsPool(/*min_active=*/2, /*max_active=*/2, /*warm_standby=*/0);
  spec.overload.enabled = true;
  spec.overload.capacity = 40;  // a backend serves 10 at once for 100 ms: 40 a second leaves room
  spec.overload.metric = "rps";
  spec.overload.release_after = 3 * kSecond;
  spec.stale_after = 10 * kSecond;
  std::vector<std::string> errors;
  std::vector<std::unique_ptr<Policy>> policies = CreatePolicies(spec, &errors);
  REQUIRE(errors.empty());
  // The offered load, 429s included: the frontend's request counter over the runtime API.
  auto offered = NewHAProxyCounterSource(Params{"pools[0].metrics[0].fallback", "",
                                                {{"socket", stack.haproxy->socket_path},
                                                 {"proxy", "fe"},
                                                 {"side", "frontend"},
                                                 {"rate_window", "1s"},
                                                 {"scale_down", "true"}}},
                                         &errors);
  REQUIRE(errors.empty());
  PoolController pool(spec, std::move(policies), provider.get(), offered.get());
  pool.SetShedder(NewHAProxyShedder(Params{"pools[0].overload.haproxy", "", {{"socket", stack.haproxy->socket_path}}},
                                    &errors));
  REQUIRE(errors.empty());
  int activations = 0;
  bool was_active = false;
  std::string reason, timeline;  // the limits tick by tick: rate/client
  auto tick = [&] {
    TickResult t = pool.RunOnce(clock.Now());
    REQUIRE(t.status.ok());
    CHECK(t.shed.status.ok());
    if (t.shed.limits.active() && !was_active) {
      ++activations;
      reason = t.shed.reason;
    }
    was_active = t.shed.limits.active();
    timeline += std::to_string(static_cast<int>(t.shed.limits.rate)) + "/" +
                std::to_string(static_cast<int>(t.shed.limits.client)) + " ";
    return t;
  };
  tick();  // the first tick puts "no limit" in force
  REQUIRE(WaitFor([&] { return tick().observed.CountHealthy(ServerState::kActive) == 2; }, 10s));

  Clients c;
  {
    Load load(stack.port, c.All());
    for (int i = 0; i < 80; ++i) {  // 20 s at four ticks a second
      std::this_thread::sleep_for(250ms);
      tick();
    }
    load.Stop();
  }
  CHECK_FALSE(stack.AnyCrashed());
  CHECK(activations == 1);
  INFO(reason);
  CHECK(reason.find("over capacity") != std::string::npos);
  CHECK(reason.find("at max_active 2 serving, limiting to 80 req/s") != std::string::npos);
  // The heavy client took the refusals; the users were served, fast.
  int users_ok = 0, users_limited = 0, users_failed = 0;
  std::vector<double> latencies;
  for (Client* u : c.Users()) {
    users_ok += u->ok;
    users_limited += u->limited;
    users_failed += u->failed;
    latencies.insert(latencies.end(), u->latencies.begin(), u->latencies.end());
  }
  INFO("limits: " << timeline);
  INFO("users: " << users_ok << " ok, " << users_limited << " 429, " << users_failed << " failed; heavy: "
                 << c.heavy.ok << " ok, " << c.heavy.limited << " 429, " << c.heavy.failed << " failed");
  CHECK(c.heavy.limited > c.heavy.ok);  // it offered 120 a second and got about a third
  CHECK(c.heavy.limited > 10 * users_limited);
  CHECK(users_limited * 10 < users_ok);  // under 10% of the users' requests refused
  CHECK(users_failed == 0);
  CHECK(P99(latencies) < 0.5);

  // The load falls: lifted after release_after, and not again.
  Client quiet{"127.0.0.1", 10, 1, {}, {}};
  Load calm(stack.port, {&quiet});
  bool lifted = false;
  for (int i = 0; i < 20 && !lifted; ++i) {
    std::this_thread::sleep_for(500ms);
    TickResult t = tick();
    if (!t.shed.limits.active()) {
      lifted = true;
      CHECK(t.shed.reason.find("shed: lifted") != std::string::npos);
    }
  }
  CHECK(lifted);
  CHECK(HAProxyCommand(stack.haproxy->socket_path, "experimental-mode on; get var proc.warmpool_rate_limit")
            .find("value=<0>") != std::string::npos);
  CHECK(activations == 1);
}

TEST_CASE("shed: with server_concurrency, no server takes more at once, the excess is queued, then a fast 503") {
  // Backends that do not fall over: the test measures how many requests each has in flight at once.
  std::vector<std::unique_ptr<Backend>> backends;
  std::vector<std::string> servers;
  for (const char* name : {"a", "b"}) {
    backends.push_back(std::make_unique<Backend>(name, 100ms));
    servers.push_back(std::string(name) + " " + backends.back()->address() + " " + kCheck);
  }
  const int port = PickFreePort();
  // The backend's queue timeout: how long a request above the cap waits for a slot before its 503.
  std::string cfg = Cfg(port, servers, std::string("  timeout queue 300ms\n") + kShedTables);
  cfg.replace(cfg.find("  default_backend web\n"), 0, kShedRules);
  auto haproxy = StartHAProxy(cfg);
  REQUIRE(haproxy);
  SystemClock clock;
  auto provider = MakeProvider(haproxy->socket_path, &clock);
  PoolSpec spec = RpsPool(/*min_active=*/2, /*max_active=*/2, /*warm_standby=*/0);
  spec.overload.enabled = true;
  // The rate limit (2 x 50 a second) admits more than 3 at once for 100 ms each can serve (60 a
  // second): the cap, not the rate limit, is what holds the servers, and the queue overflows into 503s.
  spec.overload.capacity = 50;
  spec.overload.metric = "rps";
  spec.overload.per_client = false;
  spec.overload.server_concurrency = 3;
  spec.overload.release_after = 2 * kSecond;
  spec.stale_after = 10 * kSecond;
  std::vector<std::string> errors;
  std::vector<std::unique_ptr<Policy>> policies = CreatePolicies(spec, &errors);
  auto offered = NewHAProxyCounterSource(Params{"pools[0].metrics[0].fallback", "",
                                                {{"socket", haproxy->socket_path},
                                                 {"proxy", "fe"},
                                                 {"side", "frontend"},
                                                 {"rate_window", "1s"},
                                                 {"scale_down", "true"}}},
                                         &errors);
  PoolController pool(spec, std::move(policies), provider.get(), offered.get());
  pool.SetShedder(NewHAProxyShedder(
      Params{"pools[0].overload.haproxy", "", {{"socket", haproxy->socket_path}, {"backend", "web"}}}, &errors));
  REQUIRE(errors.empty());
  auto slim = [&](const std::string& server) {  // the server's session limit in `show stat` ("" = none)
    const std::string stat = HAProxyCommand(haproxy->socket_path, "show stat web 4 -1");
    size_t line = stat.find("\nweb," + server + ",");
    if (line == std::string::npos) return std::string("?");
    std::vector<std::string> fields;
    size_t at = line + 1, end = stat.find('\n', at);
    while (at <= end && fields.size() < 7) {
      size_t comma = stat.find(',', at);
      fields.push_back(stat.substr(at, comma - at));
      at = comma + 1;
    }
    return fields.size() > 6 ? fields[6] : std::string("?");  // pxname,svname,qcur,qmax,scur,smax,slim
  };
  TickResult t = pool.RunOnce(clock.Now());
  REQUIRE(t.shed.status.ok());
  REQUIRE(WaitFor([&] { return pool.RunOnce(clock.Now()).observed.CountHealthy(ServerState::kActive) == 2; }, 10s));
  CHECK(slim("a").empty());

  // Bursts: 30 senders at 5 a second each, in step (150 a second offered).
  Client burst{"127.0.0.2", 150, 30, {}, {}};
  burst.in_step = true;
  int peak_before = 0, peak_during = 0, refused_503 = 0;
  std::vector<double> refusal_seconds;
  std::string reason;
  {
    Load load(port, {&burst});
    bool shedding = false;
    for (int i = 0; i < 40 && !shedding; ++i) {
      std::this_thread::sleep_for(250ms);
      t = pool.RunOnce(clock.Now());
      shedding = t.shed.limits.server_concurrency > 0;
      if (shedding) reason = t.shed.reason;
    }
    REQUIRE(shedding);
    peak_before = std::max(backends[0]->peak_in_flight(), backends[1]->peak_in_flight());
    std::this_thread::sleep_for(1s);  // what was admitted before the cap has finished
    for (auto& b : backends) b->ResetPeak();
    const int failed_before = burst.failed;
    for (int i = 0; i < 20; ++i) {  // 5 s under the cap
      std::this_thread::sleep_for(250ms);
      pool.RunOnce(clock.Now());
    }
    peak_during = std::max(backends[0]->peak_in_flight(), backends[1]->peak_in_flight());
    load.Stop();
    refused_503 = burst.failed - failed_before;
  }
  INFO(reason);
  CHECK(reason.find("limiting to 100 req/s, 3 at once per server (the rest queued, then 503)") != std::string::npos);
  CHECK(slim("a") == "3");
  CHECK(slim("b") == "3");
  MESSAGE("peak in flight before the cap " << peak_before << ", under it " << peak_during << "; " << burst.ok
                                           << " ok, " << burst.limited << " 429, " << refused_503 << " 503");
  INFO("peak in flight before the cap " << peak_before << ", under it " << peak_during << "; " << burst.ok
                                        << " ok, " << burst.limited << " 429, " << burst.failed << " other");
  CHECK(peak_before > 3);   // the bursts took more than the cap before it was in force...
  // ...and never under it (+1: the backend counts a request until its response is written, and HAProxy
  // may hand the slot to the next request as soon as it has read that response).
  CHECK(peak_during <= 3 + 1);
  CHECK(refused_503 > 0);   // the excess beyond the queue timeout (the rate limit's 429s take the rest)
  CHECK(P99(burst.latencies) < 0.6);  // served within the queue timeout and its own 100 ms
  // Lifted once the load is gone: the servers' maxconn is back to none.
  bool lifted = false;
  for (int i = 0; i < 20 && !lifted; ++i) {
    std::this_thread::sleep_for(500ms);
    lifted = !pool.RunOnce(clock.Now()).shed.limits.active();
  }
  CHECK(lifted);
  CHECK(slim("a") == "");
}
