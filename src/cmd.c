#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "duration.h"
#include "escape.h"
#include "json.h"
#include "store.h"
#include "outfile.h"
#include "pidfile.h"
#include "util.h"
#include "version.h"

static const struct cmd_entry *const cmd_table[] = {
	&cmd_doctor_entry,
	&cmd_daemon_entry,
	&cmd_start_entry,
	&cmd_status_entry,
	&cmd_stop_entry,
	&cmd_report_entry,
	&cmd_top_entry,
	&cmd_demo_entry,
	&cmd_import_entry,
	&cmd_backup_entry,
	&cmd_compact_entry,
	&cmd_version_entry,
	&cmd_help_entry,
};

const struct cmd_entry *
cmd_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_LEN(cmd_table); i++) {
		if (strcmp(cmd_table[i]->name, name) == 0 ||
		    (cmd_table[i]->alias != NULL &&
		    strcmp(cmd_table[i]->alias, name) == 0))
			return cmd_table[i];
	}
	return NULL;
}

/* The default files, as this user gets them. */
static void
print_defaults(FILE *f)
{
	const struct cmd_defaults *d = cmd_defaults();
	const char *paths[3] = { d->db, d->pid_file, d->log_file };
	char safe[PATH_MAX * 4];

	/* From the environment: escaped like any path in a message. */
	fprintf(f, "\nDefault files for this user (--db, --pid-file, "
	    "--log-file):\n");
	for (size_t i = 0; i < ARRAY_LEN(paths); i++) {
		escape_terminal(paths[i], safe, sizeof(safe), 0);
		fprintf(f, "  %s\n", safe);
	}
}

static void
print_overview(FILE *f)
{
	fprintf(f, "usage: gua COMMAND [options]\n\n"
	    "gua records NVIDIA GPU telemetry into SQLite and reports GPU time "
	    "as active,\nidle-held (memory held while the GPU computes "
	    "nothing) and truly idle.\n\ncommands:\n");
	for (size_t i = 0; i < ARRAY_LEN(cmd_table); i++)
		fprintf(f, "  %-8s %s\n", cmd_table[i]->name,
		    cmd_table[i]->summary);
	fprintf(f, "\n'gua help COMMAND' or 'gua COMMAND --help' shows a "
	    "command's options.\n'man gua' has the whole manual.\n");
	print_defaults(f);
}

void
cmd_print_help(const struct cmd_entry *c)
{
	printf("usage: gua %s%s%s\n", c->name, c->usage[0] ? " " : "",
	    c->usage);
	if (c->alias != NULL)
		printf("       (also: gua %s)\n", c->alias);
	printf("\n%s\n", c->summary);
	if (c->help[0] != '\0')
		printf("\n%s", c->help);
	if (c->files) {
		fflush(stdout);
		print_defaults(stdout);
	}
}

/*
 * Messages quote what users typed and paths they gave: escaped as a whole,
 * so a value with a newline or an escape sequence still makes one line.
 */
static void
vmessage(const struct cmd_entry *c, const char *prefix, const char *fmt,
    va_list ap)
{
	char msg[2048], safe[4096];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	escape_terminal(msg, safe, sizeof(safe), 0);
	fprintf(stderr, "gua%s%s: %s%s\n", c ? " " : "", c ? c->name : "",
	    prefix, safe);
}

