#!/bin/sh
# A full disk while the collector runs: it logs the failure once for the
# whole burst, keeps sampling (the ticks wait in memory), writes them all
# once space returns, and nothing recorded before is lost. Twice: on a
# small tmpfs filled up (where this user may mount one), and with a file
# size limit (RLIMIT_FSIZE), which also shows that SIGXFSZ does not kill
# the collector.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/cli/collector-lib.sh
. "$HERE/collector-lib.sh"

start S1 sleep 1000
start S2 sleep 1001
scenario <<EOF
gpus 2
tick 0
util 0 50
proc 0 $S1 4000
util 1 0
proc 1 $S2 9000
EOF
TRACE=$TMP/trace
# samples: how many ticks the collector sampled (nvml_init asks the GPU
# count once too).
samples() { echo $(($(grep -c ' nvmlDeviceGetCount_v2 ' "$TRACE") - 1)); }
samples_at_least() { [ "$(samples)" -ge "$1" ]; }

# burst NAME DIR FULL FREE [launcher...]: a collector with its database in
# DIR; FULL fills the disk, FREE gives the space back.
burst() {
	_name=$1 _dir=$2 _full=$3 _free=$4
	shift 4
	: >"$TRACE"
	FAKE_NVML_TRACE=$TRACE
	export FAKE_NVML_TRACE
	start COL "$@" "$GUA" daemon --foreground --nvml-library "$FAKE" \
	    --db "$_dir/gua.db" --pid-file "$TMP/$_name.pid" --interval 50ms \
	    >"$TMP/$_name.out" 2>"$TMP/$_name.err"
	unset FAKE_NVML_TRACE
	wait_until lines_at_least "$TMP/$_name.out" 5
	ticks_csv "$_dir/gua.db" >"$TMP/$_name.before"
	$_full
	t "$_name: the failure is logged"
	expect_wait has_line "$TMP/$_name.err" "warning: tick not recorded: "
	_at=$(samples)
	t "$_name: sampling goes on while nothing can be written"
	expect_wait samples_at_least $((_at + 8))
	_printed=$(wc -l <"$TMP/$_name.out")
	$_free
	t "$_name: writes again once there is space, saying so once"
	expect_wait has_line "$TMP/$_name.err" "ticks recorded again after "
	expect_count "$TMP/$_name.err" "ticks recorded again after " 1
	expect_count "$TMP/$_name.err" "none was lost" 1
	_n=$(wc -l <"$TMP/$_name.out")
	wait_until lines_at_least "$TMP/$_name.out" $((_n + 3))
	kill -TERM "$COL"
	wait "$COL"
	RC=$?
	t "$_name: the collector survived the burst and stopped cleanly"
	expect_rc 0
	t "$_name: one warning for the whole burst, not one per tick"
	expect_count "$TMP/$_name.err" "warning: " 1
	t "$_name: the database is intact"
	expect_q "$_dir/gua.db" "PRAGMA integrity_check" ok
	t "$_name: nothing recorded before the burst is lost"
	ticks_csv "$_dir/gua.db" >"$TMP/$_name.after"
	if [ -z "$(sort "$TMP/$_name.before" | comm -23 - \
	    "$(sort "$TMP/$_name.after" >"$TMP/$_name.sorted" &&
	    echo "$TMP/$_name.sorted")")" ]; then ok; else
		fail "rows recorded before the burst are gone"; fi
	t "$_name: every tick sampled was written, each with both GPUs"
	_ticks=$(cut -d, -f2 "$TMP/$_name.after" | sort -u | wc -l)
	if [ "$_ticks" -eq "$(samples)" ] &&
	    [ "$(wc -l <"$TMP/$_name.after")" -eq $((2 * _ticks)) ]; then ok
	else
		fail "$_ticks ticks, $(samples) sampled"; fi
	t "$_name: the ticks that waited were printed once written"
	if [ "$(wc -l <"$TMP/$_name.out")" -eq "$_ticks" ] &&
	    [ "$_printed" -lt "$_ticks" ]; then ok; else
		fail "$(wc -l <"$TMP/$_name.out") lines, $_ticks ticks"; fi
}

# ---- a tmpfs filled up.
F=$TMP/full
mkdir "$F"
if mount -t tmpfs -o size=4m,mode=0755 tmpfs "$F" 2>/dev/null; then
	trap 'umount "$F" 2>/dev/null; cleanup' EXIT
	fill() { dd if=/dev/zero of="$F/filler" bs=64k >/dev/null 2>&1; }
	unfill() { rm -f "$F/filler"; }
	burst tmpfs "$F" fill unfill
	t "tmpfs: the failure says why: no space"
	if grep -q "warning: tick not recorded: .*No space left on device" \
	    "$TMP/tmpfs.err"; then ok; else
		fail "$(grep warning "$TMP/tmpfs.err" | head -c 300)"; fi
	# One-shot commands on the full disk say why too, and leave nothing.
	GUA_NOW=$NOW "$GUA" demo --db "$TMP/good.db" >/dev/null 2>&1
	fill
	t "tmpfs: demo on a full disk says why"
	gua demo --db "$F/demo.db"
	expect_rc 1
	expect_err "No space left on device"
	expect_err_lines 1
	expect_no_file "$F/demo.db"
	t "tmpfs: report -o on a full disk says why"
	GUA_NOW=$NOW run "$GUA" report --db "$TMP/good.db" --format html \
	    -o "$F/report.html"
	expect_rc 1
	expect_err "No space left on device"
	expect_err_lines 1
	expect_no_file "$F/report.html"
	unfill
	umount "$F"
else
	t "a full tmpfs"
	skip "this user may not mount a tmpfs; the file size limit below stands in"
fi

# ---- a file size limit: the WAL may not grow past 256 KiB until the
# limit is lifted.
L=$TMP/limit
mkdir "$L"
if ! command -v prlimit >/dev/null 2>&1; then
	t "a file size limit"
	fail "prlimit (util-linux) is needed"
else
	limit() { :; }
	lift() { prlimit --pid "$COL" --fsize=unlimited:unlimited; }
	burst rlimit "$L" limit lift prlimit --fsize=262144:unlimited
	t "rlimit: the failure was the file size limit"
	expect_err_file() { if grep -qiE -- "$2" "$1"; then ok; else
		fail "$(basename "$1") lacks '$2'"; fi; }
	expect_err_file "$TMP/rlimit.err" "disk I/O error|database or disk is full"
	t "rlimit: ... and says so, not only SQLite's words"
	expect_err_file "$TMP/rlimit.err" "File too large"
fi

finish_collector
