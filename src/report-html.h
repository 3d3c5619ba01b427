/*
 * The report as one self-contained HTML page: inline CSS and SVG charts, no
 * script, no network (a Content-Security-Policy forbids both). Every chart
 * element carries its number in data-* attributes and a <title>, so tests
 * and readers can check what is drawn; the numbers a reader needs (each
 * GPU's shares, the heatmaps' scale) are also written out as text.
 */
#ifndef GUA_REPORT_HTML_H
#define GUA_REPORT_HTML_H

#include <stdio.h>

#include "report.h"

/* Writes the whole page; returns 0, or -1 when the stream failed. */
int	report_html_write(FILE *, const struct report *);

#endif
