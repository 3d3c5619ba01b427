#include "fixture.h"
#include "harness.h"
#include "report-internal.h"
#include "tz.h"
#include "workload.h"

#define T0	1795602600000LL		/* 2026-11-25T10:30:00Z, a Wednesday */
#define SEC	1000LL

static struct report_options
options(int64_t until, int64_t since)
{
	struct report_options o;

	memset(&o, 0, sizeof(o));
	o.until_ms = until;
	o.since_ms = since;
	o.gpu_id = -1;
	classify_defaults(&o.thr);
	return o;
}

/*
 * Ten ticks of 10 s on two GPUs. GPU 0: active 4 ticks (alice), idle-held
 * 3 (alice holds 500 MiB at util 5 %), truly idle 3. GPU 1: active all
 * along at 20 %, but bob's 2000 MiB process has its own utilization 0, so
 * bob is idle-held beside a busy card; carol's 50 MiB never counts.
 */
static struct store *
build_hand(void)
{
	struct store *s = fixture_create("hand.db", 10 * SEC);
	struct tick t;

	memset(&t, 0, sizeof(t));
	for (int i = 0; i < 10; i++) {
		struct tick_gpu *g0 = fixture_gpu(&t, 0, i < 4 ? 50 : i < 7 ? 5 : 0);
		struct tick_gpu *g1 = fixture_gpu(&t, 1, 20);

		if (i < 7)
			fixture_proc(g0, 100, 1, "alice", 500, -1);
		fixture_proc(g1, 200, 1, "bob", 2000, 0);
		fixture_proc(g1, 300, 1, "carol", 50, 15);
		fixture_write(s, &t, T0 + i * 10 * SEC, 10 * SEC);
	}
	tick_free(&t);
	return s;
}

static void
test_hand(void)
{
	struct store *s = build_hand();
	struct report_options o = options(T0 + 90 * SEC, MS_PER_HOUR);
	struct report r;
	char err[512];

	CHECK_INT(report_build(s, &o, &r, err, sizeof(err)), 0);
	/* The window is min(--since, age of the oldest sample). */
	CHECK_INT(report_window_ms(&r), 100 * SEC + 1);
	CHECK_INT(r.start_ms, T0 - 10 * SEC);
	CHECK_INT(r.last_tick_ms, T0 + 90 * SEC);
	CHECK_INT(r.ngpus, 2);
	CHECK_INT(rollup_gpu_known_n(&r.total), 20);
	CHECK_NEAR(report_share(&r.total, STATE_ACTIVE), 0.70, 1e-9);
	CHECK_NEAR(report_share(&r.total, STATE_IDLE_HELD), 0.15, 1e-9);
	CHECK_NEAR(report_share(&r.total, STATE_TRULY_IDLE), 0.15, 1e-9);
	CHECK_NEAR(report_share(&r.gpus[0].r, STATE_ACTIVE), 0.4, 1e-9);
	CHECK_NEAR(report_share(&r.gpus[1].r, STATE_ACTIVE), 1.0, 1e-9);
	CHECK_NEAR(report_idle_gpu_hours(&r), 60.0 / 3600, 1e-9);
	CHECK_NEAR(report_gpus_unused(&r), 0.3 * 2, 1e-9);
	CHECK_NEAR(report_coverage(&r), 200000.0 / (100001.0 * 2), 1e-9);
	CHECK_NEAR(report_mean_util(&r.gpus[1].r), 20.0, 1e-9);
	/* Identities by idle-held time: bob 100 s, alice 30 s, carol 0. */
	CHECK_INT(r.nids, 3);
	CHECK_STR(r.ids[0].name, "bob");
	CHECK_INT(r.ids[0].idle_ms, 100 * SEC);
	CHECK_INT(r.ids[0].ms, 100 * SEC);
	CHECK_INT(r.ids[0].idle_mib_ms, 2000 * 100 * SEC);
	CHECK_STR(r.ids[1].name, "alice");
	CHECK_INT(r.ids[1].ms, 70 * SEC);
	CHECK_INT(r.ids[1].idle_ms, 30 * SEC);
	CHECK_STR(r.ids[2].name, "carol");
	CHECK_INT(r.ids[2].idle_ms, 0);
	/* Sessions: bob is alive at the last tick, alice left at tick 6. */
	CHECK_INT(r.nsessions, 3);
	CHECK_INT(r.sessions[0].pid, 200);
	CHECK(r.sessions[0].alive);
	CHECK_INT(r.sessions[0].r.peak_mib, 2000);
	CHECK_STR(r.gpus[r.sessions[0].gpu].info.uuid, "GPU-test-1");
	CHECK_INT(r.sessions[1].pid, 100);
	CHECK(!r.sessions[1].alive);
	CHECK_INT(r.sessions[1].r.first_ms, T0);
	CHECK_INT(r.sessions[1].r.last_ms, T0 + 60 * SEC);
	/* Heatmap: every tick in Wednesday 10:00-11:00 UTC. */
	CHECK_INT(rollup_gpu_known_ms(&r.heat[3][10]), 200 * SEC);
	CHECK_INT(rollup_gpu_known_ms(&r.heat[3][11]), 0);
	report_free(&r);

	/* --until in the middle: ticks at or before it. */
	o = options(T0 + 30 * SEC, 20 * SEC);
	CHECK_INT(report_build(s, &o, &r, err, sizeof(err)), 0);
	CHECK_INT(rollup_gpu_known_n(&r.total), 4);
	CHECK_INT(r.last_tick_ms, T0 + 30 * SEC);
	report_free(&r);

	/* Other thresholds: a card is active from 60 %, so GPU 0's 50 % is
	   held idle by alice's 500 MiB. */
	o = options(T0 + 90 * SEC, MS_PER_HOUR);
	o.thr.active_util = 60;
	CHECK_INT(report_build(s, &o, &r, err, sizeof(err)), 0);
	CHECK(!r.used_rollups);
	CHECK_NEAR(report_share(&r.gpus[0].r, STATE_IDLE_HELD), 0.7, 1e-9);
	CHECK_NEAR(report_share(&r.gpus[1].r, STATE_IDLE_HELD), 1.0, 1e-9);
	report_free(&r);

	/* One GPU. */
	o = options(T0 + 90 * SEC, MS_PER_HOUR);
	CHECK_INT(report_find_gpu(s, "1", &o.gpu_id, err, sizeof(err)), 0);
	CHECK_INT(report_build(s, &o, &r, err, sizeof(err)), 0);
	CHECK_INT(r.ngpus, 1);
	CHECK_STR(r.gpus[0].info.uuid, "GPU-test-1");
	CHECK_INT(r.nids, 2);
	report_free(&r);
	CHECK_INT(report_find_gpu(s, "gpu-test-0", &o.gpu_id, err,
	    sizeof(err)), 0);
	CHECK_INT(report_find_gpu(s, "GPU-test", &o.gpu_id, err, sizeof(err)),
	    REPORT_GPU_AMBIGUOUS);
	CHECK(strstr(err, "matches 2 GPUs") != NULL);
	CHECK_INT(report_find_gpu(s, "7", &o.gpu_id, err, sizeof(err)), -1);
	CHECK(strstr(err, "no GPU '7'") != NULL);

	/* A window before any data has no samples. */
	o = options(T0 - MS_PER_DAY, MS_PER_HOUR);
	CHECK_INT(report_build(s, &o, &r, err, sizeof(err)), 0);
	CHECK_INT(rollup_gpu_known_n(&r.total), 0);
	CHECK_INT(r.ngpus, 0);
	CHECK_INT(r.nsessions, 0);
	report_free(&r);
	store_close(s);
}

