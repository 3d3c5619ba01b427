/*
 * What the store's files share. Nothing outside store*.c includes this
 * (but the store's own tests).
 */
#ifndef GUA_STORE_INTERNAL_H
#define GUA_STORE_INTERNAL_H

#include <sqlite3.h>

#include "imap.h"
#include "store.h"

/* The most bytes one varint takes. */
#define STORE_VARINT_MAX	10
/* store_hour.hour_ms when no hour is loaded. */
#define STORE_NO_HOUR		INT64_MIN

/*
 * Statements prepared on first use and reused (bind, step, reset) for the
 * life of the handle: the write path's every tick, the read path's per row.
 */
enum {
	STMT_TICK_INSERT,
	STMT_GPU_FIND,
	STMT_GPU_INSERT,
	STMT_GPU_UPDATE,
	STMT_PROC_FIND,
	STMT_PROC_INSERT,
	STMT_HOUR_GET,
	STMT_HOUR_PUT,
	STMT_PROC_GET,
	STMT_COUNT
};

/* A growing byte buffer. */
struct store_buf {
	unsigned char	*p;
	size_t		 len, cap;
};

/* A GPU the writer has already resolved to its key. */
struct store_gpu_cache {
	int64_t	id;
	int	index;
	char	uuid[96];
	char	name[96];
	int64_t	mem_total_mib;
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

struct store {
	sqlite3			*db;
	char			*path;
	char			*publish_to;	/* store_create_hidden: the
						   name to give it */
	int			 tmp_fd;	/* ... and its lock, or -1 */
	int			 writable;
	struct store_meta	 meta;
	int64_t			 run_id;	/* current run, 0 before one */
	int64_t			 ticks_written;
	int			 broken;	/* a tick failed inside the
						   caller's transaction */
	sqlite3_stmt		*stmt[STMT_COUNT];
	/*
	 * Caches of the write path. Only what the previous tick saw is kept
	 * (prev), so memory stays bounded over months of coming and going
	 * processes; the current tick fills cur, then the two swap.
	 */
	struct store_gpu_cache	*gpus;
	size_t			 ngpus;
	struct imap		 proc_prev, proc_cur;	/* (pid, start) -> key */
	struct imap		 mem_prev, mem_cur;	/* (gpu, proc) -> MiB */
	int			 prev_valid;	/* the fields below are known */
	int64_t			 prev_id;	/* id of the tick written last */
	int64_t			 prev_ts;	/* ... and its time */
	struct store_hour	 hour;		/* the hour being added to */
	struct store_buf	 tick_buf;	/* encode buffers */
	struct store_buf	 hour_gbuf, hour_pbuf;
};

/*
 * store-salvage.c: leaves out of a copy every tick that cannot be
 * decoded, keeps the ticks after one with the memory they shared with it
 * unknown, and sums the rollups of their hours again; *d says what it did
 * (free d->left). Runs in the caller's transaction, if any.
 */
int	store_salvage(struct store *, struct store_damage *d, char *err,
	    size_t errlen);

/* SQLite's message for db's last error, in words a user can act on. */
const char *store_sqlite_reason(sqlite3 *db);
/* Formats err as "PATH: what: sqlite's message". Returns -1. */
int	store_sqlite_err(struct store *, char *err, size_t errlen,
	    const char *what);
/* The prepared statement number which, or NULL with err set. */
sqlite3_stmt *store_stmt(struct store *, int which, char *err, size_t errlen);
/*
 * Opens path read-only without ever changing it or creating a file beside
 * it: immutable when no writer has it open. 0, or -1 with "PATH: cannot
 * open: why" in err; *db may be set even on failure (close it).
 */
int	store_sqlite_open_ro(const char *path, sqlite3 **db, char *err,
	    size_t errlen);
/*
 * Before a reader opens path: the -wal and -shm beside it, if any, are
 * regular files with one link owned by the database's owner (SQLite
 * writes -shm even for a reader, through a hard link too). 0 or -1.
 */
int	store_check_sidecars(const char *path, char *err, size_t errlen);
/* Runs SQL with no result rows. */
int	store_exec(struct store *, const char *sql, char *err, size_t errlen);

/* Unsigned LEB128, the packed formats' only number. */
size_t	store_varint_put(unsigned char *, uint64_t);
/* Returns bytes read, 0 on a truncated or overlong value. */
size_t	store_varint_get(const unsigned char *, size_t len, uint64_t *);

/* store-pack.c: the packed formats (described there). 0, or -1. */
int	store_buf_reserve(struct store_buf *, size_t more);
int	store_pack_gpu(struct store_buf *, int64_t gpu_id,
	    const struct tick_gpu *);
int	store_pack_proc(struct store_buf *, int64_t proc_id, int util_pm,
	    int with_mem, int64_t mem_mib);
/* 0, -1 for a damaged blob, -2 out of memory. */
int	store_unpack_tick(const void *, size_t, struct store_unpacked *);
int	store_pack_hour(struct store_buf *gpus, struct store_buf *procs,
	    const struct store_hour *);
/*
 * Adds a stored hour to h (whose hour_ms is set). index: keep the
 * (gpu, proc) index, for a writer that adds more. 0, -1 damaged, -2 memory.
 */
int	store_unpack_hour(struct store_hour *, const void *gpus, size_t glen,
	    const void *procs, size_t plen, int index);
/* Empties h for another hour, keeping its memory. */
void	store_hour_clear(struct store_hour *, int64_t hour_ms);
void	store_hour_free(struct store_hour *);
/* The sums of a GPU, or of a process on a GPU, in h; NULL out of memory. */
struct rollup_gpu *store_hour_gpu(struct store_hour *, int64_t gpu);
struct rollup_proc *store_hour_proc(struct store_hour *, int64_t gpu,
	    int64_t proc, int index);

#endif
