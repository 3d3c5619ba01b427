/*
 * Reading a database of the original tool, gpu-usage-audit 1.0 (tables
 * host, gpu_sample, proc_sample; see docs/gua.1, IMPORT). The file is opened
 * read-only and never changed. Rows come back grouped into ticks: the rows
 * that share one timestamp text.
 *
 * Ownership: store_legacy_open gives a handle for store_legacy_close; a
 * struct store_legacy_tick is the caller's, its arrays reused from tick to
 * tick and released by store_legacy_tick_free.
 */
#ifndef GUA_STORE_LEGACY_H
#define GUA_STORE_LEGACY_H

#include <stddef.h>
#include <stdint.h>

struct store_legacy;

struct store_legacy_gpu {
	char	uuid[96];
	int	util_pct;	/* instantaneous utilization, percent */
};

struct store_legacy_proc {
	char	uuid[96];	/* the GPU it was seen on */
	uint32_t pid;
	int64_t	mem_mib;
	int	user_known;	/* 0: loginuid_user was NULL */
	char	user[64];
};

struct store_legacy_tick {
	char			 ts[64];	/* the timestamp text */
	int64_t			 ts_ms;		/* ... parsed */
	struct store_legacy_gpu	*gpus;
	size_t			 ngpus, gpus_cap;
	struct store_legacy_proc *procs;
	size_t			 nprocs, procs_cap;
};

/*
 * Opens path read-only and checks it is the original's format. Fails with
 * a one-line reason: STORE_NOT_GUA (store.h) for a missing file, a file
 * that is not SQLite, one that is a gua database already, or one without
 * the original's tables; -1 for one that cannot be read as it is.
 */
int	store_legacy_open(struct store_legacy **, const char *path, char *err,
	    size_t errlen);
void	store_legacy_close(struct store_legacy *);

/* The host's name and driver (from its latest host row; "" if none). */
int	store_legacy_host(struct store_legacy *, char *hostname, size_t hlen,
	    char *driver, size_t dlen, char *err, size_t errlen);

/* What a first pass over the rows finds. The arrays are the caller's. */
struct store_legacy_survey {
	int64_t		 *times;	/* distinct times of GPU rows, ms,
					   ascending */
	size_t		  ntimes;
	char		(*uuids)[96];	/* every GPU, sorted (the original
					   lists GPUs by UUID) */
	size_t		  nuuids;
	int64_t		  gpu_rows, proc_rows;
};

/*
 * The first pass. It also decides how store_legacy_next reads the rows:
 * in the order stored when that is time order (as the original writes
 * them), else sorted by SQLite.
 */
int	store_legacy_survey(struct store_legacy *, struct store_legacy_survey *,
	    char *err, size_t errlen);
void	store_legacy_survey_free(struct store_legacy_survey *);
/*
 * The next tick into t: 1, 0 when there are no more, -1 on an error (an
 * unreadable timestamp, a damaged file). Call store_legacy_survey first.
 */
int	store_legacy_next(struct store_legacy *, struct store_legacy_tick *t,
	    char *err, size_t errlen);
void	store_legacy_tick_free(struct store_legacy_tick *);

#endif
