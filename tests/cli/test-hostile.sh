#!/bin/sh
# Hostile files: gua's defaults live in /tmp, where anyone can plant a
# name before gua creates it. In a directory WITHOUT the sticky bit (so
# the kernel's fs.protected_symlinks cannot hide a bug), symbolic links
# (to a file and to nowhere), hard links, FIFOs and directories are
# planted where gua would write: the PID file, the log, the database and
# the -wal, -shm and -journal SQLite opens beside it, backup's OUT,
# import's NEW.db, report -o and the Prometheus textfile. Whatever gua
# does, the file behind the planted name is never written, a dangling
# link's target never created, and created files are not world-readable.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/cli/collector-lib.sh
. "$HERE/collector-lib.sh"

H=$TMP/h
mkdir "$H"
chmod 0777 "$H"		# world-writable, no sticky bit
VICTIM=$TMP/victim
echo "precious: not gua's to write" >"$VICTIM"
cp "$VICTIM" "$TMP/victim.orig"
GUA_NOW=$NOW "$GUA" demo --db "$TMP/victim.db" >/dev/null 2>&1 ||
    fail "demo failed"
cp "$TMP/victim.db" "$TMP/victim.db.orig"
GUA_NOW=$NOW "$GUA" demo --db "$TMP/good.db" >/dev/null 2>&1
make_original_db "$TMP/old.db"
scenario <<EOF
tick 0
util 0 50
EOF
KINDS="symlink dangling hardlink fifo dir"

