/*
 * Reports over several hosts, the timeline and the raw rows: each must add
 * up to the same sums as the report itself.
 */
#include <sqlite3.h>

#include "fixture.h"
#include "harness.h"
#include "report.h"

#define T0	1795602600000LL		/* 2026-11-25T10:30:00Z */
#define SEC	1000LL

static struct store *
host_db(const char *host, int ticks, int64_t step, int64_t end)
{
	struct store_meta m;
	struct store *s;
	struct tick t;
	char err[512], name[64];

	memset(&m, 0, sizeof(m));
	util_strlcpy(m.hostname, host, sizeof(m.hostname));
	util_strlcpy(m.source, "test", sizeof(m.source));
	util_strlcpy(m.gua_version, GUA_VERSION, sizeof(m.gua_version));
	m.interval_ms = step;
	classify_defaults(&m.rollup);
	snprintf(name, sizeof(name), "%s.db", host);
	if (store_create(&s, fixture_path(name), &m, err, sizeof(err)) != 0 ||
	    store_begin_run(s, 0, step, "test", "550.00", err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		exit(1);
	}
	memset(&t, 0, sizeof(t));
	for (int i = 0; i < ticks; i++) {
		struct tick_gpu *g0 = fixture_gpu(&t, 0, i % 3 == 0 ? 50 : 1);
		struct tick_gpu *g1 = fixture_gpu(&t, 1, 0);

		fixture_proc(g0, 100, 1, "alice", 500, -1);
		if (i % 2)
			fixture_proc(g1, 200, 1, "bob", 300, -1);
		fixture_write(s, &t, end - (int64_t)(ticks - 1 - i) * step,
		    step);
	}
	tick_free(&t);
	return s;
}

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

/* The timeline adds up to the totals, and each GPU's to its sums. */
static void
check_timeline(const struct report *r)
{
	struct rollup_gpu sum;
	int ok = 1;

	memset(&sum, 0, sizeof(sum));
	CHECK(r->ntimeline > 0 && r->ntimeline <= REPORT_TIMELINE_MAX);
	CHECK_INT(r->timeline_start_ms % r->timeline_step_ms, 0);
	CHECK(r->timeline_start_ms <= r->start_ms);
	CHECK(r->timeline_start_ms + (int64_t)r->ntimeline *
	    r->timeline_step_ms >= r->end_ms);
	for (size_t i = 0; i < r->ntimeline; i++)
		rollup_gpu_merge(&sum, &r->timeline[i]);
	CHECK(memcmp(&sum, &r->total, sizeof(sum)) == 0);
	for (size_t g = 0; g < r->ngpus; g++) {
		memset(&sum, 0, sizeof(sum));
		for (size_t i = 0; i < r->ntimeline; i++)
			rollup_gpu_merge(&sum, &r->gpus[g].timeline[i]);
		ok &= memcmp(&sum, &r->gpus[g].r, sizeof(sum)) == 0;
	}
	CHECK(ok);
}

static void
test_timeline_steps(void)
{
	struct store *s = host_db("steps", 600, 10 * SEC, T0);
	struct report_options o;
	struct report r;
	char err[512];

	/* 100 s, all raw, ticks every 10 s: 10 s buckets, never finer
	   than a tick (1 s buckets would leave nine in ten empty). */
	o = options(T0, 100 * SEC);
	CHECK_INT(report_build(s, &o, &r, err, sizeof(err)), 0);
	CHECK_INT(r.timeline_step_ms, 10 * SEC);
	CHECK_INT(r.ntimeline, 11);
	check_timeline(&r);
	report_free(&r);
	/* 100 min, its sums from rollups: a window under two days still
	   gets a timeline from its ticks, 1 minute buckets, not 3 hours. */
	o = options(T0, 100 * MS_PER_MINUTE);
	CHECK_INT(report_build(s, &o, &r, err, sizeof(err)), 0);
	CHECK(r.used_rollups);
	CHECK_INT(r.timeline_step_ms, MS_PER_MINUTE);
	CHECK_INT(r.ntimeline, 101);
	check_timeline(&r);
	report_free(&r);
	/* The same window read raw: 1 minute buckets, 101 of them. */
	o.force_raw = 1;
	CHECK_INT(report_build(s, &o, &r, err, sizeof(err)), 0);
	CHECK_INT(r.timeline_step_ms, MS_PER_MINUTE);
	CHECK_INT(r.ntimeline, 101);
	check_timeline(&r);
	report_free(&r);
	/* A year's window on a short history: the window is the history. */
	o = options(T0, 365 * MS_PER_DAY);
	CHECK_INT(report_build(s, &o, &r, err, sizeof(err)), 0);
	check_timeline(&r);
	report_free(&r);
	/* Nothing in the window: no buckets with samples. */
	o = options(T0 - MS_PER_DAY, MS_PER_HOUR);
	CHECK_INT(report_build(s, &o, &r, err, sizeof(err)), 0);
	CHECK_INT(rollup_gpu_known_n(&r.total), 0);
	report_free(&r);
	store_close(s);
}

static int
count_row(void *ctx, const struct report_row *row)
{
	struct rollup_gpu *sum = ctx;

	sum->ms[row->state] += row->span_ms;
	sum->n[row->state]++;
	return 0;
}

static int
stop_row(void *ctx, const struct report_row *row)
{
	(void)ctx;
	(void)row;
	return -1;
}

static void
test_merge(void)
{
	struct store *a = host_db("hosta", 200, 10 * SEC, T0);
	struct store *b = host_db("hostb", 50, 30 * SEC, T0 - 5 * SEC);
	struct report_options o = options(T0, 2 * MS_PER_HOUR);
	struct report ra, rb, m, m2;
	struct rollup_gpu rows;
	char err[512];
	int64_t sum_ms = 0;

	CHECK_INT(report_build(a, &o, &ra, err, sizeof(err)), 0);
	CHECK_INT(report_build(b, &o, &rb, err, sizeof(err)), 0);
	CHECK_INT(report_build(a, &o, &m, err, sizeof(err)), 0);
	CHECK_INT(report_build(b, &o, &m2, err, sizeof(err)), 0);
	CHECK(ra.timeline_step_ms != rb.timeline_step_ms ||
	    ra.start_ms != rb.start_ms);
	CHECK_INT(report_merge(&m, &m2, err, sizeof(err)), 0);
	CHECK_INT(m2.ngpus, 0);
	CHECK_INT(m.nhosts, 2);
	CHECK_STR(m.hosts[0].hostname, "hosta");
	CHECK_STR(m.hosts[1].hostname, "hostb");
	CHECK_INT(m.ngpus, 4);
	CHECK_INT(m.gpus[2].host, 1);
	CHECK_INT(rollup_gpu_known_n(&m.total), rollup_gpu_known_n(&ra.total) +
	    rollup_gpu_known_n(&rb.total));
	for (int s = 0; s < STATE_COUNT; s++)
		CHECK_INT(m.total.ms[s], ra.total.ms[s] + rb.total.ms[s]);
	CHECK_INT(m.gpu_window_ms, ra.gpu_window_ms + rb.gpu_window_ms);
	CHECK_INT(m.start_ms, ra.start_ms < rb.start_ms ? ra.start_ms :
	    rb.start_ms);
	CHECK(memcmp(&m.hosts[1].total, &rb.total, sizeof(rb.total)) == 0);
	CHECK(memcmp(&m.gpus[3].r, &rb.gpus[1].r, sizeof(rb.gpus[1].r)) == 0);
	/* Unobserved GPU time adds up over hosts with different windows. */
	CHECK_INT(report_unobserved_ms(&m), report_unobserved_ms(&ra) +
	    report_unobserved_ms(&rb));
	CHECK(report_unobserved_ms(&rb) > 0);
	CHECK_NEAR(report_host_coverage(&m.hosts[0]), report_coverage(&ra),
	    1e-12);
	/* Users are per host: alice and bob on each. */
	CHECK_INT(m.nids, 4);
	CHECK_INT(m.nsessions, ra.nsessions + rb.nsessions);
	for (size_t i = 0; i < m.nids; i++)
		sum_ms += m.ids[i].idle_ms;
	for (size_t i = 0; i < ra.nids; i++)
		sum_ms -= ra.ids[i].idle_ms;
	for (size_t i = 0; i < rb.nids; i++)
		sum_ms -= rb.ids[i].idle_ms;
	CHECK_INT(sum_ms, 0);
	for (size_t i = 0; i < m.nsessions; i++)
		CHECK_INT(m.sessions[i].host, m.gpus[m.sessions[i].gpu].host);
	check_timeline(&m);
	/* The same host twice is refused. */
	CHECK_INT(report_build(a, &o, &m2, err, sizeof(err)), 0);
	CHECK_INT(report_merge(&m, &m2, err, sizeof(err)), -1);
	CHECK(strstr(err, "two databases of host 'hosta'") != NULL);
	report_free(&m2);

	/* The raw rows of each host add up to its GPUs' sums. */
	memset(&rows, 0, sizeof(rows));
	CHECK_INT(report_rows(b, &m, 1, &o, count_row, &rows, err,
	    sizeof(err)), 0);
	for (int s = 0; s < STATE_COUNT; s++) {
		CHECK_INT(rows.ms[s], rb.total.ms[s]);
		CHECK_INT(rows.n[s], rb.total.n[s]);
	}
	err[0] = '\0';
	CHECK_INT(report_rows(a, &m, 0, &o, stop_row, NULL, err, sizeof(err)),
	    -1);
	CHECK(err[0] != '\0');
	report_free(&ra);
	report_free(&rb);
	report_free(&m);
	store_close(a);
	store_close(b);
}

/*
 * A host whose processes come and go: process p (of 60) holds GPU p % 3
 * for p % 7 + 1 ticks from tick p / 2, idle-held (500 MiB) unless p % 4
 * is 0. Every host has the same: its sessions tie with the other hosts'.
 */
static struct store *
churn_db(const char *host)
{
	struct store_meta m;
	struct store *s;
	struct tick t;
	char err[512], name[64], user[16];

	memset(&m, 0, sizeof(m));
	util_strlcpy(m.hostname, host, sizeof(m.hostname));
	util_strlcpy(m.source, "test", sizeof(m.source));
	util_strlcpy(m.gua_version, GUA_VERSION, sizeof(m.gua_version));
	m.interval_ms = 10 * SEC;
	classify_defaults(&m.rollup);
	snprintf(name, sizeof(name), "%s.db", host);
	if (store_create(&s, fixture_path(name), &m, err, sizeof(err)) != 0 ||
	    store_begin_run(s, 0, 10 * SEC, "test", "550.00", err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		exit(1);
	}
	memset(&t, 0, sizeof(t));
	for (int i = 0; i < 40; i++) {
		struct tick_gpu *g[3];

		for (int k = 0; k < 3; k++)
			g[k] = fixture_gpu(&t, k, 0);
		for (int p = 0; p < 60; p++) {
			if (i < p / 2 || i >= p / 2 + p % 7 + 1)
				continue;
			snprintf(user, sizeof(user), "u%d", p % 5);
			fixture_proc(g[p % 3], (uint32_t)(2000 + p), 1, user,
			    p % 4 == 0 ? 50 : 500, -1);
		}
		fixture_write(s, &t, T0 - (int64_t)(39 - i) * 10 * SEC,
		    10 * SEC);
	}
	tick_free(&t);
	return s;
}

/* One key and one --top: a merged report against ranking every session. */
static void
check_merge_top(struct store **st, enum report_key key, size_t top)
{
	struct report_options o = options(T0, MS_PER_HOUR);
	struct report all, m, one;
	char err[512];
	int same = 1;

	o.by = key;
	/* The reference: every session of every host, then ranked. */
	o.top = 0;
	CHECK_INT(report_build(st[0], &o, &all, err, sizeof(err)), 0);
	for (int h = 1; h < 3; h++) {
		CHECK_INT(report_build(st[h], &o, &one, err, sizeof(err)), 0);
		CHECK_INT(report_merge(&all, &one, err, sizeof(err)), 0);
	}
	CHECK_INT(all.nsessions, 3 * 60);
	report_limit(&all, top);

	o.top = top;
	CHECK_INT(report_build(st[0], &o, &m, err, sizeof(err)), 0);
	CHECK(m.nsessions <= top);
	for (int h = 1; h < 3; h++) {
		CHECK_INT(report_build(st[h], &o, &one, err, sizeof(err)), 0);
		CHECK_INT(report_merge(&m, &one, err, sizeof(err)), 0);
	}
	CHECK_INT(m.nsessions, all.nsessions);
	CHECK_INT(m.nsessions_all, 3 * 60);
	CHECK_INT(report_sessions_omitted(&m, 0),
	    report_sessions_omitted(&all, 0));
	CHECK_INT(report_sessions_omitted(&m, 1),
	    report_sessions_omitted(&all, 1));
	for (size_t i = 0; i < m.nsessions && i < all.nsessions; i++)
		same &= m.sessions[i].host == all.sessions[i].host &&
		    m.sessions[i].gpu == all.sessions[i].gpu &&
		    m.sessions[i].pid == all.sessions[i].pid &&
		    strcmp(m.sessions[i].who.user,
		    all.sessions[i].who.user) == 0 &&
		    memcmp(&m.sessions[i].r, &all.sessions[i].r,
		    sizeof(m.sessions[i].r)) == 0;
	CHECK(same);
	/* The identities too: grouped from each host's keys alone, the
	   same groups, sums and order as from every session. */
	CHECK_INT(m.nids, all.nids);
	for (size_t i = 0; i < m.nids && i < all.nids; i++)
		same &= m.ids[i].host == all.ids[i].host &&
		    strcmp(m.ids[i].name, all.ids[i].name) == 0 &&
		    m.ids[i].none == all.ids[i].none &&
		    m.ids[i].ms == all.ids[i].ms &&
		    m.ids[i].idle_ms == all.ids[i].idle_ms &&
		    m.ids[i].idle_mib_ms == all.ids[i].idle_mib_ms &&
		    m.ids[i].sessions == all.ids[i].sessions &&
		    m.ids[i].util_pm_ms == all.ids[i].util_pm_ms &&
		    m.ids[i].util_ms == all.ids[i].util_ms;
	CHECK(same);
	report_free(&m);
	report_free(&all);
}

/* A merged report keeps each host's top sessions only, yet shows what
   ranking every session of every host would, for any key. */
static void
test_merge_top(void)
{
	static const size_t tops[] = { 1, 2, 3, 5, 8, 40, 61, 200 };
	static const enum report_key keys[] = { REPORT_KEY_USER,
	    REPORT_KEY_COMMAND, REPORT_KEY_GPU, REPORT_KEY_HOST };
	struct store *st[3] = { churn_db("churna"), churn_db("churnb"),
	    churn_db("churnc") };

	for (size_t j = 0; j < sizeof(keys) / sizeof(keys[0]); j++)
		for (size_t k = 0; k < sizeof(tops) / sizeof(tops[0]); k++)
			check_merge_top(st, keys[j], tops[k]);
	for (int h = 0; h < 3; h++)
		store_close(st[h]);
}

/*
 * A damaged file whose GPU keys no longer match its rows: those rows are
 * ignored, and a merged report never points a session at a GPU it lacks.
 */
static void
test_orphan_rows(void)
{
	struct store *a = host_db("whole", 20, 10 * SEC, T0);
	struct store *b = host_db("orphan", 20, 10 * SEC, T0);
	struct report_options o = options(T0, MS_PER_HOUR);
	struct report m, rb;
	char err[512], path[512];
	sqlite3 *db;

	util_strlcpy(path, store_path(b), sizeof(path));
	store_close(b);
	CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
	CHECK_INT(sqlite3_exec(db, "UPDATE gpus SET id = id + 100", NULL, NULL,
	    NULL), SQLITE_OK);
	sqlite3_close(db);
	CHECK_INT(store_open_read(&b, path, err, sizeof(err)), 0);
	CHECK_INT(report_build(b, &o, &rb, err, sizeof(err)), 0);
	CHECK_INT(rb.ngpus, 0);
	CHECK_INT(rb.nsessions, 0);
	CHECK_INT(rb.nids, 0);
	CHECK_INT(report_build(a, &o, &m, err, sizeof(err)), 0);
	CHECK_INT(report_merge(&m, &rb, err, sizeof(err)), 0);
	CHECK_INT(m.ngpus, 2);
	for (size_t i = 0; i < m.nsessions; i++)
		CHECK(m.sessions[i].gpu < m.ngpus);
	report_free(&m);
	store_close(a);
	store_close(b);
}

int
main(void)
{
	(void)fixture_create;	/* this test names its hosts itself */
	test_timeline_steps();
	test_merge();
	test_merge_top();
	test_orphan_rows();
	HARNESS_DONE();
}
