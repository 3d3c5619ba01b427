/*
 * The Prometheus textfile for node_exporter's textfile collector. The
 * collector feeds it every tick it records; it keeps cumulative counters in
 * memory and rewrites DIR/gua.prom atomically (a temporary file in DIR,
 * fsync, rename), so a scrape never sees half a file. No timestamps: the
 * scrape's time is the sample's.
 *
 * Per-user series are bounded: the first EXPORT_PROM_TOP_USERS users seen
 * idle-held (after those seeded from the database, largest first) get
 * their own series for the life of the process; every later user's time
 * goes to user="(other)". The unit can be another (--metrics-by): the
 * Slurm job, the pod or the namespace, bounded the same way. Membership never changes while running, so every
 * counter only grows. The current idle-held streaks are a gauge of the
 * EXPORT_PROM_TOP_STREAKS longest, labelled by GPU, user and PID: a
 * series lasts as long as its streak.
 *
 * A collector that stops cleanly removes the file (export_prom_remove), so
 * its gauges do not outlive it; after a crash the file stays, and its
 * gua_last_tick_timestamp_seconds is what tells that it is stale.
 *
 * The same text is served over HTTP (http-metrics.c): the collector
 * renders it once a tick (export_prom_render) for both destinations.
 *
 * Ownership: export_prom_open allocates, export_prom_close frees. Functions
 * returning int give 0, or -1 with the reason in err.
 */
#ifndef GUA_EXPORT_PROM_H
#define GUA_EXPORT_PROM_H

#include <stddef.h>
#include <stdio.h>

#include "classify.h"
#include "report.h"
#include "streak.h"
#include "tick.h"

#define EXPORT_PROM_FILE	"gua.prom"
#define EXPORT_PROM_TOP_USERS	20
/* The user label of everyone past the top users; no login name has "(". */
#define EXPORT_PROM_OTHER	"(other)"
/* The longest current idle-held streaks that get a series. */
#define EXPORT_PROM_TOP_STREAKS	20

/* The unit of gua_process_idle_held_seconds_total (--metrics-by). */
enum export_prom_by {
	EXPORT_PROM_BY_USER,		/* label user: the login user */
	EXPORT_PROM_BY_JOB,		/* label slurm_job: "job_N" */
	EXPORT_PROM_BY_POD,		/* label pod: "namespace/name", else
					   the pod uid */
	EXPORT_PROM_BY_NAMESPACE	/* label namespace */
};
/* The label value of a process without the unit (no job, no pod). */
#define EXPORT_PROM_NONE	"(none)"

struct export_prom;

/*
 * dir must be an existing, writable directory; NULL keeps the counters
 * without a file (only rendered, for HTTP).
 */
int	export_prom_open(struct export_prom **, const char *dir,
	    const char *driver_version, char *err, size_t errlen);
/* "user", "job", "pod" or "namespace" into *by; 0 or -1 when unknown. */
int	export_prom_parse_by(const char *word, enum export_prom_by *by);
/* Optional, before export_prom_seed and the first tick (default user). */
void	export_prom_group_by(struct export_prom *, enum export_prom_by);
/*
 * Optional, before the first tick (the collector's --append): starts the
 * counters from a report over the database's whole history, built with the
 * same thresholds the ticks will be classified with.
 */
int	export_prom_seed(struct export_prom *, const struct report *,
	    char *err, size_t errlen);
/* Adds one recorded tick, classified with thr. -1: out of memory. */
int	export_prom_add_tick(struct export_prom *, const struct tick *,
	    const struct thresholds *, char *err, size_t errlen);
/*
 * The idle-held streaks the textfile shows (the longest
 * EXPORT_PROM_TOP_STREAKS, as they are when it is written); the collector
 * owns them. NULL p is a no-op; without this call the family is empty.
 */
void	export_prom_follow_streaks(struct export_prom *p,
	    const struct streaks *);
/* Counts a tick that could not be sampled or recorded. */
void	export_prom_count_error(struct export_prom *);
/* Rewrites DIR/gua.prom. */
int	export_prom_write(struct export_prom *, char *err, size_t errlen);
/*
 * The exposition text into *text (malloc'ed, the caller frees; not NUL
 * terminated) and *len. -1: out of memory.
 */
int	export_prom_render(const struct export_prom *, char **text,
	    size_t *len);
/* Rewrites DIR/gua.prom with text that export_prom_render gave. */
int	export_prom_write_text(struct export_prom *, const char *text,
	    size_t len, char *err, size_t errlen);
/*
 * Removes DIR/gua.prom if it is still the file the last export_prom_write
 * made (one that someone else put there stays). 0 also when there was
 * nothing to remove.
 */
int	export_prom_remove(struct export_prom *, char *err, size_t errlen);
/* The exposition text, as export_prom_write writes it. */
int	export_prom_print(const struct export_prom *, FILE *);
void	export_prom_close(struct export_prom *);

#endif
