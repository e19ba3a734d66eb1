#!/usr/bin/env bash
# Backtests every trace in examples/traces on common ground and writes a markdown table: the default
# Warmpool policy set (examples/backtest.yaml) vs the Kubernetes HPA defaults vs the oracle.
#
# Common ground, per trace: capacity_per_server = the trace's peak rate / 20 (its peak needs 20
# servers at full capacity), provisioning delay 90 s, promotion delay 2 s, a standby hour costs what
# an active one does; every target_per_server and server_capacity of the config is scaled with the
# capacity (the config states them for its own capacity_per_server). Collection gaps are masked (--mask auto).
# Goal per trace: unserved <= 10% of the baseline's, server-hours <= the baseline's and <= 1.2x the oracle's.
#
#   bench/backtest_traces.sh [CONFIG] [OUT.md]     (defaults: examples/backtest.yaml, out/backtest-traces.md)
#   WARMPOOL_BIN=/path/to/warmpool bench/backtest_traces.sh    (default: build/controller/warmpool)
#   TRACES=dir  EXTRA="--html ..."                              (other traces; extra backtest flags)
#   SWEEP="rps.lead=17s,2m;warm.quantile=0.9,0.99" TARGET_FRACTIONS="0.85 0.92 1"   (the frontier, below)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${WARMPOOL_BIN:-build/controller/warmpool}
CONFIG=${1:-examples/backtest.yaml}
OUT=${2:-out/backtest-traces.md}
TRACES=${TRACES:-examples/traces}
[ -x "$BIN" ] || { echo "backtest_traces: no warmpool binary at $BIN (scripts/build, or set WARMPOOL_BIN)" >&2; exit 1; }
mkdir -p "$(dirname "$OUT")"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# scale_config CONFIG TRACE OUT [FRACTION]: CONFIG on common ground for TRACE: capacity for a 20-server
# peak, the common delays, every target_per_server and server_capacity scaled alike (or the targets set
# to FRACTION of a server's capacity).
scale_config() {
  python3 - "$@" <<'PY'
import gzip, re, sys
config, trace, out = sys.argv[1:4]
fraction = float(sys.argv[4]) if len(sys.argv) > 4 else None
rows = [l.split(",") for l in gzip.open(trace, "rt").read().split("\n")[1:] if l.strip()]
step = int(rows[1][0]) - int(rows[0][0])
capacity = max(float(r[1]) for r in rows) / step / 20
text = open(config).read()
old = re.search(r"^(\s*)capacity_per_server:\s*([0-9.eE+-]+)", text, re.M)
if not old:
    sys.exit(f"{config}: no capacity_model.capacity_per_server to scale")
factor = capacity / float(old.group(2))
def scale(m):
    if fraction is not None and m.group(2) == "target_per_server":  # the target as a fraction of capacity
        return f"{m.group(1)}{m.group(2)}: {capacity * fraction:.6g}"
    return f"{m.group(1)}{m.group(2)}: {float(m.group(3)) * factor:.6g}"
text = re.sub(r"^(\s*)(target_per_server|server_capacity):\s*([0-9.eE+-]+)", scale, text, flags=re.M)
# Every run starts with the servers the first load point needs (at least min_active), as the oracle does.
first = float(rows[0][1]) / step
min_active = int(re.search(r"^\s*min_active:\s*(\d+)", text, re.M).group(1))
initial = max(min_active, -int(-first // capacity))
text = re.sub(r"^(\s*)initial_active:.*\n", "", text, flags=re.M)
text = re.sub(r"^(\s*)capacity_per_server:\s*[0-9.eE+-]+",
              lambda m: f"{m.group(1)}capacity_per_server: {capacity:.6g}\n{m.group(1)}initial_active: {initial}", text, flags=re.M)
text = re.sub(r"^(\s*)provisioning_delay:\s*\S+", r"\1provisioning_delay: 90s", text, flags=re.M)
text = re.sub(r"^(\s*)promotion_delay:\s*\S+", r"\1promotion_delay: 2s", text, flags=re.M)
open(out, "w").write(text)
PY
}

for trace in "$TRACES"/*.csv.gz; do
  name=$(basename "$trace" .csv.gz)
  # The scaled config: capacity for a 20-server peak, the common delays, targets scaled alike.
  scale_config "$CONFIG" "$trace" "$WORK/$name.yaml"
  echo "backtest_traces: $name" >&2
  start=$(date +%s%N)
  # shellcheck disable=SC2086
  "$BIN" backtest --config.file "$WORK/$name.yaml" --trace "$trace" --mask auto --json "$WORK/$name.json" \
    ${EXTRA:-} >"$WORK/$name.txt"
  echo "$name $(( ($(date +%s%N) - start) / 1000000 ))" >>"$WORK/times"
done

python3 - "$WORK" "$CONFIG" "$OUT" <<'PY'
import glob, json, os, sys
work, config, out = sys.argv[1:4]
times = dict(l.split() for l in open(os.path.join(work, "times")))
lines = [
    f"Backtest of `{config}` on every trace: capacity per server = peak / 20, provisioning 90 s, promotion 2 s,",
    "standby hour = active hour, `--mask auto`. Unserved as % of the trace's requests; server-hours = active + standby.",
    "",
    "| trace | warmpool unserved | HPA unserved | oracle unserved | warmpool h | HPA h | oracle h "
    "| unserved vs HPA | h vs HPA | h vs oracle | goal | run time |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|---:|",
]
met_all = True
for path in sorted(glob.glob(os.path.join(work, "*.json"))):
    name = os.path.basename(path)[:-5]
    r = json.load(open(path))["runs"]
    w, h, o = r["warmpool"], r["hpa_baseline"], r["oracle"]
    if h["unserved_requests"] > 0:
        u_ratio = w["unserved_requests"] / h["unserved_requests"]
        u_text = f"{u_ratio:.1%}"
    else:  # nothing to improve on: only 0 meets it
        u_ratio = 0 if w["unserved_requests"] == 0 else float("inf")
        u_text = "both 0" if u_ratio == 0 else "HPA 0"
    h_ratio = w["total_server_hours"] / h["total_server_hours"]
    o_ratio = w["total_server_hours"] / o["total_server_hours"]
    missed = [what for what, ok in (("unserved", u_ratio <= 0.10), ("h > HPA", h_ratio <= 1.0),
                                    ("h > 1.2x oracle", o_ratio <= 1.2)) if not ok]
    met_all &= not missed
    lines.append(
        f"| {name} | {w['unserved_percent']:.4f}% | {h['unserved_percent']:.4f}% | {o['unserved_percent']:.4f}% "
        f"| {w['total_server_hours']:.0f} | {h['total_server_hours']:.0f} | {o['total_server_hours']:.0f} "
        f"| {u_text} | {h_ratio:.2f}x | {o_ratio:.2f}x | {'met' if not missed else 'missed: ' + ', '.join(missed)} "
        f"| {int(times[name]) / 1000:.1f} s |")
lines += ["", "Goal: unserved <= 10% of HPA's, hours <= HPA's and <= 1.2x the oracle's. "
          + ("Met on every trace." if met_all else "Not met on every trace.")]
open(out, "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
echo "backtest_traces: wrote $OUT" >&2

# The frontier: with SWEEP='KEY=v1,v2;...' (any --sweep keys) and TARGET_FRACTIONS='0.85 0.92 1' (the
# target as a fraction of a server's capacity, one sweep per fraction), every point on every trace, and
# per trace the point with the fewest hours among those within 10% of the baseline's unserved requests,
# and the one with the fewest unserved requests among those within the goal's hours (the baseline's and
# 1.2x the oracle's). Hours are given as a multiple of the baseline's and of the oracle's. Appended to OUT.
[ -n "${SWEEP:-}" ] || exit 0
for trace in "$TRACES"/*.csv.gz; do
  name=$(basename "$trace" .csv.gz)
  for f in ${TARGET_FRACTIONS:-as-configured}; do
    if [ "$f" = as-configured ]; then scale_config "$CONFIG" "$trace" "$WORK/$name-sweep.yaml"
    else scale_config "$CONFIG" "$trace" "$WORK/$name-sweep.yaml" "$f"; fi
    echo "backtest_traces: sweep $name target=$f" >&2
    "$BIN" backtest --config.file "$WORK/$name-sweep.yaml" --trace "$trace" --mask auto --sweep "$SWEEP" \
      --json "$WORK/sweep-$name-$f.json" >/dev/null
  done
done
python3 - "$WORK" "$OUT" "$SWEEP" <<'PY'
import glob, json, os, sys
work, out, sweep = sys.argv[1:4]
lines = ["", f"Frontier of `--sweep '{sweep}'` (target fractions: {os.environ.get('TARGET_FRACTIONS', 'as configured')}):", "",
         "| trace | points | fewest hours with unserved <= 10% of HPA's | least unserved within HPA's hours and 1.2x the oracle's |",
         "|---|---:|---|---|"]
by_trace = {}
for path in sorted(glob.glob(os.path.join(work, "sweep-*.json"))):
    name, frac = os.path.basename(path)[6:-5].rsplit("-", 1)
    d = json.load(open(path))
    h, o = d["runs"]["hpa_baseline"], d["runs"]["oracle"]
    for p in d["sweep"]["points"]:
        s = p["summary"]
        u = s["unserved_requests"] / h["unserved_requests"] if h["unserved_requests"] > 0 else (
            0.0 if s["unserved_requests"] == 0 else float("inf"))
        settings = ("target=" + frac + " " if frac != "as-configured" else "") + " ".join(
            f"{k}={v}" for k, v in p["settings"].items())
        by_trace.setdefault(name, []).append((u, s["total_server_hours"] / h["total_server_hours"], settings,
                                              s["total_server_hours"] / o["total_server_hours"]))
def show(p):
    return f"{p[1]:.2f}x hours ({p[3]:.2f}x the oracle's), {p[0]:.1%} unserved ({p[2]})" if p else "none"
for name, pts in sorted(by_trace.items()):
    ok = [p for p in pts if p[0] <= 0.10]
    within = [p for p in pts if p[1] <= 1.0 and p[3] <= 1.2]
    lines.append(f"| {name} | {len(pts)} | {show(min(ok, key=lambda p: p[1]) if ok else None)} "
                 f"| {show(min(within, key=lambda p: p[0]) if within else None)} |")
open(out, "a").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
