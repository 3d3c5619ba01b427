/*
 * Grouping a report's sessions: the hashed grouping must give the same
 * groups, sums and places as comparing every session with every group,
 * on random sessions, whatever key (--by) it groups by.
 */
#include <stdlib.h>

#include "harness.h"
#include "report-internal.h"

static const char *const users[] = {
	"", "alice", "bob", "carol", "dave", "erin", "frank", "unknown",
	"a-user-name-of-exactly-thirty-two", "zoe",
};
static const char *const places[] = { "", "", "", "c0ffee", "deadbeef" };

static unsigned seed = 15;

static unsigned
rnd(unsigned n)
{
	seed = seed * 1103515245u + 12345u;
	return (seed >> 16) % n;
}

static const char *
pick(const char *const *v, size_t n)
{
	return v[rnd((unsigned)n)];
}

/* n random sessions on hosts hosts; its who strings are static. */
static void
random_report(struct report *rep, size_t n, unsigned hosts)
{
	memset(rep, 0, sizeof(*rep));
	rep->sessions = calloc(n + 1, sizeof(*rep->sessions));
	if (rep->sessions == NULL)
		exit(1);
	rep->nsessions = rep->nsessions_all = n;
	for (size_t i = 0; i < n; i++) {
		struct report_session *s = &rep->sessions[i];

		s->host = rnd(hosts);
		s->proc_id = (int64_t)i + 1;
		s->who.user = pick(users, sizeof(users) / sizeof(users[0]));
		s->who.comm = rnd(2) ? "python3" : "python";
		s->who.cmdline = "";
		s->who.container = pick(places, 5);
		s->who.pod = pick(places, 5);
		s->who.unit = pick(places, 5);
		s->who.slurm_job = pick(places, 5);
		s->who.pod_namespace = pick(places, 5);
		s->who.pod_name = pick(places, 5);
		s->who.container_name = "";
		s->r.ms = rnd(100000);
		s->r.idle_ms = rnd(50000);
		s->r.idle_mib_ms = rnd(1000000);
		s->r.util_pm_ms = rnd(7000);
		s->r.util_ms = rnd(9000);
		s->r.util_lost_ms = rnd(300);
	}
}

/* The reference: each session compared with every group made so far. */
static size_t
pairwise(const struct report *rep, struct report_identity *ids)
{
	size_t n = 0;
	char buf[256];

	for (size_t i = 0; i < rep->nsessions_all; i++) {
		const struct report_session *s = &rep->sessions[i];
		const char *key = report_key_who(rep, &s->who, s->gpu, s->host,
		    rep->by, buf, sizeof(buf));
		struct report_identity *id = NULL;

		if (key[0] == '\0')
			key = rep->by == REPORT_KEY_USER ? "unknown" : "(none)";

		for (size_t j = 0; j < n && id == NULL; j++)
			if (ids[j].host == s->host && strcmp(ids[j].name,
			    key) == 0)
				id = &ids[j];
		if (id == NULL) {
			id = &ids[n++];
			memset(id, 0, sizeof(*id));
			id->host = s->host;
			snprintf(id->name, sizeof(id->name), "%s", key);
			id->container = s->who.container;
			id->pod = s->who.pod;
			id->unit = s->who.unit;
			id->slurm_job = s->who.slurm_job;
		}
		if (strcmp(id->container, s->who.container) != 0)
			id->container = "";
		if (strcmp(id->pod, s->who.pod) != 0)
			id->pod = "";
		if (strcmp(id->unit, s->who.unit) != 0)
			id->unit = "";
		if (strcmp(id->slurm_job, s->who.slurm_job) != 0)
			id->slurm_job = "";
		id->ms += s->r.ms;
		id->idle_ms += s->r.idle_ms;
		id->idle_mib_ms += s->r.idle_mib_ms;
		id->util_pm_ms += s->r.util_pm_ms;
		id->util_ms += s->r.util_ms;
		id->util_lost_ms += s->r.util_lost_ms;
		id->sessions++;
	}
	return n;
}

static int
same_identity(const struct report_identity *a, const struct report_identity *b)
{
	return a->host == b->host && strcmp(a->name, b->name) == 0 &&
	    a->ms == b->ms && a->idle_ms == b->idle_ms &&
	    a->idle_mib_ms == b->idle_mib_ms && a->sessions == b->sessions &&
	    a->util_pm_ms == b->util_pm_ms && a->util_ms == b->util_ms &&
	    a->util_lost_ms == b->util_lost_ms &&
	    strcmp(a->container, b->container) == 0 &&
	    strcmp(a->pod, b->pod) == 0 && strcmp(a->unit, b->unit) == 0 &&
	    strcmp(a->slurm_job, b->slurm_job) == 0;
}

/* Both groupings of n random sessions, in the order each made them. */
static void
check_random(size_t n, unsigned hosts, enum report_key by)
{
	struct report rep;
	struct report_identity *want;
	size_t nwant, same = 0;

	random_report(&rep, n, hosts);
	rep.by = by;
	want = calloc(n + 1, sizeof(*want));
	if (want == NULL)
		exit(1);
	nwant = pairwise(&rep, want);
	CHECK_INT(report_group_identities(&rep), 0);
	CHECK_INT(rep.nids_all, nwant);
	CHECK_INT(rep.nids, nwant);
	/* Both make a group when its first session comes: the same order. */
	for (size_t i = 0; i < nwant && i < rep.nids_all; i++)
		same += same_identity(&rep.ids[i], &want[i]);
	CHECK_INT(same, nwant);
	free(want);
	report_free(&rep);
}

static void
test_random(void)
{
	check_random(0, 1, REPORT_KEY_USER);
	check_random(1, 1, REPORT_KEY_USER);
	check_random(200, 1, REPORT_KEY_USER);
	check_random(5000, 3, REPORT_KEY_USER);
	/* Many groups: the table grows many times. */
	check_random(20000, 400, REPORT_KEY_USER);
	check_random(3000, 7, REPORT_KEY_COMMAND);
	check_random(3000, 7, REPORT_KEY_JOB);
	check_random(3000, 7, REPORT_KEY_POD);
}

/* An empty user and a user called "unknown" are one group, as before. */
static void
test_unknown(void)
{
	struct report rep;

	random_report(&rep, 2, 1);
	rep.sessions[0].host = rep.sessions[1].host = 0;
	rep.sessions[0].who.user = "";
	rep.sessions[1].who.user = "unknown";
	CHECK_INT(report_group_identities(&rep), 0);
	CHECK_INT(rep.nids_all, 1);
	CHECK_STR(rep.ids[0].name, "unknown");
	CHECK_INT(rep.ids[0].sessions, 2);
	report_free(&rep);
}

int
main(void)
{
	test_random();
	test_unknown();
	HARNESS_DONE();
}