/* A collector stopped for an hour is a gap, not idle time. */
static void
test_gap(void)
{
	struct store *s = fixture_create("gap.db", 10 * SEC);
	struct report_options o;
	struct report r;
	struct tick t;
	char err[512];

	memset(&t, 0, sizeof(t));
	for (int i = 0; i < 10; i++) {
		int64_t ts = T0 + i * 10 * SEC + (i >= 5 ? MS_PER_HOUR : 0);

		fixture_gpu(&t, 0, 0);
		fixture_write(s, &t, ts, 10 * SEC);
	}
	o = options(T0 + 90 * SEC + MS_PER_HOUR, 2 * MS_PER_HOUR);
	CHECK_INT(report_build(s, &o, &r, err, sizeof(err)), 0);
	CHECK_INT(report_window_ms(&r), MS_PER_HOUR + 100 * SEC + 1);
	CHECK_NEAR(report_coverage(&r), 100000.0 / (3700000.0 + 1), 1e-9);
	CHECK_INT(report_unobserved_ms(&r), MS_PER_HOUR + 1);
	CHECK_NEAR(report_idle_gpu_hours(&r), 100.0 / 3600, 1e-9);
	CHECK_NEAR(report_share(&r.total, STATE_TRULY_IDLE), 1.0, 1e-9);
	report_free(&r);
	store_close(s);
	tick_free(&t);
}

/*
 * GPUs equivalently unused counts a card only while it was seen idle: GPU
 * 0 idle all along, GPU 1 idle for 2 ticks and then lost, GPU 2 (a MIG
 * instance, say) never with a utilization. Idle share x 3 GPUs would say
 * 3; it is 120 s idle over 100 s watched.
 */
static void
test_unused_not_unknown(void)
{
	struct store *s = fixture_create("unused.db", 10 * SEC);
	struct report_options o;
	struct report r;
	struct tick t;
	char err[512];

	memset(&t, 0, sizeof(t));
	for (int i = 0; i < 10; i++) {
		fixture_gpu(&t, 0, 0);
		if (i < 2)
			fixture_gpu(&t, 1, 3);
		fixture_gpu(&t, 2, -1);
		fixture_write(s, &t, T0 + i * 10 * SEC, 10 * SEC);
	}
	o = options(T0 + 90 * SEC, MS_PER_HOUR);
	CHECK_INT(report_build(s, &o, &r, err, sizeof(err)), 0);
	CHECK_INT(r.ngpus, 3);
	CHECK_NEAR(report_share(&r.total, STATE_TRULY_IDLE), 1.0, 1e-9);
	/* GPU 1 counts for the 20 s it was there (of a window one ms
	   longer than the 100 s of ticks: ticks at or before --until). */
	CHECK_NEAR(report_gpus_unused(&r), 1.0 + 20000.0 / 100001.0, 1e-9);
	CHECK_NEAR(report_idle_gpu_hours(&r), 120.0 / 3600, 1e-9);
	report_free(&r);
	store_close(s);
	tick_free(&t);
}

static int same_report(const struct report *, const struct report *);

/*
 * A card replaced in its slot: GPU index 0 is one card (busy) for the
 * first half, another (idle) for the second, the collector resumed in
 * between with --append. The second gets its own label, each counts for
 * its half, and the one-GPU host was half idle: 0.5 GPUs unused, the
 * window fully covered.
 */
static struct store *
build_replaced(const char *name, int64_t interval, int n, int64_t gap)
{
	struct store *s = fixture_create(name, interval);
	struct tick t;
	char err[512];

	memset(&t, 0, sizeof(t));
	for (int i = 0; i < n; i++) {
		struct tick_gpu *g;
		int second = i >= n / 2;
		int64_t ts = T0 - (n - 1 - i) * interval + (second ? 0 : -gap);

		if (i == n / 2)
			store_begin_run(s, ts, interval, "test", "1", err,
			    sizeof(err));
		g = fixture_gpu(&t, 0, second ? 0 : 60);
		if (second)
			snprintf(g->uuid, sizeof(g->uuid), "GPU-new-card");
		fixture_write(s, &t, ts, interval);
	}
	tick_free(&t);
	return s;
}