int
cmd_usage_error(const struct cmd_entry *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(c, "", fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try 'gua %s --help' for the options.\n", c->name);
	return EXIT_USAGE;
}

int
cmd_fail(const struct cmd_entry *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(c, "", fmt, ap);
	va_end(ap);
	return EXIT_FAIL;
}

int
cmd_db_error(const struct cmd_entry *c, int rc, const char *err)
{
	if (rc == STORE_NOT_GUA)
		return cmd_usage_error(c, "%s", err);
	return cmd_fail(c, "%s", err);
}

void
cmd_warn(const struct cmd_entry *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(c, "warning: ", fmt, ap);
	va_end(ap);
}

/*
 * Whether option ch takes a value; its name ("--gpu", or "-o" for a short
 * option alone) in name.
 */
static int
takes_value(int ch, const char *shortopts, const struct option *longopts,
    char *name, size_t len)
{
	const char *p;

	for (; longopts->name != NULL; longopts++)
		if (longopts->flag == NULL && longopts->val == ch) {
			snprintf(name, len, "--%s", longopts->name);
			return longopts->has_arg == required_argument;
		}
	snprintf(name, len, "-%c", ch);
	p = ch > 0 && ch != ':' ? strchr(shortopts, ch) : NULL;
	return p != NULL && p[1] == ':';
}

int
cmd_getopt(const struct cmd_entry *c, int argc, char **argv,
    const char *shortopts, const struct option *longopts)
{
	/* The options of this parse that took a value already. */
	static unsigned char seen[256];
	char name[64];
	int ch;

	if (optind == 0)
		memset(seen, 0, sizeof(seen));
	opterr = 0;
	ch = getopt_long(argc, argv, shortopts, longopts, NULL);
	if (ch == 'h') {
		cmd_print_help(c);
		return -3;
	}
	/*
	 * "--gpu 0 --gpu 1" would otherwise mean the last one, silently:
	 * an option of one value is refused the second time, unless the
	 * command takes it repeatedly (report's --db).
	 */
	if (ch > 0 && ch < 256 && ch != '?' && ch != ':' &&
	    takes_value(ch, shortopts, longopts, name, sizeof(name)) &&
	    (c->repeatable == NULL || strchr(c->repeatable, ch) == NULL)) {
		if (seen[ch]) {
			cmd_usage_error(c, "option '%s' given twice; it takes "
			    "one value", name);
			return -2;
		}
		seen[ch] = 1;
	}
	if (ch == '?' || ch == ':') {
		char text[64];
		const char *arg = argv[optind - 1];
		size_t len = strcspn(arg, "=");

		/* An unknown letter in a cluster ("-xz") is named alone. */
		if (ch == '?' && optopt != 0 && arg[1] != '-')
			snprintf(text, sizeof(text), "-%c", optopt);
		else
			snprintf(text, sizeof(text), "%.*s",
			    (int)(len < 48 ? len : 48), arg);
		if (ch == ':')
			cmd_usage_error(c, "option '%s' needs a value", text);
		else if (optopt != 0 && arg[1] == '-')
			cmd_usage_error(c, "option '%s' takes no value", text);
		else
			cmd_usage_error(c, "unknown option '%s'", text);
		return -2;
	}
	return ch;
}

int
cmd_duration(const struct cmd_entry *c, const char *option, const char *value,
    int64_t *ms)
{
	char err[256];

	if (duration_parse(value, ms, err, sizeof(err)) != 0) {
		cmd_usage_error(c, "%s: %s", option, err);
		return -1;
	}
	return 0;
}

int
cmd_now(const struct cmd_entry *c, int64_t *now_ms)
{
	const char *env = getenv("GUA_NOW");

	if (env == NULL || env[0] == '\0') {
		*now_ms = util_now_ms();
		return 0;
	}
	if (util_parse_rfc3339(env, now_ms) != 0) {
		cmd_usage_error(c, "GUA_NOW: '%s' is not an RFC 3339 time "
		    "(like 2026-11-25T08:00:00Z)", env);
		return -1;
	}
	return 0;
}

const char *
cmd_nvml_library(const char *option)
{
	const char *env = getenv("GUA_NVML_LIBRARY");

	if (option != NULL)
		return option;
	return env != NULL && env[0] != '\0' ? env : NULL;
}

int
cmd_colour(FILE *f)
{
	const char *no = getenv("NO_COLOR"), *term = getenv("TERM");

	if (no != NULL && no[0] != '\0')
		return 0;
	if (term != NULL && strcmp(term, "dumb") == 0)
		return 0;
	return isatty(fileno(f));
}

static int
version_exec(const struct cmd_entry *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	while ((ch = cmd_getopt(c, argc, argv, ":h", longopts)) != -1) {
		if (ch == -3)
			return EXIT_OK;
		return EXIT_USAGE;
	}
	if (optind < argc)
		return cmd_usage_error(c, "unexpected argument '%s'",
		    argv[optind]);
	printf("gua %s\n", GUA_VERSION);
	return EXIT_OK;
}

const struct cmd_entry cmd_version_entry = {
	.name = "version",
	.usage = "",
	.summary = "Print gua's version.",
	.help = "",
	.exec = version_exec,
};

static int
help_exec(const struct cmd_entry *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const struct cmd_entry *target;
	int ch;

	while ((ch = cmd_getopt(c, argc, argv, ":h", longopts)) != -1) {
		if (ch == -3)
			return EXIT_OK;
		return EXIT_USAGE;
	}
	if (optind == argc) {
		print_overview(stdout);
		return EXIT_OK;
	}
	if (optind + 1 < argc)
		return cmd_usage_error(c, "unexpected argument '%s'",
		    argv[optind + 1]);
	if ((target = cmd_find(argv[optind])) == NULL) {
		cmd_fail(c, "unknown command '%s'", argv[optind]);
		fputs("Try 'gua help' for the list of commands.\n", stderr);
		return EXIT_USAGE;
	}
	cmd_print_help(target);
	return EXIT_OK;
}

const struct cmd_entry cmd_help_entry = {
	.name = "help",
	.usage = "[COMMAND]",
	.summary = "Show the commands, or one command's options.",
	.help = "",
	.exec = help_exec,
};

/*
 * What a command printed must have reached its standard output: "gua help
 * > /dev/full" fails. A command that failed already said why.
 */
static int
flushed(const struct cmd_entry *c, int rc)
{
	int failed;

	errno = 0;
	failed = fflush(stdout) != 0 || ferror(stdout);
	if (!failed || rc != EXIT_OK)
		return rc;
	fprintf(stderr, "gua%s%s: write error%s%s\n", c ? " " : "",
	    c ? c->name : "", errno ? ": " : "", errno ? strerror(errno) : "");
	/* status's 1 would mean "dead, PID file left" (LSB): 4, unknown. */
	return c == &cmd_status_entry ? 4 : EXIT_FAIL;
}

int
cmd_main(int argc, char **argv)
{
	const struct cmd_entry *c;

	if (argc < 2) {
		print_overview(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)
		return flushed(&cmd_version_entry, cmd_version_entry.exec(
		    &cmd_version_entry, 1, argv + 1));
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return flushed(&cmd_help_entry, cmd_help_entry.exec(
		    &cmd_help_entry, 1, argv + 1));
	if ((c = cmd_find(argv[1])) == NULL) {
		char safe[256];

		escape_terminal(argv[1], safe, sizeof(safe), 64);
		fprintf(stderr, "gua: unknown command '%s'\n"
		    "Try 'gua help' for the list of commands.\n", safe);
		return EXIT_USAGE;
	}
	optind = 0;	/* GNU: reinitialise for this argv */
	return flushed(c, c->exec(c, argc - 1, argv + 1));
}

/* An absolute directory from the environment, or NULL. */
static const char *
env_dir(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && v[0] == '/' ? v : NULL;
}

/* dir/name into out, or "" when it does not fit. */
static void
join(char *out, size_t len, const char *dir, const char *name)
{
	if ((size_t)snprintf(out, len, "%s%s%s", dir,
	    dir[strlen(dir) - 1] == '/' ? "" : "/", name) >= len)
		out[0] = '\0';
}

const struct cmd_defaults *
cmd_defaults(void)
{
	static struct cmd_defaults d;
	static int done;
	char state[PATH_MAX];
	const char *home, *runtime;
	struct passwd *pw;

	if (done)
		return &d;
	done = 1;
	if (geteuid() == 0) {
		util_strlcpy(d.db, "/var/lib/gua/gua.db", sizeof(d.db));
		util_strlcpy(d.pid_file, "/run/gua/gua.pid", sizeof(d.pid_file));
		util_strlcpy(d.log_file, "/var/log/gua.log", sizeof(d.log_file));
		return &d;
	}
	/* The XDG base directories: state that outlives a reboot. */
	if (env_dir("XDG_STATE_HOME") != NULL)
		join(state, sizeof(state), env_dir("XDG_STATE_HOME"), "gua");
	else {
		home = env_dir("HOME");
		if (home == NULL && (pw = getpwuid(geteuid())) != NULL &&
		    pw->pw_dir != NULL && pw->pw_dir[0] == '/')
			home = pw->pw_dir;
		join(state, sizeof(state), home ? home : "/",
		    ".local/state/gua");
	}
	join(d.db, sizeof(d.db), state, "gua.db");
	join(d.log_file, sizeof(d.log_file), state, "gua.log");
	/* The PID file lives as long as the collector: the runtime
	   directory, else beside the database, where only this user
	   writes. */
	runtime = env_dir("XDG_RUNTIME_DIR");
	join(d.pid_file, sizeof(d.pid_file), runtime ? runtime : state,
	    "gua.pid");
	return &d;
}

int
cmd_make_default_dir(const char *file, char *err, size_t errlen)
{
	char dir[PATH_MAX], *slash;
	struct stat st;
	int e;

	util_strlcpy(dir, file, sizeof(dir));
	if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
		return 0;
	*slash = '\0';
	/* Only gua's own directory, never $XDG_RUNTIME_DIR or /var/log. */
	slash = strrchr(dir, '/');
	if (strcmp(slash + 1, "gua") != 0)
		return 0;
	/* mkdir makes only the last component and never follows a link
	   there; an existing one is used as it is. */
	if (mkdir(dir, 0750) == 0)
		return 0;
	e = errno;
	if (e == EEXIST && stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	if (e == EEXIST)
		return util_err(err, errlen, "%s: exists and is not a "
		    "directory", dir);
	if (e == ENOENT) {
		*slash = '\0';
		return util_err(err, errlen, "cannot create %s/gua: %s does "
		    "not exist (create it, or give --db, --pid-file and "
		    "--log-file)", dir, dir[0] ? dir : "/");
	}
	return util_err(err, errlen, "cannot create %s: %s", dir, strerror(e));
}

/* A PID file and the database and log it names. */
static int
guard_pid_file(struct outfile_guard *g, const char *pid_file)
{
	struct pidfile_info pf;

	if (outfile_guard_file(g, pid_file, "the collector's PID file") != 0)
		return -1;
	/* Kept whether or not the collector still runs: its database
	   outlives it. */
	if (pidfile_inspect(pid_file, &pf, NULL, 0) != 0 ||
	    pf.state == PIDFILE_ABSENT)
		return 0;
	if (pf.db[0] != '\0' && outfile_guard_db(g, pf.db,
	    "the database the collector writes") != 0)
		return -1;
	if (pf.log[0] != '\0' && outfile_guard_file(g, pf.log,
	    "the collector's log") != 0)
		return -1;
	return 0;
}

int
cmd_guard_collector(struct outfile_guard *g, const char *pid_file)
{
	const struct cmd_defaults *d = cmd_defaults();
	struct stat st;

	if (pid_file != NULL && guard_pid_file(g, pid_file) != 0)
		return -1;
	if ((pid_file == NULL || !util_same_file(pid_file, d->pid_file)) &&
	    guard_pid_file(g, d->pid_file) != 0)
		return -1;
	if (lstat(d->db, &st) == 0 &&
	    outfile_guard_db(g, d->db, "the default database") != 0)
		return -1;
	if (lstat(d->log_file, &st) == 0 &&
	    outfile_guard_file(g, d->log_file, "the collector's default log") !=
	    0)
		return -1;
	return 0;
}

/* An instant as RFC 3339 into buf, or "none" for 0. */
static const char *
when_or_none(int64_t ms, char *buf, size_t len)
{
	if (ms == 0)
		util_strlcpy(buf, "none", len);
	else
		util_format_rfc3339(ms, buf, len);
	return buf;
}

void
cmd_format_retention(const struct store_retention *r, char *buf, size_t len)
{
	char raw[40], hour[40], before[40];

	snprintf(buf, len, "%.1f MB; oldest raw tick %s, oldest hour %s%s%s%s",
	    (double)r->file_bytes / 1e6, when_or_none(r->oldest_raw_ms, raw,
	    sizeof(raw)), when_or_none(r->oldest_hour_ms, hour, sizeof(hour)),
	    r->raw_from_ms ? " (hourly only before " : "",
	    r->raw_from_ms ? when_or_none(r->raw_from_ms, before,
	    sizeof(before)) : "", r->raw_from_ms ? ")" : "");
}

void
cmd_print_retention(const struct store_retention *r)
{
	char raw[40], hour[40], before[40];

	printf("  size       %.1f MB\n", (double)r->file_bytes / 1e6);
	printf("  raw ticks  from %s\n", when_or_none(r->oldest_raw_ms, raw,
	    sizeof(raw)));
	printf("  hours      from %s%s%s%s\n", when_or_none(r->oldest_hour_ms,
	    hour, sizeof(hour)), r->raw_from_ms ? " (hourly only before " :
	    "", r->raw_from_ms ? when_or_none(r->raw_from_ms, before,
	    sizeof(before)) : "", r->raw_from_ms ? ")" : "");
}

/* A time member, null for 0. */
static void
json_when(struct json *j, const char *key, int64_t ms)
{
	char buf[40];

	if (ms == 0) {
		json_null(j, key);
		return;
	}
	util_format_rfc3339(ms, buf, sizeof(buf));
	json_string(j, key, buf);
}

void
cmd_json_retention(struct json *j, const struct store_retention *r)
{
	if (r == NULL) {
		json_null(j, "database_bytes");
		json_null(j, "oldest_raw_tick_at");
		json_null(j, "oldest_hour_at");
		json_null(j, "hourly_only_before");
		return;
	}
	json_int(j, "database_bytes", r->file_bytes);
	json_when(j, "oldest_raw_tick_at", r->oldest_raw_ms);
	json_when(j, "oldest_hour_at", r->oldest_hour_ms);
	json_when(j, "hourly_only_before", r->raw_from_ms);
}
