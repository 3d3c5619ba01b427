/*
 * Builds a report for a window: whole hours from the collector's rollups,
 * the partial hours at the window's edges from raw ticks. With thresholds
 * other than the ones the rollups were made with, everything is raw.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap.h"
#include "report.h"
#include "util.h"

/* A block of the strings of the sessions' identities. */
struct report_strings {
	struct report_strings	*next;
	size_t			 used, cap;
	char			 data[];
};

#define STRINGS_BLOCK	65536

/* A copy of s kept in the report; "" costs nothing. NULL out of memory. */
static const char *
keep_string(struct report *rep, const char *s)
{
	size_t len = strlen(s);
	struct report_strings *b = rep->strings;
	char *p;

	if (len == 0)
		return "";
	if (b == NULL || b->cap - b->used < len + 1) {
		size_t cap = len + 1 > STRINGS_BLOCK ? len + 1 : STRINGS_BLOCK;

		if ((b = malloc(sizeof(*b) + cap)) == NULL)
			return NULL;
		b->next = rep->strings;
		b->used = 0;
		b->cap = cap;
		rep->strings = b;
	}
	p = b->data + b->used;
	memcpy(p, s, len + 1);
	b->used += len + 1;
	return p;
}

/* What the store's scans feed while a report is being built. */
struct build {
	struct report	*rep;
	struct store_gpu *all;		/* every GPU in the database */
	size_t		 nall;
	struct rollup_gpu *gpu_sums;	/* parallel to all */
	struct imap	 gpu_slot;	/* gpu id -> index in all */
	struct imap	 session_slot;	/* (gpu, proc) -> index in sessions */
	size_t		 sessions_cap;
};

static int
sink_gpu_hour(void *ctx, int64_t hour_ms, int64_t gpu_id,
    const struct rollup_gpu *r)
{
	struct build *b = ctx;
	int64_t slot;

	if (imap_get(&b->gpu_slot, gpu_id, 0, &slot) != 0)
		return 0;	/* a GPU row without its GPU: ignore */
	rollup_gpu_merge(&b->gpu_sums[slot], r);
	rollup_gpu_merge(&b->rep->total, r);
	rollup_gpu_merge(&b->rep->heat[util_weekday(hour_ms)]
	    [util_hour_of_day(hour_ms)], r);
	return 0;
}

static int
sink_proc(void *ctx, int64_t gpu_id, int64_t proc_id,
    const struct rollup_proc *r)
{
	struct build *b = ctx;
	struct report *rep = b->rep;
	struct report_session *s;
	int64_t slot;

	if (imap_get(&b->session_slot, gpu_id, proc_id, &slot) != 0) {
		if (rep->nsessions == b->sessions_cap) {
			size_t ncap = b->sessions_cap ? b->sessions_cap * 2 : 32;
			struct report_session *n = realloc(rep->sessions,
			    ncap * sizeof(*n));

			if (n == NULL)
				return -1;
			rep->sessions = n;
			b->sessions_cap = ncap;
		}
		slot = (int64_t)rep->nsessions;
		if (imap_put(&b->session_slot, gpu_id, proc_id, slot) != 0)
			return -1;
		s = &rep->sessions[rep->nsessions++];
		memset(s, 0, sizeof(*s));
		s->gpu_id = gpu_id;
		s->proc_id = proc_id;
		rollup_proc_init(&s->r);
	}
	rollup_proc_merge(&rep->sessions[slot].r, r);
	return 0;
}

