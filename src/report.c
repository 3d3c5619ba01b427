/*
 * Builds a report for a window: whole hours from the collector's rollups,
 * the partial hours at the window's edges from raw ticks. With thresholds
 * other than the ones the rollups were made with, or with a filter of
 * processes (--user, --job, ...), everything is raw. The
 * numbers a writer reads off a built report are here too; the sessions'
 * identities are in report-identity.c, GPU labels and --gpu in
 * report-gpu.c, merging in report-merge.c, raw rows in report-rows.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "imap.h"
#include "report-internal.h"
#include "tz.h"
#include "util.h"

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
	/* The sessions found so far (report-sessions.c). */
	struct report_sessions sessions;
	/* The parts of the window and where they are read from (scan_sums):
	   [hs, he) hourly only; raw from from on; whole hours [lo, hi)
	   from rollups unless raw. */
	int64_t		 hs, he, from, lo, hi;
	int		 raw;
	struct rollup_gpu *timeline;	/* nall x ntimeline, by slot */
	/* The last UTC hour a tick's heatmap cell was looked up in: its
	   offset serves the hour's other ticks when it is whole. */
	int64_t		 tz_hour;	/* INT64_MIN: none yet */
	int64_t		 tz_offset_ms;
	int		 tz_whole;
	/*
	 * The last lookups, which the next record mostly repeats: an hour's
	 * GPUs and a tick's come together, a GPU's processes one after the
	 * other. INT64_MIN: none yet.
	 */
	int64_t		 last_gpu_id;	/* ... its slot in all, -1 none */
	int64_t		 last_gpu_slot;
	int64_t		 heat_ms;	/* ... its heatmap cell */
	struct rollup_gpu *heat_cell;
	int64_t		 timeline_ms;	/* ... its bucket, -1 none */
	int64_t		 timeline_i;
	/* A filter: the processes that pass it, by key (1 pass, 0 not),
	   read from the store as the scan meets them. */
	struct store	*st;
	const struct report_filter *filter;	/* NULL: none */
	struct imap	 wanted;
	char		*err;
	size_t		 errlen;
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

int64_t
report_floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int64_t
report_next_step(int64_t step)
{
	for (size_t i = 0; i < ARRAY_LEN(timeline_steps); i++)
		if (timeline_steps[i] > step)
			return timeline_steps[i];
	return step * 2;
}

/* Buckets of step that [start, end) touches. */
size_t
report_timeline_buckets(int64_t start, int64_t end, int64_t step)
{
	if (end <= start)
		return 0;
	return (size_t)(report_floor_div(end - 1, step) -
	    report_floor_div(start, step) + 1);
}

/* The finest step of at least min_step that fits the timeline's buckets. */
static int64_t
timeline_step(int64_t start, int64_t end, int64_t min_step)
{
	int64_t step = timeline_steps[0];

	while (step < min_step || report_timeline_buckets(start, end, step) >
	    REPORT_TIMELINE_MAX)
		step = report_next_step(step);
	return step;
}

static void
timeline_add(struct build *b, int64_t slot, int64_t ts_ms,
    const struct rollup_gpu *r)
{
	struct report *rep = b->rep;
	int64_t i;

	if (ts_ms != b->timeline_ms) {
		i = report_floor_div(ts_ms - rep->timeline_start_ms,
		    rep->timeline_step_ms);
		b->timeline_ms = ts_ms;
		b->timeline_i = i < 0 || (size_t)i >= rep->ntimeline ? -1 : i;
	}
	if ((i = b->timeline_i) < 0)
		return;
	rollup_gpu_merge(&b->timeline[(size_t)slot * rep->ntimeline +
	    (size_t)i], r);
}

/* A GPU's slot in b->all; -1 a GPU the database does not list. */
static int
gpu_slot(struct build *b, int64_t gpu_id, int64_t *slot)
{
	if (gpu_id != b->last_gpu_id) {
		b->last_gpu_id = gpu_id;
		if (imap_get(&b->gpu_slot, gpu_id, 0, &b->last_gpu_slot) != 0)
			b->last_gpu_slot = -1;
	}
	*slot = b->last_gpu_slot;
	return *slot < 0 ? -1 : 0;
}

