#!/bin/sh
# make bench: measures gua on generated histories and prints one table.
# Every figure is the median of $RUNS runs ($IMPORT_RUNS for import).
# Timings are reported, never asserted. Run by the Makefile, which builds
# and caches the histories in $DIR:
#   lab12.db      12 GPUs x 30 days at 30 s, through gua's write path
#   year8.db      8 GPUs x 365 days at 30 s (and a copy compacted to
#                 raw ticks of 30 days, year8c)
#   lab12-old.db  lab12 in gpu-usage-audit 1.0's format, memory changing
#                 every tick (the import's worst case)
#   churn.db      12 GPUs x 30 days, a process starting on nearly every
#                 tick of every GPU: about 575 000 processes
#   hosts/        100 copies of lab12, each its own host: a fleet
set -eu
: "${GUA:?}" "${GEN:?}" "${RUN:?}" "${DIR:?}" "${FAKE:?}"
RUNS=${RUNS:-7}
IMPORT_RUNS=${IMPORT_RUNS:-3}
SCRATCH=$DIR/scratch
rm -rf "$SCRATCH"
mkdir -p "$SCRATCH"
trap 'rm -rf "$SCRATCH"' EXIT

row() { printf '%-8s  %-36s  %-34s  %s\n' "$1" "$2" "$3" "$4"; }
mb() { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1e6 }'; }
size() { wc -c <"$1" | tr -d ' '; }
median() {
	sort -n | awk '{ v[NR] = $1 } END {
	    print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# time_rss WALL_MS RSS_KIB: "12.3 ms, 4.1 MB RSS"
time_rss() {
	awk -v t="$1" -v r="$2" 'BEGIN {
	    if (t >= 1000) printf "%.1f s", t / 1000; else printf "%.1f ms", t
	    printf ", %.1f MB RSS", r * 1024 / 1e6 }'
}

cpu=$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)
load=$(cut -d ' ' -f 1 /proc/loadavg 2>/dev/null || echo '?')
echo "gua bench: ${cpu:-unknown CPU}, $(nproc 2>/dev/null || echo '?') CPUs" \
    "(load $load), $("$GEN" about); medians of $RUNS runs (import: $IMPORT_RUNS)."
echo "Times are wall clock of the whole command, RSS its peak; MB = 10^6 bytes."
echo
row workload measurement "median" target
row -------- ------------------------------------ \
    ---------------------------------- ----------------

# database WORKLOAD GPU_DAYS DESCRIPTION TARGET
database() {
	b=$(size "$DIR/$1.db")
	row "$1" "database, $3" "$(mb "$b"), $(awk -v b="$b" -v d="$2" \
	    'BEGIN { printf "%.1f KB/GPU-day", b / d / 1000 }')" "$4"
}

# report WORKLOAD DB NOW WINDOW TARGET [OPTION...]
report() {
	_w=$1
	_db=$2
	_now=$3
	_since=$4
	_target=$5
	shift 5
	_what="report --since $_since${*:+ $*}"
	# shellcheck disable=SC2046 # the runner prints "WALL RSS CPU": three words
	set -- $("$RUN" "$RUNS" env GUA_NOW="$_now" "$GUA" report --db "$_db" \
	    --since "$_since" "$@")
	row "$_w" "$_what" "$(time_rss "$1" "$2")" "$_target"
	last_ms=$1
}
# ratio A B: "2.3x"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }

database lab12 360 "12 GPUs x 30 days" "<= 40 MB"
end=$("$GEN" end lab12)
report lab12 "$DIR/lab12.db" "$end" 1h ""
report lab12 "$DIR/lab12.db" "$end" 1d ""
report lab12 "$DIR/lab12.db" "$end" 30d "<= 50 ms, <= 16 MB"
lab_ms=$last_ms
report lab12 "$DIR/lab12.db" "$end" 365d ""
# A filter reads raw ticks (rollups sum whole GPUs); --by does not.
report lab12 "$DIR/lab12.db" "$end" 30d "" --by job
report lab12 "$DIR/lab12.db" "$end" 30d "" --user alice

