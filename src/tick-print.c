/*
 * The collector's --foreground line of a tick: time, span, and each GPU
 * as the reports label it with its state, utilization and memory held,
 * and each of its processes (PID, user, memory, own SM utilization,
 * state). Names are escaped for a terminal.
 *
 * A tick of a thousand processes is a line of some 60 KB, printed every
 * tick: the processes are written with the stream locked once and the
 * numbers formatted by hand, as printf-ing each field cost more than
 * sampling them.
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

/* n in decimal, as "%lld" prints it, onto a locked stream. */
static void
put_int(FILE *f, int64_t n)
{
	char buf[24], *p = buf + sizeof(buf);
	uint64_t u = n < 0 ? -(uint64_t)n : (uint64_t)n;

	*--p = '\0';
	do
		*--p = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (n < 0)
		*--p = '-';
	fputs_unlocked(p, f);
}

/* " 12288 MiB", " ? MiB" when unknown, onto a locked stream. */
static void
print_mib(FILE *f, int64_t mib)
{
	if (mib == MIB_UNKNOWN) {
		fputs_unlocked(" ? MiB", f);
		return;
	}
	fputc_unlocked(' ', f);
	put_int(f, mib);
	fputs_unlocked(" MiB", f);
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

	classify_defaults(&thr);
	util_format_rfc3339(t->ts_ms, ts, sizeof(ts));
	duration_format(t->span_ms, span, sizeof(span));
	flockfile(f);
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
		fputs_unlocked(partial ? " held >=" : " held", f);
		print_mib(f, partial && held == 0 ? MIB_UNKNOWN : held);
		fprintf(f, " by %zu", g->nprocs);
		for (size_t k = 0; k < g->nprocs; k++) {
			const struct tick_proc *p = &g->procs[k];
			const char *who = p->id.user[0] ? p->id.user : "?";

			/* Most processes of a GPU are one user's: escaped once. */
			if (raw == NULL || strcmp(raw, who) != 0) {
				escape_terminal(who, user, sizeof(user), 32);
				raw = who;
			}
			fputs_unlocked(k ? ", " : " [", f);
			put_int(f, p->pid);
			fputc_unlocked(' ', f);
			fputs_unlocked(user, f);
			print_mib(f, p->mem_mib);
			if (p->util_pm != UTIL_UNKNOWN) {
				fputs_unlocked(" sm ", f);
				put_int(f, p->util_pm / 10);
				fputc_unlocked('%', f);
			}
			fputc_unlocked(' ', f);
			fputs_unlocked(state_name(classify_process(&thr,
			    p->util_pm, g->util_pm, p->mem_mib)), f);
		}
		if (g->nprocs > 0)
			fputc_unlocked(']', f);
	}
	fputc_unlocked('\n', f);
	funlockfile(f);
	fflush(f);
}
