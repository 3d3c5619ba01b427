/*
 * The live view's model (top.h): the newest tick's GPUs and processes,
 * and each process's current idle-held streak. The streak is classified
 * with the thresholds of the rollups, by classify.c through rollup.c as
 * everywhere, so a streak that runs through whole hours can be read from
 * the rollups' sums instead of the ticks.
 */
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "imap.h"
#include "label.h"
#include "report.h"
#include "rollup.h"
#include "tick.h"
#include "top.h"
#include "util.h"

/* A (GPU, process) idle-held in a scan: its streak so far. */
struct streak {
	int64_t	gpu_id, proc_id;
	int64_t	last_tick;	/* the last tick it was idle-held at */
	int64_t	first_tick;	/* the streak's first tick */
	int64_t	first_ms;	/* ... and its time */
	int64_t	ms;		/* the streak's spans summed */
};

/* A GPU in a scan: its first and last tick there. */
/*
 * How far apart two ticks may lie and still be consecutive: two spans
 * and a second of jitter, and never less than two minutes, since a
 * collector held up (a loaded machine) caps its next span at two
 * intervals and that is no outage. A longer gap is the collector down.
 */
#define GAP_SLACK_MS	1000
#define GAP_MIN_MS	(2 * MS_PER_MINUTE)

static int64_t
gap_allowed(int64_t span_ms)
{
	int64_t g = util_sat_add(util_sat_add(span_ms, span_ms), GAP_SLACK_MS);

	return g > GAP_MIN_MS ? g : GAP_MIN_MS;
}

struct scan_gpu {
	int64_t	gpu_id;
	int64_t	first_tick, last_tick;
	int64_t	last_ms;	/* the time of last_tick */
};

/* One scan of raw ticks: the idle-held streaks that end at its end. */
struct scan {
	const struct thresholds *thr;
	struct imap	 at;		/* (gpu, proc) -> index in streaks */
	struct streak	*streaks;
	size_t		 nstreaks, cap;
	struct scan_gpu	*gpus;
	size_t		 ngpus, gcap;
	/* The newest tick's rows, when asked for (the view's scan). */
	struct top_view	*view;
	int64_t		 newest;	/* its key */
	size_t		 vgcap, vpcap;	/* the view's arrays' room */
};

static void
scan_free(struct scan *s)
{
	imap_free(&s->at);
	free(s->streaks);
	free(s->gpus);
}

static struct scan_gpu *
scan_gpu(struct scan *s, int64_t gpu_id)
{
	for (size_t i = 0; i < s->ngpus; i++)
		if (s->gpus[i].gpu_id == gpu_id)
			return &s->gpus[i];
	if (grow((void **)&s->gpus, &s->gcap, s->ngpus + 1,
	    sizeof(*s->gpus)) != 0)
		return NULL;
	memset(&s->gpus[s->ngpus], 0, sizeof(s->gpus[0]));
	s->gpus[s->ngpus].gpu_id = gpu_id;
	return &s->gpus[s->ngpus++];
}

/* A streak of (gpu, proc) that runs to the scan's end, or NULL. */
static struct streak *
scan_current(struct scan *s, int64_t gpu_id, int64_t proc_id)
{
	struct scan_gpu *g = NULL;
	int64_t k;

	for (size_t i = 0; i < s->ngpus; i++)
		if (s->gpus[i].gpu_id == gpu_id)
			g = &s->gpus[i];
	if (g == NULL || imap_get(&s->at, gpu_id, proc_id, &k) != 0 ||
	    s->streaks[k].last_tick != g->last_tick)
		return NULL;
	return &s->streaks[k];
}

/* Whether a streak runs from its GPU's first tick of the scan. */
static int
scan_from_start(struct scan *s, const struct streak *k)
{
	for (size_t i = 0; i < s->ngpus; i++)
		if (s->gpus[i].gpu_id == k->gpu_id)
			return k->first_tick == s->gpus[i].first_tick;
	return 0;
}

