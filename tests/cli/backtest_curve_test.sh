#!/usr/bin/env bash
# `warmpool backtest` against HPA's curve (issue 17): --baseline-target (a curve by default, one target
# as before), the warning for a pool that cannot serve the trace's peak, --fit-capacity and its errors,
# and the synthetic traces of scripts/gen-trace (the same seed writes the same bytes; a backtest runs on them).
# Usage: backtest_curve_test.sh WARMPOOL_BIN SOURCE_DIR TRACES_DIR
set -u
source "$(dirname "$0")/lib.sh"

CONFIG=$SRC/examples/backtest.yaml
NASA=$TRACES/nasa-http-1995-07-1min.csv.gz
WIKI=$TRACES/wikipedia-en-2016-01-1h.csv.gz

"$BIN" backtest --help >"$TMP/help" 2>&1
check "backtest --help documents --baseline-target and --fit-capacity" \
  bash -c "grep -q -- '--baseline-target' '$TMP/help' && grep -q -- '--fit-capacity' '$TMP/help'"

# The default: HPA's curve, 80% marked, and the two readings.
"$BIN" backtest --config.file "$CONFIG" --trace "$NASA" --mask auto --json "$TMP/c.json" --html "$TMP/c.html" >"$TMP/c" 2>&1; rc=$?
if [ $rc -eq 0 ]; then ok "backtest with the default curve exits 0"; else bad "backtest with the default curve exits 0 (rc=$rc)" "$TMP/c"; fi
LOG=$TMP/c
check "the text shows HPA's curve, one row per target, HPA@80% = hpa_baseline" \
  bash -c "grep -q \"^HPA's curve\" '$TMP/c' && [ \$(grep -Ec '^  HPA@(50|60|70|80|90|100)% ' '$TMP/c') -eq 6 ] && grep -Eq '^  HPA@80% .*= hpa_baseline$' '$TMP/c'"
check "the text reads warmpool at equal cost and at equal unserved" \
  bash -c "grep -q '^  unserved at equal cost: warmpool' '$TMP/c' && grep -q '^  cost at equal unserved: warmpool' '$TMP/c'"
check "the JSON has the curve, its baseline equal to runs.hpa_baseline, and both readings" python3 - "$TMP/c.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
c = j["hpa_curve"]
assert [p["target"] for p in c] == [0.5, 0.6, 0.7, 0.8, 0.9, 1.0], c
assert [p["label"] for p in c if p["hpa_baseline"]] == ["HPA@80%"]
assert c[3]["summary"] == j["runs"]["hpa_baseline"]
hours = [p["summary"]["total_server_hours"] for p in c]
assert hours == sorted(hours, reverse=True), hours  # a higher target spends fewer hours
v = j["vs_hpa_curve"]
for k in ("unserved_at_equal_hours", "hours_at_equal_unserved"):
    assert v[k]["side"] in ("inside", "below", "above"), v[k]
    assert (v[k]["hpa"] is None) == (v[k]["side"] != "inside"), v[k]
assert j["warnings"] == [] and j["peak"]["served_at_max_active"], (j["warnings"], j["peak"])
PY
check "the HTML draws HPA's curve and tabulates it" bash -c "grep -q \"Against HPA's curve\" '$TMP/c.html' && grep -q 'HPA@50%' '$TMP/c.html'"

# A sweep: its Pareto front read on the curve, in the text and for every point in the JSON.
"$BIN" backtest --config.file "$CONFIG" --trace "$NASA" --mask auto --sweep 'warm_standby=0,auto' --threads 2 --json "$TMP/s.json" >"$TMP/s" 2>&1; rc=$?
LOG=$TMP/s
check "--sweep with the curve: the front read on HPA's curve" \
  bash -c "[ $rc -eq 0 ] && grep -q \"^Pareto front against HPA's curve\" '$TMP/s' && grep -Eq 'unserved at equal h: [0-9.]+x' '$TMP/s'"
check "--sweep with the curve: every point's vs_hpa_curve in the JSON" python3 - "$TMP/s.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
pts = j["sweep"]["points"]
assert len(pts) == 2 and all("vs_hpa_curve" in p for p in pts), pts
auto = pts[1]  # warm_standby=auto is the config itself: the configured run's readings
assert auto["vs_hpa_curve"] == j["vs_hpa_curve"], (auto["vs_hpa_curve"], j["vs_hpa_curve"])
PY

