#!/usr/bin/env bash
# A soak: a day of recorded load (NASA's July 1995 trace) replayed through `warmpool run` in MINUTES of
# wall time, 10 pools ticking every second with a state file, while wrk loads the REST API
# (GET /api/v1/pools and /metrics, without pause) and an operator sets and deletes an override every
# second. Samples the controller's RSS, open descriptors and threads every 10 s, and compares the end
# with the end of the warm-up (the first fifth): fails when memory grew by more than 10% + 4 MiB or
# descriptors or threads grew at all. Prints the samples and a summary line.
# Usage: bench/soak.sh [MINUTES=15]
#   WARMPOOL_BIN=path/to/warmpool bench/soak.sh   measures that binary (no build)
set -euo pipefail
cd "$(dirname "$0")/.."
MINUTES=${1:-15}
BIN=${WARMPOOL_BIN:-build/controller/warmpool}
[ -n "${WARMPOOL_BIN:-}" ] || scripts/build >/dev/null
command -v wrk >/dev/null || { echo "soak: wrk is missing: run scripts/install-deps" >&2; exit 1; }
SECONDS_TOTAL=$((MINUTES * 60))
SPEED=$(awk -v s="$SECONDS_TOTAL" 'BEGIN {printf "%g", 86400 / s}')  # a day in the run
TMP=$(mktemp -d)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$TMP"' EXIT
TRACES=$(realpath examples/traces)
TOKEN=soak-admin-token-0123456789
printf 'tokens:\n  - {name: soak, role: admin, token: "%s"}\n' "$TOKEN" >"$TMP/tokens.yaml"
chmod 600 "$TMP/tokens.yaml"
{
  echo "global: {interval: 1s, log_level: warn}"
  echo "web: {tokens_file: tokens.yaml}"
  echo "state: {file: state.json}"
  echo "metrics_source: {type: trace, file: $TRACES/nasa-http-1995-07-1min.csv.gz, speed: $SPEED}"
  echo "pools:"
  for i in $(seq 1 10); do
    cat <<EOT
  - name: pool$i
    min_active: 2
    max_active: 20
    warm_standby: auto
    metrics: [{name: rps}]
    policies: [{type: target_tracking, metric: rps, target_per_server: 0.3}]
    behavior: {scale_down: {stabilization_window: 60s}}
    provider: {type: simulated, initial_active: 2, initial_standby: 2, provisioning_delay: 20s}
EOT
  done
} >"$TMP/warmpool.yaml"
"$BIN" run --config.file "$TMP/warmpool.yaml" --web.listen-address 127.0.0.1:0 --log.level info >"$TMP/log" 2>&1 &
PID=$!
PIDS+=("$PID")
for _ in $(seq 1 50); do grep -q "api listening" "$TMP/log" 2>/dev/null && break; sleep 0.1; done
PORT=$(sed -n 's/.*api listening address=127.0.0.1:\([0-9]*\).*/\1/p' "$TMP/log")
[ -n "$PORT" ] || { echo "soak: warmpool did not start:"; cat "$TMP/log"; exit 1; } >&2
URL="http://127.0.0.1:$PORT"
AUTH="Authorization: Bearer $TOKEN"
wrk -t1 -c8 -d"${SECONDS_TOTAL}s" -H "$AUTH" "$URL/api/v1/pools" >"$TMP/wrk-pools" 2>&1 &
PIDS+=($!)
wrk -t1 -c4 -d"${SECONDS_TOTAL}s" "$URL/metrics" >"$TMP/wrk-metrics" 2>&1 &
PIDS+=($!)
(
  i=0
  while kill -0 "$PID" 2>/dev/null; do
    i=$((i + 1))
    curl -s -o /dev/null -X PUT -H "$AUTH" "$URL/api/v1/pools/pool$((i % 10 + 1))/override" \
      -d "{\"min_active\": $((i % 5 + 2)), \"ttl\": \"30s\", \"reason\": \"soak $i\"}"
    curl -s -o /dev/null -X DELETE -H "$AUTH" "$URL/api/v1/pools/pool$(((i + 5) % 10 + 1))/override"
    sleep 1
  done
) &
PIDS+=($!)

sample() {  # seconds rss_kib fds threads
  local rss fds thr
  rss=$(awk '/^VmRSS/ {print $2}' "/proc/$PID/status")
  thr=$(awk '/^Threads/ {print $2}' "/proc/$PID/status")
  fds=$(find "/proc/$PID/fd" -mindepth 1 -maxdepth 1 | wc -l)
  echo "$1 $rss $fds $thr"
}
echo "soak: $MINUTES min, a day of trace at speed $SPEED, 10 pools, wrk on /api/v1/pools and /metrics, overrides every second"
echo "seconds rss_kib fds threads"
start=$(date +%s)
while :; do
  now=$(($(date +%s) - start))
  kill -0 "$PID" 2>/dev/null || { echo "soak: warmpool died:" >&2; tail -20 "$TMP/log" >&2; exit 1; }
  sample "$now" | tee -a "$TMP/samples"
  [ "$now" -ge "$SECONDS_TOTAL" ] && break
  sleep 10
done
ticks=$(curl -s "$URL/metrics" | awk '/^warmpool_evaluation_duration_seconds_count/ {c += $2} END {print c}')
sleep 2  # wrk prints its summary at its end
reqs=$(awk '/requests in/ {s += $1} END {print s}' "$TMP/wrk-pools" "$TMP/wrk-metrics")
awk -v warm=$((SECONDS_TOTAL / 5)) -v ticks="$ticks" -v reqs="$reqs" '
  $1 >= warm && !w {w = 1; rss0 = $2; fd0 = $3; th0 = $4; t0 = $1}
  w {n++; sx += $1; sy += $2; sxx += $1 * $1; sxy += $1 * $2; rss1 = $2; fd1 = $3; th1 = $4; t1 = $1
     if ($2 > peak) peak = $2}
  END {
    slope = (n > 1) ? (n * sxy - sx * sy) / (n * sxx - sx * sx) * 3600 : 0
    printf "after warm-up (%d s): rss %d KiB -> %d KiB (peak %d), slope %+.0f KiB/h; fds %d -> %d; threads %d -> %d; %d pool ticks, %d API requests\n",
           t0, rss0, rss1, peak, slope, fd0, fd1, th0, th1, ticks, reqs
    bad = (rss1 > rss0 * 1.10 + 4096) || (fd1 > fd0) || (th1 > th0)
    print bad ? "soak: FAILED (growth after warm-up)" : "soak: flat"
    exit bad
  }' "$TMP/samples"
