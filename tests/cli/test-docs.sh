#!/bin/sh
# The manual renders cleanly and covers every command; the README keeps
# its two contract commands.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
TOP=$(cd "$HERE/../.." && pwd)

t "gua.1 renders without warnings"
if need groff groff-base; then
	run groff -man -Tutf8 -ww -z "$TOP/docs/gua.1"
	expect_rc 0
	expect_empty_err
fi
# A terminal that cannot show UTF-8 gets -Tascii: the block characters,
# section signs and the ellipsis need a stand-in there (.fchar), not a
# "can't find special character" warning and a blank.
t "gua.1 renders without warnings in ASCII too"
if need groff groff-base; then
	run groff -man -Tascii -ww -z "$TOP/docs/gua.1"
	expect_rc 0
	expect_empty_err
	t "gua.1 in ASCII: a stand-in for each character ASCII lacks"
	groff -man -Tascii "$TOP/docs/gua.1" 2>/dev/null |
	    sed 's/.\x08//g' >"$TMP/man.ascii"
	# (The stand-ins are the text report's own ASCII.)
	for want in '(# active, = idle-held, . truly idle)' '#4 and #6' \
	    'GiB*h,'; do
		if grep -qF -- "$want" "$TMP/man.ascii"; then ok; else
			fail "no '$want'"; fi
	done
fi

# flat FILE: its lines joined with single spaces (a sentence that wraps).
flat() { tr '\n' ' ' <"$1" | tr -s ' \t' '  '; }

# The libraries NVML is looked for under, as src/nvml.c tries them when
# none is named: every place that lists them lists these, in this order.
t "the NVML libraries tried, as src/nvml.c tries them"
sed -n '/defaults\[\] = {/,/};/p' "$TOP/src/nvml.c" |
    grep -o '"libnvidia-ml[^"]*"' | tr -d '"' >"$TMP/nvml-libs"
if [ "$(wc -l <"$TMP/nvml-libs")" -ge 2 ]; then ok; else
	fail "cannot read the defaults of src/nvml.c: $(cat "$TMP/nvml-libs")"; fi
libs=""
for l in $(cat "$TMP/nvml-libs"); do libs="$libs, else $l"; done
for c in daemon doctor; do
	t "gua $c --help: NVML from \$GUA_NVML_LIBRARY$libs"
	"$GUA" "$c" --help >"$TMP/help-$c"
	if flat "$TMP/help-$c" | grep -qF -- "\$GUA_NVML_LIBRARY$libs)"; then ok
	else fail "$(grep -A2 '^ *--nvml-library PATH' "$TMP/help-$c")"; fi
done
t "README: NVML from \$GUA_NVML_LIBRARY$libs"
flat "$TOP/README.md" | tr -d '`' >"$TMP/readme.flat"
if grep -qF -- "\$GUA_NVML_LIBRARY$libs " "$TMP/readme.flat"; then ok; else
	fail "README's list differs"; fi
t "gua.1: NVML from \$GUA_NVML_LIBRARY$libs"
if need groff groff-base; then
	flat "$TMP/man.ascii" | sed 's/- //g' >"$TMP/man.flat"
	if grep -qF -- "\$GUA_NVML_LIBRARY$libs)" "$TMP/man.flat"; then ok
	else fail "the man page's list differs"; fi
fi

# README's systemd unit is the core of contrib/gua.service: each of its
# settings is the unit's (ExecStart's binary wherever make install puts
# it), and the settings that change how it runs are in both or neither.
t "README's systemd snippet agrees with contrib/gua.service"
sed -n '/^### Under systemd/,/^## /p' "$TOP/README.md" |
    sed -n '/^```ini/,/^```$/p' | grep -E '^[A-Za-z]+=' |
    sed 's|^ExecStart=[^ ]*/gua |ExecStart=gua |' >"$TMP/readme.unit"
