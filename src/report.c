/*
 * Builds a report for a window: whole hours from the collector's rollups,
 * the partial hours at the window's edges from raw ticks. With thresholds
 * other than the ones the rollups were made with, everything is raw.
 * Reports of several hosts merge into one.
 */
#include <stdio.h>
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

/*
 * When a GPU was seen in the window: to the tick from raw ticks, to the
 * hour from rollups (report_build reads the edge hours raw after).
 */
struct seen {
	int64_t	first_ms;	/* first raw tick, INT64_MAX when none */
	int64_t	first_span_ms;	/* ... its span */
	int64_t	last_ms;	/* last raw tick, INT64_MIN when none */
	int64_t	first_hour;	/* first rollup hour, INT64_MAX when none */
	int64_t	last_hour;	/* last rollup hour, INT64_MIN when none */
};

/* What the store's scans feed while a report is being built. */
struct build {
	struct report	*rep;
	struct store_gpu *all;		/* every GPU in the database */
	size_t		 nall;
	struct rollup_gpu *gpu_sums;	/* parallel to all */
	struct seen	*seen;		/* parallel to all */
	int		 in_rollups;	/* a rollup scan feeds gpu_hour */
	struct imap	 gpu_slot;	/* gpu id -> index in all */
	struct imap	 session_slot;	/* (gpu, proc) -> index in sessions */
	size_t		 sessions_cap;
	struct rollup_gpu *timeline;	/* nall x ntimeline, by slot */
};

/*
 * Timeline steps: each divides the next, and buckets start at multiples
 * of the step, so a coarser timeline is a sum of finer buckets (merging
 * hosts needs that). Past the last, steps double.
 */
static const int64_t timeline_steps[] = {
	1 * MS_PER_SECOND, 5 * MS_PER_SECOND, 10 * MS_PER_SECOND,
	30 * MS_PER_SECOND, MS_PER_MINUTE, 5 * MS_PER_MINUTE,
	10 * MS_PER_MINUTE, 30 * MS_PER_MINUTE, MS_PER_HOUR, 2 * MS_PER_HOUR,
	6 * MS_PER_HOUR, 12 * MS_PER_HOUR, MS_PER_DAY, 7 * MS_PER_DAY,
};

static int64_t
floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t
next_step(int64_t step)
{
	for (size_t i = 0; i < ARRAY_LEN(timeline_steps); i++)
		if (timeline_steps[i] > step)
			return timeline_steps[i];
	return step * 2;
}

/* Buckets of step that [start, end) touches. */
static size_t
timeline_buckets(int64_t start, int64_t end, int64_t step)
{
	if (end <= start)
		return 0;
	return (size_t)(floor_div(end - 1, step) - floor_div(start, step) + 1);
}

/* The finest step of at least min_step that fits the timeline's buckets. */
static int64_t
timeline_step(int64_t start, int64_t end, int64_t min_step)
{
	int64_t step = timeline_steps[0];

	while (step < min_step || timeline_buckets(start, end, step) >
	    REPORT_TIMELINE_MAX)
		step = next_step(step);
	return step;
}

static void
timeline_add(struct build *b, int64_t slot, int64_t ts_ms,
    const struct rollup_gpu *r)
{
	struct report *rep = b->rep;
	int64_t i = floor_div(ts_ms - rep->timeline_start_ms,
	    rep->timeline_step_ms);

	if (i < 0 || (size_t)i >= rep->ntimeline)
		return;
	rollup_gpu_merge(&b->timeline[(size_t)slot * rep->ntimeline +
	    (size_t)i], r);
	rollup_gpu_merge(&rep->timeline[i], r);
}

static int
sink_gpu_hour(void *ctx, int64_t hour_ms, int64_t gpu_id,
    const struct rollup_gpu *r)
{
	struct build *b = ctx;
	int64_t slot;

	if (imap_get(&b->gpu_slot, gpu_id, 0, &slot) != 0)
		return 0;	/* a GPU row without its GPU: ignore */
	if (b->in_rollups) {
		struct seen *w = &b->seen[slot];

		if (hour_ms < w->first_hour)
			w->first_hour = hour_ms;
		if (hour_ms > w->last_hour)
			w->last_hour = hour_ms;
	}
	rollup_gpu_merge(&b->gpu_sums[slot], r);
	rollup_gpu_merge(&b->rep->total, r);
	rollup_gpu_merge(&b->rep->heat[util_weekday(hour_ms)]
	    [util_hour_of_day(hour_ms)], r);
	/* Hourly sums serve whole-hour buckets; finer ones come by tick. */
	if (b->rep->timeline_step_ms >= MS_PER_HOUR)
		timeline_add(b, slot, hour_ms, r);
	return 0;
}

/* A raw tick of a GPU: when it was seen. */
static void
seen_tick(struct build *b, int64_t slot, int64_t ts_ms,
    const struct rollup_gpu *r)
{
	struct seen *w = &b->seen[slot];

	if (ts_ms < w->first_ms) {
		w->first_ms = ts_ms;
		w->first_span_ms = 0;
		for (int s = 0; s < STATE_COUNT; s++)
			w->first_span_ms += r->ms[s];
	}
	if (ts_ms > w->last_ms)
		w->last_ms = ts_ms;
}

static int
sink_gpu_tick(void *ctx, int64_t ts_ms, int64_t gpu_id,
    const struct rollup_gpu *r)
{
	struct build *b = ctx;
	int64_t slot;

	if (imap_get(&b->gpu_slot, gpu_id, 0, &slot) != 0)
		return 0;
	seen_tick(b, slot, ts_ms, r);
	if (b->rep->timeline_step_ms < MS_PER_HOUR)
		timeline_add(b, slot, ts_ms, r);
	return 0;
}

