/*
 * What a copy (backup) does with ticks that cannot be decoded, a packed
 * row damaged on disk or by an edit: each is left out of the copy, a gap.
 * A later tick that recorded a process's memory as "as at the tick
 * before" cannot know it when the tick before is gone: it is kept, with
 * that memory unknown (its row is packed again with every memory in it).
 * The rollups of the hours touched are then summed again from the ticks
 * that remain, so the copy reads as a whole history with holes instead
 * of failing every report that touches them.
 */
#include <stdlib.h>
#include <string.h>

#include "duration.h"
#include "store-internal.h"
#include "util.h"

/* The memory of a process on a GPU at the last tick that listed it. */
struct seen {
	int64_t	tick;
	int64_t	mib;
	int	lost;	/* unknown because of a damaged or missing tick */
};

/* A tick kept with a new row: where its bytes are in the fix buffer. */
struct fix {
	int64_t	id;
	int64_t	ts_ms;
	size_t	off, len;
};

struct salvage {
	struct store		*s;
	struct store_unpacked	 u;
	struct imap		 slot_of;	/* (gpu, proc) -> seen index */
	struct seen		*seen;
	size_t			 nseen, seen_cap;
	struct store_left_out	*left;		/* ticks left out */
	size_t			 nleft, left_cap;
	struct fix		*fix;		/* ticks packed again */
	size_t			 nfix, fix_cap;
	struct store_buf	 fixed;		/* their rows */
	size_t			 unknown_mem;	/* ticks that lost memory */
};

/*
 * Decodes one tick as a reader does, a memory "as at the tick before"
 * that cannot be known made unknown: *dangling when this tick refers to
 * a tick that is not there (its row must be packed again), *lost when
 * any of its memory is unknown for that reason, here or before. 0, -1
 * when it cannot be decoded at all, -2 out of memory. prev_same_hour:
 * the tick just before (id - 1) is in this tick's hour, the only tick
 * such a memory may refer to.
 */
static int
decode(struct salvage *sv, int64_t id, int64_t span_ms, const void *blob,
    size_t len, int prev_same_hour, int *dangling, int *lost)
{
	int urc = store_unpack_tick(blob, len, span_ms, &sv->u);

	*dangling = *lost = 0;
	if (urc != 0)
		return urc;
	if (span_ms <= 0 || span_ms > DURATION_MAX_MS)
		return -1;
	/* Resolved against the tick before, before this one is recorded. */
	for (size_t g = 0; g < sv->u.ngpus; g++) {
		const struct store_tick_gpu *tg = &sv->u.gpus[g];

		for (size_t i = 0; i < tg->nprocs; i++) {
			struct store_tick_proc *p =
			    &sv->u.procs[tg->first_proc + i];
			int64_t slot;

			if (!p->mem_omitted)
				continue;
			if (prev_same_hour && imap_get(&sv->slot_of,
			    tg->gpu_id, p->proc_id, &slot) == 0 &&
			    sv->seen[slot].tick == id - 1) {
				p->mem_mib = sv->seen[slot].mib;
				*lost |= sv->seen[slot].lost;
			} else {
				p->mem_mib = MIB_UNKNOWN;
				*dangling = *lost = 1;
			}
		}
	}
	for (size_t g = 0; g < sv->u.ngpus; g++) {
		const struct store_tick_gpu *tg = &sv->u.gpus[g];

		for (size_t i = 0; i < tg->nprocs; i++) {
			const struct store_tick_proc *p =
			    &sv->u.procs[tg->first_proc + i];
			int64_t slot;
			int lost_here = p->mem_omitted;

			if (imap_get(&sv->slot_of, tg->gpu_id, p->proc_id,
			    &slot) != 0) {
				if (sv->nseen == sv->seen_cap) {
					size_t ncap = sv->seen_cap ?
					    sv->seen_cap * 2 : 64;
					struct seen *ns = realloc(sv->seen,
					    ncap * sizeof(*ns));

					if (ns == NULL)
						return -2;
					sv->seen = ns;
					sv->seen_cap = ncap;
				}
				slot = (int64_t)sv->nseen++;
				if (imap_put(&sv->slot_of, tg->gpu_id,
				    p->proc_id, slot) != 0)
					return -2;
			} else if (p->mem_omitted)
				lost_here = !prev_same_hour ||
				    sv->seen[slot].tick != id - 1 ||
				    sv->seen[slot].lost;
			/* Unknown for want of a tick, until written again. */
			sv->seen[slot].lost = lost_here;
			sv->seen[slot].tick = id;
			sv->seen[slot].mib = p->mem_mib;
		}
	}
	return 0;
}

