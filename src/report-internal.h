/*
 * What the report's files share. Nothing outside report*.c includes this.
 */
#ifndef GUA_REPORT_INTERNAL_H
#define GUA_REPORT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "imap.h"
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
   that the top kept while scanning is the top shown. The process's key
   comes last: the order is total, so that the top of sessions alike is
   the same whichever way they were kept. */
int	report_rank_session(const struct rollup_proc *, size_t gpu,
	    uint32_t pid, int64_t proc_id, const struct rollup_proc *,
	    size_t gpu2, uint32_t pid2, int64_t proc_id2);
/* Moves the k first-ranked of n elements (all when k is 0) to the front,
   sorted; the rest follow in no order. Returns how many are in front. */
size_t	report_select_top(void *v, size_t n, size_t size, size_t k,
	    int (*cmp)(const void *, const void *));
/* report-identity.c: qsort order of identities, most idle first. */
int	report_cmp_identity(const void *, const void *);

/*
 * A session while a report is built: small, since a window can hold
 * hundreds of thousands of processes and only the few a report shows
 * need their identity kept (report-sessions.c).
 */
struct report_found {
	int64_t			proc_id;
	uint32_t		gpu;	/* while scanning, an index into the
					   database's GPUs; then into
					   report.gpus */
	uint32_t		pid;	/* from the process's keys */
	struct rollup_proc	r;
};

/*
 * report-identity.c: groups being built, by host and rep->by's key, in
 * rep->ids: an open-addressing table of indices into rep->ids (plus one;
 * 0 is empty), at most half full, so that every session is hashed once
 * whatever the number of groups (hosts x users in a fleet).
 */
struct report_groups {
	size_t	*slot;
	size_t	 cap;		/* a power of two */
	size_t	 ids_cap;	/* rep->ids' room */
};
/* Empties rep->ids for a new grouping; -1 out of memory. */
int	report_groups_start(struct report *, struct report_groups *);
void	report_groups_free(struct report_groups *);
/*
 * Adds a session (or a later part of one: new_session 0), who on GPU gpu
 * of host host with sums r, to its group. who's strings need only live
 * during the call. -1 out of memory.
 */
int	report_group_add(struct report *, struct report_groups *, size_t host,
	    size_t gpu, const struct report_who *who,
	    const struct rollup_proc *r, int new_session);
/* The identities of rep->sessions, read whole, in the report's strings. */
int	report_fill_identities(struct store *, struct report *, char *err,
	    size_t errlen);

/* report-sessions.c: the sessions of a report while its scan runs. */
/*
 * Process keys a page of the live index holds: few, so that a window
 * whose processes are far apart (a filter's, say) costs a page of 512
 * bytes a session at worst.
 */
#define REPORT_SESSION_PAGE	128
struct report_sessions_page {
	int64_t		no;		/* keys no * 128 on */
	size_t		nlive;		/* live sessions on it */
	uint64_t	used[REPORT_SESSION_PAGE / 64];	/* the slots that
							   are not 0 */
	uint32_t	slot[REPORT_SESSION_PAGE];	/* live record + 1,
							   0 none */
};
struct report_sessions {
	struct report		*rep;
	struct store		*st;
	size_t			 top;		/* 0: every session */
	int			 early;		/* finish during the scan */
	const struct rollup_gpu	*gpu_sums;	/* by database GPU slot */
	const uint32_t		*slot_rank;	/* a slot's place in the
						   report's GPU order */
	struct report_groups	 groups;
	/* The live sessions, reached by process key (pages of keys) and
	   then GPU (a chain through next). */
	struct report_found	*live;
	uint32_t		*next;		/* + 1, 0 none */
	unsigned char		*state;
	uint32_t		*free_list;
	size_t			 nlive, live_cap, next_cap, state_cap;
	size_t			 nfree, free_cap;
	struct report_sessions_page **pages;	/* by number; only those
						   with a live session */
	size_t			 npages, pages_cap;
	struct imap		 page_of;	/* page number -> index */
	struct report_sessions_page *last;	/* looked up last */
	int64_t			 swept_hour;	/* the hour looked at last */
	size_t			 finish_at;	/* live sessions that make
						   the next look finish some */
	/* Two bits a session once finished, by (GPU slot, key / 4096):
	   counted, idle-held. */
	struct report_bits {
		uint64_t	w[128];
	}			*bits;
	size_t			 nbits, bits_cap;
	struct imap		 bits_of;
	int64_t			*bits_no, *bits_at;	/* a slot's last page */
	int64_t			 max_counted;	/* the highest key counted */
	size_t			 nslots;
	/* The top so far (a heap, the worst first, when early); the
	   sessions to sum again whole. */
	struct report_found	*kept;
	size_t			 nkept, kept_cap;
	struct report_found	*again;
	size_t			 nagain, again_cap;
	struct imap		 again_at;	/* (slot, key) -> index */
	size_t			 counted, idle_counted;
	char			*err;
	size_t			 errlen;
};
/* Live sessions that make a report finish some (16384; tests lower it). */
extern size_t report_finish_at;
int	report_sessions_init(struct report_sessions *, struct report *,
	    struct store *, size_t top, const struct rollup_gpu *gpu_sums,
	    const uint32_t *slot_rank, size_t nslots, char *err,
	    size_t errlen);
/* One record of a session on database GPU slot gpu. -1 with err set. */
int	report_sessions_add(struct report_sessions *, uint32_t gpu,
	    int64_t proc_id, const struct rollup_proc *);
/* Finishes every live session; gpu_map: a slot's index in rep->gpus,
   UINT32_MAX for a GPU without a sample. Then x->nagain sessions need
   report_sessions_recount from a second scan of the window. */
int	report_sessions_end(struct report_sessions *, const uint32_t *gpu_map);
int	report_sessions_recount(struct report_sessions *, uint32_t gpu,
	    int64_t proc_id, const struct rollup_proc *);
/* rep->sessions (the top, identities read), and what is said of the
   rest. */
int	report_sessions_result(struct report_sessions *,
	    const uint32_t *gpu_map);
void	report_sessions_free(struct report_sessions *);

/* Groups all of rep->sessions by host and rep->by's key into rep->ids,
   unranked (report_limit ranks them), as a report's scan groups the
   sessions it finds: tests check that grouping with it. 0, or -1 out of
   memory. */
int	report_group_identities(struct report *);

/* report-key.c: the value for key k ("" none) of who ran on GPU gpu of
   host host; the text is untrusted. buf holds it when it is made (a
   GPU's label). */
const char *report_key_who(const struct report *, const struct report_who *,
	    size_t gpu, size_t host, enum report_key k, char *buf, size_t len);

#endif
