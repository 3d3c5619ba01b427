/*
 * The benchmark's workload model. Each GPU runs processes that arrive at
 * random (three times as often in weekday working hours) and live a
 * log-uniform time between the workload's bounds:
 *   trainers     busy 70-100 %, a stall now and then, 20-78 GiB
 *   evaluations  busy 30-90 %, 4-16 GiB
 *   notebooks    idle with a burst now and then, 1.5-24 GiB: idle-held
 *   stubs        a runtime's 40-95 MiB, never busy: below the threshold
 * A card's utilization is the share of time any of its processes ran a
 * kernel; each process also has its own, so a notebook beside a trainer
 * is idle while its card is busy. PIDs count up and wrap like the
 * kernel's, so they are reused over a long history.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"
#include "util.h"
#include "workload.h"

enum { WL_TRAIN, WL_EVAL, WL_NOTEBOOK, WL_STUB };

#define PID_MAX		32768	/* the kernel's classic pid_max */
#define GPU_MIB		81920
#define GPU_MIB_USABLE	80000
#define BUSY_FACTOR	3.0

static const char *const user_names[] = {
	"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi",
	"ivan", "judy", "mallory", "niaj", "olivia", "peggy", "rupert",
	"sybil", "trent", "victor", "walter", "yolanda",
};

/* 2026-11-25T10:30:00Z, the time the tests call "now". */
#define WORKLOAD_END	1795602600000LL

int
workload_named(const char *name, struct workload *w)
{
	memset(w, 0, sizeof(*w));
	w->name = name;
	w->interval_ms = 30 * MS_PER_SECOND;
	w->procs_per_gpu = 2.1;
	w->life_min_ms = 10 * MS_PER_MINUTE;
	w->life_max_ms = 3 * MS_PER_DAY;
	w->users = 16;
	w->mix_train = 30;
	w->mix_eval = 20;
	w->mix_notebook = 35;
	w->busy_from = 8;
	w->busy_to = 19;
	w->end_ms = WORKLOAD_END;
	if (strcmp(name, "lab12") == 0) {
		w->gpus = 12;
		w->days = 30;
		w->restarts = 3;
		w->seed = 12;
	} else if (strcmp(name, "year8") == 0) {
		w->gpus = 8;
		w->days = 365;
		w->restarts = 12;
		w->seed = 8;
	} else if (strcmp(name, "churn") == 0) {
		/*
		 * Evaluation sweeps and CI jobs: a process starts on nearly
		 * every tick of every GPU and lives seconds to minutes, day
		 * and night alike; about 575 000 processes in 30 days.
		 */
		w->gpus = 12;
		w->days = 30;
		w->procs_per_gpu = 1.4;
		w->mix_train = 10;
		w->mix_eval = 60;
		w->mix_notebook = 5;
		w->life_min_ms = 20 * MS_PER_SECOND;
		w->life_max_ms = 3 * MS_PER_MINUTE;
		w->busy_from = w->busy_to = 0;
		w->restarts = 3;
		w->seed = 575;
	} else if (strcmp(name, "small") == 0) {
		/* Two days on three GPUs at a minute: a test in a second. */
		w->gpus = 3;
		w->days = 2;
		w->interval_ms = MS_PER_MINUTE;
		w->life_max_ms = 12 * MS_PER_HOUR;
		w->users = 5;
		w->restarts = 2;
		w->seed = 3;
	} else {
		return -1;
	}
	return 0;
}

const char *
workload_user(int user)
{
	if (user < 0 || (size_t)user >= ARRAY_LEN(user_names))
		return NULL;
	return user_names[user];
}

int64_t
workload_ticks(const struct workload *w)
{
	return (int64_t)w->days * MS_PER_DAY / w->interval_ms;
}

