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
  run_demo.py --warmpool ... --scenario leak     # one active backend leaks memory: Warmpool's health.metrics
                                                 # replaces it before it falls over, the load sees no error
  run_demo.py --warmpool ... --scenario leak --bench 5   # 5 leaks with the threshold rule, 5 with the trend
                                                 # rule: time from the threshold to out of rotation, margin
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
    ap.add_argument("--scenario", choices=["surge", "overload", "leak"], default="surge",
                    help="surge: standbys promoted as the load rises (default); overload: a surge past max_active, "
                         "run without and then with overload protection; leak: an active backend leaks memory "
                         "and is replaced before it falls over")
    leak = ap.add_argument_group("--scenario leak")
    leak.add_argument("--leak-per-request", type=float, default=0.0004,
                      help="memory ratio the leaking backend adds per request (default 0.0004: ~0.7/min at "
                           "the default load)")
    leak.add_argument("--crash-memory", type=float, default=1.0,
                      help="the leaking backend falls over past this memory ratio (default 1.0)")
    leak.add_argument("--above", type=float, default=0.85, help="health.metrics' above (default 0.85)")
    leak.add_argument("--horizon", default="20s",
                      help="health.metrics' horizon: the trend rule (default 20s; 0s: the threshold alone)")
    args = ap.parse_args()
    if args.scenario == "leak":
        if args.profile == ap.get_default("profile"):
            args.profile = "steady:240:60"
        return leak_bench(args) if args.bench else leak_demo(args)
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
                OVERLOAD="", HEALTH="", BACKEND_JOB="")
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
                OVERLOAD=protection, HEALTH="", BACKEND_JOB="")
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

# --- --scenario leak: one active backend leaks memory; health.metrics replaces it before it falls over ---

LEAKER = "web-2"  # active from the start; the others do not leak
HEALTH = """    health:
      grace: 2s
      max_parallel: 1
      breaker_fraction: 0.5
      metrics:
        - name: memory
          query: 'demo_memory_ratio'   # one series per server, from the job "backends"
          label: instance              # 127.0.0.1:PORT, the server's address in HAProxy
          match: address
          above: @ABOVE@
          horizon: @HORIZON@
          window: 30s
          step: 1s"""
MAINT_BITS, DRAIN_BITS = 0x01 | 0x02 | 0x20, 0x08 | 0x10  # srv_admin_state: F/I/RMAINT, F/IDRAIN (CMAINT, 0x04, only
# says the cfg declared it `disabled`: it stays set once the server is put in service)


def kill_machines(state):
    """Stops the backends machine.sh started (their pid files are in the state folder)."""
    for f in os.listdir(state) if os.path.isdir(state) else []:
        if f.endswith(".pid"):
            try: os.kill(int(open(os.path.join(state, f)).read()), signal.SIGTERM)
            except (OSError, ValueError): pass


def server_rows(sock):
    """{name: (op_state, admin_state, weight, address)} from `show servers state web`."""
    out = {}
    for l in haproxy(sock, "show servers state web").splitlines():
        f = l.split()
        if len(f) > 18 and not l.startswith("#") and f[1] == "web":
            try: out[f[3]] = (int(f[5]), int(f[6]), int(f[7]), f"{f[4]}:{f[18]}")
            except ValueError: pass
    return out


def role(row):
    """active, draining, maint (a standby, or retired) or down, as HAProxy has the server."""
    op, admin, weight, _ = row
    if admin & MAINT_BITS: return "maint"
    if admin & DRAIN_BITS or weight == 0: return "draining"
    return "active" if op == 2 else "down"


def slot_letter(state, name, row):
    """a active, d draining, x down, s standby (in maintenance, its machine running), - cold."""
    if row is None: return "-"
    r = role(row)
    if r == "maint":
        return "s" if os.path.exists(os.path.join(state, name + ".pid")) else "-"
    return {"active": "a", "draining": "d", "down": "x"}[r]


def backend_memory(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=0.5) as r:
            for line in r.read().decode().splitlines():
                if line.startswith("demo_memory_ratio "): return float(line.split()[1])
    except Exception:
        return None
    return None


