#include "duration.h"
#include "harness.h"

static const struct {
	const char	*in;
	long long	 ms;
} good[] = {
	{ "1ms", 1 }, { "200ms", 200 }, { "30s", 30000 }, { "1m", 60000 },
	{ "0.5m", 30000 }, { "1h", 3600000 }, { "1.5h", 5400000 },
	{ "365d", 365LL * 86400000 }, { "0.001s", 1 }, { "1.5ms", 2 },
	{ "0.25s", 250 }, { "36500d", 36500LL * 86400000 }, { "007s", 7000 },
	{ "2.0000000001s", 2000 },
};

/* Each bad form, with a word the message must contain. */
static const struct {
	const char	*in;
	const char	*says;
} bad[] = {
	{ "", "empty" },
	{ "0s", "shorter than 1ms" },
	{ "0", "no unit" },
	{ "0.0004s", "shorter than 1ms" },
	{ "0.5ms", "shorter than 1ms" },
	{ "-1s", "negative" },
	{ "-0.5h", "negative" },
	{ "30", "no unit" },
	{ "1.5", "no unit" },
	{ "s", "does not start with a number" },
	{ "1w", "unknown unit 'w'" },
	{ "1y", "unknown unit 'y'" },
	{ "30S", "unknown unit 'S'" },
	{ "1sec", "unknown unit 'sec'" },
	{ "1h30m", "trailing text '30m'" },
	{ "1h 30m", "trailing text" },
	{ " 30s", "does not start with a number" },
	{ "30s ", "trailing text" },
	{ "30 s", "no unit" },
	{ "+5s", "does not start with a number" },
	{ ".5s", "does not start with a number" },
	{ "5.s", "no digits after the decimal point" },
	{ "1.2.3s", "no unit" },
	{ "1e3s", "unknown unit 'e'" },
	{ "36501d", "too large" },
	{ "99999999999999999999d", "too large" },
	{ "9999999999999999999999999999ms", "too large" },
	{ "10s\n", "trailing text" },
};

int
main(void)
{
	char err[256], buf[32];
	int64_t ms;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ms = -1;
		CHECK_INT(duration_parse(good[i].in, &ms, err, sizeof(err)), 0);
		CHECK_INT(ms, good[i].ms);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ms = 12345;
		CHECK_INT(duration_parse(bad[i].in, &ms, err, sizeof(err)), -1);
		CHECK_INT(ms, 12345);
		if (strstr(err, bad[i].says) == NULL)
			fprintf(stderr, "input '%s': message '%s'\n", bad[i].in,
			    err);
		CHECK(strstr(err, bad[i].says) != NULL);
	}
	duration_format(30000, buf, sizeof(buf));
	CHECK_STR(buf, "30s");
	duration_format(1500, buf, sizeof(buf));
	CHECK_STR(buf, "1500ms");
	duration_format(2 * 86400000LL, buf, sizeof(buf));
	CHECK_STR(buf, "2d");
	duration_format(90 * 60000LL, buf, sizeof(buf));
	CHECK_STR(buf, "90m");
	HARNESS_DONE();
}
