#!/usr/bin/env bash
# ctest package.systemd_verify: packaging/systemd/warmpool.service passes `systemd-analyze verify` with
# nothing to say, and `systemd-analyze security` rates its exposure at most MAX_EXPOSURE (of 10).
# verify needs every Exec*= program to exist: a copy of the unit in a temp dir points at the build's
# binary in place of /usr/bin/warmpool (curl and kill must be installed: scripts/install-deps).
# Usage: systemd_verify.sh WARMPOOL_BIN SOURCE_DIR     (exit 77: skipped, with the reason)
set -u
BIN=$(realpath "$1") SRC=$(realpath "$2")
MAX_EXPOSURE=${MAX_EXPOSURE:-2.0}
UNIT=$SRC/packaging/systemd/warmpool.service
command -v systemd-analyze >/dev/null || { echo "SKIP: systemd-analyze not installed (Debian package systemd)"; exit 77; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail=0
sed "s|/usr/bin/warmpool|$BIN|g" "$UNIT" >"$TMP/warmpool.service"
grep -q "^ExecStart=$BIN run" "$TMP/warmpool.service" || { echo "FAIL - no ExecStart=/usr/bin/warmpool run in $UNIT"; exit 1; }

# --recursive-errors=no: the exit status is the unit's own; lines about other units of this machine
# (pulled in by its dependencies) are shown but do not count.
systemd-analyze verify --recursive-errors=no --man=no "$TMP/warmpool.service" >"$TMP/verify.out" 2>&1
rc=$?
ours=$(grep -E 'warmpool\.service' "$TMP/verify.out")
if [ "$rc" -ne 0 ] || [ -n "$ours" ]; then
  echo "FAIL - systemd-analyze verify (exit $rc):"; sed 's/^/       /' "$TMP/verify.out"; fail=1
else
  echo "ok   - systemd-analyze verify accepts the unit"
  [ -s "$TMP/verify.out" ] && sed 's/^/       (other units) /' "$TMP/verify.out"
fi

# The checker must catch a mistake: a misspelt key and a missing program each fail verify.
mkdir -p "$TMP/bad1" "$TMP/bad2"
sed 's/^ProtectHome=/ProtecHome=/' "$TMP/warmpool.service" >"$TMP/bad1/warmpool.service"
sed "s|^ExecStart=$BIN|ExecStart=/nonexistent/warmpool|" "$TMP/warmpool.service" >"$TMP/bad2/warmpool.service"
caught=1
for b in bad1 bad2; do
  if systemd-analyze verify --recursive-errors=no --man=no "$TMP/$b/warmpool.service" >"$TMP/$b.out" 2>&1; then
    echo "FAIL - verify did not notice a broken unit ($b)"; caught=0; fail=1
  fi
done
[ "$caught" -eq 1 ] && echo "ok   - verify refuses a misspelt key and a missing program"

# Hardening: the unit's own exposure score (offline: no running systemd needed).
score=$(systemd-analyze security --offline=true "$TMP/warmpool.service" 2>/dev/null \
        | sed -n 's/.*Overall exposure level for warmpool.service: \([0-9.]*\).*/\1/p')
if [ -z "$score" ]; then
  echo "FAIL - systemd-analyze security gave no exposure level"; fail=1
elif awk -v s="$score" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(s <= m) }'; then
  echo "ok   - exposure level $score <= $MAX_EXPOSURE (systemd-analyze security)"
else
  echo "FAIL - exposure level $score > $MAX_EXPOSURE:"
  systemd-analyze security --offline=true "$TMP/warmpool.service" | grep '✗' | sed 's/^/       /'; fail=1
fi

# What the Debian package and the docs rely on.
settings=1
for key in 'Type=exec' 'ExecReload=/bin/kill -HUP $MAINPID' 'Restart=on-failure' 'User=warmpool' \
           'StateDirectory=warmpool' 'ConfigurationDirectory=warmpool' 'ProtectSystem=strict' \
           'NoNewPrivileges=yes' 'PrivateTmp=yes' 'CapabilityBoundingSet=' 'SystemCallFilter=@system-service'; do
  grep -qxF "$key" "$UNIT" || { echo "FAIL - the unit lacks $key"; settings=0; fail=1; }
done
grep -q '^ExecStartPost=/usr/bin/curl .*--fail.*${WARMPOOL_READY_URL}$' "$UNIT" \
  && grep -q '^Environment=WARMPOOL_READY_URL=http://127.0.0.1:9900/-/ready$' "$UNIT" \
  || { echo "FAIL - the unit's readiness is not the wait for /-/ready"; settings=0; fail=1; }
[ "$settings" -eq 1 ] && echo "ok   - the unit has the settings docs/packaging.md describes"
[ "$fail" -eq 0 ] && echo "all passed" || echo "FAILED"
exit "$fail"
