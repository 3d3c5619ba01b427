/*
 * Report time zones through the C library: TZ set to the zone's file,
 * tzset, then localtime_r per instant, so DST changes fall where tzdata
 * puts them. UTC stays arithmetic (gmtime_r).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tz.h"
#include "util.h"

#define TZ_NAME_MAX	128

static int utc = 1;			/* the default */
static char name_buf[TZ_NAME_MAX] = "UTC";

/* A zone file is "TZif" at its start: not a directory, not zone.tab. */
static int
is_zone_file(const char *path)
{
	struct stat st;
	char magic[4];
	FILE *f;
	int ok;

	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return 0;
	if ((f = fopen(path, "rb")) == NULL)
		return 0;
	ok = fread(magic, 1, sizeof(magic), f) == sizeof(magic) &&
	    memcmp(magic, "TZif", 4) == 0;
	fclose(f);
	return ok;
}

/* Letters, digits, '_', '-', '+' in '/'-separated parts; no part "."
   or "..", none empty: a name, never a path out of the zone directory. */
static int
valid_name(const char *s)
{
	const char *part = s;

	if (*s == '\0' || strlen(s) >= TZ_NAME_MAX)
		return 0;
	for (const char *p = s;; p++) {
		if (*p == '/' || *p == '\0') {
			size_t n = (size_t)(p - part);

			if (n == 0 || (n == 1 && part[0] == '.') ||
			    (n == 2 && part[0] == '.' && part[1] == '.'))
				return 0;
			if (*p == '\0')
				return 1;
			part = p + 1;
			continue;
		}
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' ||
		    *p == '+' || *p == '.'))
			return 0;
	}
}

/* The machine's zone by name: TZ, else where /etc/localtime points. */
static void
local_name(char *buf, size_t len)
{
	const char *tz = getenv("TZ");
	char link[PATH_MAX];
	const char *z;
	ssize_t n;

	/* Only a name goes into reports (HTML among them); a POSIX rule or
	   a path in TZ reads "local". */
	if (tz != NULL && tz[0] != '\0') {
		util_strlcpy(buf, valid_name(tz[0] == ':' ? tz + 1 : tz) ?
		    (tz[0] == ':' ? tz + 1 : tz) : "local", len);
		return;
	}
	n = readlink("/etc/localtime", link, sizeof(link) - 1);
	if (n > 0) {
		link[n] = '\0';
		if ((z = strstr(link, "zoneinfo/")) != NULL &&
		    valid_name(z + 9)) {
			util_strlcpy(buf, z + 9, len);
			return;
		}
	}
	util_strlcpy(buf, "local", len);
}

int
tz_set(const char *name, char *err, size_t errlen)
{
	char path[PATH_MAX], value[TZ_NAME_MAX + 1];
	const char *dir = getenv("TZDIR");

	if (strcmp(name, "UTC") == 0) {
		utc = 1;
		util_strlcpy(name_buf, "UTC", sizeof(name_buf));
		return 0;
	}
	if (strcmp(name, "local") == 0) {
		utc = 0;
		local_name(name_buf, sizeof(name_buf));
		tzset();
		return 0;
	}
	if (dir == NULL || dir[0] == '\0')
		dir = "/usr/share/zoneinfo";
	if (!valid_name(name))
		return util_err(err, errlen, "'%.*s' is not a time zone name "
		    "(like Europe/Paris, UTC or local)", TZ_NAME_MAX, name);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!is_zone_file(path))
		return util_err(err, errlen, "unknown time zone '%s' (no zone "
		    "file %s)", name, path);
	/* A leading ':' makes the C library read the file, never parse the
	   name as a POSIX rule. */
	snprintf(value, sizeof(value), ":%s", name);
	if (setenv("TZ", value, 1) != 0)
		return util_err(err, errlen, "cannot set the time zone");
	tzset();
	utc = 0;
	util_strlcpy(name_buf, name, sizeof(name_buf));
	return 0;
}

const char *
tz_name(void)
{
	return name_buf;
}

int
tz_is_utc(void)
{
	return utc;
}

void
tz_local(int64_t ms, struct tz_time *t)
{
	int64_t sec = ms / 1000 - (ms % 1000 < 0);
	time_t tt = (time_t)sec;
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (utc)
		gmtime_r(&tt, &tm);
	else
		localtime_r(&tt, &tm);
	t->year = (int64_t)tm.tm_year + 1900;
	t->month = tm.tm_mon + 1;
	t->day = tm.tm_mday;
	t->hour = tm.tm_hour;
	t->minute = tm.tm_min;
	t->second = tm.tm_sec;
	t->weekday = tm.tm_wday;
	t->offset_s = utc ? 0 : (int)tm.tm_gmtoff;
}

int
tz_whole_hour(int64_t hour_ms, int64_t *offset_ms)
{
	struct tz_time a, b;

	if (utc) {
		*offset_ms = 0;
		return 1;
	}
	tz_local(hour_ms, &a);
	tz_local(hour_ms + MS_PER_HOUR - 1, &b);
	*offset_ms = (int64_t)a.offset_s * MS_PER_SECOND;
	return a.offset_s == b.offset_s && a.offset_s % 3600 == 0;
}

void
tz_format_offset(int offset_s, char *buf, size_t len)
{
	int a = offset_s < 0 ? -offset_s : offset_s;

	snprintf(buf, len, "%c%02d:%02d", offset_s < 0 ? '-' : '+', a / 3600,
	    a / 60 % 60);
}

void
tz_format_datetime(int64_t ms, char *buf, size_t len)
{
	struct tz_time t;
	char off[16] = "";

	tz_local(ms, &t);
	if (!utc)
		tz_format_offset(t.offset_s, off, sizeof(off));
	snprintf(buf, len, "%04lld-%02d-%02d %02d:%02d:%02d%s",
	    (long long)t.year, t.month, t.day, t.hour, t.minute, t.second,
	    off);
}

void
tz_format_long(int64_t ms, char *buf, size_t len)
{
	struct tz_time t;
	char off[16];

	tz_local(ms, &t);
	tz_format_offset(t.offset_s, off, sizeof(off));
	snprintf(buf, len, "%04lld-%02d-%02d %02d:%02d:%02d %s",
	    (long long)t.year, t.month, t.day, t.hour, t.minute, t.second,
	    off);
}

void
tz_format_rfc3339_ms(int64_t ms, char *buf, size_t len)
{
	struct tz_time t;
	int64_t frac = ms % 1000;
	char fs[8] = "", off[16] = "Z";

	if (frac < 0)
		frac += 1000;
	if (utc) {
		util_format_rfc3339_ms(ms, buf, len);
		return;
	}
	tz_local(ms, &t);
	tz_format_offset(t.offset_s, off, sizeof(off));
	if (frac != 0)
		snprintf(fs, sizeof(fs), ".%03lld", (long long)frac);
	snprintf(buf, len, "%04lld-%02d-%02dT%02d:%02d:%02d%s%s",
	    (long long)t.year, t.month, t.day, t.hour, t.minute, t.second, fs,
	    off);
}