static void
test_card_replaced(void)
{
	struct store *s = build_replaced("replaced.db", 10 * SEC, 20, 0);
	struct report_options o = options(T0, MS_PER_HOUR);
	struct report r;
	char err[512], label[64];
	int64_t id;

	CHECK_INT(report_build(s, &o, &r, err, sizeof(err)), 0);
	CHECK_INT(r.ngpus, 2);
	CHECK_STR(report_gpu_label(&r, 0, label, sizeof(label)), "GPU-0");
	CHECK_STR(r.gpus[0].info.uuid, "GPU-test-0");
	CHECK_STR(report_gpu_label(&r, 1, label, sizeof(label)), "GPU-0#2");
	CHECK_STR(r.gpus[1].info.uuid, "GPU-new-card");
	/* Each for its half: 100 s, the second to the window's end. */
	CHECK_INT(r.gpus[0].present_ms, 100 * SEC);
	CHECK_INT(r.gpus[1].present_ms, 100 * SEC + 1);
	CHECK_INT(r.gpu_window_ms, report_window_ms(&r));
	CHECK_NEAR(report_coverage(&r), 1.0, 1e-5);
	CHECK_INT(report_unobserved_ms(&r), 1);
	CHECK_NEAR(report_gpus_unused(&r), 0.5, 1e-5);
	CHECK_NEAR(report_host_coverage(&r.hosts[0]), 1.0, 1e-5);
	report_free(&r);

	/* --gpu takes the labels; the bare index names both. */
	CHECK_INT(report_find_gpu(s, "GPU-0#2", &id, err, sizeof(err)), 0);
	o.gpu_id = id;
	CHECK_INT(report_build(s, &o, &r, err, sizeof(err)), 0);
	CHECK_INT(r.ngpus, 1);
	CHECK_STR(r.gpus[0].info.uuid, "GPU-new-card");
	CHECK_STR(report_gpu_label(&r, 0, label, sizeof(label)), "GPU-0#2");
	/* Alone, it counts for its half of the window only: fully
	   covered, and one GPU unused all the while it was there. */
	CHECK_INT(r.gpus[0].present_ms, 100 * SEC + 1);
	CHECK_NEAR(report_coverage(&r), 1.0, 1e-5);
	CHECK_NEAR(report_gpus_unused(&r), 1.0, 1e-9);
	report_free(&r);
	CHECK_INT(report_find_gpu(s, "gpu-0", &id, err, sizeof(err)), 0);
	o.gpu_id = id;
	CHECK_INT(report_build(s, &o, &r, err, sizeof(err)), 0);
	CHECK_STR(r.gpus[0].info.uuid, "GPU-test-0");
	report_free(&r);
	CHECK_INT(report_find_gpu(s, "0", &id, err, sizeof(err)),
	    REPORT_GPU_AMBIGUOUS);
	CHECK(strstr(err, "index 0 was held by 2 GPUs") != NULL);
	CHECK(strstr(err, "(GPU-0, GPU-0#2, ...)") != NULL);
	CHECK_INT(report_find_gpu(s, "GPU-0#3", &id, err, sizeof(err)), -1);
	CHECK_INT(report_find_gpu(s, "GPU-0#02", &id, err, sizeof(err)), -1);
	store_close(s);

	/*
	 * Over hours, read from rollups: the replacement falls inside an
	 * hour read from its sums, and the same comes out as from raw
	 * ticks; a collector stopped 20 minutes for the swap leaves the
	 * cards' halves as they were.
	 */
	s = build_replaced("replaced-hours.db", 30 * SEC, 1000, 20 *
	    MS_PER_MINUTE);
	o = options(T0 + 5 * MS_PER_MINUTE, 10 * MS_PER_HOUR);
	CHECK_INT(report_build(s, &o, &r, err, sizeof(err)), 0);
	{
		struct report raw;

		CHECK(r.used_rollups);
		o.force_raw = 1;
		CHECK_INT(report_build(s, &o, &raw, err, sizeof(err)), 0);
		CHECK(same_report(&r, &raw));
		report_free(&raw);
	}
	CHECK_INT(r.ngpus, 2);
	CHECK_INT(r.gpus[0].present_ms, 500 * 30 * SEC);
	CHECK_INT(r.gpus[1].present_ms, 500 * 30 * SEC + 5 * MS_PER_MINUTE +
	    1);
	/* The 20 minutes between the cards are neither's: half idle over
	   the time the host had a card. */
	CHECK_INT(r.hosts[0].present_ms, r.gpu_window_ms);
	CHECK_NEAR(report_gpus_unused(&r), (500.0 * 30 + 300.001) /
	    (1000.0 * 30 + 300.001), 1e-9);
	/* Unobserved: the 5 minutes after the last tick, not the swap. */
	CHECK_NEAR(report_coverage(&r), 30000.0 / 30300.001, 1e-9);
	report_free(&r);
	store_close(s);
}

/*
 * A process's own SM utilization over its session: weighted by the tick
 * spans, over the ticks where it was known. dana's process: 90 % for
 * 10 s, 2 % for 30 s, unknown for 10 s, 0 % for 10 s: 960 / 50 = 19.2 %
 * (unweighted it would be 30.7 %, and 16.0 % with the unknown tick as 0).
 * Its card is busy all along, so it is idle-held for 40 s of it. erin
 * holds memory at 0 % throughout; frank's own utilization is never known.
 * The ticks lie in three hours, the middle one read from the rollups.
 */
static void
test_own_util(void)
{
	struct store *s = fixture_create("own.db", 10 * SEC);
	int64_t h0 = util_hour_floor(T0) - 2 * MS_PER_HOUR;
	static const struct {
		int64_t	at, span;
		int	dana;
	} ticks[] = {
		{ 10 * MS_PER_MINUTE, 10 * SEC, 90 },
		{ MS_PER_HOUR + 10 * MS_PER_MINUTE, 30 * SEC, 2 },
		{ MS_PER_HOUR + 20 * MS_PER_MINUTE, 10 * SEC, -1 },
		{ 2 * MS_PER_HOUR + 5 * MS_PER_MINUTE, 10 * SEC, 0 },
	};
	struct report_options o;
	struct report r;
	struct tick t;
	char err[512];

	memset(&t, 0, sizeof(t));
	for (size_t i = 0; i < ARRAY_LEN(ticks); i++) {
		struct tick_gpu *g = fixture_gpu(&t, 0, 50);

		fixture_proc(g, 100, 1, "dana", 4000, ticks[i].dana);
		fixture_proc(g, 200, 1, "erin", 12288, 0);
		fixture_proc(g, 300, 1, "frank", 2000, -1);
		fixture_write(s, &t, h0 + ticks[i].at, ticks[i].span);
	}
	for (int raw = 0; raw < 2; raw++) {
		o = options(h0 + 2 * MS_PER_HOUR + 30 * MS_PER_MINUTE,
		    3 * MS_PER_HOUR);
		o.force_raw = raw;
		CHECK_INT(report_build(s, &o, &r, err, sizeof(err)), 0);
		CHECK_INT(r.used_rollups, !raw);
		CHECK_INT(r.nsessions, 3);
		/* By idle-held time: erin 60 s, dana 40 s, frank 0. */
		CHECK_INT(r.sessions[0].pid, 200);
		CHECK_NEAR(report_session_util(&r.sessions[0]), 0.0, 1e-9);
		CHECK_INT(r.sessions[1].pid, 100);
		CHECK_INT(r.sessions[1].r.idle_ms, 40 * SEC);
		CHECK_INT(r.sessions[1].r.util_ms, 50 * SEC);
		CHECK_NEAR(report_session_util(&r.sessions[1]), 19.2, 1e-9);
		CHECK_INT(r.sessions[2].pid, 300);
		CHECK_INT(r.sessions[2].r.idle_ms, 0);
		CHECK(report_session_util(&r.sessions[2]) < 0);
		/* The identities: one process each. */
		CHECK_INT(r.nids, 3);
		CHECK_STR(r.ids[1].name, "dana");
		CHECK_NEAR(report_identity_util(&r.ids[1]), 19.2, 1e-9);
		CHECK_STR(r.ids[2].name, "frank");
		CHECK(report_identity_util(&r.ids[2]) < 0);
		report_free(&r);
	}
	/* A window of dana's last two ticks: the unknown one and 0 %. */
	o = options(h0 + 2 * MS_PER_HOUR + 30 * MS_PER_MINUTE,
	    MS_PER_HOUR + 15 * MS_PER_MINUTE);
	CHECK_INT(report_build(s, &o, &r, err, sizeof(err)), 0);
	CHECK_INT(r.sessions[1].pid, 100);
	CHECK_INT(r.sessions[1].r.util_ms, 10 * SEC);
	CHECK_NEAR(report_session_util(&r.sessions[1]), 0.0, 1e-9);
	report_free(&r);
	store_close(s);
	tick_free(&t);
}

