#include <stdlib.h>
#include <string.h>

#include "imap.h"

static size_t
slot_of(const struct imap *m, int64_t a, int64_t b)
{
	uint64_t h = (uint64_t)a * 0x9E3779B97F4A7C15ULL;

	h ^= (uint64_t)b + 0x7F4A7C159E3779B9ULL + (h << 6) + (h >> 2);
	h ^= h >> 31;
	h *= 0xBF58476D1CE4E5B9ULL;
	h ^= h >> 29;
	return (size_t)h & (m->cap - 1);
}

static int
rehash(struct imap *m, size_t ncap)
{
	struct imap old = *m;

	m->slots = calloc(ncap, sizeof(*m->slots));
	if (m->slots == NULL) {
		*m = old;
		return -1;
	}
	m->cap = ncap;
	m->len = 0;
	for (size_t i = 0; i < old.cap; i++)
		if (old.slots[i].used)
			imap_put(m, old.slots[i].a, old.slots[i].b,
			    old.slots[i].value);
	free(old.slots);
	return 0;
}

int
imap_put(struct imap *m, int64_t a, int64_t b, int64_t value)
{
	size_t i;

	/* Keep the load under one half so probes stay short. */
	if ((m->len + 1) * 2 > m->cap &&
	    rehash(m, m->cap ? m->cap * 2 : 16) != 0)
		return -1;
	for (i = slot_of(m, a, b); m->slots[i].used; i = (i + 1) & (m->cap - 1)) {
		if (m->slots[i].a == a && m->slots[i].b == b) {
			m->slots[i].value = value;
			return 0;
		}
	}
	m->slots[i].a = a;
	m->slots[i].b = b;
	m->slots[i].value = value;
	m->slots[i].used = 1;
	m->len++;
	return 0;
}

int
imap_get(const struct imap *m, int64_t a, int64_t b, int64_t *value)
{
	if (m->cap == 0)
		return -1;
	for (size_t i = slot_of(m, a, b); m->slots[i].used;
	    i = (i + 1) & (m->cap - 1)) {
		if (m->slots[i].a == a && m->slots[i].b == b) {
			*value = m->slots[i].value;
			return 0;
		}
	}
	return -1;
}

void
imap_prefetch(const struct imap *m, int64_t a, int64_t b)
{
#if defined(__GNUC__) || defined(__clang__)
	if (m->cap > 0)
		__builtin_prefetch(&m->slots[slot_of(m, a, b)]);
#else
	(void)m;
	(void)a;
	(void)b;
#endif
}

void
imap_clear(struct imap *m)
{
	if (m->slots != NULL)
		memset(m->slots, 0, m->cap * sizeof(*m->slots));
	m->len = 0;
}

void
imap_free(struct imap *m)
{
	free(m->slots);
	memset(m, 0, sizeof(*m));
}