static int
left_out(struct salvage *sv, int64_t id, int64_t ts_ms)
{
	if (sv->nleft == sv->left_cap) {
		size_t ncap = sv->left_cap ? sv->left_cap * 2 : 16;
		struct store_left_out *nl = realloc(sv->left,
		    ncap * sizeof(*nl));

		if (nl == NULL)
			return -1;
		sv->left = nl;
		sv->left_cap = ncap;
	}
	sv->left[sv->nleft].id = id;
	sv->left[sv->nleft].ts_ms = ts_ms;
	sv->nleft++;
	return 0;
}

/* The decoded tick packed again, every memory written out. */
static int
repack(struct salvage *sv, int64_t id, int64_t ts_ms)
{
	struct store_buf *b = &sv->fixed;
	size_t off = b->len;

	if (store_pack_tick_start(b) != 0)
		return -1;
	for (size_t g = 0; g < sv->u.ngpus; g++) {
		const struct store_tick_gpu *tg = &sv->u.gpus[g];
		struct tick_gpu pg;

		memset(&pg, 0, sizeof(pg));
		pg.util_pm = tg->reading.util_pm;
		pg.util_max_pct = tg->reading.util_max_pct;
		pg.util_cover_pm = tg->reading.util_cover_pm;
		pg.util_src = tg->reading.util_src;
		pg.procs_known = tg->reading.procs_known;
		pg.nprocs = tg->nprocs;
		pg.energy_mj = tg->reading.energy_j == ENERGY_UNKNOWN ?
		    ENERGY_UNKNOWN : util_sat_mul(tg->reading.energy_j, 1000);
		pg.energy_src = tg->reading.energy_src;
		if (store_pack_gpu(b, tg->gpu_id, &pg) != 0)
			return -1;
		for (size_t i = 0; i < tg->nprocs; i++) {
			const struct store_tick_proc *p =
			    &sv->u.procs[tg->first_proc + i];

			if (store_pack_proc(b, p->proc_id, p->util_pm, 1,
			    p->mem_mib) != 0)
				return -1;
		}
	}
	if (sv->nfix == sv->fix_cap) {
		size_t ncap = sv->fix_cap ? sv->fix_cap * 2 : 16;
		struct fix *nf = realloc(sv->fix, ncap * sizeof(*nf));

		if (nf == NULL)
			return -1;
		sv->fix = nf;
		sv->fix_cap = ncap;
	}
	sv->fix[sv->nfix].id = id;
	sv->fix[sv->nfix].ts_ms = ts_ms;
	sv->fix[sv->nfix].off = off;
	sv->fix[sv->nfix].len = b->len - off;
	sv->nfix++;
	return 0;
}

/* Every tick in id order: which cannot be decoded, which lost memory. */
static int
find_damaged(struct salvage *sv, char *err, size_t errlen)
{
	struct store *s = sv->s;
	int64_t prev_id = 0, prev_hour = 0;
	sqlite3_stmt *st;
	int rc, urc, dangling, lost;

	if (sqlite3_prepare_v2(s->db, "SELECT id, ts_ms, span_ms, gpus FROM "
	    "ticks ORDER BY id", -1, &st, NULL) != SQLITE_OK)
		return store_sqlite_err(s, err, errlen, "reading ticks");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);
		int64_t ts = sqlite3_column_int64(st, 1);
		int64_t hour = util_hour_floor(ts);

		urc = decode(sv, id, sqlite3_column_int64(st, 2),
		    sqlite3_column_blob(st, 3),
		    (size_t)sqlite3_column_bytes(st, 3),
		    prev_id == id - 1 && prev_hour == hour, &dangling, &lost);
		if (urc == -2 || (urc != 0 && left_out(sv, id, ts) != 0) ||
		    (urc == 0 && dangling && repack(sv, id, ts) != 0)) {
			sqlite3_finalize(st);
			return util_err(err, errlen, "out of memory");
		}
		sv->unknown_mem += urc == 0 && lost;
		/* A tick left out is no tick before for the next one. */
		if (urc == 0) {
			prev_id = id;
			prev_hour = hour;
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return store_sqlite_err(s, err, errlen, "reading ticks");
	return 0;
}

