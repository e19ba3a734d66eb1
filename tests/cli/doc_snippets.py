#!/usr/bin/env python3
"""Every YAML config snippet in the README and docs/ passes `warmpool check-config`, so the documentation
and the code cannot drift apart.

A snippet is placed by its shape: a top-level section (metrics_source, global, web, state) goes beside a
minimal pool; a pool key (4 spaces: metrics, behavior, provider, capacity_model) replaces that key of the
pool; a policy (6 spaces, "- type:") joins the pool's policies. A complete config (with `pools:`) is
checked as it is. The tokens file's format is checked by the API's own tests, not here. Errors about
files the snippet names but this machine lacks (a CA bundle, a password file, a recorded trace) are
expected; any other error fails.

Usage: doc_snippets.py WARMPOOL_BIN SOURCE_DIR
"""
import glob
import os
import re
import subprocess
import sys
import tempfile

BIN, SRC = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
MISSING_FILE = re.compile(r"No such file or directory|cannot load CA file|cannot read")

POOL = {
    "metrics": "    metrics:\n      - {name: rps, query: 'sum(rate(x[1m]))'}\n      - {name: memory, query: 'max(y)'}\n",
    "policies": "    policies:\n      - {type: target_tracking, metric: rps, target_per_server: 10}\n",
    "provider": "    provider: {type: simulated}\n",
}
SOURCE = "metrics_source: {type: prometheus, url: 'http://127.0.0.1:9090'}\n"


def pool(keys, extra_policy=""):
    out = "pools:\n  - name: web\n    min_active: 1\n    max_active: 10\n"
    for k in ("metrics", "policies", "provider"):
        out += keys.get(k, POOL[k])
        if k == "policies" and extra_policy:
            out += extra_policy
    for k, v in keys.items():
        if k not in POOL:
            out += v
    return out


def config_for(snippet):
    """The config to check for `snippet`, or None to skip it."""
    first = next(l for l in snippet.splitlines() if l.strip() and not l.strip().startswith("#"))
    indent = len(first) - len(first.lstrip())
    key = first.strip().split(":")[0].lstrip("- ").strip()
    if indent == 0:
        if key == "tokens":
            return None
        if re.search(r"^pools:", snippet, re.M):
            return snippet
        top = snippet if key == "metrics_source" else SOURCE + snippet
        return top + pool({})
    if indent == 4:
        keys = {key: snippet}
        if key == "overload":  # needs a balancer that can shed: HAProxy
            keys["provider"] = "    provider: {type: haproxy, socket: /run/haproxy/admin.sock, backend: web}\n"
        return SOURCE + pool(keys)
    if indent == 6 and first.strip().startswith("- "):
        return SOURCE + pool({}, extra_policy=snippet)
    return None


def snippets():
    for path in [os.path.join(SRC, "README.md")] + sorted(glob.glob(os.path.join(SRC, "docs", "*.md"))):
        text = open(path).read()
        for m in re.finditer(r"^([ \t]*)```yaml\n(.*?)^[ \t]*```", text, re.S | re.M):
            line = text[: m.start()].count("\n") + 1
            fence = m.group(1)  # a snippet inside a list item is indented as its fence is
            body = "".join(l[len(fence):] if l.startswith(fence) else l for l in m.group(2).splitlines(True))
            yield os.path.relpath(path, SRC), line, body


def main():
    failures = checked = 0
    with tempfile.TemporaryDirectory() as tmp:
        for path, line, snippet in snippets():
            config = config_for(snippet)
            if config is None:
                print("skip - %s:%d (not a config section)" % (path, line))
                continue
            checked += 1
            file = os.path.join(tmp, "snippet.yaml")
            with open(file, "w") as f:
                f.write(config)
            r = subprocess.run([BIN, "check-config", file], capture_output=True, text=True, timeout=30)
            errors = [l.strip() for l in (r.stdout + r.stderr).splitlines() if l.startswith("  ")]
            unexpected = [e for e in errors if not MISSING_FILE.search(e)]
            if r.returncode not in (0, 1) or unexpected:
                failures += 1
                print("FAIL - %s:%d:\n%s\n  checked as:\n%s" % (path, line, "\n".join("    " + e for e in unexpected),
                                                                 config))
            else:
                print("ok   - %s:%d%s" % (path, line, " (files it names are absent here)" if errors else ""))
    print("%d snippets checked, %d failed" % (checked, failures))
    sys.exit(1 if failures or checked == 0 else 0)


if __name__ == "__main__":
    main()
