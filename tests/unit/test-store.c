#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture.h"
#include "fixture-procs.h"
#include "harness.h"
#include "store-internal.h"

/* Sums whatever a scan feeds, to compare paths and check totals. */
struct sums {
	struct rollup_gpu	gpu;
	struct rollup_proc	proc;
	int64_t			gpu_calls, proc_calls;
};

static int
sum_gpu(void *ctx, int64_t hour, int64_t gpu, const struct rollup_gpu *r)
{
	struct sums *s = ctx;

	(void)hour;
	(void)gpu;
	rollup_gpu_merge(&s->gpu, r);
	s->gpu_calls++;
	return 0;
}

static int
sum_proc(void *ctx, int64_t gpu, int64_t proc, const struct rollup_proc *r)
{
	struct sums *s = ctx;

	(void)gpu;
	(void)proc;
	rollup_proc_merge(&s->proc, r);
	s->proc_calls++;
	return 0;
}

static void
sums_init(struct sums *s)
{
	memset(s, 0, sizeof(*s));
	rollup_proc_init(&s->proc);
}

/* How many of the processes 1 ... n have pid pid. */
static int
processes_of_pid(const char *path, int64_t n, uint32_t pid)
{
	struct identity who;
	struct store *s;
	char err[512];
	int64_t start;
	uint32_t p;
	int found = 0;

	if (store_open_read(&s, path, err, sizeof(err)) != 0)
		return -1;
	for (int64_t id = 1; id <= n; id++)
		if (store_process(s, id, &p, &start, &who, err,
		    sizeof(err)) == 0 && p == pid)
			found++;
	store_close(s);
	return found;
}

static int64_t
count_rows(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t n = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			n = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return n;
}

/* How many process entries of all ticks carry their memory. */
static int64_t
memory_entries(const char *path)
{
	struct store_unpacked u;
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t n = 0;

	memset(&u, 0, sizeof(u));
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT gpus FROM ticks ORDER BY id", -1, &st,
	    NULL) != SQLITE_OK) {
		sqlite3_close(db);
		return -1;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (store_unpack_tick(sqlite3_column_blob(st, 0),
		    (size_t)sqlite3_column_bytes(st, 0), 0, &u) != 0) {
			n = -1;
			break;
		}
		for (size_t i = 0; i < u.nprocs; i++)
			n += !u.procs[i].mem_omitted;
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	free(u.gpus);
	free(u.procs);
	return n;
}

static void
write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	fwrite(data, 1, len, f);
	fclose(f);
}

/* Reads a whole small file into buf; returns its length or -1. */
static long
read_file(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (f == NULL)
		return -1;
	n = fread(buf, 1, cap, f);
	fclose(f);
	return (long)n;
}

static int
exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* A file that is refused must keep its bytes and gain no sidecar. */
static void
check_refused(const char *name, const char *says)
{
	static char before[1 << 16], after[1 << 16];
	char path[512], side[600], err[512];
	struct store *s = (struct store *)1;
	long nb, na;

	util_strlcpy(path, fixture_path(name), sizeof(path));
	nb = read_file(path, before, sizeof(before));
	err[0] = '\0';
	CHECK_INT(store_open_read(&s, path, err, sizeof(err)), STORE_NOT_GUA);
	CHECK(s == NULL);
	if (strstr(err, says) == NULL)
		fprintf(stderr, "%s: got '%s'\n", name, err);
	CHECK(strstr(err, says) != NULL);
	CHECK(strstr(err, path) != NULL);
	na = read_file(path, after, sizeof(after));
	CHECK_INT(na, nb);
	CHECK(nb < 0 || memcmp(before, after, (size_t)nb) == 0);
	snprintf(side, sizeof(side), "%s-wal", path);
	CHECK(!exists(side));
	snprintf(side, sizeof(side), "%s-shm", path);
	CHECK(!exists(side));
	s = (struct store *)1;
	CHECK_INT(store_open_append(&s, path, err, sizeof(err)),
	    STORE_NOT_GUA);
	CHECK(s == NULL);
}

static void
test_bad_files(void)
{
	unsigned char junk[4096];
	sqlite3 *db;
	struct store *s;
	char err[512];

	check_refused("missing.db", "no such file");
	mkdir(fixture_path("dir.db"), 0755);
	check_refused("dir.db", "is a directory");
	write_file(fixture_path("empty.db"), "", 0);
	check_refused("empty.db", "empty file");
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (unsigned char)(i * 7 + 3);
	write_file(fixture_path("random.db"), junk, sizeof(junk));
	check_refused("random.db", "not a SQLite file");
	write_file(fixture_path("short.db"), "SQLite format 3", 16);
	check_refused("short.db", "not a SQLite file");

	/* Another program's SQLite file, and the original tool's. */
	sqlite3_open(fixture_path("other.db"), &db);
	sqlite3_exec(db, "CREATE TABLE t(x); INSERT INTO t VALUES(1);", NULL,
	    NULL, NULL);
	sqlite3_close(db);
	check_refused("other.db", "not a gua database");
	check_refused("other.db", "gua import");

	/* A gua database from a newer gua. */
	s = fixture_create("newer.db", 1000);
	store_close(s);
	sqlite3_open(fixture_path("newer.db"), &db);
	sqlite3_exec(db, "PRAGMA user_version=99", NULL, NULL, NULL);
	sqlite3_close(db);
	check_refused("newer.db", "newer gua");

	/* A path SQLite cannot open is refused as such, naming the limit. */
	{
		char longp[600];

		memset(longp, 'a', sizeof(longp) - 1);
		longp[0] = '/';
		longp[sizeof(longp) - 1] = '\0';
		CHECK_INT(store_open_read(&s, longp, err, sizeof(err)),
		    STORE_NOT_GUA);
		CHECK(strstr(err, "path too long (599 bytes, absolute)") !=
		    NULL);
		CHECK(strstr(err, "at most 480 bytes") != NULL);
		longp[STORE_PATH_MAX + 1] = '\0';
		CHECK_INT(store_check_path(longp, err, sizeof(err)),
		    STORE_NOT_GUA);
		longp[STORE_PATH_MAX] = '\0';
		CHECK_INT(store_check_path(longp, err, sizeof(err)), 0);
	}

	/* A gua database cut short is damaged, not "not gua": -1. */
	{
		static char buf[1 << 16];
		long n;

		s = fixture_create("whole.db", 1000);
		store_close(s);
		n = read_file(fixture_path("whole.db"), buf, sizeof(buf));
		CHECK(n > 3000);
		write_file(fixture_path("cut.db"), buf, 3000);
		CHECK_INT(store_open_read(&s, fixture_path("cut.db"), err,
		    sizeof(err)), -1);
		CHECK(s == NULL);
	}

	/* create refuses an existing file and leaves it alone. */
	{
		struct store_meta m;
		char buf[64];

		memset(&m, 0, sizeof(m));
		write_file(fixture_path("taken.db"), "precious", 8);
		CHECK_INT(store_create(&s, fixture_path("taken.db"), &m, err,
		    sizeof(err)), -1);
		CHECK(strstr(err, "already exists") != NULL);
		CHECK_INT(read_file(fixture_path("taken.db"), buf, sizeof(buf)),
		    8);
		CHECK(memcmp(buf, "precious", 8) == 0);
		/* Nor writes through a symbolic link. */
		char target[512];

		util_strlcpy(target, fixture_path("target"), sizeof(target));
		CHECK_INT(symlink(target, fixture_path("link.db")), 0);
		CHECK_INT(store_create(&s, fixture_path("link.db"), &m, err,
		    sizeof(err)), -1);
		CHECK(!exists(fixture_path("target")));
	}
}