/*
 * Adds r to the heatmap cell of ms: weekday and hour in the report's time
 * zone. Ticks come in time order, so one C library lookup serves an hour
 * of them, unless a DST change or a fractional offset falls in the hour.
 */
static void
heat_add(struct build *b, int64_t ms, const struct rollup_gpu *r)
{
	int64_t hour, local;
	struct tz_time t;

	if (ms == b->heat_ms) {
		rollup_gpu_merge(b->heat_cell, r);
		return;
	}
	b->heat_ms = ms;
	hour = util_hour_floor(ms);
	if (tz_is_utc()) {
		local = ms;
	} else {
		if (hour != b->tz_hour) {
			b->tz_hour = hour;
			b->tz_whole = tz_whole_hour(hour, &b->tz_offset_ms);
		}
		if (!b->tz_whole) {
			tz_local(ms, &t);
			b->heat_cell = &b->rep->heat[t.weekday][t.hour];
			rollup_gpu_merge(b->heat_cell, r);
			return;
		}
		local = ms + b->tz_offset_ms;
	}
	b->heat_cell = &b->rep->heat[util_weekday(local)]
	    [util_hour_of_day(local)];
	rollup_gpu_merge(b->heat_cell, r);
}

/*
 * Whether every UTC hour of [lo, hi) is one local hour: else hourly
 * rollups cannot say which local hour their time fell in (a zone a half
 * hour off UTC, a DST change in mid-hour), and the report reads raw ticks.
 */
static int
hours_are_local_hours(int64_t lo, int64_t hi)
{
	int64_t off;

	if (tz_is_utc())
		return 1;
	for (int64_t h = lo; h < hi; h += MS_PER_HOUR)
		if (!tz_whole_hour(h, &off))
			return 0;
	return 1;
}

static int
sink_gpu_hour(void *ctx, int64_t hour_ms, int64_t gpu_id,
    const struct rollup_gpu *r)
{
	struct build *b = ctx;
	int64_t slot;

	if (gpu_slot(b, gpu_id, &slot) != 0)
		return 0;	/* a GPU row without its GPU: ignore */
	if (b->in_rollups) {
		struct seen *w = &b->seen[slot];

		if (hour_ms < w->first_hour)
			w->first_hour = hour_ms;
		if (hour_ms > w->last_hour)
			w->last_hour = hour_ms;
	}
	rollup_gpu_merge(&b->gpu_sums[slot], r);
	/* A raw tick's cell is its own instant's (sink_gpu_tick); an hour of
	   rollups is one local hour (scan_window made sure). */
	if (b->in_rollups)
		heat_add(b, hour_ms, r);
	/* Hourly sums serve whole-hour buckets; finer ones come by tick. */
	if (b->rep->timeline_step_ms >= MS_PER_HOUR)
		timeline_add(b, slot, hour_ms, r);
	return 0;
}

/*
 * The whole window's sums and timeline, from each GPU's: summed once at
 * the end, not merged again with every record (a year of hours is 70 000
 * records on 8 GPUs).
 */
static void
sum_gpus(struct build *b)
{
	struct report *rep = b->rep;

	for (size_t i = 0; i < b->nall; i++) {
		rollup_gpu_merge(&rep->total, &b->gpu_sums[i]);
		for (size_t t = 0; t < rep->ntimeline; t++)
			rollup_gpu_merge(&rep->timeline[t],
			    &b->timeline[i * rep->ntimeline + t]);
	}
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

	if (gpu_slot(b, gpu_id, &slot) != 0)
		return 0;
	seen_tick(b, slot, ts_ms, r);
	heat_add(b, ts_ms, r);
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

	if (gpu_slot(b, gpu_id, &slot) == 0)
		seen_tick(b, slot, ts_ms, r);
	return 0;
}

