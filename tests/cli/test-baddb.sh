#!/bin/sh
# Every command that takes a database, given every kind of bad one
# (missing, a directory, empty, random bytes, truncated, a bare header, a
# FIFO, another program's SQLite file, the original tool's, a newer gua's,
# a read-only file): one line and an exit status, and the file and its
# directory exactly as they were, no -wal, -shm or -journal beside it.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/cli/collector-lib.sh
. "$HERE/collector-lib.sh"

if ! command -v sqlite3 >/dev/null 2>&1; then
	t "sqlite3 is needed to build the foreign databases"
	fail "sqlite3 not found"
	finish
	exit 1
fi
GUA_NOW=$NOW "$GUA" demo --db "$TMP/good.db" >/dev/null 2>&1 ||
    fail "demo failed"
B=$TMP/bad
make_bad_dbs "$TMP/good.db" "$B"
make_original_db "$TMP/old.db"	# for import's NEW.db cases
mkdir "$TMP/run"

# The exit status for a bad database, one rule for every command: 2 (bad
# usage, with the --help line) for a file that is no gua database at all,
# 1 (a runtime failure, one line) for a gua database that cannot be read
# as it is: a truncated one is damaged.
rc_of() { [ "$1" = truncated.db ] && echo 1 || echo 2; }

# refused NAME RC LINES SAYS: the command just run refused NAME.
refused() {
	expect_rc "$2"
	expect_err "$B/$1: $4"
	expect_err_lines "$3"
	expect_empty_out
	expect_untouched "$B" "$1"
}

for name in $BAD_DBS; do
	says=$(bad_db_says "$name")
	if [ "$name" = readonly.db ]; then
		# Reading a read-only database is fine; only writing is not.
		t "report reads a read-only database and leaves it"
		GUA_NOW=$NOW run "$GUA" report --db "$B/$name"
		expect_rc 0
		expect_out "(90 samples)"
		expect_untouched "$B" "$name"
		t "backup copies a read-only database and leaves it"
		gua backup --db "$B/$name" "$TMP/copy.db"
		expect_rc 0
		expect_untouched "$B" "$name"
		rm -f "$TMP/copy.db"
	else
		rc=$(rc_of "$name")
		t "report --db $name: exit $rc, one line, untouched"
		GUA_NOW=$NOW run "$GUA" report --db "$B/$name"
		refused "$name" "$rc" "$rc" "$says"
		if [ "$name" = original.db ]; then
			expect_err "converted with 'gua import'"
		fi
		t "backup --db $name: exit $rc, one line, no copy, untouched"
		gua backup --db "$B/$name" "$TMP/copy.db"
		refused "$name" "$rc" "$rc" "$says"
		expect_no_file "$TMP/copy.db"
	fi

	t "import $name: exit 2, one line, nothing made, untouched"
	case $name in
	truncated.db | newer.db | readonly.db)
		isays="already a gua database; there is nothing to import" ;;
	other.db) isays="not a gpu-usage-audit 1.0 database (no such table: host)" ;;
	original.db) isays="not a gpu-usage-audit 1.0 database (no such table: proc_sample)" ;;
	empty.db | header.db | random.db)
		isays="not a SQLite file, not a gpu-usage-audit 1.0 database" ;;
	*) isays=$says ;;
	esac
	gua import "$B/$name" --db "$TMP/new.db"
	refused "$name" 2 2 "$isays"
	expect_no_file "$TMP/new.db"

	if [ "$name" != missing.db ]; then
		t "import into an existing $name: exit 2, one line, untouched"
		gua import "$TMP/old.db" --db "$B/$name"
		refused "$name" 2 2 "already exists (import writes a new database"
	fi

	if [ "$name" != missing.db ]; then
		rc=$(rc_of "$name")
		[ "$name" = readonly.db ] && rc=1
		t "daemon --append --db $name: exit $rc, one line, nothing left"
		gua daemon --append --nvml-library "$FAKE" --db "$B/$name" \
		    --pid-file "$TMP/run/gua.pid" --log-file "$TMP/run/gua.log"
		refused "$name" "$rc" "$rc" "$says"
		if [ -z "$(ls -A "$TMP/run")" ]; then ok; else
			fail "left behind: $(ls -A "$TMP/run")"; fi
	fi

	rc=$(rc_of "$name")
	[ "$name" = readonly.db ] && rc=1
	t "compact --db $name: exit $rc, one line, untouched"
	gua compact --db "$B/$name" --keep-raw 1d
	refused "$name" "$rc" "$rc" "$says"

	t "doctor --db $name: exit 1, says why, untouched"
	gua doctor --nvml-library "$FAKE" --db "$B/$name" \
	    --pid-file "$TMP/run/gua.pid"
	if [ "$name" = missing.db ]; then
		expect_rc 0
		expect_out "ok    database    $B/$name: absent; the collector would create it"
	else
		expect_rc 1
		expect_out "fail  database    $B/$name: $says"
		expect_out "the collector would refuse it"
		expect_untouched "$B" "$name"
	fi
