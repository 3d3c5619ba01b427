/*
 * The read path: GPUs, window edges, hourly rollups and raw ticks. Raw
 * ticks are classified here with rollup.c, the very code the writer used
 * for the rollups, so both give the same numbers.
 */
#include <stdlib.h>
#include <string.h>

#include "store-internal.h"
#include "util.h"

static void
copy_text(char *dst, size_t len, sqlite3_stmt *st, int col)
{
	const unsigned char *v = sqlite3_column_text(st, col);

	util_strlcpy(dst, v ? (const char *)v : "", len);
}

static int64_t
column_opt(sqlite3_stmt *st, int col, int64_t unknown)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return unknown;
	return sqlite3_column_int64(st, col);
}

int
store_gpus(struct store *s, struct store_gpu **out, size_t *n, char *err,
    size_t errlen)
{
	struct store_gpu *v = NULL, *nv;
	size_t len = 0;
	sqlite3_stmt *st;
	int rc;

	*out = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(s->db, "SELECT id, idx, uuid, name, "
	    "parent_uuid, memory_total_mib FROM gpus ORDER BY idx, uuid", -1,
	    &st, NULL) != SQLITE_OK)
		return store_sqlite_err(s, err, errlen, "reading GPUs");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((nv = realloc(v, (len + 1) * sizeof(*v))) == NULL) {
			rc = SQLITE_NOMEM;
			break;
		}
		v = nv;
		memset(&v[len], 0, sizeof(v[len]));
		v[len].id = sqlite3_column_int64(st, 0);
		v[len].index = sqlite3_column_int(st, 1);
		copy_text(v[len].uuid, sizeof(v[len].uuid), st, 2);
		copy_text(v[len].name, sizeof(v[len].name), st, 3);
		copy_text(v[len].parent_uuid, sizeof(v[len].parent_uuid), st, 4);
		v[len].mem_total_mib = column_opt(st, 5, MIB_UNKNOWN);
		len++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free(v);
		if (rc == SQLITE_NOMEM)
			return util_err(err, errlen, "out of memory");
		return store_sqlite_err(s, err, errlen, "reading GPUs");
	}
	*out = v;
	*n = len;
	return 0;
}

int
store_oldest_tick(struct store *s, int64_t *ts_ms, int64_t *span_ms,
    int *found, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc;

	*found = 0;
	if (sqlite3_prepare_v2(s->db, "SELECT ts_ms, span_ms FROM ticks "
	    "ORDER BY ts_ms LIMIT 1", -1, &st, NULL) != SQLITE_OK)
		return store_sqlite_err(s, err, errlen, "reading ticks");
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*ts_ms = sqlite3_column_int64(st, 0);
		*span_ms = sqlite3_column_int64(st, 1);
		*found = 1;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_sqlite_err(s, err, errlen, "reading ticks");
	return 0;
}

int
store_newest_tick(struct store *s, int64_t before_ms, int64_t *ts_ms,
    int *found, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc;

	*found = 0;
	if (sqlite3_prepare_v2(s->db, "SELECT max(ts_ms) FROM ticks "
	    "WHERE ts_ms < ?1", -1, &st, NULL) != SQLITE_OK)
		return store_sqlite_err(s, err, errlen, "reading ticks");
	sqlite3_bind_int64(st, 1, before_ms);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		*ts_ms = sqlite3_column_int64(st, 0);
		*found = 1;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return store_sqlite_err(s, err, errlen, "reading ticks");
	return 0;
}

int
store_summary(struct store *s, struct store_summary *out, char *err,
    size_t errlen)
{
	sqlite3_stmt *st;
	int rc;

	memset(out, 0, sizeof(*out));
	/* count(*) and max(ts_ms) are answered from the ticks_ts index. */
	if (sqlite3_prepare_v2(s->db, "SELECT (SELECT count(*) FROM ticks), "
	    "(SELECT max(ts_ms) FROM ticks), r.started_ms, r.interval_ms, "
	    "(SELECT count(*) FROM ticks WHERE run = r.id) FROM (SELECT 1) "
	    "LEFT JOIN runs r ON r.id = (SELECT max(id) FROM runs)", -1, &st,
	    NULL) != SQLITE_OK)
		return store_sqlite_err(s, err, errlen, "reading ticks");
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->ticks = sqlite3_column_int64(st, 0);
		out->last_tick_ms = sqlite3_column_int64(st, 1);
		out->run_started_ms = sqlite3_column_int64(st, 2);
		out->run_interval_ms = sqlite3_column_int64(st, 3);
		out->run_ticks = sqlite3_column_int64(st, 4);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return store_sqlite_err(s, err, errlen, "reading ticks");
	return 0;
}

