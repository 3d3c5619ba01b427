/*
 * import: converts a gpu-usage-audit 1.0 database into a new gua database,
 * so a history survives the switch. The old file is only read.
 *
 * What the old format lacks is decided here:
 * - The interval: the median gap between consecutive tick times, rounded
 *   to a whole second (to 10 ms under 10 s).
 * - Runs: a gap of more than two intervals means the original's collector
 *   stopped; the tick after it starts a new run. Spans then follow gua's
 *   rule: the time since the previous tick, one interval for a run's
 *   first tick (the rest of a gap is not observed).
 * - Process start times: the old rows name a PID only. A PID seen in
 *   consecutive ticks under the same user is one process; one that was
 *   absent for a tick, or comes back under another user, is a new process
 *   (the PID was reused). Its start time is when the old file first saw it.
 * - Per-process utilization: unknown, so each process follows its GPU's,
 *   as the original's report did.
 * - GPU indexes: by UUID order, the order of the original's report.
 * - Process memory above IMPORT_MEM_MAX_MIB is no GPU's: the old file does
 *   not know its GPUs' totals, against which the collector judges it, so
 *   it is unknown past a bound no GPU reaches (a damaged or hand-made
 *   row), counted in a warning.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "classify.h"
#include "cmd.h"
#include "duration.h"
#include "grow.h"
#include "imap.h"
#include "outfile.h"
#include "store-legacy.h"
#include "store.h"
#include "util.h"
#include "version.h"

#define IMPORT_BATCH	2880	/* ticks per transaction */
#define DEFAULT_INTERVAL_MS	(30 * MS_PER_SECOND)
#define IMPORT_MEM_MAX_MIB	(1LL << 20)	/* 1 TiB for one process */

static volatile sig_atomic_t interrupted;

static void
on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* A PID as last seen: which process it was. */
struct pid_seen {
	int64_t	start_ms;	/* the process key's start time */
	int64_t	last_tick;	/* tick number it was last seen at */
	int	user_known;
	char	user[64];
};

struct import {
	const char		*old_path, *new_path;
	struct store_legacy	*old;
	struct store		*st;
	struct store_legacy_survey sv;
	int64_t			 interval_ms;
	char			 driver[80];
	struct imap		 pid_slot;	/* pid -> index in pids */
	struct pid_seen		*pids;
	size_t			 npids, pids_cap;
	int64_t			 ticks, processes, orphans;
	int64_t			 absurd;	/* rows of impossible memory */
};

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* The median gap between tick times, rounded; 30 s with fewer than 2. */
static int64_t
infer_interval(const int64_t *times, size_t n)
{
	int64_t *gaps, m, unit;

	if (n < 2 || (gaps = malloc((n - 1) * sizeof(*gaps))) == NULL)
		return DEFAULT_INTERVAL_MS;
	for (size_t i = 1; i < n; i++)
		gaps[i - 1] = times[i] - times[i - 1];
	qsort(gaps, n - 1, sizeof(*gaps), cmp_i64);
	m = gaps[(n - 1) / 2];
	free(gaps);
	unit = m >= 10 * MS_PER_SECOND ? MS_PER_SECOND : 10;
	m = (m + unit / 2) / unit * unit;
	return m > 0 ? m : 1;
}

/* The process key of a PID at tick number k: the same or a new one. */
static int
process_of(struct import *im, const struct store_legacy_proc *p, int64_t k,
    int64_t ts_ms, int64_t *start_ms)
{
	struct pid_seen *e;
	int64_t slot;

	if (imap_get(&im->pid_slot, p->pid, 0, &slot) == 0) {
		e = &im->pids[slot];
		if (e->last_tick == k || (e->last_tick == k - 1 &&
		    e->user_known == p->user_known &&
		    strcmp(e->user, p->user) == 0)) {
			e->last_tick = k;
			*start_ms = e->start_ms;
			return 0;
		}
	} else {
		if (grow((void **)&im->pids, &im->pids_cap, im->npids + 1,
		    sizeof(*im->pids)) != 0)
			return -1;
		slot = (int64_t)im->npids++;
		if (imap_put(&im->pid_slot, p->pid, 0, slot) != 0)
			return -1;
		e = &im->pids[slot];
	}
	e->start_ms = ts_ms;
	e->last_tick = k;
	e->user_known = p->user_known;
	util_strlcpy(e->user, p->user, sizeof(e->user));
	*start_ms = ts_ms;
	im->processes++;
	return 0;
}

