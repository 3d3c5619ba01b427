#include <stdint.h>
#include <stdlib.h>

#include "grow.h"

int
grow(void **array, size_t *cap, size_t want, size_t size)
{
	size_t ncap = *cap ? *cap : 16;
	void *na;

	if (want <= *cap)
		return 0;
	while (ncap < want) {
		if (ncap > SIZE_MAX / 2)
			return -1;
		ncap *= 2;
	}
	if (size != 0 && ncap > SIZE_MAX / size)
		return -1;
	if ((na = realloc(*array, ncap * size)) == NULL)
		return -1;
	*array = na;
	*cap = ncap;
	return 0;
}
