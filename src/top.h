/*
 * The live view's model: what `gua top` shows, read from a database's
 * newest tick, with how long each process has been idle-held. Only the
 * ticks of the newest hour are decoded; a streak that reaches back past
 * them is followed through the hourly rollups, an hour at a time, and
 * only the hour it began in is decoded again. So the cost does not grow
 * with the history.
 *
 * Ownership: top_read fills a struct top_view whose arrays top_view_free
 * releases. Every string of an identity is untrusted: writers escape it.
 */
#ifndef GUA_TOP_H
#define GUA_TOP_H

#include <stddef.h>
#include <stdint.h>

#include "classify.h"
#include "identity.h"
#include "store.h"

#define TOP_LABEL_MAX	64

/* A GPU at the newest tick. */
struct top_gpu {
	struct store_gpu info;
	char		 label[TOP_LABEL_MAX];	/* "GPU-0", as reports */
	int		 util_pm;	/* over the tick; UTIL_UNKNOWN */
	int64_t		 held_mib;	/* its processes' known memory */
	int		 held_partial;	/* some holder's memory unknown */
	int		 procs_known;	/* 0: the list could not be read */
	enum state	 state;
};

/* A process on a GPU at the newest tick. */
struct top_proc {
	size_t		 gpu;		/* into top_view.gpus */
	int64_t		 proc_id;	/* the database's key */
	uint32_t	 pid;
	struct identity	 id;
	int64_t		 mem_mib;	/* MIB_UNKNOWN */
	int		 util_pm;	/* its own SM util; UTIL_UNKNOWN */
	enum state	 state;		/* classify_process at the tick */
	/* The current idle-held streak: the time of the consecutive ticks,
	   counted back from the newest, in which it was idle-held (their
	   spans summed); 0 when it is not idle-held now. */
	int64_t		 idle_ms;
	int64_t		 idle_since_ms;	/* the streak's first tick */
};

struct top_view {
	int		 have_tick;	/* 0: the database has no tick */
	int64_t		 tick_ms;	/* the newest tick's time */
	int64_t		 span_ms;	/* ... and its span */
	int64_t		 interval_ms;	/* the latest run's interval */
	int64_t		 ticks;		/* ticks in the database */
	char		 host[256];	/* the host that recorded it */
	struct thresholds thr;		/* the rollups', used throughout */
	struct top_gpu	*gpus;		/* by index, then UUID */
	size_t		 ngpus;
	/* Idle-held first, longest streak first; then by GPU, memory. */
	struct top_proc	*procs;
	size_t		 nprocs;
};

/* The view of the newest tick of an open database. 0, or -1 with err. */
int	top_read(struct store *, struct top_view *, char *err, size_t errlen);
/* The newest tick's key, cheaply: has a new tick come? 0 or -1. */
int	top_newest(struct store *, int64_t *ticks, char *err, size_t errlen);
void	top_view_free(struct top_view *);

/* Where a process runs, for people: "job_12", "pod 3f2a…", "" if
   nowhere but its session. Raw: escape it. Returns buf. */
const char *top_where(const struct identity *, char *buf, size_t len);

#endif
