#!/bin/sh
# Notifications: gua daemon --notify-after D --notify-exec PROG
# [--notify-repeat D2] runs PROG when a real process, idle-held on the
# fake NVML, has been so for D without a break, again every D2, never for
# a holder that computes before D, afresh after a streak ended; with the
# GUA_* environment of gua(1) and nothing else of the collector's; a
# hanging hook is killed after 10 s while ticks go on, at most four run
# at once, a failing one is logged once; hostile command lines reach the
# shipped hooks (contrib/notify, with stubs for write, who, sendmail and
# curl) escaped, and inject nothing; a background collector (as nobody
# when run as root) runs its hook as its own user, in /, output in its
# log. The current streak is in the textfile, promtool-clean.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/cli/collector-lib.sh
. "$HERE/collector-lib.sh"

CONTRIB=$(cd "$HERE/../../contrib/notify" && pwd)
N=$TMP/n
mkdir "$N" "$N/runs" "$N/tf" "$N/stub"

# The test's own hook: each run leaves its environment, stdin, signal
# state and descriptors in runs/SEQ (SEQ from mkdir, atomic), and says a
# line on stdout, which goes to the collector's log.
cat >"$N/hook" <<EOF
#!/bin/sh
i=0
while ! mkdir "$N/runs/\$i.d" 2>/dev/null; do i=\$((i + 1)); done
{
	env
	echo "STDIN=\$(readlink /proc/self/fd/0)"
	# The shell's own masks, the process gua started, read by the
	# shell itself.
	while IFS=': 	' read -r k v; do
		case \$k in SigBlk | SigIgn) echo "\$k=\$v" ;; esac
	done </proc/\$\$/status
	echo "FDS=\$(ls /proc/self/fd | tr '\n' ' ')"
	echo "PGRP=\$(ps -o pgid= -p \$\$ | tr -d ' ')"
} >"$N/runs/\$i.tmp"
mv "$N/runs/\$i.tmp" "$N/runs/\$i"
echo "hook output for \$GUA_PID"
EOF
chmod +x "$N/hook"

runs() { find "$N/runs" -maxdepth 1 -type f ! -name '*.tmp' | wc -l; }
runs_at_least() { [ "$(runs)" -ge "$1" ]; }
# var RUN NAME: a variable of run RUN's environment.
var() { sed -n "s/^$2=//p" "$N/runs/$1" | head -1; }
# idle_of_runs: GUA_IDLE_SECONDS of every run, in run order.
idle_of_runs() {
	_i=0
	while [ -f "$N/runs/$_i" ]; do
		var "$_i" GUA_IDLE_SECONDS
		_i=$((_i + 1))
	done | tr '\n' ' '
}
reset_runs() { rm -rf "$N/runs"; mkdir "$N/runs"; }
streak_of() {
	grep "^gua_process_idle_held_streak_seconds{.*pid=\"$1\"}" \
	    "$N/tf/gua.prom" 2>/dev/null | awk '{ print $2 }'
}
streak_at_least() {
	_s=$(streak_of "$1")
	[ -n "$_s" ] && awk -v s="$_s" -v w="$2" 'BEGIN { exit !(s >= w) }'
}

# notify_start NAME [options]: a foreground collector at 100 ms with the
# textfile and its log in NAME.log; NAME.db its database.
notify_start() {
	_name=$1
	shift
	rm -f "$N/$_name.db" "$N/$_name.log"
	start COL "$GUA" daemon --foreground --nvml-library "$FAKE" \
	    --db "$N/$_name.db" --pid-file "$N/$_name.pid" \
	    --log-file "$N/$_name.log" --interval 100ms \
	    --textfile-dir "$N/tf" "$@" >"$N/$_name.out" 2>"$N/$_name.err"
	LOG=$N/$_name.log
	DB=$N/$_name.db
	# Started (the first tick is written) before anyone opens it.
	wait_until test -s "$DB"
}
notify_stop() {
	kill -TERM "$COL" 2>/dev/null
	wait "$COL"
	RC=$?
	[ "$RC" -eq 0 ] || cat "$N/$_name.err" "$LOG" >&2
	# Under SANITIZE=1, a report of ASan, UBSan or LeakSanitizer.
	if grep -q 'Sanitizer\|runtime error' "$N/$_name.err" "$LOG"; then
		fail "sanitizer: $(grep -h -m3 'Sanitizer\|runtime error' \
		    "$N/$_name.err" "$LOG")"
	fi
}