static unsigned long long rng = 88172645463325252ULL;

static unsigned
rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static int
same_report(const struct report *a, const struct report *b)
{
	int same = memcmp(&a->total, &b->total, sizeof(a->total)) == 0 &&
	    memcmp(a->heat, b->heat, sizeof(a->heat)) == 0 &&
	    a->ngpus == b->ngpus && a->nsessions == b->nsessions &&
	    a->nids == b->nids && a->start_ms == b->start_ms &&
	    a->end_ms == b->end_ms;

	same = same && a->gpu_window_ms == b->gpu_window_ms;
	for (size_t i = 0; same && i < a->ngpus; i++)
		same = memcmp(&a->gpus[i].r, &b->gpus[i].r,
		    sizeof(a->gpus[i].r)) == 0 &&
		    a->gpus[i].present_ms == b->gpus[i].present_ms;
	for (size_t i = 0; same && i < a->nsessions; i++)
		same = memcmp(&a->sessions[i].r, &b->sessions[i].r,
		    sizeof(a->sessions[i].r)) == 0 &&
		    a->sessions[i].alive == b->sessions[i].alive;
	for (size_t i = 0; same && i < a->nids; i++)
		same = a->ids[i].idle_mib_ms == b->ids[i].idle_mib_ms &&
		    a->ids[i].ms == b->ids[i].ms;
	/* A timeline finer than hours comes from the ticks either way
	   (a window under two days), so it is the same bucket for bucket. */
	if (same && (a->timeline_step_ms < MS_PER_HOUR ||
	    b->timeline_step_ms < MS_PER_HOUR)) {
		same = a->timeline_step_ms == b->timeline_step_ms &&
		    a->ntimeline == b->ntimeline && memcmp(a->timeline,
		    b->timeline, a->ntimeline * sizeof(*a->timeline)) == 0;
		for (size_t i = 0; same && i < a->ngpus; i++)
			same = memcmp(a->gpus[i].timeline, b->gpus[i].timeline,
			    a->ntimeline * sizeof(*a->timeline)) == 0;
	}
	return same;
}

/*
 * Rollups must give exactly what a raw scan gives, for windows that start
 * and end anywhere, mid-hour included.
 */
static void
test_rollups_equal_raw(void)
{
	struct store *s = fixture_create("random.db", 37 * SEC);
	struct tick t;
	int64_t ts = T0 - 7 * MS_PER_HOUR, first = ts, last = ts;
	int ok = 1, used = 0;
	char err[512];

	memset(&t, 0, sizeof(t));
	for (int i = 0; i < 2000; i++) {
		for (int g = 0; g < 3; g++) {
			struct tick_gpu *tg = fixture_gpu(&t, g,
			    rnd(5) == 0 ? -1 : (int)rnd(30));
			int np = (int)rnd(4);

			for (int p = 0; p < np; p++)
				fixture_proc(tg, 1000 + (unsigned)g * 10 +
				    (unsigned)p, (i / 300) * 1000,
				    p == 2 ? "u2" : "u1", 50 + rnd(3) * 100 +
				    (i / 500) * 7, rnd(3) == 0 ? -1 :
				    (int)rnd(20));
		}
		last = ts;
		/* Irregular spans and an occasional gap. */
		fixture_write(s, &t, ts, 37 * SEC);
		ts += 37 * SEC + (rnd(50) == 0 ? 20 * MS_PER_MINUTE : rnd(3000));
	}
	for (int k = 0; k < 60; k++) {
		struct report_options o;
		struct report a, b;
		int64_t until = first + (int64_t)rnd((unsigned)(last - first +
		    2 * MS_PER_HOUR)) - MS_PER_HOUR;
		int64_t since = 1 + (int64_t)rnd(30 * MS_PER_HOUR);

		o = options(until, since);
		if (k % 3 == 0)
			report_find_gpu(s, "2", &o.gpu_id, err, sizeof(err));
		if (report_build(s, &o, &a, err, sizeof(err)) != 0) {
			ok = 0;
			break;
		}
		o.force_raw = 1;
		if (report_build(s, &o, &b, err, sizeof(err)) != 0) {
			report_free(&a);
			ok = 0;
			break;
		}
		used += a.used_rollups;
		if (!same_report(&a, &b)) {
			fprintf(stderr, "window until=%lld since=%lld differs\n",
			    (long long)until, (long long)since);
			ok = 0;
		}
		report_free(&a);
		report_free(&b);
	}
	CHECK(ok);
	CHECK(used > 20);	/* most windows did use rollups */
	store_close(s);
	tick_free(&t);
}

/*
 * The same over the benchmark's workload, two days of it: processes that
 * come and go, PIDs reused, collector restarts, bulk transactions. Every
 * window starts and ends mid-hour, or on an hour, or one ms off one.
 */
