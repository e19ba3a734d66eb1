#!/usr/bin/env python3
"""Warmpool as a cluster, end to end on 127.0.0.1: a real 3-member etcd cluster (Debian's etcd, temp
dirs, stopped by PID) and 3 `warmpool run` replicas sharing 100 pools on simulated providers.

  - every pool has exactly one owner, and each replica owns 33 +/- 10 of them;
  - an override PUT to a replica that does not own the pool is honoured by the owner;
  - kill -9 of the owner: its pools move to the others within lease_ttl + two ticks, the others' pools
    stay where they were, and the override survives;
  - SIGSTOP of a replica past its TTL, then SIGCONT: it applies nothing until it owns pools again;
  - kill -9 of the etcd leader: the cluster recovers, every pool has one owner again, and no pool is
    ever reported owned by two replicas.

    cluster_test.py WARMPOOL SOURCE_DIR
"""
import json, os, re, shutil, signal, socket, subprocess, sys, tempfile, time, urllib.request

POOLS = 100
ADMIN = "admin-token-0123456789"  # reads need a token too, once a tokens file is configured
TTL_S = 4
TICK_S = 1
failures = []


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p


def check(ok, what):
    print(("ok   - " if ok else "FAIL - ") + what, flush=True)
    if not ok: failures.append(what)
    return ok


def wait(pred, seconds, step=0.2):
    deadline = time.time() + seconds
    while time.time() < deadline:
        r = pred()
        if r: return r
        time.sleep(step)
    return None


def get(port, path, token=ADMIN, method="GET", body=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                 data=json.dumps(body).encode() if body is not None else None)
    if token: req.add_header("Authorization", "Bearer " + token)
    if body is not None: req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=3) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")
    except OSError:
        return 0, {}


class Etcd:
    def __init__(self, tmp, n=3):
        self.names = [f"e{i}" for i in range(n)]
        self.client = {m: free_port() for m in self.names}
        self.peer = {m: free_port() for m in self.names}
        self.procs = {}
        initial = ",".join(f"{m}=http://127.0.0.1:{self.peer[m]}" for m in self.names)
        for m in self.names:
            log = open(os.path.join(tmp, m + ".log"), "w")
            self.procs[m] = subprocess.Popen(
                ["etcd", "--name", m, "--data-dir", os.path.join(tmp, m),
                 "--listen-client-urls", self.url(m), "--advertise-client-urls", self.url(m),
                 "--listen-peer-urls", f"http://127.0.0.1:{self.peer[m]}",
                 "--initial-advertise-peer-urls", f"http://127.0.0.1:{self.peer[m]}",
                 "--initial-cluster", initial, "--initial-cluster-token", "warmpool-test",
                 "--initial-cluster-state", "new"], stdout=log, stderr=subprocess.STDOUT)

    def url(self, m): return f"http://127.0.0.1:{self.client[m]}"

    def status(self, m):
        try:
            req = urllib.request.Request(self.url(m) + "/v3/maintenance/status", data=b"{}", method="POST")
            with urllib.request.urlopen(req, timeout=2) as r:
                d = json.loads(r.read())
                return d["header"]["member_id"], d.get("leader")
        except OSError:
            return None

    def leader(self):
        for m in self.names:
            if self.procs[m].poll() is not None: continue
            s = self.status(m)
            if s and s[1] and s[0] == s[1]: return m
        return None

    def stop(self):
        for p in self.procs.values():
            if p.poll() is None: p.kill(); p.wait()


class Replica:
    def __init__(self, binary, config, tmp, name):
        self.name, self.port = name, free_port()
        self.log_path = os.path.join(tmp, name + ".log")
        self.start(binary, config)

    def start(self, binary, config):
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen([binary, "run", "--config.file", config, "--cluster.member", self.name,
                                      "--web.listen-address", f"127.0.0.1:{self.port}"],
                                     stdout=self.log, stderr=subprocess.STDOUT)

    def cluster(self):
        code, body = get(self.port, "/api/v1/cluster")
        return body if code == 200 else None

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try: self.proc.wait(5)
            except subprocess.TimeoutExpired: self.proc.kill(); self.proc.wait()


