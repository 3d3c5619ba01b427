#!/bin/sh
# A smoke test for a real NVIDIA host (not part of `make check`):
#   1. gua doctor must say a collector can run here;
#   2. a CUDA process allocates 1 GiB on GPU 0 and then sleeps;
#   3. the collector records 20 ticks (200 ms apart) in the foreground;
#   4. gua report must show idle-held time, and the holder's PID among the
#      idle-held sessions;
#   5. a second CUDA process computes without pause on GPU 0; gua doctor
#      --json logs the raw per-process utilization entries of four reads
#      (entries per PID, timestamps, values) and which behaviour the
#      driver shows;
#   6. the collector runs 3 ticks at the default 30 s interval: the busy
#      process must never be idle-held, the holder (0 %) idle-held
#      throughout; each one's per-tick SM % is printed.
# The memory holder is python3 with torch, else python3 with cupy, else a
# tiny CUDA C program built with nvcc (CUDA toolkit); set SMOKE_HOLDER to
# a command of your own that prints "ready" once it holds the memory, and
# SMOKE_BUSY to one that prints "ready" once it computes without pause.
# Run it with GPU 0 otherwise idle: a busy GPU 0 is active, not idle-held.
# It takes about three minutes.
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
BUSY=""
COLLECTOR=""
cleanup() {
	[ -n "$COLLECTOR" ] && kill -TERM "$COLLECTOR" 2>/dev/null
	[ -n "$HOLDER" ] && kill -TERM "$HOLDER" 2>/dev/null
	[ -n "$BUSY" ] && kill -TERM "$BUSY" 2>/dev/null
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
busy_ready() { grep -q '^ready' "$TMP/busy.out"; }
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
	BUSY_CMD="python3 -c 'import torch
x = torch.rand(4096, 4096, device=\"cuda\")
print(\"ready\", flush=True)
while True:
    x = (x @ x).clamp_(0, 1); torch.cuda.synchronize()'"
elif python3 -c 'import cupy; cupy.cuda.Device(0).use()' 2>/dev/null; then
	HOLD="python3 -c 'import time, cupy
x = cupy.zeros(256 * 1024 * 1024, dtype=cupy.float32)
cupy.cuda.Device(0).synchronize(); print(\"ready\", flush=True)
time.sleep(600)'"
	BUSY_CMD="python3 -c 'import cupy
x = cupy.random.rand(4096, 4096, dtype=cupy.float32)
print(\"ready\", flush=True)
while True:
    x = cupy.clip(x @ x, 0, 1); cupy.cuda.Device(0).synchronize()'"
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
	cat >"$TMP/busy.cu" <<'EOF'
#include <cuda_runtime.h>
#include <stdio.h>

__global__ void
spin(float *x)
{
	float v = x[threadIdx.x];

	for (int i = 0; i < 1000000; i++)
		v = v * 0.999f + 0.001f;
	x[threadIdx.x] = v;
}

int
main(void)
{
	float *x;

	if (cudaSetDevice(0) != cudaSuccess ||
	    cudaMalloc(&x, 1024 * sizeof(float)) != cudaSuccess) {
		fprintf(stderr, "busy: no GPU 0\n");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		spin<<<1, 1024>>>(x);
		cudaDeviceSynchronize();
	}
}
EOF
	nvcc -o "$TMP/hold" "$TMP/hold.cu" || { echo "FAIL: nvcc"; exit 1; }
	nvcc -o "$TMP/busy" "$TMP/busy.cu" || { echo "FAIL: nvcc"; exit 1; }
	HOLD=$TMP/hold
	BUSY_CMD=$TMP/busy
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

echo "== a second CUDA process computing without pause"
[ -n "${SMOKE_BUSY:-}" ] && BUSY_CMD=$SMOKE_BUSY
CUDA_DEVICE_ORDER=PCI_BUS_ID CUDA_VISIBLE_DEVICES=0 sh -c "exec $BUSY_CMD" \
    >"$TMP/busy.out" 2>&1 &
BUSY=$!
wait_for 120 busy_ready || { echo "FAIL: the busy process never got ready:"; \
    cat "$TMP/busy.out"; exit 1; }
sleep 3
echo "PASS: PID $BUSY computes"

echo "== how this driver reports per-process utilization (gua doctor --json)"
"$GUA" doctor --db "$TMP/gua2.db" --pid-file "$TMP/gua2.pid" --json \
    >"$TMP/doctor.json"
python3 - "$TMP/doctor.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
pu = d.get("process_utilization") or {}
print("behaviour:", pu.get("behaviour"),
      "| most entries per PID per read:",
      pu.get("most_entries_per_process_per_read"))
for r in pu.get("reads", []):
    per_pid = {}
    for e in r["entries"]:
        per_pid.setdefault(e["pid"], []).append(
            (e["timestamp_us"], e["sm_percent"]))
    print("gpu %d read %d (nvml %d): %d entries" % (r["gpu"], r["read"],
          r["nvml_return"], len(r["entries"])))
    for pid, es in sorted(per_pid.items()):
        print("  pid %d: %d entries: %s" % (pid, len(es), " ".join(
            "%d@%d" % (v, t) for t, v in es)))
EOF

echo "== 3 ticks at a 30 s interval, a busy process beside an idle holder"
"$GUA" daemon --foreground --db "$TMP/gua30.db" --pid-file "$TMP/gua30.pid" \
    --interval 30s >"$TMP/ticks30" 2>"$TMP/log30" &
COLLECTOR=$!
three_ticks() { [ "$(wc -l <"$TMP/ticks30")" -ge 3 ]; }
wait_for 120 three_ticks
kill -TERM "$COLLECTOR"
wait "$COLLECTOR"
COLLECTOR=""
cat "$TMP/ticks30"
"$GUA" report --db "$TMP/gua30.db" --format json >"$TMP/r30.json"
check "at 30 s the busy process (PID $BUSY) is never idle-held" \
    python3 - "$TMP/r30.json" "$BUSY" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
pid = int(sys.argv[2])
held = sum(s["idle_held_seconds"] for s in d["sessions"] if s["pid"] == pid)
print("busy PID %d: %.0f s idle-held" % (pid, held))
sys.exit(held > 0)
EOF
check "at 30 s the holder (PID $HOLDER) is idle-held throughout" \
    python3 - "$TMP/r30.json" "$HOLDER" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
pid = int(sys.argv[2])
s = [s for s in d["sessions"] if s["pid"] == pid]
held = sum(x["idle_held_seconds"] for x in s)
print("holder PID %d: %.0f s idle-held" % (pid, held))
sys.exit(not s or held <= 0)
EOF

[ "$FAILED" -eq 0 ] && echo "smoke: passed" || echo "smoke: FAILED"
exit "$FAILED"
