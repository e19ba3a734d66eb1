#!/usr/bin/env bash
# A soak: a day of recorded load (NASA's July 1995 trace) replayed through `warmpool run` in MINUTES of
# wall time (speed 1440 / MINUTES), 10 simulated pools ticking every second with a state file, while
# wrk loads the REST API without pause (GET /api/v1/pools, 8 connections, and /metrics, 4) and an
# operator sets and deletes an override every second. The controller's RSS, open descriptors and threads
# are sampled every 10 s, every sample under the full load (wrk is stopped after the last one). The first
# fifth is warm-up. Reports the samples, warm-up vs end, and the slopes after warm-up (KiB and
# descriptors per hour, least squares). Fails when warmpool dies, when RSS at the end exceeds the
# warm-up's by more than 10% + 4 MiB, or when descriptors or threads grew: the lowest of the last six
# samples above the highest of the first six after warm-up.
# Usage: bench/soak.sh [MINUTES=15] [--warmpool PATH]   (default: build/controller/warmpool, built first)
#   WARMPOOL_BIN=PATH bench/soak.sh                      the same as --warmpool PATH
set -euo pipefail
cd "$(dirname "$0")/.."
MINUTES=15
BIN=${WARMPOOL_BIN:-}
while [ $# -gt 0 ]; do
  case "$1" in
    --warmpool) BIN=${2:?--warmpool needs a path}; shift 2 ;;
    --warmpool=*) BIN=${1#*=}; shift ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *[!0-9]*|'') echo "soak: MINUTES must be a whole number, got '$1'" >&2; exit 2 ;;
    *) MINUTES=$1; shift ;;
  esac
done
[ "$MINUTES" -ge 3 ] || { echo "soak: MINUTES must be at least 3 (the checks need 12 samples after the warm-up)" >&2; exit 2; }
if [ -z "$BIN" ]; then scripts/build >/dev/null; BIN=build/controller/warmpool; fi
[ -x "$BIN" ] || { echo "soak: no warmpool binary at $BIN" >&2; exit 2; }
command -v wrk >/dev/null || { echo "soak: wrk is missing: run scripts/install-deps" >&2; exit 2; }
SECONDS_TOTAL=$((MINUTES * 60))
SPEED=$(awk -v s="$SECONDS_TOTAL" 'BEGIN {printf "%g", 86400 / s}')  # a day in the run
TMP=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
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
# wrk runs past the last sample and is stopped after it (SIGINT: it prints its summary).
wrk -t1 -c8 -d"$((SECONDS_TOTAL + 120))s" -H "$AUTH" "$URL/api/v1/pools" >"$TMP/wrk-pools" 2>&1 &
WRK1=$!
PIDS+=("$WRK1")
wrk -t1 -c4 -d"$((SECONDS_TOTAL + 120))s" "$URL/metrics" >"$TMP/wrk-metrics" 2>&1 &
WRK2=$!
PIDS+=("$WRK2")
(
  i=0
  while kill -0 "$PID" 2>/dev/null; do
    i=$((i + 1))
    curl -s -o /dev/null --noproxy '*' -X PUT -H "$AUTH" "$URL/api/v1/pools/pool$((i % 10 + 1))/override" \
      -d "{\"min_active\": $((i % 5 + 2)), \"ttl\": \"30s\", \"reason\": \"soak $i\"}"
    curl -s -o /dev/null --noproxy '*' -X DELETE -H "$AUTH" "$URL/api/v1/pools/pool$(((i + 5) % 10 + 1))/override"
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
  kill -0 "$PID" 2>/dev/null || { echo "soak: FAILED: warmpool died:" >&2; tail -20 "$TMP/log" >&2; exit 1; }
  sample "$now" | tee -a "$TMP/samples"
  [ "$now" -ge "$SECONDS_TOTAL" ] && break
  sleep 10
done
ticks=$(curl -s --noproxy '*' "$URL/metrics" | awk '/^warmpool_evaluation_duration_seconds_count/ {c += $2} END {print c + 0}')
kill -INT "$WRK1" "$WRK2" 2>/dev/null || true
wait "$WRK1" "$WRK2" 2>/dev/null || true
reqs=$(awk '/requests in/ {s += $1} END {print s + 0}' "$TMP/wrk-pools" "$TMP/wrk-metrics")
non2xx=$(awk '/Non-2xx/ {s += $NF} END {print s + 0}' "$TMP/wrk-pools" "$TMP/wrk-metrics")
errors=$(awk '/Socket errors/ {print}' "$TMP/wrk-pools" "$TMP/wrk-metrics" | tr '\n' ' ')
echo "wrk: $reqs API requests, $non2xx not 2xx${errors:+; $errors}"
awk -v warm=$((SECONDS_TOTAL / 5)) -v ticks="$ticks" -v reqs="$reqs" -v minutes="$MINUTES" '
  $1 >= warm {n++; t[n] = $1; rss[n] = $2; fd[n] = $3; th[n] = $4}
  END {
    if (n < 12) {print "soak: FAILED: too few samples after warm-up (" n ")"; exit 1}
    for (i = 1; i <= n; i++) {
      sx += t[i]; sy += rss[i]; sf += fd[i]; sxx += t[i] * t[i]; sxy += t[i] * rss[i]; sxf += t[i] * fd[i]
      if (rss[i] > peak) peak = rss[i]
    }
    d = n * sxx - sx * sx
    slope = (n * sxy - sx * sy) / d * 3600; fslope = (n * sxf - sx * sf) / d * 3600
    fd_head = th_head = 0; fd_tail = th_tail = 1e9
    for (i = 1; i <= 6; i++) {
      if (fd[i] > fd_head) fd_head = fd[i]; if (th[i] > th_head) th_head = th[i]
      if (fd[n - i + 1] < fd_tail) fd_tail = fd[n - i + 1]; if (th[n - i + 1] < th_tail) th_tail = th[n - i + 1]
    }
    bound = rss[1] * 1.10 + 4096
    printf "after warm-up (%d s) -> end (%d s): rss %d -> %d KiB (peak %d, bound %d), slope %+.0f KiB/h; " \
           "fds %d -> %d (slope %+.1f/h); threads %d -> %d; %d pool ticks, %d API requests in %d min\n",
           t[1], t[n], rss[1], rss[n], peak, bound, slope, fd[1], fd[n], fslope, th[1], th[n], ticks, reqs, minutes
    bad = 0
    if (rss[n] > bound) {print "soak: FAILED: RSS grew beyond 10% + 4 MiB after warm-up"; bad = 1}
    if (fd_tail > fd_head) {print "soak: FAILED: descriptors grew (" fd_head " at most early, " fd_tail " at least late)"; bad = 1}
    if (th_tail > th_head) {print "soak: FAILED: threads grew (" th_head " at most early, " th_tail " at least late)"; bad = 1}
    if (!bad) print "soak: flat"
    exit bad
  }' "$TMP/samples"
