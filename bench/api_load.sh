#!/usr/bin/env bash
# Load on the REST API while the control loop runs: wrk against GET /api/v1/pools (10 pools,
# ticking every second), and the loop's evaluation time per pool from /metrics, idle vs under load.
# Usage: bench/api_load.sh [SECONDS=15] [CONNECTIONS=32]
#   WARMPOOL_BIN=path/to/warmpool bench/api_load.sh   measures that binary (no build), e.g. an older
#                                                     one, to alternate with the current build
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${1:-15} CONNS=${2:-32}
BIN=${WARMPOOL_BIN:-build/controller/warmpool}
[ -n "${WARMPOOL_BIN:-}" ] || scripts/build >/dev/null
TMP=$(mktemp -d)
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$TMP"' EXIT
TRACES=$(realpath examples/traces)
{
  echo "global: {interval: 1s, log_level: warn}"
  echo "metrics_source: {type: trace, file: $TRACES/nasa-http-1995-07-1min.csv.gz, speed: 600}"
  echo "pools:"
  for i in $(seq 1 10); do
    cat <<EOT
  - name: pool$i
    min_active: 2
    max_active: 20
    warm_standby: 2
    metrics: [{name: rps}]
    policies: [{type: target_tracking, metric: rps, target_per_server: 0.3}]
    provider: {type: simulated, initial_active: 2, initial_standby: 2}
EOT
  done
} >"$TMP/warmpool.yaml"
"$BIN" --log.level info run --config.file "$TMP/warmpool.yaml" --web.listen-address 127.0.0.1:0 >"$TMP/log" 2>&1 &
PID=$!
for _ in $(seq 1 50); do grep -q "api listening" "$TMP/log" 2>/dev/null && break; sleep 0.1; done
PORT=$(sed -n 's/.*api listening address=127.0.0.1:\([0-9]*\).*/\1/p' "$TMP/log")
[ -n "$PORT" ] || { echo "api_load: warmpool did not start:"; cat "$TMP/log"; exit 1; } >&2
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/-/ready" >/dev/null && break; sleep 0.2; done
eval_mean() {  # mean evaluation seconds per pool tick so far, summed over pools
  curl -s "http://127.0.0.1:$PORT/metrics" | awk '
    /^warmpool_evaluation_duration_seconds_sum/ {s += $2} /^warmpool_evaluation_duration_seconds_count/ {c += $2}
    END {printf "%.9f %d\n", s, c}'
}
read -r s0 c0 < <(eval_mean); sleep "$DUR"; read -r s1 c1 < <(eval_mean)
idle=$(awk -v a="$s0" -v b="$s1" -v c="$c0" -v d="$c1" 'BEGIN {printf "%.1f", (b - a) / (d - c) * 1e6}')
echo "idle: evaluation $idle us per pool tick over $((c1 - c0)) ticks"
read -r s0 c0 < <(eval_mean)
wrk -t2 -c"$CONNS" -d"${DUR}s" --latency "http://127.0.0.1:$PORT/api/v1/pools" | tee "$TMP/wrk"
read -r s1 c1 < <(eval_mean)
loaded=$(awk -v a="$s0" -v b="$s1" -v c="$c0" -v d="$c1" 'BEGIN {printf "%.1f", (b - a) / (d - c) * 1e6}')
echo "under load: evaluation $loaded us per pool tick over $((c1 - c0)) ticks (idle: $idle us)"
echo "$(grep 'Requests/sec' "$TMP/wrk") ; p99 $(awk '/ 99%/ {print $2}' "$TMP/wrk")"
