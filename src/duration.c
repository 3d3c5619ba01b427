#include <stdio.h>
#include <string.h>

#include "duration.h"
#include "util.h"

static const struct {
	const char	*name;
	int64_t		 ms;
} units[] = {
	{ "ms", 1 },
	{ "s", MS_PER_SECOND },
	{ "m", MS_PER_MINUTE },
	{ "h", MS_PER_HOUR },
	{ "d", MS_PER_DAY },
};

#define UNIT_HINT "use one of ms, s, m, h, d, as in 30s or 0.5h"

int
duration_parse(const char *s, int64_t *ms, char *err, size_t errlen)
{
	const char *p = s, *unit;
	int64_t whole = 0, frac = 0, frac_scale = 1, per = 0;
	int ndigits = 0;

	if (s == NULL || *s == '\0')
		return util_err(err, errlen, "empty duration (%s)", UNIT_HINT);
	if (*p == '-')
		return util_err(err, errlen, "'%s' is negative", s);
	for (; *p >= '0' && *p <= '9'; p++, ndigits++) {
		if (whole > DURATION_MAX_MS)
			return util_err(err, errlen, "'%s' is too large "
			    "(at most 36500d)", s);
		whole = whole * 10 + (*p - '0');
	}
	if (ndigits == 0)
		return util_err(err, errlen, "'%s' does not start with a "
		    "number (%s)", s, UNIT_HINT);
	if (*p == '.') {
		int nfrac = 0;

		for (p++; *p >= '0' && *p <= '9'; p++, nfrac++) {
			/* Digits past the ninth cannot change the rounded ms. */
			if (nfrac < 9) {
				frac = frac * 10 + (*p - '0');
				frac_scale *= 10;
			}
		}
		if (nfrac == 0)
			return util_err(err, errlen, "'%s' has no digits after "
			    "the decimal point", s);
	}
	unit = p;
	while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))
		p++;
	if (p == unit)
		return util_err(err, errlen, "'%s' has no unit (%s)", s,
		    UNIT_HINT);
	for (size_t i = 0; i < ARRAY_LEN(units); i++) {
		if (strlen(units[i].name) == (size_t)(p - unit) &&
		    strncmp(units[i].name, unit, (size_t)(p - unit)) == 0)
			per = units[i].ms;
	}
	if (per == 0)
		return util_err(err, errlen, "'%s' has an unknown unit "
		    "'%.*s' (%s)", s, (int)(p - unit), unit, UNIT_HINT);
	if (*p != '\0')
		return util_err(err, errlen, "'%s' has trailing text '%s' "
		    "(one number and one unit only)", s, p);
	if (whole > DURATION_MAX_MS / per)
		return util_err(err, errlen, "'%s' is too large (at most "
		    "36500d)", s);
	/* Exactly below 1 ms is refused, before rounding can lift it. */
	if (whole == 0 && frac * per < frac_scale)
		return util_err(err, errlen, "'%s' is shorter than 1ms", s);
	whole *= per;
	/* per * frac fits: frac < 1e9 and per <= 8.64e7. */
	whole += (frac * per + frac_scale / 2) / frac_scale;
	if (whole > DURATION_MAX_MS)
		return util_err(err, errlen, "'%s' is too large (at most "
		    "36500d)", s);
	*ms = whole;
	return 0;
}

void
duration_format(int64_t ms, char *buf, size_t len)
{
	for (size_t i = ARRAY_LEN(units); i-- > 0;) {
		if (ms % units[i].ms == 0 || i == 0) {
			snprintf(buf, len, "%lld%s",
			    (long long)(ms / units[i].ms), units[i].name);
			return;
		}
	}
}