static void
test_round_trip(void)
{
	struct thresholds thr;
	struct store_gpu *gpus;
	struct store_sink sink;
	struct tick t;
	struct store *s;
	struct sums raw, roll;
	char err[512], path[512];
	size_t n;
	int64_t ts, span, gpu0, base = 1795600800000LL;	/* 10:00:00 UTC */
	int found;

	classify_defaults(&thr);
	memset(&t, 0, sizeof(t));
	s = fixture_create("trip.db", 10000);
	util_strlcpy(path, store_path(s), sizeof(path));
	/* 6 ticks of 10 s. GPU 0: a process whose memory changes once, then
	   a second process with the same pid but another start time. */
	for (int i = 0; i < 6; i++) {
		struct tick_gpu *g = fixture_gpu(&t, 0, i < 2 ? 50 : 3);
		struct tick_gpu *h = fixture_gpu(&t, 1, -1);

		if (i < 4)
			fixture_proc(g, 4242, 1000, "carol", i < 3 ? 1000 : 2000,
			    -1);
		else
			fixture_proc(g, 4242, 9000, "dave", 500, 0);
		fixture_proc(h, 77, 5, "erin", 300, -1);
		fixture_write(s, &t, base + i * 10000, 10000);
	}
	CHECK_INT(store_ticks_written(s), 6);
	store_close(s);

	CHECK_INT(count_rows(path, "SELECT count(*) FROM ticks"), 6);
	CHECK_INT(count_rows(path, "SELECT count(*) FROM gpus"), 2);
	/* carol, dave (same pid, new start time) and erin: three identities,
	   packed in one block. */
	CHECK_INT(count_rows(path, "SELECT count(*) FROM procs"), 0);
	CHECK_INT(count_rows(path, "SELECT sum(count) FROM proc_blocks"), 3);
	CHECK_INT(count_rows(path, "SELECT count(*) FROM proc_blocks"), 1);
	CHECK_INT(processes_of_pid(path, 3, 4242), 2);
	/* Memory is packed only when it changes within the hour: carol 1000
	   then 2000, dave 500, erin 300. */
	CHECK_INT(memory_entries(path), 4);
	CHECK_INT(count_rows(path, "PRAGMA application_id"),
	    STORE_APPLICATION_ID);
	CHECK_INT(count_rows(path, "PRAGMA user_version"), STORE_SCHEMA_VERSION);

	CHECK_INT(store_open_read(&s, path, err, sizeof(err)), 0);
	CHECK_STR(store_meta(s)->hostname, "testhost");
	CHECK_INT(store_meta(s)->interval_ms, 10000);
	CHECK_STR(store_meta(s)->driver_version, "999.99");
	CHECK_INT(store_gpus(s, &gpus, &n, err, sizeof(err)), 0);
	CHECK_INT(n, 2);
	CHECK_STR(gpus[0].uuid, "GPU-test-0");
	CHECK_INT(gpus[0].mem_total_mib, 81920);
	gpu0 = gpus[0].id;
	free(gpus);
	CHECK_INT(store_oldest_tick(s, &ts, &span, &found, err, sizeof(err)), 0);
	CHECK(found);
	CHECK_INT(ts, base);
	CHECK_INT(span, 10000);
	CHECK_INT(store_newest_tick(s, base + 50000, &ts, &found, err,
	    sizeof(err)), 0);
	CHECK_INT(ts, base + 40000);

	memset(&sink, 0, sizeof(sink));
	sink.gpu_hour = sum_gpu;
	sink.proc = sum_proc;
	sums_init(&raw);
	sink.ctx = &raw;
	CHECK_INT(store_scan_raw(s, base, base + 60000, -1, &thr, &sink, err,
	    sizeof(err)), 0);
	CHECK_INT(raw.gpu_calls, 12);
	CHECK_INT(raw.proc_calls, 12);
	CHECK_INT(raw.gpu.ms[STATE_ACTIVE], 20000);
	CHECK_INT(raw.gpu.ms[STATE_IDLE_HELD], 40000);
	CHECK_INT(raw.gpu.ms[STATE_UNKNOWN], 60000);
	CHECK_INT(raw.proc.peak_mib, 2000);
	/* Idle-held process time: carol ticks 2-3 (1000, 2000 MiB), dave
	   ticks 4-5 (own util 0), erin never (its GPU is unknown). */
	CHECK_INT(raw.proc.idle_ms, 40000);
	CHECK_INT(raw.proc.idle_mib_ms, (1000LL + 2000 + 500 + 500) * 10000);

	sums_init(&roll);
	sink.ctx = &roll;
	CHECK_INT(store_scan_rollups(s, base, base + MS_PER_HOUR, -1, &sink,
	    err, sizeof(err)), 0);
	CHECK(memcmp(&roll.gpu, &raw.gpu, sizeof(raw.gpu)) == 0);
	CHECK_INT(roll.proc.idle_mib_ms, raw.proc.idle_mib_ms);
	CHECK_INT(roll.proc.ms, raw.proc.ms);
	CHECK_INT(roll.proc.first_ms, base);
	CHECK_INT(roll.proc.last_ms, base + 50000);
	/* Own utilization: known for dave's two ticks only, at 0. */
	CHECK_INT(raw.proc.util_ms, 20000);
	CHECK_INT(raw.proc.util_pm_ms, 0);
	CHECK_INT(roll.proc.util_ms, raw.proc.util_ms);
	CHECK_INT(roll.proc.util_pm_ms, raw.proc.util_pm_ms);
	CHECK_INT(roll.proc.util_lost_ms, 0);

	/* A window in the middle: memory comes from the change log. */
	sums_init(&raw);
	sink.ctx = &raw;
	CHECK_INT(store_scan_raw(s, base + 30000, base + 40000, gpu0, &thr, &sink,
	    err, sizeof(err)), 0);
	CHECK_INT(raw.gpu_calls, 1);
	CHECK_INT(raw.proc.peak_mib, 2000);
	CHECK_INT(raw.proc.idle_mib_ms, 2000LL * 10000);
	store_close(s);

	/* Appending: a second run adds ticks, nothing is lost. */
	CHECK_INT(store_open_append(&s, path, err, sizeof(err)), 0);
	CHECK_INT(store_begin_run(s, base + 70000, 10000, "test", "999.99", err,
	    sizeof(err)), 0);
	fixture_proc(fixture_gpu(&t, 0, 0), 4242, 9000, "dave", 500, 0);
	fixture_write(s, &t, base + 70000, 10000);
	store_close(s);
	CHECK_INT(count_rows(path, "SELECT count(*) FROM ticks"), 7);
	CHECK_INT(count_rows(path, "SELECT count(*) FROM runs"), 2);
	CHECK_INT(count_rows(path, "SELECT sum(count) FROM proc_blocks"), 3);
	CHECK_INT(count_rows(path, "SELECT count(*) FROM "
	    "pragma_integrity_check() WHERE integrity_check <> 'ok'"), 0);
	tick_free(&t);
}

/* The procs table as schemas 1 and 2 made it: without the pod's names. */
static void
make_schema2_procs(sqlite3 *db)
{
	fixture_unpack_procs(db);
	CHECK_INT(sqlite3_exec(db, "ALTER TABLE procs DROP COLUMN "
	    "pod_namespace; ALTER TABLE procs DROP COLUMN pod_name; "
	    "ALTER TABLE procs DROP COLUMN container_name", NULL, NULL, NULL),
	    SQLITE_OK);
}

/* Rewrites every hour's procs blob as schema 1 wrote it. */
static void
make_schema1(const char *path)
{
	struct store_hour h;
	struct store_buf b;
	sqlite3 *db;
	sqlite3_stmt *st, *up;

	memset(&h, 0, sizeof(h));
	memset(&b, 0, sizeof(b));
	sqlite3_open(path, &db);
	sqlite3_prepare_v2(db, "SELECT hour_ms, gpus, procs FROM hours", -1,
	    &st, NULL);
	sqlite3_prepare_v2(db, "UPDATE hours SET procs = ?1 WHERE hour_ms = "
	    "?2", -1, &up, NULL);
	while (sqlite3_step(st) == SQLITE_ROW) {
		store_hour_clear(&h, sqlite3_column_int64(st, 0));
		CHECK_INT(store_unpack_hour(&h, sqlite3_column_blob(st, 1),
		    (size_t)sqlite3_column_bytes(st, 1),
		    sqlite3_column_blob(st, 2),
		    (size_t)sqlite3_column_bytes(st, 2), 0), 0);
		b.len = 0;
		store_buf_reserve(&b, h.nprocs * 9 * STORE_VARINT_MAX);
		for (size_t i = 0; i < h.nprocs; i++) {
			const struct rollup_proc *r = &h.procs[i].r;
			int64_t v[9] = { h.procs[i].gpu, h.procs[i].proc,
				r->ms, r->n, r->idle_ms, r->idle_mib_ms,
				r->peak_mib + 1, r->first_ms - h.hour_ms,
				r->last_ms - h.hour_ms };

			for (int k = 0; k < 9; k++)
				b.len += store_varint_put(b.p + b.len,
				    (uint64_t)v[k]);
		}
		sqlite3_bind_blob(up, 1, b.p, (int)b.len, SQLITE_STATIC);
		sqlite3_bind_int64(up, 2, h.hour_ms);
		CHECK_INT(sqlite3_step(up), SQLITE_DONE);
		sqlite3_reset(up);
	}
	sqlite3_finalize(st);
	sqlite3_finalize(up);
	make_schema2_procs(db);
	sqlite3_exec(db, "PRAGMA user_version=1", NULL, NULL, NULL);
	sqlite3_close(db);
	store_hour_free(&h);
	free(b.p);
}

