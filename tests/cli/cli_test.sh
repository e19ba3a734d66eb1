#!/usr/bin/env bash
# End-to-end tests of the warmpool binary: --help, --version, check-config, backtest, run with
# signals (SIGTERM stops cleanly, SIGHUP reloads; an invalid reload keeps the old config).
# Usage: cli_test.sh WARMPOOL_BIN SOURCE_DIR TRACES_DIR
set -u
source "$(dirname "$0")/lib.sh"

EXAMPLE=$SRC/examples/web.yaml

# --help and --version
"$BIN" --help >"$TMP/help" 2>&1
check "--help exits 0 and lists the subcommands" grep -q "check-config" "$TMP/help"
check "--help names the policy types" grep -q "target_tracking" "$TMP/help"
"$BIN" backtest --help >"$TMP/bhelp" 2>&1
check "backtest --help documents --trace and --json" grep -q -- "--json" "$TMP/bhelp"
check "--version prints the version" bash -c "'$BIN' --version | grep -Eq '^warmpool [0-9]+\.[0-9]+\.[0-9]+'"
"$BIN" >"$TMP/none" 2>&1; rc=$?
check "no subcommand exits non-zero" test "$rc" -ne 0

# check-config
"$BIN" check-config "$EXAMPLE" >"$TMP/cc" 2>&1; rc=$?
if [ $rc -eq 0 ]; then ok "check-config example exits 0"; else bad "check-config example exits 0 (rc=$rc)" "$TMP/cc"; fi
check "check-config names each pool's warm pool" grep -q "warm 2, max_total 24" "$TMP/cc"
"$BIN" check-config "$SRC/examples/backtest.yaml" >"$TMP/cc-auto" 2>&1
check "check-config shows warm_standby auto with its bounds and metric, the stopped tier and the surge" \
  grep -q "warm auto 0..20 on rps, stopped auto 0..10, surge on rps, max_total 60" "$TMP/cc-auto"
sed 's/^    max_active: 20$/    max_active: 1/; s/^    min_active: 2$/    min_active: 2\n    min_actve: 3/' "$EXAMPLE" \
  | sed "s#file: traces/#file: $TRACES/#" >"$TMP/broken.yaml"
"$BIN" check-config "$TMP/broken.yaml" >"$TMP/cc2" 2>&1; rc=$?
check "check-config broken copy exits 1" test "$rc" -eq 1
check "broken: names max_active with both values" grep -q "pools\[0\].max_active: must be >= min_active (2), got 1" "$TMP/cc2"
check "broken: names the unknown key" grep -q "pools\[0\].min_actve: unknown key" "$TMP/cc2"
"$BIN" check-config "$TMP/missing.yaml" >"$TMP/cc3" 2>&1; rc=$?
check "check-config missing file exits 1 naming it" bash -c "[ $rc -eq 1 ] && grep -q 'missing.yaml: cannot read' '$TMP/cc3'"

# backtest over the real NASA trace
"$BIN" backtest --config.file "$EXAMPLE" --trace "$TRACES/nasa-http-1995-07-1min.csv.gz" --json "$TMP/bt.json" >"$TMP/bt" 2>&1; rc=$?
if [ $rc -eq 0 ]; then ok "backtest NASA exits 0"; else bad "backtest NASA exits 0 (rc=$rc)" "$TMP/bt"; fi
for field in "total requests" "unserved requests" "overloaded" "active server-hours" "standby server-hours" "scale events" "direction changes"; do
  check "backtest summary prints '$field'" grep -q "$field" "$TMP/bt"
done
check "backtest JSON has the summary keys and a timeline" python3 - "$TMP/bt.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
keys = {"total_requests", "unserved_requests", "overloaded_seconds", "active_server_hours",
        "standby_server_hours", "scale_events", "direction_changes"}
s = j["summary"]
assert keys <= set(s), keys - set(s)
assert abs(s["total_requests"] - 1891672) < 1, s["total_requests"]
assert len(j["timeline"]) == s["ticks"] > 100000
assert s["scale_events"] > 0
PY
check "backtest compares warmpool, hpa_baseline and oracle" bash -c "grep -Eq '^  warmpool +[0-9]' '$TMP/bt' && grep -Eq '^  hpa_baseline +[0-9]' '$TMP/bt' && grep -Eq '^  oracle +0 ' '$TMP/bt'"
check "backtest JSON has runs.{warmpool,hpa_baseline,oracle}; summary = runs.warmpool" python3 - "$TMP/bt.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
runs = j["runs"]
assert set(runs) == {"warmpool", "hpa_baseline", "oracle"}, set(runs)
for name, r in runs.items():
    for k in ("unserved_requests", "overloaded_seconds", "active_server_hours", "standby_server_hours",
              "total_server_hours", "scale_events", "direction_changes"):
        assert k in r, (name, k)
assert j["summary"] == runs["warmpool"]
assert runs["oracle"]["unserved_requests"] == 0
assert runs["oracle"]["total_server_hours"] <= runs["warmpool"]["total_server_hours"]
assert runs["oracle"]["total_server_hours"] <= runs["hpa_baseline"]["total_server_hours"]
assert j["masked"] == []
PY

