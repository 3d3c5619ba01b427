#!/bin/sh
# /metrics over HTTP (daemon --listen): the textfile's families at
# /metrics and nothing else (404, 405 with Allow), HEAD with GET's headers
# and no body; a 200 KB header refused without harm; a client that sends
# half a request and waits delays neither the next scrape nor the ticks; a
# port in use and a bad address refused at start-up. Then a real
# Prometheus scrapes it over loopback, and what it stored equals what
# `gua report --format json` computes over the same history.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/cli/collector-lib.sh
. "$HERE/collector-lib.sh"

if ! need curl curl; then
	finish_collector
	exit
fi

DB=$TMP/http.db
# A free loopback port (bound, then let go).
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
PORT=$(free_port)
URL=http://127.0.0.1:$PORT/metrics
# get ARGS...: curl's status code in $TMP/code, headers and body apart.
get() {
	curl -sS --max-time 10 -D "$TMP/head" -o "$TMP/body" \
	    -w '%{http_code}' "$@" >"$TMP/code" 2>"$TMP/curl.err"
}
scrape_ok() { get "$URL" && [ "$(cat "$TMP/code")" = 200 ]; }
ticks() { sqlite3 "$DB" 'SELECT count(*) FROM ticks'; }
header() { grep -i "^$1:" "$TMP/head" | tr -d '\r' | cut -d' ' -f2-; }

start HOLDER sleep 1000
scenario <<EOF2
gpus 1
gpu 0 uuid=GPU-http0000 name=Notebook total=40960
tick 0
util 0 2
proc 0 $HOLDER 12000
EOF2
U=$(user_of "$HOLDER")

t "bad --listen addresses are bad usage, and touch nothing"
for bad in 127.0.0.1 127.0.0.1: :9877 127.0.0.1:0 127.0.0.1:65536 \
    127.0.0.1:x localhost:9877 '[::1:9877' 1.2.3.4.5:80; do
	run "$GUA" daemon --foreground --nvml-library "$FAKE" --db "$DB" \
	    --pid-file "$TMP/http.pid" --listen "$bad"
	expect_rc 2
	expect_err "Try 'gua daemon --help'"
done
run "$GUA" daemon --foreground --nvml-library "$FAKE" --db "$DB" \
    --pid-file "$TMP/http.pid" --metrics-by host
expect_rc 2
expect_err "--metrics-by"
run "$GUA" daemon --foreground --nvml-library "$FAKE" --db "$DB" \
    --pid-file "$TMP/http.pid" --metrics-by job
expect_rc 2
expect_err "needs --textfile-dir or --listen"
expect_no_file "$DB"

t "the collector serves /metrics"
run "$GUA" daemon --nvml-library "$FAKE" --db "$DB" --pid-file "$TMP/http.pid" \
    --log-file "$TMP/http.log" --interval 50ms --listen "127.0.0.1:$PORT"
expect_rc 0
expect_wait scrape_ok
expect_eq "$(header Content-Type)" "text/plain; version=0.0.4; charset=utf-8"
for fam in gua_gpu_state_seconds_total gua_gpu_utilization_ratio \
    gua_gpu_memory_held_bytes gua_gpu_memory_total_bytes gua_gpu_info \
    gua_process_idle_held_seconds_total gua_process_idle_held_streak_seconds \
    gua_last_tick_timestamp_seconds gua_tick_errors_total gua_build_info; do
	expect_count "$TMP/body" "# TYPE $fam " 1
done
expect_count "$TMP/body" "gua_process_idle_held_seconds_total{user=\"$U\"" 1
expect_text "$TMP/http.log" "serving http://127.0.0.1:$PORT/metrics"
if need promtool prometheus; then
	run promtool check metrics <"$TMP/body"
	expect_rc 0
	expect_empty_err
fi
GET_LEN=$(header Content-Length)

t "HEAD: the same headers, no body"
get -I "$URL"
expect_eq "$(cat "$TMP/code")" 200
expect_eq "$(header Content-Type)" "text/plain; version=0.0.4; charset=utf-8"
# What arrives on the connection after the headers, up to its close.
python3 - "$PORT" >"$TMP/after" <<'EOF2'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
got = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    got += b
head, sep, rest = got.partition(b"\r\n\r\n")
print(len(rest) if sep else "no end of headers")
EOF2
expect_eq "$(cat "$TMP/after")" 0
# The length of the text as it is now, which a tick may have grown by a
# digit or two: within a few bytes of GET's.
len=$(header Content-Length)
if [ -n "$len" ] && [ "$len" -ge $((GET_LEN - 16)) ] &&
    [ "$len" -le $((GET_LEN + 16)) ]; then ok; else
	fail "HEAD Content-Length '$len', GET's $GET_LEN"; fi

t "POST, PUT and DELETE: 405 with Allow: GET, HEAD"
for m in POST PUT DELETE; do
	get -X "$m" --data 'x=1' "$URL"
	expect_eq "$(cat "$TMP/code")" 405
	expect_eq "$(header Allow)" "GET, HEAD"
	expect_count "$TMP/body" "gua_" 0
done

t "any other path: 404, without the metrics"
for p in / /metrics/ /metric /metrics/x /favicon.ico '/..%2fmetrics'; do
	get "http://127.0.0.1:$PORT$p"
	expect_eq "$(cat "$TMP/code")" 404
	expect_count "$TMP/body" "gua_" 0
done
t "a query string is still /metrics"
get "$URL?name%5B%5D=x"
expect_eq "$(cat "$TMP/code")" 200

