/*
 * A report: everything the writers print, built once from the store for a
 * window. Writers see only struct report, so a new output format is one new
 * file. Reports of several hosts' databases merge into one (report_merge),
 * in which every GPU, identity and session keeps its host. Ownership:
 * report_build fills a caller's struct report, whose arrays report_free
 * releases.
 */
#ifndef GUA_REPORT_H
#define GUA_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "classify.h"
#include "identity.h"
#include "price.h"
#include "rollup.h"
#include "store.h"

/*
 * What the identities table groups by (--by), and what a filter names
 * (--user, --job, ...; the last two are --by keys only).
 */
enum report_key {
	REPORT_KEY_USER,
	REPORT_KEY_JOB,		/* Slurm job */
	REPORT_KEY_POD,		/* Kubernetes pod: namespace/name, else
				   its UID */
	REPORT_KEY_CONTAINER,
	REPORT_KEY_UNIT,	/* systemd unit */
	REPORT_KEY_COMMAND,	/* kernel command name */
	REPORT_KEY_GPU,
	REPORT_KEY_HOST,
	REPORT_KEY_NAMESPACE,	/* Kubernetes namespace */
	REPORT_KEY_COUNT
};

/* One filter's value: processes whose key is value. */
struct report_match {
	enum report_key	 key;
	const char	*value;		/* the caller's; outlives the report */
};

/* Filters given more often than this are refused. */
#define REPORT_MATCH_MAX	256

/*
 * Which processes a report counts: a process passes when, for every key
 * that has values, one of them names it (AND across keys, OR within one).
 */
struct report_filter {
	struct report_match	 match[REPORT_MATCH_MAX];
	size_t			 n;
};

struct report_options {
	int64_t		 until_ms;	/* window end: ticks at or before it */
	int64_t		 since_ms;	/* window length asked for */
	struct thresholds thr;
	int64_t		 gpu_id;	/* one GPU (report_find_gpu), or -1 */
	int		 force_raw;	/* read raw ticks even for whole hours */
	size_t		 top;		/* sessions and identities to rank and
					   show (--top); 0: all of them */
	enum report_key	 by;		/* identities grouped by (--by) */
	const struct report_filter *filter;	/* NULL or none: every
						   process */
};

/* Sessions and identities a report shows unless told (--top). */
#define REPORT_TOP_DEFAULT	20

/* The timeline has at most this many buckets. */
#define REPORT_TIMELINE_MAX	120
/* A window shorter than this many hours reads every tick, so that its
   timeline is finer than hours (report.c, timeline_wants_ticks). */
#define REPORT_TIMELINE_MIN	48

struct report_gpu {
	int64_t			id;		/* database key */
	size_t			host;		/* index into report.hosts */
	struct store_gpu	info;
	/*
	 * Which card at its index this is, in the order its host's
	 * database first saw them: 1, or k for the k-th card to hold the
	 * index (a card replaced in its slot), labelled "GPU-0#k". The
	 * instances of a card in MIG mode share its number.
	 */
	int			card;
	struct rollup_gpu	r;		/* sums over the window */
	struct rollup_gpu	*timeline;	/* report.ntimeline buckets */
	/*
	 * The part of its host's window the GPU was there for: from its
	 * first tick (the start of its span) to its last, stretched to the
	 * window's start or end where that tick is its host's first or
	 * last in the window. A card replaced mid-window counts only for
	 * its part, and a collector stopped for a while does not shorten
	 * it.
	 */
	int64_t			present_ms;
};

/* One database, that is one host, of a report. */
struct report_host {
	char			hostname[256];
	char			driver_version[80];
	int64_t			start_ms;	/* this host's window */
	int64_t			end_ms;
	int64_t			last_tick_ms;	/* newest tick in window, or 0 */
	size_t			ngpus;		/* GPUs with samples */
	int64_t			gpu_window_ms;	/* its GPUs' present_ms: full
						   coverage */
	int64_t			present_ms;	/* of its window, the time
						   any of its GPUs was there */
	struct rollup_gpu	total;		/* its GPUs' sums */
};

/*
 * Who ran a session: struct identity's fields, its strings kept once in the
 * report (a year can hold ten thousand sessions). Never NULL: "" unknown.
 */
