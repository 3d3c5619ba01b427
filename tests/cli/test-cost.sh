#!/bin/sh
# report --cost-per-gpu-hour AMOUNT [--currency CODE]: §2 and §4 price the
# idle-held GPU-hours (and all the observed ones) in cents, the same cents
# in text, JSON, CSV and HTML, over one host or several; no currency
# symbol is guessed; a bad amount or code is bad usage and touches no file.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
TOP=$(cd "$HERE/../.." && pwd)
SCHEMA=$TOP/docs/gua-report.schema.json

# Six hours of the demo at 30 s: 8.40 idle-held GPU-hours of 18.00
# observed; bob 6.00 idle-held, alice 2.40 (its numbers are the demo's).
DB=$TMP/demo.db
GUA_NOW=$NOW "$GUA" demo --db "$DB" --ticks 720 --interval 30s \
    >/dev/null 2>&1 || fail "demo failed"
rep() { GUA_NOW=$NOW run "$GUA" report --db "$DB" --since 6h "$@"; }
# py FILE EXPR: EXPR over the JSON in FILE (as d).
py() {
	"$PYTHON" -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(eval(sys.argv[2]))' "$1" "$2"
}
expect_eq() {
	if [ "$1" = "$2" ]; then ok; else fail "got '$1', want '$2'"; fi
}

t "text with a currency: §2's idle-held and observed cost, §4's column"
rep --cost-per-gpu-hour 2.50 --currency EUR
expect_rc 0
expect_empty_err
expect_out "  idle-held cost 21.00 EUR, of 45.00 EUR for all 18.00 observed GPU-hours (at 2.50 EUR a GPU-hour)"
expect_out "SM %  idle-held cost"
expect_out "       -       15.00 EUR"
expect_out "       -        6.00 EUR"

t "text without a currency: the number, and where the price came from"
rep --cost-per-gpu-hour 2.5
expect_out "  idle-held cost 21.00, of 45.00 for all 18.00 observed GPU-hours (per --cost-per-gpu-hour 2.50)"
expect_no_out "EUR"
expect_no_out "\$"

t "text without a price: no cost anywhere"
rep
expect_no_out "cost"

t "six decimals, rounded to cents: 8.4 h x 0.123456 = 1.037 -> 1.04"
rep --cost-per-gpu-hour 0.123456 --currency USD
expect_out "idle-held cost 1.04 USD, of 2.22 USD for all 18.00 observed"
rep --cost-per-gpu-hour 0
expect_rc 0
expect_out "idle-held cost 0.00, of 0.00 for all 18.00 observed"

t "json: cost and each identity's, valid against the schema"
rep --cost-per-gpu-hour 2.50 --currency EUR --format json
expect_rc 0
cp "$TMP/out" "$TMP/cost.json"
check schema "$SCHEMA" "$TMP/cost.json"
if [ -n "$PYTHON" ]; then
	expect_eq "$(py "$TMP/cost.json" 'd["cost"]')" \
	    "{'per_gpu_hour': 2.5, 'currency': 'EUR', 'idle_held': 21.0, 'observed': 45.0}"
	expect_eq "$(py "$TMP/cost.json" '[(i["key"], i["idle_held_cost"]) for i in d["identities"]]')" \
	    "[('bob', 15.0), (None, 15.0), ('alice', 6.0)]"
	# The cents are the hours' times the price, rounded.
	expect_eq "$(py "$TMP/cost.json" 'all(abs(i["idle_held_cost"] - round(i["idle_held_gpu_hours"] * 2.5, 2)) < 1e-9 for i in d["identities"])')" True
	expect_out '"idle_held": 21.00,'
fi
rep --cost-per-gpu-hour 2.5 --format json
cp "$TMP/out" "$TMP/nocode.json"
check schema "$SCHEMA" "$TMP/nocode.json"
expect_out '"currency": null,'
rep --format json
cp "$TMP/out" "$TMP/none.json"
check schema "$SCHEMA" "$TMP/none.json"
expect_out '"cost": null,'
expect_out '"idle_held_cost": null'

