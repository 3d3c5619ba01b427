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

# The drop-in for --listen: the unit's collector plus --listen on
# loopback, the network given back only for that address.
LISTEN=$TOP/contrib/prometheus/gua-listen.conf
t "the unit has no network; the --listen drop-in opens only its address"
for l in PrivateNetwork=yes RestrictAddressFamilies=AF_UNIX; do
	if grep -qxF "$l" "$UNIT"; then ok; else fail "the unit lacks $l"; fi
done
addr=$(sed -n 's/^ExecStart=.* --listen \([^ ]*\)$/\1/p' "$LISTEN")
want="$(sed -n 's/^ExecStart=//p' "$UNIT") --listen $addr"
if [ "$(sed -n 's/^ExecStart=\(..*\)/\1/p' "$LISTEN")" = "$want" ]; then ok
else fail "its ExecStart is not the unit's plus --listen"; fi
expect_eq() { if [ "$1" = "$2" ]; then ok; else fail "got '$1', want '$2'"; fi; }
expect_eq "$addr" "127.0.0.1:9877"
for l in PrivateNetwork=no SocketBindDeny=any "SocketBindAllow=tcp:${addr##*:}" \
    IPAddressDeny=any IPAddressAllow=localhost; do
	if grep -qxF "$l" "$LISTEN"; then ok; else fail "the drop-in lacks $l"; fi
done
if need systemd-analyze systemd; then
	t "systemd-analyze verify reads the --listen drop-in and finds nothing wrong"
	mkdir -p "$TMP/unit/gua.service.d"
	for f in "$LISTEN" "$TMP/bad-listen.conf"; do
		[ "$f" = "$LISTEN" ] || { cp "$LISTEN" "$f" &&
		    echo "SocketBindAllow=perhaps" >>"$f"; }
		sed "s|^ExecStart=/usr/bin/gua |ExecStart=$GUA |" "$f" \
		    >"$TMP/unit/gua.service.d/listen.conf"
		run sh -c 'cd "$1" && SYSTEMD_LOG_LEVEL=debug exec \
		    systemd-analyze verify --man=no gua.service' sh "$TMP/unit"
		if [ "$f" = "$LISTEN" ]; then
			expect_rc 0
			expect_count_err=$(grep -c "listen.conf:" "$TMP/err")
			expect_eq "$expect_count_err" 0
			t "... and would say so about a bad line in it (the check is real)"
		else
			expect_err "listen.conf:"
		fi
	done
	rm -rf "$TMP/unit/gua.service.d"
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
