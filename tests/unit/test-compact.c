/*
 * Compaction (store-compact.c): a history is built, copied, and the copy
 * compacted; reports of the copy must give what reports of the original
 * give, for many random windows, hour edges included. Also: the sums
 * checked against the raw ticks (and summed again where they differ), a
 * damaged tick refused, the newest hour kept, the file given back.
 */
#include <sys/stat.h>

#include <sqlite3.h>

#include "fixture.h"
#include "fixture-procs.h"
#include "harness.h"
#include "report.h"

#define SEC	1000LL
#define T0	1795602600000LL		/* 2026-11-25T10:30:00Z */

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static unsigned
rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
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

/* Runs SQL on a closed database file; the number of the first column of
   its last row, or -1. */
static int64_t
sql(const char *path, const char *q)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t v = -1;

	if (sqlite3_open(path, &db) != SQLITE_OK)
		return -1;
	if (sqlite3_prepare_v2(db, q, -1, &st, NULL) == SQLITE_OK) {
		while (sqlite3_step(st) == SQLITE_ROW)
			v = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return v;
}

/* Runs SQL that returns no rows on a closed database file: 0 or -1. */
static int
sql_exec(const char *path, const char *q)
{
	sqlite3 *db;
	int rc = -1;

	if (sqlite3_open(path, &db) == SQLITE_OK &&
	    sqlite3_exec(db, q, NULL, NULL, NULL) == SQLITE_OK)
		rc = 0;
	sqlite3_close(db);
	return rc;
}

static void
copy_file(const char *from, const char *to)
{
	char cmd[1200];

	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", from, to);
	if (system(cmd) != 0)
		exit(1);
}

/*
 * About 40 hours of three GPUs at irregular spans with gaps, processes
 * coming and going, and a fourth GPU that comes for a few hours in the
 * middle (appearing and leaving mid-hour). Returns the first and last
 * tick's times.
 */
static void
build_history(const char *name, int64_t *first, int64_t *last)
{
	struct store *s = fixture_create(name, 37 * SEC);
	struct tick t;
	int64_t ts = T0 - 40 * MS_PER_HOUR + 7 * MS_PER_MINUTE;

	*first = ts;
	memset(&t, 0, sizeof(t));
	for (int i = 0; i < 3600; i++) {
		int ngpu = i >= 900 && i < 1500 ? 4 : 3;

		for (int g = 0; g < ngpu; g++) {
			struct tick_gpu *tg = fixture_gpu(&t, g,
			    rnd(5) == 0 ? -1 : (int)rnd(30));
			int np = (int)rnd(4);

			/* Energy, unknown now and then, from either source
			   (not from rnd: the history stays what it was). */
			if ((i * 7 + g * 13) % 11 != 0) {
				tg->energy_mj = (int64_t)((i * 37 + g * 101) %
				    400) * 1000 + 499;
				tg->energy_src = i % 5 == 0 ?
				    ENERGY_SRC_POWER : ENERGY_SRC_COUNTER;
			}

			for (int p = 0; p < np; p++)
				fixture_proc(tg, 1000 + (unsigned)g * 10 +
				    (unsigned)p, (i / 300) * 1000,
				    p == 2 ? "u2" : p == 1 ? "u1" : "u0",
				    50 + rnd(3) * 100 + (i / 500) * 7,
				    rnd(3) == 0 ? -1 : (int)rnd(20));
		}
		*last = ts;
		fixture_write(s, &t, ts, 37 * SEC);
		ts += 37 * SEC + (rnd(60) == 0 ? 20 * MS_PER_MINUTE :
		    rnd(3000));
	}
	tick_free(&t);
	store_close(s);
}

