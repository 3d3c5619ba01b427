/*
 * What the store's files share. Nothing outside store*.c includes this
 * (but the store's own tests).
 */
#ifndef GUA_STORE_INTERNAL_H
#define GUA_STORE_INTERNAL_H

#include <sys/stat.h>

#include <sqlite3.h>

#include "imap.h"
#include "proc-pack.h"
#include "store-pack.h"
#include "store.h"


/*
 * Schema 7's table of packed identities (proc-pack.c): the count
 * processes from first_id, their known start times between start_min
 * and start_max, so that a writer finds a process seen before by its
 * start. A process whose start is unknown (0: its /proc could not be
 * read) could be in any block: its key is found by its PID in
 * proc_unknown_start.
 */
#define STORE_PROC_BLOCKS_SQL \
    "CREATE TABLE proc_blocks(" \
    " first_id INTEGER PRIMARY KEY," \
    " count INTEGER NOT NULL," \
    " start_min INTEGER NOT NULL," \
    " start_max INTEGER NOT NULL," \
    " body BLOB NOT NULL);" \
    "CREATE INDEX proc_blocks_start ON proc_blocks(start_max, start_min);" \
    "CREATE TABLE proc_unknown_start(" \
    " pid INTEGER PRIMARY KEY," \
    " id INTEGER NOT NULL);"

/* The pod's names in a procs query, and empty ones for an older file. */
#define STORE_PROC_NAMES	"pod_namespace, pod_name, container_name"
#define STORE_PROC_NAMES_OLD	"'', '', ''"

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
	STMT_BLOCK_PUT,
	STMT_BLOCK_AT,
	STMT_BLOCK_BY_START,
	STMT_UNKNOWN_START_FIND,
	STMT_UNKNOWN_START_PUT,
	STMT_HOUR_GET,
	STMT_HOUR_PUT,
	STMT_PROC_GET,
	STMT_PROC_GET_OLD,	/* the same, of a file before the pod's names */
	STMT_PROC_RANGE,	/* procs rows whole, of a range of keys */
	STMT_PROC_RANGE_OLD,
	STMT_KEYS_RANGE,	/* ... only what a report groups by */
	STMT_KEYS_RANGE_OLD,
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
	char			*publish_to;	/* store_create_hidden: the
						   name to give it */
	int			 tmp_fd;	/* ... and its lock, or -1 */
	int			 writable;
	struct store_meta	 meta;
	int64_t			 run_id;	/* current run, 0 before one */
	int64_t			 ticks_written;
	int			 broken;	/* a tick failed inside the
						   caller's transaction */
	int			 read_txn;	/* store_read_begin began one */
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
	/* The writer's block of new processes (store-procs.c): its first
	   key, 0 when none is open, and whether its row lags behind it. */
	struct proc_packer	*open_block;
	int64_t			 open_first;
	int			 open_dirty;
	/* The blocks read last, kept for the next key: one read for the
	   keys alone, one read whole, so that a whole read while keys are
	   visited (or the other way round) leaves the other as it was. */
	struct proc_block	*read_block[2];
	int			 read_valid[2];
	int64_t			 blocks_from;	/* the first block's first
						   key; 0 not known yet */
};

/* A stored tick, decoded; valid during the callback only. */
struct store_tick {
	int64_t			 id;		/* write order */
	int64_t			 ts_ms;
	int64_t			 span_ms;
	const struct store_tick_gpu *gpus;
	size_t			 ngpus;
	const struct store_tick_proc *procs;	/* of all its GPUs */
};

/*
 * Every tick with from_ms <= ts < to_ms, decoded, in the order written
 * (which is time order unless the wall clock stepped back). Nonzero from
 * fn stops the scan with an error.
 */
int	store_scan_ticks(struct store *, int64_t from_ms, int64_t to_ms,
	    int (*fn)(void *ctx, const struct store_tick *), void *ctx,
	    char *err, size_t errlen);

/*
 * store-procs.c: the identities of processes. store_proc_key finds the
 * key of (pid, start_ms), adding who when it is new, into the open block
 * (written by store_procs_flush: at each tick of the collector, or when
 * the block is full or the caller commits). store_procs_forget drops the
 * open block after a rollback.
 */
int	store_proc_key(struct store *, uint32_t pid, int64_t start_ms,
	    const struct identity *who, int64_t *id, char *err,
	    size_t errlen);
