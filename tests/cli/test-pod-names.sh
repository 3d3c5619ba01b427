#!/bin/sh
# A pod's names: a real process placed in a real cgroup whose path is a
# Kubernetes pod's (kubepods...pod<uid>.slice/cri-containerd-<id>.scope),
# and a pod log tree as kubelet keeps one (NAMESPACE_NAME_UID/CONTAINER,
# here under GUA_POD_LOG_ROOT): the collector records the pod's namespace,
# name and container name with the process, and --metrics-by pod and
# namespace label the idle-held counter with them. Without the tree, the
# uid alone, and not a word in the log.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/cli/collector-lib.sh
. "$HERE/collector-lib.sh"

UID_D=0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0
UID_U=$(echo "$UID_D" | tr - _)
CID=4f3b2a1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a

# A cgroup hierarchy this test may write: the v2 one, else v1's pids.
CG_ROOT=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
[ -n "$CG_ROOT" ] || CG_ROOT=$(awk '$3 == "cgroup" && $4 ~ /(^|,)pids(,|$)/ {
    print $2; exit }' /proc/mounts)
CG_POD=$CG_ROOT/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod$UID_U.slice
CG=$CG_POD/cri-containerd-$CID.scope

t "a process in a real kubepods cgroup"
if [ "$(id -u)" != 0 ]; then
	skip "needs root to make a cgroup"
	finish_collector
	exit
fi
# The directories this test makes, innermost first: only they are removed.
MADE=""
for d in "$CG_ROOT/kubepods.slice" \
    "$CG_ROOT/kubepods.slice/kubepods-besteffort.slice" "$CG_POD" "$CG"; do
	[ -n "$CG_ROOT" ] && [ ! -d "$d" ] && MADE="$d $MADE"
done
if [ -z "$CG_ROOT" ] || ! mkdir -p "$CG" 2>/dev/null; then
	skip "no writable cgroup hierarchy (${CG_ROOT:-none mounted})"
	finish_collector
	exit
fi
# The cgroups go with the test, the process moved out first.
cg_cleanup() {
	if [ -n "${HOLDER:-}" ]; then
		echo "$HOLDER" >"$CG_ROOT/cgroup.procs" 2>/dev/null
		kill -9 "$HOLDER" 2>/dev/null
	fi
	for d in $MADE; do
		rmdir "$d" 2>/dev/null
	done
	cleanup
}
trap cg_cleanup EXIT
start HOLDER sleep 1000
echo "$HOLDER" >"$CG/cgroup.procs"
if grep -qF "pod$UID_U.slice/cri-containerd-$CID.scope" "/proc/$HOLDER/cgroup"
then ok; else fail "not moved: $(cat "/proc/$HOLDER/cgroup")"; fi

mkdir -p "$TMP/pods/ml_train-0_$UID_D/worker" \
    "$TMP/pods/web_api_11111111-2222-3333-4444-555555555555/app"
: >"$TMP/pods/ml_train-0_$UID_D/worker/0.log"

scenario <<EOF2
gpus 1
gpu 0 uuid=GPU-pod00000 name=Trainer total=40960
tick 0
util 0 2
proc 0 $HOLDER 12000
EOF2
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
DB=$TMP/pods.db
# collect ROOT BY: a collector with GUA_POD_LOG_ROOT=ROOT and
# --metrics-by BY, scraped once it wrote a few ticks, then stopped.
collect() {
	rm -f "$DB"
	GUA_POD_LOG_ROOT=$1 run "$GUA" daemon --nvml-library "$FAKE" \
	    --db "$DB" --pid-file "$TMP/pods.pid" --log-file "$TMP/pods.log" \
	    --interval 50ms --listen "127.0.0.1:$PORT" --metrics-by "$2"
	expect_rc 0
	expect_wait ticks_at_least "$DB" 3
	curl -sS --max-time 10 -o "$TMP/metrics" "http://127.0.0.1:$PORT/metrics"
	run "$GUA" stop --pid-file "$TMP/pods.pid"
	expect_rc 0
}

