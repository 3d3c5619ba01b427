/*
 * status and stop: what the PID file's lock says about the collector.
 * The lock names the running collector; the number in the file is only
 * believed while the lock is held, so a stale file whose PID was reused
 * is reported as such and its process is never signalled.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "duration.h"
#include "identity.h"
#include "json.h"
#include "pidfile.h"
#include "store.h"
#include "util.h"
#include "version.h"

/* Of status --json (docs/gua-status.schema.json): bumped when a key
   changes meaning or goes away; new keys keep it. */
#define STATUS_JSON_SCHEMA_VERSION	1
#define STOP_TIMEOUT_MS		(10 * MS_PER_SECOND)
#define STOP_POLL_MS		20

/* LSB exit codes of status. */
#define LSB_RUNNING		0
#define LSB_DEAD_PIDFILE	1
#define LSB_NOT_RUNNING		3
#define LSB_UNKNOWN		4

/* Everything status reports; -1 or "" where it could not be told. */
struct status {
	int			 lsb;
	struct pidfile_info	 pf;
	char			 error[512];	/* why the state is unknown */
	int			 pid_alive;	/* stale: the PID still exists */
	int64_t			 since_ms;	/* collector's start */
	char			 db_error[512];	/* database unreadable: why */
	const char		*db_state;	/* "ok", "deleted", "replaced"
						   or NULL: unknown */
	struct store_summary	 sum;
	int			 have_sum;
	struct store_retention	 ret;		/* size, oldest raw tick and
						   hour; when have_sum */
};

/* Whether pid is a live process: a zombie has exited, only nobody has
   reaped it yet. */
static int
alive(pid_t pid)
{
	struct identity_stat ps;
	char path[32], buf[1024];
	ssize_t n;
	int fd;

	if (pid <= 0 || (kill(pid, 0) != 0 && errno != EPERM))
		return 0;
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 1;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	return !(n > 0 && identity_parse_stat(buf, (size_t)n, &ps) == 0 &&
	    ps.state == 'Z');
}

/* The start time of a process, from /proc; 0 when it cannot be read. */
static int64_t
process_start(pid_t pid)
{
	struct identity_cache *ids;
	struct identity id;
	int64_t start = 0;

	if (identity_cache_new(&ids, NULL, 0) != 0)
		return 0;
	identity_lookup(ids, (uint32_t)pid, &start, &id);
	identity_cache_free(ids);
	return start;
}

static void
gather(const char *pid_file, struct status *s)
{
	struct store *st;

	memset(s, 0, sizeof(*s));
	if (pidfile_inspect(pid_file, &s->pf, s->error, sizeof(s->error)) !=
	    0) {
		s->lsb = LSB_UNKNOWN;
		return;
	}
	if (s->pf.state == PIDFILE_ABSENT) {
		s->lsb = LSB_NOT_RUNNING;
		return;
	}
	if (s->pf.state == PIDFILE_STALE) {
		s->lsb = LSB_DEAD_PIDFILE;
		s->pid_alive = alive(s->pf.pid);
		return;
	}
	s->lsb = LSB_RUNNING;
	if (s->pf.holder > 0)
		s->since_ms = process_start(s->pf.holder);
	if (s->pf.db[0] == '\0') {
		util_strlcpy(s->db_error, "not yet in the PID file",
		    sizeof(s->db_error));
		return;
	}
	/* Is the file at the path the one the collector writes? */
	if (s->pf.db_ident) {
		struct stat now;

		if (lstat(s->pf.db, &now) != 0)
			s->db_state = errno == ENOENT ? "deleted" : NULL;
		else if ((unsigned long long)now.st_dev != s->pf.db_dev ||
		    (unsigned long long)now.st_ino != s->pf.db_ino)
			s->db_state = "replaced";
		else
			s->db_state = "ok";
	}
	if (store_open_read(&st, s->pf.db, s->db_error,
	    sizeof(s->db_error)) != 0)
		return;
	if (store_summary(st, &s->sum, s->db_error, sizeof(s->db_error)) == 0 &&
	    store_retention(st, &s->ret, s->db_error, sizeof(s->db_error)) == 0)
		s->have_sum = 1;
	store_close(st);
	if (s->since_ms == 0 && s->have_sum)
		s->since_ms = s->sum.run_started_ms;
}