start HOLDER sleep 1000
scenario <<EOF
gpu 0 uuid=GPU-notify0 name=Notebook
tick 0
util 0 0
proc 0 $HOLDER 12000
EOF

t "bad notification options are refused at start, one line, exit 2"
for args in "--notify-exec $N/hook" "--notify-after 1s" \
    "--notify-repeat 1s" "--notify-repeat 1s --notify-after 1s" \
    "--notify-after 0s --notify-exec $N/hook" \
    "--notify-after soon --notify-exec $N/hook" \
    "--notify-after 1s --notify-exec $N/hook --notify-repeat 0ms" \
    "--notify-after 1s --notify-exec $N/missing" \
    "--notify-after 1s --notify-exec $N" \
    "--notify-after 1s --notify-exec $N/hook.noexec"; do
	: >"$N/hook.noexec"
	chmod 0644 "$N/hook.noexec"
	# shellcheck disable=SC2086 # the options are words
	run "$GUA" daemon --foreground --nvml-library "$FAKE" \
	    --db "$N/bad.db" --pid-file "$N/bad.pid" $args
	expect_rc 2
	expect_err_lines 2
	expect_err "Try"
	expect_no_file "$N/bad.db"
done
expect_err "not executable"
t "one of --notify-exec and --notify-after alone: the error names the other"
run "$GUA" daemon --foreground --nvml-library "$FAKE" --db "$N/bad.db" \
    --pid-file "$N/bad.pid" --notify-after 1h
expect_rc 2
expect_err "--notify-after needs --notify-exec"
run "$GUA" daemon --foreground --nvml-library "$FAKE" --db "$N/bad.db" \
    --pid-file "$N/bad.pid" --notify-exec /bin/true
expect_rc 2
expect_err "--notify-exec needs --notify-after"
expect_no_file "$N/bad.db"

# As root the hook runs as root: whoever may change it must not be able
# to. (As another user a hook runs as that user; nothing to refuse.)
t "as root: a hook others may change is refused, one line, exit 2"
if [ "$(id -u)" -ne 0 ]; then
	skip "needs root (the collector runs its hook as root)"
else
	mkdir -p "$N/open" "$N/theirs" "$N/ok"
	cp "$N/hook" "$N/open/hook"
	chmod g+w "$N/open/hook"
	cp "$N/hook" "$N/theirs/hook"
	chown nobody "$N/theirs"
	cp "$N/hook" "$N/ok/hook"
	ln -s "$N/theirs/hook" "$N/ok/link"
	for h in "$N/open/hook" "$N/theirs/hook" "$N/ok/link"; do
		run "$GUA" daemon --foreground --nvml-library "$FAKE" \
		    --db "$N/bad.db" --pid-file "$N/bad.pid" \
		    --notify-after 1s --notify-exec "$h"
		expect_rc 2
		expect_err_lines 2
		expect_err "run as root"
		expect_no_file "$N/bad.db"
	done
	expect_err "$N/theirs must be root's"
fi

t "no hook before D, exactly one at D without --notify-repeat"
SECRET_TOKEN=hunter2 GUA_HOOK_GREETING='hi there' TZ=UTC \
    notify_start thr --notify-after 1s --notify-exec "$N/hook"
expect_wait streak_at_least "$HOLDER" 3
# The textfile as it was (a clean stop removes it).
cp "$N/tf/gua.prom" "$N/thr.prom"
notify_stop
expect_rc 0
if [ "$(runs)" -eq 1 ]; then ok; else fail "$(runs) runs, want 1"; fi
# A span is at most two intervals: the first run saw 1 s to 1.2 s.
expect_eq "$(var 0 GUA_IDLE_SECONDS)" 1
expect_count "$LOG" "notify hook $N/hook started for PID $HOLDER on GPU-0" 1

