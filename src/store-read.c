/*
 * The read path: GPUs, window edges, hourly rollups, raw ticks and the
 * processes (whole, or only the keys a report groups them by). Raw
 * ticks are classified here with rollup.c, the very code the writer used
 * for the rollups, so both give the same numbers.
 */
#include <stdlib.h>
#include <string.h>

#include "duration.h"
#include "store-internal.h"
#include "util.h"

static void
copy_text(char *dst, size_t len, sqlite3_stmt *st, int col)
{
	const unsigned char *v = sqlite3_column_text(st, col);
	size_t n = (size_t)sqlite3_column_bytes(st, col);

	/* Its length is known: no need to measure it again. */
	if (v != NULL && n < len)
		memcpy(dst, v, n + 1);
	else
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

/*
 * The earliest (or latest) tick in one hour before before_ms: the hours
 * row gives the range of ids to look at, so no index on time is needed.
 */
static int
tick_in_hour(struct store *s, int64_t hour_ms, int64_t first, int64_t last,
    int64_t from_ms, int64_t before_ms, int latest, int64_t *ts_ms,
    int64_t *span_ms, int *found, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, latest ?
	    "SELECT ts_ms, span_ms FROM ticks WHERE id >= ?1 AND id <= ?2 "
	    "AND ts_ms >= ?3 AND ts_ms < ?4 ORDER BY ts_ms DESC, id DESC "
	    "LIMIT 1" :
	    "SELECT ts_ms, span_ms FROM ticks WHERE id >= ?1 AND id <= ?2 "
	    "AND ts_ms >= ?3 AND ts_ms < ?4 ORDER BY ts_ms, id LIMIT 1", -1,
	    &st, NULL) != SQLITE_OK)
		return store_sqlite_err(s, err, errlen, "reading ticks");
	sqlite3_bind_int64(st, 1, first);
	sqlite3_bind_int64(st, 2, last);
	sqlite3_bind_int64(st, 3, from_ms > hour_ms ? from_ms : hour_ms);
	sqlite3_bind_int64(st, 4, before_ms < hour_ms + MS_PER_HOUR ?
	    before_ms : hour_ms + MS_PER_HOUR);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*ts_ms = sqlite3_column_int64(st, 0);
		if (span_ms != NULL)
			*span_ms = sqlite3_column_int64(st, 1);
		*found = 1;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_sqlite_err(s, err, errlen, "reading ticks");
	return 0;
}

/*
 * The reason a report stops at a damaged tick: which one, by its time,
 * and the way out (backup copies a database without its damaged ticks).
 */
static int
damaged_tick(struct store *s, int64_t ts_ms, char *err, size_t errlen)
{
	char when[40];

	util_format_rfc3339_ms(ts_ms, when, sizeof(when));
	return util_err(err, errlen, "%s: the tick of %s is damaged and "
	    "cannot be read; 'gua backup --db %s OUT' copies it without the "
	    "damaged ticks", s->path, when, s->path);
}

/* The same for an hour's sums. */
static int
damaged_hour(struct store *s, int64_t hour_ms, char *err, size_t errlen)
{
	char when[40];

	util_format_rfc3339(hour_ms, when, sizeof(when));
	return util_err(err, errlen, "%s: the hourly sums of the hour from %s "
	    "are damaged and cannot be read; 'gua backup --db %s OUT' copies "
	    "it without them", s->path, when, s->path);
}

/*
 * The edges of the hourly-only hours in [from_hour_ms, to_hour_ms), hour
 * by hour: fn(ctx, hour_ms, edges, n) for each; nonzero from fn ends the
 * scan there (not an error).
 */
