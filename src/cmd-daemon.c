/*
 * daemon / start: the collector. Samples NVML every interval on absolute
 * monotonic deadlines and writes each tick in one transaction.
 *
 * In the background (the default) the command double-forks; the collector
 * tells the waiting command through a pipe that it runs (after NVML is up
 * and its first tick is written) or why it could not start, and the
 * command exits 0 or 1 accordingly. Start-up failures leave no database
 * and no PID file behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd.h"
#include "collector.h"
#include "duration.h"
#include "export-prom.h"
#include "http-metrics.h"
#include "log.h"
#include "outfile.h"
#include "pidfile.h"
#include "source.h"
#include "store.h"
#include "util.h"

#define DEFAULT_INTERVAL_MS	(30 * MS_PER_SECOND)

struct daemon_args {
	char		 db[PATH_MAX];		/* absolute */
	char		 pid_file[PATH_MAX];	/* absolute */
	char		 log_file[PATH_MAX];	/* absolute */
	int		 db_given;		/* --db was given */
	int		 pid_given;		/* --pid-file was given */
	int		 log_given;		/* --log-file was given */
	int64_t		 interval_ms;
	int		 foreground;
	int		 append;
	const char	*nvml_library;		/* NULL: NVML's usual names */
	char		 nvml_path[PATH_MAX];	/* a library path made absolute */
	char		 textfile_dir[PATH_MAX]; /* absolute; "" for none */
	int64_t		 keep_raw_ms;		/* --keep-raw; 0: keep all */
	const char	*listen;		/* --listen ADDR:PORT; NULL */
	enum export_prom_by metrics_by;		/* --metrics-by */
	int		 metrics_by_given;
	char		 notify_exec[PATH_MAX];	/* absolute; "" for none */
	int64_t		 notify_after_ms;	/* 0: not given */
	int64_t		 notify_repeat_ms;	/* 0: not given */
};



static volatile sig_atomic_t got_stop;	/* SIGTERM or SIGINT: which one */
static volatile sig_atomic_t got_hup;

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		got_hup = 1;
	else
		got_stop = sig;
}

/* A notification hook ended: nothing to note, the wake-up is the point
   (the loop reaps hooks whenever it wakes). */
static void
on_child(int sig)
{
	(void)sig;
}

/* path made absolute against the working directory (the collector
   leaves it for /). */
static int
absolute(const struct cmd_entry *c, const char *option, const char *path,
    char *out, size_t len)
{
	char cwd[PATH_MAX];

	if (path[0] == '\0')
		return cmd_usage_error(c, "%s: empty path", option);
	if (path[0] == '/') {
		if (util_strlcpy(out, path, len) >= len)
			return cmd_usage_error(c, "%s: path too long", option);
		return 0;
	}
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return cmd_usage_error(c, "%s: cannot resolve '%s': %s",
		    option, path, strerror(errno));
	if ((size_t)snprintf(out, len, "%s/%s", strcmp(cwd, "/") ? cwd : "",
	    path) >= len)
		return cmd_usage_error(c, "%s: path too long", option);
	return 0;
}

/*
 * The textfile is replaced every tick: never over one of the collector's
 * own files, nor over another collector's (by the default PID file).
 */
static int
check_textfile(const struct cmd_entry *c, const struct daemon_args *a)
{
	struct outfile_guard g;
	char prom[PATH_MAX], err[PATH_MAX * 2 + 200];
	int rc;

	if ((size_t)snprintf(prom, sizeof(prom), "%s/%s", a->textfile_dir,
	    EXPORT_PROM_FILE) >= sizeof(prom))
		return cmd_usage_error(c, "--textfile-dir: path too long");
	outfile_guard_init(&g);
	if (outfile_guard_db(&g, a->db, "the --db of this collector") != 0 ||
	    outfile_guard_file(&g, a->pid_file, "the --pid-file of this "
	    "collector") != 0 ||
	    outfile_guard_file(&g, a->log_file, "the --log-file of this "
	    "collector") != 0 ||
	    cmd_guard_collector(&g, a->pid_file) != 0) {
		outfile_guard_free(&g);
		return cmd_fail(c, "out of memory");
	}
	rc = outfile_guard_check(&g, prom, err, sizeof(err));
	outfile_guard_free(&g);
	if (rc == 0)
		rc = outfile_check_target(prom, err, sizeof(err));
	if (rc != 0)
		return cmd_usage_error(c, "--textfile-dir: %s", err);
	return EXIT_OK;
}

