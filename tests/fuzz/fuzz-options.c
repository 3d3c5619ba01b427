/*
 * The option parser: the input, split at NUL bytes, is the argument list of
 * `gua report` (or help/version) run in a private directory. Paths with a
 * slash are dropped so -o can only write there.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ARGS 16

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	static char commands[][8] = { "report", "help", "version" };
	char *buf = malloc(size + 1), *argv[MAX_ARGS + 3];
	int argc = 0;

	if (!ready) {
		char dir[] = "/tmp/gua-fuzz-XXXXXX";

		if (mkdtemp(dir) == NULL || chdir(dir) != 0)
			abort();
		/* Quiet: the commands print reports and help by design. */
		if (freopen("/dev/null", "w", stdout) == NULL)
			abort();
		setenv("GUA_NOW", "2026-11-25T10:30:00Z", 1);
		ready = 1;
	}
	if (buf == NULL || size == 0) {
		free(buf);
		return 0;
	}
	memcpy(buf, data, size);
	buf[size] = '\0';
	static char gua[] = "gua";

	argv[argc++] = gua;
	argv[argc++] = commands[data[0] % 3];
	for (char *p = buf + 1; p < buf + size && argc < MAX_ARGS + 2;
	    p += strlen(p) + 1) {
		if (strchr(p, '/') != NULL)
			continue;
		argv[argc++] = p;
	}
	argv[argc] = NULL;
	cmd_main(argc, argv);
	free(buf);
	return 0;
}