static int
scan_edge_rows(struct store *s, int64_t from_hour_ms, int64_t to_hour_ms,
    int back, int (*fn)(void *ctx, int64_t hour_ms,
    const struct store_edge *, size_t), void *ctx, char *err, size_t errlen)
{
	struct store_edge *e;
	sqlite3_stmt *st;
	size_t n;
	int rc, urc;

	if (from_hour_ms >= to_hour_ms)
		return 0;
	if (sqlite3_prepare_v2(s->db, back ?
	    "SELECT hour_ms, gpus FROM hour_edges WHERE hour_ms >= ?1 AND "
	    "hour_ms < ?2 ORDER BY hour_ms DESC" :
	    "SELECT hour_ms, gpus FROM hour_edges WHERE hour_ms >= ?1 AND "
	    "hour_ms < ?2 ORDER BY hour_ms", -1, &st, NULL) != SQLITE_OK)
		return store_sqlite_err(s, err, errlen, "reading hour edges");
	sqlite3_bind_int64(st, 1, from_hour_ms);
	sqlite3_bind_int64(st, 2, to_hour_ms);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t hour = sqlite3_column_int64(st, 0);

		urc = store_unpack_edges(sqlite3_column_blob(st, 1),
		    (size_t)sqlite3_column_bytes(st, 1), hour, &e, &n);
		if (urc != 0) {
			sqlite3_finalize(st);
			if (urc == -2)
				return util_err(err, errlen, "out of memory");
			return damaged_hour(s, hour, err, errlen);
		}
		urc = fn(ctx, hour, e, n);
		free(e);
		if (urc != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return store_sqlite_err(s, err, errlen, "reading hour edges");
	return 0;
}

/* What edge_in_hour looks for in an hour's edges. */
struct edge_find {
	int64_t	from_ms, before_ms;
	int	latest;
	int64_t	ts_ms, span_ms;
	int	found;
};

static int
edge_find_hour(void *ctx, int64_t hour_ms, const struct store_edge *e,
    size_t n)
{
	struct edge_find *f = ctx;

	(void)hour_ms;
	for (size_t i = 0; i < n; i++) {
		int64_t t = f->latest ? e[i].last_ms : e[i].first_ms;

		if (t < f->from_ms || t >= f->before_ms)
			continue;
		if (!f->found || (f->latest ? t > f->ts_ms : t < f->ts_ms)) {
			f->ts_ms = t;
			f->span_ms = e[i].first_span_ms;
			f->found = 1;
		}
	}
	return f->found;
}

/*
 * The same for an hourly-only hour, from the first and last tick its GPUs
 * had (hour_edges), which outlive its raw ticks.
 */
static int
edge_in_hour(struct store *s, int64_t hour_ms, int64_t from_ms,
    int64_t before_ms, int latest, int64_t *ts_ms, int64_t *span_ms,
    int *found, char *err, size_t errlen)
{
	struct edge_find f = { from_ms, before_ms, latest, 0, 0, 0 };

	if (scan_edge_rows(s, hour_ms, hour_ms + 1, 0, edge_find_hour, &f,
	    err, errlen) != 0)
		return -1;
	if (f.found) {
		*ts_ms = f.ts_ms;
		if (span_ms != NULL)
			*span_ms = f.span_ms;
		*found = 1;
	}
	return 0;
}

/* The first (or last) tick with from_ms <= ts < before_ms, hour by hour. */
static int
edge_tick(struct store *s, int64_t from_ms, int64_t before_ms, int latest,
    int64_t *ts_ms, int64_t *span_ms, int *found, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int64_t raw_from;
	int rc;

	*found = 0;
	if (store_raw_from(s, &raw_from, err, errlen) != 0)
		return -1;
	if (sqlite3_prepare_v2(s->db, latest ?
	    "SELECT hour_ms, first_tick, last_tick FROM hours WHERE "
	    "hour_ms < ?1 AND hour_ms >= ?2 ORDER BY hour_ms DESC" :
	    "SELECT hour_ms, first_tick, last_tick FROM hours WHERE "
	    "hour_ms < ?1 AND hour_ms >= ?2 ORDER BY hour_ms", -1, &st,
	    NULL) != SQLITE_OK)
		return store_sqlite_err(s, err, errlen, "reading hours");
	sqlite3_bind_int64(st, 1, before_ms);
	sqlite3_bind_int64(st, 2, from_ms == INT64_MIN ? INT64_MIN :
	    util_hour_floor(from_ms));
	while (!*found && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t hour = sqlite3_column_int64(st, 0);

		if (hour < raw_from ? edge_in_hour(s, hour, from_ms, before_ms,
		    latest, ts_ms, span_ms, found, err, errlen) :
		    tick_in_hour(s, hour, sqlite3_column_int64(st, 1),
		    sqlite3_column_int64(st, 2), from_ms, before_ms, latest,
		    ts_ms, span_ms, found, err, errlen) != 0) {
			sqlite3_finalize(st);
			return -1;
		}
	}
	sqlite3_finalize(st);
	if (!*found && rc != SQLITE_DONE)
		return store_sqlite_err(s, err, errlen, "reading hours");
	return 0;
}

int
store_oldest_tick(struct store *s, int64_t *ts_ms, int64_t *span_ms,
    int *found, char *err, size_t errlen)
{
	return edge_tick(s, INT64_MIN, INT64_MAX, 0, ts_ms, span_ms, found, err,
	    errlen);
}

int
store_first_tick(struct store *s, int64_t from_ms, int64_t before_ms,
    int64_t *ts_ms, int *found, char *err, size_t errlen)
{
	return edge_tick(s, from_ms, before_ms, 0, ts_ms, NULL, found, err,
	    errlen);
}

int
store_newest_tick(struct store *s, int64_t before_ms, int64_t *ts_ms,
    int *found, char *err, size_t errlen)
{
	return edge_tick(s, INT64_MIN, before_ms, 1, ts_ms, NULL, found, err,
	    errlen);
}

int
store_summary(struct store *s, struct store_summary *out, char *err,
    size_t errlen)
{
	sqlite3_stmt *st;
	int64_t run = 0, lo, hi;
	int rc;

	memset(out, 0, sizeof(*out));
	/*
	 * Tick keys count up from 1 and are never reused (compaction,
	 * store-compact.c, always keeps the newest), so the newest key is
	 * the number of ticks ever written: no scan of a year of packed rows.
	 */
	if (sqlite3_prepare_v2(s->db, "SELECT t.id, t.ts_ms, r.id, "
	    "r.started_ms, r.interval_ms FROM (SELECT 1) LEFT JOIN ticks t ON "
	    "t.id = (SELECT max(id) FROM ticks) LEFT JOIN runs r ON "
	    "r.id = (SELECT max(id) FROM runs)", -1, &st, NULL) != SQLITE_OK)
		return store_sqlite_err(s, err, errlen, "reading ticks");
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->ticks = sqlite3_column_int64(st, 0);
		out->last_tick_ms = sqlite3_column_int64(st, 1);
		run = sqlite3_column_int64(st, 2);
		out->run_started_ms = sqlite3_column_int64(st, 3);
		out->run_interval_ms = sqlite3_column_int64(st, 4);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return store_sqlite_err(s, err, errlen, "reading ticks");
	if (out->ticks == 0 || run == 0)
		return 0;
	/* Runs only grow along the keys: find the latest run's first tick by
	   bisection, a few point lookups. */
	if (sqlite3_prepare_v2(s->db, "SELECT run FROM ticks WHERE id >= ?1 "
	    "ORDER BY id LIMIT 1", -1, &st, NULL) != SQLITE_OK)
		return store_sqlite_err(s, err, errlen, "reading ticks");
	lo = 1;
	hi = out->ticks + 1;
	while (lo < hi) {
		int64_t mid = lo + (hi - lo) / 2, r = INT64_MAX;

		sqlite3_bind_int64(st, 1, mid);
		if ((rc = sqlite3_step(st)) == SQLITE_ROW)
			r = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
			sqlite3_finalize(st);
			return store_sqlite_err(s, err, errlen, "reading ticks");
		}
		if (r < run)
			lo = mid + 1;
		else
			hi = mid;
	}
	sqlite3_finalize(st);
	out->run_ticks = out->ticks - lo + 1;
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

/* A rollup scan's records on their way to its sink. */
struct rollup_scan {
	const struct store_sink	*sink;
	int64_t			 hour_ms;
	int64_t			 gpu_id;	/* or -1: every GPU */
};

static int
rollup_gpu(void *ctx, int64_t gpu, const struct rollup_gpu *r)
{
	struct rollup_scan *rs = ctx;

	if (rs->gpu_id >= 0 && gpu != rs->gpu_id)
		return 0;
	return rs->sink->gpu_hour(rs->sink->ctx, rs->hour_ms, gpu, r);
}

static int
rollup_proc(void *ctx, int64_t gpu, int64_t proc, const struct rollup_proc *r)
{
	struct rollup_scan *rs = ctx;

	if (rs->gpu_id >= 0 && gpu != rs->gpu_id)
		return 0;
	return rs->sink->proc(rs->sink->ctx, gpu, proc, r);
}

/*
 * The rollups of the hours in [from, to), oldest first, or newest first
 * (back) with hour_done called after each hour: nonzero from it ends the
 * scan, not as an error. Each record goes to the sink as it is decoded,
 * unmerged: the sink sums them all the same, and a year of hours costs no
 * more than decoding them.
 */
static int
scan_rollups(struct store *s, int64_t from_hour_ms, int64_t to_hour_ms,
    int back, int64_t gpu_id, const struct store_sink *sink,
    int (*hour_done)(void *ctx, int64_t hour_ms), char *err, size_t errlen)
{
	struct rollup_scan rs = { sink, 0, gpu_id };
	struct store_hour_records to = { &rs, rollup_gpu, rollup_proc };
	sqlite3_stmt *st;
	int rc, urc = 0, ret = -1;

	if (from_hour_ms >= to_hour_ms)
		return 0;
	if (sqlite3_prepare_v2(s->db, back ?
	    "SELECT hour_ms, gpus, procs FROM hours WHERE hour_ms >= ?1 "
	    "AND hour_ms < ?2 ORDER BY hour_ms DESC" :
	    "SELECT hour_ms, gpus, procs FROM hours "
	    "WHERE hour_ms >= ?1 AND hour_ms < ?2 ORDER BY hour_ms", -1, &st,
	    NULL) != SQLITE_OK)
		return store_sqlite_err(s, err, errlen, "reading rollups");
	sqlite3_bind_int64(st, 1, from_hour_ms);
	sqlite3_bind_int64(st, 2, to_hour_ms);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		rs.hour_ms = sqlite3_column_int64(st, 0);
		urc = store_hour_each(rs.hour_ms, sqlite3_column_blob(st, 1),
		    (size_t)sqlite3_column_bytes(st, 1),
		    sqlite3_column_blob(st, 2),
		    (size_t)sqlite3_column_bytes(st, 2), &to);
		if (urc == -2)
			goto nomem;
		if (urc != 0) {
			damaged_hour(s, rs.hour_ms, err, errlen);
			goto out;
		}
		if (hour_done != NULL && hour_done(sink->ctx, rs.hour_ms) !=
		    0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc != SQLITE_DONE) {
		store_sqlite_err(s, err, errlen, "reading rollups");
		goto out;
	}
	ret = 0;
	goto out;
nomem:
	util_err(err, errlen, "out of memory");
out:
	sqlite3_finalize(st);
	return ret;
}

int
store_scan_rollups(struct store *s, int64_t from_hour_ms, int64_t to_hour_ms,
    int64_t gpu_id, const struct store_sink *sink, char *err, size_t errlen)
{
	return scan_rollups(s, from_hour_ms, to_hour_ms, 0, gpu_id, sink, NULL,
	    err, errlen);
}

int
store_scan_rollups_back(struct store *s, int64_t before_hour_ms,
    const struct store_sink *sink, int (*hour_done)(void *ctx,
    int64_t hour_ms), char *err, size_t errlen)
{
	return scan_rollups(s, INT64_MIN, before_hour_ms, 1, -1, sink,
	    hour_done, err, errlen);
}

/* The memory a process had on a GPU at the last tick that listed it. */
struct mem_seen {
	int64_t	tick;
	int64_t	mib;
};

int
store_scan_ticks(struct store *s, int64_t from_ms, int64_t to_ms,
    int (*fn)(void *ctx, const struct store_tick *), void *ctx, char *err,
    size_t errlen)
{
	struct store_unpacked u;
	struct imap slot_of;
	struct mem_seen *seen = NULL;
	size_t nseen = 0, seen_cap = 0;
	int64_t first = 0, last = -1;
	sqlite3_stmt *st;
	int rc, ret = -1;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (from_ms >= to_ms)
		return 0;
	memset(&u, 0, sizeof(u));
	memset(&slot_of, 0, sizeof(slot_of));
	/* The ids of the ticks in the hours the window touches: from the
	   start of the first hour, so omitted memory is always known. */
	if (sqlite3_prepare_v2(s->db, "SELECT min(first_tick), max(last_tick) "
	    "FROM hours WHERE hour_ms >= ?1 AND hour_ms <= ?2", -1, &st,
	    NULL) != SQLITE_OK)
		return store_sqlite_err(s, err, errlen, "reading hours");
	sqlite3_bind_int64(st, 1, util_hour_floor(from_ms));
	sqlite3_bind_int64(st, 2, util_hour_floor(to_ms - 1));
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		first = sqlite3_column_int64(st, 0);
		last = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return store_sqlite_err(s, err, errlen, "reading hours");
	if (first > last)
		return 0;

	if (sqlite3_prepare_v2(s->db, "SELECT id, ts_ms, span_ms, gpus FROM "
	    "ticks WHERE id >= ?1 AND id <= ?2 ORDER BY id", -1, &st,
	    NULL) != SQLITE_OK)
		return store_sqlite_err(s, err, errlen, "reading ticks");
	sqlite3_bind_int64(st, 1, first);
	sqlite3_bind_int64(st, 2, last);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_tick t;
		int urc;

		t.id = sqlite3_column_int64(st, 0);
		t.ts_ms = sqlite3_column_int64(st, 1);
		t.span_ms = sqlite3_column_int64(st, 2);
		urc = store_unpack_tick(sqlite3_column_blob(st, 3),
		    (size_t)sqlite3_column_bytes(st, 3), t.span_ms, &u);
		if (urc == -2)
			goto nomem;
		for (size_t g = 0; urc == 0 && g < u.ngpus; g++) {
			const struct store_tick_gpu *tg = &u.gpus[g];

			for (size_t i = 0; i < tg->nprocs; i++) {
				struct store_tick_proc *p =
				    &u.procs[tg->first_proc + i];
				int64_t slot;

				if (imap_get(&slot_of, tg->gpu_id, p->proc_id,
				    &slot) != 0) {
					if (p->mem_omitted) {
						urc = -1;
						break;
					}
					if (nseen == seen_cap) {
						size_t ncap = seen_cap ?
						    seen_cap * 2 : 64;
						struct mem_seen *ns = realloc(
						    seen, ncap * sizeof(*ns));

						if (ns == NULL)
							goto nomem;
						seen = ns;
						seen_cap = ncap;
					}
					slot = (int64_t)nseen++;
					if (imap_put(&slot_of, tg->gpu_id,
					    p->proc_id, slot) != 0)
						goto nomem;
				} else if (p->mem_omitted) {
					/* As at the tick just before. */
					if (seen[slot].tick != t.id - 1) {
						urc = -1;
						break;
					}
					p->mem_mib = seen[slot].mib;
				}
				seen[slot].tick = t.id;
				seen[slot].mib = p->mem_mib;
			}
		}
		if (urc != 0) {
			damaged_tick(s, t.ts_ms, err, errlen);
			goto out;
		}
		if (t.ts_ms < from_ms || t.ts_ms >= to_ms)
			continue;
		/* The writer never stores a span outside 1 ms .. 100 years. */
		if (t.span_ms <= 0 || t.span_ms > DURATION_MAX_MS) {
			damaged_tick(s, t.ts_ms, err, errlen);
			goto out;
		}
		t.gpus = u.gpus;
		t.ngpus = u.ngpus;
		t.procs = u.procs;
		if (fn(ctx, &t) != 0)
			goto stopped;
	}
	if (rc != SQLITE_DONE) {
		store_sqlite_err(s, err, errlen, "reading ticks");
		goto out;
	}
	ret = 0;
	goto out;
nomem:
	util_err(err, errlen, "out of memory");
	goto out;
stopped:
	/* fn may have said why; the sinks of raw scans only fail for memory. */
	if (err != NULL && errlen > 0 && err[0] == '\0')
		util_err(err, errlen, "out of memory");
out:
	sqlite3_finalize(st);
	free(u.gpus);
	free(u.procs);
	free(seen);
	imap_free(&slot_of);
	return ret;
}

