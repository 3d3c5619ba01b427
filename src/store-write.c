/*
 * The write path: one tick, its identities, its memory changes and its
 * hourly rollups, in one transaction.
 */
#include <stdlib.h>
#include <string.h>

#include "store-internal.h"
#include "util.h"

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
}

int
store_begin(struct store *s, char *err, size_t errlen)
{
	return store_exec(s, "BEGIN IMMEDIATE", err, errlen);
}

int
store_commit(struct store *s, char *err, size_t errlen)
{
	if (store_exec(s, "COMMIT", err, errlen) != 0) {
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
	const struct identity *who = &p->id;
	sqlite3_stmt *st;
	int rc;

	if (imap_get(&s->proc_cur, p->pid, p->start_ms, id) == 0)
		return 0;
	if (imap_get(&s->proc_prev, p->pid, p->start_ms, id) != 0) {
		if ((st = store_stmt(s, STMT_PROC_FIND, err, errlen)) == NULL)
			return -1;
		sqlite3_bind_int64(st, 1, p->pid);
		sqlite3_bind_int64(st, 2, p->start_ms);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			*id = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return store_sqlite_err(s, err, errlen,
			    "finding a process");
		if (rc == SQLITE_DONE) {
			if ((st = store_stmt(s, STMT_PROC_INSERT, err,
			    errlen)) == NULL)
				return -1;
			sqlite3_bind_int64(st, 1, p->pid);
			sqlite3_bind_int64(st, 2, p->start_ms);
			sqlite3_bind_int(st, 3, who->known);
			bind_opt_int(st, 4, who->uid, -1);
			sqlite3_bind_text(st, 5, who->user, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 6, who->comm, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 7, who->cmdline, -1,
			    SQLITE_STATIC);
			sqlite3_bind_text(st, 8, who->container, -1,
			    SQLITE_STATIC);
			sqlite3_bind_text(st, 9, who->pod, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 10, who->unit, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 11, who->slurm_job, -1,
			    SQLITE_STATIC);
			if (step_done(s, st, err, errlen,
			    "adding a process") != 0)
				return -1;
			*id = sqlite3_last_insert_rowid(s->db);
		}
	}
	if (imap_put(&s->proc_cur, p->pid, p->start_ms, *id) != 0)
		return util_err(err, errlen, "out of memory");
	return 0;
}

/* Logs a process's memory on a GPU when it differs from what was logged. */
static int
log_memory(struct store *s, int64_t gpu, int64_t proc, int64_t tick,
    int64_t mem_mib, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int64_t last;

	if ((imap_get(&s->mem_cur, gpu, proc, &last) == 0 ||
	    imap_get(&s->mem_prev, gpu, proc, &last) == 0) && last == mem_mib) {
		if (imap_put(&s->mem_cur, gpu, proc, mem_mib) != 0)
			return util_err(err, errlen, "out of memory");
		return 0;
	}
	if ((st = store_stmt(s, STMT_MEM_INSERT, err, errlen)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, gpu);
	sqlite3_bind_int64(st, 2, proc);
	sqlite3_bind_int64(st, 3, tick);
	bind_opt_int(st, 4, mem_mib, MIB_UNKNOWN);
	if (step_done(s, st, err, errlen, "logging process memory") != 0)
		return -1;
	if (imap_put(&s->mem_cur, gpu, proc, mem_mib) != 0)
		return util_err(err, errlen, "out of memory");
	return 0;
}

static int
roll_gpu(struct store *s, int64_t hour, int64_t gpu,
    const struct rollup_gpu *r, char *err, size_t errlen)
{
	sqlite3_stmt *st = store_stmt(s, STMT_ROLL_GPU, err, errlen);

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, hour);
	sqlite3_bind_int64(st, 2, gpu);
	for (int i = 0; i < STATE_COUNT; i++) {
		sqlite3_bind_int64(st, 3 + i, r->ms[i]);
		sqlite3_bind_int64(st, 7 + i, r->n[i]);
	}
	sqlite3_bind_int64(st, 11, r->util_pm_ms);
	sqlite3_bind_int64(st, 12, r->util_ms);
	return step_done(s, st, err, errlen, "updating GPU rollups");
}

static int
roll_proc(struct store *s, int64_t hour, int64_t gpu, int64_t proc,
    const struct rollup_proc *r, char *err, size_t errlen)
{
	sqlite3_stmt *st = store_stmt(s, STMT_ROLL_PROC, err, errlen);

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, hour);
	sqlite3_bind_int64(st, 2, gpu);
	sqlite3_bind_int64(st, 3, proc);
	sqlite3_bind_int64(st, 4, r->ms);
	sqlite3_bind_int64(st, 5, r->n);
	sqlite3_bind_int64(st, 6, r->idle_ms);
	sqlite3_bind_int64(st, 7, r->idle_mib_ms);
	sqlite3_bind_int64(st, 8, r->peak_mib);
	sqlite3_bind_int64(st, 9, r->first_ms);
	sqlite3_bind_int64(st, 10, r->last_ms);
	return step_done(s, st, err, errlen, "updating process rollups");
}

