#include <stdlib.h>

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

/* What a stream escaper writes for in; the caller frees it. */
static char *
written(void (*fn)(FILE *, const char *), const char *in)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	fn(f, in);
	fclose(f);
	return buf;
}

static const struct {
	const char	*in;
	const char	*out;
} html_cases[] = {
	{ "alice", "alice" },
	{ "", "" },
	{ "<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;" },
	{ "a&b", "a&amp;b" },
	{ "\"quoted\" 'single'", "&quot;quoted&quot; &#39;single&#39;" },
	{ "x\" onmouseover=\"y", "x&quot; onmouseover=&quot;y" },
	{ "new\nline", "new\\nline" },
	{ "\x1b[31m", "\\x1B[31m" },
	{ "rtl\xe2\x80\xae", "rtl\\u{202E}" },
	{ "bad\xff", "bad\\xFF" },
	{ "caf\xc3\xa9 \xe6\x97\xa5", "caf\xc3\xa9 \xe6\x97\xa5" },
	{ "back\\slash", "back\\\\slash" },
	{ "<\x1b>", "&lt;\\x1B&gt;" },
};

static const struct {
	const char	*in;
	const char	*out;
} csv_cases[] = {
	{ "alice", "alice" },
	{ "", "" },
	{ "a,b", "\"a,b\"" },
	{ "say \"hi\"", "\"say \"\"hi\"\"\"" },
	{ "two\nlines", "\"two\nlines\"" },
	{ "cr\rlf", "\"cr\\rlf\"" },
	{ "\x1b[2Jclear", "\\x1B[2Jclear" },
	{ "title\x1b]0;x\x07", "title\\x1B]0;x\\x07" },
	{ "rtl\xe2\x80\xae" "abc", "rtl\\u{202E}abc" },
	{ "c1\xc2\x9b", "c1\\u{9B}" },
	{ "C:\\dir\\x1B", "C:\\dir\\x1B" },
	{ "=1+2", "'=1+2" },
	{ "+1", "'+1" },
	{ "-1", "'-1" },
	{ "@SUM(A1)", "'@SUM(A1)" },
	{ "\tx", "'\tx" },
	{ "\rx", "\"'\\rx\"" },
	{ "=HYPERLINK(\"http://x\",\"y\")",
	    "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"" },
	{ "a=b", "a=b" },
	{ "bad\xff", "bad\xef\xbf\xbd" },
	{ "caf\xc3\xa9", "caf\xc3\xa9" },
};

static const struct {
	const char	*in;
	const char	*out;
} prom_cases[] = {
	{ "alice", "alice" },
	{ "", "" },
	{ "back\\slash", "back\\\\slash" },
	{ "q\"uote", "q\\\"uote" },
	{ "new\nline", "new\\nline" },
	{ "\\n literal", "\\\\n literal" },
	{ "tab\there", "tab\\\\there" },
	{ "\x1b[31mred", "\\\\x1B[31mred" },
	{ "bel\x07 del\x7f", "bel\\\\x07 del\\\\x7F" },
	{ "c1\xc2\x9b", "c1\\\\u{9B}" },
	{ "bidi\xe2\x80\xae", "bidi\\\\u{202E}" },
	{ "cr\r", "cr\\\\r" },
	{ "bad\xff", "bad\xef\xbf\xbd" },
	{ "} 1\nfake_metric 2", "} 1\\nfake_metric 2" },
};

static void
test_writers(void)
{
	char *got;

	for (size_t i = 0; i < sizeof(html_cases) / sizeof(html_cases[0]);
	    i++) {
		got = written(escape_html_write, html_cases[i].in);
		CHECK_STR(got, html_cases[i].out);
		free(got);
	}
	for (size_t i = 0; i < sizeof(csv_cases) / sizeof(csv_cases[0]); i++) {
		got = written(escape_csv_write, csv_cases[i].in);
		CHECK_STR(got, csv_cases[i].out);
		free(got);
	}
	for (size_t i = 0; i < sizeof(prom_cases) / sizeof(prom_cases[0]);
	    i++) {
		got = written(escape_prom_label_write, prom_cases[i].in);
		CHECK_STR(got, prom_cases[i].out);
		free(got);
	}
	CHECK(escape_csv_is_formula("=x"));
	CHECK(!escape_csv_is_formula("x="));
	CHECK(!escape_csv_is_formula(""));
}

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
	test_writers();
	HARNESS_DONE();
}
