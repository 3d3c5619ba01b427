/*
 * The --foreground line of a tick (tick-print.c), byte for byte: a small
 * tick against the line written out by hand, and a GPU of 1500 processes
 * (a line far longer than the printer's buffer) against the same line
 * put together here with snprintf. Also: a process added to a reused
 * tick starts with an empty identity, whatever the slot held before.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "tick-print.h"
#include "tick.h"

/* The line tick_print writes for t, as a string to free. */
static char *
line_of(const struct tick *t, int64_t n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		return NULL;
	tick_print(f, t, n);
	fclose(f);
	return buf;
}

static void
test_small(void)
{
	struct tick t;
	struct tick_gpu *g;
	struct tick_proc *p;
	char *line;

	memset(&t, 0, sizeof(t));
	t.ts_ms = 1700000000000LL;
	t.span_ms = 30000;
	g = tick_add_gpu(&t);
	snprintf(g->uuid, sizeof(g->uuid), "GPU-0");
	g->util_pm = 0;
	g->procs_known = 1;
	p = tick_add_proc(g);
	p->pid = 4242;
	p->mem_mib = 1000;
	p->util_pm = 0;
	snprintf(p->id.user, sizeof(p->id.user), "alice");
	p = tick_add_proc(g);
	p->pid = 7;
	snprintf(p->id.user, sizeof(p->id.user), "b\033ob");
	g = tick_add_gpu(&t);
	snprintf(g->uuid, sizeof(g->uuid), "GPU-1");
	g->index = 1;
	g->util_pm = 555;
	g->procs_known = 1;
	line = line_of(&t, 3);
	CHECK_STR(line, "2023-11-14T22:13:20Z tick 3 span 30s: GPU-0 "
	    "idle-held util 0% held >= 1000 MiB by 2 [4242 alice 1000 MiB "
	    "sm 0% idle-held, 7 b\\x1Bob ? MiB unknown]; GPU-1 active "
	    "util 55% held 0 MiB by 0\n");
	free(line);
	tick_free(&t);
}

static void
test_long(void)
{
	struct tick t;
	struct tick_gpu *g;
	char *line, *want;
	size_t cap = 1 << 20, len = 0;
	int64_t held = 0;

	memset(&t, 0, sizeof(t));
	t.ts_ms = 1700000000000LL;
	t.span_ms = 200;
	g = tick_add_gpu(&t);
	snprintf(g->uuid, sizeof(g->uuid), "GPU-0");
	g->util_pm = 900;
	g->procs_known = 1;
	for (int i = 0; i < 1500; i++) {
		struct tick_proc *p = tick_add_proc(g);

		p->pid = 100000u + (uint32_t)i * 7u;
		p->mem_mib = 100 + i;
		p->util_pm = i % 3 == 0 ? 600 : 50;
		snprintf(p->id.user, sizeof(p->id.user), "u%d", i % 3);
		held += p->mem_mib;
	}
	want = malloc(cap);
	CHECK(want != NULL);
	if (want == NULL)
		return;
	len += (size_t)snprintf(want + len, cap - len, "2023-11-14T22:13:20Z "
	    "tick 1 span 200ms: GPU-0 active util 90%% held %lld MiB by 1500",
	    (long long)held);
	for (int i = 0; i < 1500; i++) {
		const struct tick_proc *p = &g->procs[i];

		len += (size_t)snprintf(want + len, cap - len,
		    "%s%u %s %lld MiB sm %d%% %s", i ? ", " : " [", p->pid,
		    p->id.user, (long long)p->mem_mib, p->util_pm / 10,
		    p->util_pm == 600 ? "active" : "idle-held");
	}
	snprintf(want + len, cap - len, "]\n");
	line = line_of(&t, 1);
	CHECK(line != NULL && strlen(line) > 30000);
	CHECK_STR(line, want);
	free(line);
	free(want);
	tick_free(&t);
}

/* A slot of a reused tick: what its last process was leaves nothing. */
static void
test_reused(void)
{
	struct tick t;
	struct tick_gpu *g;
	struct tick_proc *p;

	memset(&t, 0, sizeof(t));
	g = tick_add_gpu(&t);
	p = tick_add_proc(g);
	p->pid = 9;
	p->start_ms = 5;
	p->mem_mib = 10;
	p->util_pm = 20;
	p->id.known = 1;
	p->id.uid = 1000;
	memset(p->id.user, 'x', sizeof(p->id.user) - 1);
	memset(p->id.cmdline, 'y', sizeof(p->id.cmdline) - 1);
	snprintf(p->id.pod_name, sizeof(p->id.pod_name), "pod");
	snprintf(p->id.container_name, sizeof(p->id.container_name), "c");
	tick_reset(&t);
	g = tick_add_gpu(&t);
	p = tick_add_proc(g);
	CHECK_INT(p->pid, 0);
	CHECK_INT(p->start_ms, 0);
	CHECK_INT(p->mem_mib, MIB_UNKNOWN);
	CHECK_INT(p->util_pm, UTIL_UNKNOWN);
	CHECK_INT(p->id.known, 0);
	CHECK_INT(p->id.uid, -1);
	CHECK_STR(p->id.user, "");
	CHECK_STR(p->id.comm, "");
	CHECK_STR(p->id.cmdline, "");
	CHECK_STR(p->id.container, "");
	CHECK_STR(p->id.pod, "");
	CHECK_STR(p->id.unit, "");
	CHECK_STR(p->id.slurm_job, "");
	CHECK_STR(p->id.pod_namespace, "");
	CHECK_STR(p->id.pod_name, "");
	CHECK_STR(p->id.container_name, "");
	tick_free(&t);
}

int
main(void)
{
	test_small();
	test_long();
	test_reused();
	HARNESS_DONE();
}
