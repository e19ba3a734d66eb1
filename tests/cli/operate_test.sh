#!/usr/bin/env bash
# `warmpool run` operated through its REST API, end to end on 127.0.0.1: readiness, read and admin
# tokens, an override observed in the decisions, kill -9 in the middle of it and a restart that keeps
# it, a corrupt state file moved aside, POST /-/reload, and /metrics scraped by a real Prometheus.
# Usage: operate_test.sh WARMPOOL_BIN SOURCE_DIR TRACES_DIR
set -u
source "$(dirname "$0")/lib.sh"
ADMIN=admin-token-0123456789abcdef
READ=read-token-0123456789abcdef
cat >"$TMP/tokens.yaml" <<EOT
tokens:
  - {name: alice, role: admin, token: "$ADMIN"}
  - {name: grafana, role: read, token: "$READ"}
EOT
cat >"$TMP/warmpool.yaml" <<EOT
global: {interval: 200ms, log_level: info}
metrics_source: {type: trace, file: $TRACES/clarknet-http-1995-1h.csv.gz, speed: 1}
web: {tokens_file: tokens.yaml, max_body_bytes: 4096}
state: {file: state/warmpool.state}
pools:
  - name: web
    min_active: 2
    max_active: 10
    warm_standby: 2
    metrics: [{name: rps, window: 1m, step: 1s}]
    policies: [{type: target_tracking, metric: rps, target_per_server: 1}]
    provider: {type: simulated, initial_active: 2, initial_standby: 2, promotion_delay: 0s, provisioning_delay: 1s}
EOT
mkdir -p "$TMP/state"
LOG=$TMP/run1.log
start() {  # start LOGFILE: runs warmpool, sets PID and PORT
  LOG=$1
  "$BIN" run --config.file "$TMP/warmpool.yaml" --web.listen-address 127.0.0.1:0 >"$LOG" 2>&1 &
  PID=$!; PIDS+=("$PID")
  wait_for 10 grep -qs "api listening" "$LOG" || return 1
  PORT=$(sed -n 's/.*api listening address=127.0.0.1:\([0-9]*\).*/\1/p' "$LOG" | head -1)
  [ -n "$PORT" ]
}
api() {  # api METHOD PATH [TOKEN] [BODY] -> prints the body, sets CODE
  local out=$TMP/body args=(-s -o "$TMP/body" -w '%{http_code}' -X "$1" "http://127.0.0.1:$PORT$2")
  [ -n "${3:-}" ] && args+=(-H "Authorization: Bearer $3")
  [ -n "${4:-}" ] && args+=(-H 'Content-Type: application/json' --data "$4")
  CODE=$(curl "${args[@]}")
  cat "$out"
}
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

chmod 644 "$TMP/tokens.yaml"
check "starts with its API on an ephemeral port" start "$TMP/run1.log"
check "a tokens file readable by everyone is warned about" grep -q "tokens file readable by every user" "$TMP/run1.log"
check "/-/healthy answers 200" bash -c "curl -sf http://127.0.0.1:$PORT/-/healthy >/dev/null"
check "/-/ready turns 200 once the pool was observed" wait_for 10 bash -c "curl -sf http://127.0.0.1:$PORT/-/ready >/dev/null"
api GET /api/v1/pools >/dev/null
check "GET without a token is 401 when tokens are configured" test "$CODE" = 401
api GET /api/v1/pools/web "$READ" >"$TMP/pool"
active=$(json 'd["counts"]["active"]' <"$TMP/pool")
check "GET /api/v1/pools/web with a read token shows the pool" bash -c "[ '$CODE' = 200 ] && [ '$active' -ge 2 ]"
api PUT /api/v1/pools/web/override "$READ" '{"active": 5, "ttl": "30m", "reason": "launch at 14:00"}' >/dev/null
check "PUT override with a read token is 403" test "$CODE" = 403
api PUT /api/v1/pools/web/override "$ADMIN" '{"active": 5, "ttl": "30m", "reason": "launch at 14:00", "colour": 1}' >"$TMP/e"
check "an unknown field is 400 naming it" bash -c "[ '$CODE' = 400 ] && grep -q colour '$TMP/e'"
big=$(python3 -c "print('{\"reason\": \"' + 'x' * 10000 + '\"}')")
api PUT /api/v1/pools/web/override "$ADMIN" "$big" >/dev/null
check "a body above max_body_bytes is 413" test "$CODE" = 413
api PUT /api/v1/pools/web/override "$ADMIN" '{"active": 5, "ttl": "30m", "reason": "launch at 14:00"}' >/dev/null
check "PUT override with an admin token is accepted" test "$CODE" = 200
at5() { api GET /api/v1/pools/web "$READ" >"$TMP/pool5"; [ "$(json 'd["counts"]["active"]' <"$TMP/pool5")" = 5 ]; }
check "the override drives the pool to 5 active" wait_for 10 at5
check "the decision's reason names the override" bash -c "grep -q 'override (active 5: launch at 14:00' '$LOG'"
api GET "/api/v1/events?pool=web&limit=50" "$READ" >"$TMP/events"
check "the events list the override and the decisions it caused" bash -c "grep -q 'set active 5 by alice' '$TMP/events' && grep -q '\"policy\":\"override\"' '$TMP/events'"

