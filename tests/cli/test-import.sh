#!/bin/sh
# gua import: a database of the original tool (gpu-usage-audit 1.0), built
# here with sqlite3, converted; the report on the result must give the
# numbers the original's own formulas give on the old rows (computed here
# in SQL), and the old file must stay as it was.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"

if ! command -v sqlite3 >/dev/null 2>&1; then
	t "sqlite3 is needed to build databases in the original's format"
	fail "sqlite3 not found"
	finish
	exit 1
fi

SCHEMA="CREATE TABLE host(hostname TEXT NOT NULL, env_kind TEXT NOT NULL,
    driver_version TEXT, first_seen DATETIME, last_seen DATETIME);
CREATE TABLE gpu_sample(ts DATETIME NOT NULL, gpu_uuid TEXT NOT NULL,
    util_pct INTEGER NOT NULL);
CREATE TABLE proc_sample(ts DATETIME NOT NULL, gpu_uuid TEXT NOT NULL,
    pid INTEGER NOT NULL, mem_used_mb INTEGER NOT NULL, loginuid_user TEXT);
CREATE INDEX idx_gpu ON gpu_sample(gpu_uuid, ts);
CREATE INDEX idx_proc ON proc_sample(gpu_uuid, ts);"
A=GPU-1a2b3c4d-0000-4000-8000-00000000000a
B=GPU-2b3c4d5e-0000-4000-8000-00000000000b
C=GPU-3c4d5e6f-0000-4000-8000-00000000000c

# ts K: tick K of 30 s from 09:00:00.5, as Python's isoformat() writes it.
ts() {
	printf '2026-11-25T09:%02d:%02d.500000+00:00' $(($1 * 30 / 60)) \
	    $(($1 * 30 % 60))
}

# The rows of 20 ticks, in the order the original writes them. GPU A
# trains (alice), then holds memory idle, then is free, then frank holds
# it; B is held idle by bob, a process of unknown owner (50 MiB) and
# frank, whose one process is on A and B at once; C is busy with carol,
# then pid 400 is reused by dave, who holds 20 GiB idle; erin's pid 500
# comes, goes for two ticks and comes back: two processes.
rows() {
	k=0
	while [ $k -lt 20 ]; do
		s=$(ts $k)
		ua=0; [ $k -lt 10 ] && ua=2; [ $k -lt 5 ] && ua=80
		uc=1; [ $k -lt 10 ] && uc=50
		echo "INSERT INTO gpu_sample VALUES('$s','$A',$ua);"
		echo "INSERT INTO gpu_sample VALUES('$s','$B',3);"
		echo "INSERT INTO gpu_sample VALUES('$s','$C',$uc);"
		[ $k -lt 10 ] &&
		    echo "INSERT INTO proc_sample VALUES('$s','$A',100,5000,'alice');"
		[ $k -ge 15 ] &&
		    echo "INSERT INTO proc_sample VALUES('$s','$A',600,1000,'frank');"
		echo "INSERT INTO proc_sample VALUES('$s','$B',200,8000,'bob');"
		echo "INSERT INTO proc_sample VALUES('$s','$B',300,50,NULL);"
		[ $k -ge 15 ] &&
		    echo "INSERT INTO proc_sample VALUES('$s','$B',600,1000,'frank');"
		if [ $k -lt 10 ]; then
			echo "INSERT INTO proc_sample VALUES('$s','$C',400,500,'carol');"
		else
			echo "INSERT INTO proc_sample VALUES('$s','$C',400,20000,'dave');"
		fi
		case $k in 12|13|16|17|18)
			echo "INSERT INTO proc_sample VALUES('$s','$C',500,300,'erin');"
		esac
		k=$((k + 1))
	done
}

OLD=$TMP/old.db
{
	echo "$SCHEMA"
	echo "INSERT INTO host VALUES('lab-old', 'bare', '535.104.05',
	    '$(ts 0)', '$(ts 19)');"
	echo "BEGIN;"
	rows
	echo "COMMIT;"
} | sqlite3 "$OLD"
cp "$OLD" "$TMP/old.copy"
export GUA_NOW=2026-11-25T09:09:31Z

t "import converts the original's database"
gua import "$OLD" --db "$TMP/new.db"
expect_rc 0
expect_empty_err
expect_out "imported 20 ticks (2026-11-25T09:00:00Z to 2026-11-25T09:09:30Z, interval 30s) of 3 GPUs"
# alice, bob, the unknown one, frank, carol, dave, erin twice.
expect_out "and 8 processes"
expect_file "$TMP/new.db"

