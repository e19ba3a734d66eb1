# Shared by the command-line tests: sourced after `set -u` with the arguments
# WARMPOOL_BIN SOURCE_DIR TRACES_DIR. Sets BIN, SRC, TRACES, TMP (removed on exit) and PIDS (killed
# on exit), and provides ok/bad/check/wait_for and finish (prints the closing line, sets the status).
BIN=$(realpath "$1") SRC=$(realpath "$2") TRACES=$(realpath "$3")
TMP=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$TMP"; }
trap cleanup EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   - $1"; }
bad() { fail=$((fail + 1)); echo "FAIL - $1"; [ -n "${2:-}" ] && [ -f "$2" ] && tail -20 "$2" | sed 's/^/       /'; }
# check NAME CMD...: on failure shows the end of $LOG when the test has set one.
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name" "${LOG:-}"; fi; }
wait_for() {  # wait_for SECONDS CMD...: poll every 0.1 s
  local deadline=$(( $(date +%s%N) + $1 * 1000000000 )); shift
  until "$@"; do [ "$(date +%s%N)" -ge "$deadline" ] && return 1; sleep 0.1; done
}
finish() { echo "$pass passed, $fail failed"; [ "$fail" -eq 0 ]; }
