#!/bin/sh
# gua backup: a consistent copy of a database, also while another process
# writes it in WAL mode; the copy is a gua database that report reads.
. "$(dirname "$0")/lib.sh"

DB=$TMP/demo.db
GUA_NOW=$NOW "$GUA" demo --db "$DB" >/dev/null 2>&1 || fail "demo failed"
# The sample count of the report in $TMP/out; 0 for "(no samples …)".
samples() {
	s=$(sed -n 's/^  (\([0-9]*\) samples)$/\1/p' "$TMP/out")
	if [ -z "$s" ] && grep -q "no samples in window" "$TMP/out"; then s=0; fi
	echo "$s"
}

t "backup of a quiet database: same report, 0640, one file"
gua backup --db "$DB" "$TMP/copy.db"
expect_rc 0
expect_empty_out
expect_empty_err
GUA_NOW=$NOW run "$GUA" report --db "$DB" --format json
cp "$TMP/out" "$TMP/orig.json"
GUA_NOW=$NOW run "$GUA" report --db "$TMP/copy.db" --format json
expect_rc 0
expect_same "$TMP/out" "$TMP/orig.json"
if [ "$(stat -c %a "$TMP/copy.db")" = 640 ]; then ok; else
	fail "mode $(stat -c %a "$TMP/copy.db"), want 640"; fi
expect_no_file "$TMP/copy.db-wal"
expect_no_file "$TMP/copy.db-journal"
t "the copy passes SQLite's integrity check and keeps the schema marks"
if [ "$(sqlite3 "$TMP/copy.db" 'PRAGMA integrity_check')" = ok ]; then ok
else fail "integrity_check"; fi
SCHEMA=$(sed -n 's/^#define STORE_SCHEMA_VERSION[^0-9]*\([0-9]*\).*/\1/p' \
    "$HERE/../../src/store.h")
if [ "$(sqlite3 "$TMP/copy.db" 'PRAGMA application_id; PRAGMA user_version' |
    tr '\n' ' ')" = "1196769585 $SCHEMA " ]; then ok; else
	fail "application_id / user_version lost"; fi

t "backup never overwrites"
echo keep >"$TMP/exists.db"
gua backup --db "$DB" "$TMP/exists.db"
expect_rc 2
expect_err "exists.db: already exists"
expect_err_lines 2
if [ "$(cat "$TMP/exists.db")" = keep ]; then ok; else fail "overwritten"; fi
t "backup does not follow a symbolic link"
ln -s "$TMP/target.db" "$TMP/link.db"
gua backup --db "$DB" "$TMP/link.db"
expect_rc 2
expect_no_file "$TMP/target.db"
t "backup of a missing or foreign database"
gua backup --db "$TMP/missing.db" "$TMP/m.db"
expect_rc 2
expect_err "missing.db: no such file"
expect_no_file "$TMP/m.db"
echo "not a database" >"$TMP/text.db"
gua backup --db "$TMP/text.db" "$TMP/m.db"
expect_rc 2
expect_no_file "$TMP/m.db"
t "backup into a missing directory"
gua backup --db "$DB" "$TMP/no/such/dir.db"
expect_rc 1
expect_err "cannot create"
t "backup without OUT"
gua backup --db "$DB"
expect_rc 2
expect_err "missing OUT"
t "backup to - is refused, not a file named -"
(cd "$TMP" && run "$GUA" backup --db "$DB" - && echo "$RC" >"$TMP/rc")
RC=$(cat "$TMP/rc")
expect_rc 2
expect_err "OUT: a copy is a database file, not for standard output"
expect_no_file "$TMP/-"

# A writer in WAL mode: the demo commits 20000 ticks (60000 samples) per
# transaction, so a consistent copy holds a multiple of 60000 samples.
LIVE=$TMP/live.db
GUA_NOW=$NOW "$GUA" demo --db "$LIVE" --ticks 5000000 >/dev/null 2>&1 &
writer=$!
i=0
while [ ! -e "$LIVE-wal" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
t "the writer runs in WAL mode"
expect_file "$LIVE-wal"
taken=0
n=0
while [ $n -lt 4 ] && kill -0 "$writer" 2>/dev/null; do
	n=$((n + 1))
	t "backup $n while the writer writes"
	gua backup --db "$LIVE" "$TMP/live-$n.db"
	expect_rc 0
	kill -0 "$writer" 2>/dev/null && taken=$((taken + 1))
	if [ "$(sqlite3 "$TMP/live-$n.db" 'PRAGMA integrity_check')" = ok ]
	then ok; else fail "integrity_check of backup $n"; fi
	GUA_NOW=$NOW run "$GUA" report --db "$TMP/live-$n.db" --since 36500d
	expect_rc 0
	s=$(samples)
	if [ -n "$s" ] && [ $((s % 60000)) -eq 0 ]; then ok; else
		fail "backup $n holds '$s' samples: a torn transaction?"; fi
	sleep 0.5
done
kill "$writer" 2>/dev/null
wait "$writer" 2>/dev/null
t "backups were taken while the writer was writing"
if [ "$taken" -ge 2 ]; then ok; else fail "only $taken of them"; fi
t "the later backup holds at least as much as the earlier"
GUA_NOW=$NOW run "$GUA" report --db "$TMP/live-1.db" --since 36500d
first=$(samples)
GUA_NOW=$NOW run "$GUA" report --db "$TMP/live-$n.db" --since 36500d
last=$(samples)
if [ "${first:-x}" -le "${last:-0}" ] 2>/dev/null && [ "$last" -gt 0 ]
then ok; else fail "first $first, last $last"; fi

finish