/* What store_scan_raw's callback needs besides the tick. */
struct raw_scan {
	int64_t			 gpu_id;
	const struct thresholds	*thr;
	const struct store_sink	*sink;
};

/* One raw tick into the sink, classified with the scan's thresholds. */
static int
raw_tick(void *ctx, const struct store_tick *t)
{
	const struct raw_scan *rs = ctx;
	int64_t hour = util_hour_floor(t->ts_ms);

	for (size_t g = 0; g < t->ngpus; g++) {
		const struct store_tick_gpu *tg = &t->gpus[g];
		/* A tick whose GPUs have no process has no process array. */
		const struct store_tick_proc *procs = tg->nprocs > 0 ?
		    t->procs + tg->first_proc : NULL;
		struct rollup_gpu rg;
		int64_t held = 0;
		int partial = !tg->reading.procs_known;

		int wanted = rs->sink->proc_wanted == NULL;

		if (rs->gpu_id >= 0 && tg->gpu_id != rs->gpu_id)
			continue;
		for (size_t i = 0; i < tg->nprocs && !wanted; i++)
			if ((wanted = rs->sink->proc_wanted(rs->sink->ctx,
			    procs[i].proc_id)) < 0)
				return -1;
		if (!wanted)
			continue;
		for (size_t i = 0; i < tg->nprocs; i++) {
			if (procs[i].mem_mib == MIB_UNKNOWN)
				partial = 1;
			else
				held = util_sat_add(held, procs[i].mem_mib);
		}
		memset(&rg, 0, sizeof(rg));
		rollup_gpu_add(&rg, rs->thr, t->span_ms, tg->reading.util_pm,
		    held, partial, tg->reading.energy_j);
		if (rs->sink->gpu_hour(rs->sink->ctx, hour, tg->gpu_id,
		    &rg) != 0 || (rs->sink->gpu_tick != NULL &&
		    rs->sink->gpu_tick(rs->sink->ctx, t->ts_ms, tg->gpu_id,
		    &rg) != 0))
			return -1;
		for (size_t i = 0; i < tg->nprocs; i++) {
			struct rollup_proc rp;
			int w;

			if (rs->sink->proc_wanted != NULL && (w =
			    rs->sink->proc_wanted(rs->sink->ctx,
			    procs[i].proc_id)) <= 0) {
				if (w < 0)
					return -1;
				continue;
			}
			rollup_proc_init(&rp);
			rollup_proc_add(&rp, rs->thr, t->ts_ms, t->span_ms,
			    procs[i].util_pm, tg->reading.util_pm,
			    procs[i].mem_mib);
			if (rs->sink->proc(rs->sink->ctx, tg->gpu_id,
			    procs[i].proc_id, &rp) != 0)
				return -1;
		}
	}
	return 0;
}

