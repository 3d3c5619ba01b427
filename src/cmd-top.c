/*
 * top: the running collector's database as a live view, like top(1): each
 * GPU's state at the newest tick, and who holds which card, idle-held
 * holders first with how long they have been. Read-only; needs no root.
 *
 * Whether a collector writes the database: the PID file (--pid-file, else
 * the default one) is held by a collector whose database is this file;
 * else, for a collector whose PID file this user cannot see (root's),
 * the newest tick is at most two intervals and 5 s old. Otherwise the
 * view shows the last tick with its age and says how to start one.
 */
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "pidfile.h"
#include "store.h"
#include "top-print.h"
#include "top-screen.h"
#include "top.h"
#include "util.h"

/* How often the full screen looks for a new tick. */
#define POLL_MS		1000
/* A tick this late past its interval means nobody writes it any more. */
#define FRESH_SLACK_MS	5000

struct top_args {
	const char	*db;
	const char	*pid_file;
	int		 once;
	int		 json;
	/* How to start a collector on db ("gua start --db X"); "" when
	   none can be started here (see advise). */
	char		 hint[2 * PATH_MAX + 64];
};

/*
 * Once the database is read: a collector refuses an existing database
 * without --append, and one recorded on another host at all, so the
 * advice is what would work here, or none.
 */
static void
advise(struct top_args *a, const struct top_view *v)
{
	char host[256];

	util_hostname(host, sizeof(host));
	if (strcmp(host, v->host) != 0)
		a->hint[0] = '\0';
	else if (strlen(a->hint) + sizeof(" --append") <= sizeof(a->hint))
		strcat(a->hint, " --append");
}

/* The advice after "no collector is writing it": into buf. */
static const char *
advice(const struct top_args *a, const struct top_view *v, char *buf,
    size_t len)
{
	if (a->hint[0] != '\0')
		snprintf(buf, len, "start one with '%s'", a->hint);
	else
		snprintf(buf, len, "it was recorded on host '%s': only a "
		    "collector there can write it", v->host);
	return buf;
}

/* Whether a collector is writing args->db, into st. */
static void
find_collector(const struct top_args *a, const struct top_view *v,
    struct top_status *st)
{
	struct pidfile_info pf;

	st->running = 0;
	st->pid = 0;
	if (pidfile_inspect(a->pid_file, &pf, NULL, 0) == 0 &&
	    pf.state == PIDFILE_HELD && pf.db[0] != '\0' &&
	    util_same_file(pf.db, a->db)) {
		st->running = 1;
		st->pid = pf.holder;
		return;
	}
	if (v->have_tick && v->interval_ms > 0 &&
	    st->now_ms - v->tick_ms <= 2 * v->interval_ms + FRESH_SLACK_MS)
		st->running = 1;
}

/*
 * The view and the collector's state, read afresh: the database is
 * opened for each read, so a collector that starts or stops meanwhile
 * (which changes how a reader must open it) is followed. Returns EXIT_OK,
 * or an exit status with err set.
 */
static int
load(const struct top_args *a, struct top_view *v, struct top_status *st,
    char *err, size_t errlen)
{
	struct store *s;
	struct stat sb;
	int rc;

	if (lstat(a->db, &sb) != 0 && errno == ENOENT) {
		util_err(err, errlen, "no database at %s: no collector is "
		    "writing it; start one with '%s'", a->db, a->hint);
		return EXIT_FAIL;
	}
	if ((rc = store_open_read(&s, a->db, err, errlen)) != 0)
		return rc == STORE_NOT_GUA ? EXIT_USAGE : EXIT_FAIL;
	rc = top_read(s, v, err, errlen);
	store_close(s);
	if (rc != 0)
		return EXIT_FAIL;
	find_collector(a, v, st);
	return EXIT_OK;
}

/* The newest tick's key, for the full screen's polls; -1 on failure. */
static int64_t
newest(const char *db)
{
	struct store *s;
	int64_t ticks = -1;

	if (store_open_read(&s, db, NULL, 0) != 0)
		return -1;
	if (top_newest(s, &ticks, NULL, 0) != 0)
		ticks = -1;
	store_close(s);
	return ticks;
}