/* The sink of the edge hours read again raw: only when GPUs were seen. */
static int
seen_only_hour(void *ctx, int64_t hour_ms, int64_t gpu_id,
    const struct rollup_gpu *r)
{
	(void)ctx;
	(void)hour_ms;
	(void)gpu_id;
	(void)r;
	return 0;
}

static int
seen_only_proc(void *ctx, int64_t gpu_id, int64_t proc_id,
    const struct rollup_proc *r)
{
	(void)ctx;
	(void)gpu_id;
	(void)proc_id;
	(void)r;
	return 0;
}

static int
seen_only_tick(void *ctx, int64_t ts_ms, int64_t gpu_id,
    const struct rollup_gpu *r)
{
	struct build *b = ctx;
	int64_t slot;

	if (imap_get(&b->gpu_slot, gpu_id, 0, &slot) == 0)
		seen_tick(b, slot, ts_ms, r);
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

	/* A process row without its GPU (a damaged file): ignored, as the
	   GPU rows without their GPU are. */
	if (imap_get(&b->gpu_slot, gpu_id, 0, &slot) != 0)
		return 0;
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

/* The part of a MIG instance's UUID that names it: after "MIG-", or for
   the old "MIG-GPU-<uuid>/GI/CI" form, "GI/CI". */
static const char *
mig_name(const char *uuid)
{
	const char *slash;

	if (strncasecmp(uuid, "MIG-GPU-", 8) == 0 &&
	    (slash = strchr(uuid, '/')) != NULL)
		return slash + 1;
	return strncasecmp(uuid, "MIG-", 4) == 0 ? uuid + 4 : uuid;
}

/* The card a GPU row is: its own UUID, or a MIG instance's parent's. */
static const char *
card_of(const struct store_gpu *g)
{
	return g->parent_uuid[0] != '\0' ? g->parent_uuid : g->uuid;
}

/*
 * Numbers every GPU row of a database by its card's place among the
 * cards that held its index, in the order the database first saw them
 * (by key): card[i] for all[i], 1 for the first. The labels GPU-0 and
 * GPU-0#2 come from it, and --gpu reads them back the same way.
 */
static int
number_cards(const struct store_gpu *all, size_t n, int *card)
{
	int64_t *first = calloc(n + 1, sizeof(*first));

	if (first == NULL)
		return -1;
	/* The key of the first row of each row's card. */
	for (size_t i = 0; i < n; i++) {
		first[i] = all[i].id;
		for (size_t j = 0; j < n; j++)
			if (all[j].id < first[i] && strcmp(card_of(&all[j]),
			    card_of(&all[i])) == 0)
				first[i] = all[j].id;
	}
	for (size_t i = 0; i < n; i++) {
		card[i] = 1;
		for (size_t j = 0; j < n; j++)
			if (all[j].index == all[i].index &&
			    first[j] == all[j].id && first[j] < first[i])
				card[i]++;
	}
	free(first);
	return 0;
}

/*
 * The part of a label before any "/MIG-": "N", or "N#K" for the K-th card
 * that held index N. N in decimal without leading zeros, at most 4
 * digits, so that a UUID prefix such as "GPU-00000000" is never read as
 * one. 1 with *index and *card.
 */
static int
label_number(const char *s, size_t len, long long *index, long long *card)
{
	char num[16];
	const char *hash = memchr(s, '#', len);
	size_t n = hash ? (size_t)(hash - s) : len;

	*card = 1;
	if (n == 0 || n > 4 || (s[0] == '0' && n > 1) ||
	    strspn(s, "0123456789") < n)
		return 0;
	memcpy(num, s, n);
	num[n] = '\0';
	if (util_parse_ll(num, 0, 9999, index) != 0)
		return 0;
	if (hash == NULL)
		return 1;
	n = len - n - 1;
	if (n == 0 || n > 4 || hash[1] == '0' || strspn(hash + 1,
	    "0123456789") < n)
		return 0;
	memcpy(num, hash + 1, n);
	num[n] = '\0';
	return util_parse_ll(num, 1, 9999, card) == 0;
}

/*
 * A MIG instance as the report labels it, "GPU-0/MIG-c6d4" (or
 * "GPU-0#2/MIG-c6d4"): the part after "/MIG-", with *index and *card
 * set; NULL for any other form.
 */
static const char *
mig_label(const char *spec, long long *index, long long *card)
{
	const char *slash = strchr(spec, '/');

	if (strncasecmp(spec, "GPU-", 4) != 0 || slash == NULL ||
	    strncasecmp(slash, "/MIG-", 5) != 0 || slash[5] == '\0' ||
	    !label_number(spec + 4, (size_t)(slash - spec - 4), index, card))
		return NULL;
	return slash + 5;
}

/* Whether spec is a label "GPU-N" or "GPU-N#K" (any case) as the report
   prints it; *index is N, *card K (1 when absent). */
static int
gpu_label_index(const char *spec, long long *index, long long *card)
{
	if (strncasecmp(spec, "GPU-", 4) != 0)
		return 0;
	return label_number(spec + 4, strlen(spec + 4), index, card);
}

int
report_find_gpu(struct store *st, const char *spec, int64_t *gpu_id,
    char *err, size_t errlen)
{
	struct store_gpu *g;
	size_t n, hits = 0, migs = 0, len = strlen(spec);
	long long index = 0, want = 1;
	int numeric = util_parse_ll(spec, 0, 1000000, &index) == 0;
	int label = 0, *card;
	const char *mig = mig_label(spec, &index, &want);
	char cardtext[16] = "";

	if (len == 0)
		return util_err(err, errlen, "--gpu: empty GPU (give an index "
		    "or a UUID)");
	if (store_gpus(st, &g, &n, err, errlen) != 0)
		return -1;
	if ((card = calloc(n + 1, sizeof(*card))) == NULL ||
	    number_cards(g, n, card) != 0) {
		free(card);
		free(g);
		return util_err(err, errlen, "out of memory");
	}
	/*
	 * "GPU-3", the report's label, is index 3, not a prefix of the UUIDs
	 * starting "GPU-3" (real ones are "GPU-" and hex); only when no GPU
	 * has that index is it read as a UUID prefix.
	 */
	if (mig == NULL && !numeric && gpu_label_index(spec, &index, &want))
		for (size_t i = 0; i < n && !label; i++)
			label = g[i].index == index;
	for (size_t i = 0; i < n; i++) {
		int match;

		if (mig != NULL)
			match = g[i].index == index && card[i] == want &&
			    g[i].parent_uuid[0] != '\0' &&
			    strncasecmp(mig_name(g[i].uuid), mig,
			    strlen(mig)) == 0;
		else if (label)
			match = g[i].index == index && card[i] == want;
		else if (numeric)
			match = g[i].index == index;
		else
			match = strncasecmp(g[i].uuid, spec, len) == 0;
		if (match) {
			migs += g[i].parent_uuid[0] != '\0';
			/* An exact UUID wins over longer ones it prefixes. */
			if (!label && !numeric && strlen(g[i].uuid) == len) {
				hits = 1;
				*gpu_id = g[i].id;
				break;
			}
			hits++;
			*gpu_id = g[i].id;
		}
	}
	free(card);
	free(g);
	if (hits == 0)
		return util_err(err, errlen, "--gpu: no GPU '%s' in %s", spec,
		    store_path(st));
	if (want > 1)
		snprintf(cardtext, sizeof(cardtext), "#%d", (int)want);
	if (hits > 1 && (label || numeric) && migs == hits)
		util_err(err, errlen, "--gpu: GPU %lld%s is split into %zu MIG "
		    "instances in %s; name one as the report does "
		    "(GPU-%lld%s/MIG-...) or by its UUID", index, cardtext,
		    hits, store_path(st), index, cardtext);
	else if (hits > 1 && numeric)
		util_err(err, errlen, "--gpu: index %lld was held by %zu GPUs "
		    "in %s (a card replaced); name one as the report does "
		    "(GPU-%lld, GPU-%lld#2, ...) or by its UUID", index, hits,
		    store_path(st), index, index);
	else if (hits > 1)
		util_err(err, errlen, "--gpu: '%s' matches %zu GPUs in %s; "
		    "give more of the UUID", spec, hits, store_path(st));
	return hits > 1 ? REPORT_GPU_AMBIGUOUS : 0;
}

/* GPUs by index, then card, then UUID (a MIG instance's). */
static int
cmp_gpu(const void *a, const void *b)
{
	const struct report_gpu *x = a, *y = b;

	if (x->info.index != y->info.index)
		return x->info.index < y->info.index ? -1 : 1;
	if (x->card != y->card)
		return x->card < y->card ? -1 : 1;
	return strcmp(x->info.uuid, y->info.uuid);
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
	int c;

	if (x->idle_ms != y->idle_ms)
		return x->idle_ms > y->idle_ms ? -1 : 1;
	if (x->ms != y->ms)
		return x->ms > y->ms ? -1 : 1;
	if ((c = strcmp(x->name, y->name)) != 0)
		return c;
	return x->host < y->host ? -1 : x->host > y->host;
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

/* Groups the sessions by host and user into rep->ids. */
static int
group_identities(struct report *rep)
{
	free(rep->ids);
	rep->nids = 0;
	rep->ids = calloc(rep->nsessions ? rep->nsessions : 1,
	    sizeof(*rep->ids));
	if (rep->ids == NULL)
		return -1;
	for (size_t i = 0; i < rep->nsessions; i++) {
		const struct report_session *s = &rep->sessions[i];
		const char *name = s->who.user[0] ? s->who.user : "unknown";
		struct report_identity *id = NULL;

		for (size_t j = 0; j < rep->nids && id == NULL; j++)
			if (rep->ids[j].host == s->host &&
			    strcmp(rep->ids[j].name, name) == 0)
				id = &rep->ids[j];
		if (id == NULL) {
			id = &rep->ids[rep->nids++];
			id->host = s->host;
			util_strlcpy(id->name, name, sizeof(id->name));
			id->container = s->who.container;
			id->pod = s->who.pod;
			id->unit = s->who.unit;
			id->slurm_job = s->who.slurm_job;
		}
		/* Kept only while every session has the same. */
		if (strcmp(id->container, s->who.container) != 0)
			id->container = "";
		if (strcmp(id->pod, s->who.pod) != 0)
			id->pod = "";
		if (strcmp(id->unit, s->who.unit) != 0)
			id->unit = "";
		if (strcmp(id->slurm_job, s->who.slurm_job) != 0)
			id->slurm_job = "";
		id->ms += s->r.ms;
		id->idle_ms += s->r.idle_ms;
		id->idle_mib_ms += s->r.idle_mib_ms;
		id->util_pm_ms = util_sat_add(id->util_pm_ms, s->r.util_pm_ms);
		id->util_ms = util_sat_add(id->util_ms, s->r.util_ms);
		id->util_lost_ms = util_sat_add(id->util_lost_ms,
		    s->r.util_lost_ms);
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
	struct store_sink sink = { b, sink_gpu_hour, sink_proc,
	    sink_gpu_tick };
	int64_t oldest_ts, oldest_span, lo, hi;
	int found, raw, rc;

	rep->end_ms = o->until_ms + 1;
	rep->start_ms = o->until_ms + 1 - o->since_ms;
	if (store_oldest_tick(st, &oldest_ts, &oldest_span, &found, err,
	    errlen) != 0)
		return -1;
	/* The window is min(--since, age of the oldest sample). */
	if (found && oldest_ts - oldest_span > rep->start_ms)
		rep->start_ms = oldest_ts - oldest_span;
	/* History that starts after --until: an empty window at --until. */
	if (rep->start_ms > rep->end_ms - 1)
		rep->start_ms = rep->end_ms - 1;
	if (store_newest_tick(st, rep->end_ms, &rep->last_tick_ms, &found, err,
	    errlen) != 0)
		return -1;
	if (!found || rep->last_tick_ms < rep->start_ms)
		rep->last_tick_ms = 0;

	/* Whole hours [lo, hi) from rollups, the edges from raw ticks. */
	lo = util_hour_floor(rep->start_ms + MS_PER_HOUR - 1);
	hi = util_hour_floor(rep->end_ms);
	raw = o->force_raw || lo >= hi || o->thr.active_util !=
	    rep->meta.rollup.active_util || o->thr.held_mib !=
	    rep->meta.rollup.held_mib;

	/* Buckets finer than an hour only when every tick is read raw. */
	rep->timeline_step_ms = timeline_step(rep->start_ms, rep->end_ms,
	    raw ? 1 : MS_PER_HOUR);
	rep->timeline_start_ms = floor_div(rep->start_ms,
	    rep->timeline_step_ms) * rep->timeline_step_ms;
	rep->ntimeline = timeline_buckets(rep->start_ms, rep->end_ms,
	    rep->timeline_step_ms);
	rep->timeline = calloc(rep->ntimeline + 1, sizeof(*rep->timeline));
	b->timeline = calloc((b->nall + 1) * (rep->ntimeline + 1),
	    sizeof(*b->timeline));
	if (rep->timeline == NULL || b->timeline == NULL)
		return util_err(err, errlen, "out of memory");

	if (raw)
		return store_scan_raw(st, rep->start_ms, rep->end_ms, o->gpu_id,
		    &o->thr, &sink, err, errlen);
	rep->used_rollups = 1;
	if (store_scan_raw(st, rep->start_ms, lo, o->gpu_id, &o->thr, &sink,
	    err, errlen) != 0)
		return -1;
	b->in_rollups = 1;
	rc = store_scan_rollups(st, lo, hi, o->gpu_id, &sink, err, errlen);
	b->in_rollups = 0;
	if (rc != 0 || store_scan_raw(st, hi, rep->end_ms, o->gpu_id, &o->thr,
	    &sink, err, errlen) != 0)
		return -1;
	return 0;
}

/*
 * A GPU first or last seen in an hour read from rollups is seen to the
 * hour only: those hours are read again raw, for when exactly.
 */
static int
seen_exactly(struct store *st, const struct report_options *o,
    struct build *b, char *err, size_t errlen)
{
	struct store_sink sink = { b, seen_only_hour, seen_only_proc,
	    seen_only_tick };
	int64_t *hours;
	size_t n = 0;
	int rc = 0;

	if ((hours = calloc(2 * b->nall + 1, sizeof(*hours))) == NULL)
		return util_err(err, errlen, "out of memory");
	for (size_t i = 0; i < b->nall; i++) {
		const struct seen *w = &b->seen[i];

		if (w->first_hour != INT64_MAX && w->first_hour < w->first_ms)
			hours[n++] = w->first_hour;
		if (w->last_hour != INT64_MIN && (w->last_ms == INT64_MIN ||
		    w->last_hour > w->last_ms))
			hours[n++] = w->last_hour;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		size_t j;

		for (j = 0; j < i && hours[j] != hours[i]; j++)
			;
		if (j == i)
			rc = store_scan_raw(st, hours[i], hours[i] +
			    MS_PER_HOUR, o->gpu_id, &o->thr, &sink, err,
			    errlen);
	}
	free(hours);
	return rc;
}

/*
 * The part of the window each GPU was there for (struct report_gpu), and
 * their sum, the GPU time a full coverage would have observed.
 */
static int
presence(struct store *st, struct build *b, char *err, size_t errlen)
{
	struct report *rep = b->rep;
	int64_t first = 0, *from_of, *to_of, covered = 0, upto = INT64_MIN;
	int found = 0;

	if (store_first_tick(st, rep->start_ms, rep->end_ms, &first, &found,
	    err, errlen) != 0)
		return -1;
	from_of = calloc(rep->ngpus + 1, sizeof(*from_of));
	to_of = calloc(rep->ngpus + 1, sizeof(*to_of));
	if (from_of == NULL || to_of == NULL) {
		free(from_of);
		free(to_of);
		return util_err(err, errlen, "out of memory");
	}
	rep->gpu_window_ms = 0;
	for (size_t i = 0; i < rep->ngpus; i++) {
		struct report_gpu *g = &rep->gpus[i];
		const struct seen *w;
		int64_t slot, from, to;

		if (imap_get(&b->gpu_slot, g->id, 0, &slot) != 0)
			continue;
		w = &b->seen[slot];
		from = rep->start_ms;
		to = rep->end_ms;
		if (w->first_ms != INT64_MAX && (!found || w->first_ms != first))
			from = util_sat_add(w->first_ms, -w->first_span_ms);
		if (from < rep->start_ms)
			from = rep->start_ms;
		if (w->last_ms != INT64_MIN && w->last_ms != rep->last_tick_ms)
			to = w->last_ms;
		g->present_ms = to > from ? to - from : 0;
		rep->gpu_window_ms = util_sat_add(rep->gpu_window_ms,
		    g->present_ms);
		from_of[i] = from;
		to_of[i] = to > from ? to : from;
	}
	/* The host's time: the union of its GPUs', in order of start. */
	for (size_t n = 0; n < rep->ngpus; n++) {
		size_t k = n;
		int64_t f, t;

		for (size_t i = n + 1; i < rep->ngpus; i++)
			if (from_of[i] < from_of[k])
				k = i;
		f = from_of[k];
		t = to_of[k];
		from_of[k] = from_of[n];
		to_of[k] = to_of[n];
		if (f < upto)
			f = upto;
		if (t > f)
			covered += t - f;
		if (t > upto)
			upto = t;
	}
	rep->hosts[0].present_ms = covered;
	free(from_of);
	free(to_of);
	return 0;
}


int
report_build(struct store *st, const struct report_options *o,
    struct report *rep, char *err, size_t errlen)
{
	struct build b;
	int *card = NULL;	/* parallel to b.all */
	size_t n;
	int ret = -1;

	memset(rep, 0, sizeof(*rep));
	memset(&b, 0, sizeof(b));
	b.rep = rep;
	rep->meta = *store_meta(st);
	rep->thr = o->thr;
	if (store_gpus(st, &b.all, &b.nall, err, errlen) != 0)
		return -1;
	b.gpu_sums = calloc(b.nall ? b.nall : 1, sizeof(*b.gpu_sums));
	b.seen = calloc(b.nall ? b.nall : 1, sizeof(*b.seen));
	card = calloc(b.nall ? b.nall : 1, sizeof(*card));
	if (b.gpu_sums == NULL || b.seen == NULL || card == NULL ||
	    number_cards(b.all, b.nall, card) != 0) {
		util_err(err, errlen, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < b.nall; i++) {
		b.seen[i].first_ms = b.seen[i].first_hour = INT64_MAX;
		b.seen[i].last_ms = b.seen[i].last_hour = INT64_MIN;
	}
	for (size_t i = 0; i < b.nall; i++)
		if (imap_put(&b.gpu_slot, b.all[i].id, 0, (int64_t)i) != 0) {
			util_err(err, errlen, "out of memory");
			goto out;
		}
	if (scan_window(st, o, &b, err, errlen) != 0 ||
	    seen_exactly(st, o, &b, err, errlen) != 0)
		goto out;

	/* The GPUs that have samples in the window, in index order. */
	rep->gpus = calloc(b.nall ? b.nall : 1, sizeof(*rep->gpus));
	rep->hosts = calloc(1, sizeof(*rep->hosts));
	if (rep->gpus == NULL || rep->hosts == NULL) {
		util_err(err, errlen, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < b.nall; i++) {
		struct rollup_gpu *r = &b.gpu_sums[i];
		struct report_gpu *g = &rep->gpus[rep->ngpus];

		if (rollup_gpu_known_n(r) + r->n[STATE_UNKNOWN] == 0)
			continue;
		g->id = b.all[i].id;
		g->info = b.all[i];
		g->card = card[i];
		g->r = *r;
		g->timeline = malloc((rep->ntimeline + 1) *
		    sizeof(*g->timeline));
		if (g->timeline == NULL) {
			util_err(err, errlen, "out of memory");
			goto out;
		}
		memcpy(g->timeline, &b.timeline[i * rep->ntimeline],
		    rep->ntimeline * sizeof(*g->timeline));
		rep->ngpus++;
	}
	/* A card that replaced another comes after it: GPU-0, GPU-0#2. */
	if (rep->ngpus > 1)
		qsort(rep->gpus, rep->ngpus, sizeof(*rep->gpus), cmp_gpu);
	rep->nhosts = 1;
	util_strlcpy(rep->hosts[0].hostname, rep->meta.hostname,
	    sizeof(rep->hosts[0].hostname));
	util_strlcpy(rep->hosts[0].driver_version, rep->meta.driver_version,
	    sizeof(rep->hosts[0].driver_version));
	rep->hosts[0].start_ms = rep->start_ms;
	rep->hosts[0].end_ms = rep->end_ms;
	rep->hosts[0].last_tick_ms = rep->last_tick_ms;
	rep->hosts[0].ngpus = rep->ngpus;
	rep->hosts[0].total = rep->total;
	if (presence(st, &b, err, errlen) != 0)
		goto out;
	rep->hosts[0].gpu_window_ms = rep->gpu_window_ms;
	/* Every session points at one of the report's GPUs; one whose GPU
	   has no sample in the window (only a damaged file has those) goes. */
	n = 0;
	for (size_t i = 0; i < rep->nsessions; i++) {
		struct report_session *s = &rep->sessions[i];
		size_t g;

		for (g = 0; g < rep->ngpus; g++)
			if (rep->gpus[g].id == s->gpu_id)
				break;
		if (g == rep->ngpus)
			continue;
		s->gpu = g;
		s->alive = rep->last_tick_ms != 0 &&
		    s->r.last_ms == rep->last_tick_ms;
		rep->sessions[n++] = *s;
	}
	rep->nsessions = n;
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
	free(b.seen);
	free(card);
	free(b.timeline);
	imap_free(&b.gpu_slot);
	imap_free(&b.session_slot);
	if (ret != 0)
		report_free(rep);
	return ret;
}

void
report_free(struct report *rep)
{
	for (size_t i = 0; i < rep->ngpus; i++)
		free(rep->gpus[i].timeline);
	while (rep->strings != NULL) {
		struct report_strings *next = rep->strings->next;

		free(rep->strings);
		rep->strings = next;
	}
	free(rep->gpus);
	free(rep->sessions);
	free(rep->ids);
	free(rep->hosts);
	free(rep->timeline);
	rep->gpus = NULL;
	rep->sessions = NULL;
	rep->ids = NULL;
	rep->hosts = NULL;
	rep->timeline = NULL;
	rep->ngpus = rep->nsessions = rep->nids = rep->nhosts = 0;
	rep->ntimeline = 0;
}

/*
 * Re-buckets a timeline of n buckets from (start, step) into a zeroed one
 * of nn buckets from (nstart, nstep); nstep is a multiple of step.
 */
static struct rollup_gpu *
rebucket(const struct rollup_gpu *t, size_t n, int64_t start, int64_t step,
    size_t nn, int64_t nstart, int64_t nstep)
{
	struct rollup_gpu *v = calloc(nn + 1, sizeof(*v));

	if (v == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		int64_t j = floor_div(start + (int64_t)i * step - nstart, nstep);

		if (j >= 0 && (size_t)j < nn)
			rollup_gpu_merge(&v[j], &t[i]);
	}
	return v;
}

/* Puts every timeline of rep on (start, step, n); -1 out of memory. */
static int
retime(struct report *rep, int64_t start, int64_t step, size_t n)
{
	struct rollup_gpu *v;

	for (size_t i = 0; i < rep->ngpus; i++) {
		v = rebucket(rep->gpus[i].timeline, rep->ntimeline,
		    rep->timeline_start_ms, rep->timeline_step_ms, n, start,
		    step);
		if (v == NULL)
			return -1;
		free(rep->gpus[i].timeline);
		rep->gpus[i].timeline = v;
	}
	v = rebucket(rep->timeline, rep->ntimeline, rep->timeline_start_ms,
	    rep->timeline_step_ms, n, start, step);
	if (v == NULL)
		return -1;
	free(rep->timeline);
	rep->timeline = v;
	rep->timeline_start_ms = start;
	rep->timeline_step_ms = step;
	rep->ntimeline = n;
	return 0;
}

int
report_merge(struct report *dst, struct report *src, char *err,
    size_t errlen)
{
	int64_t start, end, step;
	size_t n, h0 = dst->nhosts, g0 = dst->ngpus;
	void *p;

	for (size_t i = 0; i < dst->nhosts; i++)
		for (size_t j = 0; j < src->nhosts; j++)
			if (strcmp(dst->hosts[i].hostname,
			    src->hosts[j].hostname) == 0)
				return util_err(err, errlen, "two databases of "
				    "host '%s': give one database per host",
				    src->hosts[j].hostname);
	/* One timeline for both: the coarser step, over both windows. */
	start = src->start_ms < dst->start_ms ? src->start_ms : dst->start_ms;
	end = src->end_ms > dst->end_ms ? src->end_ms : dst->end_ms;
	step = src->timeline_step_ms > dst->timeline_step_ms ?
	    src->timeline_step_ms : dst->timeline_step_ms;
	while (timeline_buckets(start, end, step) > REPORT_TIMELINE_MAX)
		step = next_step(step);
	n = timeline_buckets(start, end, step);
	start = floor_div(start, step) * step;
	if (retime(dst, start, step, n) != 0 || retime(src, start, step,
	    n) != 0)
		return util_err(err, errlen, "out of memory");
	for (size_t i = 0; i < n; i++)
		rollup_gpu_merge(&dst->timeline[i], &src->timeline[i]);

	if ((p = realloc(dst->hosts, (dst->nhosts + src->nhosts) *
	    sizeof(*dst->hosts))) == NULL)
		return util_err(err, errlen, "out of memory");
	dst->hosts = p;
	if ((p = realloc(dst->gpus, (dst->ngpus + src->ngpus + 1) *
	    sizeof(*dst->gpus))) == NULL)
		return util_err(err, errlen, "out of memory");
	dst->gpus = p;
	if ((p = realloc(dst->sessions, (dst->nsessions + src->nsessions +
	    1) * sizeof(*dst->sessions))) == NULL)
		return util_err(err, errlen, "out of memory");
	dst->sessions = p;
	memcpy(dst->hosts + h0, src->hosts, src->nhosts * sizeof(*src->hosts));
	dst->nhosts += src->nhosts;
	for (size_t i = 0; i < src->ngpus; i++) {
		dst->gpus[g0 + i] = src->gpus[i];
		dst->gpus[g0 + i].host += h0;
	}
	dst->ngpus += src->ngpus;
	for (size_t i = 0; i < src->nsessions; i++) {
		struct report_session *s = &dst->sessions[dst->nsessions++];

		*s = src->sessions[i];
		s->gpu += g0;
		s->host += h0;
	}
	/* src's GPUs, and so their timelines, now belong to dst, and so do
	   the strings its sessions' identities point into. */
	src->ngpus = 0;
	if (src->strings != NULL) {
		struct report_strings *last = src->strings;

		while (last->next != NULL)
			last = last->next;
		last->next = dst->strings;
		dst->strings = src->strings;
		src->strings = NULL;
	}

	rollup_gpu_merge(&dst->total, &src->total);
	for (int d = 0; d < 7; d++)
		for (int h = 0; h < 24; h++)
			rollup_gpu_merge(&dst->heat[d][h], &src->heat[d][h]);
	if (src->start_ms < dst->start_ms)
		dst->start_ms = src->start_ms;
	dst->end_ms = end;
	if (src->last_tick_ms > dst->last_tick_ms)
		dst->last_tick_ms = src->last_tick_ms;
	dst->used_rollups |= src->used_rollups;
	dst->gpu_window_ms += src->gpu_window_ms;
	report_free(src);

	if (dst->nsessions > 1)
		qsort(dst->sessions, dst->nsessions, sizeof(*dst->sessions),
		    cmp_session);
	if (group_identities(dst) != 0)
		return util_err(err, errlen, "out of memory");
	return 0;
}

const char *
report_place(const char *container, const char *pod, const char *unit,
    const char *slurm_job, char *buf, size_t len)
{
	size_t ulen = strlen(unit);

	if (pod[0] != '\0')
		/* A pod UID is long; its start tells pods apart. */
		snprintf(buf, len, "pod %.8s%s", pod, strlen(pod) > 8 ?
		    "\xe2\x80\xa6" : "");
	else if (container[0] != '\0')
		snprintf(buf, len, "container %s", container);
	else if (slurm_job[0] != '\0')
		snprintf(buf, len, "slurm %s", slurm_job);
	else if (ulen > 0 && !(strncmp(unit, "session-", 8) == 0 &&
	    ulen > 6 && strcmp(unit + ulen - 6, ".scope") == 0))
		snprintf(buf, len, "unit %s", unit);
	else if (len > 0)
		buf[0] = '\0';
	return buf;
}


int
report_has_mig(const struct report *rep)
{
	for (size_t i = 0; i < rep->ngpus; i++)
		if (rep->gpus[i].info.parent_uuid[0] != '\0')
			return 1;
	return 0;
}

const char *
report_gpu_label(const struct report *rep, size_t gpu, char *buf,
    size_t len)
{
	const struct report_gpu *g = &rep->gpus[gpu];
	const char *name;
	size_t n = 4, nlen, o;

	char card[16] = "";

	/* A card that replaced another in its slot: GPU-0#2. */
	if (g->card > 1)
		snprintf(card, sizeof(card), "#%d", g->card);
	if (g->info.parent_uuid[0] == '\0') {
		snprintf(buf, len, "GPU-%d%s", g->info.index, card);
		return buf;
	}
	name = mig_name(g->info.uuid);
	nlen = strlen(name);
	/* Longer while another instance of the same GPU starts the same. */
	for (size_t i = 0; i < rep->ngpus; i++) {
		const struct report_gpu *h = &rep->gpus[i];

		if (i == gpu || h->host != g->host ||
		    strcmp(h->info.parent_uuid, g->info.parent_uuid) != 0)
			continue;
		while (n < nlen && strncmp(mig_name(h->info.uuid), name, n) ==
		    0)
			n++;
	}
	if (n > nlen)
		n = nlen;
	snprintf(buf, len, "GPU-%d%s/MIG-", g->info.index, card);
	o = strlen(buf);
	for (size_t i = 0; i < n && o + 1 < len; i++) {
		char c = name[i];

		if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		    (c >= 'A' && c <= 'Z') || c == '-' || c == '/')
			buf[o++] = c;
	}
	buf[o] = '\0';
	return buf;
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

/* Observed / possible GPU time, 0..1. */
static double
coverage(const struct rollup_gpu *r, double possible)
{
	double c;

	if (possible <= 0)
		return 0;
	c = (double)rollup_gpu_known_ms(r) / possible;
	/* A tick counts wholly, so the first one may reach past the start. */
	return c > 1 ? 1 : c;
}

double
report_coverage(const struct report *rep)
{
	return coverage(&rep->total, (double)rep->gpu_window_ms);
}

int64_t
report_unobserved_ms(const struct report *rep)
{
	int64_t missing = rep->gpu_window_ms -
	    rollup_gpu_known_ms(&rep->total);

	return missing > 0 ? missing : 0;
}

double
report_host_coverage(const struct report_host *h)
{
	return coverage(&h->total, (double)h->gpu_window_ms);
}

double
report_idle_gpu_hours(const struct report *rep)
{
	return (double)(rep->total.ms[STATE_IDLE_HELD] +
	    rep->total.ms[STATE_TRULY_IDLE]) / MS_PER_HOUR;
}

/*
 * Each GPU's idle share of the time it was watched (in ticks, unknown
 * time included: unknown is not idle), times the part of its host's time
 * (the union of its GPUs') it was there for. A GPU lost, or unknown all
 * along (a MIG instance), counts only while it was seen idle; a card
 * replaced half way counts for its half; a collector stopped for a while
 * leaves the shares as they were. When every GPU was watched all along
 * this is the idle share times the number of GPUs.
 */
double
report_gpus_unused(const struct report *rep)
{
	double sum = 0;

	for (size_t i = 0; i < rep->ngpus; i++) {
		const struct report_gpu *g = &rep->gpus[i];
		const struct report_host *h = &rep->hosts[g->host];
		int64_t watched = 0, idle;

		for (int st = 0; st < STATE_COUNT; st++)
			watched = util_sat_add(watched, g->r.ms[st]);
		idle = util_sat_add(g->r.ms[STATE_IDLE_HELD],
		    g->r.ms[STATE_TRULY_IDLE]);
		if (watched <= 0 || h->present_ms <= 0)
			continue;
		sum += (double)idle / (double)watched * (double)g->present_ms /
		    (double)h->present_ms;
	}
	return sum;
}

double
report_mean_util(const struct rollup_gpu *r)
{
	if (r->util_ms <= 0)
		return -1;
	return (double)r->util_pm_ms / (double)r->util_ms / 10.0;
}

double
report_session_util(const struct report_session *s)
{
	return rollup_proc_mean_util(&s->r);
}

double
report_identity_util(const struct report_identity *id)
{
	if (id->util_lost_ms > 0 || id->util_ms <= 0)
		return -1;
	return (double)id->util_pm_ms / (double)id->util_ms / 10.0;
}

/* What report_rows keeps between rows. */
struct rows {
	const struct report_options *o;
	const char	*host;
	struct store	*st;
	struct store_gpu *gpus;		/* every GPU in the database */
	size_t		 ngpus;
	struct imap	 proc_slot;	/* proc id -> index in who */
	struct {
		uint32_t	pid;
		struct identity	who;
	}		*who;
	size_t		 nwho, who_cap;
	struct report_row_proc *procs;
	size_t		 procs_cap;
	int		 (*fn)(void *, const struct report_row *);
	void		*ctx;
	char		*err;
	size_t		 errlen;
};

/* The identity of a process key, read once per report. */
static int
row_identity(struct rows *w, int64_t proc_id, size_t *slot)
{
	int64_t v, start;

	if (imap_get(&w->proc_slot, proc_id, 0, &v) == 0) {
		*slot = (size_t)v;
		return 0;
	}
	if (w->nwho == w->who_cap) {
		size_t ncap = w->who_cap ? w->who_cap * 2 : 16;
		void *n = realloc(w->who, ncap * sizeof(*w->who));

		if (n == NULL)
			return util_err(w->err, w->errlen, "out of memory");
		w->who = n;
		w->who_cap = ncap;
	}
	if (store_process(w->st, proc_id, &w->who[w->nwho].pid, &start,
	    &w->who[w->nwho].who, w->err, w->errlen) != 0)
		return -1;
	if (imap_put(&w->proc_slot, proc_id, 0, (int64_t)w->nwho) != 0)
		return util_err(w->err, w->errlen, "out of memory");
	*slot = w->nwho++;
	return 0;
}

static int
row_sink(void *ctx, const struct store_row *r)
{
	struct rows *w = ctx;
	struct report_row row;
	int partial = !r->procs_known, known = 0;

	memset(&row, 0, sizeof(row));
	for (size_t i = 0; i < w->ngpus && row.gpu == NULL; i++)
		if (w->gpus[i].id == r->gpu_id)
			row.gpu = &w->gpus[i];
	if (row.gpu == NULL)
		return 0;	/* a sample without its GPU: as the report */
	if (r->nprocs > w->procs_cap) {
		void *n = realloc(w->procs, r->nprocs * sizeof(*w->procs));

		if (n == NULL)
			return util_err(w->err, w->errlen, "out of memory");
		w->procs = n;
		w->procs_cap = r->nprocs;
	}
	/* Identities first: the array of them may move while it grows. */
	for (size_t i = 0; i < r->nprocs; i++) {
		size_t slot = 0;

		if (row_identity(w, r->procs[i].proc_id, &slot) != 0)
			return -1;
		w->procs[i].pid = (uint32_t)slot;
	}
	for (size_t i = 0; i < r->nprocs; i++) {
		struct report_row_proc *p = &w->procs[i];
		size_t slot = p->pid;

		p->pid = w->who[slot].pid;
		p->who = &w->who[slot].who;
		p->mem_mib = r->procs[i].mem_mib;
		p->util_pm = r->procs[i].util_pm;
		p->state = classify_process(&w->o->thr, p->util_pm, r->util_pm,
		    p->mem_mib);
		if (p->mem_mib == MIB_UNKNOWN)
			partial = 1;
		else {
			row.held_mib = util_sat_add(row.held_mib, p->mem_mib);
			known = 1;
		}
	}
	row.host = w->host;
	row.ts_ms = r->ts_ms;
	row.span_ms = r->span_ms;
	row.util_pm = r->util_pm;
	row.util_max_pct = r->util_max_pct;
	row.util_cover_pm = r->util_cover_pm;
	row.util_src = (enum util_source)r->util_src;
	row.procs_known = r->procs_known;
	row.state = classify_gpu(&w->o->thr, r->util_pm, row.held_mib,
	    partial);
	if (r->nprocs > 0 && !known)
		row.held_mib = MIB_UNKNOWN;
	row.procs = w->procs;
	row.nprocs = r->nprocs;
	if (w->fn(w->ctx, &row) != 0)
		return util_err(w->err, w->errlen, "cannot write a row");
	return 0;
}

int
report_rows(struct store *st, const struct report *rep, size_t h,
    const struct report_options *o,
    int (*fn)(void *ctx, const struct report_row *), void *ctx, char *err,
    size_t errlen)
{
	struct rows w;
	int ret;

	memset(&w, 0, sizeof(w));
	w.o = o;
	w.host = rep->hosts[h].hostname;
	w.st = st;
	w.fn = fn;
	w.ctx = ctx;
	w.err = err;
	w.errlen = errlen;
	if (store_gpus(st, &w.gpus, &w.ngpus, err, errlen) != 0)
		return -1;
	ret = store_scan_rows(st, rep->hosts[h].start_ms, rep->hosts[h].end_ms,
	    o->gpu_id, row_sink, &w, err, errlen);
	free(w.gpus);
	free(w.who);
	free(w.procs);
	imap_free(&w.proc_slot);
	return ret;
}
