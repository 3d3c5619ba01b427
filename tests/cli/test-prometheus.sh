#!/bin/sh
# The collector's Prometheus textfile: written every tick, atomically, with
# the counters the database holds; kept across a restart with --append;
# removed when the collector stops cleanly (kept, frozen, after a crash);
# and read by a real node_exporter, scraped over loopback, which serves no
# gua family once the collector stopped.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/cli/collector-lib.sh
. "$HERE/collector-lib.sh"

TF=$TMP/textfile
mkdir "$TF"
DB=$TMP/prom.db
P=$TMP/snap.prom

# collect N SIGNAL [options]: a foreground collector with the textfile
# until it printed N ticks; the textfile is copied to $P while it runs
# (a copy of an atomically replaced file is one whole file), its mode to
# $TMP/mode; then SIGNAL.
collect() {
	_n=$1
	_sig=$2
	shift 2
	: >"$TMP/fg.out"
	start _fg "$GUA" daemon --foreground --nvml-library "$FAKE" \
	    --db "$DB" --pid-file "$TMP/prom.pid" --interval 50ms \
	    --textfile-dir "$TF" "$@" >"$TMP/fg.out" 2>"$TMP/fg.err"
	wait_until lines_at_least "$TMP/fg.out" "$_n"
	cp "$TF/gua.prom" "$P"
	stat -c %A "$TF/gua.prom" >"$TMP/mode"
	# shellcheck disable=SC2154 # start sets _fg, through eval
	kill "-$_sig" "$_fg" 2>/dev/null
	# (the shell's "Killed" after a SIGKILL is not the test's output)
	{ wait "$_fg"; } 2>/dev/null
	RC=$?
}

# metric FILE NAME LABELS: the value of one sample of an exposition text.
metric() {
	if [ -n "$3" ]; then _pat="$2{$3}"; else _pat="$2 "; fi
	grep -F -- "$_pat" "$1" | grep -v '^#' | awk '{ print $NF }' | head -1
}
# upto FILE: the time of the last tick an exposition text counts, as the
# CSV's timestamps spell it (always with milliseconds; node_exporter
# writes the number as 1.796e+09).
upto() {
	date -u -d "@$(awk -v v="$(metric "$1" gua_last_tick_timestamp_seconds \
	    '')" 'BEGIN { printf "%.3f", v }')" +%Y-%m-%dT%H:%M:%S.%3NZ
}
# seconds GPU STATE [UPTO]: the recorded span of a GPU in a state, from raw
# rows, up to the tick at UPTO (default: the snapshot's last tick). While
# the collector runs the database is ahead of the textfile.
seconds() {
	ticks_csv "$DB" | awk -F, -v g="$1" -v s="$2" -v u="${3:-$(upto "$P")}" '
	    { ts = $2; if (length(ts) == 20) ts = substr(ts, 1, 19) ".000Z" }
	    $4 == g && $8 == s && ts <= u { ms += $3 }
	    END { printf "%.3f\n", ms / 1000 }'
}
# same A B: two decimal numbers are equal to the millisecond.
same() { awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; exit !(d < 0.0005 && d > -0.0005) }'; }
expect_same_number() {
	if [ -n "$1" ] && same "$1" "$2"; then ok; else
		fail "got '$1', want '$2'"; fi
}

start HOLDER sleep 1000
start TRAINER sleep 1001
scenario <<EOF2
gpus 2
gpu 0 uuid=GPU-prom0000 name=Trainer total=81920
gpu 1 uuid=GPU-prom1111 name=Notebook total=40960
tick 0
util 0 90
proc 0 $TRAINER 30000
util 1 2
proc 1 $HOLDER 12000
EOF2

t "the collector writes DIR/gua.prom while it runs"
collect 6 TERM
expect_rc 0
expect_file "$P"
t "a clean stop (SIGTERM) removes it, and leaves nothing in the directory"
expect_no_file "$TF/gua.prom"
if [ -z "$(ls -A "$TF")" ]; then ok; else fail "left: $(ls -A "$TF")"; fi
t "the textfile is not writable by others"
case $(cat "$TMP/mode") in
-rw-r--r--) ok ;;
*) fail "mode $(cat "$TMP/mode")" ;;
esac

