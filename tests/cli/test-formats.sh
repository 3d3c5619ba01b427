#!/bin/sh
# report --format json and csv: valid against the shipped schema, with the
# numbers the database holds (the text report's, the raw rows'), escaped
# for their destination; merged reports over several hosts; colour only on
# a terminal.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
TOP=$(cd "$HERE/../.." && pwd)
SCHEMA=$TOP/docs/gua-report.schema.json

DB=$TMP/demo.db
GUA_NOW=$NOW "$GUA" demo --db "$DB" >/dev/null 2>&1 || fail "demo failed"
cp "$DB" "$TMP/pristine.db"
# out NAME ARGS...: the report with ARGS into $TMP/NAME.
out() {
	name=$1
	shift
	GUA_NOW=$NOW run "$GUA" report "$@"
	cp "$TMP/out" "$TMP/$name"
}

t "python3 with jsonschema is there, to validate the JSON report"
if [ -n "$PYTHON" ] && "$PYTHON" -c 'import jsonschema' 2>/dev/null; then ok
else skip "needs python3-jsonschema (apt-get install python3-jsonschema)" \
    python3-jsonschema; fi

t "the schema file is JSON"
if [ -n "$PYTHON" ] && "$PYTHON" -m json.tool "$SCHEMA" >/dev/null; then ok
else fail "docs/gua-report.schema.json does not parse"; fi

for args in "" "--since 7s" "--gpu 1" "--held-mib 10000" "--active-util 1" \
    "--until 2026-11-24T00:00:00Z" "--since 10s --until 10s"; do
	t "json ($args): parses, valid, numbers equal the text report's"
	# shellcheck disable=SC2086
	out r.json --db "$DB" --format json $args
	expect_rc 0
	expect_empty_err
	if "$PYTHON" -m json.tool "$TMP/r.json" >/dev/null 2>&1; then ok; else
		fail "not JSON"; fi
	check schema "$SCHEMA" "$TMP/r.json"
	# shellcheck disable=SC2086
	out r.txt --db "$DB" $args
	check json-text "$TMP/r.json" "$TMP/r.txt"
done

t "json: the demo's numbers"
out demo.json --db "$DB" --format json
expect_out '"schema_version": 1,'
expect_out '"samples": 90,'
expect_out '"active_ratio": 0.133333,'
expect_out '"idle_held_ratio": 0.466667,'
expect_out '"start": "2026-11-25T10:29:30Z",'
expect_out '"end_epoch_seconds": 1795602600,'
expect_out '"process_start": null,'
expect_out '"user": null,'

t "json: an empty window has nulls, not zeros, for shares"
out empty.json --db "$DB" --format json --until 2026-11-24T00:00:00Z
expect_out '"active_ratio": null,'
expect_out '"coverage_ratio": null,'
expect_out '"gpus": [],'

t "csv gpus (the default table): the JSON's numbers"
out gpus.csv --db "$DB" --format csv
expect_rc 0
check csv-gpus "$TMP/gpus.csv" "$TMP/demo.json"
check csv-safe "$TMP/gpus.csv"
expect_out "host,gpu_index,gpu_uuid,gpu_name,"

t "csv ticks: 90 rows, adding up to the per-GPU sums"
out ticks.csv --db "$DB" --format csv --table ticks
expect_rc 0
if [ "$(wc -l <"$TMP/ticks.csv")" -eq 91 ]; then ok; else
	fail "$(wc -l <"$TMP/ticks.csv") lines, want 91"; fi
check csv-ticks "$TMP/ticks.csv" "$TMP/gpus.csv"
check csv-safe "$TMP/ticks.csv"
expect_out "5678/bob/8000/idle_held 9999/?/200/idle_held"

t "csv processes: a row per process per tick, the ticks table's processes"
out processes.csv --db "$DB" --format csv --table processes
expect_rc 0
expect_empty_err
expect_out "host,timestamp,span_ms,gpu_index,gpu_uuid,pid,user,command,memory_mib,sm_utilization_percent,state"
# alice 24 ticks of 30 on GPU-0, bob and an unknown process all 30 on GPU-1.
if [ "$(wc -l <"$TMP/processes.csv")" -eq 85 ]; then ok; else
	fail "$(wc -l <"$TMP/processes.csv") lines, want 85"; fi
