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
/* report-identity.c: qsort order of identities, most idle first. */
int	report_cmp_identity(const void *, const void *);

/* report-identity.c: reads the identities of every session's process in
   one pass. */
int	report_load_identities(struct store *, struct report *, char *err,
	    size_t errlen);
/* Groups all the sessions by host and rep->by's key into rep->ids,
   unranked (report_limit ranks them). 0, or -1 out of memory. */
int	report_group_identities(struct report *);

/* report-key.c: a session's value for key k ("" none); the text is
   untrusted. buf holds it when it is made (a GPU's label). */
const char *report_key_value(const struct report *,
	    const struct report_session *, enum report_key k, char *buf,
	    size_t len);

#endif