static int
sink_proc(void *ctx, int64_t gpu_id, int64_t proc_id,
    const struct rollup_proc *r)
{
	struct build *b = ctx;
	int64_t i;

	/* A process row without its GPU (a damaged file): ignored, as the
	   GPU rows without their GPU are. */
	if (gpu_slot(b, gpu_id, &i) != 0)
		return 0;
	return report_sessions_add(&b->sessions, (uint32_t)i, proc_id, r);
}

/* The second scan's: only the sessions set apart are summed again. */
static int
recount_proc(void *ctx, int64_t gpu_id, int64_t proc_id,
    const struct rollup_proc *r)
{
	struct build *b = ctx;
	int64_t i;

	if (gpu_slot(b, gpu_id, &i) != 0)
		return 0;
	return report_sessions_recount(&b->sessions, (uint32_t)i, proc_id, r);
}

/* Whether a process passes the report's filter: its identity is read
   once, when the scan first meets it. */
static int
proc_wanted(void *ctx, int64_t proc_id)
{
	struct build *b = ctx;
	struct identity who;
	uint32_t pid;
	int64_t v, start;

	if (imap_get(&b->wanted, proc_id, 0, &v) == 0)
		return (int)v;
	if (store_process(b->st, proc_id, &pid, &start, &who, b->err,
	    b->errlen) != 0)
		return -1;
	v = report_filter_match(b->filter, &who);
	if (imap_put(&b->wanted, proc_id, 0, v) != 0)
		return util_err(b->err, b->errlen, "out of memory");
	return (int)v;
}

/* GPUs by index, then card, then UUID (a MIG instance's): the report's
   order, and the rank of a session's GPU while the scan runs. */
static int
gpu_order(const struct store_gpu *x, int xcard, const struct store_gpu *y,
    int ycard)
{
	if (x->index != y->index)
		return x->index < y->index ? -1 : 1;
	if (xcard != ycard)
		return xcard < ycard ? -1 : 1;
	return strcmp(x->uuid, y->uuid);
}

static int
cmp_gpu(const void *a, const void *b)
{
	const struct report_gpu *x = a, *y = b;

	return gpu_order(&x->info, x->card, &y->info, y->card);
}

/* The database's GPUs (and their cards) as cmp_gpu orders them. */
struct gpu_slots {
	const struct store_gpu	*all;
	const int		*card;
};

static int
cmp_slot(const void *a, const void *b, void *ctx)
{
	const struct gpu_slots *o = ctx;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return gpu_order(&o->all[x], o->card[x], &o->all[y], o->card[y]);
}

/*
 * Each GPU's place in the order of the report's GPUs: the report keeps
 * those with samples, sorted by cmp_gpu, whose order among any of them
 * is this one. NULL out of memory.
 */
