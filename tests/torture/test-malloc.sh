#!/bin/sh
# Allocation failures, exercised: the Nth allocation gua makes (malloc,
# calloc, realloc, posix_memalign: tests/torture/failmalloc.c, preloaded)
# fails, for every N of a report, of an import and of a collector's tick
# (and every Kth of the collector's start). Each run must end with 0, or
# with 1 and one line that says why: never a crash, never a second line
# from a report; the database a report reads stays byte for byte; what an
# import or the collector leaves is whole (SQLite's integrity check, and a
# report reads it).
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/../cli/lib.sh"
HERE=$(cd "$(dirname "$0")/../cli" && pwd)
# shellcheck source=tests/cli/collector-lib.sh
. "$HERE/collector-lib.sh"
: "${FAILMALLOC:?set FAILMALLOC to failmalloc.so (make torture does)}"

M=$TMP/malloc
mkdir "$M"
# count FILE CMD...: the allocations CMD makes, none failed.
count() {
	_f=$1
	shift
	FAILMALLOC_N=0 FAILMALLOC_COUNT=$_f LD_PRELOAD=$FAILMALLOC "$@" \
	    >/dev/null 2>&1
	cat "$_f"
}
# at N CMD...: CMD with its Nth allocation failing; RC, $M/err.
at() {
	_n=$1
	shift
	FAILMALLOC_N=$_n LD_PRELOAD=$FAILMALLOC "$@" >"$M/out" 2>"$M/err"
	RC=$?
}

# ---- a report
GUA_NOW=$NOW "$GUA" demo --db "$M/demo.db" --ticks 40 >/dev/null
cp "$M/demo.db" "$M/pristine.db"
GUA_NOW=$NOW
export GUA_NOW
n=$(count "$M/n" "$GUA" report --db "$M/demo.db" --since 1d)
t "report: $n allocations, each failing in turn"
bad=""
i=1
while [ "$i" -le "$n" ]; do
	at "$i" "$GUA" report --db "$M/demo.db" --since 1d
	if [ "$RC" -ne 0 ] && { [ "$RC" -ne 1 ] ||
	    [ "$(wc -l <"$M/err")" -ne 1 ]; }; then
		bad="$bad $i:rc$RC:$(head -c 100 "$M/err" | tr '\n' '|')"
	fi
	cmp -s "$M/demo.db" "$M/pristine.db" || bad="$bad $i:changed"
	i=$((i + 1))
done
if [ -z "$bad" ]; then ok; else fail "$(echo "$bad" | head -c 600)"; fi

# ---- an import
make_original_db "$M/old.db"
n=$(count "$M/n" "$GUA" import "$M/old.db" --db "$M/count.db")
t "import: $n allocations, each failing in turn"
bad=""
i=1
while [ "$i" -le "$n" ]; do
	rm -f "$M/new.db"
	at "$i" "$GUA" import "$M/old.db" --db "$M/new.db"
	if [ "$RC" -ne 0 ] && [ "$RC" -ne 1 ]; then
		bad="$bad $i:rc$RC"
	elif [ -e "$M/new.db" ] && ! "$GUA" report --db "$M/new.db" \
	    --since 36500d >/dev/null 2>&1; then
		bad="$bad $i:left-a-broken-db"
	elif [ "$RC" -eq 1 ] && [ -e "$M/new.db" ]; then
		bad="$bad $i:failed-but-left-new.db"
	fi
	i=$((i + 1))
done
if [ -z "$bad" ]; then ok; else fail "$(echo "$bad" | head -c 600)"; fi

# ---- the collector: every allocation of its second tick, every Kth of
# its start and first tick (a run is a tenth of a second or more).
start S1 sleep 1000
scenario <<EOF
gpus 2
tick 0
util 0 90
proc 0 $S1 4000 sm=50
util 1 3
proc 1 $S1 2000
EOF
# collect N TICKS: the collector with its Nth allocation failing, stopped
# once it printed TICKS lines (or exited); RC its status.
collect() {
	rm -f "$M"/c.*
	: >"$M/c.out"
	FAILMALLOC_N=$1 FAILMALLOC_COUNT=$M/c.count LD_PRELOAD=$FAILMALLOC \
	    "$GUA" daemon --foreground --nvml-library "$FAKE" \
	    --db "$M/c.db" --pid-file "$M/c.pid" --interval 100ms \
	    >"$M/c.out" 2>"$M/c.err" &
	_p=$!
	_w=0
	while [ "$_w" -lt 100 ] && kill -0 "$_p" 2>/dev/null &&
	    [ "$(wc -l <"$M/c.out")" -lt "$2" ]; do
		sleep 0.05
		_w=$((_w + 1))
	done
	kill -TERM "$_p" 2>/dev/null
	wait "$_p"
	RC=$?
}
collect 0 1
one=$(cat "$M/c.count")
collect 0 2
two=$(cat "$M/c.count")
t "collector: allocations $((one + 1))-$two (its second tick) and every 10th before, each failing"
bad=""
i=1
while [ "$i" -le "$two" ]; do
	collect "$i" 2
	if [ "$RC" -ne 0 ] && [ "$RC" -ne 1 ]; then
		bad="$bad $i:rc$RC"
	elif [ -e "$M/c.db" ] && [ "$(sqlite3 "$M/c.db" \
	    'PRAGMA integrity_check' 2>&1)" != ok ]; then
		bad="$bad $i:damaged"
	fi
	if [ "$i" -le "$one" ]; then i=$((i + 10)); else i=$((i + 1)); fi
done
if [ -z "$bad" ]; then ok; else fail "$(echo "$bad" | head -c 600)"; fi

finish_collector
