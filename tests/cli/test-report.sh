#!/bin/sh
# gua report: windows, filters, thresholds, output files.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"

DB=$TMP/demo.db
GUA_NOW=$NOW "$GUA" demo --db "$DB" >/dev/null 2>&1 || fail "demo failed"
cp "$DB" "$TMP/pristine.db"
rep() { GUA_NOW=$NOW run "$GUA" report --db "$DB" "$@"; }

t "default report (1h) covers all 30 ticks"
rep
expect_rc 0
expect_out "(90 samples)"
t "the header dates the window, and says where the history starts"
expect_out "Window: 2026-11-25 10:29:30 +00:00 to 2026-11-25 10:30:00 +00:00 (UTC), 0:00:30"
expect_out "  the history starts at the window's start; 1:00:00 was asked for"

t "--since 7s: the last 7 ticks, hand-counted"
rep --since 7s
expect_rc 0
expect_out "(21 samples)"
expect_out "active       █    9.5%"
expect_out "idle-held    ▒   47.6%"
expect_out "truly-idle   ░   42.9%"
expect_out "Window: 2026-11-25 10:29:53 +00:00 to 2026-11-25 10:30:00 +00:00 (UTC), 0:00:07"

t "--until 10s --since 10s: ticks 10 to 19"
rep --until 10s --since 10s
expect_rc 0
expect_out "(30 samples)"
expect_out "13.3%"

t "--until as an RFC 3339 time"
rep --until 2026-11-25T10:29:49Z --since 10s
expect_rc 0
expect_out "(30 samples)"

t "--until before any data: every section says so"
rep --until 2026-11-24T00:00:00Z
expect_rc 0
expect_out "(no samples in window)"
expect_no_out "samples)"
t "... and the empty window is at --until, not a millisecond after"
rep --until 2026-11-24T01:30:00+01:00 --format json
expect_rc 0
expect_out '"start": "2026-11-24T00:30:00Z"'
expect_out '"end": "2026-11-24T00:30:00Z"'
expect_out '"duration_seconds": 0'

t "--gpu by index"
rep --gpu 1
expect_rc 0
expect_out "GPU-1     active   0.0%  idle-held 100.0%"
expect_no_out "GPU-0 "
expect_out "(30 samples)"

t "--gpu by UUID"
rep --gpu gpu-2
expect_rc 0
expect_out "truly-idle 100.0%"

t "--gpu that does not exist"
rep --gpu 9
expect_rc 2
expect_err "--gpu: no GPU '9'"

t "--width 10: the bar is 10 cells"
rep --width 10
expect_rc 0
bar=$(sed -n '/^§1/{n;p;}' "$TMP/out" | sed 's/^  //')
if [ "$(printf '%s' "$bar" | wc -m)" -eq 10 ]; then ok; else
	fail "bar '$bar' is not 10 cells"; fi

for bad in 9 1001 abc -5 ""; do
	t "--width '$bad' is refused"
	rep --width "$bad"
	expect_rc 2
	expect_err "--width: '$bad'"
	expect_empty_out
done

t "--held-mib 10000: bob's 8000 MiB no longer holds GPU-1"
rep --held-mib 10000
expect_rc 0
expect_out "GPU-1     active   0.0%  idle-held   0.0%  truly-idle 100.0%"

t "--active-util 1: GPU-0's 2 % counts as active"
rep --active-util 1
expect_rc 0
expect_out "GPU-0     active  80.0%"

for bad in 0 101 x; do
	t "--active-util '$bad' is refused"
	rep --active-util "$bad"
	expect_rc 2
	expect_err "--active-util: '$bad'"
done

t "--held-mib -1 is refused"
rep --held-mib -1
expect_rc 2
expect_err "--held-mib: '-1' is not a whole number of MiB from 0 to 1099511627776"
t "--held-mib past its limit says the limit"
rep --held-mib 1099511627777
expect_rc 2
expect_err "--held-mib: '1099511627777' is not a whole number of MiB from 0 to 1099511627776"
rep --held-mib 1099511627776
expect_rc 0

