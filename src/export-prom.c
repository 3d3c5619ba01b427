/*
 * The Prometheus textfile: counters from recorded ticks, classified with
 * the same rule as the reports, written in the text exposition format.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "escape.h"
#include "export-prom.h"
#include "outfile.h"
#include "util.h"
#include "version.h"

/* State label values, as in the JSON and CSV reports. */
static const char *const state_keys[STATE_COUNT] = {
	"active", "idle_held", "truly_idle", "unknown"
};

#define OTHER	SIZE_MAX	/* the user slot of "(other)" */
/* A unit's value: a pod's "namespace/name" is the longest. */
#define UNIT_MAX	(sizeof(((struct identity *)0)->pod_namespace) + \
			 sizeof(((struct identity *)0)->pod_name))

/* Per --metrics-by: the label, and what the family's HELP says. */
static const struct {
	const char	*word;		/* the option's value */
	const char	*label;
	const char	*help;
} units[] = {
	[EXPORT_PROM_BY_USER] = { "user", "user", "Process time idle-held "
	    "(holding memory at low utilization), per user and GPU; the "
	    "first 20 users only, the rest as (other)." },
	/* Not "job": Prometheus gives every target a job label. */
	[EXPORT_PROM_BY_JOB] = { "job", "slurm_job", "Process time "
	    "idle-held (holding memory at low utilization), per Slurm job "
	    "and GPU; the first 20 jobs only, the rest as (other), and "
	    "processes of no job as (none)." },
	[EXPORT_PROM_BY_POD] = { "pod", "pod", "Process time idle-held "
	    "(holding memory at low utilization), per Kubernetes pod "
	    "(namespace/name, else its uid) and GPU; the first 20 pods "
	    "only, the rest as (other), and processes of no pod as (none)." },
	[EXPORT_PROM_BY_NAMESPACE] = { "namespace", "namespace", "Process "
	    "time idle-held (holding memory at low utilization), per "
	    "Kubernetes namespace and GPU; the first 20 namespaces only, the "
	    "rest as (other), and processes of no pod, or of a pod whose "
	    "names are unknown, as (none)." },
};

struct prom_gpu {
	char	uuid[96];
	char	name[96];
	int	index;			/* NVML index at the last tick seen */
	int64_t	state_ms[STATE_COUNT];	/* counters */
	int64_t	energy_j[STATE_COUNT];	/* counters, whole joules */
	int	energy_known;		/* some tick told its energy: series */
	int	seen;			/* in the latest tick: gauges valid */
	int	util_pm;		/* latest, or UTIL_UNKNOWN */
	int64_t	held_mib;		/* latest; MIB_UNKNOWN if unreadable */
	int64_t	total_mib;		/* latest; MIB_UNKNOWN if unread */
};

/* Idle-held process time of one user (or OTHER) on one GPU. */
struct prom_idle {
	size_t	user;		/* index into users, or OTHER */
	size_t	gpu;		/* index into gpus */
	int64_t	ms;
};

struct export_prom {
	char		*dir;
	char		*path;		/* DIR/gua.prom */
	char		 driver_version[80];
	struct prom_gpu	*gpus;
	size_t		 ngpus;
	enum export_prom_by by;		/* the unit of the idle series */
	char		 users[EXPORT_PROM_TOP_USERS][UNIT_MAX]; /* units with
					   series (users by default) */
	size_t		 nusers;
	struct prom_idle *idle;
	size_t		 nidle;
	int64_t		 last_tick_ms;	/* 0 before the first */
	int64_t		 errors;	/* ticks that failed */
	/* The file last written, so that only it is ever removed. */
	int		 written;
	dev_t		 written_dev;
	ino_t		 written_ino;
	const struct streaks *streaks;	/* the collector's, or NULL */
};

