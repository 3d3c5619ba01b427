/*
 * The idle-held streak tracker: a streak grows by the span of every tick
 * its process is idle-held on its GPU and ends when it computes, holds
 * too little, cannot be told, is no longer listed, or is another process
 * under the same PID; the longest come first. Ticks are built by hand.
 */
#include <stdio.h>
#include <string.h>

#include "classify.h"
#include "harness.h"
#include "streak.h"
#include "tick.h"

static struct thresholds thr;

/* A tick of span_ms on one or two GPUs ("GPU-a", "GPU-b"), empty. */
static void
tick_with(struct tick *t, int64_t span_ms, size_t ngpus, int util_pm)
{
	tick_reset(t);
	t->span_ms = span_ms;
	t->ts_ms = 1000000;
	for (size_t i = 0; i < ngpus; i++) {
		struct tick_gpu *g = tick_add_gpu(t);

		snprintf(g->uuid, sizeof(g->uuid), "GPU-%c", (char)('a' + i));
		g->index = (int)i;
		g->util_pm = util_pm;
		g->procs_known = 1;
	}
}

static void
proc(struct tick *t, size_t gpu, uint32_t pid, int64_t start_ms,
    int64_t mib, int util_pm)
{
	struct tick_proc *p = tick_add_proc(&t->gpus[gpu]);

	p->pid = pid;
	p->start_ms = start_ms;
	p->mem_mib = mib;
	p->util_pm = util_pm;
	p->id.known = 1;
	p->id.uid = 1000;
	snprintf(p->id.user, sizeof(p->id.user), "u%u", pid);
}

/* The streak of pid on GPU uuid, or NULL. */
static struct streak *
of(struct streaks *ss, const char *uuid, uint32_t pid)
{
	for (size_t i = 0; i < streaks_count(ss); i++) {
		struct streak *s = streaks_get(ss, i);

		if (s->pid == pid && strcmp(s->uuid, uuid) == 0)
			return s;
	}
	return NULL;
}

static int
add(struct streaks *ss, const struct tick *t)
{
	char err[128];

	return streaks_add_tick(ss, t, &thr, err, sizeof(err));
}

