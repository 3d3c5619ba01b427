#!/bin/sh
# gua doctor: read-only checks; 0 when a collector could run here, 1 when
# not; never a file created or changed.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/cli/collector-lib.sh
. "$HERE/collector-lib.sh"

mkdir "$TMP/empty" "$TMP/bin"
DOCTOR_SCHEMA=$HERE/../../docs/gua-doctor.schema.json
# doctor DIR [options]: runs doctor with its database and PID file in DIR.
doctor() {
	_dir=$1
	shift
	gua doctor --db "$_dir/gua.db" --pid-file "$_dir/gua.pid" "$@"
}
# Nothing may appear in an empty directory.
expect_still_empty() {
	if [ -z "$(ls -A "$1")" ]; then ok; else fail "created: $(ls -A "$1")"; fi
}

t "this host without NVML: says so and what to do, exit 1, no file"
if has_real_nvml; then
	skip "this host has libnvidia-ml.so.1"
else
	PATH=$TMP/bin:/usr/bin:/bin doctor "$TMP/empty"
	expect_rc 1
	expect_out "fail  nvml load   cannot load NVML: libnvidia-ml.so.1"
	expect_out "verdict: no: NVML is missing"
	expect_out "Install the NVIDIA driver"
	expect_out "gua demo"
	expect_out "ok    database    $TMP/empty/gua.db: absent; the collector would create it"
	expect_out "ok    pid file    $TMP/empty/gua.pid: absent"
	expect_still_empty "$TMP/empty"
fi
t "a missing --nvml-library: exit 1, no file"
doctor "$TMP/empty" --nvml-library "$TMP/nope.so"
expect_rc 1
expect_out "cannot load NVML: $TMP/nope.so"
expect_still_empty "$TMP/empty"

echo "gpus 3" | scenario
t "with NVML (the fake): a collector could run, exit 0"
doctor "$TMP/empty" --nvml-library "$FAKE"
expect_rc 0
expect_out "ok    nvml load   $FAKE"
expect_out "ok    nvml init   driver 560.35.03"
expect_out "ok    gpus        3 GPUs"
expect_out "info  kernel      $(uname -s) $(uname -r)"
expect_out "verdict: yes"
expect_still_empty "$TMP/empty"
t "GUA_NVML_LIBRARY is honoured"
GUA_NVML_LIBRARY=$FAKE doctor "$TMP/empty"
expect_rc 0
expect_out "ok    gpus        3 GPUs"
t "an idle GPU: which per-process behaviour the driver shows cannot be told"
doctor "$TMP/empty" --nvml-library "$FAKE"
expect_out "info  proc util   no process was busy in 4 reads: run gua doctor while a CUDA job computes"
# The three behaviours the fake plays, told apart by reading a few times.
start SLEEP sleep 1000
for mode in periods latest mean; do
	scenario <<EOF
putil_mode $mode
process_period_us 100000
tick 0
util 0 85
proc 0 $SLEEP 6000 sm=85
proc 0 1 6000
EOF
	t "per-process utilization as a driver gives it: $mode"
	doctor "$TMP/empty" --nvml-library "$FAKE"
	expect_rc 0
	case $mode in
	periods) expect_out "ok    proc util   an entry per sampling period (up to " ;;
	*) expect_out "ok    proc util   one entry per busy process per read (1 at most): gua reads it every second" ;;
	esac
	doctor "$TMP/empty" --nvml-library "$FAKE" --json
	t "--json: the behaviour and the raw entries of each read ($mode)"
	want=per_read
	[ "$mode" = periods ] && want=per_period
	expect_eq "$(py "$TMP/out" 'd["process_utilization"]["behaviour"]')" "$want"
	expect_eq "$(py "$TMP/out" 'len(d["process_utilization"]["reads"])')" 4
	expect_eq "$(py "$TMP/out" 'sorted({e["pid"] for r in d["process_utilization"]["reads"] for e in r["entries"]})')" "[$SLEEP]"
	expect_eq "$(py "$TMP/out" '{e["sm_percent"] for r in d["process_utilization"]["reads"] for e in r["entries"]}')" "{85}"
	expect_still_empty "$TMP/empty"