t "the environment contract"
expect_eq "$(var 0 GUA_HOST)" "$(hostname)"
expect_eq "$(var 0 GUA_GPU)" GPU-0
expect_eq "$(var 0 GUA_GPU_UUID)" GPU-notify0
expect_eq "$(var 0 GUA_PID)" "$HOLDER"
expect_eq "$(var 0 GUA_USER)" "$(user_of "$HOLDER")"
expect_eq "$(var 0 GUA_UID)" "$(stat -c %u "/proc/$HOLDER")"
expect_eq "$(var 0 GUA_COMMAND)" "sleep 1000"
expect_eq "$(var 0 GUA_MEMORY_MIB)" 12000
if grep -q '^GUA_WHERE=' "$N/runs/0"; then ok; else fail "no GUA_WHERE"; fi
t "only PATH, HOME, TMPDIR, TZ, the locale and GUA_HOOK_* of the collector's"
expect_eq "$(var 0 GUA_HOOK_GREETING)" "hi there"
expect_eq "$(var 0 TZ)" UTC
expect_eq "$(var 0 PATH)" "$PATH"
if grep -q '^SECRET_TOKEN=' "$N/runs/0"; then fail "leaked"; else ok; fi
if grep -q '^FAKE_NVML_SCENARIO=' "$N/runs/0"; then fail "leaked"; else ok; fi
# Everything the hook saw is one of those (PWD and SHLVL are its shell's).
extra=$(sed -n 's/=.*//p' "$N/runs/0" | grep -vxE 'GUA_(HOST|GPU|GPU_UUID|PID|USER|UID|COMMAND|MEMORY_MIB|IDLE_SECONDS|WHERE|HOOK_[A-Z_]*)|PATH|HOME|TMPDIR|TZ|LANG|LC_[A-Z]*|PWD|SHLVL|_|OLDPWD|STDIN|SigBlk|SigIgn|FDS|PGRP' | tr '\n' ' ')
expect_eq "$extra" ""
t "stdin /dev/null, no signal blocked or ignored, no descriptor but 0-2"
expect_eq "$(var 0 STDIN)" /dev/null
# Signals 32 and 33 are glibc's own (thread cancellation and set*id
# across threads): no program can block or ignore them through glibc, and
# under load a hook's shell has been seen with them blocked; the rest
# must be clear.
app_bits() { printf '%016x' $((0x$1 & ~0x180000000)); }
expect_eq "$(app_bits "$(var 0 SigBlk)")" 0000000000000000
expect_eq "$(app_bits "$(var 0 SigIgn)")" 0000000000000000
# ls's own directory descriptor is the one more.
expect_eq "$(var 0 FDS)" "0 1 2 3 "
t "the hook has a process group of its own; its output is in the log"
pg=$(var 0 PGRP)
if [ -n "$pg" ] && [ "$pg" != "$(ps -o pgid= -p $$ | tr -d ' ')" ]; then ok
else fail "process group $pg"; fi
expect_text "$LOG" "hook output for $HOLDER"

t "the textfile's current streak: promtool-clean, the recorded idle time"
P=$N/thr.prom
expect_count "$P" "# TYPE gua_process_idle_held_streak_seconds gauge" 1
expect_count "$P" "gua_process_idle_held_streak_seconds{gpu=\"0\",uuid=\"GPU-notify0\",user=\"$(user_of "$HOLDER")\",pid=\"$HOLDER\"} " 1
# The holder was idle-held at every tick: its streak is all the GPU's
# idle-held time, in the same file.
held=$(grep '^gua_gpu_state_seconds_total{gpu="0",.*state="idle_held"}' "$P" |
    awk '{ print $2 }')
streak=$(grep '^gua_process_idle_held_streak_seconds{' "$P" | awk '{ print $2 }')
if [ -n "$held" ] && [ "$held" = "$streak" ]; then ok; else
	fail "streak '$streak', idle-held '$held'"; fi
if need promtool prometheus; then
	if promtool check metrics <"$P" >"$TMP/promtool" 2>&1; then ok; else
		fail "$(cat "$TMP/promtool")"; fi
fi

t "--notify-repeat: again every D2 while the streak lasts"
reset_runs
notify_start rep --notify-after 1s --notify-repeat 1s --notify-exec "$N/hook"
expect_wait runs_at_least 3
notify_stop
expect_eq "$(idle_of_runs | cut -d' ' -f1-3)" "1 2 3"

