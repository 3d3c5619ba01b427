/*
 * gua top's screen as lines of text, and as JSON
 * (docs/gua-top.schema.json). The same lines are printed by --once and
 * drawn by the full screen, which colours each by its kind. Untrusted
 * text (names, command lines, the host, the path) is escaped here.
 *
 * Ownership: top_lines allocates the lines and their text;
 * top_lines_free releases them.
 */
#ifndef GUA_TOP_PRINT_H
#define GUA_TOP_PRINT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "top.h"

/* What the command found out about the collector, beside the view. */
struct top_status {
	const char	*db;		/* the database's path, as given */
	int64_t		 now_ms;
	int		 running;	/* a collector is writing it */
	pid_t		 pid;		/* its PID from its PID file; 0 */
	const char	*start_hint;	/* how to start one ("gua start"); ""
					   when none can be here */
};

enum top_line_kind {
	TOP_LINE_PLAIN,
	TOP_LINE_TITLE,		/* the first line */
	TOP_LINE_WARN,		/* the collector is not writing */
	TOP_LINE_HEAD,		/* a table's column names */
	TOP_LINE_ACTIVE,	/* a row whose state is active, ... */
	TOP_LINE_IDLE_HELD,
	TOP_LINE_TRULY_IDLE,
	TOP_LINE_UNKNOWN,
};

struct top_line {
	enum top_line_kind kind;
	char		*text;		/* escaped, one line, no newline */
};

/*
 * The screen as lines, each cut to width columns (0: not cut). 0, or -1
 * out of memory.
 */
int	top_lines(const struct top_view *, const struct top_status *,
	    size_t width, struct top_line **out, size_t *n);
void	top_lines_free(struct top_line *, size_t n);

/* "5 min ago": how long ago a tick was, for people. */
void	top_format_age(int64_t ms, char *buf, size_t len);

/* The screen as one JSON document. 0, or -1 when f failed. */
int	top_print_json(FILE *f, const struct top_view *,
	    const struct top_status *);

#endif
