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

finish
