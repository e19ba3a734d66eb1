#!/usr/bin/env bash
# Replay speed of two builds side by side: runs bench_backtest of build A and of build B in turn
# (A B A B ...), so both see the same machine speed, and prints each benchmark's samples/s for both
# and the ratio B/A pair by pair (median, min, max). This host runs at two speeds about 1.6x apart
# that change within minutes: only the ratios of alternated runs mean anything.
#   bench/replay_ab.sh OLD/bench/bench_backtest NEW/bench/bench_backtest [PAIRS=6] [FILTER=BM_BacktestNasa] [FILTER_B]
# With FILTER_B, B runs the benchmarks it selects instead, paired with A's in order (the same policies
# under another name: bench/replay_ab.sh OLD NEW 8 'BM_BacktestNasaDefaultSet$' 'BM_BacktestNasaRunningTier$').
set -euo pipefail
A=$1 B=$2 PAIRS=${3:-6} FILTER=${4:-BM_BacktestNasa} FILTER_B=${5:-${4:-BM_BacktestNasa}}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
for i in $(seq 1 "$PAIRS"); do
  for side in A B; do
    bin=$A filter=$FILTER
    [ "$side" = B ] && bin=$B filter=$FILTER_B
    "$bin" --benchmark_filter="$filter" --benchmark_format=json >"$WORK/$side-$i.json" 2>/dev/null
  done
done
python3 - "$WORK" "$PAIRS" <<'PY'
import json, os, statistics, sys
work, pairs = sys.argv[1], int(sys.argv[2])
def rates(path):  # in the order run
    return [(b["name"], b["samples/s"]) for b in json.load(open(path))["benchmarks"] if "samples/s" in b]
runs = {side: [rates(os.path.join(work, f"{side}-{i}.json")) for i in range(1, pairs + 1)] for side in "AB"}
if len(runs["A"][0]) != len(runs["B"][0]):
    sys.exit(f"A ran {len(runs['A'][0])} benchmarks, B {len(runs['B'][0])}: the filters must select as many")
print(f"{'benchmark':48} {'A samples/s':>12} {'B samples/s':>12}  B/A median (min-max), {pairs} pairs")
for k, (name, _) in enumerate(runs["A"][0]):
    b_name = runs["B"][0][k][0]
    if b_name != name:
        name = f"{name} / {b_name}"
    a = [r[k][1] for r in runs["A"]]
    b = [r[k][1] for r in runs["B"]]
    ratios = [y / x for x, y in zip(a, b)]
    print(f"{name:48} {statistics.median(a):12.3e} {statistics.median(b):12.3e}  "
          f"{statistics.median(ratios):.3f} ({min(ratios):.3f}-{max(ratios):.3f})")
PY