t "the old file is untouched, and nothing was left beside it"
expect_same "$OLD" "$TMP/old.copy"
expect_no_file "$OLD-wal"
expect_no_file "$OLD-shm"
expect_no_file "$OLD-journal"

gua report --db "$TMP/new.db" --since 1d --interval 30s
expect_rc 0
expect_empty_err
cp "$TMP/out" "$TMP/report"

# What the original computes (see its README): per (GPU, tick) held =
# the sum of its processes' memory; active util >= 10, idle-held held >
# 100, else truly idle.
q() { sqlite3 -separator ' ' "$OLD" "$1"; }
CLASS="SELECT g.gpu_uuid AS gpu, CASE WHEN g.util_pct >= 10 THEN 0
    WHEN coalesce((SELECT sum(p.mem_used_mb) FROM proc_sample p
    WHERE p.ts = g.ts AND p.gpu_uuid = g.gpu_uuid), 0) > 100 THEN 1
    ELSE 2 END AS k FROM gpu_sample g"

t "§1 shares and sample count are the original's"
q "SELECT sum(k = 0), sum(k = 1), sum(k = 2), count(*) FROM ($CLASS)" |
    awk '{ printf "  active       \342\226\210  %5.1f%%\n", 100 * $1 / $4
	   printf "  idle-held    \342\226\222  %5.1f%%\n", 100 * $2 / $4
	   printf "  truly-idle   \342\226\221  %5.1f%%\n", 100 * $3 / $4
	   printf "  (%d samples)\n", $4 }' >"$TMP/want1"
sed -n '/^§1/,/^§2/p' "$TMP/report" |
    grep -E '^  (active|idle-held|truly-idle)  .*%|samples\)$' |
    sed 's/       ← .*//' >"$TMP/got1"
if diff -u "$TMP/want1" "$TMP/got1" >&2; then ok; else fail "§1 differs"; fi

t "§2 idle-held and truly idle GPU-hours and GPUs are the original's, apart"
q "SELECT sum(k = 1), sum(k = 2), count(*), count(DISTINCT gpu) FROM ($CLASS)" |
    awk '{ printf "  ~%.2f GPU-hours idle-held, ~%.2f GPUs equivalently: held by processes and unused, the waste\n",
	   $1 * 30 / 3600, $1 / $3 * $4
	   printf "  ~%.2f GPU-hours truly idle, ~%.2f GPUs equivalently: held by nobody, free capacity\n",
	   $2 * 30 / 3600, $2 / $3 * $4 }' >"$TMP/want2"
grep 'GPU-hours ' "$TMP/report" >"$TMP/got2"
if diff -u "$TMP/want2" "$TMP/got2" >&2; then ok; else fail "§2 differs"; fi

t "§3 per GPU, in UUID order, is the original's"
q "SELECT gpu, sum(k = 0), sum(k = 1), sum(k = 2), count(*) FROM ($CLASS)
    GROUP BY gpu ORDER BY gpu" |
    awk '{ printf "  %-8s  active %5.1f%%  idle-held %5.1f%%  truly-idle %5.1f%%\n",
	   "GPU-" NR - 1, 100 * $2 / $5, 100 * $3 / $5, 100 * $4 / $5 }' \
    >"$TMP/want3"
grep '^  GPU-[0-9]' "$TMP/report" >"$TMP/got3"
if diff -u "$TMP/want3" "$TMP/got3" >&2; then ok; else fail "§3 differs"; fi

t "§4 GPU-hours and idle-held share per user are the original's"
# Per process row: idle-held when its GPU's util < 10 and its own memory
# > 100; GPU-hours = rows x interval; NULL users are "unknown".
q "SELECT coalesce(p.loginuid_user, 'unknown'), count(*),
    sum(g.util_pct < 10 AND p.mem_used_mb > 100) FROM proc_sample p
    JOIN gpu_sample g ON g.ts = p.ts AND g.gpu_uuid = p.gpu_uuid
    GROUP BY 1 ORDER BY 1" |
    awk '{ printf "%s %.2f %.1f%%\n", $1, $2 * 30 / 3600, 100 * $3 / $2 }' \
    >"$TMP/want4"
sed -n '/^§4/,/^§5/p' "$TMP/report" | awk '$2 ~ /^[0-9.]+$/ {
    print $1, $2, $4 }' | sort >"$TMP/got4"
if diff -u "$TMP/want4" "$TMP/got4" >&2; then ok; else fail "§4 differs"; fi