# A tick covers the span before its stamp: one stamped at --since is the
# window before's, so two windows that meet count it once.
t "--since as an RFC 3339 time: the ticks stamped after it, as --since 7s"
rep --since 2026-11-25T10:29:53Z
expect_rc 0
expect_out "(21 samples)"
expect_out "Window: 2026-11-25 10:29:53 +00:00 to 2026-11-25 10:30:00 +00:00 (UTC), 0:00:07"
t "... with --until too: ticks 10:29:40 to 10:29:49"
rep --until 2026-11-25T10:29:49Z --since 2026-11-25T10:29:39Z
expect_rc 0
expect_out "(30 samples)"
t "... and in any offset"
rep --since 2026-11-25T11:29:53+01:00 --format json
expect_rc 0
expect_out '"start": "2026-11-25T10:29:53.001Z"'
t "two windows that meet count the tick at their edge once"
rep --since 2026-11-25T10:29:40Z --until 2026-11-25T10:29:50Z --format csv \
    --table ticks
a=$(($(wc -l <"$TMP/out") - 1))
rep --since 2026-11-25T10:29:50Z --until 2026-11-25T10:30:00Z --format csv \
    --table ticks
b=$(($(wc -l <"$TMP/out") - 1))
rep --since 2026-11-25T10:29:40Z --until 2026-11-25T10:30:00Z --format csv \
    --table ticks
both=$(($(wc -l <"$TMP/out") - 1))
if [ "$a" -eq 30 ] && [ "$b" -eq 30 ] && [ $((a + b)) -eq "$both" ]; then ok
else fail "$a + $b rows, $both in the two together"; fi
t "--since after --until is refused"
rep --until 2026-11-25T10:00:00Z --since 2026-11-25T10:10:00Z
expect_rc 2
expect_err "--since: 2026-11-25T10:10:00Z is not before the window's end"
expect_err_lines 2
t "--since at --until is refused: an empty window"
rep --until 2026-11-25T10:00:00Z --since 2026-11-25T10:00:00Z
expect_rc 2
expect_err "--since: 2026-11-25T10:00:00Z is not before the window's end"
expect_err_lines 2

for bad in 1h30m " 1h" 2026-13-01; do
	t "--since '$bad' is refused"
	rep --since "$bad"
	expect_rc 2
	expect_err "gua report: --since: '$bad' is neither a duration"
	expect_err_lines 2
done
# A number and a unit is a duration: its error says what is wrong with it.
for bad in "0s:is shorter than 1ms" "1w:has an unknown unit 'w'" \
    "30:has no unit" "100000d:is too large (at most 36500d)"; do
	t "--since '${bad%%:*}' is refused, saying why"
	rep --since "${bad%%:*}"
	expect_rc 2
	expect_err "gua report: --since: '${bad%%:*}' ${bad#*:}"
	expect_err_lines 2
done
t "--until '100000d' is refused, saying why"
rep --until 100000d
expect_rc 2
expect_err "gua report: --until: '100000d' is too large (at most 36500d)"

t "--until that is neither a duration nor a time"
rep --until yesterday
expect_rc 2
expect_err "--until: 'yesterday' is neither"

t "--interval matching the recording: no warning"
rep --interval 1s
expect_rc 0
expect_empty_err

t "--interval differing from the recording warns and still uses spans"
rep --interval 30s
expect_rc 0
expect_err "warning: --interval 30s differs from the recorded interval 1s"
expect_out "~0.01 GPU-hours idle-held"

t "--table with an unknown table"
rep --format csv --table users
expect_rc 2
expect_err "--table: unknown table 'users'"
t "--format xml is unknown"
rep --format xml
expect_rc 2
expect_err "unknown format 'xml'"
t "--table without csv"
rep --table gpus
expect_rc 2

