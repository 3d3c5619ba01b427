#!/bin/sh
# gua backup: a consistent copy of a database, also while another process
# writes it in WAL mode; the copy is a gua database that report reads.
# shellcheck source=tests/cli/lib.sh
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

t "backup builds beside OUT and leaves no temporary file"
expect_no_file "$TMP/.copy.db.gua-tmp-"*
if [ -n "$(tmp_left "$TMP")" ]; then fail "temporary file left"; else ok; fi
t "a temporary file a dead backup left is removed; a live one's is kept"
start_dead() { sleep 0 & wait $!; echo $!; }
dead=$(start_dead)
for f in "" -wal -shm; do
	echo partial >"$TMP/.again.db.gua-tmp-$dead$f"
done
echo busy >"$TMP/.again.db.gua-tmp-$$"
sleep 1000 &
live=$!
echo busy >"$TMP/.again.db.gua-tmp-$live"
gua backup --db "$DB" "$TMP/again.db"
expect_rc 0
for f in "" -wal -shm; do
	expect_no_file "$TMP/.again.db.gua-tmp-$dead$f"
done
expect_file "$TMP/.again.db.gua-tmp-$live"
expect_file "$TMP/.again.db.gua-tmp-$$"
kill "$live"
wait "$live" 2>/dev/null
t "... and nobody else's temporary files go"
echo other >"$TMP/.other.db.gua-tmp-$dead"
echo other >"$TMP/.again.db.gua-tmp-${dead}x"
gua backup --db "$DB" "$TMP/again2.db"
expect_rc 0
expect_file "$TMP/.other.db.gua-tmp-$dead"
expect_file "$TMP/.again.db.gua-tmp-${dead}x"
rm -f "$TMP"/.*gua-tmp*

# A damaged tick: its packed row overwritten, as a bad disk block or an
# edit leaves it. The demo's processes keep their memory, which the
# ticks after it record as "as at the tick before".
t "a damaged tick: backup leaves it out, names its time, exits 0"
DMG=$TMP/damaged.db
cp "$DB" "$DMG"
sqlite3 "$DMG" "UPDATE ticks SET gpus = X'FFFFFFFF' WHERE id = 6"
when=$(sqlite3 "$DMG" "SELECT strftime('%Y-%m-%dT%H:%M:%SZ', ts_ms / 1000,
    'unixepoch') FROM ticks WHERE id = 6")
n=$(sqlite3 "$DMG" "SELECT count(*) FROM ticks")
cp "$DMG" "$TMP/damaged.orig"
gua backup --db "$DMG" "$TMP/dcopy.db"
expect_rc 0
expect_empty_out
expect_err "gua backup: warning: the tick of $when cannot be decoded (a damaged row): left out of the copy, a gap there"
expect_err "ticks kept with some process memory unknown"
expect_err "the copy lacks 1 damaged tick and is otherwise whole; the original was not changed"
expect_same "$DMG" "$TMP/damaged.orig"
t "the copy holds every other tick, and passes SQLite's check"
expect_q "$TMP/dcopy.db" "SELECT count(*) FROM ticks" $((n - 1))
expect_q "$TMP/dcopy.db" "SELECT count(*) FROM ticks WHERE id = 6" 0
expect_q "$TMP/dcopy.db" "PRAGMA integrity_check" ok
t "report reads the copy, tick by tick: that one time is a gap"
GUA_NOW=$NOW run "$GUA" report --db "$TMP/dcopy.db" --since 1d \
    --format csv --table ticks
expect_rc 0
if [ "$(tail -n +2 "$TMP/out" | wc -l)" -eq $(((n - 1) * 3)) ]; then ok
else fail "$(tail -n +2 "$TMP/out" | wc -l) rows"; fi
expect_no_out ",$when,"
t "the hour's rollups were summed again: they agree with the raw ticks"
# A window over whole hours reads rollups; --held-mib 99 (the same
# states for the demo's memory) reads the raw ticks.
GUA_NOW=2026-11-25T12:00:00Z run "$GUA" report --db "$TMP/dcopy.db" \
    --since 1d --format json
expect_rc 0
cp "$TMP/out" "$TMP/rollup.json"
GUA_NOW=2026-11-25T12:00:00Z run "$GUA" report --db "$TMP/dcopy.db" \
    --since 1d --held-mib 99 --format json
expect_rc 0
if "${PYTHON:-python3}" - "$TMP/rollup.json" "$TMP/out" <<'PYEOF'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
keep = ("samples", "unknown_samples", "active_gpu_hours",
        "idle_held_gpu_hours", "truly_idle_gpu_hours", "unknown_gpu_hours")
pick = lambda r: [{k: g[k] for k in keep} for g in r["gpus"]]
sys.exit(0 if pick(a) == pick(b) and pick(a)[0]["samples"] > 0 else 1)
PYEOF
then ok; else fail "rollups and raw ticks differ"; fi
t "the copy counts three samples fewer than the database before the damage"
GUA_NOW=2026-11-25T12:00:00Z run "$GUA" report --db "$DB" --since 1d \
    --format json
s_orig=$("${PYTHON:-python3}" -c 'import json, sys
print(sum(g["samples"] + g["unknown_samples"] for g in json.load(sys.stdin)["gpus"]))' <"$TMP/out")
GUA_NOW=2026-11-25T12:00:00Z run "$GUA" report --db "$TMP/dcopy.db" \
    --since 1d --format json
s_copy=$("${PYTHON:-python3}" -c 'import json, sys
print(sum(g["samples"] + g["unknown_samples"] for g in json.load(sys.stdin)["gpus"]))' <"$TMP/out")
if [ "$s_copy" -eq $((s_orig - 3)) ]; then ok; else
	fail "before $s_orig, copy $s_copy samples"; fi
t "... and keeps the utilization of the ticks after it"
GUA_NOW=2026-11-25T12:00:00Z run "$GUA" report --db "$TMP/dcopy.db" --since 1d
GUA_NOW=2026-11-25T12:00:00Z run "$GUA" report --db "$TMP/dcopy.db" --since 1d
expect_rc 0
expect_out "GPU-0     active  40.7%"

t "a tick damaged past decoding at the end of the history"
cp "$DB" "$TMP/dlast.db"
sqlite3 "$TMP/dlast.db" "UPDATE ticks SET gpus = X'01' WHERE id =
    (SELECT max(id) FROM ticks)"
gua backup --db "$TMP/dlast.db" "$TMP/dlast-copy.db"
expect_rc 0
expect_err "the copy lacks 1 damaged tick"
if grep -q "memory unknown" "$TMP/err"; then fail "$(cat "$TMP/err")"; else ok; fi
expect_q "$TMP/dlast-copy.db" "SELECT count(*) FROM ticks" $((n - 1))

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
