/*
 * doctor: can a collector run here? Read-only checks of the kernel, the
 * NVIDIA device files, nvidia-smi, NVML, the database path and the PID
 * file. Creates and changes nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <glob.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "escape.h"
#include "json.h"
#include "nvml.h"
#include "pidfile.h"
#include "store.h"
#include "util.h"
#include "version.h"

#define SMI_TIMEOUT_MS		3000
#define SMI_OUTPUT_MAX		4096
#define MAX_CHECKS		16
/* Of --json (docs/gua-doctor.schema.json): bumped when a key changes
   meaning or goes away; new keys keep it. */
#define DOCTOR_JSON_SCHEMA_VERSION	1

enum level { LEVEL_OK, LEVEL_INFO, LEVEL_WARN, LEVEL_FAIL, LEVEL_SKIP };
static const char *const level_name[] = { "ok", "info", "warn", "fail",
	"skip" };

struct check {
	const char	*name;
	enum level	 level;
	char		 detail[1024];
};

/*
 * Per-process utilization is read a few times, as the collector reads it,
 * to tell which behaviour the driver shows (putil.h): the raw entries of
 * each read are kept for --json, the GPU smoke test's evidence.
 */
#define PUTIL_READS	4
#define PUTIL_GAP_MS	500
#define PUTIL_GPUS	8	/* GPUs read at most */
#define PUTIL_RAW	64	/* entries kept per GPU and read */

struct putil_log {
	unsigned	   gpu;
	int		   read;
	int		   rc;		/* NVML's code */
	size_t		   n;
	struct putil_entry e[PUTIL_RAW];
};

struct doctor {
	struct check	 checks[MAX_CHECKS];
	size_t		 n;
	int		 nvml_ok;	/* loaded, initialised, GPUs found */
	int		 blocked;	/* something else stops a collector */
	long		 gpus;		/* -1 unknown */
	char		 driver[80];
	char		 smi_output[SMI_OUTPUT_MAX];
	int		 smi_status;	/* exit status, -1 not run/killed */
	const char	*putil;		/* "per_period", "per_read",
					   "unknown", "unsupported"; NULL
					   when not read */
	int		 putil_most;	/* most entries of a PID in a read */
	struct putil_log plog[PUTIL_READS * PUTIL_GPUS];
	size_t		 nplog;
	struct store_retention ret;	/* of an existing database */
	int		 have_ret;
};

