/*
 * A small streaming JSON writer: objects, arrays and scalars, with string
 * escaping per RFC 8259. Invalid UTF-8 becomes U+FFFD, so the output is
 * always valid JSON whatever bytes a process name holds. Every member takes
 * its key (NULL inside arrays and for the top level).
 */
#ifndef GUA_JSON_H
#define GUA_JSON_H

#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH	32

struct json {
	FILE	*f;
	int	 depth;
	int	 count[JSON_MAX_DEPTH];	/* members written at each depth */
	int	 indent;		/* spaces per level; 0: one line */
};

void	json_init(struct json *, FILE *, int indent);
void	json_object_begin(struct json *, const char *key);
void	json_object_end(struct json *);
void	json_array_begin(struct json *, const char *key);
void	json_array_end(struct json *);
/* A NULL string is written as null. */
void	json_string(struct json *, const char *key, const char *value);
void	json_int(struct json *, const char *key, int64_t value);
/* Rounded to decimals places; NaN and infinities are written as null. */
void	json_double(struct json *, const char *key, double value,
	    int decimals);
void	json_bool(struct json *, const char *key, int value);
void	json_null(struct json *, const char *key);
/* Ends the document with a newline; returns -1 if the stream failed. */
int	json_finish(struct json *);

/* Writes s as a quoted, escaped JSON string. */
void	json_write_string(FILE *, const char *s);

#endif
