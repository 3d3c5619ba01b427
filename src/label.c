#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "label.h"

#define MIG_CHARS_MIN	4

const char *
label_mig_name(const char *uuid)
{
	const char *slash;

	if (strncasecmp(uuid, "MIG-GPU-", 8) == 0 &&
	    (slash = strchr(uuid, '/')) != NULL)
		return slash + 1;
	return strncasecmp(uuid, "MIG-", 4) == 0 ? uuid + 4 : uuid;
}

size_t
label_mig_chars(const char *uuid, const char *other, size_t chars)
{
	const char *a = label_mig_name(uuid), *b = label_mig_name(other);
	size_t alen = strlen(a);

	if (chars < MIG_CHARS_MIN)
		chars = MIG_CHARS_MIN;
	while (chars < alen && strncmp(a, b, chars) == 0)
		chars++;
	return chars;
}

char *
label_gpu(char *buf, size_t len, int index, int card, const char *uuid,
    const char *parent_uuid, size_t mig_chars)
{
	const char *name;
	char nth[16] = "";
	size_t o, nlen;

	if (card > 1)
		snprintf(nth, sizeof(nth), "#%d", card);
	if (parent_uuid[0] == '\0') {
		snprintf(buf, len, "GPU-%d%s", index, nth);
		return buf;
	}
	name = label_mig_name(uuid);
	nlen = strlen(name);
	if (mig_chars < MIG_CHARS_MIN)
		mig_chars = MIG_CHARS_MIN;
	if (mig_chars > nlen)
		mig_chars = nlen;
	snprintf(buf, len, "GPU-%d%s/MIG-", index, nth);
	/* Only characters that are safe anywhere: a UUID is NVML's text. */
	o = strlen(buf);
	for (size_t i = 0; i < mig_chars && o + 1 < len; i++) {
		char c = name[i];

		if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		    (c >= 'A' && c <= 'Z') || c == '-' || c == '/')
			buf[o++] = c;
	}
	buf[o] = '\0';
	return buf;
}
