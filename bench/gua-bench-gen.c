/*
 * gua-bench-gen: writes the benchmark's histories and measures the write
 * path.
 *   gua-bench-gen gua WORKLOAD PATH      a gua database, through the store's
 *                                        own write path (bulk transactions)
 *   gua-bench-gen legacy WORKLOAD PATH   the same history in the format of
 *                                        gpu-usage-audit 1.0, memory changing
 *                                        every tick (the import's worst case)
 *   gua-bench-gen collector GPUS PROCS TICKS PATH
 *                                        the collector's write path: one
 *                                        transaction per tick; prints CPU
 *                                        microseconds per tick and peak RSS
 *   gua-bench-gen hosts SRC N DIR        N copies of the database SRC as
 *                                        DIR/host-001.db ..., each under its
 *                                        own host name and GPU UUIDs (a fleet)
 *   gua-bench-gen end WORKLOAD [MS]      the time of the last tick (RFC 3339),
 *                                        plus MS
 *   gua-bench-gen about                  the SQLite library in use
 * Only the benchmark talks to SQLite directly (for the old format, and to
 * rename a copied host); gua's own histories are written through store.h
 * like the collector does.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "classify.h"
#include "store.h"
#include "tick.h"
#include "util.h"
#include "version.h"
#include "workload.h"

#define BATCH_TICKS	2880	/* ticks per bulk transaction */

static void
die(const char *what, const char *err)
{
	fprintf(stderr, "gua-bench-gen: %s: %s\n", what, err);
	exit(1);
}

static void
named(const char *name, struct workload *w)
{
	if (workload_named(name, w) != 0)
		die(name, "unknown workload (lab12, year8, churn, small)");
}

static struct store *
create(const char *path, int64_t interval_ms, int64_t created_ms)
{
	struct store_meta m;
	struct store *s;
	char err[512];

	memset(&m, 0, sizeof(m));
	util_strlcpy(m.hostname, "lab-a100", sizeof(m.hostname));
	util_strlcpy(m.source, "nvml", sizeof(m.source));
	util_strlcpy(m.gua_version, GUA_VERSION, sizeof(m.gua_version));
	m.interval_ms = interval_ms;
	m.created_ms = created_ms;
	classify_defaults(&m.rollup);
	if (store_create(&s, path, &m, err, sizeof(err)) != 0)
		die(path, err);
	return s;
}

static int
gen_gua(const char *name, const char *path)
{
	struct workload w;
	struct workload_state ws;
	struct store *s;
	struct tick t;
	char err[512];
	int64_t n = 0, gpu_rows = 0, proc_rows = 0;
	int new_run, rc;

	named(name, &w);
	memset(&t, 0, sizeof(t));
	if (workload_start(&ws, &w) != 0)
		die(name, "out of memory");
	s = create(path, w.interval_ms, ws.first_ms);
	while ((rc = workload_next(&ws, &t, &new_run)) == 1) {
		if (new_run || n % BATCH_TICKS == 0) {
			if (n > 0 && store_commit(s, err, sizeof(err)) != 0)
				die(path, err);
			if (new_run && store_begin_run(s, t.ts_ms, w.interval_ms,
			    "nvml", "560.35.05", err, sizeof(err)) != 0)
				die(path, err);
			if (store_begin(s, err, sizeof(err)) != 0)
				die(path, err);
		}
		if (store_write_tick(s, &t, err, sizeof(err)) != 0)
			die(path, err);
		n++;
		gpu_rows += (int64_t)t.ngpus;
		for (size_t g = 0; g < t.ngpus; g++)
			proc_rows += (int64_t)t.gpus[g].nprocs;
	}
	if (rc < 0)
		die(name, "out of memory");
	if (store_commit(s, err, sizeof(err)) != 0)
		die(path, err);
	store_close(s);
	workload_end(&ws);
	tick_free(&t);
	printf("%s: %lld ticks, %lld GPU rows, %lld process rows\n", name,
	    (long long)n, (long long)gpu_rows, (long long)proc_rows);
	return 0;
}