int
store_run_intervals(struct store *s, int64_t from_ms, int64_t to_ms,
    int64_t **out, size_t *n, char *err, size_t errlen)
{
	int64_t *v = NULL, *nv;
	size_t len = 0;
	sqlite3_stmt *st;
	int rc;

	*out = NULL;
	*n = 0;
	/* The runs that began before the window's end, from the last one
	   that began at or before its start. */
	if (sqlite3_prepare_v2(s->db, "SELECT DISTINCT interval_ms FROM runs "
	    "WHERE started_ms < ?2 AND id >= (SELECT coalesce(max(id), 0) "
	    "FROM runs WHERE started_ms <= ?1) ORDER BY interval_ms", -1, &st,
	    NULL) != SQLITE_OK)
		return store_sqlite_err(s, err, errlen, "reading runs");
	sqlite3_bind_int64(st, 1, from_ms);
	sqlite3_bind_int64(st, 2, to_ms);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((nv = realloc(v, (len + 1) * sizeof(*v))) == NULL) {
			rc = SQLITE_NOMEM;
			break;
		}
		v = nv;
		v[len++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free(v);
		return store_sqlite_err(s, err, errlen, "reading runs");
	}
	*out = v;
	*n = len;
	return 0;
}

int
store_scan_rollups(struct store *s, int64_t from_hour_ms, int64_t to_hour_ms,
    int64_t gpu_id, const struct store_sink *sink, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc;

	if (from_hour_ms >= to_hour_ms)
		return 0;
	if (sqlite3_prepare_v2(s->db, "SELECT hour_ms, gpu, active_ms, "
	    "idle_held_ms, truly_idle_ms, unknown_ms, active_n, idle_held_n, "
	    "truly_idle_n, unknown_n, util_pm_ms, util_ms FROM roll_gpu "
	    "WHERE hour_ms >= ?1 AND hour_ms < ?2 AND (?3 < 0 OR gpu = ?3)",
	    -1, &st, NULL) != SQLITE_OK)
		return store_sqlite_err(s, err, errlen, "reading rollups");
	sqlite3_bind_int64(st, 1, from_hour_ms);
	sqlite3_bind_int64(st, 2, to_hour_ms);
	sqlite3_bind_int64(st, 3, gpu_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct rollup_gpu r;

		for (int i = 0; i < STATE_COUNT; i++) {
			r.ms[i] = sqlite3_column_int64(st, 2 + i);
			r.n[i] = sqlite3_column_int64(st, 6 + i);
		}
		r.util_pm_ms = sqlite3_column_int64(st, 10);
		r.util_ms = sqlite3_column_int64(st, 11);
		if (sink->gpu_hour(sink->ctx, sqlite3_column_int64(st, 0),
		    sqlite3_column_int64(st, 1), &r) != 0) {
			sqlite3_finalize(st);
			return util_err(err, errlen, "out of memory");
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return store_sqlite_err(s, err, errlen, "reading rollups");

	if (sqlite3_prepare_v2(s->db, "SELECT gpu, proc, sum(ms), sum(n), "
	    "sum(idle_ms), sum(idle_mib_ms), max(peak_mib), min(first_ms), "
	    "max(last_ms) FROM roll_proc WHERE hour_ms >= ?1 AND hour_ms < ?2"
	    " AND (?3 < 0 OR gpu = ?3) GROUP BY gpu, proc", -1, &st,
	    NULL) != SQLITE_OK)
		return store_sqlite_err(s, err, errlen, "reading rollups");
	sqlite3_bind_int64(st, 1, from_hour_ms);
	sqlite3_bind_int64(st, 2, to_hour_ms);
	sqlite3_bind_int64(st, 3, gpu_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct rollup_proc r;

		r.ms = sqlite3_column_int64(st, 2);
		r.n = sqlite3_column_int64(st, 3);
		r.idle_ms = sqlite3_column_int64(st, 4);
		r.idle_mib_ms = sqlite3_column_int64(st, 5);
		r.peak_mib = sqlite3_column_int64(st, 6);
		r.first_ms = sqlite3_column_int64(st, 7);
		r.last_ms = sqlite3_column_int64(st, 8);
		if (sink->proc(sink->ctx, sqlite3_column_int64(st, 0),
		    sqlite3_column_int64(st, 1), &r) != 0) {
			sqlite3_finalize(st);
			return util_err(err, errlen, "out of memory");
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return store_sqlite_err(s, err, errlen, "reading rollups");
	return 0;
}

/*
 * The memory of one (GPU, process) pair over a run of ticks: the value
 * logged at tick from, valid until the next change at tick to.
 */
struct mem_segment {
	int64_t	from, to, mib;
};

struct mem_lookup {
	struct imap		 index;	/* (gpu, proc) -> slot in segs */
	struct mem_segment	*segs;
	size_t			 len, cap;
};

/* A process's memory at a tick, from the change log, cached per segment. */
static int
mem_at(struct store *s, struct mem_lookup *ml, int64_t gpu, int64_t proc,
    int64_t tick, int64_t *mib, char *err, size_t errlen)
{
	struct mem_segment *seg;
	sqlite3_stmt *st;
	int64_t slot;
	int rc;

	if (imap_get(&ml->index, gpu, proc, &slot) == 0) {
		seg = &ml->segs[slot];
		if (seg->from <= tick && tick < seg->to) {
			*mib = seg->mib;
			return 0;
		}
	} else {
		if (ml->len == ml->cap) {
			size_t ncap = ml->cap ? ml->cap * 2 : 64;
			struct mem_segment *n = realloc(ml->segs,
			    ncap * sizeof(*n));

			if (n == NULL)
				return util_err(err, errlen, "out of memory");
			ml->segs = n;
			ml->cap = ncap;
		}
		slot = (int64_t)ml->len++;
		if (imap_put(&ml->index, gpu, proc, slot) != 0)
			return util_err(err, errlen, "out of memory");
	}
	seg = &ml->segs[slot];
	seg->from = tick;
	seg->to = INT64_MAX;
	seg->mib = MIB_UNKNOWN;
	if ((st = store_stmt(s, STMT_MEM_AT, err, errlen)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, gpu);
	sqlite3_bind_int64(st, 2, proc);
	sqlite3_bind_int64(st, 3, tick);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		seg->from = sqlite3_column_int64(st, 0);
		seg->mib = column_opt(st, 1, MIB_UNKNOWN);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_sqlite_err(s, err, errlen, "reading memory");
	if ((st = store_stmt(s, STMT_MEM_NEXT, err, errlen)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, gpu);
	sqlite3_bind_int64(st, 2, proc);
	sqlite3_bind_int64(st, 3, tick);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		seg->to = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return store_sqlite_err(s, err, errlen, "reading memory");
	*mib = seg->mib;
	return 0;
}

/* One decoded process entry of a gpu_ticks row. */
struct raw_proc {
	int64_t	proc;
	int	util_pm;
	int64_t	mem_mib;
};

static int
decode_procs(const unsigned char *b, size_t len, struct raw_proc **v,
    size_t *cap, size_t *n)
{
	size_t off = 0, k;
	uint64_t proc, util;

	*n = 0;
	while (off < len) {
		if ((k = store_varint_get(b + off, len - off, &proc)) == 0)
			return -1;
		off += k;
		if ((k = store_varint_get(b + off, len - off, &util)) == 0 ||
		    util > 1001 || proc > INT64_MAX)
			return -1;
		off += k;
		if (*n == *cap) {
			size_t ncap = *cap ? *cap * 2 : 16;
			struct raw_proc *nv = realloc(*v, ncap * sizeof(**v));

			if (nv == NULL)
				return -1;
			*v = nv;
			*cap = ncap;
		}
		(*v)[*n].proc = (int64_t)proc;
		(*v)[*n].util_pm = util == 0 ? UTIL_UNKNOWN : (int)util - 1;
		(*n)++;
	}
	return 0;
}

int
store_scan_raw(struct store *s, int64_t from_ms, int64_t to_ms,
    int64_t gpu_id, const struct thresholds *thr,
    const struct store_sink *sink, char *err, size_t errlen)
{
	struct mem_lookup ml;
	struct raw_proc *procs = NULL;
	size_t cap = 0, n;
	sqlite3_stmt *st;
	int rc, ret = -1;

	if (from_ms >= to_ms)
		return 0;
	memset(&ml, 0, sizeof(ml));
	if (sqlite3_prepare_v2(s->db, "SELECT t.id, t.ts_ms, t.span_ms, "
	    "g.gpu, g.util_pm, g.procs FROM ticks t JOIN gpu_ticks g "
	    "ON g.tick = t.id WHERE t.ts_ms >= ?1 AND t.ts_ms < ?2 AND "
	    "(?3 < 0 OR g.gpu = ?3) ORDER BY t.ts_ms, t.id, g.gpu", -1, &st,
	    NULL) != SQLITE_OK)
		return store_sqlite_err(s, err, errlen, "reading ticks");
	sqlite3_bind_int64(st, 1, from_ms);
	sqlite3_bind_int64(st, 2, to_ms);
	sqlite3_bind_int64(st, 3, gpu_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t tick = sqlite3_column_int64(st, 0);
		int64_t ts = sqlite3_column_int64(st, 1);
		int64_t span = sqlite3_column_int64(st, 2);
		int64_t gpu = sqlite3_column_int64(st, 3);
		int util = (int)column_opt(st, 4, UTIL_UNKNOWN);
		int known = sqlite3_column_type(st, 5) != SQLITE_NULL;
		const unsigned char *blob = sqlite3_column_blob(st, 5);
		size_t blen = (size_t)sqlite3_column_bytes(st, 5);
		int64_t hour = util_hour_floor(ts), held = 0;
		int partial = !known;
		struct rollup_gpu rg;

		if (decode_procs(blob, blen, &procs, &cap, &n) != 0) {
			util_err(err, errlen, "%s: a damaged sample at tick "
			    "%lld", s->path, (long long)tick);
			goto out;
		}
		for (size_t i = 0; i < n; i++) {
			if (mem_at(s, &ml, gpu, procs[i].proc, tick,
			    &procs[i].mem_mib, err, errlen) != 0)
				goto out;
			if (procs[i].mem_mib == MIB_UNKNOWN)
				partial = 1;
			else
				held += procs[i].mem_mib;
		}
		memset(&rg, 0, sizeof(rg));
		rollup_gpu_add(&rg, thr, span, util, held, partial);
		if (sink->gpu_hour(sink->ctx, hour, gpu, &rg) != 0) {
			util_err(err, errlen, "out of memory");
			goto out;
		}
		for (size_t i = 0; i < n; i++) {
			struct rollup_proc rp;

			rollup_proc_init(&rp);
			rollup_proc_add(&rp, thr, ts, span, procs[i].util_pm,
			    util, procs[i].mem_mib);
			if (sink->proc(sink->ctx, gpu, procs[i].proc,
			    &rp) != 0) {
				util_err(err, errlen, "out of memory");
				goto out;
			}
		}
	}
	if (rc != SQLITE_DONE) {
		store_sqlite_err(s, err, errlen, "reading ticks");
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	free(procs);
	free(ml.segs);
	imap_free(&ml.index);
	return ret;
}

int
store_process(struct store *s, int64_t proc_id, uint32_t *pid,
    int64_t *start_ms, struct identity *who, char *err, size_t errlen)
{
	sqlite3_stmt *st = store_stmt(s, STMT_PROC_GET, err, errlen);
	int rc;

	if (st == NULL)
		return -1;
	memset(who, 0, sizeof(*who));
	sqlite3_bind_int64(st, 1, proc_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*pid = (uint32_t)sqlite3_column_int64(st, 0);
		*start_ms = sqlite3_column_int64(st, 1);
		who->known = sqlite3_column_int(st, 2);
		who->uid = column_opt(st, 3, -1);
		copy_text(who->user, sizeof(who->user), st, 4);
		copy_text(who->comm, sizeof(who->comm), st, 5);
		copy_text(who->cmdline, sizeof(who->cmdline), st, 6);
		copy_text(who->container, sizeof(who->container), st, 7);
		copy_text(who->pod, sizeof(who->pod), st, 8);
		copy_text(who->unit, sizeof(who->unit), st, 9);
		copy_text(who->slurm_job, sizeof(who->slurm_job), st, 10);
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return util_err(err, errlen, "%s: process %lld is missing",
		    s->path, (long long)proc_id);
	if (rc != SQLITE_ROW)
		return store_sqlite_err(s, err, errlen, "reading a process");
	return 0;
}