t "-o writes the report to a file, atomically"
rep
cp "$TMP/out" "$TMP/stdout.txt"
rep -o "$TMP/report.txt"
expect_rc 0
expect_empty_out
expect_same "$TMP/report.txt" "$TMP/stdout.txt"
if [ -n "$(tmp_left "$TMP")" ]; then fail "temporary file left"; else ok; fi
t "-o replaces an existing file"
echo old >"$TMP/report.txt"
rep --output "$TMP/report.txt"
expect_rc 0
expect_same "$TMP/report.txt" "$TMP/stdout.txt"
t "-o into a missing directory names the file asked for, not a temporary one"
rep -o "$TMP/nope/report.txt"
expect_rc 1
expect_err "gua report: $TMP/nope/report.txt: cannot create: No such file or directory"
expect_err_lines 1
t "demo and backup into a missing directory, the same"
GUA_NOW=$NOW run "$GUA" demo --db "$TMP/nope/x.db"
expect_rc 1
expect_err "gua demo: $TMP/nope/x.db: cannot create: No such file or directory"
run "$GUA" backup --db "$DB" "$TMP/nope/copy.db"
expect_rc 1
expect_err "gua backup: $TMP/nope/copy.db: cannot create: No such file or directory"

t "the reports left the database byte for byte as it was"
expect_same "$DB" "$TMP/pristine.db"
expect_no_file "$DB-wal"
expect_no_file "$DB-shm"

# Every kind of bad --db, for report and the other commands: test-baddb.sh.

t "a gua file in rollback mode is read, and one a crash left mid-write refused"
cp "$DB" "$TMP/rollback.db"
sqlite3 "$TMP/rollback.db" "PRAGMA journal_mode=DELETE" >/dev/null
cp "$TMP/rollback.db" "$TMP/rollback.copy"
GUA_NOW=$NOW run "$GUA" report --db "$TMP/rollback.db"
expect_rc 0
expect_out "(90 samples)"
expect_same "$TMP/rollback.db" "$TMP/rollback.copy"
expect_no_file "$TMP/rollback.db-journal"
# Big enough that the dying transaction's pages reach the file.
"$GUA" demo --db "$TMP/hot.db" --ticks 3000 >/dev/null 2>&1
leave_hot_journal "$TMP/hot.db" "UPDATE ticks SET span_ms = 12345"
expect_file "$TMP/hot.db-journal"
cp "$TMP/hot.db" "$TMP/hot.copy"
GUA_NOW=$NOW run "$GUA" report --db "$TMP/hot.db"
expect_rc 1
expect_err_lines 1
expect_err "an unfinished transaction left by a crash"
expect_empty_out
expect_same "$TMP/hot.db" "$TMP/hot.copy"

t "an empty -journal is never hot: read as before, nothing left beside it"
: >"$DB-journal"
GUA_NOW=$NOW run "$GUA" report --db "$DB"
expect_rc 0
expect_out "(90 samples)"
expect_same "$DB" "$TMP/pristine.db"
expect_no_file "$DB-wal"
expect_no_file "$DB-shm"
rm -f "$DB-journal"

t "through a symbolic link, the files beside the real database count"
ln -s "$TMP/hot.db" "$TMP/hot-link.db"
GUA_NOW=$NOW run "$GUA" report --db "$TMP/hot-link.db"
expect_rc 1
expect_err "an unfinished transaction left by a crash"

t "several hosts, one with a long name: §3 and §6 stay in columns"
cp "$DB" "$TMP/longhost.db"
sqlite3 "$TMP/longhost.db" "UPDATE meta SET value = 'a-host-name-of-twenty-six' WHERE key = 'hostname'"
GUA_NOW=$NOW run "$GUA" report --db "$DB" --db "$TMP/longhost.db"
expect_rc 0
expect_out "a-host-name-of-twen…/GPU-0  active"
# Every §3 row has "active" at one column (its energy lines under it
# theirs), every §6 row its memory.
sed -n '/§3/,/§4/p' "$TMP/out" | grep 'active' | grep -v ' energy ' |
    "$PYTHON" -c 'import sys
print("\n".join(str(l.index(" active ")) for l in sys.stdin))' | sort -u >"$TMP/cols"
if [ "$(wc -l <"$TMP/cols")" -eq 1 ]; then ok; else
	fail "§3 columns at $(tr '\n' ' ' <"$TMP/cols")"; fi
sed -n '/§6/,$p' "$TMP/out" | grep 'GPU-' |
    "$PYTHON" -c 'import sys
