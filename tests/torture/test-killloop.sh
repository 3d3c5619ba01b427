#!/bin/sh
# Crash safety: the collector at a 10 ms interval, killed with SIGKILL at
# a random moment (start-up included) 100 times, each time restarted with
# --append. Afterwards: SQLite's integrity check passes; every tick has all
# its GPUs (decoded through `gua report --format csv --table ticks`);
# every tick a run printed (it prints only after the commit returned) is
# in the file, and at most the one in flight besides; spans are honest;
# and every restart resumed the file.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/../cli/lib.sh"
HERE=$(cd "$(dirname "$0")/../cli" && pwd)
# shellcheck source=tests/cli/collector-lib.sh
. "$HERE/collector-lib.sh"

RUNS=${KILL_RUNS:-100}
K=$TMP/kill
mkdir "$K"
DB=$K/gua.db
start S1 sleep 1000
start S2 sleep 1001
start DEAD sleep 1002
kill -9 "$DEAD"
wait "$DEAD" 2>/dev/null
# Three GPUs; processes come and go over a cycle of three ticks; DEAD has
# exited (gone from /proc).
scenario <<EOF
gpus 3
loop
tick 0
util 0 90
proc 0 $S1 4000
proc 1 $S2 100
util 2 5
tick 1
util 0 3
proc 0 $S1 4000
proc 2 $DEAD 700
tick 2
util 1 40
proc 1 $S2 9000
EOF
# now_ms: the wall clock as the CSV writes it, always with milliseconds.
now_ms() { date -u +%Y-%m-%dT%H:%M:%S.%3NZ; }
# A random delay of 0 to 399 ms, as seconds.
delay() { od -An -N2 -tu2 /dev/urandom | awk '{ printf "%.3f", ($1 % 400) / 1000 }'; }

: >"$K/bounds"
i=1
selfexit=0
while [ $i -le "$RUNS" ]; do
	now_ms >>"$K/bounds"
	"$GUA" daemon --foreground --append --nvml-library "$FAKE" --db "$DB" \
	    --pid-file "$K/gua.pid" --interval 10ms >"$K/out.$i" \
	    2>"$K/err.$i" &
	pid=$!
	sleep "$(delay)"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rc=$?
	if [ "$rc" -ne 137 ]; then
		selfexit=$((selfexit + 1))
		echo "run $i exited $rc by itself: $(head -c 300 "$K/err.$i")" >&2
	fi
	i=$((i + 1))
done
t "every one of the $RUNS runs resumed the file and ran until killed"
if [ "$selfexit" -eq 0 ]; then ok; else fail "$selfexit runs exited"; fi

# A last, clean run resumes once more.
now_ms >>"$K/bounds"
start FIN "$GUA" daemon --foreground --append --nvml-library "$FAKE" \
    --db "$DB" --pid-file "$K/gua.pid" --interval 10ms >"$K/out.$i" \
    2>"$K/err.$i"
wait_until lines_at_least "$K/out.$i" 5
kill -TERM "$FIN"
wait "$FIN"
RC=$?
t "a clean run appends after the last kill"
expect_rc 0
expect_count "$K/err.$i" "(appending)" 1

t "the database passes SQLite's integrity check"
expect_q "$DB" "PRAGMA integrity_check" ok

ticks_csv "$DB" >"$K/rows"
t "no tick is half-written: each is one whole scenario tick, all three GPUs"
# A tick's signature: GPU=utilization:PIDs for its GPUs in order.
awk -F, -v s1="$S1" -v s2="$S2" -v dead="$DEAD" '
    BEGIN {
	ok["|0=90.0:" s1 "|1=0.0:" s2 "|2=5.0:"] = 1
	ok["|0=3.0:" s1 "|1=0.0:|2=0.0:" dead] = 1
	ok["|0=0.0:|1=40.0:" s2 "|2=0.0:"] = 1
    }
    {
	sub(/\r$/, ""); n = split($11, e, " "); p = ""
	for (i = 1; i <= n; i++) { split(e[i], f, "/"); p = p f[1] }
	sig[$2] = sig[$2] "|" $4 "=" $6 ":" p
    }
    END { for (k in sig) if (!(sig[k] in ok)) { bad++; ex = sig[k] }
	print bad + 0, ex }' "$K/rows" >"$K/bad"
if [ "$(cut -d' ' -f1 "$K/bad")" -eq 0 ]; then ok; else
	fail "ticks not whole: $(cat "$K/bad")"; fi

# One line per tick: time (with milliseconds) and span, in time order.
awk -F, '!seen[$2]++ { t = $2; if (t !~ /\./) sub(/Z$/, ".000Z", t);
    print t, $3 }' "$K/rows" | sort >"$K/ticks"
# Per run (the ticks between its start and the next run's): ticks in the
# file, lines printed, its first span, spans over the cap, spans longer
# than the time since the previous tick (5 ms for the two clocks), gaps.
awk -v dir="$K" '
    function ms(t,  d, y, m, days) {
	split(t, d, /[-T:.Z]/)
	y = d[1]; m = d[2] - 3
	if (m < 0) { y--; m += 12 }
	days = y * 365 + int(y / 4) - int(y / 100) + int(y / 400)
	days += int((153 * m + 2) / 5) + d[3]
	return ((days * 24 + d[4]) * 60 + d[5]) * 60000 + d[6] * 1000 + d[7]
    }
    FNR == NR { b[++nb] = $1; next }
    {
	while (r < nb && $1 >= b[r + 1]) r++
	c[r]++
	if (c[r] == 1) first[r] = $2
	else {
		d = ms($1) - ms(prev)
		if ($2 > d + 5) liar++
		if (d > $2 + 5) gaps++
	}
	if ($2 < 1 || $2 > 20) capped++
	prev = $1
    }
    END {
	for (i = 1; i <= nb; i++) {
		f = dir "/out." i
		p = 0
		while ((getline line < f) > 0) p++
		close(f)
		if (c[i] < p) lost += p - c[i]
		else if (c[i] > p + 1) extra++
		else if (c[i] == p + 1) flight++
		if (c[i] > 0 && first[i] != 10) badfirst++
		total += c[i]
	}
	printf "%d %d %d %d %d %d %d %d %d\n", total, lost + 0, extra + 0,
	    flight + 0, badfirst + 0, capped + 0, liar + 0, gaps + 0, nb
    }' "$K/bounds" "$K/ticks" >"$K/sums"
read total lost extra flight badfirst capped liar gaps _ <"$K/sums"
echo "kill loop: $RUNS kills, $total ticks survived; lost $lost; $flight" \
    "runs had one committed tick in flight unprinted; $gaps gaps within runs" >&2
t "every tick printed before a kill (its commit had returned) survived it"
if [ "$lost" -eq 0 ]; then ok; else fail "$lost printed ticks are missing"; fi
t "no run left more than the one tick in flight besides"
if [ "$extra" -eq 0 ]; then ok; else fail "$extra runs"; fi
t "each run's first tick spans one interval"
if [ "$badfirst" -eq 0 ]; then ok; else fail "$badfirst runs"; fi
t "spans are honest: at most two intervals, never more than the time elapsed"
if [ "$capped" -eq 0 ] && [ "$liar" -eq 0 ]; then ok; else
	fail "$capped over the cap, $liar longer than the time elapsed"; fi
t "the file holds the ticks of the runs, in order"
if [ "$total" -gt "$RUNS" ] &&
    [ "$total" -eq "$(wc -l <"$K/ticks")" ]; then ok; else
	fail "$total ticks counted, $(wc -l <"$K/ticks") in the file"; fi

finish_collector
