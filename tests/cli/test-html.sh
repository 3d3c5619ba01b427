#!/bin/sh
# report --format html: one self-contained page, rendered by headless
# Chromium (Debian's chromium, which .ci/run installs): a screenshot, no
# console errors, and SVG charts that carry the numbers of the JSON report
# of the same database.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"

DB=$TMP/demo.db
GUA_NOW=$NOW "$GUA" demo --db "$DB" >/dev/null 2>&1 || fail "demo failed"
HOSTILE=$TMP/hostile.db
cp "$DB" "$HOSTILE"
sqlite3 "$HOSTILE" "UPDATE procs SET comm = '<script>alert(1)</script>',
    user = '\"><img src=x onerror=alert(2)>',
    cmdline = 'a\" onmouseover=\"alert(3)' WHERE pid = 5678;
    UPDATE gpus SET name = '<b>bold</b>' WHERE idx = 0;"
B=$TMP/hostb.db
GUA_NOW=2026-11-25T10:29:50Z "$GUA" demo --db "$B" --ticks 12 >/dev/null 2>&1
sqlite3 "$B" "UPDATE meta SET value = 'host<b>' WHERE key = 'hostname'"

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
		    --window-size=1000,1800 --enable-logging=stderr --v=0 \
		    "$what" "file://$TMP/$1.html" >"$TMP/$1.stdout" \
		    2>>"$TMP/$1.log"
		rc=$?
		[ "$rc" -eq 0 ] || break
		[ "$what" = "--dump-dom" ] && cp "$TMP/$1.stdout" "$TMP/$1.dom"
	done
	rm -rf "$profile"
	return $rc
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
    "<script>alert(1)</script>" '"><img src=x onerror=alert(2)>' \
    "<b>bold</b>"
t "html hostile: the raw page escapes them"
if grep -q '&lt;script&gt;alert(1)&lt;/script&gt;' "$TMP/hostile.html" &&
    grep -q 'title="a&quot; onmouseover=&quot;alert(3)"' "$TMP/hostile.html"
then ok; else fail "not escaped"; fi

page hosts --db "$DB" --db "$B"
check_page "$TMP/hosts.dom" "$TMP/hosts.json" "host<b>/GPU-1" "2 hosts"

page empty --db "$DB" --until 2026-11-24T00:00:00Z
check_page "$TMP/empty.dom" "$TMP/empty.json" "(no samples in window)"

if [ -n "${GUA_KEEP_SCREENSHOT:-}" ] && [ -f "$TMP/demo.png" ]; then
	cp "$TMP/demo.png" "$GUA_KEEP_SCREENSHOT"
fi

finish
