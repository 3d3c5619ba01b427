#!/bin/sh
# report --format html: one self-contained page, rendered by headless
# Chromium (Debian's chromium, which .ci/run installs): a screenshot, no
# console errors, and SVG charts that carry the numbers of the JSON report
# of the same database. Its layout is checked from the page itself, as
# Chromium laid it out at 1280 px and at 390 px (a phone): html-layout.js.
# Screenshots stay in the test's temporary directory.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"

DB=$TMP/demo.db
GUA_NOW=$NOW "$GUA" demo --db "$DB" >/dev/null 2>&1 || fail "demo failed"
HOSTILE=$TMP/hostile.db
cp "$DB" "$HOSTILE"
procs "$HOSTILE" "UPDATE procs SET comm = '<script>alert(1)</script>',
    user = '\"><img src=x onerror=alert(2)>',
    cmdline = 'a\" onmouseover=\"alert(3)' WHERE pid = 5678;
    UPDATE procs SET comm = '<script>alert(4)</script>' WHERE pid = 9999;"
sqlite3 "$HOSTILE" "UPDATE gpus SET name = '<b>bold</b>' WHERE idx = 0;"
B=$TMP/hostb.db
GUA_NOW=2026-11-25T10:29:50Z "$GUA" demo --db "$B" --ticks 12 >/dev/null 2>&1
sqlite3 "$B" "UPDATE meta SET value = 'host<b>' WHERE key = 'hostname'"
# Six hours at 30 s, one command line long enough to be cut.
SIX=$TMP/six.db
GUA_NOW=$NOW "$GUA" demo --db "$SIX" --ticks 720 --interval 30s \
    >/dev/null 2>&1 || fail "demo --ticks 720 failed"
procs "$SIX" "UPDATE procs SET cmdline = '/usr/bin/python3 ' ||
    '/home/alice/projects/a-rather-long-path/train.py --epochs 90 ' ||
    '--lr 0.001 --batch-size 512 --data /scratch/imagenet' WHERE pid = 1234"

CHROMIUM=""
for c in chromium chromium-browser; do
	if command -v "$c" >/dev/null 2>&1; then CHROMIUM=$c; break; fi
done
t "chromium is there, to render the page"
if [ -n "$CHROMIUM" ]; then ok; else
	skip "needs chromium (apt-get install chromium)" chromium; fi

# render NAME: headless Chromium on $TMP/NAME.html: the DOM it built in
# $TMP/NAME.dom, a screenshot in $TMP/NAME.png, its log in $TMP/NAME.log.
render() {
	profile=$(mktemp -d "$TMP/profile-XXXXXX")
	for what in "--dump-dom" "--screenshot=$TMP/$1.png"; do
		timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu \
		    --disable-background-networking --disable-component-update \
		    --disable-sync --no-first-run --disable-extensions \
		    --user-data-dir="$profile" --hide-scrollbars \
		    --window-size=1280,1800 --enable-logging=stderr --v=0 \
		    "$what" "file://$TMP/$1.html" >"$TMP/$1.stdout" \
		    2>>"$TMP/$1.log"
		rc=$?
		[ "$rc" -eq 0 ] || break
		[ "$what" = "--dump-dom" ] && cp "$TMP/$1.stdout" "$TMP/$1.dom"
	done
	rm -rf "$profile"
	return $rc
}