int
report_find_gpu(struct store *st, const char *spec, int64_t *gpu_id,
    char *err, size_t errlen)
{
	struct store_gpu *g;
	size_t n, hits = 0, len = strlen(spec);
	long long index;
	int by_index = util_parse_ll(spec, 0, 1000000, &index) == 0;

	if (len == 0)
		return util_err(err, errlen, "--gpu: empty GPU (give an index "
		    "or a UUID)");
	if (store_gpus(st, &g, &n, err, errlen) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (by_index ? g[i].index == index :
		    strncasecmp(g[i].uuid, spec, len) == 0) {
			/* An exact UUID wins over longer ones it prefixes. */
			if (!by_index && strlen(g[i].uuid) == len) {
				hits = 1;
				*gpu_id = g[i].id;
				break;
			}
			hits++;
			*gpu_id = g[i].id;
		}
	}
	free(g);
	if (hits == 0)
		return util_err(err, errlen, "--gpu: no GPU '%s' in %s", spec,
		    store_path(st));
	if (hits > 1)
		return util_err(err, errlen, "--gpu: '%s' matches %zu GPUs in "
		    "%s; give more of the UUID", spec, hits, store_path(st));
	return 0;
}

static int
cmp_session(const void *a, const void *b)
{
	const struct report_session *x = a, *y = b;

	if (x->r.idle_ms != y->r.idle_ms)
		return x->r.idle_ms > y->r.idle_ms ? -1 : 1;
	if (x->r.ms != y->r.ms)
		return x->r.ms > y->r.ms ? -1 : 1;
	if (x->r.first_ms != y->r.first_ms)
		return x->r.first_ms < y->r.first_ms ? -1 : 1;
	if (x->gpu != y->gpu)
		return x->gpu < y->gpu ? -1 : 1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static int
cmp_identity(const void *a, const void *b)
{
	const struct report_identity *x = a, *y = b;

	if (x->idle_ms != y->idle_ms)
		return x->idle_ms > y->idle_ms ? -1 : 1;
	if (x->ms != y->ms)
		return x->ms > y->ms ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* A session waiting for its identity: sorted by process key. */
struct pending {
	int64_t	proc_id;	/* the process */
	size_t	session;	/* index into report.sessions */
};

static int
cmp_pending(const void *a, const void *b)
{
	const struct pending *x = a, *y = b;

	if (x->proc_id != y->proc_id)
		return x->proc_id < y->proc_id ? -1 : 1;
	return x->session < y->session ? -1 : x->session > y->session;
}

/* Where store_processes' identities go, in process key order. */
struct fill {
	struct report		*rep;
	const struct pending	*v;	/* the sessions, sorted */
	size_t			 n;	/* ... how many */
	size_t			 k;	/* v[k] is the next to fill */
};

/* Gives every session of one process its pid and identity. */
static int
fill_identity(void *ctx, int64_t proc_id, uint32_t pid, int64_t start_ms,
    const struct identity *id)
{
	struct fill *f = ctx;
	struct report_who w;

	w.known = id->known;
	w.uid = id->uid;
	if ((w.user = keep_string(f->rep, id->user)) == NULL ||
	    (w.comm = keep_string(f->rep, id->comm)) == NULL ||
	    (w.cmdline = keep_string(f->rep, id->cmdline)) == NULL ||
	    (w.container = keep_string(f->rep, id->container)) == NULL ||
	    (w.pod = keep_string(f->rep, id->pod)) == NULL ||
	    (w.unit = keep_string(f->rep, id->unit)) == NULL ||
	    (w.slurm_job = keep_string(f->rep, id->slurm_job)) == NULL)
		return -1;
	for (; f->k < f->n && f->v[f->k].proc_id == proc_id; f->k++) {
		struct report_session *s = &f->rep->sessions[f->v[f->k].session];

		s->pid = pid;
		s->start_ms = start_ms;
		s->who = w;
	}
	return 0;
}

/* Reads the identities of every session's process in one pass. */
static int
load_identities(struct store *st, struct report *rep, char *err,
    size_t errlen)
{
	struct pending *v;
	int64_t *ids;
	size_t nids = 0;
	struct fill f;
	int rc;

	if (rep->nsessions == 0)
		return 0;
	v = calloc(rep->nsessions, sizeof(*v));
	ids = calloc(rep->nsessions, sizeof(*ids));
	if (v == NULL || ids == NULL) {
		free(v);
		free(ids);
		return util_err(err, errlen, "out of memory");
	}
	for (size_t i = 0; i < rep->nsessions; i++) {
		v[i].proc_id = rep->sessions[i].proc_id;
		v[i].session = i;
	}
	qsort(v, rep->nsessions, sizeof(*v), cmp_pending);
	for (size_t i = 0; i < rep->nsessions; i++)
		if (nids == 0 || ids[nids - 1] != v[i].proc_id)
			ids[nids++] = v[i].proc_id;
	f.rep = rep;
	f.v = v;
	f.n = rep->nsessions;
	f.k = 0;
	rc = store_processes(st, ids, nids, fill_identity, &f, err, errlen);
	free(v);
	free(ids);
	return rc;
}

/* Groups the sessions by user into rep->ids. */
static int
group_identities(struct report *rep)
{
	rep->ids = calloc(rep->nsessions ? rep->nsessions : 1,
	    sizeof(*rep->ids));
	if (rep->ids == NULL)
		return -1;
	for (size_t i = 0; i < rep->nsessions; i++) {
		const struct report_session *s = &rep->sessions[i];
		const char *name = s->who.user[0] ? s->who.user : "unknown";
		struct report_identity *id = NULL;

		for (size_t j = 0; j < rep->nids && id == NULL; j++)
			if (strcmp(rep->ids[j].name, name) == 0)
				id = &rep->ids[j];
		if (id == NULL) {
			id = &rep->ids[rep->nids++];
			util_strlcpy(id->name, name, sizeof(id->name));
		}
		id->ms += s->r.ms;
		id->idle_ms += s->r.idle_ms;
		id->idle_mib_ms += s->r.idle_mib_ms;
		id->sessions++;
	}
	if (rep->nids > 1)
		qsort(rep->ids, rep->nids, sizeof(*rep->ids), cmp_identity);
	return 0;
}

/* Fills the window and reads its sums, from rollups where they serve. */
static int
scan_window(struct store *st, const struct report_options *o,
    struct build *b, char *err, size_t errlen)
{
	struct report *rep = b->rep;
	struct store_sink sink = { b, sink_gpu_hour, sink_proc };
	int64_t oldest_ts, oldest_span, lo, hi;
	int found;

	rep->end_ms = o->until_ms + 1;
	rep->start_ms = o->until_ms + 1 - o->since_ms;
	if (store_oldest_tick(st, &oldest_ts, &oldest_span, &found, err,
	    errlen) != 0)
		return -1;
	/* The window is min(--since, age of the oldest sample). */
	if (found && oldest_ts - oldest_span > rep->start_ms)
		rep->start_ms = oldest_ts - oldest_span;
	if (rep->start_ms > rep->end_ms)
		rep->start_ms = rep->end_ms;
	if (store_newest_tick(st, rep->end_ms, &rep->last_tick_ms, &found, err,
	    errlen) != 0)
		return -1;
	if (!found || rep->last_tick_ms < rep->start_ms)
		rep->last_tick_ms = 0;

	/* Whole hours [lo, hi) from rollups, the edges from raw ticks. */
	lo = util_hour_floor(rep->start_ms + MS_PER_HOUR - 1);
	hi = util_hour_floor(rep->end_ms);
	if (o->force_raw || lo >= hi || o->thr.active_util !=
	    rep->meta.rollup.active_util || o->thr.held_mib !=
	    rep->meta.rollup.held_mib)
		return store_scan_raw(st, rep->start_ms, rep->end_ms, o->gpu_id,
		    &o->thr, &sink, err, errlen);
	rep->used_rollups = 1;
	if (store_scan_raw(st, rep->start_ms, lo, o->gpu_id, &o->thr, &sink,
	    err, errlen) != 0 ||
	    store_scan_rollups(st, lo, hi, o->gpu_id, &sink, err, errlen) != 0 ||
	    store_scan_raw(st, hi, rep->end_ms, o->gpu_id, &o->thr, &sink, err,
	    errlen) != 0)
		return -1;
	return 0;
}

int
report_build(struct store *st, const struct report_options *o,
    struct report *rep, char *err, size_t errlen)
{
	struct build b;
	int ret = -1;

	memset(rep, 0, sizeof(*rep));
	memset(&b, 0, sizeof(b));
	b.rep = rep;
	rep->meta = *store_meta(st);
	rep->thr = o->thr;
	if (store_gpus(st, &b.all, &b.nall, err, errlen) != 0)
		return -1;
	b.gpu_sums = calloc(b.nall ? b.nall : 1, sizeof(*b.gpu_sums));
	if (b.gpu_sums == NULL) {
		util_err(err, errlen, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < b.nall; i++)
		if (imap_put(&b.gpu_slot, b.all[i].id, 0, (int64_t)i) != 0) {
			util_err(err, errlen, "out of memory");
			goto out;
		}
	if (scan_window(st, o, &b, err, errlen) != 0)
		goto out;

	/* The GPUs that have samples in the window, in index order. */
	rep->gpus = calloc(b.nall ? b.nall : 1, sizeof(*rep->gpus));
	if (rep->gpus == NULL) {
		util_err(err, errlen, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < b.nall; i++) {
		struct rollup_gpu *r = &b.gpu_sums[i];

		if (rollup_gpu_known_n(r) + r->n[STATE_UNKNOWN] == 0)
			continue;
		rep->gpus[rep->ngpus].id = b.all[i].id;
		rep->gpus[rep->ngpus].info = b.all[i];
		rep->gpus[rep->ngpus].r = *r;
		rep->ngpus++;
	}
	for (size_t i = 0; i < rep->nsessions; i++) {
		struct report_session *s = &rep->sessions[i];

		for (size_t g = 0; g < rep->ngpus; g++)
			if (rep->gpus[g].id == s->gpu_id)
				s->gpu = g;
		s->alive = rep->last_tick_ms != 0 &&
		    s->r.last_ms == rep->last_tick_ms;
	}
	if (load_identities(st, rep, err, errlen) != 0)
		goto out;
	if (rep->nsessions > 1)
		qsort(rep->sessions, rep->nsessions, sizeof(*rep->sessions),
		    cmp_session);
	if (group_identities(rep) != 0) {
		util_err(err, errlen, "out of memory");
		goto out;
	}
	ret = 0;
out:
	free(b.all);
	free(b.gpu_sums);
	imap_free(&b.gpu_slot);
	imap_free(&b.session_slot);
	if (ret != 0)
		report_free(rep);
	return ret;
}

void
report_free(struct report *rep)
{
	while (rep->strings != NULL) {
		struct report_strings *next = rep->strings->next;

		free(rep->strings);
		rep->strings = next;
	}
	free(rep->gpus);
	free(rep->sessions);
	free(rep->ids);
	rep->gpus = NULL;
	rep->sessions = NULL;
	rep->ids = NULL;
	rep->ngpus = rep->nsessions = rep->nids = 0;
}

int64_t
report_window_ms(const struct report *rep)
{
	return rep->end_ms - rep->start_ms;
}

double
report_share(const struct rollup_gpu *r, enum state s)
{
	int64_t known = rollup_gpu_known_ms(r);

	if (known <= 0 || s == STATE_UNKNOWN)
		return 0;
	return (double)r->ms[s] / (double)known;
}

double
report_coverage(const struct report *rep)
{
	double possible = (double)report_window_ms(rep) * (double)rep->ngpus;
	double c;

	if (possible <= 0)
		return 0;
	c = (double)rollup_gpu_known_ms(&rep->total) / possible;
	/* A tick counts wholly, so the first one may reach past the start. */
	return c > 1 ? 1 : c;
}

double
report_idle_gpu_hours(const struct report *rep)
{
	return (double)(rep->total.ms[STATE_IDLE_HELD] +
	    rep->total.ms[STATE_TRULY_IDLE]) / MS_PER_HOUR;
}

double
report_gpus_unused(const struct report *rep)
{
	return (report_share(&rep->total, STATE_IDLE_HELD) +
	    report_share(&rep->total, STATE_TRULY_IDLE)) * (double)rep->ngpus;
}

double
report_mean_util(const struct rollup_gpu *r)
{
	if (r->util_ms <= 0)
		return -1;
	return (double)r->util_pm_ms / (double)r->util_ms / 10.0;
}
