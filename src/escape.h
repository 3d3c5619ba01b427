/*
 * Escaping untrusted text (process names, command lines, user names) for
 * each place it is written. Every function writes a terminated string into
 * a caller's buffer and never overflows it; output that does not fit is cut
 * at a character boundary.
 */
#ifndef GUA_ESCAPE_H
#define GUA_ESCAPE_H

#include <stddef.h>

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

#endif
