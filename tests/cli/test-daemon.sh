#!/bin/sh
# The collector's life: start, status, report while it writes, stop;
# refusals that leave files as they were; stale PID files; kill -9 and a
# clean restart with --append; SIGHUP; a host without NVML.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/cli/collector-lib.sh
. "$HERE/collector-lib.sh"

umask 022	# file modes are checked exactly
STATUS_SCHEMA=$HERE/../../docs/gua-status.schema.json
DB=$TMP/gua.db
PF=$TMP/gua.pid
LOG=$TMP/gua.log
start_sleep() { start SLEEP sleep 1000; }
start_sleep
scenario <<EOF
gpus 2
tick 0
util 0 85
proc 0 $SLEEP 6000
util 1 1
EOF
daemon() {
	gua daemon --nvml-library "$FAKE" --db "$DB" --pid-file "$PF" \
	    --log-file "$LOG" --interval 100ms "$@"
}

t "start: returns 0 once the collector runs"
daemon
expect_rc 0
expect_out "gua: collector running (PID "
expect_out "writing $DB"
expect_empty_err
expect_file "$PF"
CPID=$(sed -n 1p "$PF")
t "the PID file: PID, then the database"
if [ "$(sed -n 2p "$PF")" = "$DB" ] && kill -0 "$CPID"; then ok; else
	fail "$(cat "$PF")"; fi
t "the first tick is written before start returns"
expect_q "$DB" "SELECT count(*) >= 1 FROM ticks" 1
t "files are not world-readable or writable"
expect_q "$DB" "SELECT 1" 1
if [ "$(stat -c %a "$DB")" = 640 ] && [ "$(stat -c %a "$PF")" = 640 ] &&
    [ "$(stat -c %a "$LOG")" = 640 ]; then ok; else
	fail "modes $(stat -c '%n %a' "$DB" "$PF" "$LOG")"; fi

t "status: running (0)"
gua status --pid-file "$PF"
expect_rc 0
expect_out "gua is running (PID $CPID)"
expect_out "database   $DB"
expect_out "written ("
expect_out "last tick"
t "status --json"
gua status --pid-file "$PF" --json
expect_rc 0
expect_out '"state": "running"'
expect_out "\"pid\": $CPID"
expect_out "\"database\": \"$DB\""
expect_out '"interval_ms": 100'
expect_out '"last_tick_age_ms": '
expect_out '"schema_version": 1,'
expect_out "\"generator\": \"gua $("$GUA" --version | sed 's/^gua //')\""
t "status --json of a running collector: valid against its schema"
cp "$TMP/out" "$TMP/status-running.json"
check schema "$STATUS_SCHEMA" "$TMP/status-running.json"

t "report while the collector writes"
wait_until ticks_at_least "$DB" 3
gua report --db "$DB"
expect_rc 0
expect_out "GPU-0     active 100.0%"
expect_out "GPU-1     active   0.0%  idle-held   0.0%  truly-idle 100.0%"
expect_out "$(user_of "$SLEEP")"

t "a second collector on the same PID file is refused"
gua daemon --nvml-library "$FAKE" --db "$TMP/other.db" --pid-file "$PF" \
    --log-file "$TMP/other.log"
expect_rc 1
expect_err "already running (PID $CPID holds $PF)"
expect_no_file "$TMP/other.db"
expect_no_file "$TMP/other.log"
t "a second collector on the same database is refused"
gua daemon --nvml-library "$FAKE" --db "$DB" --pid-file "$TMP/other.pid" \
    --log-file "$TMP/other.log" --append
expect_rc 1
expect_err "another collector is writing this database"
expect_no_file "$TMP/other.pid"

t "SIGHUP reopens the log"
mv "$LOG" "$LOG.1"
kill -HUP "$CPID"
expect_wait has_line "$LOG" "SIGHUP: log reopened"

