/*
 * report-key.c: the --by keys' names and the filters' matching, as a
 * table of identities and filters.
 */
#include <string.h>

#include "../../src/report.h"
#include "harness.h"

/* A process in a Slurm job, a pod's container, a unit. */
static void
who(struct identity *id, const char *user, const char *comm,
    const char *job, const char *pod, const char *ctr, const char *unit)
{
	memset(id, 0, sizeof(*id));
	id->known = 1;
	snprintf(id->user, sizeof(id->user), "%s", user);
	snprintf(id->comm, sizeof(id->comm), "%s", comm);
	snprintf(id->slurm_job, sizeof(id->slurm_job), "%s", job);
	snprintf(id->pod, sizeof(id->pod), "%s", pod);
	snprintf(id->container, sizeof(id->container), "%s", ctr);
	snprintf(id->unit, sizeof(id->unit), "%s", unit);
}

static void
test_keys(void)
{
	enum report_key k;

	for (int i = 0; i < REPORT_KEY_COUNT; i++) {
		CHECK_INT(report_key_parse(report_key_name((enum report_key)i),
		    &k), 0);
		CHECK_INT(k, i);
	}
	CHECK_INT(report_key_parse("users", &k), -1);
	CHECK_INT(report_key_parse("", &k), -1);
	CHECK_INT(report_key_parse("namespaces", &k), -1);
}

static void
test_match(void)
{
	static const struct {
		struct report_match m[3];
		size_t n;
		int want;
	} cases[] = {
		{ { { REPORT_KEY_JOB, "4242" } }, 1, 1 },
		{ { { REPORT_KEY_JOB, "job_4242" } }, 1, 1 },
		{ { { REPORT_KEY_JOB, "424" } }, 1, 0 },
		{ { { REPORT_KEY_JOB, "_4242" } }, 1, 0 },
		{ { { REPORT_KEY_USER, "alice" } }, 1, 1 },
		{ { { REPORT_KEY_USER, "alic" } }, 1, 0 },
		{ { { REPORT_KEY_CONTAINER, "3f2a1b4c5d6e" } }, 1, 1 },
		{ { { REPORT_KEY_CONTAINER, "3f2a1b4c5d6e7f80" } }, 1, 1 },
		/* Shorter than what is kept: too little to tell. */
		{ { { REPORT_KEY_CONTAINER, "3f2a" } }, 1, 0 },
		{ { { REPORT_KEY_POD, "1f2e-uid" } }, 1, 1 },
		{ { { REPORT_KEY_UNIT, "jupyter.service" } }, 1, 1 },
		{ { { REPORT_KEY_COMMAND, "python3" } }, 1, 1 },
		{ { { REPORT_KEY_COMMAND, "python" } }, 1, 0 },
		/* OR within a key, AND across keys. */
		{ { { REPORT_KEY_USER, "bob" }, { REPORT_KEY_USER, "alice" } },
		    2, 1 },
		{ { { REPORT_KEY_USER, "alice" }, { REPORT_KEY_JOB, "1" } }, 2,
		    0 },
		{ { { REPORT_KEY_USER, "alice" }, { REPORT_KEY_JOB, "1" },
		    { REPORT_KEY_JOB, "4242" } }, 3, 1 },
		/* No filter: everything. */
		{ { { REPORT_KEY_USER, "x" } }, 0, 1 },
	};
	struct report_filter f;
	struct identity id, bare;

	who(&id, "alice", "python3", "job_4242", "1f2e-uid", "3f2a1b4c5d6e",
	    "jupyter.service");
	who(&bare, "alice", "python3", "", "", "", "");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&f, 0, sizeof(f));
		memcpy(f.match, cases[i].m, sizeof(cases[i].m));
		f.n = cases[i].n;
		CHECK_INT(report_filter_match(&f, &id), cases[i].want);
	}
	/* A process without the key never matches it. */
	memset(&f, 0, sizeof(f));
	f.match[0].key = REPORT_KEY_CONTAINER;
	f.match[0].value = "3f2a1b4c5d6e";
	f.n = 1;
	CHECK_INT(report_filter_match(&f, &bare), 0);
	f.match[0].key = REPORT_KEY_USER;
	f.match[0].value = "alice";
	CHECK_INT(report_filter_match(&f, &bare), 1);
}

static void
test_describe(void)
{
	struct report_filter f;
	char buf[64];

	memset(&f, 0, sizeof(f));
	report_filter_describe(&f, buf, sizeof(buf));
	CHECK_STR(buf, "");
	report_filter_describe(NULL, buf, sizeof(buf));
	CHECK_STR(buf, "");
	f.match[0].key = REPORT_KEY_USER;
	f.match[0].value = "alice";
	f.match[1].key = REPORT_KEY_JOB;
	f.match[1].value = "4242";
	f.n = 2;
	report_filter_describe(&f, buf, sizeof(buf));
	CHECK_STR(buf, "user=alice job=4242");
	/* Cut, never past the buffer. */
	report_filter_describe(&f, buf, 8);
	CHECK_STR(buf, "user=al");
}

int
main(void)
{
	test_keys();
	test_match();
	test_describe();
	HARNESS_DONE();
}
