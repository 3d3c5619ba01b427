/*
 * Small helpers shared by every module: errors into caller buffers, time,
 * bounded string copies and number parsing. Nothing here allocates.
 */
#ifndef GUA_UTIL_H
#define GUA_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define MS_PER_SECOND	1000LL
#define MS_PER_MINUTE	(60 * MS_PER_SECOND)
#define MS_PER_HOUR	(60 * MS_PER_MINUTE)
#define MS_PER_DAY	(24 * MS_PER_HOUR)

#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))

/* Writes a formatted message into err (if err is not NULL); returns -1. */
int	util_err(char *err, size_t errlen, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* Wall-clock time in milliseconds since the epoch (UTC). */
int64_t	util_now_ms(void);
/* CLOCK_MONOTONIC in milliseconds: for spans and deadlines, never for dates. */
int64_t	util_mono_ms(void);
/* The same in microseconds. */
int64_t	util_mono_us(void);

/*
 * Sums and products that stop at INT64_MAX / INT64_MIN instead of
 * overflowing: what real data never reaches, a damaged file cannot use to
 * make arithmetic undefined. The sum is inline: a year's report adds
 * millions of rollup fields with it.
 */
static inline int64_t
util_sat_add(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_add_overflow(a, b, &r))
		return b > 0 ? INT64_MAX : INT64_MIN;
	return r;
}
int64_t	util_sat_mul(int64_t, int64_t);

/* Copies at most size-1 bytes and always terminates; returns strlen(src). */
size_t	util_strlcpy(char *dst, const char *src, size_t size);

/*
 * Parses a whole decimal integer in [min, max]; no sign unless min < 0,
 * no spaces, no trailing text. Returns 0 or -1.
 */
int	util_parse_ll(const char *s, long long min, long long max,
	    long long *out);

/* "H:MM:SS", or "N days, H:MM:SS" past a day, as Python's timedelta. */
void	util_format_elapsed(int64_t ms, char *buf, size_t len);
/* RFC 3339 in UTC with seconds: "2026-11-25T08:30:00Z". */
void	util_format_rfc3339(int64_t ms, char *buf, size_t len);
/* For people, in UTC: "2026-11-25 08:30:00" (the reports' tables). */
void	util_format_datetime(int64_t ms, char *buf, size_t len);
/* The same with milliseconds when there are any: "…T08:30:00.250Z". */
void	util_format_rfc3339_ms(int64_t ms, char *buf, size_t len);
/*
 * Parses an RFC 3339 time ("2026-11-25T08:30:00Z", with optional fraction and
 * a Z or +HH:MM / -HH:MM offset; a space may replace the T). Returns 0 or -1.
 */
int	util_parse_rfc3339(const char *s, int64_t *ms);
/*
 * Parses what Python's datetime.isoformat() writes (and SQLite's
 * "YYYY-MM-DD HH:MM:SS"): as RFC 3339, but a missing offset means UTC and
 * an offset may carry seconds. Returns 0 or -1.
 */
int	util_parse_iso8601(const char *s, int64_t *ms);

/* Days since 1970-01-01 for a proleptic Gregorian date (no time zones). */
int64_t	util_days_from_civil(int64_t y, unsigned m, unsigned d);
/* Weekday of a time, Sunday = 0 .. Saturday = 6, in UTC. */
int	util_weekday(int64_t ms);
/* Hour of the day 0..23 in UTC. */
int	util_hour_of_day(int64_t ms);
/* Start of the UTC hour that contains ms (floor, also for negative times). */
int64_t	util_hour_floor(int64_t ms);

/* This machine's host name, never empty ("unknown" when it cannot be read). */
void	util_hostname(char *buf, size_t len);

/*
 * path's directory into dir ("." when it has none, "/" for the root; ""
 * when it does not fit in len) and a pointer to its last name in path.
 */
const char *util_split_path(const char *path, char *dir, size_t len);
/*
 * Whether two paths name one file, existing or not: the same inode when
 * both exist, else the same directory (by device and inode) and the same
 * last component. Strings alone miss "d/./f", "d//f" and a linked
 * directory.
 */
int	util_same_file(const char *a, const char *b);

/*
 * Opens a file the caller is to own (a log, a PID file): created with
 * O_EXCL and mode when absent, else opened; never through a symbolic
 * link, and refused unless it is a regular file with one link owned by
 * this user. flags add to O_CLOEXEC | O_NOFOLLOW (O_WRONLY, O_APPEND ...).
 * Returns the descriptor (*created says which), or -1 with err.
 */
int	util_open_own(const char *path, int flags, unsigned mode, int *created,
	    char *err, size_t errlen);

#endif