# capacity_model: a pool whose provider is not simulated can be backtested
sed -e "s#file: traces/#file: $TRACES/#" -e '/^    provider:$/,$d' "$EXAMPLE" >"$TMP/cm.yaml"
cat >>"$TMP/cm.yaml" <<'YAML'
    provider:
      type: haproxy
      socket: /run/haproxy/admin.sock
      backend: web
    capacity_model:
      capacity_per_server: 1.0
      promotion_delay: 2s
      provisioning_delay: 90s
      drain_delay: 10s
YAML
"$BIN" backtest --config.file "$TMP/cm.yaml" --trace "$TRACES/nasa-http-1995-07-1min.csv.gz" >"$TMP/cm" 2>&1; rc=$?
if [ $rc -eq 0 ]; then ok "backtest of an haproxy pool with a capacity_model exits 0"; else bad "backtest of an haproxy pool with a capacity_model (rc=$rc)" "$TMP/cm"; fi
sed -i '/^    capacity_model:$/,$d' "$TMP/cm.yaml"
"$BIN" backtest --config.file "$TMP/cm.yaml" --trace "$TRACES/nasa-http-1995-07-1min.csv.gz" >"$TMP/cm2" 2>&1; rc=$?
check "backtest without a capacity model exits 1 saying what to add" bash -c "[ $rc -eq 1 ] && grep -q 'needs a capacity model: add capacity_model' '$TMP/cm2'"

# masks: auto on the twitter stream's daily gaps, a file, errors
"$BIN" backtest --config.file "$EXAMPLE" --trace "$TRACES/twitter-stream-2021-08-1min.csv.gz" --mask auto --json "$TMP/tw.json" >"$TMP/tw" 2>&1; rc=$?
if [ $rc -eq 0 ]; then ok "backtest --mask auto exits 0"; else bad "backtest --mask auto exits 0 (rc=$rc)" "$TMP/tw"; fi
check "--mask auto masks the twitter stream's 21 daily gaps" bash -c "grep -q 'masked (not scored) .* in 21 spans' '$TMP/tw'"
check "--mask auto: JSON lists the spans, every run has masked_seconds" python3 - "$TMP/tw.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert len(j["masked"]) == 21, len(j["masked"])
for s in j["masked"]:
    assert 28 * 60 <= s["end"] - s["start"] <= 29 * 60, s
for r in j["runs"].values():
    assert r["masked_seconds"] == sum(s["end"] - s["start"] for s in j["masked"]), r["masked_seconds"]
PY
printf 'start,end
# the NASA outage on 13 July
805679340,805680660
' >"$TMP/mask.csv"
"$BIN" backtest --config.file "$EXAMPLE" --trace "$TRACES/nasa-http-1995-07-1min.csv.gz" --mask "$TMP/mask.csv" >"$TMP/mf" 2>&1; rc=$?
check "--mask FILE masks its spans" bash -c "[ $rc -eq 0 ] && grep -q 'masked (not scored)  22 min in 1 span$' '$TMP/mf'"
printf '10,5
' >"$TMP/badmask.csv"
"$BIN" backtest --config.file "$EXAMPLE" --trace "$TRACES/nasa-http-1995-07-1min.csv.gz" --mask "$TMP/badmask.csv" >"$TMP/mb" 2>&1; rc=$?
check "--mask with a bad file exits 1 naming the line" bash -c "[ $rc -eq 1 ] && grep -q -- '--mask: .*badmask.csv:1: end 5 must be after start 10' '$TMP/mb'"

# sweep
"$BIN" backtest --config.file "$EXAMPLE" --trace "$TRACES/nasa-http-1995-07-1min.csv.gz" --sweep 'target=0.6,0.8;warm_standby=0,2' --threads 2 --json "$TMP/sw.json" >"$TMP/sw" 2>&1; rc=$?
if [ $rc -eq 0 ]; then ok "backtest --sweep exits 0"; else bad "backtest --sweep exits 0 (rc=$rc)" "$TMP/sw"; fi
check "--sweep prints every point and the Pareto front" bash -c "grep -q 'sweep: 4 points on 2 threads' '$TMP/sw' && grep -q 'Pareto front' '$TMP/sw'"
check "--sweep JSON has the points, their settings and the front" python3 - "$TMP/sw.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
s = j["sweep"]
assert s["axes"] == {"target": ["0.6", "0.8"], "warm_standby": ["0", "2"]}, s["axes"]
assert len(s["points"]) == 4 and s["pareto"]
assert [p["settings"] for p in s["points"]][3] == {"target": "0.8", "warm_standby": "2"}
# the point equal to the config (target 0.8, 2 warm) gives the configured run's figures
p = s["points"][3]["summary"]
assert p["unserved_requests"] == j["summary"]["unserved_requests"], (p, j["summary"])
assert p["total_server_hours"] == j["summary"]["total_server_hours"]
assert all(s["points"][i]["pareto"] for i in s["pareto"])
PY
"$BIN" backtest --config.file "$EXAMPLE" --trace "$TRACES/nasa-http-1995-07-1min.csv.gz" --sweep 'targt=1' >"$TMP/sw2" 2>&1; rc=$?
check "--sweep with an unknown key exits 1 naming it" bash -c "[ $rc -eq 1 ] && grep -q -- '--sweep targt=1: unknown key' '$TMP/sw2'"