/* Python's datetime.isoformat() of an aware UTC time, microseconds on. */
static void
isoformat(int64_t us, char *buf, size_t len)
{
	time_t sec = (time_t)(us / 1000000);
	struct tm tm;

	gmtime_r(&sec, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06lld+00:00",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, (long long)(us % 1000000));
}

static void
sql_check(sqlite3 *db, int rc, const char *what)
{
	if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
		die(what, sqlite3_errmsg(db));
}

static int
gen_legacy(const char *name, const char *path)
{
	static const char schema[] =
	    "PRAGMA journal_mode=WAL;"
	    "CREATE TABLE host(hostname TEXT NOT NULL, env_kind TEXT NOT NULL,"
	    " driver_version TEXT, first_seen DATETIME, last_seen DATETIME);"
	    "CREATE TABLE gpu_sample(ts DATETIME NOT NULL, gpu_uuid TEXT NOT "
	    "NULL, util_pct INTEGER NOT NULL);"
	    "CREATE TABLE proc_sample(ts DATETIME NOT NULL, gpu_uuid TEXT NOT "
	    "NULL, pid INTEGER NOT NULL, mem_used_mb INTEGER NOT NULL, "
	    "loginuid_user TEXT);"
	    "CREATE INDEX idx_gpu_sample ON gpu_sample(gpu_uuid, ts);"
	    "CREATE INDEX idx_proc_sample ON proc_sample(gpu_uuid, ts);";
	struct workload w;
	struct workload_state ws;
	struct tick t;
	struct stat st;
	sqlite3 *db;
	sqlite3_stmt *gs, *ps, *hs;
	char ts[64], first[64];
	int64_t n = 0;
	int new_run, rc;

	named(name, &w);
	w.mem_every_tick = 1;
	if (stat(path, &st) == 0)
		die(path, "already exists");
	memset(&t, 0, sizeof(t));
	if (workload_start(&ws, &w) != 0)
		die(name, "out of memory");
	if (sqlite3_open(path, &db) != SQLITE_OK)
		die(path, sqlite3_errmsg(db));
	sql_check(db, sqlite3_exec(db, schema, NULL, NULL, NULL), path);
	sql_check(db, sqlite3_prepare_v2(db, "INSERT INTO gpu_sample VALUES("
	    "?1, ?2, ?3)", -1, &gs, NULL), path);
	sql_check(db, sqlite3_prepare_v2(db, "INSERT INTO proc_sample VALUES("
	    "?1, ?2, ?3, ?4, ?5)", -1, &ps, NULL), path);
	sql_check(db, sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), path);
	first[0] = '\0';
	while ((rc = workload_next(&ws, &t, &new_run)) == 1) {
		/* The Python loop drifts by a few milliseconds each tick. */
		isoformat(t.ts_ms * 1000 + (n * 7919) % 150000, ts, sizeof(ts));
		if (first[0] == '\0')
			util_strlcpy(first, ts, sizeof(first));
		for (size_t g = 0; g < t.ngpus; g++) {
			const struct tick_gpu *tg = &t.gpus[g];

			sqlite3_bind_text(gs, 1, ts, -1, SQLITE_STATIC);
			sqlite3_bind_text(gs, 2, tg->uuid, -1, SQLITE_STATIC);
			sqlite3_bind_int(gs, 3, tg->util_pm < 0 ? 0 :
			    tg->util_pm / 10);
			sql_check(db, sqlite3_step(gs), path);
			sqlite3_reset(gs);
			for (size_t i = 0; i < tg->nprocs; i++) {
				const struct tick_proc *p = &tg->procs[i];

				sqlite3_bind_text(ps, 1, ts, -1, SQLITE_STATIC);
				sqlite3_bind_text(ps, 2, tg->uuid, -1,
				    SQLITE_STATIC);
				sqlite3_bind_int64(ps, 3, p->pid);
				sqlite3_bind_int64(ps, 4, p->mem_mib);
				if (p->id.known)
					sqlite3_bind_text(ps, 5, p->id.user, -1,
					    SQLITE_STATIC);
				else
					sqlite3_bind_null(ps, 5);
				sql_check(db, sqlite3_step(ps), path);
				sqlite3_reset(ps);
			}
		}
		if (++n % BATCH_TICKS == 0)
			sql_check(db, sqlite3_exec(db, "COMMIT; BEGIN", NULL,
			    NULL, NULL), path);
	}
	if (rc < 0)
		die(name, "out of memory");
	sql_check(db, sqlite3_prepare_v2(db, "INSERT INTO host VALUES("
	    "'lab-a100', 'bare', '560.35.05', ?1, ?2)", -1, &hs, NULL), path);
	sqlite3_bind_text(hs, 1, first, -1, SQLITE_STATIC);
	sqlite3_bind_text(hs, 2, ts, -1, SQLITE_STATIC);
	sql_check(db, sqlite3_step(hs), path);
	sqlite3_finalize(hs);
	sqlite3_finalize(gs);
	sqlite3_finalize(ps);
	sql_check(db, sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), path);
	if (sqlite3_close(db) != SQLITE_OK)
		die(path, "cannot close");
	workload_end(&ws);
	tick_free(&t);
	printf("%s (old format): %lld ticks\n", name, (long long)n);
	return 0;
}

