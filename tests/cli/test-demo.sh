#!/bin/sh
# gua demo: the built-in workload through the real write path, its report
# compared with a checked-in expected file.
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

t "a report of the demo database gives the same numbers"
GUA_NOW=$NOW run "$GUA" report --db "$TMP/demo.db"
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

t "demo without --db names its temporary file on stderr"
TMPDIR=$TMP run "$GUA" demo --ticks 5
expect_rc 0
expect_err "gua demo: writing 5 ticks to $TMP/gua-demo-"
path=$(sed -n 's/^gua demo: writing 5 ticks to //p' "$TMP/err")
expect_file "$path"
expect_out "(15 samples)"

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
expect_out "Window: 0:15:00"
expect_out "~0.65 GPU-hours idle, ~2.60 GPUs equivalently unused"

t "demo --ticks 100000 (never sleeps)"
gua demo --db "$TMP/big.db" --ticks 100000
expect_rc 0
expect_out "(300000 samples)"
expect_out "Window: 1 day, 3:46:40"
expect_out "13.3%"

finish
