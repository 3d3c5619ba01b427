/*
 * The collector engine (collector.c) driven by the demo source: what it
 * refuses to open, the first tick written on start, the loop's ticks all
 * in the database, a stop that finishes cleanly, and a run appended to the
 * same file. No NVML, no fork, no signal from outside.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "collector.h"
#include "harness.h"
#include "log.h"
#include "store.h"

static char dir[256];
static volatile sig_atomic_t stop, hup;

static void
on_alarm(int sig)
{
	(void)sig;
	stop = 1;
}

/* The database's tick count and its latest run's, -1 when unreadable. */
static int64_t
ticks_in(const char *db, int64_t *run_ticks)
{
	struct store_summary sum;
	struct store *st;
	char err[512];

	if (store_open_read(&st, db, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	if (store_summary(st, &sum, err, sizeof(err)) != 0) {
		store_close(st);
		return -1;
	}
	store_close(st);
	if (run_ticks != NULL)
		*run_ticks = sum.run_ticks;
	return sum.ticks;
}

static void
config(struct collector_config *cfg, struct pidfile *pid, const char *db)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->source = &source_demo;
	cfg->db = db;
	cfg->interval_ms = 20;
	cfg->pid = pid;
}

static void
test_refusals(void)
{
	struct collector_config cfg;
	struct collector *co = NULL;
	struct pidfile pid = { .fd = -1 };
	char db[512], err[1024];
	pid_t holder;

	snprintf(db, sizeof(db), "%s/refused.pid", dir);
	CHECK_INT(pidfile_acquire(&pid, db, &holder, err, sizeof(err)), 0);
	/* A directory: no gua database at all, bad usage. */
	snprintf(db, sizeof(db), "%s/adir", dir);
	mkdir(db, 0700);
	config(&cfg, &pid, db);
	CHECK_INT(collector_start(&co, &cfg, err, sizeof(err)), STORE_NOT_GUA);
	CHECK(co == NULL);
	CHECK(strstr(err, "is a directory") != NULL);
	rmdir(db);
	/* A symbolic link is never written through. */
	snprintf(db, sizeof(db), "%s/link.db", dir);
	CHECK_INT(symlink("/nonexistent", db), 0);
	CHECK_INT(collector_start(&co, &cfg, err, sizeof(err)), -1);
	CHECK(strstr(err, "symbolic link") != NULL);
	unlink(db);
	/* An existing file without append: refused, untouched. */
	snprintf(db, sizeof(db), "%s/exists.db", dir);
	{
		FILE *f = fopen(db, "w");

		fputs("mine", f);
		fclose(f);
	}
	CHECK_INT(collector_start(&co, &cfg, err, sizeof(err)), -1);
	CHECK(strstr(err, "use --append") != NULL);
	cfg.append = 1;
	CHECK(collector_start(&co, &cfg, err, sizeof(err)) == STORE_NOT_GUA);
	{
		struct stat sb;

		CHECK(stat(db, &sb) == 0 && sb.st_size == 4);
	}
	unlink(db);
	pidfile_release(&pid);
}

static void
test_run(void)
{
	struct collector_config cfg;
	struct collector *co = NULL;
	struct pidfile pid = { .fd = -1 };
	struct itimerval it;
	struct sigaction sa;
	sigset_t open;
	char db[512], pf[512], err[1024];
	int64_t written, run_ticks = 0;
	pid_t holder;

	snprintf(db, sizeof(db), "%s/run.db", dir);
	snprintf(pf, sizeof(pf), "%s/run.pid", dir);
	CHECK_INT(pidfile_acquire(&pid, pf, &holder, err, sizeof(err)), 0);
	config(&cfg, &pid, db);
	/* Start: the database is made and the first tick is in it. */
	CHECK_INT(collector_start(&co, &cfg, err, sizeof(err)), 0);
	if (co == NULL) {
		fprintf(stderr, "%s\n", err);
		return;
	}
	CHECK_INT(collector_ticks(co), 1);
	CHECK_INT(ticks_in(db, NULL), 1);
	/* The loop, stopped by a timer a few intervals on: every tick it
	   counted is in the file. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	memset(&it, 0, sizeof(it));
	it.it_value.tv_usec = 150000;
	stop = 0;
	setitimer(ITIMER_REAL, &it, NULL);
	sigemptyset(&open);
	collector_run(co, &open, &stop, &hup);
	CHECK_INT(stop, 1);
	written = collector_finish(co);
	CHECK(written >= 1);
	CHECK_INT(ticks_in(db, &run_ticks), written);
	CHECK_INT(run_ticks, written);
	/* Again with --append: a second run into the same file. */
	cfg.append = 1;
	CHECK_INT(collector_start(&co, &cfg, err, sizeof(err)), 0);
	if (co == NULL)
		return;
	stop = 1;
	collector_run(co, &open, &stop, &hup);
	CHECK_INT(collector_finish(co), 1);
	CHECK_INT(ticks_in(db, &run_ticks), written + 1);
	CHECK_INT(run_ticks, 1);
	/* A second collector on the same file is refused. */
	CHECK_INT(collector_start(&co, &cfg, err, sizeof(err)), 0);
	if (co != NULL) {
		struct collector *two = NULL;

		CHECK_INT(collector_start(&two, &cfg, err, sizeof(err)), -1);
		CHECK(strstr(err, "another collector") != NULL);
		collector_finish(co);
	}
	pidfile_release(&pid);
}

int
main(void)
{
	char tmpl[] = "/tmp/gua-test-collector-XXXXXX";
	char cmd[512];
	char err[512];

	if (mkdtemp(tmpl) == NULL)
		return 1;
	snprintf(dir, sizeof(dir), "%s", tmpl);
	/* The engine logs; its log goes to a file here. */
	snprintf(cmd, sizeof(cmd), "%s/gua.log", dir);
	{
		int created;

		if (log_open(cmd, &created, err, sizeof(err)) != 0)
			fprintf(stderr, "%s\n", err);
	}
	test_refusals();
	test_run();
	log_close();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	HARNESS_DONE();
}