# layout NAME: the page $TMP/NAME.html in two frames of a harness page,
# 1280 and 390 px wide, with html-layout.js run on them once laid out;
# every check it makes passes at both widths. (A frame of srcdoc is of
# the harness's origin, so the script may read it; the window of headless
# Chromium cannot be narrower than 500 px, a frame can.)
layout() {
	t "html $1: layout at 1280 and 390 px"
	if [ -z "$CHROMIUM" ]; then
		skip "needs chromium (apt-get install chromium)" chromium
		return
	fi
	_page=$(sed 's/&/\&amp;/g; s/"/\&quot;/g' "$TMP/$1.html")
	{
		printf '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
		printf '</head>\n<body style="margin:0">\n'
		for _w in 1280 390; do
			printf '<iframe data-width="%s" style="border:0;' "$_w"
			printf 'display:block;width:%spx;height:6000px" ' "$_w"
			printf 'srcdoc="%s"></iframe>\n' "$_page"
		done
		printf '<pre id="result">not run</pre>\n<script>\n'
		cat "$HERE/html-layout.js"
		printf '</script>\n</body></html>\n'
	} >"$TMP/$1-layout.html"
	_profile=$(mktemp -d "$TMP/profile-XXXXXX")
	timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu \
	    --disable-background-networking --disable-component-update \
	    --disable-sync --no-first-run --disable-extensions \
	    --user-data-dir="$_profile" --window-size=1400,2000 \
	    --virtual-time-budget=5000 --dump-dom \
	    "file://$TMP/$1-layout.html" >"$TMP/$1-layout.dom" \
	    2>"$TMP/$1-layout.log"
	rm -rf "$_profile"
	sed -n '/^<pre id="result">/,/<\/pre>/p' "$TMP/$1-layout.dom" |
	    sed 's/^<pre id="result">//; s/<\/pre>.*//' >"$TMP/$1-layout.txt"
	for _w in 1280 390; do
		for _c in no-horizontal-overflow gpu-numbers-visible \
		    heatmap-active-legend heatmap-idle-held-legend \
		    no-text-over-text sessions-one-line; do
			if grep -qx "ok $_w $_c" "$TMP/$1-layout.txt"; then ok
			else fail "$(grep " $_w $_c" "$TMP/$1-layout.txt" ||
			    head -c 300 "$TMP/$1-layout.txt")"; fi
		done
	done
	if grep -qx "ok 1280 charts-same-width" "$TMP/$1-layout.txt"; then ok
	else fail "$(grep " 1280 charts-same-width" "$TMP/$1-layout.txt")"; fi
	if grep -q '^FAIL' "$TMP/$1-layout.txt"; then
		fail "$(grep '^FAIL' "$TMP/$1-layout.txt" | head -3)"; else ok; fi
}

# check_page DOM JSON TEXT...: the DOM Chromium built holds the JSON's
# numbers and each TEXT (check-formats.py html); skipped without Chromium.
check_page() {
	if [ -z "$CHROMIUM" ]; then
		skip "needs chromium (apt-get install chromium)" chromium
		return
	fi
	check html "$@"
}

# page NAME JSON_ARGS... : the HTML and the JSON of the same report, the
# page rendered and checked against the JSON.
page() {
	name=$1
	shift
	t "html $name: written"
	GUA_NOW=$NOW run "$GUA" report "$@" --format html -o "$TMP/$name.html"
	expect_rc 0
	expect_empty_out
	GUA_NOW=$NOW run "$GUA" report "$@" --format json
	cp "$TMP/out" "$TMP/$name.json"
	t "html $name: self-contained, no script"
	if grep -qiE '<script|https?://|<[^>]* (src|href)=' "$TMP/$name.html"
	then fail "$(grep -oiE '<script|https?://[^"]*|<[^>]* (src|href)=' \
	    "$TMP/$name.html" | head -3)"; else ok; fi
	t "html $name: Chromium renders it, with a screenshot"
	if [ -z "$CHROMIUM" ]; then
		skip "needs chromium (apt-get install chromium)" chromium
		return
	fi
	if render "$name"; then ok; else
		fail "chromium exit $rc: $(grep -v dbus "$TMP/$name.log" |
		    tail -3)"; fi
	if [ "$(head -c 4 "$TMP/$name.png" 2>/dev/null | od -An -c |
	    tr -d ' ')" = '211PNG' ]; then ok; else fail "no PNG screenshot"; fi
	if [ "$(wc -c <"$TMP/$name.png")" -gt 10000 ]; then ok; else
		fail "the screenshot is nearly empty"; fi
	t "html $name: no console messages (errors, CSP violations)"
	if grep -E ':CONSOLE|Uncaught|Content Security Policy' \
	    "$TMP/$name.log" >"$TMP/console"; then
		fail "$(head -c 600 "$TMP/console")"; else ok; fi
	t "html $name: the charts carry the JSON's numbers"
}

