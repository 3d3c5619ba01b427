#!/bin/sh
# Runs every unit test binary given as an argument, then every black-box
# test in tests/cli/ (or in $TEST_DIR: tests/torture for make torture), and
# adds up their "tests: N passed, N failed" lines. Needs GUA: the gua
# binary under test.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
passed=0
failed=0
broken=""

tally() {	# name, output file, exit status
	line=$(grep -E '^tests: [0-9]+ passed, [0-9]+ failed$' "$2" | tail -n 1)
	if [ -z "$line" ]; then
		broken="$broken $1"
		failed=$((failed + 1))
		return
	fi
	p=$(echo "$line" | sed -E 's/tests: ([0-9]+) passed.*/\1/')
	f=$(echo "$line" | sed -E 's/.*passed, ([0-9]+) failed/\1/')
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$3" -ne 0 ] && [ "$f" -eq 0 ]; then
		broken="$broken $1"
		failed=$((failed + 1))
	fi
	printf '%-28s %s\n' "$1" "$line"
}

out=$(mktemp)
trap 'rm -f "$out"' EXIT
for t in "$@"; do
	"$t" >"$out" 2>&1
	rc=$?
	grep -v '^tests: ' "$out" >&2
	tally "$(basename "$t")" "$out" "$rc"
done
for t in "$top"/${TEST_DIR:-tests/cli}/test-*.sh; do
	[ -e "$t" ] || continue
	sh "$t" >"$out" 2>&1
	rc=$?
	grep -v '^tests: ' "$out" >&2
	tally "$(basename "$t")" "$out" "$rc"
done
[ -n "$broken" ] && echo "did not finish cleanly:$broken" >&2
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
