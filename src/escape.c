#include <stdio.h>
#include <string.h>

#include "escape.h"

size_t
escape_utf8_decode(const unsigned char *s, size_t len, unsigned *cp)
{
	unsigned c;
	size_t n;

	if (len == 0)
		return 0;
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		c = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		c = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		c = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and values past U+10FFFF are invalid. */
	if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 ||
	    c > 0x10ffff)) || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

/* Characters that reorder or hide text on a terminal (Trojan Source). */
static int
is_bidi_control(unsigned cp)
{
	return cp == 0x061c || cp == 0x200e || cp == 0x200f ||
	    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/*
 * The visible form of one character (or of one invalid byte, n == 0) for a
 * reader: controls, DEL, C1 controls, bidirectional overrides and invalid
 * bytes become escapes like \x1B, \n or \u{202E}; a backslash is doubled
 * so an escape cannot be forged. Other characters are copied. piece holds
 * at least 16 bytes. Returns the bytes of input consumed.
 */
static size_t
visible_piece(const unsigned char *s, size_t len, char piece[16])
{
	unsigned cp;
	size_t n = escape_utf8_decode(s, len, &cp);

	if (n == 0) {
		snprintf(piece, 16, "\\x%02X", s[0]);
		return 1;
	}
	if (cp == '\\')
		memcpy(piece, "\\\\", 3);
	else if (cp == '\n')
		memcpy(piece, "\\n", 3);
	else if (cp == '\t')
		memcpy(piece, "\\t", 3);
	else if (cp == '\r')
		memcpy(piece, "\\r", 3);
	else if (cp < 0x20 || cp == 0x7f)
		snprintf(piece, 16, "\\x%02X", cp);
	else if ((cp >= 0x80 && cp < 0xa0) || is_bidi_control(cp))
		snprintf(piece, 16, "\\u{%X}", cp);
	else {
		memcpy(piece, s, n);
		piece[n] = '\0';
	}
	return n;
}

size_t
escape_terminal(const char *in, char *out, size_t outlen, size_t max_cols)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t len = strlen(in), i = 0, o = 0, cols = 0;
	char piece[16];

	if (outlen == 0)
		return 0;
	while (i < len) {
		size_t n = visible_piece(s + i, len - i, piece), plen;

		plen = strlen(piece);
		/* A visible escape is several columns; count what is shown. */
		size_t pcols = (n > 1 && piece[0] != '\\') ? 1 : plen;
		if (max_cols > 0 && cols + pcols > max_cols - (i + n < len)) {
			if (o + 3 < outlen) {
				memcpy(out + o, "\xe2\x80\xa6", 3);
				o += 3;
				cols++;
			}
			break;
		}
		if (o + plen >= outlen)
			break;
		memcpy(out + o, piece, plen);
		o += plen;
		cols += pcols;
		i += n;
	}
	out[o] = '\0';
	return cols;
}

/* Copies one character, or U+FFFD for an invalid byte; returns bytes used. */
static size_t
put_valid(FILE *f, const unsigned char *s, size_t len)
{
	unsigned cp;
	size_t n = escape_utf8_decode(s, len, &cp);

	if (n == 0) {
		fputs("\xef\xbf\xbd", f);
		return 1;
	}
	fwrite(s, 1, n, f);
	return n;
}

void
escape_html_write(FILE *f, const char *in)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t len = strlen(in), i = 0;
	char piece[16];

	while (i < len) {
		i += visible_piece(s + i, len - i, piece);
		for (const char *p = piece; *p != '\0'; p++) {
			switch (*p) {
			case '&':
				fputs("&amp;", f);
				break;
			case '<':
				fputs("&lt;", f);
				break;
			case '>':
				fputs("&gt;", f);
				break;
			case '"':
				fputs("&quot;", f);
				break;
			case '\'':
				fputs("&#39;", f);
				break;
			default:
				fputc(*p, f);
			}
		}
	}
}

int
escape_csv_is_formula(const char *s)
{
	return s[0] != '\0' && strchr("=+-@\t\r", s[0]) != NULL;
}

void
escape_csv_write(FILE *f, const char *in)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t len = strlen(in), i = 0;
	int quote = strpbrk(in, ",\"\r\n") != NULL;

	if (quote)
		fputc('"', f);
	if (escape_csv_is_formula(in))
		fputc('\'', f);
	while (i < len) {
		unsigned cp;
		size_t n = escape_utf8_decode(s + i, len - i, &cp);
		char piece[16];

		if (s[i] == '"') {
			fputs("\"\"", f);
			i++;
		} else if (n > 0 && cp != '\t' && cp != '\n' && cp != '\\' &&
		    (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0) ||
		    is_bidi_control(cp))) {
			/* Never raw escape sequences: a CSV gets printed. */
			i += visible_piece(s + i, len - i, piece);
			fputs(piece, f);
		} else {
			i += put_valid(f, s + i, len - i);
		}
	}
	if (quote)
		fputc('"', f);
}

void
escape_prom_label_write(FILE *f, const char *in)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t len = strlen(in), i = 0;
	char piece[16];
	unsigned cp;

	while (i < len) {
		if (s[i] == '\\') {
			fputs("\\\\", f);
			i++;
		} else if (s[i] == '"') {
			fputs("\\\"", f);
			i++;
		} else if (s[i] == '\n') {
			fputs("\\n", f);
			i++;
		} else if (escape_utf8_decode(s + i, len - i, &cp) > 0 &&
		    (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0) ||
		    is_bidi_control(cp))) {
			/* Shown as the text report shows it, \x1B, its
			   backslash escaped as the format wants: the value
			   reads "\x1B", and nothing raw reaches a terminal
			   that prints the file or a graph's legend. */
			i += visible_piece(s + i, len - i, piece);
			for (const char *q = piece; *q != '\0'; q++) {
				if (*q == '\\')
					fputc('\\', f);
				fputc(*q, f);
			}
		} else {
			i += put_valid(f, s + i, len - i);
		}
	}
}
