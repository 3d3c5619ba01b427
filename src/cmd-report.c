/*
 * report: a one-shot read of the database for a window. Never writes the
 * database; safe while the collector writes.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmd.h"
#include "duration.h"
#include "outfile.h"
#include "price.h"
#include "report-csv.h"
#include "report-html.h"
#include "report-json.h"
#include "report-text.h"
#include "report.h"
#include "store.h"
#include "tz.h"
#include "util.h"

#define MAX_DBS		1024	/* --db given more often is refused */
#define HELD_MIB_MAX	(1LL << 40)	/* --held-mib: more than any GPU */
#define TOP_MAX		1000000000LL	/* --top: 0 is all */

struct writer;
static const struct writer *writer_named(const char *);

struct report_args {
	const char	*dbs[MAX_DBS];	/* --db, in the order given */
	size_t		 ndbs;
	const char	*gpu;
	const struct writer *format;
	const char	*table;
	enum csv_table	 csv;
	const char	*output;
	int64_t		 interval_ms;	/* 0: not given */
	struct report_options ro;
	struct report_filter filter;	/* --user, --job, ... */
	struct text_options to;
	struct price	 price;		/* --cost-per-gpu-hour, --currency */
};

/* The open databases of a report and what each contributes. */
struct sources {
	struct store	*st[MAX_DBS];
	int64_t		 gpu_id[MAX_DBS];	/* --gpu in it, or -1 */
	int		 used[MAX_DBS];		/* in the report */
	size_t		 n;
};

/* An output format: its name for --format and its writer. */
struct writer {
	const char	*name;
	int		(*write)(FILE *, const struct report_args *,
			    struct sources *, const struct report *, char *,
			    size_t);
	int		 colour;	/* colours a terminal */
	int		 tables;	/* takes --table */
};

/* The format -o's extension names, or NULL: any other name is text. */
static const char *
format_of_name(const char *path)
{
	static const struct { const char *ext, *format; } exts[] = {
		{ ".html", "html" }, { ".htm", "html" }, { ".json", "json" },
		{ ".csv", "csv" }, { ".txt", "text" },
	};
	const char *base = strrchr(path, '/'), *dot;

	base = base != NULL ? base + 1 : path;
	if ((dot = strrchr(base, '.')) == NULL || dot == base)
		return NULL;
	for (size_t i = 0; i < ARRAY_LEN(exts); i++)
		if (strcasecmp(dot, exts[i].ext) == 0)
			return exts[i].format;
	return NULL;
}

/*
 * The format: --format, else the one -o's extension names (report.html is
 * HTML), else text. A --format that another known extension contradicts
 * is refused: "-o report.html --format json" is a mistake either way.
 */
/*
 * Whether a --since or --until that is no time was meant as a duration:
 * a number and letters only ("100000d", "7x"). Its error then says what
 * is wrong with it (too large, an unknown unit), not "neither ... nor".
 */
static int
duration_shaped(const char *s)
{
	size_t n = strspn(s, "0123456789.");

	if (n == 0)
		return 0;
	for (s += n; *s != '\0'; s++)
		if ((*s < 'a' || *s > 'z') && (*s < 'A' || *s > 'Z'))
			return 0;
	return 1;
}

static int
infer_format(const struct cmd_entry *c, struct report_args *a,
    const char *format)
{
	const char *ext = a->output != NULL ? format_of_name(a->output) : NULL;

	if (format != NULL && ext != NULL && strcmp(format, ext) != 0)
		return cmd_usage_error(c, "--format %s contradicts -o %s (a "
		    "name for %s); give a matching name or leave out --format",
		    format, a->output, ext);
	if (format == NULL)
		a->format = writer_named(ext != NULL ? ext : "text");
	return EXIT_OK;
}

