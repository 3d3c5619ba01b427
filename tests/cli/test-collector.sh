#!/bin/sh
# The collector against the fake NVML: a scenario's ticks come out of
# `gua report` exactly as the scenario says, and every NVML fault gives
# its log line and the rows it should. The processes in the scenarios are
# real, so identities come from the real /proc.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/cli/collector-lib.sh
. "$HERE/collector-lib.sh"

# run_fg NAME LIB N [options]: a foreground collector playing the current
# scenario until it printed N ticks, then SIGTERM. Leaves $TMP/NAME.db,
# .out (tick lines) and .err (the log); RC is its exit status.
run_fg() {
	_name=$1
	_lib=$2
	_n=$3
	shift 3
	rm -f "$TMP/$_name".*
	start _fg "$GUA" daemon --foreground --nvml-library "$_lib" \
	    --db "$TMP/$_name.db" --pid-file "$TMP/$_name.pid" \
	    --interval 50ms "$@" >"$TMP/$_name.out" 2>"$TMP/$_name.err"
	# shellcheck disable=SC2154 # start sets _fg, through eval
	wait_until printed_or_exited "$TMP/$_name.out" "$_n" "$_fg"
	kill -TERM "$_fg" 2>/dev/null
	wait "$_fg"
	RC=$?
	DB=$TMP/$_name.db
	ERR=$TMP/$_name.err
}
printed_or_exited() { lines_at_least "$1" "$2" || gone "$3"; }

start ROOT1 sleep 1000
start ROOT2 sleep 1001
start ROOT3 sleep 1002
start DEADPROC sleep 1003
kill -9 "$DEADPROC"
wait "$DEADPROC" 2>/dev/null
OTHER_USER=""
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null 2>&1 &&
    id nobody >/dev/null 2>&1; then
	start NOBODY setpriv --reuid=nobody --regid="$(id -g nobody)" \
	    --clear-groups sleep 1004
	wait_until test "$(stat -c %U "/proc/$NOBODY")" = nobody
	OTHER_USER=nobody
else
	NOBODY=$ROOT3	# the same scenario, one user fewer
fi
U1=$(user_of "$ROOT1")
UN=$(user_of "$NOBODY")

# ---- the done criterion: four GPUs, each in a state the scenario fixes;
# everything is lost from tick 6 on, so the extra ticks until the stop
# are unknown and the report's known samples are exactly the scenario's.
scenario <<EOF
gpus 4
gpu 0 uuid=GPU-aaaa0000 name=Trainer total=81920
lost 0 6
lost 1 6
lost 2 6
lost 3 6
tick 0
util 0 80
proc 0 $ROOT1 30000
util 1 3
proc 1 $NOBODY 8000
util 2 0
proc 2 $DEADPROC 50
util 3 90
proc 3 $ROOT2 2000 lists=compute,graphics
tick 2
util 0 80
proc 0 $ROOT1 30000
util 1 3
proc 1 $NOBODY 8000
util 2 0
proc 2 $DEADPROC 50
util 3 1
proc 3 $ROOT2 2000 lists=compute,graphics
EOF
run_fg report "$FAKE" 9
t "the collector ran and stopped cleanly"
expect_rc 0
N=$(q "$DB" "SELECT count(*) FROM ticks")
t "one row per GPU per tick, the lost ones unknown"
expect_ticks "$DB" 'END { print NR }' $((4 * N))
expect_ticks "$DB" '$6 == "" && $10 == "" { n++ } END { print n + 0 }' \
    $((4 * (N - 6)))
t "the report classifies the ticks as the scenario says"
GUA_NOW='' gua report --db "$DB" --since 1d
expect_rc 0
expect_out "(24 samples)"
expect_out "GPU-0     active 100.0%  idle-held   0.0%  truly-idle   0.0%  unknown for part"
expect_out "GPU-1     active   0.0%  idle-held 100.0%  truly-idle   0.0%  unknown for part"
expect_out "GPU-2     active   0.0%  idle-held   0.0%  truly-idle 100.0%  unknown for part"
expect_out "coverage "
t "GPU 3: two active ticks, then four idle-held"
expect_ticks "$DB" '$4 == 3 { c[$8]++ } END { printf "%d|%d|%d|%d\n",
    c["active"], c["idle_held"], c["truly_idle"], c["unknown"] }' \
    "2|4|0|$((N - 6))"