/* The rollups of hour, summed. */
static struct sums
hour_sums(struct store *s, int64_t hour)
{
	struct store_sink sink;
	struct sums r;
	char err[512];

	memset(&sink, 0, sizeof(sink));
	sink.gpu_hour = sum_gpu;
	sink.proc = sum_proc;
	sums_init(&r);
	sink.ctx = &r;
	CHECK_INT(store_scan_rollups(s, hour, hour + MS_PER_HOUR, -1, &sink,
	    err, sizeof(err)), 0);
	return r;
}

/*
 * A file of schema 1, whose hourly rollups did not keep the processes'
 * own utilization: read as it is, that time marked lost, never taken as
 * 0 %; written on, it becomes schema 2 and its old rows stay as read.
 */
static void
test_schema1(void)
{
	struct thresholds thr;
	struct store_sink sink;
	struct store *s;
	struct sums raw, roll;
	struct tick t;
	char err[512], path[512];
	int64_t base = 1795600800000LL;		/* 10:00:00 UTC */

	classify_defaults(&thr);
	memset(&t, 0, sizeof(t));
	s = fixture_create("schema1.db", 10000);
	util_strlcpy(path, store_path(s), sizeof(path));
	for (int i = 0; i < 2; i++) {
		fixture_proc(fixture_gpu(&t, 0, 50), 4242, 1000, "carol", 1000,
		    40);
		fixture_write(s, &t, base + i * 10000, 10000);
	}
	store_close(s);
	make_schema1(path);

	CHECK_INT(store_open_read(&s, path, err, sizeof(err)), 0);
	CHECK_INT(store_meta(s)->schema_version, 1);
	roll = hour_sums(s, base);
	CHECK_INT(roll.proc.ms, 20000);
	CHECK_INT(roll.proc.n, 2);
	CHECK_INT(roll.proc.peak_mib, 1000);
	CHECK_INT(roll.proc.util_ms, 0);
	CHECK_INT(roll.proc.util_lost_ms, 20000);
	CHECK(rollup_proc_mean_util(&roll.proc) < 0);
	/* The raw ticks have it. */
	memset(&sink, 0, sizeof(sink));
	sink.gpu_hour = sum_gpu;
	sink.proc = sum_proc;
	sums_init(&raw);
	sink.ctx = &raw;
	CHECK_INT(store_scan_raw(s, base, base + MS_PER_HOUR, -1, &thr, &sink,
	    err, sizeof(err)), 0);
	CHECK_NEAR(rollup_proc_mean_util(&raw.proc), 40.0, 1e-9);
	store_close(s);
	CHECK_INT(count_rows(path, "PRAGMA user_version"), 1);

	/* Written on: this schema, the old part of the hour still lost. */
	CHECK_INT(store_open_append(&s, path, err, sizeof(err)), 0);
	CHECK_INT(store_begin_run(s, base + 20000, 10000, "test", "999.99",
	    err, sizeof(err)), 0);
	fixture_proc(fixture_gpu(&t, 0, 50), 4242, 1000, "carol", 1000, 60);
	fixture_write(s, &t, base + 20000, 10000);
	fixture_proc(fixture_gpu(&t, 0, 50), 4242, 1000, "carol", 1000, 60);
	fixture_write(s, &t, base + MS_PER_HOUR, 10000);
	store_close(s);
	CHECK_INT(count_rows(path, "PRAGMA user_version"),
	    STORE_SCHEMA_VERSION);
	CHECK_INT(store_open_read(&s, path, err, sizeof(err)), 0);
	CHECK_INT(store_meta(s)->schema_version, STORE_SCHEMA_VERSION);
	roll = hour_sums(s, base);
	CHECK_INT(roll.proc.ms, 30000);
	CHECK_INT(roll.proc.n, 3);
	CHECK_INT(roll.proc.util_ms, 10000);
	CHECK_INT(roll.proc.util_pm_ms, 600LL * 10000);
	CHECK_INT(roll.proc.util_lost_ms, 20000);
	CHECK(rollup_proc_mean_util(&roll.proc) < 0);
	/* The next hour was all written by this schema. */
	roll = hour_sums(s, base + MS_PER_HOUR);
	CHECK_INT(roll.proc.util_lost_ms, 0);
	CHECK_NEAR(rollup_proc_mean_util(&roll.proc), 60.0, 1e-9);
	store_close(s);
	tick_free(&t);
}

/* An hour with sums of every size, and the edge values a record holds. */
static void
odd_hour(struct store_hour *h, int64_t hour_ms)
{
	static const int64_t big[] = { 0, 1, 29999, 30000, 3600000,
		INT64_MAX / 3, INT64_MAX - 1, INT64_MAX };

	store_hour_clear(h, hour_ms);
	for (int g = 0; g < 3; g++) {
		struct rollup_gpu *r = store_hour_gpu(h, g + 1);

		for (int k = 0; k < STATE_COUNT; k++) {
			r->n[k] = big[(g + k) % 8] / 30000;
			r->ms[k] = big[(g * 3 + k) % 8];
		}
		r->util_pm_ms = big[(g + 5) % 8];
		r->util_ms = big[(g + 6) % 8];
		/* Within what its time allows, or a decoder finds damage:
		   GPU 1's 60 s hold small values, the others' time is
		   (saturated) the largest. */
		for (int k = 0; k < STATE_COUNT; k++)
			r->energy_j[k] = big[g == 0 ? k : (g + k + 2) % 8];
		r->energy_lost_ms = g == 0 ? 60000 : g == 1 ? 0 : INT64_MAX;
	}
	for (int i = 0; i < 24; i++) {
		struct rollup_proc *r = store_hour_proc(h, i % 3 + 1, 100 + i,
		    1);

		r->n = i % 5 == 0 ? 0 : big[i % 8] / 30000 + 1;
		r->ms = big[(i + 1) % 8];
		r->idle_ms = big[(i + 2) % 8];
		r->idle_mib_ms = big[(i + 3) % 8];
		/* peak + 1 must fit */
		r->peak_mib = i % 4 == 0 ? MIB_UNKNOWN : big[(i + 4) % 7];
		r->first_ms = hour_ms + (i % 3) * 1000;
		r->last_ms = hour_ms + MS_PER_HOUR - 1 - i * 30000;
		r->util_pm_ms = big[(i + 5) % 8];
		r->util_ms = big[(i + 6) % 8];
		r->util_lost_ms = big[(i + 7) % 8];
	}
}

/* An hour written in a format, read back. */
static void
repack(const struct store_hour *h, int format, struct store_hour *out,
    size_t *bytes)
{
	struct store_buf gb, pb;

	memset(&gb, 0, sizeof(gb));
	memset(&pb, 0, sizeof(pb));
	CHECK_INT(store_pack_hour(&gb, &pb, h, format), 0);
	CHECK_INT(pb.len >= 2 && pb.p[0] == 0 && pb.p[1] == format, 1);
	store_hour_clear(out, h->hour_ms);
	CHECK_INT(store_unpack_hour(out, gb.p, gb.len, pb.p, pb.len, 1), 0);
	*bytes = gb.len + pb.len;
	/* Cut short anywhere, it is damaged, never read as something. */
	for (size_t cut = 1; cut < pb.len; cut += 7) {
		struct store_hour t;

		memset(&t, 0, sizeof(t));
		store_hour_clear(&t, h->hour_ms);
		if (pb.p[cut - 1] < 0x80)
			continue;	/* a cut between records reads */
		CHECK_INT(store_unpack_hour(&t, gb.p, gb.len, pb.p, cut, 1),
		    -1);
		store_hour_free(&t);
	}
	free(gb.p);
	free(pb.p);
}

/*
 * Schema 6 writes hours in format 3, as differences from predictions:
 * every value, edge values too, comes back as format 2 gives it, and an
 * ordinary hour takes a fifth less room.
 */
