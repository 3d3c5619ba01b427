/*
 * The escapers: whatever bytes a process name holds, the terminal form has
 * no control byte and the JSON form is one valid string.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_utf8(const char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		unsigned cp;
		size_t n = escape_utf8_decode((const unsigned char *)s + i,
		    len - i, &cp);

		if (n == 0)
			abort();
		i += n;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), out[512], *json = NULL;
	size_t len = 0, cols;
	FILE *f;

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	cols = escape_terminal(s, out, sizeof(out), size % 40);
	if (size % 40 != 0 && cols > size % 40)
		abort();
	for (const unsigned char *p = (const unsigned char *)out; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			abort();
	check_utf8(out, strlen(out));

	f = open_memstream(&json, &len);
	json_write_string(f, s);
	fclose(f);
	if (len < 2 || json[0] != '"' || json[len - 1] != '"')
		abort();
	for (size_t i = 1; i + 1 < len; i++) {
		unsigned char c = (unsigned char)json[i];

		if (c < 0x20)
			abort();
		if (c == '\\')
			i++;	/* the escaped character */
		else if (c == '"')
			abort();
	}
	check_utf8(json, len);
	free(json);
	free(s);
	return 0;
}