t "a holder that computes before D is never notified"
reset_runs
start BUSY sleep 1002
# At most 5 idle ticks of at most 200 ms each: 1 s < D.
scenario <<EOF
gpu 0 uuid=GPU-notify0
tick 0
util 0 0
proc 0 $BUSY 12000
tick 5
util 0 90
proc 0 $BUSY 12000 sm=90
EOF
notify_start busy --notify-after 2s --notify-exec "$N/hook"
expect_wait ticks_at_least "$N/busy.db" 40
expect_eq "$(streak_of "$BUSY")" ""
expect_text "$N/tf/gua.prom" "# TYPE gua_process_idle_held_streak_seconds gauge"
notify_stop
expect_eq "$(runs)" 0

t "a streak ends when the holder computes; idle again, it starts over"
reset_runs
scenario <<EOF
gpu 0 uuid=GPU-notify0
tick 0
util 0 0
proc 0 $HOLDER 12000
tick 30
util 0 90
proc 0 $HOLDER 12000 sm=90
tick 40
util 0 0
proc 0 $HOLDER 12000
EOF
notify_start again --notify-after 1s --notify-exec "$N/hook"
expect_wait runs_at_least 2
notify_stop
expect_eq "$(idle_of_runs)" "1 1 "
expect_eq "$(var 1 GUA_PID)" "$HOLDER"

t "a failing hook is logged once and collection goes on"
reset_runs
cat >"$N/fails" <<EOF
#!/bin/sh
"$N/hook"
exit 3
EOF
chmod +x "$N/fails"
scenario <<EOF
gpu 0 uuid=GPU-notify0
tick 0
util 0 0
proc 0 $HOLDER 12000
EOF
notify_start fail --notify-after 200ms --notify-repeat 200ms \
    --notify-exec "$N/fails"
expect_wait runs_at_least 4
before=$(q "$DB" 'SELECT count(*) FROM ticks')
expect_wait ticks_at_least "$DB" $((before + 5))
expect_count "$LOG" "exited with status 3" 1
expect_count "$LOG" "warning: notify hook $N/fails" 1
t "a hook that succeeds again says so, once"
printf '#!/bin/sh\nexit 0\n' >"$N/fails.new"
chmod +x "$N/fails.new"
mv -f "$N/fails.new" "$N/fails"
expect_wait has_line "$LOG" "notify hook succeeded again after"
notify_stop
expect_rc 0
# One warning for the whole burst before the success. (A run of the old
# program still going when the new one succeeded may end after it: a
# new failure, rightly logged, so lines after the success do not count.)
sed '/notify hook succeeded again after/q' "$LOG" >"$N/burst.log"
expect_count "$N/burst.log" "warning: notify hook $N/fails" 1
expect_count "$N/burst.log" "notify hook succeeded again after" 1

t "a program that can no longer be run is logged once, and collection goes on"
reset_runs
# Its first run succeeds and puts a file that cannot be run in its place
# (atomically: a run that started meanwhile succeeds too).
cat >"$N/self" <<EOF
#!/bin/sh
"$N/hook"
cp "$N/hook.noexec" "$N/self.\$\$"
mv -f "$N/self.\$\$" "$N/self"
EOF
chmod 0755 "$N/self"
notify_start gone --notify-after 200ms --notify-repeat 200ms \
    --notify-exec "$N/self"
expect_wait runs_at_least 1
before=$(q "$DB" 'SELECT count(*) FROM ticks')
expect_wait ticks_at_least "$DB" $((before + 10))
notify_stop
expect_rc 0
if [ "$(runs)" -ge 1 ]; then ok; else fail "no run"; fi
expect_count "$LOG" "notify hook $N/self for PID $HOLDER on GPU-0 could not be run: Permission denied" 1
expect_count "$LOG" "warning: notify hook $N/self" 1

t "hostile command lines reach the shipped hooks escaped, inject nothing"
reset_runs
if [ -z "$PYTHON" ]; then
	fail "python3 not found"
	finish
	exit 1
fi
PWNED=$N/pwned
EVIL=$(printf 'evil\n$(touch %s)`touch %s` "quoted" '"'single'"' \\x1b \033[31mred\r\nSubject: injected\n.\nX-Injected: yes' "$PWNED" "$PWNED")
start HOSTILE "$PYTHON" -c 'import os, sys
os.execv("/bin/sleep", [sys.argv[1], "1003"])' "$EVIL"
wait_until comm_is "$HOSTILE" sleep
# Stubs for the transports: each records its arguments and stdin.
for tool in write sendmail curl; do
	cat >"$N/stub/$tool" <<EOF
