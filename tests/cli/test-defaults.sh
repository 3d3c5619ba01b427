#!/bin/sh
# The default files, out of /tmp: for root /var/lib/gua/gua.db,
# /run/gua/gua.pid and /var/log/gua.log; for another user the database
# and log in $XDG_STATE_HOME/gua (~/.local/state/gua without it) and the
# PID file in $XDG_RUNTIME_DIR (the state directory without it). Every
# command takes the same ones; the collector makes gua's own directory
# 0750 when it is missing, only that last component and never through a
# symbolic link.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/cli/collector-lib.sh
. "$HERE/collector-lib.sh"

start SLEEP sleep 1000
scenario <<EOF
tick 0
util 0 70
proc 0 $SLEEP 1500
EOF
chmod 755 "$TMP"
chmod 644 "$FAKE_NVML_SCENARIO"
# Collectors whose PID files the usual cleanup does not find: stopped
# however the test ends (the one in a mount namespace by its PID).
stop_all() {
	for pf in "$TMP"/u/home/.local/state/gua/gua.pid "$TMP"/u/xr/gua.pid; do
		[ -e "$pf" ] && "$GUA" stop --pid-file "$pf" >/dev/null 2>&1
	done
	[ -s "$TMP/ns-pid" ] && kill "$(cat "$TMP/ns-pid")" 2>/dev/null
	cleanup
}
trap stop_all EXIT

# says_defaults DB PID LOG: gua help and each command's help name them.
says_defaults() {
	expect_out "Default files for this user (--db, --pid-file, --log-file):"
	expect_out "  $1"
	expect_out "  $2"
	expect_out "  $3"
}

if [ "$(id -u)" -eq 0 ]; then
	ROOTDB=/var/lib/gua/gua.db
	ROOTPID=/run/gua/gua.pid
	ROOTLOG=/var/log/gua.log
	# XDG variables are a login's, not root's: they change nothing.
	export XDG_STATE_HOME="$TMP/xdg-state" XDG_RUNTIME_DIR="$TMP/xdg-run"
	t "as root: gua help names /var/lib/gua/gua.db, /run/gua/gua.pid, /var/log/gua.log"
	gua help
	expect_rc 0
	says_defaults $ROOTDB $ROOTPID $ROOTLOG
	for c in daemon start status stop report doctor backup; do
		t "as root: gua $c --help names the same defaults"
		gua "$c" --help
		expect_rc 0
		says_defaults $ROOTDB $ROOTPID $ROOTLOG
	done
	t "as root: doctor and status use them"
	gua doctor --json --nvml-library "$TMP/none.so"
	expect_out "\"database\": \"$ROOTDB\""
	expect_out "\"pid_file\": \"$ROOTPID\""
	gua status --json
	expect_out "\"pid_file\": \"$ROOTPID\""
	unset XDG_STATE_HOME XDG_RUNTIME_DIR

	# The collector with every default, in a mount namespace of its own
	# where /var/lib, /run and /var/log are empty: the host's are never
	# touched.
	if unshare -m true 2>/dev/null; then
		unshare -m sh -c '
		    for d in /var/lib /run /var/log; do
			mount -t tmpfs -o mode=0755 none $d || exit 99
		    done
		    umask 022
		    "$0" daemon --nvml-library "$1" --interval 100ms
		    echo "daemon $?"
		    head -n 1 /run/gua/gua.pid >"$2/ns-pid"
		    stat -c "dir %n %a %U" /var/lib/gua /run/gua
		    stat -c "file %n %a" /var/lib/gua/gua.db /run/gua/gua.pid \
			/var/log/gua.log
		    sleep 0.5
		    "$0" status >"$2/ns-status"; echo "status $?"
		    "$0" report --since 1h >"$2/ns-report"; echo "report $?"
		    "$0" backup "$2/ns-copy.db"; echo "backup $?"
		    "$0" report -o /var/lib/gua/../gua/gua.db
		    echo "report-o $?"
		    "$0" stop; echo "stop $?"
		    [ -e /run/gua/gua.pid ] || echo "pid file gone"
		' "$GUA" "$FAKE" "$TMP" >"$TMP/ns" 2>&1
		t "as root, every default: the collector runs, status, report, backup and stop find it"
		for want in "daemon 0" "status 0" "report 0" "backup 0" \
		    "report-o 2" "stop 0" "pid file gone"; do
			if grep -qx "$want" "$TMP/ns"; then ok; else
				fail "no '$want': $(cat "$TMP/ns")"; fi
		done
		t "as root: /var/lib/gua and /run/gua made 0750; the files 0640"
		for want in "dir /var/lib/gua 750 root" "dir /run/gua 750 root" \
		    "file /var/lib/gua/gua.db 640" "file /run/gua/gua.pid 640" \
		    "file /var/log/gua.log 640"; do
			if grep -qx "$want" "$TMP/ns"; then ok; else
				fail "no '$want': $(cat "$TMP/ns")"; fi
		done
		t "as root: status named the default database, report -o was kept off it"
		if grep -q "database   $ROOTDB" "$TMP/ns-status"; then ok; else
			fail "$(cat "$TMP/ns-status")"; fi
		if grep -q "would replace /var/lib/gua/gua.db, a database this report reads" "$TMP/ns"
		then ok; else fail "$(cat "$TMP/ns")"; fi
		t "as root: the copy of the default database reads"
		GUA_NOW='' run "$GUA" report --db "$TMP/ns-copy.db" --since 1h
		expect_rc 0
		expect_out "GPU-0     active 100.0%"
	else
		t "as root, the collector with every default"
		skip "needs unshare -m (a mount namespace)"
	fi