# plant KIND PATH [TARGET]: puts a hostile KIND at PATH, pointing to
# TARGET (the victim file by default).
plant() {
	rm -rf "$2"
	case $1 in
	symlink) ln -s "${3:-$VICTIM}" "$2" ;;
	dangling) ln -s "$TMP/nowhere" "$2" ;;
	hardlink) ln "${3:-$VICTIM}" "$2" ;;
	fifo) mkfifo "$2" ;;
	dir) mkdir "$2" ;;
	esac
}
# expect_victims: the files behind planted names are as they were, and a
# dangling link's target was not created.
expect_victims() {
	if cmp -s "$VICTIM" "$TMP/victim.orig" &&
	    cmp -s "$TMP/victim.db" "$TMP/victim.db.orig" &&
	    [ ! -e "$TMP/nowhere" ] && [ ! -e "$TMP/victim.db-wal" ] &&
	    [ ! -e "$TMP/victim.db-shm" ]; then ok
	else
		fail "written through a planted name: $(ls "$TMP" | tr '\n' ' ')"
	fi
}
# daemon ARGS: a background collector in H, bounded in time (a FIFO must
# not make it hang); it is stopped if it started.
daemon() {
	run timeout 20 "$GUA" daemon --nvml-library "$FAKE" --interval 50ms \
	    "$@"
	if [ "$RC" -eq 0 ]; then
		for _pf in "$H"/*.pid "$H"/other/*.pid; do
			[ -e "$_pf" ] && "$GUA" stop --pid-file "$_pf" >/dev/null
		done
	fi
}
clean() { rm -rf "${H:?}"/* "$TMP/nowhere"; }
is_textfile() { [ -f "$1" ] && [ ! -L "$1" ] && grep -q "^gua_" "$1"; }

for kind in $KINDS; do
	clean
	plant "$kind" "$H/gua.pid"
	t "a planted PID file ($kind): refused, nothing written through it"
	daemon --db "$H/gua.db" --pid-file "$H/gua.pid" --log-file "$H/gua.log"
	expect_rc 1
	expect_err_lines 1
	expect_victims
	expect_no_file "$H/gua.db"
	expect_no_file "$H/gua.log"

	clean
	plant "$kind" "$H/gua.log"
	t "a planted log ($kind): refused, nothing written through it"
	daemon --db "$H/gua.db" --pid-file "$H/gua.pid" --log-file "$H/gua.log"
	expect_rc 1
	expect_err_lines 1
	expect_victims
	expect_no_file "$H/gua.db"
	expect_no_file "$H/gua.pid"

	clean
	plant "$kind" "$H/gua.db" "$TMP/victim.db"
	t "a planted database ($kind): a new one is refused, saying what it is"
	daemon --db "$H/gua.db" --pid-file "$H/gua.pid" --log-file "$H/gua.log"
	# A directory, or a FIFO once opened, is no gua database: bad usage.
	case $kind in
	symlink | dangling)
		expect_rc 1
		expect_err "$H/gua.db: is a symbolic link; refusing to write through it" ;;
	hardlink) expect_rc 1; expect_err "$H/gua.db: database exists" ;;
	fifo) expect_rc 2; expect_err "$H/gua.db: not a regular file" ;;
	dir) expect_rc 2; expect_err "$H/gua.db: is a directory" ;;
	esac
	if [ "$kind" != hardlink ] && grep -q "use --append" "$TMP/err"; then
		fail "told to use --append: $(cat "$TMP/err")"; else ok; fi
	expect_victims
	t "a planted database ($kind): --append refuses it too"
	daemon --append --db "$H/gua.db" --pid-file "$H/gua.pid" \
	    --log-file "$H/gua.log"
	case $kind in
	fifo | dir) expect_rc 2; expect_err_lines 2 ;;
	*) expect_rc 1; expect_err_lines 1 ;;
	esac
	case $kind in
	symlink | dangling) expect_err "is a symbolic link" ;;
	hardlink) expect_err "has other hard links; refusing to write it" ;;
	fifo) expect_err "not a regular file" ;;
	dir) expect_err "is a directory" ;;
	esac
	expect_victims
	expect_no_file "$H/gua.pid"

	# SQLite's files beside a database that exists (ours) and beside
	# one the collector creates: refused, whatever they are.
	for side in -wal -shm -journal; do
		clean
		cp "$TMP/good.db" "$H/gua.db"
		plant "$kind" "$H/gua.db$side"
		t "a planted gua.db$side ($kind): --append refuses, writes nothing"
		daemon --append --db "$H/gua.db" --pid-file "$H/gua.pid" \
		    --log-file "$H/gua.log"
		expect_rc 1
		expect_err "$H/gua.db$side: "
		expect_err_lines 1
		expect_victims
		t "a planted gua.db$side ($kind): a report refuses, writes nothing"
		GUA_NOW=$NOW run timeout 20 "$GUA" report --db "$H/gua.db"
		# The database is gua's; it cannot be read safely as it is.
		expect_rc 1
		expect_err_lines 1
		expect_err "$H/gua.db$side: "
		expect_victims
		clean
		plant "$kind" "$H/new.db$side"
		t "a planted new.db$side ($kind): creating refuses, writes nothing"
		daemon --db "$H/new.db" --pid-file "$H/gua.pid" \
		    --log-file "$H/gua.log"
		expect_rc 1
		expect_err "$H/new.db$side: "
		expect_err_lines 1
		expect_victims
		expect_no_file "$H/new.db"
	done

	clean
	plant "$kind" "$H/out.db"
	t "a planted backup OUT ($kind): refused, nothing written through it"
	gua backup --db "$TMP/good.db" "$H/out.db"
	expect_rc 2
	expect_err "$H/out.db: already exists"
	expect_victims
	for side in -wal -shm -journal; do
		clean
		plant "$kind" "$H/out.db$side"
		t "a planted out.db$side ($kind): backup refuses, writes nothing"
		gua backup --db "$TMP/good.db" "$H/out.db"
		expect_rc 2
		expect_err "$H/out.db$side: already exists"
		expect_victims
		expect_no_file "$H/out.db"
	done

	clean
	plant "$kind" "$H/new.db" "$TMP/victim.db"
	t "a planted import NEW.db ($kind): refused, nothing written through it"
	gua import "$TMP/old.db" --db "$H/new.db"
	expect_rc 2
	expect_err "$H/new.db: already exists"
	expect_victims

	clean
	plant "$kind" "$H/report.txt"
	t "a planted report -o FILE ($kind): replaced, never written through"
	GUA_NOW=$NOW run timeout 20 "$GUA" report --db "$TMP/good.db" \
	    -o "$H/report.txt"
	if [ "$kind" = dir ]; then
		expect_rc 2
		expect_err "-o: $H/report.txt: is a directory"
	else
		expect_rc 0
		if [ -f "$H/report.txt" ] && [ ! -L "$H/report.txt" ] &&
		    grep -q "(90 samples)" "$H/report.txt"; then ok; else
			fail "report.txt is not the report"; fi
	fi
	expect_victims
	if [ -n "$(tmp_left "$H")" ]; then fail "temporary file left"; else
		ok; fi

	clean
	mkdir "$H/tf"
	plant "$kind" "$H/tf/gua.prom"
	t "a planted textfile ($kind): replaced, never written through"
	start TFD timeout 20 "$GUA" daemon --foreground --nvml-library "$FAKE" \
	    --interval 50ms --db "$H/tf.db" --pid-file "$H/tf.pid" \
	    --textfile-dir "$H/tf" >/dev/null 2>"$TMP/tf.err"
	if [ "$kind" = dir ]; then
		expect_wait has_line "$TMP/tf.err" \
		    "--textfile-dir: $H/tf/gua.prom: is a directory"
	else
		# Only once a regular file: reading a FIFO would hang.
		if wait_until is_textfile "$H/tf/gua.prom"; then ok; else
			fail "gua.prom is not the textfile"; fi
	fi
	kill -TERM "$TFD" 2>/dev/null
	wait "$TFD"
	expect_victims
	# A clean stop removes the collector's own file, never the planted
	# directory it could not replace.
	if [ "$kind" != dir ]; then
		expect_no_file "$H/tf/gua.prom"
	elif [ -d "$H/tf/gua.prom" ] && [ ! -L "$H/tf/gua.prom" ]; then ok
	else fail "the planted directory is gone"; fi
done

# A file another user owns, where gua would write: refused (root can
# chown one into place; for other users the kernel forbids it anyway).
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
	for f in gua.pid gua.log gua.db gua.db-wal gua.db-shm; do
		clean
		case $f in gua.db*) cp "$TMP/good.db" "$H/gua.db" ;; esac
		[ "$f" = gua.db ] || : >"$H/$f"
		chown nobody "$H/$f"
		cp "$H/$f" "$TMP/owned.orig"
		t "$f owned by another user: refused, left as it was"
		daemon --append --db "$H/gua.db" --pid-file "$H/gua.pid" \
		    --log-file "$H/gua.log"
		expect_rc 1
		expect_err "$H/$f: "
		expect_same "$H/$f" "$TMP/owned.orig"
	done
else
	t "files owned by another user"
	skip "needs root to give a file to another user"
fi

# What gua creates is its own and not world-readable, whatever the umask.
for mask in 022 000; do
	clean
	t "files created under umask $mask are 0640 (the report -o file: 0666 less the umask)"
	(
		umask $mask
		"$GUA" daemon --nvml-library "$FAKE" --interval 50ms \
		    --db "$H/gua.db" --pid-file "$H/gua.pid" \
		    --log-file "$H/gua.log" >/dev/null 2>&1
		"$GUA" backup --db "$H/gua.db" "$H/copy.db"
		"$GUA" import "$TMP/old.db" --db "$H/imported.db" >/dev/null
		GUA_NOW=$NOW "$GUA" report --db "$TMP/good.db" -o "$H/r.txt"
	)
	got=$(stat -c '%n %a' "$H/gua.db" "$H/gua.db-wal" "$H/gua.db-shm" \
	    "$H/gua.pid" "$H/gua.log" "$H/copy.db" "$H/imported.db" \
	    "$H/r.txt" 2>&1 | sed "s|$H/||" | tr '\n' ' ')
	want="gua.db 640 gua.db-wal 640 gua.db-shm 640 gua.pid 640 gua.log 640 copy.db 640 imported.db 640 r.txt $(printf '%o' $((0666 & ~0$mask))) "
	if [ "$got" = "$want" ]; then ok; else fail "got '$got', want '$want'"; fi
	"$GUA" stop --pid-file "$H/gua.pid" >/dev/null
done

finish_collector
