#!/bin/sh
# The truth of the numbers: the real collector against scenarios of the
# fake NVML whose ground truth is known, and the report's numbers held to
# it within 1 %. Short intervals stand for long ones: the fake lays each
# tick's samples over the real time since the tick before (see
# tests/fake-nvml/README.md), so "busy 6 s out of every 30 s" is "busy 6
# sampling periods out of 30" of each 100 ms tick.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/cli/collector-lib.sh
. "$HERE/collector-lib.sh"

# collect NAME N [options]: a foreground collector at 100 ms (or
# $INTERVAL) playing the
# scenario until it printed N ticks, then stopped. DB is its database.
# (A tick late by more than two intervals leaves the rest as a gap and
# reads only the samples of its capped span: 100 ms keeps a loaded
# machine from making ticks the scenario did not mean.)
collect() {
	_name=$1
	_n=$2
	shift 2
	start _fg "$GUA" daemon --foreground --nvml-library "$FAKE" \
	    --db "$TMP/$_name.db" --pid-file "$TMP/$_name.pid" \
	    --interval "${INTERVAL:-100ms}" "$@" >"$TMP/$_name.out" \
	    2>"$TMP/$_name.err"
	# shellcheck disable=SC2154 # start sets _fg, through eval
	wait_until printed_or_exited "$TMP/$_name.out" "$_n" "$_fg"
	kill -TERM "$_fg" 2>/dev/null
	wait "$_fg"
	RC=$?
	DB=$TMP/$_name.db
}
printed_or_exited() { lines_at_least "$1" "$2" || gone "$3"; }

# report NAME [options]: the JSON report of everything DB recorded, up to
# its last tick, in $TMP/NAME.json (the text report in $TMP/NAME.txt).
report() {
	_name=$1
	shift
	_last=$(ticks_csv "$DB" | tail -1 | cut -d, -f2)
	GUA_NOW='' "$GUA" report --db "$DB" --since 36500d --until "$_last" \
	    --format json "$@" >"$TMP/$_name.json" 2>"$TMP/$_name.jerr"
	GUA_NOW='' "$GUA" report --db "$DB" --since 36500d --until "$_last" \
	    --width 60 "$@" >"$TMP/$_name.txt" 2>>"$TMP/$_name.jerr"
	J=$TMP/$_name.json
}
# procs_csv: the processes table of everything DB recorded (header
# dropped), as report reads it. Columns: 1 host, 2 timestamp, 3 span_ms,
# 4 gpu_index, 5 gpu_uuid, 6 pid, 7 user, 8 command, 9 memory_mib,
# 10 sm_utilization_percent, 11 state (ending with the row's CR).
procs_csv() {
	_last=$(ticks_csv "$DB" | tail -1 | cut -d, -f2)
	GUA_NOW='' "$GUA" report --db "$DB" --since 36500d --until "$_last" \
	    --format csv --table processes | tail -n +2
}
# expect_procs AWK WANT: the awk program over those rows prints WANT.
expect_procs() {
	_got=$(procs_csv | awk -F, "$1")
	if [ "$_got" = "$2" ]; then ok; else
		fail "processes: $1: got '$_got', want '$2'"; fi
}
# tables NAME: the ticks, processes and sessions tables of the report's
# window in $TMP/NAME-*.csv, and the processes table checked against the
# ticks table and the JSON report $J.
tables() {
	_last=$(ticks_csv "$DB" | tail -1 | cut -d, -f2)
	for _t in ticks processes sessions; do
		GUA_NOW='' "$GUA" report --db "$DB" --since 36500d \
		    --until "$_last" --format csv --table "$_t" \
		    >"$TMP/$1-$_t.csv"
	done
	check csv-processes "$TMP/$1-processes.csv" "$TMP/$1-ticks.csv" "$J"
}
# csv_of NAME PID COLUMN: COLUMN of process PID in the sessions table.
csv_of() {
	"$PYTHON" -c 'import csv, sys
for r in csv.DictReader(open(sys.argv[1], newline="")):
    if r["pid"] == sys.argv[2]:
        print(r[sys.argv[3]])' "$TMP/$1-sessions.csv" "$2" "$3"
}
# ms STATE GPU: the recorded time of GPU (index) in STATE, in seconds,
# summed over the raw rows: the ground truth of the spans.
spans() {
	ticks_csv "$DB" | awk -F, -v g="$2" -v s="$1" \
	    '$4 == g && (s == "all" || $8 == s) { ms += $3 }
	    END { printf "%.3f\n", ms / 1000 }'
}

if [ -z "$PYTHON" ]; then
	t "python3 for the report's numbers"
	fail "python3 is needed (.ci/run installs it)"
	finish_collector
	exit
