/*
 * Idle-held streaks (streak.h): an array of the current streaks, looked
 * up by PID first (an integer compare), then start time and UUID. A tick
 * of n processes against m streaks costs n x m compares at worst, a
 * millisecond for a thousand of each, once a tick.
 */
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "streak.h"
#include "tick-print.h"
#include "util.h"

struct streaks {
	struct streak	*s;
	size_t		 n;
	size_t		 cap;
};

int
streaks_new(struct streaks **out, char *err, size_t errlen)
{
	if ((*out = calloc(1, sizeof(**out))) == NULL)
		return util_err(err, errlen, "out of memory");
	return 0;
}

void
streaks_free(struct streaks *ss)
{
	if (ss == NULL)
		return;
	free(ss->s);
	free(ss);
}

static struct streak *
find(struct streaks *ss, const char *uuid, uint32_t pid, int64_t start_ms)
{
	for (size_t i = 0; i < ss->n; i++) {
		struct streak *s = &ss->s[i];

		if (s->pid == pid && s->start_ms == start_ms &&
		    strcmp(s->uuid, uuid) == 0)
			return s;
	}
	return NULL;
}

int
streaks_add_tick(struct streaks *ss, const struct tick *t,
    const struct thresholds *thr, char *err, size_t errlen)
{
	size_t procs = 0, kept = 0;

	/* Room for every process first, so nothing fails half-way. */
	for (size_t i = 0; i < t->ngpus; i++)
		procs += t->gpus[i].nprocs;
	if (grow((void **)&ss->s, &ss->cap, ss->n + procs,
	    sizeof(*ss->s)) != 0)
		return util_err(err, errlen, "out of memory");
	for (size_t i = 0; i < ss->n; i++)
		ss->s[i].seen = 0;
	for (size_t i = 0; i < t->ngpus; i++) {
		const struct tick_gpu *g = &t->gpus[i];
		char label[64];

		tick_print_label(t, i, label, sizeof(label));
		for (size_t j = 0; j < g->nprocs; j++) {
			const struct tick_proc *p = &g->procs[j];
			struct streak *s;

			if (classify_process(thr, p->util_pm, g->util_pm,
			    p->mem_mib) != STATE_IDLE_HELD)
				continue;
			s = find(ss, g->uuid, p->pid, p->start_ms);
			/* A process in two of NVML's lists counts once. */
			if (s != NULL && s->seen)
				continue;
			if (s == NULL) {
				s = &ss->s[ss->n++];
				memset(s, 0, sizeof(*s));
				util_strlcpy(s->uuid, g->uuid, sizeof(s->uuid));
				s->pid = p->pid;
				s->start_ms = p->start_ms;
			}
			util_strlcpy(s->label, label, sizeof(s->label));
			s->gpu_index = g->index;
			s->idle_ms += t->span_ms;
			s->mem_mib = p->mem_mib;
			s->id = p->id;
			s->seen = 1;
		}
	}
	/* Streaks not seen in this tick end; the others keep their order. */
	for (size_t i = 0; i < ss->n; i++)
		if (ss->s[i].seen)
			ss->s[kept++] = ss->s[i];
	ss->n = kept;
	return 0;
}

size_t
streaks_count(const struct streaks *ss)
{
	return ss->n;
}

struct streak *
streaks_get(struct streaks *ss, size_t i)
{
	return i < ss->n ? &ss->s[i] : NULL;
}

static int
cmp_longest(const void *a, const void *b)
{
	const struct streak *x = *(const struct streak *const *)a;
	const struct streak *y = *(const struct streak *const *)b;
	int c;

	if (x->idle_ms != y->idle_ms)
		return x->idle_ms > y->idle_ms ? -1 : 1;
	if (x->gpu_index != y->gpu_index)
		return x->gpu_index < y->gpu_index ? -1 : 1;
	if ((c = strcmp(x->uuid, y->uuid)) != 0)
		return c;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->start_ms < y->start_ms ? -1 : x->start_ms > y->start_ms;
}

/*
 * Picks the longest, then the longest after it, and so on: max passes
 * over the streaks and no allocation. The order is total (no two streaks
 * share GPU, PID and start), so "after" is never ambiguous.
 */
size_t
streaks_longest(const struct streaks *ss, const struct streak **out,
    size_t max)
{
	const struct streak *prev = NULL;
	size_t n = 0;

	while (n < max) {
		const struct streak *best = NULL;

		for (size_t i = 0; i < ss->n; i++) {
			const struct streak *s = &ss->s[i];

			if (prev != NULL && cmp_longest(&s, &prev) <= 0)
				continue;
			if (best == NULL || cmp_longest(&s, &best) < 0)
				best = s;
		}
		if (best == NULL)
			break;
		out[n++] = prev = best;
	}
	return n;
}