/*
 * A collector running as root runs its hook as root: the program, and
 * every directory above it, must be root's and writable by no one else,
 * or whoever may change them runs what they like as root. This checks the
 * directories above path.
 */
static int
check_root_dirs(const struct cmd_entry *c, const char *path)
{
	char dir[PATH_MAX];
	struct stat ds;
	char *slash;

	util_strlcpy(dir, path, sizeof(dir));
	while ((slash = strrchr(dir, '/')) != NULL) {
		*slash = '\0';
		if (stat(dir[0] != '\0' ? dir : "/", &ds) != 0)
			return cmd_usage_error(c, "--notify-exec %s: %s: %s",
			    path, dir[0] != '\0' ? dir : "/",
			    strerror(errno));
		/* Sticky /tmp lets others add files, not replace root's. */
		if (ds.st_uid != 0 || ((ds.st_mode & (S_IWGRP | S_IWOTH)) &&
		    !(ds.st_mode & S_ISVTX)))
			return cmd_usage_error(c, "--notify-exec %s: run as "
			    "root, its directory %s must be root's and "
			    "writable by root alone", path,
			    dir[0] != '\0' ? dir : "/");
		if (dir[0] == '\0')
			break;
	}
	return EXIT_OK;
}

/* The same for the program, its directories as named and as resolved
   (a link on the way is only as safe as the directory it is in). */
static int
check_root_hook(const struct cmd_entry *c, const char *path,
    const struct stat *st)
{
	char real[PATH_MAX];

	if (st->st_uid != 0 || (st->st_mode & (S_IWGRP | S_IWOTH)))
		return cmd_usage_error(c, "--notify-exec %s: run as root, it "
		    "must be root's and writable by root alone", path);
	if (realpath(path, real) == NULL)
		return cmd_usage_error(c, "--notify-exec %s: %s", path,
		    strerror(errno));
	if (check_root_dirs(c, path) != EXIT_OK ||
	    check_root_dirs(c, real) != EXIT_OK)
		return EXIT_USAGE;
	return EXIT_OK;
}

/*
 * The notification options: --notify-exec and --notify-after together,
 * --notify-repeat only with them, durations above 0, and a program that
 * is a regular file this user may run (a hook that cannot run would
 * otherwise be found out hours later, in the log).
 */
