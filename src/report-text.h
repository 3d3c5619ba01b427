/*
 * The report as text for a terminal, in the original tool's layout.
 */
#ifndef GUA_REPORT_TEXT_H
#define GUA_REPORT_TEXT_H

#include <stdio.h>

#include "report.h"

#define TEXT_WIDTH_DEFAULT	60
#define TEXT_WIDTH_MIN		10
#define TEXT_WIDTH_MAX		1000
#define TEXT_TOP_IDENTITIES	10
#define TEXT_TOP_SESSIONS	10

struct text_options {
	int	width;		/* cells of the §1 bar, exactly */
	int	colour;		/* colour the bar and headings (a terminal) */
};

/* Cells of each state in a bar of width cells, summing to width. */
void	report_text_bar_cells(const struct rollup_gpu *, int width,
	    int cells[3]);
/* Writes the whole report; returns 0, or -1 when the stream failed. */
int	report_text_write(FILE *, const struct report *,
	    const struct text_options *);

#endif
