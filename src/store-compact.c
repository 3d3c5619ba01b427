/*
 * Retention: raw ticks older than a cutoff give way to the hourly
 * rollups, one hour at a time, and the pages they held go back to the
 * file system.
 *
 * An hour is compacted in one short BEGIN IMMEDIATE transaction: its raw
 * ticks are summed again with rollup.c and the sums compared with the
 * stored rollups (raw ticks are the truth: sums that differ, a schema 1
 * hour's say, are replaced by the new ones); the first and last tick of
 * each GPU go to hour_edges, so a report still knows to the tick when a
 * GPU came and went; the ticks are deleted; and meta's raw_from_ms moves
 * past the hour. Hours are compacted oldest first, so every hour before
 * raw_from_ms is hourly only and every hour from it on is raw. A kill at
 * any moment leaves either the hour whole or the hour compacted.
 *
 * A tick's packed memory only ever refers to the tick before it in the
 * same hour (store-pack.c), so deleting whole hours never leaves a tick
 * that cannot be decoded. The newest hour is never compacted, so the
 * newest tick key stays and keys are never reused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "store-internal.h"
#include "util.h"

/* An hour summed again from its raw ticks. */
struct rebuild {
	struct store_hour	 h;
	struct store_edge	*edges;
	size_t			 nedges, cap;
};

static int
rebuild_gpu_hour(void *ctx, int64_t hour_ms, int64_t gpu_id,
    const struct rollup_gpu *r)
{
	struct rebuild *b = ctx;
	struct rollup_gpu *g = store_hour_gpu(&b->h, gpu_id);

	(void)hour_ms;
	if (g == NULL)
		return -1;
	rollup_gpu_merge(g, r);
	return 0;
}

static int
rebuild_proc(void *ctx, int64_t gpu_id, int64_t proc_id,
    const struct rollup_proc *r)
{
	struct rebuild *b = ctx;
	struct rollup_proc *p = store_hour_proc(&b->h, gpu_id, proc_id, 1);

	if (p == NULL)
		return -1;
	rollup_proc_merge(p, r);
	return 0;
}

static int
rebuild_tick(void *ctx, int64_t ts_ms, int64_t gpu_id,
    const struct rollup_gpu *r)
{
	struct rebuild *b = ctx;
	struct store_edge *e = NULL;
	int64_t span = 0;

	for (int s = 0; s < STATE_COUNT; s++)
		span += r->ms[s];
	for (size_t i = 0; i < b->nedges && e == NULL; i++)
		if (b->edges[i].gpu == gpu_id)
			e = &b->edges[i];
	if (e == NULL) {
		if (b->nedges == b->cap) {
			size_t ncap = b->cap ? b->cap * 2 : 16;
			struct store_edge *ne = realloc(b->edges, ncap * sizeof(*ne));

			if (ne == NULL)
				return -1;
			b->edges = ne;
			b->cap = ncap;
		}
		e = &b->edges[b->nedges++];
		e->gpu = gpu_id;
		e->first_ms = e->last_ms = ts_ms;
		e->first_span_ms = span;
		return 0;
	}
	if (ts_ms < e->first_ms) {
		e->first_ms = ts_ms;
		e->first_span_ms = span;
	}
	if (ts_ms > e->last_ms)
		e->last_ms = ts_ms;
	return 0;
}

/* Whether two hours hold the same sums, GPU by GPU, process by process. */
static int
same_sums(struct store_hour *a, struct store_hour *b)
{
	if (a->ngpus != b->ngpus || a->nprocs != b->nprocs)
		return 0;
	for (size_t i = 0; i < a->ngpus; i++) {
		int64_t slot;

		if (imap_get(&b->gpu_slot, a->gpus[i].gpu, 0, &slot) != 0 ||
		    memcmp(&a->gpus[i].r, &b->gpus[slot].r,
		    sizeof(a->gpus[i].r)) != 0)
			return 0;
	}
	for (size_t i = 0; i < a->nprocs; i++) {
		int64_t slot;

		if (imap_get(&b->proc_slot, a->procs[i].gpu, a->procs[i].proc,
		    &slot) != 0 || memcmp(&a->procs[i].r, &b->procs[slot].r,
		    sizeof(a->procs[i].r)) != 0)
			return 0;
	}
	return 1;
}