int
export_prom_open(struct export_prom **out, const char *dir,
    const char *driver_version, char *err, size_t errlen)
{
	struct export_prom *p;
	struct stat st;
	size_t len;

	*out = NULL;
	if (dir == NULL) {
		if ((p = calloc(1, sizeof(*p))) == NULL)
			return util_err(err, errlen, "out of memory");
		util_strlcpy(p->driver_version, driver_version ?
		    driver_version : "", sizeof(p->driver_version));
		*out = p;
		return 0;
	}
	len = strlen(dir);
	if (len == 0)
		return util_err(err, errlen, "--textfile-dir: empty path");
	if (stat(dir, &st) != 0)
		return util_err(err, errlen, "--textfile-dir: %s: %s", dir,
		    strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return util_err(err, errlen, "--textfile-dir: %s: not a directory",
		    dir);
	if (access(dir, W_OK | X_OK) != 0)
		return util_err(err, errlen, "--textfile-dir: %s: cannot write "
		    "there: %s", dir,
		    strerror(errno));
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->dir = strdup(dir)) == NULL ||
	    (p->path = malloc(len + sizeof(EXPORT_PROM_FILE) + 1)) == NULL) {
		export_prom_close(p);
		return util_err(err, errlen, "out of memory");
	}
	snprintf(p->path, len + sizeof(EXPORT_PROM_FILE) + 1, "%s/%s", dir,
	    EXPORT_PROM_FILE);
	util_strlcpy(p->driver_version, driver_version ? driver_version : "",
	    sizeof(p->driver_version));
	*out = p;
	return 0;
}

int
export_prom_parse_by(const char *word, enum export_prom_by *by)
{
	for (size_t i = 0; i < ARRAY_LEN(units); i++) {
		if (strcmp(word, units[i].word) == 0) {
			*by = (enum export_prom_by)i;
			return 0;
		}
	}
	return -1;
}

void
export_prom_group_by(struct export_prom *p, enum export_prom_by by)
{
	p->by = by;
}

/*
 * The unit of a process, from the fields of its identity (those of a
 * struct identity or a struct report_who), into buf.
 */
static const char *
unit_of(const struct export_prom *p, const char *user, const char *job,
    const char *pod, const char *ns, const char *name, char *buf,
    size_t len)
{
	switch (p->by) {
	case EXPORT_PROM_BY_JOB:
		return job[0] ? job : EXPORT_PROM_NONE;
	case EXPORT_PROM_BY_POD:
		if (ns[0] && name[0]) {
			snprintf(buf, len, "%s/%s", ns, name);
			return buf;
		}
		return pod[0] ? pod : EXPORT_PROM_NONE;
	case EXPORT_PROM_BY_NAMESPACE:
		return ns[0] ? ns : EXPORT_PROM_NONE;
	case EXPORT_PROM_BY_USER:
		break;
	}
	return user[0] ? user : "unknown";
}

void
export_prom_close(struct export_prom *p)
{
	if (p == NULL)
		return;
	free(p->dir);
	free(p->path);
	free(p->gpus);
	free(p->idle);
	free(p);
}

/* The slot of a GPU by UUID, added when new; -1 out of memory. */
static int
gpu_slot(struct export_prom *p, const char *uuid, size_t *slot)
{
	struct prom_gpu *n;

	for (size_t i = 0; i < p->ngpus; i++) {
		if (strcmp(p->gpus[i].uuid, uuid) == 0) {
			*slot = i;
			return 0;
		}
	}
	if ((n = realloc(p->gpus, (p->ngpus + 1) * sizeof(*n))) == NULL)
		return -1;
	p->gpus = n;
	memset(&n[p->ngpus], 0, sizeof(n[p->ngpus]));
	util_strlcpy(n[p->ngpus].uuid, uuid, sizeof(n[p->ngpus].uuid));
	n[p->ngpus].util_pm = UTIL_UNKNOWN;
	n[p->ngpus].held_mib = MIB_UNKNOWN;
	n[p->ngpus].total_mib = MIB_UNKNOWN;
	*slot = p->ngpus++;
	return 0;
}

/*
 * The series slot of a user: its own while there is room among the top
 * users (a user once in stays in), else OTHER.
 */