print("\n".join(str(l.index(" 0:")) for l in sys.stdin))' | sort -u >"$TMP/cols"
if [ "$(wc -l <"$TMP/cols")" -eq 1 ]; then ok; else
	fail "§6 columns at $(tr '\n' ' ' <"$TMP/cols")"; fi

# ---- --top: the demo has three users and three idle-held sessions.
t "--top 2, text: two rows in §4 and §6, and how many more"
rep --since 30s --top 2
expect_rc 0
expect_empty_err
if [ "$(sed -n '/^§4/,/^§5/p' "$TMP/out" | grep -cE '^  (alice|bob|unknown) ')" -eq 2 ]
then ok; else fail "§4 does not have two rows"; fi
if [ "$(sed -n '/^§6/,$p' "$TMP/out" | grep -cE '^  (alice|bob|unknown) ')" -eq 2 ]
then ok; else fail "§6 does not have two rows"; fi
expect_out "  … and 1 more (--top)"
# The first by idle-held time stay: bob, then the unknown user.
expect_out "  bob          5678  GPU-1"
expect_no_out "  alice        1234  GPU-0"
t "--top 0 and the default show all three, and say nothing more"
rep --since 30s --top 0
expect_no_out "more (--top)"
expect_out "  alice        1234  GPU-0"
rep --since 30s
expect_no_out "more (--top)"
t "--top 1, JSON: one of each, and the counts left out"
rep --since 30s --top 1 --format json
expect_rc 0
expect_out '"identities_omitted": 2,'
expect_out '"sessions_omitted": 2,'
if [ "$(grep -c '"pid": ' "$TMP/out")" -eq 1 ]; then ok; else
	fail "not one session"; fi
rep --since 30s --format json
expect_out '"identities_omitted": 0,'
expect_out '"sessions_omitted": 0,'
t "--top 1, CSV: one row, and the rest said on standard error"
rep --since 30s --top 1 --format csv --table sessions
expect_rc 0
if [ "$(wc -l <"$TMP/out")" -eq 2 ]; then ok; else
	fail "$(wc -l <"$TMP/out") lines, want a header and one row"; fi
expect_err "warning: --top 1 left 2 more sessions out of the table (--top 0 for all)"
rep --since 30s --top 1 --format csv --table identities
expect_err "left 2 more identities out"
rep --since 30s --top 1 --format csv --table gpus
expect_empty_err
t "--top 1, HTML: one row each, and how many more"
rep --since 30s --top 1 --format html
expect_rc 0
expect_out '<p class="muted" id="identities-more">… and 2 more (--top)</p>'
expect_out '<p class="muted" id="sessions-more">… and 2 more (--top)</p>'
if [ "$(grep -c '<tr data-idle-held-ms=' "$TMP/out")" -eq 1 ]; then ok; else
	fail "not one session row"; fi
for bad in -1 abc 1.5 "" 1000000001; do
	t "--top '$bad' is refused"
	rep --top "$bad"
	expect_rc 2
	expect_err "--top: '$bad' is not a whole number from 0 (all) to 1000000000"
	expect_err_lines 2
done

