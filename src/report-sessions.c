/*
 * The sessions of a report while its scan runs (report.c feeds them): a
 * session, one process on one GPU, is summed while it is live; one not
 * seen for FINISH_AFTER is finished: its process's keys are read, it is
 * added to its group (report-identity.c) and offered to the --top kept
 * so far, and nothing more is kept of it than two bits (counted; idle-held
 * for a while). A window of 600 000 short processes then costs what its
 * live sessions and its top cost, not a record each.
 *
 * A session seen again after it finished (its process ran on while the
 * collector was stopped for hours) is summed on as a new part: added to
 * its group without being counted twice, and merged into its entry of
 * the top when the top still holds it; else it is set apart and summed
 * again whole by a second scan of the window (report.c), then offered.
 * A session only gains time as parts come, so one the top let go had
 * --top better ones then, which are better still: the top stays exact.
 *
 * Finished sessions name their GPU by its slot among the database's; the
 * report's GPUs are known at the end (report_sessions_end). With --top 0
 * (every session is kept anyway), --by gpu or --by host (whose names are
 * the report's GPU labels and host names, known at the end), every
 * session finishes at the end.
 */
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "report-internal.h"
#include "util.h"

/* A session not seen for this long is finished ... */
#define FINISH_AFTER	(3 * MS_PER_HOUR)
/* ... at the next hour of the scan once this many are live: a window of
   fewer sessions than that finishes them all at the end, in one pass
   over their keys, and a long one reads each block of keys about once. */
#define FINISH_AT	16384

/* FINISH_AT, lower in the tests that finish sessions in a short window. */
size_t report_finish_at = FINISH_AT;
#define SESSION_PAGE	REPORT_SESSION_PAGE

/* Process keys a page of bits holds, two bits each (counted, idle). */
#define BITS_PAGE	(int64_t)(sizeof(((struct report_bits *)0)->w) * 4)

/* The state of a live record. */
enum { LIVE_FREE, LIVE_NEW, LIVE_AGAIN };

int
report_sessions_init(struct report_sessions *x, struct report *rep,
    struct store *st, size_t top, const struct rollup_gpu *gpu_sums,
    const uint32_t *slot_rank, size_t nslots, char *err, size_t errlen)
{
	memset(x, 0, sizeof(*x));
	x->rep = rep;
	x->st = st;
	x->top = top;
	/* A GPU's label and a host's name are known at the end. */
	x->early = top > 0 && rep->by != REPORT_KEY_GPU &&
	    rep->by != REPORT_KEY_HOST;
	x->gpu_sums = gpu_sums;
	x->slot_rank = slot_rank;
	x->nslots = nslots;
	x->bits_no = calloc(nslots + 1, sizeof(*x->bits_no));
	x->bits_at = calloc(nslots + 1, sizeof(*x->bits_at));
	if (x->bits_no == NULL || x->bits_at == NULL)
		return util_err(err, errlen, "out of memory");
	for (size_t i = 0; i < nslots; i++)
		x->bits_no[i] = INT64_MIN;
	x->swept_hour = INT64_MIN;
	x->max_counted = INT64_MIN;
	x->finish_at = report_finish_at;
	x->err = err;
	x->errlen = errlen;
	if (report_groups_start(rep, &x->groups) != 0)
		return util_err(err, errlen, "out of memory");
	return 0;
}

void
report_sessions_free(struct report_sessions *x)
{
	for (size_t i = 0; i < x->npages; i++)
		free(x->pages[i]);
	free(x->pages);
	imap_free(&x->page_of);
	free(x->live);
	free(x->next);
	free(x->state);
	free(x->free_list);
	free(x->bits);
	free(x->bits_no);
	free(x->bits_at);
	imap_free(&x->bits_of);
	free(x->kept);
	free(x->again);
	imap_free(&x->again_at);
	report_groups_free(&x->groups);
	memset(x, 0, sizeof(*x));
}

/* a / b rounded down, b > 0: keys are positive but in a damaged file. */
static inline int64_t
floor_div(int64_t a, int64_t b)
{
	return a >= 0 ? a / b : report_floor_div(a, b);
}

/* The rank of sessions on database GPU slots: the report's order. */
static int
rank(const struct report_sessions *x, const struct report_found *a,
    const struct report_found *b)
{
	return report_rank_session(&a->r, x->slot_rank[a->gpu], a->pid,
	    a->proc_id, &b->r, x->slot_rank[b->gpu], b->pid, b->proc_id);
}

/* ---- Two bits a session once finished: counted, idle-held. */