#!/bin/sh
printf '%s\n' "\$@" >"$N/stub/$tool.args"
cat >"$N/stub/$tool.in"
EOF
done
U=$(user_of "$HOSTILE")
printf '#!/bin/sh\necho "%s pts/7 2026-12-03 08:00"\necho "other pts/8 x"\n' \
    "$U" >"$N/stub/who"
chmod +x "$N/stub/"*
# The hook of this run: the test's, then each shipped one.
cat >"$N/all" <<EOF
#!/bin/sh
"$N/hook"
"$CONTRIB/gua-notify-write" >"$N/stub/write.out" 2>&1
echo "\$?" >"$N/stub/write.rc"
"$CONTRIB/gua-notify-mail" >"$N/stub/mail.out" 2>&1
echo "\$?" >"$N/stub/mail.rc"
"$CONTRIB/gua-notify-webhook" >"$N/stub/webhook.out" 2>&1
echo "\$?" >"$N/stub/webhook.rc"
EOF
chmod +x "$N/all"
scenario <<EOF
gpu 0 uuid=GPU-notify0
tick 0
util 0 0
proc 0 $HOSTILE 4096
EOF
PATH=$N/stub:$PATH GUA_HOOK_WEBHOOK_URL=https://chat.invalid/hook \
    GUA_HOOK_MAIL_DOMAIN=example.org \
    notify_start evil --notify-after 300ms --notify-exec "$N/all"
expect_wait test -s "$N/stub/webhook.rc"
notify_stop
cmd=$(var 0 GUA_COMMAND)
t "GUA_COMMAND: one line, control characters as visible escapes"
expect_eq "$(grep -c '^GUA_COMMAND=' "$N/runs/0")" 1
case $cmd in
*'evil\n$(touch '*'"quoted"'*'\\x1b \x1B[31mred\r\nSubject: injected\n.\nX-Injected: yes 1003') ok ;;
*) fail "GUA_COMMAND=$cmd" ;;
esac
expect_no_file "$PWNED"
for h in write mail webhook; do
	expect_eq "$(cat "$N/stub/$h.rc")" 0
done
t "write: to the holder's terminal, naming user, GPU, PID and idle time"
expect_eq "$(cat "$N/stub/write.args")" "$U
pts/7"
W=$N/stub/write.in
expect_text "$W" "your process $HOSTILE holds 4096 MiB on GPU-0"
expect_text "$W" "has not computed for 0:00:0"
expect_text "$W" "Command: $cmd"
if grep -q "$(printf '\033')" "$W"; then fail "an ESC reached the terminal"; else ok; fi
t "mail: one To and one Subject, the command in the body only"
M=$N/stub/sendmail.in
expect_eq "$(cat "$N/stub/sendmail.args")" "-oi
-t"
headers=$(sed '/^$/q' "$M")
expect_eq "$(printf '%s\n' "$headers" | grep -c '^To: ')" 1
expect_eq "$(printf '%s\n' "$headers" | grep -c '^Subject: ')" 1
expect_eq "$(printf '%s\n' "$headers" | grep -c -i 'injected')" 0
expect_text "$M" "To: $U@example.org"
expect_text "$M" "Subject: Idle GPU: GPU-0 on $(hostname) held for 0:00:0"
expect_text "$M" "by PID $HOSTILE"
expect_text "$M" "Hello $U,"
expect_text "$M" "Command: $cmd"
t "webhook: a JSON body whose text is the message, command and all"
expect_eq "$(sed -n 's/^--url$/&/p;/^https/p' "$N/stub/curl.args" | tr '\n' ' ')" "--url https://chat.invalid/hook "
text=$("$PYTHON" -c 'import json, sys
d = json.load(open(sys.argv[1]))
assert list(d) == ["text"]
print(d["text"])' "$N/stub/curl.in" 2>&1)
case $text in
"$U holds GPU-0 on $(hostname) idle: process $HOSTILE, 4096 MiB, no compute for 0:00:0"*". Command: $cmd") ok ;;
*) fail "webhook text: $text" ;;
esac

