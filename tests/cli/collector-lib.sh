# Helpers for the tests that run the collector against the fake NVML:
# scenarios, real processes to put in them, polling with a generous bound,
# and cleanup of everything started. Sourced after lib.sh.
: "${FAKE_NVML:?set FAKE_NVML to the fake NVML's directory (make check does)}"
FAKE=$FAKE_NVML/libnvidia-ml.so.1
T_SKIP=0
STARTED=""		# PIDs of the processes a test started
WAIT_S=30		# bound of every wait (generous: sanitizer builds)
unset GUA_NVML_LIBRARY FAKE_NVML_TRACE

cleanup() {
	# Collectors are stopped through their PID files, which never
	# signals anything but the lock holder.
	for pf in "$TMP"/*.pid "$TMP"/*/*.pid; do
		[ -e "$pf" ] && "$GUA" stop --pid-file "$pf" --timeout 10s \
		    >/dev/null 2>&1
	done
	for p in $STARTED; do
		kill -9 "$p" 2>/dev/null
	done
	wait 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

# skip WHY: a test that cannot run here; said, and not counted as passed.
skip() { T_SKIP=$((T_SKIP + 1)); echo "SKIP: $T_NAME: $*" >&2; }

# start VAR CMD...: runs CMD in the background, its PID in VAR.
start() {
	_var=$1
	shift
	"$@" &
	STARTED="$STARTED $!"
	eval "$_var=$!"
}

# wait_until CMD...: polls CMD until it succeeds; 1 after WAIT_S seconds.
wait_until() {
	_n=0
	while ! "$@" 2>/dev/null; do
		_n=$((_n + 1))
		[ "$_n" -ge $((WAIT_S * 20)) ] && return 1
		sleep 0.05
	done
	return 0
}

# scenario: the fake NVML plays what is on stdin (also in a pipeline).
FAKE_NVML_SCENARIO=$TMP/scenario
export FAKE_NVML_SCENARIO
: >"$FAKE_NVML_SCENARIO"
scenario() { cat >"$FAKE_NVML_SCENARIO"; }

# q DB SQL: one query's result.
q() { sqlite3 "$1" "$2"; }

lines_at_least() { [ "$(wc -l <"$1")" -ge "$2" ]; }
has_line() { grep -qF -- "$2" "$1"; }
ticks_at_least() { [ "$(sqlite3 "$1" 'SELECT count(*) FROM ticks')" -ge "$2" ]; }
# gone PID: exited (a zombie waiting for a reaper counts as gone).
gone() {
	! kill -0 "$1" || [ "$(sed 's/.*) //' "/proc/$1/stat" | cut -d' ' -f1)" = Z ]
}

# expect_q DB SQL WANT: the query gives WANT.
expect_q() {
	_got=$(sqlite3 "$1" "$2" 2>&1)
	if [ "$_got" = "$3" ]; then ok; else
		fail "$2: got '$_got', want '$3'"; fi
}
# expect_wait CMD...: the condition comes true within the bound.
expect_wait() {
	if wait_until "$@"; then ok; else fail "timed out waiting: $*"; fi
}
# expect_count FILE TEXT N: TEXT appears on exactly N lines of FILE.
expect_count() {
	_n=$(grep -cF -- "$2" "$1")
	if [ "$_n" -eq "$3" ]; then ok; else
		fail "'$2' on $_n lines of $(basename "$1"), want $3"; fi
}

# The user gua should name for a process: its login user when set, else
# its owner.
user_of() {
	_lu=$(cat "/proc/$1/loginuid" 2>/dev/null || echo 4294967295)
	if [ "$_lu" = 4294967295 ]; then
		stat -c %U "/proc/$1"
	else
		getent passwd "$_lu" | cut -d: -f1
	fi
}

# A real NVIDIA library on this host would make "no driver" tests lie.
has_real_nvml() {
	ldconfig -p 2>/dev/null | grep -q 'libnvidia-ml\.so\.1'
}

finish_collector() {
	[ "$T_SKIP" -gt 0 ] && echo "($T_SKIP skipped)" >&2
	finish
}
