/*
 * The packed formats alone (store-pack.c), without SQLite: the input is
 * one ticks.gpus blob, and again one hours row whose gpus blob is the
 * first data[0] bytes after the first and whose procs blob is the rest.
 * Decoding must fail cleanly or give only values a tick can hold.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store-pack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
tick(const uint8_t *data, size_t size)
{
	struct store_unpacked u;

	memset(&u, 0, sizeof(u));
	/* A tick of 1 s: its energy at most 10 kW over two, and a joule. */
	if (store_unpack_tick(data, size, 1000, &u) == 0) {
		for (size_t i = 0; i < u.ngpus; i++) {
			const struct store_tick_gpu *g = &u.gpus[i];

			if (g->first_proc > u.nprocs ||
			    g->nprocs > u.nprocs - g->first_proc ||
			    g->reading.util_pm > 1000 ||
			    g->reading.util_max_pct > 100 ||
			    g->reading.util_cover_pm > 1000 ||
			    g->reading.energy_j < ENERGY_UNKNOWN ||
			    g->reading.energy_j > 2 * ENERGY_MAX_W + 1 ||
			    (g->reading.energy_j == ENERGY_UNKNOWN) !=
			    (g->reading.energy_src == ENERGY_SRC_NONE))
				abort();
		}
	}
	free(u.gpus);
	free(u.procs);
}

static void
hour(const uint8_t *data, size_t size)
{
	struct store_hour h;
	size_t glen;

	if (size == 0)
		return;
	glen = data[0] < size - 1 ? data[0] : size - 1;
	memset(&h, 0, sizeof(h));
	store_hour_clear(&h, 0);
	(void)store_unpack_hour(&h, data + 1, glen, data + 1 + glen,
	    size - 1 - glen, 1);
	store_hour_free(&h);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tick(data, size);
	hour(data, size);
	return 0;
}