/* One integer out of a one-row query with up to two bound integers. */
static int
query_int(struct store *s, const char *sql, int nbind, int64_t a, int64_t b,
    int64_t *out, int *found, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc;

	*found = 0;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return store_sqlite_err(s, err, errlen, "compacting");
	if (nbind > 0)
		sqlite3_bind_int64(st, 1, a);
	if (nbind > 1)
		sqlite3_bind_int64(st, 2, b);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		*out = sqlite3_column_int64(st, 0);
		*found = 1;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_sqlite_err(s, err, errlen, "compacting");
	return 0;
}

int
store_raw_from(struct store *s, int64_t *raw_from_ms, char *err,
    size_t errlen)
{
	int found;

	*raw_from_ms = STORE_ALL_RAW;
	if (query_int(s, "SELECT CAST(value AS INTEGER) FROM meta WHERE "
	    "key = 'raw_from_ms'", 0, 0, 0, raw_from_ms, &found, err,
	    errlen) != 0)
		return -1;
	if (!found)
		*raw_from_ms = STORE_ALL_RAW;
	return 0;
}

/* Runs one statement that returns no rows, with up to three integers. */
static int
run3(struct store *s, const char *sql, int64_t a, int64_t b, int64_t c,
    char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return store_sqlite_err(s, err, errlen, "compacting");
	if (sqlite3_bind_parameter_count(st) >= 1)
		sqlite3_bind_int64(st, 1, a);
	if (sqlite3_bind_parameter_count(st) >= 2)
		sqlite3_bind_int64(st, 2, b);
	if (sqlite3_bind_parameter_count(st) >= 3)
		sqlite3_bind_int64(st, 3, c);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return store_sqlite_err(s, err, errlen, "compacting");
	return 0;
}

/* Reads the stored rollups of hour_ms into h, with their tick range. */
static int
load_hour(struct store *s, int64_t hour_ms, struct store_hour *h,
    char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc, urc = 0;

	store_hour_clear(h, hour_ms);
	if (sqlite3_prepare_v2(s->db, "SELECT first_tick, last_tick, gpus, "
	    "procs FROM hours WHERE hour_ms = ?1", -1, &st, NULL) != SQLITE_OK)
		return store_sqlite_err(s, err, errlen, "reading rollups");
	sqlite3_bind_int64(st, 1, hour_ms);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		h->first_tick = sqlite3_column_int64(st, 0);
		h->last_tick = sqlite3_column_int64(st, 1);
		urc = store_unpack_hour(h, sqlite3_column_blob(st, 2),
		    (size_t)sqlite3_column_bytes(st, 2),
		    sqlite3_column_blob(st, 3),
		    (size_t)sqlite3_column_bytes(st, 3), 1);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return store_sqlite_err(s, err, errlen, "reading rollups");
	if (urc == -2)
		return util_err(err, errlen, "out of memory");
	if (urc != 0) {
		char when[40];

		util_format_rfc3339(hour_ms, when, sizeof(when));
		return util_err(err, errlen, "%s: the hourly sums of the hour "
		    "from %s are damaged; its raw ticks are kept", s->path,
		    when);
	}
	return 0;
}

/*
 * Compacts the one hour hour_ms, inside the caller's transaction: its sums
 * checked against its raw ticks (or written anew from them), its GPUs'
 * edges kept, its ticks deleted.
 */