t "stop: SIGTERM, waits, 0"
gua stop --pid-file "$PF"
expect_rc 0
expect_out "gua stopped (PID $CPID)"
t "the collector is gone with its PID file"
expect_wait gone "$CPID"
expect_no_file "$PF"
t "its last words: the ticks of this run"
expect_wait has_line "$LOG" "stopping on SIGTERM: "
N=$(q "$DB" "SELECT count(*) FROM ticks")
expect_count "$LOG" "stopping on SIGTERM: $N ticks written in this run" 1
t "closed cleanly: checkpointed, no WAL left, intact"
expect_no_file "$DB-wal"
expect_q "$DB" "PRAGMA integrity_check" ok
t "status: not running (3)"
gua status --pid-file "$PF"
expect_rc 3
expect_out "gua is not running"
t "status --json of a stopped collector: valid against its schema"
gua status --pid-file "$PF" --json
expect_rc 3
expect_out '"state": "not_running"'
cp "$TMP/out" "$TMP/status-stopped.json"
check schema "$STATUS_SCHEMA" "$TMP/status-stopped.json"
t "stop when not running: 0"
gua stop --pid-file "$PF"
expect_rc 0
expect_out "not running"

t "an existing database is refused without --append, untouched"
cp "$DB" "$TMP/copy.db"
rm -f "$LOG" "$LOG.1"
daemon
expect_rc 1
expect_err "$DB: database exists; use --append to add to it or choose another --db"
expect_err_lines 1
expect_same "$DB" "$TMP/copy.db"
expect_no_file "$PF"
expect_no_file "$LOG"

t "a directory as --db is called one, with or without --append"
mkdir "$TMP/dir.db"
for opt in --foreground --append; do
	gua daemon --nvml-library "$FAKE" --db "$TMP/dir.db" \
	    --pid-file "$TMP/dir.pid" --log-file "$TMP/dir.log" $opt
	# No gua database at all: bad usage, as for every command.
	expect_rc 2
	expect_err "$TMP/dir.db: is a directory"
	expect_no_file "$TMP/dir.pid"
done

t "three --append starts on one new file: one runs, none is told to --append"
RACERS=""
for i in 1 2 3; do
	"$GUA" daemon --nvml-library "$FAKE" --db "$TMP/race.db" --append \
	    --pid-file "$TMP/race$i.pid" --log-file "$TMP/race$i.log" \
	    >"$TMP/race$i.out" 2>"$TMP/race$i.err" &
	RACERS="$RACERS $!"
done
wait $RACERS
n=0
for i in 1 2 3; do
	[ -s "$TMP/race$i.err" ] || n=$((n + 1))
done
if [ "$n" -eq 1 ]; then ok; else fail "$n of 3 started"; fi
if cat "$TMP"/race?.err | grep -q -- "use --append"; then
	fail "$(cat "$TMP"/race?.err)"; else ok; fi
for i in 1 2 3; do
	[ -e "$TMP/race$i.pid" ] && gua stop --pid-file "$TMP/race$i.pid"
done
expect_q "$TMP/race.db" "PRAGMA integrity_check" ok

t "--append to a database of another host is refused, untouched"
cp "$DB" "$TMP/foreign.db"
q "$TMP/foreign.db" "UPDATE meta SET value = 'elsewhere' WHERE key = 'hostname'"
cp "$TMP/foreign.db" "$TMP/foreign.copy"
gua daemon --nvml-library "$FAKE" --db "$TMP/foreign.db" --pid-file "$PF" \
    --log-file "$LOG" --append
expect_rc 1
expect_err "recorded on host 'elsewhere'"
expect_same "$TMP/foreign.db" "$TMP/foreign.copy"
expect_no_file "$TMP/foreign.db-wal"
expect_no_file "$PF"
t "--append to a file that is not a gua database is refused, untouched"
echo "not a database" >"$TMP/text.db"
cp "$TMP/text.db" "$TMP/text.copy"
gua daemon --nvml-library "$FAKE" --db "$TMP/text.db" --pid-file "$PF" \
    --log-file "$LOG" --append
expect_rc 2
expect_err "not a SQLite file"
expect_same "$TMP/text.db" "$TMP/text.copy"
t "a database behind a symbolic link is refused"
ln -s "$DB" "$TMP/link.db"
gua daemon --nvml-library "$FAKE" --db "$TMP/link.db" --pid-file "$PF" \
    --log-file "$LOG" --append