fi

start HOLD sleep 1000
start TRAIN sleep 1001
start BURST sleep 1002
U=$(user_of "$HOLD")

# ---- bursty: a GPU busy 6 s out of every 30 s at 100 % while a process
# holds memory: 20 % utilization, so active, never idle-held. The point
# reading happens to fall in the idle part at every tick but one.
scenario <<EOF
tick 0
util 0 0
samples 0 100*6 0*24
proc 0 $BURST 8000 sm=100*6,0*24
tick 1
util 0 100
samples 0 0*12 100*6 0*12
proc 0 $BURST 8000 sm=0*12,100*6,0*12
tick 2
util 0 0
samples 0 0*24 100*6
proc 0 $BURST 8000 sm=0*24,100*6
EOF
collect bursty 20
report bursty
t "bursty: every tick from the samples, and active"
expect_ticks "$DB" '$7 != "samples" { n++ } END { print n + 0 }' 0
expect_eq "$(py "$J" 'd["totals"]["active_ratio"]')" 1.0
expect_near "$(py "$J" 'd["totals"]["idle_held_gpu_hours"]')" 0
t "bursty: 20 % utilization, the maximum 100 %"
expect_near "$(py "$J" 'd["gpus"][0]["mean_utilization_percent"]')" 20
expect_ticks "$DB" '$6 != "20.0" { n++ } END { print n + 0 }' 0
t "bursty: each tick's busiest sample, and how much of it they cover"
expect_ticks "$DB" '$12 != "100" { n++ } END { print n + 0 }' 0
expect_ticks "$DB" 'NR > 1 && !($13 + 0 > 0) { n++ } END { print n + 0 }' 0
t "bursty: the process's own utilization is 20 %: never idle-held"
expect_near "$(py "$J" 'd["sessions"][0]["idle_held_seconds"]')" 0
expect_ticks "$DB" '$11 !~ /\/active/ { n++ } END { print n + 0 }' 0
t "bursty: its GPU-hours are the recorded spans"
expect_near "$(py "$J" 'd["identities"][0]["gpu_hours"] * 3600')" \
    "$(spans all 0)"

# The same GPU read by the instantaneous rate alone: the unlucky points
# make idle-held ticks out of a GPU busy a fifth of the time.
sed -i '1i fault 0 samples NOT_SUPPORTED' "$FAKE_NVML_SCENARIO"
collect instant 20
report instant
N=$(ticks_csv "$DB" | wc -l)
t "bursty, point readings only: all but one tick idle-held"
expect_ticks "$DB" '$7 == "instant" { n++ } END { print n + 0 }' "$N"
expect_ticks "$DB" '$13 != "" { n++ } END { print n + 0 }' 0
expect_ticks "$DB" '$8 == "idle_held" { n++ } END { print n + 0 }' \
    $((N - 1))
expect_near "$(py "$J" 'd["totals"]["idle_held_gpu_hours"] * 3600')" \
    "$(spans idle_held 0)"
if [ "$(py "$J" 'd["totals"]["idle_held_ratio"] > 0.8')" = True ]; then ok
else fail "idle-held share $(py "$J" 'd["totals"]["idle_held_ratio"]')"; fi

# ---- a shared card: a trainer at 90 %, a notebook holding 12 GiB at
# 0 %. The card is active; the notebook's hours are idle-held.
scenario <<EOF
tick 0
util 0 90
samples 0 90*30
proc 0 $TRAIN 30000 sm=90
proc 0 $HOLD 12288
EOF
collect shared 20
report shared
T=$(spans all 0)
t "shared: the card is active throughout, at 90 %"
expect_eq "$(py "$J" 'd["gpus"][0]["active_ratio"]')" 1.0
expect_near "$(py "$J" 'd["gpus"][0]["mean_utilization_percent"]')" 90
t "shared: the notebook's time is idle-held, the trainer's is not"
expect_near "$(py "$J" '[s["idle_held_seconds"] for s in d["sessions"]
    if s["pid"] == '"$HOLD"'][0]')" "$T"
expect_near "$(py "$J" '[s["idle_held_seconds"] for s in d["sessions"]
    if s["pid"] == '"$TRAIN"'][0]')" 0
expect_near "$(py "$J" '[s["idle_held_gib_hours"] for s in d["sessions"]
    if s["pid"] == '"$HOLD"'][0]')" \
    "$(awk -v t="$T" 'BEGIN { print 12 * t / 3600 }')"
t "shared: §4, the user's hours: half of them idle-held, 12 GiB of them"
expect_near "$(py "$J" 'd["identities"][0]["gpu_hours"] * 3600')" \
    "$(awk -v t="$T" 'BEGIN { print 2 * t }')"
