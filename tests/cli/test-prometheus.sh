#!/bin/sh
# The collector's Prometheus textfile: written every tick, atomically, with
# the counters the database holds; kept across a restart with --append; and
# read by a real node_exporter, scraped over loopback.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/cli/collector-lib.sh
. "$HERE/collector-lib.sh"

TF=$TMP/textfile
mkdir "$TF"
DB=$TMP/prom.db

# collect N [options]: a foreground collector with the textfile until it
# printed N ticks, then SIGTERM.
collect() {
	_n=$1
	shift
	: >"$TMP/fg.out"
	start _fg "$GUA" daemon --foreground --nvml-library "$FAKE" \
	    --db "$DB" --pid-file "$TMP/prom.pid" --interval 50ms \
	    --textfile-dir "$TF" "$@" >"$TMP/fg.out" 2>"$TMP/fg.err"
	wait_until lines_at_least "$TMP/fg.out" "$_n"
	# shellcheck disable=SC2154 # start sets _fg, through eval
	kill -TERM "$_fg" 2>/dev/null
	wait "$_fg"
	RC=$?
}

# metric FILE NAME LABELS: the value of one sample of an exposition text.
metric() {
	grep -F -- "$2{$3}" "$1" | grep -v '^#' | awk '{ print $NF }' | head -1
}
# seconds GPU STATE: the recorded span of a GPU in a state, from raw rows.
seconds() {
	ticks_csv "$DB" | awk -F, -v g="$1" -v s="$2" \
	    '$4 == g && $8 == s { ms += $3 } END { printf "%.3f\n", ms / 1000 }'
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

t "the collector writes DIR/gua.prom"
collect 6
expect_rc 0
expect_file "$TF/gua.prom"
t "no temporary file is left in the directory"
if [ "$(ls -A "$TF")" = gua.prom ]; then ok; else fail "$(ls -A "$TF")"; fi
t "the textfile is not writable by others"
case $(stat -c %A "$TF/gua.prom") in
????????w?) fail "world-writable" ;;
*) ok ;;
esac

P=$TF/gua.prom
t "one HELP and one TYPE per family, no timestamps"
for fam in gua_gpu_state_seconds_total gua_gpu_utilization_ratio \
    gua_gpu_memory_held_bytes gua_gpu_info \
    gua_process_idle_held_seconds_total gua_last_tick_timestamp_seconds \
    gua_tick_errors_total gua_build_info; do
	expect_count "$P" "# HELP $fam " 1
	expect_count "$P" "# TYPE $fam " 1
done
if grep -v '^#' "$P" | awk 'NF != 2 { bad = 1 } END { exit bad }'; then ok; else
	fail "a sample with a timestamp or a space in a label"; fi

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
t "the idle holder's user has its idle-held seconds"
U=$(user_of "$HOLDER")
expect_same_number "$(metric "$P" gua_process_idle_held_seconds_total \
    "user=\"$U\",gpu=\"1\",uuid=\"GPU-prom1111\"")" "$(seconds 1 idle_held)"
before=$(metric "$P" gua_gpu_state_seconds_total \
    'gpu="1",uuid="GPU-prom1111",state="idle_held"')

t "after a restart with --append the counters go on from the history"
collect 4 --append
expect_rc 0
after=$(metric "$P" gua_gpu_state_seconds_total \
    'gpu="1",uuid="GPU-prom1111",state="idle_held"')
if awk -v a="$after" -v b="$before" 'BEGIN { exit !(a > b) }'; then ok; else
	fail "idle-held went from $before to $after"; fi
expect_same_number "$after" "$(seconds 1 idle_held)"

t "a textfile directory that does not exist is refused at start-up"
"$GUA" daemon --foreground --nvml-library "$FAKE" --db "$TMP/x.db" \
    --pid-file "$TMP/x.pid" --textfile-dir "$TMP/nowhere" \
    >"$TMP/out" 2>"$TMP/err"
RC=$?
expect_rc 1
expect_err "$TMP/nowhere"
expect_no_file "$TMP/x.db"

# node_exporter reads the textfile: the gua families reach /metrics.
t "node_exporter scrapes the gua families"
if ! need prometheus-node-exporter prometheus-node-exporter ||
    ! need curl curl; then
	finish_collector
	exit
fi
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null || echo 19100)
start NE prometheus-node-exporter --web.listen-address="127.0.0.1:$port" \
    --collector.disable-defaults --collector.textfile \
    --collector.textfile.directory="$TF" 2>"$TMP/ne.err"
scrape() { curl -fsS "http://127.0.0.1:$port/metrics" >"$TMP/metrics" 2>/dev/null; }
expect_wait scrape
M=$TMP/metrics
expect_count "$M" "node_textfile_scrape_error 0" 1
for fam in gua_gpu_state_seconds_total gua_gpu_info gua_build_info \
    gua_last_tick_timestamp_seconds gua_tick_errors_total; do
	expect_count "$M" "# TYPE $fam " 1
done
t "the scraped values are the database's"
for s in active idle_held; do
	for g in 0 1; do
		uuid=GPU-prom0000
		[ "$g" = 1 ] && uuid=GPU-prom1111
		expect_same_number "$(metric "$M" gua_gpu_state_seconds_total \
		    "gpu=\"$g\",state=\"$s\",uuid=\"$uuid\"")" \
		    "$(seconds "$g" "$s")"
	done
done
expect_count "$M" "gua_gpu_info{driver_version=" 2
finish_collector