static int
check_notify(const struct cmd_entry *c, struct daemon_args *a,
    const char *prog)
{
	struct stat st;

	if (prog != NULL && a->notify_after_ms <= 0)
		return cmd_usage_error(c, "--notify-exec needs --notify-after: "
		    "the two are given together");
	if (prog == NULL && a->notify_after_ms > 0)
		return cmd_usage_error(c, "--notify-after needs --notify-exec: "
		    "the two are given together");
	if (prog == NULL && a->notify_repeat_ms > 0)
		return cmd_usage_error(c, "--notify-repeat needs --notify-exec "
		    "and --notify-after");
	if (prog == NULL)
		return EXIT_OK;
	if (absolute(c, "--notify-exec", prog, a->notify_exec,
	    sizeof(a->notify_exec)) != 0)
		return EXIT_USAGE;
	if (stat(a->notify_exec, &st) != 0)
		return cmd_usage_error(c, "--notify-exec %s: %s",
		    a->notify_exec, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return cmd_usage_error(c, "--notify-exec %s: not a regular "
		    "file", a->notify_exec);
	if (access(a->notify_exec, X_OK) != 0)
		return cmd_usage_error(c, "--notify-exec %s: not executable: "
		    "%s", a->notify_exec, strerror(errno));
	if (geteuid() == 0)
		return check_root_hook(c, a->notify_exec, &st);
	return EXIT_OK;
}

/* A duration above zero, for the --notify-* options. */
static int
positive(const struct cmd_entry *c, const char *option, const char *value,
    int64_t *ms)
{
	if (cmd_duration(c, option, value, ms) != 0)
		return EXIT_USAGE;
	if (*ms <= 0)
		return cmd_usage_error(c, "%s: must be longer than 0", option);
	return EXIT_OK;
}

static int
parse_args(const struct cmd_entry *c, int argc, char **argv,
    struct daemon_args *a)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "interval", required_argument, NULL, 'i' },
		{ "pid-file", required_argument, NULL, 'p' },
		{ "log-file", required_argument, NULL, 'l' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "append", no_argument, NULL, 'a' },
		{ "nvml-library", required_argument, NULL, 'n' },
		{ "textfile-dir", required_argument, NULL, 't' },
		{ "keep-raw", required_argument, NULL, 'k' },
		{ "notify-after", required_argument, NULL, 'A' },
		{ "notify-exec", required_argument, NULL, 'X' },
		{ "notify-repeat", required_argument, NULL, 'R' },
		{ "listen", required_argument, NULL, 'L' },
		{ "metrics-by", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const struct cmd_defaults *d = cmd_defaults();
	const char *db = d->db, *pid = d->pid_file;
	const char *logf = d->log_file, *textfile = NULL, *notify = NULL;
	int ch;

	memset(a, 0, sizeof(*a));
	a->interval_ms = DEFAULT_INTERVAL_MS;
	while ((ch = cmd_getopt(c, argc, argv, ":h", longopts)) != -1) {
		switch (ch) {
		case -3:
			return -3;
		case 'd':
			db = optarg;
			a->db_given = 1;
			break;
		case 'i':
			if (cmd_duration(c, "--interval", optarg,
			    &a->interval_ms) != 0)
				return EXIT_USAGE;
			break;
		case 'p':
			pid = optarg;
			a->pid_given = 1;
			break;
		case 'l':
			logf = optarg;
			a->log_given = 1;
			break;
		case 'f':
			a->foreground = 1;
			break;
		case 'a':
			a->append = 1;
			break;
		case 'n':
			if (optarg[0] == '\0')
				return cmd_usage_error(c, "--nvml-library: "
				    "empty path");
			a->nvml_library = optarg;
			break;
		case 't':
			textfile = optarg;
			break;
		case 'k':
			if (cmd_duration(c, "--keep-raw", optarg,
			    &a->keep_raw_ms) != 0)
				return EXIT_USAGE;
			if (a->keep_raw_ms < MS_PER_HOUR)
				return cmd_usage_error(c, "--keep-raw: at "
				    "least 1h (the newest hour always stays "
				    "raw)");
			break;
		case 'A':
			if (positive(c, "--notify-after", optarg,
			    &a->notify_after_ms) != EXIT_OK)
				return EXIT_USAGE;
			break;
		case 'R':
			if (positive(c, "--notify-repeat", optarg,
			    &a->notify_repeat_ms) != EXIT_OK)
				return EXIT_USAGE;
			break;
		case 'X':
			notify = optarg;
			break;
		case 'L': {
			struct sockaddr_storage addr;
			socklen_t addrlen;
			char err[256];

			if (http_metrics_parse(optarg, &addr, &addrlen, err,
			    sizeof(err)) != 0)
				return cmd_usage_error(c, "--listen %s", err);
			a->listen = optarg;
			break;
		}
		case 'M':
			if (export_prom_parse_by(optarg, &a->metrics_by) != 0)
				return cmd_usage_error(c, "--metrics-by: '%s' is "
				    "not one of user, job, pod, namespace",
				    optarg);
			a->metrics_by_given = 1;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cmd_usage_error(c, "unexpected argument '%s'",
		    argv[optind]);
	if (absolute(c, "--db", db, a->db, sizeof(a->db)) ||
	    absolute(c, "--pid-file", pid, a->pid_file, sizeof(a->pid_file)) ||
	    absolute(c, "--log-file", logf, a->log_file, sizeof(a->log_file)) ||
	    (textfile != NULL && absolute(c, "--textfile-dir", textfile,
	    a->textfile_dir, sizeof(a->textfile_dir))))
		return EXIT_USAGE;
	{
		char err[512];

		/* SQLite could not open it, nor would it say why. */
		if (store_check_path(a->db, err, sizeof(err)) != 0)
			return cmd_usage_error(c, "--db %s", err);
	}
	if (util_same_file(a->db, a->pid_file) ||
	    util_same_file(a->db, a->log_file) ||
	    (util_same_file(a->pid_file, a->log_file) &&
	    (!a->foreground || a->log_given)))
		return cmd_usage_error(c, "--db, --pid-file and --log-file "
		    "must be three different files");
	if (a->textfile_dir[0] != '\0' && check_textfile(c, a) != EXIT_OK)
		return EXIT_USAGE;
	if (check_notify(c, a, notify) != EXIT_OK)
		return EXIT_USAGE;
	if (a->metrics_by_given && a->textfile_dir[0] == '\0' &&
	    a->listen == NULL)
		return cmd_usage_error(c, "--metrics-by needs --textfile-dir or "
		    "--listen");
	if (a->listen != NULL && !http_metrics_available())
		return cmd_fail(c, "--listen: this gua was built without "
		    "libmicrohttpd (install libmicrohttpd-dev and build "
		    "again)");
	a->nvml_library = cmd_nvml_library(a->nvml_library);
	/* A library given as a path is found from here, not from / where
	   the background collector runs; a bare name is for dlopen's
	   search. */
	if (a->nvml_library != NULL && strchr(a->nvml_library, '/') != NULL) {
		if (absolute(c, "--nvml-library", a->nvml_library, a->nvml_path,
		    sizeof(a->nvml_path)) != 0)
			return EXIT_USAGE;
		a->nvml_library = a->nvml_path;
	}
	return EXIT_OK;
}

/*
 * Start-up failure: a line on stderr (foreground) or through the pipe to
 * the waiting command (background), "E" and the reason, or "U" and the
 * reason for bad usage (a --db that is no gua database).
 */
static int
startup_fail(const struct cmd_entry *c, int ready_fd, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int
startup_fail_usage(const struct cmd_entry *c, int ready_fd, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));

static int
startup_failv(const struct cmd_entry *c, int ready_fd, int usage,
    const char *fmt, va_list ap)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (ready_fd < 0)
		return usage ? cmd_usage_error(c, "%s", msg) :
		    cmd_fail(c, "%s", msg);
	log_warn("cannot start: %s", msg);
	if (write(ready_fd, usage ? "U" : "E", 1) == 1)
		(void)!write(ready_fd, msg, strlen(msg));
	return usage ? EXIT_USAGE : EXIT_FAIL;
}

static int
startup_fail(const struct cmd_entry *c, int ready_fd, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = startup_failv(c, ready_fd, 0, fmt, ap);
	va_end(ap);
	return rc;
}

static int
startup_fail_usage(const struct cmd_entry *c, int ready_fd, const char *fmt,
    ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = startup_failv(c, ready_fd, 1, fmt, ap);
	va_end(ap);
	return rc;
}

static int
startup_usage(const struct cmd_entry *c, int ready_fd, const char *msg)
{
	return startup_fail_usage(c, ready_fd, "%s", msg);
}

/* A database refused: bad usage for STORE_NOT_GUA, as cmd_db_error. */
static int
startup_db_fail(const struct cmd_entry *c, int ready_fd, int rc,
    const char *err)
{
	return rc == STORE_NOT_GUA ? startup_usage(c, ready_fd, err) :
	    startup_fail(c, ready_fd, "%s", err);
}

/* The collector: start-up, first tick, loop, clean exit. */
static int
collect(const struct cmd_entry *c, const struct daemon_args *a, int ready_fd)
{
	struct collector_config cfg;
	struct collector *co = NULL;
	struct pidfile pid;
	struct sigaction sa;
	sigset_t block, open;
	char err[1024];
	pid_t holder;
	int64_t ticks;
	int rc = EXIT_FAIL, log_created = 0, log_used, e;

	/* Signals wait in the mask until the loop's ppoll opens it; SIGCHLD
	   too, so a hook that ends wakes the loop to reap it. */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, &open);
	sigdelset(&open, SIGTERM);
	sigdelset(&open, SIGINT);
	sigdelset(&open, SIGHUP);
	sigdelset(&open, SIGCHLD);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = on_child;
	sa.sa_flags = SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, NULL);
	sa.sa_flags = 0;
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	/* A file size limit (RLIMIT_FSIZE) reached is a failed write, logged
	   and retried like a full disk, not a reason to die. */
	sigaction(SIGXFSZ, &sa, NULL);

	/* gua's own directories of the default files, made when missing. */
	log_used = !a->foreground || a->log_given;
	if ((!a->pid_given && cmd_make_default_dir(a->pid_file, err,
	    sizeof(err)) != 0) ||
	    (!a->db_given && cmd_make_default_dir(a->db, err,
	    sizeof(err)) != 0) ||
	    (log_used && !a->log_given && cmd_make_default_dir(a->log_file,
	    err, sizeof(err)) != 0))
		return startup_fail(c, ready_fd, "%s", err);
	memset(&pid, 0, sizeof(pid));
	pid.fd = -1;
	if (pidfile_acquire(&pid, a->pid_file, &holder, err,
	    sizeof(err)) != 0)
		return startup_fail(c, ready_fd, "%s", err);
	if (log_used &&
	    log_open(a->log_file, &log_created, err, sizeof(err)) != 0) {
		rc = startup_fail(c, ready_fd, "%s", err);
		goto out;
	}
	if (ready_fd >= 0)
		log_capture_stderr();
	memset(&cfg, 0, sizeof(cfg));
	cfg.source = &source_nvml;
	cfg.nvml_library = a->nvml_library;
	cfg.db = a->db;
	cfg.append = a->append;
	cfg.interval_ms = a->interval_ms;
	cfg.log_file = log_used ? a->log_file : NULL;
	cfg.textfile_dir = a->textfile_dir;
	cfg.listen = a->listen;
	cfg.metrics_by = (int)a->metrics_by;
	cfg.print_ticks = a->foreground;
	cfg.keep_raw_ms = a->keep_raw_ms;
	if (a->notify_exec[0] != '\0') {
		cfg.notify_exec = a->notify_exec;
		cfg.notify_after_ms = a->notify_after_ms;
		cfg.notify_repeat_ms = a->notify_repeat_ms;
	}
	cfg.pid = &pid;
	if ((e = collector_start(&co, &cfg, err, sizeof(err))) != 0) {
		rc = startup_db_fail(c, ready_fd, e, err);
		goto out;
	}
	if (ready_fd >= 0) {
		(void)!write(ready_fd, "R", 1);
		close(ready_fd);
		ready_fd = -1;
	}
	collector_run(co, &open, &got_stop, &got_hup);
	ticks = collector_finish(co);
	log_info("stopping on %s: %lld tick%s written in this run",
	    got_stop == SIGINT ? "SIGINT" : "SIGTERM", (long long)ticks,
	    ticks == 1 ? "" : "s");
	pidfile_release(&pid);
	log_close();
	return EXIT_OK;
