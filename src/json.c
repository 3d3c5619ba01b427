#include <math.h>
#include <string.h>

#include "escape.h"
#include "json.h"

void
json_init(struct json *j, FILE *f, int indent)
{
	memset(j, 0, sizeof(*j));
	j->f = f;
	j->indent = indent;
}

void
json_write_string(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), i = 0;

	fputc('"', f);
	while (i < len) {
		unsigned cp;
		size_t n = escape_utf8_decode(p + i, len - i, &cp);

		if (n == 0) {
			fputs("\\ufffd", f);
			i++;
			continue;
		}
		switch (cp) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		case '\b':
			fputs("\\b", f);
			break;
		case '\f':
			fputs("\\f", f);
			break;
		default:
			/* Controls, and the two separators JavaScript chokes
			   on, as \u escapes; everything else as is. */
			if (cp < 0x20 || cp == 0x7f || cp == 0x2028 ||
			    cp == 0x2029)
				fprintf(f, "\\u%04x", cp);
			else
				fwrite(p + i, 1, n, f);
		}
		i += n;
	}
	fputc('"', f);
}

/* The comma, newline, indentation and key before a member. */
static void
member(struct json *j, const char *key)
{
	if (j->depth > 0 && j->count[j->depth]++ > 0)
		fputc(',', j->f);
	if (j->indent > 0 && j->depth > 0) {
		fputc('\n', j->f);
		fprintf(j->f, "%*s", j->depth * j->indent, "");
	}
	if (key != NULL) {
		json_write_string(j->f, key);
		fputs(j->indent > 0 ? ": " : ":", j->f);
	}
}

static void
open_level(struct json *j, const char *key, char c)
{
	member(j, key);
	fputc(c, j->f);
	if (j->depth < JSON_MAX_DEPTH - 1)
		j->depth++;
	j->count[j->depth] = 0;
}

static void
close_level(struct json *j, char c)
{
	int had = j->count[j->depth] > 0;

	if (j->depth > 0)
		j->depth--;
	if (had && j->indent > 0) {
		fputc('\n', j->f);
		fprintf(j->f, "%*s", j->depth * j->indent, "");
	}
	fputc(c, j->f);
}

void
json_object_begin(struct json *j, const char *key)
{
	open_level(j, key, '{');
}

void
json_object_end(struct json *j)
{
	close_level(j, '}');
}

void
json_array_begin(struct json *j, const char *key)
{
	open_level(j, key, '[');
}

void
json_array_end(struct json *j)
{
	close_level(j, ']');
}

void
json_string(struct json *j, const char *key, const char *value)
{
	member(j, key);
	if (value == NULL)
		fputs("null", j->f);
	else
		json_write_string(j->f, value);
}

void
json_int(struct json *j, const char *key, int64_t value)
{
	member(j, key);
	fprintf(j->f, "%lld", (long long)value);
}

void
json_double(struct json *j, const char *key, double value, int decimals)
{
	member(j, key);
	if (!isfinite(value))
		fputs("null", j->f);
	else if (decimals <= 0 && fabs(value) < 9e15)
		fprintf(j->f, "%.0f", value == 0 ? 0.0 : value);
	else
		fprintf(j->f, "%.*f", decimals, value == 0 ? 0.0 : value);
}

void
json_bool(struct json *j, const char *key, int value)
{
	member(j, key);
	fputs(value ? "true" : "false", j->f);
}

void
json_null(struct json *j, const char *key)
{
	member(j, key);
	fputs("null", j->f);
}

int
json_finish(struct json *j)
{
	fputc('\n', j->f);
	fflush(j->f);
	return ferror(j->f) ? -1 : 0;
}