static size_t
user_slot(struct export_prom *p, const char *user)
{
	for (size_t i = 0; i < p->nusers; i++)
		if (strcmp(p->users[i], user) == 0)
			return i;
	if (p->nusers == EXPORT_PROM_TOP_USERS)
		return OTHER;
	util_strlcpy(p->users[p->nusers], user, sizeof(p->users[0]));
	return p->nusers++;
}

static int
add_idle(struct export_prom *p, size_t user, size_t gpu, int64_t ms)
{
	struct prom_idle *n;

	for (size_t i = 0; i < p->nidle; i++) {
		if (p->idle[i].user == user && p->idle[i].gpu == gpu) {
			p->idle[i].ms += ms;
			return 0;
		}
	}
	if ((n = realloc(p->idle, (p->nidle + 1) * sizeof(*n))) == NULL)
		return -1;
	p->idle = n;
	n[p->nidle].user = user;
	n[p->nidle].gpu = gpu;
	n[p->nidle].ms = ms;
	p->nidle++;
	return 0;
}

int
export_prom_seed(struct export_prom *p, const struct report *rep, char *err,
    size_t errlen)
{
	char buf[UNIT_MAX];

	/* The biggest idle-held users of the history take the slots first;
	   other units, in the order of the history's sessions (the biggest
	   idle-held first). */
	for (size_t i = 0; p->by == EXPORT_PROM_BY_USER && i < rep->nids; i++)
		if (rep->ids[i].idle_ms > 0)
			user_slot(p, rep->ids[i].name);
	for (size_t i = 0; i < rep->ngpus; i++) {
		const struct report_gpu *g = &rep->gpus[i];
		size_t slot;

		if (gpu_slot(p, g->info.uuid, &slot) != 0)
			return util_err(err, errlen, "out of memory");
		p->gpus[slot].index = g->info.index;
		util_strlcpy(p->gpus[slot].name, g->info.name,
		    sizeof(p->gpus[slot].name));
		for (int s = 0; s < STATE_COUNT; s++) {
			p->gpus[slot].state_ms[s] += g->r.ms[s];
			p->gpus[slot].energy_j[s] += g->r.energy_j[s];
		}
		if (report_energy_unrecorded(&g->r) < 1)
			p->gpus[slot].energy_known = 1;
	}
	for (size_t i = 0; i < rep->nsessions; i++) {
		const struct report_session *s = &rep->sessions[i];
		size_t slot;

		if (s->r.idle_ms == 0)
			continue;
		if (gpu_slot(p, rep->gpus[s->gpu].info.uuid, &slot) != 0 ||
		    add_idle(p, user_slot(p, unit_of(p, s->who.user,
		    s->who.slurm_job, s->who.pod, s->who.pod_namespace,
		    s->who.pod_name, buf, sizeof(buf))), slot,
		    s->r.idle_ms) != 0)
			return util_err(err, errlen, "out of memory");
	}
	if (rep->last_tick_ms > p->last_tick_ms)
		p->last_tick_ms = rep->last_tick_ms;
	return 0;
}

int
export_prom_add_tick(struct export_prom *p, const struct tick *t,
    const struct thresholds *thr, char *err, size_t errlen)
{
	char buf[UNIT_MAX];

	for (size_t i = 0; i < p->ngpus; i++)
		p->gpus[i].seen = 0;
	for (size_t i = 0; i < t->ngpus; i++) {
		const struct tick_gpu *g = &t->gpus[i];
		struct prom_gpu *pg;
		int64_t held, joules = energy_joules(g->energy_mj);
		enum state st;
		size_t slot;
		int partial;

		if (gpu_slot(p, g->uuid, &slot) != 0)
			return util_err(err, errlen, "out of memory");
		pg = &p->gpus[slot];
		pg->index = g->index;
		util_strlcpy(pg->name, g->name, sizeof(pg->name));
		held = tick_gpu_held_mib(g, &partial);
		st = classify_gpu(thr, g->util_pm, held, partial);
		pg->state_ms[st] += t->span_ms;
		/* Never negative (energy.c): a driver reload's counter reset
		   cannot take this counter back. */
		if (joules != ENERGY_UNKNOWN) {
			pg->energy_j[st] += joules;
			pg->energy_known = 1;
		}
		pg->seen = 1;
		pg->util_pm = g->util_pm;
		/* Processes none of whose memory is known hold an unknown
		   amount, not 0. */
		pg->held_mib = !g->procs_known || (partial && held == 0 &&
		    g->nprocs > 0) ? MIB_UNKNOWN : held;
		pg->total_mib = g->mem_total_mib;
		for (size_t j = 0; j < g->nprocs; j++) {
			const struct tick_proc *pr = &g->procs[j];

			if (classify_process(thr, pr->util_pm, g->util_pm,
			    pr->mem_mib) != STATE_IDLE_HELD)
				continue;
			if (add_idle(p, user_slot(p, unit_of(p, pr->id.user,
			    pr->id.slurm_job, pr->id.pod, pr->id.pod_namespace,
			    pr->id.pod_name, buf, sizeof(buf))), slot,
			    t->span_ms) != 0)
				return util_err(err, errlen, "out of memory");
		}
	}
	p->last_tick_ms = t->ts_ms;
	return 0;
}