static void
test_generated_history(void)
{
	struct workload w;
	struct workload_state ws;
	struct store *s;
	struct tick t;
	char err[512];
	int new_run, n = 0, ok = 1, used = 0;
	int64_t first, last;

	memset(&t, 0, sizeof(t));
	CHECK_INT(workload_named("small", &w), 0);
	CHECK_INT(workload_start(&ws, &w), 0);
	s = fixture_create("generated.db", w.interval_ms);
	while (workload_next(&ws, &t, &new_run) == 1) {
		if (new_run || n % 500 == 0) {
			if (n > 0 && store_commit(s, err, sizeof(err)) != 0)
				break;
			if (new_run)
				store_begin_run(s, t.ts_ms, w.interval_ms, "test",
				    "1", err, sizeof(err));
			store_begin(s, err, sizeof(err));
		}
		if (store_write_tick(s, &t, err, sizeof(err)) != 0)
			break;
		n++;
	}
	CHECK_INT(store_commit(s, err, sizeof(err)), 0);
	/* Two days at a minute, less the two restarts' gaps. */
	CHECK(n > 2000 && n < workload_ticks(&w));
	first = ws.first_ms;
	last = w.end_ms;
	for (int k = 0; k < 40; k++) {
		struct report_options o;
		struct report a, b;
		int64_t until, since;

		until = first + (int64_t)rnd((unsigned)(last - first +
		    MS_PER_HOUR));
		since = MS_PER_HOUR + (int64_t)rnd(20 * MS_PER_HOUR);
		switch (k % 4) {
		case 1:		/* the window ends on an hour */
			until = util_hour_floor(until) - 1;
			break;
		case 2:		/* ... and starts on one */
			until = util_hour_floor(until) - 1;
			since = since / MS_PER_HOUR * MS_PER_HOUR;
			break;
		case 3:		/* one ms past an hour */
			until = util_hour_floor(until);
			break;
		}
		o = options(until, since);
		if (k % 5 == 0)
			report_find_gpu(s, "1", &o.gpu_id, err, sizeof(err));
		if (report_build(s, &o, &a, err, sizeof(err)) != 0) {
			fprintf(stderr, "%s\n", err);
			ok = 0;
			break;
		}
		o.force_raw = 1;
		if (report_build(s, &o, &b, err, sizeof(err)) != 0) {
			fprintf(stderr, "%s\n", err);
			report_free(&a);
			ok = 0;
			break;
		}
		used += a.used_rollups;
		if (!same_report(&a, &b) || a.nsessions == 0) {
			fprintf(stderr, "window until=%lld since=%lld differs\n",
			    (long long)until, (long long)since);
			ok = 0;
		}
		for (size_t i = 0; i < a.nsessions; i++)
			if (a.sessions[i].pid != b.sessions[i].pid ||
			    strcmp(a.sessions[i].who.cmdline,
			    b.sessions[i].who.cmdline) != 0)
				ok = 0;
		report_free(&a);
		report_free(&b);
	}
	CHECK(ok);
	CHECK(used > 30);
	store_close(s);
	workload_end(&ws);
	tick_free(&t);
}

/* Samples in the heatmap's cells, all of them; and the cells with any. */
static int64_t
heat_samples(const struct report *r, int *cells)
{
	int64_t n = 0;

	*cells = 0;
	for (int d = 0; d < 7; d++)
		for (int h = 0; h < 24; h++) {
			n += rollup_gpu_known_n(&r->heat[d][h]);
			*cells += rollup_gpu_known_n(&r->heat[d][h]) > 0;
		}
	return n;
}

static int
same_heat(const struct report *a, const struct report *b)
{
	for (int d = 0; d < 7; d++)
		for (int h = 0; h < 24; h++)
			if (memcmp(a->heat[d][h].n, b->heat[d][h].n,
			    sizeof(a->heat[d][h].n)) != 0 ||
			    memcmp(a->heat[d][h].ms, b->heat[d][h].ms,
			    sizeof(a->heat[d][h].ms)) != 0)
				return 0;
	return 1;
}

/*
 * Heatmaps by local hour across Europe/Berlin's change back to winter
 * time (2026-10-25 01:00 UTC: 03:00 CEST becomes 02:00 CET): the hour
 * 02:00 comes twice and takes both, nothing is lost or counted twice,
 * and the hourly rollups give what the raw ticks give. A zone half an
 * hour off UTC (Asia/Kolkata) splits each UTC hour between two local
 * hours: the report reads it raw, and loses nothing either.
 */
static void
test_time_zones(void)
{
	const int64_t start = 1792875600000LL;	/* 2026-10-24T21:00:00Z */
	struct store *s = fixture_create("tz.db", 10 * 60 * SEC);
	struct report_options o;
	struct report a, b;
	struct tick t;
	char err[512];
	int cells;

	if (access("/usr/share/zoneinfo/Europe/Berlin", R_OK) != 0 ||
	    access("/usr/share/zoneinfo/Asia/Kolkata", R_OK) != 0) {
		fprintf(stderr, "SKIP: time zones: no zone files (tzdata)\n");
		store_close(s);
		return;
	}
	memset(&t, 0, sizeof(t));
	for (int i = 1; i <= 36; i++) {		/* every 10 min for 6 h */
		fixture_gpu(&t, 0, i % 2 ? 50 : 0);
		fixture_write(s, &t, start + i * 10 * 60 * SEC, 10 * 60 * SEC);
	}
	o = options(start + 6 * MS_PER_HOUR, 6 * MS_PER_HOUR);

	CHECK_INT(tz_set("Europe/Berlin", err, sizeof(err)), 0);
	CHECK_INT(report_build(s, &o, &a, err, sizeof(err)), 0);
	CHECK_INT(a.used_rollups, 1);
	CHECK_INT(heat_samples(&a, &cells), 36);
	CHECK_INT(rollup_gpu_known_n(&a.total), 36);
	/* Saturday 23:00 CEST, then Sunday 00, 01, 02 twice, 03, 04. */
	CHECK_INT(cells, 6);
	CHECK_INT(rollup_gpu_known_n(&a.heat[6][23]), 5);
	CHECK_INT(rollup_gpu_known_n(&a.heat[0][0]), 6);
	CHECK_INT(rollup_gpu_known_n(&a.heat[0][2]), 12);
	CHECK_INT(rollup_gpu_known_n(&a.heat[0][3]), 6);
	CHECK_INT(rollup_gpu_known_n(&a.heat[0][4]), 1);
	o.force_raw = 1;
	CHECK_INT(report_build(s, &o, &b, err, sizeof(err)), 0);
	CHECK(same_heat(&a, &b));
	report_free(&a);
	report_free(&b);

	CHECK_INT(tz_set("Asia/Kolkata", err, sizeof(err)), 0);
	o.force_raw = 0;
	CHECK_INT(report_build(s, &o, &a, err, sizeof(err)), 0);
	CHECK_INT(a.used_rollups, 0);
	CHECK_INT(heat_samples(&a, &cells), 36);
	/* 21:10Z is 02:40 IST: a half-hour each way of the UTC hours. */
	CHECK_INT(rollup_gpu_known_n(&a.heat[0][2]), 2);
	CHECK_INT(rollup_gpu_known_n(&a.heat[0][3]), 6);
	CHECK_INT(cells, 7);
	report_free(&a);

	/* Names that are not zones, or paths out of the zone directory. */
	CHECK_INT(tz_set("Mars/Olympus_Mons", err, sizeof(err)), -1);
	CHECK_INT(tz_set("../../../etc/passwd", err, sizeof(err)), -1);
	CHECK_INT(tz_set("/etc/localtime", err, sizeof(err)), -1);
	CHECK_INT(tz_set("Europe/./Paris", err, sizeof(err)), -1);
	CHECK_INT(tz_set("Europe", err, sizeof(err)), -1);	/* a directory */
	CHECK_INT(tz_set("", err, sizeof(err)), -1);
	CHECK_INT(tz_set("UTC", err, sizeof(err)), 0);
	CHECK(tz_is_utc());
	store_close(s);
	tick_free(&t);
}

