/*
 * gua top's full screen: the one file that knows curses. It draws the
 * lines top-print.c makes, coloured by their kind when colour is allowed,
 * and reads keys with a timeout, so its caller polls the database between
 * them. Terminal resizes come back as TOP_KEY_RESIZE.
 */
#ifndef GUA_TOP_SCREEN_H
#define GUA_TOP_SCREEN_H

#include <stddef.h>

#include "top-print.h"

enum top_key {
	TOP_KEY_NONE,		/* the timeout passed, or another key */
	TOP_KEY_QUIT,		/* q, Q, or a SIGINT/SIGTERM/SIGHUP */
	TOP_KEY_RESIZE,		/* the terminal changed size */
};

/*
 * Takes over the terminal (stdin and stdout must be one). colour: use
 * colour where the terminal has it. 0, or -1 with err.
 */
int	top_screen_open(int colour, char *err, size_t errlen);
/* Gives the terminal back as it was. */
void	top_screen_close(void);
/* The screen's width in columns. */
size_t	top_screen_width(void);
/* Draws lines from the top, and footer on the last line. */
void	top_screen_draw(const struct top_line *, size_t n,
	    const char *footer);
/* Waits up to timeout_ms for a key. */
enum top_key top_screen_key(int timeout_ms);

#endif
