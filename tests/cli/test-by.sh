#!/bin/sh
# report --by and the filters (--user, --job, --pod, --container, --unit,
# --command) on real processes placed in real cgroups, as Slurm,
# Kubernetes and systemd place theirs: the real collector reads who they
# are from /proc/PID/cgroup, the fake NVML lists them on its GPUs. Needs
# root and a writable cgroup2 hierarchy (the pod also goes through a v1
# name=systemd one when it is mounted); skips otherwise.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/cli/collector-lib.sh
. "$HERE/collector-lib.sh"
TOP=$(cd "$HERE/../.." && pwd)

# Usage needs no cgroup.
t "--by: an unknown key is bad usage"
gua report --db "$TMP/none.db" --by nope
expect_rc 2
expect_err "--by: unknown key 'nope' (user, job, pod, namespace, container, unit, command, gpu or host)"
t "--job: an empty value is bad usage"
gua report --db "$TMP/none.db" --job ''
expect_rc 2
expect_err "--job: empty value"

V2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
V1=$(awk '$3 == "cgroup" && $4 ~ /name=systemd/ { print $2; exit }' \
    /proc/self/mounts)
CGS=""		# the cgroup directories made, innermost first
# cg DIR: makes the cgroup DIR (and the ones above it) for rmdir at exit.
cg() {
	mkdir -p "$1" 2>/dev/null || return 1
	_d=$1
	while [ "$_d" != "$V2" ] && [ "$_d" != "$V1" ] && [ -n "$_d" ]; do
		CGS="$CGS $_d"
		_d=${_d%/*}
	done
}
# put PID DIR: moves PID into the cgroup DIR.
put() { cg "$2" && echo "$1" >"$2/cgroup.procs"; }
by_cleanup() {
	cleanup
	# The processes are reaped: their cgroups are empty. Innermost
	# first, as they were listed.
	for _d in $CGS; do rmdir "$_d" 2>/dev/null; done
}
trap by_cleanup EXIT

if [ "$(id -u)" -ne 0 ] || [ -z "$V2" ] || [ ! -w "$V2" ]; then
	skip "needs root and a writable cgroup2 hierarchy"
	finish
fi

POD=1f2e3d4c-5b6a-4789-8abc-def012345678
ID64=3f2a1b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708
B2=$V2/gua-test-by.$$
cp /bin/sleep "$TMP/trainer"	# a command named otherwise: comm "trainer"
start JOB sleep 1001
start PODP sleep 1002
start UNIT sleep 1003
start PLAIN "$TMP/trainer" 1004
wait_until comm_is "$PLAIN" trainer
ok=1
put "$JOB" "$B2/slurm/uid_0/job_4242/step_0" || ok=0
put "$UNIT" "$B2/system.slice/jupyter.service" || ok=0
put "$PLAIN" "$B2/plain" || ok=0
# The pod through cgroup v1 where it is mounted (its v2 cgroup then tells
# nothing), else through v2.
if [ -n "$V1" ] && [ -w "$V1" ]; then
	B1=$V1/gua-test-by.$$
	put "$PODP" "$B2/plain" || ok=0
	put "$PODP" "$B1/kubepods/burstable/pod$POD/$ID64" || ok=0
	for p in "$JOB" "$UNIT" "$PLAIN"; do
		put "$p" "$B1/plain" || ok=0
	done
else
	put "$PODP" "$B2/kubepods/burstable/pod$POD/$ID64" || ok=0
fi
if [ "$ok" -ne 1 ]; then
	skip "cannot move a process into a cgroup here"
	finish
fi

t "the processes read their places from /proc/PID/cgroup"
if grep -q '/slurm/uid_0/job_4242/step_0$' "/proc/$JOB/cgroup" &&
    grep -q "/pod$POD/$ID64\$" "/proc/$PODP/cgroup"; then ok
else fail "$(cat "/proc/$JOB/cgroup" "/proc/$PODP/cgroup")"; fi

# GPU 0: the job, idle-held; GPU 1: the pod, active; GPU 2: the unit,
# idle-held; GPU 3: the plain process, idle-held.
scenario <<EOF
gpus 4
tick 0
util 0 0
util 1 80
util 2 0
util 3 0
proc 0 $JOB 7000
proc 1 $PODP 5000
proc 2 $UNIT 3000
proc 3 $PLAIN 2000
EOF
DB=$TMP/by.db
start COL "$GUA" daemon --foreground --nvml-library "$FAKE" --db "$DB" \
    --pid-file "$TMP/by.pid" --interval 100ms >"$TMP/by.out" 2>"$TMP/by.err"
wait_until lines_at_least "$TMP/by.out" 8
kill -TERM "$COL"
wait "$COL"
LAST=$(ticks_csv "$DB" | tail -1 | cut -d, -f2)
# rep NAME [options]: the JSON report of everything recorded in
# $TMP/NAME.json, its text in $TMP/NAME.txt.
rep() {
	_n=$1
	shift
	GUA_NOW='' "$GUA" report --db "$DB" --since 36500d --until "$LAST" \
	    --format json "$@" >"$TMP/$_n.json" 2>"$TMP/$_n.err"
	GUA_NOW='' "$GUA" report --db "$DB" --since 36500d --until "$LAST" \
	    "$@" >"$TMP/$_n.txt" 2>>"$TMP/$_n.err"
	J=$TMP/$_n.json
}
# ids: the identities as (key, sessions), sorted.
ids() { py "$J" 'sorted((i["key"] or "", i["sessions"]) for i in d["identities"])'; }
# pids: the sessions' PIDs, sorted.
pids() { py "$J" 'sorted(s["pid"] for s in d["sessions"])'; }
# hours: the report's GPU-hours, every state.
hours() { py "$J" 'sum(d["totals"][k + "_gpu_hours"] for k in ("active", "idle_held", "truly_idle", "unknown"))'; }

rep all
t "unfiltered: four GPUs, four sessions, no filter"
expect_eq "$(py "$J" '(d["totals"]["gpu_count"], len(d["sessions"]), d["filter"], d["identities_by"])')" \
    "(4, 4, None, 'user')"
check schema "$TOP/docs/gua-report.schema.json" "$J"
ALL_HELD=$(hours)

for key in job pod container unit command gpu host user; do
	rep "by-$key" --by "$key"
	t "--by $key: valid against the schema, and says its key"
	check schema "$TOP/docs/gua-report.schema.json" "$J"
	expect_eq "$(py "$J" 'd["identities_by"]')" "$key"
	t "--by $key: the text names the key over section 4"
	if grep -q "^  $key  " "$TMP/by-$key.txt"; then ok
	else fail "no '$key' column in $TMP/by-$key.txt"; fi
	t "--by $key: every session in one row, the GPU-hours all counted"
	expect_eq "$(py "$J" 'sum(i["sessions"] for i in d["identities"])')" 4
	expect_near "$(py "$J" 'sum(i["gpu_hours"] for i in d["identities"])')" \
	    "$ALL_HELD"
done
t "--by job: the job, and the others as one (none) row"
J=$TMP/by-job.json
expect_eq "$(ids)" "[('', 3), ('job_4242', 1)]"
expect_text "$TMP/by-job.txt" "(none)"
t "--by pod: the pod's UID, and (none)"
J=$TMP/by-pod.json
expect_eq "$(ids)" "[('', 3), ('$POD', 1)]"
t "--by container: the pod's container, short, and (none)"
J=$TMP/by-container.json
expect_eq "$(ids)" "[('', 3), ('3f2a1b4c5d6e', 1)]"
t "--by unit: the unit; no unit for the others"
J=$TMP/by-unit.json
expect_eq "$(py "$J" '[i["sessions"] for i in d["identities"] if i["key"] == "jupyter.service"]')" \
    "[1]"
t "--by command: trainer apart from the three sleeps"
J=$TMP/by-command.json
expect_eq "$(ids)" "[('sleep', 3), ('trainer', 1)]"
t "--by gpu: one row a GPU"
J=$TMP/by-gpu.json
expect_eq "$(ids)" "[('GPU-0', 1), ('GPU-1', 1), ('GPU-2', 1), ('GPU-3', 1)]"
t "--by host: one row"
J=$TMP/by-host.json
expect_eq "$(py "$J" '[i["sessions"] for i in d["identities"]]')" "[4]"
t "--by user: the user (root, who started them all)"
J=$TMP/by-user.json
expect_eq "$(py "$J" '[(i["user"], i["sessions"]) for i in d["identities"]]')" \
    "[('root', 4)]"

t "CSV --by job: the identities table's column is named job"
GUA_NOW='' gua report --db "$DB" --since 36500d --until "$LAST" \
    --format csv --table identities --by job
expect_out "host,job,sessions,"
expect_out ",job_4242,1,"
t "HTML --by job: the table's header is job"
GUA_NOW='' gua report --db "$DB" --since 36500d --until "$LAST" \
    --format html --by job
expect_out "<tr><th>job</th>"
t "--by job and --by unit: a row is not named twice ('job_4242 (slurm job_4242)')"
if grep -q "^  job_4242  " "$TMP/by-job.txt"; then ok
else fail "$(grep job_4242 "$TMP/by-job.txt")"; fi
if grep -q "^  jupyter.service  " "$TMP/by-unit.txt"; then ok
else fail "$(grep jupyter.service "$TMP/by-unit.txt")"; fi
expect_out "<tr><td>job_4242</td>"
t "CSV --by host over two databases: each column named once, the host the key"
cp "$DB" "$TMP/other.db"
sqlite3 "$TMP/other.db" "UPDATE meta SET value = 'other' WHERE key = 'hostname'"
GUA_NOW='' gua report --db "$DB" --db "$TMP/other.db" --since 36500d \
    --until "$LAST" --format csv --table identities --by host
expect_rc 0
if head -1 "$TMP/out" | tr ',' '\n' | sort | uniq -d | grep -q .; then
	fail "a column named twice: $(head -1 "$TMP/out")"; else ok; fi
expect_out "host,sessions,"
expect_out "other,4,"
t "text and HTML --by host over two databases: the host once a row"
GUA_NOW='' gua report --db "$DB" --db "$TMP/other.db" --since 36500d \
    --until "$LAST" --by host
expect_no_out "other@other"
if grep -q "^  other  " "$TMP/out"; then ok; else fail "$(grep other "$TMP/out")"; fi
GUA_NOW='' gua report --db "$DB" --db "$TMP/other.db" --since 36500d \
    --until "$LAST" --format html --by host
expect_no_out "<tr><th>host</th><th>host</th>"
t "text --by gpu over two databases: GPUs named host/GPU-0, as elsewhere"
GUA_NOW='' gua report --db "$DB" --db "$TMP/other.db" --since 36500d \
    --until "$LAST" --by gpu
if grep -q "^  other/GPU-0  " "$TMP/out"; then ok
else fail "$(grep GPU-0 "$TMP/out" | head -3)"; fi
expect_no_out "GPU-0@other"

# A filter counts what its processes held: GPU-hours of only their GPUs
# at only their ticks, the GPU classified as ever.
t "--job 4242: only the job's process and its GPU, idle-held all along"
rep job --job 4242
expect_eq "$(pids)" "[$JOB]"
expect_eq "$(py "$J" '(d["filter"], d["totals"]["gpu_count"], d["totals"]["idle_held_ratio"])')" \
    "('job=4242', 1, 1.0)"
check schema "$TOP/docs/gua-report.schema.json" "$J"
expect_text "$TMP/job.txt" "Filtered: job=4242"
t "--job 4242: a quarter of the unfiltered GPU-hours (one of four GPUs)"
expect_near "$(hours)" "$(py "$J" "$ALL_HELD / 4")"
t "--job job_4242 is the same job"
rep job2 --job job_4242
expect_eq "$(pids)" "[$JOB]"
t "--pod UID: the pod's process, active all along"
rep pod --pod "$POD"
expect_eq "$(pids)" "[$PODP]"
expect_eq "$(py "$J" 'd["totals"]["active_ratio"]')" "1.0"
t "--container: its short id, or the full one"
rep ctr --container 3f2a1b4c5d6e
expect_eq "$(pids)" "[$PODP]"
rep ctr2 --container "$ID64"
expect_eq "$(pids)" "[$PODP]"
t "--unit jupyter.service"
rep unit --unit jupyter.service
expect_eq "$(pids)" "[$UNIT]"
t "--command trainer"
rep cmd --command trainer
expect_eq "$(pids)" "[$PLAIN]"
t "--user root: every process"
rep root --user root
expect_eq "$(pids)" "$(printf '%s\n' "$JOB" "$PODP" "$UNIT" "$PLAIN" | sort -n | paste -sd, - | sed 's/,/, /g; s/^/[/; s/$/]/')"
t "OR within a key: --job 4242 --job 9999 is the job"
rep or --job 4242 --job 9999
expect_eq "$(pids)" "[$JOB]"
t "AND across keys: --user root --job 4242 is the job"
rep and --user root --job 4242
expect_eq "$(pids)" "[$JOB]"
t "AND across keys: --job 4242 --pod UID is nothing"
rep none --job 4242 --pod "$POD"
expect_eq "$(py "$J" '(len(d["sessions"]), d["totals"]["gpu_count"])')" \
    "(0, 0)"
expect_eq "$(hours)" 0.0
t "--user nobody: nothing"
rep nobody --user nobody
expect_eq "$(py "$J" 'len(d["identities"])')" 0

t "a filter applies to the CSV processes and ticks tables"
GUA_NOW='' gua report --db "$DB" --since 36500d --until "$LAST" \
    --format csv --table processes --job 4242
expect_eq "$(tail -n +2 "$TMP/out" | cut -d, -f6 | sort -u)" "$JOB"
GUA_NOW='' gua report --db "$DB" --since 36500d --until "$LAST" \
    --format csv --table ticks --pod "$POD"
expect_eq "$(tail -n +2 "$TMP/out" | cut -d, -f4 | sort -u)" 1
t "a filter is said in the HTML header"
GUA_NOW='' gua report --db "$DB" --since 36500d --until "$LAST" \
    --format html --unit jupyter.service
expect_out '<p class="sub" id="filtered">Filtered: unit=jupyter.service'

# ---- contrib/slurm/gua-epilog.sh on the job above, with a stub
# scontrol on PATH that says when the job started, as Slurm's does (in
# local time, no zone).
EPI=$TOP/contrib/slurm/gua-epilog.sh
mkdir "$TMP/bin"
FIRST=$(ticks_csv "$DB" | head -1 | cut -d, -f2)
BEGAN=$(($(date -u -d "$FIRST" +%s) - 10))
BEGAN_Z=$(date -u -d "@$BEGAN" +%Y-%m-%dT%H:%M:%SZ)
cat >"$TMP/bin/scontrol" <<EOF
#!/bin/sh
[ "\$*" = "-o show job 4242" ] || exit 1
echo "JobId=4242 JobName=train UserId=root(0) JobState=COMPLETING StartTime=$(date -d "@$BEGAN" +%Y-%m-%dT%H:%M:%S) EndTime=Unknown"
EOF
chmod +x "$TMP/bin/scontrol"
# epilog [VAR=VALUE...]: the epilog for job 4242 as slurmd runs it.
epilog() {
	env PATH="$TMP/bin:$PATH" GUA="$GUA" GUA_DB="$DB" GUA_NOW='' \
	    SLURM_JOB_ID=4242 SLURM_JOB_UID=0 "$@" sh "$EPI" >"$TMP/out" \
	    2>"$TMP/err"
	RC=$?
}
t "epilog: the job's summary from the start scontrol gives"
epilog
expect_rc 0
expect_empty_err
expect_out "gua: GPU summary of Slurm job 4242 on $(hostname), since $BEGAN_Z"
expect_out "  idle-held        100.0% ("
expect_out "(1 process-GPU pairs)"
t "epilog: the idle-held process, with its GPU and memory"
expect_out "    pid $JOB sleep on GPU-0: idle-held "
expect_out ", peak 7000 MiB, "
t "epilog: its GPU-hours and idle GiB-hours are the report's"
cp "$TMP/out" "$TMP/epi.out"
GUA_NOW='' "$GUA" report --db "$DB" --job 4242 --since "$BEGAN_Z" \
    --format json >"$TMP/epi.json"
J=$TMP/epi.json
expect_text "$TMP/epi.out" "$(py "$J" '"%.2f GiB-hours held while idle" % d["identities"][0]["idle_held_gib_hours"]')"
expect_text "$TMP/epi.out" "  GPU-hours        $(py "$J" '"%.2f" % d["identities"][0]["gpu_hours"]') "
t "epilog: SLURM_JOB_START_TIME before scontrol; after the job's ticks, nothing"
AFTER=$(($(date -u -d "$LAST" +%s) + 60))
epilog SLURM_JOB_START_TIME=$AFTER \
    GUA_NOW="$(date -u -d "@$((AFTER + 60))" +%Y-%m-%dT%H:%M:%SZ)"
expect_rc 0
expect_out "  no process of the job held a GPU"
t "epilog: without scontrol or a start time, the fallback window"
env PATH="/usr/bin:/bin" GUA="$GUA" GUA_DB="$DB" GUA_NOW='' SLURM_JOB_ID=4242 \
    GUA_EPILOG_FALLBACK=36500d sh "$EPI" >"$TMP/out" 2>"$TMP/err"
RC=$?
expect_rc 0
expect_out "over the last 36500d (the job's start is unknown)"
expect_out "    pid $JOB sleep on GPU-0: idle-held "
t "epilog: a database it cannot read is said, and the job still ends well"
epilog GUA_DB="$TMP/missing.db"
expect_rc 0
expect_out "gua: no GPU summary for job 4242: gua report: $TMP/missing.db"
t "epilog: no job number, no report, exit 0"
epilog SLURM_JOB_ID='4242;reboot'
expect_rc 0
expect_out "SLURM_JOB_ID is not a job number"
t "epilog: a gua that hangs is ended after GUA_EPILOG_TIMEOUT, exit 0"
printf '#!/bin/sh\nexec sleep 1000\n' >"$TMP/bin/hang"
chmod +x "$TMP/bin/hang"
epilog GUA="$TMP/bin/hang" GUA_EPILOG_TIMEOUT=1
expect_rc 0
expect_out "gua: no GPU summary for job 4242"
t "epilog: GUA_EPILOG_DIR keeps a copy of the summary"
mkdir "$TMP/sums"
epilog GUA_EPILOG_DIR="$TMP/sums"
if cmp -s "$TMP/out" "$TMP/sums/job-4242.txt"; then ok
else fail "no copy in $TMP/sums/job-4242.txt"; fi

finish
