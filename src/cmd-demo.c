/*
 * demo: records the built-in workload through the collector's own write
 * path, with synthetic timestamps ending now, then prints the report over
 * every tick it wrote. It never sleeps.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
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
	int64_t		 ticks;
	int64_t		 interval_ms;
};

static int
parse_args(const struct cmd_entry *c, int argc, char **argv,
    struct demo_args *a)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "ticks", required_argument, NULL, 'n' },
		{ "interval", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	long long v;
	int ch;

	a->db = NULL;
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
		default:
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cmd_usage_error(c, "unexpected argument '%s'",
		    argv[optind]);
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

static int
demo_exec(const struct cmd_entry *c, int argc, char **argv)
{
	struct demo_args a;
	struct store_meta meta;
	struct report_options ro;
	struct text_options to = { TEXT_WIDTH_DEFAULT, 0 };
	struct report rep;
	struct store *st;
	char tmpdir[PATH_MAX], path[PATH_MAX], err[512];
	const char *base;
	int64_t now;
	int rc;

	if ((rc = parse_args(c, argc, argv, &a)) != EXIT_OK)
		return rc == -3 ? EXIT_OK : rc;
	if (a.db != NULL && (rc = check_db(c, a.db)) != EXIT_OK)
		return rc;
	if (cmd_now(c, &now) != 0)
		return EXIT_USAGE;
	tmpdir[0] = '\0';
	if (a.db == NULL) {
		base = getenv("TMPDIR");
		if (base == NULL || base[0] == '\0')
			base = "/tmp";
		if ((size_t)snprintf(tmpdir, sizeof(tmpdir), "%s/gua-demo-XXXXXX",
		    base) >= sizeof(tmpdir) || mkdtemp(tmpdir) == NULL)
			return cmd_fail(c, "cannot create a temporary directory "
			    "in %s: %s", base, strerror(errno));
		snprintf(path, sizeof(path), "%s/gua.db", tmpdir);
		fprintf(stderr, "gua demo: writing %lld ticks to %s\n",
		    (long long)a.ticks, path);
	} else {
		util_strlcpy(path, a.db, sizeof(path));
	}

	memset(&meta, 0, sizeof(meta));
	util_hostname(meta.hostname, sizeof(meta.hostname));
	util_strlcpy(meta.source, source_demo.name, sizeof(meta.source));
	util_strlcpy(meta.gua_version, GUA_VERSION, sizeof(meta.gua_version));
	meta.interval_ms = a.interval_ms;
	meta.created_ms = now;
	classify_defaults(&meta.rollup);
	if (store_create(&st, path, &meta, err, sizeof(err)) != 0) {
		if (tmpdir[0] != '\0')
			rmdir(tmpdir);
		if (a.db != NULL && strstr(err, "already exists") != NULL)
			return cmd_usage_error(c, "%s (the demo writes a new "
			    "database; choose another --db)", err);
		return cmd_fail(c, "%s", err);
	}
	if (record(st, &a, now, err, sizeof(err)) != 0) {
		store_close(st);
		unlink(path);
		if (tmpdir[0] != '\0')
			rmdir(tmpdir);
		return cmd_fail(c, "%s", err);
	}

	memset(&ro, 0, sizeof(ro));
	ro.until_ms = now;
	ro.since_ms = a.ticks * a.interval_ms;
	ro.gpu_id = -1;
	classify_defaults(&ro.thr);
	if (report_build(st, &ro, &rep, err, sizeof(err)) != 0) {
		store_close(st);
		return cmd_fail(c, "%s", err);
	}
	to.colour = cmd_colour(stdout);
	rc = report_text_write(stdout, &rep, &to) == 0 ? EXIT_OK :
	    cmd_fail(c, "cannot write the report to standard output");
	report_free(&rep);
	store_close(st);
	return rc;
}

const struct cmd_entry cmd_demo_entry = {
	.name = "demo",
	.usage = "[--db PATH] [--ticks N] [--interval D]",
	.summary = "Record a built-in workload (no GPU needed) and report it.",
	.help =
	    "  --db PATH       database to create; it must not exist (default: a\n"
	    "                  fresh temporary file, named on stderr)\n"
	    "  --ticks N       ticks to record, 1-10000000 (default 30)\n"
	    "  --interval D    time between ticks (default 1s)\n"
	    "\n"
	    "The ticks get synthetic timestamps ending now; nothing sleeps.\n"
	    "Exit status: 0 success, 1 runtime failure, 2 bad usage, an\n"
	    "existing --db, or one that is the collector's PID file or log\n"
	    "or a file beside its database.\n",
	.exec = demo_exec,
};
