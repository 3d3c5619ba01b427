#!/bin/sh
# Privilege: NVML needs no root, so the collector runs as any user (here
# as nobody when the tests run as root); started as root it says once in
# its log that a dedicated user is recommended. And gua never runs
# another program through a shell.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/cli/collector-lib.sh
. "$HERE/collector-lib.sh"

NOTE="running as root: NVML needs no privileges; a dedicated unprivileged user is recommended"
P=$TMP/priv
mkdir "$P"
chmod 755 "$TMP"
chmod 1777 "$P"
start S1 sleep 1000
scenario <<EOF
tick 0
util 0 40
proc 0 $S1 3000
EOF
chmod 644 "$FAKE_NVML_SCENARIO"

# collect WHO [launcher...]: a background collector in P, a few ticks,
# then stopped by the same user.
collect() {
	_who=$1
	shift
	run "$@" "$GUA" daemon --nvml-library "$FAKE" --db "$P/$_who.db" \
	    --pid-file "$P/$_who.pid" --log-file "$P/$_who.log" --interval 50ms
	expect_rc 0
	expect_out "gua: collector running (PID "
	wait_until lines_at_least "$P/$_who.log" 1
	sleep 0.3
	run "$@" "$GUA" stop --pid-file "$P/$_who.pid"
	expect_rc 0
}

if [ "$(id -u)" -eq 0 ]; then
	t "started as root: runs, and says once that a dedicated user is recommended"
	collect root
	expect_count "$P/root.log" "$NOTE" 1
	t "... once for the whole run, not once per tick"
	expect_ticks "$P/root.db" 'END { print (NR > 3) }' 1
	if command -v setpriv >/dev/null 2>&1 && id nobody >/dev/null 2>&1; then
		AS="setpriv --reuid=nobody --regid=$(id -g nobody) --clear-groups"
		t "as nobody: the collector runs and records"
		collect nobody $AS
		expect_ticks "$P/nobody.db" '$10 == 1 && $11 ~ /^'"$S1"'\// { n++ }
		    END { print (n > 3) }' 1
		t "as nobody: its files are its own, 0640"
		got=$(stat -c '%U %a' "$P/nobody.db" "$P/nobody.log" | tr '\n' ' ')
		if [ "$got" = "nobody 640 nobody 640 " ]; then ok; else
			fail "$got"; fi
		t "as nobody: no note about root"
		expect_count "$P/nobody.log" "running as root" 0
		t "as nobody: status reads it, and root may report it"
		run $AS "$GUA" status --pid-file "$P/nobody.pid"
		expect_rc 3
		GUA_NOW='' run "$GUA" report --db "$P/nobody.db" --since 1d
		expect_rc 0
	else
		t "the collector as another user"
		skip "needs setpriv and a user nobody"
	fi
else
	t "started as $(id -un): runs, and no note about root"
	collect user
	expect_count "$P/user.log" "running as root" 0
fi

# Never a shell, and two execs (doctor's nvidia-smi -L, the collector's
# --notify-exec program): the check make lint runs, on the sources beside
# these tests.
t "no shell, system() or popen() in the sources; two execs, nvidia-smi -L and --notify-exec"
if sh "$HERE/../lint-banned.sh" "$HERE/../../src" >"$TMP/banned" 2>&1; then
	ok; else fail "$(cat "$TMP/banned")"; fi

finish_collector