static uint32_t *
gpu_ranks(const struct store_gpu *all, const int *card, size_t n)
{
	struct gpu_slots o = { all, card };
	uint32_t *v = calloc(n + 1, sizeof(*v)), *rank = calloc(n + 1,
	    sizeof(*rank));

	if (v == NULL || rank == NULL) {
		free(v);
		free(rank);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		v[i] = (uint32_t)i;
	if (n > 1)
		qsort_r(v, n, sizeof(*v), cmp_slot, &o);
	for (size_t i = 0; i < n; i++)
		rank[v[i]] = (uint32_t)i;
	free(v);
	return rank;
}

int
report_rank_session(const struct rollup_proc *xr, size_t xgpu, uint32_t xpid,
    int64_t xproc, const struct rollup_proc *yr, size_t ygpu, uint32_t ypid,
    int64_t yproc)
{
	if (xr->idle_ms != yr->idle_ms)
		return xr->idle_ms > yr->idle_ms ? -1 : 1;
	if (xr->ms != yr->ms)
		return xr->ms > yr->ms ? -1 : 1;
	if (xr->first_ms != yr->first_ms)
		return xr->first_ms < yr->first_ms ? -1 : 1;
	if (xgpu != ygpu)
		return xgpu < ygpu ? -1 : 1;
	if (xpid != ypid)
		return xpid < ypid ? -1 : 1;
	return xproc < yproc ? -1 : xproc > yproc;
}

int
report_cmp_session(const void *a, const void *b)
{
	const struct report_session *x = a, *y = b;

	return report_rank_session(&x->r, x->gpu, x->pid, x->proc_id, &y->r,
	    y->gpu, y->pid, y->proc_id);
}

/*
 * Where the window reaches into hours kept only as rollups (compacted,
 * store-compact.c), an edge that cuts an hour's ticks moves out to the
 * whole hour: an hour's sums cannot be cut. (An edge with none of its
 * hour's ticks on the far side stays.) [*hs, *he) is then that part of
 * the window; else both are 0.
 */
static int
hourly_part(struct store *st, struct report *rep, int64_t *hs, int64_t *he,
    char *err, size_t errlen)
{
	int64_t raw_from, h, ts;
	int found;

	*hs = *he = 0;
	if (store_raw_from(st, &raw_from, err, errlen) != 0)
		return -1;
	if (raw_from == STORE_ALL_RAW || rep->start_ms >= raw_from)
		return 0;
	h = util_hour_floor(rep->start_ms);
	if (h < rep->start_ms) {
		if (store_first_tick(st, h, rep->start_ms, &ts, &found, err,
		    errlen) != 0)
			return -1;
		if (found)
			rep->start_ms = h;
	}
	h = util_hour_floor(rep->end_ms + MS_PER_HOUR - 1);
	if (rep->end_ms < raw_from && h > rep->end_ms) {
		if (store_newest_tick(st, h, &ts, &found, err, errlen) != 0)
			return -1;
		if (found && ts >= rep->end_ms)
			rep->end_ms = h;
	}
	*hs = rep->start_ms;
	*he = rep->end_ms < raw_from ? rep->end_ms : raw_from;
	return 0;
}

/*
 * Whether a window's timeline is drawn from its ticks: rollups give whole
 * hours, so a window shorter than REPORT_TIMELINE_MIN hours would get a
 * coarse timeline from them (six hours: seven columns). Such a timeline
 * reads the ticks (two days at 30 s: 5760 a GPU), in buckets never finer
 * than the longest interval the window's runs ticked at, which would
 * leave every other bucket empty: *min_step is that interval.
 */
static int
timeline_wants_ticks(struct store *st, int64_t start, int64_t end,
    int64_t *min_step, char *err, size_t errlen)
{
	int64_t *iv = NULL;
	size_t n = 0;

	*min_step = 1;
	if (report_timeline_buckets(start, end, MS_PER_HOUR) >=
	    REPORT_TIMELINE_MIN)
		return 0;
	if (store_run_intervals(st, start, end, &iv, &n, err, errlen) != 0)
		return -1;
	if (n > 0)
		*min_step = iv[n - 1];	/* sorted: the longest last */
	free(iv);
	return 1;
}

static int
timeline_tick(void *ctx, int64_t ts_ms, int64_t gpu_id,
    const struct rollup_gpu *r)
{
	struct build *b = ctx;
	int64_t slot;

	if (gpu_slot(b, gpu_id, &slot) == 0)
		timeline_add(b, slot, ts_ms, r);
	return 0;
}

/* The timeline of the hours [lo, hi) whose sums came from rollups, from
   their ticks: only the timeline, the sums are counted. */
static int
timeline_from_ticks(struct store *st, const struct report_options *o,
    struct build *b, int64_t lo, int64_t hi, char *err, size_t errlen)
{
	struct store_sink sink = { b, seen_only_hour, seen_only_proc,
	    timeline_tick, NULL };

	return store_scan_raw(st, lo, hi, o->gpu_id, &o->thr, &sink, err,
	    errlen);
}

static int scan_sums(struct store *, const struct report_options *,
    struct build *, const struct store_sink *, int, char *, size_t);

/* Fills the window and reads its sums, from rollups where they serve. */
static int
scan_window(struct store *st, const struct report_options *o,
    struct build *b, char *err, size_t errlen)
{
	struct report *rep = b->rep;
	struct store_sink sink = { b, sink_gpu_hour, sink_proc,
	    sink_gpu_tick, b->filter != NULL ? proc_wanted : NULL };
	int64_t oldest_ts, oldest_span, lo, hi, hs, he, from, min_step;
	int found, raw, fine;

	report_asked_window(o, &rep->start_ms, &rep->end_ms);
	rep->asked_start_ms = rep->start_ms;
	if (hourly_part(st, rep, &hs, &he, err, errlen) != 0)
		return -1;
	if (store_oldest_tick(st, &oldest_ts, &oldest_span, &found, err,
	    errlen) != 0)
		return -1;
	/* The window is min(--since, age of the oldest sample). */
	if (found && oldest_ts - oldest_span > rep->start_ms)
		rep->start_ms = oldest_ts - oldest_span;
	/* History that starts after --until: an empty window at --until. */
	if (rep->start_ms > rep->end_ms - 1)
		rep->start_ms = rep->end_ms - 1;
	if (he > hs && rep->start_ms >= he)
		hs = he = 0;
	if (store_newest_tick(st, rep->end_ms, &rep->last_tick_ms, &found, err,
	    errlen) != 0)
		return -1;
	rep->history_end_ms = found ? rep->last_tick_ms : 0;
	if (!found || rep->last_tick_ms < rep->start_ms)
		rep->last_tick_ms = 0;

	/* Whole hours [lo, hi) from rollups, the edges from raw ticks. */
	from = he > hs ? he : rep->start_ms;
	lo = util_hour_floor(from + MS_PER_HOUR - 1);
	hi = util_hour_floor(rep->end_ms);
	fine = timeline_wants_ticks(st, rep->start_ms, rep->end_ms, &min_step,
	    err, errlen);
	if (fine < 0)
		return -1;
	/* Rollups sum whole GPUs: a filter's processes need the ticks. */
	raw = o->force_raw || b->filter != NULL || lo >= hi ||
	    o->thr.active_util !=
	    rep->meta.rollup.active_util || o->thr.held_mib !=
	    rep->meta.rollup.held_mib || !hours_are_local_hours(lo, hi);
	if (he > hs) {
		char when[40];

		rep->hourly_start_ms = rep->start_ms;
		rep->hourly_end_ms = he;
		util_format_rfc3339(he, when, sizeof(when));
		/* Hourly sums were classified once, with the thresholds of
		   the rollups, and sum whole GPUs. */
		if (o->thr.active_util != rep->meta.rollup.active_util ||
		    o->thr.held_mib != rep->meta.rollup.held_mib)
			return util_err(err, errlen, "%s: the hours before %s "
			    "are kept only as hourly sums, classified at %d %% "
			    "and %lld MiB: other thresholds need a window from "
			    "%s on", store_path(st), when,
			    rep->meta.rollup.active_util,
			    (long long)rep->meta.rollup.held_mib, when);
		if (b->filter != NULL)
			return util_err(err, errlen, "%s: the hours before %s "
			    "are kept only as hourly sums of whole GPUs: a "
			    "filter needs a window from %s on", store_path(st),
			    when, when);
	}

	/* Buckets finer than an hour only from ticks. */
	rep->timeline_step_ms = timeline_step(rep->start_ms, rep->end_ms,
	    (raw || fine) && he <= hs ? min_step : MS_PER_HOUR);
	rep->timeline_start_ms = report_floor_div(rep->start_ms,
	    rep->timeline_step_ms) * rep->timeline_step_ms;
	rep->ntimeline = report_timeline_buckets(rep->start_ms, rep->end_ms,
	    rep->timeline_step_ms);
	rep->timeline = calloc(rep->ntimeline + 1, sizeof(*rep->timeline));
	b->timeline = calloc((b->nall + 1) * (rep->ntimeline + 1),
	    sizeof(*b->timeline));
	if (rep->timeline == NULL || b->timeline == NULL)
		return util_err(err, errlen, "out of memory");

	b->hs = hs;
	b->he = he;
	b->from = from;
	b->lo = lo;
	b->hi = hi;
	b->raw = raw;
	if (he > hs || !raw)
		rep->used_rollups = 1;
	return scan_sums(st, o, b, &sink, 1, err, errlen);
}

/*
 * The window's records into sink, from where scan_window said: the
 * hourly-only part, the raw edges, the whole hours from rollups (with
 * timeline: their timeline from ticks when it is finer than an hour).
 * The second scan of a report's sessions reads the same, without it.
 */
static int
scan_sums(struct store *st, const struct report_options *o,
    struct build *b, const struct store_sink *sink, int timeline,
    char *err, size_t errlen)
{
	const struct report *rep = b->rep;
	int rc;

	if (b->he > b->hs) {
		b->in_rollups = 1;
		rc = store_scan_rollups(st, util_hour_floor(b->hs), b->he,
		    o->gpu_id, sink, err, errlen);
		b->in_rollups = 0;
		if (rc != 0)
			return -1;
	}
	if (b->raw)
		return store_scan_raw(st, b->from, rep->end_ms, o->gpu_id,
		    &o->thr, sink, err, errlen);
	if (store_scan_raw(st, b->from, b->lo, o->gpu_id, &o->thr, sink,
	    err, errlen) != 0)
		return -1;
	b->in_rollups = 1;
	rc = store_scan_rollups(st, b->lo, b->hi, o->gpu_id, sink, err,
	    errlen);
	b->in_rollups = 0;
	if (rc == 0 && rep->timeline_step_ms < MS_PER_HOUR &&
	    timeline)
		rc = timeline_from_ticks(st, o, b, b->lo, b->hi, err, errlen);
	if (rc != 0 || store_scan_raw(st, b->hi, rep->end_ms, o->gpu_id,
	    &o->thr, sink, err, errlen) != 0)
		return -1;
	return 0;
}

/* An hourly-only hour's first and last tick of a GPU: when it was seen. */
static int
seen_edges(void *ctx, int64_t gpu_id, int64_t first_ms, int64_t first_span_ms,
    int64_t last_ms)
{
	struct build *b = ctx;
	struct rollup_gpu r;
	int64_t slot;

	if (gpu_slot(b, gpu_id, &slot) != 0)
		return 0;
	memset(&r, 0, sizeof(r));
	r.ms[STATE_UNKNOWN] = first_span_ms;
	seen_tick(b, slot, first_ms, &r);
	seen_tick(b, slot, last_ms, &r);
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
	    seen_only_tick, NULL };
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
			    errlen) || store_scan_edges(st, hours[i], hours[i] +
			    MS_PER_HOUR, o->gpu_id, seen_edges, b, err, errlen);
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
	/*
	 * Filtered, a GPU is there only while the processes held it: its
	 * time is what was seen of it, and the GPUs equivalently idle are
	 * its idle time over the whole window.
	 */
	if (b->filter != NULL) {
		rep->gpu_window_ms = 0;
		for (size_t i = 0; i < rep->ngpus; i++) {
			struct report_gpu *g = &rep->gpus[i];

			g->present_ms = 0;
			for (int s = 0; s < STATE_COUNT; s++)
				g->present_ms = util_sat_add(g->present_ms,
				    g->r.ms[s]);
			rep->gpu_window_ms = util_sat_add(rep->gpu_window_ms,
			    g->present_ms);
		}
		rep->hosts[0].present_ms = report_window_ms(rep);
	}
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
	uint32_t *slot_rank = NULL, *gpu_map = NULL;	/* parallel to b.all */
	int ret = -1, snapshot = 0;

	memset(rep, 0, sizeof(*rep));
	memset(&b, 0, sizeof(b));
	b.rep = rep;
	b.tz_hour = INT64_MIN;
	b.last_gpu_id = b.heat_ms = b.timeline_ms = INT64_MIN;
	b.st = st;
	b.err = err;
	b.errlen = errlen;
	if (o->filter != NULL && o->filter->n > 0)
		b.filter = o->filter;
	rep->meta = *store_meta(st);
	rep->thr = o->thr;
	rep->by = o->by;
	report_filter_describe(b.filter, rep->filtered, sizeof(rep->filtered));
	if (store_gpus(st, &b.all, &b.nall, err, errlen) != 0)
		return -1;
	b.gpu_sums = calloc(b.nall ? b.nall : 1, sizeof(*b.gpu_sums));
	b.seen = calloc(b.nall ? b.nall : 1, sizeof(*b.seen));
	card = calloc(b.nall ? b.nall : 1, sizeof(*card));
	if (b.gpu_sums == NULL || b.seen == NULL || card == NULL ||
	    report_number_cards(b.all, b.nall, card) != 0) {
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
	if ((slot_rank = gpu_ranks(b.all, card, b.nall)) == NULL ||
	    report_sessions_init(&b.sessions, rep, st, o->top, b.gpu_sums,
	    slot_rank, b.nall, err, errlen) != 0) {
		if (slot_rank == NULL)
			util_err(err, errlen, "out of memory");
		goto out;
	}
	/* One snapshot for all the reads: a compaction that commits
	   meanwhile must not take hours from under them. */
	if (store_read_begin(st, err, errlen) != 0)
		goto out;
	snapshot = 1;
	if (scan_window(st, o, &b, err, errlen) != 0 ||
	    seen_exactly(st, o, &b, err, errlen) != 0)
		goto out;
	sum_gpus(&b);

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
	if ((gpu_map = calloc(b.nall + 1, sizeof(*gpu_map))) == NULL) {
		util_err(err, errlen, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < b.nall; i++) {
		size_t g;

		for (g = 0; g < rep->ngpus; g++)
			if (rep->gpus[g].id == b.all[i].id)
				break;
		gpu_map[i] = g < rep->ngpus ? (uint32_t)g : UINT32_MAX;
	}
	if (report_sessions_end(&b.sessions, gpu_map) != 0)
		goto out;
	/* Sessions seen again after they finished, the top no longer
	   holding them: summed again whole. */
	if (b.sessions.nagain > 0) {
		struct store_sink again = { &b, seen_only_hour, recount_proc,
		    NULL, b.filter != NULL ? proc_wanted : NULL };

		if (scan_sums(st, o, &b, &again, 0, err, errlen) != 0)
			goto out;
	}
	if (report_sessions_result(&b.sessions, gpu_map) != 0)
		goto out;
	report_limit(rep, o->top);
	ret = 0;
out:
	if (snapshot)
		store_read_end(st);
	free(b.all);
	free(b.gpu_sums);
	free(b.seen);
	free(card);
	free(slot_rank);
	free(gpu_map);
	free(b.timeline);
	imap_free(&b.gpu_slot);
	report_sessions_free(&b.sessions);
	imap_free(&b.wanted);
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
	rep->nsessions_all = rep->nids_all = rep->sessions_idle_omitted = 0;
	rep->ntimeline = 0;
}

/* Swaps two elements of size bytes. */
static void
swap_elements(char *a, char *b, size_t size)
{
	char tmp[64];

	while (size > 0) {
		size_t n = size < sizeof(tmp) ? size : sizeof(tmp);

		memcpy(tmp, a, n);
		memcpy(a, b, n);
		memcpy(b, tmp, n);
		a += n;
		b += n;
		size -= n;
	}
}

/* Restores the heap below i: every parent ranks after its children. */
static void
sift_down(char *base, size_t n, size_t size, size_t i,
    int (*cmp)(const void *, const void *))
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, worst = i;

		if (l < n && cmp(base + l * size, base + worst * size) > 0)
			worst = l;
		if (r < n && cmp(base + r * size, base + worst * size) > 0)
			worst = r;
		if (worst == i)
			return;
		swap_elements(base + i * size, base + worst * size, size);
		i = worst;
	}
}

