#!/usr/bin/env bash
# scripts/gen-trace (issue 17): every kind twice with the same seed writes the same bytes, another seed
# other bytes; the output is a trace `warmpool backtest` reads (one backtest on each kind, at common
# ground); bad arguments exit non-zero.
# Usage: gen_trace_test.sh WARMPOOL_BIN SOURCE_DIR TRACES_DIR
set -u
source "$(dirname "$0")/lib.sh"

GEN=$SRC/scripts/gen-trace
for kind in flash growth campaign ecommerce; do
  python3 "$GEN" --kind $kind --seed 7 --out "$TMP/$kind-a.csv.gz" 2>"$TMP/$kind.log"; rc=$?
  python3 "$GEN" --kind $kind --seed 7 --out "$TMP/$kind-b.csv.gz" 2>>"$TMP/$kind.log"
  python3 "$GEN" --kind $kind --seed 8 --out "$TMP/$kind-c.csv.gz" 2>>"$TMP/$kind.log"
  LOG=$TMP/$kind.log
  check "gen-trace $kind exits 0" test $rc -eq 0
  check "gen-trace $kind: the same seed, the same bytes" cmp -s "$TMP/$kind-a.csv.gz" "$TMP/$kind-b.csv.gz"
  check "gen-trace $kind: another seed, other bytes" bash -c "! cmp -s '$TMP/$kind-a.csv.gz' '$TMP/$kind-c.csv.gz'"
done
check "gen-trace writes examples/traces' format: the header, a fixed step, whole counts" python3 - "$TMP" <<'PY'
import gzip, sys
steps = {"flash": 60, "growth": 60, "campaign": 60, "ecommerce": 3600}
days = {"flash": 7, "growth": 30, "campaign": 14, "ecommerce": 56}
for kind, step in steps.items():
    lines = gzip.open(f"{sys.argv[1]}/{kind}-a.csv.gz", "rt").read().splitlines()
    assert lines[0] == "timestamp,requests", (kind, lines[0])
    rows = [tuple(map(int, l.split(","))) for l in lines[1:]]
    assert len(rows) == days[kind] * 86400 // step, (kind, len(rows))
    assert all(b[0] - a[0] == step for a, b in zip(rows, rows[1:])), kind
    assert all(c >= 0 for _, c in rows) and max(c for _, c in rows) > 0, kind
# The flash crowd: load x10 or more from one minute to the next, once, and nothing like it before.
rows = [int(l.split(",")[1]) for l in gzip.open(f"{sys.argv[1]}/flash-a.csv.gz", "rt").read().splitlines()[1:]]
jumps = [i for i in range(1, len(rows)) if rows[i] >= 8 * max(rows[i - 1], 1)]
assert len(jumps) == 1, jumps
assert max(rows[:jumps[0]]) * 5 < rows[jumps[0]], "the flash crowd was seen before"
# Growth: 3% a day, the last week about 1.03^21 times the first.
rows = [int(l.split(",")[1]) for l in gzip.open(f"{sys.argv[1]}/growth-a.csv.gz", "rt").read().splitlines()[1:]]
ratio = sum(rows[-7 * 1440:]) / sum(rows[:7 * 1440])
assert abs(ratio / 1.03 ** 23 - 1) < 0.05, ratio
PY
python3 "$GEN" --kind storm --seed 1 --out "$TMP/x.csv.gz" >"$TMP/bad" 2>&1; rc=$?
check "gen-trace with an unknown kind exits 2 naming it" bash -c "[ $rc -eq 2 ] && grep -q \"invalid choice: 'storm'\" '$TMP/bad'"
python3 "$GEN" --kind flash --seed 1 --out "$TMP/no/such/dir.csv.gz" >"$TMP/bad2" 2>&1; rc=$?
check "gen-trace to a directory that does not exist exits 1 naming --out" bash -c "[ $rc -eq 1 ] && grep -q -- '--out .*no/such/dir.csv.gz' '$TMP/bad2'"

# A backtest on each, on common ground: the flash crowd is unserved by every reactive policy.
for kind in flash growth campaign ecommerce; do
  "$BIN" backtest --config.file "$SRC/examples/backtest.yaml" --trace "$TMP/$kind-a.csv.gz" --fit-capacity 20 \
    --json "$TMP/$kind.json" >"$TMP/$kind.bt" 2>&1; rc=$?
  LOG=$TMP/$kind.bt
  check "backtest on the generated $kind trace exits 0 with HPA's curve" \
    bash -c "[ $rc -eq 0 ] && grep -q \"^HPA's curve\" '$TMP/$kind.bt' && grep -q '^--fit-capacity 20: ' '$TMP/$kind.bt'"
done
check "the flash crowd leaves requests unserved for warmpool and the whole HPA curve, none for the oracle" python3 - "$TMP/flash.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert j["runs"]["warmpool"]["unserved_requests"] > 0
assert all(p["summary"]["unserved_requests"] > 0 for p in j["hpa_curve"])
assert j["runs"]["oracle"]["unserved_requests"] == 0
PY
finish
