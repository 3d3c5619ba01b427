#!/bin/sh
# gua compact and daemon --keep-raw: raw ticks older than the cutoff give
# way to the hourly rollups; reports keep their sums and say which part
# of the window is hourly only; bad usage touches nothing; a live
# collector loses no tick while the file is compacted under it.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/cli/collector-lib.sh
. "$HERE/collector-lib.sh"

DB=$TMP/demo.db
# Three days at a minute, ending at $NOW.
GUA_NOW=$NOW "$GUA" demo --db "$DB" --ticks 4320 --interval 1m \
    >/dev/null 2>&1 || fail "demo failed"
cp "$DB" "$TMP/orig.db"

t "compact --help"
gua compact --help
expect_rc 0
expect_out "usage: gua compact [--db PATH] --keep-raw DURATION"
expect_out "Exit status: 0 success, 1 runtime failure, 2 bad usage"

for args in "" "--keep-raw" "--keep-raw 59m" "--keep-raw soon" \
    "--keep-raw 1d extra" "--keep-raw 1d --keep-raw 2d" "--bogus"; do
	t "compact $args: exit 2 with the hint, the file untouched"
	# shellcheck disable=SC2086 # the words are the arguments
	gua compact --db "$DB" $args
	expect_rc 2
	expect_err "Try 'gua compact --help'"
	expect_empty_out
	expect_same "$DB" "$TMP/orig.db"
	expect_no_file "$DB-wal"
done
t "compact --keep-raw 59m says why"
gua compact --db "$DB" --keep-raw 59m
expect_err "--keep-raw: at least 1h"

t "daemon --keep-raw under an hour: exit 2, nothing started"
gua daemon --foreground --nvml-library "$FAKE" --db "$TMP/d.db" \
    --pid-file "$TMP/d.pid" --keep-raw 10m
expect_rc 2
expect_err "--keep-raw: at least 1h"
expect_no_file "$TMP/d.db"

# The report of the whole history, before: the same after, but for the
# note of the hourly part.
report_json() {
	GUA_NOW=$NOW "$GUA" report --db "$1" --since 5d --format json |
	    python3 -c 'import json, sys
r = json.load(sys.stdin)
print(json.dumps(r.pop("hourly_only")))
print(json.dumps(r, sort_keys=True))'
}
report_json "$TMP/orig.db" >"$TMP/before"

t "compact --keep-raw 1d: two days of hours made hourly only"
gua compact --db "$DB" --keep-raw 1d
expect_rc 0
expect_out "compacted 48 hours (2849 raw ticks), hourly only before 2026-11-24T10:00:00Z"
expect_empty_err
expect_q "$DB" "SELECT count(*) FROM ticks WHERE ts_ms < 1795514400000" 0
# 24 hours and a half: from 10:00 the day before to the last tick at 10:30.
expect_q "$DB" "SELECT count(*) FROM ticks" 1471
expect_q "$DB" "PRAGMA integrity_check" ok
if [ "$(stat -c %s "$DB")" -lt "$(stat -c %s "$TMP/orig.db")" ]; then ok
else fail "the file did not shrink"; fi

t "the report of the whole history: the same numbers, the hourly part named"
report_json "$DB" >"$TMP/after"
if [ "$(sed -n 2p "$TMP/after")" = "$(sed -n 2p "$TMP/before")" ]; then ok
else fail "the report changed: $(sed -n 2p "$TMP/before" | cut -c1-200)"; fi
if [ "$(sed -n 1p "$TMP/before")" = null ]; then ok; else
	fail "hourly_only before: $(sed -n 1p "$TMP/before")"; fi
if sed -n 1p "$TMP/after" | grep -qF '"end": "2026-11-24T09:59:59.999Z"'
then ok; else fail "hourly_only after: $(sed -n 1p "$TMP/after")"; fi
GUA_NOW=$NOW run "$GUA" report --db "$DB" --since 5d
expect_out "  hourly only from 2026-11-22 10:30:00 +00:00 to 2026-11-24 09:59:59 +00:00: raw ticks compacted, no per-tick rows there"

GUA_NOW=$NOW run "$GUA" report --db "$DB" --since 5d --format html
expect_out "hourly only 2026-11-22 10:30:00 – 2026-11-24 09:59:59 (raw ticks compacted)"

t "the ticks CSV: rows only where raw ticks are kept, and a note on stderr"
GUA_NOW=$NOW run "$GUA" report --db "$DB" --since 5d --format csv \
    --table ticks
expect_rc 0
rows=$(($(q "$DB" "SELECT count(*) FROM ticks") * $(q "$DB" "SELECT count(*) FROM gpus")))
if [ "$(tail -n +2 "$TMP/out" | wc -l)" -eq "$rows" ]; then ok; else
	fail "$(tail -n +2 "$TMP/out" | wc -l) rows, want $rows"; fi
expect_err "the window is hourly only (raw ticks compacted): no per-tick rows there"
t "a window inside the raw part says nothing of it"
GUA_NOW=$NOW run "$GUA" report --db "$DB" --since 12h
expect_no_out "hourly only"

t "compact again: nothing more is due"
gua compact --db "$DB" --keep-raw 1d
expect_rc 0
expect_out "compacted 0 hours (0 raw ticks)"

t "doctor names the size, the oldest raw tick and the oldest hour"
gua doctor --nvml-library "$FAKE" --db "$DB" --pid-file "$TMP/none.pid"
expect_out "info  retention   "
expect_out "oldest raw tick 2026-11-24T10:00:00Z, oldest hour 2026-11-22T10:00:00Z (hourly only before 2026-11-24T10:00:00Z)"
gua doctor --nvml-library "$FAKE" --db "$DB" --pid-file "$TMP/none.pid" \
    --json