t "one HELP and one TYPE per family, no timestamps"
for fam in gua_gpu_state_seconds_total gua_gpu_energy_joules_total \
    gua_gpu_utilization_ratio gua_gpu_memory_held_bytes \
    gua_gpu_memory_total_bytes gua_gpu_info \
    gua_process_idle_held_seconds_total gua_last_tick_timestamp_seconds \
    gua_tick_errors_total gua_build_info; do
	expect_count "$P" "# HELP $fam " 1
	expect_count "$P" "# TYPE $fam " 1
done
if grep -v '^#' "$P" | awk 'NF != 2 { bad = 1 } END { exit bad }'; then ok; else
	fail "a sample with a timestamp or a space in a label"; fi
t "promtool check metrics finds nothing to say"
if need promtool prometheus; then
	run promtool check metrics <"$P"
	expect_rc 0
	expect_empty_out
	expect_empty_err
fi

t "state counters equal the spans the database recorded"
for s in active idle_held truly_idle unknown; do
	expect_same_number "$(metric "$P" gua_gpu_state_seconds_total \
	    "gpu=\"0\",uuid=\"GPU-prom0000\",state=\"$s\"")" "$(seconds 0 "$s")"
	expect_same_number "$(metric "$P" gua_gpu_state_seconds_total \
	    "gpu=\"1\",uuid=\"GPU-prom1111\",state=\"$s\"")" "$(seconds 1 "$s")"
done
t "the held memory and utilization of the last tick"
expect_same_number "$(metric "$P" gua_gpu_memory_held_bytes \
    'gpu="1",uuid="GPU-prom1111"')" $((12000 * 1048576))
expect_same_number "$(metric "$P" gua_gpu_utilization_ratio \
    'gpu="0",uuid="GPU-prom0000"')" 0.9
t "each card's total memory, as NVML tells it"
expect_same_number "$(metric "$P" gua_gpu_memory_total_bytes \
    'gpu="0",uuid="GPU-prom0000"')" $((81920 * 1048576))
expect_same_number "$(metric "$P" gua_gpu_memory_total_bytes \
    'gpu="1",uuid="GPU-prom1111"')" $((40960 * 1048576))
t "the idle holder's user has its idle-held seconds"
U=$(user_of "$HOLDER")
expect_same_number "$(metric "$P" gua_process_idle_held_seconds_total \
    "user=\"$U\",gpu=\"1\",uuid=\"GPU-prom1111\"")" "$(seconds 1 idle_held)"
before=$(metric "$P" gua_gpu_state_seconds_total \
    'gpu="1",uuid="GPU-prom1111",state="idle_held"')

t "after a restart with --append the counters go on from the history"
collect 4 INT --append
expect_rc 0
after=$(metric "$P" gua_gpu_state_seconds_total \
    'gpu="1",uuid="GPU-prom1111",state="idle_held"')
if awk -v a="$after" -v b="$before" 'BEGIN { exit !(a > b) }'; then ok; else
	fail "idle-held went from $before to $after"; fi
expect_same_number "$after" "$(seconds 1 idle_held)"
expect_same_number "$(metric "$P" gua_gpu_memory_total_bytes \
    'gpu="1",uuid="GPU-prom1111"')" $((40960 * 1048576))
t "a clean stop on SIGINT removes the textfile too"
expect_no_file "$TF/gua.prom"

# A crash cannot clean up: the file stays, frozen, and its last tick's
# time is how an alert tells (docs/prometheus.md).
t "after kill -9 the textfile stays, its last tick in the past"
collect 3 KILL --append
expect_file "$TF/gua.prom"
last=$(metric "$TF/gua.prom" gua_last_tick_timestamp_seconds '')
if awk -v l="$last" -v n="$(date +%s)" 'BEGIN { exit !(l > 0 && l <= n + 1) }'
then ok; else fail "last tick at '$last'"; fi
t "the next collector takes the file over, and gua stop removes it"
run "$GUA" daemon --nvml-library "$FAKE" --db "$DB" --append \
    --pid-file "$TMP/prom.pid" --log-file "$TMP/prom.log" --interval 1h \
    --textfile-dir "$TF"