page demo --db "$DB"
check_page "$TMP/demo.dom" "$TMP/demo.json" "13.3%" "46.7%" "40.0%" \
    "jupyter-lab" "GPU-1"
if [ -n "$CHROMIUM" ]; then
	if grep -q 'data-share="0.466667"' "$TMP/demo.dom"; then ok; else
		fail "the headline's idle-held share is not in the DOM"; fi
fi

t "html demo: §4 and §6 have an SM % column, '-' where it is unknown"
if [ "$(grep -c '<th class="n">SM %</th>' "$TMP/demo.html")" -eq 2 ]; then ok
else fail "$(grep -c '<th class="n">SM %</th>' "$TMP/demo.html") SM % headers"; fi
if grep -qF '<td class="n">8000</td><td class="n">0:00:30</td><td class="n">-</td><td>2026-11-25 10:29:31</td>' \
    "$TMP/demo.html"; then ok; else fail "no SM % cell in bob's row"; fi

page since --db "$DB" --since 7s --gpu 0
check_page "$TMP/since.dom" "$TMP/since.json"

page hostile --db "$HOSTILE"
check_page "$TMP/hostile.dom" "$TMP/hostile.json" \
    '<script>alert(1)</script> onmouseover="alert(3)' \
    "<script>alert(4)</script>" '"><img src=x onerror=alert(2)>' \
    "<b>bold</b>"
t "html hostile: the raw page escapes them"
if grep -q '&lt;script&gt;alert(1)&lt;/script&gt;' "$TMP/hostile.html" &&
    grep -q '&lt;script&gt;alert(4)&lt;/script&gt;' "$TMP/hostile.html" &&
    grep -q 'title="a&quot; onmouseover=&quot;alert(3)"' "$TMP/hostile.html"
then ok; else fail "not escaped"; fi

page hosts --db "$DB" --db "$B"
check_page "$TMP/hosts.dom" "$TMP/hosts.json" "host<b>/GPU-1" "2 hosts"

layout demo
layout hostile
layout hosts

page six --db "$SIX" --since 6h
check_page "$TMP/six.dom" "$TMP/six.json" "python3 /home/alice/projects/"
layout six
t "html six: six hours at 30 s make a timeline of at least 48 columns"
n=$(sed -n 's/.*data-buckets="\([0-9]*\)".*/\1/p' "$TMP/six.html")
if [ "${n:-0}" -ge 48 ]; then ok; else fail "${n:-no} buckets"; fi
t "html six: the timeline has time labels along it, not only its ends"
n=$(grep -c '<text class="tick"' "$TMP/six.html")
if [ "$n" -ge 4 ]; then ok; else fail "$n time labels"; fi
if grep -qF '<text class="tick" x="160.00" y="' "$TMP/six.html" &&
    grep -q '>2026-11-25 04:30</text>' "$TMP/six.html" &&
    grep -q '>06:00</text>' "$TMP/six.html"; then ok; else
	fail "$(grep -o '<text class="tick"[^<]*' "$TMP/six.html" | head -5)"; fi
page sixtz --db "$SIX" --since 6h --tz Asia/Kolkata
layout sixtz
t "html sixtz: in a zone half an hour off UTC, labels on round local times"
n=$(grep -c '<text class="tick"' "$TMP/sixtz.html")
if [ "$n" -ge 4 ] && grep -q '>2026-11-25 10:00</text>' "$TMP/sixtz.html" &&
    grep -q '>12:00</text>' "$TMP/sixtz.html" &&
    ! grep -q '<text class="tick"[^>]*>[0-9:]*:30</text>' "$TMP/sixtz.html"
then ok; else
	fail "$(grep -o '<text class="tick"[^<]*' "$TMP/sixtz.html" | head -5)"; fi

