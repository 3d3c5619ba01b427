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
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "classify.h"
#include "cmd.h"
#include "duration.h"
#include "escape.h"
#include "export-prom.h"
#include "label.h"
#include "log.h"
#include "outfile.h"
#include "pidfile.h"
#include "report.h"
#include "source.h"
#include "store.h"
#include "util.h"
#include "version.h"

#define DEFAULT_INTERVAL_MS	(30 * MS_PER_SECOND)
/*
 * Ticks sampled but not yet written wait in memory, at most this many
 * and this many bytes (a tick of 1000 processes takes 1.5 MB): a
 * database locked by another process, or a full disk, delays them, and
 * the next write that succeeds takes them all in one transaction. Past
 * that the oldest give way (a gap). The ring has one slot more, for the
 * tick being sampled while as many wait.
 */
#define PENDING_MAX		64
#define PENDING_BYTES		(8 * 1024 * 1024)
#define RING_SLOTS		(PENDING_MAX + 1)
/* The longest a write waits for another process's lock. */
#define BUSY_MAX_MS		5000

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
};

/* What the running collector holds. */
struct collector {
	const struct daemon_args *a;
	struct pidfile	 pid;
	int		 db_lock;	/* flock'ed descriptor of the database */
	int		 db_created;	/* this run created the database */
	struct store	*st;
	void		*src;		/* source context */
	struct tick	 pend[RING_SLOTS]; /* a ring of ticks to write */
	size_t		 pend_first;	/* the oldest of them */
	size_t		 npend;		/* how many */
	int64_t		 dropped;	/* gave way in the current burst */
	int64_t		 prev_mono;	/* monotonic ms of the last sampled tick */
	int64_t		 ticks;		/* written by this run */
	int64_t		 failed;	/* consecutive ticks not written */
	int64_t		 unsampled;	/* ... of them not even sampled */
	struct export_prom *prom;	/* --textfile-dir, or NULL */
	int64_t		 prom_failed;	/* consecutive textfiles not written */
	struct thresholds thr;		/* of the textfile's counters */
	struct source_info info;	/* for a database made anew */
	/*
	 * The files written, as they were when opened: the database (the
	 * flock'ed descriptor's), and the WAL and its index beside it, so
	 * that a database deleted or replaced under the collector is seen,
	 * and only files that are its own are removed with it.
	 */
	struct stat	 db_st;
	struct stat	 side_st[2];
	int		 side_known[2];
	int64_t		 renewed_ms;	/* when a new database was taken up */
	int		 log_used;	/* the log is a->log_file */
};

/* The files SQLite keeps beside the database while it writes. */
static const char *const side_suffix[2] = { "-wal", "-shm" };

static int	open_store(struct collector *, const struct source_info *,
		    char *, size_t);

/*
 * The longest a write waits for a lock held by another process: half an
 * interval, so a tick that cannot be written waits in memory and
 * sampling keeps its pace, where SQLite's usual 5 s would stall it.
 */
static int
busy_ms(const struct daemon_args *a)
{
	int64_t ms = a->interval_ms / 2;

	return (int)(ms < 1 ? 1 : ms > BUSY_MAX_MS ? BUSY_MAX_MS : ms);
}

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
	if (rc != 0)
		return cmd_usage_error(c, "--textfile-dir: %s", err);
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
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const struct cmd_defaults *d = cmd_defaults();
	const char *db = d->db, *pid = d->pid_file;
	const char *logf = d->log_file, *textfile = NULL;
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

static void
source_log(void *arg, const char *msg)
{
	(void)arg;
	log_info("%s", msg);
}

