/*
 * The database: the only module that knows SQLite. One writer (the
 * collector, the demo, import) and any number of readers (reports).
 *
 * Ownership: a struct store is created by store_create / store_open_* and
 * released by store_close. Arrays returned through pointers are the
 * caller's to free(). Every function returns 0, or -1 with a one-line
 * reason in err.
 */
#ifndef GUA_STORE_H
#define GUA_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "classify.h"
#include "identity.h"
#include "rollup.h"
#include "tick.h"

/*
 * 2: the hourly rollups keep each process's own utilization. A file of
 * schema 1 is read as it is, and written on as schema 2 (store-pack.c).
 * 3: procs has pod_namespace, pod_name and container_name. A file of an
 * older schema is read with those empty, and gets the columns when a
 * collector writes on it (store_begin_run).
 * 4: hours may be hourly only (store-compact.c): their raw ticks deleted,
 * their GPUs' first and last tick kept in hour_edges, and meta's
 * raw_from_ms the first hour still raw. An older file gets hour_edges
 * when it is first compacted.
 * 5: ticks.gpus and hours.gpus carry each GPU's energy (store-pack.c);
 * older rows are read with their energy unknown, never 0.
 * 6: hours rows are written in format 3 (store-pack.c), their sums as
 * differences from what the others predict. An older file's rows stay as
 * they are; a writer on it writes format 3 from then on, and a gua of
 * an older schema cannot read those.
 * 7: processes' identities are written packed, many to a row, into
 * proc_blocks (proc-pack.c), with proc_unknown_start to find those whose
 * start is unknown by their PID; the procs rows of an older file stay,
 * and are read, as they are.
 */
#define STORE_SCHEMA_VERSION	7
/* The first schema whose procs has the pod's names. */
#define STORE_SCHEMA_POD_NAMES	3
/* The first schema whose hours rows may be in format 3. */
#define STORE_SCHEMA_HOUR_DELTAS	6
/* The first schema with proc_blocks. */
#define STORE_SCHEMA_PROC_BLOCKS	7
/* PRAGMA application_id of every gua database: "GUA1". */
#define STORE_APPLICATION_ID	0x47554131

struct store;

struct store_meta {
	int		 schema_version;
	char		 hostname[256];		/* host that recorded it */
	char		 driver_version[80];	/* NVIDIA driver, latest run */
	char		 source[16];		/* "nvml", "demo", "import" */
	char		 gua_version[32];	/* gua that created the file */
	int64_t		 interval_ms;		/* interval of the latest run */
	int64_t		 created_ms;
	struct thresholds rollup;		/* thresholds of the rollups */
};

struct store_gpu {
	int64_t	id;			/* database key */
	int	index;			/* NVML index at the latest tick */
	char	uuid[96];
	char	name[96];
	char	parent_uuid[96];	/* MIG: physical GPU; "" otherwise */
	int64_t	mem_total_mib;		/* MIB_UNKNOWN when not known */
};

/*
 * What readers feed their sums with. Rollup scans call gpu_hour once per
 * stored (hour, GPU) and proc once per stored (hour, GPU, process); raw
 * scans call both once per tick. The sink adds them up. Nonzero from a
 * callback stops the scan with an error.
 */
struct store_sink {
	void	*ctx;
	int	(*gpu_hour)(void *ctx, int64_t hour_ms, int64_t gpu_id,
		    const struct rollup_gpu *);
	int	(*proc)(void *ctx, int64_t gpu_id, int64_t proc_id,
		    const struct rollup_proc *);
	/* Optional: raw scans also give each tick with its timestamp. */
	int	(*gpu_tick)(void *ctx, int64_t ts_ms, int64_t gpu_id,
		    const struct rollup_gpu *);
	/*
	 * Optional, raw scans only: which processes count (1) or not (0),
	 * -1 an error. With it, a GPU at a tick reaches gpu_hour and
	 * gpu_tick only when a process that counts held it (classified
	 * with all its processes, as ever), and proc only for those.
	 */
	int	(*proc_wanted)(void *ctx, int64_t proc_id);
};

/* One process of a raw row. */
struct store_row_proc {
	int64_t	proc_id;	/* for store_process */
	int	util_pm;	/* own utilization, per mille; UTIL_UNKNOWN */
	int64_t	mem_mib;	/* MIB_UNKNOWN when unknown */
};

