/*
 * Notification hooks (notify.h): which hooks are due, the environment
 * they get, starting them without waiting, and reaping and ending them
 * between ticks.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "escape.h"
#include "log.h"
#include "notify.h"
#include "report.h"
#include "util.h"

/* The variables a hook gets from the collector's environment (and every
   GUA_HOOK_*); none else, so what the collector was given (credentials,
   library paths) does not leak into a program of the administrator's. */
static const char *const passed[] = {
	"PATH", "HOME", "TMPDIR", "TZ", "LANG", "LC_ALL", "LC_CTYPE",
	"LC_MESSAGES",
};
#define PASSED_COUNT	(sizeof(passed) / sizeof(passed[0]))
#define HOOK_PREFIX	"GUA_HOOK_"
/* PATH when the collector has none: what a login shell would get. */
#define DEFAULT_PATH	"/usr/local/bin:/usr/bin:/bin"
#define ENV_MAX		256	/* variables at most, the collector's too */

struct hook {
	pid_t	 pid;		/* also its process group */
	int	 report;	/* read end of the child's execve report,
				   non-blocking; -1 once read to its end */
	int	 exec_errno;	/* why execve failed; 0 it did not */
	int64_t	 started;	/* monotonic ms */
	int	 termed;	/* SIGTERM sent: it ran past its time */
	int	 killed;	/* SIGKILL sent too */
	char	 what[128];	/* "PID 4242 on GPU-0", for the log */
};

struct notify {
	char		*exec;
	int64_t		 after_ms;
	int64_t		 repeat_ms;
	char		 host[256];	/* escaped */
	struct hook	 run[NOTIFY_MAX_RUNNING];
	size_t		 nrun;
	int64_t		 failed;	/* hooks failed since one succeeded */
	int64_t		 skipped;	/* hooks skipped since one ran */
};

int
notify_new(struct notify **out, const struct notify_config *cfg, char *err,
    size_t errlen)
{
	struct notify *n;
	char host[256];

	*out = NULL;
	if ((n = calloc(1, sizeof(*n))) == NULL ||
	    (n->exec = strdup(cfg->exec)) == NULL) {
		free(n);
		return util_err(err, errlen, "out of memory");
	}
	n->after_ms = cfg->after_ms;
	n->repeat_ms = cfg->repeat_ms;
	util_hostname(host, sizeof(host));
	escape_terminal(host, n->host, sizeof(n->host), 0);
	*out = n;
	return 0;
}

/* Appends "NAME=value" to env; the value is escaped when untrusted. */
static int
put(char **env, size_t *n, const char *name, const char *value, int escape)
{
	char buf[IDENTITY_CMDLINE_MAX * 4 + 16];
	size_t len;

	if (escape) {
		escape_terminal(value, buf, sizeof(buf), 0);
		value = buf;
	}
	len = strlen(name) + strlen(value) + 2;
	if (*n >= ENV_MAX - 1 || (env[*n] = malloc(len)) == NULL)
		return -1;
	snprintf(env[*n], len, "%s=%s", name, value);
	(*n)++;
	return 0;
}

static void
free_env(char **env, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(env[i]);
}

/* The collector's variables a hook may see. */
static int
put_passed(char **env, size_t *n)
{
	const char *path = getenv("PATH");

	if (put(env, n, "PATH", path != NULL && path[0] != '\0' ? path :
	    DEFAULT_PATH, 0) != 0)
		return -1;
	for (size_t i = 1; i < PASSED_COUNT; i++) {
		const char *v = getenv(passed[i]);

		if (v != NULL && put(env, n, passed[i], v, 0) != 0)
			return -1;
	}
	for (char **e = environ; *e != NULL; e++) {
		if (strncmp(*e, HOOK_PREFIX, sizeof(HOOK_PREFIX) - 1) != 0)
			continue;
		if (*n >= ENV_MAX - 1 || (env[*n] = strdup(*e)) == NULL)
			return -1;
		(*n)++;
	}
	return 0;
}