expect_rc 1
expect_err "symbolic link"
expect_same "$DB" "$TMP/copy.db"

t "--append creates a missing database"
gua daemon --nvml-library "$FAKE" --db "$TMP/new.db" --pid-file "$PF" \
    --log-file "$LOG" --append
expect_rc 0
gua stop --pid-file "$PF"
expect_rc 0
expect_q "$TMP/new.db" "SELECT count(*) FROM runs" 1

t "kill -9, then status says dead (1)"
daemon --append
expect_rc 0
CPID=$(sed -n 1p "$PF")
wait_until ticks_at_least "$DB" $((N + 2))
kill -9 "$CPID"
wait_until gone "$CPID"
gua status --pid-file "$PF"
expect_rc 1
expect_out "gua is not running, but its PID file $PF remains: PID $CPID has exited"
t "status --json of a dead collector"
gua status --pid-file "$PF" --json
expect_rc 1
expect_out '"state": "dead"'
expect_out '"pid_alive": false'
t "status --json of a dead collector (a stale PID file): valid against its schema"
cp "$TMP/out" "$TMP/status-stale.json"
check schema "$STATUS_SCHEMA" "$TMP/status-stale.json"
t "after kill -9 the database is intact"
expect_q "$DB" "PRAGMA integrity_check" ok
N2=$(q "$DB" "SELECT count(*) FROM ticks")
t "a clean restart with --append resumes the same file"
daemon --append
expect_rc 0
expect_out "collector running"
wait_until ticks_at_least "$DB" $((N2 + 2))
gua stop --pid-file "$PF"
expect_rc 0
expect_q "$DB" "SELECT count(*) FROM runs" 3
expect_q "$DB" "SELECT count(*) > $N2 FROM ticks" 1
expect_q "$DB" "PRAGMA integrity_check" ok
t "timestamps only grow"
expect_q "$DB" "SELECT count(*) FROM ticks a JOIN ticks b ON b.id = a.id + 1 WHERE b.ts_ms <= a.ts_ms" 0
t "every span is positive and at most two intervals"
expect_q "$DB" "SELECT count(*) FROM ticks WHERE span_ms < 1 OR span_ms > 200" 0
t "the first tick of each run spans one interval"
expect_q "$DB" "SELECT group_concat(span_ms) FROM ticks WHERE id IN (SELECT min(id) FROM ticks GROUP BY run)" "100,100,100"

t "stop gives up after --timeout when the collector does not exit (1)"
daemon --append
expect_rc 0
CPID=$(sed -n 1p "$PF")
kill -STOP "$CPID"
gua stop --pid-file "$PF" --timeout 300ms
expect_rc 1
expect_err "the collector (PID $CPID) is still running after 300ms"
t "... and status still says running"
gua status --pid-file "$PF"
expect_rc 0
kill -CONT "$CPID"
t "the SIGTERM it got meanwhile stops it once it runs again"
expect_wait gone "$CPID"
expect_no_file "$PF"
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null 2>&1; then
	t "stop by a user who may not signal the collector: 1"
	daemon --append
	CPID=$(sed -n 1p "$PF")
	chmod 755 "$TMP"
	chmod 644 "$PF"
	run setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups \
	    "$GUA" stop --pid-file "$PF"
	expect_rc 1
	expect_err "permission denied signalling the collector (PID $CPID)"
	if kill -0 "$CPID"; then ok; else fail "the collector died"; fi
	gua stop --pid-file "$PF"
	expect_rc 0
else
	t "stop by a user who may not signal the collector"
	skip "needs root and setpriv"
fi

t "a stale PID file naming a live unrelated process: dead (1)"
start OTHER sleep 1000
printf '%s\n%s\n' "$OTHER" "$DB" >"$PF"
gua status --pid-file "$PF"
expect_rc 1
expect_out "PID $OTHER is now another process (it was not signalled)"
t "stop never signals it"
gua stop --pid-file "$PF"
expect_rc 0
expect_out "stale PID file"
sleep 0.2
if kill -0 "$OTHER"; then ok; else fail "stop killed an unrelated process"; fi
t "the next collector takes the stale PID file over"
daemon --append
expect_rc 0
if [ "$(sed -n 1p "$PF")" != "$OTHER" ]; then ok; else fail "not rewritten"; fi
gua stop --pid-file "$PF"
expect_rc 0
if kill -0 "$OTHER"; then ok; else fail "the unrelated process died"; fi

