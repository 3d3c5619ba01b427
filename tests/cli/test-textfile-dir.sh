#!/bin/sh
# The textfile recipe of docs/prometheus.md, as shipped in
# contrib/prometheus/: a directory of gua's own that its group may write
# (tmpfiles.d), and a drop-in that gives the unit's user that group and
# that directory. Checked against the unit, verified by systemd-analyze,
# then played for real as root: a real group and user, the directory
# made by systemd-tmpfiles from the shipped line, the collector run as
# that user (not root, not the directory's owner) writing the textfile,
# a node_exporter run as yet another user serving it, and gua stop
# taking it away.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/cli/collector-lib.sh
. "$HERE/collector-lib.sh"
TOP=$(cd "$HERE/../.." && pwd)
UNIT=$TOP/contrib/gua.service
TMPF=$TOP/contrib/prometheus/gua-metrics.tmpfiles
DROPIN=$TOP/contrib/prometheus/gua-textfile.conf

# The shipped line: "d PATH MODE USER GROUP -".
line=$(grep -v '^#' "$TMPF" | grep .)
t "the tmpfiles.d line: a directory in /run, root's, group-writable, setgid"
# shellcheck disable=SC2086 # split into its fields
set -- $line
if [ "$#" -eq 6 ] && [ "$1" = d ] && [ "$3" = 2775 ] && [ "$4" = root ] &&
    [ "$6" = - ]; then ok; else fail "'$line'"; fi