/* What store_scan_rows hands each decoded tick to. */
struct row_scan {
	int64_t		 gpu_id;
	int		(*fn)(void *, const struct store_row *);
	void		*ctx;
	struct store_row_proc *procs;
	size_t		 cap;
};

/* One decoded tick as a row per GPU, for writers of raw rows. */
static int
row_tick(void *ctx, const struct store_tick *t)
{
	struct row_scan *rs = ctx;

	for (size_t g = 0; g < t->ngpus; g++) {
		const struct store_tick_gpu *tg = &t->gpus[g];
		const struct store_tick_proc *tp = tg->nprocs > 0 ?
		    t->procs + tg->first_proc : NULL;
		struct store_row row;

		if (rs->gpu_id >= 0 && tg->gpu_id != rs->gpu_id)
			continue;
		if (tg->nprocs > rs->cap) {
			struct store_row_proc *np = realloc(rs->procs,
			    tg->nprocs * sizeof(*np));

			if (np == NULL)
				return -1;
			rs->procs = np;
			rs->cap = tg->nprocs;
		}
		for (size_t i = 0; i < tg->nprocs; i++) {
			rs->procs[i].proc_id = tp[i].proc_id;
			rs->procs[i].util_pm = tp[i].util_pm;
			rs->procs[i].mem_mib = tp[i].mem_mib;
		}
		memset(&row, 0, sizeof(row));
		row.tick_id = t->id;
		row.ts_ms = t->ts_ms;
		row.span_ms = t->span_ms;
		row.gpu_id = tg->gpu_id;
		row.reading = tg->reading;
		row.procs = rs->procs;
		row.nprocs = tg->nprocs;
		if (rs->fn(rs->ctx, &row) != 0)
			return -1;
	}
	return 0;
}

