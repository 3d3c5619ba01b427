/*
 * Prices and money in whole numbers (price.h). A year of a thousand
 * GPUs is 3.2e13 ms; times a price in millionths that overflows 64 bits,
 * so the product is split before it is multiplied.
 */
#include <stdio.h>
#include <string.h>

#include "price.h"
#include "util.h"

int
price_parse(const char *s, int64_t *micros)
{
	int64_t whole = 0, frac = 0;
	int digits = 0, decimals = 0;

	for (; *s >= '0' && *s <= '9'; s++, digits++) {
		whole = whole * 10 + (*s - '0');
		if (whole >= PRICE_MAX)
			return -1;
	}
	if (digits == 0)
		return -1;
	if (*s == '.') {
		for (s++; *s >= '0' && *s <= '9'; s++, decimals++) {
			if (decimals == PRICE_DECIMALS)
				return -1;
			frac = frac * 10 + (*s - '0');
		}
		if (decimals == 0)
			return -1;
	}
	if (*s != '\0')
		return -1;
	for (; decimals < PRICE_DECIMALS; decimals++)
		frac *= 10;
	*micros = whole * 1000000 + frac;
	return 0;
}

int
price_currency_ok(const char *code)
{
	for (int i = 0; i < 3; i++)
		if (code[i] < 'A' || code[i] > 'Z')
			return -1;
	return code[3] == '\0' ? 0 : -1;
}

/*
 * cents = ms x micros / 3.6e10 (ms per hour x millionths per unit / 100
 * cents), rounded half up. Whole hours give whole cents and a remainder
 * in ten-thousandths of a cent; the rest of an hour is added to that, so
 * no product passes 2^63 below PRICE_MAX and a billion GPU-hours.
 */
int64_t
price_cents(const struct price *p, int64_t ms)
{
	const int64_t unit = 36000000000LL;	/* ms/h x 1e6 / 100 */
	int64_t hours, rest, cents, part;

	if (!p->set || ms <= 0)
		return 0;
	hours = ms / MS_PER_HOUR;
	rest = ms % MS_PER_HOUR;
	part = hours * (p->micros % 10000);
	cents = hours * (p->micros / 10000) + part / 10000;
	rest = (part % 10000) * MS_PER_HOUR + rest * p->micros;
	return cents + (rest + unit / 2) / unit;
}

const char *
price_format_cents(int64_t cents, char *buf, size_t len)
{
	snprintf(buf, len, "%lld.%02lld", (long long)(cents / 100),
	    (long long)(cents % 100));
	return buf;
}

const char *
price_format_rate(const struct price *p, char *buf, size_t len)
{
	char frac[8];
	int n = PRICE_DECIMALS;

	snprintf(frac, sizeof(frac), "%06lld", (long long)(p->micros % 1000000));
	while (n > 2 && frac[n - 1] == '0')
		frac[--n] = '\0';
	snprintf(buf, len, "%lld.%s", (long long)(p->micros / 1000000), frac);
	return buf;
}
