/* The duration and time parsers: never crash, and what they accept holds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), err[256], back[64];
	int64_t ms, again;

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (duration_parse(s, &ms, err, sizeof(err)) == 0) {
		if (ms < 1 || ms > DURATION_MAX_MS)
			abort();
		/* The canonical form parses back to the same value. */
		duration_format(ms, back, sizeof(back));
		if (duration_parse(back, &again, err, sizeof(err)) != 0 ||
		    again != ms)
			abort();
	}
	if (util_parse_rfc3339(s, &ms) == 0) {
		util_format_rfc3339(ms, back, sizeof(back));
		if (util_parse_rfc3339(back, &again) != 0 ||
		    again != ms - ((ms % 1000) + 1000) % 1000)
			abort();
	}
	free(s);
	return 0;
}