grep -E '^[A-Za-z]+=' "$TOP/contrib/gua.service" |
    sed 's|^ExecStart=[^ ]*/gua |ExecStart=gua |' >"$TMP/gua.unit"
if [ -s "$TMP/readme.unit" ]; then ok; else fail "no unit in README"; fi
while IFS= read -r line; do
	if grep -qxF -- "$line" "$TMP/gua.unit"; then ok; else
		fail "README has '$line', contrib/gua.service does not"; fi
done <"$TMP/readme.unit"
for key in ExecStart ExecReload DynamicUser User Group Type Restart \
    StateDirectory RuntimeDirectory; do
	in_readme=$(grep -c "^$key=" "$TMP/readme.unit")
	in_unit=$(grep -c "^$key=" "$TMP/gua.unit")
	if [ "$in_readme" -eq "$in_unit" ]; then ok; else
		fail "$key= $in_readme times in README, $in_unit in the unit"; fi
done

# Memory x time has one spelling, GiB·h, wherever a reader meets it
# (GiB*h where the text report, or the man page, falls back to ASCII).
t "GiB·h is spelt one way in the docs, the man page and the reports"
GUA_NOW=2026-11-25T10:30:00Z "$GUA" demo --db "$TMP/d.db" >/dev/null 2>&1
# (In a UTF-8 locale: one that cannot show "·" gets ASCII.)
LC_ALL=C.UTF-8 GUA_NOW=2026-11-25T10:30:00Z "$GUA" report --db "$TMP/d.db" \
    >"$TMP/spell.txt" 2>&1
GUA_NOW=2026-11-25T10:30:00Z "$GUA" report --db "$TMP/d.db" --format html \
    >"$TMP/spell.html" 2>&1
for f in "$TMP/spell.txt" "$TMP/spell.html"; do
	if grep -qF 'GiB·h' "$f"; then ok; else fail "$f lacks GiB·h"; fi
done
if need groff groff-base; then
	groff -man -Tutf8 "$TOP/docs/gua.1" 2>/dev/null |
	    sed 's/.\x08//g' >"$TMP/man.utf8"
	if grep -qF 'GiB·h' "$TMP/man.utf8"; then ok; else
		fail "gua.1 lacks GiB·h"; fi
fi
for f in "$TOP/README.md" "$TOP"/docs/*.md "$TMP/man.utf8" \
    "$TMP/spell.txt" "$TMP/spell.html" "$TOP"/src/*.c; do
	[ -f "$f" ] || continue
	# Any "GiB", up to three non-letters, then "h" or "hour": other
	# spellings (GiB-h, GiB h, GiB−hours, GiB*h) than GiB·h, or GiB\xc2\xb7h
	# in C.
	bad=$(LC_ALL=C.UTF-8 grep -oE 'GiB[^A-Za-z0-9_,;:)|`]{0,3}h(ours?)?\b' "$f" |
	    grep -vx 'GiB·h' | grep -vx 'GiB\*h' | head -3)
	cbad=$(grep -oE 'GiB(\\x[0-9a-f]{2})+[^"\\<]{0,2}h' "$f" |
	    grep -vxF 'GiB\xc2\xb7h' | head -3)
	if [ -z "$bad$cbad" ]; then ok; else
		fail "$(basename "$f"): $bad$cbad"; fi
done

"$GUA" help | sed -n 's/^  \([a-z]*\) .*/\1/p' >"$TMP/commands"
t "gua help lists thirteen commands"
if [ "$(wc -l <"$TMP/commands")" -eq 13 ]; then ok; else
	fail "$(cat "$TMP/commands")"; fi
for c in $(cat "$TMP/commands"); do
	t "gua.1 documents $c"
	if grep -q "^\.B.*\b$c\b" "$TOP/docs/gua.1"; then ok; else
		fail "$c missing"; fi
done

