#!/bin/sh
# Energy from end to end: a collector on the fake NVML with three cards —
# GPU 0 with a total-energy counter that a driver reload resets mid-run,
# GPU 1 with power usage only, GPU 2 with neither — records each tick's
# joules and their source; the report gives kWh per state in text, JSON,
# CSV and HTML, and the textfile its counter, all equal to what the
# scenario says. Where energy is power x span the span is the collector's
# own (timing), so those ticks are checked against their bound (the span
# is at most two intervals) and summed from what was recorded. A second
# collector plays a GPU lost for a tick and a sample that fails: no
# counter difference spans more than its tick.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/cli/collector-lib.sh
. "$HERE/collector-lib.sh"

TOP=$(cd "$HERE/../.." && pwd)
DB=$TMP/energy.db
TF=$TMP/textfile
P=$TMP/snap.prom
mkdir "$TF"

start H0 sleep 1000
start H1 sleep 1001
# block K UTIL0 PROC0 COUNTER0 WATTS0: GPU 0's tick K (its counter in mJ),
# with GPU 1 idle-held at 150 W by its power usage only, GPU 2 free.
block() {
	cat <<EOF
tick $1
util 0 $2
${3:-}
energy 0 $4
power 0 $5
util 1 2
proc 1 $H1 12000
power 1 150
EOF
}
{
	echo "gpus 3"
	echo "gpu 0 uuid=GPU-energy0 name=H100"
	echo "gpu 1 uuid=GPU-energy1 name=T4"
	echo "gpu 2 uuid=GPU-energy2 name=K80"
	# Active: the first read is 300 W x the 200 ms interval, 60 J; then
	# the counter's 10 J twice; then the counter restarts (a driver
	# reload): that tick is 250 W x its span. (A counter's step is at
	# most 10 J: more over a span that a late tick may cut to a few ms
	# would be over 10 kW, no reading, and power x span instead.)
	block 0 90 "proc 0 $H0 30000" 1000000 300
	block 1 90 "proc 0 $H0 30000" 1010000 300
	block 2 90 "proc 0 $H0 30000" 1020000 300
	block 3 90 "proc 0 $H0 30000" 50000 250
	# Idle-held, 5 J a tick; then truly idle, 3 J, then nothing more
	# (the last block repeats).
	block 4 2 "proc 0 $H0 30000" 55000 100
	block 5 2 "proc 0 $H0 30000" 60000 100
	block 6 0 "" 63000 60
	block 7 0 "" 63000 60
} | scenario

ticks_printed() { [ "$(grep -c ' tick [0-9]* span ' "$1")" -ge "$2" ]; }
# metric FILE NAME LABELS: one sample's value.
metric() {
	grep -F -- "$2{$3}" "$1" | awk '{ print $NF }' | head -1
}
# kwh J: joules as the text report writes kWh (report_kwh_format).
kwh() {
	awk -v j="$1" 'BEGIN { k = j / 3.6e6; if (j == 0) { print "0 kWh"; exit }
	    d = 9; for (at = 100; d > 1 && k >= at / 1e8; at *= 10) d--
	    printf "%." d "f kWh\n", k }'
}
# six J: joules as kWh with six decimals (JSON, CSV, HTML's data-value).
six() { awk -v j="$1" 'BEGIN { printf "%.6f\n", j / 3.6e6 }'; }

t "a collector with the textfile records ten ticks"
: >"$TMP/fg.out"
start FG "$GUA" daemon --foreground --nvml-library "$FAKE" --db "$DB" \
    --pid-file "$TMP/e.pid" --interval 200ms --textfile-dir "$TF" \
    >"$TMP/fg.out" 2>"$TMP/fg.err"
if wait_until ticks_printed "$TMP/fg.out" 10; then ok; else
	fail "$(tail -3 "$TMP/fg.err")"; fi
cp "$TF/gua.prom" "$P"
# shellcheck disable=SC2154 # start sets FG, through eval
kill -TERM "$FG"
wait "$FG"
RC=$?
expect_rc 0

# The raw rows: 14 energy_joules, 15 energy_source (collector-lib.sh).
ticks_csv "$DB" | tr -d '\r' >"$TMP/ticks"
awk -F, '$5 == "GPU-energy0" { print $14, $15 }' "$TMP/ticks" >"$TMP/g0"
t "GPU 0: its first read and the reset are power x span, the rest the counter's differences"
if [ "$(head -8 "$TMP/g0" | sed 4d | tr '\n' ' ')" = \
    "60 power 10 counter 10 counter 5 counter 5 counter 3 counter 0 counter " ]