void
export_prom_follow_streaks(struct export_prom *p, const struct streaks *ss)
{
	if (p != NULL)
		p->streaks = ss;
}

void
export_prom_count_error(struct export_prom *p)
{
	p->errors++;
}

/* Milliseconds as seconds, exactly: "12", "12.5", "0.25". */
static void
put_seconds(FILE *f, int64_t ms)
{
	if (ms % 1000 == 0) {
		fprintf(f, "%lld", (long long)(ms / 1000));
		return;
	}
	fprintf(f, "%lld.%03lld", (long long)(ms / 1000),
	    (long long)(ms % 1000));
}

static void
family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* {gpu="0",uuid="GPU-…"} without the closing brace. */
static void
gpu_labels(FILE *f, const struct prom_gpu *g)
{
	fprintf(f, "{gpu=\"%d\",uuid=\"", g->index);
	escape_prom_label_write(f, g->uuid);
	fputc('"', f);
}

static int
cmp_gpu(const void *a, const void *b)
{
	const struct prom_gpu *x = *(const struct prom_gpu *const *)a;
	const struct prom_gpu *y = *(const struct prom_gpu *const *)b;

	if (x->index != y->index)
		return x->index < y->index ? -1 : 1;
	return strcmp(x->uuid, y->uuid);
}

/* What the idle series sort by: user name ("(other)" last), GPU index. */
struct idle_row {
	const char		*user;
	int			 other;
	const struct prom_gpu	*gpu;
	int64_t			 ms;
};

static int
cmp_idle(const void *a, const void *b)
{
	const struct idle_row *x = a, *y = b;
	int c;

	if (x->other != y->other)
		return x->other - y->other;
	if ((c = strcmp(x->user, y->user)) != 0)
		return c;
	if (x->gpu->index != y->gpu->index)
		return x->gpu->index < y->gpu->index ? -1 : 1;
	return strcmp(x->gpu->uuid, y->gpu->uuid);
}

/* The longest current idle-held streaks, one series each. */
static void
print_streaks(const struct export_prom *p, FILE *f)
{
	const struct streak *top[EXPORT_PROM_TOP_STREAKS];
	size_t n = 0;

	family(f, "gua_process_idle_held_streak_seconds", "gauge",
	    "How long a process has been idle-held on a GPU without a break, "
	    "as of the latest tick; the 20 longest current streaks only.");
	if (p->streaks != NULL)
		n = streaks_longest(p->streaks, top, EXPORT_PROM_TOP_STREAKS);
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "gua_process_idle_held_streak_seconds{gpu=\"%d\","
		    "uuid=\"", top[i]->gpu_index);
		escape_prom_label_write(f, top[i]->uuid);
		fputs("\",user=\"", f);
		escape_prom_label_write(f, top[i]->id.user[0] ?
		    top[i]->id.user : "unknown");
		fprintf(f, "\",pid=\"%u\"} ", top[i]->pid);
		put_seconds(f, top[i]->idle_ms);
		fputc('\n', f);
	}
}

