/*
 * The built-in demo workload, the original tool's, tick by tick in a cycle
 * of five: GPU-0 trains (ticks 0-1), holds its memory idle (2-3), is cleaned
 * up (4); GPU-1 is always held idle by a notebook and a process whose owner
 * cannot be resolved; GPU-2 is always free. Each draws what such a card
 * would: 300 W busy, 90 W holding memory idle, 60 W free, over the
 * configured interval (as power usage x span).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source.h"
#include "util.h"

#define DEMO_DRIVER	"560.35.05-fake"
#define DEMO_GPU_MIB	81920

struct demo {
	int64_t	tick;		/* ticks sampled so far */
	int64_t	interval_ms;	/* each tick's span, for its energy */
};

static int
demo_open(void **ctx, const struct source_config *cfg, struct source_info *info,
    char *err, size_t errlen)
{
	struct demo *d;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return util_err(err, errlen, "out of memory");
	d->interval_ms = cfg->interval_ms;
	*ctx = d;
	memset(info, 0, sizeof(*info));
	util_strlcpy(info->driver_version, DEMO_DRIVER,
	    sizeof(info->driver_version));
	util_strlcpy(info->kind, "bare", sizeof(info->kind));
	info->ngpus = 3;
	return 0;
}

static struct tick_gpu *
demo_gpu(const struct demo *d, struct tick *t, int index, int util,
    int watts)
{
	struct tick_gpu *g = tick_add_gpu(t);

	if (g == NULL)
		return NULL;
	g->index = index;
	snprintf(g->uuid, sizeof(g->uuid), "GPU-%d", index);
	util_strlcpy(g->name, "Demo GPU", sizeof(g->name));
	g->mem_total_mib = DEMO_GPU_MIB;
	g->util_pm = util * 10;
	g->util_max_pct = util;
	g->util_src = UTIL_SRC_DEMO;
	g->energy_mj = (int64_t)watts * d->interval_ms;	/* W x ms = mJ */
	g->energy_src = ENERGY_SRC_POWER;
	return g;
}

static int
demo_proc(struct tick_gpu *g, uint32_t pid, const char *user,
    const char *comm, const char *cmdline, int64_t mib)
{
	struct tick_proc *p = tick_add_proc(g);

	if (p == NULL)
		return -1;
	p->pid = pid;
	p->mem_mib = mib;
	if (user != NULL && comm != NULL && cmdline != NULL) {
		p->id.known = 1;
		util_strlcpy(p->id.user, user, sizeof(p->id.user));
		util_strlcpy(p->id.comm, comm, sizeof(p->id.comm));
		util_strlcpy(p->id.cmdline, cmdline, sizeof(p->id.cmdline));
	}
	return 0;
}

static int
demo_sample(void *ctx, struct tick *t, char *err, size_t errlen)
{
	struct demo *d = ctx;
	int phase = (int)(d->tick++ % 5);
	struct tick_gpu *g0, *g1, *g2;

	g0 = demo_gpu(d, t, 0, phase < 2 ? 80 : phase < 4 ? 2 : 0,
	    phase < 2 ? 300 : phase < 4 ? 90 : 60);
	if (g0 == NULL || (phase < 4 && demo_proc(g0, 1234, "alice",
	    "python3", "python3 train.py --epochs 90", 70000) != 0))
		return util_err(err, errlen, "out of memory");
	g1 = demo_gpu(d, t, 1, 2, 90);
	if (g1 == NULL || demo_proc(g1, 5678, "bob", "jupyter-lab",
	    "jupyter-lab --no-browser", 8000) != 0 ||
	    demo_proc(g1, 9999, NULL, NULL, NULL, 200) != 0)
		return util_err(err, errlen, "out of memory");
	g2 = demo_gpu(d, t, 2, 0, 60);
	if (g2 == NULL)
		return util_err(err, errlen, "out of memory");
	return 0;
}

static void
demo_close(void *ctx)
{
	free(ctx);
}

const struct source source_demo = {
	.name = "demo",
	.open = demo_open,
	.sample = demo_sample,
	.close = demo_close,
};
