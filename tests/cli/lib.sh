# shellcheck shell=sh
# Black-box test helpers: run the real gua binary ($GUA) and check what it
# printed, its exit status and the files it touched. Every expect_* is one
# test; finish prints "tests: N passed, N failed" (", K skipped" after it
# when a test needed a tool this machine lacks).
set -u
: "${GUA:?set GUA to the gua binary under test}"
T_PASS=0
T_FAIL=0
T_SKIP=0
T_NAME=""
TMP=$(mktemp -d "${TMPDIR:-/tmp}/gua-cli-XXXXXX")
trap 'rm -rf "$TMP"' EXIT
HERE=$(cd "$(dirname "$0")" && pwd)
# A fixed "now" makes reports reproducible (see ENVIRONMENT in gua.1).
# shellcheck disable=SC2034 # used by the tests that source this file
NOW=2026-11-25T10:30:00Z
# The text report draws UTF-8 only where the locale says it can (ASCII
# otherwise): the tests read it in UTF-8, whatever the machine's locale,
# and set LC_ALL=C where they check the ASCII one. Times are UTC unless
# --tz says otherwise, whatever TZ the machine has, and §6 is cut to the
# width a pipe gets (no COLUMNS).
LC_ALL=C.UTF-8
export LC_ALL
unset TZ COLUMNS

t() { T_NAME=$*; }
ok() { T_PASS=$((T_PASS + 1)); }
fail() { T_FAIL=$((T_FAIL + 1)); echo "FAIL: $T_NAME: $*" >&2; }
# skip WHY [PACKAGE]: the test cannot run here (a tool is missing, or it
# needs root): said and counted, never passed. PACKAGE, the Debian package
# that would run it, goes to $GUA_SKIPPED for run.sh's closing advice.
# Under CI=true, where .ci/run installs every tool, a skip is a failure.
skip() {
	if [ "${CI:-}" = true ]; then
		fail "skipped, and CI runs everything: $1"
		return
	fi
	T_SKIP=$((T_SKIP + 1))
	echo "SKIP: $T_NAME: $1" >&2
	if [ -n "${2:-}" ] && [ -n "${GUA_SKIPPED:-}" ]; then
		echo "$2" >>"$GUA_SKIPPED"
	fi
}
# need TOOL PACKAGE: whether TOOL is on PATH; when not, the test is
# skipped (see skip) and need returns 1.
need() {
	command -v "$1" >/dev/null 2>&1 && return 0
	skip "needs $1 (apt-get install $2)" "$2"
	return 1
}

# run CMD...: stdout to $TMP/out, stderr to $TMP/err, status in RC.
run() { "$@" >"$TMP/out" 2>"$TMP/err"; RC=$?; }
gua() { run "$GUA" "$@"; }

expect_rc() {
	if [ "$RC" -eq "$1" ]; then ok; else
		fail "exit $RC, want $1; stderr: $(head -c 400 "$TMP/err")"; fi
}
expect_out() {
	if grep -qF -- "$1" "$TMP/out"; then ok; else
		fail "stdout lacks '$1'"; fi
}
expect_no_out() {
	if grep -qF -- "$1" "$TMP/out"; then fail "stdout has '$1'"; else
		ok; fi
}
expect_err() {
	if grep -qF -- "$1" "$TMP/err"; then ok; else
		fail "stderr lacks '$1': $(head -c 400 "$TMP/err")"; fi
}
expect_empty_out() {
	if [ -s "$TMP/out" ]; then fail "stdout not empty"; else ok; fi
}
expect_empty_err() {
	if [ -s "$TMP/err" ]; then fail "stderr: $(head -c 400 "$TMP/err")"
	else ok; fi
}
# The error is one line (plus, for usage errors, one "Try" hint line).
expect_err_lines() {
	n=$(wc -l <"$TMP/err")
	if [ "$n" -eq "$1" ]; then ok; else
		fail "stderr has $n lines, want $1: $(head -c 400 "$TMP/err")"; fi
}
expect_file() {
	if [ -e "$1" ]; then ok; else fail "$1 does not exist"; fi
}
expect_no_file() {
	if [ -e "$1" ] || [ -L "$1" ]; then fail "$1 exists"; else ok; fi
}
# tmp_left DIR: the names of gua's temporary files left in DIR, one a line.
tmp_left() {
	find "$1" -mindepth 1 -maxdepth 1 -name '*gua-tmp*' -printf '%f\n'
}
# expect_same FILE COPY: FILE is byte for byte what COPY holds.
expect_same() {
	if cmp -s "$1" "$2"; then ok; else fail "$1 changed"; fi
}