class LeakMonitor(threading.Thread):
    """Every 100 ms: the leaking backend's memory (its own /metrics), every server's state in HAProxy,
    the first request served by a server that was a standby, and when the leaker left rotation, stopped
    and the warm pool got a new server. Times are seconds since t0."""
    def __init__(self, sock, leaker, port, proc, t0):
        super().__init__(daemon=True)
        self.sock, self.leaker, self.port, self.proc, self.t0 = sock, leaker, port, proc, t0
        self.done = False
        self.memory = []  # [(t, ratio)]
        self.rows = server_rows(sock)
        self.initial = dict(self.rows)
        self.standbys = {n for n, r in self.rows.items() if role(r) == "maint"}
        self.base = {n: v[1] for n, v in servers(sock).items()}
        self.out = self.out_role = self.out_memory = None  # left rotation
        self.exit = self.exit_code = None                  # the leaker's process ended (retired or fell over)
        self.first_served = None                           # (t, name) of a former standby's first request
        self.new_server = None                             # (t, name): a server HAProxy did not have at first

    def now(self):
        return time.time() - self.t0

    def run(self):
        while not self.done:
            t = self.now()
            if self.exit is None:
                m = backend_memory(self.port)
                if m is not None: self.memory.append((t, m))
            rows = server_rows(self.sock)
            if rows: self.rows = rows
            r = rows.get(self.leaker)
            if self.out is None and r and role(r) in ("maint", "draining"):
                self.out, self.out_role = t, role(r)
                self.out_memory = self.memory[-1][1] if self.memory else None
            if self.exit is None and self.proc.poll() is not None:
                self.exit, self.exit_code = t, self.proc.returncode
            if self.new_server is None:
                fresh = [n for n, r in rows.items() if n not in self.initial and role(r) != "down"]
                if fresh: self.new_server = (t, fresh[0])
            if self.first_served is None:
                for name, (_, stot, _) in servers(self.sock).items():
                    if name in self.standbys and stot > self.base.get(name, 0):
                        self.first_served = (t, name); break
            time.sleep(0.1)

    def memory_at(self, t):
        """The last reading at or before t (the first one for a t before it)."""
        before = [m for s, m in self.memory if s <= t]
        return before[-1] if before else (self.memory[0][1] if self.memory and t <= self.memory[0][0] else None)

    def slope(self, until, span=10.0):
        """Least-squares slope (ratio/s) of the leaker's memory over the span seconds before until."""
        pts = [(s, m) for s, m in self.memory if until - span <= s <= until]
        if len(pts) < 3: return None
        n = len(pts); mt = sum(s for s, _ in pts) / n; mm = sum(m for _, m in pts) / n
        den = sum((s - mt) ** 2 for s, _ in pts)
        return sum((s - mt) * (m - mm) for s, m in pts) / den if den > 0 else None

    def crossed(self, level):
        """When the memory first went past level (interpolated between two polls), or None."""
        prev = None
        for s, m in self.memory:
            if m >= level:
                if prev and m > prev[1]: return prev[0] + (level - prev[1]) / (m - prev[1]) * (s - prev[0])
                return s
            prev = (s, m)
        return None


def leak_figures(mon, above, crash):
    """The leak's measured times: crossing `above` (measured, or projected at the leak rate when it
    left rotation before), out of rotation, and when it would have fallen over (projected)."""
    f = {"cross": mon.crossed(above), "cross_projected": False, "out": mon.out, "crash": None, "rate": None}
    if mon.exit is not None and mon.exit_code == 3:
        f["crash"] = mon.exit  # it did fall over
    until = mon.out if mon.out is not None else (mon.memory[-1][0] if mon.memory else 0)
    rate = mon.slope(until)
    f["rate"] = rate
    m = mon.memory_at(until)
    if rate and rate > 0 and m is not None:
        if f["crash"] is None: f["crash"] = until + (crash - m) / rate
        if f["cross"] is None:
            f["cross"], f["cross_projected"] = until + (above - m) / rate, True
    return f