# HTML report: self-contained (no script, nothing fetched), with the charts and the table
"$BIN" backtest --config.file "$EXAMPLE" --trace "$TRACES/nasa-http-1995-07-1min.csv.gz" --mask auto --html "$TMP/report.html" --sweep 'warm_standby=0,2' >"$TMP/html" 2>&1; rc=$?
if [ $rc -eq 0 ]; then ok "backtest --html exits 0"; else bad "backtest --html exits 0 (rc=$rc)" "$TMP/html"; fi
check "--html writes a self-contained page with SVG charts and the summary table" python3 - "$TMP/report.html" <<'PY'
import re, sys
h = open(sys.argv[1]).read()
assert h.startswith("<!DOCTYPE html>") and h.rstrip().endswith("</html>")
assert h.count("<svg") >= 5, h.count("<svg")  # overview, zoom, 2 cumulative, sweep scatter
assert "<script" not in h.lower()
refs = re.findall(r'(?:src|href)\s*=\s*"([^"]*)"', h) + re.findall(r"url\(", h)
assert not refs, refs
assert set(re.findall(r"https?://[^\s\"<]+", h)) <= {"http://www.w3.org/2000/svg"}
for text in ("warmpool", "HPA baseline", "oracle", "Pareto", "total server-hours"):
    assert text in h, text
assert len(h) < 3_000_000, len(h)
PY
if command -v chromium >/dev/null; then
  check "the HTML report renders in headless Chromium" "$SRC/scripts/check-report" "$TMP/report.html" "$TMP/report.png"
fi

"$BIN" backtest --config.file "$EXAMPLE" --trace "$TMP/nope.csv" >"$TMP/bt2" 2>&1; rc=$?
check "backtest with a missing trace exits 1 naming --trace" bash -c "[ $rc -eq 1 ] && grep -q -- '--trace: .*nope.csv: cannot read' '$TMP/bt2'"

# run: dry-run, SIGTERM, SIGHUP reload (valid and invalid)
sed "s#file: traces/#file: $TRACES/#; s#interval: 15s#interval: 200ms#; s#speed: 1#speed: 600#" "$EXAMPLE" >"$TMP/run.yaml"
"$BIN" --log.level debug run --config.file "$TMP/run.yaml" --dry-run --web.listen-address 127.0.0.1:0 >"$TMP/run.log" 2>&1 &
RUN=$!; PIDS+=("$RUN")
check "run logs that it started" wait_for 10 grep -q "warmpool started" "$TMP/run.log"
check "run logs decisions with pool, current, desired and reason" wait_for 10 grep -Eq "decision pool=web current=[0-9]+ desired=[0-9]+ .*reason=" "$TMP/run.log"
check "run in dry-run marks its results" wait_for 10 grep -q "dry_run=true" "$TMP/run.log"
cp "$TMP/run.yaml" "$TMP/run.good"
sed -i 's/max_active: 20/max_active: 0/' "$TMP/run.yaml"
kill -HUP "$RUN"
check "invalid reload is rejected and named" wait_for 10 grep -q "reload rejected, keeping the running config.*max_active" "$TMP/run.log"
check "still running after an invalid reload" kill -0 "$RUN"
cp "$TMP/run.good" "$TMP/run.yaml"; sed -i 's/max_active: 20/max_active: 12/' "$TMP/run.yaml"
kill -HUP "$RUN"
check "valid reload is applied" wait_for 10 grep -q "config reloaded" "$TMP/run.log"
kill -TERM "$RUN"
if wait_for 10 bash -c "! kill -0 $RUN 2>/dev/null"; then wait "$RUN"; rc=$?; else rc=124; fi
check "SIGTERM stops cleanly with exit 0" test "$rc" -eq 0
check "stop is logged" grep -q "warmpool stopped" "$TMP/run.log"

"$BIN" run --config.file "$TMP/run.good" --log.format json --max-ticks 3 --web.listen-address off >"$TMP/json.log" 2>&1; rc=$?
check "run --max-ticks 3 exits 0" test "$rc" -eq 0
check "JSON logs are one valid object per line with the decision fields" python3 - "$TMP/json.log" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert lines, "no log lines"
assert all({"time", "level", "msg"} <= set(l) for l in lines)
starts = [l for l in lines if l["msg"] == "warmpool started"]
assert starts and starts[0]["pools"] == 1
PY

"$BIN" run --config.file "$TMP/broken.yaml" >"$TMP/run2.log" 2>&1; rc=$?
check "run with an invalid config exits 1 naming the field" bash -c "[ $rc -eq 1 ] && grep -q 'max_active' '$TMP/run2.log'"

finish