t "GPU 0's name and UUID from NVML"
expect_q "$DB" "SELECT uuid, name, memory_total_mib FROM gpus WHERE idx = 0" "GPU-aaaa0000|Trainer|81920"
t "identities from /proc, stored once per process"
expect_procs "$DB" "SELECT count(*) FROM procs" 4
expect_procs "$DB" "SELECT user, comm, cmdline, known FROM procs WHERE pid = $ROOT1" "$U1|sleep|sleep 1000|1"
expect_procs "$DB" "SELECT user, cmdline FROM procs WHERE pid = $NOBODY" "$UN|sleep $(tr '\0' ' ' <"/proc/$NOBODY/cmdline" | sed 's/ $//' | cut -d' ' -f2)"
t "start times from /proc: the process's, in ms since the epoch"
expect_procs "$DB" "SELECT count(*) FROM procs WHERE known = 1 AND start_ms > 1500000000000 AND start_ms <= $(date +%s)000" 3
t "a process gone from /proc: recorded with NVML's numbers, identity unknown"
expect_procs "$DB" "SELECT known, start_ms, user, uid IS NULL FROM procs WHERE pid = $DEADPROC" "0|0||1"
expect_ticks "$DB" "$(peak_of "$DEADPROC")" 50
t "a process in two lists counts once, with its memory (not twice)"
expect_ticks "$DB" "$(peak_of "$ROOT2")" 2000
t "§4 and §6 name the idle holder"
expect_out "$UN"
expect_out "$(printf '%6u  GPU-1       8000' "$NOBODY")"
# §6 ends with its command line, as /proc had it.
if grep -qE "^  .* $NOBODY  GPU-1 .*  sleep [0-9]+\$" "$TMP/out"; then ok
else fail "no §6 row of $NOBODY ending in its command line"; fi
if [ -n "$OTHER_USER" ]; then
	t "a process of another user is named as that user"
	expect_procs "$DB" "SELECT user, uid FROM procs WHERE pid = $NOBODY" "nobody|$(id -u nobody)"
else
	t "a process of another user"
	skip "needs root and setpriv to start a process as nobody"
fi

# ---- start-up faults: exit 1, one line, nothing left behind.
for fault in "init_error DRIVER_NOT_LOADED|the NVIDIA kernel driver is not loaded (NVML_ERROR_DRIVER_NOT_LOADED): is the NVIDIA driver installed and loaded?" \
    "init_error 18|(NVML_ERROR_LIB_RM_VERSION_MISMATCH): the driver was upgraded without reloading its kernel module; reboot" \
    "gpus 0|finds no NVIDIA GPU on this host"; do
	line=${fault%%|*}
	says=${fault#*|}
	echo "$line" | scenario
	t "start-up fault '$line'"
	gua daemon --nvml-library "$FAKE" --db "$TMP/f.db" --pid-file "$TMP/f.pid" \
	    --log-file "$TMP/f.log"
	expect_rc 1
	expect_err "$says"
	expect_err_lines 1
	expect_no_file "$TMP/f.db"
	expect_no_file "$TMP/f.pid"
	expect_no_file "$TMP/f.log"
done

# ---- a GPU lost at tick 2: logged once, unknown from then on, the other
# GPU recorded throughout.
scenario <<EOF
gpus 2
lost 1 2
tick 0
util 0 50
util 1 70
proc 1 $ROOT1 1000
EOF
run_fg lost "$FAKE" 6
t "GPU lost: logged once"
expect_count "$ERR" "GPU 1 (GPU-00000000-fake-4000-8000-000000000001): every call: the GPU has fallen off the bus or is otherwise inaccessible (NVML_ERROR_GPU_IS_LOST); recorded as unknown until it answers" 1
t "GPU lost: known before tick 2, unknown after; GPU 0 unharmed"
N=$(q "$DB" "SELECT count(*) FROM ticks")
expect_ticks "$DB" '$4 == 1 && n < 3 { printf "%s%s", n++ ? "," : "",
    $6 == "" ? "null" : $6 } END { print "" }' "70.0,70.0,null"
expect_ticks "$DB" '$4 == 1 && $6 == "" && $10 == "" { n++ } END { print n + 0 }' \
    $((N - 2))
expect_ticks "$DB" '$4 == 0 && $6 == "50.0" { n++ } END { print n + 0 }' "$N"

# ---- NOT_SUPPORTED: the metric is unknown, not an error; logged once.
scenario <<EOF
gpus 2
fault 0 util NOT_SUPPORTED
fault 1 compute NOT_SUPPORTED
tick 0
util 0 50
util 1 40
proc 0 $ROOT1 700
proc 1 $ROOT2 900
EOF
run_fg notsup "$FAKE" 4
N=$(q "$DB" "SELECT count(*) FROM ticks")
t "NOT_SUPPORTED utilization: unknown, its source none, logged once"
expect_ticks "$DB" '$4 == 0 && $6 == "" && $7 == "unknown" && $10 != "" { n++ }
    END { print n + 0 }' "$N"