/*
 * --top: the first N of the ranking are those a full sort puts first, in
 * its order, whatever N; the others stay in the array, and the counts of
 * those left out add up.
 */
static void
test_top(void)
{
	struct store *s = fixture_create("top.db", 10 * SEC);
	struct report_options o;
	struct report all, r;
	struct tick t;
	char err[512], user[16];
	static const size_t tops[] = { 1, 2, 7, 39, 40, 41, 1000 };

	memset(&t, 0, sizeof(t));
	/* 40 processes of 8 users, idle-held for different times. */
	for (int i = 0; i < 12; i++) {
		struct tick_gpu *g = fixture_gpu(&t, 0, 0);

		for (int p = 0; p < 40; p++) {
			if (i >= (p * 7) % 13)
				continue;
			snprintf(user, sizeof(user), "u%d", p % 8);
			fixture_proc(g, (uint32_t)(1000 + p), 1, user,
			    p % 3 == 0 ? 50 : 500 + p, -1);
		}
		fixture_write(s, &t, T0 + i * 10 * SEC, 10 * SEC);
	}
	o = options(T0 + 11 * 10 * SEC, MS_PER_HOUR);
	CHECK_INT(report_build(s, &o, &all, err, sizeof(err)), 0);
	CHECK_INT(all.nsessions, all.nsessions_all);
	CHECK_INT(all.nids, 8);
	CHECK(all.nsessions > 30);
	for (size_t k = 0; k < ARRAY_LEN(tops); k++) {
		size_t n = tops[k] < all.nsessions_all ? tops[k] :
		    all.nsessions_all, ok = 1;

		o.top = tops[k];
		CHECK_INT(report_build(s, &o, &r, err, sizeof(err)), 0);
		CHECK_INT(r.nsessions, n);
		CHECK_INT(r.nsessions_all, all.nsessions_all);
		CHECK_INT(report_sessions_omitted(&r, 0), all.nsessions_all - n);
		for (size_t i = 0; i < n; i++)
			ok &= r.sessions[i].proc_id == all.sessions[i].proc_id;
		CHECK(ok);
		CHECK_INT(r.nids, tops[k] < 8 ? tops[k] : 8);
		CHECK_INT(report_ids_omitted(&r), 8 - r.nids);
		for (size_t i = 0; i < r.nids; i++)
			ok &= strcmp(r.ids[i].name, all.ids[i].name) == 0 &&
			    r.ids[i].idle_ms == all.ids[i].idle_ms;
		CHECK(ok);
		report_free(&r);
	}
	report_free(&all);
	store_close(s);
	tick_free(&t);
}

/* kWh for people: three significant digits down to a single joule,
   and 0 plainly 0. */
static void
test_kwh_format(void)
{
	static const struct {
		int64_t	j;
		const char *want;
	} cases[] = {
		{ 0, "0 kWh" },
		{ 1, "0.000000278 kWh" },
		{ 100, "0.0000278 kWh" },
		{ 1080, "0.000300 kWh" },
		{ 3600, "0.00100 kWh" },
		{ 4175280000LL, "1159.8 kWh" },
	};
	char buf[48];

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		report_kwh_format(cases[i].j, buf, sizeof(buf));
		CHECK_STR(buf, cases[i].want);
	}
}

/* Whether the process pid is on GPU g at minute m (of 30 hours). */
static int
returner_on(uint32_t pid, int g, int m)
{
	switch (pid) {
	case 7001:	/* hours 1-3 and 9-12 on GPU 0: a gap of six hours */
		return g == 0 && ((m >= 60 && m < 180) || (m >= 540 &&
		    m < 720));
	case 7002:	/* 40 minutes every five hours on GPU 1 */
		return g == 1 && m % 300 >= 100 && m % 300 < 140;
	case 7003:	/* both GPUs, each with a gap of its own */
		return (g == 0 && (m < 200 || m > 900)) || (g == 1 &&
		    m > 400 && (m < 600 || m > 1500));
	default:
		return 0;
	}
}

/*
 * A report keeps only its live sessions and its --top while it scans: a
 * session gone for hours is finished then. Thirty hours of processes
 * that come and go, and three that come back after hours away (the top
 * still holding the first part of one; the parts of another each too
 * small for the top): every --top gives the first sessions, groups and
 * counts of a report that keeps every session to the end (--top 0).
 */
