#!/bin/sh
# Runs every unit test binary given as an argument, then every black-box
# test in tests/cli/ (or in $TEST_DIR: tests/torture for make torture), and
# adds up their "tests: N passed, N failed[, K skipped]" lines. Needs GUA:
# the gua binary under test. T=NAME runs only the test file NAME (a unit
# test "test-store", a CLI test "test-daemon" or "test-daemon.sh").
# A test skipped for a missing tool is counted and its package named once
# at the end; under CI=true (.ci/run, which installs them all) a skip fails.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
passed=0
failed=0
skipped=0
ran=0
broken=""

tally() {	# name, output file, exit status
	line=$(grep -E '^tests: [0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$' \
	    "$2" | tail -n 1)
	if [ -z "$line" ]; then
		broken="$broken $1"
		failed=$((failed + 1))
		return
	fi
	p=$(echo "$line" | sed -E 's/tests: ([0-9]+) passed.*/\1/')
	f=$(echo "$line" | sed -E 's/.*passed, ([0-9]+) failed.*/\1/')
	s=$(echo "$line" | sed -E 's/.*failed(, ([0-9]+) skipped)?$/\2/')
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + ${s:-0}))
	if [ "$3" -ne 0 ] && [ "$f" -eq 0 ]; then
		broken="$broken $1"
		failed=$((failed + 1))
	fi
	printf '%-28s %s\n' "$1" "$line"
}

# selected NAME: whether T (if set) names this test file.
selected() {
	[ -z "${T:-}" ] || [ "$1" = "$T" ] || [ "$1" = "$T.sh" ]
}

out=$(mktemp)
GUA_SKIPPED=$(mktemp)
export GUA_SKIPPED
trap 'rm -f "$out" "$GUA_SKIPPED"' EXIT
for t in "$@"; do
	selected "$(basename "$t")" || continue
	ran=$((ran + 1))
	"$t" >"$out" 2>&1
	rc=$?
	grep -v '^tests: ' "$out" >&2
	tally "$(basename "$t")" "$out" "$rc"
done
for t in "$top"/${TEST_DIR:-tests/cli}/test-*.sh; do
	[ -e "$t" ] || continue
	selected "$(basename "$t")" || continue
	ran=$((ran + 1))
	sh "$t" >"$out" 2>&1
	rc=$?
	grep -v '^tests: ' "$out" >&2
	tally "$(basename "$t")" "$out" "$rc"
done
if [ "$ran" -eq 0 ]; then
	echo "no test file is named '${T:-}'" >&2
	failed=$((failed + 1))
fi
[ -n "$broken" ] && echo "did not finish cleanly:$broken" >&2
if [ "$skipped" -gt 0 ]; then
	# (Only the skips for a missing tool name a package.)
	[ -s "$GUA_SKIPPED" ] && echo "skipped tests need: apt-get install" \
	    "$(sort -u "$GUA_SKIPPED" | tr '\n' ' ' | sed 's/ $//')"
	echo "tests: $passed passed, $failed failed, $skipped skipped"
else
	echo "tests: $passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
