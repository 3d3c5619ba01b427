/*
 * The time zone reports show times in: UTC unless tz_set chose another
 * (report --tz). The one place that knows the C library's zones (TZ,
 * tzset, localtime_r); the choice is process-wide, made once before a
 * report is built. In UTC nothing here calls the C library, so the
 * default costs what it did before zones.
 */
#ifndef GUA_TZ_H
#define GUA_TZ_H

#include <stddef.h>
#include <stdint.h>

/* A local date and time. */
struct tz_time {
	int64_t	year;
	int	month;		/* 1..12 */
	int	day;		/* 1..31 */
	int	hour;		/* 0..23 */
	int	minute;
	int	second;
	int	weekday;	/* Sunday = 0 .. Saturday = 6 */
	int	offset_s;	/* east of UTC, in seconds */
};

/*
 * Chooses the zone: "UTC", "local" (the machine's: TZ, else
 * /etc/localtime) or an IANA name ("Europe/Paris") that names a zone file
 * under TZDIR or /usr/share/zoneinfo; no absolute path, no "." or ".."
 * component. Returns 0, or -1 with err.
 */
int	tz_set(const char *name, char *err, size_t errlen);
/* The zone's name as reports print it: "UTC", "Europe/Paris". */
const char *tz_name(void);
/* Whether the zone is UTC (times end in "Z"). */
int	tz_is_utc(void);
/* ms since the epoch as a local time in the zone. */
void	tz_local(int64_t ms, struct tz_time *);
/*
 * Whether every instant of the UTC hour [hour_ms, hour_ms + 1 h) has the
 * same offset, and that offset is whole hours: then the UTC hour is one
 * local hour, and *offset_ms says which. Heatmaps built from hourly sums
 * need it.
 */
int	tz_whole_hour(int64_t hour_ms, int64_t *offset_ms);
/* "+01:00", "-03:30"; "+00:00" in UTC. */
void	tz_format_offset(int offset_s, char *buf, size_t len);
/*
 * For people: "2026-11-25 08:30:00" in UTC, "2026-11-25 09:30:00+01:00"
 * in another zone (the offset tells a DST change's twice-seen hour apart).
 */
void	tz_format_datetime(int64_t ms, char *buf, size_t len);
/* With its offset in every zone, for a header: "2026-11-25 09:30:00
   +01:00", "2026-11-25 08:30:00 +00:00". */
void	tz_format_long(int64_t ms, char *buf, size_t len);
/*
 * RFC 3339 with milliseconds when there are any: "…T08:30:00Z" in UTC,
 * "…T09:30:00+01:00" in another zone.
 */
void	tz_format_rfc3339_ms(int64_t ms, char *buf, size_t len);

#endif
