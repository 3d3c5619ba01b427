#!/bin/sh
# make installcheck: `make install` into a scratch DESTDIR puts exactly the
# files README lists in place, the unit names the binary where it went,
# and `make uninstall` removes every one of them; for PREFIX=/usr and for
# another prefix. Touches nothing outside the scratch directory.
set -eu
cd "$(dirname "$0")/.."
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
# Installation puts exactly these files in place, and uninstall removes them.
make install DESTDIR="$root" PREFIX=/usr >/dev/null
want="usr/bin/gua usr/bin/gpu-usage-audit usr/share/man/man1/gua.1
usr/share/man/man1/gpu-usage-audit.1
usr/share/bash-completion/completions/gua
usr/share/bash-completion/completions/gpu-usage-audit
usr/share/zsh/vendor-completions/_gua
usr/lib/systemd/system/gua.service
usr/lib/systemd/system/gpu-usage-audit.service
usr/lib/sysusers.d/gua.conf"
for f in $want; do
	test -e "$root/$f" || { echo "make install did not install $f"; exit 1; }
done
got=$(cd "$root" && find . -type f -o -type l | sed 's|^\./||' | sort)
test "$got" = "$(echo "$want" | tr ' ' '\n' | sort)" ||
    { echo "make install installed: $got"; exit 1; }
grep -q '^ExecStart=/usr/bin/gua daemon ' \
    "$root/usr/lib/systemd/system/gua.service" ||
    { echo "the installed unit does not run /usr/bin/gua"; exit 1; }
"$root/usr/bin/gpu-usage-audit" version
make uninstall DESTDIR="$root" PREFIX=/usr >/dev/null
left=$(find "$root" -type f -o -type l)
test -z "$left" || { echo "make uninstall left: $left"; exit 1; }
# Elsewhere, the unit names the binary where it went.
make install DESTDIR="$root" PREFIX=/opt/gua >/dev/null
grep -q '^ExecStart=/opt/gua/bin/gua daemon ' \
    "$root/opt/gua/lib/systemd/system/gua.service" ||
    { echo "the unit does not follow PREFIX"; exit 1; }
make uninstall DESTDIR="$root" PREFIX=/opt/gua >/dev/null
left=$(find "$root" -type f -o -type l)
test -z "$left" || { echo "make uninstall left: $left"; exit 1; }

echo "installcheck: passed"
