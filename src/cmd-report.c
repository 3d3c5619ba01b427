/*
 * report: a one-shot read of the database for a window. Never writes the
 * database; safe while the collector writes.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "duration.h"
#include "outfile.h"
#include "report-text.h"
#include "report.h"
#include "store.h"
#include "util.h"

#define DEFAULT_DB	"/tmp/gua.db"

struct report_args {
	const char	*db;
	const char	*gpu;
	const char	*format;
	const char	*table;
	const char	*output;
	int64_t		 interval_ms;	/* 0: not given */
	struct report_options ro;
	struct text_options to;
};

static int
parse_args(const struct cmd_entry *c, int argc, char **argv,
    struct report_args *a)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "since", required_argument, NULL, 's' },
		{ "until", required_argument, NULL, 'u' },
		{ "interval", required_argument, NULL, 'i' },
		{ "width", required_argument, NULL, 'w' },
		{ "gpu", required_argument, NULL, 'g' },
		{ "active-util", required_argument, NULL, 'A' },
		{ "held-mib", required_argument, NULL, 'M' },
		{ "format", required_argument, NULL, 'f' },
		{ "table", required_argument, NULL, 't' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *until = NULL;
	int db_given = 0;
	int64_t now;
	long long v;
	int ch;

	memset(a, 0, sizeof(*a));
	a->db = DEFAULT_DB;
	a->format = "text";
	a->ro.since_ms = MS_PER_HOUR;
	a->ro.gpu_id = -1;
	classify_defaults(&a->ro.thr);
	a->to.width = TEXT_WIDTH_DEFAULT;
	while ((ch = cmd_getopt(c, argc, argv, ":ho:", longopts)) != -1) {
		switch (ch) {
		case -3:
			return -3;
		case 'd':
			if (db_given++)
				return cmd_usage_error(c, "--db given twice: "
				    "merged reports over several databases are "
				    "not available in this build");
			a->db = optarg;
			break;
		case 's':
			if (cmd_duration(c, "--since", optarg,
			    &a->ro.since_ms) != 0)
				return EXIT_USAGE;
			break;
		case 'u':
			until = optarg;
			break;
		case 'i':
			if (cmd_duration(c, "--interval", optarg,
			    &a->interval_ms) != 0)
				return EXIT_USAGE;
			break;
		case 'w':
			if (util_parse_ll(optarg, TEXT_WIDTH_MIN, TEXT_WIDTH_MAX,
			    &v) != 0)
				return cmd_usage_error(c, "--width: '%s' is not "
				    "a whole number from %d to %d", optarg,
				    TEXT_WIDTH_MIN, TEXT_WIDTH_MAX);
			a->to.width = (int)v;
			break;
		case 'g':
			a->gpu = optarg;
			break;
		case 'A':
			if (util_parse_ll(optarg, 1, 100, &v) != 0)
				return cmd_usage_error(c, "--active-util: '%s' is "
				    "not a whole percentage from 1 to 100",
				    optarg);
			a->ro.thr.active_util = (int)v;
			break;
		case 'M':
			if (util_parse_ll(optarg, 0, 1LL << 40, &v) != 0)
				return cmd_usage_error(c, "--held-mib: '%s' is "
				    "not a whole number of MiB (0 or more)",
				    optarg);
			a->ro.thr.held_mib = v;
			break;
		case 'f':
			a->format = optarg;
			break;
		case 't':
			a->table = optarg;
			break;
		case 'o':
			a->output = optarg;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cmd_usage_error(c, "unexpected argument '%s'",
		    argv[optind]);
	if (strcmp(a->format, "text") != 0) {
		if (strcmp(a->format, "json") == 0 ||
		    strcmp(a->format, "csv") == 0 ||
		    strcmp(a->format, "html") == 0)
			return cmd_usage_error(c, "--format %s: not available "
			    "in this build (text only)", a->format);
		return cmd_usage_error(c, "--format: unknown format '%s' (text, "
		    "json, csv or html)", a->format);
	}
	if (a->table != NULL)
		return cmd_usage_error(c, "--table is for --format csv");
	if (a->output != NULL && a->output[0] == '\0')
		return cmd_usage_error(c, "-o: empty file name");
	if (a->db[0] == '\0')
		return cmd_usage_error(c, "--db: empty path");
	if (cmd_now(c, &now) != 0)
		return EXIT_USAGE;
	a->ro.until_ms = now;
	if (until != NULL) {
		int64_t ago, at;
		char derr[256];

		if (duration_parse(until, &ago, derr, sizeof(derr)) == 0)
			a->ro.until_ms = now - ago;
		else if (util_parse_rfc3339(until, &at) == 0)
			a->ro.until_ms = at;
		else
			return cmd_usage_error(c, "--until: '%s' is neither a "
			    "duration ago (like 2h) nor an RFC 3339 time (like "
			    "2026-11-25T08:00:00Z)", until);
	}
	return EXIT_OK;
}

/* Warns when --interval differs from what the collector recorded. */
static void
check_interval(const struct cmd_entry *c, struct store *st,
    const struct report_args *a)
{
	int64_t *iv;
	size_t n;
	char given[32], recorded[32];

	if (a->interval_ms == 0 || store_run_intervals(st, a->ro.until_ms -
	    a->ro.since_ms, a->ro.until_ms + 1, &iv, &n, NULL, 0) != 0)
		return;
	for (size_t i = 0; i < n; i++) {
		if (iv[i] == a->interval_ms)
			continue;
		duration_format(a->interval_ms, given, sizeof(given));
		duration_format(iv[i], recorded, sizeof(recorded));
		cmd_warn(c, "--interval %s differs from the recorded interval "
		    "%s; GPU-hours come from the recorded tick spans", given,
		    recorded);
		break;
	}
	free(iv);
}

static int
write_output(const struct cmd_entry *c, const struct report_args *a,
    const struct report *rep)
{
	struct outfile of;
	char err[512];

	if (a->output == NULL) {
		if (report_text_write(stdout, rep, &a->to) != 0)
			return cmd_fail(c, "cannot write the report to "
			    "standard output");
		return EXIT_OK;
	}
	if (outfile_open(&of, a->output, 0666, err, sizeof(err)) != 0)
		return cmd_fail(c, "%s", err);
	if (report_text_write(of.fp, rep, &a->to) != 0) {
		outfile_abort(&of);
		return cmd_fail(c, "%s: cannot write", a->output);
	}
	if (outfile_commit(&of, err, sizeof(err)) != 0)
		return cmd_fail(c, "%s", err);
	return EXIT_OK;
}

static int
report_exec(const struct cmd_entry *c, int argc, char **argv)
{
	struct report_args a;
	struct report rep;
	struct store *st;
	char err[512];
	int rc;

	if ((rc = parse_args(c, argc, argv, &a)) != EXIT_OK)
		return rc == -3 ? EXIT_OK : rc;
	if (store_open_read(&st, a.db, err, sizeof(err)) != 0)
		return cmd_usage_error(c, "%s", err);
	if (a.gpu != NULL &&
	    report_find_gpu(st, a.gpu, &a.ro.gpu_id, err, sizeof(err)) != 0) {
		store_close(st);
		return cmd_usage_error(c, "%s", err);
	}
	check_interval(c, st, &a);
	if (report_build(st, &a.ro, &rep, err, sizeof(err)) != 0) {
		store_close(st);
		return cmd_fail(c, "%s", err);
	}
	rc = write_output(c, &a, &rep);
	report_free(&rep);
	store_close(st);
	return rc;
}

const struct cmd_entry cmd_report_entry = {
	.name = "report",
	.usage = "[--db PATH] [--since D] [--until D|TIME] [--interval D] "
	    "[--width N] [--gpu ID] [--active-util P] [--held-mib M] "
	    "[--format text] [-o FILE]",
	.summary = "Report GPU time as active, idle-held and truly idle.",
	.help =
	    "  --db PATH          database to read (default /tmp/gua.db)\n"
	    "  --since D          window length, e.g. 1h, 7d, 365d (default 1h);\n"
	    "                     never longer than the recorded history\n"
	    "  --until D|TIME     window end: a duration ago (2h) or an RFC 3339\n"
	    "                     time (2026-11-25T08:00:00Z); default now\n"
	    "  --interval D       accepted for compatibility; GPU-hours always\n"
	    "                     come from the recorded tick spans, and a\n"
	    "                     mismatch with the recorded interval warns\n"
	    "  --width N          width of the headline bar, 10-1000 (default 60)\n"
	    "  --gpu ID           one GPU: its index or (a prefix of) its UUID\n"
	    "  --active-util P    active when utilization >= P percent (default\n"
	    "                     10); other values read raw ticks, slower\n"
	    "  --held-mib M       held when processes hold > M MiB (default 100)\n"
	    "  --format F         text (default)\n"
	    "  -o, --output FILE  write to FILE (replaced atomically)\n"
	    "\n"
	    "Exit status: 0 success, 1 runtime failure, 2 bad usage or a --db\n"
	    "that is missing, not a gua database, or from a newer gua.\n",
	.exec = report_exec,
};
