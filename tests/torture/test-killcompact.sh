#!/bin/sh
# Crash safety of retention: a month of history, then 40 rounds in which
# the collector (--keep-raw, compacting an hour after each tick) and `gua
# compact` run side by side on it and are both killed with SIGKILL at a
# random moment after the collector's first tick, the cutoff moving 20
# hours on each round so that compaction is always in progress. Afterwards: SQLite's integrity check passes; every
# hour's rollups are those recorded before; the hours before the first raw
# one have no raw tick left and their edges kept, the raw hours every tick
# they had; every tick the collectors printed is in the file; and the
# report of the history gives the same numbers as before.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/../cli/lib.sh"
HERE=$(cd "$(dirname "$0")/../cli" && pwd)
# shellcheck source=tests/cli/collector-lib.sh
. "$HERE/collector-lib.sh"

RUNS=${KILL_RUNS:-40}
K=$TMP/kill
mkdir "$K"
DB=$K/gua.db
# 35 days at 3 s, ending now: 840 hours of 1200 ticks, so that a round's
# 20 hours take a while to compact.
"$GUA" demo --db "$DB" --ticks 1000000 --interval 3s >/dev/null 2>&1 ||
    fail "demo failed"
demo_run=$(q "$DB" "SELECT max(id) FROM runs")
end=$(q "$DB" "SELECT max(ts_ms) FROM ticks")
# The hours no collector tick can reach: before the demo's last one.
last_hour=$((end - end % 3600000))
q "$DB" "SELECT hour_ms, hex(gpus), hex(procs) FROM hours WHERE
    hour_ms < $last_hour ORDER BY 1" >"$K/sums-before"
q "$DB" "SELECT hour_ms, count(*) FROM ticks, hours WHERE id >= first_tick
    AND id <= last_tick AND ts_ms >= hour_ms AND ts_ms < hour_ms + 3600000
    AND hour_ms < $last_hour GROUP BY hour_ms ORDER BY 1" >"$K/ticks-before"
# The report of the demo's whole hours, before.
report_json() {
	GUA_NOW=$(date -u -d "@$((last_hour / 1000 - 1))" +%Y-%m-%dT%H:%M:%SZ) \
	    "$GUA" report --db "$DB" --since 60d --format json --top 0 |
	    python3 -c 'import json, sys
r = json.load(sys.stdin)
# The collectors ran under another driver: the numbers are the point.
r.pop("hourly_only")
r.pop("driver_version")
r["hosts"][0].pop("driver_version")
print(json.dumps(r, sort_keys=True))'
}
report_json >"$K/report-before"

scenario <<EOF
gpus 2
loop
tick 0
util 0 90
util 1 3
EOF
delay() { od -An -N2 -tu2 /dev/urandom | awk '{ printf "%.3f", ($1 % 400) / 1000 }'; }

i=1
selfexit=0
while [ $i -le "$RUNS" ]; do
	keep=$(((RUNS - i) * 20 + 2))h
	"$GUA" daemon --foreground --append --nvml-library "$FAKE" --db "$DB" \
	    --pid-file "$K/gua.pid" --log-file "$K/log.$i" --interval 10ms \
	    --keep-raw "$keep" >"$K/out.$i" 2>"$K/err.$i" &
	col=$!
	# Once the collector ticks (and compacts, an hour after each
	# tick), gua compact beside it, and a random moment. (Started
	# together, the collector's check of the file on start-up, which
	# reads it as immutable when no writer has it open, could read
	# pages the compaction moves.)
	wait_until lines_at_least "$K/out.$i" 1
	"$GUA" compact --db "$DB" --keep-raw "$keep" >"$K/cout.$i" \
	    2>"$K/cerr.$i" &
	cmp=$!
	sleep "$(delay)"
	kill -9 "$cmp" "$col" 2>/dev/null
	wait "$col" 2>/dev/null
	rc=$?
	wait "$cmp" 2>/dev/null
	crc=$?
	if [ "$rc" -ne 137 ]; then
		selfexit=$((selfexit + 1))
		echo "run $i: the collector exited $rc: $(head -c 300 "$K/err.$i")" >&2
	fi
	# Done before the kill is fine; failed is not.
	if [ "$crc" -ne 137 ] && [ "$crc" -ne 0 ]; then
		selfexit=$((selfexit + 1))
		echo "run $i: compact exited $crc: $(head -c 300 "$K/cerr.$i")" >&2
	fi
	i=$((i + 1))
done
t "every collector and compaction ran until killed or done"
if [ "$selfexit" -eq 0 ]; then ok; else fail "$selfexit runs failed"; fi
# How many compactions finished before their kill (the rest were killed
# in the middle): said, not asserted, as it depends on timing.
done_runs=$(grep -l "^compacted" "$K"/cout.* 2>/dev/null | wc -l)

# A last compaction, to the end.
t "a last gua compact finishes"
gua compact --db "$DB" --keep-raw 2h
expect_rc 0
expect_out "compacted "

t "the database passes SQLite's integrity check"
expect_q "$DB" "PRAGMA integrity_check" ok

raw_from=$(q "$DB" "SELECT value FROM meta WHERE key = 'raw_from_ms'")
t "the hours before $raw_from are hourly only, and most of the month is"
expect_q "$DB" "SELECT count(*) FROM ticks WHERE ts_ms < $raw_from" 0
if [ "$raw_from" -ge "$((last_hour - 3 * 3600000))" ]; then ok; else
	fail "raw from $raw_from, the history ends at $end"; fi
t "every hourly-only hour kept its GPUs' edges"
expect_q "$DB" "SELECT count(*) FROM hours WHERE hour_ms < $raw_from AND
    hour_ms NOT IN (SELECT hour_ms FROM hour_edges)" 0

t "every hour's rollups are as recorded, none lost"
q "$DB" "SELECT hour_ms, hex(gpus), hex(procs) FROM hours WHERE
    hour_ms < $last_hour ORDER BY 1" >"$K/sums-after"
expect_same "$K/sums-after" "$K/sums-before"

t "the raw hours kept every tick they had"
awk -v f="$raw_from" '$0 + 0 >= f' FS='|' "$K/ticks-before" >"$K/ticks-want"
q "$DB" "SELECT hour_ms, count(*) FROM ticks, hours WHERE id >= first_tick
    AND id <= last_tick AND ts_ms >= hour_ms AND ts_ms < hour_ms + 3600000
    AND hour_ms < $last_hour GROUP BY hour_ms ORDER BY 1" >"$K/ticks-after"
expect_same "$K/ticks-after" "$K/ticks-want"

t "every tick a collector printed (its commit had returned) is in the file"
printed=$(cat "$K"/out.* | wc -l)
kept=$(q "$DB" "SELECT count(*) FROM ticks WHERE run > $demo_run")
echo "kill compact: $RUNS kills, $done_runs compactions finished;" \
    "$printed ticks printed, $kept in the file" >&2
if [ "$kept" -ge "$printed" ] && [ "$kept" -le "$((printed + RUNS))" ] &&
    [ "$printed" -ge "$RUNS" ]; then ok; else
	fail "$printed printed, $kept in the file"; fi

t "the report of the history gives the same numbers"
report_json >"$K/report-after"
expect_same "$K/report-after" "$K/report-before"

finish_collector
