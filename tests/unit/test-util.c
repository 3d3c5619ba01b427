#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "imap.h"
#include "util.h"

static void
test_time(void)
{
	char buf[64];
	int64_t ms;

	CHECK_INT(util_parse_rfc3339("1970-01-01T00:00:00Z", &ms), 0);
	CHECK_INT(ms, 0);
	CHECK_INT(util_parse_rfc3339("2026-11-25T10:30:00Z", &ms), 0);
	CHECK_INT(ms, 1795602600000LL);
	util_format_rfc3339(ms, buf, sizeof(buf));
	CHECK_STR(buf, "2026-11-25T10:30:00Z");
	CHECK_INT(util_weekday(ms), 3);		/* a Wednesday */
	CHECK_INT(util_hour_of_day(ms), 10);
	CHECK_INT(util_hour_floor(ms), ms - 30 * MS_PER_MINUTE);
	CHECK_INT(util_parse_rfc3339("2026-11-25T12:30:00.250+02:00", &ms), 0);
	CHECK_INT(ms, 1795602600250LL);
	util_format_rfc3339_ms(ms, buf, sizeof(buf));
	CHECK_STR(buf, "2026-11-25T10:30:00.250Z");
	util_format_rfc3339_ms(1795602600000LL, buf, sizeof(buf));
	CHECK_STR(buf, "2026-11-25T10:30:00Z");
	util_format_rfc3339_ms(-1, buf, sizeof(buf));
	CHECK_STR(buf, "1969-12-31T23:59:59.999Z");
	CHECK_INT(util_parse_rfc3339("2026-11-25 10:30:00z", &ms), 0);
	CHECK_INT(util_parse_rfc3339("2024-02-29T00:00:00Z", &ms), 0);
	CHECK_INT(util_weekday(ms), 4);		/* a Thursday */
	CHECK_INT(util_parse_rfc3339("2023-02-29T00:00:00Z", &ms), -1);
	CHECK_INT(util_parse_rfc3339("2026-13-01T00:00:00Z", &ms), -1);
	CHECK_INT(util_parse_rfc3339("2026-11-25T24:00:00Z", &ms), -1);
	CHECK_INT(util_parse_rfc3339("2026-11-25T10:30:00", &ms), -1);
	CHECK_INT(util_parse_rfc3339("2026-11-25", &ms), -1);
	CHECK_INT(util_parse_rfc3339("2026-11-25T10:30:00Zjunk", &ms), -1);
	CHECK_INT(util_parse_rfc3339("", &ms), -1);
	CHECK_INT(util_parse_rfc3339("2026-11-25T10:30:00+05:30:00", &ms), -1);
	/* The original tool's timestamps: Python's isoformat(). */
	CHECK_INT(util_parse_iso8601("2026-11-25T10:30:00.123456+00:00", &ms), 0);
	CHECK_INT(ms, 1795602600123LL);
	CHECK_INT(util_parse_iso8601("2026-11-25T10:30:00.999999", &ms), 0);
	CHECK_INT(ms, 1795602600999LL);
	CHECK_INT(util_parse_iso8601("2026-11-25T10:30:00", &ms), 0);
	CHECK_INT(ms, 1795602600000LL);
	CHECK_INT(util_parse_iso8601("2026-11-25 10:30:00", &ms), 0);
	CHECK_INT(ms, 1795602600000LL);
	CHECK_INT(util_parse_iso8601("2026-11-25T16:00:00+05:30", &ms), 0);
	CHECK_INT(ms, 1795602600000LL);
	CHECK_INT(util_parse_iso8601("2026-11-25T05:30:00-05:00", &ms), 0);
	CHECK_INT(ms, 1795602600000LL);
	CHECK_INT(util_parse_iso8601("2026-11-25T10:30:30+00:00:30", &ms), 0);
	CHECK_INT(ms, 1795602600000LL);
	CHECK_INT(util_parse_iso8601("2026-11-25T10:30:30+00:00:30.5", &ms), 0);
	CHECK_INT(ms, 1795602600000LL);
	CHECK_INT(util_parse_iso8601("2026-11-25T10:30:00Z", &ms), 0);
	CHECK_INT(ms, 1795602600000LL);
	CHECK_INT(util_parse_iso8601("2026-11-25T10:30", &ms), -1);
	CHECK_INT(util_parse_iso8601("2026-11-25T10:30:00.", &ms), -1);
	CHECK_INT(util_parse_iso8601("2026-11-25T10:30:00+00", &ms), -1);
	CHECK_INT(util_parse_iso8601("2026-11-25T10:30:00+00:00:", &ms), -1);
	CHECK_INT(util_parse_iso8601("2026-11-25T10:30:00 ", &ms), -1);
	CHECK_INT(util_parse_iso8601("2026-02-30T10:30:00", &ms), -1);
	CHECK_INT(util_parse_iso8601("", &ms), -1);
	/* Before the epoch: floor, not truncation. */
	CHECK_INT(util_hour_floor(-1), -MS_PER_HOUR);
	CHECK_INT(util_weekday(-1), 3);		/* 1969-12-31, a Wednesday */
	CHECK_INT(util_hour_of_day(-1), 23);
	util_format_rfc3339(-1000, buf, sizeof(buf));
	CHECK_STR(buf, "1969-12-31T23:59:59Z");

	util_format_elapsed(30000, buf, sizeof(buf));
	CHECK_STR(buf, "0:00:30");
	util_format_elapsed(3600000, buf, sizeof(buf));
	CHECK_STR(buf, "1:00:00");
	util_format_elapsed(86400000, buf, sizeof(buf));
	CHECK_STR(buf, "1 day, 0:00:00");
	util_format_elapsed(3 * 86400000LL + 3723000, buf, sizeof(buf));
	CHECK_STR(buf, "3 days, 1:02:03");
	util_format_elapsed(499, buf, sizeof(buf));
	CHECK_STR(buf, "0:00:00");
	util_format_elapsed(500, buf, sizeof(buf));
	CHECK_STR(buf, "0:00:01");
}

