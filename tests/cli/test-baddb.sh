#!/bin/sh
# Every command that takes a database, given every kind of bad one
# (missing, a directory, empty, random bytes, truncated, a bare header, a
# FIFO, another program's SQLite file, the original tool's, a newer gua's,
# a read-only file): one line and an exit status, and the file and its
# directory exactly as they were, no -wal, -shm or -journal beside it.
. "$(dirname "$0")/lib.sh"
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
		t "report --db $name: exit 2, one line, untouched"
		GUA_NOW=$NOW run "$GUA" report --db "$B/$name"
		refused "$name" 2 2 "$says"
		if [ "$name" = original.db ]; then
			expect_err "converted with 'gua import'"
		fi
		t "backup --db $name: exit 2, one line, no copy, untouched"
		gua backup --db "$B/$name" "$TMP/copy.db"
		refused "$name" 2 2 "$says"
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
		t "daemon --append --db $name: exit 1, one line, nothing left"
		gua daemon --append --nvml-library "$FAKE" --db "$B/$name" \
		    --pid-file "$TMP/run/gua.pid" --log-file "$TMP/run/gua.log"
		refused "$name" 1 1 "$says"
		if [ -z "$(ls -A "$TMP/run")" ]; then ok; else
			fail "left behind: $(ls -A "$TMP/run")"; fi
	fi

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

finish