int
main(void)
{
	struct streaks *ss;
	struct tick t;
	const struct streak *top[3];
	char err[128];

	classify_defaults(&thr);
	memset(&t, 0, sizeof(t));
	CHECK_INT(streaks_new(&ss, err, sizeof(err)), 0);

	/* Idle-held: the streak is the sum of the spans. */
	tick_with(&t, 30000, 1, 0);
	proc(&t, 0, 42, 5000, 12000, 0);
	CHECK_INT(add(ss, &t), 0);
	CHECK_INT(streaks_count(ss), 1);
	CHECK_INT(of(ss, "GPU-a", 42)->idle_ms, 30000);
	CHECK_STR(of(ss, "GPU-a", 42)->label, "GPU-0");
	CHECK_STR(of(ss, "GPU-a", 42)->id.user, "u42");
	CHECK_INT(of(ss, "GPU-a", 42)->mem_mib, 12000);
	tick_with(&t, 29000, 1, 0);
	proc(&t, 0, 42, 5000, 13000, 0);
	CHECK_INT(add(ss, &t), 0);
	CHECK_INT(of(ss, "GPU-a", 42)->idle_ms, 59000);
	CHECK_INT(of(ss, "GPU-a", 42)->mem_mib, 13000);
	/* What notify.c keeps in a streak stays while it lasts. */
	of(ss, "GPU-a", 42)->notify_next_ms = 77;

	/* Listed twice (two of NVML's lists): one tick counts once. */
	tick_with(&t, 1000, 1, 0);
	proc(&t, 0, 42, 5000, 13000, 0);
	proc(&t, 0, 42, 5000, 13000, 0);
	CHECK_INT(add(ss, &t), 0);
	CHECK_INT(streaks_count(ss), 1);
	CHECK_INT(of(ss, "GPU-a", 42)->idle_ms, 60000);
	CHECK_INT(of(ss, "GPU-a", 42)->notify_next_ms, 77);

	/* Computing ends it, by its own SM utilization ... */
	tick_with(&t, 1000, 1, 0);
	proc(&t, 0, 42, 5000, 13000, 100);
	CHECK_INT(add(ss, &t), 0);
	CHECK_INT(streaks_count(ss), 0);
	/* ... and an idle tick after starts a new one from its span. */
	tick_with(&t, 1000, 1, 0);
	proc(&t, 0, 42, 5000, 13000, 0);
	CHECK_INT(add(ss, &t), 0);
	CHECK_INT(of(ss, "GPU-a", 42)->idle_ms, 1000);
	CHECK_INT(of(ss, "GPU-a", 42)->notify_next_ms, 0);
	/* Without its own utilization the card's decides. */
	tick_with(&t, 1000, 1, 500);
	proc(&t, 0, 42, 5000, 13000, UTIL_UNKNOWN);
	CHECK_INT(add(ss, &t), 0);
	CHECK_INT(streaks_count(ss), 0);

	/* Freeing its memory ends it (100 MiB is not held). */
	tick_with(&t, 1000, 1, 0);
	proc(&t, 0, 42, 5000, 13000, 0);
	CHECK_INT(add(ss, &t), 0);
	tick_with(&t, 1000, 1, 0);
	proc(&t, 0, 42, 5000, 100, 0);
	CHECK_INT(add(ss, &t), 0);
	CHECK_INT(streaks_count(ss), 0);
	/* So does what cannot be told: unknown memory, unknown util. */
	tick_with(&t, 1000, 1, 0);
	proc(&t, 0, 42, 5000, 13000, 0);
	CHECK_INT(add(ss, &t), 0);
	tick_with(&t, 1000, 1, 0);
	proc(&t, 0, 42, 5000, MIB_UNKNOWN, 0);
	CHECK_INT(add(ss, &t), 0);
	CHECK_INT(streaks_count(ss), 0);
	tick_with(&t, 1000, 1, 0);
	proc(&t, 0, 42, 5000, 13000, 0);
	CHECK_INT(add(ss, &t), 0);
	tick_with(&t, 1000, 1, UTIL_UNKNOWN);
	proc(&t, 0, 42, 5000, 13000, UTIL_UNKNOWN);
	CHECK_INT(add(ss, &t), 0);
	CHECK_INT(streaks_count(ss), 0);

	/* Exiting (no longer listed) ends it; a reused PID is new. */
	tick_with(&t, 2000, 1, 0);
	proc(&t, 0, 42, 5000, 13000, 0);
	CHECK_INT(add(ss, &t), 0);
	tick_with(&t, 2000, 1, 0);
	CHECK_INT(add(ss, &t), 0);
	CHECK_INT(streaks_count(ss), 0);
	tick_with(&t, 2000, 1, 0);
	proc(&t, 0, 42, 5000, 13000, 0);
	CHECK_INT(add(ss, &t), 0);
	tick_with(&t, 2000, 1, 0);
	proc(&t, 0, 42, 9000, 13000, 0);
	CHECK_INT(add(ss, &t), 0);
	CHECK_INT(streaks_count(ss), 1);
	CHECK_INT(of(ss, "GPU-a", 42)->start_ms, 9000);
	CHECK_INT(of(ss, "GPU-a", 42)->idle_ms, 2000);

	/* One process on two GPUs: a streak on each, each its own; an
	   empty tick (nothing listed) ends all. */
	tick_with(&t, 1000, 2, 0);
	proc(&t, 0, 7, 1, 500, 0);
	proc(&t, 1, 7, 1, 600, 0);
	proc(&t, 1, 8, 1, 700, 0);
	CHECK_INT(add(ss, &t), 0);
	tick_with(&t, 1000, 2, 0);
	t.gpus[1].util_pm = 900;
	proc(&t, 0, 7, 1, 500, 0);
	proc(&t, 1, 7, 1, 600, UTIL_UNKNOWN);
	proc(&t, 1, 8, 1, 700, 0);
	CHECK_INT(add(ss, &t), 0);
	CHECK_INT(streaks_count(ss), 2);
	CHECK_INT(of(ss, "GPU-a", 7)->idle_ms, 2000);
	CHECK(of(ss, "GPU-b", 7) == NULL);
	CHECK_INT(of(ss, "GPU-b", 8)->idle_ms, 2000);
	CHECK_STR(of(ss, "GPU-b", 8)->label, "GPU-1");

	/* The longest first; ties by GPU index, then PID; at most max. */
	tick_with(&t, 1000, 2, 0);
	proc(&t, 0, 7, 1, 500, 0);
	proc(&t, 1, 8, 1, 700, 0);
	proc(&t, 1, 3, 1, 700, 0);
	proc(&t, 0, 9, 1, 700, 0);
	CHECK_INT(add(ss, &t), 0);
	tick_with(&t, 1000, 2, 0);
	proc(&t, 0, 7, 1, 500, 0);
	proc(&t, 1, 8, 1, 700, 0);
	proc(&t, 1, 3, 1, 700, 0);
	proc(&t, 0, 9, 1, 700, 0);
	CHECK_INT(add(ss, &t), 0);
	CHECK_INT(streaks_count(ss), 4);
	CHECK_INT(streaks_longest(ss, top, 3), 3);
	CHECK_INT(top[0]->pid, 7);	/* 4 s */
	CHECK_INT(top[1]->pid, 8);	/* 4 s, GPU 1 */
	CHECK_INT(top[2]->pid, 9);	/* 2 s, GPU 0 before 3 on GPU 1 */
	CHECK_INT(streaks_longest(ss, top, 0), 0);
	tick_with(&t, 1000, 2, 0);
	CHECK_INT(add(ss, &t), 0);
	CHECK_INT(streaks_count(ss), 0);
	CHECK_INT(streaks_longest(ss, top, 3), 0);
	CHECK(streaks_get(ss, 0) == NULL);

	tick_free(&t);
	streaks_free(ss);
	streaks_free(NULL);
	HARNESS_DONE();
}