/* One GPU at one tick, as recorded. */
struct store_row {
	int64_t			 tick_id;
	int64_t			 ts_ms;
	int64_t			 span_ms;
	int64_t			 gpu_id;
	struct gpu_reading	 reading;
	const struct store_row_proc *procs;	/* valid during the callback */
	size_t			 nprocs;
};

/*
 * The functions that open or check a database file return -1, or
 * STORE_NOT_GUA where the path names no gua database this gua can use at
 * all: missing, a directory or another non-regular file, empty, not
 * SQLite, another program's SQLite file, an unfinished one, one written by
 * a newer gua, or a path too long for SQLite. Commands take that as bad
 * usage (exit 2); -1, a gua database that cannot be read as it is (no
 * permission, an I/O error, damage, a crash's unfinished transaction), as
 * a runtime failure (exit 1).
 */
#define STORE_NOT_GUA	(-2)

/*
 * Whether SQLite can open path and the files it keeps beside it: its
 * absolute form at most STORE_PATH_MAX bytes (SQLite's 512 less room for
 * "-journal" and the temporary name of a new database). STORE_NOT_GUA
 * with the limit in err when not.
 */
#define STORE_PATH_MAX	480
int	store_check_path(const char *path, char *err, size_t errlen);

/*
 * A new database at path, which must not exist; created 0640 under a
 * temporary name and then renamed, so it appears complete or not at all.
 * No symbolic link is followed, here or for the files beside it.
 */
int	store_create(struct store **, const char *path,
	    const struct store_meta *, char *err, size_t errlen);
/*
 * A new database to fill before anyone sees it: built and opened under a
 * temporary name beside path (".NAME.gua-tmp-PID", created like
 * store_create's). store_publish gives it the name path; store_close
 * without it removes it. A crash meanwhile leaves only the temporary
 * file, which the next creation of path removes.
 */
int	store_create_hidden(struct store **, const char *path,
	    const struct store_meta *, char *err, size_t errlen);
/*
 * Closes a database of store_create_hidden, with all of it in its one
 * file, syncs it and renames it to its name, which must still not exist,
 * then syncs the directory. On failure it is removed. Always frees the
 * store.
 */
int	store_publish(struct store *, char *err, size_t errlen);
/*
 * An existing gua database for reading only; never changes the file and
 * never creates one beside it (-wal, -shm, -journal).
 */
int	store_open_read(struct store **, const char *path, char *err,
	    size_t errlen);
/*
 * An existing gua database to append to (the collector's --append): this
 * user's own regular file with one link and owner write permission.
 */
int	store_open_append(struct store **, const char *path, char *err,
	    size_t errlen);
void	store_close(struct store *);
/*
 * How long a writer waits for a lock another process holds on the file
 * before a write fails (SQLITE_BUSY); 5 s unless set.
 */
void	store_set_busy_timeout(struct store *, int ms);

/*
 * A reader's consistent view: between store_read_begin and store_read_end
 * every read sees the file as one moment left it, whatever a writer or a
 * compaction commits meanwhile.
 */
int	store_read_begin(struct store *, char *err, size_t errlen);
void	store_read_end(struct store *);

/*
 * Copies every committed page from the WAL into the file the writer has
 * open, wherever it is now: for a file moved under the writer, which
 * SQLite no longer checkpoints when it closes.
 */
int	store_checkpoint(struct store *, char *err, size_t errlen);

const struct store_meta *store_meta(const struct store *);
const char *store_path(const struct store *);

/*
 * Checks, changing nothing, that a writer (--append) would write path:
 * a gua database that is this user's own regular file with one link and
 * write permission for its owner.
 */
int	store_check_writable(const char *path, char *err, size_t errlen);
/*
 * Looks for damage where a writer would carry on (--append): SQLite's
 * quick check of every page, then the newest hour decoded, its ticks and
 * its sums. -1 with what is damaged and how to recover.
 */
int	store_check_damage(struct store *, char *err, size_t errlen);

/* Records the start of a collector run and makes it the current one. */
int	store_begin_run(struct store *, int64_t started_ms, int64_t interval_ms,
	    const char *source, const char *driver_version, char *err,
	    size_t errlen);
/* Bulk writers group many ticks in one transaction. */
int	store_begin(struct store *, char *err, size_t errlen);
int	store_commit(struct store *, char *err, size_t errlen);
/* Abandons the caller's transaction. */
void	store_rollback(struct store *);
/*
 * Writes one tick with its rollups: in its own BEGIN IMMEDIATE transaction,
 * or inside the caller's store_begin / store_commit.
 */