t "a reused PID is another process, and a PID that came back is too"
grep -E '^  dave +400 ' "$TMP/report" >/dev/null && ok || fail "no dave, pid 400"
n=$(grep -cE '^  erin +500 ' "$TMP/report")
[ "$n" -eq 2 ] && ok || fail "erin's pid 500 is $n sessions, want 2"
expect_out "gua — lab-old (bare, driver 535.104.05)"

t "rows stored out of time order give the same report"
{
	echo "$SCHEMA"
	echo "INSERT INTO host VALUES('lab-old', 'bare', '535.104.05',
	    '$(ts 0)', '$(ts 19)');"
	echo "BEGIN;"
	rows | sort -r
	echo "COMMIT;"
} | sqlite3 "$TMP/shuffled.db"
gua import "$TMP/shuffled.db" --db "$TMP/shuffled-new.db"
expect_rc 0
gua report --db "$TMP/shuffled-new.db" --since 1d
if cmp -s "$TMP/out" "$TMP/report"; then ok; else
	diff -u "$TMP/report" "$TMP/out" >&2
	fail "the report differs"; fi

t "timestamps without offset or fraction, a gap, and a WAL-mode file"
{
	echo "$SCHEMA"
	echo "PRAGMA journal_mode=WAL;"
	echo "INSERT INTO host VALUES('lab-naive', 'bare', NULL, NULL, NULL);"
	for m in 0 1 2 3 9; do
		s="2026-11-25 09:0$m:00"
		echo "INSERT INTO gpu_sample VALUES('$s', '$A', 0);"
		echo "INSERT INTO proc_sample VALUES('$s', '$A', 7, 900, 'ann');"
	done
} | sqlite3 "$TMP/naive.db" >/dev/null
cp "$TMP/naive.db" "$TMP/naive.copy"
gua import "$TMP/naive.db" --db "$TMP/naive-new.db"
expect_rc 0
expect_out "imported 5 ticks (2026-11-25T09:00:00Z to 2026-11-25T09:09:00Z, interval 1m)"
expect_same "$TMP/naive.db" "$TMP/naive.copy"
expect_no_file "$TMP/naive.db-wal"
expect_no_file "$TMP/naive.db-shm"
gua report --db "$TMP/naive-new.db" --since 1d
expect_out "idle-held    ▒  100.0%"
expect_out "driver unknown"
# Six minutes without a tick: the one after them counts one minute.
expect_out "~0.08 GPU-hours idle"
expect_out "coverage 47.5% of the window observed; 0:05:31"

t "an existing NEW.db is refused and left alone"
echo precious >"$TMP/taken.db"
gua import "$OLD" --db "$TMP/taken.db"
expect_rc 2
expect_err "already exists"
expect_err_lines 2
expect_empty_out
if [ "$(cat "$TMP/taken.db")" = precious ]; then ok; else
	fail "taken.db changed"; fi

# bad_old NAME WHAT: importing NAME fails with WHAT, exit 2, nothing made.
bad_old() {
	t "import of $1: $2"
	gua import "$TMP/$1" --db "$TMP/never.db"
	expect_rc 2
	expect_err "$2"
	expect_err_lines 2
	expect_empty_out
	expect_no_file "$TMP/never.db"
	expect_no_file "$TMP/never.db-wal"
}
# Missing, empty, random, a directory, another program's or a gua
# database as OLD.db, and every kind as NEW.db: test-baddb.sh.
sqlite3 "$TMP/nocol.db" "$(echo "$SCHEMA" | sed 's/util_pct/util/')"
bad_old nocol.db "(no such column: util_pct)"

t "an unreadable timestamp fails the import and leaves no file"
cp "$OLD" "$TMP/badts.db"
sqlite3 "$TMP/badts.db" "INSERT INTO gpu_sample VALUES('yesterday', '$A', 5)"
gua import "$TMP/badts.db" --db "$TMP/badts-new.db"
expect_rc 1
expect_err "a row with an unreadable time 'yesterday'"
expect_err_lines 1
expect_no_file "$TMP/badts-new.db"
expect_no_file "$TMP/badts-new.db-wal"

if [ -n "$(tmp_left "$TMP")" ]; then fail "temporary file left"; else ok; fi

t "a killed import's temporary NEW.db is removed by the next import"
dead=$(sleep 0 & wait $!; echo $!)
for f in "" -wal -shm; do
	echo partial >"$TMP/.again.db.gua-tmp-$dead$f"
