#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

int
util_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int64_t
clock_ms(clockid_t id)
{
	struct timespec ts;

	if (clock_gettime(id, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
util_now_ms(void)
{
	return clock_ms(CLOCK_REALTIME);
}

int64_t
util_mono_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

int64_t
util_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
util_sat_mul(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_mul_overflow(a, b, &r))
		return (a > 0) == (b > 0) ? INT64_MAX : INT64_MIN;
	return r;
}

size_t
util_strlcpy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);

	if (size > 0) {
		size_t c = n < size - 1 ? n : size - 1;
		memcpy(dst, src, c);
		dst[c] = '\0';
	}
	return n;
}

int
util_parse_ll(const char *s, long long min, long long max, long long *out)
{
	const char *p = s;
	char *end;
	long long v;

	if (s == NULL || *s == '\0')
		return -1;
	if (*p == '-' && min >= 0)
		return -1;
	if (*p == '-' || *p == '+')
		p++;
	if (*p < '0' || *p > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

void
util_format_elapsed(int64_t ms, char *buf, size_t len)
{
	int64_t s, days;

	if (ms < 0)
		ms = 0;
	s = (ms + 500) / 1000;
	days = s / 86400;
	s %= 86400;
	if (days > 0)
		snprintf(buf, len, "%lld day%s, %lld:%02lld:%02lld",
		    (long long)days, days == 1 ? "" : "s", (long long)(s / 3600),
		    (long long)(s / 60 % 60), (long long)(s % 60));
	else
		snprintf(buf, len, "%lld:%02lld:%02lld", (long long)(s / 3600),
		    (long long)(s / 60 % 60), (long long)(s % 60));
}

/* Howard Hinnant's civil-calendar algorithms: exact, no libc time zones. */
int64_t
util_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int64_t
floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

void
util_format_rfc3339(int64_t ms, char *buf, size_t len)
{
	int64_t days = floor_div(ms, MS_PER_DAY);
	int64_t rem = ms - days * MS_PER_DAY;
	int64_t y;
	unsigned m, d;

	civil_from_days(days, &y, &m, &d);
	snprintf(buf, len, "%04lld-%02u-%02uT%02lld:%02lld:%02lldZ",
	    (long long)y, m, d, (long long)(rem / MS_PER_HOUR),
	    (long long)(rem / MS_PER_MINUTE % 60),
	    (long long)(rem / MS_PER_SECOND % 60));
}

void
util_format_datetime(int64_t ms, char *buf, size_t len)
{
	char iso[48];

	util_format_rfc3339(ms, iso, sizeof(iso));
	/* "2026-11-25T08:30:00Z" -> "2026-11-25 08:30:00" */
	iso[10] = ' ';
	iso[19] = '\0';
	util_strlcpy(buf, iso, len);
}

void
util_format_rfc3339_ms(int64_t ms, char *buf, size_t len)
{
	int64_t frac = ms - floor_div(ms, MS_PER_SECOND) * MS_PER_SECOND;
	char iso[48];

	util_format_rfc3339(ms, iso, sizeof(iso));
	if (frac != 0 && strlen(iso) == 20) {
		iso[19] = '\0';
		snprintf(buf, len, "%s.%03lldZ", iso, (long long)frac);
	} else {
		util_strlcpy(buf, iso, len);
	}
}

static int
digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

/*
 * The two time formats gua reads. Strict (RFC 3339) needs an offset;
 * lenient (the original tool's Python isoformat) takes its absence as UTC
 * and allows an offset with seconds, "+05:30:00".
 */
static int
parse_time(const char *s, int lenient, int64_t *ms)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
		30, 31 };
	const char *p = s;
	int y, mo, d, h, mi, sec, frac_ms = 0, off_sec = 0;

	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) ||
	    *p++ != '-' || digits(&p, 2, &d))
		return -1;
	if (*p != 'T' && *p != 't' && *p != ' ')
		return -1;
	p++;
	if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi) ||
	    *p++ != ':' || digits(&p, 2, &sec))
		return -1;
	if (*p == '.') {
		int scale = 100, nd = 0;

		p++;
		while (*p >= '0' && *p <= '9') {
			frac_ms += (*p - '0') * scale;
			scale /= 10;
			p++;
			nd++;
		}
		if (nd == 0 || nd > 9)
			return -1;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1, oh, om, os = 0;

		p++;
		if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om) ||
		    oh > 23 || om > 59)
			return -1;
		if (lenient && *p == ':') {
			/* Python writes seconds (and microseconds) of odd
			   offsets; a fraction of a second is dropped. */
			p++;
			if (digits(&p, 2, &os) || os > 59)
				return -1;
			if (*p == '.') {
				p++;
				if (*p < '0' || *p > '9')
					return -1;
				while (*p >= '0' && *p <= '9')
					p++;
			}
		}
		off_sec = sign * (oh * 3600 + om * 60 + os);
	} else if (!lenient) {
		return -1;
	}
	if (*p != '\0')
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 ||
	    mi > 59 || sec > 60)
		return -1;
	if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return -1;
	if (sec == 60)
		sec = 59;
	*ms = util_days_from_civil(y, (unsigned)mo, (unsigned)d) * MS_PER_DAY +
	    (int64_t)h * MS_PER_HOUR + (int64_t)mi * MS_PER_MINUTE +
	    (int64_t)sec * MS_PER_SECOND + frac_ms -
	    (int64_t)off_sec * MS_PER_SECOND;
	return 0;
}