/* The newest tick's GPU row into the view. */
static int
keep_row(struct scan *s, const struct store_row *row)
{
	struct top_view *v = s->view;
	struct top_gpu *g;

	if (grow((void **)&v->gpus, &s->vgcap, v->ngpus + 1,
	    sizeof(*v->gpus)) != 0 || grow((void **)&v->procs, &s->vpcap,
	    v->nprocs + row->nprocs, sizeof(*v->procs)) != 0)
		return -1;
	v->span_ms = row->span_ms;
	g = &v->gpus[v->ngpus];
	memset(g, 0, sizeof(*g));
	g->info.id = row->gpu_id;
	g->util_pm = row->reading.util_pm;
	g->procs_known = row->reading.procs_known;
	g->held_partial = !row->reading.procs_known;
	for (size_t i = 0; i < row->nprocs; i++) {
		const struct store_row_proc *rp = &row->procs[i];
		struct top_proc *p = &v->procs[v->nprocs++];

		memset(p, 0, sizeof(*p));
		p->gpu = v->ngpus;
		p->proc_id = rp->proc_id;
		p->mem_mib = rp->mem_mib;
		p->util_pm = rp->util_pm;
		p->state = classify_process(&v->thr, rp->util_pm,
		    row->reading.util_pm, rp->mem_mib);
		if (rp->mem_mib == MIB_UNKNOWN)
			g->held_partial = 1;
		else
			g->held_mib = util_sat_add(g->held_mib, rp->mem_mib);
	}
	g->state = classify_gpu(&v->thr, g->util_pm, g->held_mib,
	    g->held_partial);
	v->ngpus++;
	return 0;
}

/* One GPU at one tick into the scan's streaks. */
static int
scan_row(void *ctx, const struct store_row *row)
{
	struct scan *s = ctx;
	struct scan_gpu *g = scan_gpu(s, row->gpu_id);
	int64_t prev;

	if (g == NULL)
		return -1;
	/* A gap in the record (the collector was down) ends every streak
	   on the GPU: nobody saw what the process did then. A tick's span
	   is at most two intervals, so a longer gap is one. */
	prev = g->last_tick != 0 && row->ts_ms - g->last_ms <=
	    gap_allowed(row->span_ms) ? g->last_tick : 0;
	if (g->first_tick == 0)
		g->first_tick = row->tick_id;
	g->last_tick = row->tick_id;
	g->last_ms = row->ts_ms;
	for (size_t i = 0; i < row->nprocs; i++) {
		const struct store_row_proc *p = &row->procs[i];
		struct streak *k;
		int64_t at;

		if (classify_process(s->thr, p->util_pm, row->reading.util_pm,
		    p->mem_mib) != STATE_IDLE_HELD)
			continue;
		if (imap_get(&s->at, row->gpu_id, p->proc_id, &at) != 0) {
			if (grow((void **)&s->streaks, &s->cap, s->nstreaks + 1,
			    sizeof(*s->streaks)) != 0)
				return -1;
			at = (int64_t)s->nstreaks++;
			if (imap_put(&s->at, row->gpu_id, p->proc_id, at) != 0)
				return -1;
			memset(&s->streaks[at], 0, sizeof(s->streaks[at]));
			s->streaks[at].gpu_id = row->gpu_id;
			s->streaks[at].proc_id = p->proc_id;
		}
		k = &s->streaks[at];
		/* A process listed twice in one tick (NVML can) counts once. */
		if (k->last_tick == row->tick_id)
			continue;
		/* Idle-held at this GPU's tick before too: it goes on. */
		if (prev != 0 && k->last_tick == prev) {
			k->ms = util_sat_add(k->ms, row->span_ms);
		} else {
			k->first_tick = row->tick_id;
			k->first_ms = row->ts_ms;
			k->ms = row->span_ms;
		}
		k->last_tick = row->tick_id;
	}
	if (s->view != NULL && row->tick_id >= s->newest) {
		if (row->tick_id > s->newest) {
			/* A newer tick than the rows kept: start again. */
			s->view->ngpus = 0;
			s->view->nprocs = 0;
			s->newest = row->tick_id;
		}
		return keep_row(s, row);
	}
	return 0;
}

