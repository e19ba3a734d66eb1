#!/usr/bin/env python3
"""Warmpool's live demo: real Prometheus, HAProxy and backends on 127.0.0.1, a surge, and Warmpool
scaling the pool as it happens.

Starts 4 backends (2 active, 2 warm standby in HAProxy), HAProxy with its Prometheus exporter,
Prometheus scraping it every second, and `warmpool run` against them; then replays a surge with an
open-loop load generator. Prints, once a second, the offered and served load, the latency, the queue,
the active and standby counts and every decision with its reason; at the end a timeline and the time
from the surge to the first request served by a promoted standby. Everything it started is stopped on
exit or Ctrl-C.

  run_demo.py --warmpool build/controller/warmpool [--dry-run] [--profile ...]
  run_demo.py --warmpool ... --bench 5          # time-to-capacity over 5 step surges
  run_demo.py --warmpool ... --scenario overload # the same surge past max_active twice: without and with
                                                 # overload protection (backends that fall over under a burst)
"""
import argparse, os, random, re, shutil, signal, socket, subprocess, sys, tempfile, threading, time
import datetime, urllib.parse, urllib.request, json

HERE = os.path.dirname(os.path.abspath(__file__))
PROC = []  # every child we started, stopped in reverse order


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p


def start(argv, log, env=None):
    p = subprocess.Popen(argv, stdout=open(log, "ab"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         env=env, start_new_session=True)
    PROC.append(p)
    return p


def stop_all():
    for p in reversed(PROC):
        if p.poll() is None:
            try: os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError: pass
    deadline = time.time() + 5
    for p in reversed(PROC):
        try: p.wait(max(0.1, deadline - time.time()))
        except subprocess.TimeoutExpired:
            try: os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError: pass
            p.wait()
    PROC.clear()


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


def servers(sock):
    """{name: (state, stot, qcur)} from `show stat` for backend web; the backend's own row as "BACKEND"."""
    out = {}
    lines = haproxy(sock, "show stat").splitlines()
    if not lines: return out
    cols = lines[0].lstrip("# ").split(",")
    ix = {c: i for i, c in enumerate(cols)}
    for l in lines[1:]:
        f = l.split(",")
        if len(f) < len(cols) or f[0] != "web" or f[1] == "FRONTEND": continue
        name = f[1]
        out[name] = (f[ix["status"]], int(f[ix["stot"]] or 0), int(f[ix["qcur"]] or 0))
    return out


def prom_query(port, q):
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": q})
    try:
        with urllib.request.urlopen(url, timeout=1) as r:
            res = json.load(r)["data"]["result"]
            return float(res[0]["value"][1]) if res else None
    except Exception:
        return None


def fill(template, values):
    text = open(os.path.join(HERE, template)).read()
    for k, v in values.items(): text = text.replace("@" + k + "@", str(v))
    return text


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--warmpool", required=True, help="path to the warmpool binary")
    ap.add_argument("--dry-run", action="store_true", help="run Warmpool with --dry-run: it must change nothing")
    ap.add_argument("--profile", default="base:20:100,step:25:260,ramp:20:260-380,hold:15:380,fall:30:380-100",
                    help="load profile phase:seconds:rate[-rate],... (requests/s)")
    ap.add_argument("--bench", type=int, default=0, help="measure time-to-capacity over N step surges instead")
    ap.add_argument("--seed", type=int, default=1, help="seed of the bench's random surge phases")
    ap.add_argument("--tick", default="1s", help="Warmpool's interval (evaluation interval)")
    ap.add_argument("--scrape", default="1s", help="Prometheus' scrape interval")
    ap.add_argument("--check-inter", default="200ms", help="HAProxy health-check interval")
    ap.add_argument("--check-rise", type=int, default=2, help="HAProxy health checks to pass before UP")
    ap.add_argument("--delay-ms", type=int, default=50, help="each backend's per-request time")
    ap.add_argument("--max-conns", type=int, default=4, help="each backend's concurrent requests")
    ap.add_argument("--out", default="out/demo", help="where logs and the timeline are kept")
    ap.add_argument("--scenario", choices=["surge", "overload"], default="surge",
                    help="surge: standbys promoted as the load rises (default); overload: a surge past max_active, "
                         "run without and then with overload protection")
    args = ap.parse_args()
    if args.scenario == "overload":
        if args.profile == ap.get_default("profile"):
            args.profile = "base:8:100,surge:30:320,fall:15:60"
        return overload(args)

    os.makedirs(args.out, exist_ok=True)
    out = os.path.abspath(args.out)
    state = tempfile.mkdtemp(prefix="warmpool-demo-")
    capacity = args.max_conns * 1000.0 / args.delay_ms
    ports = {n: free_port() for n in ("FRONTEND_PORT", "STATS_PORT", "PROM_PORT", "API_PORT")}
    backend_ports = [free_port() for _ in range(6)]
    sock = os.path.join(state, "admin.sock")
    env = dict(os.environ, DEMO_STATE=state, DEMO_DELAY_MS=str(args.delay_ms), DEMO_MAX_CONNS=str(args.max_conns))

    def cleanup(*_):
        stop_all()
        for f in os.listdir(state):  # backends started by machine.sh
            if f.endswith(".pid"):
                try: os.kill(int(open(os.path.join(state, f)).read()), signal.SIGTERM)
                except (OSError, ValueError): pass
        shutil.rmtree(state, ignore_errors=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))
    signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C, even if started with SIGINT ignored
    try:
        return run(args, out, state, capacity, ports, backend_ports, sock, env)
    except KeyboardInterrupt:
        print("\ninterrupted", flush=True); return 130
    finally:
        cleanup()