DIR=$2
GROUP=$5
case $DIR in /run/*) ok ;; *) fail "$DIR is not in /run" ;; esac

t "the drop-in gives the unit that group and that directory, and only adds --textfile-dir"
if grep -qxF "SupplementaryGroups=$GROUP" "$DROPIN" &&
    grep -qxF "ReadWritePaths=$DIR" "$DROPIN" &&
    grep -qxF "ExecStart=" "$DROPIN"; then ok; else
	fail "$(grep -v '^#' "$DROPIN")"; fi
want="$(sed -n 's/^ExecStart=//p' "$UNIT") --textfile-dir $DIR"
if [ "$(sed -n 's/^ExecStart=\(..*\)/\1/p' "$DROPIN")" = "$want" ]; then ok
else fail "its ExecStart is not the unit's plus --textfile-dir $DIR"; fi
t "the unit keeps its own state directory and its own user"
for l in User=gua StateDirectory=gua StateDirectoryMode=0750 \
    ProtectSystem=strict; do
	if grep -qxF "$l" "$UNIT"; then ok; else fail "no $l"; fi
done

t "systemd-analyze verify reads the drop-in and finds nothing wrong"
if need systemd-analyze systemd; then
	mkdir -p "$TMP/unit/gua.service.d"
	sed "s|^ExecStart=/usr/bin/gua |ExecStart=$GUA |" "$UNIT" \
	    >"$TMP/unit/gua.service"
	# verify() DROPIN: what systemd says about the unit and DROPIN (at
	# debug level: a drop-in's faults are not said otherwise).
	verify() {
		sed "s|^ExecStart=/usr/bin/gua |ExecStart=$GUA |" "$1" \
		    >"$TMP/unit/gua.service.d/textfile.conf"
		run sh -c 'cd "$1" && SYSTEMD_LOG_LEVEL=debug exec \
		    systemd-analyze verify --man=no gua.service' sh "$TMP/unit"
	}
	verify "$DROPIN"
	expect_rc 0
	expect_count "$TMP/err" "textfile.conf:" 0
	t "... and would say so about a bad line in it (the check is real)"
	cp "$DROPIN" "$TMP/bad.conf"
	echo "ProtectHome=perhaps" >>"$TMP/bad.conf"
	verify "$TMP/bad.conf"
	expect_err "textfile.conf:"
fi

# The rest creates a group and a user and changes owners: root only.
t "the recipe played as a non-root user"
if [ "$(id -u)" -ne 0 ]; then
	skip "needs root (a group and a user are created)"
	finish
	exit
fi
if ! need groupadd passwd || ! need useradd passwd ||
    ! need setpriv util-linux || ! need systemd-tmpfiles systemd ||
    ! need prometheus-node-exporter prometheus-node-exporter ||
    ! need curl curl; then
	finish
	exit
fi
# The accounts are this run's own (by PID) and go with it.
TG=gua-m$$
TU=gua-t$$
drop_accounts() {
	userdel "$TU" >/dev/null 2>&1
	groupdel "$TG" >/dev/null 2>&1
}
trap 'cleanup; drop_accounts' EXIT
groupadd --system "$TG" && useradd --system --no-create-home \
    --home-dir /nonexistent --shell /usr/sbin/nologin --gid nogroup "$TU"
RC=$?
expect_rc 0

chmod 755 "$TMP"
chmod 644 "$FAKE_NVML_SCENARIO"
D=$TMP/run/gua-metrics
mkdir "$TMP/run"
sed "s|^d $DIR \(.*\) $GROUP -$|d $D \1 $TG -|" "$TMPF" >"$TMP/gua-metrics.conf"
t "systemd-tmpfiles makes the directory from the shipped line"
run systemd-tmpfiles --create "$TMP/gua-metrics.conf"
expect_rc 0
if [ "$(stat -c '%a %U %G' "$D" 2>&1)" = "2775 root $TG" ]; then ok; else
	fail "$(stat -c '%a %U %G' "$D" 2>&1)"; fi

# The service's own state directory, as StateDirectory= makes it.
mkdir "$TMP/state"
chown "$TU:nogroup" "$TMP/state"
chmod 750 "$TMP/state"
start HOLDER sleep 1000
scenario <<EOF
gpus 1
gpu 0 uuid=GPU-recipe00 total=40960
tick 0
util 0 1
proc 0 $HOLDER 6000
EOF
# as_user [setpriv options]: the unit's user, with the group of the
# drop-in's SupplementaryGroups= by default.
as_user() {
	_groups=--groups=$(getent group "$TG" | cut -d: -f3)
	case ${1:-} in --*) _groups=$1; shift ;; esac
	setpriv --reuid="$TU" --regid=nogroup "$_groups" "$@"
}
daemon() {
	run as_user "$@" "$GUA" daemon --nvml-library "$FAKE" \
	    --db "$TMP/state/gua.db" --pid-file "$TMP/state/gua.pid" \
	    --log-file "$TMP/state/gua.log" --interval 50ms --textfile-dir "$D"
}

t "without the group the user cannot write the directory: refused"
daemon --clear-groups
expect_rc 1
expect_err "cannot write there"
expect_no_file "$TMP/state/gua.db"

t "with it the collector runs as that user and writes the textfile"
daemon
expect_rc 0
expect_file "$D/gua.prom"
if [ "$(stat -c '%U %G %a' "$D/gua.prom" 2>&1)" = "$TU $TG 644" ]; then ok
else fail "$(stat -c '%U %G %a' "$D/gua.prom" 2>&1)"; fi

t "node_exporter, as another user, reads the directory and serves it"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null || echo 19101)
start NE setpriv --reuid=nobody --regid=nogroup --clear-groups \
    prometheus-node-exporter --web.listen-address="127.0.0.1:$port" \
    --collector.disable-defaults --collector.textfile \
    --collector.textfile.directory="$D" 2>"$TMP/ne.err"
scrape() { curl -fsS "http://127.0.0.1:$port/metrics" >"$TMP/metrics" 2>/dev/null; }
expect_wait scrape
expect_count "$TMP/metrics" "node_textfile_scrape_error 0" 1
expect_count "$TMP/metrics" 'gua_gpu_memory_held_bytes{gpu="0",uuid="GPU-recipe00"} 6.291456e+09' 1
expect_count "$TMP/metrics" 'gua_gpu_memory_total_bytes{gpu="0",uuid="GPU-recipe00"} 4.294967296e+10' 1

t "gua stop, by that user, removes the textfile; node_exporter serves no gua family"
run as_user "$GUA" stop --pid-file "$TMP/state/gua.pid"
expect_rc 0
expect_no_file "$D/gua.prom"
expect_wait scrape
expect_count "$TMP/metrics" "node_textfile_scrape_error 0" 1
expect_count "$TMP/metrics" "gua_" 0
finish_collector