static void
add(struct doctor *d, const char *name, enum level level, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

static void
add(struct doctor *d, const char *name, enum level level, const char *fmt,
    ...)
{
	struct check *c;
	va_list ap;

	if (d->n == MAX_CHECKS)
		return;
	c = &d->checks[d->n++];
	c->name = name;
	c->level = level;
	va_start(ap, fmt);
	vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
	va_end(ap);
}

static void
check_kernel(struct doctor *d)
{
	struct utsname u;

	if (uname(&u) != 0)
		add(d, "kernel", LEVEL_WARN, "uname: %s", strerror(errno));
	else
		add(d, "kernel", LEVEL_INFO, "%s %s %s", u.sysname, u.release,
		    u.machine);
}

static void
check_devices(struct doctor *d)
{
	char list[512] = "";
	glob_t g;

	if (glob("/dev/nvidia*", 0, NULL, &g) != 0 || g.gl_pathc == 0) {
		add(d, "devices", LEVEL_WARN, "no /dev/nvidia* device files: "
		    "the NVIDIA kernel driver does not seem to be loaded");
		globfree(&g);
		return;
	}
	for (size_t i = 0; i < g.gl_pathc; i++) {
		if (i > 0)
			strncat(list, " ", sizeof(list) - strlen(list) - 1);
		strncat(list, g.gl_pathv[i], sizeof(list) - strlen(list) - 1);
	}
	add(d, "devices", LEVEL_OK, "%s", list);
	globfree(&g);
}

/*
 * Runs "nvidia-smi -L" with a fixed argv, no shell, in its own process
 * group, killed with the group after SMI_TIMEOUT_MS.
 */
static void
check_smi(struct doctor *d)
{
	char *const argv[] = { "nvidia-smi", "-L", NULL };
	char lines[SMI_OUTPUT_MAX];
	struct pollfd pfd;
	size_t len = 0;
	int fds[2], status, timed_out = 0, null;
	int64_t deadline;
	pid_t pid;
	ssize_t n;

	d->smi_status = -1;
	if (pipe2(fds, O_CLOEXEC) != 0) {
		add(d, "nvidia-smi", LEVEL_WARN, "cannot create a pipe: %s",
		    strerror(errno));
		return;
	}
	fflush(NULL);
	if ((pid = fork()) < 0) {
		close(fds[0]);
		close(fds[1]);
		add(d, "nvidia-smi", LEVEL_WARN, "cannot fork: %s",
		    strerror(errno));
		return;
	}
	if (pid == 0) {
		setpgid(0, 0);
		if ((null = open("/dev/null", O_RDONLY)) >= 0)
			dup2(null, STDIN_FILENO);
		dup2(fds[1], STDOUT_FILENO);
		dup2(fds[1], STDERR_FILENO);
		execvp(argv[0], argv);
		_exit(127);
	}
	setpgid(pid, pid);
	close(fds[1]);
	deadline = util_mono_ms() + SMI_TIMEOUT_MS;
	pfd.fd = fds[0];
	pfd.events = POLLIN;
	for (;;) {
		int64_t left = deadline - util_mono_ms();

		if (left <= 0) {
			timed_out = 1;
			break;
		}
		if (poll(&pfd, 1, (int)left) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd.revents == 0)
			continue;
		n = read(fds[0], d->smi_output + len,
		    sizeof(d->smi_output) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len == sizeof(d->smi_output) - 1)
			break;	/* enough; the rest is not read */
	}
	d->smi_output[len] = '\0';
	close(fds[0]);
	if (timed_out)
		kill(-pid, SIGKILL);
	/* EOF (or enough output) before the deadline: wait for the exit
	   within what is left of it. */
	while (!timed_out && waitpid(pid, &status, WNOHANG) == 0) {
		struct timespec nap = { 0, 10 * 1000000L };

		if (util_mono_ms() >= deadline) {
			timed_out = 1;
			kill(-pid, SIGKILL);
			break;
		}
		nanosleep(&nap, NULL);
	}
	if (timed_out) {
		waitpid(pid, &status, 0);
		add(d, "nvidia-smi", LEVEL_WARN, "nvidia-smi -L did not finish "
		    "within %d s and was killed", SMI_TIMEOUT_MS / 1000);
		return;
	}
	d->smi_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	while (len > 0 && d->smi_output[len - 1] == '\n')
		d->smi_output[--len] = '\0';
	/* One line per GPU, joined for the one-line detail. */
	util_strlcpy(lines, d->smi_output, sizeof(lines));
	for (char *p = lines; *p; p++)
		if (*p == '\n')
			*p = ';';
	if (d->smi_status == 127)
		add(d, "nvidia-smi", LEVEL_WARN, "not found in PATH (it comes "
		    "with the NVIDIA driver)");
	else if (d->smi_status == 0)
		add(d, "nvidia-smi", LEVEL_OK, "%s", lines);
	else
		add(d, "nvidia-smi", LEVEL_WARN, "nvidia-smi -L exited with "
		    "status %d: %s", d->smi_status, lines);
}

/* Reads every GPU's per-process utilization PUTIL_READS times. */
static void
check_putil(struct doctor *d, struct nvml *n)
{
	unsigned ngpus = d->gpus > PUTIL_GPUS ? PUTIL_GPUS : (unsigned)d->gpus;
	int answered = 0, entries = 0, per_period = 0;
	char e[256];
	int last_rc = 0;

	for (int r = 0; r < PUTIL_READS; r++) {
		if (r > 0)
			poll(NULL, 0, PUTIL_GAP_MS);
		for (unsigned g = 0; g < ngpus; g++) {
			struct putil_log *l = &d->plog[d->nplog++];

			l->gpu = g;
			l->read = r;
			l->rc = nvml_putil_probe(n, g, util_mono_us(), l->e,
			    PUTIL_RAW, &l->n);
			if (l->rc == 0 || l->rc == 6 /* NOT_FOUND */)
				answered = 1;
			else
				last_rc = l->rc;
			entries += (int)l->n;
		}
	}
	for (unsigned g = 0; g < ngpus; g++) {
		int most = 0;

		if (nvml_putil_behaviour(n, g, &most) == 1)
			per_period = 1;
		if (most > d->putil_most)
			d->putil_most = most;
	}
	if (!answered) {
		d->putil = "unsupported";
		add(d, "proc util", LEVEL_INFO, "not available (%s): "
		    "processes follow their GPU's utilization",
		    nvml_strerror(n, last_rc, e, sizeof(e)));
	} else if (entries == 0) {
		d->putil = "unknown";
		add(d, "proc util", LEVEL_INFO, "no process was busy in %d "
		    "reads: run gua doctor while a CUDA job computes to see "
		    "how this driver reports it", PUTIL_READS);
	} else if (per_period) {
		d->putil = "per_period";
		add(d, "proc util", LEVEL_OK, "an entry per sampling period "
		    "(up to %d per process in a read)", d->putil_most);
	} else {
		d->putil = "per_read";
		add(d, "proc util", LEVEL_OK, "one entry per busy process "
		    "per read (%d at most): gua reads it every second",
		    d->putil_most);
	}
}

static void
check_nvml(struct doctor *d, const char *library)
{
	struct nvml *n;
	char err[1024];

	d->gpus = -1;
	if (nvml_load(&n, library, NULL, err, sizeof(err)) != 0) {
		add(d, "nvml load", LEVEL_FAIL, "%s", err);
		add(d, "nvml init", LEVEL_SKIP, "NVML is missing");
		return;
	}
	add(d, "nvml load", LEVEL_OK, "%s", nvml_library(n));
	if (nvml_init(n, err, sizeof(err)) != 0) {
		add(d, "nvml init", LEVEL_FAIL, "%s", err);
		nvml_close(n);
		return;
	}
	util_strlcpy(d->driver, nvml_driver_version(n), sizeof(d->driver));
	d->gpus = nvml_gpu_count(n);
	add(d, "nvml init", LEVEL_OK, "driver %s",
	    d->driver[0] ? d->driver : "(version unknown)");
	if (d->gpus == 0)
		add(d, "gpus", LEVEL_FAIL, "NVML finds no NVIDIA GPU");
	else
		add(d, "gpus", LEVEL_OK, "%ld GPU%s", d->gpus,
		    d->gpus == 1 ? "" : "s");
	d->nvml_ok = d->gpus > 0;
	if (d->nvml_ok)
		check_putil(d, n);
	nvml_close(n);
}

/* The database the collector would write, as `gua daemon` would judge. */
static void
check_db(struct doctor *d, const char *db)
{
	char dir[PATH_MAX], err[1024], host[256];
	struct store *st;
	struct stat sb;
	char *slash;

	/* SQLite would not open it: never "absent, would be created". */
	if (store_check_path(db, err, sizeof(err)) != 0) {
		add(d, "database", LEVEL_FAIL, "%s; the collector would refuse "
		    "it: choose a shorter --db", err);
		d->blocked = 1;
		return;
	}
	if (lstat(db, &sb) != 0) {
		util_strlcpy(dir, db, sizeof(dir));
		slash = strrchr(dir, '/');
		if (slash == NULL)
			util_strlcpy(dir, ".", sizeof(dir));
		else if (slash == dir)
			dir[1] = '\0';
		else
			*slash = '\0';
		if (access(dir, W_OK | X_OK) != 0 && errno == ENOENT &&
		    (slash = strrchr(dir, '/')) != NULL &&
		    strcmp(slash + 1, "gua") == 0) {
			/* gua's own directory: the collector makes it. */
			*slash = '\0';
			if (access(dir[0] ? dir : "/", W_OK | X_OK) == 0) {
				add(d, "database", LEVEL_OK, "%s: absent; the "
				    "collector would create it, and %s/gua "
				    "(0750)", db, dir);
				return;
			}
			*slash = '/';
		}
		if (access(dir, W_OK | X_OK) != 0) {
			add(d, "database", LEVEL_FAIL, "%s: absent, and its "
			    "directory %s is not writable: %s", db, dir,
			    strerror(errno));
			d->blocked = 1;
			return;
		}
		add(d, "database", LEVEL_OK, "%s: absent; the collector would "
		    "create it", db);
		return;
	}
	if (S_ISLNK(sb.st_mode)) {
		add(d, "database", LEVEL_FAIL, "%s: a symbolic link; the "
		    "collector refuses to write through it", db);
		d->blocked = 1;
		return;
	}
	if (store_open_read(&st, db, err, sizeof(err)) != 0) {
		add(d, "database", LEVEL_FAIL, "%s; the collector would refuse "
		    "it: choose another --db", err);
		d->blocked = 1;
		return;
	}
	util_hostname(host, sizeof(host));
	if (store_check_writable(db, err, sizeof(err)) != 0) {
		add(d, "database", LEVEL_FAIL, "%s; the collector would refuse "
		    "it: choose another --db", err);
		d->blocked = 1;
	} else if (strcmp(store_meta(st)->hostname, host) != 0) {
		add(d, "database", LEVEL_FAIL, "%s: a gua database recorded on "
		    "host '%s', not this one; the collector would refuse it: "
		    "choose another --db", db, store_meta(st)->hostname);
		d->blocked = 1;
	} else if (store_check_damage(st, err, sizeof(err)) != 0) {
		add(d, "database", LEVEL_FAIL, "%s; the collector would refuse "
		    "to append to it", err);
		d->blocked = 1;
	} else {
		add(d, "database", LEVEL_WARN, "%s: a gua database from this "
		    "host; 'gua daemon --append' adds to it, 'gua report' "
		    "reads it", db);
	}
	if (store_retention(st, &d->ret, err, sizeof(err)) == 0) {
		d->have_ret = 1;
		cmd_format_retention(&d->ret, err, sizeof(err));
		add(d, "retention", LEVEL_INFO, "%s", err);
	}
	store_close(st);
}

static void
check_pid_file(struct doctor *d, const char *path)
{
	struct pidfile_info pf;
	char err[512];

	if (pidfile_inspect(path, &pf, err, sizeof(err)) != 0) {
		add(d, "pid file", LEVEL_FAIL, "%s", err);
		d->blocked = 1;
	} else if (pf.state == PIDFILE_ABSENT) {
		add(d, "pid file", LEVEL_OK, "%s: absent", path);
	} else if (pf.state == PIDFILE_STALE) {
		add(d, "pid file", LEVEL_INFO, "%s: stale (no collector holds "
		    "it); the next collector takes it over", path);
	} else {
		add(d, "pid file", LEVEL_WARN, "%s: a collector is running "
		    "(PID %ld, database %s); another needs its own --pid-file "
		    "and --db", path, (long)pf.holder, pf.db[0] ? pf.db : "?");
	}
}

static const char *
verdict(const struct doctor *d)
{
	if (!d->nvml_ok)
		return d->gpus == 0 ? "no: NVML works but finds no GPU" :
		    "no: NVML is missing or does not initialise. Install the "
		    "NVIDIA driver so that 'nvidia-smi -L' lists the GPUs, or "
		    "point --nvml-library (or GUA_NVML_LIBRARY) at its "
		    "libnvidia-ml.so.1. Without a GPU, 'gua demo' shows what "
		    "gua reports";
	if (d->blocked)
		return "no: fix the failed checks above";
	return "yes";
}

static void
print_text(const struct doctor *d)
{
	char safe[4096];

	printf("gua doctor: can a collector run here?\n");
	/* Details quote paths and nvidia-smi's output: escaped. */
	for (size_t i = 0; i < d->n; i++) {
		escape_terminal(d->checks[i].detail, safe, sizeof(safe), 0);
		printf("  %-5s %-11s %s\n", level_name[d->checks[i].level],
		    d->checks[i].name, safe);
	}
	printf("verdict: %s\n", verdict(d));
}

static void
print_json(const struct doctor *d, const char *db, const char *pid_file)
{
	struct json j;

	json_init(&j, stdout, 2);
	json_object_begin(&j, NULL);
	json_int(&j, "schema_version", DOCTOR_JSON_SCHEMA_VERSION);
	json_string(&j, "generator", "gua " GUA_VERSION);
	json_bool(&j, "collector_can_run", d->nvml_ok && !d->blocked);
	json_string(&j, "verdict", verdict(d));
	json_string(&j, "database", db);
	json_string(&j, "pid_file", pid_file);
	if (d->gpus >= 0)
		json_int(&j, "gpu_count", d->gpus);
	else
		json_null(&j, "gpu_count");
	json_string(&j, "driver_version", d->driver[0] ? d->driver : NULL);
	json_string(&j, "nvidia_smi_output", d->smi_status >= 0 &&
	    d->smi_status != 127 ? d->smi_output : NULL);
	if (d->putil != NULL) {
		json_object_begin(&j, "process_utilization");
		json_string(&j, "behaviour", d->putil);
		json_int(&j, "most_entries_per_process_per_read",
		    d->putil_most);
		json_array_begin(&j, "reads");
		for (size_t i = 0; i < d->nplog; i++) {
			const struct putil_log *l = &d->plog[i];

			json_object_begin(&j, NULL);
			json_int(&j, "gpu", l->gpu);
			json_int(&j, "read", l->read);
			json_int(&j, "nvml_return", l->rc);
			json_array_begin(&j, "entries");
			for (size_t k = 0; k < l->n; k++) {
				json_object_begin(&j, NULL);
				json_int(&j, "pid", l->e[k].pid);
				json_int(&j, "timestamp_us",
				    (int64_t)l->e[k].ts);
				json_int(&j, "sm_percent", l->e[k].sm);
				json_object_end(&j);
			}
			json_array_end(&j);
			json_object_end(&j);
		}
		json_array_end(&j);
		json_object_end(&j);
	}
	cmd_json_retention(&j, d->have_ret ? &d->ret : NULL);
	json_array_begin(&j, "checks");
	for (size_t i = 0; i < d->n; i++) {
		json_object_begin(&j, NULL);
		json_string(&j, "name", d->checks[i].name);
		json_string(&j, "status", level_name[d->checks[i].level]);
		json_string(&j, "detail", d->checks[i].detail);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_object_end(&j);
	json_finish(&j);
}

static int
doctor_exec(const struct cmd_entry *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "pid-file", required_argument, NULL, 'p' },
		{ "nvml-library", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *db = cmd_defaults()->db;
	const char *pid_file = cmd_defaults()->pid_file;
	const char *library = NULL;
	struct doctor *d;
	int ch, json = 0, rc;

	while ((ch = cmd_getopt(c, argc, argv, ":h", longopts)) != -1) {
		switch (ch) {
		case -3:
			return EXIT_OK;
		case 'd':
			db = optarg;
			break;
		case 'p':
			pid_file = optarg;
			break;
		case 'n':
			library = optarg;
			break;
		case 'j':
			json = 1;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cmd_usage_error(c, "unexpected argument '%s'",
		    argv[optind]);
	if (db[0] == '\0' || pid_file[0] == '\0' ||
	    (library != NULL && library[0] == '\0'))
		return cmd_usage_error(c, "empty path");
	library = cmd_nvml_library(library);
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return cmd_fail(c, "out of memory");
	check_kernel(d);
	check_devices(d);
	check_smi(d);
	check_nvml(d, library);
	check_db(d, db);
	check_pid_file(d, pid_file);
	if (json)
		print_json(d, db, pid_file);
	else
		print_text(d);
	rc = d->nvml_ok && !d->blocked ? EXIT_OK : EXIT_FAIL;
	free(d);
	return rc;
}

const struct cmd_entry cmd_doctor_entry = {
	.name = "doctor",
	.usage = "[--db PATH] [--pid-file PATH] [--nvml-library PATH] [--json]",
	.summary = "Check whether a collector could run here (read-only).",
	.help =
	    "  --db PATH            the database the collector would write\n"
	    "                       (default below)\n"
	    "  --pid-file PATH      its PID file (default below)\n"
	    "  --nvml-library PATH  the NVML library to try (default\n"
	    "                       $GUA_NVML_LIBRARY, else libnvidia-ml.so.1,\n"
	    "                       else libnvidia-ml.so)\n"
	    "  --json               the same as JSON\n"
	    "\n"
	    "Checks the kernel, /dev/nvidia*, 'nvidia-smi -L' (3 s at most),\n"
	    "NVML, the database path and the PID file; creates nothing.\n"
	    "Exit status: 0 a collector could run here, 1 it could not,\n"
	    "2 bad usage.\n",
	.files = 1,
	.exec = doctor_exec,
};