static int
scan_ticks(struct store *st, struct scan *s, int64_t from_ms, int64_t to_ms,
    char *err, size_t errlen)
{
	return store_scan_rows(st, from_ms, to_ms, -1, scan_row, s, err,
	    errlen);
}

/* A streak being followed back through the rollups. */
struct follow {
	struct top_proc	*p;
	int64_t		 gpu_id;
	int		 done;
	int64_t		 began_in;	/* the hour it began in, to decode;
					   0 when it began on an hour */
	/* Of the hour being read: */
	int64_t		 gpu_n;		/* ticks of its GPU */
	struct rollup_proc r;		/* its sums, r.n 0 when absent */
};

struct follow_hour {
	struct follow	*f;
	size_t		 n, left;
	int64_t		 expect_hour;	/* the hour that must come next */
	int64_t		 slack_ms;	/* of an hour's record, missing */
};

static int
follow_gpu(void *ctx, int64_t hour_ms, int64_t gpu_id,
    const struct rollup_gpu *r)
{
	struct follow_hour *h = ctx;

	(void)hour_ms;
	for (size_t i = 0; i < h->n; i++)
		if (!h->f[i].done && h->f[i].gpu_id == gpu_id)
			for (int s = 0; s < STATE_COUNT; s++)
				h->f[i].gpu_n += r->n[s];
	return 0;
}

static int
follow_proc(void *ctx, int64_t gpu_id, int64_t proc_id,
    const struct rollup_proc *r)
{
	struct follow_hour *h = ctx;

	for (size_t i = 0; i < h->n; i++)
		if (!h->f[i].done && h->f[i].gpu_id == gpu_id &&
		    h->f[i].p->proc_id == proc_id)
			rollup_proc_merge(&h->f[i].r, r);
	return 0;
}

/*
 * After an hour's rollups: a process idle-held at every tick of its GPU
 * in an hour recorded whole adds the hour's idle time and goes on back.
 * Any other ends its streak: in this hour (to decode: where it began, or
 * after the gap in the record) or at its end (the hour is not the one
 * before: nothing was recorded in between). Nonzero when no streak goes
 * on.
 */
static int
follow_hour_done(void *ctx, int64_t hour_ms)
{
	struct follow_hour *h = ctx;
	int next = hour_ms == h->expect_hour;

	h->expect_hour = hour_ms - MS_PER_HOUR;
	for (size_t i = 0; i < h->n; i++) {
		struct follow *f = &h->f[i];

		if (f->done)
			continue;
		if (!next) {
			f->done = 1;
			f->began_in = 0;
			h->left--;
		} else if (f->r.n > 0 && f->r.n == f->gpu_n &&
		    f->r.idle_ms == f->r.ms &&
		    f->r.ms >= MS_PER_HOUR - h->slack_ms) {
			f->p->idle_ms = util_sat_add(f->p->idle_ms,
			    f->r.idle_ms);
			f->p->idle_since_ms = f->r.first_ms;
		} else {
			f->done = 1;
			f->began_in = f->r.n > 0 ? hour_ms : 0;
			h->left--;
		}
		f->gpu_n = 0;
		rollup_proc_init(&f->r);
	}
	return h->left == 0;
}

/*
 * Streaks that run through the whole newest hour, followed back, newest
 * hour first, through the rollups; then the hours they began in are
 * decoded, each once, to find where in it that was.
 */
