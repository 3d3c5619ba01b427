#!/bin/sh
# Scale: 64 GPUs, one of them with 1000 real processes, another with a
# process whose command line is over 1 MiB, recorded by a collector whose
# descriptor limit is 256 (so most of the 1000 cannot have a pidfd).
# Every tick must have every GPU, every process with its identity, and
# the long command line cut exactly: the first IDENTITY_CMDLINE_MAX - 1
# bytes or less, on a UTF-8 character boundary.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/cli/collector-lib.sh
. "$HERE/collector-lib.sh"

S=$TMP/scale
mkdir -p "$S"
# 1000 processes for GPU 0.
PROCS=""
i=0
while [ $i -lt 1000 ]; do
	sleep 1000 &
	PROCS="$PROCS $!"
	i=$((i + 1))
done
STARTED="$STARTED $PROCS"
# A command line of 1 MiB and more: argv[0] is "x" and then 4-byte
# characters, one of which straddles the cut at byte 1023 (bytes 1021 to
# 1024), then 1000 and nine arguments of 120000 zeros (sleep adds them:
# 0 s more).
ARGV0=x$(i=0; while [ $i -lt 300 ]; do printf '\360\237\230\200'; i=$((i + 1)); done)
ZEROS=$(head -c 120000 /dev/zero | tr '\0' 0)
start LONG "${PYTHON:-python3}" -c 'import os, sys
os.execv(sys.argv[1], sys.argv[2:])' "$(command -v sleep)" "$ARGV0" 1000 \
    "$ZEROS" "$ZEROS" "$ZEROS" "$ZEROS" "$ZEROS" "$ZEROS" "$ZEROS" "$ZEROS" \
    "$ZEROS"
wait_until comm_is "$LONG" sleep
t "the long process's command line is over 1 MiB"
n=$(wc -c <"/proc/$LONG/cmdline")
if [ "$n" -gt 1048576 ]; then ok; else fail "only $n bytes"; fi

{
	echo "gpus 64"
	echo "tick 0"
	g=0
	while [ $g -lt 64 ]; do
		echo "util $g $g"
		g=$((g + 1))
	done
	for p in $PROCS; do echo "proc 0 $p 10"; done
	echo "proc 1 $LONG 20000"
} | scenario
start COL prlimit --nofile=256 "$GUA" daemon --foreground \
    --nvml-library "$FAKE" --db "$S/gua.db" --pid-file "$S/gua.pid" \
    --interval 200ms >"$S/fg.out" 2>"$S/fg.err"
wait_until lines_at_least "$S/fg.out" 4
FDS=$(ls "/proc/$COL/fd" | wc -l)
kill -TERM "$COL"
wait "$COL"
RC=$?
t "the collector ran and stopped cleanly"
expect_rc 0
t "pidfds take at most half of its 256 descriptors, the rest stay free"
if [ "$FDS" -le $((128 + 16)) ]; then ok; else fail "$FDS descriptors"; fi
expect_count "$S/fg.err" "not recorded" 0
expect_count "$S/fg.err" "not sampled" 0
N=$(wc -l <"$S/fg.out")

t "every tick has all 64 GPUs, each once, each with its utilization"
expect_ticks "$S/gua.db" 'END { print NR }' $((64 * N))
expect_ticks "$S/gua.db" '$6 + 0 == $4 && !seen[$2 "/" $4]++ { n++ }
    END { print n }' $((64 * N))
expect_ticks "$S/gua.db" '{ u[$5] = 1 } END { for (k in u) n++; print n }' 64
t "GPU 0: all 1000 processes at every tick, each with its user"
expect_ticks "$S/gua.db" '$4 == 0 && $10 == 1000 { n++ } END { print n }' "$N"
expect_ticks "$S/gua.db" '$4 == 0 { k = split($11, e, " ");
    for (i = 1; i <= k; i++) { split(e[i], f, "/"); if (f[2] != "") n++ } }
    END { print n }' $((1000 * N))
t "the 1000 PIDs are the processes started"
ticks_csv "$S/gua.db" | awk -F, '$4 == 0 { k = split($11, e, " ");
    for (i = 1; i <= k; i++) { split(e[i], f, "/"); print f[1] }; exit }' |
    sort -n >"$S/pids.got"
