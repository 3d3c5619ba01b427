/*
 * A price per GPU-hour (report --cost-per-gpu-hour) and the money it makes
 * of GPU time. Amounts are kept in millionths and money in cents, whole
 * numbers, so every writer prints the same cents for the same time. No
 * currency symbol is ever guessed: a code is printed only when given.
 */
#ifndef GUA_PRICE_H
#define GUA_PRICE_H

#include <stddef.h>
#include <stdint.h>

#define PRICE_DECIMALS	6		/* an amount's decimals at most */
#define PRICE_MAX	1000000LL	/* an amount below this, per hour */

struct price {
	int	set;		/* 0: no price given, no money anywhere */
	int64_t	micros;		/* per GPU-hour, in millionths */
	char	currency[4];	/* ISO 4217 code ("EUR"), or "" */
};

/*
 * A non-negative decimal with at most PRICE_DECIMALS decimals ("2",
 * "2.50", "0.000125"), below PRICE_MAX: 0 with *micros, or -1.
 */
int	price_parse(const char *text, int64_t *micros);
/* A currency code: three uppercase ASCII letters. 0 or -1. */
int	price_currency_ok(const char *code);
/* What ms of GPU time cost at p, in cents, rounded half up. */
int64_t	price_cents(const struct price *p, int64_t ms);
/* Cents for people: "312.40". Returns buf. */
const char *price_format_cents(int64_t cents, char *buf, size_t len);
/* The price per GPU-hour: "2.50", "0.000125" (2 decimals at least). */
const char *price_format_rate(const struct price *p, char *buf, size_t len);

#endif
