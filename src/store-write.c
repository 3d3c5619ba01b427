/*
 * The write path: one tick, its identities, its memory changes and its
 * hourly rollups, in one transaction.
 */
#include <stdlib.h>
#include <string.h>

#include "store-internal.h"
#include "util.h"

/* How many processes ahead write_gpu starts its map lookups. */
#define PREFETCH_AHEAD	8
#define PREFETCH_NEAR	4	/* ... and the next lookups of those */

static int
step_done(struct store *s, sqlite3_stmt *st, char *err, size_t errlen,
    const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_sqlite_err(s, err, errlen, what);
	return 0;
}

static void
bind_opt_int(sqlite3_stmt *st, int col, int64_t v, int64_t unknown)
{
	if (v == unknown)
		sqlite3_bind_null(st, col);
	else
		sqlite3_bind_int64(st, col, v);
}

/* Binds a buffer as a blob, an empty one too (never NULL). */
static void
bind_buf(sqlite3_stmt *st, int col, const struct store_buf *b)
{
	sqlite3_bind_blob(st, col, b->p ? (const void *)b->p : "",
	    (int)b->len, SQLITE_STATIC);
}

/* Forgets everything cached: after a rollback, keys may no longer exist. */
static void
forget_caches(struct store *s)
{
	free(s->gpus);
	s->gpus = NULL;
	s->ngpus = 0;
	imap_clear(&s->proc_prev);
	imap_clear(&s->proc_cur);
	imap_clear(&s->mem_prev);
	imap_clear(&s->mem_cur);
	s->prev_valid = 0;
	store_hour_clear(&s->hour, STORE_NO_HOUR);
	store_procs_forget(s);
}

int
store_begin(struct store *s, char *err, size_t errlen)
{
	s->broken = 0;
	return store_exec(s, "BEGIN IMMEDIATE", err, errlen);
}

