/*
 * The collector's --foreground line of a tick: time, span, and each GPU
 * as the reports label it with its state, utilization and memory held,
 * and each of its processes (PID, user, memory, own SM utilization,
 * state). Names are escaped for a terminal.
 *
 * A tick of a thousand processes is a line of some 60 KB, printed every
 * tick: the processes are gathered in a buffer with the numbers
 * formatted by hand, as printf-ing each field cost more than sampling
 * them.
 */
#include <stdio.h>
#include <string.h>

#include "classify.h"
#include "duration.h"
#include "escape.h"
#include "label.h"
#include "tick-print.h"
#include "util.h"

char *
tick_print_label(const struct tick *t, size_t i, char *buf, size_t len)
{
	const struct tick_gpu *g = &t->gpus[i];
	size_t chars = 0;

	for (size_t k = 0; g->parent_uuid[0] != '\0' && k < t->ngpus; k++)
		if (k != i && strcmp(t->gpus[k].parent_uuid,
		    g->parent_uuid) == 0)
			chars = label_mig_chars(g->uuid, t->gpus[k].uuid,
			    chars);
	return label_gpu(buf, len, g->index, 1, g->uuid, g->parent_uuid,
	    chars);
}

/* A line's processes, gathered in a buffer and written in pieces. */
struct out {
	FILE	*f;
	size_t	 n;
	char	 buf[4096];
};

static void
put_mem(struct out *o, const char *s, size_t len)
{
	if (o->n + len > sizeof(o->buf)) {
		fwrite(o->buf, 1, o->n, o->f);
		o->n = 0;
		if (len > sizeof(o->buf)) {
			fwrite(s, 1, len, o->f);
			return;
		}
	}
	memcpy(o->buf + o->n, s, len);
	o->n += len;
}

static void
put_str(struct out *o, const char *s)
{
	put_mem(o, s, strlen(s));
}

/* n in decimal, as "%lld" prints it. */
static void
put_int(struct out *o, int64_t n)
{
	char buf[24], *p = buf + sizeof(buf);
	uint64_t u = n < 0 ? -(uint64_t)n : (uint64_t)n;

	do
		*--p = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (n < 0)
		*--p = '-';
	put_mem(o, p, (size_t)(buf + sizeof(buf) - p));
}

/* " 12288 MiB", " ? MiB" when unknown. */
static void
put_mib(struct out *o, int64_t mib)
{
	if (mib == MIB_UNKNOWN) {
		put_str(o, " ? MiB");
		return;
	}
	put_str(o, " ");
	put_int(o, mib);
	put_str(o, " MiB");
}

/*
 * One line per tick for --foreground, printed once the tick is committed:
 * time, span, and each GPU with its state, utilization, memory held, and
 * every process on it: PID, user, memory, its own SM utilization and its
 * state, the evidence behind an idle-held GPU. Labels as in the reports;
 * user names escaped for the terminal.
 */
void
tick_print(FILE *f, const struct tick *t, int64_t n)
{
	struct thresholds thr;
	char ts[32], span[32], label[64], user[160];
	struct out o = { .f = f, .n = 0 };

	classify_defaults(&thr);
	util_format_rfc3339(t->ts_ms, ts, sizeof(ts));
	duration_format(t->span_ms, span, sizeof(span));
	fprintf(f, "%s tick %lld span %s:", ts, (long long)n, span);
	for (size_t i = 0; i < t->ngpus; i++) {
		const struct tick_gpu *g = &t->gpus[i];
		const char *raw = NULL;
		int partial;
		int64_t held = tick_gpu_held_mib(g, &partial);

		fprintf(f, "%s %s %s", i ? ";" : "",
		    tick_print_label(t, i, label, sizeof(label)),
		    state_name(classify_gpu(&thr, g->util_pm, held, partial)));
		if (g->util_pm != UTIL_UNKNOWN)
			fprintf(f, " util %d%%", g->util_pm / 10);
		if (!g->procs_known)
			continue;
		/* Memory some holders did not tell: at least what others did. */
		put_str(&o, partial ? " held >=" : " held");
		put_mib(&o, partial && held == 0 ? MIB_UNKNOWN : held);
		put_str(&o, " by ");
		put_int(&o, (int64_t)g->nprocs);
		for (size_t k = 0; k < g->nprocs; k++) {
			const struct tick_proc *p = &g->procs[k];
			const char *who = p->id.user[0] ? p->id.user : "?";

			/* Most processes of a GPU are one user's: escaped once. */
			if (raw == NULL || strcmp(raw, who) != 0) {
				escape_terminal(who, user, sizeof(user), 32);
				raw = who;
			}
			put_str(&o, k ? ", " : " [");
			put_int(&o, p->pid);
			put_str(&o, " ");
			put_str(&o, user);
			put_mib(&o, p->mem_mib);
			if (p->util_pm != UTIL_UNKNOWN) {
				put_str(&o, " sm ");
				put_int(&o, p->util_pm / 10);
				put_str(&o, "%");
			}
			put_str(&o, " ");
			put_str(&o, state_name(classify_process(&thr,
			    p->util_pm, g->util_pm, p->mem_mib)));
		}
		if (g->nprocs > 0)
			put_str(&o, "]");
		fwrite(o.buf, 1, o.n, f);
		o.n = 0;
	}
	fputc('\n', f);
	fflush(f);
}