database year8 2920 "8 GPUs x 365 days" ""
end=$("$GEN" end year8)
report year8 "$DIR/year8.db" "$end" 1h "<= 10 ms"
report year8 "$DIR/year8.db" "$end" 1d ""
report year8 "$DIR/year8.db" "$end" 30d ""
report year8 "$DIR/year8.db" "$end" 365d "<= 30 ms, <= 16 MB"

# Churn: the report's cost should follow what it shows, not the number
# of processes the window saw; beside it, how many times lab12's.
database churn 360 "575 000 processes" "<= 50 MB"
end=$("$GEN" end churn)
report churn "$DIR/churn.db" "$end" 30d "<= 200 ms, <= 32 MB"
row churn "  against lab12's 30-day report" "$(ratio "$last_ms" "$lab_ms")" ""

# A fleet: one report of N hosts' databases (30 days of lab12 each)
# against N reports of one host each, run one after the other.
end=$("$GEN" end lab12)
export GUA GUA_NOW="$end"
# fleet N TARGET TARGET_RATIO
fleet() {
	dbs=""
	files=""
	i=1
	while [ "$i" -le "$1" ]; do
		f=$DIR/hosts/host-$(printf %03d "$i").db
		dbs="$dbs --db $f"
		files="$files $f"
		i=$((i + 1))
	done
	# shellcheck disable=SC2046,SC2086 # word splitting wanted
	set -- "$1" "$2" "$3" $("$RUN" "$RUNS" "$GUA" report $dbs --since 30d)
	row "fleet$1" "report --since 30d, --db x $1" "$(time_rss "$4" \
	    "$5")" "$2"
	all_ms=$4
	# shellcheck disable=SC2046,SC2086,SC2016 # word splitting wanted
	set -- "$1" "$2" "$3" $("$RUN" "$RUNS" sh -c 'for f; do "$GUA" report \
	    --db "$f" --since 30d >/dev/null || exit 1; done' sh $files)
	row "fleet$1" "  $1 reports of one host each" "$(time_rss "$4" "$5")" ""
	row "fleet$1" "  one report against $1 single" "$(ratio "$all_ms" "$4")" \
	    "$3"
}
fleet 40 "" "<= 1.3x"
fleet 100 "<= 2 s" ""
unset GUA_NOW

# year8 with raw ticks kept 30 days: gua compact on a copy (a fresh copy
# each run), the file it leaves, and the reports over it.
: >"$SCRATCH/compact"
i=0
while [ $i -lt "$IMPORT_RUNS" ]; do
	cp "$DIR/year8.db" "$SCRATCH/y8c.db"
	"$RUN" 1 "$GUA" compact --db "$SCRATCH/y8c.db" --keep-raw 30d \
	    >>"$SCRATCH/compact"
	i=$((i + 1))
done
cp "$DIR/year8.db" "$SCRATCH/y8c.db"
longest=$("$GUA" compact --db "$SCRATCH/y8c.db" --keep-raw 30d |
    sed -n 's/.*longest transaction \([0-9.]*\) ms.*/\1/p')
row year8c "gua compact --keep-raw 30d" "$(time_rss "$(awk '{ print $1 }' \
    "$SCRATCH/compact" | median)" "$(awk '{ print $2 }' "$SCRATCH/compact" |
    median)"), longest transaction $longest ms" ""
b=$(size "$SCRATCH/y8c.db")
row year8c "database, raw ticks kept 30 days" "$(mb "$b"), $(awk \
    -v b="$b" -v a="$(size "$DIR/year8.db")" \
    'BEGIN { printf "%.1fx smaller", a / b }')" "<= 20 MB"
report year8c "$SCRATCH/y8c.db" "$end" 1h ""
report year8c "$SCRATCH/y8c.db" "$end" 30d ""
report year8c "$SCRATCH/y8c.db" "$end" 365d "<= 100 ms, <= 16 MB"

