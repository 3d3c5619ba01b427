/*
 * demo: records the built-in workload through the collector's own write
 * path, with synthetic timestamps ending now, then prints the report over
 * every tick it wrote. It never sleeps.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "duration.h"
#include "outfile.h"
#include "report-text.h"
#include "report.h"
#include "source.h"
#include "store.h"
#include "util.h"
#include "version.h"

#define DEMO_TICKS_MAX	10000000LL
/* Ticks per transaction: big enough to be fast, small enough to keep the
   WAL from growing without bound on a long demo. */
#define DEMO_BATCH	20000

struct demo_args {
	const char	*db;		/* NULL: a fresh temporary file */
	int		 keep;		/* keep the temporary file */
	int64_t		 ticks;
	int64_t		 interval_ms;
};

/*
 * The temporary directory of a demo without --db, and the files SQLite
 * may leave in it: removed when the demo ends, however it ends, unless
 * --keep. Static, for the signal handler.
 */
static char demo_dir[PATH_MAX];
static char demo_files[4][PATH_MAX + 16];

/* Removes the temporary database; safe in a signal handler. */
static void
remove_temporary(void)
{
	if (demo_dir[0] == '\0')
		return;
	for (size_t i = 0; i < ARRAY_LEN(demo_files); i++)
		unlink(demo_files[i]);
	rmdir(demo_dir);
}

/* Also what store_create left if it failed half way (its temporary
   name): everything in the directory is the demo's. */
static void
remove_temporary_all(void)
{
	char path[PATH_MAX + 256];
	struct dirent *e;
	DIR *d;

	if (demo_dir[0] == '\0')
		return;
	remove_temporary();
	if ((d = opendir(demo_dir)) != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 ||
			    strcmp(e->d_name, "..") == 0)
				continue;
			snprintf(path, sizeof(path), "%s/%s", demo_dir,
			    e->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(demo_dir);
	demo_dir[0] = '\0';
}

/* Interrupted: the files go, then the signal does what it would have. */
static void
on_signal(int sig)
{
	remove_temporary();
	signal(sig, SIG_DFL);
	raise(sig);
}

static int
parse_args(const struct cmd_entry *c, int argc, char **argv,
    struct demo_args *a)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "ticks", required_argument, NULL, 'n' },
		{ "interval", required_argument, NULL, 'i' },
		{ "keep", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	long long v;
	int ch;

	a->db = NULL;
	a->keep = 0;
	a->ticks = 30;
	a->interval_ms = MS_PER_SECOND;
	while ((ch = cmd_getopt(c, argc, argv, ":h", longopts)) != -1) {
		switch (ch) {
		case -3:
			return -3;
		case 'd':
			if (optarg[0] == '\0')
				return cmd_usage_error(c, "--db: empty path");
			a->db = optarg;
			break;
		case 'n':
			if (util_parse_ll(optarg, 1, DEMO_TICKS_MAX, &v) != 0)
				return cmd_usage_error(c, "--ticks: '%s' is not "
				    "a whole number from 1 to %lld", optarg,
				    DEMO_TICKS_MAX);
			a->ticks = v;
			break;
		case 'i':
			if (cmd_duration(c, "--interval", optarg,
			    &a->interval_ms) != 0)
				return EXIT_USAGE;
			break;
		case 'k':
			a->keep = 1;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cmd_usage_error(c, "unexpected argument '%s'",
		    argv[optind]);
	if (a->keep && a->db != NULL)
		return cmd_usage_error(c, "--keep is for the demo's temporary "
		    "database; a --db is always kept");
	if (a->ticks > DURATION_MAX_MS / a->interval_ms)
		return cmd_usage_error(c, "--ticks x --interval spans more than "
		    "36500 days");
	return EXIT_OK;
}

/* Records the workload; returns 0 or -1 with err. */
static int
record(struct store *st, const struct demo_args *a, int64_t now,
    char *err, size_t errlen)
{
	struct source_config cfg = { .interval_ms = a->interval_ms };
	struct source_info info;
	struct tick t;
	void *ctx;
	int rc = -1;

	memset(&t, 0, sizeof(t));
	if (source_demo.open(&ctx, &cfg, &info, err, errlen) != 0)
		return -1;
	if (store_begin_run(st, now - (a->ticks - 1) * a->interval_ms,
	    a->interval_ms, source_demo.name, info.driver_version, err,
	    errlen) != 0)
		goto out;
	for (int64_t i = 0; i < a->ticks; i++) {
		if (i % DEMO_BATCH == 0 && (i > 0 && store_commit(st, err,
		    errlen) != 0))
			goto out;
		if (i % DEMO_BATCH == 0 && store_begin(st, err, errlen) != 0)
			goto out;
		tick_reset(&t);
		if (source_demo.sample(ctx, &t, err, errlen) != 0)
			goto out;
		t.ts_ms = now - (a->ticks - 1 - i) * a->interval_ms;
		t.span_ms = a->interval_ms;
		if (store_write_tick(st, &t, err, errlen) != 0)
			goto out;
	}
	rc = store_commit(st, err, errlen);
out:
	if (rc != 0)
		store_rollback(st);
	tick_free(&t);
	source_demo.close(ctx);
	return rc;
}

/* --db may not be a collector's file, nor a file beside its database. */
static int
check_db(const struct cmd_entry *c, const char *db)
{
	struct outfile_guard g;
	char err[PATH_MAX * 2 + 200];
	int rc;

	outfile_guard_init(&g);
	if (cmd_guard_collector(&g, NULL) != 0) {
		outfile_guard_free(&g);
		return cmd_fail(c, "out of memory");
	}
	rc = outfile_guard_check(&g, db, err, sizeof(err));
	outfile_guard_free(&g);
	if (rc != 0)
		return cmd_usage_error(c, "--db: %s", err);
	return EXIT_OK;
}

/* Starts the temporary database of a demo without --db: path. */
static int
make_temporary(const struct cmd_entry *c, const struct demo_args *a,
    char *path, size_t len)
{
	static const char *const names[] = { "gua.db", "gua.db-wal",
		"gua.db-shm", "gua.db-journal" };
	const char *base = getenv("TMPDIR");
	struct sigaction sa;

	if (base == NULL || base[0] == '\0')
		base = "/tmp";
	/* Handled from before the directory exists: it never outlives a
	   signal. */
	if (!a->keep) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGHUP, &sa, NULL);
		sigaction(SIGPIPE, &sa, NULL);
	}
	if ((size_t)snprintf(demo_dir, sizeof(demo_dir), "%s/gua-demo-XXXXXX",
	    base) >= sizeof(demo_dir) || mkdtemp(demo_dir) == NULL) {
		demo_dir[0] = '\0';
		return cmd_fail(c, "cannot create a temporary directory in %s: "
		    "%s", base, strerror(errno));
	}
	for (size_t i = 0; i < ARRAY_LEN(names); i++)
		snprintf(demo_files[i], sizeof(demo_files[i]), "%s/%s",
		    demo_dir, names[i]);
	util_strlcpy(path, demo_files[0], len);
	if (a->keep) {
		/* Kept: nothing to clean up, and the user is told where. */
		fprintf(stderr, "gua demo: writing %lld ticks to %s\n",
		    (long long)a->ticks, path);
		demo_dir[0] = '\0';
	}
	return EXIT_OK;
}

