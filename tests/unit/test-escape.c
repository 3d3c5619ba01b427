#include "escape.h"
#include "harness.h"

/* Table-driven: each input and exactly what a terminal must get. */
static const struct {
	const char	*in;
	size_t		 max;
	const char	*out;
	size_t		 cols;
} cases[] = {
	{ "alice", 0, "alice", 5 },
	{ "", 0, "", 0 },
	{ "tab\there", 0, "tab\\there", 9 },
	{ "new\nline", 0, "new\\nline", 9 },
	{ "cr\r", 0, "cr\\r", 4 },
	{ "\x1b[31mred", 0, "\\x1B[31mred", 11 },
	{ "bell\x07", 0, "bell\\x07", 8 },
	{ "del\x7f", 0, "del\\x7F", 7 },
	{ "back\\slash", 0, "back\\\\slash", 11 },
	{ "caf\xc3\xa9", 0, "caf\xc3\xa9", 4 },
	{ "\xe6\x97\xa5\xe6\x9c\xac", 0, "\xe6\x97\xa5\xe6\x9c\xac", 2 },
	{ "bad\xff", 0, "bad\\xFF", 7 },
	{ "trunc\xc3", 0, "trunc\\xC3", 9 },
	{ "\xc0\xaf", 0, "\\xC0\\xAF", 8 },		/* overlong '/' */
	{ "\xed\xa0\x80", 0, "\\xED\\xA0\\x80", 12 },	/* surrogate */
	{ "c1\xc2\x9b", 0, "c1\\u{9B}", 8 },		/* C1 CSI */
	{ "rtl\xe2\x80\xae", 0, "rtl\\u{202E}", 11 },	/* bidi override */
	{ "abcdefghij", 5, "abcd\xe2\x80\xa6", 5 },
	{ "abcde", 5, "abcde", 5 },
	{ "abcdef", 5, "abcd\xe2\x80\xa6", 5 },
	{ "\n\n\n", 5, "\\n\\n\xe2\x80\xa6", 5 },
};

int
main(void)
{
	char out[256], tiny[6];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t cols = escape_terminal(cases[i].in, out, sizeof(out),
		    cases[i].max);

		CHECK_STR(out, cases[i].out);
		CHECK_INT(cols, cases[i].cols);
	}
	/* A small buffer is never overrun and stays terminated. */
	escape_terminal("\x1b\x1b\x1b\x1b", tiny, sizeof(tiny), 0);
	CHECK_STR(tiny, "\\x1B");
	HARNESS_DONE();
}
