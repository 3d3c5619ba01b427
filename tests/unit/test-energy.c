/*
 * energy.c: a GPU's readings tick after tick, by a table: the counter's
 * differences, its first read and resets (power x span, or unknown),
 * a card without a counter, implausible jumps, a base older than the
 * tick's span (a stalled collector). Never negative; whole joules, the
 * rest carried.
 */
#include <stdint.h>

#include "energy.h"
#include "harness.h"
#include "util.h"

struct step {
	int		counter_ok;
	uint64_t	counter_mj;
	int		power_ok;
	uint32_t	power_mw;
	int64_t		span_ms;
	int64_t		want_mj;
	enum energy_source want_src;
	int64_t		elapsed_ms;	/* since the step before; 0: span_ms */
};

#define C(mj)	1, (mj)
#define NOC	0, 0
#define P(mw)	1, (mw)
#define NOP	0, 0

/* One GPU's life: each step is a tick, in order. */
static const struct step life[] = {
	/* First read: no previous counter, so power x span. 300 W x 30 s. */
	{ C(1000000), P(300000), 30000, 9000000, ENERGY_SRC_POWER, 0 },
	/* The counter's difference, whatever the power read says. */
	{ C(10000000), P(1000), 30000, 9000000, ENERGY_SRC_COUNTER, 0 },
	/* Idle-held: 70 W for 30 s. */
	{ C(12100000), P(70000), 30000, 2100000, ENERGY_SRC_COUNTER, 0 },
	/* The same reading again: no energy, not unknown. */
	{ C(12100000), P(70000), 30000, 0, ENERGY_SRC_COUNTER, 0 },
	/* Driver reload: the counter restarts below the last read. */
	{ C(500), P(60000), 30000, 1800000, ENERGY_SRC_POWER, 0 },
	/* ... and counts from its new base. */
	{ C(1800500), P(60000), 30000, 1800000, ENERGY_SRC_COUNTER, 0 },
	/* A reset without a power read: unknown, never negative. */
	{ C(100), NOP, 30000, ENERGY_UNKNOWN, ENERGY_SRC_NONE, 0 },
	{ C(600100), NOP, 30000, 600000, ENERGY_SRC_COUNTER, 0 },
	/* The counter read fails: power x span, and the base is lost. */
	{ NOC, P(50000), 30000, 1500000, ENERGY_SRC_POWER, 0 },
	{ C(2000000), P(50000), 30000, 1500000, ENERGY_SRC_POWER, 0 },
	/* A jump no card can make (over 10 kW): not trusted. */
	{ C(2000000 + 10000ULL * 30000 + 1), P(40000), 30000, 1200000,
	    ENERGY_SRC_POWER, 0 },
	/* At most 10 kW is kept. */
	{ C(2000000 + 10000ULL * 30000 + 1 + 10000ULL * 30000), P(40000),
	    30000, 300000000, ENERGY_SRC_COUNTER, 0 },
	/* A power read beyond 10 kW is no reading either. */
	{ NOC, P(10000001), 30000, ENERGY_UNKNOWN, ENERGY_SRC_NONE, 0 },
	/* Nothing at all: unknown. */
	{ NOC, NOP, 30000, ENERGY_UNKNOWN, ENERGY_SRC_NONE, 0 },
	/* A span of 0 tells nothing, and a counter after it is a base. */
	{ C(5000), P(100000), 0, ENERGY_UNKNOWN, ENERGY_SRC_NONE, 0 },
	{ C(8000), P(100000), 1000, 3000, ENERGY_SRC_COUNTER, 0 },
	/* Near the counter's top: differences stay exact. */
	{ C(UINT64_MAX - 1000), P(1), 1000, 1, ENERGY_SRC_POWER, 0 },
	{ C(UINT64_MAX), P(1), 1000, 1000, ENERGY_SRC_COUNTER, 0 },
	/* A new base; then the collector stalls 10 min at 300 W: 180 kJ on
	   the counter, but the tick's span is capped at two intervals (60
	   s). The difference holds time no tick covers: power x span. */
	{ C(1000), P(300000), 30000, 9000000, ENERGY_SRC_POWER, 0 },
	{ C(1000 + 180000000), P(300000), 60000, 18000000, ENERGY_SRC_POWER,
	    600000 },
	/* ... and the counter is the base again. */
	{ C(1000 + 180000000 + 9000000), P(1), 30000, 9000000,
	    ENERGY_SRC_COUNTER, 0 },
	/* A stall without a power read: unknown, not the 180 kJ. */
	{ C(1000 + 369000000), NOP, 60000, ENERGY_UNKNOWN, ENERGY_SRC_NONE,
	    600000 },
	/* A millisecond more than the span is the caller's rounding. */
	{ C(1000 + 369000000 + 9000000), NOP, 30000, 9000000,
	    ENERGY_SRC_COUNTER, 30001 },
};

/*
 * A steady 62.4 W read every 200 ms: 12 480 mJ a tick. Each tick is whole
 * joules, and what they leave over is carried, not lost: the sum is the
 * counter's difference to the joule.
 */
static void
test_carry(void)
{
	struct energy_meter m = { 0, 0, 0 };
	struct energy_read r = { 1, 5000, 0, 0, 0 };
	int64_t mj, sum = 0;	/* joules */
	int whole = 1;

	CHECK_INT(energy_tick(&m, &r, 200, &mj), ENERGY_SRC_NONE);
	for (int i = 1; i <= 3000; i++) {
		r.counter_mj = 5000 + (uint64_t)i * 12480;
		r.now_ms = (int64_t)i * 200;
		whole &= energy_tick(&m, &r, 200, &mj) == ENERGY_SRC_COUNTER &&
		    mj % 1000 == 0;
		sum += energy_joules(mj);	/* what the store keeps */
	}
	CHECK(whole);	/* every tick from the counter, whole joules */
	/* 37 440 J drawn; rounded each tick, 36 000 J were kept. */
	CHECK(sum <= 37440 && 37440 - sum <= 1);
}

int
main(void)
{
	test_carry();
	struct energy_meter m = { 0, 0, 0 };
	int64_t now = 0;

	for (size_t i = 0; i < ARRAY_LEN(life); i++) {
		const struct step *s = &life[i];
		struct energy_read r;

		now += s->elapsed_ms ? s->elapsed_ms : s->span_ms;
		r = (struct energy_read){ s->counter_ok, s->counter_mj,
			s->power_ok, s->power_mw, now };
		int64_t mj = -2;
		enum energy_source src;

		CHECK_INT(energy_wants_power(&m, &r, s->span_ms),
		    s->want_src != ENERGY_SRC_COUNTER);
		src = energy_tick(&m, &r, s->span_ms, &mj);

		if (mj != s->want_mj || src != s->want_src)
			fprintf(stderr, "step %zu\n", i);
		CHECK_INT(mj, s->want_mj);
		CHECK_INT(src, s->want_src);
		CHECK(mj >= 0 || mj == ENERGY_UNKNOWN);
	}
	CHECK_STR(energy_source_name(ENERGY_SRC_COUNTER), "counter");
	CHECK_STR(energy_source_name(ENERGY_SRC_POWER), "power");
	CHECK_STR(energy_source_name(ENERGY_SRC_NONE), "unknown");
	HARNESS_DONE();
}