/* Sums raw ticks into an hour, as the writer summed them. */
static int
sum_gpu(void *ctx, int64_t hour_ms, int64_t gpu_id,
    const struct rollup_gpu *r)
{
	struct rollup_gpu *g = store_hour_gpu(ctx, gpu_id);

	(void)hour_ms;
	if (g == NULL)
		return -1;
	rollup_gpu_merge(g, r);
	return 0;
}

static int
sum_proc(void *ctx, int64_t gpu_id, int64_t proc_id,
    const struct rollup_proc *r)
{
	struct rollup_proc *p = store_hour_proc(ctx, gpu_id, proc_id, 1);

	if (p == NULL)
		return -1;
	rollup_proc_merge(p, r);
	return 0;
}

/* One SQL statement with integer parameters and no result. */
static int
exec_ints(struct store *s, const char *sql, int64_t a, int64_t b,
    char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return store_sqlite_err(s, err, errlen, "leaving out a tick");
	sqlite3_bind_int64(st, 1, a);
	sqlite3_bind_int64(st, 2, b);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return store_sqlite_err(s, err, errlen, "leaving out a tick");
	return 0;
}

/*
 * The rollups of one hour summed again from the ticks left in it, and
 * the range of their ids; the row goes when none is left.
 */
static int
resum_hour(struct store *s, int64_t hour_ms, char *err, size_t errlen)
{
	struct store_sink sink;
	struct store_hour h;
	sqlite3_stmt *st;
	int64_t first = 0, last = 0;
	int rc, found = 0, ret = -1;

	if (sqlite3_prepare_v2(s->db, "SELECT min(t.id), max(t.id) FROM hours "
	    "h JOIN ticks t ON t.id >= h.first_tick AND t.id <= h.last_tick "
	    "WHERE h.hour_ms = ?1 AND t.ts_ms >= ?1 AND t.ts_ms < ?2", -1, &st,
	    NULL) != SQLITE_OK)
		return store_sqlite_err(s, err, errlen, "reading hours");
	sqlite3_bind_int64(st, 1, hour_ms);
	sqlite3_bind_int64(st, 2, hour_ms + MS_PER_HOUR);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		first = sqlite3_column_int64(st, 0);
		last = sqlite3_column_int64(st, 1);
		found = 1;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return store_sqlite_err(s, err, errlen, "reading hours");
	if (!found)
		return exec_ints(s, "DELETE FROM hours WHERE hour_ms = ?1",
		    hour_ms, 0, err, errlen);

	memset(&h, 0, sizeof(h));
	store_hour_clear(&h, hour_ms);
	memset(&sink, 0, sizeof(sink));
	sink.ctx = &h;
	sink.gpu_hour = sum_gpu;
	sink.proc = sum_proc;
	if (store_scan_raw(s, hour_ms, hour_ms + MS_PER_HOUR, -1,
	    &s->meta.rollup, &sink, err, errlen) != 0)
		goto out;
	h.first_tick = first;
	h.last_tick = last;
	if (store_pack_hour(&s->hour_gbuf, &s->hour_pbuf, &h,
	    store_hour_format(s)) != 0) {
		util_err(err, errlen, "out of memory");
		goto out;
	}
	if (sqlite3_prepare_v2(s->db, "UPDATE hours SET first_tick = ?2, "
	    "last_tick = ?3, gpus = ?4, procs = ?5 WHERE hour_ms = ?1", -1,
	    &st, NULL) != SQLITE_OK) {
		store_sqlite_err(s, err, errlen, "writing hourly rollups");
		goto out;
	}
	sqlite3_bind_int64(st, 1, hour_ms);
	sqlite3_bind_int64(st, 2, first);
	sqlite3_bind_int64(st, 3, last);
	sqlite3_bind_blob(st, 4, s->hour_gbuf.p ? (const void *)s->hour_gbuf.p :
	    "", (int)s->hour_gbuf.len, SQLITE_STATIC);
	sqlite3_bind_blob(st, 5, s->hour_pbuf.p ? (const void *)s->hour_pbuf.p :
	    "", (int)s->hour_pbuf.len, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		store_sqlite_err(s, err, errlen, "writing hourly rollups");
		goto out;
	}
	ret = 0;
out:
	store_hour_free(&h);
	return ret;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* The hours whose rows may have counted the ticks left out. */
static int
affected_hours(struct salvage *sv, int64_t **out, size_t *n, char *err,
    size_t errlen)
{
	struct store *s = sv->s;
	int64_t *v = NULL, *nv;
	size_t len = 0, cap = 0;
	sqlite3_stmt *st;
	int rc = SQLITE_DONE;

	if (sqlite3_prepare_v2(s->db, "SELECT hour_ms FROM hours WHERE "
	    "(first_tick <= ?1 AND last_tick >= ?1) OR hour_ms = ?2", -1, &st,
	    NULL) != SQLITE_OK)
		return store_sqlite_err(s, err, errlen, "reading hours");
	for (size_t i = 0; i < sv->nleft + sv->nfix; i++) {
		int64_t id = i < sv->nleft ? sv->left[i].id :
		    sv->fix[i - sv->nleft].id;
		int64_t ts = i < sv->nleft ? sv->left[i].ts_ms :
		    sv->fix[i - sv->nleft].ts_ms;

		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, util_hour_floor(ts));
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			if (len == cap) {
				cap = cap ? cap * 2 : 16;
				if ((nv = realloc(v, cap * sizeof(*v))) ==
				    NULL) {
					rc = SQLITE_NOMEM;
					break;
				}
				v = nv;
			}
			v[len++] = sqlite3_column_int64(st, 0);
		}
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			break;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free(v);
		if (rc == SQLITE_NOMEM)
			return util_err(err, errlen, "out of memory");
		return store_sqlite_err(s, err, errlen, "reading hours");
	}
	if (len > 0)
		qsort(v, len, sizeof(*v), cmp_i64);
	*n = 0;
	for (size_t i = 0; i < len; i++)
		if (*n == 0 || v[*n - 1] != v[i])
			v[(*n)++] = v[i];
	*out = v;
	return 0;
}