int
store_scan_rows(struct store *s, int64_t from_ms, int64_t to_ms,
    int64_t gpu_id, int (*fn)(void *ctx, const struct store_row *),
    void *ctx, char *err, size_t errlen)
{
	struct row_scan rs = { gpu_id, fn, ctx, NULL, 0 };
	int rc = store_scan_ticks(s, from_ms, to_ms, row_tick, &rs, err, errlen);

	free(rs.procs);
	return rc;
}

int
store_scan_raw(struct store *s, int64_t from_ms, int64_t to_ms,
    int64_t gpu_id, const struct thresholds *thr,
    const struct store_sink *sink, char *err, size_t errlen)
{
	struct raw_scan rs = { gpu_id, thr, sink };

	return store_scan_ticks(s, from_ms, to_ms, raw_tick, &rs, err, errlen);
}

/* What store_scan_edges hands each GPU's edges to. */
struct edge_scan {
	int64_t	gpu_id;
	int	(*fn)(void *, int64_t, int64_t, int64_t, int64_t);
	void	*ctx;
	int	failed;
};

static int
edge_scan_hour(void *ctx, int64_t hour_ms, const struct store_edge *e,
    size_t n)
{
	struct edge_scan *es = ctx;

	(void)hour_ms;
	for (size_t i = 0; i < n; i++)
		if ((es->gpu_id < 0 || e[i].gpu == es->gpu_id) &&
		    es->fn(es->ctx, e[i].gpu, e[i].first_ms, e[i].first_span_ms,
		    e[i].last_ms) != 0)
			return es->failed = 1;
	return 0;
}