def leak_stack(args, out, state, horizon, leak_per_request, quiet=False):
    """Starts backends (LEAKER leaking), HAProxy, Prometheus scraping HAProxy and every slot, and
    Warmpool with health.metrics. Returns (ports, backend_ports, sock, wp_log, leaker_proc) or None."""
    ports = {n: free_port() for n in ("FRONTEND_PORT", "STATS_PORT", "PROM_PORT", "API_PORT")}
    backend_ports = [free_port() for _ in range(6)]
    sock = os.path.join(state, "admin.sock")
    env = dict(os.environ, DEMO_STATE=state, DEMO_DELAY_MS=str(args.delay_ms), DEMO_MAX_CONNS=str(args.max_conns))
    leaker = None
    for i in range(4):
        name = f"web-{i+1}"
        argv = [sys.executable, os.path.join(HERE, "backend.py"), "--port", str(backend_ports[i]), "--name", name,
                "--delay-ms", str(args.delay_ms), "--max-conns", str(args.max_conns)]
        if name == LEAKER:
            argv += ["--leak-per-request", f"{leak_per_request:g}", "--crash-memory", f"{args.crash_memory:g}"]
        p = start(argv, os.path.join(out, f"{name}.log"))
        if name == LEAKER: leaker = p
        open(os.path.join(state, f"{name}.pid"), "w").write(str(p.pid))
    capacity = args.max_conns * 1000.0 / args.delay_ms
    srv = "\n".join(f"  server web-{i+1} 127.0.0.1:{backend_ports[i]}" + ("" if i < 2 else " disabled") for i in range(4))
    targets = ", ".join(f"'127.0.0.1:{p}'" for p in backend_ports)
    job = f"  - job_name: backends\n    static_configs:\n      - targets: [{targets}]\n"
    health = HEALTH.replace("@ABOVE@", f"{args.above:g}").replace("@HORIZON@", horizon)
    vals = dict(ports, SOCKET=sock, SERVERS=srv, CHECK_INTER=args.check_inter, CHECK_RISE=args.check_rise,
                MAXCONN=args.max_conns, INTERVAL=args.scrape, TICK=args.tick, TARGET=round(0.75 * capacity, 1),
                PORT5=backend_ports[4], PORT6=backend_ports[5], DEMO_DIR=HERE, MAX_ACTIVE=6, WARM=2, MAX_TOTAL=6,
                OVERLOAD="", HEALTH=health, BACKEND_JOB=job)
    open(os.path.join(state, "haproxy.cfg"), "w").write(fill("haproxy.cfg.in", vals))
    open(os.path.join(state, "prometheus.yml"), "w").write(fill("prometheus.yml.in", vals))
    cfg = os.path.join(out, "warmpool.yaml")
    open(cfg, "w").write(fill("warmpool.yaml.in", vals))
    start(["haproxy", "-db", "-f", os.path.join(state, "haproxy.cfg")], os.path.join(out, "haproxy.log"))
    start(["prometheus", "--config.file=" + os.path.join(state, "prometheus.yml"), "--storage.tsdb.path=" + state + "/prom",
           "--web.listen-address=127.0.0.1:%d" % ports["PROM_PORT"], "--log.level=warn"], os.path.join(out, "prometheus.log"))
    if not wait(lambda: prom_query(ports["PROM_PORT"], 'up{job="haproxy"}') == 1
                and prom_query(ports["PROM_PORT"], 'count(up{job="backends"} == 1)') == 4, 30):
        print("demo: Prometheus never scraped HAProxy and the 4 backends; see", out, file=sys.stderr); return None
    check = subprocess.run([args.warmpool, "check-config", cfg], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if check.returncode != 0:
        print(f"demo: warmpool check-config {cfg} failed:\n{check.stdout}", file=sys.stderr); return None
    wp_log = os.path.join(out, "warmpool.log")
    open(wp_log, "w").close()
    start([args.warmpool, "run", "--config.file", cfg, "--web.listen-address", "127.0.0.1:%d" % ports["API_PORT"]],
          wp_log, env=env)
    if not wait(lambda: "decision" in open(wp_log).read() or "warmpool started" in open(wp_log).read(), 10):
        print("demo: Warmpool did not start; see", wp_log, file=sys.stderr); return None
    return ports, backend_ports, sock, wp_log, leaker


def log_time(line, t0):
    try: return datetime.datetime.fromisoformat(line.split(" ", 1)[0]).timestamp() - t0
    except ValueError: return None


def replace_lines(wp_log, t0):
    """[(t, reason)] of Warmpool's `replace` log lines."""
    out = []
    for l in open(wp_log):
        m = re.search(r'\sreplace\s.*?reason="((?:[^"\\]|\\.)*)"', l)
        if m and " decision " not in l: out.append((log_time(l, t0), m.group(1)))
    return out


def leak_once(args, out, horizon, leak_per_request, show, start_delay=0.0):
    """One leak on a fresh stack. Returns a dict of figures, or None when the stack did not start."""
    os.makedirs(out, exist_ok=True)
    state = tempfile.mkdtemp(prefix="warmpool-demo-")
    try:
        stack = leak_stack(args, out, state, horizon, leak_per_request)
        if stack is None: return None
        ports, backend_ports, sock, wp_log, leaker = stack
        capacity = args.max_conns * 1000.0 / args.delay_ms
        if show:
            print(f"demo: 4 backends of ~{capacity:.0f} req/s each (web-1, web-2 active; web-3, web-4 standby), "
                  f"{LEAKER} leaking {leak_per_request:g} of its memory per request and falling over past "
                  f"{args.crash_memory:g}; health.metrics: memory above {args.above:g}"
                  + (f" or its trend reaching it within {horizon}" if seconds(horizon) > 0 else "")
                  + f"; load {args.profile}; logs in {out}", flush=True)
        time.sleep(start_delay)  # a random phase of the scrape and tick cycles (the bench)
        loadgen_csv = os.path.join(out, "load.csv")
        lg = subprocess.Popen([sys.executable, os.path.join(HERE, "loadgen.py"), "--url",
                               f"http://127.0.0.1:{ports['FRONTEND_PORT']}/", "--profile", args.profile,
                               "--out", loadgen_csv], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              start_new_session=True)
        PROC.append(lg)
        t0 = time.time()
        mon = LeakMonitor(sock, LEAKER, backend_ports[1], leaker, t0); mon.start()
        pos, stopping = 0, None
        if show:
            print(f"{'t':>4} {'load (offered/s, sent, ok, errors, latency)':<68} {LEAKER + ' mem':>9}  servers "
                  f"(a active, s standby, d draining, x down, - cold)", flush=True)
        for line in lg.stdout:
            t = time.time() - t0
            if show:
                m = mon.memory_at(t) if mon.exit is None else None
                states = " ".join(f"{i}{slot_letter(state, f'web-{i}', mon.rows.get(f'web-{i}'))}" for i in range(1, 7))
                print(f"{t:4.0f} {line.strip():<68} {'-' if m is None else f'{m:.3f}':>9}  {states}", flush=True)
                decisions, pos = tail_decisions(wp_log, pos)
                for d in decisions:
                    if "direction=none" not in d: print("     > " + re.sub(r"^\S+ ", "", d), flush=True)
            if stopping is None:
                if show:  # the demo: until the leaker is gone and the warm pool refilled, then 5 s more
                    if mon.exit is not None and (mon.new_server or t - mon.exit > 20): stopping = t + 5
                else:     # the bench: until it left rotation (or fell over), then 2 s more
                    if mon.out is not None or mon.exit is not None: stopping = t + 2
            elif t >= stopping and lg.poll() is None:
                lg.send_signal(signal.SIGTERM)
        lg.wait()
        mon.done = True; mon.join(1)
        rows = list(csv_rows(loadgen_csv))
        load = {k: sum(int(r[k] or 0) for r in rows) for k in ("sent", "ok", "errors", "timeouts", "dropped")}
        figures = leak_figures(mon, args.above, args.crash_memory)
        figures.update(load=load, mon=mon, replaces=replace_lines(wp_log, t0), t0=t0, wp_log=wp_log,
                       api=ports["API_PORT"], leak=leak_per_request)
        if show:
            try:
                url = f"http://127.0.0.1:{ports['API_PORT']}/api/v1/events?pool=web&limit=100"
                with urllib.request.urlopen(url, timeout=2) as r:
                    body = json.load(r)
                events = body.get("events", body) if isinstance(body, dict) else body
                figures["events"] = [e for e in events if isinstance(e, dict) and e.get("kind") == "replace"]
            except Exception as e:
                figures["events"] = f"unreadable ({e})"
        return figures
    finally:
        stop_all()
        kill_machines(state)
        shutil.rmtree(state, ignore_errors=True)


def leak_demo(args):
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        f = leak_once(args, os.path.abspath(args.out), args.horizon, args.leak_per_request, show=True)
    except KeyboardInterrupt:
        print("\ninterrupted", flush=True); return 130
    if f is None: return 1
    mon, load = f["mon"], f["load"]
    print(f"\ntimeline (t: seconds since the load began; {LEAKER} leaks {f['leak']:g} per request served, "
          f"falls over past {args.crash_memory:g}; replaced when past {args.above:g}"
          + (f" or when its trend reaches it within {args.horizon}" if seconds(args.horizon) > 0 else "") + ")")
    events = []
    end = mon.exit if mon.exit is not None else (mon.memory[-1][0] if mon.memory else 0)
    for s in range(0, int(end) + 1, 5):
        m = mon.memory_at(s)
        if m is not None: events.append((s, f"{LEAKER} memory {m:.3f}"))
    for t, reason in f["replaces"]:
        if t is not None: events.append((t, f"Warmpool: {reason}"))
    if mon.first_served: events.append((mon.first_served[0], f"{mon.first_served[1]} (a standby) served its first request"))
    if mon.out is not None:
        events.append((mon.out, f"{LEAKER} out of rotation ({mon.out_role} in HAProxy), memory "
                                f"{mon.out_memory if mon.out_memory is None else f'{mon.out_memory:.3f}'}"))
    if mon.exit is not None:
        events.append((mon.exit, f"{LEAKER} " + ("FELL OVER (exit 3: out of memory)" if mon.exit_code == 3
                                                  else f"stopped (retired through machine.sh, exit {mon.exit_code})")))
    if mon.new_server: events.append((mon.new_server[0], f"{mon.new_server[1]} registered: the warm pool refilled"))
    crossed, crash, crashed = f["cross"], f["crash"], mon.exit_code == 3
    if crossed is not None:
        events.append((crossed, f"{LEAKER} memory " + ("would have crossed" if f["cross_projected"] else "crossed")
                                + f" {args.above:g} (above)"))
    if crash is not None and not crashed:
        events.append((crash, f"{LEAKER} would have fallen over (memory {args.crash_memory:g}) at the leak rate "
                              f"{f['rate'] * 60:+.3f}/min"))
    for t, what in sorted(events, key=lambda e: e[0]):
        print(f"  {t:6.1f}  {what}")
    if isinstance(f.get("events"), list):
        print(f"  events of kind replace (GET /api/v1/events): {len(f['events'])}")
        for e in f["events"]:
            print("    " + json.dumps(e, sort_keys=True)[:300])
    else:
        print(f"  events (GET /api/v1/events): {f.get('events')}")
    open_at_stop = load["sent"] - load["ok"] - load["errors"] - load["timeouts"]
    print(f"\nload: sent {load['sent']}, ok {load['ok']}, errors {load['errors']}, timeouts {load['timeouts']}, "
          f"dropped {load['dropped']}" + (f" ({open_at_stop} still open when the load was stopped)" if open_at_stop else ""))
    ok = mon.out is not None and not crashed and load["errors"] + load["timeouts"] + load["dropped"] == 0
    if mon.out is not None and crash is not None and not crashed:
        print(f"{LEAKER} left rotation at t={mon.out:.1f}s, {crash - mon.out:.1f} s before it would have fallen over"
              + (f"; {mon.out - crossed:+.1f} s from its memory crossing {args.above:g}" if crossed is not None else ""))
    if crashed: print(f"demo: {LEAKER} fell over before Warmpool took it out of rotation; see {f['wp_log']}", file=sys.stderr)
    elif mon.out is None: print(f"demo: {LEAKER} was never taken out of rotation; see {f['wp_log']}", file=sys.stderr)
    elif not ok: print("demo: the load generator saw errors", file=sys.stderr)
    return 0 if ok else 1


def leak_bench(args):
    """N leaks with the threshold rule alone (horizon 0s), then N with the trend rule (--horizon), each on
    a fresh stack with a fresh leaking backend: its leak rate drawn around --leak-per-request (x0.8 to
    x1.25) and the load started at a random phase of the scrape and tick cycles, from --seed."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    modes = [("threshold", "0s")] + ([("trend", args.horizon)] if seconds(args.horizon) > 0 else [])
    results = {m: [] for m, _ in modes}
    cycle = max(seconds(args.scrape), seconds(args.tick))
    try:
        for mode, horizon in modes:
            for i in range(args.bench):
                rng = random.Random(args.seed * 1000 + i)
                leak = args.leak_per_request * rng.uniform(0.8, 1.25)
                out = os.path.abspath(os.path.join(args.out, f"leak-{mode}-{i + 1}"))
                f = leak_once(args, out, horizon, leak, show=False, start_delay=rng.uniform(0, cycle))
                if f is None: return 1
                mon, load = f["mon"], f["load"]
                bad = load["errors"] + load["timeouts"] + load["dropped"]
                crashed = mon.exit_code == 3 and (mon.out is None or mon.exit < mon.out)
                r = {"detect": None if mon.out is None or f["cross"] is None else mon.out - f["cross"],
                     "margin": None if mon.out is None or f["crash"] is None or crashed else f["crash"] - mon.out,
                     "crashed": crashed, "bad": bad}
                results[mode].append(r)
                rate = f"{f['rate'] * 60:.2f}/min" if f["rate"] else "?"
                if mon.out is None or crashed:
                    print(f"{mode} run {i + 1}: leak {leak:.6f}/request ({rate}): NOT taken out of rotation"
                          + (" before it fell over" if crashed else "") + f"; see {out}", flush=True)
                    continue
                cross = ("would have crossed" if f["cross_projected"] else "crossed") + f" {args.above:g} at t={f['cross']:.1f}"
                print(f"{mode} run {i + 1}: leak {leak:.6f}/request ({rate}), {cross}; out of rotation at "
                      f"t={mon.out:.1f} ({r['detect']:+.1f} s); would have fallen over at t={f['crash']:.1f} "
                      f"(margin {r['margin']:.1f} s); load errors {bad}", flush=True)
    except KeyboardInterrupt:
        print("\ninterrupted", flush=True); return 130

    def stats(xs):
        xs = sorted(x for x in xs if x is not None)
        if not xs: return "-"
        med = xs[len(xs) // 2] if len(xs) % 2 else (xs[len(xs) // 2 - 1] + xs[len(xs) // 2]) / 2
        return f"median {med:+.1f} s, min {xs[0]:+.1f} s, max {xs[-1]:+.1f} s"
    print(f"\nleak detection over {args.bench} runs per rule (scrape {args.scrape}, tick {args.tick}, "
          f"above {args.above:g}, crash at {args.crash_memory:g})")
    ok = True
    for mode, horizon in modes:
        rs = results[mode]
        fails = sum(1 for r in rs if r["margin"] is None)
        due = "" if mode == "threshold" else (
            f"; the trend rule's moment (crossing due within {horizon}) -> out of rotation "
            f"{stats(None if r['detect'] is None else r['detect'] + seconds(horizon) for r in rs)}")
        print(f"  {mode:<9} (horizon {horizon}): threshold crossed -> out of rotation {stats(r['detect'] for r in rs)}"
              f"{due}; margin before the crash {stats(r['margin'] for r in rs)}; fell over {fails}, "
              f"runs with load errors {sum(1 for r in rs if r['bad'])}")
        ok = ok and fails == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
