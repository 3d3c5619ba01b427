/*
 * A tick as one line for people: what gua daemon --foreground prints.
 */
#ifndef GUA_TICK_PRINT_H
#define GUA_TICK_PRINT_H

#include <stdint.h>
#include <stdio.h>

#include "tick.h"

/* The line of tick t, the nth this run wrote, onto f (flushed). */
void	tick_print(FILE *f, const struct tick *t, int64_t n);

#endif
