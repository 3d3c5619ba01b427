/*
 * Idle-held streaks: how long each process on each GPU has been
 * idle-held, tick after tick. A process is keyed by its GPU's UUID, its
 * PID and its start time, so a PID reused by a new process starts a new
 * streak. A streak grows by the span of every tick in which
 * classify_process() says the process is idle-held on that GPU, the time
 * the reports count for it; it ends at the first tick in which it is
 * anything else (computing, holding too little memory, unknown) or is no
 * longer listed (it freed its memory or exited).
 *
 * The collector feeds every tick it samples; the notification hooks
 * (notify.c) and the textfile's current streaks (export-prom.c) read it.
 * Ownership: streaks_new allocates, streaks_free frees; a struct streak
 * returned is valid until the next streaks_add_tick.
 */
#ifndef GUA_STREAK_H
#define GUA_STREAK_H

#include <stddef.h>
#include <stdint.h>

#include "classify.h"
#include "identity.h"
#include "tick.h"

struct streak {
	char		 uuid[96];	/* the GPU's NVML UUID */
	char		 label[64];	/* the GPU as the reports label it */
	int		 gpu_index;	/* NVML index at the latest tick */
	uint32_t	 pid;
	int64_t		 start_ms;	/* process start; 0 unknown */
	int64_t		 idle_ms;	/* length so far: the spans of its
					   idle-held ticks */
	int64_t		 mem_mib;	/* memory held at the latest tick */
	struct identity	 id;		/* who it is, at the latest tick */
	int64_t		 notify_next_ms; /* notify.c's: the length at which
					   its hook runs next; 0 not yet set */
	int		 seen;		/* in the tick being added */
};

struct streaks;

int	streaks_new(struct streaks **, char *err, size_t errlen);
void	streaks_free(struct streaks *);
/*
 * Adds one sampled tick, classified with thr: streaks of processes
 * idle-held in it grow by its span (new ones start with it), all others
 * end. Returns 0, or -1 out of memory (the streaks are then as before).
 */
int	streaks_add_tick(struct streaks *, const struct tick *,
	    const struct thresholds *, char *err, size_t errlen);
/* The current streaks, in the order they started. */
size_t	streaks_count(const struct streaks *);
struct streak *streaks_get(struct streaks *, size_t i);
/*
 * Up to max of the longest current streaks into out, longest first (ties
 * by GPU index, UUID, PID). Returns how many.
 */
size_t	streaks_longest(const struct streaks *, const struct streak **out,
	    size_t max);

#endif
