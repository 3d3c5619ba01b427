/*
 * Durations as users type them: a number (integer or decimal) and one unit,
 * "200ms", "30s", "0.5m", "1h", "365d". Exact decimal arithmetic, no floats.
 */
#ifndef GUA_DURATION_H
#define GUA_DURATION_H

#include <stddef.h>
#include <stdint.h>

/* The longest duration accepted: 100 years, far beyond any real window. */
#define DURATION_MAX_MS	(36500LL * 24 * 3600 * 1000)

/*
 * Parses s into milliseconds (rounded to the nearest ms). Returns 0, or -1
 * with a reason in err naming what was wrong with s.
 */
int	duration_parse(const char *s, int64_t *ms, char *err, size_t errlen);

/* Formats ms in the shortest exact form duration_parse accepts ("30s"). */
void	duration_format(int64_t ms, char *buf, size_t len);

#endif