t "the shipped hooks alone: no terminal, no address, no URL"
# hook NAME VAR=VALUE...: a shipped hook with only those variables and
# the stubs on PATH; its output in hook.out, its status in RC.
hook() {
	_h=$1
	shift
	env -i PATH="$N/stub:$PATH" GUA_HOST=h GUA_GPU=GPU-0 GUA_PID=42 \
	    GUA_MEMORY_MIB=500 GUA_IDLE_SECONDS=3725 GUA_COMMAND=x "$@" \
	    "$CONTRIB/$_h" >"$N/hook.out" 2>&1
	RC=$?
}
rm -f "$N/stub/write.args"
hook gua-notify-write GUA_USER=nobody-here
expect_rc 0
expect_text "$N/hook.out" "nobody-here has no terminal to write to"
expect_no_file "$N/stub/write.args"
hook gua-notify-write GUA_USER="$U"
expect_rc 0
expect_text "$N/stub/write.in" "has not computed for 1:02:05"
rm -f "$N/stub/sendmail.args"
for bad in "a b" "x>y" "-oQ/tmp" ""; do
	hook gua-notify-mail GUA_USER="$bad"
	expect_rc 1
done
hook gua-notify-mail GUA_USER=alice GUA_HOOK_MAIL_DOMAIN='example.org>'
expect_rc 1
expect_no_file "$N/stub/sendmail.args"
hook gua-notify-mail GUA_USER=alice
expect_rc 0
expect_text "$N/stub/sendmail.in" "To: alice"
hook gua-notify-webhook GUA_USER=alice
expect_rc 1
expect_text "$N/hook.out" "GUA_HOOK_WEBHOOK_URL is not set"

t "a background collector: the hook is the collector's user's, in /, its output in the log"
# As nobody when the tests run as root, else as the user running them.
AS=""
WHO=$(id -u)
if [ "$WHO" -eq 0 ] && command -v setpriv >/dev/null 2>&1 &&
    id nobody >/dev/null 2>&1; then
	AS="setpriv --reuid=nobody --regid=$(id -g nobody) --clear-groups"
	WHO=$(id -u nobody)
fi
B=$TMP/bg
mkdir "$B"
chmod 755 "$TMP"
chmod 1777 "$B"
scenario <<EOF
gpu 0 uuid=GPU-notify0
tick 0
util 0 0
proc 0 $HOLDER 12000
EOF
chmod 644 "$FAKE_NVML_SCENARIO"
printf '#!/bin/sh\n{ id -u; pwd; } >"%s/ran"\necho "bg hook output"\n' \
    "$B" >"$B/hook"
chmod 755 "$B/hook"
# shellcheck disable=SC2086 # the launcher is words
run $AS "$GUA" daemon --nvml-library "$FAKE" --db "$B/bg.db" \
    --pid-file "$B/bg.pid" --log-file "$B/bg.log" --interval 100ms \
    --notify-after 300ms --notify-exec "$B/hook"
expect_rc 0
expect_wait has_line "$B/bg.log" "bg hook output"
expect_eq "$(head -1 "$B/ran")" "$WHO"
expect_eq "$(sed -n 2p "$B/ran")" /
# shellcheck disable=SC2086
run $AS "$GUA" stop --pid-file "$B/bg.pid"
expect_rc 0
expect_count "$B/bg.log" "notify hook $B/hook started for PID $HOLDER" 1

t "a hanging hook is killed after 10 s; ticks go on; four at most at once"
reset_runs
HOLDERS=""
for i in 1 2 3 4 5 6; do
	start h sleep "20$i"
	# shellcheck disable=SC2154 # start sets h, through eval
	HOLDERS="$HOLDERS $h"
done
# The runs for the first four holders hang, ignoring SIGTERM (so
# SIGKILL ends them); the others fail at once, so that every run of this
# burst fails and one warning says so. All six are due at one tick, in
# the order NVML lists them.
FIRST4=$(echo $HOLDERS | cut -d' ' -f1-4)
cat >"$N/hang" <<EOF
#!/bin/sh
"$N/hook"
case " $FIRST4 " in
*" \$GUA_PID "*)
	trap '' TERM
	echo "\$\$ \$(date +%s%3N)" >>"$N/hung"
	while :; do sleep 1; done ;;
