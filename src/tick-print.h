/*
 * A tick as one line for people: what gua daemon --foreground prints.
 */
#ifndef GUA_TICK_PRINT_H
#define GUA_TICK_PRINT_H

#include <stdint.h>
#include <stdio.h>

#include "tick.h"

/* GPU i of tick t as the reports label it ("GPU-0", "GPU-0/MIG-c6d4"),
   for the line and for the notification hooks. Returns buf. */
char	*tick_print_label(const struct tick *t, size_t i, char *buf,
	    size_t len);
/* The line of tick t, the nth this run wrote, onto f (flushed). */
void	tick_print(FILE *f, const struct tick *t, int64_t n);

#endif
