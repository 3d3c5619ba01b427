/*
 * What the report's files share. Nothing outside report*.c includes this.
 */
#ifndef GUA_REPORT_INTERNAL_H
#define GUA_REPORT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "report.h"
#include "store.h"

/* A block of the strings of the sessions' identities. */
struct report_strings {
	struct report_strings	*next;
	size_t			 used, cap;
	char			 data[];
};

/* report.c: a / b rounded down, for negative times too. */
int64_t	report_floor_div(int64_t a, int64_t b);
/* The timeline step after step. */
int64_t	report_next_step(int64_t step);
/* Buckets of step that [start, end) touches. */
size_t	report_timeline_buckets(int64_t start, int64_t end, int64_t step);
/* qsort order of sessions: most idle first. */
int	report_cmp_session(const void *, const void *);
/* That order on a session's parts, for the sessions being built too, so
   that the top kept while scanning is the top shown. */
int	report_rank_session(const struct rollup_proc *, size_t gpu,
	    uint32_t pid, const struct rollup_proc *, size_t gpu2,
	    uint32_t pid2);
/* Moves the k first-ranked of n elements (all when k is 0) to the front,
   sorted; the rest follow in no order. Returns how many are in front. */
size_t	report_select_top(void *v, size_t n, size_t size, size_t k,
	    int (*cmp)(const void *, const void *));
/* report-identity.c: qsort order of identities, most idle first. */
int	report_cmp_identity(const void *, const void *);

/*
 * A session while a report is built: small, since a window can hold
 * hundreds of thousands of processes and only the few a report shows
 * need their identity kept (report_identities).
 */
struct report_found {
	int64_t			proc_id;
	uint32_t		gpu;	/* while scanning, an index into the
					   database's GPUs; then into
					   report.gpus */
	uint32_t		pid;	/* from the procs table */
	struct rollup_proc	r;
};

/*
 * report-identity.c: reads only the keys to group by of every found
 * session's process (in key order; scattered keys one at a time) and
 * groups the sessions by rep->by's key into rep->ids, unranked; then
 * ranks the sessions and keeps in rep->sessions only the top (all of
 * them when top is 0), their identities read whole. order holds
 * the indices in v of the sessions to count, by process key; the others
 * have gpu UINT32_MAX. v is reordered.
 */
int	report_identities(struct store *, struct report *,
	    struct report_found *v, size_t n, const uint32_t *order,
	    size_t norder, size_t top, char *err, size_t errlen);
/* Groups all of rep->sessions by host and rep->by's key into rep->ids,
   unranked (report_limit ranks them), as report_identities groups the
   sessions it finds: tests check that grouping with it. 0, or -1 out of
   memory. */
int	report_group_identities(struct report *);

/* report-key.c: the value for key k ("" none) of who ran on GPU gpu of
   host host; the text is untrusted. buf holds it when it is made (a
   GPU's label). */
const char *report_key_who(const struct report *, const struct report_who *,
	    size_t gpu, size_t host, enum report_key k, char *buf, size_t len);

#endif