t "a PID file behind a symbolic link: status unknown (4)"
ln -s "$TMP/elsewhere" "$TMP/link.pid"
gua status --pid-file "$TMP/link.pid"
expect_rc 4
expect_out "symbolic link"
rm -f "$TMP/link.pid"

t "--foreground: a line per tick on stdout, SIGINT ends it with 0"
rm -f "$TMP/fg.db"
start FG "$GUA" daemon --foreground --nvml-library "$FAKE" --db "$TMP/fg.db" \
    --pid-file "$PF" --interval 50ms >"$TMP/fg.out" 2>"$TMP/fg.err"
expect_wait lines_at_least "$TMP/fg.out" 3
kill -INT "$FG"
wait "$FG"
RC=$?
expect_rc 0
expect_out_file() { if grep -qF -- "$2" "$1"; then ok; else
	fail "$(basename "$1") lacks '$2'"; fi; }
expect_out_file "$TMP/fg.out" " tick 1 span 50ms: GPU-0 active util 85% held 6000 MiB by 1 ["
expect_out_file "$TMP/fg.out" " root 6000 MiB sm 0% idle-held]; GPU-1 truly-idle util 1% held 0 MiB by 0"
expect_out_file "$TMP/fg.err" "collector started: PID $FG"
expect_out_file "$TMP/fg.err" "stopping on SIGINT"
t "the log names the NVML library loaded"
expect_out_file "$TMP/fg.err" ", NVML $FAKE"
expect_no_file "$PF"
# Without a name, NVML's usual names are tried in turn; the log names the
# one found, here the unversioned fallback.
t "the log names NVML's fallback name when it is the one loaded"
mkdir -p "$TMP/unversioned"
cp "$FAKE" "$TMP/unversioned/libnvidia-ml.so"
rm -f "$TMP/fb.db"
start FB env LD_LIBRARY_PATH="$TMP/unversioned" "$GUA" daemon --foreground \
    --db "$TMP/fb.db" --pid-file "$PF" --interval 50ms \
    >"$TMP/fb.out" 2>"$TMP/fb.err"
expect_wait lines_at_least "$TMP/fb.out" 1
kill -INT "$FB"
wait "$FB"
if /sbin/ldconfig -p 2>/dev/null | grep -qF 'libnvidia-ml.so.1 '; then
	# A host with NVIDIA's driver: its library comes first, rightly.
	expect_out_file "$TMP/fb.err" ", NVML libnvidia-ml.so.1"
else
	expect_out_file "$TMP/fb.err" ", NVML libnvidia-ml.so"
	if grep -qF "libnvidia-ml.so.1" "$TMP/fb.err"; then
		fail "the log names libnvidia-ml.so.1, not loaded"; else ok; fi
fi
N=$(q "$TMP/fg.db" "SELECT count(*) FROM ticks")
t "--foreground: every tick printed was written"
if [ "$(wc -l <"$TMP/fg.out")" -eq "$N" ]; then ok; else
	fail "$(wc -l <"$TMP/fg.out") lines, $N ticks"; fi

t "no NVML at the given path: fails fast, leaves nothing"
gua daemon --nvml-library "$TMP/nope/libnvidia-ml.so.1" --db "$TMP/d1.db" \
    --pid-file "$TMP/d1.pid" --log-file "$TMP/d1.log"
expect_rc 1
expect_err "gua daemon: cannot load NVML: $TMP/nope/libnvidia-ml.so.1"
expect_err_lines 1
expect_empty_out
expect_no_file "$TMP/d1.db"
expect_no_file "$TMP/d1.pid"
expect_no_file "$TMP/d1.log"
t "no NVML at the given path, in the foreground: the same"
gua daemon --foreground --nvml-library "$TMP/nope.so" --db "$TMP/d1.db" \
    --pid-file "$TMP/d1.pid"