static int
follow_back(struct store *st, struct top_view *v, struct follow *f, size_t n,
    int64_t hour_ms, char *err, size_t errlen)
{
	/* The gap scan_row allows between two ticks, at the longest span. */
	struct follow_hour h = { f, n, n, hour_ms - MS_PER_HOUR,
	    gap_allowed(v->interval_ms) };
	struct store_sink sink = { &h, follow_gpu, follow_proc, NULL, NULL };

	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		rollup_proc_init(&f[i].r);
	if (store_scan_rollups_back(st, hour_ms, &sink, follow_hour_done,
	    err, errlen) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int64_t hour = f[i].began_in;
		struct scan s;

		if (hour == 0)
			continue;
		memset(&s, 0, sizeof(s));
		s.thr = &v->thr;
		if (scan_ticks(st, &s, hour, hour + MS_PER_HOUR, err,
		    errlen) != 0) {
			scan_free(&s);
			return -1;
		}
		/* Every streak that began in this hour, at once. */
		for (size_t j = i; j < n; j++) {
			const struct streak *k;

			if (f[j].began_in != hour)
				continue;
			f[j].began_in = 0;
			if ((k = scan_current(&s, f[j].gpu_id,
			    f[j].p->proc_id)) != NULL) {
				f[j].p->idle_ms = util_sat_add(f[j].p->idle_ms,
				    k->ms);
				f[j].p->idle_since_ms = k->first_ms;
			}
		}
		scan_free(&s);
	}
	return 0;
}

/* Idle-held first, the longest streak first; then by GPU, memory, PID. */
static int
proc_order(const void *a, const void *b)
{
	const struct top_proc *p = a, *q = b;

	if ((p->state == STATE_IDLE_HELD) != (q->state == STATE_IDLE_HELD))
		return p->state == STATE_IDLE_HELD ? -1 : 1;
	if (p->idle_ms != q->idle_ms)
		return p->idle_ms > q->idle_ms ? -1 : 1;
	if (p->gpu != q->gpu)
		return p->gpu < q->gpu ? -1 : 1;
	if (p->mem_mib != q->mem_mib)
		return p->mem_mib > q->mem_mib ? -1 : 1;
	return p->pid < q->pid ? -1 : p->pid > q->pid;
}

/* The GPUs' facts and labels, as the reports give them. */
static int
label_gpus(struct store *st, struct top_view *v, char *err, size_t errlen)
{
	struct store_gpu *all;
	size_t n;
	int *card, *of;

	if (store_gpus(st, &all, &n, err, errlen) != 0)
		return -1;
	card = calloc(n + 1, sizeof(*card));
	of = calloc(v->ngpus + 1, sizeof(*of));
	if (card == NULL || of == NULL || report_number_cards(all, n,
	    card) != 0) {
		free(card);
		free(of);
		free(all);
		return util_err(err, errlen, "out of memory");
	}
	for (size_t i = 0; i < v->ngpus; i++) {
		of[i] = 1;
		for (size_t j = 0; j < n; j++)
			if (all[j].id == v->gpus[i].info.id) {
				v->gpus[i].info = all[j];
				of[i] = card[j];
			}
	}
	for (size_t i = 0; i < v->ngpus; i++) {
		struct top_gpu *g = &v->gpus[i];
		size_t chars = 0;

		/* Longer while another instance of its GPU starts the same. */
		for (size_t k = 0; g->info.parent_uuid[0] != '\0' &&
		    k < v->ngpus; k++)
			if (k != i && strcmp(v->gpus[k].info.parent_uuid,
			    g->info.parent_uuid) == 0)
				chars = label_mig_chars(g->info.uuid,
				    v->gpus[k].info.uuid, chars);
		label_gpu(g->label, sizeof(g->label), g->info.index, of[i],
		    g->info.uuid, g->info.parent_uuid, chars);
	}
	free(of);
	free(card);
	free(all);
	return 0;
}

/* GPUs by index, then UUID, as store_gpus orders them. */
static void
sort_gpus(struct top_view *v)
{
	/* Insertion sort, carrying the processes' references along: a
	   tick has a handful of GPUs. */
	for (size_t i = 1; i < v->ngpus; i++)
		for (size_t j = i; j > 0; j--) {
			struct top_gpu *a = &v->gpus[j - 1], *b = &v->gpus[j];
			struct top_gpu t;

			if (a->info.index < b->info.index ||
			    (a->info.index == b->info.index &&
			    strcmp(a->info.uuid, b->info.uuid) <= 0))
				break;
			t = *a;
			*a = *b;
			*b = t;
			for (size_t k = 0; k < v->nprocs; k++)
				if (v->procs[k].gpu == j)
					v->procs[k].gpu = j - 1;
				else if (v->procs[k].gpu == j - 1)
					v->procs[k].gpu = j;
		}
}

