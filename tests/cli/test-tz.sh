#!/bin/sh
# report --tz: the window, every time and the heatmaps' hours in an IANA
# zone or the machine's, in every format, with the offset shown; a window
# across a DST change neither loses nor counts an hour twice; a name that
# is not a zone is bad usage and touches nothing.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
TOP=$(cd "$HERE/../.." && pwd)
SCHEMA=$TOP/docs/gua-report.schema.json

DB=$TMP/demo.db
GUA_NOW=$NOW "$GUA" demo --db "$DB" >/dev/null 2>&1 || fail "demo failed"
rep() { GUA_NOW=$NOW run "$GUA" report --db "$DB" --since 30s "$@"; }
# py FILE EXPR: EXPR over the JSON in FILE (as d).
py() {
	"$PYTHON" -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(eval(sys.argv[2]))' "$1" "$2"
}
expect_eq() {
	if [ "$1" = "$2" ]; then ok; else fail "got '$1', want '$2'"; fi
}
# cells FILE KEY: the heatmap's cells with samples, "weekday:hour" each.
cells() {
	py "$1" '" ".join("%d:%d" % (w, h) for w in range(7) for h in range(24)
	    if d["heatmaps"]["'"$2"'"][w][h] is not None)'
}

if [ ! -e /usr/share/zoneinfo/Europe/Paris ]; then
	t "the zone files are there"
	skip "needs /usr/share/zoneinfo (apt-get install tzdata)" tzdata
	finish
	exit
fi

t "text in Europe/Paris: the window, the heatmaps and §6 an hour on"
rep --tz Europe/Paris
expect_rc 0
expect_empty_err
expect_out "Window: 2026-11-25 11:29:30 +01:00 to 2026-11-25 11:30:00 +01:00 (Europe/Paris), 0:00:30"
expect_out "§5 Time-of-day heatmap (Europe/Paris)"
# Wednesday, 11:00 in Paris: the cell of hour 11 (column 8 + 2 x 11).
expect_out "  Wed                         ."
expect_out "first seen (Europe/Paris)"
expect_out "2026-11-25 11:29:31+01:00  2026-11-25 11:30:00+01:00  yes"
t "text in UTC by default: hour 10, times without an offset"
rep
expect_out "Window: 2026-11-25 10:29:30 +00:00 to 2026-11-25 10:30:00 +00:00 (UTC), 0:00:30"
expect_out "  Wed                       ."
expect_out "2026-11-25 10:29:31  2026-11-25 10:30:00"

t "--tz UTC is the default"
rep --tz UTC
cp "$TMP/out" "$TMP/utc.txt"
rep
expect_same "$TMP/out" "$TMP/utc.txt"

t "json in Europe/Paris: RFC 3339 with the offset, the same instants"
rep --tz Europe/Paris --format json
expect_rc 0
cp "$TMP/out" "$TMP/paris.json"
check schema "$SCHEMA" "$TMP/paris.json"
expect_out '"time_zone": "Europe/Paris",'
expect_out '"start": "2026-11-25T11:29:30+01:00",'
expect_out '"first_seen": "2026-11-25T11:29:31+01:00",'
rep --format json
cp "$TMP/out" "$TMP/utc.json"
expect_out '"time_zone": "UTC",'
expect_out '"start": "2026-11-25T10:29:30Z",'
if [ -n "$PYTHON" ]; then
	expect_eq "$(py "$TMP/paris.json" 'd["window"]["start_epoch_seconds"]')" \
	    "$(py "$TMP/utc.json" 'd["window"]["start_epoch_seconds"]')"
	expect_eq "$(cells "$TMP/paris.json" active)" "3:11"
	expect_eq "$(cells "$TMP/utc.json" active)" "3:10"
fi