def run(args, out, state, capacity, ports, backend_ports, sock, env):
    # Backends 1-4 run from the start (2 active, 2 warm standby); 5 and 6 are cold slots that
    # Warmpool's exec provider starts through machine.sh when it refills the warm pool.
    for i in range(4):
        start([sys.executable, os.path.join(HERE, "backend.py"), "--port", str(backend_ports[i]), "--name", f"web-{i+1}",
               "--delay-ms", str(args.delay_ms), "--max-conns", str(args.max_conns)], os.path.join(out, f"web-{i+1}.log"))
        open(os.path.join(state, f"web-{i+1}.pid"), "w").write(str(PROC[-1].pid))
    srv = "\n".join(f"  server web-{i+1} 127.0.0.1:{backend_ports[i]}" + ("" if i < 2 else " disabled") for i in range(4))
    vals = dict(ports, SOCKET=sock, SERVERS=srv, CHECK_INTER=args.check_inter, CHECK_RISE=args.check_rise,
                MAXCONN=args.max_conns, INTERVAL=args.scrape, TICK=args.tick, TARGET=round(0.75 * capacity, 1),
                PORT5=backend_ports[4], PORT6=backend_ports[5], DEMO_DIR=HERE, MAX_ACTIVE=6, WARM=2, MAX_TOTAL=6,
                OVERLOAD="")
    open(os.path.join(state, "haproxy.cfg"), "w").write(fill("haproxy.cfg.in", vals))
    open(os.path.join(state, "prometheus.yml"), "w").write(fill("prometheus.yml.in", vals))
    cfg = os.path.join(out, "warmpool.yaml")
    open(cfg, "w").write(fill("warmpool.yaml.in", vals))

    start(["haproxy", "-db", "-f", os.path.join(state, "haproxy.cfg")], os.path.join(out, "haproxy.log"))
    start(["prometheus", "--config.file=" + os.path.join(state, "prometheus.yml"), "--storage.tsdb.path=" + state + "/prom",
           "--web.listen-address=127.0.0.1:%d" % ports["PROM_PORT"], "--log.level=warn"], os.path.join(out, "prometheus.log"))
    if not wait(lambda: prom_query(ports["PROM_PORT"], 'up{job="haproxy"}') == 1, 30):
        print("demo: Prometheus never scraped HAProxy; see", out, file=sys.stderr); return 1
    subprocess.run([args.warmpool, "check-config", cfg], check=True, stdout=subprocess.DEVNULL)
    before = haproxy(sock, "show servers state web")
    wp_log = os.path.join(out, "warmpool.log")
    open(wp_log, "w").close()
    start([args.warmpool, "run", "--config.file", cfg, "--web.listen-address", "127.0.0.1:%d" % ports["API_PORT"]]
          + (["--dry-run"] if args.dry_run else []), wp_log, env=env)
    print(f"demo: 4 backends of ~{capacity:.0f} req/s each (2 active, 2 standby), HAProxy on 127.0.0.1:{ports['FRONTEND_PORT']}, "
          f"Prometheus on :{ports['PROM_PORT']}, Warmpool every {args.tick} (API on :{ports['API_PORT']}){' (dry-run)' if args.dry_run else ''}; logs in {out}", flush=True)
    wait(lambda: "decision" in open(wp_log).read() or "warmpool started" in open(wp_log).read(), 10)
    if args.bench:
        return bench(args, out, sock, ports, wp_log)
    return surge(args, out, sock, ports, wp_log, before)