/* A filter's option (--user alice) into the report's filter. */
static int
add_filter(const struct cmd_entry *c, struct report_args *a, int ch,
    const char *value)
{
	static const struct { int ch; enum report_key key; } keys[] = {
		{ 'U', REPORT_KEY_USER }, { 'J', REPORT_KEY_JOB },
		{ 'P', REPORT_KEY_POD }, { 'C', REPORT_KEY_CONTAINER },
		{ 'N', REPORT_KEY_UNIT }, { 'c', REPORT_KEY_COMMAND },
		{ 'S', REPORT_KEY_NAMESPACE },
	};
	struct report_filter *f = &a->filter;
	enum report_key key = REPORT_KEY_USER;

	for (size_t i = 0; i < ARRAY_LEN(keys); i++)
		if (keys[i].ch == ch)
			key = keys[i].key;
	if (value[0] == '\0')
		return cmd_usage_error(c, "--%s: empty value",
		    report_key_name(key));
	if (f->n == REPORT_MATCH_MAX)
		return cmd_usage_error(c, "more than %d filters",
		    REPORT_MATCH_MAX);
	f->match[f->n].key = key;
	f->match[f->n].value = value;
	f->n++;
	a->ro.filter = f;
	return EXIT_OK;
}

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
		{ "top", required_argument, NULL, 'n' },
		{ "tz", required_argument, NULL, 'z' },
		{ "cost-per-gpu-hour", required_argument, NULL, 'K' },
		{ "currency", required_argument, NULL, 'Y' },
		{ "by", required_argument, NULL, 'b' },
		{ "user", required_argument, NULL, 'U' },
		{ "job", required_argument, NULL, 'J' },
		{ "pod", required_argument, NULL, 'P' },
		{ "namespace", required_argument, NULL, 'S' },
		{ "container", required_argument, NULL, 'C' },
		{ "unit", required_argument, NULL, 'N' },
		{ "command", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *until = NULL, *since = NULL, *format = NULL, *zone = NULL;
	const char *currency = NULL;
	char zerr[512];
	int64_t now;
	long long v;
	int ch;

	memset(a, 0, sizeof(*a));

	a->ro.since_ms = MS_PER_HOUR;
	a->ro.gpu_id = -1;
	a->ro.top = REPORT_TOP_DEFAULT;
	classify_defaults(&a->ro.thr);
	report_text_defaults(&a->to, stdout);
	while ((ch = cmd_getopt(c, argc, argv, ":ho:", longopts)) != -1) {
		switch (ch) {
		case -3:
			return -3;
		case 'd':
			if (a->ndbs == MAX_DBS)
				return cmd_usage_error(c, "--db: more than %d "
				    "databases", MAX_DBS);
			if (optarg[0] == '\0')
				return cmd_usage_error(c, "--db: empty path");
			a->dbs[a->ndbs++] = optarg;
			break;
		case 's':
			since = optarg;
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
			if (util_parse_ll(optarg, 0, HELD_MIB_MAX, &v) != 0)
				return cmd_usage_error(c, "--held-mib: '%s' is "
				    "not a whole number of MiB from 0 to %lld",
				    optarg, HELD_MIB_MAX);
			a->ro.thr.held_mib = v;
			break;
		case 'f':
			format = optarg;
			break;
		case 't':
			a->table = optarg;
			break;
		case 'o':
			a->output = optarg;
			break;
		case 'n':
			if (util_parse_ll(optarg, 0, TOP_MAX, &v) != 0)
				return cmd_usage_error(c, "--top: '%s' is not a "
				    "whole number from 0 (all) to %lld", optarg,
				    TOP_MAX);
			a->ro.top = (size_t)v;
			break;
		case 'z':
			zone = optarg;
			break;
		case 'K':
			if (price_parse(optarg, &a->price.micros) != 0)
				return cmd_usage_error(c, "--cost-per-gpu-hour: "
				    "'%s' is not an amount from 0 to %lld with "
				    "at most %d decimals (like 2.50)", optarg,
				    PRICE_MAX - 1, PRICE_DECIMALS);
			a->price.set = 1;
			break;
		case 'Y':
			if (price_currency_ok(optarg) != 0)
				return cmd_usage_error(c, "--currency: '%s' is "
				    "not a currency code of three capital "
				    "letters (like EUR or USD)", optarg);
			currency = optarg;
			break;
		case 'b':
			if (report_key_parse(optarg, &a->ro.by) != 0)
				return cmd_usage_error(c, "--by: unknown key "
				    "'%s' (user, job, pod, namespace, "
				    "container, unit, command, gpu or host)",
				    optarg);
			break;
		case 'U': case 'J': case 'P': case 'S': case 'C': case 'N': case 'c':
			if (add_filter(c, a, ch, optarg) != EXIT_OK)
				return EXIT_USAGE;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cmd_usage_error(c, "unexpected argument '%s'",
		    argv[optind]);
	if (format != NULL && (a->format = writer_named(format)) == NULL)
		return cmd_usage_error(c, "--format: unknown format '%s' (text, "
		    "json, csv or html)", format);
	if (a->output != NULL && a->output[0] == '\0')
		return cmd_usage_error(c, "-o: empty file name");
	if (infer_format(c, a, format) != EXIT_OK)
		return EXIT_USAGE;
	if (currency != NULL && !a->price.set)
		return cmd_usage_error(c, "--currency is for "
		    "--cost-per-gpu-hour");
	if (currency != NULL)
		util_strlcpy(a->price.currency, currency,
		    sizeof(a->price.currency));
	if (zone != NULL && tz_set(zone, zerr, sizeof(zerr)) != 0)
		return cmd_usage_error(c, "--tz: %s", zerr);
	/* A file is no terminal: COLUMNS, or the fixed width. */
	if (a->output != NULL)
		a->to.columns = report_text_columns(NULL);
	if (a->table != NULL && !a->format->tables)
		return cmd_usage_error(c, "--table is for --format csv");
	a->csv = CSV_GPUS;
	if (a->table != NULL && report_csv_table(a->table, &a->csv) != 0)
		return cmd_usage_error(c, "--table: unknown table '%s' (gpus, "
		    "identities, sessions, ticks or processes)", a->table);
	if (a->ndbs == 0)
		a->dbs[a->ndbs++] = cmd_defaults()->db;
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
			return duration_shaped(until) ? cmd_usage_error(c,
			    "--until: %s", derr) : cmd_usage_error(c, "--until: "
			    "'%s' is neither a duration ago (like 2h) nor an "
			    "RFC 3339 time (like 2026-11-25T08:00:00Z)", until);
	}
	if (since != NULL) {
		int64_t at;
		char derr[256];

		/* A length back from --until, or the time it starts at. */
		if (duration_parse(since, &a->ro.since_ms, derr,
		    sizeof(derr)) == 0)
			;
		else if (util_parse_rfc3339(since, &at) == 0) {
			if (at >= a->ro.until_ms)
				return cmd_usage_error(c, "--since: %s is not "
				    "before the window's end (--until, or now)",
				    since);
			/* Ticks stamped after it, as with a duration: one
			   stamped at the edge of two windows is in one. */
			a->ro.since_ms = a->ro.until_ms - at;
		} else if (duration_shaped(since))
			return cmd_usage_error(c, "--since: %s", derr);
		else
			return cmd_usage_error(c, "--since: '%s' is neither a "
			    "duration (like 7d) nor an RFC 3339 time (like "
			    "2026-11-25T08:00:00Z)", since);
	}
	return EXIT_OK;
}

/* Warns when --interval differs from what the collector recorded. */
static void
check_interval(const struct cmd_entry *c, struct store *st,
    const struct report_args *a)
{
	int64_t *iv, start, end;
	size_t n;
	char given[32], recorded[32];

	report_asked_window(&a->ro, &start, &end);
	if (a->interval_ms == 0 || store_run_intervals(st, start, end, &iv,
	    &n, NULL, 0) != 0)
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

/*
 * Resolves --gpu in every database. One database: as report_find_gpu. Several:
 * "HOST/ID" picks a GPU of that host; a bare ID must match in exactly one
 * database. Databases without the GPU are left out of the report.
 */
static int
resolve_gpu(const struct cmd_entry *c, const struct report_args *a,
    struct sources *src)
{
	const char *spec = a->gpu, *slash;
	char err[512], host[256];
	size_t hits = 0;
	int rc;

	for (size_t i = 0; i < src->n; i++) {
		src->gpu_id[i] = -1;
		src->used[i] = 1;
	}
	if (spec == NULL)
		return EXIT_OK;
	if (src->n == 1) {
		if (report_find_gpu(src->st[0], spec, &src->gpu_id[0], err,
		    sizeof(err)) != 0)
			return cmd_usage_error(c, "%s", err);
		return EXIT_OK;
	}
	host[0] = '\0';
	/* A slash after "GPU-N" is a MIG label's ("GPU-0/MIG-c6d4"). */
	if ((slash = strchr(spec, '/')) != NULL &&
	    strncasecmp(slash, "/MIG-", 5) == 0 &&
	    strncasecmp(spec, "GPU-", 4) == 0)
		slash = NULL;
	if (slash != NULL) {
		if ((size_t)(slash - spec) >= sizeof(host))
			return cmd_usage_error(c, "--gpu: host name too long");
		memcpy(host, spec, (size_t)(slash - spec));
		host[slash - spec] = '\0';
		spec = slash + 1;
	}
	for (size_t i = 0; i < src->n; i++) {
		src->used[i] = 0;
		if (host[0] != '\0' && strcmp(host,
		    store_meta(src->st[i])->hostname) != 0)
			continue;
		rc = report_find_gpu(src->st[i], spec, &src->gpu_id[i], err,
		    sizeof(err));
		/* Ambiguous within a database is an error anywhere. */
		if (rc == REPORT_GPU_AMBIGUOUS || (rc != 0 && host[0] != '\0'))
			return cmd_usage_error(c, "%s", err);
		if (rc != 0)
			continue;
		src->used[i] = 1;
		hits++;
	}
	if (hits == 0)
		return cmd_usage_error(c, "--gpu: no GPU '%s' in the %zu "
		    "databases", a->gpu, src->n);
	if (hits > 1 && host[0] == '\0')
		return cmd_usage_error(c, "--gpu: '%s' matches GPUs of %zu "
		    "hosts; write HOST/%s", a->gpu, hits, a->gpu);
	return EXIT_OK;
}

/* The CSV ticks and processes tables' rows, straight from each database. */
static int
tick_row(void *ctx, const struct report_row *r)
{
	return report_csv_tick_row(ctx, r);
}

static int
process_rows(void *ctx, const struct report_row *r)
{
	return report_csv_process_rows(ctx, r);
}

static int
write_text(FILE *f, const struct report_args *a, struct sources *src,
    const struct report *rep, char *err, size_t errlen)
{
	(void)src, (void)err, (void)errlen;
	return report_text_write(f, rep, &a->to);
}

static int
write_json(FILE *f, const struct report_args *a, struct sources *src,
    const struct report *rep, char *err, size_t errlen)
{
	(void)a, (void)src, (void)err, (void)errlen;
	return report_json_write(f, rep);
}

static int
write_html(FILE *f, const struct report_args *a, struct sources *src,
    const struct report *rep, char *err, size_t errlen)
{
	(void)a, (void)src, (void)err, (void)errlen;
	return report_html_write(f, rep);
}

/* A table of the report, or the rows of every database read. */
static int
write_csv(FILE *f, const struct report_args *a, struct sources *src,
    const struct report *rep, char *err, size_t errlen)
{
	size_t h = 0;

	if (report_csv_write(f, rep, a->csv) != 0)
		return -1;
	if (a->csv != CSV_TICKS && a->csv != CSV_PROCESSES)
		return 0;
	/* CSV has no place for a note: stderr says why rows are missing. */
	if (rep->hourly_end_ms > rep->hourly_start_ms) {
		char from[40], to[40];

		util_format_rfc3339(rep->hourly_start_ms, from, sizeof(from));
		util_format_rfc3339(rep->hourly_end_ms, to, sizeof(to));
		cmd_warn(&cmd_report_entry, "from %s to %s the window is hourly "
		    "only (raw ticks compacted): no per-tick rows there", from,
		    to);
	}
	for (size_t i = 0; i < src->n; i++) {
		struct report_options o = a->ro;

		if (!src->used[i])
			continue;
		o.gpu_id = src->gpu_id[i];
		if (report_rows(src->st[i], rep, h++, &o,
		    a->csv == CSV_TICKS ? tick_row : process_rows, f,
		    err, errlen) != 0)
			return -1;
	}
	fflush(f);
	return ferror(f) ? -1 : 0;
}

/* --format: a new output format is its writer's file and a line here. */
static const struct writer writers[] = {
	{ "text", write_text, 1, 0 },
	{ "json", write_json, 0, 0 },
	{ "csv", write_csv, 0, 1 },
	{ "html", write_html, 0, 0 },
};

static const struct writer *
writer_named(const char *name)
{
	for (size_t i = 0; i < ARRAY_LEN(writers); i++)
		if (strcmp(name, writers[i].name) == 0)
			return &writers[i];
	return NULL;
}

static int
write_output(const struct cmd_entry *c, const struct report_args *a,
    struct sources *src, const struct report *rep)
{
	struct outfile of;
	char err[512];

	err[0] = '\0';
	/* A failed write says why: errno of the write that failed. */
	errno = 0;
	if (a->output == NULL) {
		if (a->format->write(stdout, a, src, rep, err, sizeof(err)) != 0) {
			int e = errno;

			if (err[0] != '\0')
				return cmd_fail(c, "%s", err);
			return cmd_fail(c, "cannot write the report to standard "
			    "output%s%s", e ? ": " : "", e ? strerror(e) : "");
		}
		return EXIT_OK;
	}
	if (outfile_open(&of, a->output, 0666, err, sizeof(err)) != 0)
		return cmd_fail(c, "%s", err);
	if (a->format->write(of.fp, a, src, rep, err, sizeof(err)) != 0) {
		int e = errno;

		outfile_abort(&of);
		if (err[0] != '\0')
			return cmd_fail(c, "%s", err);
		return cmd_fail(c, "%s: cannot write%s%s", a->output,
		    e ? ": " : "", e ? strerror(e) : "");
	}
	if (outfile_commit(&of, err, sizeof(err)) != 0)
		return cmd_fail(c, "%s", err);
	return EXIT_OK;
}

/* -o may not name a file in use: a database read, the collector's. */
static int
check_output(const struct cmd_entry *c, const struct report_args *a)
{
	struct outfile_guard g;
	char err[PATH_MAX * 2 + 200];
	int rc = 0;

	if (a->output == NULL)
		return EXIT_OK;
	outfile_guard_init(&g);
	for (size_t i = 0; i < a->ndbs && rc == 0; i++)
		rc = outfile_guard_db(&g, a->dbs[i],
		    "a database this report reads");
	if (rc != 0 || cmd_guard_collector(&g, NULL) != 0) {
		outfile_guard_free(&g);
		return cmd_fail(c, "out of memory");
	}
	rc = outfile_guard_check(&g, a->output, err, sizeof(err));
	outfile_guard_free(&g);
	if (rc == 0)
		rc = outfile_check_target(a->output, err, sizeof(err));
	if (rc != 0)
		return cmd_usage_error(c, "-o: %s", err);
	return EXIT_OK;
}

/* Builds the report of every database in use and merges them in order. */
static int
build(const struct cmd_entry *c, const struct report_args *a,
    struct sources *src, struct report *rep)
{
	struct report one;
	char err[512];
	int have = 0;

	memset(rep, 0, sizeof(*rep));
	for (size_t i = 0; i < src->n; i++) {
		struct report_options o = a->ro;

		if (!src->used[i])
			continue;
		o.gpu_id = src->gpu_id[i];
		check_interval(c, src->st[i], a);
		if (report_build(src->st[i], &o, have ? &one : rep, err,
		    sizeof(err)) != 0) {
			if (have)
				report_free(rep);
			return cmd_fail(c, "%s", err);
		}
		if (have && report_merge(rep, &one, err, sizeof(err)) != 0) {
			report_free(&one);
			report_free(rep);
			return cmd_usage_error(c, "%s", err);
		}
		have = 1;
	}
	rep->price = a->price;
	if (a->gpu != NULL && rep->ngpus == 1)
		report_gpu_label(rep, 0, rep->only_gpu, sizeof(rep->only_gpu));
	else if (a->gpu != NULL)
		util_strlcpy(rep->only_gpu, a->gpu, sizeof(rep->only_gpu));
	return EXIT_OK;
}

/*
 * A CSV table has no place for "… and 3 more": what --top left out of
 * the identities and sessions tables is said on standard error.
 */
static void
say_omitted(const struct cmd_entry *c, const struct report_args *a,
    const struct report *rep)
{
	size_t n;

	if (!a->format->tables || (a->csv != CSV_IDENTITIES &&
	    a->csv != CSV_SESSIONS))
		return;
	n = a->csv == CSV_IDENTITIES ? report_ids_omitted(rep) :
	    report_sessions_omitted(rep, 0);
	if (n > 0)
		cmd_warn(c, "--top %zu left %zu more %s out of the table "
		    "(--top 0 for all)", rep->top, n, a->csv == CSV_IDENTITIES ?
		    "identities" : "sessions");
}

static int
report_exec(const struct cmd_entry *c, int argc, char **argv)
{
	struct report_args a;
	struct sources src;
	struct report rep;
	char err[512];
	int rc;

	if ((rc = parse_args(c, argc, argv, &a)) != EXIT_OK)
		return rc == -3 ? EXIT_OK : rc;
	if ((rc = check_output(c, &a)) != EXIT_OK)
		return rc;
	memset(&src, 0, sizeof(src));
	for (size_t i = 0; i < a.ndbs; i++) {
		if ((rc = store_open_read(&src.st[i], a.dbs[i], err,
		    sizeof(err))) != 0) {
			rc = cmd_db_error(c, rc, err);
			goto out;
		}
		src.n++;
	}
	if ((rc = resolve_gpu(c, &a, &src)) != EXIT_OK)
		goto out;
	if ((rc = build(c, &a, &src, &rep)) != EXIT_OK)
		goto out;
	a.to.colour = a.format->colour && a.output == NULL &&
	    cmd_colour(stdout);
	rc = write_output(c, &a, &src, &rep);
	if (rc == EXIT_OK)
		say_omitted(c, &a, &rep);
	report_free(&rep);
out:
	for (size_t i = 0; i < src.n; i++)
		store_close(src.st[i]);
	return rc;
}

const struct cmd_entry cmd_report_entry = {
	.name = "report",
	.usage = "[--db PATH]... [--since D|TIME] [--until D|TIME] "
	    "[--interval D] "
	    "[--width N] [--gpu ID] [--active-util P] [--held-mib M] "
	    "[--top N] [--tz ZONE] [--cost-per-gpu-hour AMOUNT "
	    "[--currency CODE]] "
	    "[--by KEY] [--user NAME]... [--job ID]... [--pod NAME|UID]... "
	    "[--namespace NS]... [--container ID]... [--unit NAME]... [--command NAME]... "
	    "[--format text|json|csv|html] [--table T] [-o FILE]",
	.repeatable = "dUJPSCNc",
	.summary = "Report GPU time as active, idle-held and truly idle.",
	.help =
	    "  --db PATH          database to read (default below); give\n"
	    "                     it again for one report over several hosts\n"
	    "  --since D|TIME     window length, e.g. 1h, 7d, 365d (default 1h),\n"
	    "                     or its start as an RFC 3339 time; never\n"
	    "                     longer than the recorded history\n"
	    "  --until D|TIME     window end: a duration ago (2h) or an RFC 3339\n"
	    "                     time (2026-11-25T08:00:00Z); default now\n"
	    "  --interval D       accepted for compatibility; GPU-hours always\n"
	    "                     come from the recorded tick spans, and a\n"
	    "                     mismatch with the recorded interval warns\n"
	    "  --width N          width of the headline bar, 10-1000 (default 60)\n"
	    "  --gpu ID           one GPU: its index, its label (GPU-3, GPU-3#2\n"
	    "                     for a card that replaced it, GPU-0/MIG-c6d4)\n"
	    "                     or (a prefix of) its UUID; HOST/ID with\n"
	    "                     several databases\n"
	    "  --active-util P    active when utilization >= P percent (default\n"
	    "                     10); other values read raw ticks, slower\n"
	    "  --held-mib M       held when processes hold > M MiB (default 100)\n"
	    "  --top N            show the N users and sessions with the most\n"
	    "                     idle-held time (default 20; 0: all), in\n"
	    "                     every format, and say how many were left out\n"
	    "  --tz ZONE          times, the window and the heatmaps' hours in\n"
	    "                     ZONE: an IANA name (Europe/Paris), UTC\n"
	    "                     (default) or local, the machine's zone\n"
	    "  --cost-per-gpu-hour AMOUNT\n"
	    "                     price the idle-held GPU-hours (sections 2\n"
	    "                     and 4, every format) and all observed ones\n"
	    "                     at AMOUNT a GPU-hour (like 2.50), in cents\n"
	    "  --currency CODE    the amount's currency, printed after it (EUR,\n"
	    "                     USD); no symbol is guessed without it\n"
	    "  --by KEY           group the identities (section 4) by user\n"
	    "                     (default), job (Slurm), pod (Kubernetes:\n"
	    "                     namespace/name, else its UID), namespace,\n"
	    "                     container, unit (systemd), command, gpu or\n"
	    "                     host; processes without it are one (none)\n"
	    "                     row\n"
	    "  --user NAME        count only the processes of user NAME\n"
	    "  --job ID           ... of Slurm job ID (4242 or job_4242)\n"
	    "  --pod NAME|UID     ... of the Kubernetes pod: its name,\n"
	    "                     namespace/name or UID\n"
	    "  --namespace NS     ... of the pods of Kubernetes namespace NS\n"
	    "  --container ID     ... of the container (its short id or more)\n"
	    "  --unit NAME        ... of the systemd unit NAME\n"
	    "  --command NAME     ... whose command name is NAME\n"
	    "                     Each filter may be repeated: any of one\n"
	    "                     option's values, and every option given.\n"
	    "                     Sections 1-3 then count only the GPUs at the\n"
	    "                     ticks those processes held them, from raw\n"
	    "                     ticks (slower over long windows)\n"
	    "  --format F         text, json, csv or html; default: what -o's\n"
	    "                     name ends in (.html, .htm, .json, .csv), else\n"
	    "                     text\n"
	    "  --table T          the CSV table: gpus (default), identities,\n"
	    "                     sessions, ticks (every GPU at every tick) or\n"
	    "                     processes (every process at every tick)\n"
	    "  -o, --output FILE  write to FILE (replaced atomically; never a\n"
	    "                     database read, a file beside one, or the\n"
	    "                     collector's PID file or log)\n"
	    "\n"
	    "Exit status: 0 success, 1 runtime failure (a damaged or unreadable\n"
	    "database among them), 2 bad usage or a --db that is missing, not a\n"
	    "gua database, or from a newer gua, or an -o FILE that is a file in\n"
	    "use.\n",
	.files = 1,
	.exec = report_exec,
};