t "html six: both heatmaps, each with a legend of ten steps"
for id in heatmap-active heatmap-idle-held; do
	if grep -q "<svg id=\"$id\"" "$TMP/six.html" &&
	    [ "$(grep -o "<ol class=\"scale\" id=\"legend-$id\".*</ol>" \
	    "$TMP/six.html" | grep -o '<li data-step=' | wc -l)" -eq 10 ]
	then ok; else fail "$id or its legend"; fi
done
t "html six: a heatmap's hours are all labelled"
for h in 00 01 13 23; do
	if grep -q "text-anchor=\"middle\">$h</text>" "$TMP/six.html"; then ok
	else fail "no hour $h"; fi
done
t "html six: a cell's colour is its step's: 46.7 % idle-held is step 4"
if grep -q 'class="hi4"[^>]*data-share="0.466667" data-step="4"' \
    "$TMP/six.html"; then ok; else
	fail "$(grep -o '<rect class="hi[^>]*' "$TMP/six.html" | head -2)"; fi
t "html six: the command is cut to its column, whole in its title"
if grep -qF '<code class="cmd" title="/usr/bin/python3 /home/alice/projects/' \
    "$TMP/six.html"; then ok; else fail "no cut command"; fi
t "html: the command: its name, then its command line's arguments"
if grep -qF '<code class="cmd" title="jupyter-lab --no-browser">jupyter-lab --no-browser</code>' \
    "$TMP/demo.html"; then ok; else fail "$(grep -o '<code class="cmd"[^/]*' \
    "$TMP/demo.html" | head -3)"; fi
t "html six: §3 writes each GPU's shares out beside its bar"
tr -d '\n' <"$TMP/six.html" | sed 's/<tr/\n<tr/g' >"$TMP/six.rows"
if grep -q '<tr class="gpu" data-index="0" .*<td class="n">40.0%</td><td class="n">40.0%</td><td class="n">20.0%</td></tr>' \
    "$TMP/six.rows"; then ok; else fail "no numbers in GPU-0's row"; fi
t "html six: §3 names each GPU's model and memory"
if grep -q '<tr class="gpu" data-index="0" .*<div class="model">[^<]*, [0-9]* GiB</div>' \
    "$TMP/six.rows"; then ok; else
	fail "$(grep -o '<div class="model">[^/]*' "$TMP/six.html" | head -1)"; fi

t "html: full coverage gives no coverage warning"
if grep -q 'id="coverage-warning"' "$TMP/demo.html"; then
	fail "a warning at 100 %"; else ok; fi
page lowcov --db "$DB" --since 2h --until 2026-11-25T12:00:00Z
check_page "$TMP/lowcov.dom" "$TMP/lowcov.json" "Low coverage:"
t "html lowcov: low coverage is a warning above the numbers"
if grep -q '<p id="coverage-warning" class="warn"><b>Low coverage:</b> only 0.6% of' \
    "$TMP/lowcov.html" &&
    [ "$(grep -n 'id="coverage-warning"' "$TMP/lowcov.html" | cut -d: -f1)" \
    -lt "$(grep -n 'id="headline-bar"' "$TMP/lowcov.html" | cut -d: -f1)" ]
then ok; else fail "$(grep -o '<p id="coverage-warning".\{80\}' \
    "$TMP/lowcov.html")"; fi

page nohost --db "$DB" --db "$B" --since 5s
check_page "$TMP/nohost.dom" "$TMP/nohost.json" "no samples in window"
t "html nohost: a host without samples says so, not 0 GPUs 0.0 %"
if grep -q '<tr><td>host&lt;b&gt;</td><td>[^<]*</td><td class="warn" colspan="6">no samples in window</td></tr>' \
    "$TMP/nohost.html"; then ok; else
	fail "$(grep -o '<tr><td>host&lt;b&gt;.*' "$TMP/nohost.html")"; fi

page empty --db "$DB" --until 2026-11-24T00:00:00Z
check_page "$TMP/empty.dom" "$TMP/empty.json" "(no samples in window)"

if [ -n "${GUA_KEEP_SCREENSHOT:-}" ] && [ -f "$TMP/demo.png" ]; then
	cp "$TMP/demo.png" "$GUA_KEEP_SCREENSHOT"
fi

finish