# expect_q DB SQL WANT: the query gives WANT.
expect_q() {
	_got=$(sqlite3 "$1" "$2" 2>&1)
	if [ "$_got" = "$3" ]; then ok; else
		fail "$2: got '$_got', want '$3'"; fi
}

# procs DB SQL: SQL on DB's process identities as one table, procs (they
# are packed in the file: tests/unit/procs-sql.c); an UPDATE writes them
# back. expect_procs DB SQL WANT: its result is WANT.
procs() { "$PROCS_SQL" "$1" "$2"; }
expect_procs() {
	_got=$(procs "$1" "$2" 2>&1)
	if [ "$_got" = "$3" ]; then ok; else
		fail "$2: got '$_got', want '$3'"; fi
}

# leave_hot_journal DB SQL: runs SQL in an open transaction with a tiny
# page cache, so pages reach the file, then dies without committing: the
# file is left with a hot journal, as after a crash or a power loss.
leave_hot_journal() {
	"${PYTHON:-python3}" - "$1" "$2" <<'PYEOF'
import os, sqlite3, sys
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("PRAGMA journal_mode=DELETE")
c.execute("PRAGMA cache_size=1")
c.execute("BEGIN")
c.execute(sys.argv[2])
os._exit(0)
PYEOF
}

finish() {
	if [ "$T_SKIP" -gt 0 ]; then
		echo "tests: $T_PASS passed, $T_FAIL failed, $T_SKIP skipped"
	else
		echo "tests: $T_PASS passed, $T_FAIL failed"
	fi
	[ "$T_FAIL" -eq 0 ]
}

# A python3 for the format checks: one with jsonschema (Debian's
# python3-jsonschema, which .ci/run installs) if there is one. Empty when
# there is no python3 at all.
PYTHON=""
for p in /usr/bin/python3 python3; do
	if "$p" -c 'import jsonschema' >/dev/null 2>&1; then PYTHON=$p; break; fi
done
if [ -z "$PYTHON" ] && command -v python3 >/dev/null 2>&1; then
	PYTHON=python3
fi
# check NAME FILE...: one test, tests/cli/check-formats.py NAME holds
# (exit 77: a module it needs is missing, the test is skipped).
check() {
	if [ -z "$PYTHON" ]; then
		skip "needs python3 (apt-get install python3)" python3
		return
	fi
	"$PYTHON" "$HERE/check-formats.py" "$@" >"$TMP/check" 2>&1
	case $? in
	0) ok ;;
	77) skip "$(head -c 200 "$TMP/check")" python3-jsonschema ;;
	*) fail "$(head -c 600 "$TMP/check")" ;;
	esac
}

# The original tool's tables (shared/reference/original-schema.md).
ORIGINAL_SCHEMA="CREATE TABLE host(hostname TEXT NOT NULL,
    env_kind TEXT NOT NULL, driver_version TEXT, first_seen DATETIME,
    last_seen DATETIME); CREATE TABLE gpu_sample(ts DATETIME NOT NULL,
    gpu_uuid TEXT NOT NULL, util_pct INTEGER NOT NULL);
    CREATE TABLE proc_sample(ts DATETIME NOT NULL,
    gpu_uuid TEXT NOT NULL, pid INTEGER NOT NULL,
    mem_used_mb INTEGER NOT NULL, loginuid_user TEXT);"