static const char *
colour_of(enum top_line_kind kind)
{
	switch (kind) {
	case TOP_LINE_TITLE:
		return "\033[1m";
	case TOP_LINE_WARN:
		return "\033[1;33m";
	case TOP_LINE_ACTIVE:
		return "\033[32m";
	case TOP_LINE_IDLE_HELD:
		return "\033[1;31m";
	case TOP_LINE_UNKNOWN:
		return "\033[35m";
	default:
		return NULL;
	}
}

/* --once: the screen as text, cut to a terminal's width. */
static int
print_once(const struct top_view *v, const struct top_status *st)
{
	struct top_line *l;
	struct winsize ws;
	size_t n, width = 0;
	int colour = cmd_colour(stdout);

	if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ,
	    &ws) == 0 && ws.ws_col > 0)
		width = ws.ws_col;
	if (top_lines(v, st, width, &l, &n) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const char *on = colour ? colour_of(l[i].kind) : NULL;

		if (on != NULL)
			printf("%s%s\033[0m\n", on, l[i].text);
		else
			printf("%s\n", l[i].text);
	}
	top_lines_free(l, n);
	return 0;
}

/* The full screen until q: redrawn each second, read again on a tick. */
static int
run_screen(const struct cmd_entry *c, const struct top_args *a,
    struct top_view *v, struct top_status *st)
{
	char err[PATH_MAX + 512], footer[PATH_MAX + 600];
	int64_t shown = v->ticks, next_poll = util_mono_ms() + POLL_MS;
	int fresh_now = getenv("GUA_NOW") == NULL || !getenv("GUA_NOW")[0];

	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
		return cmd_usage_error(c, "the live view needs a terminal; "
		    "--once prints one screen");
	if (top_screen_open(cmd_colour(stdout), err, sizeof(err)) != 0)
		return cmd_fail(c, "%s", err);
	util_strlcpy(footer, "q: quit", sizeof(footer));
	for (;;) {
		struct top_line *l;
		size_t n;
		enum top_key k;

		if (top_lines(v, st, top_screen_width(), &l, &n) != 0) {
			top_screen_close();
			return cmd_fail(c, "out of memory");
		}
		top_screen_draw(l, n, footer);
		top_lines_free(l, n);
		k = top_screen_key((int)(next_poll - util_mono_ms() > 0 ?
		    next_poll - util_mono_ms() : 0));
		if (k == TOP_KEY_QUIT)
			break;
		if (k == TOP_KEY_RESIZE || util_mono_ms() < next_poll)
			continue;
		next_poll = util_mono_ms() + POLL_MS;
		if (fresh_now)
			st->now_ms = util_now_ms();
		/* Only a new tick (or the collector's coming and going) is
		   worth reading the ticks again for. */
		{
			int was = st->running;
			int64_t ticks = newest(a->db);

			find_collector(a, v, st);
			if (ticks == shown && st->running == was)
				continue;
		}
		{
			struct top_view nv;
			int rc = load(a, &nv, st, err, sizeof(err));

			if (rc != EXIT_OK) {
				/* Keep the last view; say what went wrong. */
				snprintf(footer, sizeof(footer), "q: quit   %s",
				    err);
				continue;
			}
			top_view_free(v);
			*v = nv;
			shown = v->ticks;
			util_strlcpy(footer, "q: quit", sizeof(footer));
		}
	}
	top_screen_close();
	return EXIT_OK;
}

