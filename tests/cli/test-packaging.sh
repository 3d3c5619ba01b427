#!/bin/sh
# What make install ships besides the binary: the systemd unit (verified by
# systemd-analyze where systemd is installed; no running systemd needed)
# and the bash and zsh completions.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
TOP=$(cd "$HERE/../.." && pwd)
UNIT=$TOP/contrib/gua.service

t "the unit runs the collector in the foreground, appending, hardened"
for line in \
    "ExecStart=/usr/bin/gua daemon --foreground --append --db /var/lib/gua/gua.db --pid-file /run/gua/gua.pid" \
    "User=gua" "StateDirectory=gua" "RuntimeDirectory=gua" \
    "ProtectSystem=strict" "ProtectHome=yes" "NoNewPrivileges=yes" \
    "PrivateTmp=yes" "DevicePolicy=closed" "DeviceAllow=/dev/nvidiactl rw" \
    "DeviceAllow=char-nvidia-frontend rw" "Alias=gpu-usage-audit.service"; do
	if grep -qxF "$line" "$UNIT"; then ok; else fail "no '$line'"; fi
done
t "the unit's daemon options are the daemon's"
for opt in $(sed -n 's/^ExecStart=[^ ]* daemon //p' "$UNIT" |
    tr ' ' '\n' | grep '^--'); do
	if "$GUA" help daemon | grep -q -- "$opt"; then ok; else
		fail "gua daemon has no $opt"; fi
done

t "systemd-analyze verify accepts the unit, silently"
if need systemd-analyze systemd; then
	mkdir "$TMP/unit"
	# verify wants ExecStart to exist: the binary under test stands in.
	sed "s|^ExecStart=/usr/bin/gua |ExecStart=$GUA |" "$UNIT" \
	    >"$TMP/unit/gua.service"
	verify() {
		run sh -c 'cd "$1" && exec systemd-analyze verify --man=no "$2"' \
		    sh "$TMP/unit" "$1"
	}
	verify "$TMP/unit/gua.service"
	expect_rc 0
	expect_empty_out
	expect_empty_err
	t "systemd-analyze verify catches a bad line (the check is real)"
	sed 's/^ProtectHome=yes/ProtectHome=perhaps/' "$TMP/unit/gua.service" \
	    >"$TMP/unit/bad.service"
	verify "$TMP/unit/bad.service"
	expect_err "protect home value"
fi

t "bash completion: parses, completes commands, options and values"
if command -v bash >/dev/null 2>&1; then
	cat >"$TMP/comp.bash" <<'EOS'
. "$1"
c() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=(); _gua;
      echo "${COMPREPLY[*]}"; }
c gua ba
c gua report --for
c gua report --format ""
c gua report --format csv --table s
c gua help re
c gpu-usage-audit backup --
complete -p gpu-usage-audit
EOS
	run bash "$TMP/comp.bash" "$TOP/contrib/gua.bash-completion"
	expect_rc 0
	expect_empty_err
	printf '%s\n' backup --format "text json csv html" sessions report \
	    "--db --help" "complete -F _gua gpu-usage-audit" >"$TMP/want"
	if diff -u "$TMP/want" "$TMP/out" >&2; then ok; else
		fail "completions differ"; fi
else
	fail "bash is needed"
fi

t "zsh completion parses"
if need zsh zsh; then
	run zsh -n "$TOP/contrib/_gua"
	expect_rc 0
	expect_empty_err
	if head -1 "$TOP/contrib/_gua" | grep -qx '#compdef gua gpu-usage-audit'
	then ok; else fail "no #compdef line"; fi
fi

t "every command has a completion"
for c in $("$GUA" help | sed -n 's/^  \([a-z]*\) .*/\1/p'); do
	if grep -q "$c" "$TOP/contrib/gua.bash-completion" &&
	    grep -q "'$c:" "$TOP/contrib/_gua"; then ok; else
		fail "$c missing from a completion"; fi
done

finish
