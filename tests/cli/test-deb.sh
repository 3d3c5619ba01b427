#!/bin/sh
# The Debian package (make deb): built and lintian-clean, then installed
# on this machine with dpkg -i, run, removed and purged, with every file
# under /usr, /etc and /var/lib as it was before. It changes the system,
# so it runs only where that is allowed: under CI=true (a throw-away
# machine, as root) and through `make deb-check` (as root, on a machine
# you may throw away); elsewhere it is skipped and says why. No systemd
# runs in such a machine, so the unit is enabled but never started.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/cli/collector-lib.sh
. "$HERE/collector-lib.sh"
TOP=$(cd "$HERE/../.." && pwd)
PKG=gpu-usage-audit

t "the Debian package, installed and purged on this machine"
if [ "${CI:-}" != true ] && [ "${GUA_DEB_CHECK:-}" != 1 ]; then
	skip "it changes the system: runs under CI=true, or as root by make deb-check on a machine you may throw away"
	finish
	exit
fi
if [ "$(id -u)" -ne 0 ]; then
	skip "dpkg -i needs root"
	finish
	exit
fi
if dpkg-query -W -f '${Status}' "$PKG" 2>/dev/null | grep -q installed; then
	fail "$PKG is installed already: this test would remove it"
	finish
	exit
fi
if [ -e /var/lib/gua ] || [ -L /var/lib/gua ]; then
	fail "/var/lib/gua exists: purging the package would delete it"
	finish
	exit
fi
ok
if ! { need dpkg-buildpackage dpkg-dev && need dh debhelper &&
    need lintian lintian; }; then
	finish
	exit
fi

# The files under these trees, but for dpkg's and apt's own databases
# (dpkg's checked apart) and the backups the account tools keep of
# /etc/passwd and its kin when a user is added.
snapshot() {
	find /usr /etc /var/lib -xdev \
	    \( -path /var/lib/dpkg -o -path /var/lib/apt \) -prune -o -print |
	    grep -vxE '/etc/(passwd|group|shadow|gshadow)-|/etc/\.pwd\.lock' |
	    sort
}
had_user=no
getent passwd gua >/dev/null && had_user=yes
# On the way out, even from a failed check: collectors stopped (cleanup,
# collector-lib.sh), the package purged if it is still there, and the
# user gua taken back if this test caused it, so that the machine is left
# as it was found and the test can run again.
cleanup_deb() {
	cleanup
	dpkg-query -W "$PKG" >/dev/null 2>&1 && dpkg -P "$PKG" >/dev/null 2>&1
	if [ "$had_user" = no ] && getent passwd gua >/dev/null; then
		userdel gua 2>/dev/null
		getent group gua >/dev/null && groupdel gua
	fi
}
trap cleanup_deb EXIT

t "make deb builds the package, lintian clean, and leaves the tree as it was"
git -C "$TOP" status --porcelain >"$TMP/status.before" 2>/dev/null
run make -C "$TOP" --no-print-directory deb
expect_rc 0
set -- "$TOP"/build/deb/"$PKG"_*.deb
DEB=$1
expect_file "$DEB"
# make deb runs lintian, failing on a warning or an error; the info tags
# it shows are overridden with a reason (debian/*.lintian-overrides).
if grep -qE '^[EWI]: ' "$TMP/out" "$TMP/err"; then
	fail "lintian: $(grep -hE '^[EWI]: ' "$TMP/out" "$TMP/err")"
else ok; fi
git -C "$TOP" status --porcelain >"$TMP/status.after" 2>/dev/null
if cmp -s "$TMP/status.before" "$TMP/status.after"; then ok; else
	fail "the tree changed: $(diff "$TMP/status.before" "$TMP/status.after")"
fi
[ -f "$DEB" ] || { finish; exit; }

snapshot >"$TMP/before"