kill -9 "$PID"; wait "$PID" 2>/dev/null
check "restarts after kill -9" start "$TMP/run2.log"
check "the override survived the kill" bash -c "curl -s -H 'Authorization: Bearer $READ' http://127.0.0.1:$PORT/api/v1/pools/web | grep -q 'launch at 14:00'"
check "the state was restored (logged)" grep -q "state restored" "$TMP/run2.log"
check "the restarted controller keeps 5 active" wait_for 10 at5

# Per-server calls: protect one active server (never drained or replaced), replace another by hand.
api GET /api/v1/pools/web "$READ" >"$TMP/pool6"
A=$(json '[s["name"] for s in d["servers"] if s["state"] == "active"][0]' <"$TMP/pool6")
B=$(json '[s["name"] for s in d["servers"] if s["state"] == "active"][1]' <"$TMP/pool6")
api PUT "/api/v1/pools/web/servers/$A/protect" "" '{"reason": "heap profile"}' >/dev/null
check "PUT protect without a token is 401" test "$CODE" = 401
api PUT "/api/v1/pools/web/servers/$A/protect" "$READ" '{"reason": "heap profile"}' >/dev/null
check "PUT protect with a read token is 403" test "$CODE" = 403
api PUT "/api/v1/pools/web/servers/$A/protect" "$ADMIN" '{"reason": "heap profile", "ttl": "1h"}' >/dev/null
check "PUT protect with an admin token is accepted" test "$CODE" = 200
api POST "/api/v1/pools/web/servers/$A/replace" "$ADMIN" '{"reason": "kernel update"}' >"$TMP/e409"
check "POST replace of a protected server is 409 saying so" bash -c "[ '$CODE' = 409 ] && grep -q 'is protected (heap profile' '$TMP/e409'"
api POST "/api/v1/pools/web/servers/$B/replace" "$READ" '{"reason": "kernel update"}' >/dev/null
check "POST replace with a read token is 403" test "$CODE" = 403
api POST "/api/v1/pools/web/servers/$B/replace" "$ADMIN" '{"reason": "kernel update"}' >/dev/null
check "POST replace with an admin token is accepted" test "$CODE" = 200
replaced() {
  api GET /api/v1/pools/web "$READ" >"$TMP/pool7"
  json "d['replace_requests'] == {} and '$B' not in [s['name'] for s in d['servers'] if s['state'] == 'active'] and d['counts']['active'] == 5" <"$TMP/pool7" | grep -q True
}
check "the replaced server leaves, the request ends, 5 stay active" wait_for 15 replaced
api GET "/api/v1/events?pool=web&limit=200" "$READ" >"$TMP/events3"
check "the events tell the replacement from the request to its end" \
  bash -c "grep -q 'replacement of $B asked by alice' '$TMP/events3' && grep -q 'replace $B: asked by alice (kernel update)' '$TMP/events3' && grep -q 'replacement of $B asked by alice done' '$TMP/events3'"
protected_active() { json "[s['state'] for s in d['servers'] if s['name'] == '$A'][0]" <"$TMP/pool7" | grep -q active; }
check "the protected server is still active" protected_active

# A change that cannot be saved is refused (503), never acknowledged and then lost: the save's temp
# file is made impossible (a directory in its place), so every save fails until it is removed.
BLOCK="$TMP/state/warmpool.state.tmp-$PID"
mkdir "$BLOCK"
api PUT /api/v1/pools/web/override "$ADMIN" '{"active": 7, "reason": "not durable"}' >"$TMP/e503"
check "PUT override while the state cannot be saved is 503 naming why" \
  bash -c "[ '$CODE' = 503 ] && grep -q 'not saved, so not applied' '$TMP/e503'"
check "/-/ready is 503 while the state store fails" \
  bash -c "curl -s http://127.0.0.1:$PORT/-/ready | grep -q 'state store is failing'"
check "warmpool_state_save_failing is 1" bash -c "curl -s http://127.0.0.1:$PORT/metrics | grep -q '^warmpool_state_save_failing 1'"
check "the saved override stays in force" at5
kill -9 "$PID"; wait "$PID" 2>/dev/null
rmdir "$BLOCK"
check "restarts after kill -9 with the store failing" start "$TMP/run2b.log"
check "the acknowledged override is back, the refused one never was" \
  bash -c "curl -s -H 'Authorization: Bearer $READ' http://127.0.0.1:$PORT/api/v1/pools/web | grep -q 'launch at 14:00' && ! curl -s -H 'Authorization: Bearer $READ' http://127.0.0.1:$PORT/api/v1/pools/web | grep -q 'not durable'"