check csv-safe "$TMP/processes.csv"
check csv-processes "$TMP/processes.csv" "$TMP/ticks.csv" "$TMP/demo.json"
# The demo gives no process its own utilization: empty, not 0.
expect_out ",2026-11-25T10:30:00Z,1000,1,GPU-1,5678,bob,jupyter-lab,8000,,idle_held"
expect_out ",2026-11-25T10:30:00Z,1000,1,GPU-1,9999,,,200,,idle_held"
expect_out ",2026-11-25T10:29:31Z,1000,0,GPU-0,1234,alice,python3,70000,,active"
expect_no_out ",0.0,"
t "json: the sessions' own utilization is unknown in the demo"
n=$(grep -cF '"mean_sm_utilization_percent": null' "$TMP/demo.json")
if [ "$n" -eq 6 ]; then ok; else fail "$n nulls, want 6 (3 sessions, 3 users)"; fi

t "csv ticks with other thresholds and one GPU add up too"
out t2.csv --db "$DB" --format csv --table ticks --held-mib 10000 --gpu 1
out g2.csv --db "$DB" --format csv --held-mib 10000 --gpu 1
check csv-ticks "$TMP/t2.csv" "$TMP/g2.csv"

for table in identities sessions; do
	t "csv $table: well formed"
	out "$table.csv" --db "$DB" --format csv --table "$table"
	expect_rc 0
	check csv-safe "$TMP/$table.csv"
	# The demo gives no process its own utilization: unknown, empty.
	if [ "$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++)
	    if ($i ~ /^mean_sm_utilization_percent/) c = i }
	    NR > 1 && $c != "" && $c != "\r" { n++ } END { print n + 0 }' \
	    "$TMP/$table.csv")" -eq 0 ]; then ok; else
		fail "a known mean_sm_utilization_percent in $table.csv"; fi
	expect_out "mean_sm_utilization_percent"
done
t "csv processes: one GPU, other thresholds"
out p1.csv --db "$DB" --format csv --table processes --gpu 0 --active-util 90
expect_rc 0
if [ "$(wc -l <"$TMP/p1.csv")" -eq 25 ]; then ok; else
	fail "$(wc -l <"$TMP/p1.csv") lines, want 25"; fi
expect_no_out ",GPU-1,"
# GPU-0 at 80 % is not active at 90 %: alice holds it idle.
expect_no_out ",active"
check csv-cell "$TMP/sessions.csv" command_line "jupyter-lab --no-browser"

# Hostile text: a command line with commas, quotes and a newline, a command
# name that is a formula, a user name starting with @.
HOSTILE=$TMP/hostile.db
cp "$DB" "$HOSTILE"
procs "$HOSTILE" "UPDATE procs SET cmdline = 'python3 -c \"print(1, 2)\"' ||
    char(10) || '--name=a,b' , comm = '=HYPERLINK(\"http://x\",\"y\")',
    user = '@evil' WHERE pid = 5678;
    UPDATE procs SET comm = '-cmd', user = '+1' WHERE pid = 1234;"
t "csv: a command line with commas, quotes and a newline survives"
out hostile.csv --db "$HOSTILE" --format csv --table sessions
expect_rc 0
check csv-cell "$TMP/hostile.csv" command_line \
    "$(printf 'python3 -c "print(1, 2)"\n--name=a,b')"