done

# ---- Readers never create a file beside a database they only read, and
# leave it byte for byte: whatever its header says of the journal mode
# (bytes 18 and 19, write and read version: 2 is WAL), and whatever lies
# beside it.
H=$TMP/hdr
for v in "1 1" "1 2" "2 1" "2 2" "3 2" "0 2" "2 3"; do
	set -- $v
	rm -rf "$H" "$H.orig"
	mkdir "$H"
	cp "$TMP/good.db" "$H/x.db"
	printf "\\$(printf %o "$1")\\$(printf %o "$2")" |
	    dd of="$H/x.db" bs=1 seek=18 conv=notrunc 2>/dev/null
	mkdir "$H.orig"
	cp -p "$H/x.db" "$H.orig/"
	mkdir "$H/dir.db"
	bad_listing "$H" >"$H.ls"
	t "header bytes 18,19 = $1,$2: report creates nothing beside the file"
	GUA_NOW=$NOW run "$GUA" report --db "$H/x.db"
	# 3 in byte 19 is a version SQLite cannot read: damaged, refused.
	if [ "$2" = 3 ]; then expect_rc 1; else expect_rc 0; fi
	expect_untouched "$H" x.db
	t "header bytes 18,19 = $1,$2: doctor and backup too"
	gua doctor --nvml-library "$FAKE" --db "$H/x.db" \
	    --pid-file "$TMP/run/gua.pid"
	expect_untouched "$H" x.db
	gua backup --db "$H/x.db" "$TMP/hdr-copy.db"
	rm -f "$TMP/hdr-copy.db"
	expect_untouched "$H" x.db
done

t "an empty -wal or a -shm alone beside the file: read, nothing created"
for side in -wal -shm; do
	rm -rf "$H" "$H.orig"
	mkdir "$H" "$H.orig"
	cp "$TMP/good.db" "$H/x.db"
	: >"$H/x.db$side"
	cp -p "$H/x.db" "$H.orig/"
	mkdir "$H/dir.db"
	bad_listing "$H" >"$H.ls"
	GUA_NOW=$NOW run "$GUA" report --db "$H/x.db"
	expect_rc 0
	expect_out "(90 samples)"
	expect_untouched "$H" x.db
done

t "a -wal with data but no -shm: refused, one line, nothing created"
rm -rf "$H" "$H.orig"
mkdir "$H" "$H.orig"
cp "$TMP/good.db" "$H/x.db"
printf 'ticks' >"$H/x.db-wal"
cp -p "$H/x.db" "$H.orig/"
mkdir "$H/dir.db"
bad_listing "$H" >"$H.ls"
GUA_NOW=$NOW run "$GUA" report --db "$H/x.db"
expect_rc 1
expect_err "$H/x.db: cannot open: a -wal beside it without its -shm"
expect_err_lines 1
expect_untouched "$H" x.db