check "/-/ready is 200 again" wait_for 10 bash -c "curl -sf http://127.0.0.1:$PORT/-/ready >/dev/null"
api GET /api/v1/pools/web "$READ" >"$TMP/pool8"
protection_kept() { json "d['protected']['$A']['reason']" <"$TMP/pool8" | grep -q 'heap profile'; }
check "the protection survived the kill" protection_kept
api DELETE /api/v1/pools/web/override "$ADMIN" >/dev/null
check "DELETE override is accepted" test "$CODE" = 200
api GET "/api/v1/events?pool=web&limit=50" "$READ" >"$TMP/events2"
check "the events list the deletion" grep -q 'deleted by alice' "$TMP/events2"
api POST /-/reload "$READ" >/dev/null
check "POST /-/reload with a read token is 403" test "$CODE" = 403
api POST /-/reload "$ADMIN" >/dev/null
check "POST /-/reload with an admin token is accepted" test "$CODE" = 200
check "... and reloads the config" wait_for 5 grep -q "config reloaded" "$LOG"

# /metrics scraped by a real Prometheus.
PROM_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$TMP/prometheus.yml" <<EOT
global: {scrape_interval: 1s}
scrape_configs:
  - job_name: warmpool
    static_configs: [{targets: ['127.0.0.1:$PORT']}]
EOT
prometheus --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/prom" \
  --web.listen-address="127.0.0.1:$PROM_PORT" --log.level=warn >"$TMP/prom.log" 2>&1 &
PIDS+=("$!")
scraped() { curl -s "http://127.0.0.1:$PROM_PORT/api/v1/query?query=warmpool_pool_servers%7Bpool%3D%22web%22%2Cstate%3D%22active%22%7D" | grep -q '"value"'; }
check "a real Prometheus scrapes /metrics (warmpool_pool_servers)" wait_for 20 scraped

kill -TERM "$PID"; wait "$PID" 2>/dev/null
echo "not a state file" >"$TMP/state/warmpool.state"
check "restarts with a corrupt state file" start "$TMP/run3.log"
check "the corrupt file is reported and moved aside" bash -c "grep -q 'state not restored' '$LOG' && ls '$TMP/state' | grep -q 'warmpool.state.corrupt-'"
kill -TERM "$PID"; wait "$PID" 2>/dev/null

# A state file that is not a file, or that this user cannot read, stops start-up with its path: it is
# neither waited on (a FIFO once hung start-up) nor moved aside as corrupt (which would start fresh and
# drop its overrides and pauses).
rm -f "$TMP/state/warmpool.state"
mkfifo "$TMP/state/warmpool.state"
refuses() {  # refuses LOG WORDS: warmpool run exits 1 within 5 s, its log naming WORDS
  timeout 5 "${RUNAS[@]}" "$BIN" run --config.file "$CONF" --web.listen-address 127.0.0.1:0 >"$1" 2>&1
  [ $? = 1 ] && grep -q "$2" "$1"
}
RUNAS=() CONF=$TMP/warmpool.yaml
check "a FIFO as the state file: start-up refused at once, naming it" refuses "$TMP/run4.log" "state.file: .*warmpool.state: not a regular file (a FIFO)"
rm -f "$TMP/state/warmpool.state"
if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
  # As an unprivileged user (root reads everything), in a folder that user may enter.
  U=$(mktemp -d) && chmod 755 "$U" && mkdir -m 777 "$U/state"
  sed "s|file: state/warmpool.state|file: $U/state/warmpool.state|; s|tokens_file: tokens.yaml|tokens_file: $U/tokens.yaml|" \
    "$TMP/warmpool.yaml" >"$U/warmpool.yaml"
  cp "$TMP/tokens.yaml" "$U/tokens.yaml" && chmod 644 "$U/tokens.yaml" "$U/warmpool.yaml"
  echo "not readable by nobody" >"$U/state/warmpool.state" && chmod 600 "$U/state/warmpool.state"
  RUNAS=(setpriv --reuid=65534 --regid=65534 --clear-groups) CONF=$U/warmpool.yaml
  check "an unreadable state file (EACCES): start-up refused, naming it" refuses "$TMP/run5.log" "cannot be read (Permission denied)"
  check "... and the file is left in place, not moved aside" bash -c "[ -f '$U/state/warmpool.state' ] && ! ls '$U/state' | grep -q corrupt"
  rm -rf "$U"
else
  echo "skip - an unreadable state file: needs root and setpriv to run as another user"
fi

finish