/* §1-§5 and the §4 totals, the sessions' sums, the window and presence. */
static int
same_report(const struct report *a, const struct report *b)
{
	int same = memcmp(&a->total, &b->total, sizeof(a->total)) == 0 &&
	    memcmp(a->heat, b->heat, sizeof(a->heat)) == 0 &&
	    a->ngpus == b->ngpus && a->nsessions_all == b->nsessions_all &&
	    a->nids_all == b->nids_all && a->start_ms == b->start_ms &&
	    a->end_ms == b->end_ms && a->last_tick_ms == b->last_tick_ms &&
	    a->gpu_window_ms == b->gpu_window_ms &&
	    a->hosts[0].present_ms == b->hosts[0].present_ms;

	for (size_t i = 0; same && i < a->ngpus; i++)
		same = memcmp(&a->gpus[i].r, &b->gpus[i].r,
		    sizeof(a->gpus[i].r)) == 0 &&
		    a->gpus[i].present_ms == b->gpus[i].present_ms;
	for (size_t i = 0; same && i < a->nsessions_all; i++)
		same = memcmp(&a->sessions[i].r, &b->sessions[i].r,
		    sizeof(a->sessions[i].r)) == 0 &&
		    a->sessions[i].alive == b->sessions[i].alive &&
		    a->sessions[i].pid == b->sessions[i].pid;
	for (size_t i = 0; same && i < a->nids_all; i++)
		same = strcmp(a->ids[i].name, b->ids[i].name) == 0 &&
		    a->ids[i].ms == b->ids[i].ms &&
		    a->ids[i].idle_ms == b->ids[i].idle_ms &&
		    a->ids[i].idle_mib_ms == b->ids[i].idle_mib_ms &&
		    a->ids[i].sessions == b->ids[i].sessions &&
		    a->ids[i].util_pm_ms == b->ids[i].util_pm_ms &&
		    a->ids[i].util_ms == b->ids[i].util_ms;
	same = same && report_gpus_unused(a) == report_gpus_unused(b) &&
	    report_coverage(a) == report_coverage(b);
	return same;
}

/* A window edge: on an hour, a millisecond either side, or anywhere. */
static int64_t
edge(int64_t lo, int64_t hi)
{
	int64_t t = lo + (int64_t)rnd((unsigned)((hi - lo) / SEC)) * SEC +
	    (int64_t)rnd(1000);

	switch (rnd(4)) {
	case 0:
		return util_hour_floor(t);
	case 1:
		return util_hour_floor(t) - 1;
	case 2:
		return util_hour_floor(t) + 1;
	default:
		return t;
	}
}