t "dpkg -i installs it"
run dpkg -i "$DEB"
expect_rc 0
if [ "$(dpkg-query -W -f '${Status}' "$PKG")" = "install ok installed" ]
then ok; else fail "not installed: $(dpkg-query -W -f '${Status}' "$PKG")"; fi

t "gua version is the package's version"
run /usr/bin/gua version
expect_rc 0
expect_out "gua $(dpkg-query -W -f '${Version}' "$PKG")"
run /usr/bin/gpu-usage-audit version
expect_rc 0
expect_out "gua "

t "the packaged binary is the plain build, whatever make deb was run under"
if ldd /usr/bin/gua | grep -q 'libasan'; then
	fail "it is a sanitizer build"; else ok; fi

t "the files are in place"
for f in /usr/bin/gua /usr/bin/gpu-usage-audit \
    /usr/share/man/man1/gua.1.gz /usr/share/man/man1/gpu-usage-audit.1.gz \
    /usr/share/bash-completion/completions/gua \
    /usr/share/bash-completion/completions/gpu-usage-audit \
    /usr/share/zsh/vendor-completions/_gua /usr/lib/sysusers.d/gua.conf \
    /usr/share/doc/$PKG/copyright /usr/share/doc/$PKG/changelog.gz; do
	if [ -e "$f" ] && dpkg -S "$f" >/dev/null 2>&1; then ok; else
		fail "$f is not the package's"; fi
done
UNIT=$(dpkg -L "$PKG" | grep '/systemd/system/gua\.service$')
if [ -n "$UNIT" ] && grep -q '^ExecStart=/usr/bin/gua daemon ' "$UNIT"
then ok; else fail "no unit running /usr/bin/gua: '$UNIT'"; fi
if [ "$(readlink "${UNIT%/*}/gpu-usage-audit.service")" = gua.service ]
then ok; else fail "no gpu-usage-audit.service alias"; fi
if zcat /usr/share/man/man1/gua.1.gz | cmp -s - "$TOP/docs/gua.1"; then ok
else fail "the man page is not docs/gua.1"; fi

t "the system user gua exists, with no login, its home the state directory"
if getent passwd gua >"$TMP/pw"; then ok; else fail "no user gua"; fi
IFS=: read -r _ _ uid gid _ home shell <"$TMP/pw"
if [ "${uid:-1000}" -lt 1000 ] && [ "$home" = /var/lib/gua ]; then ok; else
	fail "not a system user at home in /var/lib/gua: $(cat "$TMP/pw")"; fi
case $shell in */nologin | */false) ok ;; *) fail "shell $shell" ;; esac
if [ "$(getent group gua | cut -d: -f3)" = "$gid" ]; then ok; else
	fail "gua's group is not gua"; fi

t "the unit is enabled, and nothing was started"
if [ -L /etc/systemd/system/multi-user.target.wants/gua.service ]; then ok
else fail "gua.service is not enabled"; fi
running=""
for p in /proc/[0-9]*; do
	[ "$(readlink "$p/exe" 2>/dev/null)" = /usr/bin/gua ] &&
	    running="$running ${p#/proc/}"
done
if [ -z "$running" ]; then ok; else fail "gua runs:$running"; fi
expect_no_file /run/gua/gua.pid

t "gua doctor without NVML: the diagnosis, exit 1"
if has_real_nvml; then
	skip "this machine has libnvidia-ml.so.1"
else
	run /usr/bin/gua doctor
	expect_rc 1
	expect_out "fail  nvml load   cannot load NVML: libnvidia-ml.so.1"
	expect_out "verdict: no: NVML is missing"
	expect_out "ok    database    /var/lib/gua/gua.db: absent"
	expect_empty_err
fi
t "gua doctor with NVML (the fake): the packaged binary loads it, exit 0"
echo "gpus 2" | scenario
run /usr/bin/gua doctor --nvml-library "$FAKE"
expect_rc 0
expect_out "ok    gpus        2 GPUs"
expect_out "verdict: yes"

