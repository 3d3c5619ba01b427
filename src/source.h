/*
 * Telemetry sources: where ticks come from. A source fills a tick's GPUs and
 * processes; the caller sets the tick's time and span.
 */
#ifndef GUA_SOURCE_H
#define GUA_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "tick.h"

struct source_config {
	const char	*nvml_library;	/* NVML path, NULL for the default */
	int64_t		 interval_ms;
	/* Conditions worth a log line (a GPU lost, a metric unsupported),
	   told once when they start and once when they end; may be NULL. */
	void		(*log)(void *arg, const char *msg);
	void		*log_arg;
};

/* What a source tells about itself once open. */
struct source_info {
	char	driver_version[80];	/* NVIDIA driver version */
	char	kind[16];		/* "bare" */
	char	library[256];		/* the NVML file loaded; "" none */
	int	ngpus;			/* GPUs seen when opening */
};

struct source {
	const char	*name;		/* "nvml", "demo"; stored in the runs */
	int		(*open)(void **ctx, const struct source_config *,
			    struct source_info *, char *err, size_t errlen);
	int		(*sample)(void *ctx, struct tick *, char *err,
			    size_t errlen);
	/* Between ticks, at most every source_poll_ms: what must be read
	   more often than ticks come, NVML's per-process utilization; the
	   source may read less often. Returns how long (ms) it needs no
	   poll, -1 none before the next tick; called just after a tick it
	   only says when. NULL: nothing to read. */
	int64_t		(*poll)(void *ctx);
	void		(*close)(void *ctx);
};

/* How often at most a collector at interval_ms polls its source between
   ticks: ten times a tick, and at least once a second. */
int64_t	source_poll_ms(int64_t interval_ms);

extern const struct source source_demo;
extern const struct source source_nvml;

#endif