/* Records the workload into path and prints its report. */
static int
run_demo(const struct cmd_entry *c, const struct demo_args *a,
    const char *path, int64_t now)
{
	struct store_meta meta;
	struct report_options ro;
	struct text_options to;
	struct report rep;
	struct store *st;
	sigset_t block, old;
	char err[512];
	int rc;

	memset(&meta, 0, sizeof(meta));
	util_hostname(meta.hostname, sizeof(meta.hostname));
	util_strlcpy(meta.source, source_demo.name, sizeof(meta.source));
	util_strlcpy(meta.gua_version, GUA_VERSION, sizeof(meta.gua_version));
	meta.interval_ms = a->interval_ms;
	meta.created_ms = now;
	classify_defaults(&meta.rollup);
	/* The database is made under a temporary name: a signal waits
	   until it has its own, which the handler knows. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &old);
	rc = store_create(&st, path, &meta, err, sizeof(err));
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		if (a->db != NULL && strstr(err, "already exists") != NULL)
			return cmd_usage_error(c, "%s (the demo writes a new "
			    "database; choose another --db)", err);
		return cmd_db_error(c, rc, err);
	}
	if (record(st, a, now, err, sizeof(err)) != 0) {
		store_close(st);
		unlink(path);
		return cmd_fail(c, "%s", err);
	}

	memset(&ro, 0, sizeof(ro));
	ro.until_ms = now;
	ro.since_ms = a->ticks * a->interval_ms;
	ro.gpu_id = -1;
	ro.top = REPORT_TOP_DEFAULT;
	classify_defaults(&ro.thr);
	if (report_build(st, &ro, &rep, err, sizeof(err)) != 0) {
		store_close(st);
		return cmd_fail(c, "%s", err);
	}
	report_text_defaults(&to, stdout);
	to.colour = cmd_colour(stdout);
	errno = 0;
	rc = report_text_write(stdout, &rep, &to) == 0 ? EXIT_OK :
	    cmd_fail(c, "cannot write the report to standard output%s%s",
	    errno ? ": " : "", errno ? strerror(errno) : "");
	report_free(&rep);
	store_close(st);
	return rc;
}

static int
demo_exec(const struct cmd_entry *c, int argc, char **argv)
{
	struct demo_args a;
	char path[PATH_MAX];
	int64_t now;
	int rc;

	if ((rc = parse_args(c, argc, argv, &a)) != EXIT_OK)
		return rc == -3 ? EXIT_OK : rc;
	if (a.db != NULL && (rc = check_db(c, a.db)) != EXIT_OK)
		return rc;
	if (cmd_now(c, &now) != 0)
		return EXIT_USAGE;
	if (a.db == NULL) {
		if ((rc = make_temporary(c, &a, path, sizeof(path))) != EXIT_OK)
			return rc;
	} else {
		util_strlcpy(path, a.db, sizeof(path));
	}
	rc = run_demo(c, &a, path, now);
	/* Whatever happened, a temporary database not asked for goes. */
	remove_temporary_all();
	return rc;
}

const struct cmd_entry cmd_demo_entry = {
	.name = "demo",
	.usage = "[--db PATH | --keep] [--ticks N] [--interval D]",
	.summary = "Record a built-in workload (no GPU needed) and report it.",
	.help =
	    "  --db PATH       database to create and keep; it must not exist\n"
	    "                  (default: a temporary file, removed at the end)\n"
	    "  --keep          keep the temporary file, and name it on stderr\n"
	    "  --ticks N       ticks to record, 1-10000000 (default 30)\n"
	    "  --interval D    time between ticks (default 1s)\n"
	    "\n"
	    "The ticks get synthetic timestamps ending now; nothing sleeps.\n"
	    "Exit status: 0 success, 1 runtime failure, 2 bad usage, an\n"
	    "existing --db, or one that is the collector's PID file or log\n"
	    "or a file beside its database.\n",
	.exec = demo_exec,
};
