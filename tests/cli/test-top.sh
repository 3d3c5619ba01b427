#!/bin/sh
# gua top: the live view of a collector's database. A collector runs on
# the fake NVML with real processes: one holds memory at 0 % from the
# first tick (idle-held), one from a later tick, one computes, and one has
# a hostile command line. --once in text and JSON (validated against
# docs/gua-top.schema.json); the idle-held streak against the recorded
# ticks; colour only on a terminal and never with NO_COLOR; the full
# screen in a real terminal (tmux): drawn, redrawn on a resize, q quits
# and gives the terminal back; a missing database and a stopped
# collector's database.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/cli/collector-lib.sh
. "$HERE/collector-lib.sh"

TOP=$(cd "$HERE/../.." && pwd)
SCHEMA=$TOP/docs/gua-top.schema.json
DB=$TMP/top.db
PF=$TMP/top.pid
check() { "$PYTHON" "$HERE/check-formats.py" "$@"; }

if [ -z "$PYTHON" ]; then
	t "python3 is needed to start the hostile process and read JSON"
	fail "python3 not found"
	finish
	exit 1
fi

start HOLDER sleep 1000
start WORKER sleep 1001
start LATE sleep 1002
# A command line with an escape sequence, a newline and a bidirectional
# override: it must reach the terminal escaped.
EVILARG=$(printf 'evil\033[2J\nline\342\200\256rev')
start EVIL "$PYTHON" -c 'import os, sys
os.execv("/bin/sleep", [os.fsencode(sys.argv[1]), b"1003"])' "$EVILARG"
wait_until comm_is "$EVIL" sleep
scenario <<EOF
gpus 2
gpu 0 uuid=GPU-top00000 name=Holder total=81920
gpu 1 uuid=GPU-top11111 name=Trainer total=40960
tick 0
util 0 0
proc 0 $HOLDER 12000
util 1 90
proc 1 $WORKER 30000 sm=90
proc 1 $EVIL 2000 sm=50
tick 3
util 0 0
proc 0 $HOLDER 12000
proc 0 $LATE 4000
util 1 90
proc 1 $WORKER 30000 sm=90
proc 1 $EVIL 2000 sm=50
EOF
start COL "$GUA" daemon --foreground --nvml-library "$FAKE" --db "$DB" \
    --pid-file "$PF" --interval 100ms >"$TMP/fg.out" 2>"$TMP/fg.err"
t "the collector writes ticks"
expect_wait lines_at_least "$TMP/fg.out" 8

# The process rows of a text screen: the lines after the "PID" header.
rows() { sed -n '/^PID /,$p' "$TMP/out" | tail -n +2; }

t "top --once: one screen of text, exit 0 while the collector runs"
gua top --db "$DB" --pid-file "$PF" --once
expect_rc 0
expect_empty_err
expect_out "collector running (PID $COL)"
expect_out "GPU-0         Holder"
t "top --once: the collector's interval as it was given, 100ms"
expect_out "(every 100ms)"
t "the idle-held holder from the first tick is listed first, with its streak"
if rows | head -1 | grep -Eq "^$HOLDER +.* idle-held +idle [0-9]+:[0-9]{2}:[0-9]{2} "
then ok; else fail "first row: $(rows | head -1)"; fi
t "the later idle-held holder second, the computing ones after"
if rows | sed -n 2p | grep -Eq "^$LATE +.* idle-held +idle "; then ok; else
	fail "second row: $(rows | sed -n 2p)"; fi
if rows | tail -n +3 | grep -Eq "^$WORKER +.* active +- "; then ok; else
	fail "rows: $(rows)"; fi
t "a hostile command line is escaped: no escape byte, no extra line"
if grep -q "$(printf '\033')" "$TMP/out"; then fail "an ESC reached stdout"
else ok; fi
expect_out 'evil\x1B[2J\nline\u{202E}rev 1003'
t "not on a terminal: no colour"
if grep -q "$(printf '\033')\[" "$TMP/out"; then fail "colour in a pipe"
else ok; fi

t "top --once --format json: valid against its schema"
gua top --db "$DB" --pid-file "$PF" --once --format json
expect_rc 0
cp "$TMP/out" "$TMP/live.json"
if check schema "$SCHEMA" "$TMP/live.json"; then ok; else fail "schema"; fi
t "JSON: the collector, and the order of the processes"
expect_eq "$(py "$TMP/live.json" 'd["collector"]["running"], d["collector"]["pid"]')" \
    "(True, $COL)"
expect_eq "$(py "$TMP/live.json" '[p["pid"] for p in d["processes"]][:2]')" \
    "[$HOLDER, $LATE]"
expect_eq "$(py "$TMP/live.json" '[p["state"] for p in d["processes"]]')" \
    "['idle_held', 'idle_held', 'active', 'active']"
expect_eq "$(py "$TMP/live.json" 'd["processes"][0]["idle_held_seconds"] > d["processes"][1]["idle_held_seconds"] > 0')" \
    True