# top WORKLOAD DB NOW DESCRIPTION TARGET: gua top --once, "now" just
# after the newest tick (so a collector counts as writing it).
top_once() {
	# shellcheck disable=SC2046 # the runner prints "WALL RSS CPU": three words
	set -- "$1" "$2" "$3" "$4" "$5" $("$RUN" "$RUNS" env GUA_NOW="$3" \
	    "$GUA" top --db "$2" --once)
	row "$1" "$4" "$(time_rss "$6" "$7")" "$5"
}
top_once year8 "$DIR/year8.db" "$end" "top --once" "<= 20 ms"
# The worst case of the streaks: the demo's holder, idle-held through a
# whole year of ticks at 30 s, followed back through 8760 hours.
GUA_NOW=$end "$GUA" demo --db "$SCRATCH/idle-year.db" --ticks 1051200 \
    --interval 30s >/dev/null
top_once demo "$SCRATCH/idle-year.db" "$end" \
    "top --once, idle-held for 365 days" "<= 20 ms"

# The collector's write path, in process: 8 GPUs, 64 processes in all,
# one transaction per tick with synchronous=FULL, 2000 ticks.
: >"$SCRATCH/collector"
i=0
while [ $i -lt "$RUNS" ]; do
	rm -f "$SCRATCH/c.db" "$SCRATCH/c.db-wal" "$SCRATCH/c.db-shm"
	"$GEN" collector 8 64 2000 "$SCRATCH/c.db" >>"$SCRATCH/collector"
	i=$((i + 1))
done
us=$(awk '{ print $1 }' "$SCRATCH/collector" | median)
kib=$(awk '{ print $2 }' "$SCRATCH/collector" | median)
row 8x64 "store write path, 8 GPUs x 64 procs" "$(awk -v u="$us" \
    -v k="$kib" 'BEGIN { printf "%.2f ms CPU/tick, %.1f MB RSS", u / 1000,
    k * 1024 / 1e6 }')" "<= 2 ms, <= 4 MB"

