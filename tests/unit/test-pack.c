/*
 * The packed formats' energy (store-pack.c): a tick's joules and their
 * source round-trip, the counter's source costs no byte, and rows of
 * schema 4 (no mark, no energy) still decode, their energy unknown;
 * varints keep all 64 bits and refuse a tenth byte that would lose some.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "store-pack.h"

/* One GPU (key 3) with util known and a known empty process list. */
static void
gpu(struct tick_gpu *g, int64_t mj, enum energy_source src)
{
	memset(g, 0, sizeof(*g));
	g->util_pm = 500;
	g->util_max_pct = -1;
	g->util_cover_pm = -1;
	g->util_src = UTIL_SRC_SAMPLES;
	g->procs_known = 1;
	g->energy_mj = mj;
	g->energy_src = src;
}

static void
test_tick(void)
{
	struct store_buf b;
	struct store_unpacked u;
	struct tick_gpu g;
	size_t counter_len;
	/* Schema 4's row: GPU 3, flags (util known, list known,
	   samples), util 500, no process. */
	static const unsigned char old[] = { 3, 0x29, 0xf4, 0x03, 0 };

	memset(&b, 0, sizeof(b));
	memset(&u, 0, sizeof(u));

	/* 9 000 499 mJ: 9000 J, from the counter; 2 bytes of energy. */
	CHECK_INT(store_pack_tick_start(&b), 0);
	CHECK_INT(b.len, 2);
	gpu(&g, 9000499, ENERGY_SRC_COUNTER);
	CHECK_INT(store_pack_gpu(&b, 3, &g), 0);
	counter_len = b.len;
	CHECK_INT(counter_len, 2 + 1 + 1 + 2 + 2 + 1);
	CHECK_INT(store_unpack_tick(b.p, b.len, 30000, &u), 0);
	CHECK_INT(u.ngpus, 1);
	CHECK_INT(u.gpus[0].gpu_id, 3);
	CHECK_INT(u.gpus[0].reading.util_pm, 500);
	CHECK_INT(u.gpus[0].reading.util_src, UTIL_SRC_SAMPLES);
	CHECK_INT(u.gpus[0].reading.energy_j, 9000);
	CHECK_INT(u.gpus[0].reading.energy_src, ENERGY_SRC_COUNTER);

	/* Power x span: one more byte, its flag. 500 mJ rounds up. */
	b.len = 0;
	CHECK_INT(store_pack_tick_start(&b), 0);
	gpu(&g, 4500500, ENERGY_SRC_POWER);
	CHECK_INT(store_pack_gpu(&b, 3, &g), 0);
	CHECK_INT(b.len, counter_len + 1);
	CHECK_INT(store_unpack_tick(b.p, b.len, 30000, &u), 0);
	CHECK_INT(u.gpus[0].reading.energy_j, 4501);
	CHECK_INT(u.gpus[0].reading.energy_src, ENERGY_SRC_POWER);
	CHECK_INT(u.gpus[0].reading.util_src, UTIL_SRC_SAMPLES);

	/* Unknown: one byte, and unknown again (never 0 J); a tick of
	   0 J stays 0 J. */
	b.len = 0;
	CHECK_INT(store_pack_tick_start(&b), 0);
	gpu(&g, ENERGY_UNKNOWN, ENERGY_SRC_NONE);
	CHECK_INT(store_pack_gpu(&b, 3, &g), 0);
	gpu(&g, 0, ENERGY_SRC_COUNTER);
	CHECK_INT(store_pack_gpu(&b, 4, &g), 0);
	CHECK_INT(store_unpack_tick(b.p, b.len, 30000, &u), 0);
	CHECK_INT(u.ngpus, 2);
	CHECK_INT(u.gpus[0].reading.energy_j, ENERGY_UNKNOWN);
	CHECK_INT(u.gpus[0].reading.energy_src, ENERGY_SRC_NONE);
	CHECK_INT(u.gpus[1].reading.energy_j, 0);
	CHECK_INT(u.gpus[1].reading.energy_src, ENERGY_SRC_COUNTER);

	/* Beyond 10 kW over twice the span, and a joule: damage; a span
	   not known holds nothing. 9000 J: 450 ms at most. */
	b.len = 0;
	CHECK_INT(store_pack_tick_start(&b), 0);
	gpu(&g, 9000499, ENERGY_SRC_COUNTER);
	CHECK_INT(store_pack_gpu(&b, 3, &g), 0);
	CHECK_INT(store_unpack_tick(b.p, b.len, 450, &u), 0);
	CHECK_INT(store_unpack_tick(b.p, b.len, 449, &u), -1);
	CHECK_INT(store_unpack_tick(b.p, b.len, 0, &u), 0);
	CHECK_INT(u.gpus[0].reading.energy_j, 9000);

	/* Schema 4's rows decode as before, energy unknown. */
	CHECK_INT(store_unpack_tick(old, sizeof(old), 30000, &u), 0);
	CHECK_INT(u.ngpus, 1);
	CHECK_INT(u.gpus[0].gpu_id, 3);
	CHECK_INT(u.gpus[0].reading.util_pm, 500);
	CHECK_INT(u.gpus[0].reading.util_src, UTIL_SRC_SAMPLES);
	CHECK_INT(u.gpus[0].reading.procs_known, 1);
	CHECK_INT(u.gpus[0].reading.energy_j, ENERGY_UNKNOWN);
	CHECK_INT(u.gpus[0].reading.energy_src, ENERGY_SRC_NONE);

	/* Damage: an unknown format, power flagged on unknown energy. */
	{
		static const unsigned char v9[] = { 0, 9, 3, 0x29, 0xf4,
		    0x03, 1, 0 };
		static const unsigned char flag[] = { 0, 2, 3, 0xa9, 0x01,
		    0xf4, 0x03, 0, 0 };
		static const unsigned char power[] = { 0, 2, 3, 0xa9, 0x01,
		    0xf4, 0x03, 0xa9, 0x46, 0 };

		/* The same with energy: 9000 J from power usage. */
		CHECK_INT(store_unpack_tick(power, sizeof(power), 30000, &u), 0);
		CHECK_INT(u.gpus[0].reading.energy_j, 9000);
		CHECK_INT(u.gpus[0].reading.energy_src, ENERGY_SRC_POWER);

		CHECK_INT(store_unpack_tick(v9, sizeof(v9), 30000, &u), -1);
		CHECK_INT(store_unpack_tick(flag, sizeof(flag), 30000, &u), -1);
	}
	free(b.p);
	free(u.gpus);
	free(u.procs);
}