struct report_who {
	int		 known;		/* 0: the process was gone from /proc */
	int64_t		 uid;		/* owner uid, -1 when unknown */
	const char	*user;		/* login user, else owner, else "uid:N" */
	const char	*comm;		/* kernel command name */
	const char	*cmdline;	/* argv joined by spaces, cut */
	const char	*container;	/* container id, short form */
	const char	*pod;		/* Kubernetes pod uid */
	const char	*unit;		/* systemd unit */
	const char	*slurm_job;	/* Slurm job */
	const char	*pod_namespace;	/* the pod's names, "" unknown */
	const char	*pod_name;
	const char	*container_name;
};

/* A process on a GPU over the window. */
struct report_session {
	int64_t			gpu_id;
	size_t			gpu;		/* index into report.gpus */
	size_t			host;		/* index into report.hosts */
	int64_t			proc_id;
	uint32_t		pid;
	int64_t			start_ms;	/* 0 when unknown */
	struct report_who	who;
	struct rollup_proc	r;
	int			alive;		/* seen at the window's last tick */
};

/*
 * Everything the processes of one value of the report's key (a user, a
 * job, ...) did on one host over the window.
 */
struct report_identity {
	size_t	host;		/* index into report.hosts */
	char	name[256];	/* the key's value; "unknown" (user) or
				   "(none)" when the processes had none */
	int	none;		/* 1: they had none */
	int64_t	ms;		/* process time on GPUs */
	int64_t	idle_ms;	/* of which idle-held */
	int64_t	idle_mib_ms;	/* memory x time while idle-held */
	int64_t	sessions;	/* (process, GPU) pairs */
	/* Its processes' own utilization, summed as struct rollup_proc. */
	int64_t	util_pm_ms;
	int64_t	util_ms;
	int64_t	util_lost_ms;
	/* Where its processes ran, when all of its sessions share it; ""
	   otherwise (strings of the report, like the sessions'). */
	const char *user;
	const char *container;
	const char *pod;
	const char *unit;
	const char *slurm_job;
	const char *pod_namespace;	/* the pod's names, with the pod */
	const char *pod_name;
};

struct report {
	struct store_meta	 meta;		/* of the first database */
	struct thresholds	 thr;
	int64_t			 start_ms;	/* window: start_ms <= ts */
	int64_t			 end_ms;	/* ... and ts < end_ms */
	int64_t			 asked_start_ms;	/* start asked for: before
						   start_ms when the history
						   starts later */
	int64_t			 last_tick_ms;	/* newest tick in window, or 0 */
	int64_t			 history_end_ms;	/* newest tick up to the
						   window's end, in it or
						   before it; 0: none */
	int			 used_rollups;	/* whole hours from rollups */
	/*
	 * The part of the window, [hourly_start_ms, hourly_end_ms), whose
	 * raw ticks were compacted away: known from hourly rollups only, so
	 * no per-tick rows and a timeline of whole hours. Both 0: none.
	 */
	int64_t			 hourly_start_ms;
	int64_t			 hourly_end_ms;
	enum report_key		 by;		/* the identities' key */
	/* The filter in words ("user=alice job=4242"); "" none. With one,
	   every sum counts only GPUs at ticks a filtered process held. */
	char			 filtered[512];
	/* --gpu: the one GPU's label ("GPU-3"), as the user named it when
	   the window holds none of its ticks; "" for every GPU. */
	char			 only_gpu[128];
	int64_t			 gpu_window_ms;	/* sum of the GPUs' present_ms:
						   full coverage */
	struct rollup_gpu	 total;		/* all GPUs */
	struct rollup_gpu	 heat[7][24];	/* weekday (Sun=0) x hour, in
						   the time zone (tz.h) */
	/*
	 * The timeline: the window cut into ntimeline buckets of
	 * timeline_step_ms from timeline_start_ms (a multiple of the step);
	 * a tick counts in the bucket of its timestamp.
	 */
	int64_t			 timeline_start_ms;
	int64_t			 timeline_step_ms;
	size_t			 ntimeline;
	struct rollup_gpu	*timeline;	/* all GPUs, per bucket */
	struct report_host	*hosts;		/* one per database, in order */
	size_t			 nhosts;
	struct report_gpu	*gpus;		/* GPUs with samples, by index */
	size_t			 ngpus;
	/*
	 * Sessions and identities: the first nsessions (nids) are those to
	 * show, ranked (most idle-held time first, then most time). The
	 * identities --top leaves out follow in the array, unranked, up to
	 * nids_all; the sessions it leaves out are only counted: of
	 * nsessions_all, sessions_idle_omitted were idle-held for a while
	 * and not shown. Writers show the first part and say how many were
	 * left out.
	 */
	size_t			 top;		/* the limit; 0: none */
	struct report_session	*sessions;
	size_t			 nsessions;
	size_t			 nsessions_all;
	size_t			 sessions_idle_omitted;
	struct report_identity	*ids;
	size_t			 nids;
	size_t			 nids_all;
	struct report_strings	*strings;	/* what the sessions' who
						   strings point into */
	struct price		 price;		/* --cost-per-gpu-hour; set
						   by the command, after
						   building and merging */
};