/* Who each process is, from the procs table. */
static int
identify(void *ctx, int64_t proc_id, uint32_t pid, int64_t start_ms,
    const struct identity *id)
{
	struct top_view *v = ctx;

	(void)start_ms;
	for (size_t i = 0; i < v->nprocs; i++)
		if (v->procs[i].proc_id == proc_id) {
			v->procs[i].pid = pid;
			v->procs[i].id = *id;
		}
	return 0;
}

static int
id_order(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static int
identities(struct store *st, struct top_view *v, char *err, size_t errlen)
{
	int64_t *ids = calloc(v->nprocs + 1, sizeof(*ids));
	size_t n = 0;
	int rc;

	if (ids == NULL)
		return util_err(err, errlen, "out of memory");
	for (size_t i = 0; i < v->nprocs; i++)
		ids[i] = v->procs[i].proc_id;
	qsort(ids, v->nprocs, sizeof(*ids), id_order);
	for (size_t i = 0; i < v->nprocs; i++)
		if (n == 0 || ids[n - 1] != ids[i])
			ids[n++] = ids[i];
	rc = store_processes(st, ids, n, identify, v, err, errlen);
	free(ids);
	return rc;
}

int
top_newest(struct store *st, int64_t *ticks, char *err, size_t errlen)
{
	struct store_summary sum;

	if (store_summary(st, &sum, err, errlen) != 0)
		return -1;
	*ticks = sum.ticks;
	return 0;
}

int
top_read(struct store *st, struct top_view *v, char *err, size_t errlen)
{
	struct store_summary sum;
	struct follow *f = NULL;
	struct scan s;
	size_t nf = 0;
	int64_t hour;
	int rc = -1;

	memset(v, 0, sizeof(*v));
	v->thr = store_meta(st)->rollup;
	util_strlcpy(v->host, store_meta(st)->hostname, sizeof(v->host));
	if (store_summary(st, &sum, err, errlen) != 0)
		return -1;
	v->ticks = sum.ticks;
	v->interval_ms = sum.run_interval_ms;
	if (sum.ticks == 0)
		return 0;
	/* The newest hour's ticks: the newest tick, and the streaks. */
	memset(&s, 0, sizeof(s));
	s.thr = &v->thr;
	s.view = v;
	hour = util_hour_floor(sum.last_tick_ms);
	if (scan_ticks(st, &s, hour, sum.last_tick_ms + 1, err, errlen) != 0)
		goto out;
	v->have_tick = 1;
	v->tick_ms = sum.last_tick_ms;
	if ((f = calloc(v->nprocs + 1, sizeof(*f))) == NULL) {
		util_err(err, errlen, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < v->nprocs; i++) {
		struct top_proc *p = &v->procs[i];
		int64_t gpu_id = v->gpus[p->gpu].info.id;
		const struct streak *k = scan_current(&s, gpu_id, p->proc_id);

		if (k == NULL || p->state != STATE_IDLE_HELD)
			continue;
		p->idle_ms = k->ms;
		p->idle_since_ms = k->first_ms;
		if (scan_from_start(&s, k)) {
			f[nf].p = p;
			f[nf].gpu_id = gpu_id;
			nf++;
		}
	}
	if (follow_back(st, v, f, nf, hour, err, errlen) != 0)
		goto out;
	if (identities(st, v, err, errlen) != 0 ||
	    label_gpus(st, v, err, errlen) != 0)
		goto out;
	sort_gpus(v);
	qsort(v->procs, v->nprocs, sizeof(*v->procs), proc_order);
	rc = 0;
out:
	free(f);
	scan_free(&s);
	if (rc != 0)
		top_view_free(v);
	return rc;
}

void
top_view_free(struct top_view *v)
{
	free(v->gpus);
	free(v->procs);
	v->gpus = NULL;
	v->procs = NULL;
	v->ngpus = 0;
	v->nprocs = 0;
}

const char *
top_where(const struct identity *id, char *buf, size_t len)
{
	return report_place(id->container, id->pod, id->unit, id->slurm_job,
	    buf, len);
}
