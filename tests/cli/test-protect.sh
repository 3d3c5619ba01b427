#!/bin/sh
# No output lands on a file the user recorded: report -o, backup OUT,
# import's NEW.db and the collector's textfile refuse the database being
# read or written, the files SQLite keeps beside it, and a collector's PID
# file and log, however the path is spelled (./x, sub/../x, a symbolic
# link, a hard link, an absolute path); exit 2, one line naming both
# paths, nothing changed.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/cli/collector-lib.sh
. "$HERE/collector-lib.sh"

P=$TMP/p
mkdir "$P" "$P/sub"
DB=$P/x.db
GUA_NOW=$NOW "$GUA" demo --db "$DB" >/dev/null 2>&1 || fail "demo failed"
make_original_db "$P/old.db"
ln -s x.db "$P/link.db"
ln "$DB" "$P/hard.db"
ln -s old.db "$P/oldlink.db"
cp "$DB" "$P/y.db"
cp "$DB" "$TMP/x.orig"
cp "$P/old.db" "$TMP/old.orig"
# The ways to write x.db: from inside $P, where every one names it.
SPELLINGS="x.db ./x.db sub/../x.db link.db hard.db $P/x.db $P//x.db"
listing() { ls -lAi --time-style=full-iso "$P" "$P/sub"; }
listing >"$TMP/ls.orig"
# in_p CMD...: runs gua in $P.
in_p() { (cd "$P" && "$GUA" "$@") >"$TMP/out" 2>"$TMP/err"; RC=$?; }
# refused WHAT: exit 2, one line (and the hint), the name given and the
# file kept named, nothing changed in $P.
refused() {
	expect_rc 2
	expect_err_lines 2
	expect_err "$1"
	expect_same "$DB" "$TMP/x.orig"
	expect_same "$P/old.db" "$TMP/old.orig"
	if listing | cmp -s - "$TMP/ls.orig"; then ok; else
		fail "$P changed: $(listing | diff "$TMP/ls.orig" - |
		    grep '^[<>]' | head -3 | tr '\n' ' ')"; fi
}

for s in $SPELLINGS; do
	t "report -o $s is refused: the database it reads"
	in_p report --db x.db -o "$s"
	refused "-o: $s would replace x.db, a database this report reads"
	t "backup OUT $s is refused: the database it copies"
	in_p backup --db x.db "$s"
	refused "OUT: $s would replace x.db, the database being copied"
done
for s in old.db ./old.db sub/../old.db oldlink.db "$P/old.db"; do
	t "import --db $s is refused: the database it imports"
	in_p import old.db --db "$s"
	refused "--db: $s would replace old.db, the database being imported"
done
t "... and the report's other databases, when there are several"
in_p report --db x.db --db y.db -o sub/../y.db
refused "-o: sub/../y.db would replace y.db, a database this report reads"

# The files beside a database, present or not: a -journal that appeared
# beside it would be rolled back into it.
for side in -wal -shm -journal; do
	t "report -o x.db$side is refused, though there is none"
	in_p report --db x.db -o "sub/../x.db$side"
	refused "-o: sub/../x.db$side would replace x.db$side, a file SQLite keeps beside a database this report reads"
	t "backup OUT x.db$side is refused"
	in_p backup --db x.db "./x.db$side"
	refused "beside the database being copied"
	t "import --db old.db$side is refused"
	in_p import old.db --db "old.db$side"
	refused "beside the database being imported"
done

t "report -o a new file beside them works, and leaves no temporary file"
in_p report --db x.db -o report.txt
expect_rc 0
expect_file "$P/report.txt"
if [ -n "$(tmp_left "$P")" ]; then fail "temporary file left"; else ok; fi
rm -f "$P/report.txt"

# Not only the files named: no output replaces any SQLite database, the
# files beside one, or a file a process holds a lock on.
cp "$DB" "$P/other.db"
: >"$P/other.db-wal"
cp "$P/other.db" "$TMP/other.orig"
listing >"$TMP/ls.orig"
t "report -o onto a database it does not read is refused"
in_p report --db x.db -o other.db
refused "-o: other.db is an SQLite database (a gua history?); refusing to write over it"
expect_same "$P/other.db" "$TMP/other.orig"
t "... and onto a file SQLite keeps beside one"
in_p report --db x.db -o other.db-wal
refused "-o: other.db-wal is a file SQLite keeps beside a database"
t "... and onto a directory"
in_p report --db x.db -o sub
refused "-o: sub: is a directory"
t "... and onto a file a process holds a lock on (a collector's PID file)"
echo 1234 >"$P/held.pid"
cp "$P/held.pid" "$TMP/held.orig"
listing >"$TMP/ls.orig"
# A POSIX lock, as a collector holds on its PID file and log; the marker
# says it is taken.
start HOLDER python3 -c 'import fcntl, sys, time
f = open(sys.argv[1], "r+")
fcntl.lockf(f, fcntl.LOCK_EX)
open(sys.argv[2], "w").close()
time.sleep(1000)' "$P/held.pid" "$TMP/held.marker"
if wait_until test -e "$TMP/held.marker"; then ok; else
	fail "no lock taken"; fi