done
kill "$SLEEP"
echo "gpus 3" | scenario

t "--json"
doctor "$TMP/empty" --nvml-library "$FAKE" --json
expect_rc 0
expect_out '"collector_can_run": true'
expect_out '"gpu_count": 3'
expect_out '"driver_version": "560.35.03"'
expect_out '"name": "nvml init"'
expect_out '"status": "ok"'
if command -v python3 >/dev/null 2>&1; then
	t "--json is valid JSON"
	if python3 -m json.tool "$TMP/out" >/dev/null; then ok; else
		fail "invalid JSON"; fi
fi
expect_out '"schema_version": 1,'
expect_out "\"generator\": \"gua $("$GUA" --version | sed 's/^gua //')\""
t "--json: valid against its schema"
cp "$TMP/out" "$TMP/doctor-ok.json"
check schema "$DOCTOR_SCHEMA" "$TMP/doctor-ok.json"
t "--json without NVML: false, exit 1"
doctor "$TMP/empty" --nvml-library "$TMP/nope.so" --json
expect_rc 1
expect_out '"collector_can_run": false'
expect_out '"gpu_count": null'
expect_out '"status": "fail"'
t "--json with a failing check: valid against its schema"
cp "$TMP/out" "$TMP/doctor-fail.json"
check schema "$DOCTOR_SCHEMA" "$TMP/doctor-fail.json"

echo "init_error DRIVER_NOT_LOADED" | scenario
t "NVML that does not initialise: exit 1"
doctor "$TMP/empty" --nvml-library "$FAKE"
expect_rc 1
expect_out "fail  nvml init   NVML ($FAKE) failed to initialise: the NVIDIA kernel driver is not loaded"
echo "gpus 0" | scenario
t "NVML without GPUs: exit 1"
doctor "$TMP/empty" --nvml-library "$FAKE"
expect_rc 1
expect_out "fail  gpus        NVML finds no NVIDIA GPU"
expect_out "verdict: no: NVML works but finds no GPU"
echo "gpus 1" | scenario

t "a gua database of this host: fine with --append, untouched"
mkdir "$TMP/db"
gua demo --db "$TMP/db/gua.db" >/dev/null 2>&1
cp "$TMP/db/gua.db" "$TMP/copy.db"
doctor "$TMP/db" --nvml-library "$FAKE"
expect_rc 0
expect_out "warn  database    $TMP/db/gua.db: a gua database from this host; 'gua daemon --append' adds to it"
expect_same "$TMP/db/gua.db" "$TMP/copy.db"
t "--json on an existing gua database: valid against its schema"
doctor "$TMP/db" --nvml-library "$FAKE" --json
expect_out '"name": "retention"'
cp "$TMP/out" "$TMP/doctor-db.json"
check schema "$DOCTOR_SCHEMA" "$TMP/doctor-db.json"
expect_same "$TMP/db/gua.db" "$TMP/copy.db"
t "... and no sidecar file appears"
if [ "$(ls -A "$TMP/db")" = gua.db ]; then ok; else fail "$(ls -A "$TMP/db")"; fi
t "a database of another host: the collector would refuse it, exit 1"
q "$TMP/db/gua.db" "UPDATE meta SET value = 'elsewhere' WHERE key = 'hostname'"
cp "$TMP/db/gua.db" "$TMP/copy.db"
doctor "$TMP/db" --nvml-library "$FAKE"
expect_rc 1
expect_out "recorded on host 'elsewhere'"
expect_same "$TMP/db/gua.db" "$TMP/copy.db"
t "a file that is not a gua database: exit 1, untouched"
echo "hello" >"$TMP/db/gua.db"
doctor "$TMP/db" --nvml-library "$FAKE"
expect_rc 1
expect_out "not a SQLite file"
t "a database path in a directory nobody can write: exit 1"
# Root writes where permissions say no, but not on a read-only mount;
# where root may not mount, the directory is tried as nobody.
mkdir "$TMP/ro"
chmod 555 "$TMP/ro"
as=""
if [ "$(id -u)" -eq 0 ]; then
	if mount -t tmpfs -o ro,size=64k tmpfs "$TMP/ro" 2>/dev/null; then
		trap 'umount "$TMP/ro" 2>/dev/null; cleanup' EXIT
	elif command -v setpriv >/dev/null 2>&1 && id nobody >/dev/null 2>&1
	then
		chmod 755 "$TMP"
		as="setpriv --reuid=nobody --regid=$(id -g nobody) --clear-groups"
	fi