static void
print_text(const char *pid_file, const struct status *s, int64_t now)
{
	char when[32], ago[64];

	switch (s->lsb) {
	case LSB_NOT_RUNNING:
		printf("gua is not running (no PID file %s)\n", pid_file);
		return;
	case LSB_DEAD_PIDFILE:
		if (s->pf.pid == 0)
			printf("gua is not running, but its PID file %s "
			    "remains (no PID in it)\n", pid_file);
		else
			printf("gua is not running, but its PID file %s "
			    "remains: PID %ld %s (it was not signalled)\n",
			    pid_file, (long)s->pf.pid, s->pid_alive ?
			    "is now another process" : "has exited");
		return;
	case LSB_UNKNOWN:
		printf("gua's state is unknown: %s\n", s->error);
		return;
	}
	if (s->pf.holder > 0)
		printf("gua is running (PID %ld)\n", (long)s->pf.holder);
	else
		printf("gua is running (in another PID namespace)\n");
	if (s->since_ms > 0) {
		util_format_rfc3339(s->since_ms, when, sizeof(when));
		util_format_elapsed(now - s->since_ms, ago, sizeof(ago));
		printf("  since      %s (up %s)\n", when, ago);
	}
	printf("  database   %s\n", s->pf.db[0] ? s->pf.db : "(unknown)");
	if (s->db_state != NULL && strcmp(s->db_state, "deleted") == 0)
		printf("  warning    the database was deleted: the collector "
		    "still writes the file that is gone, until its next tick "
		    "makes a new one there\n");
	else if (s->db_state != NULL && strcmp(s->db_state, "replaced") == 0)
		printf("  warning    the database was replaced: the file at "
		    "that path is not the one the collector writes, until its "
		    "next tick takes it up; what is shown below is that other "
		    "file\n");
	if (s->pf.db_renewed_ms > 0) {
		util_format_rfc3339(s->pf.db_renewed_ms, when, sizeof(when));
		printf("  warning    the database was deleted or replaced under "
		    "the collector at %s; since then it writes the file now at "
		    "that path (the ticks from before are not in it)\n", when);
	}
	if (!s->have_sum) {
		printf("  ticks      unknown: %s\n", s->db_error);
		return;
	}
	printf("  ticks      %lld written (%lld in this run)\n",
	    (long long)s->sum.ticks, (long long)s->sum.run_ticks);
	if (s->sum.ticks > 0) {
		util_format_rfc3339(s->sum.last_tick_ms, when, sizeof(when));
		printf("  last tick  %s (%.1f s ago)\n", when,
		    (double)(now - s->sum.last_tick_ms) / 1000);
	}
	cmd_print_retention(&s->ret);
}

