/*
 * The real source: NVML for the GPUs and their processes (nvml.c), /proc
 * for who the processes are (identity.c).
 */
#include <stdlib.h>
#include <string.h>

#include "identity.h"
#include "nvml.h"
#include "source.h"
#include "util.h"

struct nvml_source {
	struct nvml		*nvml;
	struct identity_cache	*ids;	/* identities across ticks */
	int64_t			 poll_us;	/* the collector's cadence */
};

static void
nvml_source_close(void *ctx)
{
	struct nvml_source *s = ctx;

	if (s == NULL)
		return;
	nvml_close(s->nvml);
	identity_cache_free(s->ids);
	free(s);
}

static int
nvml_source_open(void **ctx, const struct source_config *cfg,
    struct source_info *info, char *err, size_t errlen)
{
	struct nvml_log log = { cfg->log, cfg->log_arg };
	struct nvml_source *s;

	*ctx = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return util_err(err, errlen, "out of memory");
	if (nvml_load(&s->nvml, cfg->nvml_library, &log, err, errlen) != 0 ||
	    nvml_init(s->nvml, err, errlen) != 0)
		goto fail;
	if (nvml_gpu_count(s->nvml) == 0) {
		util_err(err, errlen, "NVML (%s, driver %s) finds no NVIDIA "
		    "GPU on this host", nvml_library(s->nvml),
		    nvml_driver_version(s->nvml)[0] ?
		    nvml_driver_version(s->nvml) : "unknown");
		goto fail;
	}
	nvml_set_interval(s->nvml, cfg->interval_ms);
	s->poll_us = source_poll_ms(cfg->interval_ms) * 1000;
	if (identity_cache_new(&s->ids, err, errlen) != 0)
		goto fail;
	memset(info, 0, sizeof(*info));
	util_strlcpy(info->driver_version, nvml_driver_version(s->nvml),
	    sizeof(info->driver_version));
	util_strlcpy(info->kind, "bare", sizeof(info->kind));
	util_strlcpy(info->library, nvml_library(s->nvml),
	    sizeof(info->library));
	info->ngpus = (int)nvml_gpu_count(s->nvml);
	*ctx = s;
	return 0;
fail:
	nvml_source_close(s);
	return -1;
}

static int
nvml_source_sample(void *ctx, struct tick *t, char *err, size_t errlen)
{
	struct nvml_source *s = ctx;

	if (nvml_sample(s->nvml, t, util_mono_us(), err, errlen) != 0)
		return -1;
	identity_cache_check(s->ids);
	for (size_t i = 0; i < t->ngpus; i++) {
		struct tick_gpu *g = &t->gpus[i];

		for (size_t k = 0; k < g->nprocs; k++) {
			/* The cache of a thousand processes is out of the
			   CPU's cache by the next tick: the lookups of
			   processes ahead start early. */
			if (k + 16 < g->nprocs)
				identity_prefetch_key(s->ids,
				    g->procs[k + 16].pid);
			if (k + 8 < g->nprocs)
				identity_prefetch_entry(s->ids,
				    g->procs[k + 8].pid);
			if (k + 4 < g->nprocs)
				identity_prefetch_text(s->ids,
				    g->procs[k + 4].pid);
			identity_lookup(s->ids, g->procs[k].pid,
			    &g->procs[k].start_ms, &g->procs[k].id);
		}
	}
	identity_cache_sweep(s->ids);
	return 0;
}

static int64_t
nvml_source_poll(void *ctx)
{
	struct nvml_source *s = ctx;
	int64_t wait = nvml_poll(s->nvml, util_mono_us(), s->poll_us);

	/* Rounded up: woken a moment early, a GPU is not due yet. */
	return wait < 0 ? -1 : (wait + 999) / 1000;
}

int64_t
source_poll_ms(int64_t interval_ms)
{
	int64_t p = interval_ms / 10;

	return p > 1000 ? 1000 : p < 1 ? 1 : p;
}

const struct source source_nvml = {
	.name = "nvml",
	.open = nvml_source_open,
	.sample = nvml_source_sample,
	.poll = nvml_source_poll,
	.close = nvml_source_close,
};