static int
compact_hour(struct store *s, int64_t hour_ms, struct store_compact *c,
    char *err, size_t errlen)
{
	struct store_sink sink;
	struct store_hour stored;
	struct rebuild b;
	sqlite3_stmt *st = NULL;
	int rc = -1;

	memset(&stored, 0, sizeof(stored));
	memset(&b, 0, sizeof(b));
	store_hour_clear(&b.h, hour_ms);
	memset(&sink, 0, sizeof(sink));
	sink.ctx = &b;
	sink.gpu_hour = rebuild_gpu_hour;
	sink.proc = rebuild_proc;
	sink.gpu_tick = rebuild_tick;
	if (load_hour(s, hour_ms, &stored, err, errlen) != 0 ||
	    store_scan_raw(s, hour_ms, hour_ms + MS_PER_HOUR, -1,
	    &s->meta.rollup, &sink, err, errlen) != 0)
		goto out;
	if (!same_sums(&stored, &b.h)) {
		if (store_pack_hour(&s->hour_gbuf, &s->hour_pbuf, &b.h,
		    store_hour_format(s)) != 0) {
			util_err(err, errlen, "out of memory");
			goto out;
		}
		if (sqlite3_prepare_v2(s->db, "UPDATE hours SET gpus = ?2, "
		    "procs = ?3 WHERE hour_ms = ?1", -1, &st, NULL) !=
		    SQLITE_OK) {
			store_sqlite_err(s, err, errlen, "compacting");
			goto out;
		}
		sqlite3_bind_int64(st, 1, hour_ms);
		sqlite3_bind_blob(st, 2, s->hour_gbuf.p ?
		    (const void *)s->hour_gbuf.p : "", (int)s->hour_gbuf.len,
		    SQLITE_STATIC);
		sqlite3_bind_blob(st, 3, s->hour_pbuf.p ?
		    (const void *)s->hour_pbuf.p : "", (int)s->hour_pbuf.len,
		    SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			store_sqlite_err(s, err, errlen, "compacting");
			goto out;
		}
		c->rebuilt++;
	}
	if (store_pack_edges(&s->hour_gbuf, hour_ms, b.edges, b.nedges) != 0) {
		util_err(err, errlen, "out of memory");
		goto out;
	}
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO hour_edges("
	    "hour_ms, gpus) VALUES(?1, ?2)", -1, &st, NULL) != SQLITE_OK) {
		store_sqlite_err(s, err, errlen, "compacting");
		goto out;
	}
	sqlite3_bind_int64(st, 1, hour_ms);
	sqlite3_bind_blob(st, 2, s->hour_gbuf.p ? (const void *)s->hour_gbuf.p :
	    "", (int)s->hour_gbuf.len, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		store_sqlite_err(s, err, errlen, "compacting");
		goto out;
	}
	/* Only this hour's ticks: a clock that stepped back can put another
	   hour's ticks between its first and last key. */
	if (run3(s, "DELETE FROM ticks WHERE id >= ?1 AND id <= ?2 AND "
	    "ts_ms >= ?3 AND ts_ms < ?3 + 3600000", stored.first_tick,
	    stored.last_tick, hour_ms, err, errlen) != 0)
		goto out;
	c->ticks += sqlite3_changes(s->db);
	c->hours++;
	rc = 0;
out:
	sqlite3_finalize(st);
	store_hour_free(&stored);
	store_hour_free(&b.h);
	free(b.edges);
	return rc;
}

int
store_compact_step(struct store *s, int64_t keep_raw_ms, int max_hours,
    struct store_compact *c, char *err, size_t errlen)
{
	int64_t newest = 0, raw_from, cutoff, hour = 0;
	int found, n = 0;

	memset(c, 0, sizeof(*c));
	if (!s->writable)
		return util_err(err, errlen, "%s: not open for writing",
		    s->path);
	if (keep_raw_ms < MS_PER_HOUR)
		return util_err(err, errlen, "raw ticks must be kept at least "
		    "an hour");
	/* An older file gets this schema, which reads hourly-only hours,
	   before its first is compacted. */
	if (store_upgrade(s, err, errlen) != 0 ||
	    store_exec(s, "BEGIN IMMEDIATE", err, errlen) != 0)
		return -1;
	if (store_raw_from(s, &raw_from, err, errlen) != 0 ||
	    query_int(s, "SELECT max(ts_ms) FROM ticks WHERE id >= (SELECT "
	    "first_tick FROM hours ORDER BY hour_ms DESC LIMIT 1)", 0, 0, 0,
	    &newest, &found, err, errlen) != 0)
		goto fail;
	if (!found)
		goto done;
	/* Every hour with a tick less than keep_raw_ms before the newest
	   stays raw; so does the newest hour, and the newest key with it. */
	cutoff = util_hour_floor(newest - keep_raw_ms);
	/* A file of an older schema gets the table of the edges with its
	   first compacted hour. */
	if (store_exec(s, "CREATE TABLE IF NOT EXISTS hour_edges("
	    " hour_ms INTEGER PRIMARY KEY, gpus BLOB NOT NULL)", err,
	    errlen) != 0)
		goto fail;
	while (n < max_hours) {
		if (query_int(s, "SELECT min(hour_ms) FROM hours WHERE "
		    "hour_ms >= ?1 AND hour_ms < ?2", 2, raw_from, cutoff, &hour,
		    &found, err, errlen) != 0)
			goto fail;
		if (!found)
			break;
		if (compact_hour(s, hour, c, err, errlen) != 0)
			goto fail;
		raw_from = hour + MS_PER_HOUR;
		n++;
	}
	if (n > 0) {
		if (run3(s, "INSERT OR REPLACE INTO meta(key, value) "
		    "VALUES('raw_from_ms', CAST(?1 AS TEXT))", raw_from, 0, 0,
		    err, errlen) != 0)
			goto fail;
		c->raw_from_ms = raw_from;
	}
	/* Whether hours are left to compact after these. */
	if (query_int(s, "SELECT 1 FROM hours WHERE hour_ms >= ?1 AND "
	    "hour_ms < ?2 LIMIT 1", 2, raw_from, cutoff, &hour, &c->more, err,
	    errlen) != 0)
		goto fail;
done:
	if (store_exec(s, "COMMIT", err, errlen) != 0)
		goto fail;
	return n > 0;
fail:
	if (!sqlite3_get_autocommit(s->db))
		store_exec(s, "ROLLBACK", NULL, 0);
	return -1;
}