int
store_scan_edges(struct store *s, int64_t from_hour_ms, int64_t to_hour_ms,
    int64_t gpu_id, int (*fn)(void *ctx, int64_t gpu_id, int64_t first_ms,
    int64_t first_span_ms, int64_t last_ms), void *ctx, char *err,
    size_t errlen)
{
	struct edge_scan es = { gpu_id, fn, ctx, 0 };
	int64_t raw_from;

	if (store_raw_from(s, &raw_from, err, errlen) != 0)
		return -1;
	if (to_hour_ms > raw_from)
		to_hour_ms = raw_from;
	if (scan_edge_rows(s, from_hour_ms, to_hour_ms, 0, edge_scan_hour, &es,
	    err, errlen) != 0)
		return -1;
	if (es.failed)
		return util_err(err, errlen, "out of memory");
	return 0;
}

/*
 * A procs row from column col on: pid, start_ms, then the identity. Every
 * field is written (a string up to its end), so who needs no clearing:
 * a report reads hundreds of thousands of rows.
 */
static void
read_identity(sqlite3_stmt *st, int col, uint32_t *pid, int64_t *start_ms,
    struct identity *who)
{
	*pid = (uint32_t)sqlite3_column_int64(st, col);
	*start_ms = sqlite3_column_int64(st, col + 1);
	who->known = sqlite3_column_int(st, col + 2);
	who->uid = column_opt(st, col + 3, -1);
	copy_text(who->user, sizeof(who->user), st, col + 4);
	copy_text(who->comm, sizeof(who->comm), st, col + 5);
	copy_text(who->cmdline, sizeof(who->cmdline), st, col + 6);
	copy_text(who->container, sizeof(who->container), st, col + 7);
	copy_text(who->pod, sizeof(who->pod), st, col + 8);
	copy_text(who->unit, sizeof(who->unit), st, col + 9);
	copy_text(who->slurm_job, sizeof(who->slurm_job), st, col + 10);
	copy_text(who->pod_namespace, sizeof(who->pod_namespace), st, col + 11);
	copy_text(who->pod_name, sizeof(who->pod_name), st, col + 12);
	copy_text(who->container_name, sizeof(who->container_name), st,
	    col + 13);
}

/* Whether the file's procs has the pod's names (schema 3 on). */
static int
has_pod_names(const struct store *s)
{
	return s->meta.schema_version >= STORE_SCHEMA_POD_NAMES;
}