# make_original_db FILE: a small database of the original tool, one tick.
make_original_db() {
	sqlite3 "$1" "$ORIGINAL_SCHEMA
	    INSERT INTO host VALUES('h', 'bare', '560', '2026-11-25T09:00:00',
	    '2026-11-25T09:01:00');
	    INSERT INTO gpu_sample VALUES('2026-11-25T09:00:00', 'GPU-a', 5);"
}

# ---- Bad databases, for the tests of every command that takes one.
# make_bad_dbs GOOD DIR: in DIR, one of each kind of file a command must
# refuse as a database, made from GOOD (a gua database), with a copy of
# each regular file as NAME.orig in DIR.orig and the listing in DIR.ls.
# shellcheck disable=SC2034 # used by the tests that source this file
BAD_DBS="missing.db dir.db empty.db random.db truncated.db header.db
fifo.db other.db original.db newer.db readonly.db"
make_bad_dbs() {
	mkdir -p "$2" "$2.orig"
	mkdir "$2/dir.db"
	: >"$2/empty.db"
	head -c 8192 /dev/urandom >"$2/random.db"
	head -c 3000 "$1" >"$2/truncated.db"
	printf 'SQLite format 3\000' >"$2/header.db"
	mkfifo "$2/fifo.db"
	sqlite3 "$2/other.db" "CREATE TABLE notes(x); INSERT INTO notes VALUES('hi');"
	sqlite3 "$2/original.db" "CREATE TABLE host(hostname TEXT NOT NULL,
	    env_kind TEXT NOT NULL, driver_version TEXT, first_seen DATETIME,
	    last_seen DATETIME); CREATE TABLE gpu_sample(ts DATETIME NOT NULL,
	    gpu_uuid TEXT NOT NULL, util_pct INTEGER NOT NULL);"
	cp "$1" "$2/newer.db"
	sqlite3 "$2/newer.db" "PRAGMA user_version=8"
	cp "$1" "$2/readonly.db"
	chmod 0444 "$2/readonly.db"
	for _f in "$2"/*.db; do
		[ -f "$_f" ] && cp -p "$_f" "$2.orig/"
	done
	bad_listing "$2" >"$2.ls"
}
# The names, sizes and times in DIR and DIR/dir.db, and theirs: a file
# made and removed again still changes the directory's time.
bad_listing() {
	ls -lA --time-style=full-iso "$1" "$1/dir.db"
	ls -ld --time-style=full-iso "$1" "$1/dir.db"
}
# bad_db_says NAME: what a command that reads NAME as a gua database says
# about it (after "PATH: ").
bad_db_says() {
	case $1 in
	missing.db) echo "no such file" ;;
	dir.db) echo "is a directory" ;;
	empty.db) echo "empty file, not a gua database" ;;
	random.db | header.db) echo "not a SQLite file" ;;
	truncated.db) echo "" ;;	# SQLite's own word for it
	fifo.db) echo "not a regular file" ;;
	other.db) echo "a SQLite file, but not a gua database" ;;
	original.db) echo "a SQLite file, but not a gua database (a gpu-usage-audit 1.0" ;;
	newer.db) echo "written by a newer gua (schema 8" ;;
	readonly.db) echo "read-only (mode 0444); refusing to write it" ;;
	esac
}
# expect_untouched DIR NAME: NAME is byte for byte as make_bad_dbs made
# it, and nothing appeared or changed in DIR (no -wal, -shm, -journal).
expect_untouched() {
	if [ -f "$1/$2" ] && ! cmp -s "$1/$2" "$1.orig/$2"; then
		fail "$2 changed"
	elif ! bad_listing "$1" | cmp -s - "$1.ls"; then
		fail "$1 changed: $(bad_listing "$1" | diff "$1.ls" - |
		    grep '^[<>]' | head -3 | tr '\n' ' ')"
	else
		ok
	fi
}
