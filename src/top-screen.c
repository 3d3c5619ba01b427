/*
 * The full screen of gua top through ncursesw (top-screen.h). Signals that
 * end it only set a flag: the key loop sees it and the terminal is given
 * back by top_screen_close, never left raw.
 *
 * ncursesw is loaded (dlopen) by gua top only: linked, it and libtinfo
 * were 260 KB of every gua process's memory, the collector's included.
 * Its functions are called through the table below, never through the
 * curses macros, which would name its variables directly.
 */
#include <curses.h>
#include <dlfcn.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "top-screen.h"
#include "util.h"

/* The library's soname (ABI 6 since ncurses 6.0, 2015). */
#define CURSES_SONAME	"libncursesw.so.6"

/* What gua top uses of it, loaded at the first top_screen_open. */
static struct {
	__typeof__(newterm)		*newterm;
	__typeof__(set_term)		*set_term;
	__typeof__(cbreak)		*cbreak;
	__typeof__(noecho)		*noecho;
	__typeof__(nonl)		*nonl;
	__typeof__(keypad)		*keypad;
	__typeof__(curs_set)		*curs_set;
	__typeof__(has_colors)		*has_colors;
	__typeof__(start_color)		*start_color;
	__typeof__(use_default_colors)	*use_default_colors;
	__typeof__(init_pair)		*init_pair;
	__typeof__(endwin)		*endwin;
	__typeof__(delscreen)		*delscreen;
	__typeof__(werase)		*werase;
	__typeof__(wattrset)		*set_attrs;	/* wattrset: a macro too */
	__typeof__(wmove)		*wmove;
	__typeof__(waddnstr)		*waddnstr;
	__typeof__(waddch)		*waddch;
	__typeof__(wrefresh)		*wrefresh;
	__typeof__(wtimeout)		*wtimeout;
	__typeof__(wgetch)		*wgetch;
	__typeof__(getcurx)		*curx;	/* not getcurx: a macro too */
	WINDOW	**stdscr;
	int	*cols, *lines;
} cu;

/* Loads ncursesw once; 0, or -1 with the reason. */
static int
load_curses(char *err, size_t errlen)
{
	const char *why;
	void *lib;

	if (cu.newterm != NULL)
		return 0;
	if ((lib = dlopen(CURSES_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		why = dlerror();
		return util_err(err, errlen, "cannot load %s (%s); install "
		    "libncursesw6", CURSES_SONAME,
		    why != NULL ? why : "not found");
	}
	/* Through a data pointer, as dlsym gives functions. */
#define SYM(field, name) \
	(*(void **)(&cu.field) = dlsym(lib, name)) == NULL
	if (SYM(set_term, "set_term") || SYM(cbreak, "cbreak") ||
	    SYM(noecho, "noecho") || SYM(nonl, "nonl") ||
	    SYM(keypad, "keypad") || SYM(curs_set, "curs_set") ||
	    SYM(has_colors, "has_colors") ||
	    SYM(start_color, "start_color") ||
	    SYM(use_default_colors, "use_default_colors") ||
	    SYM(init_pair, "init_pair") || SYM(endwin, "endwin") ||
	    SYM(delscreen, "delscreen") || SYM(werase, "werase") ||
	    SYM(set_attrs, "wattrset") || SYM(wmove, "wmove") ||
	    SYM(waddnstr, "waddnstr") || SYM(waddch, "waddch") ||
	    SYM(wrefresh, "wrefresh") || SYM(wtimeout, "wtimeout") ||
	    SYM(wgetch, "wgetch") || SYM(curx, "getcurx") ||
	    SYM(stdscr, "stdscr") || SYM(cols, "COLS") ||
	    SYM(lines, "LINES") || SYM(newterm, "newterm")) {
		cu.newterm = NULL;
		dlclose(lib);
		return util_err(err, errlen, "%s lacks functions gua top "
		    "needs", CURSES_SONAME);
	}
#undef SYM
	return 0;
}

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

	if (load_curses(err, errlen) != 0)
		return -1;
	/*
	 * The handlers first: they only set a flag, and a signal between
	 * noecho() and them would leave the terminal without echo.
	 */
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
	/* Names and the cut mark "…" are UTF-8. */
	setlocale(LC_CTYPE, "");
	if ((screen = cu.newterm(NULL, stdout, stdin)) == NULL)
		return util_err(err, errlen, "cannot use the terminal "
		    "(TERM=%s)", getenv("TERM") ? getenv("TERM") : "");
	cu.set_term(screen);
	cu.cbreak();
	cu.noecho();
	cu.nonl();
	cu.keypad(*cu.stdscr, TRUE);
	cu.curs_set(0);
	coloured = colour && cu.has_colors();
	if (coloured) {
		cu.start_color();
		cu.use_default_colors();
		cu.init_pair(PAIR_WARN, COLOR_YELLOW, -1);
		cu.init_pair(PAIR_ACTIVE, COLOR_GREEN, -1);
		cu.init_pair(PAIR_IDLE_HELD, COLOR_RED, -1);
		cu.init_pair(PAIR_UNKNOWN, COLOR_MAGENTA, -1);
	}
	return 0;
}

void
top_screen_close(void)
{
	if (screen == NULL)
		return;
	cu.endwin();
	cu.delscreen(screen);
	screen = NULL;
}

size_t
top_screen_width(void)
{
	return screen != NULL && *cu.cols > 0 ? (size_t)*cu.cols : 80;
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
	WINDOW *w = *cu.stdscr;
	int cols = *cu.cols, lines = *cu.lines;
	int rows = lines > 1 ? lines - 1 : 1;
	char more[96];

	cu.werase(w);
	for (size_t i = 0; i < n && (int)i < rows; i++) {
		cu.set_attrs(w, (int)attr_of(l[i].kind));
		/* The lines are cut to the width already. */
		if (cu.wmove(w, (int)i, 0) != ERR)
			cu.waddnstr(w, l[i].text, -1);
		if (l[i].kind == TOP_LINE_HEAD)
			for (int x = cu.curx(w); x > 0 && x < cols; x++)
				cu.waddch(w, ' ');
	}
	cu.set_attrs(w, A_NORMAL);
	if (n > (size_t)rows && rows > 0) {
		snprintf(more, sizeof(more), "... %zu more lines; make the "
		    "terminal taller", n - (size_t)rows + 1);
		if (cu.wmove(w, rows - 1, 0) != ERR)
			cu.waddnstr(w, more, -1);
	}
	cu.set_attrs(w, A_DIM);
	if (cu.wmove(w, lines - 1, 0) != ERR)
		cu.waddnstr(w, footer, cols);
	cu.set_attrs(w, A_NORMAL);
	cu.wrefresh(w);
}

enum top_key
top_screen_key(int timeout_ms)
{
	int ch;

	if (quit_signal)
		return TOP_KEY_QUIT;
	cu.wtimeout(*cu.stdscr, timeout_ms);
	ch = cu.wgetch(*cu.stdscr);
	if (quit_signal || ch == 'q' || ch == 'Q')
		return TOP_KEY_QUIT;
	if (ch == KEY_RESIZE)
		return TOP_KEY_RESIZE;
	return TOP_KEY_NONE;
}
