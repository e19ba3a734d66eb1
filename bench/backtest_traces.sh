#!/usr/bin/env bash
# Backtests every trace in examples/traces, and the synthetic ones scripts/gen-trace makes (a flash crowd,
# a month of 3%-a-day growth, a marketing campaign, an hourly e-commerce trace), on common ground, and
# writes a markdown table: the default Warmpool policy set (examples/backtest.yaml) against HPA's curve
# (the Kubernetes HPA defaults at targets 50..100% of a server) and the oracle.
#
# Common ground, per trace: `--fit-capacity 20` (capacity_per_server = the trace's peak rate / 20, every
# target_per_server and server_capacity scaled alike, runs start with the servers the first point needs),
# provisioning delay 90 s, promotion delay 2 s, a stopped standby resumes in 20 s, an hour costs 1 active,
# 1 running standby (or provisioning) and 0.1 stopped (cost: active-server-hour equivalents), collection
# gaps masked (--mask auto).
# The two comparisons, per trace (warmpool's point read on HPA's curve: docs/backtest.md, "HPA's curve"):
#   unserved at equal cost    warmpool's unserved / what HPA's curve leaves at warmpool's cost
#   cost at equal unserved    warmpool's cost / what HPA's curve spends to leave as many unserved
# and the issue's goals (issue 17): 1. no regression: both <= 1 (a tie: both under 0.001% of the
# requests); 2. where HPA's curve leaves >= 0.01% at warmpool's cost, warmpool leaves <= 0.5x of it;
# 3. (a) the same policies with running standbys only (the stopped tier's line removed), at full price:
# server-hours <= 1.5x the oracle's with unserved <= 10% of HPA@80%'s; (b) with the stopped tier:
# cost <= 1.2x the oracle's (the oracle may keep a stopped tier too).
#
#   bench/backtest_traces.sh [CONFIG] [OUT.md]     (defaults: examples/backtest.yaml, out/backtest-traces.md)
#   WARMPOOL_BIN=/path/to/warmpool bench/backtest_traces.sh    (default: build/controller/warmpool)
#   TRACES=dir  GENERATED="flash growth campaign ecommerce"  GEN_SEED=1  FIT=20  EXTRA="--html ..."
#   SWEEP="rps.lead=17s,2m;warm.quantile=0.9,0.99" TARGET_FRACTIONS="0.85 0.92 1"   (the frontier, below)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${WARMPOOL_BIN:-build/controller/warmpool}
CONFIG=${1:-examples/backtest.yaml}
OUT=${2:-out/backtest-traces.md}
TRACES=${TRACES:-examples/traces}
GENERATED=${GENERATED-flash growth campaign ecommerce}
GEN_SEED=${GEN_SEED:-1}
FIT=${FIT:-20}
[ -x "$BIN" ] || { echo "backtest_traces: no warmpool binary at $BIN (scripts/build, or set WARMPOOL_BIN)" >&2; exit 1; }
mkdir -p "$(dirname "$OUT")"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# The traces: the shipped ones, then the generated ones (seeded: the same every run).
mkdir -p "$WORK/traces"
for trace in "$TRACES"/*.csv.gz; do [ -e "$trace" ] && ln -s "$(realpath "$trace")" "$WORK/traces/"; done
for kind in $GENERATED; do
  python3 scripts/gen-trace --kind "$kind" --seed "$GEN_SEED" --out "$WORK/traces/gen-$kind-seed$GEN_SEED.csv.gz" 2>/dev/null
done

# common_config CONFIG OUT [FRACTION]: CONFIG with the common delays, no initial_active (--fit-capacity
# sets it), and with FRACTION the targets set to that fraction of the config's own capacity_per_server
# (--fit-capacity then scales them with it).
common_config() {
  python3 - "$@" <<'PY'
import re, sys
config, out = sys.argv[1:3]
fraction = float(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[3] != "running" else None
running_only = sys.argv[-1] == "running"
text = open(config).read()
capacity = re.search(r"^\s*capacity_per_server:\s*([0-9.eE+-]+)", text, re.M)
if not capacity:
    sys.exit(f"{config}: no capacity_model.capacity_per_server")
if fraction is not None:
    text = re.sub(r"^(\s*)target_per_server:\s*[0-9.eE+-]+",
                  lambda m: f"{m.group(1)}target_per_server: {float(capacity.group(1)) * fraction:.6g}", text, flags=re.M)
text = re.sub(r"^(\s*)initial_active:.*\n", "", text, flags=re.M)
text = re.sub(r"^(\s*)provisioning_delay:\s*\S+", r"\1provisioning_delay: 90s", text, flags=re.M)
text = re.sub(r"^(\s*)promotion_delay:\s*\S+", r"\1promotion_delay: 2s", text, flags=re.M)
text = re.sub(r"^(\s*)resume_delay:.*\n", "", text, flags=re.M)
text = re.sub(r"^(\s*)cost:.*\n", "", text, flags=re.M)
text = re.sub(r"^(\s*)provisioning_delay:\s*\S+",
              r"\1provisioning_delay: 90s\n\1resume_delay: 20s\n\1cost: {active: 1, standby: 1, stopped: 0.1}", text,
              flags=re.M)
if running_only:  # the warm pool's running tier alone: the stopped tier's line removed
    text = re.sub(r"^(\s*)stopped:.*\n", "", text, flags=re.M)
open(out, "w").write(text)
PY
}

common_config "$CONFIG" "$WORK/config.yaml"
common_config "$CONFIG" "$WORK/running.yaml" running
mkdir -p "$WORK/running"
for trace in "$WORK"/traces/*.csv.gz; do
  name=$(basename "$trace" .csv.gz)
  echo "backtest_traces: $name" >&2
  start=$(date +%s%N)
  # shellcheck disable=SC2086
  "$BIN" backtest --config.file "$WORK/config.yaml" --trace "$trace" --mask auto --fit-capacity "$FIT" \
    --json "$WORK/$name.json" ${EXTRA:-} >"$WORK/$name.txt"
  echo "$name $(( ($(date +%s%N) - start) / 1000000 ))" >>"$WORK/times"
  # Goal 3's first half: the same policies with running standbys only (at full price).
  "$BIN" backtest --config.file "$WORK/running.yaml" --trace "$trace" --mask auto --fit-capacity "$FIT" \
    --baseline-target 0.8 --json "$WORK/running/$name.json" >/dev/null
done

python3 - "$WORK" "$CONFIG" "$OUT" "$FIT" "$GEN_SEED" <<'PY'
import glob, json, os, sys
work, config, out, fit, seed = sys.argv[1:6]
times = dict(l.split() for l in open(os.path.join(work, "times")))
TIE, MATTERS = 0.001, 0.01  # % of the trace's requests

def reading(v, mine, run, curve, what):
    """(cell text, ratio or None, judged: True = at or below the curve, False = above, None = unknown)."""
    r = v[what]
    if r["side"] == "inside":
        theirs = r["hpa"]
        if what == "unserved_at_equal_hours":
            pct = lambda u: 100 * u / run["total_requests"] if run["total_requests"] else 0
            if pct(mine) < TIE and pct(theirs) < TIE:
                return "tie (both < 0.001%)", None, True
            if theirs == 0:
                return "HPA 0", None, False
        ratio = mine / theirs
        return f"{ratio:.2f}x", ratio, ratio <= 1.0
    # Outside the curve's range: judged only where the nearest end settles it.
    ends = sorted(curve, key=lambda p: p["summary"]["cost"])
    cheap, rich = ends[0]["summary"], ends[-1]["summary"]
    if what == "unserved_at_equal_hours":
        if r["side"] == "above":  # costs more than HPA@50%
            ok = False if mine > r["hpa_nearest_end"] else None
            return f"outside: costs more than HPA's most ({rich['cost']:.0f}, {r['hpa_nearest_end']:.0f} unserved)", None, ok
        ok = True if mine <= r["hpa_nearest_end"] else None
        return f"outside: costs less than HPA's least ({cheap['cost']:.0f}, {r['hpa_nearest_end']:.0f} unserved)", None, ok
    c = run["cost"]
    if r["side"] == "below":  # fewer unserved than HPA leaves at its most generous
        ok = True if c <= r["hpa_nearest_end"] else None
        return f"outside: fewer unserved than HPA's least ({r['range'][0]:.0f} at {r['hpa_nearest_end']:.0f})", None, ok
    ok = False if c >= r["hpa_nearest_end"] else None
    return f"outside: more unserved than HPA's most ({r['range'][1]:.0f} at {r['hpa_nearest_end']:.0f})", None, ok

lines = [
    f"Backtest of `{config}` on every trace: `--fit-capacity {fit}` (capacity per server = peak / {fit}), "
    "provisioning 90 s, promotion 2 s, a stopped standby resumes in 20 s;",
    "an hour costs 1 active, 1 running standby (or provisioning), 0.1 stopped (cost: active-server-hour equivalents); "
    f"`--mask auto`; `gen-*`: `scripts/gen-trace --seed {seed}`.",
    "Ratios are warmpool's to HPA's curve (targets 50..100%; HPA has no stopped tier, its cost is its hours) read at "
    "warmpool's cost and at its unserved requests;",
    "unserved as % of the trace's requests. Goal 3: (a) the same policies with running standbys only: hours <= 1.5x the "
    "oracle's with unserved <= 10% of HPA@80%'s; (b) with the stopped tier: cost <= 1.2x the oracle's (which may use one).",
    "",
    "| trace | HPA@80% | HPA's curve cost (100%..50%) | warmpool cost (h) | warmpool unserved | unserved at equal cost "
    "| cost at equal unserved | vs oracle's cost | goal 1 | goal 2 | goal 3a: running only | goal 3b | run time |",
    "|---|---:|---:|---:|---:|---:|---:|---:|:---:|:---:|:---:|:---:|---:|",
]
met = {1: [], 2: [], "3a": [], "3b": []}
for path in sorted(glob.glob(os.path.join(work, "*.json"))):
    name = os.path.basename(path)[:-5]
    d = json.load(open(path))
    r, curve, v = d["runs"], d["hpa_curve"], d["vs_hpa_curve"]
    w, h80, o = r["warmpool"], r["hpa_baseline"], r["oracle"]
    u_text, u_ratio, u_ok = reading(v, w["unserved_requests"], w, curve, "unserved_at_equal_hours")
    h_text, h_ratio, h_ok = reading(v, w["cost"], w, curve, "hours_at_equal_unserved")
    goal1 = "met" if u_ok and h_ok else "missed" if u_ok is False or h_ok is False else "unknown (outside the curve)"
    a = v["unserved_at_equal_hours"]
    hpa_pct = 100 * a["hpa"] / w["total_requests"] if a["side"] == "inside" and w["total_requests"] else None
    if a["side"] == "below" and w["total_requests"]:  # cheaper than HPA's cheapest: read at that end
        hpa_pct = 100 * a["hpa_nearest_end"] / w["total_requests"]
        u_ratio = w["unserved_requests"] / a["hpa_nearest_end"] if a["hpa_nearest_end"] else None
    if hpa_pct is None:
        goal2 = "-"
    elif hpa_pct < MATTERS:
        goal2 = "n/a (HPA < 0.01%)"
    else:
        goal2 = "met" if u_ratio is not None and u_ratio <= 0.5 else f"missed ({u_ratio:.2f}x)" if u_ratio else "missed"
    # Goal 3a: running standbys only, at full price.
    ro = json.load(open(os.path.join(work, "running", name + ".json")))["runs"]
    rw, ro_o, ro_h = ro["warmpool"], ro["oracle"], ro["hpa_baseline"]
    share = rw["unserved_requests"] / ro_h["unserved_requests"] if ro_h["unserved_requests"] else (0 if rw["unserved_requests"] == 0 else float("inf"))
    hours = rw["total_server_hours"] / ro_o["total_server_hours"]
    tie = 100 * rw["unserved_requests"] / rw["total_requests"] < TIE if rw["total_requests"] else True
    ok3a = hours <= 1.5 and (share <= 0.1 or tie)
    goal3a = f"{'met' if ok3a else 'missed'}: {hours:.2f}x h, {'tie' if tie and share > 0.1 else f'{100 * share:.1f}%'}"
    ratio3b = w["cost"] / o["cost"]
    goal3b = f"{'met' if ratio3b <= 1.2 else 'missed'}: {ratio3b:.2f}x"
    met[1].append(goal1 == "met")
    if goal2 != "-" and not goal2.startswith("n/a"):
        met[2].append(goal2 == "met")
    met["3a"].append(ok3a)
    met["3b"].append(ratio3b <= 1.2)
    costs = [p["summary"]["cost"] for p in curve]
    lines.append(
        f"| {name} | {h80['unserved_percent']:.4f}% at {h80['cost']:.0f} | {min(costs):.0f}..{max(costs):.0f} "
        f"| {w['cost']:.0f} ({w['total_server_hours']:.0f} h) | {w['unserved_percent']:.4f}% | {u_text} | {h_text} "
        f"| {ratio3b:.2f}x | {goal1} | {goal2} | {goal3a} | {goal3b} | {int(times[name]) / 1000:.1f} s |")
lines += ["", f"Goal 1 (no regression against HPA's curve) met on {sum(met[1])} of {len(met[1])} traces; "
          f"goal 2 (<= 0.5x of HPA's unserved at equal cost where it leaves >= 0.01%) on {sum(met[2])} of {len(met[2])}; "
          f"goal 3a on {sum(met['3a'])} of {len(met['3a'])}; goal 3b on {sum(met['3b'])} of {len(met['3b'])}."]
open(out, "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
echo "backtest_traces: wrote $OUT" >&2

# The frontier: with SWEEP='KEY=v1,v2;...' (any --sweep keys) and TARGET_FRACTIONS='0.85 0.92 1' (the
# target as a fraction of a server's capacity, one sweep per fraction), every point of every trace read
# on HPA's curve: per trace how many points of the Pareto front (over all fractions) lie at or below the
# curve at equal cost and the worst of them, and the best ratio of unserved at equal cost and of cost
# at equal unserved among the points inside the curve's range, with their settings. Appended to OUT.
[ -n "${SWEEP:-}" ] || exit 0
for trace in "$WORK"/traces/*.csv.gz; do
  name=$(basename "$trace" .csv.gz)
  for f in ${TARGET_FRACTIONS:-as-configured}; do
    if [ "$f" = as-configured ]; then common_config "$CONFIG" "$WORK/sweep.yaml"
    else common_config "$CONFIG" "$WORK/sweep.yaml" "$f"; fi
    echo "backtest_traces: sweep $name target=$f" >&2
    "$BIN" backtest --config.file "$WORK/sweep.yaml" --trace "$trace" --mask auto --fit-capacity "$FIT" \
      --sweep "$SWEEP" --json "$WORK/sweep-$name-$f.json" >/dev/null
  done
done
python3 - "$WORK" "$OUT" "$SWEEP" <<'PY'
import glob, json, os, sys
work, out, sweep = sys.argv[1:4]
lines = ["", f"Frontier of `--sweep '{sweep}'` (target fractions: {os.environ.get('TARGET_FRACTIONS', 'as configured')}), "
         "read on HPA's curve at equal cost (the Pareto front: the points no other point of the trace beats on both "
         "unserved requests and cost):", "",
         "| trace | points | front | front below HPA's curve | worst front point | best unserved at equal cost | best cost at equal unserved |",
         "|---|---:|---:|---:|---|---|---|"]
by_trace = {}
for path in sorted(glob.glob(os.path.join(work, "sweep-*.json"))):
    name, frac = os.path.basename(path)[6:-5].rsplit("-", 1)
    for p in json.load(open(path))["sweep"]["points"]:
        settings = ("target=" + frac + " " if frac != "as-configured" else "") + " ".join(
            f"{k}={v}" for k, v in p["settings"].items())
        by_trace.setdefault(name, []).append((p["vs_hpa_curve"], p["summary"], settings))
def show(ratio, p):
    return f"{ratio:.2f}x at cost {p[1]['cost']:.0f}, {p[1]['unserved_requests']:.0f} unserved ({p[2]})"
def best(pts, what):
    inside = [(p[0][what]["ratio"], p) for p in pts if p[0][what]["side"] == "inside" and p[0][what]["ratio"] is not None]
    return show(*min(inside, key=lambda x: x[0])) if inside else "none inside"
def front(pts):  # across the fractions' sweeps: the cheapest first
    out = []
    for p in sorted(pts, key=lambda p: (p[1]["cost"], p[1]["unserved_requests"])):
        if not out or p[1]["unserved_requests"] < out[-1][1]["unserved_requests"]:
            out.append(p)
    return out
for name, pts in sorted(by_trace.items()):
    f = front(pts)
    # At or below HPA's curve at equal cost: a ratio <= 1, both under 0.001% of the requests, or (outside
    # the curve's range) cheaper than HPA's cheapest and no more unserved than it leaves there.
    def below(p):
        r, s = p[0]["unserved_at_equal_hours"], p[1]
        tie = s["total_requests"] * 0.001 / 100
        if r["side"] == "inside":
            return (s["unserved_requests"] < tie and r["hpa"] < tie) or (r["hpa"] > 0 and s["unserved_requests"] <= r["hpa"])
        return r["side"] == "below" and s["unserved_requests"] <= r["hpa_nearest_end"]
    judged = [(p[0]["unserved_at_equal_hours"]["ratio"], p) for p in f if p[0]["unserved_at_equal_hours"]["ratio"] is not None]
    worst = show(*max(judged, key=lambda x: x[0])) if judged else "-"
    lines.append(f"| {name} | {len(pts)} | {len(f)} | {sum(map(below, f))} of {len(f)} | {worst} "
                 f"| {best(pts, 'unserved_at_equal_hours')} | {best(pts, 'hours_at_equal_unserved')} |")
open(out, "a").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
