#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "tz.h"
#include "util.h"

/* An instant formatted in a zone: every format, by a table. */
struct zcase {
	const char	*zone;
	int64_t		 ms;
	const char	*datetime;	/* tz_format_datetime */
	const char	*rfc3339;	/* tz_format_rfc3339_ms */
	int		 weekday, hour;
};

static const struct zcase cases[] = {
	/* UTC: as before zones, no offset in the tables, "Z". */
	{ "UTC", 1795602600000LL, "2026-11-25 10:30:00",
	    "2026-11-25T10:30:00Z", 3, 10 },
	{ "UTC", 1795602600250LL, "2026-11-25 10:30:00",
	    "2026-11-25T10:30:00.250Z", 3, 10 },
	/* Before 1970 too: the second rounds down. */
	{ "UTC", -1, "1969-12-31 23:59:59", "1969-12-31T23:59:59.999Z", 3,
	    23 },
	{ "Europe/Paris", 1795602600000LL, "2026-11-25 11:30:00+01:00",
	    "2026-11-25T11:30:00+01:00", 3, 11 },
	/* Summer time; and the hour a change back repeats, both times. */
	{ "Europe/Berlin", 1782900000000LL, "2026-07-01 12:00:00+02:00",
	    "2026-07-01T12:00:00+02:00", 3, 12 },
	{ "Europe/Berlin", 1792886400000LL, "2026-10-25 02:00:00+02:00",
	    "2026-10-25T02:00:00+02:00", 0, 2 },
	{ "Europe/Berlin", 1792890000000LL, "2026-10-25 02:00:00+01:00",
	    "2026-10-25T02:00:00+01:00", 0, 2 },
	/* West of UTC, and half an hour off it; milliseconds kept. */
	{ "America/New_York", 1795602600000LL, "2026-11-25 05:30:00-05:00",
	    "2026-11-25T05:30:00-05:00", 3, 5 },
	{ "Asia/Kolkata", 1795602600042LL, "2026-11-25 16:00:00+05:30",
	    "2026-11-25T16:00:00.042+05:30", 3, 16 },
	{ "America/St_Johns", 1795602600000LL, "2026-11-25 07:00:00-03:30",
	    "2026-11-25T07:00:00-03:30", 3, 7 },
};

static void
test_formats(void)
{
	char err[256], buf[64];
	struct tz_time t;

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		const struct zcase *c = &cases[i];

		CHECK_INT(tz_set(c->zone, err, sizeof(err)), 0);
		CHECK_STR(tz_name(), c->zone);
		tz_format_datetime(c->ms, buf, sizeof(buf));
		CHECK_STR(buf, c->datetime);
		tz_format_rfc3339_ms(c->ms, buf, sizeof(buf));
		CHECK_STR(buf, c->rfc3339);
		tz_local(c->ms, &t);
		CHECK_INT(t.weekday, c->weekday);
		CHECK_INT(t.hour, c->hour);
	}
	CHECK_INT(tz_set("Europe/Berlin", err, sizeof(err)), 0);
	tz_format_long(1792890000000LL, buf, sizeof(buf));
	CHECK_STR(buf, "2026-10-25 02:00:00 +01:00");
	CHECK_INT(tz_set("UTC", err, sizeof(err)), 0);
	tz_format_long(1792890000000LL, buf, sizeof(buf));
	CHECK_STR(buf, "2026-10-25 01:00:00 +00:00");
	tz_format_offset(-12600, buf, sizeof(buf));
	CHECK_STR(buf, "-03:30");
	tz_format_offset(20700, buf, sizeof(buf));
	CHECK_STR(buf, "+05:45");
}

/* Whole local hours: what lets hourly rollups fill a zone's heatmap. */
static void
test_whole_hours(void)
{
	char err[256];
	int64_t off;

	CHECK_INT(tz_set("Europe/Berlin", err, sizeof(err)), 0);
	/* The change is at 01:00 UTC: the hour before it and after it are
	   each whole, at +02:00 and +01:00. */
	CHECK(tz_whole_hour(1792886400000LL, &off));
	CHECK_INT(off, 2 * MS_PER_HOUR);
	CHECK(tz_whole_hour(1792890000000LL, &off));
	CHECK_INT(off, MS_PER_HOUR);
	CHECK_INT(tz_set("Asia/Kolkata", err, sizeof(err)), 0);
	CHECK(!tz_whole_hour(1795600800000LL, &off));
	CHECK_INT(tz_set("UTC", err, sizeof(err)), 0);
	CHECK(tz_whole_hour(1795600800000LL, &off));
	CHECK_INT(off, 0);
}

/* Names that are not zones, or would leave the zone directory. */
static void
test_bad_names(void)
{
	static const char *const bad[] = { "", "Mars/Olympus_Mons", "..",
		"../etc/passwd", "Europe/../../etc/passwd", "/etc/localtime",
		"Europe//Paris", "Europe/Paris/", "Europe/./Paris", "Europe",
		"zone.tab", "Europe/Paris;id", "Europe/Paris\n", "Europe/Pa ris",
	};
	char err[256];

	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		err[0] = '\0';
		CHECK_INT(tz_set(bad[i], err, sizeof(err)), -1);
		CHECK(err[0] != '\0');
	}
	/* A refused name leaves the zone as it was. */
	CHECK(tz_is_utc());
	CHECK_STR(tz_name(), "UTC");
}

int
main(void)
{
	if (access("/usr/share/zoneinfo/Europe/Berlin", R_OK) != 0) {
		fprintf(stderr, "SKIP: no zone files (tzdata)\n");
		HARNESS_DONE();
	}
	test_formats();
	test_whole_hours();
	test_bad_names();
	HARNESS_DONE();
}
