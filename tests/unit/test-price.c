/* price.c: amounts parsed by a table, cents rounded, no overflow. */
#include <stdint.h>
#include <stdio.h>

#include "harness.h"
#include "price.h"
#include "util.h"

static const struct { const char *text; int ok; int64_t micros; } amounts[] = {
	{ "0", 1, 0 },
	{ "2", 1, 2000000 },
	{ "2.5", 1, 2500000 },
	{ "2.50", 1, 2500000 },
	{ "0.000125", 1, 125 },
	{ "999999.999999", 1, 999999999999LL },
	{ "1000000", 0, 0 },		/* PRICE_MAX */
	{ "0.0000001", 0, 0 },		/* 7 decimals */
	{ "", 0, 0 },
	{ "-1", 0, 0 },
	{ "+1", 0, 0 },
	{ ".5", 0, 0 },
	{ "5.", 0, 0 },
	{ "1e3", 0, 0 },
	{ "1,5", 0, 0 },
	{ " 1", 0, 0 },
	{ "1 ", 0, 0 },
	{ "nan", 0, 0 },
	{ "99999999999999999999", 0, 0 },
};

static const struct { const char *code; int ok; } codes[] = {
	{ "EUR", 1 }, { "USD", 1 }, { "eur", 0 }, { "EU", 0 }, { "EURO", 0 },
	{ "", 0 }, { "E1R", 0 }, { "\xc3\x89UR", 0 },
};

/* price, GPU time, cents */
static const struct { int64_t micros, ms, cents; } sums[] = {
	{ 2500000, MS_PER_HOUR, 250 },
	{ 2500000, 0, 0 },
	{ 0, 1000 * MS_PER_HOUR, 0 },
	/* 1/8 of a cent an hour: 4 hours are half a cent, rounded up. */
	{ 1250, 4 * MS_PER_HOUR, 1 },
	{ 1250, 3 * MS_PER_HOUR, 0 },
	/* 30 s at 3.60 an hour: 0.03, exactly. */
	{ 3600000, 30000, 3 },
	/* 1 ms at 18.00 an hour: 0.0005 cents, rounds to 0. */
	{ 18000000, 1, 0 },
	/* 1.5 h at 2.333333: 3.4999995 -> 3.50. */
	{ 2333333, 5400000, 350 },
	/* A billion GPU-hours at the highest price: no overflow. */
	{ 999999999999LL, 1000000000LL * MS_PER_HOUR,
	    99999999999900000LL },
};

int
main(void)
{
	struct price p = { 1, 0, "" };
	char buf[64];

	for (size_t i = 0; i < ARRAY_LEN(amounts); i++) {
		int64_t m = -1;
		int rc = price_parse(amounts[i].text, &m);

		if (amounts[i].ok) {
			CHECK_INT(rc, 0);
			CHECK_INT(m, amounts[i].micros);
		} else
			CHECK_INT(rc, -1);
	}
	for (size_t i = 0; i < ARRAY_LEN(codes); i++)
		CHECK_INT(price_currency_ok(codes[i].code), codes[i].ok ? 0 : -1);
	for (size_t i = 0; i < ARRAY_LEN(sums); i++) {
		p.micros = sums[i].micros;
		CHECK_INT(price_cents(&p, sums[i].ms), sums[i].cents);
	}
	/* No price: no money. */
	p.set = 0;
	CHECK_INT(price_cents(&p, MS_PER_HOUR), 0);
	CHECK_STR(price_format_cents(31240, buf, sizeof(buf)), "312.40");
	CHECK_STR(price_format_cents(5, buf, sizeof(buf)), "0.05");
	p.micros = 2500000;
	CHECK_STR(price_format_rate(&p, buf, sizeof(buf)), "2.50");
	p.micros = 125;
	CHECK_STR(price_format_rate(&p, buf, sizeof(buf)), "0.000125");
	p.micros = 3000000;
	CHECK_STR(price_format_rate(&p, buf, sizeof(buf)), "3.00");
	HARNESS_DONE();
}