fi
if [ "$(id -u)" -eq 0 ] && [ -z "$as" ] && ! mountpoint -q "$TMP/ro"; then
	skip "root, and neither a read-only mount nor setpriv to try as nobody"
else
	run $as "$GUA" doctor --db "$TMP/ro/gua.db" --pid-file "$TMP/ro/gua.pid" \
	    --nvml-library "$FAKE"
	expect_rc 1
	expect_out "$TMP/ro/gua.db: absent, and its directory $TMP/ro is not writable"
	expect_still_empty "$TMP/ro"
fi
if mountpoint -q "$TMP/ro"; then umount "$TMP/ro"; fi

t "a running collector's PID file: reported, still exit 0"
gua daemon --nvml-library "$FAKE" --db "$TMP/run.db" --pid-file "$TMP/empty/gua.pid" \
    --log-file "$TMP/run.log" --interval 100ms
CPID=$(sed -n 1p "$TMP/empty/gua.pid")
doctor "$TMP/empty" --nvml-library "$FAKE"
expect_rc 0
expect_out "warn  pid file    $TMP/empty/gua.pid: a collector is running (PID $CPID, database $TMP/run.db)"
gua stop --pid-file "$TMP/empty/gua.pid" >/dev/null
t "a stale PID file: noted"
printf '1\n/x.db\n' >"$TMP/empty/gua.pid"
doctor "$TMP/empty" --nvml-library "$FAKE"
expect_rc 0
expect_out "info  pid file    $TMP/empty/gua.pid: stale"
rm -f "$TMP/empty/gua.pid"

t "nvidia-smi -L: its output, run without a shell"
cat >"$TMP/bin/nvidia-smi" <<'EOF'
#!/bin/sh
[ "$1" = "-L" ] && [ $# -eq 1 ] || exit 9
echo "GPU 0: Fake H100 (UUID: GPU-1111)"
echo "GPU 1: Fake H100 (UUID: GPU-2222)"
EOF
chmod +x "$TMP/bin/nvidia-smi"
PATH=$TMP/bin:$PATH doctor "$TMP/empty" --nvml-library "$FAKE"
expect_rc 0
expect_out "ok    nvidia-smi  GPU 0: Fake H100 (UUID: GPU-1111);GPU 1: Fake H100 (UUID: GPU-2222)"
t "nvidia-smi -L that fails: its status and words"
printf '#!/bin/sh\necho "NVIDIA-SMI has failed"\nexit 9\n' >"$TMP/bin/nvidia-smi"
PATH=$TMP/bin:$PATH doctor "$TMP/empty" --nvml-library "$FAKE"
expect_out "warn  nvidia-smi  nvidia-smi -L exited with status 9: NVIDIA-SMI has failed"
t "nvidia-smi -L that hangs: killed after 3 s with its children"
printf '#!/bin/sh\necho $$ >"%s"\nsleep 60 &\necho $! >>"%s"\nwait\n' \
    "$TMP/hung" "$TMP/hung" >"$TMP/bin/nvidia-smi"
PATH=$TMP/bin:$PATH doctor "$TMP/empty" --nvml-library "$FAKE"
expect_rc 0
expect_out "warn  nvidia-smi  nvidia-smi -L did not finish within 3 s and was killed"
for p in $(cat "$TMP/hung"); do
	STARTED="$STARTED $p"
	if wait_until gone "$p"; then ok; else fail "PID $p survived"; fi
done
expect_still_empty "$TMP/empty"

finish_collector