/* Writes the hour being added to, which must be loaded. */
static int
hour_write(struct store *s, char *err, size_t errlen)
{
	struct store_hour *h = &s->hour;
	sqlite3_stmt *st;

	if (store_pack_hour(&s->hour_gbuf, &s->hour_pbuf, h,
	    store_hour_format(s)) != 0)
		return util_err(err, errlen, "out of memory");
	if ((st = store_stmt(s, STMT_HOUR_PUT, err, errlen)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, h->hour_ms);
	sqlite3_bind_int64(st, 2, h->first_tick);
	sqlite3_bind_int64(st, 3, h->last_tick);
	bind_buf(st, 4, &s->hour_gbuf);
	bind_buf(st, 5, &s->hour_pbuf);
	if (step_done(s, st, err, errlen, "writing hourly rollups") != 0)
		return -1;
	h->dirty = 0;
	return 0;
}

int
store_commit(struct store *s, char *err, size_t errlen)
{
	if (s->broken) {
		store_rollback(s);
		return util_err(err, errlen, "%s: a tick of this transaction "
		    "failed; nothing of it was kept", s->path);
	}
	if ((s->hour.dirty && hour_write(s, err, errlen) != 0) ||
	    store_procs_flush(s, err, errlen) != 0 ||
	    store_exec(s, "COMMIT", err, errlen) != 0) {
		if (!sqlite3_get_autocommit(s->db))
			store_exec(s, "ROLLBACK", NULL, 0);
		forget_caches(s);
		return -1;
	}
	return 0;
}

void
store_rollback(struct store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		store_exec(s, "ROLLBACK", NULL, 0);
	s->broken = 0;
	forget_caches(s);
}

/* The key of a GPU, inserting it or refreshing its index and name. */
static int
resolve_gpu(struct store *s, const struct tick_gpu *g, int64_t *id,
    char *err, size_t errlen)
{
	struct store_gpu_cache *c = NULL, *ng;
	sqlite3_stmt *st;
	int rc;

	for (size_t i = 0; i < s->ngpus; i++)
		if (strcmp(s->gpus[i].uuid, g->uuid) == 0)
			c = &s->gpus[i];
	if (c == NULL) {
		ng = realloc(s->gpus, (s->ngpus + 1) * sizeof(*s->gpus));
		if (ng == NULL)
			return util_err(err, errlen, "out of memory");
		s->gpus = ng;
		c = &s->gpus[s->ngpus];
		memset(c, 0, sizeof(*c));
		util_strlcpy(c->uuid, g->uuid, sizeof(c->uuid));
		if ((st = store_stmt(s, STMT_GPU_FIND, err, errlen)) == NULL)
			return -1;
		sqlite3_bind_text(st, 1, g->uuid, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			c->id = sqlite3_column_int64(st, 0);
			c->index = sqlite3_column_int(st, 1);
			util_strlcpy(c->name,
			    (const char *)sqlite3_column_text(st, 2),
			    sizeof(c->name));
			c->mem_total_mib = sqlite3_column_type(st, 3) ==
			    SQLITE_NULL ? MIB_UNKNOWN :
			    sqlite3_column_int64(st, 3);
		}
		sqlite3_reset(st);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return store_sqlite_err(s, err, errlen, "finding a GPU");
		if (rc == SQLITE_DONE) {
			if ((st = store_stmt(s, STMT_GPU_INSERT, err,
			    errlen)) == NULL)
				return -1;
			sqlite3_bind_text(st, 1, g->uuid, -1, SQLITE_STATIC);
			sqlite3_bind_int(st, 2, g->index);
			sqlite3_bind_text(st, 3, g->name, -1, SQLITE_STATIC);
			bind_opt_int(st, 4, g->mem_total_mib, MIB_UNKNOWN);
			sqlite3_bind_text(st, 5, g->parent_uuid, -1,
			    SQLITE_STATIC);
			if (step_done(s, st, err, errlen, "adding a GPU") != 0)
				return -1;
			c->id = sqlite3_last_insert_rowid(s->db);
			c->index = g->index;
			util_strlcpy(c->name, g->name, sizeof(c->name));
			c->mem_total_mib = g->mem_total_mib;
		}
		s->ngpus++;
	}
	if (c->index != g->index || strcmp(c->name, g->name) != 0 ||
	    (g->mem_total_mib != MIB_UNKNOWN &&
	    c->mem_total_mib != g->mem_total_mib)) {
		/* NVML indexes can change across reboots; the UUID cannot. */
		if ((st = store_stmt(s, STMT_GPU_UPDATE, err, errlen)) == NULL)
			return -1;
		sqlite3_bind_int64(st, 1, c->id);
		sqlite3_bind_int(st, 2, g->index);
		sqlite3_bind_text(st, 3, g->name, -1, SQLITE_STATIC);
		bind_opt_int(st, 4, g->mem_total_mib, MIB_UNKNOWN);
		if (step_done(s, st, err, errlen, "updating a GPU") != 0)
			return -1;
		c->index = g->index;
		util_strlcpy(c->name, g->name, sizeof(c->name));
		if (g->mem_total_mib != MIB_UNKNOWN)
			c->mem_total_mib = g->mem_total_mib;
	}
	*id = c->id;
	return 0;
}

/* The key of a process (pid + start time); its identity is stored once. */
static int
resolve_proc(struct store *s, const struct tick_proc *p, int64_t *id,
    char *err, size_t errlen)
{
	if (imap_get(&s->proc_cur, p->pid, p->start_ms, id) == 0)
		return 0;
	if (imap_get(&s->proc_prev, p->pid, p->start_ms, id) != 0 &&
	    store_proc_key(s, p->pid, p->start_ms, &p->id, id, err,
	    errlen) != 0)
		return -1;
	if (imap_put(&s->proc_cur, p->pid, p->start_ms, *id) != 0)
		return util_err(err, errlen, "out of memory");
	return 0;
}

/*
 * Makes the hour of hour_ms the one being added to: the one in memory, or
 * the stored row (a collector that resumes, or a clock that stepped back),
 * or a new one.
 */
static int
hour_load(struct store *s, int64_t hour_ms, char *err, size_t errlen)
{
	struct store_hour *h = &s->hour;
	sqlite3_stmt *st;
	int rc, urc = 0;

	if (h->hour_ms == hour_ms)
		return 0;
	if (h->dirty && hour_write(s, err, errlen) != 0)
		return -1;
	store_hour_clear(h, hour_ms);
	if ((st = store_stmt(s, STMT_HOUR_GET, err, errlen)) == NULL)
		return -1;
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
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_sqlite_err(s, err, errlen, "reading hourly rollups");
	if (urc == -2)
		return util_err(err, errlen, "out of memory");
	if (urc != 0) {
		char when[40];

		util_format_rfc3339(hour_ms, when, sizeof(when));
		return util_err(err, errlen, "%s: the hourly sums of the hour "
		    "from %s are damaged and cannot be added to", s->path,
		    when);
	}
	return 0;
}

/*
 * Packs one GPU of the tick and adds it to the hour. A process's memory
 * is left out when the previous tick had the same (see store-pack.c).
 */
static int
write_gpu(struct store *s, const struct tick *t, const struct tick_gpu *g,
    int may_omit, char *err, size_t errlen)
{
	const struct thresholds *thr = &s->meta.rollup;
	struct rollup_gpu *rg;
	int64_t gpu_id = 0, held;
	int partial;

	if (resolve_gpu(s, g, &gpu_id, err, errlen) != 0)
		return -1;
	if (store_pack_gpu(&s->tick_buf, gpu_id, g) != 0)
		return util_err(err, errlen, "out of memory");
	for (size_t i = 0; i < g->nprocs; i++) {
		const struct tick_proc *p = &g->procs[i];
		struct rollup_proc *rp;
		int64_t proc_id, last;
		int omit;

		/* A thousand processes' maps are out of the cache by the next
		   tick: the lookups of processes a few ahead start early. */
		if (i + PREFETCH_AHEAD < g->nprocs) {
			const struct tick_proc *q = &g->procs[i +
			    PREFETCH_AHEAD];

			imap_prefetch(&s->proc_cur, q->pid, q->start_ms);
			imap_prefetch(&s->proc_prev, q->pid, q->start_ms);
		}
		/* Fewer ahead, its key (of the tick before, as most are)
		   found by then: the slots of its three lookups below. */
		if (i + PREFETCH_NEAR < g->nprocs) {
			const struct tick_proc *q = &g->procs[i +
			    PREFETCH_NEAR];
			int64_t q_id;

			if (imap_get(&s->proc_prev, q->pid, q->start_ms,
			    &q_id) == 0) {
				imap_prefetch(&s->mem_cur, gpu_id, q_id);
				imap_prefetch(&s->mem_prev, gpu_id, q_id);
				imap_prefetch(&s->hour.proc_slot, gpu_id, q_id);
			}
		}
		if (resolve_proc(s, p, &proc_id, err, errlen) != 0)
			return -1;
		/* The three lookups below, overlapped. */
		imap_prefetch(&s->mem_cur, gpu_id, proc_id);
		imap_prefetch(&s->mem_prev, gpu_id, proc_id);
		imap_prefetch(&s->hour.proc_slot, gpu_id, proc_id);
		/* Listed twice in a tick (NVML can), it is packed in full. */
		omit = may_omit && imap_get(&s->mem_cur, gpu_id, proc_id,
		    &last) != 0 && imap_get(&s->mem_prev, gpu_id, proc_id,
		    &last) == 0 && last == p->mem_mib;
		if (imap_put(&s->mem_cur, gpu_id, proc_id, p->mem_mib) != 0 ||
		    store_pack_proc(&s->tick_buf, proc_id, p->util_pm, !omit,
		    p->mem_mib) != 0 ||
		    (rp = store_hour_proc(&s->hour, gpu_id, proc_id, 1)) == NULL)
			return util_err(err, errlen, "out of memory");
		rollup_proc_add(rp, thr, t->ts_ms, t->span_ms, p->util_pm,
		    g->util_pm, p->mem_mib);
	}
	if ((rg = store_hour_gpu(&s->hour, gpu_id)) == NULL)
		return util_err(err, errlen, "out of memory");
	held = tick_gpu_held_mib(g, &partial);
	rollup_gpu_add(rg, thr, t->span_ms, g->util_pm, held, partial,
	    energy_joules(g->energy_mj));
	return 0;
}

int
store_write_tick(struct store *s, const struct tick *t, char *err,
    size_t errlen)
{
	int own = sqlite3_get_autocommit(s->db);
	int64_t hour = util_hour_floor(t->ts_ms), tick_id;
	int may_omit;
	struct imap swap;
	sqlite3_stmt *st;

	if (!s->writable || s->run_id == 0)
		return util_err(err, errlen, "%s: no run started for writing",
		    s->path);
	if (t->span_ms <= 0)
		return util_err(err, errlen, "tick with a span of %lld ms",
		    (long long)t->span_ms);
	if (!own && s->broken)
		return util_err(err, errlen, "%s: an earlier tick of this "
		    "transaction failed", s->path);
	if (own && store_begin(s, err, errlen) != 0)
		return -1;
	if (hour_load(s, hour, err, errlen) != 0)
		goto fail;
	/* The next id is the previous tick's + 1, so a reader going in id
	   order has that tick just before this one. */
	may_omit = s->prev_valid && util_hour_floor(s->prev_ts) == hour &&
	    s->prev_ts <= t->ts_ms;
	s->tick_buf.len = 0;
	if (store_pack_tick_start(&s->tick_buf) != 0) {
		util_err(err, errlen, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < t->ngpus; i++)
		if (write_gpu(s, t, &t->gpus[i], may_omit, err, errlen) != 0)
			goto fail;
	if ((st = store_stmt(s, STMT_TICK_INSERT, err, errlen)) == NULL)
		goto fail;
	if (s->prev_valid)
		sqlite3_bind_int64(st, 1, s->prev_id + 1);
	sqlite3_bind_int64(st, 2, t->ts_ms);
	sqlite3_bind_int64(st, 3, t->span_ms);
	sqlite3_bind_int64(st, 4, s->run_id);
	bind_buf(st, 5, &s->tick_buf);
	if (step_done(s, st, err, errlen, "writing a tick") != 0)
		goto fail;
	tick_id = sqlite3_last_insert_rowid(s->db);
	if (s->hour.first_tick == 0 || tick_id < s->hour.first_tick)
		s->hour.first_tick = tick_id;
	if (tick_id > s->hour.last_tick)
		s->hour.last_tick = tick_id;
	s->hour.dirty = 1;
	/* The collector's tick carries its rollups in its own transaction;
	   a bulk writer's hour is written when the hour changes or at commit. */
	if (own && (hour_write(s, err, errlen) != 0 ||
	    store_commit(s, err, errlen) != 0))
		goto fail;
	/* What this tick saw becomes what the next tick compares against. */
	swap = s->proc_prev;
	s->proc_prev = s->proc_cur;
	s->proc_cur = swap;
	imap_clear(&s->proc_cur);
	swap = s->mem_prev;
	s->mem_prev = s->mem_cur;
	s->mem_cur = swap;
	imap_clear(&s->mem_cur);
	s->prev_valid = 1;
	s->prev_id = tick_id;
	s->prev_ts = t->ts_ms;
	s->ticks_written++;
	return 0;
fail:
	if (own && !sqlite3_get_autocommit(s->db))
		store_exec(s, "ROLLBACK", NULL, 0);
	if (!own)
		s->broken = 1;
	forget_caches(s);
	return -1;
}
