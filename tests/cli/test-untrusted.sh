#!/bin/sh
# Untrusted text, end to end: a real process whose name (comm) is an
# escape sequence with a newline in it, whose command line holds
# newlines, quotes, commas, a spreadsheet formula, markup, ANSI colours,
# a bidirectional override, an invalid byte and more than fits, and (as
# root) whose user name has quotes, a backslash and an escape sequence.
# The collector records it from /proc; every output escapes it for its
# destination: terminal text, JSON, CSV, HTML and Prometheus labels.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/cli/collector-lib.sh
. "$HERE/collector-lib.sh"

if [ -z "$PYTHON" ]; then
	t "python3 is needed to start the process and read the formats"
	fail "python3 not found"
	finish
	exit 1
fi
U=$TMP/untrusted
mkdir -p "$U/bin" "$U/tf"
# The kernel names a process after its executable's file (15 bytes at
# most): OSC "set title", BEL, a newline, a formula, markup, "clear".
NAME=$(printf '\033]0;\007\n=X<b>\033[2J')
EVIL=$U/bin/$NAME
cp "$(command -v sleep)" "$EVIL"
ARGV0=$(printf '=cmd|"/c calc"!A1,\n"quoted", <script>alert(1)</script> \033[31mred\033[0m \377 \342\200\256evil tab\there ')$(head -c 1500 /dev/zero | tr '\0' x)
# start_as VAR [setpriv...]: the hostile process, exec'd with that argv[0].
start_evil() {
	_v=$1
	shift
	start "$_v" "$@" "$PYTHON" -c 'import os, sys
os.execv(os.fsencode(sys.argv[1]), [os.fsencode(sys.argv[2]), b"1000"])' \
	    "$EVIL" "$ARGV0"
}
start_evil P1
wait_until comm_is "$P1" "$NAME"
t "the process is named by the escape sequence"
if [ "$(cat "/proc/$P1/comm")" = "$NAME" ]; then ok; else
	fail "comm is $(od -c "/proc/$P1/comm" | head -2)"; fi

# As root, a second one under a uid whose name (from a private
# /etc/passwd, in a mount namespace of the collector only) is hostile.
HUSER=$(printf '"\033[31m\\x"{evil}')
HUID=4242
P2=""
COLLECT=""
if [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null 2>&1 &&
    command -v setpriv >/dev/null 2>&1 &&
    unshare -m true 2>/dev/null; then
	{ cat /etc/passwd; printf '%s:x:%d:%d::/:/bin/false\n' "$HUSER" \
	    "$HUID" "$HUID"; } >"$U/passwd"
	chmod 755 "$TMP" "$U" "$U/bin"
	start_evil P2 setpriv --reuid=$HUID --regid=$HUID --clear-groups
	wait_until comm_is "$P2" "$NAME"
	if [ "$(cat "/proc/$P2/loginuid")" = 4294967295 ]; then
		COLLECT="unshare -m --propagation private sh -c"
	fi
fi

scenario <<EOF
gpus 2
tick 0
util 0 0
proc 0 $P1 5000
util 1 0
${P2:+proc 1 $P2 3000}
EOF
if [ -n "$COLLECT" ]; then
	start COL $COLLECT 'mount --bind "$0" /etc/passwd && exec "$@"' \
	    "$U/passwd" "$GUA" daemon --foreground --nvml-library "$FAKE" \
	    --db "$U/gua.db" --pid-file "$U/gua.pid" --interval 50ms \
	    --textfile-dir "$U/tf" >"$U/fg.out" 2>"$U/fg.err"
else
	start COL "$GUA" daemon --foreground --nvml-library "$FAKE" \
	    --db "$U/gua.db" --pid-file "$U/gua.pid" --interval 50ms \
	    --textfile-dir "$U/tf" >"$U/fg.out" 2>"$U/fg.err"
fi
wait_until lines_at_least "$U/fg.out" 5
# The textfile goes with a clean stop: a copy while it runs.
cp "$U/tf/gua.prom" "$U/gua.prom"
kill -TERM "$COL"
wait "$COL"
RC=$?
t "the collector recorded the hostile processes and stopped cleanly"
expect_rc 0

# What the checks compare with: the kernel's own bytes.
printf '%s' "$NAME" >"$U/comm.raw"
cp "/proc/$P1/cmdline" "$U/cmdline.raw"
sed -n 's/^#define IDENTITY_CMDLINE_MAX[^0-9]*\([0-9]*\).*/\1/p' \
    "$HERE/../../src/identity.h" >"$U/cmdline.max"
: >"$U/user.raw"

D=""
rep() { GUA_NOW='' run "$GUA" report --db "$U/gua.db" --since 1d "$@"; }
for _ in 1 2; do
	t "text report$D: escaped for the terminal, nothing raw"
	rep
	expect_rc 0
	cp "$TMP/out" "$U/report.txt"
	check untrusted text "$U" "$U/report.txt"
	t "JSON report$D: the exact text, validly escaped"
	rep --format json
	expect_rc 0
	cp "$TMP/out" "$U/report.json"
	check untrusted json "$U" "$U/report.json"
	check schema "$HERE/../../docs/gua-report.schema.json" "$U/report.json"
	t "CSV sessions$D: the exact text, RFC 4180, no formula"
	rep --format csv --table sessions
	expect_rc 0
	cp "$TMP/out" "$U/sessions.csv"
	check untrusted csv "$U" "$U/sessions.csv"
	t "CSV identities$D: the same"
	rep --format csv --table identities
	expect_rc 0
	cp "$TMP/out" "$U/identities.csv"
	check untrusted csv "$U" "$U/identities.csv"
	t "CSV processes$D: the same, tick by tick"
	rep --format csv --table processes
	expect_rc 0
	cp "$TMP/out" "$U/processes.csv"
	check untrusted csv "$U" "$U/processes.csv"
	t "HTML report$D: shown as text, no markup or escape acts"
	rep --format html
	expect_rc 0
	cp "$TMP/out" "$U/report.html"
	check untrusted html "$U" "$U/report.html"
	t "Prometheus textfile$D: label values escaped, every line parses"
	check untrusted prom "$U" "$U/gua.prom"
	# The second pass: the process of the hostile user.
	[ -n "$COLLECT" ] || break
	D=" (hostile user)"
	cp "/proc/$P2/cmdline" "$U/cmdline.raw"
	printf '%s' "$HUSER" >"$U/user.raw"
done
if [ -z "$COLLECT" ]; then
	t "a user name with quotes, a backslash and an escape sequence"
	skip "needs root, unshare and setpriv, and processes without a loginuid"
fi

finish_collector