static void
test_sessions_finish_early(void)
{
	static const size_t tops[] = { 1, 2, 3, 5, 10, 25, 200 };
	static const char *users[] = { "ann", "ben", "cid", "dot", "eve" };
	struct store *s = fixture_create("churn.db", 60 * SEC);
	struct tick t;
	struct { uint32_t pid; int gpu, until, util; } live[64];
	int nlive = 0, ok = 1;
	uint32_t next_pid = 10000;
	int64_t end = T0 + 1800 * 60 * SEC;
	char err[512];

	memset(&t, 0, sizeof(t));
	for (int m = 0; m < 1800; m++) {
		struct tick_gpu *g[2];

		g[0] = fixture_gpu(&t, 0, 3);
		g[1] = fixture_gpu(&t, 1, 3);
		if (rnd(3) == 0 && nlive < 64) {
			live[nlive].pid = next_pid++;
			live[nlive].gpu = (int)rnd(2);
			live[nlive].until = m + 5 + (int)rnd(120);
			live[nlive].util = rnd(4) == 0 ? 50 : (int)rnd(8);
			nlive++;
		}
		for (int i = 0; i < nlive; i++) {
			if (live[i].until <= m) {
				live[i--] = live[--nlive];
				continue;
			}
			fixture_proc(g[live[i].gpu], live[i].pid, live[i].pid,
			    users[live[i].pid % 5], 500 + live[i].pid % 7,
			    live[i].util);
		}
		for (uint32_t pid = 7001; pid <= 7003; pid++)
			for (int k = 0; k < 2; k++)
				if (returner_on(pid, k, m))
					fixture_proc(g[k], pid, 1, "ret",
					    9000, 0);
		fixture_write(s, &t, T0 + (int64_t)(m + 1) * 60 * SEC,
		    60 * SEC);
	}
	/* Sessions finish once a few are live, not thousands. */
	report_finish_at = 8;
	for (int w = 0; w < 3; w++) {
		struct report_options o = options(end - (w == 2 ? 7 *
		    MS_PER_HOUR + 17 * SEC : 0), w == 0 ? 40 * MS_PER_HOUR :
		    (19 * MS_PER_HOUR + 1234));
		struct report all, r;
		size_t all_idle = 0;

		o.top = 0;
		CHECK_INT(report_build(s, &o, &all, err, sizeof(err)), 0);
		CHECK(all.nsessions > 400);
		for (size_t i = 0; i < all.nsessions; i++)
			all_idle += all.sessions[i].r.idle_ms > 0;
		for (size_t k = 0; k < ARRAY_LEN(tops); k++) {
			size_t n = tops[k] < all.nsessions ? tops[k] :
			    all.nsessions, kept_idle = 0;

			o.top = tops[k];
			CHECK_INT(report_build(s, &o, &r, err, sizeof(err)), 0);
			ok &= r.nsessions == n &&
			    r.nsessions_all == all.nsessions_all &&
			    r.nids_all == all.nids_all;
			for (size_t i = 0; ok && i < n; i++) {
				ok &= r.sessions[i].proc_id ==
				    all.sessions[i].proc_id &&
				    r.sessions[i].gpu == all.sessions[i].gpu &&
				    r.sessions[i].pid == all.sessions[i].pid &&
				    memcmp(&r.sessions[i].r, &all.sessions[i].r,
				    sizeof(r.sessions[i].r)) == 0 &&
				    strcmp(r.sessions[i].who.user,
				    all.sessions[i].who.user) == 0;
				kept_idle += r.sessions[i].r.idle_ms > 0;
			}
			ok &= r.sessions_idle_omitted == all_idle - kept_idle;
			for (size_t i = 0; ok && i < r.nids; i++)
				ok &= strcmp(r.ids[i].name,
				    all.ids[i].name) == 0 &&
				    r.ids[i].ms == all.ids[i].ms &&
				    r.ids[i].idle_ms == all.ids[i].idle_ms &&
				    r.ids[i].idle_mib_ms ==
				    all.ids[i].idle_mib_ms &&
				    r.ids[i].sessions == all.ids[i].sessions;
			if (!ok)
				fprintf(stderr, "window %d, --top %zu differs\n",
				    w, tops[k]);
			report_free(&r);
		}
		/* Grouped by other keys, the same groups. */
		for (int by = 0; w == 0 && by < 4; by++) {
			static const enum report_key keys[] = {
				REPORT_KEY_COMMAND, REPORT_KEY_HOST,
				REPORT_KEY_GPU, REPORT_KEY_JOB
			};
			struct report a, b;

			o.by = keys[by];
			o.top = 0;
			CHECK_INT(report_build(s, &o, &a, err, sizeof(err)), 0);
			o.top = 3;
			CHECK_INT(report_build(s, &o, &b, err, sizeof(err)), 0);
			ok &= b.nids_all == a.nids_all && b.nids > 0;
			for (size_t i = 0; ok && i < b.nids; i++)
				ok &= strcmp(b.ids[i].name, a.ids[i].name) == 0 &&
				    b.ids[i].idle_ms == a.ids[i].idle_ms &&
				    b.ids[i].sessions == a.ids[i].sessions;
			report_free(&a);
			report_free(&b);
			o.by = REPORT_KEY_USER;
		}
		/* The returners are whole: 7001's two parts, 7002's six. */
		for (size_t i = 0; i < all.nsessions; i++)
			if (all.sessions[i].pid == 7002 && w == 0)
				ok &= all.sessions[i].r.n == 6 * 40;
			else if (all.sessions[i].pid == 7001 && w == 0)
				ok &= all.sessions[i].r.n == 120 + 180;
		report_free(&all);
	}
	report_finish_at = 16384;
	CHECK(ok);
	store_close(s);
	tick_free(&t);
}

/* Whether r (some --top) shows what all (--top 0) shows first. */
static int
same_top(const struct report *all, const struct report *r, size_t top)
{
	size_t n = top < all->nsessions ? top : all->nsessions,
	    nids = top < all->nids_all ? top : all->nids_all, kept_idle = 0,
	    all_idle = 0;
	int ok = r->nsessions == n && r->nsessions_all == all->nsessions_all &&
	    r->nids_all == all->nids_all && r->nids == nids;

	for (size_t i = 0; i < all->nsessions; i++)
		all_idle += all->sessions[i].r.idle_ms > 0;
	for (size_t i = 0; ok && i < n; i++) {
		ok = r->sessions[i].proc_id == all->sessions[i].proc_id &&
		    r->sessions[i].gpu == all->sessions[i].gpu &&
		    r->sessions[i].pid == all->sessions[i].pid &&
		    r->sessions[i].alive == all->sessions[i].alive &&
		    memcmp(&r->sessions[i].r, &all->sessions[i].r,
		    sizeof(r->sessions[i].r)) == 0 &&
		    strcmp(r->sessions[i].who.user,
		    all->sessions[i].who.user) == 0;
		kept_idle += r->sessions[i].r.idle_ms > 0;
	}
	ok = ok && r->sessions_idle_omitted == all_idle - kept_idle &&
	    all->sessions_idle_omitted == 0;
	for (size_t i = 0; ok && i < nids; i++)
		ok = strcmp(r->ids[i].name, all->ids[i].name) == 0 &&
		    r->ids[i].ms == all->ids[i].ms &&
		    r->ids[i].idle_ms == all->ids[i].idle_ms &&
		    r->ids[i].idle_mib_ms == all->ids[i].idle_mib_ms &&
		    r->ids[i].sessions == all->ids[i].sessions &&
		    strcmp(r->ids[i].user, all->ids[i].user) == 0;
	return ok;
}

