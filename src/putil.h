/*
 * A process's own SM utilization over a tick, from the reads of NVML's
 * per-process samples taken between ticks (at least once a second while
 * anyone is busy) and at the tick itself. Knows no NVML type: nvml.c
 * reads, this adds up.
 *
 * NVML's documentation does not say how many entries a read returns per
 * process, and drivers differ. Three behaviours are plausible, and the
 * result must be right under each:
 *   - an entry per sampling period in which the process was busy;
 *   - one entry per busy process per read: the latest period's value;
 *   - one entry per busy process per read: the mean since the previous
 *     read's newest timestamp (lastSeenTimeStamp).
 * A read in which one process has two entries with different timestamps
 * can only be the first; once seen, a GPU is read that way for good: a
 * process's entries over the tick are summed and divided by the sampling
 * periods in the tick (a holder without an entry was idle). Until then,
 * each read is one value per process (its entries' mean, 0 when it has
 * none), weighted by the time since the read before, and the tick's value
 * is their time-weighted mean: exact for the mean-since-last-read
 * behaviour, a sample of one point per read for the latest-period one.
 * An empty read that comes sooner after the newest timestamp than one
 * and a half times the entries' spacing (reads faster than the sampling
 * period) tells nothing yet: its span goes with the next read. Later, it
 * says nobody was busy, and such reads in a row are counted (idle_reads):
 * with newest_at_us, the reader tells a quiet GPU (nvml.c, read_wait).
 */
#ifndef GUA_PUTIL_H
#define GUA_PUTIL_H

#include <stddef.h>
#include <stdint.h>

/* One usable entry of a read: not junk, newer than the read before. */
struct putil_entry {
	unsigned long long ts;		/* NVML's timestamp, µs */
	uint32_t	   pid;
	unsigned	   sm;		/* percent, 0-100 */
};

struct putil_sum {
	uint32_t	 pid;
	uint64_t	 sum;		/* its entries' values, this tick */
	uint64_t	 wsum;		/* each read's value x its span (µs) */
	/* within one read */
	uint64_t	 read_no;	/* the read these are of */
	uint64_t	 read_sum;
	uint64_t	 read_count;
	unsigned long long read_ts;	/* its first entry's time */
};

/* Per GPU: what its reads told so far. Zeroed is ready. */
struct putil {
	int		 per_period;	/* entries come one per period */
	int		 most_entries;	/* most entries of one PID in a read */
	uint64_t	 read_no;	/* reads so far */
	int64_t		 last_read_us;	/* monotonic µs of the last read */
	int64_t		 span_us;	/* this tick's reads' spans, summed */
	int64_t		 pending_us;	/* spans of empty reads too early to
					   tell "idle" from "no new period" */
	int		 idle_reads;	/* reads in a row that found nobody
					   busy (not those too early) */
	unsigned long long newest;	/* newest timestamp seen, 0 none */
	int64_t		 newest_at_us;	/* when it was first seen */
	struct putil_sum *sums;		/* this tick's, by pid */
	size_t		 nsums, sums_cap;
	/* this tick's distinct timestamps, ascending, for the periods */
	unsigned long long *ts;
	size_t		 nts, ts_cap;
	unsigned long long spacing;	/* their shortest spacing, this tick */
	unsigned long long period_us;	/* ... as last seen; 0 unknown */
};

/*
 * Adds one read made at monotonic time now_us: its usable entries, in
 * any order, none when the driver had none. Returns 0, or -1 out of
 * memory.
 */
int	putil_read(struct putil *, int64_t now_us, struct putil_entry *,
	    size_t n);
/*
 * Process pid's utilization over the tick in per mille, or -1 when the
 * reads cannot tell (all of them too early; per period, no period
 * count). window_us is the tick's span; card_periods the card's own
 * utilization samples in the tick (0: none), the periods of the same
 * sampling clock.
 */
int	putil_result(const struct putil *, uint32_t pid, int64_t window_us,
	    int card_periods);
/* The sampling period as the card's own samples show it, taken until
   the entries' spacing tells. */
void	putil_hint_period(struct putil *, unsigned long long period_us);
/* Starts the next tick: forgets the sums, keeps what was learnt. */
void	putil_next_tick(struct putil *);
void	putil_free(struct putil *);

#endif