expect_count "$ERR" "GPU 0 (GPU-00000000-fake-4000-8000-000000000000): utilization: not supported by this GPU or driver (NVML_ERROR_NOT_SUPPORTED); recorded as unknown" 1
t "NOT_SUPPORTED process list: processes unknown, utilization kept"
expect_ticks "$DB" '$4 == 1 && $10 == "" && $6 == "40.0" { n++ } END { print n + 0 }' \
    "$N"
expect_count "$ERR" "nvmlDeviceGetComputeRunningProcesses: not supported" 1

# ---- a condition that comes and goes: one line each way; an unknown code
# still reads.
scenario <<EOF
tick 0
util 0 20
tick 1
util 0 20
fault 0 memory 31
tick 3
util 0 20
EOF
run_fg burst "$FAKE" 5
t "a burst: one line when it starts, one when it ends"
expect_count "$ERR" "GPU 0 (GPU-00000000-fake-4000-8000-000000000000): memory: NVML error 31: Fake NVML error string 31; recorded as unknown" 1
expect_count "$ERR" "memory: answering again" 1
expect_q "$DB" "SELECT group_concat(coalesce(memory_total_mib, 'x')) FROM gpus" 81920

# ---- INSUFFICIENT_SIZE: the list grew between the two calls.
scenario <<EOF
insufficient_size 1
tick 0
proc 0 $ROOT1 300
proc 0 $ROOT2 400
EOF
run_fg grow "$FAKE" 3
t "INSUFFICIENT_SIZE once: the buffer grows, nothing is lost or logged"
expect_ticks "$DB" '$10 == "" { n++ } END { print n + 0 }' 0
expect_procs "$DB" "SELECT count(*) FROM procs" 2
expect_count "$ERR" "INSUFFICIENT_SIZE" 0
scenario <<EOF
insufficient_size 1000000
tick 0
proc 0 $ROOT1 300
EOF
run_fg grows "$FAKE" 3
t "INSUFFICIENT_SIZE for ever: processes unknown, logged once"
expect_ticks "$DB" '$10 != "" { n++ } END { print n + 0 }' 0
expect_count "$ERR" "buffer too small (NVML_ERROR_INSUFFICIENT_SIZE); processes recorded as unknown" 1

# ---- process-entry sizes: whatever the driver, the PIDs are the real ones.
entries_scenario() {
	scenario <<EOF
$1
tick 0
util 0 5
proc 0 $ROOT1 1000
proc 0 $ROOT2 2000
proc 0 $ROOT3 3000
EOF
}
pids_right() {
	t "$1: the three PIDs, with their memory"
	expect_procs "$DB" "SELECT group_concat(pid || ':' || user, ' ') FROM (SELECT pid, user FROM procs ORDER BY pid)" "$(printf '%s\n' "$ROOT1:$U1" "$ROOT2:$(user_of "$ROOT2")" "$ROOT3:$(user_of "$ROOT3")" | sort -n | tr '\n' ' ' | sed 's/ $//')"
	expect_ticks "$DB" "$(sum_of_peaks)" 6000
	expect_ticks "$DB" '$10 == "" { n++ } END { print n + 0 }' 0
}
entries_scenario "driver 535.54.03
v3_entry_bytes 32"
run_fg r535 "$FAKE" 3
pids_right "driver 535.54.03, 32-byte entries"
expect_count "$ERR" "driver 535.54.03: reading 32-byte process entries" 1
entries_scenario "driver 560.35.03
v3_entry_bytes 32"
run_fg liar "$FAKE" 3
pids_right "a driver writing 32 bytes where 24 are documented"
expect_count "$ERR" "driver 560.35.03 writes 32-byte process entries, not 24: reading them so from now on" 1
entries_scenario "driver custom-build
v3_entry_bytes 32"
run_fg r535sym "$FAKE_NVML/libnvidia-ml-r535.so.1" 3
pids_right "the 535 symbol set, version unreadable"
entries_scenario ""
FAKE_NVML_TRACE=$TMP/trace
export FAKE_NVML_TRACE
run_fg nov3 "$FAKE_NVML/libnvidia-ml-no-v3.so.1" 3
unset FAKE_NVML_TRACE
pids_right "no _v3 symbols"
t "no _v3 symbols: the _v2 calls are used, one full list a tick"
expect_count "$TMP/trace" "nvmlDeviceGetComputeRunningProcesses_v2 0 0" \
    "$(q "$DB" "SELECT count(*) FROM ticks")"
