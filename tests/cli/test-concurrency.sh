#!/bin/sh
# Others on the collector's database: a reader holding a long read
# transaction (WAL: the collector never waits for it), and a foreign
# writer holding the write lock for a second, twenty intervals (the
# collector waits half an interval, keeps sampling, and writes the ticks
# that waited once the lock is free). Neither makes it crash or lose a
# tick: every tick sampled is in the database, in order, whole.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/cli/collector-lib.sh
. "$HERE/collector-lib.sh"

C=$TMP/conc
mkdir "$C"
start S1 sleep 1000
scenario <<EOF
gpus 2
tick 0
util 0 30
proc 0 $S1 2000
util 1 0
EOF
TRACE=$TMP/trace
samples() { echo $(($(grep -c ' nvmlDeviceGetCount_v2 ' "$TRACE") - 1)); }
samples_at_least() { [ "$(samples)" -ge "$1" ]; }
printed() { wc -l <"$C/fg.out"; }
# hold NAME SQL: a sqlite3 shell that runs SQL, says "held" and keeps its
# transaction open until $C/NAME.release exists.
hold() {
	start HOLDER sh -c "{ echo '.timeout 10000'; echo \"$2\";
	    echo \"SELECT 'held';\";
	    while [ ! -e '$C/$1.release' ]; do sleep 0.05; done;
	    echo 'ROLLBACK;'; } | sqlite3 '$C/gua.db' >'$C/$1.out' 2>&1"
	wait_until has_line "$C/$1.out" held
}

FAKE_NVML_TRACE=$TRACE start COL "$GUA" daemon --foreground \
    --nvml-library "$FAKE" --db "$C/gua.db" --pid-file "$C/gua.pid" \
    --interval 50ms >"$C/fg.out" 2>"$C/fg.err"
wait_until lines_at_least "$C/fg.out" 3

t "a reader's long read transaction: the collector writes on"
hold reader "BEGIN; SELECT count(*) FROM ticks;"
READER=$HOLDER
n=$(printed)
expect_wait lines_at_least "$C/fg.out" $((n + 10))
expect_count "$C/fg.err" "warning: " 0
t "a report reads meanwhile"
GUA_NOW='' run "$GUA" report --db "$C/gua.db" --since 1d
expect_rc 0
t "... also through a symbolic link: the writer's WAL is read, not ignored"
n=$(ticks_csv "$C/gua.db" | wc -l)
ln -s gua.db "$C/link.db"
m=$(ticks_csv "$C/link.db" | wc -l)
if [ "$n" -gt 0 ] && [ "$m" -ge "$n" ]; then ok; else
	fail "$m rows through the link, $n before directly"; fi

t "a foreign writer holds the write lock: logged once, sampling goes on"
hold writer "BEGIN IMMEDIATE; INSERT INTO meta VALUES('foreign', 'x');"
WRITER=$HOLDER
expect_wait has_line "$C/fg.err" "warning: tick not recorded: "
expect_count "$C/fg.err" "database is locked" 1
at=$(samples)
expect_wait samples_at_least $((at + 20))
t "... and nothing was printed while it held the lock"
n=$(printed)
sleep 0.2
if [ "$(printed)" -eq "$n" ]; then ok; else fail "ticks were written"; fi
touch "$C/writer.release" "$C/reader.release"
wait_until gone "$WRITER"
wait_until gone "$READER"
t "the lock released: the ticks that waited are written, none lost"
expect_wait has_line "$C/fg.err" "ticks recorded again after "
expect_count "$C/fg.err" "none was lost" 1
n=$(printed)
wait_until lines_at_least "$C/fg.out" $((n + 3))
kill -TERM "$COL"
wait "$COL"
RC=$?
t "the collector stopped cleanly, with one warning in all"
expect_rc 0
expect_count "$C/fg.err" "warning: " 1

t "the database is intact, the foreign write rolled back"
expect_q "$C/gua.db" "PRAGMA integrity_check" ok
ticks_csv "$C/gua.db" >"$C/rows"
TICKS=$(cut -d, -f2 "$C/rows" | sort -u | wc -l)
t "every tick sampled is in the database, each with both GPUs"
if [ "$TICKS" -eq "$(samples)" ] && [ "$(wc -l <"$C/rows")" -eq $((2 * TICKS)) ]
then ok; else fail "$TICKS ticks of $(samples) sampled"; fi
t "every tick printed is written, and in order"
if [ "$(printed)" -eq "$TICKS" ]; then ok; else
	fail "$(printed) printed, $TICKS written"; fi
# (A time on the second has no fraction: ".000" makes them sort.)
if cut -d, -f2 "$C/rows" | uniq | sed 's/:\([0-9][0-9]\)Z$/:\1.000Z/' |
    sort -c 2>/dev/null; then ok; else
	fail "ticks out of time order"; fi
t "spans stay positive and at most two intervals"
expect_ticks "$C/gua.db" '$3 < 1 || $3 > 100 { n++ } END { print n + 0 }' 0

finish_collector