expect_rc 1
expect_err "cannot load NVML"
expect_no_file "$TMP/d1.db"
expect_no_file "$TMP/d1.pid"
t "GUA_NVML_LIBRARY names the library too"
GUA_NVML_LIBRARY=$TMP/env.so gua daemon --db "$TMP/d1.db" \
    --pid-file "$TMP/d1.pid" --log-file "$TMP/d1.log"
expect_rc 1
expect_err "cannot load NVML: $TMP/env.so"
expect_no_file "$TMP/d1.db"
t "nothing set, on a host without the driver: a friendly message"
if has_real_nvml; then
	skip "this host has libnvidia-ml.so.1"
else
	gua daemon --db "$TMP/d1.db" --pid-file "$TMP/d1.pid" \
	    --log-file "$TMP/d1.log"
	expect_rc 1
	expect_err "cannot load NVML: libnvidia-ml.so.1"
	expect_err "is the NVIDIA driver installed?"
	expect_err_lines 1
	expect_no_file "$TMP/d1.db"
	expect_no_file "$TMP/d1.pid"
	expect_no_file "$TMP/d1.log"
fi

t "a relative --nvml-library works in the background (which runs from /)"
mkdir "$TMP/lib"
cp "$FAKE" "$TMP/lib/libnvidia-ml.so.1"
(cd "$TMP" && "$GUA" daemon --nvml-library lib/libnvidia-ml.so.1 \
    --db rel.db --pid-file rel.pid --log-file rel.log --interval 100ms) \
    >"$TMP/out" 2>"$TMP/err"
RC=$?
expect_rc 0
expect_file "$TMP/rel.db"
gua stop --pid-file "$TMP/rel.pid"
expect_rc 0

t "--textfile-dir may not replace the collector's own files"
mkdir "$TMP/tf"
for f in db pid log; do
	rm -f "$TMP/tf/gua.prom"
	db=$TMP/c.db pid=$TMP/c.pid log=$TMP/c.log
	eval "$f=\$TMP/tf/gua.prom"
	gua daemon --nvml-library "$FAKE" --db "$db" --pid-file "$pid" \
	    --log-file "$log" --textfile-dir "$TMP/tf"
	expect_rc 2
	case $f in db) opt=--db ;; pid) opt=--pid-file ;; *) opt=--log-file ;; esac
	expect_err "--textfile-dir: $TMP/tf/gua.prom would replace $TMP/tf/gua.prom, the $opt of this collector; refusing to write over it"
	expect_no_file "$TMP/tf/gua.prom"
	expect_no_file "$TMP/c.db"
done
t "... however the directory is written: a trailing slash, ./, .., a link"
ln -s tf "$TMP/tf-link"
for dir in "$TMP/tf/" "$TMP/tf/." "$TMP/tf/../tf" "$TMP/tf-link"; do
	gua daemon --nvml-library "$FAKE" --db "$TMP/tf/gua.prom" \
	    --pid-file "$TMP/c.pid" --log-file "$TMP/c.log" --textfile-dir "$dir"
	expect_rc 2
	expect_err "gua.prom would replace $TMP/tf/gua.prom, the --db of this collector"
	expect_no_file "$TMP/tf/gua.prom"
done
t "--textfile-dir whose gua.prom is a database is refused"
mkdir "$TMP/tf2"
GUA_NOW=2026-11-25T10:30:00Z "$GUA" demo --db "$TMP/tf2/gua.prom" >/dev/null 2>&1
gua daemon --foreground --nvml-library "$FAKE" --db "$TMP/m.db" \
    --pid-file "$TMP/m.pid" --textfile-dir "$TMP/tf2"
expect_rc 2
expect_err "--textfile-dir: $TMP/tf2/gua.prom is an SQLite database"
expect_no_file "$TMP/m.db"
t "a missing --textfile-dir is named as the option's"
gua daemon --foreground --nvml-library "$FAKE" --db "$TMP/m.db" \
    --pid-file "$TMP/m.pid" --textfile-dir "$TMP/missing"
expect_rc 1
expect_err "gua daemon: --textfile-dir: $TMP/missing: No such file or directory"
expect_no_file "$TMP/m.db"

finish_collector