/*
 * Resolves --gpu: a number is an index, a label ("GPU-3", "GPU-3#2",
 * "GPU-0/MIG-c6d4") the GPU the report labels so, anything else a UUID or
 * a unique UUID prefix (case-insensitive). Returns 0 with *gpu_id,
 * REPORT_GPU_AMBIGUOUS when it names several (an index two cards held),
 * or -1 (none, or the database could not be read).
 */
#define REPORT_GPU_AMBIGUOUS	(-2)
int	report_find_gpu(struct store *, const char *spec, int64_t *gpu_id,
	    char *err, size_t errlen);
int	report_build(struct store *, const struct report_options *,
	    struct report *, char *err, size_t errlen);
void	report_free(struct report *);
/*
 * Moves src, the report of another host's database for the same window,
 * into dst; src is left empty. Refuses a host dst already has. The
 * timeline takes the coarser of the two steps.
 */
int	report_merge(struct report *dst, struct report *src, char *err,
	    size_t errlen);

/* One process of a raw row. */
struct report_row_proc {
	uint32_t		 pid;
	const struct identity	*who;		/* valid during the callback */
	int64_t			 mem_mib;	/* MIB_UNKNOWN when unknown */
	int			 util_pm;	/* own, or UTIL_UNKNOWN */
	enum state		 state;		/* the per-process rule */
};

/* One GPU at one tick as recorded, classified with the report's rule. */
struct report_row {
	const char		*host;
	const struct store_gpu	*gpu;
	int64_t			 ts_ms;
	int64_t			 span_ms;
	struct gpu_reading	 reading;
	enum state		 state;
	int64_t			 held_mib;	/* sum of known process memory;
						   MIB_UNKNOWN when processes
						   hold memory and none of it
						   is known */
	const struct report_row_proc *procs;
	size_t			 nprocs;
};

/*
 * Calls fn for every GPU at every tick of host h's window of rep, built
 * from st with o, in time order. Reads raw ticks: its cost follows the
 * number of ticks. A nonzero fn stops with an error.
 */
int	report_rows(struct store *st, const struct report *rep, size_t h,
	    const struct report_options *o,
	    int (*fn)(void *ctx, const struct report_row *), void *ctx,
	    char *err, size_t errlen);

/*
 * Where a process ran, for a reader: "pod 1f2e3d4c…" (a Kubernetes pod),
 * "container 3f2a1b4c5d6e", "slurm job_4242" or "unit jupyter.service",
 * the first of those it has; "" when none. A login session's scope
 * (session-N.scope) says no more than the user and is left out. The text
 * is untrusted: writers escape it. Returns buf.
 */
const char *report_place(const char *container, const char *pod,
	    const char *unit, const char *slurm_job, char *buf, size_t len);
/* Where an identity's processes ran (report_place), leaving out what its
   key (--by) already names: "job_4242" is not "job_4242 (slurm job_4242)". */
const char *report_identity_place(const struct report *,
	    const struct report_identity *, char *buf, size_t len);
/*
 * A GPU as every report names it, without its host: "GPU-0", "GPU-0#2"
 * for the second card that held index 0 (a card replaced; the first
 * keeps "GPU-0"), or for a MIG instance "GPU-0/MIG-c6d4": its GPU's
 * label, then the start of its UUID (as nvidia-smi -L shows it, and
 * --gpu takes it), four characters or as many as tell it from its GPU's
 * other instances in the report. Characters other than letters, digits
 * and '-' are left out of the UUID's part. Returns buf.
 */
const char *report_gpu_label(const struct report *, size_t gpu, char *buf,
	    size_t len);
