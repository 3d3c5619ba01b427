#!/bin/sh
# What contrib/ ships for Prometheus and Grafana, against the families a
# real textfile has: the alert rules pass promtool's checks and their own
# `promtool test rules` (and a rule changed breaks it: the tests are
# real); the dashboard is importable anywhere, and every query names only
# gua's families and parses with Prometheus's parser.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/cli/collector-lib.sh
. "$HERE/collector-lib.sh"
TOP=$(cd "$HERE/../.." && pwd)
RULES=$TOP/contrib/prometheus/gua-rules.yml
RTEST=$TOP/contrib/prometheus/gua-rules.test.yml
DASH=$TOP/contrib/grafana/gua.json
# The streak family comes with the collector's per-process streak
# tracker; it is accepted by name whether or not this build writes it.
STREAK=gua_process_idle_held_streak_seconds

# The families of a real textfile: a collector's first tick on the fake
# NVML (a long interval: it writes once, then waits).
TF=$TMP/textfile
mkdir "$TF"
start HOLDER sleep 1000
scenario <<EOF
gpus 1
tick 0
util 0 1
proc 0 $HOLDER 6000
EOF
t "a collector writes a textfile to take the families from"
run "$GUA" daemon --nvml-library "$FAKE" --db "$TMP/c.db" \
    --pid-file "$TMP/c.pid" --log-file "$TMP/c.log" --interval 1h \
    --textfile-dir "$TF"
expect_rc 0
sed -n 's/^# TYPE \([^ ]*\) .*/\1/p' "$TF/gua.prom" >"$TMP/families"
run "$GUA" stop --pid-file "$TMP/c.pid"
expect_rc 0
grep -qx "$STREAK" "$TMP/families" || echo "$STREAK" >>"$TMP/families"
for fam in gua_gpu_state_seconds_total gua_gpu_memory_total_bytes \
    gua_last_tick_timestamp_seconds gua_build_info; do
	if grep -qx "$fam" "$TMP/families"; then ok; else
		fail "no $fam in the textfile"; fi
done

t "every family the rules name is one gua exports"
for fam in $(grep -o 'gua_[a-z_]*' "$RULES" | sort -u); do
	if grep -qx "$fam" "$TMP/families"; then ok; else
		fail "$fam is no family gua exports"; fi
done

t "the dashboard's structure, its queries' families"
if [ -z "$PYTHON" ]; then
	skip "needs python3 (apt-get install python3)" python3
else
	# dash FILE: the structural check of a dashboard; its queries as
	# recording rules in $TMP/dash-rules.yml.
	dash() {
		run "$PYTHON" "$HERE/check-dashboard.py" "$1" "$TMP/families" \
		    "$TMP/dash-rules.yml"
	}
	dash "$DASH"
	expect_rc 0
	expect_empty_err
	t "the dashboard has the panels the issue asks for"
	for fam in gua_gpu_state_seconds_total gua_process_idle_held_seconds_total \
	    "$STREAK" gua_gpu_memory_held_bytes gua_gpu_memory_total_bytes \
	    gua_last_tick_timestamp_seconds; do
		if grep -q "$fam" "$TMP/dash-rules.yml"; then ok; else
			fail "no query of $fam"; fi
	done
	cp "$TMP/dash-rules.yml" "$TMP/dash-good.yml"
	t "the check is real: a hard-coded uid, a family gua lacks, a bad variable"
	sed '0,/"uid": "\${DS_PROMETHEUS}"/s//"uid": "P1809F7CD0C75ACF3"/' \
	    "$DASH" >"$TMP/bad1.json"
	dash "$TMP/bad1.json"
	expect_rc 1
	expect_err "hard-coded 'P1809F7CD0C75ACF3'"
	sed 's/gua_gpu_memory_total_bytes/node_memory_MemTotal_bytes/' \
	    "$DASH" >"$TMP/bad2.json"
	dash "$TMP/bad2.json"
	expect_rc 1
	expect_err "node_memory_MemTotal_bytes is no family gua exports"
	sed 's/\[\$__range\]/[$__span]/' "$DASH" >"$TMP/bad3.json"
	dash "$TMP/bad3.json"
	expect_rc 1
	expect_err "a variable the check does not know"
	printf '{"panels": [' >"$TMP/bad4.json"
	dash "$TMP/bad4.json"
	expect_rc 1
	expect_err "not JSON"