int
util_parse_rfc3339(const char *s, int64_t *ms)
{
	return parse_time(s, 0, ms);
}

int
util_parse_iso8601(const char *s, int64_t *ms)
{
	return parse_time(s, 1, ms);
}

int
util_weekday(int64_t ms)
{
	/* 1970-01-01 was a Thursday (4 when Sunday is 0). */
	int64_t w = (floor_div(ms, MS_PER_DAY) + 4) % 7;

	return (int)(w < 0 ? w + 7 : w);
}

int
util_hour_of_day(int64_t ms)
{
	return (int)((ms - floor_div(ms, MS_PER_DAY) * MS_PER_DAY) /
	    MS_PER_HOUR);
}

int64_t
util_hour_floor(int64_t ms)
{
	return floor_div(ms, MS_PER_HOUR) * MS_PER_HOUR;
}

void
util_hostname(char *buf, size_t len)
{
	if (gethostname(buf, len) != 0 || buf[0] == '\0')
		util_strlcpy(buf, "unknown", len);
	buf[len - 1] = '\0';
}

int
util_open_own(const char *path, int flags, unsigned mode, int *created,
    char *err, size_t errlen)
{
	struct stat st;
	int fd;

	*created = 1;
	fd = open(path, flags | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC |
	    O_NOCTTY, (mode_t)mode);
	if (fd < 0 && errno == EEXIST) {
		*created = 0;
		fd = open(path, flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
		    O_NONBLOCK);
	}
	if (fd < 0) {
		if (errno == ELOOP)
			return util_err(err, errlen, "%s: is a symbolic link; "
			    "refusing to follow it", path);
		return util_err(err, errlen, "%s: %s", path, strerror(errno));
	}
	if (fstat(fd, &st) != 0) {
		util_err(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	/* Another user's file, or a hard link to one, is not ours to write. */
	if (!S_ISREG(st.st_mode) || st.st_nlink != 1 ||
	    st.st_uid != geteuid()) {
		util_err(err, errlen, "%s: %s; refusing to write it", path,
		    !S_ISREG(st.st_mode) ? "not a regular file" :
		    st.st_nlink != 1 ? "has other hard links" :
		    "owned by another user");
		close(fd);
		return -1;
	}
	/* O_NONBLOCK only guarded the open against a FIFO. */
	if (!*created)
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}

const char *
util_split_path(const char *path, char *dir, size_t len)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL) {
		util_strlcpy(dir, ".", len);
		return path;
	}
	if (slash == path)
		util_strlcpy(dir, "/", len);
	else if ((size_t)(slash - path) < len) {
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = '\0';
	} else
		dir[0] = '\0';
	return slash + 1;
}

int
util_same_file(const char *a, const char *b)
{
	char da[PATH_MAX], db[PATH_MAX];
	const char *na, *nb;
	struct stat sa, sb;

	if (strcmp(a, b) == 0)
		return 1;
	if (stat(a, &sa) == 0 && stat(b, &sb) == 0)
		return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
	na = util_split_path(a, da, sizeof(da));
	nb = util_split_path(b, db, sizeof(db));
	if (strcmp(na, nb) != 0 || da[0] == '\0' || db[0] == '\0' ||
	    stat(da, &sa) != 0 || stat(db, &sb) != 0)
		return 0;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}