out:
	pidfile_release(&pid);
	log_close();
	/* The reason went to the terminal; a log made for it alone goes. */
	if (log_created)
		unlink(a->log_file);
	return rc;
}

/*
 * The command's side of a background start: wait for the collector's
 * word through the pipe and turn it into an exit status.
 */
static int
wait_ready(const struct cmd_entry *c, const struct daemon_args *a, int fd,
    pid_t child)
{
	char msg[1100];
	size_t len = 0;
	ssize_t n;
	struct pidfile_info info;
	char err[256];

	while (len < sizeof(msg) - 1) {
		n = read(fd, msg + len, sizeof(msg) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	msg[len] = '\0';
	close(fd);
	waitpid(child, NULL, 0);
	if (len > 0 && msg[0] == 'R') {
		if (pidfile_inspect(a->pid_file, &info, err, sizeof(err)) == 0 &&
		    info.pid > 0)
			printf("gua: collector running (PID %ld), writing %s; "
			    "log %s\n", (long)info.pid, a->db, a->log_file);
		else
			printf("gua: collector running, writing %s; log %s\n",
			    a->db, a->log_file);
		return EXIT_OK;
	}
	if (len > 1 && msg[0] == 'E')
		return cmd_fail(c, "%s", msg + 1);
	if (len > 1 && msg[0] == 'U')
		return cmd_usage_error(c, "%s", msg + 1);
	return cmd_fail(c, "the collector exited while starting; see %s",
	    a->log_file);
}

static int
daemon_exec(const struct cmd_entry *c, int argc, char **argv)
{
	struct daemon_args a;
	int pipefd[2], rc, null;
	pid_t child;

	if ((rc = parse_args(c, argc, argv, &a)) != EXIT_OK)
		return rc == -3 ? EXIT_OK : rc;
	if (a.foreground)
		return collect(c, &a, -1);
	if (pipe2(pipefd, O_CLOEXEC) != 0)
		return cmd_fail(c, "cannot create a pipe: %s", strerror(errno));
	fflush(NULL);
	if ((child = fork()) < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return cmd_fail(c, "cannot fork: %s", strerror(errno));
	}
	if (child > 0) {
		close(pipefd[1]);
		return wait_ready(c, &a, pipefd[0], child);
	}
	/* First child: a new session, then the collector's own fork so it
	   is no session leader and never gets a terminal back. */
	close(pipefd[0]);
	if (setsid() < 0 || (child = fork()) < 0) {
		rc = EXIT_FAIL;
		if (write(pipefd[1], "E", 1) == 1)
			(void)!write(pipefd[1], "cannot detach", 13);
		_exit(rc);
	}
	if (child > 0)
		_exit(0);
	/* No terminal from here on: the pipe carries the start-up verdict,
	   the log everything else (stderr joins it once it is open). */
	if ((null = open("/dev/null", O_RDWR | O_CLOEXEC)) >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		close(null);
	}
	if (chdir("/") != 0)
		_exit(EXIT_FAIL);
	return collect(c, &a, pipefd[1]);
}

#define DAEMON_USAGE "[--db PATH] [--interval D] [--pid-file PATH] " \
	"[--log-file PATH] [--foreground] [--append] [--nvml-library PATH] " \
	"[--textfile-dir DIR] [--listen ADDR:PORT] " \
	"[--metrics-by user|job|pod|namespace] " \
	"[--notify-after D --notify-exec PROG [--notify-repeat D]] " \
	"[--keep-raw D]"
#define DAEMON_HELP \
	"  --db PATH            database to create (default below)\n" \
	"  --append             add to an existing database recorded on this\n" \
	"                       host (a missing one is created)\n" \
	"  --interval D         time between ticks (default 30s)\n" \
	"  --pid-file PATH      PID file, locked while the collector runs\n" \
	"                       (default below)\n" \
	"  --log-file PATH      log (default below; with --foreground the\n" \
	"                       log goes to stderr unless this is given)\n" \
	"  --foreground         stay attached and print one line per tick on\n" \
	"                       stdout (for systemd)\n" \
	"  --nvml-library PATH  the NVML library to load (default\n" \
	"                       $GUA_NVML_LIBRARY, else libnvidia-ml.so.1,\n" \
	"                       else libnvidia-ml.so)\n" \
	"  --textfile-dir DIR   write DIR/gua.prom every tick for\n" \
	"                       node_exporter's textfile collector\n" \
	"  --keep-raw D         raw ticks older than D (at least 1h) give\n" \
	"                       way to the hourly rollups, an hour at a time\n" \
	"                       between ticks (as 'gua compact'; default:\n" \
	"                       keep every raw tick)\n" \
	"  --listen ADDR:PORT   serve the same metrics at\n" \
	"                       http://ADDR:PORT/metrics (e.g.\n" \
	"                       127.0.0.1:9877; [::1]:9877; 0.0.0.0:9877\n" \
	"                       for every address)\n" \
	"  --metrics-by UNIT    the unit of the idle-held counter: user\n" \
	"                       (default), job (Slurm), pod or namespace\n" \
	"  --notify-after D     run --notify-exec's program when a process\n" \
	"                       has been idle-held for D without a break\n" \
	"  --notify-exec PROG   the program (a path; run directly, no shell,\n" \
	"                       with the GUA_* variables of gua(1))\n" \
	"  --notify-repeat D    run it again every D while the streak lasts\n" \
	"\n" \
	"Returns once the collector runs (NVML is up and the first tick is\n" \
	"written): exit 0, or 1 with the reason (2 for bad usage, or a --db\n" \
	"that is no gua database). SIGTERM or SIGINT stop it after the tick\n" \
	"in progress; SIGHUP reopens the log file.\n" \
	"gua's own directory of a default file (/var/lib/gua, /run/gua,\n" \
	"the state directory's gua) is made 0750 when missing. A database\n" \
	"deleted or replaced while the collector runs is seen at the next\n" \
	"tick: logged, and the path taken up again as with --append.\n"

const struct cmd_entry cmd_daemon_entry = {
	.name = "daemon",
	.usage = DAEMON_USAGE,
	.summary = "Start the collector (in the background by default).",
	.help = DAEMON_HELP,
	.files = 1,
	.exec = daemon_exec,
};

const struct cmd_entry cmd_start_entry = {
	.name = "start",
	.usage = DAEMON_USAGE,
	.summary = "Same as daemon.",
	.help = DAEMON_HELP,
	.files = 1,
	.exec = daemon_exec,
};