/* The environment of a run for streak s: the contract, then the rest. */
static int
make_env(const struct notify *nt, const struct streak *s, char **env,
    size_t *n)
{
	const struct identity *id = &s->id;
	char num[32], mem[32], idle[32], uid[32], where[256];

	snprintf(num, sizeof(num), "%u", s->pid);
	if (s->mem_mib == MIB_UNKNOWN)
		mem[0] = '\0';
	else
		snprintf(mem, sizeof(mem), "%lld", (long long)s->mem_mib);
	snprintf(idle, sizeof(idle), "%lld", (long long)(s->idle_ms / 1000));
	if (id->uid < 0)
		uid[0] = '\0';
	else
		snprintf(uid, sizeof(uid), "%lld", (long long)id->uid);
	report_place(id->container, id->pod, id->unit, id->slurm_job, where,
	    sizeof(where));
	*n = 0;
	if (put(env, n, "GUA_HOST", nt->host, 0) != 0 ||
	    put(env, n, "GUA_GPU", s->label, 1) != 0 ||
	    put(env, n, "GUA_GPU_UUID", s->uuid, 1) != 0 ||
	    put(env, n, "GUA_PID", num, 0) != 0 ||
	    put(env, n, "GUA_USER", id->user, 1) != 0 ||
	    put(env, n, "GUA_UID", uid, 0) != 0 ||
	    put(env, n, "GUA_COMMAND", id->cmdline[0] != '\0' ? id->cmdline :
	    id->comm, 1) != 0 ||
	    put(env, n, "GUA_MEMORY_MIB", mem, 0) != 0 ||
	    put(env, n, "GUA_IDLE_SECONDS", idle, 0) != 0 ||
	    put(env, n, "GUA_WHERE", where, 1) != 0 ||
	    put_passed(env, n) != 0)
		return -1;
	env[*n] = NULL;
	return 0;
}

/* A failure, logged only when it is the first since a hook succeeded. */
static void
failed(struct notify *nt, const char *what, const char *how)
{
	if (nt->failed++ == 0)
		log_warn("notify hook %s for %s %s; collection goes on (further "
		    "failures are logged when a hook succeeds again)",
		    nt->exec, what, how);
}

static void
succeeded(struct notify *nt)
{
	if (nt->failed > 0)
		log_info("notify hook succeeded again after %lld failures",
		    (long long)nt->failed);
	nt->failed = 0;
}

/*
 * Closes every descriptor from first on but keep: close_range(2) where the
 * kernel has it (Linux 5.9), else one close per possible descriptor below
 * max, the descriptor limit the parent read before the fork (sysconf is no
 * call to make between fork and execve).
 */
static void
close_from(int first, int keep, long max)
{
#ifdef SYS_close_range
	if ((keep <= first || syscall(SYS_close_range, (unsigned)first,
	    (unsigned)keep - 1, 0U) == 0) &&
	    syscall(SYS_close_range, (unsigned)(keep < first ? first :
	    keep + 1), ~0U, 0U) == 0)
		return;
#endif
	if (max < 0 || max > INT_MAX)
		max = INT_MAX;
	for (int fd = first; fd < max; fd++)
		if (fd != keep)
			close(fd);
}

/*
 * The child's side, between fork and execve: its own process group, the
 * signals as a new program expects them (the collector blocks some and
 * ignores others, and both would be inherited), / as its directory,
 * /dev/null and the log on 0, 1 and 2, no other descriptor but the one
 * that reports a failed execve. The log and the report are first moved
 * above 2, since a collector started with 0, 1 or 2 closed may hold either
 * there, and the dup2 onto 0, 1 and 2 would close it. Only
 * async-signal-safe calls: the collector may have other threads. Never
 * returns.
 */
