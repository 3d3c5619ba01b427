/*
 * gua top's screen (top-print.h): a title, the collector's state, a table
 * of the GPUs and one of the processes, idle-held holders first. Every
 * cell of untrusted text goes through escape_terminal, cut to its column;
 * the command, last, gets what is left of the width.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"
#include "escape.h"
#include "grow.h"
#include "json.h"
#include "tick.h"
#include "top-print.h"
#include "util.h"
#include "version.h"

/* Column widths of the tables (the command takes the rest). */
#define W_LABEL		12
#define W_MODEL		24
#define W_PGPU		10	/* the process table's GPU */
#define W_USER		10
#define W_WHERE		16

/* A line being built, and its width in columns. */
struct lbuf {
	char	*s;
	size_t	 len, cap;
	size_t	 cols;
	size_t	 width;		/* where to stop; 0: never */
	int	 failed;	/* out of memory */
};

/* Columns of printable UTF-8: one per character. */
static size_t
cols_of(const char *s, size_t len)
{
	size_t c = 0;

	for (size_t i = 0; i < len; i++)
		c += ((unsigned char)s[i] & 0xc0) != 0x80;
	return c;
}

static void
lb_add(struct lbuf *b, const char *s, size_t len)
{
	if (b->failed)
		return;
	if (grow((void **)&b->s, &b->cap, b->len + len + 1, 1) != 0) {
		b->failed = 1;
		return;
	}
	memcpy(b->s + b->len, s, len);
	b->len += len;
	b->s[b->len] = '\0';
	b->cols += cols_of(s, len);
}