expect_near "$(py "$J" 'd["identities"][0]["idle_held_gpu_hours"] * 3600')" \
    "$T"
expect_near "$(py "$J" 'd["identities"][0]["idle_held_ratio"]')" 0.5
expect_near "$(py "$J" 'd["identities"][0]["idle_held_gib_hours"]')" \
    "$(awk -v t="$T" 'BEGIN { print 12 * t / 3600 }')"
t "shared: the text report says the same"
expect_text "$TMP/shared.txt" "GPU-0     active 100.0%  idle-held   0.0%"
expect_text "$TMP/shared.txt" "$(printf '%6u  GPU-0      12288' "$HOLD")"
expect_text "$TMP/shared.txt" " 50.0% "
if grep -qF "$(printf '%6u  GPU-' "$TRAIN")" "$TMP/shared.txt"; then
	fail "the trainer is in §6"; else ok; fi
t "shared: the trainer's own SM utilization is 90 %, the notebook's 0 %"
expect_near "$(py "$J" '[s["mean_sm_utilization_percent"] for s in d["sessions"]
    if s["pid"] == '"$TRAIN"'][0]')" 90
expect_eq "$(py "$J" '[s["mean_sm_utilization_percent"] for s in d["sessions"]
    if s["pid"] == '"$HOLD"'][0]')" 0.0
expect_near "$(py "$J" 'd["identities"][0]["mean_sm_utilization_percent"]')" 45
tables shared
expect_near "$(csv_of shared "$TRAIN" mean_sm_utilization_percent)" 90
expect_eq "$(csv_of shared "$HOLD" mean_sm_utilization_percent)" 0.0
t "shared: §6 shows the notebook at 0.0 %"
if grep -F "$(printf '%6u  GPU-' "$HOLD")" "$TMP/shared.txt" |
    grep -qE ' +[0-9]+:[0-9]{2}:[0-9]{2}    0\.0%  [0-9]{4}-'; then ok
else fail "§6: $(grep -F "$(printf '%6u  GPU-' "$HOLD")" "$TMP/shared.txt")"; fi
t "shared: the HTML sessions table shows it too"
GUA_NOW='' "$GUA" report --db "$DB" --since 36500d --format html \
    -o "$TMP/shared.html"
if grep -F "<td class=\"n\">$HOLD</td>" "$TMP/shared.html" |
    grep -qF '<td class="n">0.0%</td>'; then ok
else fail "no 0.0% in the notebook's row of shared.html"; fi
t "shared: the HTML says why a card 100 % active lists an idle-held session"
tr -d '\n' <"$TMP/shared.html" | sed 's/<tr/\n<tr/g' >"$TMP/shared.rows"
if grep -q '<tr class="gpu" data-index="0" .*<span class="busy-card">\*</span>.*<td class="n">100.0%</td><td class="n">0.0%</td><td class="n">0.0%</td></tr>' \
    "$TMP/shared.rows" &&
    grep -q '<tr class="busy-card-note"><td colspan="5">\* a process on this card was idle-held' \
    "$TMP/shared.html" && grep -q '<p id="busy-card-note"' "$TMP/shared.html"
then ok; else fail "no note under GPU-0's bar"; fi
if grep -F "<td class=\"n\">$HOLD</td>" "$TMP/shared.html" |
    grep -qF '<span class="busy-card"'; then ok; else
	fail "the notebook's row does not point to the note"; fi
if grep -F "<td class=\"n\">$TRAIN</td>" "$TMP/shared.html" |
    grep -qF '<span class="busy-card"'; then
	fail "the trainer's row points to the note"; else ok; fi
t "shared: the processes table, tick by tick: 90 % active, 0 % idle-held"
N=$(ticks_csv "$DB" | wc -l)
expect_procs '$6 == '"$TRAIN"' && $10 == "90.0" && $11 == "active\r" { n++ }
    END { print n + 0 }' "$N"
expect_procs '$6 == '"$HOLD"' && $10 == "0.0" && $11 == "idle_held\r" &&
    $9 == 12288 { n++ } END { print n + 0 }' "$N"
expect_procs 'END { print NR }' $((2 * N))