static void
test_numbers(void)
{
	long long v;
	char small[4];

	CHECK_INT(util_parse_ll("42", 0, 100, &v), 0);
	CHECK_INT(v, 42);
	CHECK_INT(util_parse_ll("101", 0, 100, &v), -1);
	CHECK_INT(util_parse_ll("-1", 0, 100, &v), -1);
	CHECK_INT(util_parse_ll("-1", -5, 100, &v), 0);
	CHECK_INT(v, -1);
	CHECK_INT(util_parse_ll("4x", 0, 100, &v), -1);
	CHECK_INT(util_parse_ll(" 4", 0, 100, &v), -1);
	CHECK_INT(util_parse_ll("", 0, 100, &v), -1);
	CHECK_INT(util_parse_ll("99999999999999999999", 0, 100, &v), -1);
	CHECK_INT(util_strlcpy(small, "abcdef", sizeof(small)), 6);
	CHECK_STR(small, "abc");
}

static void
test_imap(void)
{
	struct imap m = { NULL, 0, 0 };
	int64_t v = 0;
	int ok = 1;

	CHECK_INT(imap_get(&m, 1, 2, &v), -1);
	for (int64_t i = 0; i < 5000; i++)
		ok &= imap_put(&m, i, -i, i * 3) == 0;
	for (int64_t i = 0; i < 5000; i++)
		ok &= imap_get(&m, i, -i, &v) == 0 && v == i * 3;
	CHECK(ok);
	CHECK_INT(m.len, 5000);
	CHECK_INT(imap_get(&m, 1, 1, &v), -1);
	CHECK_INT(imap_put(&m, 7, -7, 99), 0);
	CHECK_INT(m.len, 5000);
	CHECK_INT(imap_get(&m, 7, -7, &v), 0);
	CHECK_INT(v, 99);
	imap_clear(&m);
	CHECK_INT(m.len, 0);
	CHECK_INT(imap_get(&m, 7, -7, &v), -1);
	imap_free(&m);
}

/* Paths that differ as strings but name one file, existing or not. */
static void
test_same_file(void)
{
	char dir[] = "/tmp/gua-test-same-XXXXXX", a[PATH_MAX], b[PATH_MAX];
	char lnk[PATH_MAX];
	FILE *f;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(a, sizeof(a), "%s/sub", dir);
	CHECK_INT(mkdir(a, 0700), 0);
	snprintf(lnk, sizeof(lnk), "%s/link", dir);
	CHECK_INT(symlink("sub", lnk), 0);
	/* Not yet existing. */
	snprintf(a, sizeof(a), "%s/sub/f.db", dir);
	snprintf(b, sizeof(b), "%s/sub/./f.db", dir);
	CHECK(util_same_file(a, b));
	snprintf(b, sizeof(b), "%s//sub//f.db", dir);
	CHECK(util_same_file(a, b));
	snprintf(b, sizeof(b), "%s/link/f.db", dir);
	CHECK(util_same_file(a, b));
	snprintf(b, sizeof(b), "%s/sub/../sub/f.db", dir);
	CHECK(util_same_file(a, b));
	snprintf(b, sizeof(b), "%s/sub/g.db", dir);
	CHECK(!util_same_file(a, b));
	snprintf(b, sizeof(b), "%s/f.db", dir);
	CHECK(!util_same_file(a, b));
	snprintf(b, sizeof(b), "%s/nowhere/f.db", dir);
	CHECK(!util_same_file(a, b));
	/* Existing: a hard link is the same file too. */
	CHECK((f = fopen(a, "w")) != NULL);
	if (f != NULL)
		fclose(f);
	snprintf(b, sizeof(b), "%s/hard.db", dir);
	CHECK_INT(link(a, b), 0);
	CHECK(util_same_file(a, b));
	unlink(b);
	snprintf(b, sizeof(b), "%s/link/f.db", dir);
	CHECK(util_same_file(a, b));
	unlink(a);
	unlink(lnk);
	snprintf(a, sizeof(a), "%s/sub", dir);
	rmdir(a);
	rmdir(dir);
}

int
main(void)
{
	test_time();
	test_numbers();
	test_imap();
	test_same_file();
	HARNESS_DONE();
}
