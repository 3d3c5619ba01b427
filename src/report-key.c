/*
 * The keys a report groups its identities by (--by) and the filters
 * that pick the processes it counts (--user, --job, --pod, --namespace,
 * --container, --unit, --command): their names, a process's value for each, and
 * whether a process passes a filter.
 */
#include <stdio.h>
#include <string.h>

#include "report-internal.h"
#include "util.h"

static const char *const key_names[REPORT_KEY_COUNT] = {
	[REPORT_KEY_USER] = "user",
	[REPORT_KEY_JOB] = "job",
	[REPORT_KEY_POD] = "pod",
	[REPORT_KEY_CONTAINER] = "container",
	[REPORT_KEY_UNIT] = "unit",
	[REPORT_KEY_COMMAND] = "command",
	[REPORT_KEY_GPU] = "gpu",
	[REPORT_KEY_HOST] = "host",
	[REPORT_KEY_NAMESPACE] = "namespace",
};

const char *
report_key_name(enum report_key k)
{
	return k < REPORT_KEY_COUNT ? key_names[k] : "?";
}

int
report_key_parse(const char *name, enum report_key *k)
{
	for (int i = 0; i < REPORT_KEY_COUNT; i++)
		if (strcmp(name, key_names[i]) == 0) {
			*k = (enum report_key)i;
			return 0;
		}
	return -1;
}

/* Whether a recorded value answers a filter's value for key k. */
static int
value_matches(enum report_key k, const char *have, const char *want)
{
	size_t n = strlen(have);

	if (n == 0)
		return 0;
	switch (k) {
	case REPORT_KEY_JOB:
		/* Slurm says 4242; its cgroup says job_4242. */
		if (strncmp(have, "job_", 4) == 0 && strcmp(have + 4, want) == 0)
			return 1;
		break;
	case REPORT_KEY_CONTAINER:
		/* The short id is what is kept; a full id starts with it. */
		if (strncmp(want, have, n) == 0)
			return 1;
		break;
	default:
		break;
	}
	return strcmp(have, want) == 0;
}

/* A process's recorded value for a filter's key; "" none. */
static const char *
identity_value(const struct identity *id, enum report_key k)
{
	switch (k) {
	case REPORT_KEY_USER:
		return id->user;
	case REPORT_KEY_JOB:
		return id->slurm_job;
	case REPORT_KEY_POD:
		return id->pod;
	case REPORT_KEY_CONTAINER:
		return id->container;
	case REPORT_KEY_UNIT:
		return id->unit;
	case REPORT_KEY_COMMAND:
		return id->comm;
	case REPORT_KEY_NAMESPACE:
		return id->pod_namespace;
	default:
		return "";
	}
}

/* A pod is asked for by its UID, its name or namespace/name. */
static int
pod_matches(const struct identity *id, const char *want)
{
	size_t ns = strlen(id->pod_namespace);

	if (value_matches(REPORT_KEY_POD, id->pod, want) ||
	    value_matches(REPORT_KEY_POD, id->pod_name, want))
		return 1;
	return ns > 0 && id->pod_name[0] != '\0' &&
	    strncmp(want, id->pod_namespace, ns) == 0 && want[ns] == '/' &&
	    strcmp(want + ns + 1, id->pod_name) == 0;
}

int
report_filter_match(const struct report_filter *f, const struct identity *id)
{
	int asked[REPORT_KEY_COUNT] = { 0 }, met[REPORT_KEY_COUNT] = { 0 };

	for (size_t i = 0; i < f->n; i++) {
		enum report_key k = f->match[i].key;

		asked[k] = 1;
		if (!met[k] && (k == REPORT_KEY_POD ?
		    pod_matches(id, f->match[i].value) :
		    value_matches(k, identity_value(id, k), f->match[i].value)))
			met[k] = 1;
	}
	for (int k = 0; k < REPORT_KEY_COUNT; k++)
		if (asked[k] && !met[k])
			return 0;
	return 1;
}

void
report_filter_describe(const struct report_filter *f, char *buf, size_t len)
{
	size_t used = 0;

	if (len > 0)
		buf[0] = '\0';
	for (size_t i = 0; f != NULL && i < f->n && used < len; i++) {
		int n = snprintf(buf + used, len - used, "%s%s=%s",
		    i > 0 ? " " : "", key_names[f->match[i].key],
		    f->match[i].value);

		if (n < 0)
			break;
		used += (size_t)n;
	}
}

const char *
report_key_who(const struct report *rep, const struct report_who *w,
    size_t gpu, size_t host, enum report_key k, char *buf, size_t len)
{
	switch (k) {
	case REPORT_KEY_USER:
		return w->user;
	case REPORT_KEY_JOB:
		return w->slurm_job;
	case REPORT_KEY_POD:
		/* What people call a pod, where the node's pod logs told. */
		if (w->pod_namespace[0] != '\0' && w->pod_name[0] != '\0') {
			snprintf(buf, len, "%s/%s", w->pod_namespace,
			    w->pod_name);
			return buf;
		}
		return w->pod;
	case REPORT_KEY_NAMESPACE:
		return w->pod_namespace;
	case REPORT_KEY_CONTAINER:
		return w->container;
	case REPORT_KEY_UNIT:
		return w->unit;
	case REPORT_KEY_COMMAND:
		return w->comm;
	case REPORT_KEY_GPU:
		return report_gpu_label(rep, gpu, buf, len);
	case REPORT_KEY_HOST:
		return rep->hosts[host].hostname;
	default:
		return "";
	}
}
