#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "tick.h"

const char *
tick_source_name(enum util_source s)
{
	switch (s) {
	case UTIL_SRC_INSTANT:
		return "instant";
	case UTIL_SRC_SAMPLES:
		return "samples";
	case UTIL_SRC_SAMPLES_EMPTY:
		return "samples_empty";
	case UTIL_SRC_DEMO:
		return "demo";
	case UTIL_SRC_IMPORT:
		return "import";
	default:
		return "unknown";
	}
}

void
tick_reset(struct tick *t)
{
	for (size_t i = 0; i < t->ngpus; i++)
		t->gpus[i].nprocs = 0;
	t->ngpus = 0;
	t->ts_ms = 0;
	t->span_ms = 0;
}

void
tick_free(struct tick *t)
{
	for (size_t i = 0; i < t->gpus_cap; i++)
		free(t->gpus[i].procs);
	free(t->gpus);
	memset(t, 0, sizeof(*t));
}

/* Doubles *cap (from 4) and reallocs; returns 0 or -1, leaving *p intact. */
static int
grow(void **p, size_t *cap, size_t elem)
{
	size_t ncap = *cap ? *cap * 2 : 4;
	void *np;

	if (ncap > SIZE_MAX / elem)
		return -1;
	np = realloc(*p, ncap * elem);
	if (np == NULL)
		return -1;
	/* New slots start zeroed so their procs pointers are NULL. */
	memset((char *)np + *cap * elem, 0, (ncap - *cap) * elem);
	*p = np;
	*cap = ncap;
	return 0;
}

struct tick_gpu *
tick_add_gpu(struct tick *t)
{
	struct tick_gpu *g;
	struct tick_proc *keep;
	size_t keep_cap;

	if (t->ngpus == t->gpus_cap &&
	    grow((void **)&t->gpus, &t->gpus_cap, sizeof(*t->gpus)) != 0)
		return NULL;
	g = &t->gpus[t->ngpus++];
	keep = g->procs;
	keep_cap = g->procs_cap;
	memset(g, 0, sizeof(*g));
	g->procs = keep;
	g->procs_cap = keep_cap;
	g->mem_total_mib = MIB_UNKNOWN;
	g->mem_used_mib = MIB_UNKNOWN;
	g->util_pm = UTIL_UNKNOWN;
	g->util_max_pct = -1;
	g->util_cover_pm = -1;
	g->util_src = UTIL_SRC_NONE;
	g->procs_known = 1;
	g->energy_mj = ENERGY_UNKNOWN;
	g->energy_src = ENERGY_SRC_NONE;
	return g;
}

struct tick_proc *
tick_add_proc(struct tick_gpu *g)
{
	struct tick_proc *p;

	if (g->nprocs == g->procs_cap &&
	    grow((void **)&g->procs, &g->procs_cap, sizeof(*g->procs)) != 0)
		return NULL;
	p = &g->procs[g->nprocs++];
	/* All but the identity's room for text is zeroed: a memset of the
	   whole would clear 1.9 MB a tick for a thousand processes. */
	memset(p, 0, offsetof(struct tick_proc, id));
	memset((char *)(&p->id + 1), 0, sizeof(*p) -
	    offsetof(struct tick_proc, id) - sizeof(p->id));
	identity_clear(&p->id);
	p->mem_mib = MIB_UNKNOWN;
	p->util_pm = UTIL_UNKNOWN;
	return p;
}

int64_t
tick_gpu_held_mib(const struct tick_gpu *g, int *partial)
{
	int64_t sum = 0;

	*partial = !g->procs_known;
	for (size_t i = 0; i < g->nprocs; i++) {
		if (g->procs[i].mem_mib == MIB_UNKNOWN)
			*partial = 1;
		else
			sum += g->procs[i].mem_mib;
	}
	return sum;
}