fi

# Another user: nobody, whose home and XDG directories are in $TMP.
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null 2>&1 &&
    id nobody >/dev/null 2>&1; then
	U=$TMP/u
	mkdir -p "$U/home/.local/state" "$U/xs" "$U/xr" "$U/bare"
	chown -R nobody "$U"
	# as VARS... -- CMD...: CMD as nobody with exactly those variables.
	as() {
		_env=""
		while [ "$1" != -- ]; do _env="$_env $1"; shift; done
		shift
		run setpriv --reuid=nobody --regid="$(id -g nobody)" \
		    --clear-groups env -i PATH="$PATH" \
		    FAKE_NVML_SCENARIO="$FAKE_NVML_SCENARIO" $_env "$@"
	}
	H=$U/home
	S=$H/.local/state/gua
	t "as a user, no XDG variables: ~/.local/state/gua for all three"
	as HOME="$H" -- "$GUA" help
	says_defaults "$S/gua.db" "$S/gua.pid" "$S/gua.log"
	as HOME="$H" -- "$GUA" daemon --nvml-library "$FAKE" --interval 100ms
	expect_rc 0
	expect_out "writing $S/gua.db; log $S/gua.log"
	t "as a user: the state directory made 0750, the files 0640, all the user's"
	got=$(stat -c '%a %U' "$S" "$S/gua.db" "$S/gua.pid" "$S/gua.log" |
	    tr '\n' ' ')
	if [ "$got" = "750 nobody 640 nobody 640 nobody 640 nobody " ]; then ok
	else fail "$got"; fi
	t "as a user: status, report, backup and stop take the same defaults"
	wait_until ticks_at_least "$S/gua.db" 3
	as HOME="$H" -- "$GUA" status
	expect_rc 0
	expect_out "database   $S/gua.db"
	as HOME="$H" GUA_NOW='' -- "$GUA" report --since 1h
	expect_rc 0
	expect_out "GPU-0     active 100.0%"
	as HOME="$H" -- "$GUA" backup "$U/bare/copy.db"
	expect_rc 0
	expect_file "$U/bare/copy.db"
	as HOME="$H" -- "$GUA" doctor --json --nvml-library "$FAKE"
	expect_out "\"database\": \"$S/gua.db\""
	expect_out "\"pid_file\": \"$S/gua.pid\""
	as HOME="$H" -- "$GUA" stop
	expect_rc 0
	expect_no_file "$S/gua.pid"

	t "as a user with XDG_STATE_HOME and XDG_RUNTIME_DIR: the PID file in the runtime directory"
	XV="HOME=$H XDG_STATE_HOME=$U/xs XDG_RUNTIME_DIR=$U/xr"
	as $XV -- "$GUA" help
	says_defaults "$U/xs/gua/gua.db" "$U/xr/gua.pid" "$U/xs/gua/gua.log"
	as $XV -- "$GUA" daemon --nvml-library "$FAKE" --interval 100ms
	expect_rc 0
	expect_file "$U/xs/gua/gua.db"
	expect_file "$U/xr/gua.pid"
	expect_file "$U/xs/gua/gua.log"
	as $XV -- "$GUA" status
	expect_rc 0
	expect_out "database   $U/xs/gua/gua.db"
	as $XV -- "$GUA" stop
	expect_rc 0
	t "... and the runtime directory itself is never made"
	as HOME="$H" XDG_STATE_HOME="$U/xs" XDG_RUNTIME_DIR="$U/none/run" -- \
	    "$GUA" daemon --nvml-library "$FAKE" --interval 100ms
	expect_rc 1
	expect_err "$U/none/run/gua.pid"
	expect_no_file "$U/none"

	t "a relative XDG_STATE_HOME is not a base directory: ignored"
	as HOME="$H" XDG_STATE_HOME=rel -- "$GUA" help
	says_defaults "$S/gua.db" "$S/gua.pid" "$S/gua.log"

	t "only the last component is made: a missing parent is named"
	as HOME="$U/nohome" -- "$GUA" daemon --nvml-library "$FAKE" \
	    --interval 100ms
	expect_rc 1
	expect_err "cannot create $U/nohome/.local/state/gua: $U/nohome/.local/state does not exist"
	expect_no_file "$U/nohome"
	t "never through a symbolic link: a link where the directory goes is refused"
	mkdir -p "$U/h2/.local/state"
	ln -s "$U/elsewhere" "$U/h2/.local/state/gua"
	chown -R -h nobody "$U/h2"
	as HOME="$U/h2" -- "$GUA" daemon --nvml-library "$FAKE" \
	    --interval 100ms
	expect_rc 1
	expect_err "$U/h2/.local/state/gua: exists and is not a directory"
	expect_no_file "$U/elsewhere"
	t "--db and friends still go where they are told, nothing made for them"
	as HOME="$U/h3" -- "$GUA" daemon --nvml-library "$FAKE" \
	    --interval 100ms --db "$U/bare/d.db" --pid-file "$U/bare/d.pid" \
	    --log-file "$U/bare/d.log"
	expect_rc 0
	expect_file "$U/bare/d.db"
	expect_no_file "$U/h3"
	as HOME="$U/h3" -- "$GUA" stop --pid-file "$U/bare/d.pid"
	expect_rc 0
else
	t "the defaults of a user other than root"
	skip "needs root, setpriv and a user nobody"
fi

finish_collector