t "csv: no cell runs as a formula, numbers stay numbers"
check csv-safe "$TMP/hostile.csv"
check csv-cell "$TMP/hostile.csv" command "'=HYPERLINK(\"http://x\",\"y\")"
check csv-cell "$TMP/hostile.csv" user "'@evil"
check csv-cell "$TMP/hostile.csv" user "'+1"
check csv-cell "$TMP/hostile.csv" command "'-cmd"
out hostile-ids.csv --db "$HOSTILE" --format csv --table identities
check csv-safe "$TMP/hostile-ids.csv"
check csv-cell "$TMP/hostile-ids.csv" user "'@evil"
out hostile-ticks.csv --db "$HOSTILE" --format csv --table ticks
check csv-safe "$TMP/hostile-ticks.csv"
out hostile-procs.csv --db "$HOSTILE" --format csv --table processes
check csv-safe "$TMP/hostile-procs.csv"
check csv-cell "$TMP/hostile-procs.csv" command "'=HYPERLINK(\"http://x\",\"y\")"
check csv-cell "$TMP/hostile-procs.csv" user "'@evil"
t "json: the same text, escaped and valid"
out hostile.json --db "$HOSTILE" --format json
check schema "$SCHEMA" "$TMP/hostile.json"
expect_out '"command_line": "python3 -c \"print(1, 2)\"\n--name=a,b",'

# Several hosts: the demo, and a shorter demo recorded as another host.
B=$TMP/hostb.db
GUA_NOW=2026-11-25T10:29:50Z "$GUA" demo --db "$B" --ticks 12 >/dev/null 2>&1
sqlite3 "$B" "UPDATE meta SET value = 'hostb' WHERE key = 'hostname'"
A_HOST=$(hostname)
t "two hosts: the merged report is the sum of its parts"
out a.json --db "$DB" --format json
out b.json --db "$B" --format json
out ab.json --db "$DB" --db "$B" --format json
expect_rc 0
expect_empty_err
check schema "$SCHEMA" "$TMP/ab.json"
check merged "$TMP/ab.json" "$TMP/a.json" "$TMP/b.json"
out ab.txt --db "$DB" --db "$B"
expect_rc 0
check json-text "$TMP/ab.json" "$TMP/ab.txt"
t "two hosts: text labels GPUs host/GPU-N and has a host section"
expect_out "gua — 2 hosts"
expect_out "Window: 2026-11-25 10:29:30 +00:00 to 2026-11-25 10:30:00 +00:00 (UTC), 0:00:30"
expect_out "hostb/GPU-1"
expect_out "$A_HOST/GPU-0"
expect_out "bob@hostb"
expect_out "(36 samples, window 0:00:22, coverage 54.5%)"
expect_out "(126 samples)"
t "two hosts: every CSV table carries the host"
out ab-gpus.csv --db "$DB" --db "$B" --format csv
check csv-gpus "$TMP/ab-gpus.csv" "$TMP/ab.json"
out ab-ticks.csv --db "$DB" --db "$B" --format csv --table ticks
check csv-ticks "$TMP/ab-ticks.csv" "$TMP/ab-gpus.csv"
if [ "$(grep -c '^hostb,' "$TMP/ab-ticks.csv")" -eq 36 ]; then ok; else
	fail "want 36 rows of hostb"; fi
t "two hosts: --gpu HOST/ID picks one GPU"
out one.json --db "$DB" --db "$B" --format json --gpu hostb/1
expect_rc 0
expect_out '"gpu_count": 1,'
expect_out '"hostname": "hostb",'
t "two hosts: --gpu with an index on both is ambiguous"
out x --db "$DB" --db "$B" --gpu 1
expect_rc 2
expect_err "matches GPUs of 2 hosts; write HOST/1"
t "two hosts: --gpu of an unknown host"
out x --db "$DB" --db "$B" --gpu nohost/1
expect_rc 2
expect_err "--gpu: no GPU 'nohost/1'"
t "the same host twice is refused"
out x --db "$DB" --db "$DB"
expect_rc 2
expect_err "two databases of host '$A_HOST'"
expect_empty_out
t "one bad database among good ones is refused before any output"
out x --db "$DB" --db "$TMP/missing.db"
expect_rc 2
expect_err "missing.db: no such file"
expect_empty_out

t "reports never changed the databases"
expect_same "$DB" "$TMP/pristine.db"
expect_no_file "$DB-wal"

t "no colour when not a terminal"
out plain.txt --db "$DB"
if grep -q "$(printf '\033')" "$TMP/plain.txt"; then
	fail "escape codes in piped output"; else ok; fi