t "csv: the identities table's idle_held_cost column, empty without a price"
rep --cost-per-gpu-hour 2.50 --currency EUR --format csv --table identities
expect_rc 0
expect_out "mean_sm_utilization_percent,idle_held_cost"
expect_out "vm,bob,1,6.000000,6.000000,1.000000,46.875000,,,,,,15.00"
expect_out "vm,alice,1,4.800000,2.400000,0.500000,164.062500,,,,,,6.00"
rep --format csv --table identities
expect_out "vm,bob,1,6.000000,6.000000,1.000000,46.875000,,,,,,"
expect_no_out ",15.00"

t "html: §2's cost with its value, §4's column"
rep --cost-per-gpu-hour 2.50 --currency EUR --format html
expect_rc 0
expect_out '<p id="cost">idle-held cost <b id="idle-held-cost" data-value="21.00">21.00 EUR</b>, of <span id="observed-cost">45.00 EUR</span> for all 18.00 observed GPU-hours (at 2.50 EUR a GPU-hour)</p>'
expect_out '<th class="n">idle-held cost</th>'
expect_out '<td class="n">15.00 EUR</td>'
rep --cost-per-gpu-hour 2.5 --format html
expect_out '(per --cost-per-gpu-hour 2.50)</p>'
rep --format html
expect_no_out 'cost'

t "-o inference keeps the price: report.json"
rep --cost-per-gpu-hour 2.50 --currency EUR -o "$TMP/r.json"
expect_rc 0
if grep -qF '"observed": 45.00' "$TMP/r.json"; then ok; else
	fail "r.json lacks the observed cost"; fi

# A second host: the same demo recorded as hostb.
B=$TMP/hostb.db
GUA_NOW=$NOW "$GUA" demo --db "$B" --ticks 720 --interval 30s \
    >/dev/null 2>&1 || fail "demo failed"
sqlite3 "$B" "UPDATE meta SET value = 'hostb' WHERE key = 'hostname'"
t "two hosts: the merged report prices both"
rep --db "$B" --cost-per-gpu-hour 2.50 --currency EUR
expect_rc 0
expect_out "  idle-held cost 42.00 EUR, of 90.00 EUR for all 36.00 observed GPU-hours"
rep --db "$B" --cost-per-gpu-hour 2.50 --currency EUR --format json
cp "$TMP/out" "$TMP/ab.json"
check schema "$SCHEMA" "$TMP/ab.json"
if [ -n "$PYTHON" ]; then
	expect_eq "$(py "$TMP/ab.json" '(d["cost"]["idle_held"], d["cost"]["observed"], sorted(i["idle_held_cost"] for i in d["identities"]))')" \
	    "(42.0, 90.0, [6.0, 6.0, 15.0, 15.0, 15.0, 15.0])"
fi
rep --db "$B" --cost-per-gpu-hour 2.50 --format csv --table identities
expect_out "hostb,bob,1,6.000000,6.000000,1.000000,46.875000,,,,,,15.00"

t "bad amounts and codes: exit 2, one line and the hint, no file"
for bad in -1 +1 "" .5 5. 1e3 1,5 " 1" 0.1234567 1000000 nan \
    99999999999999999999; do
	rep --cost-per-gpu-hour "$bad" -o "$TMP/bad.html"
	expect_rc 2
	expect_err "--cost-per-gpu-hour: '$bad' is not an amount"
	expect_err_lines 2
	expect_empty_out
	expect_no_file "$TMP/bad.html"
done
for bad in eur EU EURO "" E1R "€"; do
	rep --cost-per-gpu-hour 2 --currency "$bad" -o "$TMP/bad.html"
	expect_rc 2
	expect_err "--currency: '$bad' is not a currency code"
	expect_err_lines 2
	expect_no_file "$TMP/bad.html"
done
rep --currency EUR -o "$TMP/bad.html"
expect_rc 2
expect_err "--currency is for --cost-per-gpu-hour"
expect_err_lines 2
expect_no_file "$TMP/bad.html"

finish