/* Copies the file src to dst, byte for byte. */
static void
copy_file(const char *src, const char *dst)
{
	static char buf[1 << 16];
	FILE *in = fopen(src, "rb"), *out;
	size_t n;

	if (in == NULL)
		die(src, "cannot open");
	if ((out = fopen(dst, "wb")) == NULL)
		die(dst, "cannot create");
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, out) != n)
			die(dst, "cannot write");
	if (ferror(in))
		die(src, "cannot read");
	fclose(in);
	if (fclose(out) != 0)
		die(dst, "cannot write");
}

/*
 * A fleet of n hosts with the same history: copies of src, each renamed
 * (its meta and runs) and its GPUs given UUIDs of their own, as n real
 * hosts would have.
 */
static int
gen_hosts(const char *src, int n, const char *dir)
{
	char path[4096], host[64];
	sqlite3_stmt *st;
	sqlite3 *db;

	if (n < 1 || n > 999)
		die("hosts", "N must be 1 to 999");
	for (int i = 1; i <= n; i++) {
		snprintf(path, sizeof(path), "%s/host-%03d.db", dir, i);
		snprintf(host, sizeof(host), "lab-%03d", i);
		copy_file(src, path);
		if (sqlite3_open(path, &db) != SQLITE_OK)
			die(path, sqlite3_errmsg(db));
		sql_check(db, sqlite3_prepare_v2(db, "UPDATE meta SET value = ?1 "
		    "WHERE key = 'hostname'; ", -1, &st, NULL), path);
		sqlite3_bind_text(st, 1, host, -1, SQLITE_STATIC);
		sql_check(db, sqlite3_step(st), path);
		sqlite3_finalize(st);
		sql_check(db, sqlite3_prepare_v2(db, "UPDATE runs SET hostname = "
		    "?1", -1, &st, NULL), path);
		sqlite3_bind_text(st, 1, host, -1, SQLITE_STATIC);
		sql_check(db, sqlite3_step(st), path);
		sqlite3_finalize(st);
		sql_check(db, sqlite3_prepare_v2(db, "UPDATE gpus SET uuid = "
		    "substr(uuid, 1, length(uuid) - 3) || printf('%03x', ?1)", -1,
		    &st, NULL), path);
		sqlite3_bind_int(st, 1, i);
		sql_check(db, sqlite3_step(st), path);
		sqlite3_finalize(st);
		if (sqlite3_close(db) != SQLITE_OK)
			die(path, "cannot close");
	}
	printf("%d hosts in %s\n", n, dir);
	return 0;
}

static uint64_t
xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static double
cpu_us(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec * 1e6 + (double)ru.ru_utime.tv_usec +
	    (double)ru.ru_stime.tv_sec * 1e6 + (double)ru.ru_stime.tv_usec;
}

/*
 * The collector's side of a tick, in process: GPUS cards with PROCS
 * processes in all, memory steady, utilization changing every tick, each
 * tick in its own transaction with synchronous=FULL, as the daemon writes.
 */