esac
exit 5
EOF
chmod +x "$N/hang"
{
	echo "gpu 0 uuid=GPU-notify0"
	echo "tick 0"
	echo "util 0 0"
	for p in $HOLDERS; do echo "proc 0 $p 2000"; done
} | scenario
notify_start hang --notify-after 300ms --notify-exec "$N/hang"
hung4() { [ "$(wc -l <"$N/hung" 2>/dev/null || echo 0)" -ge 4 ]; }
expect_wait hung4
ticks=$(q "$DB" 'SELECT count(*) FROM ticks')
expect_wait ticks_at_least "$DB" $((ticks + 10))
alive=0
while read -r pid _; do kill -0 "$pid" 2>/dev/null && alive=$((alive + 1)); done <"$N/hung"
# Ten ticks were written while the four hooks hung.
expect_eq "$alive" 4
expect_eq "$(runs)" 4
expect_count "$LOG" "hooks still run; due again at the next tick" 1
all_gone() {
	while read -r pid _; do gone "$pid" || return 1; done <"$N/hung"
}
expect_wait all_gone
end=$(date +%s%3N)
start_ms=$(awk 'NR == 1 { print $2 }' "$N/hung")
if [ $((end - start_ms)) -ge 10000 ]; then ok; else
	fail "killed after $((end - start_ms)) ms"; fi
t "the skipped ones run once slots are free; their groups are gone too"
expect_wait runs_at_least 6
notify_stop
expect_rc 0
expect_count "$LOG" "ran longer than 10 s and was killed" 1
expect_count "$LOG" "warning: notify hook $N/hang" 1
# (A zombie is dead: left to a PID 1 that may not reap.)
for pg in $(cut -d' ' -f1 "$N/hung"); do
	left=$(ps -e -o pid=,pgid=,stat= | awk -v g="$pg" '$2 == g && $3 !~ /Z/')
	if [ -z "$left" ]; then ok; else fail "group $pg left: $left"; fi
done
expect_count "$LOG" "notify hooks run again after" 1

t "what a hook leaves running in its group is killed when the hook ends"
cat >"$N/leave" <<EOF
#!/bin/sh
(trap '' TERM; exec sleep 1000) &
echo "\$!" >"$N/left.\$GUA_PID"
EOF
chmod +x "$N/leave"
rm -f "$N"/left.*
notify_start leave --notify-after 300ms --notify-exec "$N/leave"
six_left() { [ "$(find "$N" -name 'left.*' | wc -l)" -eq 6 ]; }
expect_wait six_left
all_left_gone() {
	for f in "$N"/left.*; do gone "$(cat "$f")" || return 1; done
}
expect_wait all_left_gone
notify_stop
expect_rc 0
# (Six at once: two wait for a slot, and that is said; no failure is.)
expect_count "$LOG" "collection goes on" 0

# The drop-in for the shipped unit: the unit's command plus the hook's
# options, the network a webhook needs, and nothing systemd refuses.
UNIT=$HERE/../../contrib/gua.service
DROPIN=$HERE/../../contrib/notify/gua-notify.conf
t "the notify drop-in: the unit's ExecStart plus the --notify options"
want="$(sed -n 's/^ExecStart=//p' "$UNIT") --notify-after"
case "$(sed -n 's/^ExecStart=\(..*\)/\1/p' "$DROPIN")" in
"$want "*--notify-exec\ /*) ok ;;
*) fail "its ExecStart is not the unit's plus the --notify options" ;;
esac
for l in ExecStart= PrivateNetwork=no \
    'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6'; do
	if grep -qxF "$l" "$DROPIN"; then ok; else fail "no $l"; fi
done
t "systemd-analyze verify reads the notify drop-in and finds nothing wrong"
if need systemd-analyze systemd; then
	mkdir -p "$N/unit/gua.service.d"
	sed "s|^ExecStart=/usr/bin/gua |ExecStart=$GUA |" "$UNIT" \
	    >"$N/unit/gua.service"
	# Every commented line too: what the hooks may need must parse.
	sed -e "s|^ExecStart=/usr/bin/gua |ExecStart=$GUA |" \
	    -e "s|--notify-exec [^ ]*|--notify-exec $N/hook|" \
	    -e 's/^#\([A-Z][A-Za-z]*=\)/\1/' "$DROPIN" \
	    >"$N/unit/gua.service.d/notify.conf"
	run sh -c 'cd "$1" && SYSTEMD_LOG_LEVEL=debug exec \
	    systemd-analyze verify --man=no gua.service' sh "$N/unit"
	expect_rc 0
	expect_count "$TMP/err" "notify.conf:" 0
fi

finish