/* An exclusive flock on the database: one collector per file. */
static int
lock_db(struct collector *co, char *err, size_t errlen)
{
	const char *db = co->a->db;

	co->db_lock = open(db, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY |
	    O_NONBLOCK);
	if (co->db_lock < 0 && errno == ELOOP)
		return util_err(err, errlen, "%s: is a symbolic link; refusing "
		    "to write through it", db);
	if (co->db_lock < 0)
		return util_err(err, errlen, "%s: %s", db, strerror(errno));
	if (flock(co->db_lock, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;

		close(co->db_lock);
		co->db_lock = -1;
		if (e == EWOULDBLOCK)
			return util_err(err, errlen, "%s: another collector is "
			    "writing this database", db);
		return util_err(err, errlen, "%s: cannot lock: %s", db,
		    strerror(e));
	}
	return 0;
}

/*
 * --append on an existing file: a gua database recorded on this host,
 * without damage where the collector would carry on. 0, -1, or
 * STORE_NOT_GUA for a file that is no gua database.
 */
static int
check_append(const char *db, char *err, size_t errlen)
{
	struct store *st;
	char host[256];
	int rc;

	if ((rc = store_open_read(&st, db, err, errlen)) != 0)
		return rc;
	if ((rc = store_check_writable(db, err, errlen)) != 0) {
		store_close(st);
		return rc;
	}
	util_hostname(host, sizeof(host));
	if (strcmp(store_meta(st)->hostname, host) != 0) {
		util_err(err, errlen, "%s: recorded on host '%s', not on this "
		    "host ('%s'); refusing to append to it", db,
		    store_meta(st)->hostname, host);
		store_close(st);
		return -1;
	}
	/* Ticks added to a damaged file would be as hard to read. */
	if (store_check_damage(st, err, errlen) != 0) {
		size_t len = strlen(err);

		snprintf(err + len, errlen - len, "; refusing to append");
		store_close(st);
		return -1;
	}
	store_close(st);
	return 0;
}

/* Removes a database this run created, with its sidecars. */
static void
remove_db(const char *db)
{
	char side[PATH_MAX + 8];

	unlink(db);
	snprintf(side, sizeof(side), "%s-wal", db);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", db);
	unlink(side);
}

/* The i-th oldest tick waiting to be written. */
static struct tick *
pending(struct collector *co, size_t i)
{
	return &co->pend[(co->pend_first + i) % RING_SLOTS];
}

/* GPU i of the tick as the reports label it. */
static char *
tick_label(const struct tick *t, size_t i, char *buf, size_t len)
{
	const struct tick_gpu *g = &t->gpus[i];
	size_t chars = 0;

	for (size_t k = 0; g->parent_uuid[0] != '\0' && k < t->ngpus; k++)
		if (k != i && strcmp(t->gpus[k].parent_uuid,
		    g->parent_uuid) == 0)
			chars = label_mig_chars(g->uuid, t->gpus[k].uuid,
			    chars);
	return label_gpu(buf, len, g->index, g->uuid, g->parent_uuid, chars);
}

/* " 12288 MiB", " ? MiB" when unknown. */
static void
print_mib(int64_t mib)
{
	if (mib == MIB_UNKNOWN)
		fputs(" ? MiB", stdout);
	else
		printf(" %lld MiB", (long long)mib);
}

/*
 * One line per tick for --foreground, printed once the tick is committed:
 * time, span, and each GPU with its state, utilization, memory held, and
 * every process on it: PID, user, memory, its own SM utilization and its
 * state, the evidence behind an idle-held GPU. Labels as in the reports;
 * user names escaped for the terminal.
 */
static void
print_tick(const struct collector *co, const struct tick *t)
{
	struct thresholds thr;
	char ts[32], span[32], label[64], user[160];

	classify_defaults(&thr);
	util_format_rfc3339(t->ts_ms, ts, sizeof(ts));
	duration_format(t->span_ms, span, sizeof(span));
	printf("%s tick %lld span %s:", ts, (long long)co->ticks, span);
	for (size_t i = 0; i < t->ngpus; i++) {
		const struct tick_gpu *g = &t->gpus[i];
		int partial;
		int64_t held = tick_gpu_held_mib(g, &partial);

		printf("%s %s %s", i ? ";" : "",
		    tick_label(t, i, label, sizeof(label)),
		    state_name(classify_gpu(&thr, g->util_pm, held, partial)));
		if (g->util_pm != UTIL_UNKNOWN)
			printf(" util %d%%", g->util_pm / 10);
		if (!g->procs_known)
			continue;
		/* Memory some holders did not tell: at least what others did. */
		fputs(partial ? " held >=" : " held", stdout);
		print_mib(partial && held == 0 ? MIB_UNKNOWN : held);
		printf(" by %zu", g->nprocs);
		for (size_t k = 0; k < g->nprocs; k++) {
			const struct tick_proc *p = &g->procs[k];

			escape_terminal(p->id.user[0] ? p->id.user : "?", user,
			    sizeof(user), 32);
			printf("%s%u %s", k ? ", " : " [", p->pid, user);
			print_mib(p->mem_mib);
			if (p->util_pm != UTIL_UNKNOWN)
				printf(" sm %d%%", p->util_pm / 10);
			printf(" %s", state_name(classify_process(&thr,
			    p->util_pm, g->util_pm, p->mem_mib)));
		}
		if (g->nprocs > 0)
			putchar(']');
	}
	putchar('\n');
	fflush(stdout);
}

/* The memory a tick holds. */
static size_t
tick_bytes(const struct tick *t)
{
	size_t n = t->gpus_cap * sizeof(struct tick_gpu);

	for (size_t i = 0; i < t->gpus_cap; i++)
		n += t->gpus[i].procs_cap * sizeof(struct tick_proc);
	return n;
}

/* The oldest waiting tick gives way, and its memory goes with it. */
static void
drop_oldest(struct collector *co)
{
	tick_free(pending(co, 0));
	co->pend_first = (co->pend_first + 1) % RING_SLOTS;
	co->npend--;
	co->dropped++;
}

/*
 * Samples one tick into the ring of ticks to write; once it is sampled,
 * the oldest waiting ticks give way if there are too many. Its span is
 * the time since the previous tick sampled (up to the cap), so ticks that
 * wait keep their own time. A tick that could not be sampled is a gap.
 */
static int
sample_tick(struct collector *co, int64_t mono, char *err, size_t errlen)
{
	const struct daemon_args *a = co->a;
	int64_t span, now = util_now_ms();
	size_t bytes = 0;
	struct tick *t;

	t = pending(co, co->npend);
	tick_reset(t);
	if (source_nvml.sample(co->src, t, err, errlen) != 0) {
		co->prev_mono = mono;
		return -1;
	}
	for (size_t i = 0; i <= co->npend; i++)
		bytes += tick_bytes(pending(co, i));
	while (co->npend > 0 && (co->npend >= PENDING_MAX ||
	    bytes > PENDING_BYTES)) {
		bytes -= tick_bytes(pending(co, 0));
		drop_oldest(co);
	}
	t = pending(co, co->npend);
	span = co->prev_mono < 0 ? a->interval_ms : mono - co->prev_mono;
	if (span > 2 * a->interval_ms)
		span = 2 * a->interval_ms;
	if (span < 1)
		span = 1;
	/*
	 * The wall clock as it is, even when it stepped back: the span comes
	 * from the monotonic clock, and the store takes ticks in any order;
	 * stamping them after the last one instead would pile an hour of
	 * ticks onto one instant after a one-hour step back.
	 */
	t->ts_ms = now;
	t->span_ms = span;
	co->prev_mono = mono;
	co->npend++;
	return 0;
}

/* Remembers the files just opened and says so in the PID file. */
static int
note_db(struct collector *co, char *err, size_t errlen)
{
	const struct daemon_args *a = co->a;
	struct pidfile_data pd;
	char side[PATH_MAX + 8];

	if (fstat(co->db_lock, &co->db_st) != 0)
		return util_err(err, errlen, "%s: %s", a->db, strerror(errno));
	for (int i = 0; i < 2; i++) {
		snprintf(side, sizeof(side), "%s%s", a->db, side_suffix[i]);
		co->side_known[i] = lstat(side, &co->side_st[i]) == 0;
	}
	memset(&pd, 0, sizeof(pd));
	pd.pid = getpid();
	pd.db = a->db;
	pd.log = co->log_used ? a->log_file : NULL;
	pd.db_dev = (unsigned long long)co->db_st.st_dev;
	pd.db_ino = (unsigned long long)co->db_st.st_ino;
	pd.db_renewed_ms = co->renewed_ms;
	return pidfile_write(&co->pid, &pd, err, errlen);
}

/*
 * Whether the database file is gone from under the collector: unlinked
 * (no name left) or its path now names another file. One fstat and one
 * lstat a tick.
 */
static int
db_gone(struct collector *co)
{
	struct stat now, path;

	if (fstat(co->db_lock, &now) != 0)
		return 0;
	if (now.st_nlink == 0)
		return 1;
	if (lstat(co->a->db, &path) != 0)
		return errno == ENOENT;
	return path.st_dev != co->db_st.st_dev ||
	    path.st_ino != co->db_st.st_ino;
}

/*
 * Removes the i-th file beside the database if it is still the one the
 * collector's SQLite wrote, which would otherwise be read into whatever
 * database comes to that path.
 */
static void
remove_own_side(const struct collector *co, int i)
{
	char side[PATH_MAX + 8];
	struct stat st;

	snprintf(side, sizeof(side), "%s%s", co->a->db, side_suffix[i]);
	if (co->side_known[i] && lstat(side, &st) == 0 &&
	    st.st_dev == co->side_st[i].st_dev &&
	    st.st_ino == co->side_st[i].st_ino)
		unlink(side);
}

/*
 * Lets go of a database deleted or replaced under the collector. SQLite
 * sees the file moved and neither checkpoints nor removes the WAL beside
 * the path when it closes; so the collector checkpoints first, with
 * patience (a file moved elsewhere, not deleted, then keeps every tick),
 * and removes its own WAL and index at the path, and only those: left
 * there they would be read into the next database at the path. Said once
 * in the log.
 */
static void
drop_db(struct collector *co)
{
	const char *db = co->a->db;
	struct stat st;
	char err[512];
	int gone = lstat(db, &st) != 0;

	store_set_busy_timeout(co->st, BUSY_MAX_MS);
	if (store_checkpoint(co->st, err, sizeof(err)) != 0)
		log_warn("%s; if the file was moved, not deleted, its last "
		    "ticks may be missing from it", err);
	store_close(co->st);
	co->st = NULL;
	remove_own_side(co, 0);
	remove_own_side(co, 1);
	close(co->db_lock);
	co->db_lock = -1;
	co->db_created = 0;
	log_warn("%s: the database was %s under the collector; the ticks "
	    "it held are no longer at that path. The next ticks go into %s",
	    db, gone ? "deleted" : "replaced by another file", gone ?
	    "a new database made there" : "the file now there, if it is a "
	    "gua database of this host (else they wait, as for a full disk)");
}

/*
 * Takes up the database at the path again, as --append does: the file
 * there if it is a gua database of this host that this user may write,
 * else a new one when there is none; with a new run.
 */
static int
renew_db(struct collector *co, char *err, size_t errlen)
{
	const struct daemon_args *a = co->a;
	char side[PATH_MAX + 8];
	struct stat st;

	if (lstat(a->db, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return util_err(err, errlen, "%s: is a directory",
			    a->db);
		if (lock_db(co, err, errlen) != 0)
			return -1;
		if (check_append(a->db, err, errlen) != 0)
			goto fail;
	} else {
		/* A WAL that outlived its database would be read into the
		   new one. */
		snprintf(side, sizeof(side), "%s-wal", a->db);
		if (lstat(side, &st) == 0 && st.st_size > 0)
			return util_err(err, errlen, "%s: left without its "
			    "database; move it away so a new database can be "
			    "made at %s", side, a->db);
	}
	if (open_store(co, &co->info, err, errlen) != 0 ||
	    store_begin_run(co->st, util_now_ms(), a->interval_ms,
	    source_nvml.name, co->info.driver_version, err, errlen) != 0)
		goto fail;
	store_set_busy_timeout(co->st, busy_ms(a));
	co->renewed_ms = util_now_ms();
	if (note_db(co, err, errlen) != 0)
		goto fail;
	log_info("collector now writes %s%s", a->db, co->db_created ?
	    " (new)" : " (appending)");
	return 0;
fail:
	store_close(co->st);
	co->st = NULL;
	if (co->db_created)
		remove_db(a->db);
	co->db_created = 0;
	if (co->db_lock >= 0)
		close(co->db_lock);
	co->db_lock = -1;
	return -1;
}

/* Writes every waiting tick, in one transaction when there are several. */
static int
write_pending(struct collector *co, char *err, size_t errlen)
{
	if (co->st == NULL && renew_db(co, err, errlen) != 0)
		return -1;
	if (co->npend == 1)
		return store_write_tick(co->st, pending(co, 0), err, errlen);
	if (store_begin(co->st, err, errlen) != 0)
		return -1;
	for (size_t i = 0; i < co->npend; i++) {
		if (store_write_tick(co->st, pending(co, i), err,
		    errlen) != 0) {
			store_rollback(co->st);
			return -1;
		}
	}
	return store_commit(co->st, err, errlen);
}

/*
 * Adds the n ticks just recorded (or, n 0, counts a tick that was not)
 * and rewrites the textfile; a failure is logged once per burst, like
 * ticks, and never stops the collector.
 */
static void
textfile_write(struct collector *co, size_t n)
{
	const struct thresholds *thr;
	char err[1024];
	int rc = 0;

	if (co->prom == NULL)
		return;
	thr = &co->thr;
	if (n == 0)
		export_prom_count_error(co->prom);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = export_prom_add_tick(co->prom, pending(co, i), thr, err,
		    sizeof(err));
	if (rc != 0 || export_prom_write(co->prom, err, sizeof(err)) != 0) {
		if (co->prom_failed++ == 0)
			log_warn("textfile not written: %s; the next ticks "
			    "retry (logged again when it recovers)", err);
		return;
	}
	if (co->prom_failed > 0)
		log_info("textfile written again after %lld failures",
		    (long long)co->prom_failed);
	co->prom_failed = 0;
}

/* The waiting ticks were committed: count, export and print them. */
static void
written(struct collector *co)
{
	textfile_write(co, co->npend);
	for (size_t i = 0; i < co->npend; i++) {
		co->ticks++;
		if (co->a->foreground)
			print_tick(co, pending(co, i));
	}
	/* The ring is empty: its first slot serves the next tick, so one
	   tick's memory is reused, and what a burst took is released (to
	   the system, not only to malloc's free lists). */
	if (co->npend > 1 || co->pend_first != 0) {
		for (size_t i = 1; i < RING_SLOTS; i++)
			tick_free(&co->pend[i]);
#ifdef __GLIBC__
		malloc_trim(0);
#endif
	}
	co->pend_first = 0;
	co->npend = 0;
}

/*
 * Samples a tick and writes it with any that wait: 0, or -1 when it could
 * not be sampled, -2 when the ticks could not be written (they wait).
 * What was written is counted, added to the textfile and printed.
 */
static int
record(struct collector *co, int64_t mono, char *err, size_t errlen)
{
	if (sample_tick(co, mono, err, errlen) != 0)
		return -1;
	if (co->st != NULL && db_gone(co))
		drop_db(co);
	if (write_pending(co, err, errlen) != 0)
		return -2;
	written(co);
	return 0;
}

static void
tick_logged(struct collector *co, int64_t mono)
{
	char err[1024];
	int rc;

	if ((rc = record(co, mono, err, sizeof(err))) != 0) {
		co->unsampled += rc == -1;
		if (co->failed++ == 0)
			log_warn("tick not %s: %s; sampling goes on and "
			    "the next ticks retry%s (logged again when it "
			    "recovers)", rc == -1 ? "sampled" : "recorded",
			    err, rc == -1 ? "" : ", the ticks not written "
			    "waiting in memory");
		textfile_write(co, 0);
		return;
	}
	if (co->failed > 0) {
		if (co->dropped + co->unsampled > 0)
			log_info("ticks recorded again after %lld that were "
			    "not; %lld could not be sampled and %lld waited "
			    "too long and were dropped (gaps in the record)",
			    (long long)co->failed, (long long)co->unsampled,
			    (long long)co->dropped);
		else
			log_info("ticks recorded again after %lld that were "
			    "not; none was lost", (long long)co->failed);
	}
	co->failed = 0;
	co->unsampled = 0;
	co->dropped = 0;
}

/* Sleeps until the monotonic deadline or a signal; signals are blocked
   except inside ppoll, so none is missed between the check and the wait. */
static void
sleep_until(int64_t deadline, const sigset_t *open)
{
	int64_t left = deadline - util_mono_ms();
	struct timespec ts;

	if (left <= 0 || got_stop || got_hup)
		return;
	ts.tv_sec = (time_t)(left / 1000);
	ts.tv_nsec = (long)(left % 1000) * 1000000L;
	ppoll(NULL, 0, &ts, open);
}

/*
 * Ticks on the grid; between them the source is polled (per-process
 * utilization, about once a second), never delaying a tick.
 */
static void
run_loop(struct collector *co, const sigset_t *open)
{
	int64_t iv = co->a->interval_ms, t0 = co->prev_mono, next, poll, now;
	int64_t every = source_poll_ms(iv);
	char err[512];

	next = t0 + iv;
	poll = t0 + every;
	while (!got_stop) {
		sleep_until(poll < next ? poll : next, open);
		if (got_hup) {
			got_hup = 0;
			if (log_reopen(err, sizeof(err)) != 0)
				log_warn("SIGHUP: cannot reopen the log: %s",
				    err);
			else
				log_info("SIGHUP: log reopened");
		}
		if (got_stop)
			break;
		now = util_mono_ms();
		if (now < next) {
			if (now >= poll) {
				if (source_nvml.poll != NULL)
					source_nvml.poll(co->src);
				poll = util_mono_ms() + every;
			}
			continue;
		}
		tick_logged(co, now);
		/* The next deadline on the grid after now: an overrun skips
		   ahead, and the span cap leaves an honest gap. */
		next = t0 + ((util_mono_ms() - t0) / iv + 1) * iv;
		poll = util_mono_ms() + every;
	}
}

/* Everything the collector holds, released in the safe order: SQLite
   before the descriptor whose flock guards the file. */
static void
collector_close(struct collector *co, int remove)
{
	store_close(co->st);
	co->st = NULL;
	if (remove && co->db_created)
		remove_db(co->a->db);
	if (co->db_lock >= 0)
		close(co->db_lock);
	co->db_lock = -1;
	if (co->src != NULL)
		source_nvml.close(co->src);
	co->src = NULL;
	export_prom_close(co->prom);
	co->prom = NULL;
	for (size_t i = 0; i < RING_SLOTS; i++)
		tick_free(&co->pend[i]);
	pidfile_release(&co->pid);
}

/* Opens or creates the database once NVML is up. */
static int
open_store(struct collector *co, const struct source_info *info, char *err,
    size_t errlen)
{
	const struct daemon_args *a = co->a;
	struct store_meta meta;
	struct stat sb;

	if (co->db_lock >= 0)
		return store_open_append(&co->st, a->db, err, errlen);
	memset(&meta, 0, sizeof(meta));
	util_hostname(meta.hostname, sizeof(meta.hostname));
	util_strlcpy(meta.source, source_nvml.name, sizeof(meta.source));
	util_strlcpy(meta.gua_version, GUA_VERSION, sizeof(meta.gua_version));
	util_strlcpy(meta.driver_version, info->driver_version,
	    sizeof(meta.driver_version));
	meta.interval_ms = a->interval_ms;
	meta.created_ms = util_now_ms();
	classify_defaults(&meta.rollup);
	if (store_create(&co->st, a->db, &meta, err, errlen) != 0) {
		/* It was absent a moment ago: another collector made it. */
		if (lstat(a->db, &sb) == 0)
			util_err(err, errlen, "%s: created meanwhile by another "
			    "process (another gua daemon starting?); not "
			    "started", a->db);
		return -1;
	}
	co->db_created = 1;
	if (lock_db(co, err, errlen) != 0) {
		/* Another collector locked it first: the file is its now. */
		co->db_created = 0;
		return -1;
	}
	return 0;
}

/*
 * The Prometheus textfile: its counters start from the database's whole
 * history when the collector appends, so a restart does not reset them.
 */
static int
open_textfile(struct collector *co, const struct source_info *info,
    char *err, size_t errlen)
{
	struct report_options o;
	struct report rep;
	int rc;

	if (export_prom_open(&co->prom, co->a->textfile_dir,
	    info->driver_version, err, errlen) != 0)
		return -1;
	if (co->db_created)
		return 0;
	memset(&o, 0, sizeof(o));
	o.until_ms = util_now_ms();
	o.since_ms = DURATION_MAX_MS;
	o.gpu_id = -1;
	o.thr = store_meta(co->st)->rollup;
	if (report_build(co->st, &o, &rep, err, errlen) != 0)
		return -1;
	rc = export_prom_seed(co->prom, &rep, err, errlen);
	report_free(&rep);
	return rc;
}

/* The collector: start-up, first tick, loop, clean exit. */
static int
collect(const struct cmd_entry *c, const struct daemon_args *a, int ready_fd)
{
	struct source_config cfg = { a->nvml_library, a->interval_ms,
		source_log, NULL };
	struct source_info info;
	struct collector co;
	struct sigaction sa;
	sigset_t block, open;
	struct stat sb;
	char err[1024];
	pid_t holder;
	int rc = EXIT_FAIL, log_created = 0;

	memset(&co, 0, sizeof(co));
	co.a = a;
	co.db_lock = -1;
	co.prev_mono = -1;
	co.pid.fd = -1;

	/* Signals wait in the mask until the loop's ppoll opens it. */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &open);
	sigdelset(&open, SIGTERM);
	sigdelset(&open, SIGINT);
	sigdelset(&open, SIGHUP);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	/* A file size limit (RLIMIT_FSIZE) reached is a failed write, logged
	   and retried like a full disk, not a reason to die. */
	sigaction(SIGXFSZ, &sa, NULL);

	/* gua's own directories of the default files, made when missing. */
	co.log_used = !a->foreground || a->log_given;
	if ((!a->pid_given && cmd_make_default_dir(a->pid_file, err,
	    sizeof(err)) != 0) ||
	    (!a->db_given && cmd_make_default_dir(a->db, err,
	    sizeof(err)) != 0) ||
	    (co.log_used && !a->log_given && cmd_make_default_dir(a->log_file,
	    err, sizeof(err)) != 0))
		return startup_fail(c, ready_fd, "%s", err);
	if (pidfile_acquire(&co.pid, a->pid_file, &holder, err,
	    sizeof(err)) != 0)
		return startup_fail(c, ready_fd, "%s", err);
	if (co.log_used &&
	    log_open(a->log_file, &log_created, err, sizeof(err)) != 0) {
		rc = startup_fail(c, ready_fd, "%s", err);
		goto out;
	}
	if (ready_fd >= 0)
		log_capture_stderr();
	if (lstat(a->db, &sb) == 0) {
		int e;

		/* A link planted at the path is never written through, with
		   --append or without. */
		if (S_ISLNK(sb.st_mode)) {
			rc = startup_fail(c, ready_fd, "%s: is a symbolic link; "
			    "refusing to write through it", a->db);
			goto out;
		}
		/* No gua database at all: bad usage, as for every command. */
		if (!S_ISREG(sb.st_mode)) {
			rc = startup_fail_usage(c, ready_fd, "%s: %s", a->db,
			    S_ISDIR(sb.st_mode) ? "is a directory, not a "
			    "database file" : "not a regular file");
			goto out;
		}
		if (!a->append) {
			rc = startup_fail(c, ready_fd, "%s: database exists; use "
			    "--append to add to it or choose another --db",
			    a->db);
			goto out;
		}
		if (lock_db(&co, err, sizeof(err)) != 0) {
			rc = startup_fail(c, ready_fd, "%s", err);
			goto out;
		}
		if ((e = check_append(a->db, err, sizeof(err))) != 0) {
			rc = startup_db_fail(c, ready_fd, e, err);
			goto out;
		}
	}
	if (source_nvml.open(&co.src, &cfg, &info, err, sizeof(err)) != 0) {
		co.src = NULL;
		rc = startup_fail(c, ready_fd, "%s", err);
		goto out;
	}
	co.info = info;
	if (open_store(&co, &info, err, sizeof(err)) != 0 ||
	    store_begin_run(co.st, util_now_ms(), a->interval_ms,
	    source_nvml.name, info.driver_version, err, sizeof(err)) != 0 ||
	    note_db(&co, err, sizeof(err)) != 0) {
		rc = startup_fail(c, ready_fd, "%s", err);
		goto out;
	}
	co.thr = store_meta(co.st)->rollup;
	if (a->textfile_dir[0] != '\0' &&
	    open_textfile(&co, &info, err, sizeof(err)) != 0) {
		rc = startup_fail(c, ready_fd, "%s", err);
		goto out;
	}
	log_info("collector started: PID %ld, database %s%s, interval %lld ms, "
	    "%d GPU%s, driver %s, NVML %s", (long)getpid(), a->db,
	    co.db_created ? " (new)" : " (appending)",
	    (long long)a->interval_ms, info.ngpus, info.ngpus == 1 ? "" : "s",
	    info.driver_version[0] ? info.driver_version : "unknown",
	    a->nvml_library ? a->nvml_library : "libnvidia-ml.so.1");
	if (geteuid() == 0)
		log_info("running as root: NVML needs no privileges; a "
		    "dedicated unprivileged user is recommended");
	if (record(&co, util_mono_ms(), err, sizeof(err)) != 0) {
		rc = startup_fail(c, ready_fd, "first tick: %s", err);
		goto out;
	}
	/* From now on a lock held by another process delays a write by at
	   most half an interval. */
	store_set_busy_timeout(co.st, busy_ms(a));
	if (ready_fd >= 0) {
		(void)!write(ready_fd, "R", 1);
		close(ready_fd);
		ready_fd = -1;
	}
	run_loop(&co, &open);
	if (co.npend > 0) {
		/* A last try for the ticks still waiting, with patience. */
		if (co.st != NULL && db_gone(&co))
			drop_db(&co);
		if (co.st != NULL)
			store_set_busy_timeout(co.st, BUSY_MAX_MS);
		if (write_pending(&co, err, sizeof(err)) == 0)
			written(&co);
		else
			log_warn("%zu ticks were never written: %s", co.npend,
			    err);
	}
	log_info("stopping on %s: %lld tick%s written in this run",
	    got_stop == SIGINT ? "SIGINT" : "SIGTERM", (long long)co.ticks,
	    co.ticks == 1 ? "" : "s");
	collector_close(&co, 0);
	log_close();
	return EXIT_OK;
out:
	collector_close(&co, 1);
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
	"[--textfile-dir DIR]"
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
	"                       $GUA_NVML_LIBRARY, else libnvidia-ml.so.1)\n" \
	"  --textfile-dir DIR   write DIR/gua.prom every tick for\n" \
	"                       node_exporter's textfile collector\n" \
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
