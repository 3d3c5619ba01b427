/*
 * The identities of a report's sessions: grouped by host and the
 * report's key (--by: user, job, pod, ...; report-key.c) through a hash
 * table as sessions finish (report-sessions.c), each group keeping its
 * own strings; the sessions a report shows (--top) read whole, in the
 * report's own strings (each distinct one once). Also the place (pod,
 * container, Slurm job, unit) a session ran in.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "report-internal.h"
#include "util.h"

#define STRINGS_BLOCK	65536

/* A copy of s kept in the report; "" costs nothing. NULL out of memory. */
static const char *
keep_string(struct report *rep, const char *s, size_t len)
{
	struct report_strings *b = rep->strings;
	char *p;

	if (len == 0)
		return "";
	if (b == NULL || b->cap - b->used < len + 1) {
		size_t cap = len + 1 > STRINGS_BLOCK ? len + 1 : STRINGS_BLOCK;

		if ((b = malloc(sizeof(*b) + cap)) == NULL)
			return NULL;
		b->next = rep->strings;
		b->used = 0;
		b->cap = cap;
		rep->strings = b;
	}
	p = b->data + b->used;
	memcpy(p, s, len + 1);
	b->used += len + 1;
	return p;
}

/*
 * The strings kept so far, each once: thousands of processes of one user,
 * one job or one command line share one copy. An open-addressing table,
 * at most half full.
 */
struct interned {
	const char	**slot;
	size_t		  cap;	/* a power of two */
	size_t		  len;
};

/* A hash of len bytes of s, eight at a time: command lines are long. */
static uint64_t
string_hash(const char *s, size_t len)
{
	uint64_t h = 0x9E3779B97F4A7C15ULL ^ len, w;

	for (; len >= 8; s += 8, len -= 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * 0xBF58476D1CE4E5B9ULL;
		h ^= h >> 29;
	}
	w = 0;
	memcpy(&w, s, len);
	h = (h ^ w) * 0x94D049BB133111EBULL;
	return h ^ (h >> 31);
}

static int
intern_grow(struct interned *t)
{
	size_t cap = t->cap ? t->cap * 2 : 1024;
	const char **slot = calloc(cap, sizeof(*slot));

	if (slot == NULL)
		return -1;
	for (size_t i = 0; i < t->cap; i++) {
		size_t k;

		if (t->slot[i] == NULL)
			continue;
		k = string_hash(t->slot[i], strlen(t->slot[i])) & (cap - 1);
		while (slot[k] != NULL)
			k = (k + 1) & (cap - 1);
		slot[k] = t->slot[i];
	}
	free(t->slot);
	t->slot = slot;
	t->cap = cap;
	return 0;
}

/* s kept in the report once, however often it comes; NULL out of memory. */
static const char *
intern(struct report *rep, struct interned *t, const char *s)
{
	size_t len = strlen(s), k;

	if (len == 0)
		return "";
	if ((t->len + 1) * 2 > t->cap && intern_grow(t) != 0)
		return NULL;
	for (k = string_hash(s, len) & (t->cap - 1); t->slot[k] != NULL;
	    k = (k + 1) & (t->cap - 1))
		if (strcmp(t->slot[k], s) == 0)
			return t->slot[k];
	if ((t->slot[k] = keep_string(rep, s, len)) != NULL)
		t->len++;
	return t->slot[k];
}

int
report_cmp_identity(const void *a, const void *b)
{
	const struct report_identity *x = a, *y = b;
	int c;

	if (x->idle_ms != y->idle_ms)
		return x->idle_ms > y->idle_ms ? -1 : 1;
	if (x->ms != y->ms)
		return x->ms > y->ms ? -1 : 1;
	if ((c = strcmp(x->name, y->name)) != 0)
		return c;
	return x->host < y->host ? -1 : x->host > y->host;
}

/* A session waiting for its identity: sorted by process key. */
struct pending {
	int64_t	proc_id;	/* the process */
	size_t	session;	/* index into the sessions */
};

static int
cmp_pending(const void *a, const void *b)
{
	const struct pending *x = a, *y = b;

	if (x->proc_id != y->proc_id)
		return x->proc_id < y->proc_id ? -1 : 1;
	return x->session < y->session ? -1 : x->session > y->session;
}

/*
 * The processes of n sessions, each once, in key order, for
 * store_processes: *pv the sessions sorted by process, *idv their
 * distinct keys, *nidv how many. -1 out of memory.
 */
