#!/usr/bin/env python3
"""Failover time of cluster mode (issue 14): the owner of a pool killed (-9) as a change arrives, to the
change in service at HAProxy, done by the member that takes the pool over. Real etcd (3 members), a
real HAProxy, 3 `warmpool run` replicas on 127.0.0.1 (the stack of tests/cli/cluster_haproxy_test.py).
Each round asks a non-owner for a new active count (alternating 3 and 4), kills the owner, times until
HAProxy serves that count, then restarts the killed replica and waits for the pool to settle.

    bench/failover.py WARMPOOL [--rounds 20] [--ttl 4] [--tick 1]

Prints each round and the median and max against lease_ttl and lease_ttl + one tick.
"""
import argparse, os, shutil, signal, statistics, sys, tempfile, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "cli"))
from cluster_test import ADMIN, Etcd, Replica, get, owners, wait  # noqa: E402
import cluster_haproxy_test as stack  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("warmpool")
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--ttl", type=int, default=4, help="cluster.lease_ttl, seconds")
    ap.add_argument("--tick", type=int, default=1, help="global.interval, seconds")
    args = ap.parse_args()
    binary = os.path.abspath(args.warmpool)
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    tmp = tempfile.mkdtemp(prefix="warmpool-failover-")
    etcd = Etcd(tmp)
    procs, replicas, times = [], [], []
    try:
        sock, replicas, config = stack.start_stack(binary, src, tmp, etcd, procs, args.ttl, args.tick)
        by_name = {r.name: r for r in replicas}
        for i in range(args.rounds):
            want = 3 if i % 2 == 0 else 4
            o = wait(lambda: (lambda x: x if x and "web" in x and all(r.proc.poll() is None for r in replicas) else None)(
                owners(replicas[0])), 30)
            if not o:
                print(f"round {i + 1}: no owner", flush=True); return 1
            owner = by_name[o["web"]]
            other = next(r for r in replicas if r is not owner)
            code, _ = get(other.port, "/api/v1/pools/web/override", ADMIN, "PUT", {"active": want, "reason": f"round {i + 1}"})
            owner.stop(signal.SIGKILL)
            killed = time.time()
            done = wait(lambda: (lambda s: s is not None and len(s) == want)(stack.in_service(sock)), args.ttl + 20, 0.05)
            took = time.time() - killed
            print(f"round {i + 1:2d}: owner {owner.name} killed, {want} in service after {took:.2f} s"
                  + ("" if done and code == 200 else "  (NOT DONE)"), flush=True)
            if not done: return 1
            times.append(took)
            owner.start(binary, config)  # back, to be killed again later
            wait(lambda: (lambda c: c and c.get("joined"))(owner.cluster()), 20)
            time.sleep(args.tick * 2)
        med, worst = statistics.median(times), max(times)
        print(f"\nfailover over {len(times)} kills: median {med:.2f} s, max {worst:.2f} s; lease_ttl {args.ttl} s, "
              f"lease_ttl + one tick {args.ttl + args.tick} s: max {'within' if worst <= args.ttl + args.tick else 'OVER'} it")
        return 0
    finally:
        for r in replicas: r.stop()
        for p in procs:
            if p.poll() is None: p.terminate()
        etcd.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
