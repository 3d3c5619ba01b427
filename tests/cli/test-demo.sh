#!/bin/sh
# gua demo: the built-in workload through the real write path, its report
# compared with a checked-in expected file.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"

mask_host() { sed "s/^gua — $(hostname) (/gua — HOST (/"; }

t "demo output is the expected report"
GUA_NOW=$NOW run "$GUA" demo --db "$TMP/demo.db"
expect_rc 0
expect_empty_err
mask_host <"$TMP/out" >"$TMP/masked"
if diff -u "$HERE/expected/demo.txt" "$TMP/masked" >&2; then ok; else
	fail "demo output differs from expected/demo.txt"; fi
expect_out "13.3%"
expect_out "46.7%"
expect_out "40.0%"
expect_out "(90 samples)"

t "the demo database is closed cleanly: no WAL files left"
expect_no_file "$TMP/demo.db-wal"
expect_no_file "$TMP/demo.db-shm"

t "a report of the demo database over the demo's 30 s gives the same report"
GUA_NOW=$NOW run "$GUA" report --db "$TMP/demo.db" --since 30s
expect_rc 0
mask_host <"$TMP/out" >"$TMP/masked2"
if cmp -s "$TMP/masked" "$TMP/masked2"; then ok; else
	fail "report differs from the demo's own report"; fi

t "demo refuses an existing --db and leaves it alone"
cp "$TMP/demo.db" "$TMP/copy.db"
gua demo --db "$TMP/demo.db"
expect_rc 2
expect_err "already exists"
expect_err_lines 2
expect_empty_out
expect_same "$TMP/demo.db" "$TMP/copy.db"

# empty_dir DIR: one test, DIR holds nothing.
empty_dir() {
	if [ -z "$(ls -A "$1")" ]; then ok; else
		fail "left in $1: $(ls -A "$1" | tr '\n' ' ')"; fi
}

t "demo without --db leaves no temporary file behind"
mkdir "$TMP/t1"
TMPDIR=$TMP/t1 run "$GUA" demo --ticks 5
expect_rc 0
expect_empty_err
expect_out "(15 samples)"
empty_dir "$TMP/t1"

t "demo --keep keeps its temporary file and names it on stderr"
mkdir "$TMP/t2"
TMPDIR=$TMP/t2 run "$GUA" demo --ticks 5 --keep
expect_rc 0
expect_err "gua demo: writing 5 ticks to $TMP/t2/gua-demo-"
path=$(sed -n 's/^gua demo: writing 5 ticks to //p' "$TMP/err")
expect_file "$path"
expect_out "(15 samples)"
GUA_NOW='' run "$GUA" report --db "$path" --since 1d
expect_rc 0

t "a demo that fails leaves no temporary file behind"
mkdir "$TMP/t3"
TMPDIR=$TMP/t3 "$GUA" demo --ticks 5 >/dev/full 2>"$TMP/err"
RC=$?
expect_rc 1
expect_err "cannot write the report to standard output: No space left on device"
empty_dir "$TMP/t3"

t "an interrupted demo leaves no temporary file behind"
mkdir "$TMP/t4"
TMPDIR=$TMP/t4 "$GUA" demo --ticks 10000000 >/dev/null 2>&1 &
pid=$!
n=0
while [ -z "$(ls -A "$TMP/t4")" ] && [ $n -lt 600 ]; do
	sleep 0.05
	n=$((n + 1))
done
kill -TERM $pid
wait $pid 2>/dev/null
RC=$?
expect_rc 143
empty_dir "$TMP/t4"

t "demo --keep with --db is refused"
gua demo --keep --db "$TMP/keep.db"
expect_rc 2
expect_err "--keep is for the demo's temporary database"
expect_no_file "$TMP/keep.db"

for bad in 0 -1 abc 1.5 10000001 ""; do
	t "demo --ticks '$bad' is refused"
	gua demo --db "$TMP/bad.db" --ticks "$bad"
	expect_rc 2
	expect_err "gua demo: --ticks: '$bad'"
	expect_no_file "$TMP/bad.db"
done
for bad in 0s 1w 30 -1s 1h30m; do
	t "demo --interval '$bad' is refused"
	gua demo --db "$TMP/bad.db" --interval "$bad"
	expect_rc 2
	expect_err "gua demo: --interval: '$bad'"
	expect_no_file "$TMP/bad.db"
done

t "demo --ticks x --interval past 100 years is refused"
gua demo --db "$TMP/bad.db" --ticks 10000000 --interval 1d
expect_rc 2
expect_err "spans more than 36500 days"
expect_no_file "$TMP/bad.db"

t "demo in a missing directory fails at run time"
gua demo --db "$TMP/no/such/dir/x.db"
expect_rc 1
expect_err "cannot create"

t "demo --interval 30s: spans are the interval, window 15 minutes"
GUA_NOW=$NOW run "$GUA" demo --db "$TMP/slow.db" --interval 30s
expect_rc 0
expect_out " (UTC), 0:15:00"
expect_out "~0.35 GPU-hours idle-held, ~1.40 GPUs equivalently"
expect_out "~0.30 GPU-hours truly idle, ~1.20 GPUs equivalently"

t "demo --ticks 100000 (never sleeps)"
gua demo --db "$TMP/big.db" --ticks 100000
expect_rc 0
expect_out "(300000 samples)"
expect_out " (UTC), 1 day, 3:46:40"
expect_out "13.3%"

finish
