#!/usr/bin/env python3
"""Cluster mode over a real HAProxy: a 3-member etcd cluster, a real HAProxy with 6 backends (the demo's
backend.py: 2 in service, 4 declared disabled as warm standbys) and 3 `warmpool run` replicas sharing
pool web, all on 127.0.0.1.

  - a surge (an override to 5 active, sent to a replica that does not own the pool) with the owner
    killed (-9) as it arrives: another member owns the pool and promotes within lease_ttl plus two
    ticks, and HAProxy ends with exactly 5 servers in service: no promotion lost, none done twice;
  - the new owner frozen (SIGSTOP) past its TTL while a change is asked of another member: the change
    is carried out by the member that takes the pool over, and when the frozen one wakes (SIGCONT) it
    changes nothing at HAProxy until it owns the pool again;
  - etcd lost (every member frozen): the owner stops acting within the lease's TTL, and acts again
    once etcd is back.

    cluster_haproxy_test.py WARMPOOL SOURCE_DIR
"""
import os, shutil, signal, socket, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster_test import ADMIN, Etcd, Replica, check, failures, free_port, get, owners, wait  # noqa: E402

TTL_S = 4
TICK_S = 1


def haproxy(sock, cmd):
    s = socket.socket(socket.AF_UNIX); s.settimeout(2)
    try:
        s.connect(sock); s.sendall((cmd + "\n").encode()); out = b""
        while True:
            b = s.recv(65536)
            if not b: break
            out += b
        return out.decode()
    except OSError:
        return ""
    finally:
        s.close()


def in_service(sock):
    """The servers of backend web that are not in maintenance (admin state without FMAINT/IMAINT/RMAINT)."""
    out = set()
    lines = haproxy(sock, "show servers state web").splitlines()
    header = next((l for l in lines if l.startswith("# be_id")), None)
    if header is None: return None
    cols = header.lstrip("# ").split()
    for l in lines:
        if not l or l.startswith("#") or len(l.split()) < len(cols): continue
        f = dict(zip(cols, l.split()))
        if int(f["srv_admin_state"]) & (0x01 | 0x02 | 0x08) == 0: out.add(f["srv_name"])
    return out