static void
test_random_windows(void)
{
	char orig[512], copy[512], err[512];
	struct store *raw, *cmp;
	struct store_compact c;
	struct store_retention ret;
	int64_t first, last, raw_from;
	int bad = 0, hourly = 0, moved = 0, rc, steps = 0;

	build_history("orig.db", &first, &last);
	util_strlcpy(orig, fixture_path("orig.db"), sizeof(orig));
	util_strlcpy(copy, fixture_path("copy.db"), sizeof(copy));
	copy_file(orig, copy);

	CHECK_INT(store_open_append(&cmp, copy, err, sizeof(err)), 0);
	/* Less than an hour is refused; nothing is due before any hour is
	   old enough. */
	CHECK_INT(store_compact_step(cmp, MS_PER_HOUR - 1, 1, &c, err,
	    sizeof(err)), -1);
	CHECK_INT(store_compact_step(cmp, 100 * MS_PER_HOUR, 1, &c, err,
	    sizeof(err)), 0);
	CHECK_INT(store_raw_from(cmp, &raw_from, err, sizeof(err)), 0);
	CHECK(raw_from == STORE_ALL_RAW);
	/* Three hours a step, until none is due: 18 hours kept raw. */
	while ((rc = store_compact_step(cmp, 18 * MS_PER_HOUR, 3, &c, err,
	    sizeof(err))) == 1) {
		steps++;
		CHECK(c.hours >= 1 && c.hours <= 3);
		CHECK_INT(c.rebuilt, 0);
	}
	CHECK_INT(rc, 0);
	CHECK(steps >= 7);
	CHECK_INT(store_raw_from(cmp, &raw_from, err, sizeof(err)), 0);
	CHECK_INT(raw_from, util_hour_floor(last - 18 * MS_PER_HOUR));
	CHECK_INT(store_retention(cmp, &ret, err, sizeof(err)), 0);
	CHECK_INT(ret.raw_from_ms, raw_from);
	CHECK_INT(ret.oldest_hour_ms, util_hour_floor(first));
	CHECK(ret.oldest_raw_ms >= raw_from &&
	    ret.oldest_raw_ms < raw_from + MS_PER_HOUR);
	CHECK(ret.incremental);
	store_close(cmp);
	/* Only raw ticks from raw_from on are left. */
	{
		char q[128];

		snprintf(q, sizeof(q), "SELECT count(*) FROM ticks WHERE "
		    "ts_ms < %lld", (long long)raw_from);
		CHECK_INT(sql(copy, q), 0);
		CHECK(sql(copy, "SELECT count(*) FROM ticks") > 1000);
		CHECK_INT(sql(copy, "SELECT count(*) FROM hours"),
		    sql(orig, "SELECT count(*) FROM hours"));
	}

	CHECK_INT(store_open_read(&raw, orig, err, sizeof(err)), 0);
	CHECK_INT(store_open_read(&cmp, copy, err, sizeof(err)), 0);
	for (int k = 0; k < 300; k++) {
		struct report_options o;
		struct report a, b;
		int64_t s0 = edge(first - 2 * MS_PER_HOUR, last),
		    e0 = edge(first - MS_PER_HOUR, last + MS_PER_HOUR);

		if (k == 0) {		/* the whole history */
			s0 = first - 100 * MS_PER_HOUR;
			e0 = last + 1;
		}
		if (e0 <= s0 + 1)
			continue;
		o = options(e0 - 1, e0 - s0);
		if (report_build(cmp, &o, &b, err, sizeof(err)) != 0) {
			fprintf(stderr, "compacted: %s\n", err);
			bad++;
			continue;
		}
		/* Its window, asked of the original: edges that cut a
		   compacted hour moved out to the hour. */
		if (b.start_ms != o.until_ms + 1 - o.since_ms ||
		    b.end_ms != o.until_ms + 1)
			moved++;
		o = options(b.end_ms - 1, b.end_ms - (b.asked_start_ms <
		    b.start_ms ? b.asked_start_ms : b.start_ms));
		CHECK_INT(report_build(raw, &o, &a, err, sizeof(err)), 0);
		if (!same_report(&a, &b)) {
			fprintf(stderr, "window %lld..%lld differs\n",
			    (long long)b.start_ms, (long long)b.end_ms);
			bad++;
		}
		if (b.hourly_end_ms > b.hourly_start_ms) {
			hourly++;
			if (b.hourly_start_ms != b.start_ms ||
			    b.hourly_end_ms > raw_from || b.start_ms >= raw_from)
				bad++;
		} else if (b.start_ms < raw_from && b.end_ms > b.start_ms + 1 &&
		    a.ngpus > 0) {
			bad++;
		}
		CHECK_INT(a.hourly_end_ms, 0);
		report_free(&a);
		report_free(&b);
	}
	CHECK_INT(bad, 0);
	CHECK(hourly > 100);
	CHECK(moved > 10);
	store_close(raw);
	store_close(cmp);
}

/*
 * An hour whose stored sums are not what its raw ticks say (another
 * hour's sums put in its place) is summed again from the ticks before
 * they go; a damaged tick stops compaction, its hour kept raw.
 */
