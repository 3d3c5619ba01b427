/*
 * The report as text for a terminal, in the original tool's layout;
 * ASCII where the locale cannot show UTF-8.
 */
#ifndef GUA_REPORT_TEXT_H
#define GUA_REPORT_TEXT_H

#include <stdio.h>

#include "report.h"

#define TEXT_WIDTH_DEFAULT	60
#define TEXT_WIDTH_MIN		10
#define TEXT_WIDTH_MAX		1000
#define TEXT_COLUMNS_DEFAULT	160	/* not a terminal, and no COLUMNS */

struct text_options {
	int	width;		/* cells of the §1 bar, exactly */
	int	colour;		/* colour the bar and headings (a terminal) */
	int	ascii;		/* ASCII only: the locale cannot show UTF-8 */
	int	columns;	/* the terminal's width: §6 cuts command lines
				   to it; 0: TEXT_COLUMNS_DEFAULT */
};

/*
 * Options for writing to f: the default bar, ASCII unless the locale's
 * character set is UTF-8, f's terminal width (else COLUMNS, else
 * TEXT_COLUMNS_DEFAULT); no colour (cmd_colour decides).
 */
void	report_text_defaults(struct text_options *, FILE *f);
/* f's terminal width; else (f NULL, or not a terminal) COLUMNS, else
   TEXT_COLUMNS_DEFAULT. */
int	report_text_columns(FILE *f);
/* Cells of each state in a bar of width cells, summing to width. */
void	report_text_bar_cells(const struct rollup_gpu *, int width,
	    int cells[3]);
/* Writes the whole report; returns 0, or -1 when the stream failed. */
int	report_text_write(FILE *, const struct report *,
	    const struct text_options *);

#endif
