/*
 * What the store's files share. Nothing outside store*.c includes this.
 */
#ifndef GUA_STORE_INTERNAL_H
#define GUA_STORE_INTERNAL_H

#include <sqlite3.h>

#include "imap.h"
#include "store.h"

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
	STMT_GPU_TICK_INSERT,
	STMT_MEM_INSERT,
	STMT_ROLL_GPU,
	STMT_ROLL_PROC,
	STMT_PROC_GET,
	STMT_MEM_AT,
	STMT_MEM_NEXT,
	STMT_COUNT
};

/* A GPU the writer has already resolved to its key. */
struct store_gpu_cache {
	int64_t	id;
	int	index;
	char	uuid[96];
	char	name[96];
	int64_t	mem_total_mib;
};

struct store {
	sqlite3			*db;
	char			*path;
	int			 writable;
	struct store_meta	 meta;
	int64_t			 run_id;	/* current run, 0 before one */
	int64_t			 ticks_written;
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
	unsigned char		*blob;			/* encode buffer */
	size_t			 blob_cap;
};

/* Formats err as "PATH: what: sqlite's message". Returns -1. */
int	store_sqlite_err(struct store *, char *err, size_t errlen,
	    const char *what);
/* The prepared statement number which, or NULL with err set. */
sqlite3_stmt *store_stmt(struct store *, int which, char *err, size_t errlen);
/* Runs SQL with no result rows. */
int	store_exec(struct store *, const char *sql, char *err, size_t errlen);

/* Unsigned LEB128, the per-process entries of a gpu_ticks row. */
size_t	store_varint_put(unsigned char *, uint64_t);
/* Returns bytes read, 0 on a truncated or overlong value. */
size_t	store_varint_get(const unsigned char *, size_t len, uint64_t *);

#endif