expect_eq "$(py "$TMP/live.json" '[p["idle_held_seconds"] for p in d["processes"][2:]]')" \
    "[None, None]"
t "JSON: the hostile command line, whole"
expect_eq "$(T_EVIL="$EVILARG 1003" py "$TMP/live.json" '[p["command"] for p in d["processes"] if p["pid"] == '"$EVIL"'][0] == __import__("os").environ["T_EVIL"]')" \
    True
t "JSON: the GPUs, their memory held and total"
expect_eq "$(py "$TMP/live.json" '[(g["label"], g["state"], g["memory_held_mib"], g["memory_total_mib"]) for g in d["gpus"]]')" \
    "[('GPU-0', 'idle_held', 16000, 81920), ('GPU-1', 'active', 32000, 40960)]"

t "--format json without --once is bad usage"
gua top --db "$DB" --pid-file "$PF" --format json
expect_rc 2
expect_err "--format json needs --once"
expect_err "Try 'gua top --help'"
t "a bad --format is bad usage"
gua top --db "$DB" --once --format yaml
expect_rc 2
t "the live view needs a terminal"
gua top --db "$DB" --pid-file "$PF" </dev/null
expect_rc 2
expect_err "needs a terminal"

if need script bsdutils; then
	t "on a terminal --once is coloured, and not with NO_COLOR"
	script -qec "\"$GUA\" top --db \"$DB\" --pid-file \"$PF\" --once" \
	    /dev/null >"$TMP/tty.out" 2>&1
	if grep -q "$(printf '\033')\[1;31m" "$TMP/tty.out"; then ok; else
		fail "no colour on a terminal: $(head -c 300 "$TMP/tty.out")"; fi
	NO_COLOR=1 script -qec "\"$GUA\" top --db \"$DB\" --pid-file \"$PF\" --once" \
	    /dev/null >"$TMP/tty.out" 2>&1
	if grep -q "$(printf '\033')\[" "$TMP/tty.out"; then
		fail "colour with NO_COLOR"; else ok; fi
	expect_text "$TMP/tty.out" "idle-held"
fi

# The full screen in tmux, on a private server.
SOCK=$TMP/tmux.sock
tm() { tmux -S "$SOCK" "$@"; }
pane() { tm capture-pane -p -t top >"$TMP/pane" 2>/dev/null; }
pane_has() { pane && grep -qF -- "$1" "$TMP/pane"; }
pane_lacks() { pane && ! grep -qF -- "$1" "$TMP/pane"; }
# last_line_is N TEXT: the pane has N lines and the last is TEXT.
last_line_is() {
	pane && [ "$(wc -l <"$TMP/pane")" -eq "$1" ] &&
	    [ "$(tail -n 1 "$TMP/pane")" = "$2" ]
}
# screen NAME ENV...: gua top in a new session NAME, 80x30.
screen() {
	_s=$1
	shift
	tm -f /dev/null new-session -d -s "$_s" -x 80 -y 30 \
	    "env $* TERM=xterm-256color LC_ALL=C.UTF-8 '$GUA' top --db '$DB' --pid-file '$PF'; echo \"top exited \$?\"; exec sleep 1000"
}
if need tmux tmux; then
	screen top
	t "tmux: the screen is drawn, the holder first"
	expect_wait pane_has "collector running (PID $COL)"
	expect_wait pane_has "idle-held"
	if sed -n '/^PID /{n;p;}' "$TMP/pane" | grep -q "^$HOLDER "; then ok
	else fail "pane: $(cat "$TMP/pane")"; fi
	t "tmux: a new tick is drawn (the collector ticks every 100 ms)"
	FIRST=$(grep -o 'last tick [0-9: -]*UTC' "$TMP/pane")
	expect_wait pane_lacks "$FIRST"
	expect_text "$TMP/pane" "last tick "
	t "tmux: 80 columns leave no room for the command column"
	expect_wait last_line_is 30 "q: quit"
	if grep -qF COMMAND "$TMP/pane"; then fail "COMMAND at 80 columns"
	else ok; fi
	t "tmux: colour on a terminal"
	tm capture-pane -e -p -t top >"$TMP/pane-e"
	if grep -Eq "$(printf '\033')\[([0-9]+;)*3[1-7]m" "$TMP/pane-e"; then ok
	else fail "no colour in the pane"; fi
	t "tmux: a resize is followed, redrawn to the new size"
	tm resize-window -t top -x 150 -y 40
	expect_wait pane_has "COMMAND"
	expect_wait last_line_is 40 "q: quit"
	expect_wait pane_has 'evil\x1B[2J\nline\u{202E}rev 1003'
	t "tmux: q quits with 0 and gives the terminal back"
	tm send-keys -t top q
	expect_wait pane_has "top exited 0"
	expect_eq "$(tm display-message -p -t top '#{alternate_on} #{cursor_flag}')" \
	    "0 1"
	if pane_lacks "idle-held"; then ok; else fail "the view stayed"; fi

	screen plain NO_COLOR=1
	t "tmux: no colour with NO_COLOR"
	expect_wait pane_has "idle-held"
	tm capture-pane -e -p -t plain >"$TMP/pane-e"
	if grep -Eq "$(printf '\033')\[([0-9]+;)*3[0-7]m" "$TMP/pane-e"; then
		fail "colour with NO_COLOR"; else ok; fi
	t "tmux: Ctrl-\\ quits too and gives the terminal back"
	tm send-keys -t plain 'C-\'
	expect_wait pane_has "top exited 0"
	expect_eq "$(tm display-message -p -t plain '#{alternate_on} #{cursor_flag}')" \
	    "0 1"
	tm kill-server 2>/dev/null
