/*
 * The report as CSV (RFC 4180, CRLF line ends): one table per run, a header
 * row, a host column in every table. Text cells are escaped by
 * escape_csv_write (quoting, no formulas); numbers are plain numbers; an
 * unknown value is an empty cell.
 */
#ifndef GUA_REPORT_CSV_H
#define GUA_REPORT_CSV_H

#include <stdio.h>

#include "report.h"

enum csv_table {
	CSV_GPUS,		/* one row per GPU */
	CSV_IDENTITIES,		/* one row per user and host */
	CSV_SESSIONS,		/* one row per process and GPU */
	CSV_TICKS,		/* one row per GPU per tick (report_rows) */
	CSV_PROCESSES,		/* one row per process per GPU per tick
				   (report_rows): the per-process evidence */
};

/* The table named name ("gpus", ...); 0, or -1 when there is none. */
int	report_csv_table(const char *name, enum csv_table *);
/*
 * Writes the table: header and rows; for CSV_TICKS and CSV_PROCESSES
 * only the header, the rows coming from report_rows through
 * report_csv_tick_row or report_csv_process_rows. Returns 0, or -1 when
 * the stream failed.
 */
int	report_csv_write(FILE *, const struct report *, enum csv_table);
/* One row of the ticks table; 0, or -1 when the stream failed. */
int	report_csv_tick_row(FILE *, const struct report_row *);
/*
 * The processes table's rows of one GPU at one tick: one per process,
 * with its own utilization and its state by the per-process rule. 0, or
 * -1 when the stream failed.
 */
int	report_csv_process_rows(FILE *, const struct report_row *);

#endif