in_p report --db x.db -o held.pid
refused "-o: held.pid is in use (process $HOLDER holds a lock on it"
expect_same "$P/held.pid" "$TMP/held.orig"
kill "$HOLDER" 2>/dev/null
wait "$HOLDER" 2>/dev/null

# A character device or a descriptor's name is written to, not replaced
# (a link or a FIFO at the name is replaced, never written through: see
# test-hostile).
# (Through /proc, not /dev/stdout: a gua that replaced the name would
# fail there, not replace the system's link.)
t "report -o /proc/self/fd/1 appends where the shell appends"
echo "first line" >"$TMP/all.txt"
(cd "$P" && "$GUA" report --db x.db -o /proc/self/fd/1 >>"$TMP/all.txt")
if [ "$(head -1 "$TMP/all.txt")" = "first line" ] &&
    sed -n 2p "$TMP/all.txt" | grep -q '^gua '; then ok; else
	fail "not appended: $(head -2 "$TMP/all.txt" | tr '\n' ' ')"; fi
t "... and /dev/fd/1 the same"
: >"$TMP/fd1.txt"
(cd "$P" && "$GUA" report --db x.db -o /dev/fd/1 >"$TMP/fd1.txt")
if grep -q '^gua ' "$TMP/fd1.txt"; then ok; else fail "nothing written"; fi
t "report -o another descriptor is refused: SQLite's files are on them"
: >"$TMP/seven"
(cd "$P" && "$GUA" report --db x.db -o /proc/self/fd/7 7>>"$TMP/seven") \
    >"$TMP/out" 2>"$TMP/err"
RC=$?
expect_rc 2
expect_err "-o: /proc/self/fd/7: in /dev or /proc only a character device, standard output or standard error is written"
if [ -s "$TMP/seven" ]; then fail "written to descriptor 7"; else ok; fi
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
	t "... but /dev/shm holds files like any directory"
	SHM=$(mktemp -d /dev/shm/gua-protect-XXXXXX)
	in_p report --db x.db -o "$SHM/r.txt"
	expect_rc 0
	if grep -q '^gua ' "$SHM/r.txt"; then ok; else fail "not written"; fi
	rm -rf "$SHM"
else
	t "report -o into /dev/shm"
	skip "no writable /dev/shm"
fi
t "report -o a name ending in / is bad usage"
in_p report --db x.db -o nodir/
expect_rc 2
expect_err "-o: nodir/: not a file name"
if [ "$(id -u)" -eq 0 ]; then
	t "report -o a character device writes to it and leaves it a device"
	mknod "$P/nul" c 1 3
	in_p report --db x.db -o nul
	expect_rc 0
	if [ -c "$P/nul" ]; then ok; else fail "the device was replaced"; fi
else
	t "report -o a character device"
	skip "needs root for mknod"
fi
rm -f "$P/nul" "$P/held.pid" "$P/other.db" "$P/other.db-wal"
listing >"$TMP/ls.orig"

# A running collector: its database (and what is beside it), its PID
# file and its log, through its PID file. The default PID file is the
# one every command reads, so the collector runs as a user whose
# defaults live in $TMP.
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null 2>&1 &&
    id nobody >/dev/null 2>&1; then
	chmod 755 "$TMP"
	U=$TMP/user
	mkdir -p "$U/run" "$U/state" "$U/home"
	chown -R nobody "$U"
	chmod 644 "$FAKE_NVML_SCENARIO"
	AS="setpriv --reuid=nobody --regid=$(id -g nobody) --clear-groups env
	    HOME=$U/home XDG_STATE_HOME=$U/state XDG_RUNTIME_DIR=$U/run"
	# Stopped however the test ends: the usual cleanup finds only the
	# PID files just under $TMP.
	trap 'run $AS "$GUA" stop; cleanup' EXIT
	start SLEEP sleep 1000
	scenario <<EOF