/* A GPU's memory for people, the same in every format: "80 GiB",
   "79.6 GiB", "" when unknown. Returns buf. */
const char *report_memory_format(int64_t mib, char *buf, size_t len);
/*
 * Numbers every GPU row of a database by its card's place among the cards
 * that held its index: card[i] for all[i], the K of "GPU-0#K" (the
 * report's labels, and gua top's). 0 or -1.
 */
int	report_number_cards(const struct store_gpu *all, size_t n, int *card);
/* Is any GPU of the report a MIG instance? */
int	report_has_mig(const struct report *);

/*
 * Ranks rep's sessions and identities and keeps the first top of each to
 * show (0: all); the sessions left out are counted (their memory stays
 * with the array until report_free). Only the shown are sorted: the
 * others are set apart in O(n log top), which matters with hundreds of
 * thousands of sessions.
 */
void	report_limit(struct report *, size_t top);
/* Sessions --top left out; idle_only: only those with idle-held time. */
size_t	report_sessions_omitted(const struct report *, int idle_only);
/* Identities --top left out. */
size_t	report_ids_omitted(const struct report *);

/* report-key.c: a key's name for --by and the outputs ("user", "job"). */
const char *report_key_name(enum report_key);
/* The key a name names; 0, or -1 for none. */
int	report_key_parse(const char *name, enum report_key *);
/*
 * Whether a process passes the filter: 1 or 0. A job matches "4242" or
 * "job_4242", a container its short id or a longer id that starts with
 * it, the others exactly.
 */
int	report_filter_match(const struct report_filter *,
	    const struct identity *);
/* The filter in words, "user=alice user=bob job=4242"; "" for none. */
void	report_filter_describe(const struct report_filter *, char *buf,
	    size_t len);

/* Derived numbers, computed in one place so every writer agrees. */
int64_t	report_window_ms(const struct report *);
/* The window the options ask for, [*start, *end) in ms, before a report
   clips it to the history: the one place that says where it lies. */
void	report_asked_window(const struct report_options *, int64_t *start,
	    int64_t *end);
/* Share of known time in a state, 0..1; 0 when nothing is known. */
double	report_share(const struct rollup_gpu *, enum state);
/* Whole joules in kWh. */
double	report_kwh(int64_t joules);
/* The same for people: "1159.8 kWh", "0.00125 kWh", "0.000000278 kWh"
   (three significant digits at least, down to a joule); 0 is "0 kWh". */
void	report_kwh_format(int64_t joules, char *buf, size_t len);
/*
 * The share of the observed time whose energy was not recorded, 0..1: a
 * GPU with neither energy counter nor power reading, or data written
 * before gua measured energy (schema 5). 1 when nothing was observed.
 */
double	report_energy_unrecorded(const struct rollup_gpu *);
/* Observed (known-state) GPU time / (window x GPUs), 0..1. */
double	report_coverage(const struct report *);
/* GPU time of the window not observed: the complement of the coverage. */
int64_t	report_unobserved_ms(const struct report *);
/* The same for one host of the report. */
double	report_host_coverage(const struct report_host *);
/* GPU-hours with utilization under the threshold (idle-held + truly idle). */
double	report_idle_gpu_hours(const struct report *);
/*
 * How many cards sat unused on average while gua watched: each GPU's
 * idle share of the time it was watched, weighted by the part of its
 * host's time it was there for (present_ms over the host's present_ms),
 * summed. Unknown time is not idle.
 */
double	report_gpus_unused(const struct report *);
/* The same for one state: idle-held cards (held, unused: the waste)
   apart from truly idle ones (free capacity). */
double	report_gpus_in(const struct report *, enum state);
/*
 * Money for people: "312.40 EUR" with a currency, else "312.40"; the
 * writers say "(per --cost-per-gpu-hour)" where no code names it.
 * Returns buf.
 */
const char *report_money(const struct report *, int64_t cents, char *buf,
	    size_t len);
/* Mean utilization in percent over the known time, or -1. */
double	report_mean_util(const struct rollup_gpu *);
/*
 * A session's or an identity's own SM utilization in percent: the mean
 * of its processes' own utilization, weighted by tick span, over the
 * ticks where NVML gave it; -1 when none did, or when the database's
 * older rollups did not keep it (rollup_proc_mean_util).
 */
double	report_session_util(const struct report_session *);
double	report_identity_util(const struct report_identity *);

#endif