expect_count "$TMP/trace" "_v3" 0
run_fg old "$FAKE_NVML/libnvidia-ml-old.so.1" 3
pids_right "the legacy ABI (16-byte entries)"
expect_count "$ERR" "this NVML has no nvmlDeviceGetMemoryInfo_v2: a GPU's used memory includes driver reservations" 1
t "the legacy ABI: the tick line of --foreground"
if grep -qF -- "GPU-0 idle-held util 5% held 6000 MiB by 3 [" "$TMP/old.out"
then ok; else fail "old.out: $(head -1 "$TMP/old.out")"; fi

# ---- a write that fails (the database locked by someone else): logged
# once, sampling goes on, ticks are recorded again once it is free.
scenario <<EOF
tick 0
util 0 60
EOF
rm -f "$TMP/busy".*
start BUSYCOL "$GUA" daemon --foreground --nvml-library "$FAKE" \
    --db "$TMP/busy.db" --pid-file "$TMP/busy.pid" --interval 50ms \
    >"$TMP/busy.out" 2>"$TMP/busy.err"
wait_until lines_at_least "$TMP/busy.out" 2
start HOLDER sh -c "{ echo '.timeout 10000'; echo 'BEGIN IMMEDIATE;'; \
    echo \"INSERT INTO meta VALUES('x','y');\"; \
    while [ ! -e '$TMP/release' ]; do sleep 0.05; done; echo 'COMMIT;'; } | sqlite3 '$TMP/busy.db'"
t "a locked database: the failed tick is logged once"
expect_wait has_line "$TMP/busy.err" "warning: tick not recorded: "
expect_count "$TMP/busy.err" "database is locked" 1
touch "$TMP/release"
t "... and recovery is logged when ticks are recorded again"
expect_wait has_line "$TMP/busy.err" "ticks recorded again after "
wait_until gone "$HOLDER"
B=$(wc -l <"$TMP/busy.out")
wait_until lines_at_least "$TMP/busy.out" $((B + 2))
kill -TERM "$BUSYCOL"
wait "$BUSYCOL"
RC=$?
expect_rc 0
t "after the failure, spans stay capped at two intervals"
expect_q "$TMP/busy.db" "SELECT count(*) FROM ticks WHERE span_ms > 100" 0
expect_q "$TMP/busy.db" "PRAGMA integrity_check" ok

# ---- a tick that cannot be sampled is a gap: the next tick's span does
# not stretch over it, and the recovery line says a tick is missing.
scenario <<EOF
tick 0
util 0 60
tick 4
fault * count UNKNOWN
tick 5
util 0 60
EOF
rm -f "$TMP/gap".*
start GAPCOL "$GUA" daemon --foreground --nvml-library "$FAKE" \
    --db "$TMP/gap.db" --pid-file "$TMP/gap.pid" --interval 100ms \
    >"$TMP/gap.out" 2>"$TMP/gap.err"
wait_until lines_at_least "$TMP/gap.out" 8
kill -TERM "$GAPCOL"
wait "$GAPCOL"
RC=$?
t "a tick NVML could not count: logged, then a gap, not lost time claimed"
expect_rc 0
expect_count "$TMP/gap.err" "warning: tick not sampled: nvmlDeviceGetCount: " 1
expect_count "$TMP/gap.err" "1 could not be sampled and 0 waited too long" 1
expect_count "$TMP/gap.err" "none was lost" 0
# The tick after the failure spans about one interval, not the two
# since the tick before it.
ticks_csv "$TMP/gap.db" >"$TMP/gap.rows"
"$PYTHON" - "$TMP/gap.rows" >"$TMP/gap.check" <<'PYEOF'
import csv, datetime, sys
rows = list(csv.reader(open(sys.argv[1])))
def ms(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp() * 1000
ts = [ms(r[1]) for r in rows]
spans = [int(r[2]) for r in rows]
gaps = [(ts[i] - ts[i - 1], spans[i]) for i in range(1, len(ts))]
wide = max(gaps)
print("ok" if wide[0] > 150 and wide[1] <= wide[0] - 50 else "bad %s" % (gaps,))
PYEOF
if [ "$(cat "$TMP/gap.check")" = ok ]; then ok; else
	fail "$(cat "$TMP/gap.check")"; fi

finish_collector