expect_out '"oldest_raw_tick_at": "2026-11-24T10:00:00Z",'
expect_out '"oldest_hour_at": "2026-11-22T10:00:00Z",'
expect_out '"hourly_only_before": "2026-11-24T10:00:00Z",'

# ---- A live collector on a history that ends now, compacting as it
# goes (--keep-raw 3h) while `gua compact --keep-raw 1h` runs beside it
# again and again: every tick it printed is in the file.
L=$TMP/live.db
"$GUA" demo --db "$L" --ticks 600 --interval 1m >/dev/null 2>&1 ||
    fail "demo failed"
end=$(sqlite3 "$L" "SELECT max(ts_ms) FROM ticks")
sqlite3 "$L" "SELECT count(*) FROM hours" >"$TMP/hours"
cp "$L" "$TMP/live-orig.db"
scenario <<EOF
gpus 2
loop
tick 0
util 0 90
util 1 3
EOF
start COL "$GUA" daemon --foreground --append --nvml-library "$FAKE" \
    --db "$L" --pid-file "$TMP/live.pid" --log-file "$TMP/live.log" \
    --interval 200ms --keep-raw 3h >"$TMP/col.out"
wait_until lines_at_least "$TMP/live.log" 1
# The collector's own compaction (hours older than 3h) first: run beside
# gua compact, whichever took the lock first would leave the other
# nothing to do, or a busy lock to try again a minute later. A step is
# taken only where it fits between ticks: 200 ms leaves room for one on
# a loaded machine under the sanitizers (7 hours, one a tick).
wait_until grep -q "compaction: .* hours made hourly only" "$TMP/live.log" ||
    fail "the collector compacted nothing: $(tail -3 "$TMP/live.log")"
i=0
while [ $i -lt 20 ]; do
	"$GUA" compact --db "$L" --keep-raw 1h >>"$TMP/compact.out" \
	    2>>"$TMP/compact.err" || echo "compact $i: exit $?" >>"$TMP/compact.fail"
	i=$((i + 1))
done
t "gua status names the size, the oldest raw tick and the hourly part"
gua status --pid-file "$TMP/live.pid"
expect_rc 0
expect_out "  size       "
expect_out "  raw ticks  from "
expect_out "(hourly only before "
gua status --pid-file "$TMP/live.pid" --json
expect_out '"database_bytes": '
expect_out '"hourly_only_before": "'
# More than ten ticks of this run before it stops, however fast the
# compactions went.
run_ticks_above() {
	[ "$(sqlite3 "$L" "SELECT count(*) FROM ticks WHERE run = (SELECT max(id) FROM runs)" 2>/dev/null || echo 0)" -gt "$1" ]
}
wait_until run_ticks_above 10
"$GUA" stop --pid-file "$TMP/live.pid" >/dev/null 2>&1
wait "$COL"
t "every compaction beside the collector succeeded"
expect_no_file "$TMP/compact.fail"
if [ ! -s "$TMP/compact.err" ]; then ok; else
	fail "$(head -3 "$TMP/compact.err")"; fi
t "the collector compacted too, and said how long its longest step took"
if grep -q "compaction: .* hours made hourly only (raw ticks kept 10800 s); the longest step took" "$TMP/live.log"
then ok; else fail "no compaction logged: $(tail -3 "$TMP/live.log")"; fi
t "no tick lost: every tick the collector wrote is in the file"
run_ticks=$(sqlite3 "$L" "SELECT count(*) FROM ticks WHERE run = (SELECT max(id) FROM runs)")
written=$(sed -n 's/.*: \([0-9]*\) ticks* written in this run.*/\1/p' "$TMP/live.log")
if [ -n "$written" ] && [ "$run_ticks" -eq "$written" ] &&
    [ "$run_ticks" -gt 10 ]; then ok; else
	fail "$run_ticks ticks of the run in the file, the log says '$written'"; fi
if [ "$(wc -l <"$TMP/col.out")" -eq "$run_ticks" ]; then ok; else
	fail "$(wc -l <"$TMP/col.out") ticks printed, $run_ticks in the file"; fi
t "the history before it: every hour's sums kept, its raw ticks gone"
expect_q "$L" "PRAGMA integrity_check" ok
expect_q "$L" "SELECT count(*) FROM hours WHERE hour_ms <= $end" "$(cat "$TMP/hours")"
# The last compaction's cutoff: an hour's start at most two hours before
# the history's end (--keep-raw 1h, whatever the minute it ran at), and
# no raw tick before it.
cut=$(sed -n 's/.*hourly only before \([^;]*\);.*/\1/p' "$TMP/compact.out" | tail -n 1)
cut_ms=$(( $(date -u -d "$cut" +%s 2>/dev/null || echo 0) * 1000 ))
if [ "$cut_ms" -ge $((end - 7200000)) ] && [ $((cut_ms % 3600000)) -eq 0 ]
then ok; else fail "cutoff '$cut' ($cut_ms), history ends at $end"; fi
expect_q "$L" "SELECT count(*) FROM ticks WHERE ts_ms < $cut_ms" 0
q "$TMP/live-orig.db" "SELECT hour_ms, hex(gpus), hex(procs) FROM hours ORDER BY 1" \
    >"$TMP/sums-before"
q "$L" "SELECT hour_ms, hex(gpus), hex(procs) FROM hours WHERE hour_ms <= $end - $end % 3600000 - 3600000 ORDER BY 1" \
    >"$TMP/sums-after"
head -n "$(wc -l <"$TMP/sums-after")" "$TMP/sums-before" >"$TMP/sums-want"
expect_same "$TMP/sums-after" "$TMP/sums-want"

finish_collector