int
store_process(struct store *s, int64_t proc_id, uint32_t *pid,
    int64_t *start_ms, struct identity *who, char *err, size_t errlen)
{
	const struct proc_block *b;
	sqlite3_stmt *st;
	size_t i;
	int rc = store_proc_block(s, proc_id, 1, &b, &i, err, errlen);

	if (rc < 0)
		return -1;
	if (rc == 0) {
		*pid = b->e[i].pid;
		*start_ms = b->e[i].start_ms;
		proc_block_identity(b, i, who);
		return 0;
	}
	/* A procs row of a file from before schema 7. */
	if ((st = store_stmt(s, has_pod_names(s) ? STMT_PROC_GET :
	    STMT_PROC_GET_OLD, err, errlen)) == NULL)
		return -1;
	memset(who, 0, sizeof(*who));
	sqlite3_bind_int64(st, 1, proc_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_identity(st, 0, pid, start_ms, who);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return util_err(err, errlen, "%s: process %lld is missing",
		    s->path, (long long)proc_id);
	if (rc != SQLITE_ROW)
		return store_sqlite_err(s, err, errlen, "reading a process");
	return 0;
}

/*
 * Visits the processes of ids (ascending, no key twice) in their order.
 * Those in proc_blocks (every key from the first block's on) go to
 * block(), a block read once for all its keys. A file from before
 * schema 7 has procs rows below them: where those keys are scattered,
 * one lookup each through one(); where they are dense, one pass over
 * their range with the statement range (?1 and ?2 the range, the key in
 * column 0), each row through row(). A callback's -1 has said why in err; an absent
 * process is an error.
 */
struct process_visit {
	int	(*one)(struct store *, int64_t id, void *ctx, char *err,
		    size_t errlen);
	int	(*row)(sqlite3_stmt *, int64_t id, void *ctx, char *err,
		    size_t errlen);
	int	(*block)(const struct proc_block *, size_t i, void *ctx,
		    char *err, size_t errlen);
	int	whole;		/* block() reads more than the keys */
	void	*ctx;
};

static int
visit_rows(struct store *s, const int64_t *ids, size_t n, int range,
    const struct process_visit *v, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	size_t k = 0;
	int rc = SQLITE_DONE;

	if (n == 0)
		return 0;
	/* Scattered keys: one lookup each. */
	if ((uint64_t)(ids[n - 1] - ids[0]) / 8 > n) {
		for (size_t i = 0; i < n; i++)
			if (v->one(s, ids[i], v->ctx, err, errlen) != 0)
				return -1;
		return 0;
	}
	/* Dense keys: one pass over their range. */
	if ((st = store_stmt(s, range, err, errlen)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, ids[0]);
	sqlite3_bind_int64(st, 2, ids[n - 1]);
	while (k < n && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);

		if (id != ids[k])
			continue;
		if (v->row(st, id, v->ctx, err, errlen) != 0) {
			sqlite3_reset(st);
			return -1;
		}
		k++;
	}
	sqlite3_reset(st);
	if (k < n && rc != SQLITE_DONE && rc != SQLITE_ROW)
		return store_sqlite_err(s, err, errlen, "reading processes");
	if (k < n)
		return util_err(err, errlen, "%s: process %lld is missing",
		    s->path, (long long)ids[k]);
	return 0;
}

static int
visit_processes(struct store *s, const int64_t *ids, size_t n, int range,
    const struct process_visit *v, char *err, size_t errlen)
{
	const struct proc_block *b;
	int64_t from;
	size_t nrows = 0, i;
	int rc;

	if (store_proc_blocks_from(s, &from, err, errlen) != 0)
		return -1;
	while (nrows < n && ids[nrows] < from)
		nrows++;
	if (visit_rows(s, ids, nrows, range, v, err, errlen) != 0)
		return -1;
	for (size_t k = nrows; k < n; k++) {
		if ((rc = store_proc_block(s, ids[k], v->whole, &b, &i, err,
		    errlen)) < 0)
			return -1;
		if (rc > 0)
			return util_err(err, errlen, "%s: process %lld is "
			    "missing", s->path, (long long)ids[k]);
		if (v->block(b, i, v->ctx, err, errlen) != 0)
			return -1;
	}
	return 0;
}

/* store_processes' caller. */
struct whole_fn {
	int	(*fn)(void *ctx, int64_t proc_id, uint32_t pid,
		    int64_t start_ms, const struct identity *);
	void	*ctx;
};

static int
whole_one(struct store *s, int64_t id, void *ctx, char *err, size_t errlen)
{
	const struct whole_fn *w = ctx;
	struct identity who;
	uint32_t pid;
	int64_t start_ms;

	if (store_process(s, id, &pid, &start_ms, &who, err, errlen) != 0)
		return -1;
	if (w->fn(w->ctx, id, pid, start_ms, &who) != 0)
		return util_err(err, errlen, "out of memory");
	return 0;
}

static int
whole_row(sqlite3_stmt *st, int64_t id, void *ctx, char *err, size_t errlen)
{
	const struct whole_fn *w = ctx;
	struct identity who;
	uint32_t pid;
	int64_t start_ms;

	read_identity(st, 1, &pid, &start_ms, &who);
	if (w->fn(w->ctx, id, pid, start_ms, &who) != 0)
		return util_err(err, errlen, "out of memory");
	return 0;
}

static int
whole_block(const struct proc_block *b, size_t i, void *ctx, char *err,
    size_t errlen)
{
	const struct whole_fn *w = ctx;
	struct identity who;

	proc_block_identity(b, i, &who);
	if (w->fn(w->ctx, b->first_id + (int64_t)i, b->e[i].pid,
	    b->e[i].start_ms, &who) != 0)
		return util_err(err, errlen, "out of memory");
	return 0;
}

int
store_processes(struct store *s, const int64_t *ids, size_t n,
    int (*fn)(void *ctx, int64_t proc_id, uint32_t pid, int64_t start_ms,
    const struct identity *), void *ctx, char *err, size_t errlen)
{
	struct whole_fn w = { fn, ctx };
	struct process_visit v = { whole_one, whole_row, whole_block, 1,
	    &w };

	return visit_processes(s, ids, n, has_pod_names(s) ?
	    STMT_PROC_RANGE : STMT_PROC_RANGE_OLD, &v, err, errlen);
}

/* A column's text as SQLite holds it, valid until the next step. */
static const char *
column_str(sqlite3_stmt *st, int col)
{
	const unsigned char *v = sqlite3_column_text(st, col);

	return v != NULL ? (const char *)v : "";
}

/* store_process_keys' caller. */
struct keys_fn {
	int	(*fn)(void *ctx, int64_t proc_id, uint32_t pid,
		    const struct store_proc_keys *);
	void	*ctx;
};

static int
keys_one(struct store *s, int64_t id, void *ctx, char *err, size_t errlen)
{
	const struct keys_fn *w = ctx;
	struct store_proc_keys keys;
	struct identity who;
	uint32_t pid;
	int64_t start_ms;

	if (store_process(s, id, &pid, &start_ms, &who, err, errlen) != 0)
		return -1;
	keys.user = who.user;
	keys.comm = who.comm;
	keys.container = who.container;
	keys.pod = who.pod;
	keys.unit = who.unit;
	keys.slurm_job = who.slurm_job;
	keys.pod_namespace = who.pod_namespace;
	keys.pod_name = who.pod_name;
	if (w->fn(w->ctx, id, pid, &keys) != 0)
		return util_err(err, errlen, "out of memory");
	return 0;
}

/* A row's keys, the strings not copied. */
static int
keys_row(sqlite3_stmt *st, int64_t id, void *ctx, char *err, size_t errlen)
{
	const struct keys_fn *w = ctx;
	struct store_proc_keys keys;

	keys.user = column_str(st, 2);
	keys.comm = column_str(st, 3);
	keys.container = column_str(st, 4);
	keys.pod = column_str(st, 5);
	keys.unit = column_str(st, 6);
	keys.slurm_job = column_str(st, 7);
	keys.pod_namespace = column_str(st, 8);
	keys.pod_name = column_str(st, 9);
	if (w->fn(w->ctx, id, (uint32_t)sqlite3_column_int64(st, 1),
	    &keys) != 0)
		return util_err(err, errlen, "out of memory");
	return 0;
}

/* A block's keys, the strings not copied. */
static int
keys_block(const struct proc_block *b, size_t i, void *ctx, char *err,
    size_t errlen)
{
	const struct keys_fn *w = ctx;
	struct store_proc_keys keys;

	keys.user = proc_block_str(b, i, PROC_USER);
	keys.comm = proc_block_str(b, i, PROC_COMM);
	keys.container = proc_block_str(b, i, PROC_CONTAINER);
	keys.pod = proc_block_str(b, i, PROC_POD);
	keys.unit = proc_block_str(b, i, PROC_UNIT);
	keys.slurm_job = proc_block_str(b, i, PROC_SLURM_JOB);
	keys.pod_namespace = proc_block_str(b, i, PROC_POD_NAMESPACE);
	keys.pod_name = proc_block_str(b, i, PROC_POD_NAME);
	if (w->fn(w->ctx, b->first_id + (int64_t)i, b->e[i].pid, &keys) != 0)
		return util_err(err, errlen, "out of memory");
	return 0;
}

int
store_process_keys(struct store *s, const int64_t *ids, size_t n,
    int (*fn)(void *ctx, int64_t proc_id, uint32_t pid,
    const struct store_proc_keys *), void *ctx, char *err, size_t errlen)
{
	struct keys_fn w = { fn, ctx };
	struct process_visit v = { keys_one, keys_row, keys_block, 0, &w };

	return visit_processes(s, ids, n, has_pod_names(s) ?
	    STMT_KEYS_RANGE : STMT_KEYS_RANGE_OLD, &v, err, errlen);
}

/* A tick scan that only decodes. */
static int
decode_only(void *ctx, const struct store_tick *t)
{
	(void)ctx;
	(void)t;
	return 0;
}

int
store_check_damage(struct store *s, char *err, size_t errlen)
{
	struct store_hour h;
	sqlite3_stmt *st;
	const char *res;
	int64_t hour = 0;
	int rc, urc = 0, found = 0;

	/* Every page and index, without the slower cross-checks of
	   integrity_check. */
	if (sqlite3_prepare_v2(s->db, "PRAGMA quick_check(1)", -1, &st,
	    NULL) != SQLITE_OK)
		return store_sqlite_err(s, err, errlen, "checking");
	rc = sqlite3_step(st);
	res = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) :
	    NULL;
	if (res == NULL || strcmp(res, "ok") != 0) {
		if (res != NULL)
			util_err(err, errlen, "%s: damaged (SQLite's quick "
			    "check: %s)", s->path, res);
		else
			store_sqlite_err(s, err, errlen, "checking");
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);

	/* The newest hour, where a writer carries on: its sums and ticks. */
	memset(&h, 0, sizeof(h));
	if (sqlite3_prepare_v2(s->db, "SELECT hour_ms, gpus, procs FROM hours "
	    "ORDER BY hour_ms DESC LIMIT 1", -1, &st, NULL) != SQLITE_OK)
		return store_sqlite_err(s, err, errlen, "reading rollups");
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		found = 1;
		hour = sqlite3_column_int64(st, 0);
		store_hour_clear(&h, hour);
		urc = store_unpack_hour(&h, sqlite3_column_blob(st, 1),
		    (size_t)sqlite3_column_bytes(st, 1),
		    sqlite3_column_blob(st, 2),
		    (size_t)sqlite3_column_bytes(st, 2), 0);
	}
	sqlite3_finalize(st);
	store_hour_free(&h);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_sqlite_err(s, err, errlen, "reading rollups");
	if (urc == -2)
		return util_err(err, errlen, "out of memory");
	if (urc != 0)
		return damaged_hour(s, hour, err, errlen);
	if (!found)
		return 0;
	return store_scan_ticks(s, hour, hour + MS_PER_HOUR, decode_only, NULL,
	    err, errlen);
}
