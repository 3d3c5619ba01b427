/*
 * The /proc/PID/cgroup parser: whatever the file holds, the fields it
 * fills are terminated, of their own shape, and nothing else is touched.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "identity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_chars(const char *s, size_t cap, const char *allowed)
{
	size_t n = strnlen(s, cap);

	if (n == cap)
		abort();
	for (size_t i = 0; i < n; i++)
		if (strchr(allowed, s[i]) == NULL)
			abort();
}

static int
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n > k && strcmp(s + n - k, suffix) == 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	struct identity id;
	char *buf = malloc(size ? size : 1);

	if (buf == NULL)
		return 0;
	/* Exactly the input's bytes: a read past them is ASan's to find. */
	memcpy(buf, data, size);
	memset(&id, 0x5a, sizeof(id));
	identity_parse_cgroup(buf, size, &id);
	free(buf);
	check_chars(id.container, sizeof(id.container), hex);
	if (id.container[0] != '\0' && strlen(id.container) != 12)
		abort();
	check_chars(id.pod, sizeof(id.pod), "0123456789abcdef-");
	if (id.pod[0] != '\0' && (strlen(id.pod) < 32 || strlen(id.pod) > 36))
		abort();
	check_chars(id.slurm_job, sizeof(id.slurm_job), "job_0123456789");
	if (id.slurm_job[0] != '\0' && strncmp(id.slurm_job, "job_", 4) != 0)
		abort();
	if (strnlen(id.unit, sizeof(id.unit)) == sizeof(id.unit) ||
	    strchr(id.unit, '/') != NULL || strchr(id.unit, '\n') != NULL ||
	    (id.unit[0] != '\0' && !ends_with(id.unit, ".service") &&
	    !ends_with(id.unit, ".scope")))
		abort();
	/* The rest of the identity is left as it was. */
	for (size_t i = 0; i < sizeof(id.user); i++)
		if (id.user[i] != 0x5a || id.cmdline[i] != 0x5a)
			abort();
	return 0;
}