then ok; else fail "$(head -8 "$TMP/g0" | tr '\n' ' ')"; fi
if [ "$(tail -n +9 "$TMP/g0" | grep -vc '^0 counter$')" -eq 0 ]; then ok
else fail "after the scenario: $(tail -n +9 "$TMP/g0" | tr '\n' ' ')"; fi
# The reset's tick: 250 W over a span of at most two intervals (400 ms).
P3=$(sed -n 4p "$TMP/g0" | awk '$2 == "power" && $1 != "" && $1 <= 100 { print $1 }')
if [ -n "$P3" ]; then ok; else fail "reset tick: $(sed -n 4p "$TMP/g0")"; fi
P3=${P3:-0}
t "GPU 1 has power usage only: every tick power x span, within its bound"
awk -F, '$5 == "GPU-energy1"' "$TMP/ticks" >"$TMP/g1"
if [ "$(awk -F, '!($15 == "power" && $14 != "" && $14 <= 60)' "$TMP/g1" |
    wc -l)" -eq 0 ] && [ -s "$TMP/g1" ]; then ok; else
	fail "$(awk -F, '{ print $14, $15 }' "$TMP/g1" | tr '\n' ' ')"; fi
G1=$(awk -F, '{ j += $14 } END { print j }' "$TMP/g1")
t "GPU 2 tells neither: its energy is unknown, not 0"
if [ "$(awk -F, '$5 == "GPU-energy2" && !($14 == "" &&
    $15 == "unknown")' "$TMP/ticks" | wc -l)" -eq 0 ] &&
    [ "$(awk -F, '$5 == "GPU-energy2"' "$TMP/ticks" | wc -l)" -ge 10 ]
then ok; else
	fail "GPU 2 has energy, or no rows"; fi

# What the scenario makes of it, in joules.
A=$((60 + 10 + 10 + P3))
H=$((5 + 5))
I=3
ALL=$((A + H + G1 + I))

t "text: §2 gives kWh per state, and says what is not recorded"
GUA_NOW='' run "$GUA" report --db "$DB" --since 1d
expect_rc 0
expect_out "  $(kwh $((H + G1))) idle-held, $(kwh $I) truly idle, $(kwh $A) active: $(kwh $ALL) drawn in all"
expect_out "  energy not recorded for 33.3% of the observed time (older data, or a GPU with neither energy counter nor power reading): not in these kWh"
t "text: §3 gives each GPU's, and GPU 2's as not recorded"
expect_out "energy  active $(kwh $A)  idle-held $(kwh $H)  truly-idle $(kwh $I)"
expect_out "energy  active 0 kWh  idle-held $(kwh "$G1")  truly-idle 0 kWh"
expect_out "energy  not recorded"

t "JSON: kWh per state in the totals and per GPU, null where not recorded"
GUA_NOW='' run "$GUA" report --db "$DB" --since 1d --format json
expect_rc 0
cp "$TMP/out" "$TMP/r.json"
check schema "$TOP/docs/gua-report.schema.json" "$TMP/r.json"
if [ -n "$PYTHON" ]; then
	"$PYTHON" - "$TMP/r.json" "$A" "$H" "$I" "$G1" >"$TMP/py" 2>&1 <<'PYEOF'
import json, sys
r = json.load(open(sys.argv[1]))
a, h, i, g1 = (int(x) for x in sys.argv[2:])
def near(got, j):
    return abs(got - j / 3.6e6) <= 5e-7
g = {x["uuid"]: x for x in r["gpus"]}
e0, e1, t = g["GPU-energy0"]["energy"], g["GPU-energy1"]["energy"], r["totals"]["energy"]
bad = []
for got, want, what in ((e0["active_kwh"], a, "gpu0 active"),
        (e0["idle_held_kwh"], h, "gpu0 idle-held"),
        (e0["truly_idle_kwh"], i, "gpu0 truly idle"),
        (e1["idle_held_kwh"], g1, "gpu1 idle-held"),
        (t["idle_held_kwh"], h + g1, "total idle-held"),
        (t["total_kwh"], a + h + g1 + i, "total")):
    if not near(got, want):
        bad.append("%s %r, want %r" % (what, got, want / 3.6e6))
if g["GPU-energy2"]["energy"] is not None:
    bad.append("gpu2 energy is not null")
if e0["unrecorded_ratio"] != 0 or t["unrecorded_ratio"] != 0.333333:
    bad.append("unrecorded %r %r" % (e0["unrecorded_ratio"], t["unrecorded_ratio"]))
print("; ".join(bad))
sys.exit(1 if bad else 0)
PYEOF
	if [ $? -eq 0 ]; then ok; else fail "$(cat "$TMP/py")"; fi
else
	skip "needs python3 (apt-get install python3)" python3
fi

