/*
 * A report: everything the writers print, built once from the store for a
 * window. Writers see only struct report, so a new output format is one new
 * file. Ownership: report_build fills a caller's struct report, whose arrays
 * report_free releases.
 */
#ifndef GUA_REPORT_H
#define GUA_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "classify.h"
#include "identity.h"
#include "rollup.h"
#include "store.h"

struct report_options {
	int64_t		 until_ms;	/* window end: ticks at or before it */
	int64_t		 since_ms;	/* window length asked for */
	struct thresholds thr;
	int64_t		 gpu_id;	/* one GPU (report_find_gpu), or -1 */
	int		 force_raw;	/* read raw ticks even for whole hours */
};

struct report_gpu {
	int64_t			id;		/* database key */
	struct store_gpu	info;
	struct rollup_gpu	r;		/* sums over the window */
};

/*
 * Who ran a session: struct identity's fields, its strings kept once in the
 * report (a year can hold ten thousand sessions). Never NULL: "" unknown.
 */
struct report_who {
	int		 known;		/* 0: the process was gone from /proc */
	int64_t		 uid;		/* owner uid, -1 when unknown */
	const char	*user;		/* login user, else owner, else "uid:N" */
	const char	*comm;		/* kernel command name */
	const char	*cmdline;	/* argv joined by spaces, cut */
	const char	*container;	/* container id, short form */
	const char	*pod;		/* Kubernetes pod uid */
	const char	*unit;		/* systemd unit */
	const char	*slurm_job;	/* Slurm job */
};

/* A process on a GPU over the window. */
struct report_session {
	int64_t			gpu_id;
	size_t			gpu;		/* index into report.gpus */
	int64_t			proc_id;
	uint32_t		pid;
	int64_t			start_ms;	/* 0 when unknown */
	struct report_who	who;
	struct rollup_proc	r;
	int			alive;		/* seen at the window's last tick */
};

/* Everything one user's processes did over the window. */
struct report_identity {
	char	name[64];	/* user, or "unknown" */
	int64_t	ms;		/* process time on GPUs */
	int64_t	idle_ms;	/* of which idle-held */
	int64_t	idle_mib_ms;	/* memory x time while idle-held */
	int64_t	sessions;	/* (process, GPU) pairs */
};

struct report {
	struct store_meta	 meta;
	struct thresholds	 thr;
	int64_t			 start_ms;	/* window: start_ms <= ts */
	int64_t			 end_ms;	/* ... and ts < end_ms */
	int64_t			 last_tick_ms;	/* newest tick in window, or 0 */
	int			 used_rollups;	/* whole hours from rollups */
	struct rollup_gpu	 total;		/* all GPUs */
	struct rollup_gpu	 heat[7][24];	/* weekday (Sun=0) x UTC hour */
	struct report_gpu	*gpus;		/* GPUs with samples, by index */
	size_t			 ngpus;
	struct report_session	*sessions;	/* by idle-held time, longest
						   first, then by time */
	size_t			 nsessions;
	struct report_identity	*ids;		/* by idle-held time, then time */
	size_t			 nids;
	struct report_strings	*strings;	/* what the sessions' who
						   strings point into */
};

/*
 * Resolves --gpu: a number is an index, anything else a UUID or a unique
 * UUID prefix (case-insensitive). Returns 0 with *gpu_id, or -1.
 */
int	report_find_gpu(struct store *, const char *spec, int64_t *gpu_id,
	    char *err, size_t errlen);
int	report_build(struct store *, const struct report_options *,
	    struct report *, char *err, size_t errlen);
void	report_free(struct report *);

/* Derived numbers, computed in one place so every writer agrees. */
int64_t	report_window_ms(const struct report *);
/* Share of known time in a state, 0..1; 0 when nothing is known. */
double	report_share(const struct rollup_gpu *, enum state);
/* Observed (known-state) GPU time / (window x GPUs), 0..1. */
double	report_coverage(const struct report *);
/* GPU-hours with utilization under the threshold (idle-held + truly idle). */
double	report_idle_gpu_hours(const struct report *);
/* Idle share x number of GPUs: how many cards sat unused on average. */
double	report_gpus_unused(const struct report *);
/* Mean utilization in percent over the known time, or -1. */
double	report_mean_util(const struct rollup_gpu *);

#endif