t "the pod's names are recorded with the process"
collect "$TMP/pods" pod
expect_eq "$(procs "$DB" "SELECT pod, container, pod_namespace, pod_name,
    container_name FROM procs WHERE pid = $HOLDER")" \
    "$UID_D|4f3b2a1c0d9e|ml|train-0|worker"
t "--metrics-by pod: the counter's pod is namespace/name"
expect_count "$TMP/metrics" "gua_process_idle_held_seconds_total{pod=\"ml/train-0\",gpu=\"0\"" 1
expect_count "$TMP/metrics" "{user=" 0

t "the JSON report names the pod, and is valid"
GUA_NOW='' "$GUA" report --db "$DB" --since 36500d --format json \
    >"$TMP/report.json"
PYTHON=python3
expect_eq "$(py "$TMP/report.json" '[(s["pod"], s["pod_namespace"], s["pod_name"], s["container_name"]) for s in d["sessions"]]')" \
    "[('$UID_D', 'ml', 'train-0', 'worker')]"
expect_eq "$(py "$TMP/report.json" '[(i["pod_namespace"], i["pod_name"]) for i in d["identities"]]')" \
    "[('ml', 'train-0')]"
if python3 -c 'import jsonschema' 2>/dev/null; then
	if python3 -c 'import json, sys, jsonschema
jsonschema.validate(json.load(open(sys.argv[2])), json.load(open(sys.argv[1])))' \
	    "$HERE/../../docs/gua-report.schema.json" "$TMP/report.json"; then ok
	else fail "the report does not match its schema"; fi
else
	skip "needs python3-jsonschema" python3-jsonschema
fi

# by_pod ARGS...: the JSON report's sessions with ARGS, and its keys.
by_pod() {
	GUA_NOW='' "$GUA" report --db "$DB" --since 36500d --format json "$@" \
	    >"$TMP/by.json"
	py "$TMP/by.json" '[len(d["sessions"])] + [i["key"] for i in d["identities"]]'
}
t "--by pod reads namespace/name; --by namespace the namespace"
expect_eq "$(by_pod --by pod)" "[1, 'ml/train-0']"
expect_eq "$(by_pod --by namespace)" "[1, 'ml']"
GUA_NOW='' run "$GUA" report --db "$DB" --since 36500d --by pod
expect_out "ml/train-0"
t "--pod takes the name, namespace/name or the UID; --namespace the namespace"
ME=$(id -un)
for want in train-0 ml/train-0 "$UID_D"; do
	expect_eq "$(by_pod --pod "$want")" "[1, '$ME']"
done
for other in train ml/other web/train-0 ml; do
	expect_eq "$(by_pod --pod "$other")" "[0]"
done
expect_eq "$(by_pod --namespace ml)" "[1, '$ME']"
expect_eq "$(by_pod --namespace web)" "[0]"
expect_eq "$(by_pod --namespace ml --pod web/api)" "[0]"

t "--metrics-by namespace"
collect "$TMP/pods" namespace
expect_count "$TMP/metrics" "gua_process_idle_held_seconds_total{namespace=\"ml\",gpu=\"0\"" 1

t "no pod log tree: the uid alone, and the log says nothing of it"
collect "$TMP/nowhere" pod
expect_eq "$(procs "$DB" "SELECT pod, pod_namespace, pod_name, container_name
    FROM procs WHERE pid = $HOLDER")" "$UID_D|||"
expect_count "$TMP/metrics" "gua_process_idle_held_seconds_total{pod=\"$UID_D\",gpu=\"0\"" 1
expect_count "$TMP/pods.log" "nowhere" 0

t "a pod directory that is no Kubernetes name is not taken"
mv "$TMP/pods/ml_train-0_$UID_D" "$TMP/pods/ml_Train\"0_$UID_D"
collect "$TMP/pods" pod
expect_eq "$(procs "$DB" "SELECT pod_namespace || pod_name FROM procs
    WHERE pid = $HOLDER")" ""
finish_collector