def overload(args):
    """The same surge past the pool's maximum (2 active, nothing to add) twice: without protection, where
    the backends take every request and fall over (they exit past 40 requests inside for 2 s, as a real one
    runs out of memory), and with `overload:`, where HAProxy admits what they serve and answers the rest
    429 at once. HAProxy's per-server maxconn is lifted in both runs, so only Warmpool protects them."""
    os.makedirs(args.out, exist_ok=True)
    capacity = args.max_conns * 1000.0 / args.delay_ms
    results = []
    for protect in (False, True):
        label = "with protection" if protect else "without protection"
        out = os.path.abspath(os.path.join(args.out, "protected" if protect else "unprotected"))
        os.makedirs(out, exist_ok=True)
        state = tempfile.mkdtemp(prefix="warmpool-demo-")
        try:
            print(f"\n=== {label} ===", flush=True)
            results.append((label, overload_run(args, out, state, capacity, protect)))
        finally:
            stop_all()
            shutil.rmtree(state, ignore_errors=True)
    print("\nsummary (the same load, the same backends)")
    for label, r in results:
        print(f"  {label:<19} backends fallen over: {', '.join(r['crashed']) or 'none'}; answered ok {r['ok']}, "
              f"refused or failed {r['errors']} (timeouts {r['timeouts']}); worst per-second p99 of ok answers "
              f"during the surge {r['p99']} ms; limit {r['limited']}")
    unprotected, protected = results[0][1], results[1][1]
    if protected["crashed"] or not unprotected["crashed"]:
        print("  demo: expected a crash without protection and none with it", file=sys.stderr)
        return 1
    return 0