static int
write_gpu(struct store *s, const struct tick *t, const struct tick_gpu *g,
    int64_t tick_id, char *err, size_t errlen)
{
	const struct thresholds *thr = &s->meta.rollup;
	int64_t gpu_id = 0, hour = util_hour_floor(t->ts_ms), held;
	struct rollup_gpu rg;
	sqlite3_stmt *st;
	size_t len = 0;
	int partial;

	if (resolve_gpu(s, g, &gpu_id, err, errlen) != 0)
		return -1;
	if (g->nprocs > (SIZE_MAX / 16) - 1)
		return util_err(err, errlen, "too many processes");
	if (s->blob_cap < g->nprocs * 16 + 1) {
		unsigned char *nb = realloc(s->blob, g->nprocs * 16 + 1);

		if (nb == NULL)
			return util_err(err, errlen, "out of memory");
		s->blob = nb;
		s->blob_cap = g->nprocs * 16 + 1;
	}
	for (size_t i = 0; i < g->nprocs; i++) {
		const struct tick_proc *p = &g->procs[i];
		struct rollup_proc rp;
		int64_t proc_id;

		if (resolve_proc(s, p, &proc_id, err, errlen) != 0 ||
		    log_memory(s, gpu_id, proc_id, tick_id, p->mem_mib, err,
		    errlen) != 0)
			return -1;
		len += store_varint_put(s->blob + len, (uint64_t)proc_id);
		len += store_varint_put(s->blob + len,
		    p->util_pm == UTIL_UNKNOWN ? 0 : (uint64_t)p->util_pm + 1);
		rollup_proc_init(&rp);
		rollup_proc_add(&rp, thr, t->ts_ms, t->span_ms, p->util_pm,
		    g->util_pm, p->mem_mib);
		if (roll_proc(s, hour, gpu_id, proc_id, &rp, err, errlen) != 0)
			return -1;
	}
	if ((st = store_stmt(s, STMT_GPU_TICK_INSERT, err, errlen)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, tick_id);
	sqlite3_bind_int64(st, 2, gpu_id);
	bind_opt_int(st, 3, g->util_pm, UTIL_UNKNOWN);
	bind_opt_int(st, 4, g->util_max_pct, -1);
	sqlite3_bind_int(st, 5, (int)g->util_src);
	bind_opt_int(st, 6, g->util_cover_pm, -1);
	/* NULL: the process list could not be read; empty: no process. */
	if (g->procs_known)
		sqlite3_bind_blob(st, 7, s->blob, (int)len, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 7);
	if (step_done(s, st, err, errlen, "writing a GPU sample") != 0)
		return -1;
	memset(&rg, 0, sizeof(rg));
	held = tick_gpu_held_mib(g, &partial);
	rollup_gpu_add(&rg, thr, t->span_ms, g->util_pm, held, partial);
	return roll_gpu(s, hour, gpu_id, &rg, err, errlen);
}

int
store_write_tick(struct store *s, const struct tick *t, char *err,
    size_t errlen)
{
	int own = sqlite3_get_autocommit(s->db);
	struct imap swap;
	sqlite3_stmt *st;
	int64_t tick_id;

	if (!s->writable || s->run_id == 0)
		return util_err(err, errlen, "%s: no run started for writing",
		    s->path);
	if (t->span_ms <= 0)
		return util_err(err, errlen, "tick with a span of %lld ms",
		    (long long)t->span_ms);
	if (own && store_begin(s, err, errlen) != 0)
		return -1;
	if ((st = store_stmt(s, STMT_TICK_INSERT, err, errlen)) == NULL)
		goto fail;
	sqlite3_bind_int64(st, 1, t->ts_ms);
	sqlite3_bind_int64(st, 2, t->span_ms);
	sqlite3_bind_int64(st, 3, s->run_id);
	if (step_done(s, st, err, errlen, "writing a tick") != 0)
		goto fail;
	tick_id = sqlite3_last_insert_rowid(s->db);
	for (size_t i = 0; i < t->ngpus; i++)
		if (write_gpu(s, t, &t->gpus[i], tick_id, err, errlen) != 0)
			goto fail;
	if (own && store_commit(s, err, errlen) != 0)
		return -1;
	/* What this tick saw becomes what the next tick compares against. */
	swap = s->proc_prev;
	s->proc_prev = s->proc_cur;
	s->proc_cur = swap;
	imap_clear(&s->proc_cur);
	swap = s->mem_prev;
	s->mem_prev = s->mem_cur;
	s->mem_cur = swap;
	imap_clear(&s->mem_cur);
	s->ticks_written++;
	return 0;
fail:
	if (own && !sqlite3_get_autocommit(s->db))
		store_exec(s, "ROLLBACK", NULL, 0);
	forget_caches(s);
	return -1;
}