# One target: today's behaviour (no curve), the same baseline as the curve's 80% point.
"$BIN" backtest --config.file "$CONFIG" --trace "$NASA" --mask auto --baseline-target 0.8 --json "$TMP/one.json" >"$TMP/one" 2>&1; rc=$?
LOG=$TMP/one
check "--baseline-target 0.8 runs the baseline alone" \
  bash -c "[ $rc -eq 0 ] && ! grep -q \"HPA's curve\" '$TMP/one' && grep -Eq '^  hpa_baseline +[0-9]' '$TMP/one'"
check "--baseline-target 0.8: the same baseline, no curve in the JSON" python3 - "$TMP/one.json" "$TMP/c.json" <<'PY'
import json, sys
one, curve = (json.load(open(p)) for p in sys.argv[1:3])
assert "hpa_curve" not in one and "vs_hpa_curve" not in one
assert one["runs"] == curve["runs"], "the runs differ"
PY
"$BIN" backtest --config.file "$CONFIG" --trace "$NASA" --baseline-target 0.5,x >"$TMP/bad" 2>&1; rc=$?
LOG=$TMP/bad
check "--baseline-target with a bad value exits 1 naming the option and the value" \
  bash -c "[ $rc -eq 1 ] && grep -q -- '--baseline-target: \"x\" is not a number' '$TMP/bad'"

# A pool that cannot serve the peak says so before its numbers, in text and JSON.
"$BIN" backtest --config.file "$CONFIG" --trace "$WIKI" --baseline-target 0.8 --json "$TMP/w.json" >"$TMP/w" 2>&1; rc=$?
LOG=$TMP/w
check "a pool short of the trace's peak: the warning is the first line" \
  bash -c "[ $rc -eq 0 ] && head -1 '$TMP/w' | grep -q \"^warning: the trace's peak 2930.24 req/s needs 8683 servers at capacity_per_server 0.3375; max_active is 30: every policy leaves the excess unserved$\""
check "... and the JSON's warnings" python3 - "$TMP/w.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert len(j["warnings"]) == 1 and "needs 8683 servers" in j["warnings"][0], j["warnings"]
assert j["peak"]["servers_needed"] == 8683 and not j["peak"]["served_at_max_active"]
PY

# --fit-capacity: the peak needs N servers; said; no warning then; errors name the option.
"$BIN" backtest --config.file "$CONFIG" --trace "$WIKI" --baseline-target 0.8 --fit-capacity 20 --json "$TMP/f.json" >"$TMP/f" 2>&1; rc=$?
LOG=$TMP/f
check "--fit-capacity 20 says what it set, and the warning is gone" \
  bash -c "[ $rc -eq 0 ] && grep -q '^--fit-capacity 20: capacity_per_server 0.3375 -> 146.512 (the trace.s peak 2930.24 req/s / 20); scaled alike' '$TMP/f' && ! grep -q '^warning' '$TMP/f'"
check "--fit-capacity 20: the JSON's capacity model and peak" python3 - "$TMP/f.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert abs(j["capacity_model"]["capacity_per_server"] - 2930.24 / 20) < 0.01, j["capacity_model"]
assert j["peak"]["servers_needed"] == 20 and j["warnings"] == []
PY
for n in 0 31 -2; do
  "$BIN" backtest --config.file "$CONFIG" --trace "$WIKI" --fit-capacity "$n" >"$TMP/f$n" 2>&1; rc=$?
  LOG=$TMP/f$n
  check "--fit-capacity $n exits 1 naming the option and max_active" \
    bash -c "[ $rc -eq 1 ] && grep -q -- \"^--fit-capacity $n: must be between 1 and pool web's max_active (30)\" '$TMP/f$n'"
done
"$BIN" backtest --config.file "$CONFIG" --trace "$WIKI" --fit-capacity many >"$TMP/fm" 2>&1; rc=$?
LOG=$TMP/fm
check "--fit-capacity many exits 1 naming the option" \
  bash -c "[ $rc -eq 1 ] && grep -q -- '^--fit-capacity: \"many\" is not a whole number' '$TMP/fm'"
finish