/*
 * A heap of the k best so far, its worst on top, sees every element once:
 * O(n log k) where a sort of all is O(n log n).
 */
size_t
report_select_top(void *v, size_t n, size_t size, size_t k,
    int (*cmp)(const void *, const void *))
{
	char *base = v;

	if (k == 0 || k > n)
		k = n;
	if (k < n) {
		for (size_t i = k / 2; i-- > 0;)
			sift_down(base, k, size, i, cmp);
		for (size_t i = k; i < n; i++)
			if (cmp(base + i * size, base) < 0) {
				swap_elements(base + i * size, base, size);
				sift_down(base, k, size, 0, cmp);
			}
	}
	if (k > 1)
		qsort(base, k, size, cmp);
	return k;
}

void
report_limit(struct report *rep, size_t top)
{
	size_t k;

	rep->top = top;
	k = report_select_top(rep->sessions, rep->nsessions,
	    sizeof(*rep->sessions), top, report_cmp_session);
	for (size_t i = k; i < rep->nsessions; i++)
		if (rep->sessions[i].r.idle_ms > 0)
			rep->sessions_idle_omitted++;
	rep->nsessions = k;
	rep->nids = report_select_top(rep->ids, rep->nids_all,
	    sizeof(*rep->ids), top, report_cmp_identity);
}

