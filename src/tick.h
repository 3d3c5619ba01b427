/*
 * The sample of one instant: what a source (NVML or the demo) saw on every
 * GPU and process. It is the only thing that crosses from sources into the
 * store. A tick owns its arrays; tick_reset() keeps their memory for reuse
 * and tick_free() releases it.
 */
#ifndef GUA_TICK_H
#define GUA_TICK_H

#include <stddef.h>
#include <stdint.h>

#include "energy.h"
#include "identity.h"

/*
 * What a reading cannot tell. Utilization is kept in per mille (0..1000)
 * so integrated means stay exact; memory in MiB.
 */
#define UTIL_UNKNOWN	(-1)
#define MIB_UNKNOWN	(-1)

/* Where a tick's card utilization came from. Stored as an integer. */
enum util_source {
	UTIL_SRC_NONE = 0,	/* unknown: NVML could not tell */
	UTIL_SRC_INSTANT = 1,	/* nvmlDeviceGetUtilizationRates, one point */
	UTIL_SRC_SAMPLES = 2,	/* mean of NVML's buffered samples */
	UTIL_SRC_SAMPLES_EMPTY = 3, /* empty buffer: no kernel ran, 0 % */
	UTIL_SRC_DEMO = 4,	/* the built-in demo workload */
	UTIL_SRC_IMPORT = 5,	/* imported from the original tool */
};

/*
 * How busy a card was over one tick, as recorded and read back: the
 * store's decoded ticks, its raw rows and the report's rows carry it
 * whole. (struct tick_gpu, which the sources fill, has the same fields
 * flat.)
 */
struct gpu_reading {
	int		 util_pm;	/* mean util over the tick, per mille;
					   UTIL_UNKNOWN */
	int		 util_max_pct;	/* highest sample, -1 when unknown */
	int		 util_cover_pm;	/* share of the tick the samples
					   cover, per mille; -1 when not
					   from samples */
	enum util_source util_src;
	int		 procs_known;	/* 0: the process list could not
					   be read */
	int64_t		 energy_j;	/* energy over the tick, whole
					   joules; ENERGY_UNKNOWN */
	enum energy_source energy_src;	/* where it came from */
};

struct tick_proc {
	uint32_t	pid;		/* host PID as NVML reports it */
	int64_t		start_ms;	/* start time, ms since epoch; 0 unknown */
	int64_t		mem_mib;	/* used GPU memory, MiB; MIB_UNKNOWN */
	int		util_pm;	/* own SM util, per mille; UTIL_UNKNOWN */
	struct identity	id;		/* from /proc; id.known == 0 if gone */
};

struct tick_gpu {
	char		 uuid[96];	/* NVML UUID ("GPU-…", "MIG-…") */
	char		 name[96];	/* product name */
	int		 index;		/* NVML index (not stable across boots) */
	char		 parent_uuid[96]; /* MIG: the physical GPU; "" if none */
	int64_t		 mem_total_mib;	/* MIB_UNKNOWN when not read */
	int64_t		 mem_used_mib;	/* allocated memory; MIB_UNKNOWN */
	int		 util_pm;	/* mean util over the tick; UTIL_UNKNOWN */
	int		 util_max_pct;	/* highest sample, -1 when unknown */
	int		 util_cover_pm;	/* share of the tick the samples cover,
					   per mille; -1 when not from samples */
	enum util_source util_src;
	int		 procs_known;	/* 0: the process list could not be read */
	int64_t		 energy_mj;	/* energy over the tick, millijoules;
					   ENERGY_UNKNOWN */
	enum energy_source energy_src;	/* where energy_mj came from */
	struct tick_proc *procs;
	size_t		 nprocs;
	size_t		 procs_cap;
};

struct tick {
	int64_t		 ts_ms;		/* wall clock, ms since epoch, UTC */
	int64_t		 span_ms;	/* time this tick stands for */
	struct tick_gpu	*gpus;
	size_t		 ngpus;
	size_t		 gpus_cap;
};

/* "instant", "samples", "samples_empty", "demo", "import" or "unknown". */
const char	*tick_source_name(enum util_source);

/* Empties the tick, keeping its memory. */
void		 tick_reset(struct tick *);
void		 tick_free(struct tick *);
/* Appends a zeroed GPU (unknowns set); NULL when out of memory. */
struct tick_gpu	*tick_add_gpu(struct tick *);
/* Appends a zeroed process to a GPU (unknowns set); NULL when out of memory. */
struct tick_proc *tick_add_proc(struct tick_gpu *);
/* Sum of known process memory; *partial set when some holder is unknown. */
int64_t		 tick_gpu_held_mib(const struct tick_gpu *, int *partial);

#endif
