/*
 * Sums of classified time. The collector adds each tick to hourly rollups
 * in the database and a report adds raw ticks to the same sums, through the
 * same functions here, so both paths give identical numbers.
 */
#ifndef GUA_ROLLUP_H
#define GUA_ROLLUP_H

#include <stdint.h>

#include "classify.h"

/* One GPU over some ticks. */
struct rollup_gpu {
	int64_t	ms[STATE_COUNT];	/* observed time per state */
	int64_t	n[STATE_COUNT];		/* ticks per state */
	int64_t	util_pm_ms;		/* sum of util (per mille) x span */
	int64_t	util_ms;		/* time whose utilization is known */
	int64_t	energy_j[STATE_COUNT];	/* energy per state, whole joules */
	int64_t	energy_lost_ms;		/* time whose energy is unknown (not
					   read, or recorded before schema 5) */
};

/* One process on one GPU over some ticks. */
struct rollup_proc {
	int64_t	ms;		/* time present on the GPU */
	int64_t	n;		/* ticks present */
	int64_t	idle_ms;	/* time idle-held (per-process rule) */
	int64_t	idle_mib_ms;	/* memory x time while idle-held, MiB*ms */
	int64_t	peak_mib;	/* largest memory seen, MIB_UNKNOWN if none */
	int64_t	first_ms;	/* timestamp of the first tick seen */
	int64_t	last_ms;	/* timestamp of the last tick seen */
	int64_t	util_pm_ms;	/* sum of its own util (per mille) x span */
	int64_t	util_ms;	/* time whose own utilization is known */
	int64_t	util_lost_ms;	/* time from rollups that did not keep its
				   own utilization (schema 1's) */
};

/* Adds one tick of a card (energy_j: ENERGY_UNKNOWN); returns its state. */
enum state	rollup_gpu_add(struct rollup_gpu *, const struct thresholds *,
		    int64_t span_ms, int util_pm, int64_t held_mib,
		    int held_partial, int64_t energy_j);
/* Adds one tick of a process; returns its state. */
enum state	rollup_proc_add(struct rollup_proc *, const struct thresholds *,
		    int64_t ts_ms, int64_t span_ms, int proc_util_pm,
		    int gpu_util_pm, int64_t mem_mib);

void		rollup_gpu_merge(struct rollup_gpu *, const struct rollup_gpu *);
void		rollup_proc_init(struct rollup_proc *);
void		rollup_proc_merge(struct rollup_proc *,
		    const struct rollup_proc *);

/*
 * A process's own mean utilization in percent, time-weighted over the
 * time it was known; -1 when never known, or when part of the sums was
 * not kept.
 */
double		rollup_proc_mean_util(const struct rollup_proc *);

/* Observed time with a known state (everything but STATE_UNKNOWN). */
int64_t		rollup_gpu_known_ms(const struct rollup_gpu *);
int64_t		rollup_gpu_known_n(const struct rollup_gpu *);
/* Energy over all states, whole joules. */
int64_t		rollup_gpu_energy_j(const struct rollup_gpu *);

#endif