tick 0
util 0 50
proc 0 $SLEEP 2000
EOF
	run $AS "$GUA" daemon --nvml-library "$FAKE" --interval 100ms
	t "a collector with the default files runs"
	expect_rc 0
	CDB=$U/state/gua/gua.db
	CLOG=$U/state/gua/gua.log
	CPF=$U/run/gua.pid
	expect_file "$CDB"
	expect_file "$CPF"
	expect_wait test -e "$CDB-wal"
	cp "$CPF" "$TMP/pid.orig"
	cp "$CLOG" "$TMP/log.orig"
	(cd "$U" && ln -s state/gua/gua.log loglink)
	# victim FILE WHAT: FILE is refused as report -o, backup OUT and
	# import --db, and was not touched (still the same file, and with
	# the same bytes unless the collector writes it).
	victim() {
		_sum=$(stat -L -c %i "$1")
		[ "${3:-}" = live ] || _sum="$_sum $(md5sum <"$1")"
		for _how in report backup import; do
			t "$_how onto the collector's $(basename "$1") ($2)"
			case $_how in
			report) run $AS "$GUA" report --db "$DB" -o "$1" ;;
			backup) run $AS "$GUA" backup --db "$DB" "$1" ;;
			import) run $AS "$GUA" import "$P/old.db" --db "$1" ;;
			esac
			expect_rc 2
			expect_err "would replace"
			expect_err "$2"
			_now=$(stat -L -c %i "$1")
			[ "${3:-}" = live ] || _now="$_now $(md5sum <"$1")"
			if [ "$_now" = "$_sum" ]; then ok; else
				fail "$1 changed"; fi
		done
	}
	chmod 755 "$P"
	chmod 644 "$P"/*.db
	victim "$CPF" "the collector's PID file"
	victim "$U/run/../run/gua.pid" "the collector's PID file"
	victim "$CLOG" "the collector's log"
	victim "$U/loglink" "the collector's log"
	victim "$CDB-wal" "a file SQLite keeps beside the database the collector writes" live
	t "a second collector's files, named by no default: its log is in use"
	run $AS "$GUA" daemon --nvml-library "$FAKE" --db "$U/third.db" \
	    --pid-file "$U/third.pid" --log-file "$U/third.log" \
	    --interval 100ms
	expect_rc 0
	for f in third.pid third.log; do
		t "report -o onto the second collector's $f"
		cp "$U/$f" "$TMP/$f.orig"
		run $AS "$GUA" report --db "$DB" -o "$U/$f"
		expect_rc 2
		expect_err "$U/$f is in use (process"
		expect_same "$U/$f" "$TMP/$f.orig"
	done
	t "report -o onto the second collector's database"
	run $AS "$GUA" report --db "$DB" -o "$U/third.db"
	expect_rc 2
	expect_err "$U/third.db is an SQLite database"
	run $AS "$GUA" stop --pid-file "$U/third.pid"
	t "report -o onto the database the collector writes"
	run $AS "$GUA" report --db "$DB" -o "$U/state/gua/../gua/gua.db"
	expect_rc 2
	expect_err "would replace $CDB, the database the collector writes"
	t "demo --db beside the collector's database is refused"
	run $AS "$GUA" demo --db "$U/state/gua/./gua.db-journal"
	expect_rc 2
	expect_err "would replace $CDB-journal, a file SQLite keeps beside the database the collector writes"
	expect_no_file "$CDB-journal"
	t "the textfile of a second collector may not land on the first's files"
	mkdir "$U/tf"
	chown nobody "$U/tf"
	ln -s "$CDB" "$U/tf/gua.prom"
	run $AS "$GUA" daemon --nvml-library "$FAKE" --db "$U/second.db" \
	    --pid-file "$U/second.pid" --log-file "$U/second.log" \
	    --textfile-dir "$U/tf"
	expect_rc 2
	expect_err "--textfile-dir: $U/tf/gua.prom would replace $CDB, the database the collector writes"
	expect_no_file "$U/second.db"
	expect_no_file "$U/second.pid"
	t "the collector still writes its database"
	run $AS "$GUA" status
	expect_rc 0
	expect_out "database   $CDB"
	expect_no_out "warning"
	run $AS "$GUA" stop
	expect_rc 0
else
	t "a running collector's files"
	skip "needs root, setpriv and a user nobody"
fi

finish_collector