static int
bench_collector(int ngpus, int nprocs, int nticks, const char *path)
{
	uint64_t rng = 42;
	struct store *s;
	struct tick t;
	struct rusage ru;
	char err[512];
	int64_t ts = 1795602600000LL;
	double before;

	memset(&t, 0, sizeof(t));
	s = create(path, 30 * MS_PER_SECOND, ts);
	if (store_begin_run(s, ts, 30 * MS_PER_SECOND, "nvml", "560.35.05",
	    err, sizeof(err)) != 0)
		die(path, err);
	before = 0;
	for (int k = 0; k < nticks; k++) {
		if (k == 1)
			before = cpu_us();	/* tick 0 created the keys */
		tick_reset(&t);
		t.ts_ms = ts + (int64_t)k * 30 * MS_PER_SECOND;
		t.span_ms = 30 * MS_PER_SECOND;
		for (int g = 0; g < ngpus; g++) {
			struct tick_gpu *tg = tick_add_gpu(&t);

			if (tg == NULL)
				die(path, "out of memory");
			tg->index = g;
			snprintf(tg->uuid, sizeof(tg->uuid),
			    "GPU-6a1f0c3e-2b7d-4c11-9e0a-5d3c2b1a%04d", g);
			util_strlcpy(tg->name, "NVIDIA A100-SXM4-80GB",
			    sizeof(tg->name));
			tg->mem_total_mib = 81920;
			tg->util_pm = (int)(xorshift(&rng) % 1001);
			tg->util_max_pct = tg->util_pm / 10;
			tg->util_cover_pm = 1000;
			tg->util_src = UTIL_SRC_SAMPLES;
			for (int i = g; i < nprocs; i += ngpus) {
				struct tick_proc *p = tick_add_proc(tg);

				if (p == NULL)
					die(path, "out of memory");
				p->pid = 40000 + (uint32_t)i;
				p->start_ms = ts - 3600000 + i;
				p->mem_mib = 1000 + i * 100;
				p->util_pm = (int)(xorshift(&rng) % 101) * 10;
				p->id.known = 1;
				p->id.uid = 1000 + i % 7;
				snprintf(p->id.user, sizeof(p->id.user), "user%d",
				    i % 7);
				util_strlcpy(p->id.comm, "python3",
				    sizeof(p->id.comm));
				snprintf(p->id.cmdline, sizeof(p->id.cmdline),
				    "python3 train.py --rank %d", i);
			}
			tg->mem_used_mib = 600;
		}
		if (store_write_tick(s, &t, err, sizeof(err)) != 0)
			die(path, err);
	}
	printf("%.1f", (cpu_us() - before) / (nticks - 1));
	store_close(s);
	tick_free(&t);
	getrusage(RUSAGE_SELF, &ru);
	printf(" %ld\n", ru.ru_maxrss);
	return 0;
}

int
main(int argc, char **argv)
{
	struct workload w;
	char buf[64];

	if (argc == 4 && strcmp(argv[1], "gua") == 0)
		return gen_gua(argv[2], argv[3]);
	if (argc == 4 && strcmp(argv[1], "legacy") == 0)
		return gen_legacy(argv[2], argv[3]);
	if (argc == 6 && strcmp(argv[1], "collector") == 0)
		return bench_collector(atoi(argv[2]), atoi(argv[3]),
		    atoi(argv[4]), argv[5]);
	if (argc == 5 && strcmp(argv[1], "hosts") == 0)
		return gen_hosts(argv[2], atoi(argv[3]), argv[4]);
	if ((argc == 3 || argc == 4) && strcmp(argv[1], "end") == 0) {
		named(argv[2], &w);
		util_format_rfc3339(w.end_ms + (argc == 4 ? atoll(argv[3]) : 0),
		    buf, sizeof(buf));
		printf("%s\n", buf);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "about") == 0) {
		printf("SQLite %s\n", sqlite3_libversion());
		return 0;
	}
	fprintf(stderr, "usage: gua-bench-gen gua|legacy WORKLOAD PATH\n"
	    "       gua-bench-gen collector GPUS PROCS TICKS PATH\n"
	    "       gua-bench-gen hosts SRC N DIR\n"
	    "       gua-bench-gen end WORKLOAD [MS]\n"
	    "       gua-bench-gen about\n");
	return 2;
}
