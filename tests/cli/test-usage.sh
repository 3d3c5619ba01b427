#!/bin/sh
# The command line: help, version, unknown commands and options, usage
# errors of every command, and the command a later build provides.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"

t "no command: overview on stderr, exit 2"
gua
expect_rc 2
expect_empty_out
expect_err "usage: gua COMMAND"

t "help lists every command"
gua help
expect_rc 0
for c in doctor daemon start status stop report demo import version help; do
	expect_out "  $c "
done

for c in doctor daemon start status stop report demo import version help; do
	t "$c --help"
	gua "$c" --help
	expect_rc 0
	expect_out "usage: gua $c"
	t "help $c"
	gua help "$c"
	expect_rc 0
	expect_out "usage: gua $c"
done

t "-h is --help"
gua report -h
expect_rc 0
expect_out "--since D"

t "version"
gua version
expect_rc 0
expect_out "gua 0."
t "--version"
gua --version
expect_rc 0
expect_out "gua 0."

t "the gpu-usage-audit name"
ln -s "$GUA" "$TMP/gpu-usage-audit"
run "$TMP/gpu-usage-audit" version
expect_rc 0
expect_out "gua 0."

t "unknown command"
gua frobnicate
expect_rc 2
expect_err "gua: unknown command 'frobnicate'"
expect_err "Try 'gua help'"
expect_err_lines 2

t "unknown command with control characters stays one line"
gua "$(printf 'x\033[2Jy\nz')"
expect_rc 2
expect_err "unknown command 'x\\x1B[2Jy\\nz'"
expect_err_lines 2

t "help for an unknown command"
gua help nope
expect_rc 2
expect_err "unknown command 'nope'"
expect_err "Try 'gua help' for the list of commands."
expect_err_lines 2

t "unknown long option"
gua report --bogus
expect_rc 2
expect_err "gua report: unknown option '--bogus'"
expect_err "Try 'gua report --help'"
expect_err_lines 2

t "unknown short option"
gua demo -x
expect_rc 2
expect_err "gua demo: unknown option '-x'"

t "option without its value"
gua report --since
expect_rc 2
expect_err "option '--since' needs a value"

t "flag given a value"
gua version --help=yes
expect_rc 2
expect_err "option '--help' takes no value"

t "stray argument"
gua version extra
expect_rc 2
expect_err "unexpected argument 'extra'"

# status follows LSB: bad usage is 4 ("unknown"), not 2.
t "status: unknown option is LSB 4"
gua status --bogus
expect_rc 4
expect_err "gua status: unknown option '--bogus'"
t "status: stray argument is LSB 4"
gua status extra
expect_rc 4
expect_err "unexpected argument 'extra'"

for c in daemon start stop doctor; do
	t "$c: unknown option"
	gua "$c" --bogus
	expect_rc 2
	expect_err "gua $c: unknown option '--bogus'"
	expect_err_lines 2
done
t "daemon: bad --interval"
gua daemon --interval 0s
expect_rc 2
expect_err "--interval"
t "stop: bad --timeout"
gua stop --timeout 1w
expect_rc 2
expect_err "--timeout"
# An option of one value given twice is refused, whatever the values,
# before anything is done: --gpu 0 --gpu 1 would otherwise mean GPU 1.
# twice CMD RC OPTION VALUE VALUE2
twice() {
	t "$1: $3 given twice is refused"
	gua "$1" "$3" "$4" "$3" "$5"
	expect_rc "$2"
	expect_err "gua $1: option '$3' given twice; it takes one value"
	expect_err_lines 2
	expect_empty_out
}
for c in daemon start; do
	twice $c 2 --db "$TMP/a.db" "$TMP/b.db"
	twice $c 2 --interval 1s 2s
	twice $c 2 --pid-file "$TMP/a.pid" "$TMP/b.pid"
	twice $c 2 --log-file "$TMP/a.log" "$TMP/b.log"
	twice $c 2 --nvml-library /x.so /y.so
	twice $c 2 --textfile-dir "$TMP" "$TMP"
done
twice status 4 --pid-file "$TMP/a.pid" "$TMP/b.pid"
twice stop 2 --pid-file "$TMP/a.pid" "$TMP/b.pid"
twice stop 2 --timeout 1s 2s
for o in --since --until --interval; do twice report 2 $o 1h 2h; done
twice report 2 --width 60 70
twice report 2 --gpu 0 1
twice report 2 --active-util 10 20
twice report 2 --held-mib 100 200
twice report 2 --format text text
twice report 2 --table gpus ticks
twice report 2 --output "$TMP/a.txt" "$TMP/b.txt"
t "report: -o and --output are one option"
gua report -o "$TMP/a.txt" --output "$TMP/b.txt"
expect_rc 2
expect_err "option '--output' given twice"
twice demo 2 --db "$TMP/a.db" "$TMP/b.db"
twice demo 2 --ticks 5 6
twice demo 2 --interval 1s 2s
twice doctor 2 --db "$TMP/a.db" "$TMP/b.db"
twice doctor 2 --pid-file "$TMP/a.pid" "$TMP/b.pid"
twice doctor 2 --nvml-library /x.so /y.so
twice import 2 --db "$TMP/a.db" "$TMP/b.db"
twice backup 2 --db "$TMP/a.db" "$TMP/b.db"
expect_no_file "$TMP/a.db"
expect_no_file "$TMP/b.db"
t "flags may repeat, and report's --db is one database per host"
gua demo --db "$TMP/one.db" --ticks 2 >/dev/null 2>&1
GUA_NOW='' run "$GUA" report --db "$TMP/one.db" --db "$TMP/missing.db"
expect_rc 2
expect_err "missing.db: no such file"
gua doctor --json --json --db "$TMP/none.db" --nvml-library /x.so
expect_rc 1
expect_out '"collector_can_run": false'

# What a command prints must reach its output: a full device fails it.
for args in "help" "version" "--version" "--help" "help report" \
    "report --help" "demo --help"; do
	t "gua $args > /dev/full: exit 1, write error, the reason"
	"$GUA" $args >/dev/full 2>"$TMP/err"
	RC=$?
	expect_rc 1
	expect_err "write error: No space left on device"
	expect_err_lines 1
done

# A path SQLite cannot open is refused up front, naming the limit, by
# every command that takes a database (and doctor does not say "yes").
long=$TMP/$(printf '%0500d' 0).db
for c in report daemon demo backup doctor; do
	t "$c: a --db path over SQLite's limit is refused, naming the limit"
	case $c in
	backup) gua backup --db "$long" "$TMP/copy.db" ;;
	doctor) gua doctor --db "$long" --nvml-library /x.so ;;
	*) gua "$c" --db "$long" ;;
	esac
	if [ $c = doctor ]; then
		expect_rc 1
		expect_out "fail  database"
		expect_out "path too long"
		expect_out "at most 480 bytes"
		expect_no_out "absent; the collector would create it"
	else
		expect_rc 2
		expect_err "path too long"
		expect_err "SQLite opens a database by a path of at most 480 bytes"
		expect_err_lines 2
	fi
done
t "import: a NEW.db path over SQLite's limit is refused, naming the limit"
make_original_db "$TMP/old.db"
gua import "$TMP/old.db" --db "$long"
expect_rc 2
expect_err "at most 480 bytes"

t "daemon: the same file twice"
gua daemon --db "$TMP/x" --log-file "$TMP/x"
expect_rc 2
expect_err "must be three different files"
expect_no_file "$TMP/x"
gua daemon --db "$TMP/x" --pid-file "$TMP/./x"
expect_rc 2
expect_err "must be three different files"
expect_no_file "$TMP/x"

finish