static void
test_hour_formats(void)
{
	struct store_hour h, plain, deltas;
	size_t plain_len, deltas_len;
	int64_t hour = 1795600800000LL;

	memset(&h, 0, sizeof(h));
	memset(&plain, 0, sizeof(plain));
	memset(&deltas, 0, sizeof(deltas));
	odd_hour(&h, hour);
	repack(&h, STORE_HOUR_PLAIN, &plain, &plain_len);
	repack(&h, STORE_HOUR_DELTAS, &deltas, &deltas_len);
	CHECK_INT(plain.ngpus, 3);
	CHECK_INT(deltas.ngpus, 3);
	CHECK_INT(plain.nprocs, 24);
	CHECK_INT(deltas.nprocs, 24);
	for (size_t i = 0; i < 3; i++) {
		CHECK_INT(deltas.gpus[i].gpu, plain.gpus[i].gpu);
		CHECK_INT(memcmp(&deltas.gpus[i].r, &plain.gpus[i].r,
		    sizeof(plain.gpus[i].r)), 0);
		CHECK_INT(memcmp(&deltas.gpus[i].r, &h.gpus[i].r,
		    sizeof(h.gpus[i].r)), 0);
	}
	for (size_t i = 0; i < 24; i++) {
		const struct rollup_proc *a = &plain.procs[i].r,
		    *b = &deltas.procs[i].r, *w = &h.procs[i].r;

		CHECK_INT(deltas.procs[i].proc, plain.procs[i].proc);
		CHECK_INT(b->n, a->n);
		CHECK_INT(b->ms, a->ms);
		CHECK_INT(b->idle_ms, a->idle_ms);
		CHECK_INT(b->idle_mib_ms, a->idle_mib_ms);
		CHECK_INT(b->peak_mib, a->peak_mib);
		CHECK_INT(b->first_ms, a->first_ms);
		CHECK_INT(b->last_ms, a->last_ms);
		CHECK_INT(b->util_pm_ms, a->util_pm_ms);
		CHECK_INT(b->util_ms, a->util_ms);
		CHECK_INT(b->util_lost_ms, a->util_lost_ms);
		if (w->n > 0) {
			CHECK_INT(b->ms, w->ms);
			CHECK_INT(b->idle_mib_ms, w->idle_mib_ms);
			CHECK_INT(b->last_ms, w->last_ms);
			CHECK_INT(b->util_lost_ms, w->util_lost_ms);
		}
	}

	/* An ordinary hour: two GPUs, a process on each all hour long. */
	store_hour_clear(&h, hour);
	for (int g = 1; g <= 2; g++) {
		struct rollup_gpu *r = store_hour_gpu(&h, g);
		struct rollup_proc *p = store_hour_proc(&h, g, 4000 + g, 1);

		r->n[STATE_ACTIVE] = 100;
		r->ms[STATE_ACTIVE] = 100 * 30000;
		r->n[STATE_IDLE_HELD] = 20;
		r->ms[STATE_IDLE_HELD] = 20 * 30000;
		r->util_pm_ms = 2987654321LL;
		r->util_ms = 3600000;
		p->n = 120;
		p->ms = 3600000;
		p->idle_ms = 600000;
		p->peak_mib = 40000;
		p->idle_mib_ms = 600000LL * 39990;
		p->first_ms = hour + 15;
		p->last_ms = hour + 15 + 119 * 30000;
		p->util_pm_ms = 2987654321LL;
		p->util_ms = 3600000;
	}
	repack(&h, STORE_HOUR_PLAIN, &plain, &plain_len);
	repack(&h, STORE_HOUR_DELTAS, &deltas, &deltas_len);
	CHECK_INT(memcmp(&deltas.procs[1].r, &h.procs[1].r,
	    sizeof(h.procs[1].r)), 0);
	CHECK(deltas_len * 5 < plain_len * 4);
	/* A format this gua does not know is damage. */
	CHECK_INT(store_unpack_hour(&plain, "", 0, "\0\4", 2, 0), -1);
	store_hour_free(&h);
	store_hour_free(&plain);
	store_hour_free(&deltas);
}

/* Rewrites every hour in schema 5's format and marks the file so. */
static void
make_schema5(const char *path)
{
	struct store_hour h;
	struct store_buf gb, pb;
	sqlite3 *db;
	sqlite3_stmt *st, *up;

	memset(&h, 0, sizeof(h));
	memset(&gb, 0, sizeof(gb));
	memset(&pb, 0, sizeof(pb));
	sqlite3_open(path, &db);
	sqlite3_prepare_v2(db, "SELECT hour_ms, gpus, procs FROM hours", -1,
	    &st, NULL);
	sqlite3_prepare_v2(db, "UPDATE hours SET gpus = ?1, procs = ?2 "
	    "WHERE hour_ms = ?3", -1, &up, NULL);
	while (sqlite3_step(st) == SQLITE_ROW) {
		store_hour_clear(&h, sqlite3_column_int64(st, 0));
		CHECK_INT(store_unpack_hour(&h, sqlite3_column_blob(st, 1),
		    (size_t)sqlite3_column_bytes(st, 1),
		    sqlite3_column_blob(st, 2),
		    (size_t)sqlite3_column_bytes(st, 2), 0), 0);
		CHECK_INT(store_pack_hour(&gb, &pb, &h, STORE_HOUR_PLAIN), 0);
		sqlite3_bind_blob(up, 1, gb.p, (int)gb.len, SQLITE_STATIC);
		sqlite3_bind_blob(up, 2, pb.p, (int)pb.len, SQLITE_STATIC);
		sqlite3_bind_int64(up, 3, h.hour_ms);
		CHECK_INT(sqlite3_step(up), SQLITE_DONE);
		sqlite3_reset(up);
	}
	sqlite3_finalize(st);
	sqlite3_finalize(up);
	fixture_unpack_procs(db);
	sqlite3_exec(db, "PRAGMA user_version=5", NULL, NULL, NULL);
	sqlite3_close(db);
	store_hour_free(&h);
	free(gb.p);
	free(pb.p);
}

/*
 * A file of schema 5, its hours in format 2: read as it is; written on,
 * it becomes this schema, the hour written on goes to format 3 with its
 * old sums kept, and an hour not written on stays format 2.
 */
static void
test_schema5(void)
{
	struct store *s;
	struct sums roll;
	struct tick t;
	char err[512], path[512];
	int64_t base = 1795600800000LL;		/* 10:00:00 UTC */

	memset(&t, 0, sizeof(t));
	s = fixture_create("schema5.db", 10000);
	util_strlcpy(path, store_path(s), sizeof(path));
	for (int i = 0; i < 2; i++) {
		fixture_proc(fixture_gpu(&t, 0, 50), 4242, 1000, "carol", 1000,
		    40);
		fixture_write(s, &t, base + i * 10000, 10000);
		fixture_proc(fixture_gpu(&t, 0, 50), 4242, 1000, "carol", 1000,
		    40);
		fixture_write(s, &t, base + MS_PER_HOUR + i * 10000, 10000);
	}
	store_close(s);
	CHECK_INT(count_rows(path, "SELECT count(*) FROM hours WHERE "
	    "substr(procs, 1, 2) = x'0003'"), 2);
	make_schema5(path);
	CHECK_INT(count_rows(path, "SELECT count(*) FROM hours WHERE "
	    "substr(procs, 1, 2) = x'0002'"), 2);

	CHECK_INT(store_open_read(&s, path, err, sizeof(err)), 0);
	CHECK_INT(store_meta(s)->schema_version, 5);
	roll = hour_sums(s, base);
	CHECK_INT(roll.proc.ms, 20000);
	CHECK_INT(roll.proc.util_pm_ms, 400LL * 20000);
	CHECK_INT(roll.gpu.n[STATE_ACTIVE], 2);
	store_close(s);

	CHECK_INT(store_open_append(&s, path, err, sizeof(err)), 0);
	CHECK_INT(store_begin_run(s, base + MS_PER_HOUR + 20000, 10000, "test",
	    "999.99", err, sizeof(err)), 0);
	fixture_proc(fixture_gpu(&t, 0, 50), 4242, 1000, "carol", 1000, 60);
	fixture_write(s, &t, base + MS_PER_HOUR + 20000, 10000);
	store_close(s);
	CHECK_INT(count_rows(path, "PRAGMA user_version"),
	    STORE_SCHEMA_VERSION);
	CHECK_INT(count_rows(path, "SELECT count(*) FROM hours WHERE "
	    "substr(procs, 1, 2) = x'0002' AND hour_ms = 1795600800000"), 1);
	CHECK_INT(count_rows(path, "SELECT count(*) FROM hours WHERE "
	    "substr(procs, 1, 2) = x'0003' AND hour_ms = 1795604400000"), 1);
	CHECK_INT(store_open_read(&s, path, err, sizeof(err)), 0);
	roll = hour_sums(s, base);
	CHECK_INT(roll.proc.ms, 20000);
	roll = hour_sums(s, base + MS_PER_HOUR);
	CHECK_INT(roll.proc.ms, 30000);
	CHECK_INT(roll.proc.n, 3);
	CHECK_INT(roll.proc.util_pm_ms, 400LL * 20000 + 600LL * 10000);
	CHECK_INT(roll.gpu.n[STATE_ACTIVE], 3);
	store_close(s);
	CHECK_INT(count_rows(path, "SELECT count(*) FROM "
	    "pragma_integrity_check() WHERE integrity_check <> 'ok'"), 0);
	tick_free(&t);
}

