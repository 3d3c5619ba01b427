#!/bin/sh
# Never a shell: no system(), popen() or "sh -c" anywhere in the sources,
# and the only programs gua runs are doctor's nvidia-smi, with a fixed
# argv, and the collector's --notify-exec program, directly, with no
# argument.
# Usage: lint-banned.sh [SRC] (default: the src/ beside tests/). Run by
# make lint and by tests/cli/test-privilege.sh; prints what it found and
# exits 1 when something is banned.
set -u
src=${1:-$(dirname "$0")/../src}
found=$(mktemp)
trap 'rm -f "$found"' EXIT
status=0

if grep -nE '\b(system|popen)[[:space:]]*\(|"/bin/sh"|"sh"|"-c"' \
    "$src"/*.c "$src"/*.h >"$found"; then
	echo "lint-banned: a shell, system() or popen() in the sources:"
	head -3 "$found"
	status=1
fi

grep -nE '\b(exec[lv][pe]*|posix_spawnp?|fexecve)[[:space:]]*\(' \
    "$src"/*.c >"$found"
if [ "$(wc -l <"$found")" -eq 2 ] &&
    grep -q 'cmd-doctor.c:.*execvp(argv\[0\], argv)' "$found" &&
    grep -q 'char \*const argv\[\] = { "nvidia-smi", "-L", NULL };' \
    "$src/cmd-doctor.c" &&
    grep -q 'notify.c:.*execve(nt->exec, argv, env)' "$found" &&
    grep -q 'char \*argv\[2\] = { nt->exec, NULL };' "$src/notify.c"; then
	:
else
	echo "lint-banned: want two execs in all of gua, doctor's" \
	    "nvidia-smi -L and the --notify-exec program; found:"
	cat "$found"
	status=1
fi
exit $status