def owners(replica):
    """pool -> owner, as `replica` sees the cluster, or None."""
    c = replica.cluster()
    if not c or not c.get("joined"): return None
    out = {}
    for m in c["members"]:
        for p in m["pools"]: out[p] = m["name"]
    return out


def acting(replicas):
    """pool -> [replicas that publish the pool as their own], from every live replica's pool list."""
    out = {}
    for r in replicas:
        if r.proc.poll() is not None: continue
        code, body = get(r.port, "/api/v1/pools")
        if code != 200: continue
        for p in body["pools"]:
            if p.get("owner") == r.name and not p.get("elsewhere"):
                out.setdefault(p["name"], []).append(r.name)
    return out


def main():
    binary, src = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    if shutil.which("etcd") is None:
        print("cluster_test: etcd is missing: run scripts/install-deps", file=sys.stderr); return 1
    tmp = tempfile.mkdtemp(prefix="warmpool-cluster-")
    etcd = Etcd(tmp)
    replicas = []
    try:
        check(wait(lambda: etcd.leader() is not None, 20), "a 3-member etcd cluster elects a leader")
        config = os.path.join(tmp, "warmpool.yaml")
        endpoints = ", ".join(etcd.url(m) for m in etcd.names)
        with open(config, "w") as f:
            f.write(f"global: {{interval: {TICK_S}s, log_level: info}}\n"
                    f"metrics_source: {{type: trace, file: {src}/examples/traces/clarknet-http-1995-1h.csv.gz, speed: 1}}\n"
                    f"cluster: {{etcd: {{endpoints: [{endpoints}], timeout: 400ms}}, lease_ttl: {TTL_S}s}}\n"
                    "web: {tokens_file: tokens.yaml}\n"
                    "pools:\n")
            for i in range(POOLS):
                f.write(f"  - {{name: p{i:03d}, min_active: 1, max_active: 10, warm_standby: 1, "
                        "metrics: [{name: rps, window: 1m, step: 1s}], "
                        "policies: [{type: target_tracking, metric: rps, target_per_server: 1}], "
                        "provider: {type: simulated, initial_active: 1, initial_standby: 1, promotion_delay: 0s, "
                        "provisioning_delay: 1s}}\n")
        with open(os.path.join(tmp, "tokens.yaml"), "w") as f:
            f.write("tokens:\n  - {name: alice, role: admin, token: " + ADMIN + "}\n")
        os.chmod(os.path.join(tmp, "tokens.yaml"), 0o600)
        # Rendezvous hashing spreads pools as fair dice would: 100 pools over 3 members vary by about
        # 4.7 around 33, so 33 +/- 10 holds for most sets of names but not all (a, b, c get 31, 25, 44).
        replicas = [Replica(binary, config, tmp, n) for n in ("warmpool-1", "warmpool-2", "warmpool-3")]
        by_name = {r.name: r for r in replicas}

        def settled():
            o = owners(replicas[0])
            return o if o and len(o) == POOLS and len({m for m in o.values()}) == 3 else None
        o = wait(settled, 30)
        check(o is not None, "all 100 pools are owned, over 3 members")
        if not o: return 1
        # The first to join took everything; each hands over as the others join: wait until it is still.
        last = {"o": None, "same": 0}
        def still():
            cur = owners(replicas[0])
            last["same"] = last["same"] + 1 if cur and cur == last["o"] else 0
            last["o"] = cur
            return cur if last["same"] >= 3 and len(cur) == POOLS else None
        o = wait(still, 30, 1.0) or o
        share = {n: sum(1 for m in o.values() if m == n) for n in by_name}
        check(all(23 <= s <= 43 for s in share.values()), f"each replica owns 33 +/- 10 pools: {share}")
        act = wait(lambda: (lambda a: a if len(a) == POOLS else None)(acting(replicas)), 15)
        check(act is not None and all(len(v) == 1 for v in act.values()),
              "every pool is acted on by exactly one replica (their pool lists agree)")
        check(all(get(r.port, "/-/ready")[0] == 200 for r in replicas), "/-/ready is 200 on every member once joined")

        # An override sent to a replica that does not own the pool.
        pool = "p007"
        owner = by_name[o[pool]]
        other = next(r for r in replicas if r is not owner)
        code, _ = get(other.port, f"/api/v1/pools/{pool}/override", ADMIN, "PUT",
                      {"active": 5, "reason": "launch at 14:00"})
        check(code == 200, f"PUT override on {pool} to {other.name} (owner {owner.name}) is accepted")
        def honoured(r):
            code, body = get(r.port, f"/api/v1/pools/{pool}")
            d = body.get("decision") or {}
            return code == 200 and not body.get("elsewhere") and "override (active 5: launch at 14:00" in d.get("reason", "")
        check(wait(lambda: honoured(owner), 5), f"the owner {owner.name} acts on the override within a few ticks")

        # kill -9 of the owner.
        before = owners(other)
        killed_at = time.time()
        owner.stop(signal.SIGKILL)
        survivors = [r for r in replicas if r is not owner]
        def moved():
            o2 = owners(survivors[0])
            return o2 if o2 and len(o2) == POOLS and owner.name not in o2.values() else None
        o2 = wait(moved, TTL_S + 10, 0.1)
        took = time.time() - killed_at
        check(o2 is not None and took <= TTL_S + 2 * TICK_S + 1.5,
              f"the killed owner's pools move within lease_ttl + two ticks ({took:.1f} s, ttl {TTL_S} s)")
        if o2:
            stayed = all(o2[p] == m for p, m in before.items() if m != owner.name)
            check(stayed, "the survivors' own pools did not move")
            new_owner = by_name[o2[pool]]
            check(wait(lambda: honoured(new_owner), 5), f"the override survives: {new_owner.name} acts on it")

        # SIGSTOP past the TTL, then SIGCONT: nothing applied until it owns pools again.
        frozen = survivors[0]
        frozen.proc.send_signal(signal.SIGSTOP)
        time.sleep(TTL_S + 3)
        log_size = os.path.getsize(frozen.log_path)
        frozen.proc.send_signal(signal.SIGCONT)
        rejoined = wait(lambda: (lambda c: c if c and c.get("joined") and c.get("may_apply") else None)(frozen.cluster()), 15)
        check(rejoined is not None, f"{frozen.name} joins again after SIGCONT")
        def woke_log():
            with open(frozen.log_path) as f:
                f.seek(log_size)
                text = f.read()
            return text if "cluster: joined" in text else None
        woke = wait(woke_log, 10) or ""
        rejoin_at = woke.find("cluster: joined")
        before_rejoin = woke[:rejoin_at] if rejoin_at >= 0 else woke
        applied = [l for l in before_rejoin.splitlines() if " decision " in l and re.search(r'result="[0-9]+ ok', l)]
        check(rejoin_at >= 0 and not applied,
              f"{frozen.name} applied nothing between waking and joining again ({len(applied)} applied)")

        # kill -9 of the etcd leader.
        leader = etcd.leader()
        check(leader is not None, "the etcd leader is known")
        if leader:
            etcd.procs[leader].kill(); etcd.procs[leader].wait()
            double = []
            def recovered():
                a = acting(survivors)
                double.extend(p for p, v in a.items() if len(v) > 1)
                o3 = owners(survivors[0])
                return o3 if o3 and len(o3) == POOLS else None
            o3 = wait(recovered, 30, 0.5)
            check(o3 is not None and etcd.leader() not in (None, leader),
                  "after the etcd leader's kill a new leader is elected and every pool is owned again")
            check(not double, f"no pool was ever acted on by two replicas ({sorted(set(double))[:5]})")
    finally:
        for r in replicas: r.stop()
        etcd.stop()
        if not failures: shutil.rmtree(tmp, ignore_errors=True)
        else: print(f"logs kept in {tmp}")
    print(f"{len(failures)} failed" if failures else "all passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