static void
test_unknown_memory(void)
{
	struct thresholds thr;
	struct store_sink sink = { NULL, sum_gpu, sum_proc, NULL, NULL };
	struct tick t;
	struct store *s;
	struct sums raw;
	char err[512];

	classify_defaults(&thr);
	memset(&t, 0, sizeof(t));
	s = fixture_create("unknown.db", 1000);
	/* One holder unknown, the known part small: the card is unknown. */
	fixture_proc(fixture_gpu(&t, 0, 0), 1, 1, "u", MIB_UNKNOWN, -1);
	fixture_proc(&t.gpus[0], 2, 1, "u", 50, -1);
	fixture_write(s, &t, 1000, 1000);
	/* The known part alone is over the threshold: idle-held. */
	fixture_proc(fixture_gpu(&t, 0, 0), 1, 1, "u", MIB_UNKNOWN, -1);
	fixture_proc(&t.gpus[0], 2, 1, "u", 500, -1);
	fixture_write(s, &t, 2000, 1000);
	/* The process list could not be read at all. */
	fixture_gpu(&t, 0, 0)->procs_known = 0;
	fixture_write(s, &t, 3000, 1000);
	sums_init(&raw);
	sink.ctx = &raw;
	CHECK_INT(store_scan_raw(s, 0, 10000, -1, &thr, &sink, err,
	    sizeof(err)), 0);
	CHECK_INT(raw.gpu.n[STATE_UNKNOWN], 2);
	CHECK_INT(raw.gpu.n[STATE_IDLE_HELD], 1);
	store_close(s);
	tick_free(&t);
}

