/*
 * Growing arrays: the one place that doubles a capacity and checks the
 * multiplication for overflow.
 */
#ifndef GUA_GROW_H
#define GUA_GROW_H

#include <stddef.h>

/*
 * Makes *array (of *cap elements of size bytes) hold at least want
 * elements, doubling from 16. Returns 0, or -1 out of memory or when the
 * size would overflow; *array and *cap are unchanged then.
 */
int	grow(void **array, size_t *cap, size_t want, size_t size);

#endif
