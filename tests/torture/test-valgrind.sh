#!/bin/sh
# The collector under valgrind's memcheck, against the fake NVML, for a
# few hundred ticks with processes coming and going, one that exits on
# the way, the textfile, ticks that wait while another process holds the
# write lock, and a SIGTERM at the end: no invalid read or
# write, no use of uninitialised memory, no definite leak.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/../cli/lib.sh"
HERE=$(cd "$(dirname "$0")/../cli" && pwd)
# shellcheck source=tests/cli/collector-lib.sh
. "$HERE/collector-lib.sh"

t "the collector under valgrind"
if ! need valgrind valgrind; then
	finish
	exit
fi
V=$TMP/vg
mkdir "$V"
start S1 sleep 1000
start S2 sleep 1001
start S3 sleep 1002
scenario <<EOF
gpus 2
loop
tick 0
util 0 80
proc 0 $S1 3000
proc 1 $S2 200
tick 1
util 1 3
proc 0 $S3 500
proc 1 $S2 200
tick 2
proc 0 $S1 3000
proc 0 $S3 800
EOF
start COL valgrind --quiet --error-exitcode=99 --leak-check=full \
    --errors-for-leak-kinds=definite --track-origins=yes \
    --log-file="$V/valgrind.log" "$GUA" daemon --foreground \
    --nvml-library "$FAKE" --db "$V/gua.db" --pid-file "$V/gua.pid" \
    --interval 20ms --textfile-dir "$V" >"$V/fg.out" 2>"$V/fg.err"
WAIT_S=300
wait_until lines_at_least "$V/fg.out" 200
kill "$S3"
# A foreign write lock for a while: ticks wait in memory, then are
# written together.
start HOLDER sh -c "{ echo '.timeout 10000'; echo 'BEGIN IMMEDIATE;';
    echo \"SELECT 'held';\"; sleep 1; echo 'ROLLBACK;'; } |
    sqlite3 '$V/gua.db' >'$V/holder.out' 2>&1"
wait_until gone "$HOLDER"
n=$(wc -l <"$V/fg.out")
wait_until lines_at_least "$V/fg.out" $((n + 200))
kill -TERM "$COL"
wait "$COL"
RC=$?
t "memcheck: no error and no definite leak in $(wc -l <"$V/fg.out") ticks"
expect_rc 0
# Its errors are the "==PID==" lines ("--PID--" lines are notes, such as
# a valgrind too old to know pidfd_open: gua then reads /proc instead).
if grep -q '^==[0-9]*==' "$V/valgrind.log"; then
	fail "$(grep '^==[0-9]*==' "$V/valgrind.log" | head -c 2000)"
else ok; fi
t "the run under valgrind recorded its ticks, some after waiting"
expect_count "$V/fg.err" "stopping on SIGTERM" 1
expect_count "$V/fg.err" "none was lost" 1

finish_collector
