/*
 * A GPU's energy over one tick, from NVML's total-energy counter
 * (nvmlDeviceGetTotalEnergyConsumption: millijoules since the driver
 * loaded) where the card has one, else from its power draw times the
 * tick's span. The counter restarts when the driver reloads: a reading
 * below the previous one is a reset, never negative energy. A counter
 * difference is the tick's only when it covers no more than the tick's
 * span: a stalled collector (its span capped), a GPU lost or unread at a
 * tick, leave a base older than the span, and its difference would
 * charge that time to this tick. Pure arithmetic on what the caller
 * read; no NVML here.
 */
#ifndef GUA_ENERGY_H
#define GUA_ENERGY_H

#include <stdint.h>

#define ENERGY_UNKNOWN	(-1)	/* millijoules nobody could tell */
/* More than this many watts on one GPU is no reading: a counter that
   jumps so far (a reload between two reads, a wrapped value) is not
   trusted. */
#define ENERGY_MAX_W	10000

/* Where a tick's energy came from. Stored as an integer. */
enum energy_source {
	ENERGY_SRC_NONE = 0,	/* unknown */
	ENERGY_SRC_COUNTER = 1,	/* the difference of two counter reads */
	ENERGY_SRC_POWER = 2,	/* power usage x span: no counter, its
				   first read, or a reset */
};

/* One GPU's previous counter read, kept from tick to tick. */
struct energy_meter {
	int		have;		/* 0: no previous read */
	uint64_t	last_mj;	/* the counter at the previous tick, less
					   what its whole joules left over */
	int64_t		read_ms;	/* monotonic ms of that read */
};

/* What was read this tick; a field is used only when its _ok is 1. */
struct energy_read {
	int		counter_ok;
	uint64_t	counter_mj;	/* total energy, millijoules */
	int		power_ok;
	uint32_t	power_mw;	/* power usage, milliwatts */
	int64_t		now_ms;		/* monotonic ms of the counter read */
};

/*
 * The tick's energy in millijoules into *mj (ENERGY_UNKNOWN when
 * neither read tells it) and its source; m remembers this tick's
 * counter for the next.
 */
enum energy_source energy_tick(struct energy_meter *m,
	    const struct energy_read *r, int64_t span_ms, int64_t *mj);
/*
 * Whether energy_tick would need the power read: the counter is missing,
 * has no base, went down, jumped beyond ENERGY_MAX_W or covers more than
 * span_ms. Only then is power worth an NVML call.
 */
int	energy_wants_power(const struct energy_meter *m,
	    const struct energy_read *r, int64_t span_ms);
/* Millijoules as the whole joules the store keeps, rounded; unknown
   stays ENERGY_UNKNOWN. */
int64_t	energy_joules(int64_t mj);
/* "counter", "power" or "unknown". */
const char *energy_source_name(enum energy_source);

#endif