# Each variable and file is an entry of its own (.TP), not run into the
# paragraph before it.
t "gua.1: the environment and files are entries of their own"
if need groff groff-base; then
	groff -man -Tutf8 "$TOP/docs/gua.1" 2>/dev/null | sed 's/\x1b\[[0-9;]*m//g;
	    s/.\x08//g' >"$TMP/man.txt"
	for item in NO_COLOR GUA_NVML_LIBRARY GUA_NOW /var/lib/gua/gua.db \
	    /run/gua/gua.pid /var/log/gua.log '$XDG_STATE_HOME/gua/gua.db' \
	    '$XDG_RUNTIME_DIR/gua.pid' '$XDG_STATE_HOME/gua/gua.log' \
	    /usr/lib/systemd/system/gua.service .NAME.gua-tmp-PID; do
		t "gua.1: $item is an entry of its own"
		if grep -q "^ *$item\$" "$TMP/man.txt"; then ok; else
			fail "$item runs into the paragraph before it"; fi
	done
fi

t "README shows the two contract commands first"
head -5 "$TOP/README.md" >"$TMP/head"
if grep -q '^make demo' "$TMP/head" && grep -q '^make check' "$TMP/head"
then ok; else fail "README does not open with make demo / make check"; fi

# gua compact commits COMPACT_HOURS_PER_STEP hours a transaction: a day,
# as its --help, the man page and the README say.
t "compact's hours per transaction, as src/cmd-compact.c has them: a day"
per=$(sed -n 's/^#define COMPACT_HOURS_PER_STEP[[:space:]]*\([0-9]*\).*/\1/p' \
    "$TOP/src/cmd-compact.c")
if [ "$per" = 24 ]; then ok; else fail "COMPACT_HOURS_PER_STEP is '$per'"; fi
"$GUA" compact --help >"$TMP/help-compact"
for f in "$TMP/help-compact" "$TOP/README.md"; do
	if flat "$f" | tr -d '`' | grep -qF "compact a day of hours" ||
	    flat "$f" | grep -qF "day of hours per transaction"; then ok
	else fail "$(basename "$f") does not say a day of hours"; fi
done

# What the README says a CSV keeps raw is what it keeps: TAB and LF in
# their quoted cell; CR and ESC shown as the text report shows them.
t "README: CSV keeps no raw control character but TAB and LF, as it does"
if flat "$TOP/README.md" | grep -qF "no raw control character but TAB and LF"
then ok; else fail "README says otherwise"; fi
GUA_NOW=$NOW "$GUA" demo --db "$TMP/demo.db" >/dev/null 2>&1
procs "$TMP/demo.db" "UPDATE procs SET comm = 'a' || char(9) || 'b' ||
    char(10) || 'c' || char(13) || 'd' || char(27) || 'e'"
GUA_NOW=$NOW "$GUA" report --db "$TMP/demo.db" --format csv \
    --table sessions >"$TMP/s.csv" 2>/dev/null
if grep -qF "$(printf '"a\tb')" "$TMP/s.csv" &&
    grep -qF 'c\rd\x1Be"' "$TMP/s.csv" &&
    ! sed 's/\r$//' "$TMP/s.csv" | grep -q "$(printf '\r')"; then ok
else fail "$(grep -F 'jupyter' "$TMP/s.csv" | head -2)"; fi

# doctor exits 1 for a --db that is no gua database (test-baddb.sh): the
# documented exit status names it beside top as the exception.
t "gua.1's EXIT STATUS and the README name doctor's exit status for a bad --db"
if need groff groff-base; then
	sed -n '/^EXIT STATUS/,/^ENVIRONMENT/p' "$TMP/man.ascii" |
	    tr '\n' ' ' | tr -s ' ' >"$TMP/exit.flat"
	if grep -qF "and for doctor, which checks the --db" "$TMP/exit.flat"
	then ok; else fail "$(head -c 300 "$TMP/exit.flat")"; fi
fi
if flat "$TOP/README.md" | tr -d '`' | grep -qF "doctor, which checks the --db a collector would use, exits 0 for a missing one and 1"
then ok; else fail "README does not say"; fi

finish
