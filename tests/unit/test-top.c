/*
 * gua top's model (top.c): the current idle-held streak of each process,
 * read from the newest hour's ticks and followed back through the hourly
 * rollups, must equal the streak counted tick by tick over the whole
 * history; and the order is idle-held first, longest first.
 */
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "harness.h"
#include "top.h"

#define NPROC	6
#define MAXTICKS 2000

/* What a process does at a tick. */
enum act { GONE, IDLE, BUSY };

/* The history, tick by tick, as the test wrote it. */
struct history {
	int	n;
	int64_t	ts[MAXTICKS], span[MAXTICKS];
	enum act act[MAXTICKS][NPROC];
};

static unsigned rnd_state = 12345;

static unsigned
rnd(unsigned n)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return (rnd_state >> 16) % n;
}

/* The streak counted back from the last tick, the obvious way: it ends
   at a tick not idle-held, or at a gap in the record longer than two of
   the tick's spans and a second, and than two minutes (the collector was
   down). */
static int64_t
brute_streak(const struct history *h, int p)
{
	int64_t ms = 0;

	for (int i = h->n - 1; i >= 0 && h->act[i][p] == IDLE; i--) {
		ms += h->span[i];
		if (i > 0 && h->ts[i] - h->ts[i - 1] > 2 * h->span[i] + 1000 &&
		    h->ts[i] - h->ts[i - 1] > 120000)
			break;
	}
	return ms;
}

static void
write_history(struct store *s, struct history *h)
{
	struct tick t;

	memset(&t, 0, sizeof(t));
	for (int i = 0; i < h->n; i++) {
		/* The card idles: each process's own utilization decides. */
		struct tick_gpu *g = fixture_gpu(&t, 0, 1);

		for (int p = 0; p < NPROC; p++) {
			if (h->act[i][p] == GONE)
				continue;
			fixture_proc(g, (uint32_t)(100 + p), 1000,
			    "tester", 1000 + p, h->act[i][p] == BUSY ? 60 : 0);
		}
		fixture_write(s, &t, h->ts[i], h->span[i]);
	}
	tick_free(&t);
}

static const struct top_proc *
find_pid(const struct top_view *v, uint32_t pid)
{
	for (size_t i = 0; i < v->nprocs; i++)
		if (v->procs[i].pid == pid)
			return &v->procs[i];
	return NULL;
}

/* Checks every process of the view against the brute count. */
static void
check_view(const char *name, const struct history *h)
{
	struct store *s;
	struct top_view v;
	char err[512];

	CHECK_INT(store_open_read(&s, fixture_path(name), err, sizeof(err)),
	    0);
	CHECK_INT(top_read(s, &v, err, sizeof(err)), 0);
	CHECK(v.have_tick);
	CHECK_INT(v.tick_ms, h->ts[h->n - 1]);
	CHECK_INT(v.ngpus, 1);
	for (int p = 0; p < NPROC; p++) {
		const struct top_proc *tp = find_pid(&v, (uint32_t)(100 + p));
		enum act now = h->act[h->n - 1][p];

		if (now == GONE) {
			CHECK(tp == NULL);
			continue;
		}
		CHECK(tp != NULL);
		if (tp == NULL)
			continue;
		CHECK_INT(tp->state, now == IDLE ? STATE_IDLE_HELD :
		    STATE_ACTIVE);
		CHECK_INT(tp->idle_ms, brute_streak(h, p));
		if (tp->idle_ms != brute_streak(h, p))
			fprintf(stderr, "  %s: process %d\n", name, p);
	}
	/* Idle-held first, longest first. */
	for (size_t i = 1; i < v.nprocs; i++) {
		const struct top_proc *a = &v.procs[i - 1], *b = &v.procs[i];

		CHECK(!(a->state != STATE_IDLE_HELD &&
		    b->state == STATE_IDLE_HELD));
		if (a->state == STATE_IDLE_HELD && b->state == STATE_IDLE_HELD)
			CHECK(a->idle_ms >= b->idle_ms);
	}
	top_view_free(&v);
	store_close(s);
}

/* Ticks of a minute from 00:40 over six hours, with runs of each act. */
static void
test_random_histories(void)
{
	static struct history h;

	for (int round = 0; round < 12; round++) {
		char name[32];
		struct store *s;
		int64_t ts = 1764550800000LL + 40 * MS_PER_MINUTE;
		enum act cur[NPROC];

		memset(&h, 0, sizeof(h));
		for (int p = 0; p < NPROC; p++)
			cur[p] = IDLE;
		h.n = 360;
		for (int i = 0; i < h.n; i++) {
			for (int p = 0; p < NPROC; p++) {
				/* Process p changes about every 20 << p
				   ticks: short runs and long ones. */
				if (rnd(20u << p) == 0)
					cur[p] = (enum act)rnd(3);
				h.act[i][p] = cur[p];
			}
			/* The last process idles from an hour's first tick. */
			if (i < 320)
				h.act[i][NPROC - 1] = i == 260 ? BUSY : IDLE;
			/* Spans vary a little, as a real collector's. */
			h.span[i] = 60000 + (int64_t)rnd(500);
			h.ts[i] = ts;
			/* Now and then a gap of two hours: a stopped
			   collector. */
			ts += round % 3 == 0 && i == 100 ? 2 * MS_PER_HOUR :
			    h.span[i];
		}
		/* At least one is still idle at the end, one still busy. */
		h.act[h.n - 1][0] = IDLE;
		h.act[h.n - 1][1] = BUSY;
		snprintf(name, sizeof(name), "top-%d.db", round);
		s = fixture_create(name, 60000);
		write_history(s, &h);
		store_close(s);
		check_view(name, &h);
	}
}

/* One process idle-held through every tick of five hours. */
static void
test_whole_history(void)
{
	static struct history h;
	struct store *s;

	memset(&h, 0, sizeof(h));
	h.n = 300;
	for (int i = 0; i < h.n; i++) {
		h.ts[i] = 1764550800000LL + i * 60000LL;
		h.span[i] = 60000;
		for (int p = 0; p < NPROC; p++)
			h.act[i][p] = p == 0 ? IDLE : p == 1 ? BUSY : GONE;
	}
	s = fixture_create("whole.db", 60000);
	write_history(s, &h);
	store_close(s);
	check_view("whole.db", &h);
	CHECK_INT(brute_streak(&h, 0), 300 * 60000LL);
}

/* An empty database: no tick, nothing to show, no error. */
static void
test_empty(void)
{
	struct store *s = fixture_create("empty.db", 60000);
	struct top_view v;
	char err[512];

	store_close(s);
	CHECK_INT(store_open_read(&s, fixture_path("empty.db"), err,
	    sizeof(err)), 0);
	CHECK_INT(top_read(s, &v, err, sizeof(err)), 0);
	CHECK_INT(v.have_tick, 0);
	CHECK_INT(v.ngpus, 0);
	CHECK_INT(v.nprocs, 0);
	top_view_free(&v);
	store_close(s);
}

int
main(void)
{
	test_empty();
	test_whole_history();
	test_random_histories();
	HARNESS_DONE();
}