/* The word and bit of (slot, proc)'s pair; NULL out of memory. */
static uint64_t *
bits_at(struct report_sessions *x, uint32_t slot, int64_t proc_id,
    int make, unsigned *bit)
{
	int64_t no = floor_div(proc_id, BITS_PAGE), i;
	uint64_t off = (uint64_t)(proc_id - no * BITS_PAGE) * 2;

	/* A GPU's sessions come in key order: its page of the last time,
	   or that it had none (-1). */
	if (slot < x->nslots && x->bits_no[slot] == no) {
		i = x->bits_at[slot];
	} else if (imap_get(&x->bits_of, slot, no, &i) != 0) {
		i = -1;
	}
	if (i < 0) {
		if (!make) {
			if (slot < x->nslots) {
				x->bits_no[slot] = no;
				x->bits_at[slot] = -1;
			}
			return NULL;
		}
		i = (int64_t)x->nbits;
		if (grow((void **)&x->bits, &x->bits_cap, x->nbits + 1,
		    sizeof(*x->bits)) != 0)
			return NULL;
		memset(&x->bits[i], 0, sizeof(x->bits[i]));
		x->nbits++;
		if (imap_put(&x->bits_of, slot, no, i) != 0)
			return NULL;
	}
	if (slot < x->nslots) {
		x->bits_no[slot] = no;
		x->bits_at[slot] = i;
	}
	*bit = (unsigned)(off % 64);
	return &x->bits[i].w[off / 64];
}

static int
was_counted(struct report_sessions *x, uint32_t slot, int64_t proc_id)
{
	unsigned bit;
	uint64_t *w = bits_at(x, slot, proc_id, 0, &bit);

	return w != NULL && (*w >> bit & 1);
}

/* ---- The live sessions, by process key and GPU. */

/* page_of again, after pages moved in the array. */
static int
index_pages(struct report_sessions *x)
{
	imap_clear(&x->page_of);
	x->last = NULL;
	for (size_t i = 0; i < x->npages; i++)
		if (imap_put(&x->page_of, x->pages[i]->no, 0, (int64_t)i) != 0)
			return -1;
	return 0;
}

/*
 * The page of the live index holding proc_id's slot, made when missing
 * (in key order: keys come mostly in order, so mostly at the end); NULL
 * out of memory.
 */