static void
test_hour(void)
{
	struct store_buf gb, pb;
	struct store_hour h, r;
	struct rollup_gpu *g;
	/* Schema 4's hours.gpus: GPU 5, ms 1000 2000 3000 400, n 1 1 1 1,
	   util 0 0. */
	static const unsigned char old[] = { 5, 0xe8, 0x07, 0xd0, 0x0f,
	    0xb8, 0x17, 0x90, 0x03, 1, 1, 1, 1, 0, 0 };

	memset(&gb, 0, sizeof(gb));
	memset(&pb, 0, sizeof(pb));
	memset(&h, 0, sizeof(h));
	memset(&r, 0, sizeof(r));
	store_hour_clear(&h, 3600000);
	store_hour_clear(&r, 3600000);
	g = store_hour_gpu(&h, 5);
	CHECK(g != NULL);
	if (g == NULL)
		return;
	g->ms[STATE_ACTIVE] = 60000;
	g->n[STATE_ACTIVE] = 2;
	g->energy_j[STATE_ACTIVE] = 30000;
	g->energy_j[STATE_IDLE_HELD] = 7;
	g->energy_lost_ms = 30000;
	/* Schema 6's format keeps the energy as schema 5's does. */
	CHECK_INT(store_pack_hour(&gb, &pb, &h, STORE_HOUR_DELTAS), 0);
	CHECK_INT(store_unpack_hour(&r, gb.p, gb.len, pb.p, pb.len, 1), 0);
	CHECK_INT(r.ngpus, 1);
	CHECK_INT(memcmp(&r.gpus[0].r, g, sizeof(*g)), 0);
	store_hour_clear(&r, 3600000);
	CHECK_INT(store_pack_hour(&gb, &pb, &h, STORE_HOUR_PLAIN), 0);
	CHECK_INT(store_unpack_hour(&r, gb.p, gb.len, pb.p, pb.len, 1), 0);
	CHECK_INT(r.ngpus, 1);
	CHECK_INT(r.gpus[0].gpu, 5);
	CHECK_INT(r.gpus[0].r.ms[STATE_ACTIVE], 60000);
	CHECK_INT(r.gpus[0].r.energy_j[STATE_ACTIVE], 30000);
	CHECK_INT(r.gpus[0].r.energy_j[STATE_IDLE_HELD], 7);
	CHECK_INT(r.gpus[0].r.energy_j[STATE_TRULY_IDLE], 0);
	CHECK_INT(r.gpus[0].r.energy_lost_ms, 30000);

	/* A schema 4 row added to it: its whole time unknown energy. */
	CHECK_INT(store_unpack_hour(&r, old, sizeof(old), NULL, 0, 1), 0);
	CHECK_INT(r.ngpus, 1);
	CHECK_INT(r.gpus[0].r.ms[STATE_IDLE_HELD], 2000);
	CHECK_INT(r.gpus[0].r.energy_j[STATE_ACTIVE], 30000);
	CHECK_INT(r.gpus[0].r.energy_lost_ms, 30000 + 6400);

	/* Damage: more time of unknown energy than the record's time, more
	   energy than 10 kW over twice its time (and a joule per tick). */
	for (int f = STORE_HOUR_PLAIN; f <= STORE_HOUR_DELTAS; f++) {
		g->energy_lost_ms = 60001;
		CHECK_INT(store_pack_hour(&gb, &pb, &h, f), 0);
		CHECK_INT(store_unpack_hour(&r, gb.p, gb.len, pb.p, pb.len, 1),
		    -1);
		g->energy_lost_ms = 60000;
		g->energy_j[STATE_ACTIVE] = 1200002 - 7;
		CHECK_INT(store_pack_hour(&gb, &pb, &h, f), 0);
		CHECK_INT(store_unpack_hour(&r, gb.p, gb.len, pb.p, pb.len, 1),
		    0);
		g->energy_j[STATE_ACTIVE]++;
		CHECK_INT(store_pack_hour(&gb, &pb, &h, f), 0);
		CHECK_INT(store_unpack_hour(&r, gb.p, gb.len, pb.p, pb.len, 1),
		    -1);
		g->energy_j[STATE_ACTIVE] = 30000;
	}

	/* An unknown format is damage. */
	{
		static const unsigned char v9[] = { 0, 9, 5 };

		CHECK_INT(store_unpack_hour(&r, v9, sizeof(v9), NULL, 0, 1),
		    -1);
	}
	free(gb.p);
	free(pb.p);
	store_hour_free(&h);
	store_hour_free(&r);
}

