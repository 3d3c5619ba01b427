/*
 * The collector engine: samples a source every interval on absolute
 * monotonic deadlines, polls it between ticks, and writes each tick in one
 * transaction; ticks that cannot be written wait in memory. It follows a
 * database deleted or replaced under it, and keeps the Prometheus
 * exposition (rendered once a tick for the textfile and for /metrics
 * over HTTP), and the idle-held streaks that the textfile and the
 * notification hooks read. The command (cmd-daemon.c) owns what surrounds it: options,
 * the fork, the PID file, the log and the signals.
 */
#ifndef GUA_COLLECTOR_H
#define GUA_COLLECTOR_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "pidfile.h"
#include "source.h"

struct collector_config {
	const struct source *source;	/* &source_nvml, or &source_demo */
	const char	*nvml_library;	/* NULL: NVML's usual names */
	const char	*db;		/* absolute path */
	int		 append;	/* an existing database is resumed */
	int64_t		 interval_ms;
	const char	*log_file;	/* named in the PID file; NULL none */
	const char	*textfile_dir;	/* Prometheus textfile; NULL none */
	const char	*listen;	/* /metrics over HTTP, "ADDR:PORT";
					   NULL none */
	int		 metrics_by;	/* enum export_prom_by (--metrics-by) */
	int		 print_ticks;	/* a line per tick on stdout */
	int64_t		 keep_raw_ms;	/* --keep-raw: raw ticks older give
					   way to the rollups, an hour at a
					   time between ticks; 0 keeps all */
	const char	*notify_exec;	/* --notify-exec, absolute; NULL none */
	int64_t		 notify_after_ms; /* --notify-after */
	int64_t		 notify_repeat_ms; /* --notify-repeat; 0 none */
	struct pidfile	*pid;		/* the caller's, held: the database's
					   identity is written in it */
};

struct collector;

/*
 * Opens the database (refusing a link, a file that is no gua database, an
 * existing one without append, one another collector writes or one of
 * another host), the source, the store and the textfile, and samples and
 * writes the first tick. Returns 0; -1 with the reason in err; or
 * STORE_NOT_GUA (store.h) when the database path names no gua database,
 * which is bad usage. Nothing it created is left after a failure.
 */
int	collector_start(struct collector **, const struct collector_config *,
	    char *err, size_t errlen);
/*
 * Ticks until *stop is set (by a signal handler; signals are delivered
 * only while it waits, through the mask open). *hup set: the log is
 * reopened.
 */
void	collector_run(struct collector *, const sigset_t *open,
	    volatile sig_atomic_t *stop, volatile sig_atomic_t *hup);
/* Ticks written so far by this run. */
int64_t	collector_ticks(const struct collector *);
/* A last, patient write of the ticks still waiting, the textfile
   removed; then closes and frees the collector. Returns the ticks this
   run wrote. */
int64_t	collector_finish(struct collector *);

#endif
