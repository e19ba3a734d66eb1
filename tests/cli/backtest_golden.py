#!/usr/bin/env python3
"""The backtest's results must not change unnoticed: replays examples/web.yaml and examples/backtest.yaml
over every shipped trace and compares the JSON report's summaries (everything but the per-tick timeline)
with tests/golden/backtest/, exactly.

  backtest_golden.py WARMPOOL SOURCE_DIR            compare (exit 1 on any difference)
  backtest_golden.py WARMPOOL SOURCE_DIR --update   write the golden files anew (after an intended change)
"""
import json
import os
import subprocess
import sys
import tempfile

CONFIGS = ["web", "backtest"]
TRACES = ["nasa-http-1995-07-1min", "twitter-stream-2021-08-1min", "worldcup98-1min",
          "wikipedia-en-2016-01-1h", "clarknet-http-1995-1h"]


def normalize(value):
    """The trace's path differs between checkouts: keep its name, without the .gz."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k == "trace" and isinstance(v, str):
                v = os.path.basename(v)
                v = v[:-3] if v.endswith(".gz") else v
            out[k] = normalize(v)
        return out
    if isinstance(value, list):
        return [normalize(v) for v in value]
    return value


def summaries(warmpool, config, trace, tmp):
    out = os.path.join(tmp, "out.json")
    run = subprocess.run([warmpool, "backtest", "--config.file", config, "--trace", trace, "--json", out],
                         capture_output=True, text=True)
    if run.returncode != 0:
        raise SystemExit(f"backtest {config} {trace} exited {run.returncode}: {run.stderr.strip()}")
    with open(out) as f:
        report = json.load(f)
    report.pop("timeline", None)
    return normalize(report)


def first_difference(a, b, path="$"):
    if type(a) is not type(b):
        return f"{path}: {a!r} != {b!r}"
    if isinstance(a, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                return f"{path}.{k}: only in {'golden' if k in b else 'new'}"
            d = first_difference(a[k], b[k], f"{path}.{k}")
            if d:
                return d
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} items != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            d = first_difference(x, y, f"{path}[{i}]")
            if d:
                return d
        return None
    return None if a == b else f"{path}: {a!r} (new) != {b!r} (golden)"


def main():
    if len(sys.argv) not in (3, 4):
        raise SystemExit(__doc__)
    warmpool, src = sys.argv[1], sys.argv[2]
    update = len(sys.argv) == 4 and sys.argv[3] == "--update"
    golden_dir = os.path.join(src, "tests", "golden", "backtest")
    failed = passed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for config in CONFIGS:
            for trace in TRACES:
                name = f"{config}-{trace}.json"
                got = summaries(warmpool, os.path.join(src, "examples", f"{config}.yaml"),
                                os.path.join(src, "examples", "traces", f"{trace}.csv.gz"), tmp)
                golden = os.path.join(golden_dir, name)
                if update:
                    with open(golden, "w") as f:
                        json.dump(got, f, indent=1, sort_keys=True)
                        f.write("\n")
                    print(f"wrote {golden}")
                    continue
                with open(golden) as f:
                    want = json.load(f)
                diff = first_difference(got, want)
                if diff:
                    failed += 1
                    print(f"FAIL {name}: {diff}")
                else:
                    passed += 1
                    print(f"ok   {name}")
    if not update:
        print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
