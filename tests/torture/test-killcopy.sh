#!/bin/sh
# Crash safety of the commands that write a whole new database: gua
# import and gua backup, each killed with SIGKILL at a random moment of
# its run 50 times. After every kill the target is absent or a complete
# database (it passes SQLite's check and report shows all its ticks),
# never a partial one; and a run again succeeds, removing what the
# killed one left (.NAME.gua-tmp-PID).
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/../cli/lib.sh"

RUNS=${KILLCOPY_RUNS:-50}
K=$TMP/kc
mkdir "$K"
OLD=$K/old.db
# An original database of 60000 ticks (two GPUs, a process that changes
# every 50 ticks): an import takes a good part of a second.
sqlite3 "$OLD" "$ORIGINAL_SCHEMA
    INSERT INTO host VALUES('h', 'bare', '560', '2026-01-01T00:00:00',
    '2026-01-21T00:00:00');
    WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n
	WHERE i < 59999)
    INSERT INTO gpu_sample SELECT strftime('%Y-%m-%dT%H:%M:%S',
	1767225600 + 30 * i, 'unixepoch'), 'GPU-' || g, (i * 7 + g) % 100
	FROM n, (SELECT 0 AS g UNION ALL SELECT 1);
    WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n
	WHERE i < 59999)
    INSERT INTO proc_sample SELECT strftime('%Y-%m-%dT%H:%M:%S',
	1767225600 + 30 * i, 'unixepoch'), 'GPU-0', 1000 + (i / 50) % 40,
	500 + i % 3, 'u' FROM n;"

# samples DB: the report's sample count of DB's whole history ("" when
# report fails).
samples() {
	GUA_NOW=2026-02-01T00:00:00Z "$GUA" report --db "$1" --since 36500d \
	    2>/dev/null | sed -n 's/^  (\([0-9]*\) samples)$/\1/p'
}
now_ms() { date +%s%3N; }
# delay MS: a random delay of 0 to MS milliseconds, as seconds.
delay() {
	od -An -N4 -tu4 /dev/urandom |
	    awk -v m="$1" '{ printf "%.3f", ($1 % (m + 1)) / 1000 }'
}
# leftovers DIR: gua's temporary files in DIR.
leftovers() { tmp_left "$1" | wc -l; }

# torture NAME CMD...: CMD writes $TARGET; kills it RUNS times.
torture() {
	_name=$1
	shift
	rm -f "$TARGET"
	_t0=$(now_ms)
	"$@" >/dev/null 2>&1 || fail "a clean $_name failed"
	_span=$(( $(now_ms) - _t0 ))
	WANT=$(samples "$TARGET")
	rm -f "$TARGET"
	t "a clean $_name gives a history of samples"
	if [ -n "$WANT" ] && [ "$WANT" -gt 100000 ]; then ok; else
		fail "'$WANT' samples"; fi
	_whole=0 _partial=0 _absent=0 _rerun=0 _left=0 _stale=0
	_i=1
	while [ "$_i" -le "$RUNS" ]; do
		"$@" >/dev/null 2>&1 &
		_pid=$!
		sleep "$(delay $((_span * 3 / 4)))"
		kill -9 "$_pid" 2>/dev/null
		wait "$_pid" 2>/dev/null
		if [ -e "$TARGET" ] || [ -L "$TARGET" ]; then
			if [ "$(sqlite3 "$TARGET" 'PRAGMA integrity_check' \
			    2>&1)" = ok ] &&
			    [ "$(samples "$TARGET")" = "$WANT" ]; then
				_whole=$((_whole + 1))
			else
				_partial=$((_partial + 1))
				echo "$_name run $_i: a partial $TARGET" >&2
			fi
		else
			_absent=$((_absent + 1))
			_stale=$((_stale + $(leftovers "$(dirname "$TARGET")")))
			# Run again: it removes the stale file and succeeds.
			if "$@" >/dev/null 2>"$K/err" &&
			    [ "$(samples "$TARGET")" = "$WANT" ]; then
				_rerun=$((_rerun + 1))
			else
				echo "$_name run $_i: run again: $(cat "$K/err")" >&2
			fi
			_left=$((_left + $(leftovers "$(dirname "$TARGET")")))
		fi
		rm -f "$TARGET"
		_i=$((_i + 1))
	done
	echo "$_name: $RUNS kills over ${_span} ms runs: $_absent left no" \
	    "target ($_stale temporary files, all removed by the next" \
	    "run: $_left left), $_whole a whole one, $_partial a partial one" >&2
	t "$_name killed $RUNS times: never a partial target"
	if [ "$_partial" -eq 0 ]; then ok; else fail "$_partial partial"; fi
	t "$_name killed $RUNS times: every run again succeeded"
	if [ "$_rerun" -eq "$_absent" ]; then ok; else
		fail "$((_absent - _rerun)) of $_absent failed"; fi
	t "$_name: the runs again removed what the killed ones left"
	if [ "$_left" -eq 0 ]; then ok; else fail "$_left files left"; fi
	# Where the kills fall depends on the machine's load; a tenth of
	# them while it writes is what makes the test mean something.
	t "$_name: kills came while it was writing"
	if [ "$_absent" -ge $((RUNS / 10)) ]; then ok; else
		fail "only $_absent of $RUNS"; fi
}

TARGET=$K/new.db
torture import "$GUA" import "$OLD" --db "$TARGET"

# The source of the backups: the converted history.
"$GUA" import "$OLD" --db "$K/src.db" >/dev/null 2>&1 || fail "import failed"
TARGET=$K/copy.db
torture backup "$GUA" backup --db "$K/src.db" "$TARGET"

finish