expect_rc 0
if awk -v a="$(metric "$TF/gua.prom" gua_last_tick_timestamp_seconds '')" \
    -v b="$last" 'BEGIN { exit !(a > b) }'; then ok; else
	fail "the crashed run's file is still there"; fi
run "$GUA" stop --pid-file "$TMP/prom.pid"
expect_rc 0
expect_no_file "$TF/gua.prom"
if [ -z "$(ls -A "$TF")" ]; then ok; else fail "left: $(ls -A "$TF")"; fi

t "a textfile someone else put in its place is not removed"
run "$GUA" daemon --nvml-library "$FAKE" --db "$DB" --append \
    --pid-file "$TMP/prom.pid" --log-file "$TMP/prom.log" --interval 1h \
    --textfile-dir "$TF"
expect_rc 0
echo 'other_metric 1' >"$TMP/other.prom"
mv "$TMP/other.prom" "$TF/gua.prom"
run "$GUA" stop --pid-file "$TMP/prom.pid"
expect_rc 0
if [ "$(cat "$TF/gua.prom" 2>&1)" = "other_metric 1" ]; then ok; else
	fail "got: $(head -c 200 "$TF/gua.prom" 2>&1)"; fi
rm -f "$TF/gua.prom"

t "a textfile directory that does not exist is refused at start-up"
"$GUA" daemon --foreground --nvml-library "$FAKE" --db "$TMP/x.db" \
    --pid-file "$TMP/x.pid" --textfile-dir "$TMP/nowhere" \
    >"$TMP/out" 2>"$TMP/err"
RC=$?
expect_rc 1
expect_err "$TMP/nowhere"
expect_no_file "$TMP/x.db"

# node_exporter reads the textfile of a running collector: the gua
# families reach /metrics; once it stopped, none does.
t "node_exporter scrapes the gua families"
if ! need prometheus-node-exporter prometheus-node-exporter ||
    ! need curl curl; then
	finish_collector
	exit
fi
run "$GUA" daemon --nvml-library "$FAKE" --db "$DB" --append \
    --pid-file "$TMP/prom.pid" --log-file "$TMP/prom.log" --interval 50ms \
    --textfile-dir "$TF"
expect_rc 0
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null || echo 19100)
start NE prometheus-node-exporter --web.listen-address="127.0.0.1:$port" \
    --collector.disable-defaults --collector.textfile \
    --collector.textfile.directory="$TF" 2>"$TMP/ne.err"
scrape() { curl -fsS "http://127.0.0.1:$port/metrics" >"$TMP/metrics" 2>/dev/null; }
expect_wait scrape
M=$TMP/metrics
expect_count "$M" "node_textfile_scrape_error 0" 1
for fam in gua_gpu_state_seconds_total gua_gpu_info gua_build_info \
    gua_gpu_memory_total_bytes gua_last_tick_timestamp_seconds \
    gua_tick_errors_total; do
	expect_count "$M" "# TYPE $fam " 1
done
t "the scraped values are the database's"
for s in active idle_held; do
	for g in 0 1; do
		uuid=GPU-prom0000
		[ "$g" = 1 ] && uuid=GPU-prom1111
		expect_same_number "$(metric "$M" gua_gpu_state_seconds_total \
		    "gpu=\"$g\",state=\"$s\",uuid=\"$uuid\"")" \
		    "$(seconds "$g" "$s" "$(upto "$M")")"
	done
done
expect_count "$M" "gua_gpu_info{driver_version=" 2
t "after gua stop node_exporter serves no gua family, and no error"
run "$GUA" stop --pid-file "$TMP/prom.pid"
expect_rc 0
expect_wait scrape
expect_count "$M" "node_textfile_scrape_error 0" 1
expect_count "$M" "gua_" 0
finish_collector