int
export_prom_print(const struct export_prom *p, FILE *f)
{
	const struct prom_gpu **g = calloc(p->ngpus + 1, sizeof(*g));
	struct idle_row *idle = calloc(p->nidle + 1, sizeof(*idle));

	if (g == NULL || idle == NULL) {
		free(g);
		free(idle);
		return -1;
	}
	for (size_t i = 0; i < p->ngpus; i++)
		g[i] = &p->gpus[i];
	qsort(g, p->ngpus, sizeof(*g), cmp_gpu);

	family(f, "gua_gpu_state_seconds_total", "counter",
	    "GPU time observed in each state (active, idle_held, truly_idle, "
	    "unknown), from the recorded tick spans.");
	for (size_t i = 0; i < p->ngpus; i++) {
		for (int s = 0; s < STATE_COUNT; s++) {
			fputs("gua_gpu_state_seconds_total", f);
			gpu_labels(f, g[i]);
			fprintf(f, ",state=\"%s\"} ", state_keys[s]);
			put_seconds(f, g[i]->state_ms[s]);
			fputc('\n', f);
		}
	}
	family(f, "gua_gpu_energy_joules_total", "counter",
	    "GPU energy in each state (active, idle_held, truly_idle, "
	    "unknown), from NVML's total-energy counter, else power usage x "
	    "tick span; absent for a GPU that could tell neither.");
	for (size_t i = 0; i < p->ngpus; i++) {
		for (int s = 0; s < STATE_COUNT && g[i]->energy_known; s++) {
			fputs("gua_gpu_energy_joules_total", f);
			gpu_labels(f, g[i]);
			fprintf(f, ",state=\"%s\"} %lld\n", state_keys[s],
			    (long long)g[i]->energy_j[s]);
		}
	}
	family(f, "gua_gpu_utilization_ratio", "gauge",
	    "GPU utilization over the latest tick, 0 to 1 (absent when NVML "
	    "could not tell).");
	for (size_t i = 0; i < p->ngpus; i++) {
		if (!g[i]->seen || g[i]->util_pm == UTIL_UNKNOWN)
			continue;
		fputs("gua_gpu_utilization_ratio", f);
		gpu_labels(f, g[i]);
		fprintf(f, "} %d.%03d\n", g[i]->util_pm / 1000,
		    g[i]->util_pm % 1000);
	}
	family(f, "gua_gpu_memory_held_bytes", "gauge",
	    "Memory held by the GPU's processes at the latest tick (their "
	    "own memory, not the driver's reservations).");
	for (size_t i = 0; i < p->ngpus; i++) {
		if (!g[i]->seen || g[i]->held_mib == MIB_UNKNOWN)
			continue;
		fputs("gua_gpu_memory_held_bytes", f);
		gpu_labels(f, g[i]);
		fprintf(f, "} %lld\n", (long long)g[i]->held_mib * 1048576);
	}
	family(f, "gua_gpu_memory_total_bytes", "gauge",
	    "The GPU's total memory as NVML reports it at the latest tick "
	    "(absent when NVML could not tell).");
	for (size_t i = 0; i < p->ngpus; i++) {
		if (!g[i]->seen || g[i]->total_mib == MIB_UNKNOWN)
			continue;
		fputs("gua_gpu_memory_total_bytes", f);
		gpu_labels(f, g[i]);
		fprintf(f, "} %lld\n", (long long)g[i]->total_mib * 1048576);
	}
	family(f, "gua_gpu_info", "gauge",
	    "The GPUs gua has seen, with their names; always 1.");
	for (size_t i = 0; i < p->ngpus; i++) {
		fputs("gua_gpu_info", f);
		gpu_labels(f, g[i]);
		fputs(",name=\"", f);
		escape_prom_label_write(f, g[i]->name);
		fputs("\",driver_version=\"", f);
		escape_prom_label_write(f, p->driver_version);
		fputs("\"} 1\n", f);
	}

	for (size_t i = 0; i < p->nidle; i++) {
		const struct prom_idle *e = &p->idle[i];

		idle[i].other = e->user == OTHER;
		idle[i].user = idle[i].other ? EXPORT_PROM_OTHER :
		    p->users[e->user];
		idle[i].gpu = &p->gpus[e->gpu];
		idle[i].ms = e->ms;
	}
	qsort(idle, p->nidle, sizeof(*idle), cmp_idle);
	family(f, "gua_process_idle_held_seconds_total", "counter",
	    units[p->by].help);
	for (size_t i = 0; i < p->nidle; i++) {
		/* The uuid too: two GPUs of a history can share an index (a
		   card replaced), and a series must be unique. */
		fprintf(f, "gua_process_idle_held_seconds_total{%s=\"",
		    units[p->by].label);
		escape_prom_label_write(f, idle[i].user);
		fprintf(f, "\",gpu=\"%d\",uuid=\"", idle[i].gpu->index);
		escape_prom_label_write(f, idle[i].gpu->uuid);
		fputs("\"} ", f);
		put_seconds(f, idle[i].ms);
		fputc('\n', f);
	}

	print_streaks(p, f);

	family(f, "gua_last_tick_timestamp_seconds", "gauge",
	    "When the latest tick was recorded, in seconds since the epoch.");
	if (p->last_tick_ms > 0) {
		fputs("gua_last_tick_timestamp_seconds ", f);
		put_seconds(f, p->last_tick_ms);
		fputc('\n', f);
	}
	family(f, "gua_tick_errors_total", "counter",
	    "Ticks that could not be sampled or recorded.");
	fprintf(f, "gua_tick_errors_total %lld\n", (long long)p->errors);
	family(f, "gua_build_info", "gauge", "The gua that writes this file.");
	fprintf(f, "gua_build_info{version=\"%s\"} 1\n", GUA_VERSION);
	free(g);
	free(idle);
	return ferror(f) ? -1 : 0;
}

