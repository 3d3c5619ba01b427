#!/bin/sh
# A database deleted (rm) or replaced (mv other.db x.db) under a running
# collector: the collector sees it at its next tick, says so once in its
# log, and goes on into the path as --append would (a new database where
# there is none, the gua database of this host now there), never into the
# file that is gone; a file it may not write is left untouched while the
# ticks wait. status says what happened instead of "all is well".
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/cli/collector-lib.sh
. "$HERE/collector-lib.sh"

R=$TMP/r
mkdir "$R"
DB=$R/x.db
PF=$R/x.pid
LOG=$R/x.log
start SLEEP sleep 1000
scenario <<EOF
tick 0
util 0 60
proc 0 $SLEEP 3000
EOF
# runs DB: the runs recorded in DB.
runs() { q "$1" "SELECT count(*) FROM runs"; }
status_json() { "$GUA" status --pid-file "$PF" --json; }
json_has() { status_json | grep -qF -- "$1"; }

gua daemon --nvml-library "$FAKE" --db "$DB" --pid-file "$PF" \
    --log-file "$LOG" --interval 200ms
t "the collector runs"
expect_rc 0
expect_wait ticks_at_least "$DB" 3
t "status: the database is the one it writes"
gua status --pid-file "$PF" --json
expect_rc 0
expect_out '"database_state": "ok"'
expect_out '"database_renewed_at": null'

t "rm x.db: the collector says so once and makes a new database there"
rm "$DB"
expect_wait has_line "$LOG" "$DB: the database was deleted under the collector"
expect_wait has_line "$LOG" "collector now writes $DB (new)"
expect_wait ticks_at_least "$DB" 3
expect_count "$LOG" "the database was deleted" 1
t "... a whole gua database, with one run, that report reads"
expect_q "$DB" "PRAGMA integrity_check" ok
expect_q "$DB" "SELECT count(*) FROM runs" 1
GUA_NOW='' run "$GUA" report --db "$DB" --since 1h --format csv --table ticks
expect_rc 0
expect_ticks "$DB" '$6 == "60.0" && $11 ~ /^'"$SLEEP"'\// { n++ } END { print (n >= 3) }' 1
t "status says the database was renewed, and shows the new file's ticks"
gua status --pid-file "$PF"
expect_rc 0
expect_out "warning    the database was deleted or replaced under the collector at "
expect_out "the ticks from before are not in it"
expect_out "in this run)"
gua status --pid-file "$PF" --json
expect_out '"database_state": "ok"'
expect_out '"database_renewed_at": "'

t "mv other.db x.db (a gua database of this host): appended to, kept whole"
GUA_NOW=$NOW "$GUA" demo --db "$R/other.db" >/dev/null 2>&1
other=$(q "$R/other.db" "SELECT count(*) FROM ticks")
mv "$R/other.db" "$DB"
expect_wait has_line "$LOG" "$DB: the database was replaced by another file"
expect_wait has_line "$LOG" "collector now writes $DB (appending)"
expect_wait ticks_at_least "$DB" $((other + 3))
expect_q "$DB" "SELECT count(*) FROM runs" 2
expect_q "$DB" "SELECT count(*) FROM ticks WHERE id <= $other AND run = 1" "$other"
expect_q "$DB" "PRAGMA integrity_check" ok

t "mv x.db elsewhere: the file moved away keeps every tick, no WAL needed"
before=$(q "$DB" "SELECT count(*) FROM ticks")
mv "$DB" "$R/moved.db"
expect_wait has_line "$LOG" "$DB: the database was deleted under the collector"
expect_wait test -e "$DB"
expect_no_file "$R/moved.db-wal"
expect_q "$R/moved.db" "PRAGMA integrity_check" ok
got=$(q "$R/moved.db" "SELECT count(*) FROM ticks")
if [ "$got" -ge "$before" ]; then ok; else
	fail "$got ticks in the moved file, $before before the move"; fi
GUA_NOW='' run "$GUA" report --db "$R/moved.db" --since 1h
expect_rc 0

t "mv of a file it may not write: left as it is, the ticks wait"
echo "notes, not a database" >"$R/notes"
cp "$R/notes" "$R/notes.orig"
mv "$R/notes" "$DB"
expect_wait has_line "$LOG" "tick not recorded: $DB: not a SQLite file"
sleep 0.3
expect_same "$DB" "$R/notes.orig"
expect_no_file "$DB-wal"
t "status: the file at the path is not the one the collector writes"
gua status --pid-file "$PF"
expect_rc 0
expect_out "warning    the database was replaced: the file at that path is not the one the collector writes"
gua status --pid-file "$PF" --json
expect_out '"database_state": "replaced"'
t "rm of that file: a new database takes the ticks that waited"
rm "$DB"
expect_wait has_line "$LOG" "ticks recorded again after"
expect_count "$LOG" "collector now writes $DB (new)" 3
t "... none was lost while they waited"
expect_count "$LOG" "none was lost" 1

t "stop: a clean exit, no WAL left beside the last database"
gua stop --pid-file "$PF"
expect_rc 0
expect_wait has_line "$LOG" "stopping on SIGTERM"
expect_no_file "$DB-wal"
expect_q "$DB" "PRAGMA integrity_check" ok

# status between the deletion and the collector's next tick: an hour
# away here, so what status sees does not race the collector.
t "status right after rm: the database was deleted, not \"all is well\""
rm -f "$DB" "$LOG"
gua daemon --nvml-library "$FAKE" --db "$DB" --pid-file "$PF" \
    --log-file "$LOG" --interval 1h
expect_rc 0
rm "$DB"
gua status --pid-file "$PF"
expect_rc 0
expect_out "warning    the database was deleted: the collector still writes the file that is gone"
gua status --pid-file "$PF" --json
expect_out '"database_state": "deleted"'
t "... and after mv: replaced"
GUA_NOW=$NOW "$GUA" demo --db "$R/other2.db" >/dev/null 2>&1
mv "$R/other2.db" "$DB"
gua status --pid-file "$PF" --json
expect_out '"database_state": "replaced"'
gua stop --pid-file "$PF"
expect_rc 0

finish_collector