echo $PROCS | tr ' ' '\n' | sort -n >"$S/pids.want"
if cmp -s "$S/pids.got" "$S/pids.want"; then ok; else
	fail "$(diff "$S/pids.want" "$S/pids.got" | head -3 | tr '\n' ' ')"; fi

t "the long command line: the first bytes up to the limit, cut before a character"
printf sleep >"$S/comm.raw"
cp "/proc/$LONG/cmdline" "$S/cmdline.raw"
sed -n 's/^#define IDENTITY_CMDLINE_MAX[^0-9]*\([0-9]*\).*/\1/p' \
    "$HERE/../../src/identity.h" >"$S/cmdline.max"
: >"$S/user.raw"
GUA_NOW='' run "$GUA" report --db "$S/gua.db" --since 1d --format json \
    --gpu 1
expect_rc 0
cp "$TMP/out" "$S/report.json"
check untrusted json "$S" "$S/report.json"
# x and 255 whole characters: 1021 bytes, the 256th would end at 1024.
"$PYTHON" -c 'import json, sys
s = [x for x in json.load(open(sys.argv[1]))["sessions"] if x["pid"] ==
     int(sys.argv[2])][0]["command_line"].encode()
sys.exit(0 if len(s) == 1021 and s == b"x" + "\U0001F600".encode() * 255
         else 1)' "$S/report.json" "$LONG" >/dev/null 2>&1 && ok ||
    fail "the stored command line is not x and 255 characters (1021 bytes)"

t "the report lists 64 GPUs"
GUA_NOW='' run "$GUA" report --db "$S/gua.db" --since 1d
expect_rc 0
if [ "$(grep -c '^  GPU-[0-9]* ' "$TMP/out")" -eq 64 ]; then ok; else
	fail "$(grep -c '^  GPU-[0-9]* ' "$TMP/out") GPUs in §3"; fi

# Ticks that wait for a locked database hold their processes: 1000 of
# them are 1.9 MB a tick. What waits is bounded in bytes (8 MiB) as well
# as in ticks (64), and released once they are written.
vm() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
start COL "$GUA" daemon --foreground --nvml-library "$FAKE" \
    --db "$S/burst.db" --pid-file "$S/burst.pid" --interval 50ms \
    >"$S/burst.out" 2>"$S/burst.err"
wait_until lines_at_least "$S/burst.out" 10
BEFORE=$(vm "$COL" VmRSS)
start HOLDER sh -c "{ echo '.timeout 10000'; echo 'BEGIN IMMEDIATE;'; \
    echo \"INSERT INTO meta VALUES('x','y');\"; \
    while [ ! -e '$S/release' ]; do sleep 0.05; done; echo 'ROLLBACK;'; } |
    sqlite3 '$S/burst.db'"
wait_until has_line "$S/burst.err" "warning: tick not recorded: "
# 80 ticks wait and give way: 150 MB if nothing bounded them.
sleep 4
touch "$S/release"
wait_until gone "$HOLDER"
wait_until has_line "$S/burst.err" "ticks recorded again after "
n=$(wc -l <"$S/burst.out")
wait_until lines_at_least "$S/burst.out" $((n + 10))
PEAK=$(vm "$COL" VmHWM)
AFTER=$(vm "$COL" VmRSS)
kill -TERM "$COL"
wait "$COL"
echo "burst: RSS $BEFORE kB before, peak $PEAK kB, $AFTER kB after"
t "a burst of waiting ticks: memory bounded, and released after"
expect_count "$S/burst.err" "waited too long and were dropped" 1
if [ "${GUA_SANITIZED:-}" = 1 ]; then
	# ASan's quarantine keeps freed memory: this build has nothing to
	# measure (not a skip: the plain build, also run by CI, measures it).
	echo "burst: memory is measured in the plain build" >&2
else
	if [ "$PEAK" -le $((BEFORE + 16384)) ]; then ok; else
		fail "peak $PEAK kB, $BEFORE kB before the burst"; fi
	if [ "$AFTER" -le $((BEFORE + 4096)) ]; then ok; else
		fail "$AFTER kB after the burst, $BEFORE kB before"; fi
fi
expect_q "$S/burst.db" "PRAGMA integrity_check" ok

kill $PROCS 2>/dev/null
finish_collector