int
store_vacuum_step(struct store *s, int max_pages, int64_t *freed, char *err,
    size_t errlen)
{
	int64_t before = 0, after = 0;
	int found;
	char sql[64];

	*freed = 0;
	if (query_int(s, "PRAGMA freelist_count", 0, 0, 0, &before, &found,
	    err, errlen) != 0)
		return -1;
	if (before == 0)
		return 0;
	snprintf(sql, sizeof(sql), "PRAGMA incremental_vacuum(%d)", max_pages);
	/* The pragma returns a row per page; run it to its end. */
	if (store_exec(s, sql, err, errlen) != 0 ||
	    query_int(s, "PRAGMA freelist_count", 0, 0, 0, &after, &found, err,
	    errlen) != 0)
		return -1;
	*freed = before > after ? before - after : 0;
	return 0;
}

int
store_make_incremental(struct store *s, int *converted, char *err,
    size_t errlen)
{
	int64_t mode = 0;
	int found;

	*converted = 0;
	if (query_int(s, "PRAGMA auto_vacuum", 0, 0, 0, &mode, &found, err,
	    errlen) != 0)
		return -1;
	if (mode == 2)
		return 0;
	/*
	 * Only a VACUUM switches an existing file: it copies what is left
	 * into a temporary file and back, holding the write lock throughout
	 * (a live collector's ticks wait in memory meanwhile), and needs free
	 * space for two copies of what is left.
	 */
	if (store_exec(s, "PRAGMA auto_vacuum=INCREMENTAL", err, errlen) != 0 ||
	    store_exec(s, "VACUUM", err, errlen) != 0)
		return -1;
	*converted = 1;
	return 0;
}

int
store_retention(struct store *s, struct store_retention *r, char *err,
    size_t errlen)
{
	struct stat st;
	int64_t raw_from, v = 0;
	int found;

	memset(r, 0, sizeof(*r));
	if (stat(s->path, &st) == 0)
		r->file_bytes = (int64_t)st.st_size;
	if (store_raw_from(s, &raw_from, err, errlen) != 0)
		return -1;
	r->raw_from_ms = raw_from == STORE_ALL_RAW ? 0 : raw_from;
	if (query_int(s, "SELECT min(hour_ms) FROM hours", 0, 0, 0, &v, &found,
	    err, errlen) != 0)
		return -1;
	if (found)
		r->oldest_hour_ms = v;
	if (store_first_tick(s, raw_from == STORE_ALL_RAW ? INT64_MIN :
	    raw_from, INT64_MAX, &v, &found, err, errlen) != 0)
		return -1;
	if (found)
		r->oldest_raw_ms = v;
	if (query_int(s, "PRAGMA auto_vacuum", 0, 0, 0, &v, &found, err,
	    errlen) != 0)
		return -1;
	r->incremental = v == 2;
	return 0;
}
