#!/usr/bin/env python3
"""A page arrives in time: `warmpool run` with a pool overloaded at max_active, a real Prometheus (1 s
scrape and evaluation) loading the shipped alert rules, a real Alertmanager with the shipped routes,
and a webhook receiver here, all on 127.0.0.1.

The rules' `for:` durations are shortened in a copy (10m -> 5s: a test cannot wait ten minutes; the
expressions, labels and annotations are the shipped ones), and the Alertmanager config's receivers
point at this test's webhook. The page for WarmpoolPoolAtMaxWhileOverloaded must reach the `pager`
receiver with the pool and the reason within `for` + two evaluation intervals + the critical route's
group_wait + 8 s; after a reload with a larger max_active it must be resolved. The pager route's
group_interval (1m: the earliest a resolution of an alert already notified is sent) is shortened to
GROUP_INTERVAL_S in the copy too, so the resolution's bound does not depend on where in that minute the
reload falls.

    paging_test.py WARMPOOL SOURCE_DIR
"""
import http.server, json, os, re, shutil, signal, socket, subprocess, sys, tempfile, threading, time

FOR_S = 5
EVAL_S = 1
GROUP_INTERVAL_S = 5


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p


class Hook(http.server.BaseHTTPRequestHandler):
    received = []  # (arrival time, path, payload)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        Hook.received.append((time.time(), self.path, json.loads(body)))
        self.send_response(200); self.end_headers()

    def log_message(self, *a):
        pass