# The whole collector, `gua daemon --foreground`, against the fake NVML
# playing $SCRATCH/scenario at INTERVAL. Start-up (reading every new
# process's /proc files once) and the steady state are measured apart,
# since a short run would otherwise spread the first over every tick:
# the CPU time (schedstat, ns, all threads) to its first tick line is
# the start-up; after COLLECT_WARM_S more seconds, the CPU time and the
# tick lines written over the next COLLECT_S seconds give the steady
# cost per tick. Its peak RSS (VmHWM) is read from /proc before it is
# stopped. The start-up's median is left in $startup_ms.
# collect_row WORKLOAD DESCRIPTION INTERVAL TARGET
COLLECT_WARM_S=${COLLECT_WARM_S:-2}
COLLECT_S=${COLLECT_S:-8}
PIDS=""
trap 'if [ -n "$PIDS" ]; then kill $PIDS 2>/dev/null; fi; rm -rf "$SCRATCH"' EXIT
lines_at_least() { [ "$(wc -l <"$1" 2>/dev/null || echo 0)" -ge "$2" ]; }
# cpu_ns PID: the CPU time of all its threads so far, in ns.
cpu_ns() { cat "/proc/$1"/task/*/schedstat | awk '{ s += $1 } END { print s }'; }
collect_row() {
	: >"$SCRATCH/daemon"
	i=0
	while [ $i -lt "${COLLECT_RUNS:-3}" ]; do
		rm -f "$SCRATCH"/d.*
		: >"$SCRATCH/d.out"
		FAKE_NVML_SCENARIO=$SCRATCH/scenario "$GUA" daemon \
		    --foreground --nvml-library "$FAKE" --db "$SCRATCH/d.db" \
		    --pid-file "$SCRATCH/d.pid" --interval "$3" \
		    >"$SCRATCH/d.out" 2>"$SCRATCH/d.err" &
		d=$!
		w=0
		while ! lines_at_least "$SCRATCH/d.out" 1 && [ $w -lt 400 ]; do
			sleep 0.05; w=$((w + 1)); done
		c_start=$(cpu_ns "$d")
		sleep "$COLLECT_WARM_S"
		c0=$(cpu_ns "$d")
		n0=$(wc -l <"$SCRATCH/d.out")
		sleep "$COLLECT_S"
		c1=$(cpu_ns "$d")
		n1=$(wc -l <"$SCRATCH/d.out")
		hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$d/status")
		priv=$(awk '/^RssAnon:/ { print $2 }' "/proc/$d/status")
		# The pages of the system's shared libraries (libc,
		# libsqlite3, libm, the loader), not of the fake NVML.
		libs=$(awk '/^[0-9a-f]+-[0-9a-f]+ / { lib = $6 ~ /\.so[.0-9]*$/ &&
		    $6 !~ /nvidia-ml/ } lib && /^Rss:/ { s += $2 }
		    END { print s + 0 }' "/proc/$d/smaps")
		kill -TERM "$d"
		wait "$d" || true
		awk -v s="$c_start" -v a="$c0" -v b="$c1" -v n="$((n1 - n0))" \
		    -v k="$hwm" -v p="$priv" -v l="$libs" \
		    'BEGIN { print (b - a) / 1e6 / n, k, p, s / 1e6, l }' \
		    >>"$SCRATCH/daemon"
		i=$((i + 1))
	done
	ms=$(awk '{ print $1 }' "$SCRATCH/daemon" | median)
	kib=$(awk '{ print $2 }' "$SCRATCH/daemon" | median)
	startup_ms=$(awk '{ print $4 }' "$SCRATCH/daemon" | median)
	row "$1" "$2" "$(awk -v m="$ms" -v k="$kib" 'BEGIN {
	    printf "%.2f ms CPU/tick, %.1f MB RSS", m, k * 1024 / 1e6 }')" "$4"
}
# sleeper: a real process for a scenario, its PID in $P.
sleeper() {
	sleep 1000 &
	P=$!
	PIDS="$PIDS $P"
}
stop_sleepers() {
	kill $PIDS 2>/dev/null || true
	wait 2>/dev/null || true
	PIDS=""
}

# 8 GPUs with 8 real processes each, at 50 ms.
g=0
{
	echo "gpus 8"
	echo "tick 0"
	while [ $g -lt 8 ]; do
		echo "util $g $((g * 12))"
		p=0
		while [ $p -lt 8 ]; do
			sleeper
			echo "proc $g $P $((1000 + p * 500)) sm=$((p * 5))"
			p=$((p + 1))
		done
		g=$((g + 1))
	done
} >"$SCRATCH/scenario"
collect_row 8x64 "gua daemon + fake NVML, 8 x 8 procs" 50ms \
    "<= 1.5 ms, <= 4 MB"
# Most of that RSS is the pages of the shared libraries it maps (libc,
# libsqlite3, libm, the loader), which gua shares with every process
# that maps them: what the collector holds is its anonymous memory (heap,
# stack, written data; the fake NVML's too); the rest is gua's own code
# and the fake's.
row 8x64 "  of which its own (anonymous) memory" "$(awk '{ print $3 }' \
    "$SCRATCH/daemon" | median | awk '{ printf "%.1f MB", $1 * 1024 / 1e6 }')" ""
row 8x64 "  of which shared libraries' pages" "$(awk '{ print $5 }' \
    "$SCRATCH/daemon" | median | awk '{ printf "%.1f MB", $1 * 1024 / 1e6 }')" ""

# The same 64 processes at the default 30 s interval, NVML giving a
# per-process entry per sampling period of 1/6 s (the most entries of the
# three behaviours the fake plays): the CPU time (schedstat, ns) from the
# collector's first tick line to its second, the 30 reads of per-process
# utilization between ticks and one tick. Two runs: a minute.
sed -i '1i putil_mode periods\nprocess_period_us 166667' "$SCRATCH/scenario"
: >"$SCRATCH/daemon30"
i=0
while [ $i -lt "${COLLECT30_RUNS:-2}" ]; do
	rm -f "$SCRATCH"/d.*
	: >"$SCRATCH/d.out"
	FAKE_NVML_SCENARIO=$SCRATCH/scenario "$GUA" daemon --foreground \
	    --nvml-library "$FAKE" --db "$SCRATCH/d.db" \
	    --pid-file "$SCRATCH/d.pid" --interval 30s \
	    >"$SCRATCH/d.out" 2>"$SCRATCH/d.err" &
	d=$!
	w=0
	while ! lines_at_least "$SCRATCH/d.out" 1 && [ $w -lt 400 ]; do
		sleep 0.05; w=$((w + 1)); done
	c0=$(cut -d ' ' -f 1 "/proc/$d/schedstat")
	w=0
	while ! lines_at_least "$SCRATCH/d.out" 2 && [ $w -lt 1000 ]; do
		sleep 0.05; w=$((w + 1)); done
	c1=$(cut -d ' ' -f 1 "/proc/$d/schedstat")
	kill -TERM "$d"
	wait "$d" || true
	echo $((c1 - c0)) >>"$SCRATCH/daemon30"
	i=$((i + 1))
done
row 8x64 "gua daemon at 30 s: a tick + 30 reads" "$(median <"$SCRATCH/daemon30" |
    awk '{ printf "%.2f ms CPU/tick", $1 / 1e6 }')" "<= 1 ms over a tick"
stop_sleepers

# Scale: one GPU with 1000 real processes; 64 GPUs with one each; one
# process whose command line is over 1 MiB (its identity is read once,
# the first 1023 bytes kept).
{
	echo "tick 0"
	echo "util 0 30"
	p=0
	while [ $p -lt 1000 ]; do
		sleeper
		echo "proc 0 $P 100"
		p=$((p + 1))
	done
} >"$SCRATCH/scenario"
collect_row 1x1000 "gua daemon, 1 GPU x 1000 procs" 200ms "<= 2 ms"
row 1x1000 "  start-up, 1000 new processes" "$(awk -v m="$startup_ms" \
    'BEGIN { printf "%.1f ms CPU to first tick", m }')" ""
stop_sleepers
{
	echo "gpus 64"
	echo "tick 0"
	g=0
	while [ $g -lt 64 ]; do
		sleeper
		echo "util $g $g"
		echo "proc $g $P 2000"
		g=$((g + 1))
	done
} >"$SCRATCH/scenario"
collect_row 64x1 "gua daemon, 64 GPUs x 1 proc" 50ms ""
stop_sleepers
zeros=$(head -c 120000 /dev/zero | tr '\0' 0)
sleep 1000 $zeros $zeros $zeros $zeros $zeros $zeros $zeros $zeros $zeros &
P=$!
PIDS=$P
printf 'tick 0\nutil 0 5\nproc 0 %s 5000\n' "$P" >"$SCRATCH/scenario"
collect_row 1MiB "gua daemon, a 1 MiB command line" 50ms ""
stop_sleepers

# shellcheck disable=SC2046 # the runner prints "WALL RSS CPU": three words
set -- $("$RUN" -r "$SCRATCH/demo.db" "$RUNS" "$GUA" demo --db \
    "$SCRATCH/demo.db")
row demo "gua demo (30 ticks)" "$(time_rss "$1" "$2")" ""
# shellcheck disable=SC2046 # the runner prints "WALL RSS CPU": three words
set -- $("$RUN" -r "$SCRATCH/demo.db" "$RUNS" "$GUA" demo --ticks 100000 \
    --db "$SCRATCH/demo.db")
row demo "gua demo --ticks 100000" "$(time_rss "$1" "$2")" ""

old="$DIR/lab12-old.db"
row import "old format (input), lab12" "$(mb "$(size "$old")")" ""
# shellcheck disable=SC2046 # the runner prints "WALL RSS CPU": three words
set -- $("$RUN" -r "$SCRATCH/imported.db" "$IMPORT_RUNS" "$GUA" import \
    "$old" --db "$SCRATCH/imported.db")
row import "gua import" "$(time_rss "$1" "$2")" "<= 60 s"
"$GUA" import "$old" --db "$SCRATCH/imported.db" >/dev/null
row import "database imported" "$(mb "$(size "$SCRATCH/imported.db")")" \
    "<= 50 MB"
report import "$SCRATCH/imported.db" "$("$GEN" end lab12 1000)" 30d \
    "<= 100 ms"
