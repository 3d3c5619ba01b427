#!/bin/sh
# What make install ships besides the binary: the systemd unit (verified by
# systemd-analyze where systemd is installed; no running systemd needed),
# its user's sysusers.d line, and the bash and zsh completions; and the
# Debian package's sources agreeing with the Makefile and the version.
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
t "the unit runs as the static user its sysusers.d line makes"
# Not DynamicUser=: that would put the database under /var/lib/private
# (0700), out of group gua's reach, and the package makes the user.
if grep -q '^DynamicUser=' "$UNIT"; then fail "DynamicUser= is set"; else ok; fi
if grep -qxF "Group=gua" "$UNIT"; then ok; else fail "no Group=gua"; fi
if [ "$(grep -v '^#' "$TOP/contrib/gua.sysusers" | grep .)" = \
    'u gua - "GPU usage audit collector" /var/lib/gua' ]; then ok; else
	fail "contrib/gua.sysusers makes no user gua at home in /var/lib/gua"; fi
t "systemd-sysusers makes that user from it: a system user, no login"
if need systemd-sysusers systemd; then
	mkdir -p "$TMP/root/etc"
	run systemd-sysusers --root="$TMP/root" - <"$TOP/contrib/gua.sysusers"
	expect_rc 0
	if grep -qE '^gua:x:[0-9]+:[0-9]+:GPU usage audit collector:/var/lib/gua:/usr/sbin/nologin$' \
	    "$TMP/root/etc/passwd"; then ok; else
		fail "$(cat "$TMP/root/etc/passwd")"; fi
	if grep -q '^gua:x:' "$TMP/root/etc/group"; then ok; else
		fail "no group gua"; fi
fi

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

# The Debian package (debian/; built by make deb and installed by
# tests/cli/test-deb.sh where that may change the system).
t "debian/changelog's version is gua's"
want=$("$GUA" version | sed -n 's/^gua //p')
if head -1 "$TOP/debian/changelog" | grep -qF "gpu-usage-audit ($want)"
then ok; else fail "debian/changelog: $(head -1 "$TOP/debian/changelog")"; fi
t "debian/control builds with every library the Makefile takes from pkg-config"
if need dpkg-query dpkg; then
	# The field's package names, one a line (the next field's name,
	# ending in ':', dropped).
	sed -n '/^Build-Depends:/,/^[A-Z]/p' "$TOP/debian/control" |
	    tr ',|' '\n\n' | sed 's/^Build-Depends://; s/^[[:space:]]*//' |
	    sed 's/[[:space:](].*//' | grep -v ':$' | grep . >"$TMP/bdeps"
	# Optional ones too: the package is built with all of them.
	mods=$(grep -o 'pkg-config --[a-z-]* [a-z0-9_.+-]*' "$TOP/Makefile" |
	    sed 's/.* //' | sort -u)
	if [ -n "$mods" ]; then ok; else fail "no pkg-config module found"; fi
	for m in $mods; do
		if ! pkg-config --exists "$m"; then
			skip "pkg-config does not know $m: its -dev package is missing"
			continue
		fi
		pc=$(pkg-config --variable=pcfiledir "$m")/$m.pc
		dev=$(dpkg-query -S "$pc" 2>/dev/null | sed 's/[:,].*//')
		if [ -n "$dev" ] && grep -qxF "$dev" "$TMP/bdeps"; then ok; else
			fail "$m ($pc, from '${dev:-no package}') is not in Build-Depends"
		fi
	done
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