static int
top_exec(const struct cmd_entry *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "pid-file", required_argument, NULL, 'p' },
		{ "once", no_argument, NULL, '1' },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct top_args a;
	struct top_view v;
	struct top_status st;
	char err[PATH_MAX + 512];
	char say[2 * PATH_MAX + 512];
	int ch, rc, db_given = 0, pid_given = 0;

	memset(&a, 0, sizeof(a));
	a.db = cmd_defaults()->db;
	a.pid_file = cmd_defaults()->pid_file;
	while ((ch = cmd_getopt(c, argc, argv, ":h", longopts)) != -1) {
		switch (ch) {
		case -3:
			return EXIT_OK;
		case 'd':
			a.db = optarg;
			db_given = 1;
			break;
		case 'p':
			a.pid_file = optarg;
			pid_given = 1;
			break;
		case '1':
			a.once = 1;
			break;
		case 'f':
			if (strcmp(optarg, "json") == 0)
				a.json = 1;
			else if (strcmp(optarg, "text") != 0)
				return cmd_usage_error(c, "--format: '%s' is "
				    "not text or json", optarg);
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cmd_usage_error(c, "unexpected argument '%s'",
		    argv[optind]);
	if (a.db[0] == '\0')
		return cmd_usage_error(c, "--db: empty path");
	if (a.pid_file[0] == '\0')
		return cmd_usage_error(c, "--pid-file: empty path");
	if (a.json && !a.once)
		return cmd_usage_error(c, "--format json needs --once (the "
		    "live view is for people)");
	/* The paths as given: top then watches what it starts. */
	snprintf(a.hint, sizeof(a.hint), "gua start%s%s%s%s",
	    db_given ? " --db " : "", db_given ? a.db : "",
	    pid_given ? " --pid-file " : "", pid_given ? a.pid_file : "");
	memset(&st, 0, sizeof(st));
	st.db = a.db;
	st.start_hint = a.hint;
	if (cmd_now(c, &st.now_ms) != 0)
		return EXIT_USAGE;
	if ((rc = load(&a, &v, &st, err, sizeof(err))) != EXIT_OK)
		return rc == EXIT_USAGE ? cmd_db_error(c, STORE_NOT_GUA, err) :
		    cmd_fail(c, "%s", err);
	advise(&a, &v);
	if (!st.running && !v.have_tick) {
		advice(&a, &v, say, sizeof(say));
		top_view_free(&v);
		return cmd_fail(c, "no collector is writing %s and it holds "
		    "no tick yet; %s", a.db, say);
	}
	if (!a.once) {
		rc = run_screen(c, &a, &v, &st);
		top_view_free(&v);
		return rc;
	}
	rc = a.json ? top_print_json(stdout, &v, &st) : print_once(&v, &st);
	if (rc != 0) {
		top_view_free(&v);
		return cmd_fail(c, "out of memory");
	}
	if (!st.running) {
		char age[48];

		top_format_age(st.now_ms - v.tick_ms, age, sizeof(age));
		advice(&a, &v, say, sizeof(say));
		top_view_free(&v);
		fflush(stdout);
		return cmd_fail(c, "no collector is writing %s (last tick %s); "
		    "%s", a.db, age, say);
	}
	top_view_free(&v);
	return EXIT_OK;
}

const struct cmd_entry cmd_top_entry = {
	.name = "top",
	.usage = "[--db PATH] [--pid-file PATH] [--once] "
	    "[--format text|json]",
	.summary = "Watch the GPUs and who holds them idle, live.",
	.help =
	    "  --db PATH        the collector's database (default below)\n"
	    "  --pid-file PATH  the collector's PID file (default below)\n"
	    "  --once           print one screen as text and exit\n"
	    "  --format F       with --once: text (default) or json\n"
	    "\n"
	    "A full-screen view of the newest tick, redrawn when a new one\n"
	    "comes; q quits. Per GPU its utilization, memory held and state;\n"
	    "per process its user, where it runs, memory, own SM\n"
	    "utilization, state and how long it has been idle-held,\n"
	    "idle-held holders first, longest first. Read-only.\n"
	    "A collector writes the database when it holds the PID file and\n"
	    "names this database, or when the newest tick is at most two\n"
	    "intervals (and 5 s) old. When none does, the last tick is\n"
	    "shown with its age and how to start one.\n"
	    "Exit status: 0 shown; 1 no database, no collector writing it\n"
	    "(--once prints the last tick first), or it cannot be read;\n"
	    "2 bad usage (--format json without --once, no terminal\n"
	    "without --once, a file that is no gua database).\n",
	.files = 1,
	.exec = top_exec,
};