def start_stack(binary, src, tmp, etcd, procs, ttl_s=TTL_S, tick_s=TICK_S):
    """HAProxy with 6 backends (2 in service) and 3 replicas sharing pool web; returns (socket, replicas)."""
    ports = {f"web-{i}": free_port() for i in range(1, 7)}
    for name, port in ports.items():
        procs.append(subprocess.Popen(["python3", f"{src}/examples/demo/backend.py", "--port", str(port),
                                       "--name", name, "--delay-ms", "5"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    sock = os.path.join(tmp, "haproxy.sock")
    with open(os.path.join(tmp, "haproxy.cfg"), "w") as f:
        f.write(f"global\n  stats socket {sock} mode 600 level admin\n"
                "defaults\n  mode http\n  timeout connect 1s\n  timeout client 10s\n  timeout server 10s\n"
                f"frontend web\n  bind 127.0.0.1:{free_port()}\n  default_backend web\n"
                "backend web\n  balance roundrobin\n  option httpchk GET /health\n"
                "  default-server check inter 200ms rise 2 fall 2\n")
        for i, (name, port) in enumerate(ports.items()):
            f.write(f"  server {name} 127.0.0.1:{port}{' disabled' if i >= 2 else ''}\n")
    procs.append(subprocess.Popen(["haproxy", "-db", "-f", os.path.join(tmp, "haproxy.cfg")],
                                  stdout=open(os.path.join(tmp, "haproxy.log"), "w"), stderr=subprocess.STDOUT))
    check(wait(lambda: in_service(sock) == {"web-1", "web-2"}, 10), "HAProxy serves with web-1 and web-2, 4 standbys")
    check(wait(lambda: etcd.leader() is not None, 20), "a 3-member etcd cluster elects a leader")
    endpoints = ", ".join(etcd.url(m) for m in etcd.names)
    config = os.path.join(tmp, "warmpool.yaml")
    with open(config, "w") as f:
        f.write(f"global: {{interval: {tick_s}s, log_level: info}}\n"
                f"cluster: {{etcd: {{endpoints: [{endpoints}], timeout: 400ms}}, lease_ttl: {ttl_s}s}}\n"
                "web: {tokens_file: tokens.yaml}\n"
                "pools:\n"
                "  - name: web\n    min_active: 2\n    max_active: 6\n    warm_standby: 0\n"
                "    policies: [{type: fixed, count: 2}]\n"
                "    behavior: {scale_down: {stabilization_window: 0s}}\n"
                f"    provider: {{type: haproxy, socket: {sock}, backend: web, drain_timeout: 2s}}\n")
    with open(os.path.join(tmp, "tokens.yaml"), "w") as f:
        f.write("tokens:\n  - {name: alice, role: admin, token: " + ADMIN + "}\n")
    os.chmod(os.path.join(tmp, "tokens.yaml"), 0o600)
    replicas = [Replica(binary, config, tmp, n) for n in ("warmpool-1", "warmpool-2", "warmpool-3")]
    return sock, replicas, config


def main():
    binary, src = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    for tool in ("etcd", "haproxy"):
        if shutil.which(tool) is None:
            print(f"cluster_haproxy_test: {tool} is missing: run scripts/install-deps", file=sys.stderr); return 1
    tmp = tempfile.mkdtemp(prefix="warmpool-cluster-haproxy-")
    etcd = Etcd(tmp)
    procs, replicas = [], []
    try:
        sock, replicas, config = start_stack(binary, src, tmp, etcd, procs)
        by_name = {r.name: r for r in replicas}
        o = wait(lambda: (lambda x: x if x and "web" in x else None)(owners(replicas[0])), 20)
        check(o is not None, "pool web has an owner")
        if not o: return 1
        owner = by_name[o["web"]]
        other = next(r for r in replicas if r is not owner)

        # The surge arrives at a non-owner; the owner dies as it does.
        code, _ = get(other.port, "/api/v1/pools/web/override", ADMIN, "PUT", {"active": 5, "reason": "surge"})
        owner.stop(signal.SIGKILL)
        killed = time.time()
        check(code == 200, f"the surge's override is accepted by {other.name}")
        survivors = [r for r in replicas if r is not owner]
        five = wait(lambda: (lambda s: s if s is not None and len(s) == 5 else None)(in_service(sock)), TTL_S + 10, 0.1)
        took = time.time() - killed
        check(five is not None and took <= TTL_S + 2 * TICK_S + 1.5,
              f"5 servers in service within lease_ttl + two ticks of the kill ({took:.1f} s, ttl {TTL_S} s)")
        time.sleep(3 * TICK_S)
        now = in_service(sock)
        check(now is not None and len(now) == 5, f"exactly 5 in service a few ticks later, none promoted twice: {sorted(now or [])}")
        o2 = owners(survivors[0])
        new_owner = by_name[o2["web"]] if o2 and "web" in o2 else None
        check(new_owner is not None and new_owner is not owner, "a surviving member owns web")
        if new_owner is None: return 1
        code, events = get(new_owner.port, "/api/v1/events?pool=web&limit=200")
        reasons = [e["reason"] for e in events.get("events", [])]
        check(any(r.startswith(f"hand-over: {new_owner.name} acts on pool web now") for r in reasons),
              "the new owner's events record the hand-over")

        # Freeze the new owner past its TTL; ask another member for 3 active meanwhile.
        new_owner.proc.send_signal(signal.SIGSTOP)
        frozen_at = time.time()
        rest = [r for r in survivors if r is not new_owner][0]
        code, _ = get(rest.port, "/api/v1/pools/web/override", ADMIN, "PUT", {"active": 3, "reason": "after the surge"})
        check(code == 200, f"a change asked of {rest.name} while the owner is frozen is accepted")
        three = wait(lambda: (lambda s: s if s is not None and len(s) == 3 else None)(in_service(sock)), TTL_S + 15, 0.2)
        check(three is not None, f"{rest.name} takes the pool over and drains to 3 ({time.time() - frozen_at:.1f} s)")
        time.sleep(max(0, TTL_S + 1 - (time.time() - frozen_at)))
        before = in_service(sock)
        new_owner.proc.send_signal(signal.SIGCONT)  # it wakes believing it owns web, with 5 wanted
        stable = True
        for _ in range(int(3 * TTL_S / 0.2)):
            time.sleep(0.2)
            now = in_service(sock)
            stable = stable and now == before
        check(stable, f"the woken stale owner changed nothing at HAProxy ({sorted(before or [])})")

        # etcd lost mid-run (every member frozen): the owner stops acting within the lease's TTL, and
        # takes the pool back when etcd returns.
        o = wait(lambda: (lambda x: x if x and "web" in x else None)(owners(rest)), 20)
        holder = by_name[o["web"]] if o else rest
        for m in etcd.names:
            if etcd.procs[m].poll() is None: etcd.procs[m].send_signal(signal.SIGSTOP)
        lost_at = time.time()
        fenced = wait(lambda: (lambda c: c is not None and not c.get("may_apply"))(
            get(holder.port, "/api/v1/cluster")[1]), TTL_S + 2, 0.1)
        check(fenced and time.time() - lost_at <= TTL_S,
              f"with etcd gone, {holder.name} stops acting within the lease's TTL ({time.time() - lost_at:.1f} s)")
        for m in etcd.names:
            if etcd.procs[m].poll() is None: etcd.procs[m].send_signal(signal.SIGCONT)
        back = wait(lambda: (lambda x: x if x and "web" in x else None)(owners(holder)), 30)
        code, _ = get(holder.port, "/api/v1/pools/web/override", ADMIN, "PUT", {"active": 4, "reason": "etcd is back"})
        four = wait(lambda: (lambda s: s is not None and len(s) == 4)(in_service(sock)), 15, 0.2)
        check(back is not None and code == 200 and four, "when etcd returns, the pool is owned and acted on again")
    finally:
        for r in replicas: r.stop()
        for p in procs:
            if p.poll() is None: p.terminate()
        for p in procs:
            try: p.wait(5)
            except subprocess.TimeoutExpired: p.kill()
        etcd.stop()
        if not failures: shutil.rmtree(tmp, ignore_errors=True)
        else: print(f"logs kept in {tmp}")
    print(f"{len(failures)} failed" if failures else "all passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
