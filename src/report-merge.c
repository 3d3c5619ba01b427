/*
 * Reports of several databases (hosts) merged into one: the timelines
 * brought to one step, the sessions and identities put together.
 */
#include <stdlib.h>
#include <string.h>

#include "report-internal.h"
#include "util.h"

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
		int64_t j = report_floor_div(start + (int64_t)i * step - nstart,
		    nstep);

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
	while (report_timeline_buckets(start, end, step) > REPORT_TIMELINE_MAX)
		step = report_next_step(step);
	n = report_timeline_buckets(start, end, step);
	start = report_floor_div(start, step) * step;
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
	if ((p = realloc(dst->ids, (dst->nids_all + src->nids_all + 1) *
	    sizeof(*dst->ids))) == NULL)
		return util_err(err, errlen, "out of memory");
	dst->ids = p;
	memcpy(dst->hosts + h0, src->hosts, src->nhosts * sizeof(*src->hosts));
	dst->nhosts += src->nhosts;
	for (size_t i = 0; i < src->ngpus; i++) {
		dst->gpus[g0 + i] = src->gpus[i];
		dst->gpus[g0 + i].host += h0;
	}
	dst->ngpus += src->ngpus;
	/*
	 * Each report kept its own top sessions: the top of both is among
	 * them, since a host's sessions rank among themselves as they did
	 * (its GPUs keep their order, after dst's).
	 */
	for (size_t i = 0; i < src->nsessions; i++) {
		struct report_session *s = &dst->sessions[dst->nsessions++];

		*s = src->sessions[i];
		s->gpu += g0;
		s->host += h0;
	}
	dst->nsessions_all += src->nsessions_all;
	dst->sessions_idle_omitted += src->sessions_idle_omitted;
	/* An identity is of one host, so src's are dst's new ones as they
	   are: no regrouping of what dst already had. */
	for (size_t i = 0; i < src->nids_all; i++) {
		struct report_identity *id = &dst->ids[dst->nids_all++];

		*id = src->ids[i];
		id->host += h0;
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
	if (src->asked_start_ms < dst->asked_start_ms)
		dst->asked_start_ms = src->asked_start_ms;
	dst->end_ms = end;
	if (src->last_tick_ms > dst->last_tick_ms)
		dst->last_tick_ms = src->last_tick_ms;
	if (src->history_end_ms > dst->history_end_ms)
		dst->history_end_ms = src->history_end_ms;
	dst->used_rollups |= src->used_rollups;
	/* The hourly-only part: from the earliest host's to the latest's. */
	if (src->hourly_end_ms > src->hourly_start_ms) {
		if (dst->hourly_end_ms <= dst->hourly_start_ms ||
		    src->hourly_start_ms < dst->hourly_start_ms)
			dst->hourly_start_ms = src->hourly_start_ms;
		if (src->hourly_end_ms > dst->hourly_end_ms)
			dst->hourly_end_ms = src->hourly_end_ms;
	}
	dst->gpu_window_ms += src->gpu_window_ms;
	report_free(src);

	/* Ranks over both hosts' sessions and identities. */
	report_limit(dst, dst->top);
	return 0;
}