int	store_write_tick(struct store *, const struct tick *, char *err,
	    size_t errlen);
/* Number of ticks written through this handle. */
int64_t	store_ticks_written(const struct store *);

/* Every GPU ever recorded, ordered by index then uuid. Caller frees *out. */
int	store_gpus(struct store *, struct store_gpu **out, size_t *n,
	    char *err, size_t errlen);
/*
 * The oldest tick: its timestamp and span. *found is 0 in an empty
 * database.
 */
int	store_oldest_tick(struct store *, int64_t *ts_ms, int64_t *span_ms,
	    int *found, char *err, size_t errlen);
/* The oldest tick with from_ms <= ts_ms < before_ms; *found 0 when none. */
int	store_first_tick(struct store *, int64_t from_ms, int64_t before_ms,
	    int64_t *ts_ms, int *found, char *err, size_t errlen);
/* The newest tick with ts_ms < before_ms; *found 0 when none. */
int	store_newest_tick(struct store *, int64_t before_ms, int64_t *ts_ms,
	    int *found, char *err, size_t errlen);
/* What `gua status` shows of a database. */
struct store_summary {
	int64_t	ticks;			/* ticks ever written to the file
					   (compacted ones too) */
	int64_t	last_tick_ms;		/* newest tick's time, 0 if none */
	int64_t	run_started_ms;		/* the latest run, 0 if none */
	int64_t	run_interval_ms;
	int64_t	run_ticks;		/* ticks the latest run wrote */
};
int	store_summary(struct store *, struct store_summary *, char *err,
	    size_t errlen);
/* The distinct intervals of the runs that wrote ticks in [from, to). */
int	store_run_intervals(struct store *, int64_t from_ms, int64_t to_ms,
	    int64_t **out, size_t *n, char *err, size_t errlen);

/*
 * Hourly rollups for the hours in [from_hour_ms, to_hour_ms); gpu_id -1
 * for every GPU. Only valid for the thresholds in store_meta()->rollup.
 */
int	store_scan_rollups(struct store *, int64_t from_hour_ms,
	    int64_t to_hour_ms, int64_t gpu_id, const struct store_sink *,
	    char *err, size_t errlen);
/*
 * The same for every hour before before_hour_ms, newest first, for
 * following something back in time: hour_done(ctx, hour) after each hour's
 * callbacks; nonzero from it ends the scan there (not an error).
 */
int	store_scan_rollups_back(struct store *, int64_t before_hour_ms,
	    const struct store_sink *, int (*hour_done)(void *ctx,
	    int64_t hour_ms), char *err, size_t errlen);
/* Raw ticks with from_ms <= ts < to_ms, classified with any thresholds. */
int	store_scan_raw(struct store *, int64_t from_ms, int64_t to_ms,
	    int64_t gpu_id, const struct thresholds *,
	    const struct store_sink *, char *err, size_t errlen);
/*
 * Every raw row with from_ms <= ts < to_ms in the order written, decoded as the
 * raw scan decodes it; gpu_id -1 for every GPU. A nonzero fn stops the
 * scan and returns -1, with the reason fn wrote into err.
 */
int	store_scan_rows(struct store *, int64_t from_ms, int64_t to_ms,
	    int64_t gpu_id, int (*fn)(void *ctx, const struct store_row *),
	    void *ctx, char *err, size_t errlen);
/*
 * Retention (store-compact.c). The first hour whose raw ticks are kept:
 * every hour before it is hourly only. STORE_ALL_RAW when nothing was
 * ever compacted.
 */
#define STORE_ALL_RAW	INT64_MIN
int	store_raw_from(struct store *, int64_t *raw_from_ms, char *err,
	    size_t errlen);

/* What a step of compaction did. */
struct store_compact {
	int	hours;		/* hours made hourly only */
	int64_t	ticks;		/* raw ticks deleted */
	int	rebuilt;	/* hours whose stored sums differed from their
				   raw ticks, summed again from them */
	int64_t	raw_from_ms;	/* the first raw hour now, when hours > 0 */
	int	more;		/* hours older than the cutoff are left */
};
/*
 * One step of compaction, in one BEGIN IMMEDIATE transaction: up to
 * max_hours of the oldest raw hours whose every tick is more than
 * keep_raw_ms (at least an hour) older than the newest tick give way to
 * their rollups.
 * Returns 1 when it compacted an hour, 0 when none was due, -1. Not
 * inside a caller's transaction.
 */