done
gua import "$OLD" --db "$TMP/again.db"
expect_rc 0
expect_file "$TMP/again.db"
if [ -n "$(tmp_left "$TMP")" ]; then fail "$(tmp_left "$TMP")"
else ok; fi

t "an old file a crash left mid-transaction is refused, not read torn"
cp "$OLD" "$TMP/hot.db"
leave_hot_journal "$TMP/hot.db" "UPDATE gpu_sample SET ts = 'torn'"
expect_file "$TMP/hot.db-journal"
cp "$TMP/hot.db" "$TMP/hot.copy"
cp "$TMP/hot.db-journal" "$TMP/hot.journal.copy"
gua import "$TMP/hot.db" --db "$TMP/hot-new.db"
# A database that cannot be read as it is: a runtime failure, one line.
expect_rc 1
expect_err_lines 1
expect_err "an unfinished transaction left by a crash"
expect_no_file "$TMP/hot-new.db"
expect_same "$TMP/hot.db" "$TMP/hot.copy"
expect_same "$TMP/hot.db-journal" "$TMP/hot.journal.copy"

t "process memory no GPU has is unknown, with a warning"
# 2^50 MiB and INT64_MAX MiB: a damaged or hand-made row. Under the
# sanitizers an overflow on the way would abort the import.
{
	echo "$SCHEMA"
	echo "INSERT INTO host VALUES('h', 'bare', '560', '$(ts 0)', '$(ts 1)');"
	for k in 0 1; do
		echo "INSERT INTO gpu_sample VALUES('$(ts $k)', '$A', 0);"
		echo "INSERT INTO proc_sample VALUES('$(ts $k)', '$A', 10, 1125899906842624, 'big');"
		echo "INSERT INTO proc_sample VALUES('$(ts $k)', '$A', 11, 9223372036854775807, 'max');"
		echo "INSERT INTO proc_sample VALUES('$(ts $k)', '$A', 12, 4000, 'sane');"
		echo "INSERT INTO gpu_sample VALUES('$(ts $k)', '$B', 50);"
		echo "INSERT INTO proc_sample VALUES('$(ts $k)', '$B', 13, 9223372036854775807, 'max');"
	done
} | sqlite3 "$TMP/absurd.db"
gua import "$TMP/absurd.db" --db "$TMP/absurd-new.db"
expect_rc 0
expect_err "6 process rows had more than 1048576 MiB (1 TiB) of GPU memory, which no GPU has; recorded as unknown"
expect_err_lines 1
gua report --db "$TMP/absurd-new.db" --since 1d --format csv --table ticks
expect_rc 0
expect_out "10/big/?/unknown 11/max/?/unknown 12/sane/4000/idle_held"
# Held memory: what is known of it (4000 MiB at least) on A; on B, where
# no process's memory is known, unknown (an empty cell), not 0.
if [ "$(awk -F, -v g="$A" '$5 == g { print $9 }' "$TMP/out" | sort -u)" = 4000 ] &&
    [ "$(awk -F, -v g="$B" '$5 == g { print "[" $9 "]" }' "$TMP/out" | sort -u)" = "[]" ]
then ok; else fail "memory_held_mib: $(cut -d, -f5,9 "$TMP/out" | tr '\n' ' ')"; fi
gua report --db "$TMP/absurd-new.db" --since 1d --format json
expect_rc 0
expect_out '"user": "big"'
if grep -q '"peak_memory_mib": null' "$TMP/out" &&
    ! grep -q '"peak_memory_mib": [0-9]\{8,\}' "$TMP/out"; then ok; else
	fail "peak memory not null: $(grep -o '"peak_memory_mib":[^,]*' "$TMP/out" | tr '\n' ' ')"
fi

t "an original database with empty tables imports as no samples"
echo "$SCHEMA" | sqlite3 "$TMP/emptytables.db"
gua import "$TMP/emptytables.db" --db "$TMP/emptytables-new.db"
expect_rc 0
expect_empty_err
expect_out "it had no samples"
gua report --db "$TMP/emptytables-new.db" --since 1d
expect_rc 0
expect_out "(no samples in window)"

t "usage errors"
gua import --db "$TMP/x.db"
expect_rc 2
expect_err "give OLD.db"
gua import "$OLD"
expect_rc 2
expect_err "--db NEW.db is required"
gua import "$OLD" "$OLD" --db "$TMP/x.db"
expect_rc 2
expect_err "unexpected argument"
expect_no_file "$TMP/x.db"

finish