# ---- Damage inside a gua database: a runtime failure (exit 1) that names
# the tick by its time and says how to recover; the collector refuses to
# resume the file.
cp "$TMP/good.db" "$TMP/damaged.db"
sqlite3 "$TMP/damaged.db" "UPDATE ticks SET gpus = x'ffffffffff' WHERE id = 10"
when=$(sqlite3 "$TMP/damaged.db" "SELECT strftime('%Y-%m-%dT%H:%M:%SZ', ts_ms / 1000, 'unixepoch') FROM ticks WHERE id = 10")
cp "$TMP/damaged.db" "$TMP/damaged.copy"
t "report of a damaged tick's hour: exit 1, the tick by its time, the way out"
GUA_NOW=$NOW run "$GUA" report --db "$TMP/damaged.db"
expect_rc 1
expect_err "gua report: $TMP/damaged.db: the tick of $when is damaged and cannot be read; 'gua backup --db $TMP/damaged.db OUT' copies it without the damaged ticks"
expect_err_lines 1
expect_empty_out
expect_same "$TMP/damaged.db" "$TMP/damaged.copy"
t "report over every format says the same"
for f in json csv html; do
	GUA_NOW=$NOW run "$GUA" report --db "$TMP/damaged.db" --format $f
	expect_rc 1
	expect_err "the tick of $when is damaged"
done
if [ "$(hostname)" = "$(sqlite3 "$TMP/damaged.db" "SELECT value FROM meta WHERE key = 'hostname'")" ]; then
	t "daemon --append refuses to resume a damaged database: exit 1"
	gua daemon --append --nvml-library "$FAKE" --db "$TMP/damaged.db" \
	    --pid-file "$TMP/run/gua.pid" --log-file "$TMP/run/gua.log"
	expect_rc 1
	expect_err "the tick of $when is damaged"
	expect_err "; refusing to append"
	expect_err_lines 1
	expect_same "$TMP/damaged.db" "$TMP/damaged.copy"
	if [ -z "$(ls -A "$TMP/run")" ]; then ok; else
		fail "left behind: $(ls -A "$TMP/run")"; fi
	t "doctor says the collector would refuse it"
	gua doctor --nvml-library "$FAKE" --db "$TMP/damaged.db" \
	    --pid-file "$TMP/run/gua.pid"
	expect_rc 1
	expect_out "the tick of $when is damaged"
fi
t "a page SQLite finds damaged: report exit 1, one line"
cp "$TMP/good.db" "$TMP/pages.db"
size=$(stat -c %s "$TMP/pages.db")
# The last page (a ticks page) overwritten with junk.
head -c 4096 /dev/urandom | dd of="$TMP/pages.db" bs=4096 \
    seek=$((size / 4096 - 1)) conv=notrunc 2>/dev/null
GUA_NOW=$NOW run "$GUA" report --db "$TMP/pages.db"
expect_rc 1
expect_err_lines 1

# ---- A database this user may not read is a runtime failure, not bad
# usage: one line, no pointer to --help.
t "an unreadable database: exit 1, one line"
cp "$TMP/good.db" "$TMP/secret.db"
chmod 000 "$TMP/secret.db"
if [ "$(id -u)" -ne 0 ]; then
	GUA_NOW=$NOW run "$GUA" report --db "$TMP/secret.db"
elif command -v setpriv >/dev/null 2>&1 && id nobody >/dev/null 2>&1; then
	chmod 755 "$TMP"
	GUA_NOW=$NOW run setpriv --reuid=nobody --regid="$(id -g nobody)" \
	    --clear-groups "$GUA" report --db "$TMP/secret.db"
else
	RC=1
	echo "gua report: $TMP/secret.db: Permission denied" >"$TMP/err"
	skip "root without setpriv cannot be refused a file"
fi
expect_rc 1
expect_err "$TMP/secret.db: Permission denied"
expect_err_lines 1

finish
