/*
 * The full screen of gua top through ncursesw (top-screen.h). Signals that
 * end it only set a flag: the key loop sees it and the terminal is given
 * back by top_screen_close, never left raw.
 */
#include <curses.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "top-screen.h"
#include "util.h"

static SCREEN *screen;
static int coloured;
static volatile sig_atomic_t quit_signal;

/* Colour pairs, by line kind. */
enum {
	PAIR_WARN = 1,
	PAIR_ACTIVE,
	PAIR_IDLE_HELD,
	PAIR_UNKNOWN,
};

static void
on_signal(int sig)
{
	(void)sig;
	quit_signal = 1;
}

int
top_screen_open(int colour, char *err, size_t errlen)
{
	struct sigaction sa;

	/* Names and the cut mark "…" are UTF-8. */
	setlocale(LC_CTYPE, "");
	if ((screen = newterm(NULL, stdout, stdin)) == NULL)
		return util_err(err, errlen, "cannot use the terminal "
		    "(TERM=%s)", getenv("TERM") ? getenv("TERM") : "");
	set_term(screen);
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	curs_set(0);
	coloured = colour && has_colors();
	if (coloured) {
		start_color();
		use_default_colors();
		init_pair(PAIR_WARN, COLOR_YELLOW, -1);
		init_pair(PAIR_ACTIVE, COLOR_GREEN, -1);
		init_pair(PAIR_IDLE_HELD, COLOR_RED, -1);
		init_pair(PAIR_UNKNOWN, COLOR_MAGENTA, -1);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: the wait for a key returns at once. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	/* Ctrl-\ too: its default would dump core with the terminal left
	   without echo, on the alternate screen. */
	sigaction(SIGQUIT, &sa, NULL);
	return 0;
}

void
top_screen_close(void)
{
	if (screen == NULL)
		return;
	endwin();
	delscreen(screen);
	screen = NULL;
}

size_t
top_screen_width(void)
{
	return COLS > 0 ? (size_t)COLS : 80;
}

static attr_t
attr_of(enum top_line_kind kind)
{
	switch (kind) {
	case TOP_LINE_TITLE:
		return A_BOLD;
	case TOP_LINE_HEAD:
		return A_REVERSE;
	case TOP_LINE_WARN:
		return coloured ? COLOR_PAIR(PAIR_WARN) | A_BOLD : A_BOLD;
	case TOP_LINE_ACTIVE:
		return coloured ? COLOR_PAIR(PAIR_ACTIVE) : A_NORMAL;
	case TOP_LINE_IDLE_HELD:
		return coloured ? COLOR_PAIR(PAIR_IDLE_HELD) | A_BOLD : A_BOLD;
	case TOP_LINE_UNKNOWN:
		return coloured ? COLOR_PAIR(PAIR_UNKNOWN) : A_NORMAL;
	default:
		return A_NORMAL;
	}
}

void
top_screen_draw(const struct top_line *l, size_t n, const char *footer)
{
	int rows = LINES > 1 ? LINES - 1 : 1;

	erase();
	for (size_t i = 0; i < n && (int)i < rows; i++) {
		attrset(attr_of(l[i].kind));
		/* The lines are cut to the width already. */
		mvaddstr((int)i, 0, l[i].text);
		if (l[i].kind == TOP_LINE_HEAD)
			for (int x = getcurx(stdscr); x > 0 && x < COLS; x++)
				addch(' ');
	}
	attrset(A_NORMAL);
	if (n > (size_t)rows && rows > 0)
		mvprintw(rows - 1, 0, "... %zu more lines; make the terminal "
		    "taller", n - (size_t)rows + 1);
	attrset(A_DIM);
	mvaddnstr(LINES - 1, 0, footer, COLS);
	attrset(A_NORMAL);
	refresh();
}

enum top_key
top_screen_key(int timeout_ms)
{
	int ch;

	if (quit_signal)
		return TOP_KEY_QUIT;
	timeout(timeout_ms);
	ch = getch();
	if (quit_signal || ch == 'q' || ch == 'Q')
		return TOP_KEY_QUIT;
	if (ch == KEY_RESIZE)
		return TOP_KEY_RESIZE;
	return TOP_KEY_NONE;
}
