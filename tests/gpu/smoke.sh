#!/bin/sh
# A smoke test for a real NVIDIA host (not part of `make check`):
#   1. gua doctor must say a collector can run here;
#   2. a CUDA process allocates 1 GiB on GPU 0 and then sleeps;
#   3. the collector records 20 ticks (200 ms apart) in the foreground;
#   4. gua report must show idle-held time, and the holder's PID among the
#      idle-held sessions.
# The memory holder is python3 with torch, else python3 with cupy, else a
# tiny CUDA C program built with nvcc (CUDA toolkit); set SMOKE_HOLDER to
# a command of your own that prints "ready" once it holds the memory.
# Run it with GPU 0 otherwise idle: a busy GPU 0 is active, not idle-held.
#
# Usage: tests/gpu/smoke.sh [GUA]   (default: ./gua, or $GUA)
# Exit: 0 passed, or "skipped: no NVIDIA GPU" on a host without one;
# 1 failed; 77 a GPU but nothing to hold memory with (see above).
set -u
GUA=${1:-${GUA:-./gua}}
TICKS=20

if ! command -v nvidia-smi >/dev/null 2>&1 ||
    ! nvidia-smi -L 2>/dev/null | grep -q '^GPU '; then
	echo "skipped: no NVIDIA GPU"
	exit 0
fi
case $GUA in /*) ;; *) GUA=$(pwd)/$GUA ;; esac
[ -x "$GUA" ] || { echo "smoke: no gua binary at $GUA (make first)"; exit 1; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/gua-smoke-XXXXXX")
HOLDER=""
COLLECTOR=""
cleanup() {
	[ -n "$COLLECTOR" ] && kill -TERM "$COLLECTOR" 2>/dev/null
	[ -n "$HOLDER" ] && kill -TERM "$HOLDER" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
FAILED=0
check() {	# DESCRIPTION CMD...: one line, PASS or FAIL
	_what=$1
	shift
	if "$@"; then echo "PASS: $_what"; else echo "FAIL: $_what"; FAILED=1; fi
}
# wait_for SECONDS CMD...: polls CMD every 0.1 s.
wait_for() {
	_n=$(($1 * 10))
	shift
	while ! "$@" 2>/dev/null; do
		_n=$((_n - 1))
		[ "$_n" -le 0 ] && return 1
		sleep 0.1
	done
}
ready() { grep -q '^ready' "$TMP/holder.out"; }
enough_ticks() { [ "$(wc -l <"$TMP/ticks")" -ge "$TICKS" ]; }

echo "== gua doctor"
"$GUA" doctor --db "$TMP/gua.db" --pid-file "$TMP/gua.pid"
DOCTOR=$?
[ "$DOCTOR" -eq 0 ] || { echo "FAIL: gua doctor exits $DOCTOR"; exit 1; }
echo "PASS: gua doctor"

echo "== holding 1 GiB of GPU 0's memory, idle"
if [ -n "${SMOKE_HOLDER:-}" ]; then
	HOLD="$SMOKE_HOLDER"
elif python3 -c 'import torch; assert torch.cuda.is_available()' \
    2>/dev/null; then
	HOLD="python3 -c 'import time, torch
x = torch.empty(256 * 1024 * 1024, dtype=torch.float32, device=\"cuda\")
x.zero_(); torch.cuda.synchronize(); print(\"ready\", flush=True)
time.sleep(600)'"
elif python3 -c 'import cupy; cupy.cuda.Device(0).use()' 2>/dev/null; then
	HOLD="python3 -c 'import time, cupy
x = cupy.zeros(256 * 1024 * 1024, dtype=cupy.float32)
cupy.cuda.Device(0).synchronize(); print(\"ready\", flush=True)
time.sleep(600)'"
elif command -v nvcc >/dev/null 2>&1; then
	cat >"$TMP/hold.cu" <<'EOF'
#include <cuda_runtime.h>
#include <stdio.h>
#include <unistd.h>

int
main(void)
{
	size_t size = (size_t)1 << 30;
	void *p;

	if (cudaSetDevice(0) != cudaSuccess ||
	    cudaMalloc(&p, size) != cudaSuccess ||
	    cudaMemset(p, 0, size) != cudaSuccess ||
	    cudaDeviceSynchronize() != cudaSuccess) {
		fprintf(stderr, "hold: cannot allocate 1 GiB on GPU 0\n");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	sleep(600);
	return 0;
}
EOF
	nvcc -o "$TMP/hold" "$TMP/hold.cu" || { echo "FAIL: nvcc"; exit 1; }
	HOLD=$TMP/hold
else
	echo "smoke: nothing to hold GPU memory with: install python3 with" \
	    "torch or cupy, or the CUDA toolkit (nvcc), or set SMOKE_HOLDER"
	exit 77
fi
# CUDA numbers GPUs fastest first, NVML by PCI bus: make GPU 0 the same.
CUDA_DEVICE_ORDER=PCI_BUS_ID CUDA_VISIBLE_DEVICES=0 sh -c "exec $HOLD" \
    >"$TMP/holder.out" 2>&1 &
HOLDER=$!
wait_for 120 ready || { echo "FAIL: the holder never got ready:"; \
    cat "$TMP/holder.out"; exit 1; }
echo "PASS: PID $HOLDER holds its memory"

echo "== $TICKS ticks of the collector"
"$GUA" daemon --foreground --db "$TMP/gua.db" --pid-file "$TMP/gua.pid" \
    --interval 200ms >"$TMP/ticks" 2>"$TMP/log" &
COLLECTOR=$!
wait_for 60 enough_ticks
kill -TERM "$COLLECTOR"
wait "$COLLECTOR"
RC=$?
COLLECTOR=""
cat "$TMP/log"
tail -n 3 "$TMP/ticks"
check "the collector stopped with 0" [ "$RC" -eq 0 ]
check "it wrote $TICKS ticks or more" enough_ticks

echo "== gua report"
"$GUA" report --db "$TMP/gua.db" >"$TMP/report"
cat "$TMP/report"
share=$(sed -n 's/^  idle-held .* \([0-9.]*\)%.*/\1/p' "$TMP/report")
check "the report shows idle-held time ($share %)" \
    awk -v s="${share:-0}" 'BEGIN { exit !(s > 0) }'
check "the holder (PID $HOLDER) is an idle-held session" \
    awk -v pid="$HOLDER" '/^\xc2\xa76/ { s = 1; next } s && $2 == pid { f = 1 }
    END { exit !f }' "$TMP/report"

[ "$FAILED" -eq 0 ] && echo "smoke: passed" || echo "smoke: FAILED"
exit "$FAILED"