int	store_compact_step(struct store *, int64_t keep_raw_ms, int max_hours,
	    struct store_compact *, char *err, size_t errlen);
/*
 * Gives up to max_pages free pages back to the disk (incremental
 * vacuum; nothing in a file without it): *freed says how many.
 */
int	store_vacuum_step(struct store *, int max_pages, int64_t *freed,
	    char *err, size_t errlen);
/*
 * Makes a file created before incremental vacuum give pages back: a
 * one-time VACUUM that holds the write lock while it copies what is left
 * (*converted 1). Nothing for a file that already does.
 */
int	store_make_incremental(struct store *, int *converted, char *err,
	    size_t errlen);
/* What `gua status` and `gua doctor` show of retention. */
struct store_retention {
	int64_t	file_bytes;	/* the database file, without -wal */
	int64_t	oldest_raw_ms;	/* oldest raw tick, 0 when none */
	int64_t	oldest_hour_ms;	/* oldest hour with rollups, 0 when none */
	int64_t	raw_from_ms;	/* hours before it are hourly only; 0 none */
	int	incremental;	/* freed pages can go back (auto_vacuum) */
};
int	store_retention(struct store *, struct store_retention *, char *err,
	    size_t errlen);
/*
 * The first and last tick of each GPU in the hourly-only hours of
 * [from_hour_ms, to_hour_ms); gpu_id -1 for every GPU. fn nonzero stops
 * the scan with an error.
 */
int	store_scan_edges(struct store *, int64_t from_hour_ms,
	    int64_t to_hour_ms, int64_t gpu_id, int (*fn)(void *ctx,
	    int64_t gpu_id, int64_t first_ms, int64_t first_span_ms,
	    int64_t last_ms), void *ctx, char *err, size_t errlen);

/* The identity recorded for a process key. */
int	store_process(struct store *, int64_t proc_id, uint32_t *pid,
	    int64_t *start_ms, struct identity *, char *err, size_t errlen);
/*
 * The identities of many processes at once: ids sorted ascending, without
 * repeats; fn is called for each one found, in that order. Much faster
 * than store_process() in a loop when there are many.
 */
int	store_processes(struct store *, const int64_t *ids, size_t n,
	    int (*fn)(void *ctx, int64_t proc_id, uint32_t pid,
	    int64_t start_ms, const struct identity *), void *ctx,
	    char *err, size_t errlen);
/*
 * What grouping many processes by who they are needs of each, without
 * the rest (command line, container name, owner): struct identity's
 * fields of those names. The strings are valid during the callback only.
 */
struct store_proc_keys {
	const char	*user;
	const char	*comm;
	const char	*container;
	const char	*pod;
	const char	*unit;
	const char	*slurm_job;
	const char	*pod_namespace;
	const char	*pod_name;
};
/* As store_processes, with only those: hundreds of thousands are read
   faster, and nothing is copied. */
int	store_process_keys(struct store *, const int64_t *ids, size_t n,
	    int (*fn)(void *ctx, int64_t proc_id, uint32_t pid,
	    const struct store_proc_keys *), void *ctx, char *err,
	    size_t errlen);

/* A tick a copy left out. */
struct store_left_out {
	int64_t	id;
	int64_t	ts_ms;
};

/* What a copy did about damaged ticks; nothing when nleft is 0. */
struct store_damage {
	struct store_left_out *left;	/* the ticks left out (free it) */
	size_t		 nleft;
	/* ticks kept with a process memory unknown: it was recorded only
	   in a tick left out ("as at the tick before") */
	size_t		 unknown_mem;
};

/*
 * A consistent copy of an open database (a live collector's included) into
 * out, which must not exist: built with SQLite's online backup under a
 * temporary name beside out (".NAME.gua-tmp-PID", 0640, never through a
 * symbolic link), switched to a rollback journal so the copy is one
 * self-contained file, checked, synced, and only then renamed to out. A
 * failure or a crash leaves no out.
 *
 * A tick whose row cannot be decoded is left out of the copy, a gap; the
 * ticks after it keep all but the memory they shared with it, and the
 * rollups of the hours touched are summed again. *d says so.
 */
int	store_backup(struct store *, const char *out, struct store_damage *d,
	    char *err, size_t errlen);

#endif