/*
 * Random histories against the sessions finished early: processes that
 * come back after hours away, several times, on one GPU or two; pids
 * used again; sessions that tie on everything but their GPU or pid; a
 * GPU that comes late; a clock that steps back hours; hours compacted.
 * Every --top, --by, filter and window gives what --top 0 gives, however
 * few live sessions make a report finish some.
 */
static void
test_sessions_random(void)
{
	static const char *users[] = { "ann", "ben", "cid" };
	static const enum report_key keys[] = {
		REPORT_KEY_USER, REPORT_KEY_COMMAND, REPORT_KEY_JOB,
		REPORT_KEY_GPU, REPORT_KEY_HOST
	};
	static const size_t tops[] = { 1, 2, 3, 4, 7, 12, 30 };
	int bad = 0, compacted = 0;

	for (int h = 0; h < 6; h++) {
		char name[32];
		struct store *s;
		struct tick t;
		struct {
			uint32_t pid;
			int64_t start;
			int gpus, on, off, parts, util, mib;
		} live[48];
		int nlive = 0, minutes = 900 + (int)rnd(600);
		int late = (int)rnd(400);
		int back = h % 2 ? 300 + (int)rnd(400) : -1;
		int64_t ts = T0, last = T0;

		snprintf(name, sizeof(name), "random-%d.db", h);
		s = fixture_create(name, 60 * SEC);
		memset(&t, 0, sizeof(t));
		for (int m = 0; m < minutes; m++) {
			struct tick_gpu *g[3];
			int ng = m >= late ? 3 : 2;

			for (int k = 0; k < ng; k++)
				g[k] = fixture_gpu(&t, k, (int)rnd(3) * 6);
			/* New processes, now and then several alike. */
			if (rnd(2) == 0) {
				int n = rnd(4) == 0 ? 2 + (int)rnd(2) : 1;
				uint32_t pid = 100 + rnd(30);
				int gpus = 1 + (int)rnd(ng == 3 ? 7 : 3);

				/* Alike: the same times and sums, the same
				   pid or the next (its start 1 ms later:
				   another process), tied but for that. */
				for (int c = 0; c < n && nlive < 48; c++) {
					if (c > 0) {
						live[nlive] = live[nlive - 1];
						live[nlive].pid += rnd(2);
						live[nlive].start++;
						nlive++;
						continue;
					}
					live[nlive].pid = pid;
					live[nlive].start = ts;
					live[nlive].gpus = gpus;
					live[nlive].on = 2 + (int)rnd(60);
					live[nlive].off = rnd(3) == 0 ?
					    60 + (int)rnd(480) : 0;
					live[nlive].parts = 1 + (int)rnd(3);
					live[nlive].util = (int)rnd(3) * 7;
					live[nlive].mib = rnd(4) ? 600 : 50;
					nlive++;
				}
			}
			for (int i = 0; i < nlive; i++) {
				if (live[i].on == 0) {
					if (live[i].off > 0) {
						live[i].off--;
						continue;
					}
					if (--live[i].parts <= 0) {
						live[i--] = live[--nlive];
						continue;
					}
					live[i].on = 2 + (int)rnd(60);
					live[i].off = 60 + (int)rnd(480);
				}
				live[i].on--;
				for (int k = 0; k < ng; k++)
					if (live[i].gpus >> k & 1)
						fixture_proc(g[k], live[i].pid,
						    live[i].start,
						    users[live[i].pid % 3],
						    live[i].mib, live[i].util);
			}
			/* The clock steps back once, hours. */
			ts = m == back ? ts - (int64_t)(2 + rnd(4)) *
			    MS_PER_HOUR : ts + 60 * SEC;
			fixture_write(s, &t, ts, 60 * SEC);
			if (ts > last)
				last = ts;
		}
		for (int c = 0; c < 2; c++) {
			if (c == 1) {
				struct store_compact sc;
				char err[512];

				memset(&sc, 0, sizeof(sc));
				if (store_compact_step(s, 12 * MS_PER_HOUR,
				    1000, &sc, err, sizeof(err)) < 0) {
					fprintf(stderr, "compact: %s\n", err);
					bad++;
				}
				compacted += sc.hours;
			}
			for (int w = 0; w < 12; w++) {
				struct report_options o = options(last -
				    (int64_t)rnd(600) * 60 * SEC,
				    (int64_t)(1 + rnd(30)) * MS_PER_HOUR +
				    (int64_t)rnd(3600) * SEC);
				struct report_filter f;
				struct report all, r;
				char err[512], err2[512];
				int rc, rc2;

				memset(&f, 0, sizeof(f));
				if (rnd(4) == 0) {
					f.n = 1;
					f.match[0].key = REPORT_KEY_USER;
					f.match[0].value = users[rnd(3)];
					o.filter = &f;
				}
				o.force_raw = rnd(3) == 0;
				o.by = keys[rnd(ARRAY_LEN(keys))];
				o.top = 0;
				rc = report_build(s, &o, &all, err,
				    sizeof(err));
				for (size_t k = 0; k < ARRAY_LEN(tops); k++) {
					o.top = tops[k];
					report_finish_at = 1 + rnd(8);
					rc2 = report_build(s, &o, &r, err2,
					    sizeof(err2));
					if (rc2 != rc || (rc == 0 &&
					    !same_top(&all, &r, o.top))) {
						fprintf(stderr, "history %d%s, "
						    "window %d, --top %zu, "
						    "--by %d%s%s, finish at "
						    "%zu: differs\n", h,
						    c ? " compacted" : "", w,
						    o.top, (int)o.by,
						    o.filter ? ", a filter" :
						    "", o.force_raw ?
						    ", raw" : "",
						    report_finish_at);
						bad++;
					}
					if (rc2 == 0)
						report_free(&r);
				}
				if (rc == 0)
					report_free(&all);
			}
		}
		report_finish_at = 16384;
		store_close(s);
		tick_free(&t);
	}
	CHECK_INT(bad, 0);
	CHECK(compacted > 0);
}

int
main(void)
{
	test_kwh_format();
	test_hand();
	test_gap();
	test_unused_not_unknown();
	test_own_util();
	test_card_replaced();
	test_rollups_equal_raw();
	test_generated_history();
	test_time_zones();
	test_top();
	test_sessions_finish_early();
	test_sessions_random();
	HARNESS_DONE();
}