# ---- a trainer that dips: 90 % for two ticks, then 4 % and 0 % (no
# sample) while it keeps its 30 GiB. Idle-held half its ticks, yet its
# mean is no 0 %, no 90 % and no mean of its idle ticks alone: the
# span-weighted mean of every tick, about 46 %.
scenario <<EOF
loop
tick 0
util 0 90
samples 0 90*10
proc 0 $TRAIN 30000 sm=90
tick 1
util 0 90
samples 0 90*10
proc 0 $TRAIN 30000 sm=90
tick 2
util 0 4
samples 0 4*10
proc 0 $TRAIN 30000 sm=4
tick 3
util 0 0
proc 0 $TRAIN 30000
EOF
collect dips 20
report dips
tables dips
t "dips: tick by tick 90, 90, 4, 0 %: active, active, idle-held, idle-held"
expect_procs 'BEGIN { split("90.0/active 90.0/active 4.0/idle_held 0.0/idle_held", p, " ") }
    $10 "/" $11 != p[(NR - 1) % 4 + 1] "\r" { n++ } END { print n + 0 }' 0
expect_procs 'END { print (NR >= 20) }' 1
t "dips: §6 lists it with its mean over every tick (about 46 %), not 0 %"
M=$(py "$J" 'd["sessions"][0]["mean_sm_utilization_percent"]')
if awk -v m="$M" 'BEGIN { exit !(m > 30 && m < 62) }'; then ok
else fail "mean $M %, want about 46 %"; fi
expect_eq "$(csv_of dips "$TRAIN" mean_sm_utilization_percent)" "$M"
if grep -F "$(printf '%6u  GPU-' "$TRAIN")" "$TMP/dips.txt" |
    grep -qF "$(printf '%5.1f%%  ' "$M")"; then ok
else fail "§6 lacks $M %: $(grep -F sleep "$TMP/dips.txt")"; fi
expect_near "$(py "$J" 'd["sessions"][0]["idle_held_seconds"]')" \
    "$(procs_csv | awk -F, '$11 == "idle_held\r" { ms += $3 }
    END { printf "%.3f\n", ms / 1000 }')"

# ---- a process holding memory with no per-process sample at all (NVML
# lists busy processes only): idle-held, though its card is busy.
scenario <<EOF
tick 0
util 0 50
samples 0 50*10
proc 0 $HOLD 4000
EOF
collect nosample 12
report nosample
t "no sample at all: idle-held beside an active card"
expect_eq "$(py "$J" 'd["gpus"][0]["active_ratio"]')" 1.0
expect_near "$(py "$J" 'd["sessions"][0]["idle_held_seconds"]')" \
    "$(spans all 0)"
expect_ticks "$DB" '$11 !~ /\/idle_held/ { n++ } END { print n + 0 }' 0
# Where NVML cannot tell (unsupported), the card decides: active.
sed -i '1i fault 0 putil NOT_SUPPORTED' "$FAKE_NVML_SCENARIO"
collect nosupport 12
report nosupport
t "per-process utilization not supported: the card decides"
expect_near "$(py "$J" 'd["sessions"][0]["idle_held_seconds"]')" 0
expect_count "$TMP/nosupport.err" "per-process utilization: not supported" 1

# ---- the collector stopped in the middle of the window: a gap, not
# idle. An idle-held GPU, recorded, stopped for 3 s, recorded again.
scenario <<EOF
tick 0
util 0 0
proc 0 $HOLD 4000
EOF
collect gap 10
sleep 3
collect gap 10 --append
report gap
SUM=$(spans all 0)
WIN=$(py "$J" 'd["window"]["duration_seconds"]')
t "a gap: coverage is the recorded time over the window"
expect_near "$(py "$J" 'd["coverage_ratio"]')" \
    "$(awk -v s="$SUM" -v w="$WIN" 'BEGIN { print s / w }')"
t "a gap: at least the 3 s the collector was stopped is not observed"
if awk -v s="$SUM" -v w="$WIN" 'BEGIN { exit !(w - s >= 2.9) }'; then ok
else fail "window $WIN s, observed $SUM s"; fi
t "a gap: no idle time was added: idle-held is the recorded spans"
expect_near "$(py "$J" 'd["totals"]["idle_held_gpu_hours"] * 3600')" "$SUM"
expect_near "$(py "$J" 'd["sessions"][0]["idle_held_seconds"]')" "$SUM"
t "a gap: §1 states the coverage"
expect_text "$TMP/gap.txt" "coverage "
expect_text "$TMP/gap.txt" "of GPU time not observed"

# ---- a card replaced in its slot: GPU 0 busy in a first run, then
# another card (another UUID) at index 0, idle, in a run resumed with
# --append. Two GPUs with labels of their own, each counted for its part:
# the one-GPU host was half idle, and fully covered.
NEWCARD=GPU-5eed0000-0000-4000-8000-00000000beef
scenario <<EOF
tick 0
util 0 80
EOF
collect replaced 10
scenario <<EOF
gpu 0 uuid=$NEWCARD
tick 0
util 0 0
EOF
collect replaced 10 --append
report replaced
t "a card replaced: two GPUs, GPU-0 and GPU-0#2, the new one second"
expect_eq "$(py "$J" '[(g["label"], g["uuid"] == "'$NEWCARD'") for g in d["gpus"]]')" \
    "[('GPU-0', False), ('GPU-0#2', True)]"