def overload_run(args, out, state, capacity, protect):
    ports = {n: free_port() for n in ("FRONTEND_PORT", "STATS_PORT", "PROM_PORT", "API_PORT")}
    backend_ports = [free_port() for _ in range(6)]
    sock = os.path.join(state, "admin.sock")
    backends = []
    for i in range(2):
        backends.append(start([sys.executable, os.path.join(HERE, "backend.py"), "--port", str(backend_ports[i]),
                               "--name", f"web-{i+1}", "--delay-ms", str(args.delay_ms), "--max-conns",
                               str(args.max_conns), "--crash-queue", "40", "--crash-after", "2"],
                              os.path.join(out, f"web-{i+1}.log")))
    srv = "\n".join(f"  server web-{i+1} 127.0.0.1:{backend_ports[i]}" for i in range(2))
    # Protection at 90% of a backend's capacity: admitted at 100% a queue would still grow at random.
    protection = (f"    overload: {{capacity: {0.9 * capacity:g}, release_after: 5s}}" if protect else "")
    vals = dict(ports, SOCKET=sock, SERVERS=srv, CHECK_INTER=args.check_inter, CHECK_RISE=args.check_rise,
                MAXCONN=1000, INTERVAL=args.scrape, TICK=args.tick, TARGET=round(0.75 * capacity, 1),
                PORT5=backend_ports[4], PORT6=backend_ports[5], DEMO_DIR=HERE, MAX_ACTIVE=2, WARM=0, MAX_TOTAL=2,
                OVERLOAD=protection)
    open(os.path.join(state, "haproxy.cfg"), "w").write(fill("haproxy.cfg.in", vals))
    open(os.path.join(state, "prometheus.yml"), "w").write(fill("prometheus.yml.in", vals))
    cfg = os.path.join(out, "warmpool.yaml")
    open(cfg, "w").write(fill("warmpool.yaml.in", vals))
    start(["haproxy", "-db", "-f", os.path.join(state, "haproxy.cfg")], os.path.join(out, "haproxy.log"))
    start(["prometheus", "--config.file=" + os.path.join(state, "prometheus.yml"), "--storage.tsdb.path=" + state + "/prom",
           "--web.listen-address=127.0.0.1:%d" % ports["PROM_PORT"], "--log.level=warn"], os.path.join(out, "prometheus.log"))
    if not wait(lambda: prom_query(ports["PROM_PORT"], 'up{job="haproxy"}') == 1, 30):
        print("demo: Prometheus never scraped HAProxy; see", out, file=sys.stderr)
        return {"crashed": [], "ok": 0, "errors": 0, "timeouts": 0, "p99": "-"}
    subprocess.run([args.warmpool, "check-config", cfg], check=True, stdout=subprocess.DEVNULL)
    wp_log = os.path.join(out, "warmpool.log")
    start([args.warmpool, "run", "--config.file", cfg, "--web.listen-address", "127.0.0.1:%d" % ports["API_PORT"]],
          wp_log)
    print(f"demo: 2 backends of ~{capacity:.0f} req/s each at max_active 2, falling over past 40 requests inside; "
          f"load {args.profile}; logs in {out}", flush=True)
    loadgen_csv = os.path.join(out, "load.csv")
    lg = subprocess.Popen([sys.executable, os.path.join(HERE, "loadgen.py"), "--url",
                           f"http://127.0.0.1:{ports['FRONTEND_PORT']}/", "--profile", args.profile, "--out", loadgen_csv,
                           "--timeout", "5"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    PROC.append(lg)
    t0, pos, crashed, limited_at = time.time(), 0, [], None
    surge_wall = t0 + float(args.profile.split(",")[0].split(":")[1])  # the first phase is the base
    for line in lg.stdout:
        t = time.time() - t0
        for i, b in enumerate(backends):
            if b.poll() is not None and f"web-{i+1}" not in crashed:
                crashed.append(f"web-{i+1}")
                print(f"     ! web-{i+1} fell over (exit {b.returncode}) at t={t:.0f}s", flush=True)
        print(f"{t:4.0f} {line.strip()}", flush=True)
        with open(wp_log) as f:
            f.seek(pos); lines = f.readlines(); pos = f.tell()
        for l in lines:
            if " shed " in l or " error " in l:
                print("     > " + re.sub(r"^\S+ ", "", l.rstrip()), flush=True)
            if " shed " in l and limited_at is None and "limiting to" in l:
                stamp = datetime.datetime.fromisoformat(l.split(" ", 1)[0]).timestamp()
                limited_at = stamp - surge_wall
    lg.wait()
    rows = list(csv_rows(loadgen_csv))
    surge = [r for r in rows if r["phase"] == "surge" and r["p99_ms"]]
    p99 = max((float(r["p99_ms"]) for r in surge), default=0)
    return {"crashed": crashed, "ok": sum(int(r["ok"]) for r in rows), "errors": sum(int(r["errors"]) for r in rows),
            "timeouts": sum(int(r["timeouts"]) for r in rows), "p99": f"{p99:.0f}",
            "limited": "never set" if limited_at is None else f"in force {limited_at:.1f} s after the surge began"}


def csv_rows(path):
    import csv
    with open(path) as f:
        yield from csv.DictReader(f)


def wait(pred, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if pred(): return True
        time.sleep(0.1)
    return False


class Watcher(threading.Thread):
    """Polls HAProxy every 100 ms: the first request served by a server that was a standby."""
    def __init__(self, sock):
        super().__init__(daemon=True)
        self.sock, self.stop, self.first_served = sock, False, {}
        self.base = {n: v[1] for n, v in servers(sock).items()}

    def run(self):
        while not self.stop:
            for name, (_, stot, _) in servers(self.sock).items():
                if name not in ("web-1", "web-2", "BACKEND") and stot > self.base.get(name, 0) and name not in self.first_served:
                    self.first_served[name] = time.time()
            time.sleep(0.1)


def tail_decisions(path, pos):
    with open(path) as f:
        f.seek(pos); lines = f.readlines(); pos = f.tell()
    keep = [l.rstrip() for l in lines if " decision " in l or "error" in l.lower() or "warn" in l.lower()]
    return keep, pos


def surge(args, out, sock, ports, wp_log, before):
    phases = [p.split(":") for p in args.profile.split(",")]
    surge_at = sum(int(p[1]) for p in phases[:1])  # the second phase starts the surge
    loadgen_csv = os.path.join(out, "load.csv")
    lg = subprocess.Popen([sys.executable, os.path.join(HERE, "loadgen.py"), "--url",
                           f"http://127.0.0.1:{ports['FRONTEND_PORT']}/", "--profile", args.profile, "--out", loadgen_csv],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    PROC.append(lg)
    t0 = time.time()
    watcher = Watcher(sock); watcher.start()
    pos, rows = 0, []
    print(f"{'t':>4} {'load (offered/s, sent, ok, errors, latency)':<68} {'queue':>5} {'active':>6} {'standby':>7}",
          flush=True)
    for line in lg.stdout:
        t = time.time() - t0
        srvs = servers(sock)
        queue = srvs.pop("BACKEND", ("", 0, 0))[2] + sum(s[2] for s in srvs.values())
        active = sum(1 for s in srvs.values() if not s[0].startswith(("MAINT", "DRAIN")))
        standby = sum(1 for s in srvs.values() if s[0].startswith("MAINT"))
        rows.append((round(t), line.strip(), queue, active, standby))
        print(f"{t:4.0f} {line.strip():<68} {queue:>5} {active:>6} {standby:>7}", flush=True)
        decisions, pos = tail_decisions(wp_log, pos)
        for d in decisions:
            print("     > " + re.sub(r"^\S+ ", "", d), flush=True)
    lg.wait()
    watcher.stop = True
    print("\nsummary")
    after = haproxy(sock, "show servers state web")
    if args.dry_run:
        same = norm(before) == norm(after)
        print(f"  dry-run: HAProxy's servers {'unchanged' if same else 'CHANGED'} by Warmpool")
        return 0 if same else 1
    print_timeline(rows, wp_log)
    print()
    if not watcher.first_served:
        print("  no standby was promoted: see", wp_log)
        return 1
    first = min(watcher.first_served.values()) - t0 - surge_at
    print(f"  surge at t={surge_at}s; first request served by a promoted standby after {first:.1f} s "
          f"({min(watcher.first_served, key=watcher.first_served.get)})")
    print(f"  peak active {max(r[3] for r in rows)}; the full timeline is in {loadgen_csv} and {wp_log}")
    return 0


def print_timeline(rows, wp_log):
    """Every 5 s: offered and served load, p99, queue, active/standby; then the scale decisions."""
    num = lambda key, line: (re.search(key + r"\s+([0-9.]+)", line) or [None, "0"])[1]
    print(f"  {'t':>4} {'offered':>7} {'ok':>5} {'p99 ms':>7} {'queue':>5} {'active':>6} {'standby':>7}")
    for t, line, queue, active, standby in rows[::5]:
        print(f"  {t:>4} {num('rate', line):>7} {num('ok', line):>5} {num('p99', line):>7} {queue:>5} {active:>6} {standby:>7}")
    decisions = [l for l in open(wp_log) if " decision " in l and "direction=none" not in l]
    print(f"  {len(decisions)} scale decisions:")
    for l in decisions:
        m = re.search(r"current=(\d+) desired=(\d+) direction=(\w+).*?plan=\"([^\"]*)\"", l)
        if m: print(f"    {l[11:19]} {m.group(3):>4} {m.group(1)} -> {m.group(2)}: {m.group(4)}")


def norm(state):
    """Server name -> admin/op state from `show servers state`, ignoring timers."""
    out = {}
    for l in state.splitlines():
        f = l.split()
        if len(f) > 7 and not l.startswith("#"): out[f[3]] = (f[5], f[6])
    return out


def seconds(text):
    m = re.fullmatch(r"([0-9.]+)(ms|s)", text)
    return float(m.group(1)) / (1000 if m.group(2) == "ms" else 1)


def bench(args, out, sock, ports, wp_log):
    """Step surges, one after another: from each step's start to the first request served by a server
    that was a standby when it began. The floor: scrape + evaluation (tick) + health-check rise time."""
    floor = seconds(args.scrape) + seconds(args.tick) + args.check_rise * seconds(args.check_inter)
    rng = random.Random(args.seed)
    results = []
    def shape():
        srvs = servers(sock)
        srvs.pop("BACKEND", None)
        return (sum(1 for v in srvs.values() if not v[0].startswith(("MAINT", "DRAIN"))),
                sum(1 for v in srvs.values() if v[0].startswith("MAINT")))
    for i in range(args.bench):
        # Back to the resting shape first: 2 active, 2 standbys (and give the warm pool time to refill).
        if not wait(lambda: shape()[0] == 2 and shape()[1] >= 2, 120):
            print("bench: the pool did not return to 2 active + 2 standby; see", wp_log, file=sys.stderr)
            return 1
        # Start at a random phase of the scrape and tick cycles: the pool reaches its resting shape
        # right after a tick, so without this every surge would land at the same phase.
        time.sleep(rng.uniform(0, max(seconds(args.scrape), seconds(args.tick))))
        standbys = {n for n, v in servers(sock).items() if v[0].startswith("MAINT")}
        base = {n: v[1] for n, v in servers(sock).items()}
        lg = subprocess.Popen([sys.executable, os.path.join(HERE, "loadgen.py"), "--url",
                               f"http://127.0.0.1:{ports['FRONTEND_PORT']}/", "--profile", "base:4:100,step:12:200"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        PROC.append(lg)
        surge = time.time() + 4.0
        first = None
        while lg.poll() is None:
            if first is None:
                for name, (_, stot, _) in servers(sock).items():
                    if name in standbys and stot > base.get(name, 0):
                        first = time.time() - surge
                        break
            time.sleep(0.05)
        if first is None:
            print(f"run {i + 1}: no standby served within the step", flush=True)
            return 1
        results.append(first)
        print(f"run {i + 1}: first request served by a promoted standby {first:.2f} s after the surge", flush=True)
    results.sort()
    median = results[len(results) // 2] if len(results) % 2 else sum(results[len(results) // 2 - 1:len(results) // 2 + 1]) / 2
    print(f"\ntime to capacity over {len(results)} step surges: median {median:.2f} s, max {results[-1]:.2f} s, "
          f"min {results[0]:.2f} s; floor {floor:.2f} s (scrape {args.scrape} + tick {args.tick} + "
          f"rise {args.check_rise} x {args.check_inter}); median/floor {median / floor:.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
