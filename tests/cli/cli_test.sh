#!/usr/bin/env bash
# End-to-end tests of the warmpool binary: --help, --version, check-config, backtest, run with
# signals (SIGTERM stops cleanly, SIGHUP reloads; an invalid reload keeps the old config).
# Usage: cli_test.sh WARMPOOL_BIN SOURCE_DIR TRACES_DIR
set -u
BIN=$(realpath "$1") SRC=$(realpath "$2") TRACES=$(realpath "$3")
TMP=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$TMP"; }
trap cleanup EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   - $1"; }
bad() { fail=$((fail + 1)); echo "FAIL - $1"; [ -n "${2:-}" ] && sed 's/^/       /' "$2" | head -20; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }
wait_for() {  # wait_for SECONDS CMD...: poll every 0.1 s
  local deadline=$(( $(date +%s%N) + $1 * 1000000000 )); shift
  until "$@"; do [ "$(date +%s%N)" -ge "$deadline" ] && return 1; sleep 0.1; done
}

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
sed 's/^    max_active: 20$/    max_active: 1/; s/^    min_active: 2$/    min_active: 2\n    min_actve: 3/' "$EXAMPLE" \
  | sed "s#file: ../../shared/traces#file: $TRACES#" >"$TMP/broken.yaml"
"$BIN" check-config "$TMP/broken.yaml" >"$TMP/cc2" 2>&1; rc=$?
check "check-config broken copy exits 1" test "$rc" -eq 1
check "broken: names max_active with both values" grep -q "pools\[0\].max_active: must be >= min_active (2), got 1" "$TMP/cc2"
check "broken: names the unknown key" grep -q "pools\[0\].min_actve: unknown key" "$TMP/cc2"
"$BIN" check-config "$TMP/missing.yaml" >"$TMP/cc3" 2>&1; rc=$?
check "check-config missing file exits 1 naming it" bash -c "[ $rc -eq 1 ] && grep -q 'missing.yaml: cannot read' '$TMP/cc3'"

# backtest over the real NASA trace
"$BIN" backtest --config.file "$EXAMPLE" --trace "$TRACES/nasa-http-1995-07-1min.csv" --json "$TMP/bt.json" >"$TMP/bt" 2>&1; rc=$?
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
"$BIN" backtest --config.file "$EXAMPLE" --trace "$TMP/nope.csv" >"$TMP/bt2" 2>&1; rc=$?
check "backtest with a missing trace exits 1 naming --trace" bash -c "[ $rc -eq 1 ] && grep -q -- '--trace: .*nope.csv: cannot read' '$TMP/bt2'"

# run: dry-run, SIGTERM, SIGHUP reload (valid and invalid)
sed "s#file: ../../shared/traces#file: $TRACES#; s#interval: 15s#interval: 200ms#; s#speed: 1#speed: 600#" "$EXAMPLE" >"$TMP/run.yaml"
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

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