expect_text "$TMP/replaced.txt" "GPU-0     active 100.0%"
expect_text "$TMP/replaced.txt" "GPU-0#2   active   0.0%  idle-held   0.0%  truly-idle 100.0%"
# The truth, from the raw rows: each card from the start of its first
# tick's span to its last tick (the new one to the window's end, a ms
# after its last tick), the coverage over those, and the idle card's
# share of them.
TRUTH=$(ticks_csv "$DB" | "$PYTHON" -c '
import sys, datetime
def ms(t):
    d = datetime.datetime.strptime(t.rstrip("Z"), "%Y-%m-%dT%H:%M:%S.%f"
        if "." in t else "%Y-%m-%dT%H:%M:%S")
    return (d - datetime.datetime(1970, 1, 1)).total_seconds() * 1000
rows = {}
for line in sys.stdin:
    f = line.split(",")
    rows.setdefault(f[4], []).append((ms(f[1]), int(f[2]), f[7]))
new = rows.pop(sys.argv[1])
old = list(rows.values())[0]
a = (old[0][0] - old[0][1], old[-1][0])
b = (new[0][0] - new[0][1], new[-1][0] + 1)
p_old, p_new = a[1] - a[0], b[1] - b[0]
# The host had a card for the union of the two: the first tick of a run
# counts one interval back, which may reach into the one before.
host = p_old + p_new - max(0, min(a[1], b[1]) - max(a[0], b[0]))
known = sum(r[1] for r in old + new if r[2] != "unknown")
idle = sum(r[1] for r in new if r[2] == "truly_idle")
watched = sum(r[1] for r in new)
print(known / (p_old + p_new), idle / watched * p_new / host)
' "$NEWCARD")
t "a card replaced: the coverage counts each card for its part only"
expect_near "$(py "$J" 'd["coverage_ratio"]')" "${TRUTH% *}"
t "a card replaced: GPUs equivalently unused is the idle card's part"
expect_near "$(py "$J" 'd["totals"]["gpus_equivalently_unused"]')" "${TRUTH#* }"
if awk -v u="${TRUTH#* }" 'BEGIN { exit !(u > 0.3 && u < 0.7) }'; then ok
else fail "unused ${TRUTH#* } is not about half"; fi
t "a card replaced: CSV and sessions carry the labels"
GUA_NOW='' gua report --db "$DB" --since 36500d --format csv
expect_rc 0
expect_out ",GPU-0"
expect_out ",GPU-0#2"
t "a card replaced: --gpu takes either label; the bare index is ambiguous"
GUA_NOW='' gua report --db "$DB" --since 36500d --gpu GPU-0#2 --format json
expect_rc 0
expect_out '"label": "GPU-0#2"'
expect_no_out '"label": "GPU-0"'
GUA_NOW='' gua report --db "$DB" --since 36500d --gpu gpu-0 --format json
expect_rc 0
expect_out '"label": "GPU-0"'
expect_no_out '"label": "GPU-0#2"'
GUA_NOW='' gua report --db "$DB" --since 36500d --gpu 0
expect_rc 2
expect_err "--gpu: index 0 was held by 2 GPUs in $DB (a card replaced); name one as the report does (GPU-0, GPU-0#2, ...) or by its UUID"
cp "$DB" "$TMP/replaced-copy.db"
sqlite3 "$TMP/replaced-copy.db" "UPDATE meta SET value = 'otherhost' WHERE key = 'hostname'"
GUA_NOW='' gua report --db "$DB" --db "$TMP/replaced-copy.db" --since 36500d \
    --gpu otherhost/GPU-0#2 --format json
expect_rc 0
expect_out '"label": "GPU-0#2"'

# ---- MIG: a GPU with two instances beside a plain GPU. The instances'
# memory and processes are recorded, their state unknown: not idle.
scenario <<EOF
gpus 2
gpu 0 uuid=GPU-a100aaaa-0000-4000-8000-000000000000 name=A100
mig 0 1 total=19968
mig 0 4 total=39936
tick 0
proc 0 $HOLD 3000 mig=1
proc 0 $TRAIN 5000 mig=4
util 1 50
samples 1 50*10
proc 1 $BURST 2000 sm=50
EOF
collect mig 12
report mig
t "MIG: two instances of GPU 0, and GPU 1"
expect_eq "$(py "$J" '[g["label"] for g in d["gpus"]]')" \
    "['GPU-0/MIG-0100', 'GPU-0/MIG-0400', 'GPU-1']"
expect_eq "$(py "$J" '[g["parent_uuid"] for g in d["gpus"]]')" \
    "['GPU-a100aaaa-0000-4000-8000-000000000000', 'GPU-a100aaaa-0000-4000-8000-000000000000', None]"
expect_eq "$(py "$J" '[g["memory_total_mib"] for g in d["gpus"]]')" \
    "[19968, 39936, 81920]"
t "MIG: the instances are unknown throughout, never idle"
expect_eq "$(py "$J" '[g["samples"] for g in d["gpus"][:2]]')" "[0, 0]"
expect_near "$(py "$J" 'd["totals"]["idle_held_gpu_hours"]')" 0
expect_near "$(py "$J" 'sum(s["idle_held_seconds"] for s in d["sessions"])')" 0
expect_ticks "$DB" '$5 ~ /^MIG-/ && $8 != "unknown" { n++ } END { print n + 0 }' 0
t "MIG: their processes and memory are recorded"
expect_ticks "$DB" "$(peak_of "$HOLD")" 3000
expect_ticks "$DB" "$(peak_of "$TRAIN")" 5000
t "MIG: coverage is GPU 1's time over three GPUs"
expect_near "$(py "$J" 'd["coverage_ratio"]')" \
    "$(awk -v s="$(spans all 1)" -v w="$(py "$J" 'd["window"]["duration_seconds"]')" \
    'BEGIN { print s / (3 * w) }')"
t "MIG: the text report labels them and says unknown"
expect_text "$TMP/mig.txt" "GPU-0/MIG-0100  active   0.0%  idle-held   0.0%  truly-idle   0.0%  unknown throughout"
expect_text "$TMP/mig.txt" "GPU-1           active 100.0%"
t "MIG: --gpu takes the label's UUID part"
GUA_NOW='' gua report --db "$DB" --since 36500d --gpu MIG-0400 --format json
expect_rc 0
expect_out '"label": "GPU-0/MIG-0400"'
t "MIG: --gpu takes the whole label, in any case, with several databases too"
GUA_NOW='' gua report --db "$DB" --since 36500d --gpu gpu-0/mig-04 --format json
expect_rc 0
expect_out '"label": "GPU-0/MIG-0400"'
expect_no_out '"label": "GPU-0/MIG-0100"'
cp "$DB" "$TMP/mig-copy.db"
GUA_NOW='' gua report --db "$TMP/mig.db" --db "$TMP/mig-copy.db" \
    --since 36500d --gpu GPU-0/MIG-0100 --format json
expect_rc 2
expect_err "matches GPUs of 2 hosts; write HOST/GPU-0/MIG-0100"
t "MIG: --gpu with the index of a split GPU names the way out"
GUA_NOW='' gua report --db "$DB" --since 36500d --gpu 0
expect_rc 2
expect_err "--gpu: GPU 0 is split into 2 MIG instances in $DB; name one as the report does (GPU-0/MIG-...) or by its UUID"
t "--gpu takes a GPU's label GPU-N: the index, not a UUID prefix"
GUA_NOW='' gua report --db "$DB" --since 36500d --gpu GPU-1 --format json
expect_rc 0
expect_out '"label": "GPU-1"'
expect_no_out '"label": "GPU-0/MIG-0400"'
GUA_NOW='' gua report --db "$DB" --since 36500d --gpu gpu-0
expect_rc 2
expect_err "--gpu: GPU 0 is split into 2 MIG instances"
# GPU 1's UUID is GPU-00000000-fake-…: a prefix, never an index.
GUA_NOW='' gua report --db "$DB" --since 36500d --gpu GPU-00000000 --format json
expect_rc 0
expect_out '"label": "GPU-1"'
# No GPU 7: GPU-7 is a UUID prefix, and matches none.
GUA_NOW='' gua report --db "$DB" --since 36500d --gpu GPU-7
expect_rc 2
expect_err "--gpu: no GPU 'GPU-7'"
GUA_NOW='' gua report --db "$DB" --since 36500d --gpu GPU-0/MIG-0900
expect_rc 2
expect_err "--gpu: no GPU 'GPU-0/MIG-0900'"
expect_count "$TMP/mig.err" "in MIG mode: recording each MIG instance" 1
# --foreground names each instance as the reports do.
expect_text "$TMP/mig.out" "GPU-0/MIG-0100 "
expect_text "$TMP/mig.out" "; GPU-0/MIG-0400 "

# ---- PID reuse: the same PID, another start time, is another process:
# two sessions. As root the next PID can be chosen (ns_last_pid).
t "PID reuse: two processes under one PID are two sessions"
if [ "$(id -u)" -ne 0 ] || ! [ -w /proc/sys/kernel/ns_last_pid ]; then
	skip "needs root and a writable /proc/sys/kernel/ns_last_pid"
else
	start FIRST sleep 1003
	P=$FIRST
	scenario <<EOF
tick 0
util 0 0
proc 0 $P 6000
EOF
	start _fg "$GUA" daemon --foreground --nvml-library "$FAKE" \
	    --db "$TMP/reuse.db" --pid-file "$TMP/reuse.pid" \
	    --interval 100ms >"$TMP/reuse.out" 2>"$TMP/reuse.err"
	COL=$_fg
	wait_until lines_at_least "$TMP/reuse.out" 5
	# Between two ticks: the collector paused, the first process gone
	# and another started under its PID.
	kill -STOP "$COL"
	kill -9 "$FIRST"
	wait "$FIRST" 2>/dev/null
	SECOND=""
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		echo $((P - 1)) >/proc/sys/kernel/ns_last_pid 2>/dev/null
		start S sleep 1004
		if [ "$S" = "$P" ]; then SECOND=$S; break; fi
		kill -9 "$S"
		wait "$S" 2>/dev/null
	done
	kill -CONT "$COL"
	B=$(wc -l <"$TMP/reuse.out")
	wait_until lines_at_least "$TMP/reuse.out" $((B + 5))
	kill -TERM "$COL"
	wait "$COL"
	DB=$TMP/reuse.db
	if [ -z "$SECOND" ]; then
		skip "another process took PID $P each time"
	else
		report reuse
		expect_eq "$(py "$J" 'len([s for s in d["sessions"] if s["pid"] == '"$P"'])')" 2
		expect_eq "$(py "$J" 'len(set(s["process_start"] for s in d["sessions"]))')" 2
		t "PID reuse: the first is no longer alive, the second is"
		expect_eq "$(py "$J" 'sorted(s["alive"] for s in d["sessions"])')" \
		    "[False, True]"
		t "PID reuse: their idle-held time adds up to the recorded spans"
		expect_near "$(py "$J" 'sum(s["idle_held_seconds"] for s in d["sessions"])')" \
		    "$(spans all 0)"
		t "PID reuse: §6 lists both"
		expect_eq "$(grep -c "$(printf '%6u  GPU-' "$P")" "$TMP/reuse.txt")" 2
	fi
fi

# ---- identity from the process's cgroup: a process moved into a cgroup
# named as a container runtime, Kubernetes, Slurm and systemd name theirs.
t "identity from /proc/PID/cgroup: container, pod, unit, Slurm job"
ID64=3f2a1b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708
POD=1f2e3d4c_5b6a_4789_8abc_def012345678
CG=""
V2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
if [ "$(id -u)" -eq 0 ] && [ -n "$V2" ] && [ -w "$V2" ]; then
	CG=$V2/gua-test.$$/kubepods-burstable-pod$POD.slice/job_4242/docker-$ID64.scope
	mkdir -p "$CG" 2>/dev/null || CG=""
fi
start BOXED sleep 1005
if [ -n "$CG" ] && echo "$BOXED" >"$CG/cgroup.procs" 2>/dev/null; then
	scenario <<EOF
tick 0
util 0 0
proc 0 $BOXED 7000
EOF
	collect cgroup 6
	report cgroup
	expect_eq "$(py "$J" '[(s["container"], s["pod"], s["unit"], s["slurm_job"]) for s in d["sessions"]]')" \
	    "[('3f2a1b4c5d6e', '1f2e3d4c-5b6a-4789-8abc-def012345678', 'docker-$ID64.scope', 'job_4242')]"
	expect_eq "$(py "$J" '[(i["container"], i["slurm_job"]) for i in d["identities"]]')" \
	    "[('3f2a1b4c5d6e', 'job_4242')]"
	t "identity from the cgroup: beside the user in §4 and §6"
	expect_text "$TMP/cgroup.txt" "$U (pod 1f2e3d4c…)"
	GUA_NOW='' gua report --db "$DB" --since 36500d --format csv --table sessions
	expect_out "3f2a1b4c5d6e,1f2e3d4c-5b6a-4789-8abc-def012345678,docker-$ID64.scope,job_4242"
	kill -9 "$BOXED"
	wait "$BOXED" 2>/dev/null
	rmdir "$CG" "${CG%/*}" "${CG%/*/*}" "$V2/gua-test.$$" 2>/dev/null
else
	[ -n "$CG" ] && rmdir "$CG" "${CG%/*}" "${CG%/*/*}" "$V2/gua-test.$$" \
	    2>/dev/null
	skip "needs root and a writable cgroup2 hierarchy"
fi

# ---- each process's own utilization under each behaviour a driver may
# show (tests/fake-nvml/README.md, putil_mode), read by the real collector
# between its ticks: a 300 ms tick stands for 30 s, a 10 ms sampling
# period for a sixth of a second. tests/unit/test-putil.c holds the same
# cases to their exact bounds on a manual clock, at 1 s to 5 min; here,
# in real time, a loaded machine moves the reads, so only what no timing
# can change is held exactly.
start TRAIN2 sleep 1006
start LIGHT sleep 1007
start HOLD2 sleep 1008
start BURSTY sleep 1009
start MINUTE sleep 1010
# sm_of FILE PID: the process's SM % at each tick --foreground printed.
sm_of() {
	sed -n "s/.*[[, ]$2 [^],]* sm \([0-9]*\)%.*/\1/p" "$1"
}
for mode in periods latest mean; do
	scenario <<EOF
putil_mode $mode
process_period_us 10000
tick 0
util 0 90
proc 0 $TRAIN2 30000 sm=85
proc 0 $LIGHT 8000 sm=20
proc 0 $HOLD2 12288
proc 0 $BURSTY 8000 burst=20/40
proc 0 $MINUTE 8000 burst=50/600
EOF
	INTERVAL=300ms collect "putil-$mode" 21
	report "putil-$mode"
	O=$TMP/putil-$mode.out
	tail -n +2 "$O" >"$O.rest"	# the first tick is one point
	# A tick may count one 10 ms period more or less at its edge (of 30),
	# where the card's samples and the processes' are read a moment
	# apart in real time; on the manual clock test-putil holds it exact.
	t "$mode: the steady 85 % and 20 % processes read so at every tick"
	expect_eq "$(sm_of "$O.rest" "$TRAIN2" |
	    awk '$1 < 82 || $1 > 88' | head -3)" ""
	expect_eq "$(sm_of "$O.rest" "$LIGHT" |
	    awk '$1 < 19 || $1 > 21' | head -3)" ""
	expect_eq "$(sm_of "$O.rest" "$TRAIN2" | wc -l)" \
	    "$(wc -l <"$O.rest")"
	t "$mode: the 0 % holder of 12 GiB is idle-held at every tick"
	expect_eq "$(sm_of "$O.rest" "$HOLD2" | sort -u)" 0
	expect_eq "$(grep -c "$HOLD2 root 12288 MiB sm 0% idle-held" "$O.rest")" \
	    "$(wc -l <"$O.rest")"
	# (Busy 8 % of the time is idle-held in some ticks, as it should.)
	t "$mode: in the report, the holder is idle-held, the steady ones never"
	held=$(py "$J" 'sorted(s["pid"] for s in d["sessions"] if s["idle_held_seconds"] > 0 and s["pid"] != '"$MINUTE"')')
	if [ "$mode" = latest ]; then	# a read is one point: see README
		held=$(echo "$held" | sed "s/, $BURSTY//")
	fi
	expect_eq "$held" "[$HOLD2]"
	t "$mode: 20 ms bursts at 50 % duty read 50 % over the session"
	m=$(sm_of "$O.rest" "$BURSTY" | awk '{ s += $1 } END { print s / NR }')
	if awk -v m="$m" 'BEGIN { exit !(m >= 40 && m <= 60) }'; then ok
	else fail "mean $m %"; fi
	if [ "$mode" != latest ]; then
		t "$mode: ... and every tick of them reads 50 % or so"
		expect_eq "$(sm_of "$O.rest" "$BURSTY" | awk '$1 < 35 || $1 > 65')" ""
	fi
	t "$mode: the report's session means say the same"
	expect_eq "$(py "$J" '[round([s["mean_sm_utilization_percent"] for s in d["sessions"] if s["pid"] == p][0]) for p in ('"$TRAIN2, $LIGHT, $HOLD2"')]')" "[85, 20, 0]"
	m=$(py "$J" '[s["mean_sm_utilization_percent"] for s in d["sessions"] if s["pid"] == '"$BURSTY"'][0]')
	if awk -v m="$m" 'BEGIN { exit !(m >= 40 && m <= 60) }'; then ok
	else fail "session mean $m %"; fi
	t "$mode: busy 50 ms of every 600 ms reads 8 % over the session"
	m=$(sm_of "$O.rest" "$MINUTE" | awk '{ s += $1 } END { print s / NR }')
	if awk -v m="$m" 'BEGIN { exit !(m >= 4 && m <= 13) }'; then ok
	else fail "mean $m %"; fi
done
kill "$TRAIN2" "$LIGHT" "$HOLD2" "$BURSTY" "$MINUTE"

finish_collector
