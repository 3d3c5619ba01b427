/*
 * report_rows: the raw ticks of a report's window, one row per GPU and
 * tick with its processes and their identities, for the CSV writers;
 * with a filter, the GPUs at the ticks its processes held, with only them.
 */
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "imap.h"
#include "report-internal.h"
#include "util.h"

/* What report_rows keeps between rows. */
struct rows {
	const struct report_options *o;
	const char	*host;
	struct store	*st;
	struct store_gpu *gpus;		/* every GPU in the database */
	size_t		 ngpus;
	struct imap	 proc_slot;	/* proc id -> index in who */
	struct {
		uint32_t	pid;
		struct identity	who;
	}		*who;
	size_t		 nwho, who_cap;
	struct report_row_proc *procs;
	size_t		 procs_cap;
	int		 (*fn)(void *, const struct report_row *);
	void		*ctx;
	char		*err;
	size_t		 errlen;
};

/* The identity of a process key, read once per report. */
static int
row_identity(struct rows *w, int64_t proc_id, size_t *slot)
{
	int64_t v, start;

	if (imap_get(&w->proc_slot, proc_id, 0, &v) == 0) {
		*slot = (size_t)v;
		return 0;
	}
	if (grow((void **)&w->who, &w->who_cap, w->nwho + 1,
	    sizeof(*w->who)) != 0)
		return util_err(w->err, w->errlen, "out of memory");
	if (store_process(w->st, proc_id, &w->who[w->nwho].pid, &start,
	    &w->who[w->nwho].who, w->err, w->errlen) != 0)
		return -1;
	if (imap_put(&w->proc_slot, proc_id, 0, (int64_t)w->nwho) != 0)
		return util_err(w->err, w->errlen, "out of memory");
	*slot = w->nwho++;
	return 0;
}

static int
row_sink(void *ctx, const struct store_row *r)
{
	struct rows *w = ctx;
	struct report_row row;
	int partial = !r->reading.procs_known, known = 0;

	memset(&row, 0, sizeof(row));
	for (size_t i = 0; i < w->ngpus && row.gpu == NULL; i++)
		if (w->gpus[i].id == r->gpu_id)
			row.gpu = &w->gpus[i];
	if (row.gpu == NULL)
		return 0;	/* a sample without its GPU: as the report */
	if (r->nprocs > w->procs_cap) {
		void *n = realloc(w->procs, r->nprocs * sizeof(*w->procs));

		if (n == NULL)
			return util_err(w->err, w->errlen, "out of memory");
		w->procs = n;
		w->procs_cap = r->nprocs;
	}
	/* Identities first: the array of them may move while it grows. */
	for (size_t i = 0; i < r->nprocs; i++) {
		size_t slot = 0;

		if (row_identity(w, r->procs[i].proc_id, &slot) != 0)
			return -1;
		w->procs[i].pid = (uint32_t)slot;
	}
	for (size_t i = 0; i < r->nprocs; i++) {
		struct report_row_proc *p = &w->procs[i];
		size_t slot = p->pid;

		p->pid = w->who[slot].pid;
		p->who = &w->who[slot].who;
		p->mem_mib = r->procs[i].mem_mib;
		p->util_pm = r->procs[i].util_pm;
		p->state = classify_process(&w->o->thr, p->util_pm,
		    r->reading.util_pm, p->mem_mib);
		if (p->mem_mib == MIB_UNKNOWN)
			partial = 1;
		else {
			row.held_mib = util_sat_add(row.held_mib, p->mem_mib);
			known = 1;
		}
	}
	/* A filter keeps the GPUs its processes held, with only those. */
	if (w->o->filter != NULL && w->o->filter->n > 0) {
		size_t n = 0;

		for (size_t i = 0; i < r->nprocs; i++)
			if (report_filter_match(w->o->filter, w->procs[i].who))
				w->procs[n++] = w->procs[i];
		if (n == 0)
			return 0;
		row.nprocs = n;
	} else
		row.nprocs = r->nprocs;
	row.host = w->host;
	row.ts_ms = r->ts_ms;
	row.span_ms = r->span_ms;
	row.reading = r->reading;
	row.state = classify_gpu(&w->o->thr, r->reading.util_pm, row.held_mib,
	    partial);
	if (r->nprocs > 0 && !known)
		row.held_mib = MIB_UNKNOWN;
	row.procs = w->procs;
	if (w->fn(w->ctx, &row) != 0)
		return util_err(w->err, w->errlen, "cannot write a row");
	return 0;
}

int
report_rows(struct store *st, const struct report *rep, size_t h,
    const struct report_options *o,
    int (*fn)(void *ctx, const struct report_row *), void *ctx, char *err,
    size_t errlen)
{
	struct rows w;
	int ret;

	memset(&w, 0, sizeof(w));
	w.o = o;
	w.host = rep->hosts[h].hostname;
	w.st = st;
	w.fn = fn;
	w.ctx = ctx;
	w.err = err;
	w.errlen = errlen;
	if (store_gpus(st, &w.gpus, &w.ngpus, err, errlen) != 0)
		return -1;
	ret = store_scan_rows(st, rep->hosts[h].start_ms, rep->hosts[h].end_ms,
	    o->gpu_id, row_sink, &w, err, errlen);
	free(w.gpus);
	free(w.who);
	free(w.procs);
	imap_free(&w.proc_slot);
	return ret;
}