static struct report_sessions_page *
live_page(struct report_sessions *x, int64_t proc_id)
{
	int64_t no = floor_div(proc_id, SESSION_PAGE), i;
	struct report_sessions_page *p;
	size_t at;

	if (x->last != NULL && x->last->no == no)
		return x->last;
	if (imap_get(&x->page_of, no, 0, &i) == 0)
		return x->last = x->pages[i];
	if (grow((void **)&x->pages, &x->pages_cap, x->npages + 1,
	    sizeof(*x->pages)) != 0 || (p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->no = no;
	for (at = x->npages; at > 0 && x->pages[at - 1]->no > no; at--)
		;
	memmove(&x->pages[at + 1], &x->pages[at],
	    (x->npages - at) * sizeof(*x->pages));
	x->pages[at] = p;
	x->npages++;
	if (at + 1 == x->npages ? imap_put(&x->page_of, no, 0,
	    (int64_t)at) != 0 : index_pages(x) != 0)
		return NULL;
	return x->last = p;
}

static uint32_t *
slot_in(struct report_sessions_page *p, int64_t proc_id)
{
	return &p->slot[proc_id - p->no * SESSION_PAGE];
}

/* Marks slot k of p as holding live records, or not. */
static void
slot_used(struct report_sessions_page *p, size_t k, int used)
{
	if (used)
		p->used[k / 64] |= (uint64_t)1 << (k % 64);
	else
		p->used[k / 64] &= ~((uint64_t)1 << (k % 64));
}

/* Frees the pages without a live session. */
static int
prune_pages(struct report_sessions *x)
{
	size_t k = 0;

	for (size_t i = 0; i < x->npages; i++)
		if (x->pages[i]->nlive > 0)
			x->pages[k++] = x->pages[i];
		else
			free(x->pages[i]);
	if (k == x->npages)
		return 0;
	x->npages = k;
	return index_pages(x);
}

/* A free live record, -1 out of memory. */
static int64_t
live_new(struct report_sessions *x)
{
	if (x->nfree > 0)
		return x->free_list[--x->nfree];
	if (x->nlive >= UINT32_MAX - 1 ||
	    grow((void **)&x->live, &x->live_cap, x->nlive + 1,
	    sizeof(*x->live)) != 0 ||
	    grow((void **)&x->next, &x->next_cap, x->nlive + 1,
	    sizeof(*x->next)) != 0 ||
	    grow((void **)&x->state, &x->state_cap, x->nlive + 1,
	    sizeof(*x->state)) != 0 ||
	    grow((void **)&x->free_list, &x->free_cap, x->nlive + 1,
	    sizeof(*x->free_list)) != 0)
		return -1;
	return (int64_t)x->nlive++;
}

/* Takes live record i out of its process's chain and frees it. */
static void
live_drop(struct report_sessions *x, uint32_t i,
    struct report_sessions_page *p)
{
	uint32_t *slot = slot_in(p, x->live[i].proc_id);

	p->nlive--;
	for (uint32_t *k = slot; *k != 0; k = &x->next[*k - 1])
		if (*k == i + 1) {
			*k = x->next[i];
			break;
		}
	if (*slot == 0)
		slot_used(p, (size_t)(slot - p->slot), 0);
	x->state[i] = LIVE_FREE;
	x->free_list[x->nfree++] = i;
}

/* ---- The top: a heap with the worst at [0] while the scan runs. */

static void
sift_down(struct report_sessions *x, size_t i)
{
	struct report_found *v = x->kept, t;

	for (;;) {
		size_t c = 2 * i + 1, w = i;

		if (c < x->nkept && rank(x, &v[c], &v[w]) > 0)
			w = c;
		if (c + 1 < x->nkept && rank(x, &v[c + 1], &v[w]) > 0)
			w = c + 1;
		if (w == i)
			return;
		t = v[i];
		v[i] = v[w];
		v[w] = t;
		i = w;
	}
}

static void
sift_up(struct report_sessions *x, size_t i)
{
	struct report_found *v = x->kept, t;

	while (i > 0 && rank(x, &v[(i - 1) / 2], &v[i]) < 0) {
		t = v[i];
		v[i] = v[(i - 1) / 2];
		v[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
}

/* Offers a whole session to the top; -1 out of memory. */
static int
offer(struct report_sessions *x, const struct report_found *f)
{
	if (!x->early || x->nkept < x->top) {
		if (grow((void **)&x->kept, &x->kept_cap, x->nkept + 1,
		    sizeof(*x->kept)) != 0)
			return -1;
		x->kept[x->nkept++] = *f;
		if (x->early)
			sift_up(x, x->nkept - 1);
		return 0;
	}
	if (rank(x, f, &x->kept[0]) < 0) {
		x->kept[0] = *f;
		sift_down(x, 0);
	}
	return 0;
}

/* Adds a later part of a session to its entry in the top: 0, or -1 when
   the top no longer holds it. */
static int
merge_kept(struct report_sessions *x, const struct report_found *f)
{
	for (size_t i = 0; i < x->nkept; i++)
		if (x->kept[i].proc_id == f->proc_id &&
		    x->kept[i].gpu == f->gpu) {
			rollup_proc_merge(&x->kept[i].r, &f->r);
			/* Better now: away from the worst, at [0]. */
			sift_down(x, i);
			return 0;
		}
	return -1;
}

/* Sets a session apart to be summed again whole; -1 out of memory. */
static int
set_apart(struct report_sessions *x, const struct report_found *f)
{
	int64_t i;

	if (imap_get(&x->again_at, f->gpu, f->proc_id, &i) == 0) {
		x->again[i].pid = f->pid;
		return 0;
	}
	if (grow((void **)&x->again, &x->again_cap, x->nagain + 1,
	    sizeof(*x->again)) != 0 || imap_put(&x->again_at, f->gpu,
	    f->proc_id, (int64_t)x->nagain) != 0)
		return -1;
	x->again[x->nagain] = *f;
	rollup_proc_init(&x->again[x->nagain].r);
	x->nagain++;
	return 0;
}

/* ---- Finishing. */

/* A report_who with keys' strings, valid while they are; the rest
   unknown. */
static void
who_of(struct report_who *w, const struct store_proc_keys *keys)
{
	w->known = 0;
	w->uid = -1;
	w->user = keys->user;
	w->comm = keys->comm;
	w->cmdline = "";
	w->container = keys->container;
	w->pod = keys->pod;
	w->unit = keys->unit;
	w->slurm_job = keys->slurm_job;
	w->pod_namespace = keys->pod_namespace;
	w->pod_name = keys->pod_name;
	w->container_name = "";
}

/* The sessions being finished, sorted by process, for store_process_keys. */
struct finishing {
	struct report_sessions	*x;
	const uint32_t		*v;	/* live records */
	size_t			 n, k;	/* v[k] is the next */
	const uint32_t		*gpu_map;	/* NULL during the scan */
};

/* Finishes one live session of a process whose keys were read. */
static int
finish_one(struct report_sessions *x, uint32_t i, uint32_t pid,
    const struct report_who *w, const uint32_t *gpu_map)
{
	struct report_found *f = &x->live[i];
	struct report_sessions_page *page = live_page(x, f->proc_id);
	size_t gpu = 0;
	uint64_t *word;
	unsigned bit;
	int counted;

	if (page == NULL)
		return -1;
	f->pid = pid;
	/* A GPU without a sample in the window (a damaged file): left out. */
	if (gpu_map != NULL && gpu_map[f->gpu] == UINT32_MAX) {
		live_drop(x, i, page);
		return 0;
	}
	if (gpu_map != NULL)
		gpu = gpu_map[f->gpu];
	if ((word = bits_at(x, f->gpu, f->proc_id, 1, &bit)) == NULL)
		return -1;
	counted = *word >> bit & 1;
	if (report_group_add(x->rep, &x->groups, 0, gpu, w, &f->r,
	    !counted) != 0)
		return -1;
	if (!counted)
		x->counted++;
	*word |= (uint64_t)1 << bit;
	if (f->proc_id > x->max_counted)
		x->max_counted = f->proc_id;
	if (f->r.idle_ms > 0 && !(*word >> (bit + 1) & 1)) {
		*word |= (uint64_t)1 << (bit + 1);
		x->idle_counted++;
	}
	if (x->state[i] == LIVE_NEW) {
		if (offer(x, f) != 0)
			return -1;
	} else if (merge_kept(x, f) != 0 && set_apart(x, f) != 0) {
		return -1;
	}
	live_drop(x, i, page);
	return 0;
}

static int
finish_process(void *ctx, int64_t proc_id, uint32_t pid,
    const struct store_proc_keys *keys)
{
	struct finishing *fin = ctx;
	struct report_sessions *x = fin->x;
	struct report_who w;

	who_of(&w, keys);
	for (; fin->k < fin->n && x->live[fin->v[fin->k]].proc_id == proc_id;
	    fin->k++)
		if (finish_one(x, fin->v[fin->k], pid, &w, fin->gpu_map) != 0)
			return -1;
	return 0;
}

/* Finishes the n live records of v, sorted by process. */
static int
finish(struct report_sessions *x, const uint32_t *v, size_t n,
    const uint32_t *gpu_map)
{
	struct finishing fin = { x, v, n, 0, gpu_map };
	int64_t *ids;
	size_t nids = 0;
	int rc;

	if (n == 0)
		return 0;
	if ((ids = calloc(n, sizeof(*ids))) == NULL)
		return util_err(x->err, x->errlen, "out of memory");
	for (size_t i = 0; i < n; i++)
		if (nids == 0 || ids[nids - 1] != x->live[v[i]].proc_id)
			ids[nids++] = x->live[v[i]].proc_id;
	rc = store_process_keys(x->st, ids, nids, finish_process, &fin,
	    x->err, x->errlen);
	free(ids);
	return rc;
}

/* The GPU of slot has a sample so far: its sessions may finish. */
static int
gpu_seen(const struct report_sessions *x, uint32_t slot)
{
	const struct rollup_gpu *g = &x->gpu_sums[slot];

	return rollup_gpu_known_n(g) + g->n[STATE_UNKNOWN] > 0;
}

/*
 * Finishes the live sessions last seen before cutoff (all of them at
 * INT64_MAX), read off the pages in key order: no sort. Only a GPU with
 * a sample so far may be the report's; gpu_map: NULL during the scan.
 */
static int
finish_before(struct report_sessions *x, int64_t cutoff,
    const uint32_t *gpu_map)
{
	uint32_t *v = calloc(x->nlive - x->nfree + 1, sizeof(*v));
	size_t n = 0;
	int rc;

	if (v == NULL)
		return util_err(x->err, x->errlen, "out of memory");
	for (size_t p = 0; p < x->npages; p++) {
		const struct report_sessions_page *page = x->pages[p];

		for (size_t w = 0; w < SESSION_PAGE / 64; w++)
		for (uint64_t m = page->used[w]; m != 0; m &= m - 1)
			for (uint32_t k = page->slot[w * 64 +
			    (size_t)__builtin_ctzll(m)]; k != 0;
			    k = x->next[k - 1]) {
				const struct report_found *f = &x->live[k - 1];

				if (f->r.last_ms >= cutoff || (gpu_map == NULL &&
				    !gpu_seen(x, f->gpu)))
					continue;
				v[n++] = k - 1;
			}
	}
	rc = finish(x, v, n, gpu_map);
	free(v);
	if (rc == 0 && prune_pages(x) != 0)
		return util_err(x->err, x->errlen, "out of memory");
	return rc;
}

int
report_sessions_add(struct report_sessions *x, uint32_t gpu,
    int64_t proc_id, const struct rollup_proc *r)
{
	struct report_sessions_page *page;
	struct report_found *f = NULL;
	uint32_t *slot;
	int64_t hour, i;

	/* At an hour of the scan with many live, those gone for a while
	   finish; if most were not, not again before twice as many are. */
	hour = util_hour_floor(r->first_ms);
	if (x->early && hour != x->swept_hour) {
		x->swept_hour = hour;
		if (x->nlive - x->nfree >= x->finish_at) {
			if (finish_before(x, util_sat_add(hour,
			    -FINISH_AFTER), NULL) != 0)
				return -1;
			x->finish_at = 2 * (x->nlive - x->nfree);
			if (x->finish_at < report_finish_at)
				x->finish_at = report_finish_at;
		}
	}
	if ((page = live_page(x, proc_id)) == NULL)
		return util_err(x->err, x->errlen, "out of memory");
	slot = slot_in(page, proc_id);
	for (uint32_t k = *slot; k != 0 && f == NULL; k = x->next[k - 1])
		if (x->live[k - 1].gpu == gpu)
			f = &x->live[k - 1];
	if (f == NULL) {
		if ((i = live_new(x)) < 0)
			return util_err(x->err, x->errlen, "out of memory");
		f = &x->live[i];
		memset(f, 0, sizeof(*f));
		f->gpu = gpu;
		f->proc_id = proc_id;
		rollup_proc_init(&f->r);
		/* Above every key finished so far, it is new. */
		x->state[i] = proc_id <= x->max_counted &&
		    was_counted(x, gpu, proc_id) ? LIVE_AGAIN :
		    LIVE_NEW;
		x->next[i] = *slot;
		*slot = (uint32_t)i + 1;
		slot_used(page, (size_t)(slot - page->slot), 1);
		page->nlive++;
	}
	rollup_proc_merge(&f->r, r);
	return 0;
}

int
report_sessions_end(struct report_sessions *x, const uint32_t *gpu_map)
{
	return finish_before(x, INT64_MAX, gpu_map);
}

int
report_sessions_recount(struct report_sessions *x, uint32_t gpu,
    int64_t proc_id, const struct rollup_proc *r)
{
	int64_t i;

	if (imap_get(&x->again_at, gpu, proc_id, &i) == 0)
		rollup_proc_merge(&x->again[i].r, r);
	return 0;
}

/* The order of report_cmp_session, for sessions on the report's GPUs. */
static int
cmp_found(const void *a, const void *b)
{
	const struct report_found *x = a, *y = b;

	return report_rank_session(&x->r, x->gpu, x->pid, x->proc_id, &y->r,
	    y->gpu, y->pid, y->proc_id);
}

int
report_sessions_result(struct report_sessions *x, const uint32_t *gpu_map)
{
	struct report *rep = x->rep;
	size_t k, kept_idle = 0;

	for (size_t i = 0; i < x->nagain; i++)
		if (offer(x, &x->again[i]) != 0)
			return util_err(x->err, x->errlen, "out of memory");
	/* Every one kept is on one of the report's GPUs. */
	for (size_t i = 0; i < x->nkept; i++)
		x->kept[i].gpu = gpu_map[x->kept[i].gpu];
	k = report_select_top(x->kept, x->nkept, sizeof(*x->kept), x->top,
	    cmp_found);
	rep->nids_all = rep->nids;
	rep->nsessions_all = x->counted;
	if ((rep->sessions = calloc(k + 1, sizeof(*rep->sessions))) == NULL)
		return util_err(x->err, x->errlen, "out of memory");
	for (size_t i = 0; i < k; i++) {
		struct report_session *s = &rep->sessions[i];

		s->gpu = x->kept[i].gpu;
		s->gpu_id = rep->gpus[s->gpu].id;
		s->proc_id = x->kept[i].proc_id;
		s->r = x->kept[i].r;
		s->alive = rep->last_tick_ms != 0 &&
		    s->r.last_ms == rep->last_tick_ms;
		if (s->r.idle_ms > 0)
			kept_idle++;
	}
	rep->nsessions = k;
	rep->sessions_idle_omitted = x->idle_counted - kept_idle;
	return report_fill_identities(x->st, rep, x->err, x->errlen);
}
