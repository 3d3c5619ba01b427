# Black-box test helpers: run the real gua binary ($GUA) and check what it
# printed, its exit status and the files it touched. Every expect_* is one
# test; finish prints "tests: N passed, N failed".
set -u
: "${GUA:?set GUA to the gua binary under test}"
T_PASS=0
T_FAIL=0
T_NAME=""
TMP=$(mktemp -d "${TMPDIR:-/tmp}/gua-cli-XXXXXX")
trap 'rm -rf "$TMP"' EXIT
HERE=$(cd "$(dirname "$0")" && pwd)
# A fixed "now" makes reports reproducible (see ENVIRONMENT in gua.1).
NOW=2026-11-25T10:30:00Z

t() { T_NAME=$*; }
ok() { T_PASS=$((T_PASS + 1)); }
fail() { T_FAIL=$((T_FAIL + 1)); echo "FAIL: $T_NAME: $*" >&2; }

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
# expect_same FILE COPY: FILE is byte for byte what COPY holds.
expect_same() {
	if cmp -s "$1" "$2"; then ok; else fail "$1 changed"; fi
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
	echo "tests: $T_PASS passed, $T_FAIL failed"
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
# check NAME FILE...: one test, tests/cli/check-formats.py NAME holds.
check() {
	if [ -z "$PYTHON" ]; then
		fail "python3 is needed for the format checks"
		return
	fi
	if "$PYTHON" "$HERE/check-formats.py" "$@" >"$TMP/check" 2>&1; then ok
	else fail "$(head -c 600 "$TMP/check")"; fi
}
