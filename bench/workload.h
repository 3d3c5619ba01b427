/*
 * Realistic, deterministic GPU histories for the benchmark and for tests:
 * trainers, evaluation jobs, notebooks left holding memory, tiny runtime
 * stubs; busier on weekday working hours; PIDs that wrap and get reused;
 * a few collector restarts that leave gaps. The same seed always gives the
 * same ticks. Ownership: workload_next fills the caller's tick.
 */
#ifndef GUA_WORKLOAD_H
#define GUA_WORKLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "tick.h"

#define WORKLOAD_MAX_PROCS	8	/* processes on one GPU at a time */

struct workload {
	const char	*name;
	int		 gpus;
	int		 days;
	int64_t		 interval_ms;
	double		 procs_per_gpu;	/* mean processes on a GPU */
	int64_t		 life_min_ms;	/* process lifetimes, log-uniform */
	int64_t		 life_max_ms;
	int		 users;		/* distinct login users */
	int		 mix_train;	/* percent of arrivals that are */
	int		 mix_eval;	/* trainers, evaluations, notebooks; */
	int		 mix_notebook;	/* the rest are runtime stubs */
	int		 busy_from;	/* weekday busy hours, UTC: arrivals */
	int		 busy_to;	/* are 3x as frequent in [from, to) */
	int		 restarts;	/* collector restarts, each one a gap */
	int		 mem_every_tick; /* memory wobbles every tick (the old
					   format's worst case) */
	int64_t		 end_ms;	/* time of the last tick */
	uint64_t	 seed;
};

/* One process of the workload. */
struct workload_proc {
	uint32_t	pid;
	int64_t		start_ms;
	int64_t		end_ms;		/* leaves before this time */
	int		kind;		/* WL_TRAIN ... */
	int		user;		/* index into the user names, -1 unknown */
	int64_t		mem_mib;	/* steady memory */
	uint32_t	tag;		/* makes its command line its own */
};

struct workload_state {
	struct workload		 w;
	uint64_t		 rng;
	int64_t			 nticks;	/* ticks in the whole history */
	int64_t			 next;		/* index of the next tick */
	int64_t			 first_ms;	/* time of tick 0 */
	int64_t			*down;		/* restarts: [from, to) pairs */
	int			 ndown;
	int			 was_down;	/* the previous tick was skipped */
	uint32_t		 pid;		/* last PID handed out */
	struct workload_gpu {
		struct workload_proc	procs[WORKLOAD_MAX_PROCS];
		int			n;
	}			*gpu;
	double			 rate_off;	/* arrivals per ms, quiet hours */
};

/* The named workloads: "lab12", "year8", "churn", "small" (for tests).
   -1 unknown. */
int	workload_named(const char *name, struct workload *);
int	workload_start(struct workload_state *, const struct workload *);
/*
 * The next tick of the history into t (reset first): 1, or 0 when the
 * history is over, -1 out of memory. *new_run is set when the collector
 * restarted just before this tick (the caller begins a new run).
 */
int	workload_next(struct workload_state *, struct tick *, int *new_run);
void	workload_end(struct workload_state *);
/* A login user's name, or NULL for an unknown owner. */
const char *workload_user(int user);
/* The number of ticks the whole history has. */
int64_t	workload_ticks(const struct workload *);

#endif