size_t
report_sessions_omitted(const struct report *rep, int idle_only)
{
	return idle_only ? rep->sessions_idle_omitted :
	    rep->nsessions_all - rep->nsessions;
}

size_t
report_ids_omitted(const struct report *rep)
{
	return rep->nids_all - rep->nids;
}

void
report_asked_window(const struct report_options *o, int64_t *start,
    int64_t *end)
{
	/* --until is the last millisecond in: the window ends just after. */
	*end = o->until_ms + 1;
	*start = *end - o->since_ms;
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
report_kwh(int64_t joules)
{
	return (double)joules / 3.6e6;
}

void
report_kwh_format(int64_t joules, char *buf, size_t len)
{
	double kwh = report_kwh(joules);
	int decimals = 9;

	/* Three significant digits at least, down to a joule (0.000000278
	   kWh: nine decimals); nothing drawn is plainly 0. */
	if (joules == 0)
		decimals = 0;
	for (double at = 100; decimals > 1 && kwh >= at / 1e8; at *= 10)
		decimals--;
	snprintf(buf, len, "%.*f kWh", decimals, kwh);
}

double
report_energy_unrecorded(const struct rollup_gpu *r)
{
	int64_t all = 0;

	for (int i = 0; i < STATE_COUNT; i++)
		all = util_sat_add(all, r->ms[i]);
	if (all <= 0 || r->energy_lost_ms >= all)
		return 1;
	return (double)r->energy_lost_ms / (double)all;
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

const char *
report_money(const struct report *rep, int64_t cents, char *buf, size_t len)
{
	char n[32];

	price_format_cents(cents, n, sizeof(n));
	if (rep->price.currency[0] != '\0')
		snprintf(buf, len, "%s %s", n, rep->price.currency);
	else
		snprintf(buf, len, "%s", n);
	return buf;
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
static double
gpus_equivalent(const struct report *rep, int idle_held, int truly_idle)
{
	double sum = 0;

	for (size_t i = 0; i < rep->ngpus; i++) {
		const struct report_gpu *g = &rep->gpus[i];
		const struct report_host *h = &rep->hosts[g->host];
		int64_t watched = 0, idle;

		for (int st = 0; st < STATE_COUNT; st++)
			watched = util_sat_add(watched, g->r.ms[st]);
		idle = util_sat_add(idle_held ? g->r.ms[STATE_IDLE_HELD] : 0,
		    truly_idle ? g->r.ms[STATE_TRULY_IDLE] : 0);
		if (watched <= 0 || h->present_ms <= 0)
			continue;
		sum += (double)idle / (double)watched * (double)g->present_ms /
		    (double)h->present_ms;
	}
	return sum;
}

double
report_gpus_unused(const struct report *rep)
{
	return gpus_equivalent(rep, 1, 1);
}

double
report_gpus_in(const struct report *rep, enum state s)
{
	return gpus_equivalent(rep, s == STATE_IDLE_HELD,
	    s == STATE_TRULY_IDLE);
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