/* splitmix64: small, fast and good enough for a workload. */
static uint64_t
rnd64(struct workload_state *s)
{
	uint64_t z = (s->rng += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static uint32_t
rnd(struct workload_state *s, uint32_t n)
{
	return (uint32_t)(rnd64(s) % n);
}

static double
unit(struct workload_state *s)
{
	return (double)(rnd64(s) >> 11) / 9007199254740992.0;
}

static double
busy_factor(const struct workload *w, int64_t ts)
{
	int wd = util_weekday(ts), h = util_hour_of_day(ts);

	if (wd >= 1 && wd <= 5 && h >= w->busy_from && h < w->busy_to)
		return BUSY_FACTOR;
	return 1.0;
}

int
workload_start(struct workload_state *s, const struct workload *w)
{
	double mean_life, busy_share;

	memset(s, 0, sizeof(*s));
	s->w = *w;
	s->rng = w->seed * 0x2545F4914F6CDD1DULL + 1;
	s->nticks = workload_ticks(w);
	s->first_ms = w->end_ms - (s->nticks - 1) * w->interval_ms;
	s->pid = 1000 + rnd(s, 20000);
	s->gpu = calloc((size_t)w->gpus, sizeof(*s->gpu));
	s->down = calloc((size_t)w->restarts * 2 + 1, sizeof(*s->down));
	if (s->gpu == NULL || s->down == NULL) {
		workload_end(s);
		return -1;
	}
	/* Arrivals per GPU and ms, so that on average procs_per_gpu live. */
	mean_life = (double)(w->life_max_ms - w->life_min_ms) /
	    log((double)w->life_max_ms / (double)w->life_min_ms);
	busy_share = 5.0 * (w->busy_to - w->busy_from) / 168.0;
	s->rate_off = w->procs_per_gpu / mean_life /
	    (busy_share * BUSY_FACTOR + (1 - busy_share));
	for (int i = 0; i < w->restarts; i++) {
		int64_t at = s->nticks / 10 + rnd(s, (uint32_t)(s->nticks * 8 /
		    10));

		s->down[2 * i] = s->first_ms + at * w->interval_ms -
		    w->interval_ms / 2;
		s->down[2 * i + 1] = s->down[2 * i] + (2 + rnd(s, 178)) *
		    MS_PER_MINUTE;
	}
	s->ndown = w->restarts;
	return 0;
}

void
workload_end(struct workload_state *s)
{
	free(s->gpu);
	free(s->down);
	s->gpu = NULL;
	s->down = NULL;
}

static int
is_down(const struct workload_state *s, int64_t ts)
{
	for (int i = 0; i < s->ndown; i++)
		if (ts >= s->down[2 * i] && ts < s->down[2 * i + 1])
			return 1;
	return 0;
}

/* Users by a Zipf-like weight: a few heavy users, a long tail. */
static int
pick_user(struct workload_state *s)
{
	double total = 0, x;

	if (rnd(s, 100) < 4)
		return -1;
	for (int k = 0; k < s->w.users; k++)
		total += 1.0 / (k + 1);
	x = unit(s) * total;
	for (int k = 0; k < s->w.users; k++) {
		x -= 1.0 / (k + 1);
		if (x < 0)
			return k;
	}
	return s->w.users - 1;
}

/* Processes leave and arrive on one GPU at time ts. */
static void
evolve(struct workload_state *s, struct workload_gpu *g, int64_t ts)
{
	const struct workload *w = &s->w;
	struct workload_proc *p;
	int64_t held = 0;
	double life;
	uint32_t k;

	for (int i = 0; i < g->n;) {
		if (g->procs[i].end_ms <= ts)
			g->procs[i] = g->procs[--g->n];
		else
			held += g->procs[i++].mem_mib;
	}
	if (g->n == WORKLOAD_MAX_PROCS || unit(s) >= s->rate_off *
	    busy_factor(w, ts) * (double)w->interval_ms)
		return;
	p = &g->procs[g->n];
	k = rnd(s, 100);
	p->kind = k < (uint32_t)w->mix_train ? WL_TRAIN :
	    k < (uint32_t)(w->mix_train + w->mix_eval) ? WL_EVAL :
	    k < (uint32_t)(w->mix_train + w->mix_eval + w->mix_notebook) ?
	    WL_NOTEBOOK : WL_STUB;
	switch (p->kind) {
	case WL_TRAIN:
		p->mem_mib = 20000 + rnd(s, 58000);
		break;
	case WL_EVAL:
		p->mem_mib = 4000 + rnd(s, 12000);
		break;
	case WL_NOTEBOOK:
		p->mem_mib = 1500 + rnd(s, 22500);
		break;
	default:
		p->mem_mib = 40 + rnd(s, 56);
		break;
	}
	if (held + p->mem_mib > GPU_MIB_USABLE)
		return;	/* it would not fit: the job goes elsewhere */
	life = exp(log((double)w->life_min_ms) + unit(s) *
	    log((double)w->life_max_ms / (double)w->life_min_ms));
	s->pid += 1 + rnd(s, 400);
	if (s->pid >= PID_MAX)
		s->pid -= PID_MAX - 300;
	p->pid = s->pid;
	/* Started a little before the collector first saw it. */
	p->start_ms = ts - 1 - rnd(s, 5000);
	p->end_ms = ts + (int64_t)life;
	p->user = pick_user(s);
	p->tag = (uint32_t)rnd64(s);
	g->n++;
}

/* A process's own utilization at this tick, percent. */
static int
own_util(struct workload_state *s, const struct workload_proc *p)
{
	switch (p->kind) {
	case WL_TRAIN:
		return rnd(s, 100) < 3 ? (int)rnd(s, 20) : 70 + (int)rnd(s, 31);
	case WL_EVAL:
		return 30 + (int)rnd(s, 61);
	case WL_NOTEBOOK:
		return rnd(s, 100) < 4 ? 20 + (int)rnd(s, 71) : 0;
	default:
		return 0;
	}
}

static void
fill_identity(struct identity *id, const struct workload_proc *p)
{
	const char *user = workload_user(p->user);

	if (user == NULL)
		return;		/* gone from /proc before it was read */
	id->known = 1;
	id->uid = 1000 + p->user;
	util_strlcpy(id->user, user, sizeof(id->user));
	switch (p->kind) {
	case WL_TRAIN:
		util_strlcpy(id->comm, "python3", sizeof(id->comm));
		snprintf(id->cmdline, sizeof(id->cmdline), "python3 train.py "
		    "--config configs/run-%u.yaml --epochs 90", p->tag % 5000);
		if (p->tag % 3 == 0)
			snprintf(id->slurm_job, sizeof(id->slurm_job), "job_%u",
			    100000 + p->tag % 900000);
		break;
	case WL_EVAL:
		util_strlcpy(id->comm, "python", sizeof(id->comm));
		snprintf(id->cmdline, sizeof(id->cmdline), "python eval.py "
		    "--ckpt /data/ckpt/step-%u.pt", p->tag % 100000);
		if (p->tag % 4 == 0)
			snprintf(id->container, sizeof(id->container),
			    "%012x", p->tag);
		break;
	case WL_NOTEBOOK:
		util_strlcpy(id->comm, "python3", sizeof(id->comm));
		snprintf(id->cmdline, sizeof(id->cmdline), "/usr/bin/python3 -m "
		    "ipykernel_launcher -f /home/%s/.local/share/jupyter/"
		    "runtime/kernel-%08x.json", user, p->tag);
		snprintf(id->unit, sizeof(id->unit), "user@%d.service",
		    1000 + p->user);
		break;
	default:
		util_strlcpy(id->comm, "python3", sizeof(id->comm));
		util_strlcpy(id->cmdline, "python3 -c import torch; "
		    "torch.cuda.init()", sizeof(id->cmdline));
		break;
	}
}

/*
 * The energy a collector's counter would give over one tick: an A100's
 * 55 W floor, 85 W while a context holds memory, up to its 400 W with
 * utilization, and a few watts of noise that take nothing from the
 * random stream (so the ticks are those of before).
 */
static int64_t
energy_mj(double busy, int64_t held, int64_t ts, int index, int64_t span_ms)
{
	uint64_t x = (uint64_t)ts * 0x9E3779B97F4A7C15ULL ^ (uint64_t)index;
	double w = held > THRESHOLD_HELD_MIB ? 85.0 + busy * 315.0 : 55.0;

	x ^= x >> 29;
	x *= 0xBF58476D1CE4E5B9ULL;
	x ^= x >> 32;
	w += (double)(x % 1000) / 250.0 - 2.0;
	return (int64_t)(w * (double)span_ms);
}

static int
fill_gpu(struct workload_state *s, struct tick *t, int index)
{
	struct workload_gpu *wg = &s->gpu[index];
	struct tick_gpu *g = tick_add_gpu(t);
	double idle = 1.0;
	int64_t held = 0;
	int own_known = rnd(s, 1000) != 0;
	uint64_t h = s->w.seed * 1000003 + (uint64_t)index * 7919;

	if (g == NULL)
		return -1;
	g->index = index;
	snprintf(g->uuid, sizeof(g->uuid), "GPU-%08x-%04x-%04x-%04x-%012llx",
	    (unsigned)(h * 2654435761u), (unsigned)(h * 40503u) & 0xffff,
	    (unsigned)(h * 9973u) & 0xffff, (unsigned)(h * 31u) & 0xffff,
	    (unsigned long long)(h * 0x9E3779B97F4AULL) & 0xffffffffffffULL);
	util_strlcpy(g->name, "NVIDIA A100-SXM4-80GB", sizeof(g->name));
	g->mem_total_mib = GPU_MIB;
	for (int i = 0; i < wg->n; i++) {
		const struct workload_proc *wp = &wg->procs[i];
		struct tick_proc *p = tick_add_proc(g);
		int u = own_util(s, wp);

		if (p == NULL)
			return -1;
		p->pid = wp->pid;
		p->start_ms = wp->start_ms;
		p->mem_mib = wp->mem_mib;
		if (s->w.mem_every_tick)
			p->mem_mib += (int64_t)rnd(s, 64) - 32;
		if (p->mem_mib < 1)
			p->mem_mib = 1;
		p->util_pm = own_known ? u * 10 : UTIL_UNKNOWN;
		fill_identity(&p->id, wp);
		idle *= 1.0 - u / 100.0;
		held += p->mem_mib;
	}
	g->mem_used_mib = held + 600;
	g->energy_mj = energy_mj(1.0 - idle, held, t->ts_ms, index,
	    t->span_ms);
	g->energy_src = ENERGY_SRC_COUNTER;
	if (rnd(s, 10000) == 0) {
		g->util_src = UTIL_SRC_NONE;	/* an NVML error */
		return 0;
	}
	g->util_pm = (int)((1.0 - idle) * 1000.0 + 0.5);
	g->util_max_pct = g->util_pm / 10 + (g->util_pm ? (int)rnd(s, 10) : 0);
	if (g->util_max_pct > 100)
		g->util_max_pct = 100;
	g->util_cover_pm = rnd(s, 20) == 0 ? 950 + (int)rnd(s, 50) : 1000;
	g->util_src = g->util_pm == 0 ? UTIL_SRC_SAMPLES_EMPTY :
	    UTIL_SRC_SAMPLES;
	return 0;
}

int
workload_next(struct workload_state *s, struct tick *t, int *new_run)
{
	const struct workload *w = &s->w;

	tick_reset(t);
	*new_run = 0;
	/* Warm up before the first tick so the GPUs start busy. */
	if (s->next == 0) {
		for (int64_t ts = s->first_ms - w->life_max_ms; ts < s->first_ms;
		    ts += w->interval_ms)
			for (int g = 0; g < w->gpus; g++)
				evolve(s, &s->gpu[g], ts);
		*new_run = 1;
	}
	for (; s->next < s->nticks; s->next++) {
		int64_t ts = s->first_ms + s->next * w->interval_ms;

		for (int g = 0; g < w->gpus; g++)
			evolve(s, &s->gpu[g], ts);
		if (is_down(s, ts)) {
			s->was_down = 1;
			continue;
		}
		if (s->was_down)
			*new_run = 1;
		s->was_down = 0;
		t->ts_ms = ts;
		t->span_ms = w->interval_ms;
		for (int g = 0; g < w->gpus; g++)
			if (fill_gpu(s, t, g) != 0)
				return -1;
		s->next++;
		return 1;
	}
	return 0;
}