t "csv in Europe/Paris: sessions and ticks with the offset"
rep --tz Europe/Paris --format csv --table sessions
expect_rc 0
expect_out ",2026-11-25T11:29:31+01:00,2026-11-25T11:30:00+01:00,"
rep --tz Europe/Paris --format csv --table ticks
expect_out "2026-11-25T11:29:31+01:00,"
expect_no_out "Z,"

t "html in Europe/Paris: the window, the heatmap's hours, the table"
rep --tz Europe/Paris --format html
expect_rc 0
expect_out "11:30:00+01:00 Europe/Paris (0:00:30)"
expect_out "5 Time-of-day heatmaps (Europe/Paris)</h2>"
expect_out 'data-day="3" data-hour="11" data-share="0.466667" data-step="4"><title>Wed 11:00 Europe/Paris: idle-held 46.7%'
expect_out "<th>first seen (Europe/Paris)</th>"
expect_out "times in Europe/Paris</footer>"
expect_no_out "UTC"

t "--tz local is the machine's zone: TZ, named"
TZ=America/New_York rep --tz local
expect_rc 0
expect_out "Window: 2026-11-25 05:29:30 -05:00 to 2026-11-25 05:30:00 -05:00 (America/New_York), 0:00:30"
TZ=:Asia/Tokyo rep --tz local --format json
expect_out '"time_zone": "Asia/Tokyo",'
expect_out '"start": "2026-11-25T19:29:30+09:00",'

for bad in Mars/Olympus_Mons ../../../etc/passwd /etc/localtime \
    Europe/../Europe/Paris Europe "" "Europe/Paris;rm"; do
	t "--tz '$bad' is bad usage, and -o is not touched"
	rep --tz "$bad" -o "$TMP/never.html"
	expect_rc 2
	expect_err "--tz: "
	expect_err_lines 2
	expect_no_file "$TMP/never.html"
done

# A DST change: Europe/Berlin's clocks go back at 2026-10-25 01:00 UTC,
# so 02:00 local comes twice. Six hours of 1-minute ticks across it.
DST=$TMP/dst.db
GUA_NOW=2026-10-25T03:00:00Z "$GUA" demo --db "$DST" --ticks 360 \
    --interval 1m >/dev/null 2>&1 || fail "demo failed"
dst() { GUA_NOW=2026-10-25T03:00:00Z run "$GUA" report --db "$DST" \
    --since 6h "$@"; }
t "across a DST change: the window's ends carry their own offsets"
dst --tz Europe/Berlin
expect_rc 0
expect_out "Window: 2026-10-24 23:00:00 +02:00 to 2026-10-25 04:00:00 +01:00 (Europe/Berlin), 6:00:00"
expect_out "2026-10-24 23:01:00+02:00   2026-10-25 04:00:00+01:00"
t "across a DST change: the twice-seen 02:00 is one cell, nothing lost"
dst --tz Europe/Berlin --format json
cp "$TMP/out" "$TMP/berlin.json"
check schema "$SCHEMA" "$TMP/berlin.json"
dst --format json
cp "$TMP/out" "$TMP/dst-utc.json"
dst --tz Asia/Kolkata --format json
cp "$TMP/out" "$TMP/kolkata.json"
if [ -n "$PYTHON" ]; then
	# Saturday 23:00 CEST, Sunday 00:00 to 04:00 (02:00 twice).
	expect_eq "$(cells "$TMP/berlin.json" idle_held)" "0:0 0:1 0:2 0:3 0:4 6:23"
	expect_eq "$(cells "$TMP/dst-utc.json" idle_held)" "0:0 0:1 0:2 0:3 6:21 6:22 6:23"
	# Half an hour off UTC: read raw, each UTC hour over two cells.
	expect_eq "$(cells "$TMP/kolkata.json" idle_held)" "0:2 0:3 0:4 0:5 0:6 0:7 0:8"
	for z in berlin kolkata; do
		expect_eq "$(py "$TMP/$z.json" 'd["totals"]["samples"]')" \
		    "$(py "$TMP/dst-utc.json" 'd["totals"]["samples"]')"
	done
fi

finish