static void
print_json(const char *pid_file, const struct status *s, int64_t now)
{
	static const char *const states[] = { "running", "dead", "",
		"not_running", "unknown" };
	struct json j;
	char when[32];

	json_init(&j, stdout, 2);
	json_object_begin(&j, NULL);
	json_int(&j, "schema_version", STATUS_JSON_SCHEMA_VERSION);
	json_string(&j, "generator", "gua " GUA_VERSION);
	json_string(&j, "state", states[s->lsb]);
	json_int(&j, "exit_code", s->lsb);
	json_string(&j, "pid_file", pid_file);
	if (s->lsb == LSB_RUNNING && s->pf.holder > 0)
		json_int(&j, "pid", s->pf.holder);
	else if (s->lsb == LSB_DEAD_PIDFILE && s->pf.pid > 0)
		json_int(&j, "pid", s->pf.pid);
	else
		json_null(&j, "pid");
	if (s->lsb == LSB_DEAD_PIDFILE)
		json_bool(&j, "pid_alive", s->pid_alive);
	else
		json_null(&j, "pid_alive");
	if (s->since_ms > 0) {
		util_format_rfc3339(s->since_ms, when, sizeof(when));
		json_string(&j, "started_at", when);
	} else {
		json_null(&j, "started_at");
	}
	json_string(&j, "database", s->lsb == LSB_RUNNING && s->pf.db[0] ?
	    s->pf.db : NULL);
	json_string(&j, "database_state", s->lsb == LSB_RUNNING ?
	    s->db_state : NULL);
	if (s->lsb == LSB_RUNNING && s->pf.db_renewed_ms > 0) {
		util_format_rfc3339(s->pf.db_renewed_ms, when, sizeof(when));
		json_string(&j, "database_renewed_at", when);
	} else {
		json_null(&j, "database_renewed_at");
	}
	if (s->have_sum) {
		json_int(&j, "ticks_written", s->sum.ticks);
		json_int(&j, "ticks_this_run", s->sum.run_ticks);
		json_int(&j, "interval_ms", s->sum.run_interval_ms);
	} else {
		json_null(&j, "ticks_written");
		json_null(&j, "ticks_this_run");
		json_null(&j, "interval_ms");
	}
	if (s->have_sum && s->sum.ticks > 0) {
		util_format_rfc3339(s->sum.last_tick_ms, when, sizeof(when));
		json_string(&j, "last_tick_at", when);
		json_int(&j, "last_tick_age_ms", now - s->sum.last_tick_ms);
	} else {
		json_null(&j, "last_tick_at");
		json_null(&j, "last_tick_age_ms");
	}
	cmd_json_retention(&j, s->have_sum ? &s->ret : NULL);
	json_string(&j, "error", s->lsb == LSB_UNKNOWN ? s->error :
	    s->lsb == LSB_RUNNING && !s->have_sum ? s->db_error : NULL);
	json_object_end(&j);
	json_finish(&j);
}

static int
status_exec(const struct cmd_entry *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "pid-file", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *pid_file = cmd_defaults()->pid_file;
	struct status s;
	int ch, json = 0;

	/* LSB: bad usage is "unknown" (4), not 2. */
	while ((ch = cmd_getopt(c, argc, argv, ":h", longopts)) != -1) {
		switch (ch) {
		case -3:
			return EXIT_OK;
		case 'p':
			pid_file = optarg;
			break;
		case 'j':
			json = 1;
			break;
		default:
			return LSB_UNKNOWN;
		}
	}
	if (optind < argc) {
		cmd_usage_error(c, "unexpected argument '%s'", argv[optind]);
		return LSB_UNKNOWN;
	}
	if (pid_file[0] == '\0') {
		cmd_usage_error(c, "--pid-file: empty path");
		return LSB_UNKNOWN;
	}
	gather(pid_file, &s);
	if (json)
		print_json(pid_file, &s, util_now_ms());
	else
		print_text(pid_file, &s, util_now_ms());
	return s.lsb;
}

#ifndef SYS_pidfd_open
#define SYS_pidfd_open		434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal	424
#endif

/*
 * SIGTERM to the collector that holds the lock, and to nobody else: a
 * pidfd pins the process, then the lock is checked again, so a PID reused
 * between the check and the signal cannot be hit. Without pidfds (old
 * kernels) it falls back to kill. Returns 0, or -1 with errno.
 */
static int
signal_holder(const char *pid_file, pid_t pid)
{
	struct pidfile_info again;
	int fd, rc;

	fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfile_inspect(pid_file, &again, NULL, 0) != 0 ||
	    again.state != PIDFILE_HELD || again.holder != pid) {
		if (fd >= 0)
			close(fd);
		errno = ESRCH;
		return -1;
	}
	if (fd < 0)
		return kill(pid, SIGTERM);
	rc = (int)syscall(SYS_pidfd_send_signal, fd, SIGTERM, NULL, 0);
	if (rc != 0 && errno == ENOSYS)
		rc = kill(pid, SIGTERM);
	close(fd);
	return rc;
}

