/*
 * The collector's --foreground line of a tick: time, span, and each GPU
 * as the reports label it with its state, utilization and memory held,
 * and each of its processes (PID, user, memory, own SM utilization,
 * state). Names are escaped for a terminal.
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

/* " 12288 MiB", " ? MiB" when unknown. */
static void
print_mib(FILE *f, int64_t mib)
{
	if (mib == MIB_UNKNOWN)
		fputs(" ? MiB", f);
	else
		fprintf(f, " %lld MiB", (long long)mib);
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
	fprintf(f, "%s tick %lld span %s:", ts, (long long)n, span);
	for (size_t i = 0; i < t->ngpus; i++) {
		const struct tick_gpu *g = &t->gpus[i];
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
		fputs(partial ? " held >=" : " held", f);
		print_mib(f, partial && held == 0 ? MIB_UNKNOWN : held);
		fprintf(f, " by %zu", g->nprocs);
		for (size_t k = 0; k < g->nprocs; k++) {
			const struct tick_proc *p = &g->procs[k];

			escape_terminal(p->id.user[0] ? p->id.user : "?", user,
			    sizeof(user), 32);
			fprintf(f, "%s%u %s", k ? ", " : " [", p->pid, user);
			print_mib(f, p->mem_mib);
			if (p->util_pm != UTIL_UNKNOWN)
				fprintf(f, " sm %d%%", p->util_pm / 10);
			fprintf(f, " %s", state_name(classify_process(&thr,
			    p->util_pm, g->util_pm, p->mem_mib)));
		}
		if (g->nprocs > 0)
			fputc(']', f);
	}
	fputc('\n', f);
	fflush(f);
}