t "two databases merged: their kWh summed"
cp "$DB" "$TMP/other.db"
sqlite3 "$TMP/other.db" "UPDATE meta SET value = 'other-host' WHERE key = 'hostname'"
GUA_NOW='' run "$GUA" report --db "$DB" --db "$TMP/other.db" --since 1d \
    --format json
expect_rc 0
expect_out "\"total_kwh\": $(six $((2 * ALL)))"
GUA_NOW='' run "$GUA" report --db "$DB" --db "$TMP/other.db" --since 1d
expect_out "$(kwh $((2 * (H + G1)))) idle-held, $(kwh $((2 * I))) truly idle, $(kwh $((2 * A))) active: $(kwh $((2 * ALL))) drawn in all"

t "CSV: each GPU's kWh per state, empty (unknown) where not recorded"
GUA_NOW='' run "$GUA" report --db "$DB" --since 1d --format csv --table gpus
expect_rc 0
# The last five columns: active, idle_held, truly_idle, unknown_state kWh,
# the share not recorded.
tr -d '\r' <"$TMP/out" | awk -F, 'NR > 1 { print $3, $(NF-4), $(NF-3), $(NF-2), $(NF-1), $NF }' >"$TMP/csv"
expect_out "active_kwh,idle_held_kwh,truly_idle_kwh,unknown_state_kwh,energy_unrecorded_ratio"
if grep -qx "GPU-energy0 $(six $A) $(six $H) $(six $I) 0.000000 0.000000" "$TMP/csv" &&
    grep -qx "GPU-energy1 0.000000 $(six "$G1") 0.000000 0.000000 0.000000" "$TMP/csv" &&
    grep -qx "GPU-energy2     1.000000" "$TMP/csv"; then ok; else
	fail "$(tr '\n' '|' <"$TMP/csv")"; fi

t "HTML: §2's kWh with their exact values, each GPU's under its model"
GUA_NOW='' run "$GUA" report --db "$DB" --since 1d --format html
expect_rc 0
expect_out "id=\"energy-idle-held\" data-value=\"$(six $((H + G1)))\">$(kwh $((H + G1)))</b> idle-held"
expect_out "id=\"energy-active\" data-value=\"$(six $A)\">$(kwh $A)</b> active"
expect_out "(not recorded for 33.3% of the observed time"
expect_out "data-active=\"$(six $A)\" data-idle-held=\"$(six $H)\" data-truly-idle=\"$(six $I)\">$(kwh $A) active, $(kwh $H) idle-held, $(kwh $I) truly idle</div>"
expect_out "<div class=\"model energy\">energy not recorded</div>"

t "textfile: a counter of joules per state, past the reset; none for GPU 2"
expect_count "$P" "# HELP gua_gpu_energy_joules_total " 1
expect_count "$P" "# TYPE gua_gpu_energy_joules_total counter" 1
L0='gpu="0",uuid="GPU-energy0"'
if [ "$(metric "$P" gua_gpu_energy_joules_total "$L0,state=\"active\"")" = "$A" ] &&
    [ "$(metric "$P" gua_gpu_energy_joules_total "$L0,state=\"idle_held\"")" = "$H" ] &&
    [ "$(metric "$P" gua_gpu_energy_joules_total "$L0,state=\"truly_idle\"")" = "$I" ] &&
    [ "$(metric "$P" gua_gpu_energy_joules_total "$L0,state=\"unknown\"")" = 0 ]
then ok; else fail "$(grep '^gua_gpu_energy_joules_total{gpu="0"' "$P")"; fi
# GPU 1's, as the database had it at the snapshot's last tick.
last=$(awk '$1 == "gua_last_tick_timestamp_seconds" { printf "%.3f", $2 }' "$P")
upto=$(date -u -d "@$last" +%Y-%m-%dT%H:%M:%S.%3NZ)
want=$(awk -F, -v u="$upto" '{ ts = $2; if (length(ts) == 20)
    ts = substr(ts, 1, 19) ".000Z" } ts <= u { j += $14 } END { print j }' "$TMP/g1")
got=$(metric "$P" gua_gpu_energy_joules_total 'gpu="1",uuid="GPU-energy1",state="idle_held"')
if [ -n "$got" ] && [ "$got" = "$want" ]; then ok; else
	fail "GPU 1: $got, want $want"; fi
if grep -q '^gua_gpu_energy_joules_total{gpu="2"' "$P"; then
	fail "GPU 2 has a series"; else ok; fi
t "promtool check metrics finds nothing to say"
if need promtool prometheus; then
	run promtool check metrics <"$P"
	expect_rc 0
	expect_empty_out
	expect_empty_err
fi

