#!/bin/sh
# Soak: the collector for 100000 ticks at a 1 ms interval against the fake
# NVML, processes coming and going: real processes that leave and come
# back in NVML's lists, PIDs that no longer exist, and real processes
# that exit half-way through. Its memory at the end stays within 10 % of
# its memory after 1000 ticks, and its descriptors do not grow (the
# identity cache holds one pidfd per live GPU process it watches; the
# others are counted apart).
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/../cli/lib.sh"
HERE=$(cd "$(dirname "$0")/../cli" && pwd)
# shellcheck source=tests/cli/collector-lib.sh
. "$HERE/collector-lib.sh"

TICKS=${SOAK_TICKS:-100000}
# The database on a tmpfs where there is one: this measures memory and
# descriptors, not the disk's fsync.
SOAK=$(mktemp -d /dev/shm/gua-soak-XXXXXX 2>/dev/null) || SOAK=$TMP/soak
mkdir -p "$SOAK"
trap 'rm -rf "$SOAK"; cleanup' EXIT

# 24 real processes on 4 GPUs, and 8 PIDs of processes that have exited.
REAL=""
j=0
while [ $j -lt 24 ]; do
	start p sleep 100000
	REAL="$REAL $p"
	j=$((j + 1))
done
DEAD=""
j=0
while [ $j -lt 8 ]; do
	sleep 100000 &
	kill -9 $! && wait $! 2>/dev/null
	DEAD="$DEAD $!"
	j=$((j + 1))
done
# Six ticks, played in a loop: in tick k, process j (on GPU j % 4) is
# listed unless (j / 4 + k) % 3 == 0; one gone PID on each GPU at even k.
{
	echo "gpus 4"
	echo "loop"
	k=0
	while [ $k -lt 6 ]; do
		echo "tick $k"
		g=0
		while [ $g -lt 4 ]; do
			echo "util $g $(((g * 30 + k * 7) % 100))"
			g=$((g + 1))
		done
		j=0
		for p in $REAL; do
			if [ $(((j / 4 + k) % 3)) -ne 0 ]; then
				echo "proc $((j % 4)) $p $((500 + j * 100))"
			fi
			j=$((j + 1))
		done
		if [ $((k % 2)) -eq 0 ]; then
			g=0
			for p in $DEAD; do
				[ $g -lt 4 ] && echo "proc $g $p 300"
				g=$((g + 1))
			done
		fi
		k=$((k + 1))
	done
} | scenario

start COL "$GUA" daemon --foreground --nvml-library "$FAKE" \
    --db "$SOAK/gua.db" --pid-file "$SOAK/gua.pid" --interval 1ms \
    --textfile-dir "$SOAK" >"$SOAK/fg.out" 2>"$SOAK/fg.err"
# ticks: written so far (the foreground prints a line per tick).
ticks() { wc -l <"$SOAK/fg.out"; }
# reach N: waits, for as long as it takes at 1 ms or slower (an hour at
# most), until N ticks are written.
reach() {
	_n=0
	while [ "$(ticks)" -lt "$1" ] && kill -0 "$COL" 2>/dev/null &&
	    [ $_n -lt 36000 ]; do
		sleep 0.1
		_n=$((_n + 1))
	done
	[ "$(ticks)" -ge "$1" ]
}
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$COL/status"; }
# Descriptors: the fewest of ten looks, as a tick opens and closes /proc
# files (and the textfile) while it works.
fds() {
	_i=0
	while [ $_i -lt 10 ]; do
		ls -l "/proc/$COL/fd" 2>/dev/null | awk -v pid="$1" '
		    /anon_inode:\[pidfd\]/ { p++; next } /->/ { o++ }
		    END { print (pid ? p : o) + 0 }'
		sleep 0.01
		_i=$((_i + 1))
	done | sort -n | head -1
}
pidfds() { fds 1; }
otherfds() { fds 0; }

t "1000 ticks"
reach 1000 && ok || fail "only $(ticks) ticks"
RSS1=$(rss)
FD1=$(otherfds)
PFD1=$(pidfds)
reach $((TICKS / 2))
# Eight of the real processes exit: their pidfds must go.
set -- $REAL
kill $1 $2 $3 $4 $5 $6 $7 $8
t "$TICKS ticks"
reach "$TICKS" && ok || fail "only $(ticks) ticks"
RSS2=$(rss)
FD2=$(otherfds)
PFD2=$(pidfds)
kill -TERM "$COL"
wait "$COL"
RC=$?
echo "soak: $(ticks) ticks; RSS $RSS1 kB after 1000, $RSS2 kB after" \
    "$TICKS ($(awk -v a="$RSS1" -v b="$RSS2" 'BEGIN { printf "%+.1f %%",
    (b - a) * 100 / a }')); descriptors $FD1 + $PFD1 pidfds, then" \
    "$FD2 + $PFD2 pidfds" >&2
t "the collector stopped cleanly"
expect_rc 0
t "memory at the end within 10 % of memory after 1000 ticks"
if [ "$((RSS2 * 10))" -le "$((RSS1 * 11))" ]; then ok; else
	fail "RSS $RSS1 kB, then $RSS2 kB"; fi
t "no descriptor growth besides pidfds"
if [ "$FD2" -le "$FD1" ]; then ok; else fail "$FD1, then $FD2"; fi
t "pidfds: at most one per live process it watches, none for the exited"
if [ "$PFD1" -le 24 ] && [ "$PFD2" -le 16 ]; then ok; else
	fail "$PFD1 pidfds, then $PFD2 (16 processes left alive)"; fi
t "nothing went wrong on the way"
expect_count "$SOAK/fg.err" "warning: " 0
t "the database is intact"
expect_q "$SOAK/gua.db" "PRAGMA integrity_check" ok

finish_collector