t "colour on a terminal"
if need script bsdutils; then
	TERM=xterm GUA_NOW=$NOW script -qec "'$GUA' report --db '$DB'" \
	    /dev/null >"$TMP/tty.txt" 2>&1
	if grep -q "$(printf '\033')\[32m" "$TMP/tty.txt"; then ok; else
		fail "no colour on a terminal"; fi
	t "no colour on a terminal with NO_COLOR"
	NO_COLOR=1 TERM=xterm GUA_NOW=$NOW script -qec \
	    "'$GUA' report --db '$DB'" /dev/null >"$TMP/tty.txt" 2>&1
	if grep -q "$(printf '\033')" "$TMP/tty.txt"; then
		fail "colour despite NO_COLOR"; else ok; fi
	t "no colour in a file written with -o, even from a terminal"
	TERM=xterm GUA_NOW=$NOW script -qec \
	    "'$GUA' report --db '$DB' -o '$TMP/o.txt'" /dev/null >/dev/null 2>&1
	if grep -q "$(printf '\033')" "$TMP/o.txt"; then
		fail "colour in a file"; else ok; fi
	t "§6 cuts the command line to the terminal's width, not COLUMNS"
	# 108 columns before the command leave 24 of 132: 23 and "…".
	COLUMNS=300 TERM=xterm GUA_NOW=$NOW script -qec \
	    "stty cols 132; '$GUA' report --db '$DB' --since 30s" /dev/null \
	    >"$TMP/tty.txt" 2>&1
	if grep -qF "python3 train.py --epoc…" "$TMP/tty.txt"; then ok; else
		fail "not cut at 132: $(grep -F train "$TMP/tty.txt")"; fi
	t "... and a file written from that terminal is not cut to it"
	TERM=xterm GUA_NOW=$NOW script -qec \
	    "stty cols 132; '$GUA' report --db '$DB' --since 30s -o '$TMP/o.txt'" \
	    /dev/null >/dev/null 2>&1
	if grep -qF "python3 train.py --epochs 90" "$TMP/o.txt"; then ok; else
		fail "cut in a file: $(grep -F train "$TMP/o.txt")"; fi
fi

t "html §2 splits idle-held from truly idle, with the text report's numbers"
out r.txt --db "$DB"
out r.html --db "$DB" --format html
for state in "idle-held" "truly idle"; do
	line=$(grep -F "GPU-hours $state," "$TMP/r.txt" | sed 's/^ *//')
	# The HTML line with its tags taken out reads as the text one.
	if [ -n "$line" ] && sed -n '/<section id="waste">/,/<\/section>/p' \
	    "$TMP/r.html" | sed 's/<[^>]*>//g' | grep -qxF -- "$line"; then ok
	else fail "html §2 lacks '$line'"; fi
done

t "--gpu and other thresholds are said in every format, and not otherwise"
out r.txt --db "$DB" --gpu 1 --active-util 50 --held-mib 0
expect_out "GPU: GPU-1 only (--gpu)"
expect_out "Thresholds: active at >= 50% utilization, held above 0 MiB"
out r.html --db "$DB" --gpu 1 --active-util 50 --held-mib 0 --format html
expect_out '<p class="sub" id="only-gpu">GPU: GPU-1 only (--gpu)'
expect_out '<p class="sub" id="thresholds">Thresholds: active at'
out r.json --db "$DB" --gpu 1 --format json
expect_out '"only_gpu": "GPU-1",'
check schema "$SCHEMA" "$TMP/r.json"
out r.txt --db "$DB"
expect_no_out "GPU: "
expect_no_out "Thresholds:"
out r.json --db "$DB" --format json
expect_out '"only_gpu": null,'

t "a GPU's memory reads the same in text and html: 79.6 GiB, not 80"
cp "$TMP/pristine.db" "$TMP/mem.db"
sqlite3 "$TMP/mem.db" "UPDATE gpus SET memory_total_mib = 81559 WHERE idx = 0"
out r.txt --db "$TMP/mem.db"
expect_out "79.6 GiB"
out r.html --db "$TMP/mem.db" --format html
expect_out ", 79.6 GiB</div>"

finish