fi

t "promtool: the rules are valid"
if ! need promtool prometheus; then
	finish_collector
	exit
fi
run promtool check rules "$RULES"
expect_rc 0
expect_out "SUCCESS: 5 rules found"
t "promtool: each alert fires and stays quiet as gua-rules.test.yml says"
run promtool test rules "$RTEST"
expect_rc 0
expect_out "SUCCESS"
t "every alert is shown firing in the tests"
for a in $(sed -n 's/^ *- alert: //p' "$RULES"); do
	if awk -v a="$a" '$0 ~ "alertname: " a "$" { want = 1; next }
	    want && /exp_alerts:$/ { found = 1 } { want = 0 }
	    END { exit !found }' "$RTEST"; then ok; else
		fail "$a is never expected to fire"; fi
done

# mutate NAME SED: the rules changed by SED fail their tests.
mutate() {
	mkdir -p "$TMP/m"
	cp "$RTEST" "$TMP/m/gua-rules.test.yml"
	sed "$2" "$RULES" >"$TMP/m/gua-rules.yml"
	if cmp -s "$RULES" "$TMP/m/gua-rules.yml"; then
		fail "$1: the change did not apply"
		return
	fi
	run promtool test rules "$TMP/m/gua-rules.test.yml"
	if [ "$RC" -ne 0 ]; then ok; else fail "$1: the tests still pass"; fi
}
t "the tests are real: a rule changed fails them"
mutate "3 hours, not 2" 's/> 2 \* 3600/> 3 * 3600/'
mutate "no freshness guard" 's/(time() - gua_last_tick_timestamp_seconds < 600)/(gua_last_tick_timestamp_seconds)/'
mutate "threshold 60 %" 's/> 0\.3$/> 0.6/'
mutate "unknown time counted" 's/state=~"active|idle_held|truly_idle"/state=~".+"/'
mutate "stale after 100 minutes" 's/gua_last_tick_timestamp_seconds > 600/gua_last_tick_timestamp_seconds > 6000/'
mutate "down without the unless" '/unless on (instance, job) gua_build_info/d'
mutate "absent of another name" 's/absent(gua_build_info)/absent(gua_info)/'

# The PromQL of docs/prometheus.md: a comment line (#) ends the
# expression before it; a line that opens with an operator, or follows
# one that ends with one, goes on the expression before it; any other
# starts a new one.
t "the queries docs/prometheus.md shows name gua's families and parse"
awk 'BEGIN { print "groups:\n  - name: docs\n    rules:" }
    function put() {
	if (e == "") return
	gsub(/\\/, "\\\\", e); gsub(/"/, "\\\"", e)
	printf "      - record: docs:query_%d\n        expr: \"%s\"\n", n++, e
	e = ""
    }
    /^```promql$/ { inblock = 1; next }
    inblock && /^```$/ { put(); inblock = 0; next }
    inblock && /^[ \t]*#/ { put(); next }
    inblock && (/^[ \t]*(\/|\+|-|\*|and |or |unless )/ ||
	e ~ /(\/|\+|-|\*|and|or|unless)[ \t]*$/) { e = e " " $0; next }
    inblock { put(); e = $0 }' "$TOP/docs/prometheus.md" >"$TMP/docs-rules.yml"
n=$(grep -c 'record: docs:' "$TMP/docs-rules.yml")
if [ "$n" -ge 6 ]; then ok; else fail "only $n queries found"; fi
for fam in $(grep -o 'gua_[a-z_]*' "$TMP/docs-rules.yml" | sort -u); do
	if grep -qx "$fam" "$TMP/families"; then ok; else
		fail "$fam is no family gua exports"; fi
done
run promtool check rules "$TMP/docs-rules.yml"
expect_rc 0
expect_out "SUCCESS: $n rules found"

t "promtool parses every query of the dashboard"
if [ -n "$PYTHON" ]; then
	run promtool check rules "$TMP/dash-good.yml"
	expect_rc 0
	n=$(grep -c '"expr"' "$DASH")
	expect_out "SUCCESS: $n rules found"
	t "... and would refuse one that does not parse (the check is real)"
	sed 's/ \/ 3600)"/ \/ 3600"/' "$DASH" >"$TMP/bad5.json"
	dash "$TMP/bad5.json"
	run promtool check rules "$TMP/dash-rules.yml"
	expect_rc 1
fi
finish_collector
