# shellcheck shell=sh
# Helpers for the tests that run the collector against the fake NVML:
# scenarios, real processes to put in them, polling with a generous bound,
# and cleanup of everything started. Sourced after lib.sh.
: "${FAKE_NVML:?set FAKE_NVML to the directory of the fake NVML (make check does)}"
# shellcheck disable=SC2034 # used by the tests that source this file
FAKE=$FAKE_NVML/libnvidia-ml.so.1
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

# comm_is PID NAME: the process is now named NAME (it has exec'd).
comm_is() { [ "$(cat "/proc/$1/comm" 2>/dev/null)" = "$2" ]; }
lines_at_least() { [ "$(wc -l <"$1")" -ge "$2" ]; }
has_line() { grep -qF -- "$2" "$1"; }
ticks_at_least() { [ "$(sqlite3 "$1" 'SELECT count(*) FROM ticks')" -ge "$2" ]; }
# gone PID: exited (a zombie waiting for a reaper counts as gone).
gone() {
	! kill -0 "$1" || [ "$(sed 's/.*) //' "/proc/$1/stat" | cut -d' ' -f1)" = Z ]
}

# The raw rows of DB, one per GPU per tick, as `gua report --format csv
# --table ticks` gives them (header dropped). Columns: 1 host, 2 timestamp,
# 3 span_ms, 4 gpu_index, 5 gpu_uuid, 6 utilization_percent (empty:
# unknown), 7 utilization_source, 8 state, 9 memory_held_mib, 10
# process_count (empty: the list could not be read), 11 processes
# ("PID/USER/MIB/STATE" separated by spaces), 12 utilization_max_percent,
# 13 utilization_coverage_percent (both empty: unknown), 14 energy_joules
# (empty: unknown), 15 energy_source. The last ends with the row's CR.
ticks_csv() {
	GUA_NOW='' "$GUA" report --db "$1" --since 36500d --format csv \
	    --table ticks | tail -n +2
}
# expect_ticks DB AWK WANT: the awk program over those rows prints WANT.
expect_ticks() {
	_got=$(ticks_csv "$1" | awk -F, "$2")
	if [ "$_got" = "$3" ]; then ok; else
		fail "rows: $2: got '$_got', want '$3'"; fi
}
# awk: the largest memory seen of process PID, from the processes column.
peak_of() {
	echo '{ n = split($11, e, " "); for (i = 1; i <= n; i++) {
	    split(e[i], f, "/"); if (f[1] == '"$1"' && f[3] + 0 > m) m = f[3] } }
	    END { print m + 0 }'
}
# awk: the sum over processes of each one's largest memory.
sum_of_peaks() {
	echo '{ n = split($11, e, " "); for (i = 1; i <= n; i++) {
	    split(e[i], f, "/"); if (f[3] + 0 > m[f[1]]) m[f[1]] = f[3] } }
	    END { for (p in m) s += m[p]; print s + 0 }'
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

finish_collector() { finish; }
# py FILE EXPR: a Python expression over the JSON document d, printed.
py() {
	"$PYTHON" -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(eval(sys.argv[2]))' "$1" "$2"
}
# expect_near GOT WANT: within 1 % of WANT (exactly, when WANT is 0).
expect_near() {
	if "$PYTHON" -c 'import sys
g, w = float(sys.argv[1]), float(sys.argv[2])
sys.exit(not (abs(g - w) <= 0.01 * abs(w) + 1e-9))' "$1" "$2" 2>/dev/null
	then ok; else fail "got $1, want $2 (within 1 %)"; fi
}
expect_eq() {
	if [ "$1" = "$2" ]; then ok; else fail "got '$1', want '$2'"; fi
}
expect_text() {
	if grep -qF -- "$2" "$1"; then ok; else
		fail "$(basename "$1") lacks '$2'"; fi
}
