#!/usr/bin/env bash
# The demo's "cloud": starts or stops a backend process for a Warmpool slot.
# Called by Warmpool's exec provider with WARMPOOL_SERVER and WARMPOOL_ADDRESS set.
# Usage: machine.sh start|stop   (state lives in $DEMO_STATE, set by run_demo.py)
# Idempotent, and safe to run twice at once for the same slot (a lock per slot), as Warmpool's exec
# commands must be: after a restart Warmpool runs again a command whose outcome it did not see, and the
# last process's command may still be running.
set -euo pipefail
: "${WARMPOOL_SERVER:?}" "${DEMO_STATE:?}"
pidfile="$DEMO_STATE/$WARMPOOL_SERVER.pid"
exec 9>"$DEMO_STATE/$WARMPOOL_SERVER.lock"
flock 9
case "$1" in
  start)
    port=${WARMPOOL_ADDRESS##*:}
    if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then exit 0; fi
    nohup python3 "$(dirname "$0")/backend.py" --port "$port" --name "$WARMPOOL_SERVER" \
      --delay-ms "${DEMO_DELAY_MS:-50}" --max-conns "${DEMO_MAX_CONNS:-4}" \
      >>"$DEMO_STATE/$WARMPOOL_SERVER.log" 2>&1 9>&- &  # the machine does not hold the lock
    echo $! >"$pidfile"
    # Ready when it answers its health check (a real machine would boot here).
    for _ in $(seq 1 50); do
      if curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$port/health"; then exit 0; fi
      sleep 0.1
    done
    echo "backend $WARMPOOL_SERVER did not answer on port $port" >&2
    exit 1 ;;
  stop)
    if [ -f "$pidfile" ]; then kill "$(cat "$pidfile")" 2>/dev/null || true; rm -f "$pidfile"; fi ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