static void
child(const struct notify *nt, char **env, int report, long max)
{
	char *argv[2] = { nt->exec, NULL };
	struct sigaction sa;
	sigset_t none;
	int logfd = log_fileno(), null, e;

	setpgid(0, 0);
	if (report <= STDERR_FILENO)
		report = fcntl(report, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
	if (logfd >= 0 && logfd <= STDERR_FILENO)
		logfd = fcntl(logfd, F_DUPFD, STDERR_FILENO + 1);
	if (report < 0 || logfd < 0)
		_exit(127);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (chdir("/") != 0 || (null = open("/dev/null", O_RDONLY)) < 0 ||
	    dup2(null, STDIN_FILENO) < 0 ||
	    dup2(logfd, STDOUT_FILENO) < 0 || dup2(logfd, STDERR_FILENO) < 0)
		goto fail;
	close_from(STDERR_FILENO + 1, report, max);
	execve(nt->exec, argv, env);
fail:
	e = errno;
	(void)!write(report, &e, sizeof(e));
	_exit(127);
}

/*
 * Starts the hook for streak s; returns 0 when it was forked. Whether
 * execve succeeded is read later, by notify_reap, from the report pipe:
 * an execve may hang (a program on a stalled network mount) and the
 * collector never waits for a hook.
 */
static int
start(struct notify *nt, const struct streak *s)
{
	char *env[ENV_MAX], how[256];
	struct hook *h = &nt->run[nt->nrun];
	int report[2], e = 0;
	size_t n = 0;
	long max = sysconf(_SC_OPEN_MAX);
	pid_t pid;

	snprintf(h->what, sizeof(h->what), "PID %u on %s", s->pid, s->label);
	if (make_env(nt, s, env, &n) != 0) {
		free_env(env, n);
		failed(nt, h->what, "not run: out of memory, or more than "
		    "256 variables");
		return -1;
	}
	if (pipe2(report, O_CLOEXEC | O_NONBLOCK) != 0) {
		free_env(env, n);
		snprintf(how, sizeof(how), "not run: %s", strerror(errno));
		failed(nt, h->what, how);
		return -1;
	}
	if ((pid = fork()) == 0) {
		close(report[0]);
		child(nt, env, report[1], max);
	}
	e = errno;
	free_env(env, n);
	close(report[1]);
	if (pid < 0) {
		close(report[0]);
		snprintf(how, sizeof(how), "not run: fork: %s", strerror(e));
		failed(nt, h->what, how);
		return -1;
	}
	setpgid(pid, pid);
	h->pid = pid;
	h->report = report[0];
	h->exec_errno = 0;
	h->started = util_mono_ms();
	h->termed = 0;
	h->killed = 0;
	nt->nrun++;
	log_info("notify hook %s started for %s (idle-held %lld s)", nt->exec,
	    h->what, (long long)(s->idle_ms / 1000));
	return 0;
}

/*
 * Runs the hooks due. A burst of skips (all slots taken) is logged when it
 * starts and when a pass over the streaks finds nothing left to skip.
 */
void
notify_run(struct notify *nt, struct streaks *ss)
{
	int64_t skipped = nt->skipped;

	for (size_t i = 0; i < streaks_count(ss); i++) {
		struct streak *s = streaks_get(ss, i);

		if (s->notify_next_ms == 0)
			s->notify_next_ms = nt->after_ms;
		if (s->idle_ms < s->notify_next_ms)
			continue;
		if (nt->nrun == NOTIFY_MAX_RUNNING) {
			if (nt->skipped++ == 0)
				log_warn("notify hook for PID %u on %s skipped: "
				    "%d hooks still run; due again at the next "
				    "tick", s->pid, s->label,
				    NOTIFY_MAX_RUNNING);
			continue;
		}
		/* A run that failed to start counts as run: retrying it every
		   tick would not help. The next is a repeat later. */
		start(nt, s);
		if (nt->repeat_ms <= 0) {
			s->notify_next_ms = INT64_MAX;
			continue;
		}
		while (s->notify_next_ms <= s->idle_ms)
			s->notify_next_ms += nt->repeat_ms;
	}
	if (nt->skipped > 0 && nt->skipped == skipped) {
		log_info("notify hooks run again after %lld skipped",
		    (long long)nt->skipped);
		nt->skipped = 0;
	}
}

/*
 * Reads what the child reported of its execve, as far as it can without
 * waiting: an errno when execve failed; the end of the pipe when it
 * succeeded (the descriptor is close-on-exec) or the child is gone.
 */
static void
read_report(struct hook *h)
{
	ssize_t got;
	int e;

	if (h->report < 0)
		return;
	while ((got = read(h->report, &e, sizeof(e))) < 0 && errno == EINTR)
		;
	if (got < 0 && errno == EAGAIN)
		return;
	if (got == (ssize_t)sizeof(e))
		h->exec_errno = e;
	close(h->report);
	h->report = -1;
}

/* Hook i ended with status st (-1: unknown): said, and its slot freed. */
static void
ended(struct notify *nt, size_t i, int st)
{
	struct hook *h = &nt->run[i];
	char how[128];

	read_report(h);
	if (h->report >= 0)
		close(h->report);
	if (h->exec_errno != 0) {
		snprintf(how, sizeof(how), "could not be run: %s",
		    strerror(h->exec_errno));
		failed(nt, h->what, how);
	} else if (st == -1)
		log_warn("notify hook %s for %s: its end could not be read",
		    nt->exec, h->what);
	else if (h->termed)
		failed(nt, h->what, "ran longer than 10 s and was killed");
	else if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		succeeded(nt);
	else {
		if (WIFEXITED(st))
			snprintf(how, sizeof(how), "exited with status %d",
			    WEXITSTATUS(st));
		else
			snprintf(how, sizeof(how), "was killed by signal %d",
			    WTERMSIG(st));
		failed(nt, h->what, how);
	}
	nt->run[i] = nt->run[--nt->nrun];
}

void
notify_reap(struct notify *nt)
{
	int64_t now = util_mono_ms();
	size_t i = 0;
	int st;

	if (nt == NULL)
		return;
	while (i < nt->nrun) {
		struct hook *h = &nt->run[i];
		siginfo_t si;
		int r;

		read_report(h);
		/* Whether it ended, leaving it a zombie: while it is one its
		   process group cannot be reused, so what it left running in
		   the group can still be killed before it is reaped. */
		memset(&si, 0, sizeof(si));
		r = waitid(P_PID, (id_t)h->pid, &si, WEXITED | WNOHANG |
		    WNOWAIT);
		if (r == 0 && si.si_pid == h->pid) {
			kill(-h->pid, SIGKILL);
			ended(nt, i, waitpid(h->pid, &st, 0) == h->pid ? st :
			    -1);
			continue;	/* slot i now holds another hook */
		}
		if (r < 0 && errno == ECHILD) {
			ended(nt, i, -1);
			continue;
		}
		if (!h->termed && now - h->started >= NOTIFY_TIMEOUT_MS) {
			kill(-h->pid, SIGTERM);
			h->termed = 1;
		} else if (h->termed && !h->killed && now - h->started >=
		    NOTIFY_TIMEOUT_MS + NOTIFY_KILL_MS) {
			kill(-h->pid, SIGKILL);
			h->killed = 1;
		}
		i++;
	}
}

int64_t
notify_deadline(const struct notify *nt)
{
	int64_t soonest = INT64_MAX;

	if (nt == NULL)
		return soonest;
	for (size_t i = 0; i < nt->nrun; i++) {
		const struct hook *h = &nt->run[i];
		int64_t at = h->started + NOTIFY_TIMEOUT_MS +
		    (h->termed ? NOTIFY_KILL_MS : 0);

		/* One killed is reaped when the collector next wakes. */
		if (!h->killed && at < soonest)
			soonest = at;
	}
	return soonest;
}

void
notify_close(struct notify *nt)
{
	if (nt == NULL)
		return;
	for (size_t i = 0; i < nt->nrun; i++) {
		kill(-nt->run[i].pid, SIGKILL);
		if (nt->run[i].report >= 0)
			close(nt->run[i].report);
	}
	/* Reaped within a bound: a hook stuck in the kernel (an NFS
	   server gone) must not hang the collector's stop. */
	for (int waited = 0; nt->nrun > 0 && waited < 2000; waited += 10) {
		for (size_t i = 0; i < nt->nrun; )
			if (waitpid(nt->run[i].pid, NULL, WNOHANG) != 0) {
				log_info("notify hook for %s still ran at "
				    "stop; killed", nt->run[i].what);
				nt->run[i] = nt->run[--nt->nrun];
			} else
				i++;
		if (nt->nrun > 0)
			usleep(10000);
	}
	for (size_t i = 0; i < nt->nrun; i++)
		log_warn("notify hook for %s did not end on SIGKILL within "
		    "2 s; left behind", nt->run[i].what);
	free(nt->exec);
	free(nt);
}
