/*
 * Escaping untrusted text (process names, command lines, user names) for
 * each place it is written. escape_terminal writes a terminated string into
 * a caller's buffer and never overflows it; output that does not fit is cut
 * at a character boundary. The *_write escapers of the file formats write
 * to a stream and cut nothing. JSON strings are escaped by json.c.
 */
#ifndef GUA_ESCAPE_H
#define GUA_ESCAPE_H

#include <stddef.h>
#include <stdio.h>

/*
 * For a terminal: control characters, DEL, C1 controls, bidirectional
 * overrides and invalid UTF-8 become visible escapes (\n, \t, \xNN, \u{N}),
 * a backslash becomes "\\". Stops after max_cols characters, marking the
 * cut with "…" (0: no limit). Returns the columns written (one for each
 * character, which is exact for the text these fields hold, names and
 * command lines, and keeps tables aligned).
 */
size_t	escape_terminal(const char *in, char *out, size_t outlen,
	    size_t max_cols);

/* Decodes one UTF-8 character; returns its length, or 0 when invalid. */
size_t	escape_utf8_decode(const unsigned char *s, size_t len,
	    unsigned *cp);

/*
 * For HTML text and attribute values alike: the terminal's visible escapes
 * for controls, bidirectional overrides and invalid UTF-8 (so a name cannot
 * hide or reorder what is around it), then & < > " ' as entities.
 */
void	escape_html_write(FILE *, const char *);

/*
 * One CSV text cell (RFC 4180): quoted when it holds a comma, a quote, CR
 * or LF, with quotes doubled. A cell a spreadsheet would run as a formula
 * (starting with = + - @ TAB or CR) gets a leading single quote. Invalid
 * UTF-8 becomes U+FFFD. Control characters but TAB and LF (CR, ESC, BEL
 * ...), DEL, C1 controls and bidirectional overrides become the text
 * report's visible escapes (\r, \x1B, \u{202E}): a CSV gets printed on
 * terminals, where they would run. Backslashes stay as they are. Numbers
 * are written by the caller, not through this, so they stay numbers.
 */
void	escape_csv_write(FILE *, const char *);
/* Nonzero when a spreadsheet would take the cell for a formula. */
int	escape_csv_is_formula(const char *);

/*
 * A Prometheus label value, without its quotes: backslash, double quote
 * and line feed escaped as the exposition format requires; invalid UTF-8
 * becomes U+FFFD. Other control characters (TAB, ESC, ...), DEL, C1
 * controls and bidirectional overrides become the text report's visible
 * escapes with their backslash escaped: ESC is written \\x1B, so the
 * label's value reads \x1B.
 */
void	escape_prom_label_write(FILE *, const char *);

#endif