t "a 200 KB header is refused, and the next scrape is served"
head -c 200000 /dev/zero | tr '\0' a | sed 's/^/X-Big: /' >"$TMP/big.h"
echo >>"$TMP/big.h"
get -H "@$TMP/big.h" "$URL"
case $(cat "$TMP/code") in
200) fail "a 200 KB header was served" ;;
*) ok ;;
esac
expect_wait scrape_ok

# A client that opens a connection, sends half a request line and waits:
# the server's own thread holds it, so scrapes and ticks go on.
t "half a request, held open: scrapes and ticks go on"
python3 - "$PORT" "$TMP/half.ready" <<'EOF2' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /metr")
open(sys.argv[2], "w").close()
time.sleep(60)
EOF2
HALF=$!
STARTED="$STARTED $HALF"
expect_wait test -e "$TMP/half.ready"
n0=$(ticks)
expect_wait scrape_ok
if scrape_ok; then ok; else fail "a second scrape: $(cat "$TMP/code")"; fi
# Ticks keep being written while the half request waits.
expect_wait ticks_at_least "$DB" $((n0 + 5))
kill "$HALF" 2>/dev/null

t "many connections at once: the per-address limit, then service again"
python3 - "$PORT" <<'EOF2'
import socket, sys
socks = []
for i in range(40):
    try:
        socks.append(socket.create_connection(("127.0.0.1", int(sys.argv[1])),
            timeout=5))
    except OSError:
        pass
for s in socks:
    s.close()
EOF2
expect_wait scrape_ok

t "a port in use: exit 1 at start-up, nothing left behind"
run "$GUA" daemon --foreground --nvml-library "$FAKE" --db "$TMP/second.db" \
    --pid-file "$TMP/second.pid" --listen "127.0.0.1:$PORT"
expect_rc 1
expect_err "127.0.0.1:$PORT"
expect_err "in use"
expect_no_file "$TMP/second.db"
expect_no_file "$TMP/second.pid"

t "gua stop closes the port"
run "$GUA" stop --pid-file "$TMP/http.pid"
expect_rc 0
if get "$URL"; then fail "still served after stop"; else ok; fi

# A real Prometheus on loopback. The collector is started again on the
# history with a one-hour interval: its first tick is its only one while
# Prometheus scrapes, so the counters stand still and what Prometheus
# stored can be compared exactly with the report over the whole history
# (the counters start from that history: export_prom_seed).
t "a real Prometheus scrapes it; its counters equal the report's"
if ! need prometheus prometheus; then
	finish_collector
	exit
fi
run "$GUA" daemon --nvml-library "$FAKE" --db "$DB" --append \
    --pid-file "$TMP/http.pid" --log-file "$TMP/http.log" --interval 1h \
    --listen "127.0.0.1:$PORT"
expect_rc 0
PPORT=$(free_port)
cat >"$TMP/prometheus.yml" <<EOF2
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: gua
    static_configs:
      - targets: ['127.0.0.1:$PORT']
EOF2
start PROM prometheus --config.file="$TMP/prometheus.yml" \
    --storage.tsdb.path="$TMP/tsdb" \
    --web.listen-address="127.0.0.1:$PPORT" 2>"$TMP/prometheus.err"
# promq EXPR: the value of the query's one sample, or nothing.
promq() {
	curl -sS --max-time 5 --data-urlencode "query=$1" \
	    "http://127.0.0.1:$PPORT/api/v1/query" 2>/dev/null |
	    python3 -c 'import json, sys
r = json.load(sys.stdin)["data"]["result"]
print(r[0]["value"][1] if len(r) == 1 else "")' 2>/dev/null
}
# Scraped at least twice since the collector's tick: the last value is
# the final state.
scraped() {
	_s=$(promq 'sum_over_time(up{job="gua"}[5m])')
	[ -n "$_s" ] && [ "${_s%%.*}" -ge 2 ]
}
expect_wait scraped
GUA_NOW='' "$GUA" report --db "$DB" --since 36500d --format json \
    >"$TMP/report.json"
# The user's idle-held seconds over the whole history: the sessions'
# (to the millisecond), against the scraped counter.
want=$(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print("%.3f" % sum(s["idle_held_seconds"] for s in d["sessions"]
    if s["user"] == sys.argv[2]))' "$TMP/report.json" "$U")
got=$(promq "gua_process_idle_held_seconds_total{user=\"$U\",uuid=\"GPU-http0000\"}")
if [ -n "$got" ] && python3 -c 'import sys
sys.exit(abs(float(sys.argv[1]) - float(sys.argv[2])) > 0.0005)' "$got" "$want"
then ok; else fail "Prometheus has '$got', the report $want"; fi
# The one-hour tick is in both.
if python3 -c 'import sys; sys.exit(float(sys.argv[1]) < 3600)' "$want"; then
	ok; else fail "the report's idle-held seconds $want miss the last tick"; fi
# The GPU's idle-held time: the report gives it in hours to 6 decimals.
want=$(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(d["gpus"][0]["idle_held_gpu_hours"] * 3600)' "$TMP/report.json")
got=$(promq 'gua_gpu_state_seconds_total{uuid="GPU-http0000",state="idle_held"}')
if [ -n "$got" ] && python3 -c 'import sys
sys.exit(abs(float(sys.argv[1]) - float(sys.argv[2])) > 0.0019)' "$got" "$want"
then ok; else fail "Prometheus has '$got', the report $want"; fi
run "$GUA" stop --pid-file "$TMP/http.pid"
expect_rc 0
finish_collector
