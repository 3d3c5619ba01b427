/*
 * A tick's energy from the counter, or power x span where the counter
 * cannot say (energy.h). Counter differences are exact; power x span
 * assumes the draw read at the tick held over its span.
 */
#include <stddef.h>

#include "energy.h"

/* power x span, or ENERGY_UNKNOWN. mW x ms / 1000 = mJ. */
static enum energy_source
from_power(const struct energy_read *r, int64_t span_ms, int64_t *mj)
{
	if (!r->power_ok || span_ms <= 0 ||
	    r->power_mw > (uint32_t)ENERGY_MAX_W * 1000) {
		*mj = ENERGY_UNKNOWN;
		return ENERGY_SRC_NONE;
	}
	*mj = (int64_t)r->power_mw * span_ms / 1000;
	return ENERGY_SRC_POWER;
}

enum energy_source
energy_tick(struct energy_meter *m, const struct energy_read *r,
    int64_t span_ms, int64_t *mj)
{
	uint64_t delta, most;
	int had = m->have;
	uint64_t last = m->last_mj;

	/* Without a counter now, the previous read is no base later. */
	m->have = r->counter_ok;
	m->last_mj = r->counter_ok ? r->counter_mj : 0;
	if (!r->counter_ok || !had || r->counter_mj < last || span_ms <= 0)
		return from_power(r, span_ms, mj);
	delta = r->counter_mj - last;
	most = (uint64_t)ENERGY_MAX_W * (uint64_t)span_ms;	/* W x ms = mJ */
	if (delta > most)
		return from_power(r, span_ms, mj);
	*mj = (int64_t)delta;
	return ENERGY_SRC_COUNTER;
}

int64_t
energy_joules(int64_t mj)
{
	if (mj < 0)
		return ENERGY_UNKNOWN;
	return mj / 1000 + (mj % 1000 >= 500);
}

const char *
energy_source_name(enum energy_source s)
{
	switch (s) {
	case ENERGY_SRC_COUNTER:
		return "counter";
	case ENERGY_SRC_POWER:
		return "power";
	case ENERGY_SRC_NONE:
		break;
	}
	return "unknown";
}