int
export_prom_render(const struct export_prom *p, char **text, size_t *len)
{
	FILE *f;
	int rc;

	*text = NULL;
	*len = 0;
	if ((f = open_memstream(text, len)) == NULL)
		return -1;
	rc = export_prom_print(p, f);
	if (fclose(f) != 0 || rc != 0) {
		free(*text);
		*text = NULL;
		*len = 0;
		return -1;
	}
	return 0;
}

int
export_prom_write(struct export_prom *p, char *err, size_t errlen)
{
	char *text;
	size_t len;
	int rc;

	if (export_prom_render(p, &text, &len) != 0)
		return util_err(err, errlen, "out of memory");
	rc = export_prom_write_text(p, text, len, err, errlen);
	free(text);
	return rc;
}

int
export_prom_write_text(struct export_prom *p, const char *text, size_t len,
    char *err, size_t errlen)
{
	struct outfile of;
	struct stat st;

	if (p->path == NULL)
		return util_err(err, errlen, "no textfile directory");
	/* 0644: node_exporter runs as another user and must read it. */
	if (outfile_open_file(&of, p->path, 0644, err, errlen) != 0)
		return -1;
	errno = 0;
	if (fwrite(text, 1, len, of.fp) != len || fflush(of.fp) != 0 ||
	    fstat(fileno(of.fp), &st) != 0) {
		int e = errno;

		outfile_abort(&of);
		return util_err(err, errlen, "%s: cannot write%s%s", p->path,
		    e ? ": " : "", e ? strerror(e) : "");
	}
	if (outfile_commit(&of, err, errlen) != 0)
		return -1;
	p->written = 1;
	p->written_dev = st.st_dev;
	p->written_ino = st.st_ino;
	return 0;
}

int
export_prom_remove(struct export_prom *p, char *err, size_t errlen)
{
	struct stat st;

	/* Gone already, or replaced by someone else's: not ours to take. */
	if (p->path == NULL || !p->written || lstat(p->path, &st) != 0 ||
	    st.st_dev != p->written_dev || st.st_ino != p->written_ino)
		return 0;
	if (unlink(p->path) != 0 && errno != ENOENT)
		return util_err(err, errlen, "%s: cannot remove: %s", p->path,
		    strerror(errno));
	p->written = 0;
	outfile_sync_dir(p->path);
	return 0;
}