static int
pending_sort(const struct report_session *s, size_t n, struct pending **pv,
    int64_t **idv, size_t *nidv)
{
	struct pending *v = calloc(n + 1, sizeof(*v));
	int64_t *ids = calloc(n + 1, sizeof(*ids));
	size_t nids = 0;

	if (v == NULL || ids == NULL) {
		free(v);
		free(ids);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		v[i].proc_id = s[i].proc_id;
		v[i].session = i;
	}
	qsort(v, n, sizeof(*v), cmp_pending);
	for (size_t i = 0; i < n; i++)
		if (nids == 0 || ids[nids - 1] != v[i].proc_id)
			ids[nids++] = v[i].proc_id;
	*pv = v;
	*idv = ids;
	*nidv = nids;
	return 0;
}

/* The hash of a group: its name, mixed with its host. */
static uint64_t
group_hash(size_t host, const char *name)
{
	return string_hash(name, strlen(name)) ^
	    ((uint64_t)host * 0x9E3779B97F4A7C15ULL);
}

/* Doubles the table; -1 out of memory. */
static int
groups_grow(struct report_groups *g, const struct report *rep)
{
	size_t cap = g->cap ? g->cap * 2 : 64, *slot;

	if ((slot = calloc(cap, sizeof(*slot))) == NULL)
		return -1;
	for (size_t i = 0; i < rep->nids; i++) {
		size_t k = group_hash(rep->ids[i].host, rep->ids[i].name) &
		    (cap - 1);

		while (slot[k] != 0)
			k = (k + 1) & (cap - 1);
		slot[k] = i + 1;
	}
	free(g->slot);
	g->slot = slot;
	g->cap = cap;
	return 0;
}

/* A place field of a new group: the report's own copy. */
static const char *
group_string(struct report *rep, const char *s)
{
	return keep_string(rep, s, strlen(s));
}

/* Whether two strings are equal; most of a group's places are "". */
static inline int
same(const char *a, const char *b)
{
	return a[0] == b[0] && (a[0] == '\0' || strcmp(a + 1, b + 1) == 0);
}

int
report_group_add(struct report *rep, struct report_groups *g, size_t host,
    size_t gpu, const struct report_who *who, const struct rollup_proc *r,
    int new_session)
{
	char buf[256];
	const char *name = report_key_who(rep, who, gpu, host, rep->by, buf,
	    sizeof(buf));
	struct report_identity *id = NULL;
	int none = name[0] == '\0';
	size_t k;

	/* Processes without the key are one row. */
	if (none)
		name = rep->by == REPORT_KEY_USER ? "unknown" : "(none)";

	k = group_hash(host, name) & (g->cap - 1);
	for (; g->slot[k] != 0 && id == NULL; k = (k + 1) & (g->cap - 1))
		if (rep->ids[g->slot[k] - 1].host == host &&
		    strcmp(rep->ids[g->slot[k] - 1].name, name) == 0)
			id = &rep->ids[g->slot[k] - 1];
	if (id == NULL) {
		if (grow((void **)&rep->ids, &g->ids_cap, rep->nids + 1,
		    sizeof(*rep->ids)) != 0)
			return -1;
		g->slot[k] = rep->nids + 1;
		id = &rep->ids[rep->nids++];
		memset(id, 0, sizeof(*id));
		id->host = host;
		util_strlcpy(id->name, name, sizeof(id->name));
		id->none = none;
		id->user = group_string(rep, who->user);
		id->container = group_string(rep, who->container);
		id->pod = group_string(rep, who->pod);
		id->unit = group_string(rep, who->unit);
		id->slurm_job = group_string(rep, who->slurm_job);
		id->pod_namespace = group_string(rep, who->pod_namespace);
		id->pod_name = group_string(rep, who->pod_name);
		if (id->user == NULL || id->container == NULL ||
		    id->pod == NULL || id->unit == NULL ||
		    id->slurm_job == NULL || id->pod_namespace == NULL ||
		    id->pod_name == NULL)
			return -1;
		/* At most half full, so a search always ends. */
		if (rep->nids * 2 > g->cap && groups_grow(g, rep) != 0)
			return -1;
	}
	/* Kept only while every session has the same. */
	if (!same(id->user, who->user))
		id->user = "";
	if (!same(id->container, who->container))
		id->container = "";
	if (!same(id->pod, who->pod))
		id->pod = "";
	if (!same(id->pod_namespace, who->pod_namespace) ||
	    !same(id->pod_name, who->pod_name))
		id->pod_namespace = id->pod_name = "";
	if (!same(id->unit, who->unit))
		id->unit = "";
	if (!same(id->slurm_job, who->slurm_job))
		id->slurm_job = "";
	id->ms += r->ms;
	id->idle_ms += r->idle_ms;
	id->idle_mib_ms += r->idle_mib_ms;
	id->util_pm_ms = util_sat_add(id->util_pm_ms, r->util_pm_ms);
	id->util_ms = util_sat_add(id->util_ms, r->util_ms);
	id->util_lost_ms = util_sat_add(id->util_lost_ms, r->util_lost_ms);
	if (new_session)
		id->sessions++;
	return 0;
}