/* Sums of a raw scan and of the rollups over [from, to), hours whole. */
static int
raw_equals_rollups(struct store *s, int64_t from, int64_t to)
{
	struct thresholds thr;
	struct store_sink sink = { NULL, sum_gpu, sum_proc, NULL, NULL };
	struct sums raw, roll;
	char err[512];

	classify_defaults(&thr);
	sums_init(&raw);
	sums_init(&roll);
	sink.ctx = &raw;
	if (store_scan_raw(s, from, to, -1, &thr, &sink, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return 0;
	}
	sink.ctx = &roll;
	if (store_scan_rollups(s, from, to, -1, &sink, err, sizeof(err)) != 0)
		return 0;
	return memcmp(&raw.gpu, &roll.gpu, sizeof(raw.gpu)) == 0 &&
	    memcmp(&raw.proc, &roll.proc, sizeof(raw.proc)) == 0;
}

/*
 * The wall clock steps back, across an hour and within one, and a process
 * is listed twice in a tick: memory packed only on change must still be
 * read back right, and the hours reloaded and added to.
 */
static void
test_clock_steps_back(void)
{
	static const int64_t at[] = { 0, 10, 20, -10, 5, 30, 40, 15, 50 };
	int64_t base = 1795600800000LL;		/* 10:00:00 UTC */
	struct store *s = fixture_create("clock.db", 10000);
	struct sums raw;
	struct store_sink sink = { NULL, sum_gpu, sum_proc, NULL, NULL };
	struct thresholds thr;
	struct tick t;
	char err[512];

	classify_defaults(&thr);
	memset(&t, 0, sizeof(t));
	CHECK_INT(store_begin(s, err, sizeof(err)), 0);
	for (size_t i = 0; i < ARRAY_LEN(at); i++) {
		struct tick_gpu *g = fixture_gpu(&t, 0, 1);

		fixture_proc(g, 10, 1, "u", 500, 0);
		if (i >= 5)	/* listed twice, the second time bigger */
			fixture_proc(g, 10, 1, "u", 700, 0);
		fixture_proc(g, 20, 1, "v", 300 + (i == 6) * 100, 0);
		fixture_write(s, &t, base + at[i] * 1000, 10000);
	}
	CHECK_INT(store_commit(s, err, sizeof(err)), 0);
	CHECK(raw_equals_rollups(s, base - MS_PER_HOUR, base + MS_PER_HOUR));
	CHECK(raw_equals_rollups(s, base - MS_PER_HOUR, base));
	sums_init(&raw);
	sink.ctx = &raw;
	CHECK_INT(store_scan_raw(s, base, base + MS_PER_HOUR, -1, &thr, &sink,
	    err, sizeof(err)), 0);
	CHECK_INT(raw.gpu.n[STATE_IDLE_HELD], 8);
	/* 500 + 300 for four ticks; 500 + 700 + 300 (+100 once) for four. */
	CHECK_INT(raw.proc.idle_mib_ms, (4 * 800LL + 4 * 1500 + 100) * 10000);
	CHECK_INT(raw.proc.n, 4 * 2 + 4 * 3);
	/* A window inside the hour, after the clock stepped back in it. */
	sums_init(&raw);
	sink.ctx = &raw;
	CHECK_INT(store_scan_raw(s, base + 12000, base + 35000, -1, &thr,
	    &sink, err, sizeof(err)), 0);
	CHECK_INT(raw.gpu_calls, 3);	/* at 20, 30 and 15 s */
	CHECK_INT(raw.proc.idle_mib_ms, (800LL + 1500 + 1500) * 10000);
	store_close(s);
	tick_free(&t);
}

/* GPUs that never had a process: no process array at all (found by fuzzing). */
static void
test_no_process_ever(void)
{
	struct store *s = fixture_create("empty-gpus.db", 1000);
	struct store_sink sink = { NULL, sum_gpu, sum_proc, NULL, NULL };
	struct thresholds thr;
	struct sums raw;
	struct tick t;
	char err[512];

	classify_defaults(&thr);
	memset(&t, 0, sizeof(t));
	for (int i = 0; i < 3; i++) {
		fixture_gpu(&t, 0, 0);
		fixture_gpu(&t, 1, 50);
		fixture_write(s, &t, 1000 + i * 1000, 1000);
	}
	sums_init(&raw);
	sink.ctx = &raw;
	CHECK_INT(store_scan_raw(s, 0, 10000, -1, &thr, &sink, err,
	    sizeof(err)), 0);
	CHECK_INT(raw.gpu.n[STATE_TRULY_IDLE], 3);
	CHECK_INT(raw.gpu.n[STATE_ACTIVE], 3);
	CHECK_INT(raw.proc_calls, 0);
	store_close(s);
	tick_free(&t);
}

/*
 * The sqlite3 shell, another process with a read-write connection, opens
 * and closes while the writer has the file; returns the ticks it saw, or
 * -1. (A forked child of this process would share SQLite's lock state.)
 */
static int64_t
read_elsewhere(const char *path)
{
	char buf[64] = "";
	int fds[2];
	ssize_t n;
	pid_t child;

	if (pipe(fds) != 0)
		return -1;
	if ((child = fork()) == 0) {
		dup2(fds[1], 1);
		execlp("sqlite3", "sqlite3", path, "SELECT count(*) FROM ticks",
		    (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	n = read(fds[0], buf, sizeof(buf) - 1);
	close(fds[0]);
	waitpid(child, NULL, 0);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return strtoll(buf, NULL, 10);
}

/*
 * close() drops every fcntl lock a process holds on a file, SQLite's
 * included: a writer that closed a descriptor of its own database made
 * the next reader believe it was the last connection, checkpoint and
 * delete the writer's WAL. Both ways of opening a writer are checked.
 */
static void
test_writer_keeps_locks(void)
{
	struct tick t;
	struct store *s;
	char path[512], wal[600], err[512];

	memset(&t, 0, sizeof(t));
	for (int append = 0; append < 2; append++) {
		s = fixture_create(append ? "locks2.db" : "locks1.db", 1000);
		util_strlcpy(path, store_path(s), sizeof(path));
		if (append) {
			store_close(s);
			CHECK_INT(store_open_append(&s, path, err, sizeof(err)),
			    0);
			CHECK_INT(store_begin_run(s, 0, 1000, "test", "1", err,
			    sizeof(err)), 0);
		}
		fixture_gpu(&t, 0, 50);
		fixture_write(s, &t, 1795600800000LL, 1000);
		CHECK_INT(read_elsewhere(path), 1);
		snprintf(wal, sizeof(wal), "%s-wal", path);
		CHECK(exists(wal));
		fixture_gpu(&t, 0, 50);
		fixture_write(s, &t, 1795600801000LL, 1000);
		CHECK_INT(read_elsewhere(path), 2);
		CHECK(exists(wal));
		store_close(s);
		CHECK_INT(count_rows(path, "SELECT count(*) FROM ticks"), 2);
	}
	tick_free(&t);
}

/* Values no writer stores make a tick damaged, not arithmetic undefined. */
static void
test_damaged_values(void)
{
	struct store *s = fixture_create("damaged.db", 1000);
	struct store_sink sink = { NULL, sum_gpu, sum_proc, NULL, NULL };
	struct thresholds thr;
	struct sums raw;
	struct tick t;
	char err[512], path[512];
	sqlite3 *db;

	classify_defaults(&thr);
	memset(&t, 0, sizeof(t));
	for (int i = 0; i < 10; i++) {
		fixture_proc(fixture_gpu(&t, 0, 1), 7, 1, "u", 500, -1);
		fixture_write(s, &t, 1000 + i * 1000, 1000);
	}
	util_strlcpy(path, store_path(s), sizeof(path));
	store_close(s);
	CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
	CHECK_INT(sqlite3_exec(db, "UPDATE ticks SET span_ms = -3900 "
	    "WHERE id = 5", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	CHECK_INT(store_open_read(&s, path, err, sizeof(err)), 0);
	sums_init(&raw);
	sink.ctx = &raw;
	err[0] = '\0';
	CHECK_INT(store_scan_raw(s, 0, 20000, -1, &thr, &sink, err,
	    sizeof(err)), -1);
	/* The tick by its time, and the way out. */
	CHECK(strstr(err, "the tick of 1970-01-01T00:00:05Z is damaged") !=
	    NULL);
	CHECK(strstr(err, "'gua backup --db ") != NULL);
	CHECK(strstr(err, " OUT' copies it without the damaged ticks") !=
	    NULL);
	/* A writer would carry on in that hour: the check finds it. */
	err[0] = '\0';
	CHECK_INT(store_check_damage(s, err, sizeof(err)), -1);
	CHECK(strstr(err, "the tick of 1970-01-01T00:00:05Z") != NULL);
	/* Up to the damaged tick, everything reads. */
	sums_init(&raw);
	CHECK_INT(store_scan_raw(s, 0, 4500, -1, &thr, &sink, err,
	    sizeof(err)), 0);
	CHECK_INT(raw.gpu.n[STATE_IDLE_HELD], 4);
	store_close(s);

	/* A blob that does not decode, and the hour's sums. */
	s = fixture_create("damaged2.db", 1000);
	for (int i = 0; i < 10; i++) {
		fixture_proc(fixture_gpu(&t, 0, 1), 7, 1, "u", 500, -1);
		fixture_write(s, &t, 1000 + i * 1000, 1000);
	}
	util_strlcpy(path, store_path(s), sizeof(path));
	CHECK_INT(store_check_damage(s, err, sizeof(err)), 0);
	store_close(s);
	CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
	CHECK_INT(sqlite3_exec(db, "UPDATE ticks SET gpus = x'ffffffffff' "
	    "WHERE id = 9", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	CHECK_INT(store_open_read(&s, path, err, sizeof(err)), 0);
	CHECK_INT(store_check_damage(s, err, sizeof(err)), -1);
	CHECK(strstr(err, "the tick of 1970-01-01T00:00:09Z is damaged") !=
	    NULL);
	store_close(s);
	CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
	CHECK_INT(sqlite3_exec(db, "UPDATE hours SET gpus = x'ff'", NULL,
	    NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	CHECK_INT(store_open_read(&s, path, err, sizeof(err)), 0);
	CHECK_INT(store_check_damage(s, err, sizeof(err)), -1);
	CHECK(strstr(err, "the hourly sums of the hour from "
	    "1970-01-01T00:00:00Z are damaged") != NULL);
	store_close(s);
	tick_free(&t);
	/* Sums that would overflow stop at the largest value instead. */
	CHECK_INT(util_sat_add(INT64_MAX - 1, 5), INT64_MAX);
	CHECK_INT(util_sat_add(INT64_MIN + 1, -5), INT64_MIN);
	CHECK_INT(util_sat_mul(INT64_MAX / 2, 3), INT64_MAX);
	CHECK_INT(util_sat_mul(-(INT64_MAX / 2), 3), INT64_MIN);
	CHECK_INT(util_sat_add(40, 2), 42);
}

/* A process's identity as the store gives it back. */
static struct identity
stored_identity(struct store *s, int64_t proc_id)
{
	struct identity who;
	int64_t start_ms;
	uint32_t pid;
	char err[512];

	CHECK_INT(store_process(s, proc_id, &pid, &start_ms, &who, err,
	    sizeof(err)), 0);
	return who;
}

/*
 * Schema 3 keeps a pod's namespace, name and container name with the
 * process. A file of schema 2 (no such columns) opens and reads them
 * empty; written on, it gains the columns and becomes schema 3, its old
 * processes still empty, its new ones named.
 */
static void
test_pod_names(void)
{
	struct store *s;
	struct tick t;
	struct tick_proc *p;
	struct identity who;
	sqlite3 *db;
	char err[512], path[512];
	int64_t base = 1795600800000LL;

	memset(&t, 0, sizeof(t));
	s = fixture_create("pods.db", 10000);
	util_strlcpy(path, store_path(s), sizeof(path));
	p = fixture_proc(fixture_gpu(&t, 0, 50), 7, 1000, "dave", 1000, 0);
	util_strlcpy(p->id.pod, "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
	    sizeof(p->id.pod));
	util_strlcpy(p->id.pod_namespace, "ml", sizeof(p->id.pod_namespace));
	util_strlcpy(p->id.pod_name, "train-0", sizeof(p->id.pod_name));
	util_strlcpy(p->id.container_name, "worker",
	    sizeof(p->id.container_name));
	fixture_write(s, &t, base, 10000);
	who = stored_identity(s, 1);
	CHECK_STR(who.pod_namespace, "ml");
	CHECK_STR(who.pod_name, "train-0");
	CHECK_STR(who.container_name, "worker");
	store_close(s);

	/* As schema 2 left it. */
	CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
	make_schema2_procs(db);
	sqlite3_exec(db, "PRAGMA user_version=2", NULL, NULL, NULL);
	sqlite3_close(db);
	CHECK_INT(store_open_read(&s, path, err, sizeof(err)), 0);
	CHECK_INT(store_meta(s)->schema_version, 2);
	who = stored_identity(s, 1);
	CHECK_STR(who.user, "dave");
	CHECK_STR(who.pod, "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");
	CHECK_STR(who.pod_name, "");
	store_close(s);

	CHECK_INT(store_open_append(&s, path, err, sizeof(err)), 0);
	CHECK_INT(store_begin_run(s, base + 10000, 10000, "test", "999.99",
	    err, sizeof(err)), 0);
	p = fixture_proc(fixture_gpu(&t, 0, 50), 8, 2000, "erin", 1000, 0);
	util_strlcpy(p->id.pod_namespace, "web", sizeof(p->id.pod_namespace));
	util_strlcpy(p->id.pod_name, "api-7", sizeof(p->id.pod_name));
	fixture_write(s, &t, base + 10000, 10000);
	store_close(s);
	CHECK_INT(count_rows(path, "PRAGMA user_version"),
	    STORE_SCHEMA_VERSION);
	CHECK_INT(store_open_read(&s, path, err, sizeof(err)), 0);
	who = stored_identity(s, 1);
	CHECK_STR(who.pod_name, "");
	who = stored_identity(s, 2);
	CHECK_STR(who.pod_namespace, "web");
	CHECK_STR(who.pod_name, "api-7");
	CHECK_STR(who.container_name, "");
	store_close(s);
	CHECK_INT(count_rows(path, "SELECT count(*) FROM "
	    "pragma_integrity_check() WHERE integrity_check <> 'ok'"), 0);
	tick_free(&t);
}

/* What store_process_keys gave, checked against store_process. */
struct keys_seen {
	struct store	*st;
	int64_t		 last;		/* the key before */
	size_t		 n;
	int		 ok;
	int		 names;		/* the file has the pod's names */
};

static int
check_keys(void *ctx, int64_t proc_id, uint32_t pid,
    const struct store_proc_keys *k)
{
	struct keys_seen *ks = ctx;
	struct identity who;
	uint32_t want_pid;
	int64_t start;
	char err[512];

	ks->ok &= proc_id > ks->last;
	ks->last = proc_id;
	ks->n++;
	if (store_process(ks->st, proc_id, &want_pid, &start, &who, err,
	    sizeof(err)) != 0)
		return ks->ok = 0;
	ks->ok &= pid == want_pid && strcmp(k->user, who.user) == 0 &&
	    strcmp(k->comm, who.comm) == 0 &&
	    strcmp(k->container, who.container) == 0 &&
	    strcmp(k->pod, who.pod) == 0 && strcmp(k->unit, who.unit) == 0 &&
	    strcmp(k->slurm_job, who.slurm_job) == 0 &&
	    strcmp(k->pod_namespace, who.pod_namespace) == 0 &&
	    strcmp(k->pod_name, who.pod_name) == 0;
	/* Every process below has a user, and every fifth a pod's names. */
	ks->ok &= k->user[0] != '\0' && (!ks->names || proc_id % 5 != 0 ||
	    strcmp(k->pod_name, "train") == 0);
	return 0;
}

/* Reads the keys of ids[0..n) of s, in a dense pass or one by one. */
static void
keys_of(struct store *s, const int64_t *ids, size_t n, int names)
{
	struct keys_seen ks = { s, 0, 0, 1, names };
	char err[512];

	CHECK_INT(store_process_keys(s, ids, n, check_keys, &ks, err,
	    sizeof(err)), 0);
	CHECK_INT(ks.n, n);
	CHECK(ks.ok);
}

/*
 * The keys a report groups processes by are those store_process reads,
 * whether the keys asked for are dense or scattered, of a file with the
 * pod's names or of schema 2 (without them); a key that is not there is
 * an error.
 */
static void
test_process_keys(void)
{
	static const int64_t scattered[] = { 1, 55, 120 };
	static const int64_t missing[] = { 3, 121 };
	struct store *s;
	struct tick t;
	sqlite3 *db;
	int64_t ids[120];
	char err[512], path[512];

	memset(&t, 0, sizeof(t));
	s = fixture_create("keys.db", 10000);
	util_strlcpy(path, store_path(s), sizeof(path));
	for (int i = 0; i < 120; i++) {
		struct tick_gpu *g = fixture_gpu(&t, 0, 50);
		struct tick_proc *p;
		char user[16];

		snprintf(user, sizeof(user), "u%d", i % 7);
		p = fixture_proc(g, (uint32_t)(100 + i), 1000 + i, user, 500,
		    0);
		snprintf(p->id.container, sizeof(p->id.container), "c%03d",
		    i / 3);
		snprintf(p->id.slurm_job, sizeof(p->id.slurm_job), "job_%d",
		    i % 4);
		if ((i + 1) % 5 == 0) {
			util_strlcpy(p->id.pod, "0f1e2d3c", sizeof(p->id.pod));
			util_strlcpy(p->id.pod_namespace, "ml",
			    sizeof(p->id.pod_namespace));
			util_strlcpy(p->id.pod_name, "train",
			    sizeof(p->id.pod_name));
		}
		fixture_write(s, &t, 1795600800000LL + i * 10000LL, 10000);
		tick_free(&t);
		memset(&t, 0, sizeof(t));
		ids[i] = i + 1;
	}
	keys_of(s, ids, 120, 1);
	keys_of(s, ids + 10, 30, 1);
	keys_of(s, scattered, 3, 1);
	CHECK_INT(store_process_keys(s, missing, 2, check_keys,
	    &(struct keys_seen){ s, 0, 0, 1, 1 }, err, sizeof(err)), -1);
	CHECK(strstr(err, "process 121 is missing") != NULL);
	store_close(s);

	CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
	make_schema2_procs(db);
	sqlite3_exec(db, "PRAGMA user_version=2", NULL, NULL, NULL);
	sqlite3_close(db);
	CHECK_INT(store_open_read(&s, path, err, sizeof(err)), 0);
	keys_of(s, ids, 120, 0);
	keys_of(s, scattered, 3, 0);
	store_close(s);
}

/* Writes one tick with the processes pid, pid + 1, ... (start = pid). */
static void
tick_of(struct store *s, uint32_t pid, int n, int64_t ts)
{
	struct tick t;
	struct tick_gpu *g;

	memset(&t, 0, sizeof(t));
	g = fixture_gpu(&t, 0, 50);
	for (int i = 0; i < n; i++) {
		struct tick_proc *p = fixture_proc(g, pid + (uint32_t)i,
		    pid + i, "new", 500, 0);

		snprintf(p->id.cmdline, sizeof(p->id.cmdline),
		    "python eval.py --step %u", pid + (uint32_t)i);
	}
	fixture_write(s, &t, ts, 10000);
	tick_free(&t);
}

/*
 * A file of schema 6 keeps its procs rows; a writer on it adds new
 * processes packed after them, finds the old ones among the rows, and
 * finds processes of a stored block again after it reopened the file;
 * readers read across both, key by key or in a pass.
 */
static void
test_procs_across_schemas(void)
{
	static const int64_t edges[] = { 1, 119, 120, 121, 122, 632, 633,
	    720 };
	struct store *s;
	struct tick t;
	sqlite3 *db;
	int64_t ids[720], at = 1795600800000LL;
	char err[512], path[512];

	memset(&t, 0, sizeof(t));
	s = fixture_create("mixed.db", 10000);
	util_strlcpy(path, store_path(s), sizeof(path));
	for (int i = 0; i < 120; i++) {
		fixture_proc(fixture_gpu(&t, 0, 50), (uint32_t)(100 + i),
		    100 + i, "old", 500, 0);
		fixture_write(s, &t, at, 10000);
		at += 10000;
	}
	store_close(s);
	CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
	fixture_unpack_procs(db);
	sqlite3_exec(db, "PRAGMA user_version=6", NULL, NULL, NULL);
	sqlite3_close(db);
	CHECK_INT(count_rows(path, "SELECT count(*) FROM procs"), 120);

	CHECK_INT(store_open_append(&s, path, err, sizeof(err)), 0);
	CHECK_INT(store_begin_run(s, at, 10000, "test", "999.99", err,
	    sizeof(err)), 0);
	/* Process 100 again (key 1), then 600 new ones in one bulk
	   transaction: more than a block holds. */
	fixture_proc(fixture_gpu(&t, 0, 50), 100, 100, "old", 500, 0);
	fixture_write(s, &t, at, 10000);
	at += 10000;
	CHECK_INT(store_begin(s, err, sizeof(err)), 0);
	for (int i = 0; i < 600; i += 50) {
		tick_of(s, (uint32_t)(1000 + i), 50, at);
		at += 10000;
	}
	CHECK_INT(store_commit(s, err, sizeof(err)), 0);
	store_close(s);
	CHECK_INT(count_rows(path, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
	CHECK_INT(count_rows(path, "SELECT count(*) FROM procs"), 120);
	CHECK_INT(count_rows(path, "SELECT sum(count) FROM proc_blocks"), 600);
	CHECK_INT(count_rows(path, "SELECT min(first_id) FROM proc_blocks"),
	    121);
	CHECK(count_rows(path, "SELECT count(*) FROM proc_blocks") >= 2);

	/* Reopened: a process of the first block and one of the last are
	   found, not added again; a new one follows the last key. */
	CHECK_INT(store_open_append(&s, path, err, sizeof(err)), 0);
	CHECK_INT(store_begin_run(s, at, 10000, "test", "999.99", err,
	    sizeof(err)), 0);
	tick_of(s, 1005, 1, at);
	tick_of(s, 1599, 1, at + 10000);
	tick_of(s, 1600, 1, at + 20000);
	store_close(s);
	CHECK_INT(count_rows(path, "SELECT sum(count) FROM proc_blocks"), 601);
	CHECK_INT(count_rows(path, "SELECT max(first_id + count - 1) FROM "
	    "proc_blocks"), 721);

	CHECK_INT(store_open_read(&s, path, err, sizeof(err)), 0);
	for (int i = 0; i < 720; i++)
		ids[i] = i + 1;
	keys_of(s, ids, 720, 0);
	keys_of(s, ids + 100, 50, 0);
	keys_of(s, edges, sizeof(edges) / sizeof(edges[0]), 0);
	{
		struct identity who;
		uint32_t pid;
		int64_t start;
		int ok = 1;

		for (int i = 0; i < 721; i++) {
			uint32_t want = i < 120 ? (uint32_t)(100 + i) :
			    (uint32_t)(1000 + i - 120);

			if (store_process(s, i + 1, &pid, &start, &who, err,
			    sizeof(err)) != 0 || pid != want ||
			    start != (int64_t)want ||
			    strcmp(who.user, i < 120 ? "old" : "new") != 0)
				ok = 0;
		}
		CHECK(ok);
		CHECK_INT(store_process(s, 722, &pid, &start, &who, err,
		    sizeof(err)), -1);
		CHECK(strstr(err, "process 722 is missing") != NULL);
	}
	store_close(s);
	tick_free(&t);
}

/*
 * A process whose start is unknown (0: its /proc could not be read) may
 * be in any block, so it is found by its PID: seen again after the file
 * was reopened it keeps its key, it does not stretch its block's range
 * of starts down to 0, and no block is read to find it or to add a new
 * one (with every block damaged, such ticks are still written).
 */
static void
test_unknown_start(void)
{
	int64_t at = 1795600800000LL;
	struct tick_gpu *g;
	struct store *s;
	struct tick t;
	sqlite3 *db;
	char err[512], path[512];

	memset(&t, 0, sizeof(t));
	s = fixture_create("unknown-start.db", 10000);
	util_strlcpy(path, store_path(s), sizeof(path));
	g = fixture_gpu(&t, 0, 50);
	fixture_proc(g, 10, 0, NULL, 500, 0);
	fixture_proc(g, 11, at - 5000, "known", 500, 0);
	fixture_write(s, &t, at, 10000);
	store_close(s);
	CHECK_INT(count_rows(path, "SELECT start_min FROM proc_blocks"),
	    at - 5000);
	CHECK_INT(count_rows(path, "SELECT start_max FROM proc_blocks"),
	    at - 5000);

	CHECK_INT(store_open_append(&s, path, err, sizeof(err)), 0);
	CHECK_INT(store_begin_run(s, at + 10000, 10000, "test", "999.99", err,
	    sizeof(err)), 0);
	g = fixture_gpu(&t, 0, 50);
	fixture_proc(g, 10, 0, NULL, 500, 0);
	fixture_proc(g, 12, 0, NULL, 500, 0);
	fixture_write(s, &t, at + 10000, 10000);
	store_close(s);
	CHECK_INT(count_rows(path, "SELECT sum(count) FROM proc_blocks"), 3);
	CHECK_INT(count_rows(path, "SELECT id FROM proc_unknown_start WHERE "
	    "pid = 10"), 1);
	CHECK_INT(count_rows(path, "SELECT id FROM proc_unknown_start WHERE "
	    "pid = 12"), 3);
	/* A block of unknown starts alone has the range 0 to 0. */
	CHECK_INT(count_rows(path, "SELECT start_min + start_max FROM "
	    "proc_blocks WHERE first_id = 3"), 0);

	CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
	CHECK_INT(sqlite3_exec(db, "UPDATE proc_blocks SET body = x'01ff'",
	    NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	CHECK_INT(store_open_append(&s, path, err, sizeof(err)), 0);
	CHECK_INT(store_begin_run(s, at + 20000, 10000, "test", "999.99", err,
	    sizeof(err)), 0);
	g = fixture_gpu(&t, 0, 50);
	fixture_proc(g, 10, 0, NULL, 500, 0);
	fixture_proc(g, 13, 0, NULL, 500, 0);
	t.ts_ms = at + 20000;
	t.span_ms = 10000;
	CHECK_INT(store_write_tick(s, &t, err, sizeof(err)), 0);
	store_close(s);
	tick_free(&t);
	CHECK_INT(count_rows(path, "SELECT sum(count) FROM proc_blocks"), 4);
	CHECK_INT(count_rows(path, "SELECT id FROM proc_unknown_start WHERE "
	    "pid = 13"), 4);
}

/*
 * A damaged block does not stop a writer: a process it held, looked for
 * again after the file was reopened, is added again under a new key, so
 * ticks are still written while that process runs; a reader still says
 * which processes are damaged.
 */
static void
test_damaged_block_writer(void)
{
	int64_t at = 1795600800000LL;
	struct identity who;
	struct store *s;
	struct tick t;
	sqlite3 *db;
	uint32_t pid;
	int64_t start;
	char err[512], path[512];

	memset(&t, 0, sizeof(t));
	s = fixture_create("damaged-block.db", 10000);
	util_strlcpy(path, store_path(s), sizeof(path));
	fixture_proc(fixture_gpu(&t, 0, 50), 20, at - 5000, "old", 500, 0);
	fixture_write(s, &t, at, 10000);
	store_close(s);
	CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
	CHECK_INT(sqlite3_exec(db, "UPDATE proc_blocks SET body = x'01ff'",
	    NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	CHECK_INT(store_open_append(&s, path, err, sizeof(err)), 0);
	CHECK_INT(store_begin_run(s, at + 10000, 10000, "test", "999.99", err,
	    sizeof(err)), 0);
	fixture_proc(fixture_gpu(&t, 0, 50), 20, at - 5000, "old", 500, 0);
	t.ts_ms = at + 10000;
	t.span_ms = 10000;
	CHECK_INT(store_write_tick(s, &t, err, sizeof(err)), 0);
	store_close(s);
	tick_free(&t);
	CHECK_INT(count_rows(path, "SELECT count(*) FROM proc_blocks"), 2);

	CHECK_INT(store_open_read(&s, path, err, sizeof(err)), 0);
	CHECK_INT(store_process(s, 2, &pid, &start, &who, err, sizeof(err)),
	    0);
	CHECK_INT(pid, 20);
	CHECK_STR(who.user, "old");
	CHECK_INT(store_process(s, 1, &pid, &start, &who, err, sizeof(err)),
	    -1);
	CHECK(strstr(err, "processes 1 to 1 are damaged") != NULL);
	store_close(s);
}

/* A damaged count in the last block (0, negative, huge) never makes a
   writer hand out keys it holds: the next block starts past the most a
   block holds. */
static void
test_damaged_count(void)
{
	static const char *counts[] = { "0", "-5", "9223372036854775000" };
	char err[512], path[512], q[128];

	for (size_t k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
		struct store *s;
		struct tick t;
		sqlite3 *db;
		char name[32];

		memset(&t, 0, sizeof(t));
		snprintf(name, sizeof(name), "count%zu.db", k);
		s = fixture_create(name, 10000);
		util_strlcpy(path, store_path(s), sizeof(path));
		for (int i = 0; i < 3; i++)
			fixture_proc(fixture_gpu(&t, 0, 50), (uint32_t)(10 + i),
			    10 + i, "old", 500, 0);
		fixture_write(s, &t, 1795600800000LL, 10000);
		store_close(s);
		CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
		snprintf(q, sizeof(q), "UPDATE proc_blocks SET count = %s",
		    counts[k]);
		CHECK_INT(sqlite3_exec(db, q, NULL, NULL, NULL), SQLITE_OK);
		sqlite3_close(db);
		CHECK_INT(store_open_append(&s, path, err, sizeof(err)), 0);
		CHECK_INT(store_begin_run(s, 1795600900000LL, 10000, "test",
		    "999.99", err, sizeof(err)), 0);
		fixture_proc(fixture_gpu(&t, 0, 50), 99, 99, "new", 500, 0);
		fixture_write(s, &t, 1795600900000LL, 10000);
		store_close(s);
		CHECK_INT(count_rows(path, "SELECT max(first_id) FROM "
		    "proc_blocks"), 513);
		tick_free(&t);
	}
}

int
main(void)
{
	test_bad_files();
	test_damaged_values();
	test_no_process_ever();
	test_round_trip();
	test_schema1();
	test_pod_names();
	test_process_keys();
	test_procs_across_schemas();
	test_damaged_count();
	test_unknown_start();
	test_damaged_block_writer();
	test_hour_formats();
	test_schema5();
	test_unknown_memory();
	test_clock_steps_back();
	test_writer_keeps_locks();
	HARNESS_DONE();
}