fi

t "the collector stops"
kill -TERM "$COL"
wait "$COL"
expect_eq "$?" 0

# "Now" five minutes after the last tick (GUA_NOW), so that no timing
# decides whether the database still counts as written.
gua top --db "$DB" --pid-file "$PF" --once --format json
LATER=$("$PYTHON" -c 'import json, sys, datetime
d = json.load(open(sys.argv[1]))
t = d["last_tick_at_epoch_seconds"] + 300
print(datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z")' "$TMP/out")
t "a stopped collector's database: the last tick with its age, exit 1"
GUA_NOW=$LATER gua top --db "$DB" --pid-file "$PF" --once --format json
expect_rc 1
cp "$TMP/out" "$TMP/last.json"
if check schema "$SCHEMA" "$TMP/last.json"; then ok; else fail "schema"; fi
expect_eq "$(py "$TMP/last.json" 'd["collector"]["running"], d["collector"]["pid"], d["last_tick_age_seconds"]')" \
    "(False, None, 300.0)"
GUA_NOW=$LATER gua top --db "$DB" --pid-file "$PF" --once
expect_rc 1
expect_out "collector stopped: no collector is writing this database, last tick"
expect_out "UTC, 5 min ago"
expect_out "idle-held"
t "... and how to start one that would take it: --append, the same paths"
expect_out "start one with: gua start --db $DB --pid-file $PF --append"
expect_err "no collector is writing $DB (last tick 5 min ago); start one with 'gua start --db $DB --pid-file $PF --append'"
expect_err_lines 1
t "... and that command starts a collector on it (a copy), exit 0"
cp "$DB" "$TMP/again.db"
GUA_NOW=$LATER gua top --db "$TMP/again.db" --pid-file "$TMP/again.pid" --once
HINT=$(sed -n 's/^start one with: gua //p' "$TMP/out")
# shellcheck disable=SC2086 # the advice is words (paths without spaces)
GUA_NVML_LIBRARY=$FAKE run "$GUA" $HINT
expect_rc 0
run "$GUA" stop --pid-file "$TMP/again.pid" --timeout 10s
expect_rc 0
t "a database of another host: no command that would be refused, its host"
cp "$DB" "$TMP/other.db"
q "$TMP/other.db" "UPDATE meta SET value = 'elsewhere' WHERE key = 'hostname'"
GUA_NOW=$LATER gua top --db "$TMP/other.db" --pid-file "$PF" --once
expect_rc 1
expect_no_out "start one with"
expect_out "recorded on host elsewhere: only a collector there can write it"
expect_err "no collector is writing $TMP/other.db (last tick 5 min ago); it was recorded on host 'elsewhere': only a collector there can write it"

t "top only reads: nothing created beside the stopped collector's database"
if ls "$DB"-* >/dev/null 2>&1; then fail "$(ls "$DB"-*)"; else ok; fi

t "the streaks are the recorded ticks' spans: every tick for the first holder"
expect_eq "$(py "$TMP/last.json" '"%.3f" % d["processes"][0]["idle_held_seconds"]')" \
    "$(ticks_csv "$DB" | awk -F, '$4 == 0 { ms += $3 } END { printf "%.3f\n", ms / 1000 }')"
t "... and the ticks since it came for the later one"
expect_eq "$(py "$TMP/last.json" '"%.3f" % d["processes"][1]["idle_held_seconds"]')" \
    "$(ticks_csv "$DB" | awk -F, -v p="$LATE/" '$4 == 0 && index($11, p) { ms += $3 } END { printf "%.3f\n", ms / 1000 }')"

t "no database: one line saying how to start a collector, exit 1"
gua top --db "$TMP/none.db" --pid-file "$PF" --once
expect_rc 1
expect_empty_out
expect_err "no database at $TMP/none.db: no collector is writing it; start one with 'gua start --db $TMP/none.db --pid-file $PF'"
expect_err_lines 1
t "... the same for the full screen, before it takes the terminal"
gua top --db "$TMP/none.db" --pid-file "$PF"
expect_rc 1
expect_err "no database at"
t "a file that is no gua database is bad usage"
echo hello >"$TMP/not.db"
gua top --db "$TMP/not.db" --once
expect_rc 2

finish