# A counter's difference is a tick's only when it covers no more time
# than the tick: GPU 0 is lost at tick 2 (its counter not read), and the
# whole sample fails at tick 5 (no GPU read, the collector drops that
# time). The counter runs on at 10 J a tick, so a difference across
# either would be 20 J; the tick after each is power x span instead.
# GPU 1's counter answers success with NVML's "not available": power.
# Power is read only where the counter cannot tell.
DB2=$TMP/gaps.db
# gap K COUNTER0 [EXTRA]: GPU 0 active, GPU 1 idle at 150 W.
gap() {
	cat <<EOF
tick $1
util 0 90
energy 0 $2
power 0 300
energy 1 na
power 1 150
${3:-}
EOF
}
{
	echo "gpus 2"
	echo "gpu 0 uuid=GPU-gap0 name=H100"
	echo "gpu 1 uuid=GPU-gap1 name=T4"
	gap 0 1000000
	gap 1 1010000
	gap 2 1020000 "fault 0 memory GPU_IS_LOST"
	gap 3 1030000
	gap 4 1040000
	gap 5 1050000 "fault 0 count UNKNOWN"
	gap 6 1060000
	gap 7 1070000 "fault 0 util UNKNOWN"
	gap 8 1080000
} | scenario
t "a collector through a lost GPU and a failed sample records their ticks"
: >"$TMP/trace"
start FG2 env FAKE_NVML_TRACE="$TMP/trace" "$GUA" daemon --foreground \
    --nvml-library "$FAKE" --db "$DB2" --pid-file "$TMP/g.pid" \
    --interval 200ms >"$TMP/g.out" 2>"$TMP/g.err"
if wait_until ticks_printed "$TMP/g.out" 10; then ok; else
	fail "$(tail -3 "$TMP/g.err")"; fi
# shellcheck disable=SC2154 # start sets FG2, through eval
kill -TERM "$FG2"
wait "$FG2"
RC=$?
expect_rc 0
ticks_csv "$DB2" | tr -d '\r' >"$TMP/ticks2"
awk -F, '$5 == "GPU-gap0" { print $14, $15 }' "$TMP/ticks2" >"$TMP/gap0"
t "the tick after the lost GPU and after the failed sample is no two-tick difference"
# Rows: 0 first read, 1 counter, 2 lost, 3 after it, 4 counter, (5 failed:
# no row), 6 after it, 7 counter (its utilization unknown: of unknown
# state).
if [ "$(sed -n '1p;3p;4p;6p' "$TMP/gap0" | awk '{ print $NF }' | tr '\n' ' ')" = \
    "power unknown power power " ] &&
    [ "$(sed -n '2p;5p;7p' "$TMP/gap0" | tr '\n' ' ')" = \
    "10 counter 10 counter 10 counter " ]; then ok; else
	fail "$(head -8 "$TMP/gap0" | tr '\n' ' ')"; fi
# Power x span, the span at most two intervals: 300 W x 400 ms.
if [ "$(sed -n '4p;6p' "$TMP/gap0" | awk '$1 != "" && $1 <= 120' |
    wc -l)" -eq 2 ]; then ok; else fail "$(sed -n '4p;6p' "$TMP/gap0")"; fi
t "energy of unknown state is a part of the whole, in text and HTML"
GUA_NOW='' run "$GUA" report --db "$DB2" --since 1d
expect_rc 0
expect_out ", $(kwh 10) of unknown state: "
GUA_NOW='' run "$GUA" report --db "$DB2" --since 1d --format html
expect_rc 0
expect_out "<b id=\"energy-unknown-state\" data-value=\"$(six 10)\">$(kwh 10)</b> of unknown state"
t "a counter answering NVML_VALUE_NOT_AVAILABLE falls back to power x span"
if [ "$(awk -F, '$5 == "GPU-gap1" && !($15 == "power" && $14 != "")' \
    "$TMP/ticks2" | wc -l)" -eq 0 ] &&
    [ "$(awk -F, '$5 == "GPU-gap1"' "$TMP/ticks2" | wc -l)" -ge 10 ]
then ok; else
	fail "$(awk -F, '$5 == "GPU-gap1" { print $14, $15 }' "$TMP/ticks2" |
	    tr '\n' ' ')"; fi
t "power is read only at the ticks the counter cannot tell"
got=$(awk '$2 == "nvmlDeviceGetPowerUsage" && $3 == 0' "$TMP/trace" | wc -l)
want=$(awk '$NF == "power"' "$TMP/gap0" | wc -l)
if [ "$got" -eq "$want" ] && [ "$want" -eq 3 ]; then ok; else
	fail "GPU 0: $got power reads, $want ticks of power x span"; fi

finish