# ---- -o: the format follows the file's name unless --format says it.
for pair in html:'<!DOCTYPE html>' htm:'<!DOCTYPE html>' \
    json:'"schema_version": 1' csv:'host,gpu_index,gpu_uuid' JSON:'"schema_version"' \
    txt:'§1 Headline' out:'§1 Headline'; do
	ext=${pair%%:*}
	want=${pair#*:}
	t "-o report.$ext without --format: written as its name says"
	rep -o "$TMP/report.$ext"
	expect_rc 0
	if grep -qF -- "$want" "$TMP/report.$ext"; then ok; else
		fail "report.$ext lacks '$want'"; fi
done
t "-o with no extension, or a dot file, is text"
rep -o "$TMP/report"
if grep -qF '§1 Headline' "$TMP/report"; then ok; else fail "not text"; fi
rep -o "$TMP/.html"
if grep -qF '§1 Headline' "$TMP/.html"; then ok; else fail "not text"; fi
t "-o report.html --format html agrees; --format csv -o x.out is CSV"
rep -o "$TMP/agree.html" --format html
expect_rc 0
rep -o "$TMP/any.out" --format csv
if grep -qF 'host,gpu_index' "$TMP/any.out"; then ok; else fail "not CSV"; fi
for pair in html:json json:csv csv:text txt:html; do
	ext=${pair%%:*}
	fmt=${pair#*:}
	t "--format $fmt contradicts -o x.$ext: refused, nothing written"
	echo keep >"$TMP/x.$ext"
	cp "$TMP/x.$ext" "$TMP/x.keep"
	rep -o "$TMP/x.$ext" --format "$fmt"
	expect_rc 2
	expect_err "--format $fmt contradicts -o $TMP/x.$ext"
	expect_err_lines 2
	expect_same "$TMP/x.$ext" "$TMP/x.keep"
	if [ -z "$(tmp_left "$TMP")" ]; then ok; else fail "a temporary file left"; fi
done

# ---- the text report for a reader.
t "a window past the history's end says where it ends"
GUA_NOW=2026-11-26T10:00:00Z run "$GUA" report --db "$DB" --since 2d
expect_rc 0
expect_out "Window: 2026-11-25 10:29:30 +00:00 to 2026-11-26 10:00:00 +00:00 (UTC), 23:30:30"
expect_out "  the history starts at the window's start; 2 days, 0:00:00 was asked for"
expect_out "  the history ends at 2026-11-25 10:30:00 +00:00: nothing recorded after it"
GUA_NOW=2026-11-26T10:00:00Z run "$GUA" report --db "$DB"
expect_out "  no sample in the window; the history ends at 2026-11-25 10:30:00 +00:00: nothing recorded after it"
t "§6: the command line, cut to COLUMNS (and 160 columns through a pipe)"
# A row's 108 columns before the command leave 24 of 132: 23 and "…".
COLUMNS=132 rep --since 30s
expect_out "yes    jupyter-lab --no-browser"
expect_out "no     python3 train.py --epoc…"
rep --since 30s
expect_out "no     python3 train.py --epochs 90"
t "§6: a narrow terminal still gets 20 columns of command line"
COLUMNS=40 rep --since 30s
expect_out "yes    jupyter-lab --no-br…"
expect_out "no     python3 train.py --…"

t "LC_ALL=C: the text report is ASCII, its numbers as in UTF-8"
LC_ALL=C rep --since 30s
expect_rc 0
if LC_ALL=C grep -q '[^ -~]' "$TMP/out"; then
	fail "a byte past ASCII: $(LC_ALL=C grep -n '[^ -~]' "$TMP/out" | head -3)"
else ok; fi
expect_out "gua -- "
expect_out "#1 Headline"
expect_out "  ########============================........................"
expect_out "  idle-held    =   46.7%       <- this is the number"
expect_out "idle GiB*h"
COLUMNS=40 LC_ALL=C rep --since 30s
expect_out "yes    jupyter-lab --no-br~"
LC_ALL=C LANG=en_US.UTF-8 rep --since 30s
if LC_ALL=C grep -q '[^ -~]' "$TMP/out"; then fail "LC_ALL=C wins over LANG"
else ok; fi
t "LANG=C.UTF-8 (LC_ALL unset): UTF-8, and numbers keep their point"
env -u LC_ALL LANG=C.UTF-8 LC_NUMERIC=de_DE.UTF-8 GUA_NOW=$NOW "$GUA" report \
    --db "$DB" --since 30s >"$TMP/out" 2>"$TMP/err"
expect_out "§1 Headline"
expect_out "  idle-held    ▒   46.7%"

t "one sample is '1 sample', in text and HTML"
GUA_NOW=$NOW "$GUA" demo --db "$TMP/one.db" --ticks 1 >/dev/null 2>&1
GUA_NOW=$NOW gua report --db "$TMP/one.db" --gpu 0
expect_out "  (1 sample)"
GUA_NOW=$NOW gua report --db "$TMP/one.db" --gpu 0 --format html
expect_out 'data-samples="1">1 sample</span>'

finish