static void
test_rebuilt_and_refused(void)
{
	char orig[512], copy[512], err[512], q[256];
	struct store *st, *raw;
	struct store_compact c;
	struct report_options o;
	struct report a, b;
	int64_t first, last, h1, h3;

	build_history("orig2.db", &first, &last);
	util_strlcpy(orig, fixture_path("orig2.db"), sizeof(orig));
	util_strlcpy(copy, fixture_path("copy2.db"), sizeof(copy));
	copy_file(orig, copy);
	h1 = util_hour_floor(first) + MS_PER_HOUR;
	h3 = h1 + 2 * MS_PER_HOUR;
	snprintf(q, sizeof(q), "UPDATE hours SET gpus = (SELECT gpus FROM "
	    "hours WHERE hour_ms = %lld) WHERE hour_ms = %lld",
	    (long long)(h1 + MS_PER_HOUR), (long long)h1);
	CHECK_INT(sql_exec(copy, q), 0);
	/* The first tick of the fourth hour, damaged. */
	snprintf(q, sizeof(q), "UPDATE ticks SET gpus = x'ff' WHERE id = "
	    "(SELECT first_tick FROM hours WHERE hour_ms = %lld)",
	    (long long)h3);
	CHECK_INT(sql_exec(copy, q), 0);

	CHECK_INT(store_open_append(&st, copy, err, sizeof(err)), 0);
	CHECK_INT(store_compact_step(st, 10 * MS_PER_HOUR, 2, &c, err,
	    sizeof(err)), 1);
	CHECK_INT(c.hours, 2);
	CHECK_INT(c.rebuilt, 1);
	CHECK_INT(store_compact_step(st, 10 * MS_PER_HOUR, 1, &c, err,
	    sizeof(err)), 1);
	CHECK_INT(store_compact_step(st, 10 * MS_PER_HOUR, 1, &c, err,
	    sizeof(err)), -1);
	CHECK(strstr(err, "damaged") != NULL);
	store_close(st);
	snprintf(q, sizeof(q), "SELECT count(*) FROM ticks WHERE ts_ms >= "
	    "%lld AND ts_ms < %lld", (long long)h3, (long long)(h3 +
	    MS_PER_HOUR));
	CHECK(sql(copy, q) > 50);
	snprintf(q, sizeof(q), "SELECT CAST(value AS INTEGER) FROM meta WHERE "
	    "key = 'raw_from_ms'");
	CHECK_INT(sql(copy, q), h3);

	/* The hour summed again agrees with the original's raw ticks. */
	CHECK_INT(store_open_read(&raw, orig, err, sizeof(err)), 0);
	CHECK_INT(store_open_read(&st, copy, err, sizeof(err)), 0);
	o = options(h1 + MS_PER_HOUR - 1, MS_PER_HOUR);
	o.force_raw = 1;
	CHECK_INT(report_build(raw, &o, &a, err, sizeof(err)), 0);
	o.force_raw = 0;
	CHECK_INT(report_build(st, &o, &b, err, sizeof(err)), 0);
	CHECK(same_report(&a, &b));
	/* ... energy and its unknown part included (same_report compares
	   the sums whole). */
	CHECK(rollup_gpu_energy_j(&b.total) > 0);
	CHECK(b.total.energy_lost_ms > 0);
	CHECK_INT(b.hourly_start_ms, h1);
	CHECK_INT(b.hourly_end_ms, h1 + MS_PER_HOUR);
	report_free(&a);
	report_free(&b);
	/* Other thresholds cannot be applied to hourly sums. */
	o.thr.active_util = 50;
	CHECK_INT(report_build(st, &o, &b, err, sizeof(err)), -1);
	CHECK(strstr(err, "hourly sums") != NULL);
	store_close(raw);
	store_close(st);
}

/* Freed pages go back: the file shrinks. */
static void
test_vacuum(void)
{
	char path[512], err[512];
	struct store *st;
	struct store_compact c;
	struct stat sb0, sb1;
	int64_t first, last, freed = 0, total = 0;

	build_history("shrink.db", &first, &last);
	util_strlcpy(path, fixture_path("shrink.db"), sizeof(path));
	CHECK_INT(stat(path, &sb0), 0);
	CHECK_INT(store_open_append(&st, path, err, sizeof(err)), 0);
	while (store_compact_step(st, MS_PER_HOUR, 24, &c, err,
	    sizeof(err)) == 1)
		;
	do {
		CHECK_INT(store_vacuum_step(st, 64, &freed, err, sizeof(err)),
		    0);
		total += freed;
	} while (freed > 0);
	CHECK(total > 0);
	CHECK_INT(store_checkpoint(st, err, sizeof(err)), 0);
	store_close(st);
	CHECK_INT(stat(path, &sb1), 0);
	/* Its raw ticks were three quarters of it. */
	CHECK(sb1.st_size < sb0.st_size / 2);
	CHECK_INT(sql(path, "SELECT count(*) FROM pragma_integrity_check() "
	    "WHERE integrity_check <> 'ok'"), 0);
	CHECK_INT(sql(path, "PRAGMA freelist_count"), 0);
}

