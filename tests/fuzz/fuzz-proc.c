/*
 * The /proc parsers (stat, status, loginuid, cmdline, btime) over any
 * bytes, as another user's process can shape most of them: never read
 * outside the buffer (it is copied to one of its exact size, so ASan
 * sees any overread), and what they return holds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "identity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Nonzero when s[0..len) is valid UTF-8 throughout. */
static int
valid_utf8(const char *s, size_t len)
{
	unsigned cp;

	for (size_t i = 0, n; i < len; i += n)
		if ((n = escape_utf8_decode((const unsigned char *)s + i,
		    len - i, &cp)) == 0)
			return 0;
	return 1;
}

/* The cmdline parser into out of outlen bytes: a bounded, terminated
   prefix of the input with NULs as spaces, cut between characters. */
static void
cmdline(const char *buf, size_t len, size_t outlen)
{
	char *out = malloc(outlen ? outlen : 1);
	size_t n, in = len;

	if (out == NULL)
		return;
	memset(out, 'Z', outlen ? outlen : 1);
	identity_parse_cmdline(buf, len, out, outlen);
	if (outlen == 0) {
		free(out);
		return;
	}
	n = strlen(out);
	if (n > outlen - 1 || n > len)
		abort();
	for (size_t i = 0; i < n; i++)
		if (out[i] != (buf[i] == '\0' ? ' ' : buf[i]))
			abort();
	/* Trailing NULs go; a valid input gives a valid output. */
	while (in > 0 && buf[in - 1] == '\0')
		in--;
	if (valid_utf8(buf, in) && !valid_utf8(out, n))
		abort();
	if (in + 1 <= outlen && n != in)
		abort();
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	struct identity_stat st;
	int64_t v;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	if (identity_parse_stat(buf, size, &st) == 0) {
		if (memchr(st.comm, '\0', sizeof(st.comm)) == NULL ||
		    st.state == ' ' || st.state == '\n')
			abort();
	}
	if (identity_parse_status_uid(buf, size, &v) == 0 &&
	    (v < 0 || v > 0xffffffffLL))
		abort();
	if (identity_parse_loginuid(buf, size, &v) == 0 &&
	    (v < -1 || v >= IDENTITY_LOGINUID_UNSET))
		abort();
	if (identity_parse_btime(buf, size, &v) == 0 && v < 0)
		abort();
	cmdline(buf, size, 0);
	cmdline(buf, size, 1);
	cmdline(buf, size, 8);
	cmdline(buf, size, IDENTITY_CMDLINE_MAX);
	free(buf);
	return 0;
}