# The state directory as the unit's StateDirectory= makes it, a history
# in it written by user gua; group gua reads it (README's promise, the
# reason the unit has a static user), another user does not.
t "user gua writes its database; group gua reads it, others do not"
install -d -o gua -g gua -m 0750 /var/lib/gua
run setpriv --reuid=gua --regid=gua --init-groups \
    /usr/bin/gua demo --db /var/lib/gua/gua.db --ticks 20
expect_rc 0
if [ "$(stat -c '%U:%G %a' /var/lib/gua/gua.db)" = "gua:gua 640" ]; then ok
else fail "$(stat -c '%U:%G %a' /var/lib/gua/gua.db)"; fi
run setpriv --reuid=nobody --regid=nogroup --groups="$gid" \
    /usr/bin/gua report --db /var/lib/gua/gua.db --since 30d --format json
expect_rc 0
expect_out '"idle_held_gpu_hours"'
run setpriv --reuid=nobody --regid=nogroup --clear-groups \
    /usr/bin/gua report --db /var/lib/gua/gua.db --since 30d
expect_rc 1
expect_err "Permission denied"

t "... and while the collector runs as gua, group gua reads the live database"
chmod 755 "$TMP"
chmod 644 "$FAKE_NVML_SCENARIO"
install -d -o gua -g gua "$TMP/run"
run setpriv --reuid=gua --regid=gua --init-groups /usr/bin/gua daemon \
    --nvml-library "$FAKE" --db /var/lib/gua/live.db \
    --pid-file "$TMP/run/gua.pid" --log-file "$TMP/run/gua.log" \
    --interval 50ms
expect_rc 0
# as_reader: a report of the live database by a member of group gua.
as_reader() {
	setpriv --reuid=nobody --regid=nogroup --groups="$gid" /usr/bin/gua \
	    report --db /var/lib/gua/live.db --since 1h --format json \
	    >"$TMP/live.json" 2>"$TMP/live.err"
}
read_ticks() { as_reader && grep -q '"samples": [1-9]' "$TMP/live.json"; }
if wait_until read_ticks; then ok; else
	fail "no ticks read: $(cat "$TMP/live.err" "$TMP/run/gua.log")"; fi
if grep -qF '"driver_version": "560.35.03"' "$TMP/live.json"; then ok; else
	fail "not the fake's driver"; fi
run setpriv --reuid=gua --regid=gua --init-groups \
    /usr/bin/gua stop --pid-file "$TMP/run/gua.pid"
expect_rc 0

t "dpkg -r removes the files and keeps the history"
run dpkg -r "$PKG"
expect_rc 0
for f in /usr/bin/gua /usr/lib/sysusers.d/gua.conf "$UNIT"; do
	expect_no_file "$f"
done
expect_file /var/lib/gua/gua.db
if [ "$(dpkg-query -W -f '${Status}' "$PKG")" = "deinstall ok config-files" ]
then ok; else fail "after -r: $(dpkg-query -W -f '${Status}' "$PKG")"; fi

t "dpkg -P purges it: every file under /usr, /etc and /var/lib as before"
run dpkg -P "$PKG"
expect_rc 0
if dpkg-query -W "$PKG" >/dev/null 2>&1; then
	fail "dpkg still knows $PKG"; else ok; fi
snapshot >"$TMP/after"
if diff "$TMP/before" "$TMP/after" >"$TMP/diff"; then ok; else
	fail "left or taken: $(grep '^[<>]' "$TMP/diff" | head -20)"; fi
if ls /var/lib/dpkg/info/"$PKG".* >/dev/null 2>&1; then
	fail "dpkg keeps $PKG's scripts"; else ok; fi

# Debian leaves system users in place when their package is purged:
# files they own may outlive it (a backup, a copied database), and a
# reused UID would hand those to someone else. So gua stays (cleanup_deb
# takes back the one this test caused).
t "the system user gua stays after the purge"
if getent passwd gua >/dev/null; then ok; else fail "gua was removed"; fi

finish