int
report_groups_start(struct report *rep, struct report_groups *g)
{
	free(rep->ids);
	rep->ids = NULL;
	rep->nids = 0;
	rep->nids_all = 0;
	memset(g, 0, sizeof(*g));
	return groups_grow(g, rep);
}

void
report_groups_free(struct report_groups *g)
{
	free(g->slot);
	memset(g, 0, sizeof(*g));
}

int
report_group_identities(struct report *rep)
{
	struct report_groups g;

	if (report_groups_start(rep, &g) != 0)
		return -1;
	for (size_t i = 0; i < rep->nsessions; i++) {
		const struct report_session *s = &rep->sessions[i];

		if (report_group_add(rep, &g, s->host, s->gpu, &s->who, &s->r,
		    1) != 0) {
			free(g.slot);
			return -1;
		}
	}
	rep->nids_all = rep->nids;
	free(g.slot);
	return 0;
}

/* Where store_processes' identities go for the sessions kept. */
struct fill {
	struct report		*rep;
	struct interned		 strings;	/* rep's strings so far */
	const struct pending	*v;	/* the sessions, sorted */
	size_t			 n;	/* ... how many */
	size_t			 k;	/* v[k] is the next to fill */
};

/* Gives every kept session of one process its identity. */
static int
fill_identity(void *ctx, int64_t proc_id, uint32_t pid, int64_t start_ms,
    const struct identity *id)
{
	struct fill *f = ctx;
	struct report_who w;

	w.known = id->known;
	w.uid = id->uid;
	w.user = intern(f->rep, &f->strings, id->user);
	w.comm = intern(f->rep, &f->strings, id->comm);
	w.cmdline = intern(f->rep, &f->strings, id->cmdline);
	w.container = intern(f->rep, &f->strings, id->container);
	w.pod = intern(f->rep, &f->strings, id->pod);
	w.unit = intern(f->rep, &f->strings, id->unit);
	w.slurm_job = intern(f->rep, &f->strings, id->slurm_job);
	w.pod_namespace = intern(f->rep, &f->strings, id->pod_namespace);
	w.pod_name = intern(f->rep, &f->strings, id->pod_name);
	w.container_name = intern(f->rep, &f->strings, id->container_name);
	if (w.user == NULL || w.comm == NULL || w.cmdline == NULL ||
	    w.container == NULL || w.pod == NULL || w.unit == NULL ||
	    w.slurm_job == NULL || w.pod_namespace == NULL ||
	    w.pod_name == NULL || w.container_name == NULL)
		return -1;
	for (; f->k < f->n && f->v[f->k].proc_id == proc_id; f->k++) {
		struct report_session *s = &f->rep->sessions[f->v[f->k].session];

		s->pid = pid;
		s->start_ms = start_ms;
		s->who = w;
	}
	return 0;
}

int
report_fill_identities(struct store *st, struct report *rep, char *err,
    size_t errlen)
{
	struct fill f;
	struct pending *v = NULL;
	int64_t *ids;
	size_t nids = 0;
	int rc;

	if (rep->nsessions == 0)
		return 0;
	if (pending_sort(rep->sessions, rep->nsessions, &v, &ids, &nids) != 0)
		return util_err(err, errlen, "out of memory");
	memset(&f, 0, sizeof(f));
	f.rep = rep;
	f.v = v;
	f.n = rep->nsessions;
	rc = store_processes(st, ids, nids, fill_identity, &f, err, errlen);
	free(f.strings.slot);
	free(v);
	free(ids);
	return rc;
}

const char *
report_place(const char *container, const char *pod, const char *unit,
    const char *slurm_job, char *buf, size_t len)
{
	size_t ulen = strlen(unit);

	if (pod[0] != '\0')
		/* A pod UID is long; its start tells pods apart. */
		snprintf(buf, len, "pod %.8s%s", pod, strlen(pod) > 8 ?
		    "\xe2\x80\xa6" : "");
	else if (container[0] != '\0')
		snprintf(buf, len, "container %s", container);
	else if (slurm_job[0] != '\0')
		snprintf(buf, len, "slurm %s", slurm_job);
	else if (ulen > 0 && !(strncmp(unit, "session-", 8) == 0 &&
	    ulen > 6 && strcmp(unit + ulen - 6, ".scope") == 0))
		snprintf(buf, len, "unit %s", unit);
	else if (len > 0)
		buf[0] = '\0';
	return buf;
}

const char *
report_identity_place(const struct report *rep,
    const struct report_identity *id, char *buf, size_t len)
{
	enum report_key by = rep->by;

	return report_place(by == REPORT_KEY_CONTAINER ? "" : id->container,
	    by == REPORT_KEY_POD ? "" : id->pod,
	    by == REPORT_KEY_UNIT ? "" : id->unit,
	    by == REPORT_KEY_JOB ? "" : id->slurm_job, buf, len);
}
