/*
 * The packed formats of the ticks and hours tables (store-pack.c): the
 * byte buffers they are written into, a decoded tick and a decoded hour.
 * Knows nothing of SQLite or of an open database, so the packer can be
 * tested and fuzzed alone.
 */
#ifndef GUA_STORE_PACK_H
#define GUA_STORE_PACK_H

#include <stddef.h>
#include <stdint.h>

#include "imap.h"
#include "rollup.h"
#include "tick.h"

/* The most bytes one varint takes. */
#define STORE_VARINT_MAX	10
/* store_hour.hour_ms when no hour is loaded. */
#define STORE_NO_HOUR		INT64_MIN

/* The formats of an hours row store_pack_hour writes (store-pack.c). */
#define STORE_HOUR_PLAIN	2	/* up to schema 5 */
#define STORE_HOUR_DELTAS	3	/* from schema 6 */

/* A growing byte buffer. */
struct store_buf {
	unsigned char	*p;
	size_t		 len, cap;
};

/* One process on a GPU at a stored tick (store_scan_ticks). */
struct store_tick_proc {
	int64_t	proc_id;	/* key of store_process() */
	int	util_pm;	/* own SM util, per mille, or UTIL_UNKNOWN */
	int64_t	mem_mib;	/* or MIB_UNKNOWN */
	int	mem_omitted;	/* internal: memory as at the tick before */
};

/* One GPU at a stored tick. */
struct store_tick_gpu {
	int64_t			gpu_id;		/* key of store_gpus() */
	struct gpu_reading	reading;
	size_t			first_proc;	/* its processes:
						   procs[first_proc ...] */
	size_t			nprocs;
};

/* One row of the hours table, decoded: the rollups of one UTC hour. */
struct store_hour {
	int64_t			 hour_ms;	/* STORE_NO_HOUR: none */
	int64_t			 first_tick;	/* lowest tick id in the hour */
	int64_t			 last_tick;	/* highest */
	struct store_hour_gpu {
		int64_t			gpu;
		struct rollup_gpu	r;
	}			*gpus;
	size_t			 ngpus, gpus_cap;
	struct store_hour_proc {
		int64_t			gpu, proc;
		struct rollup_proc	r;
	}			*procs;
	size_t			 nprocs, procs_cap;
	struct imap		 gpu_slot;	/* (gpu, 0) -> index */
	struct imap		 proc_slot;	/* (gpu, proc) -> index */
	int			 dirty;		/* not written yet (bulk) */
};

/* A packed tick decoded into arrays that are reused from tick to tick. */
struct store_unpacked {
	struct store_tick_gpu	*gpus;
	size_t			 ngpus, gpus_cap;
	struct store_tick_proc	*procs;
	size_t			 nprocs, procs_cap;
};

/* A GPU's first and last tick in an hour whose raw ticks are gone. */
struct store_edge {
	int64_t	gpu;
	int64_t	first_ms;
	int64_t	first_span_ms;	/* ... and that tick's span */
	int64_t	last_ms;
};

/* A signed number as an unsigned one, small when it is near 0. */
static inline uint64_t
store_zigzag(int64_t v)
{
	/* All ones for a negative v: no right shift of a signed value. */
	return ((uint64_t)v << 1) ^ (v < 0 ? UINT64_MAX : 0);
}

static inline int64_t
store_unzigzag(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* Unsigned LEB128, the packed formats' only number. */
size_t	store_varint_put(unsigned char *, uint64_t);
/* Returns bytes read, 0 on a truncated or overlong value. */
size_t	store_varint_get(const unsigned char *, size_t len, uint64_t *);

/* store-pack.c: the packed formats (described there). 0, or -1. */
int	store_buf_reserve(struct store_buf *, size_t more);
/* Appends the mark of the tick format, before the tick's first GPU. */
int	store_pack_tick_start(struct store_buf *);
int	store_pack_gpu(struct store_buf *, int64_t gpu_id,
	    const struct tick_gpu *);
int	store_pack_proc(struct store_buf *, int64_t proc_id, int util_pm,
	    int with_mem, int64_t mem_mib);
/* 0, -1 for a damaged blob, -2 out of memory. span_ms: the tick's span,
   to which its energy is held (0: not known). */
int	store_unpack_tick(const void *, size_t, int64_t span_ms,
	    struct store_unpacked *);
/* format: STORE_HOUR_PLAIN or STORE_HOUR_DELTAS, as the file's schema
   allows (store_hour_format). */
int	store_pack_hour(struct store_buf *gpus, struct store_buf *procs,
	    const struct store_hour *, int format);
/*
 * Adds a stored hour to h (whose hour_ms is set). index: keep the
 * (gpu, proc) index, for a writer that adds more. 0, -1 damaged, -2 memory.
 */
int	store_unpack_hour(struct store_hour *, const void *gpus, size_t glen,
	    const void *procs, size_t plen, int index);
/*
 * The records of an hours row one by one, in the order stored, unmerged
 * (a GPU or process twice in the row comes twice): a reader that sums them
 * anyway needs no store_hour. A process record no tick saw comes as
 * rollup_proc_init's. 0, -1 damaged (records before the damage were
 * given), -2 when a callback returned nonzero.
 */
struct store_hour_records {
	void	*ctx;
	int	(*gpu)(void *ctx, int64_t gpu, const struct rollup_gpu *);
	int	(*proc)(void *ctx, int64_t gpu, int64_t proc,
		    const struct rollup_proc *);
};
int	store_hour_each(int64_t hour_ms, const void *gpus, size_t glen,
	    const void *procs, size_t plen, const struct store_hour_records *);
/* The edges of an hourly-only hour; *out is the caller's to free. */
int	store_pack_edges(struct store_buf *, int64_t hour_ms,
	    const struct store_edge *, size_t n);
/* 0, -1 for a damaged blob, -2 out of memory. */
int	store_unpack_edges(const void *, size_t, int64_t hour_ms,
	    struct store_edge **out, size_t *n);
/* Empties h for another hour, keeping its memory. */
void	store_hour_clear(struct store_hour *, int64_t hour_ms);
void	store_hour_free(struct store_hour *);
/* The sums of a GPU, or of a process on a GPU, in h; NULL out of memory. */
struct rollup_gpu *store_hour_gpu(struct store_hour *, int64_t gpu);
struct rollup_proc *store_hour_proc(struct store_hour *, int64_t gpu,
	    int64_t proc, int index);

#endif