def wait(pred, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        r = pred()
        if r: return r
        time.sleep(0.2)
    return None


def main():
    binary, src = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    for tool in ("prometheus", "prometheus-alertmanager"):
        if shutil.which(tool) is None:
            print(f"paging_test: {tool} is missing: run scripts/install-deps", file=sys.stderr); return 1
    tmp = tempfile.mkdtemp(prefix="warmpool-paging-")
    procs = []
    hook = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    hook_url = f"http://127.0.0.1:{hook.server_address[1]}"
    try:
        wp_port, prom_port, am_port = free_port(), free_port(), free_port()
        # A pool whose load (a trace at 500 req/s) wants 5 servers at 100 each; max_active 2.
        trace = os.path.join(tmp, "load.csv")
        with open(trace, "w") as f:
            f.write("timestamp,requests\n" + "".join(f"{1700000000 + 60 * i},30000\n" for i in range(600)))
        cfg = os.path.join(tmp, "warmpool.yaml")
        def write_cfg(max_active):
            open(cfg, "w").write(f"""global: {{interval: 500ms}}
metrics_source: {{type: trace, file: {trace}, speed: 1}}
pools:
  - name: checkout
    min_active: 1
    max_active: {max_active}
    metrics: [{{name: rps}}]
    policies: [{{type: target_tracking, metric: rps, target_per_server: 100}}]
    provider: {{type: simulated, initial_active: 1, initial_standby: 0, provisioning_delay: 0s, promotion_delay: 0s}}
""")
        write_cfg(2)
        # The shipped rules with `for:` shortened.
        rules = open(os.path.join(src, "examples", "prometheus", "warmpool-alerts.yml")).read()
        rules = re.sub(r"for: \d+[smh]", f"for: {FOR_S}s", rules)
        open(os.path.join(tmp, "rules.yml"), "w").write(rules)
        open(os.path.join(tmp, "prometheus.yml"), "w").write(f"""global: {{scrape_interval: 1s, evaluation_interval: {EVAL_S}s}}
rule_files: [rules.yml]
alerting:
  alertmanagers: [{{static_configs: [{{targets: ['127.0.0.1:{am_port}']}}]}}]
scrape_configs:
  - job_name: warmpool
    static_configs: [{{targets: ['127.0.0.1:{wp_port}']}}]
""")
        am_cfg = open(os.path.join(src, "examples", "alertmanager", "alertmanager.yml")).read()
        am_cfg = am_cfg.replace("http://127.0.0.1:9095", hook_url)
        group_wait = float(re.search(r'receiver: pager\n\s+group_wait: (\d+)s', am_cfg).group(1))
        am_cfg, n = re.subn(r'(receiver: pager\n\s+group_wait: \d+s\n\s+group_interval: )1m',
                            rf'\g<1>{GROUP_INTERVAL_S}s', am_cfg)
        if n != 1:
            print("paging_test: the pager route's group_interval was not found in alertmanager.yml", file=sys.stderr); return 1
        open(os.path.join(tmp, "alertmanager.yml"), "w").write(am_cfg)
        procs.append(subprocess.Popen(["prometheus-alertmanager", "--config.file=" + os.path.join(tmp, "alertmanager.yml"),
                                       "--storage.path=" + os.path.join(tmp, "am"), f"--web.listen-address=127.0.0.1:{am_port}",
                                       "--cluster.listen-address="],
                                      stdout=open(os.path.join(tmp, "alertmanager.log"), "w"), stderr=subprocess.STDOUT))
        procs.append(subprocess.Popen(["prometheus", "--config.file=" + os.path.join(tmp, "prometheus.yml"),
                                       "--storage.tsdb.path=" + os.path.join(tmp, "prom"),
                                       f"--web.listen-address=127.0.0.1:{prom_port}", "--log.level=warn",
                                       # An alert sent before the notifier found Alertmanager is sent again
                                       # after this (1m by default): the Watchdog fires at the first evaluation.
                                       "--rules.alert.resend-delay=5s"],
                                      stdout=open(os.path.join(tmp, "prometheus.log"), "w"), stderr=subprocess.STDOUT))

        import urllib.request
        def ready(port):
            try:
                return urllib.request.urlopen(f"http://127.0.0.1:{port}/-/ready", timeout=1).status == 200
            except OSError:
                return False
        if not wait(lambda: ready(prom_port) and ready(am_port), 30):
            print("paging_test: Prometheus or Alertmanager did not start", file=sys.stderr); return 1
        wp = subprocess.Popen([binary, "run", "--config.file", cfg, "--web.listen-address", f"127.0.0.1:{wp_port}"],
                              stdout=open(os.path.join(tmp, "warmpool.log"), "w"), stderr=subprocess.STDOUT)
        procs.append(wp)
        # The pool reaches max_active and the rule's condition holds from the first scrape that shows it.
        def at_max():
            try:
                import urllib.request
                text = urllib.request.urlopen(f"http://127.0.0.1:{wp_port}/metrics", timeout=1).read().decode()
            except OSError:
                return None
            d = re.search(r'warmpool_pool_desired_servers\{pool="checkout"\} (\S+)', text)
            r = re.search(r'warmpool_pool_recommended_servers\{pool="checkout"\} (\S+)', text)
            return time.time() if d and r and float(d.group(1)) >= 2 and float(r.group(1)) > 2 else None
        overloaded_at = wait(at_max, 30)
        if not overloaded_at:
            print("paging_test: the pool never reached max_active while overloaded", file=sys.stderr); return 1
        # A scrape, an evaluation that starts `for`, `for`, the evaluation that fires, group_wait, and 8 s
        # for Prometheus' and Alertmanager's own queues (about 3 s measured here).
        bound = 1 + EVAL_S + FOR_S + EVAL_S + group_wait + 8
        def paged():
            for at, path, p in Hook.received:
                for a in p.get("alerts", []):
                    if (path == "/page" and p.get("status") == "firing" and a["labels"].get("alertname") ==
                            "WarmpoolPoolAtMaxWhileOverloaded" and a["labels"].get("pool") == "checkout"):
                        return at, a
            return None
        got = wait(paged, bound + 10)
        if not got:
            print(f"paging_test: no page within {bound + 10:.0f} s; received: {[(p, x.get('status')) for _, p, x in Hook.received]}",
                  file=sys.stderr); return 1
        latency = got[0] - overloaded_at
        desc = got[1]["annotations"].get("description", "")
        print(f"paged {latency:.1f} s after the pool was overloaded at max_active (bound {bound:.0f} s): "
              f"{got[1]['annotations'].get('summary')}")
        ok = True
        if latency > bound:
            print(f"paging_test: the page took {latency:.1f} s, more than {bound:.0f} s", file=sys.stderr); ok = False
        if "checkout" not in desc or "max_active" not in desc:
            print(f"paging_test: the page does not name the pool and the reason: {desc}", file=sys.stderr); ok = False
        if any(p == "/page" and a["labels"].get("alertname") == "Watchdog" for _, p, x in Hook.received
               for a in x.get("alerts", [])):
            print("paging_test: the Watchdog reached the pager", file=sys.stderr); ok = False
        if not wait(lambda: any(p == "/heartbeat" for _, p, _x in Hook.received), 30):
            print("paging_test: no Watchdog heartbeat reached the dead man's switch; received: "
                  f"{sorted(set((p, a['labels'].get('alertname')) for _, p, x in Hook.received for a in x.get('alerts', [])))}",
                  file=sys.stderr); ok = False
            try:
                print(urllib.request.urlopen(f"http://127.0.0.1:{am_port}/api/v2/alerts", timeout=2).read().decode()[:1500], file=sys.stderr)
                print(urllib.request.urlopen(f"http://127.0.0.1:{prom_port}/api/v1/alerts", timeout=2).read().decode()[:1500], file=sys.stderr)
            except OSError as e:
                print(e, file=sys.stderr)

        # Capacity is raised (max_active 6, reloaded): the page resolves.
        write_cfg(6)
        raised_at = time.time()
        wp.send_signal(signal.SIGHUP)
        def resolved():
            return any(p == "/page" and x.get("status") == "resolved" and any(
                a["labels"].get("alertname") == "WarmpoolPoolAtMaxWhileOverloaded" for a in x.get("alerts", []))
                for _, p, x in Hook.received)
        # A tick, a scrape, the evaluation that ends the alert, the group_interval, and the queues.
        resolve_bound = 1 + 1 + EVAL_S + GROUP_INTERVAL_S + 8
        if not wait(resolved, resolve_bound + 20):
            print(f"paging_test: the page was not resolved within {resolve_bound + 20} s after max_active was raised; "
                  f"received: {[(p, x.get('status')) for _, p, x in Hook.received]}", file=sys.stderr); ok = False
            try:
                text = urllib.request.urlopen(f"http://127.0.0.1:{wp_port}/metrics", timeout=1).read().decode()
                print("\n".join(l for l in text.splitlines() if re.match(r"warmpool_(pool_(desired|recommended|max_active)|config_reload)", l)), file=sys.stderr)
                print(open(os.path.join(tmp, "warmpool.log")).read()[-3000:], file=sys.stderr)
                print(urllib.request.urlopen(f"http://127.0.0.1:{am_port}/api/v2/alerts", timeout=2).read().decode()[:1500], file=sys.stderr)
                print(urllib.request.urlopen(f"http://127.0.0.1:{prom_port}/api/v1/alerts", timeout=2).read().decode()[:1500], file=sys.stderr)
                print(open(os.path.join(tmp, "alertmanager.log")).read()[-3000:], file=sys.stderr)
                print(open(os.path.join(tmp, "alertmanager.yml")).read()[:1000], file=sys.stderr)
            except OSError as e:
                print(e, file=sys.stderr)
        else:
            took = time.time() - raised_at
            print(f"resolved {took:.1f} s after max_active was raised (bound {resolve_bound} s)")
            if took > resolve_bound:
                print(f"paging_test: the resolution took {took:.1f} s, more than {resolve_bound} s", file=sys.stderr); ok = False
        return 0 if ok else 1
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
                try: p.wait(5)
                except subprocess.TimeoutExpired: p.kill()
        hook.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