/* Writes the rows packed again. */
static int
apply_fixes(struct salvage *sv, char *err, size_t errlen)
{
	struct store *s = sv->s;
	sqlite3_stmt *st;
	int rc = SQLITE_DONE;

	if (sqlite3_prepare_v2(s->db, "UPDATE ticks SET gpus = ?2 WHERE "
	    "id = ?1", -1, &st, NULL) != SQLITE_OK)
		return store_sqlite_err(s, err, errlen, "writing a tick");
	for (size_t i = 0; i < sv->nfix && rc == SQLITE_DONE; i++) {
		sqlite3_bind_int64(st, 1, sv->fix[i].id);
		sqlite3_bind_blob(st, 2, sv->fixed.p + sv->fix[i].off,
		    (int)sv->fix[i].len, SQLITE_STATIC);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return store_sqlite_err(s, err, errlen, "writing a tick");
	return 0;
}

int
store_salvage(struct store *s, struct store_damage *d, char *err,
    size_t errlen)
{
	struct salvage sv;
	int64_t *hours = NULL;
	size_t nhours = 0;
	int ret = -1;

	memset(d, 0, sizeof(*d));
	memset(&sv, 0, sizeof(sv));
	sv.s = s;
	if (find_damaged(&sv, err, errlen) != 0)
		goto out;
	if (sv.nleft == 0 && sv.nfix == 0) {
		ret = 0;
		goto out;
	}
	/* Rows packed again are this schema's. */
	if (store_upgrade_in_txn(s, err, errlen) != 0 ||
	    affected_hours(&sv, &hours, &nhours, err, errlen) != 0)
		goto out;
	for (size_t i = 0; i < sv.nleft; i++)
		if (exec_ints(s, "DELETE FROM ticks WHERE id = ?1",
		    sv.left[i].id, 0, err, errlen) != 0)
			goto out;
	if (apply_fixes(&sv, err, errlen) != 0)
		goto out;
	for (size_t i = 0; i < nhours; i++)
		if (resum_hour(s, hours[i], err, errlen) != 0)
			goto out;
	d->left = sv.left;
	d->nleft = sv.nleft;
	d->unknown_mem = sv.unknown_mem;
	sv.left = NULL;
	ret = 0;
out:
	free(hours);
	free(sv.left);
	free(sv.seen);
	free(sv.fix);
	free(sv.fixed.p);
	free(sv.u.gpus);
	free(sv.u.procs);
	imap_free(&sv.slot_of);
	return ret;
}