static int
cmp_uuid(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* A GPU of the old file gets its place in UUID order as its index. */
static struct tick_gpu *
add_gpu(struct import *im, struct tick *t, const char *uuid)
{
	struct tick_gpu *g = tick_add_gpu(t);
	char (*hit)[96];

	if (g == NULL)
		return NULL;
	util_strlcpy(g->uuid, uuid, sizeof(g->uuid));
	hit = im->sv.nuuids == 0 ? NULL : bsearch(uuid, im->sv.uuids,
	    im->sv.nuuids, sizeof(*hit), cmp_uuid);
	g->index = hit ? (int)(hit - im->sv.uuids) : (int)im->sv.nuuids;
	g->util_src = UTIL_SRC_IMPORT;
	return g;
}

/* One old tick as a gua tick. */
static int
convert_tick(struct import *im, const struct store_legacy_tick *lt,
    int64_t k, struct tick *t)
{
	tick_reset(t);
	t->ts_ms = lt->ts_ms;
	for (size_t i = 0; i < lt->ngpus; i++) {
		struct tick_gpu *g = add_gpu(im, t, lt->gpus[i].uuid);

		if (g == NULL)
			return -1;
		if (lt->gpus[i].util_pct >= 0) {
			g->util_pm = lt->gpus[i].util_pct * 10;
			g->util_max_pct = lt->gpus[i].util_pct;
		}
	}
	for (size_t i = 0; i < lt->nprocs; i++) {
		const struct store_legacy_proc *lp = &lt->procs[i];
		struct tick_gpu *g = NULL;
		struct tick_proc *p;
		size_t j;

		for (j = 0; j < t->ngpus && g == NULL; j++)
			if (strcmp(t->gpus[j].uuid, lp->uuid) == 0)
				g = &t->gpus[j];
		/* A process row without its GPU's row: that GPU is added
		   with its utilization unknown. */
		if (g == NULL)
			g = add_gpu(im, t, lp->uuid);
		else
			j--;
		if (g == NULL || (p = tick_add_proc(g)) == NULL)
			return -1;
		if (j >= lt->ngpus)
			im->orphans++;
		p->pid = lp->pid;
		p->mem_mib = lp->mem_mib;
		if (p->mem_mib != MIB_UNKNOWN && p->mem_mib >
		    IMPORT_MEM_MAX_MIB) {
			p->mem_mib = MIB_UNKNOWN;
			im->absurd++;
		}
		if (process_of(im, lp, k, lt->ts_ms, &p->start_ms) != 0)
			return -1;
		if (lp->user_known) {
			p->id.known = 1;
			util_strlcpy(p->id.user, lp->user, sizeof(p->id.user));
		}
	}
	return 0;
}

/* Reads every old tick and writes it; 0, or -1 with err. */
static int
convert(struct import *im, char *err, size_t errlen)
{
	struct store_legacy_tick lt;
	struct tick t;
	int64_t prev_ms = 0;
	int rc;

	memset(&lt, 0, sizeof(lt));
	memset(&t, 0, sizeof(t));
	if (store_begin_run(im->st, im->sv.ntimes ? im->sv.times[0] :
	    util_now_ms(), im->interval_ms, "import", im->driver, err,
	    errlen) != 0 ||
	    store_begin(im->st, err, errlen) != 0)
		goto fail;
	while ((rc = store_legacy_next(im->old, &lt, err, errlen)) == 1) {
		int64_t gap = lt.ts_ms - prev_ms;

		if (interrupted) {
			util_err(err, errlen, "interrupted");
			goto fail;
		}
		if (convert_tick(im, &lt, im->ticks, &t) != 0) {
			util_err(err, errlen, "out of memory");
			goto fail;
		}
		/* After a gap the original's collector had stopped: a new
		   run, whose first tick stands for one interval. */
		if (im->ticks > 0 && gap > 2 * im->interval_ms &&
		    store_begin_run(im->st, lt.ts_ms, im->interval_ms, "import",
		    im->driver, err, errlen) != 0)
			goto fail;
		t.span_ms = im->ticks == 0 || gap <= 0 ||
		    gap > 2 * im->interval_ms ? im->interval_ms : gap;
		prev_ms = lt.ts_ms;
		if (store_write_tick(im->st, &t, err, errlen) != 0)
			goto fail;
		if (++im->ticks % IMPORT_BATCH == 0 &&
		    (store_commit(im->st, err, errlen) != 0 ||
		    store_begin(im->st, err, errlen) != 0))
			goto fail;
	}
	if (rc != 0 || store_commit(im->st, err, errlen) != 0)
		goto fail;
	store_legacy_tick_free(&lt);
	tick_free(&t);
	return 0;
fail:
	store_rollback(im->st);
	store_legacy_tick_free(&lt);
	tick_free(&t);
	return -1;
}

static int
parse_args(const struct cmd_entry *c, int argc, char **argv,
    struct import *im)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	while ((ch = cmd_getopt(c, argc, argv, ":h", longopts)) != -1) {
		switch (ch) {
		case -3:
			return -3;
		case 'd':
			if (optarg[0] == '\0')
				return cmd_usage_error(c, "--db: empty path");
			im->new_path = optarg;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind == argc)
		return cmd_usage_error(c, "which database to import? (give "
		    "OLD.db)");
	im->old_path = argv[optind++];
	if (optind < argc)
		return cmd_usage_error(c, "unexpected argument '%s'",
		    argv[optind]);
	if (im->old_path[0] == '\0')
		return cmd_usage_error(c, "OLD.db: empty path");
	if (im->new_path == NULL)
		return cmd_usage_error(c, "--db NEW.db is required: the gua "
		    "database to create");
	return EXIT_OK;
}

/* NEW.db may not be a file in use: OLD.db's, the collector's. */
static int
check_new(const struct cmd_entry *c, const struct import *im)
{
	struct outfile_guard g;
	char err[PATH_MAX * 2 + 200];
	int rc;

	outfile_guard_init(&g);
	if (outfile_guard_db(&g, im->old_path, "the database being "
	    "imported") != 0 || cmd_guard_collector(&g, NULL) != 0) {
		outfile_guard_free(&g);
		return cmd_fail(c, "out of memory");
	}
	rc = outfile_guard_check(&g, im->new_path, err, sizeof(err));
	outfile_guard_free(&g);
	if (rc != 0)
		return cmd_usage_error(c, "--db: %s", err);
	return EXIT_OK;
}

static int
import_exec(const struct cmd_entry *c, int argc, char **argv)
{
	struct import im;
	struct store_meta meta;
	struct sigaction sa;
	char err[512], iv[32], first[32], last[32];
	int rc;

	memset(&im, 0, sizeof(im));
	if ((rc = parse_args(c, argc, argv, &im)) != EXIT_OK)
		return rc == -3 ? EXIT_OK : rc;
	if ((rc = check_new(c, &im)) != EXIT_OK)
		return rc;
	if ((rc = store_legacy_open(&im.old, im.old_path, err,
	    sizeof(err))) != 0)
		return cmd_db_error(c, rc, err);

	memset(&meta, 0, sizeof(meta));
	if (store_legacy_host(im.old, meta.hostname, sizeof(meta.hostname),
	    im.driver, sizeof(im.driver), err, sizeof(err)) != 0 ||
	    store_legacy_survey(im.old, &im.sv, err, sizeof(err)) != 0) {
		store_legacy_close(im.old);
		return cmd_fail(c, "%s", err);
	}
	if (meta.hostname[0] == '\0')
		util_strlcpy(meta.hostname, "unknown", sizeof(meta.hostname));
	im.interval_ms = infer_interval(im.sv.times, im.sv.ntimes);
	util_strlcpy(meta.driver_version, im.driver,
	    sizeof(meta.driver_version));
	util_strlcpy(meta.source, "import", sizeof(meta.source));
	util_strlcpy(meta.gua_version, GUA_VERSION, sizeof(meta.gua_version));
	meta.interval_ms = im.interval_ms;
	meta.created_ms = util_now_ms();
	classify_defaults(&meta.rollup);

	/* Interrupted, the import stops and removes what it wrote. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	/* Built under a temporary name: NEW.db appears whole or not at all,
	   even after a kill -9. */
	if ((rc = store_create_hidden(&im.st, im.new_path, &meta, err,
	    sizeof(err))) != 0) {
		store_legacy_survey_free(&im.sv);
		store_legacy_close(im.old);
		if (strstr(err, "already exists") != NULL)
			return cmd_usage_error(c, "%s (import writes a new "
			    "database; choose another --db)", err);
		return cmd_db_error(c, rc, err);
	}
	rc = convert(&im, err, sizeof(err));
	if (rc == 0 && interrupted) {
		util_err(err, sizeof(err), "interrupted");
		rc = -1;
	}
	if (rc == 0)
		rc = store_publish(im.st, err, sizeof(err));
	else
		store_close(im.st);
	store_legacy_close(im.old);
	imap_free(&im.pid_slot);
	free(im.pids);
	if (rc != 0) {
		store_legacy_survey_free(&im.sv);
		return cmd_fail(c, "%s (nothing was written to %s)", err,
		    im.new_path);
	}
	duration_format(im.interval_ms, iv, sizeof(iv));
	if (im.sv.ntimes > 0) {
		util_format_rfc3339(im.sv.times[0], first, sizeof(first));
		util_format_rfc3339(im.sv.times[im.sv.ntimes - 1], last,
		    sizeof(last));
		printf("imported %lld ticks (%s to %s, interval %s) of %zu "
		    "GPU%s and %lld process%s from %s into %s\n",
		    (long long)im.ticks, first, last, iv, im.sv.nuuids,
		    im.sv.nuuids == 1 ? "" : "s", (long long)im.processes,
		    im.processes == 1 ? "" : "es", im.old_path, im.new_path);
	} else {
		printf("imported %lld ticks from %s into %s: it had no "
		    "samples\n", (long long)im.ticks, im.old_path, im.new_path);
	}
	if (im.orphans > 0)
		cmd_warn(c, "%lld process rows had no GPU row at their time; "
		    "those GPUs count as unknown at those ticks",
		    (long long)im.orphans);
	if (im.absurd > 0)
		cmd_warn(c, "%lld process rows had more than %lld MiB (1 TiB) "
		    "of GPU memory, which no GPU has; recorded as unknown",
		    (long long)im.absurd, IMPORT_MEM_MAX_MIB);
	store_legacy_survey_free(&im.sv);
	return EXIT_OK;
}

const struct cmd_entry cmd_import_entry = {
	.name = "import",
	.usage = "OLD.db --db NEW.db",
	.summary = "Convert a gpu-usage-audit 1.0 database into a gua "
	    "database.",
	.help =
	    "  OLD.db          the original tool's database; only read, never\n"
	    "                  changed\n"
	    "  --db NEW.db     the gua database to create; it must not exist\n"
	    "\n"
	    "The interval is inferred from the timestamps. A PID that vanishes\n"
	    "for a tick or changes user starts a new process. NEW.db is built\n"
	    "as .NEW.db.gua-tmp-PID beside it and renamed once complete and\n"
	    "synced: an import that fails, is interrupted or is killed leaves\n"
	    "no NEW.db (a killed one leaves that file, which the next import\n"
	    "into NEW.db removes).\n"
	    "Exit status: 0 success, 1 runtime failure (an OLD.db that cannot\n"
	    "be read as it is among them), 2 bad usage, an OLD.db that is\n"
	    "missing or not a gpu-usage-audit 1.0 database, or an existing\n"
	    "NEW.db or one that is a file in use (OLD.db, a file beside it,\n"
	    "the collector's database, PID file or log).\n",
	.exec = import_exec,
};