/* A varint round-trips; one whose tenth byte holds more than bit 63 is
   damage, in the public reader and in a blob (both of its readers). */
static void
test_varint(void)
{
	static const uint64_t v[] = { 0, 1, 127, 128, 16383, 16384,
	    (uint64_t)INT64_MAX, (uint64_t)INT64_MAX + 1, UINT64_MAX };
	unsigned char b[STORE_VARINT_MAX + 8], blob[32];
	struct store_unpacked u;
	uint64_t got;
	size_t n;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		n = store_varint_put(b, v[i]);
		got = 0;
		CHECK_INT((long long)store_varint_get(b, n, &got), (long long)n);
		CHECK(got == v[i]);
		CHECK_INT((long long)store_varint_get(b, n - 1, &got), 0);
	}
	CHECK_INT((long long)store_varint_put(b, UINT64_MAX), STORE_VARINT_MAX);
	CHECK_INT(b[STORE_VARINT_MAX - 1], 1);
	b[STORE_VARINT_MAX - 1] = 2;
	CHECK_INT((long long)store_varint_get(b, STORE_VARINT_MAX, &got), 0);

	/* Schema 4's row of GPU 3 (as in test_tick), its key 3 written in
	   ten bytes: a valid row; with bit 64 set in the tenth byte, damage
	   (the low bits alone would read as GPU 3). */
	memset(&u, 0, sizeof(u));
	memset(blob, 0x80, STORE_VARINT_MAX - 1);
	blob[0] = 0x83;
	blob[STORE_VARINT_MAX - 1] = 0;
	memcpy(blob + STORE_VARINT_MAX, "\x29\xf4\x03\x00", 4);
	CHECK_INT(store_unpack_tick(blob, STORE_VARINT_MAX + 4, 30000, &u), 0);
	CHECK_INT((long long)u.ngpus, 1);
	CHECK(u.ngpus == 1 && u.gpus[0].gpu_id == 3);
	blob[STORE_VARINT_MAX - 1] = 2;
	CHECK_INT(store_unpack_tick(blob, STORE_VARINT_MAX + 4, 30000, &u), -1);
	free(u.gpus);
	free(u.procs);
}

int
main(void)
{
	test_varint();
	test_tick();
	test_hour();
	HARNESS_DONE();
}