int	store_procs_flush(struct store *, char *err, size_t errlen);
void	store_procs_forget(struct store *);
void	store_procs_free(struct store *);
/*
 * The block holding process id, read whole or only the fields a report
 * groups by (whole 0: the command line and container name are ""): 0
 * with *b and *i set, 1 when no block holds it (a procs row of an older
 * file may), -1 with err set.
 */
int	store_proc_block(struct store *, int64_t id, int whole,
	    const struct proc_block **b, size_t *i, char *err, size_t errlen);
/* The first key in a block, INT64_MAX when there is none: the procs
   rows of an older file all have lower keys. */
int	store_proc_blocks_from(struct store *, int64_t *first, char *err,
	    size_t errlen);

/* How long a connection waits for a lock another process holds. */
#define STORE_BUSY_TIMEOUT_MS	5000

/* store.c: a handle on nothing yet (its db NULL), for path. */
struct store *store_new(const char *path);
/*
 * After SQLite opened the file: the header's checks again, for real, then
 * the meta table read. 0, -1, or STORE_NOT_GUA.
 */
int	store_verify_schema(struct store *, char *err, size_t errlen);

/* store-file.c: the checks of the files, without SQLite. */
/*
 * Checks, without changing anything, that path is a gua database this gua
 * can read: before opening, and a copy before it is given its name.
 */
int	store_check_file(const char *path, char *err, size_t errlen);
#define STORE_NOT_GUA_HINT "not a gua database (a gpu-usage-audit 1.0 " \
	"database can be converted with 'gua import')"
/* util_err for a file that is no gua database: STORE_NOT_GUA. */
int	store_not_gua(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "file:" URI for path, with every byte SQLite could misread escaped. */
char	*store_path_uri(const char *path, const char *query);
/*
 * The query of the URI a reader opens the database at real (its real
 * path; path as named, for messages) with, so that SQLite creates no file
 * beside it. 0, or -1 when no reader can open it as it is.
 */
int	store_ro_query(const char *real, const char *path, const char **query,
	    char *err, size_t errlen);
/* The files SQLite may keep beside a database: -wal, -shm, -journal. */
#define STORE_SIDECARS	3
/*
 * Makes the files beside a database the writer's own before SQLite opens
 * them; made[i] is set for each one created here, which
 * store_unclaim_sidecars removes again.
 */
int	store_claim_sidecars(const char *path, mode_t mode,
	    int made[STORE_SIDECARS], char *err, size_t errlen);
void	store_unclaim_sidecars(const char *path,
	    const int made[STORE_SIDECARS]);
/* Removes the empty -journal once SQLite has the database open in WAL. */
void	store_unclaim_journal(const char *path);
/* Whether the file beside path with suffix holds anything. */
int	store_sidecar_has_data(const char *path, const char *suffix);
/* 0 when no file lies beside a new database's path, else -1 naming it. */
int	store_no_sidecars(const char *path, char *err, size_t errlen);
/*
 * An existing file a writer may write: a gua database, this user's own
 * regular file with one link and owner write permission, not reached
 * through a symbolic link. Its stat in *st. 0, -1 or STORE_NOT_GUA.
 */
int	store_check_existing(const char *path, struct stat *st, char *err,
	    size_t errlen);
/*
 * A temporary file beside path (which must not exist) to build a new
 * database in: its name in tmp, its mode in *mode; the descriptor, whose
 * flock marks it as in use, or -1 (STORE_NOT_GUA for a path too long).
 */
int	store_make_tmp(const char *path, char *tmp, size_t len, mode_t *mode,
	    char *err, size_t errlen);
/* Removes a temporary database and the files SQLite left beside it. */
void	store_remove_tmp(const char *tmp);

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
/*
 * Brings an older file to this schema (store.c): its new columns and its
 * version, in one transaction of its own.
 */
int	store_upgrade(struct store *, char *err, size_t errlen);
/* The same inside the caller's transaction. */
int	store_upgrade_in_txn(struct store *, char *err, size_t errlen);
/* The format of the hours rows this file takes (store-pack.h). */
static inline int
store_hour_format(const struct store *s)
{
	return s->meta.schema_version >= STORE_SCHEMA_HOUR_DELTAS ?
	    STORE_HOUR_DELTAS : STORE_HOUR_PLAIN;
}
/* Runs SQL with no result rows. */
int	store_exec(struct store *, const char *sql, char *err, size_t errlen);


#endif
