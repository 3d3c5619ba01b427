/*
 * A small open-addressing hash map from a pair of integers to an integer,
 * for the caches of the store and the sums of a report. No deletion: a
 * caller clears the whole map instead.
 */
#ifndef GUA_IMAP_H
#define GUA_IMAP_H

#include <stddef.h>
#include <stdint.h>

struct imap_slot {
	int64_t	a, b;		/* the key */
	int64_t	value;
	int	used;
};

struct imap {
	struct imap_slot *slots;	/* cap entries, a power of two */
	size_t		  cap;
	size_t		  len;
};

/* Inserts or replaces; returns 0, or -1 when out of memory. */
int	imap_put(struct imap *, int64_t a, int64_t b, int64_t value);
/* Returns 0 and sets *value when found, else -1. */
int	imap_get(const struct imap *, int64_t a, int64_t b, int64_t *value);
/*
 * Starts bringing the slot of a key into the cache, for a get soon after:
 * a loop over many keys asks a few keys ahead, so that the cache misses
 * of a map too big to stay cached between passes overlap.
 */
void	imap_prefetch(const struct imap *, int64_t a, int64_t b);
/* Forgets every entry but keeps the memory. */
void	imap_clear(struct imap *);
void	imap_free(struct imap *);

#endif