/*
 * A schema 4 file: its rows without energy read as unknown, never 0 J,
 * from the raw ticks and from the rollups alike, beside a newer tick's
 * energy; gua compact makes it this schema, and the old hour's energy stays
 * unknown once its ticks are gone.
 */
static void
test_schema4_energy(void)
{
	struct store *s = fixture_create("s4.db", 10 * SEC);
	int64_t h = util_hour_floor(T0) - 10 * MS_PER_HOUR;
	char path[512], err[512], q[256];
	struct store_compact c;
	struct report_options o;
	struct report r;
	struct tick t;

	util_strlcpy(path, fixture_path("s4.db"), sizeof(path));
	memset(&t, 0, sizeof(t));
	for (int i = 0; i < 4; i++) {
		struct tick_gpu *g;

		tick_reset(&t);
		g = fixture_gpu(&t, 0, 50);
		g->energy_mj = 1000000;
		g->energy_src = ENERGY_SRC_COUNTER;
		fixture_write(s, &t, i < 3 ? h + i * 10 * SEC : h +
		    3 * MS_PER_HOUR, 10 * SEC);
	}
	tick_free(&t);
	store_close(s);
	/* Hour h as schema 4 wrote it: GPU 1's rows without mark and
	   energy (flags: util known, list known, source instant; util 500;
	   no process), and its sums: 30 s active in 3 ticks, util. */
	snprintf(q, sizeof(q), "UPDATE ticks SET gpus = x'0119f40300' WHERE "
	    "ts_ms < %lld", (long long)(h + MS_PER_HOUR));
	CHECK_INT(sql_exec(path, q), 0);
	snprintf(q, sizeof(q), "UPDATE hours SET gpus = "
	    "x'01b0ea0100000003000000c0c39307b0ea01' WHERE hour_ms = %lld",
	    (long long)h);
	CHECK_INT(sql_exec(path, q), 0);
	{
		sqlite3 *db;

		CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
		fixture_unpack_procs(db);
		sqlite3_close(db);
	}
	CHECK_INT(sql_exec(path, "PRAGMA user_version=4"), 0);

	for (int pass = 0; pass < 2; pass++) {
		CHECK_INT(store_open_read(&s, path, err, sizeof(err)), 0);
		o = options(h + 4 * MS_PER_HOUR - 1, 4 * MS_PER_HOUR);
		o.force_raw = pass == 0;
		CHECK_INT(report_build(s, &o, &r, err, sizeof(err)), 0);
		CHECK_INT(r.total.ms[STATE_ACTIVE], 40 * SEC);
		CHECK_INT(r.total.energy_lost_ms, 30 * SEC);
		CHECK_INT(r.total.energy_j[STATE_ACTIVE], 1000);
		CHECK(report_energy_unrecorded(&r.total) == 0.75);
		report_free(&r);
		store_close(s);
		if (pass == 1)
			break;
		/* Compacted: the old hour's sums are kept as they were. */
		CHECK_INT(store_open_append(&s, path, err, sizeof(err)), 0);
		CHECK_INT(store_compact_step(s, MS_PER_HOUR, 8, &c, err,
		    sizeof(err)), 1);
		CHECK_INT(c.hours, 1);
		CHECK_INT(c.rebuilt, 0);
		store_close(s);
		CHECK_INT(sql(path, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
		snprintf(q, sizeof(q), "SELECT count(*) FROM ticks WHERE "
		    "ts_ms < %lld", (long long)(h + MS_PER_HOUR));
		CHECK_INT(sql(path, q), 0);
	}
}

int
main(void)
{
	test_random_windows();
	test_rebuilt_and_refused();
	test_vacuum();
	test_schema4_energy();
	HARNESS_DONE();
}