static int
stop_exec(const struct cmd_entry *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "pid-file", required_argument, NULL, 'p' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *pid_file = cmd_defaults()->pid_file;
	int64_t timeout = STOP_TIMEOUT_MS, until;
	struct pidfile_info pf;
	struct timespec nap = { 0, STOP_POLL_MS * 1000000L };
	char err[512], waited[32];
	pid_t pid;
	int ch;

	while ((ch = cmd_getopt(c, argc, argv, ":h", longopts)) != -1) {
		switch (ch) {
		case -3:
			return EXIT_OK;
		case 'p':
			pid_file = optarg;
			break;
		case 't':
			if (cmd_duration(c, "--timeout", optarg, &timeout) != 0)
				return EXIT_USAGE;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cmd_usage_error(c, "unexpected argument '%s'",
		    argv[optind]);
	if (pid_file[0] == '\0')
		return cmd_usage_error(c, "--pid-file: empty path");
	if (pidfile_inspect(pid_file, &pf, err, sizeof(err)) != 0)
		return cmd_fail(c, "%s", err);
	if (pf.state == PIDFILE_ABSENT) {
		printf("gua is not running (no PID file %s)\n", pid_file);
		return EXIT_OK;
	}
	if (pf.state == PIDFILE_STALE) {
		printf("gua is not running; its stale PID file %s was left "
		    "alone and no process was signalled\n", pid_file);
		return EXIT_OK;
	}
	if ((pid = pf.holder) == 0)
		return cmd_fail(c, "%s is held by a process in another PID "
		    "namespace; stop it from there", pid_file);
	if (signal_holder(pid_file, pid) != 0) {
		if (errno == EPERM)
			return cmd_fail(c, "permission denied signalling the "
			    "collector (PID %ld): run stop as its user or "
			    "root", (long)pid);
		if (errno != ESRCH)
			return cmd_fail(c, "cannot signal the collector (PID "
			    "%ld): %s", (long)pid, strerror(errno));
	}
	until = util_mono_ms() + timeout;
	for (;;) {
		if (pidfile_inspect(pid_file, &pf, err, sizeof(err)) != 0)
			return cmd_fail(c, "%s", err);
		if (pf.state != PIDFILE_HELD || pf.holder != pid)
			break;
		if (util_mono_ms() >= until) {
			duration_format(timeout, waited, sizeof(waited));
			return cmd_fail(c, "the collector (PID %ld) is still "
			    "running after %s", (long)pid, waited);
		}
		nanosleep(&nap, NULL);
	}
	printf("gua stopped (PID %ld)\n", (long)pid);
	return EXIT_OK;
}

const struct cmd_entry cmd_status_entry = {
	.name = "status",
	.usage = "[--pid-file PATH] [--json]",
	.summary = "Show whether the collector runs, and what it wrote.",
	.help =
	    "  --pid-file PATH  the collector's PID file (default below)\n"
	    "  --json           the same as JSON\n"
	    "\n"
	    "A database deleted or replaced under the running collector is\n"
	    "said in a warning line (JSON: database_state, and\n"
	    "database_renewed_at once the collector took up a new file).\n"
	    "Exit status (LSB): 0 running, 1 not running but its PID file\n"
	    "remains, 3 not running, 4 unknown (including bad usage).\n",
	.files = 1,
	.exec = status_exec,
};

const struct cmd_entry cmd_stop_entry = {
	.name = "stop",
	.usage = "[--pid-file PATH] [--timeout D]",
	.summary = "Stop the collector and wait for it to exit.",
	.help =
	    "  --pid-file PATH  the collector's PID file (default below)\n"
	    "  --timeout D      how long to wait for the exit (default 10s)\n"
	    "\n"
	    "Sends SIGTERM only to the process holding the PID file's lock.\n"
	    "Exit status: 0 stopped or not running, 1 still running after the\n"
	    "timeout or not allowed to signal it, 2 bad usage.\n",
	.files = 1,
	.exec = stop_exec,
};