/* Trusted text: ours, numbers. */
static void
lb_printf(struct lbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
lb_printf(struct lbuf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		lb_add(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n :
		    sizeof(tmp) - 1);
}

static void
lb_pad(struct lbuf *b, size_t to)
{
	while (b->cols < to && !b->failed)
		lb_add(b, " ", 1);
}

/* Untrusted text, escaped, at most cols columns (0: up to the width). */
static void
lb_untrusted(struct lbuf *b, const char *s, size_t cols)
{
	/* Each byte escapes to at most "\xNN"; "…" ends a cut. */
	size_t room = strlen(s) * 4 + 8, left = 0;
	char *out = malloc(room);

	if (out == NULL) {
		b->failed = 1;
		return;
	}
	if (b->width > 0)
		left = b->width > b->cols ? b->width - b->cols : 1;
	if (cols == 0 || (left > 0 && left < cols))
		cols = left;
	escape_terminal(s, out, room, cols);
	lb_add(b, out, strlen(out));
	free(out);
}

/* A cell of untrusted text: cut to w columns and padded past it. */
static void
lb_cell(struct lbuf *b, const char *s, size_t w)
{
	size_t start = b->cols;

	lb_untrusted(b, s[0] != '\0' ? s : "-", w);
	lb_pad(b, start + w + 2);
}

/* Ends the line: cut to the width, added to the list. */
static int
lb_end(struct lbuf *b, enum top_line_kind kind, struct top_line **lines,
    size_t *n, size_t *cap)
{
	if (b->s == NULL)
		lb_add(b, "", 0);
	if (b->failed || grow((void **)lines, cap, *n + 1,
	    sizeof(**lines)) != 0) {
		free(b->s);
		memset(b, 0, sizeof(*b));
		return -1;
	}
	if (b->width > 0 && b->cols > b->width) {
		size_t c = 0, i = 0;

		for (; i < b->len; i++)
			if (((unsigned char)b->s[i] & 0xc0) != 0x80 &&
			    c++ == b->width)
				break;
		b->s[i] = '\0';
	}
	/* Trailing blanks help nobody (and tests compare lines). */
	for (size_t i = strlen(b->s); i > 0 && b->s[i - 1] == ' '; i--)
		b->s[i - 1] = '\0';
	(*lines)[*n].kind = kind;
	(*lines)[*n].text = b->s;
	(*n)++;
	b->s = NULL;
	b->len = b->cap = b->cols = 0;
	return 0;
}

void
top_format_age(int64_t ms, char *buf, size_t len)
{
	int64_t s = ms < 0 ? 0 : ms / 1000;

	if (s < 120)
		snprintf(buf, len, "%lld s ago", (long long)s);
	else if (s < 120 * 60)
		snprintf(buf, len, "%lld min ago", (long long)(s / 60));
	else if (s < 48 * 3600)
		snprintf(buf, len, "%lld h ago", (long long)(s / 3600));
	else
		snprintf(buf, len, "%lld days ago", (long long)(s / 86400));
}

/* "2:13:05", or "3d 02:13:05" past a day. */
static void
format_streak(int64_t ms, char *buf, size_t len)
{
	int64_t s = (ms + 500) / 1000, d = s / 86400;

	s %= 86400;
	if (d > 0)
		snprintf(buf, len, "%lldd %02lld:%02lld:%02lld", (long long)d,
		    (long long)(s / 3600), (long long)(s / 60 % 60),
		    (long long)(s % 60));
	else
		snprintf(buf, len, "%lld:%02lld:%02lld", (long long)(s / 3600),
		    (long long)(s / 60 % 60), (long long)(s % 60));
}

static enum top_line_kind
kind_of(enum state s)
{
	switch (s) {
	case STATE_ACTIVE:
		return TOP_LINE_ACTIVE;
	case STATE_IDLE_HELD:
		return TOP_LINE_IDLE_HELD;
	case STATE_TRULY_IDLE:
		return TOP_LINE_TRULY_IDLE;
	default:
		return TOP_LINE_UNKNOWN;
	}
}

static void
lb_util(struct lbuf *b, int util_pm, size_t w)
{
	size_t start = b->cols;

	if (util_pm == UTIL_UNKNOWN)
		lb_printf(b, "%*s", (int)w, "?");
	else
		lb_printf(b, "%*d %%", (int)w - 2, (util_pm + 5) / 10);
	lb_pad(b, start + w + 2);
}

/* The command a process runs: its command line, else its name. */
static const char *
command_of(const struct identity *id)
{
	return id->cmdline[0] != '\0' ? id->cmdline : id->comm;
}

/* The title and the collector's state. */
static int
status_lines(const struct top_view *v, const struct top_status *st,
    struct lbuf *b, struct top_line **l, size_t *n, size_t *cap)
{
	char when[32], age[48];

	lb_printf(b, "gua top  ");
	lb_untrusted(b, v->host[0] ? v->host : "?", 40);
	lb_printf(b, "  ");
	lb_untrusted(b, st->db, 0);
	if (lb_end(b, TOP_LINE_TITLE, l, n, cap) != 0)
		return -1;
	if (v->have_tick) {
		util_format_datetime(v->tick_ms, when, sizeof(when));
		top_format_age(st->now_ms - v->tick_ms, age, sizeof(age));
	}
	if (st->running && st->pid > 0)
		lb_printf(b, "collector running (PID %ld)", (long)st->pid);
	else if (st->running)
		lb_printf(b, "collector running");
	else
		lb_printf(b, "collector stopped: no collector is writing "
		    "this database");
	if (v->have_tick)
		lb_printf(b, ", last tick %s UTC, %s", when, age);
	else
		lb_printf(b, ", no tick yet");
	if (st->running && v->interval_ms > 0) {
		/* As --interval takes it: "200ms" is no "1 s". */
		char every[32];

		duration_format(v->interval_ms, every, sizeof(every));
		lb_printf(b, " (every %s)", every);
	}
	if (lb_end(b, st->running ? TOP_LINE_PLAIN : TOP_LINE_WARN, l, n,
	    cap) != 0)
		return -1;
	if (!st->running && st->start_hint[0] != '\0') {
		lb_printf(b, "start one with: ");
		lb_untrusted(b, st->start_hint, 0);
		if (lb_end(b, TOP_LINE_WARN, l, n, cap) != 0)
			return -1;
	} else if (!st->running) {
		lb_printf(b, "recorded on host ");
		lb_untrusted(b, v->host, 0);
		lb_printf(b, ": only a collector there can write it");
		if (lb_end(b, TOP_LINE_WARN, l, n, cap) != 0)
			return -1;
	}
	return 0;
}

static int
gpu_lines(const struct top_view *v, struct lbuf *b, struct top_line **l,
    size_t *n, size_t *cap)
{
	if (lb_end(b, TOP_LINE_PLAIN, l, n, cap) != 0)
		return -1;
	lb_printf(b, "%-*s  %-*s  %6s  %-21s  %s", W_LABEL, "GPU", W_MODEL,
	    "MODEL", "UTIL", "MEMORY HELD / TOTAL", "STATE");
	if (lb_end(b, TOP_LINE_HEAD, l, n, cap) != 0)
		return -1;
	for (size_t i = 0; i < v->ngpus; i++) {
		const struct top_gpu *g = &v->gpus[i];
		char held[32], total[32], mem[80];

		lb_cell(b, g->label, W_LABEL);
		lb_cell(b, g->info.name, W_MODEL);
		lb_util(b, g->util_pm, 6);
		if (g->held_partial && g->held_mib == 0)
			snprintf(held, sizeof(held), "?");
		else
			snprintf(held, sizeof(held), "%lld%s",
			    (long long)g->held_mib, g->held_partial ? "+" : "");
		if (g->info.mem_total_mib == MIB_UNKNOWN)
			snprintf(total, sizeof(total), "?");
		else
			snprintf(total, sizeof(total), "%lld",
			    (long long)g->info.mem_total_mib);
		snprintf(mem, sizeof(mem), "%s / %s MiB", held, total);
		lb_printf(b, "%-21s  %s", mem, state_name(g->state));
		if (lb_end(b, kind_of(g->state), l, n, cap) != 0)
			return -1;
	}
	if (v->ngpus == 0) {
		lb_printf(b, v->have_tick ? "no GPU at the last tick" :
		    "no tick yet");
		if (lb_end(b, TOP_LINE_PLAIN, l, n, cap) != 0)
			return -1;
	}
	return 0;
}

static int
proc_lines(const struct top_view *v, struct lbuf *b, struct top_line **l,
    size_t *n, size_t *cap)
{
	if (lb_end(b, TOP_LINE_PLAIN, l, n, cap) != 0)
		return -1;
	/* What matters most comes first: who, where, how long idle. */
	lb_printf(b, "%-7s  %-*s  %-*s  %-10s  %-16s  %9s  %5s  %-*s  %s",
	    "PID", W_USER, "USER", W_PGPU, "GPU", "STATE", "IDLE-HELD FOR",
	    "MEMORY", "SM", W_WHERE, "WHERE", "COMMAND");
	if (lb_end(b, TOP_LINE_HEAD, l, n, cap) != 0)
		return -1;
	for (size_t i = 0; i < v->nprocs; i++) {
		const struct top_proc *p = &v->procs[i];
		char where[256], idle[48], mem[32];

		lb_printf(b, "%-7lu  ", (unsigned long)p->pid);
		lb_cell(b, p->id.user[0] ? p->id.user : "?", W_USER);
		lb_cell(b, v->gpus[p->gpu].label, W_PGPU);
		if (p->state == STATE_IDLE_HELD) {
			format_streak(p->idle_ms, mem, sizeof(mem));
			snprintf(idle, sizeof(idle), "idle %s", mem);
		} else {
			snprintf(idle, sizeof(idle), "-");
		}
		lb_printf(b, "%-10s  %-16s  ", state_name(p->state), idle);
		if (p->mem_mib == MIB_UNKNOWN)
			snprintf(mem, sizeof(mem), "? MiB");
		else
			snprintf(mem, sizeof(mem), "%lld MiB",
			    (long long)p->mem_mib);
		lb_printf(b, "%9s  ", mem);
		lb_util(b, p->util_pm, 5);
		lb_cell(b, top_where(&p->id, where, sizeof(where)), W_WHERE);
		lb_untrusted(b, command_of(&p->id)[0] ? command_of(&p->id) :
		    "?", 0);
		if (lb_end(b, kind_of(p->state), l, n, cap) != 0)
			return -1;
	}
	if (v->nprocs == 0 && v->have_tick) {
		lb_printf(b, "no process holds a GPU");
		if (lb_end(b, TOP_LINE_PLAIN, l, n, cap) != 0)
			return -1;
	}
	return 0;
}

int
top_lines(const struct top_view *v, const struct top_status *st,
    size_t width, struct top_line **out, size_t *n)
{
	struct top_line *l = NULL;
	struct lbuf b;
	size_t len = 0, cap = 0;

	memset(&b, 0, sizeof(b));
	b.width = width;
	if (status_lines(v, st, &b, &l, &len, &cap) != 0 ||
	    gpu_lines(v, &b, &l, &len, &cap) != 0 ||
	    proc_lines(v, &b, &l, &len, &cap) != 0) {
		free(b.s);
		top_lines_free(l, len);
		return -1;
	}
	*out = l;
	*n = len;
	return 0;
}

void
top_lines_free(struct top_line *l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(l[i].text);
	free(l);
}

/* States as the CSV and the textfile name them. */
static const char *const state_keys[STATE_COUNT] = {
	"active", "idle_held", "truly_idle", "unknown"
};

/* A percentage from per mille, one decimal; null when unknown. */
static void
json_util(struct json *j, const char *key, int util_pm)
{
	if (util_pm == UTIL_UNKNOWN)
		json_null(j, key);
	else
		json_double(j, key, util_pm / 10.0, 1);
}

static void
json_text(struct json *j, const char *key, const char *s)
{
	json_string(j, key, s[0] != '\0' ? s : NULL);
}

static void
json_mib(struct json *j, const char *key, int64_t mib)
{
	if (mib == MIB_UNKNOWN)
		json_null(j, key);
	else
		json_int(j, key, mib);
}

/* Milliseconds as seconds, to the millisecond. */
static void
json_seconds(struct json *j, const char *key, int64_t ms)
{
	json_double(j, key, (double)ms / 1000, 3);
}

/* "KEY": RFC 3339 and "KEY_epoch_seconds", as the report's; null both
   when unknown. */
static void
json_time(struct json *j, const char *key, int64_t ms, int known)
{
	char when[48], ekey[64];

	snprintf(ekey, sizeof(ekey), "%s_epoch_seconds", key);
	if (!known) {
		json_null(j, key);
		json_null(j, ekey);
		return;
	}
	util_format_rfc3339_ms(ms, when, sizeof(when));
	json_string(j, key, when);
	json_seconds(j, ekey, ms);
}

int
top_print_json(FILE *f, const struct top_view *v, const struct top_status *st)
{
	struct json j;
	char gen[64];

	json_init(&j, f, 2);
	json_object_begin(&j, NULL);
	json_int(&j, "schema_version", 1);
	snprintf(gen, sizeof(gen), "gua %s", GUA_VERSION);
	json_string(&j, "generator", gen);
	json_text(&j, "hostname", v->host);
	json_string(&j, "database", st->db);
	json_time(&j, "generated_at", st->now_ms, 1);
	json_object_begin(&j, "collector");
	json_bool(&j, "running", st->running);
	if (st->running && st->pid > 0)
		json_int(&j, "pid", st->pid);
	else
		json_null(&j, "pid");
	if (v->interval_ms > 0)
		json_seconds(&j, "interval_seconds", v->interval_ms);
	else
		json_null(&j, "interval_seconds");
	json_object_end(&j);
	json_time(&j, "last_tick_at", v->tick_ms, v->have_tick);
	if (v->have_tick) {
		json_seconds(&j, "last_tick_age_seconds", st->now_ms -
		    v->tick_ms);
		json_seconds(&j, "last_tick_span_seconds", v->span_ms);
	} else {
		json_null(&j, "last_tick_age_seconds");
		json_null(&j, "last_tick_span_seconds");
	}
	json_object_begin(&j, "thresholds");
	json_int(&j, "active_utilization_percent", v->thr.active_util);
	json_int(&j, "held_memory_mib", v->thr.held_mib);
	json_object_end(&j);
	json_array_begin(&j, "gpus");
	for (size_t i = 0; i < v->ngpus; i++) {
		const struct top_gpu *g = &v->gpus[i];

		json_object_begin(&j, NULL);
		json_string(&j, "label", g->label);
		json_string(&j, "uuid", g->info.uuid);
		json_text(&j, "model", g->info.name);
		json_util(&j, "utilization_percent", g->util_pm);
		json_int(&j, "memory_held_mib", g->held_mib);
		json_bool(&j, "memory_held_partial", g->held_partial);
		json_mib(&j, "memory_total_mib", g->info.mem_total_mib);
		json_string(&j, "state", state_keys[g->state]);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_array_begin(&j, "processes");
	for (size_t i = 0; i < v->nprocs; i++) {
		const struct top_proc *p = &v->procs[i];
		int idle = p->state == STATE_IDLE_HELD;

		json_object_begin(&j, NULL);
		json_int(&j, "pid", p->pid);
		json_text(&j, "user", p->id.user);
		if (p->id.uid >= 0)
			json_int(&j, "uid", p->id.uid);
		else
			json_null(&j, "uid");
		json_string(&j, "gpu", v->gpus[p->gpu].label);
		json_string(&j, "gpu_uuid", v->gpus[p->gpu].info.uuid);
		json_text(&j, "container", p->id.container);
		json_text(&j, "pod", p->id.pod);
		json_text(&j, "slurm_job", p->id.slurm_job);
		json_text(&j, "unit", p->id.unit);
		json_text(&j, "command", command_of(&p->id));
		json_mib(&j, "memory_mib", p->mem_mib);
		json_util(&j, "sm_utilization_percent", p->util_pm);
		json_string(&j, "state", state_keys[p->state]);
		if (idle)
			json_seconds(&j, "idle_held_seconds", p->idle_ms);
		else
			json_null(&j, "idle_held_seconds");
		json_time(&j, "idle_held_since", p->idle_since_ms, idle);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_object_end(&j);
	return json_finish(&j);
}
