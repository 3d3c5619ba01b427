/*
 * The packed formats of the two big tables, as unsigned LEB128 varints.
 *
 * ticks.gpus: 0 and 2 (no GPU has key 0: this marks the format of
 *   schema 5), then per GPU of the tick:
 *   gpu key; flags (bit 0 util known, 1 util_max known, 2 cover known,
 *   3 process list known, bits 4-6 util_src, bit 7 energy from power
 *   usage x span rather than the counter); util_pm; util_max_pct;
 *   zigzag(1000 - cover_pm) (so a full cover is one byte); energy in
 *   whole joules + 1 (0 unknown: two bytes for a 30 s tick under 546 W,
 *   and the common counter's source costs no byte); then, with a known
 *   list, the number of processes and per process:
 *   proc key << 1 | memory present; own util_pm + 1 (0 unknown);
 *   memory MiB + 1 (0 unknown) when present.
 *   Schema 4 and before wrote the GPUs without the mark and without the
 *   energy; such ticks are still read, their energy unknown.
 * A process's memory is left out when it is what the same process had on
 * the same GPU in the tick just before (id - 1) in the same UTC hour, at an
 * earlier or equal time: so a reader that starts at an hour's first tick
 * and goes in id order always has it, and steady memory costs nothing.
 *
 * hours.gpus: 0 and 2 (the mark of schema 5), then per GPU: gpu key;
 *   ms[4]; n[4]; util_pm_ms; util_ms; energy_j[4] (whole joules per
 *   state); energy_lost_ms (time whose energy is unknown). Schema 4
 *   wrote the records without the mark and the last five; such rows are
 *   still read, all their time counted as energy_lost_ms.
 * hours.procs: 0 and 2 (no GPU has key 0: this marks the format of
 *   schema 2), then per (GPU, process): gpu key; proc key; ms; n;
 *   idle_ms; idle_mib_ms; peak_mib + 1; first_ms and last_ms after the
 *   hour; its own util_pm_ms, util_ms and util_lost_ms. Schema 1 wrote
 *   the records without the mark and without the last three; such rows
 *   are still read, all their time counted as util_lost_ms (and so is
 *   that part of an hour a gua of schema 1 began).
 * Schema 6 marks both blobs of an hour 0 and 3 (format 3), then T, the
 *   hour's mean span (all GPUs' ms over all their ticks), and sends most
 *   sums as their zigzagged difference from what the others predict
 *   (~), since ms is about n x T, util_ms about ms, and so on: a year of
 *   hours takes a third less room. hours.gpus, per GPU: gpu key; the
 *   states it has (bit k: n, ms or energy_j of state k not 0), and for
 *   each of those n[k], ms[k] ~ n[k] x T and energy_j[k]; util_pm_ms;
 *   util_ms ~ the sum of ms; energy_lost_ms. hours.procs, per (GPU,
 *   process): gpu key; proc key ~ the record before's (0 for the
 *   first); n; ms ~ n x T; idle_ms; peak_mib + 1; idle_mib_ms ~ idle_ms x peak;
 *   first_ms after the hour; last_ms after the hour ~ first + (n - 1) x
 *   T; util_pm_ms; util_ms ~ ms; util_lost_ms ~ ms - util_ms. The
 *   differences wrap in 64 bits, so any values go and come back exactly.
 */
#include <stdlib.h>
#include <string.h>

#include "energy.h"
#include "store-pack.h"
#include "util.h"

/* The version of hours.procs' records after their mark. */
#define HOUR_PROCS_FORMAT	2
/* The version of ticks.gpus' and hours.gpus' records after their mark. */
#define GPUS_FORMAT		2
/* Bit 7 of a GPU's flags in a tick: its energy is power x span. */
#define FLAG_ENERGY_POWER	0x80
/* A joule count no tick or hour holds: a damaged value. */
#define ENERGY_J_MAX		((int64_t)1 << 53)

size_t
store_varint_put(unsigned char *p, uint64_t v)
{
	size_t n = 0;

	do {
		unsigned char b = v & 0x7f;

		v >>= 7;
		p[n++] = b | (v ? 0x80 : 0);
	} while (v);
	return n;
}

size_t
store_varint_get(const unsigned char *p, size_t len, uint64_t *v)
{
	uint64_t r = 0;

	for (size_t i = 0; i < len && i < STORE_VARINT_MAX - 1; i++) {
		r |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if (!(p[i] & 0x80)) {
			*v = r;
			return i + 1;
		}
	}
	/* A tenth byte holds bit 63 alone: anything more would be lost. */
	if (len >= STORE_VARINT_MAX && p[STORE_VARINT_MAX - 1] <= 1) {
		*v = r | (uint64_t)p[STORE_VARINT_MAX - 1] << 63;
		return STORE_VARINT_MAX;
	}
	return 0;
}

int
store_buf_reserve(struct store_buf *b, size_t more)
{
	size_t ncap;
	unsigned char *np;

	if (more <= b->cap - b->len)
		return 0;
	if (more > SIZE_MAX / 2 - b->len)
		return -1;
	ncap = b->cap ? b->cap : 256;
	while (ncap - b->len < more)
		ncap *= 2;
	if ((np = realloc(b->p, ncap)) == NULL)
		return -1;
	b->p = np;
	b->cap = ncap;
	return 0;
}

/* Appends a varint; the caller reserved STORE_VARINT_MAX bytes. */
static void
put(struct store_buf *b, uint64_t v)
{
	b->len += store_varint_put(b->p + b->len, v);
}

/* v as its difference from pred, zigzagged, in wrapping arithmetic. */
static uint64_t
off_from(uint64_t pred, uint64_t v)
{
	uint64_t d = v - pred;

	return d << 1 ^ (d >> 63 ? UINT64_MAX : 0);
}

int
store_pack_tick_start(struct store_buf *b)
{
	if (store_buf_reserve(b, 2 * STORE_VARINT_MAX) != 0)
		return -1;
	put(b, 0);
	put(b, GPUS_FORMAT);
	return 0;
}

int
store_pack_gpu(struct store_buf *b, int64_t gpu_id, const struct tick_gpu *g)
{
	unsigned flags = ((unsigned)g->util_src & 7) << 4;
	int64_t j = energy_joules(g->energy_mj);

	if (store_buf_reserve(b, 7 * STORE_VARINT_MAX) != 0)
		return -1;
	if (j != ENERGY_UNKNOWN && g->energy_src == ENERGY_SRC_POWER)
		flags |= FLAG_ENERGY_POWER;
	if (g->util_pm != UTIL_UNKNOWN)
		flags |= 1;
	if (g->util_max_pct >= 0)
		flags |= 2;
	if (g->util_cover_pm >= 0)
		flags |= 4;
	if (g->procs_known)
		flags |= 8;
	put(b, (uint64_t)gpu_id);
	put(b, flags);
	if (flags & 1)
		put(b, (uint64_t)g->util_pm);
	if (flags & 2)
		put(b, (uint64_t)g->util_max_pct);
	if (flags & 4)
		put(b, store_zigzag(1000 - (int64_t)g->util_cover_pm));
	put(b, j == ENERGY_UNKNOWN ? 0 : (uint64_t)j + 1);
	if (flags & 8)
		put(b, g->nprocs);
	return 0;
}

int
store_pack_proc(struct store_buf *b, int64_t proc_id, int util_pm,
    int with_mem, int64_t mem_mib)
{
	if (store_buf_reserve(b, 3 * STORE_VARINT_MAX) != 0)
		return -1;
	put(b, (uint64_t)proc_id << 1 | (with_mem ? 1 : 0));
	put(b, util_pm == UTIL_UNKNOWN ? 0 : (uint64_t)util_pm + 1);
	if (with_mem)
		put(b, mem_mib == MIB_UNKNOWN ? 0 : (uint64_t)mem_mib + 1);
	return 0;
}

/* A cursor over a blob; any overrun or oversized value marks it bad. */
struct cursor {
	const unsigned char	*p;
	size_t			 len, off;
	int			 bad;
};

/* A varint that may run into the blob's end: every byte checked. */
static uint64_t
get_slow(struct cursor *c)
{
	uint64_t v = 0;

	for (int shift = 0; shift < 63 && c->off < c->len; shift += 7) {
		unsigned char b = c->p[c->off++];

		v |= (uint64_t)(b & 0x7f) << shift;
		if (b < 0x80)
			return v;
	}
	/* A tenth byte holds bit 63 alone: anything more would be lost. */
	if (c->off < c->len && c->p[c->off] <= 1)
		return v | (uint64_t)c->p[c->off++] << 63;
	c->bad = 1;
	return 0;
}

/*
 * The same where a whole varint fits before the end: no check per byte,
 * for a report that decodes a year of hours.
 */
static inline uint64_t
get(struct cursor *c)
{
	const unsigned char *p = c->p + c->off;
	uint64_t v = 0;

	if (c->len - c->off < STORE_VARINT_MAX)
		return get_slow(c);
	/* Most of a record's numbers are differences: a byte or two. */
	if (p[0] < 0x80) {
		c->off++;
		return p[0];
	}
	if (p[1] < 0x80) {
		c->off += 2;
		return (uint64_t)(p[0] & 0x7f) | (uint64_t)p[1] << 7;
	}
	for (int i = 0; i < STORE_VARINT_MAX - 1; i++) {
		v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if (p[i] < 0x80) {
			c->off += (size_t)i + 1;
			return v;
		}
	}
	if (p[STORE_VARINT_MAX - 1] <= 1) {
		c->off += STORE_VARINT_MAX;
		return v | (uint64_t)p[STORE_VARINT_MAX - 1] << 63;
	}
	c->bad = 1;
	return 0;
}

/* A value that must fit in an int64_t. */
static int64_t
get_i64(struct cursor *c)
{
	uint64_t v = get(c);

	if (v > INT64_MAX) {
		c->bad = 1;
		return 0;
	}
	return (int64_t)v;
}

static int
get_int(struct cursor *c)
{
	uint64_t v = get(c);

	if (v > INT32_MAX) {
		c->bad = 1;
		return 0;
	}
	return (int)v;
}

/* A value sent by off_from(pred, v): v, which must fit in an int64_t. */
/*
 * Whether j joules over ms of time (0 or less: not known) are more than
 * any GPU draws: ENERGY_MAX_W over twice the time (a tick's energy covers
 * NVML's own measure of the tick, which the collector's span may trail),
 * and a joule per tick of rounding.
 */
static int
energy_beyond(int64_t j, int64_t ms, int64_t ticks)
{
	if (ms <= 0 || ms > INT64_MAX / (2 * ENERGY_MAX_W))
		return 0;
	return j - ticks > ms * 2 * ENERGY_MAX_W / 1000;
}

/*
 * A GPU's hour record that no ticks could have summed to: more time
 * whose energy is unknown than its time, or more energy than
 * energy_beyond allows over it.
 */
static int
hour_gpu_damaged(const struct rollup_gpu *v)
{
	int64_t ms = 0, n = 0, j = 0;

	for (int k = 0; k < STATE_COUNT; k++) {
		ms = util_sat_add(ms, v->ms[k]);
		n = util_sat_add(n, v->n[k]);
		j = util_sat_add(j, v->energy_j[k]);
	}
	return v->energy_lost_ms > ms || energy_beyond(j, ms, n);
}

static inline int64_t
get_off(struct cursor *c, uint64_t pred)
{
	uint64_t z = get(c);
	uint64_t v = pred + (z >> 1 ^ (0 - (z & 1)));

	if (v > INT64_MAX) {
		c->bad = 1;
		return 0;
	}
	return (int64_t)v;
}

int
store_unpack_tick(const void *blob, size_t len, int64_t span_ms,
    struct store_unpacked *u)
{
	struct cursor c = { blob, len, 0, 0 };
	int energy = 0;

	u->ngpus = 0;
	u->nprocs = 0;
	/* The mark of schema 5's records; without it, schema 4's. */
	if (len > 0 && c.p[0] == 0) {
		c.off = 1;
		if (get(&c) != GPUS_FORMAT)
			return -1;
		energy = 1;
	}
	while (!c.bad && c.off < c.len) {
		struct store_tick_gpu *g;
		unsigned flags;
		uint64_t n;

		if (u->ngpus == u->gpus_cap) {
			size_t ncap = u->gpus_cap ? u->gpus_cap * 2 : 16;
			struct store_tick_gpu *ng = realloc(u->gpus,
			    ncap * sizeof(*ng));

			if (ng == NULL)
				return -2;
			u->gpus = ng;
			u->gpus_cap = ncap;
		}
		g = &u->gpus[u->ngpus++];
		memset(g, 0, sizeof(*g));
		g->gpu_id = get_i64(&c);
		flags = (unsigned)get_int(&c);
		g->reading.util_src = (enum util_source)(energy ?
		    (flags >> 4) & 7 : flags >> 4);
		g->reading.util_pm = flags & 1 ? get_int(&c) : UTIL_UNKNOWN;
		g->reading.util_max_pct = flags & 2 ? get_int(&c) : -1;
		g->reading.util_cover_pm = -1;
		if (flags & 4) {
			uint64_t z = get(&c);

			/* 1000 - cover, zigzagged: 0..1000 is 0..2000. */
			if (z > 2000)
				c.bad = 1;
			else
				g->reading.util_cover_pm =
				    (int)(1000 - store_unzigzag(z));
		}
		g->reading.energy_j = ENERGY_UNKNOWN;
		g->reading.energy_src = ENERGY_SRC_NONE;
		if (energy) {
			int64_t e = get_i64(&c);

			if (e > ENERGY_J_MAX || (e == 0 && (flags &
			    FLAG_ENERGY_POWER)) || (e > 0 &&
			    energy_beyond(e - 1, span_ms, 1)))
				c.bad = 1;
			else if (e > 0) {
				g->reading.energy_j = e - 1;
				g->reading.energy_src = flags &
				    FLAG_ENERGY_POWER ? ENERGY_SRC_POWER :
				    ENERGY_SRC_COUNTER;
			}
		}
		if (g->reading.util_pm > 1000 ||
		    g->reading.util_max_pct > 100 ||
		    g->reading.util_cover_pm > 1000 ||
		    g->reading.util_cover_pm < -1)
			c.bad = 1;
		g->reading.procs_known = (flags & 8) != 0;
		g->first_proc = u->nprocs;
		n = g->reading.procs_known ? get(&c) : 0;
		if (n > len) {
			c.bad = 1;
			break;
		}
		for (uint64_t i = 0; i < n && !c.bad; i++) {
			struct store_tick_proc *p;
			int64_t key;
			uint64_t util;

			if (u->nprocs == u->procs_cap) {
				size_t ncap = u->procs_cap ? u->procs_cap * 2 :
				    64;
				struct store_tick_proc *np = realloc(u->procs,
				    ncap * sizeof(*np));

				if (np == NULL)
					return -2;
				u->procs = np;
				u->procs_cap = ncap;
			}
			p = &u->procs[u->nprocs++];
			key = get_i64(&c);
			p->proc_id = key >> 1;
			util = get(&c);
			if (util > 1001)	/* own util + 1, per mille */
				c.bad = 1;
			p->util_pm = util == 0 ? UTIL_UNKNOWN : (int)util - 1;
			p->mem_mib = MIB_UNKNOWN;
			p->mem_omitted = !(key & 1);
			if (key & 1)
				p->mem_mib = get_i64(&c) - 1;
		}
		g->nprocs = u->nprocs - g->first_proc;
	}
	return c.bad ? -1 : 0;
}

/* The hour's mean span: what its sums are predicted by in format 3. */
static uint64_t
hour_mean_span(const struct store_hour *h)
{
	uint64_t ms = 0, n = 0;

	for (size_t i = 0; i < h->ngpus; i++)
		for (int k = 0; k < STATE_COUNT; k++) {
			ms += (uint64_t)h->gpus[i].r.ms[k];
			n += (uint64_t)h->gpus[i].r.n[k];
		}
	return n ? ms / n : 0;
}

static void
pack_hour_deltas(struct store_buf *gb, struct store_buf *pb,
    const struct store_hour *h)
{
	uint64_t t = hour_mean_span(h), proc = 0;

	put(gb, 0);
	put(gb, STORE_HOUR_DELTAS);
	put(gb, t);
	for (size_t i = 0; i < h->ngpus; i++) {
		const struct rollup_gpu *r = &h->gpus[i].r;
		uint64_t sum = 0;

		unsigned states = 0;

		for (int k = 0; k < STATE_COUNT; k++)
			if (r->n[k] != 0 || r->ms[k] != 0 || r->energy_j[k] != 0)
				states |= 1u << k;
		put(gb, (uint64_t)h->gpus[i].gpu);
		put(gb, states);
		for (int k = 0; k < STATE_COUNT; k++) {
			sum += (uint64_t)r->ms[k];
			if (!(states & 1u << k))
				continue;
			put(gb, (uint64_t)r->n[k]);
			put(gb, off_from((uint64_t)r->n[k] * t,
			    (uint64_t)r->ms[k]));
			put(gb, (uint64_t)r->energy_j[k]);
		}
		put(gb, (uint64_t)r->util_pm_ms);
		put(gb, off_from(sum, (uint64_t)r->util_ms));
		put(gb, (uint64_t)r->energy_lost_ms);
	}
	put(pb, 0);
	put(pb, STORE_HOUR_DELTAS);
	put(pb, t);
	for (size_t i = 0; i < h->nprocs; i++) {
		const struct rollup_proc *r = &h->procs[i].r;
		uint64_t first = (uint64_t)(r->first_ms - h->hour_ms);

		put(pb, (uint64_t)h->procs[i].gpu);
		put(pb, off_from(proc, (uint64_t)h->procs[i].proc));
		proc = (uint64_t)h->procs[i].proc;
		put(pb, (uint64_t)r->n);
		put(pb, off_from((uint64_t)r->n * t, (uint64_t)r->ms));
		put(pb, (uint64_t)r->idle_ms);
		put(pb, (uint64_t)r->peak_mib + 1);
		put(pb, off_from((uint64_t)r->idle_ms *
		    (uint64_t)(r->peak_mib > 0 ? r->peak_mib : 0),
		    (uint64_t)r->idle_mib_ms));
		put(pb, first);
		put(pb, off_from(first + (r->n > 0 ? (uint64_t)r->n - 1 : 0) *
		    t, (uint64_t)(r->last_ms - h->hour_ms)));
		put(pb, (uint64_t)r->util_pm_ms);
		put(pb, off_from((uint64_t)r->ms, (uint64_t)r->util_ms));
		put(pb, off_from((uint64_t)r->ms - (uint64_t)r->util_ms,
		    (uint64_t)r->util_lost_ms));
	}
}

int
store_pack_hour(struct store_buf *gb, struct store_buf *pb,
    const struct store_hour *h, int format)
{
	gb->len = 0;
	pb->len = 0;
	if (store_buf_reserve(gb, (h->ngpus * 17 + 3) * STORE_VARINT_MAX) !=
	    0 ||
	    store_buf_reserve(pb, (h->nprocs * 12 + 3) * STORE_VARINT_MAX) != 0)
		return -1;
	if (format == STORE_HOUR_DELTAS) {
		pack_hour_deltas(gb, pb, h);
		return 0;
	}
	put(gb, 0);
	put(gb, GPUS_FORMAT);
	for (size_t i = 0; i < h->ngpus; i++) {
		const struct rollup_gpu *r = &h->gpus[i].r;

		put(gb, (uint64_t)h->gpus[i].gpu);
		for (int k = 0; k < STATE_COUNT; k++)
			put(gb, (uint64_t)r->ms[k]);
		for (int k = 0; k < STATE_COUNT; k++)
			put(gb, (uint64_t)r->n[k]);
		put(gb, (uint64_t)r->util_pm_ms);
		put(gb, (uint64_t)r->util_ms);
		for (int k = 0; k < STATE_COUNT; k++)
			put(gb, (uint64_t)r->energy_j[k]);
		put(gb, (uint64_t)r->energy_lost_ms);
	}
	put(pb, 0);
	put(pb, HOUR_PROCS_FORMAT);
	for (size_t i = 0; i < h->nprocs; i++) {
		const struct rollup_proc *r = &h->procs[i].r;

		put(pb, (uint64_t)h->procs[i].gpu);
		put(pb, (uint64_t)h->procs[i].proc);
		put(pb, (uint64_t)r->ms);
		put(pb, (uint64_t)r->n);
		put(pb, (uint64_t)r->idle_ms);
		put(pb, (uint64_t)r->idle_mib_ms);
		/* Unsigned: MIB_UNKNOWN (-1) becomes 0, and a value a
		   damaged row brought cannot overflow. */
		put(pb, (uint64_t)r->peak_mib + 1);
		put(pb, (uint64_t)(r->first_ms - h->hour_ms));
		put(pb, (uint64_t)(r->last_ms - h->hour_ms));
		put(pb, (uint64_t)r->util_pm_ms);
		put(pb, (uint64_t)r->util_ms);
		put(pb, (uint64_t)r->util_lost_ms);
	}
	return 0;
}

void
store_hour_clear(struct store_hour *h, int64_t hour_ms)
{
	h->hour_ms = hour_ms;
	h->first_tick = h->last_tick = 0;
	h->ngpus = 0;
	h->nprocs = 0;
	h->dirty = 0;
	imap_clear(&h->gpu_slot);
	imap_clear(&h->proc_slot);
}

void
store_hour_free(struct store_hour *h)
{
	free(h->gpus);
	free(h->procs);
	imap_free(&h->gpu_slot);
	imap_free(&h->proc_slot);
	memset(h, 0, sizeof(*h));
	h->hour_ms = STORE_NO_HOUR;
}

struct rollup_gpu *
store_hour_gpu(struct store_hour *h, int64_t gpu)
{
	struct store_hour_gpu *g;
	int64_t slot;

	/* Indexed: a damaged row with many GPU keys must not go quadratic. */
	if (imap_get(&h->gpu_slot, gpu, 0, &slot) == 0)
		return &h->gpus[slot].r;
	if (h->ngpus == h->gpus_cap) {
		size_t ncap = h->gpus_cap ? h->gpus_cap * 2 : 16;

		if ((g = realloc(h->gpus, ncap * sizeof(*g))) == NULL)
			return NULL;
		h->gpus = g;
		h->gpus_cap = ncap;
	}
	if (imap_put(&h->gpu_slot, gpu, 0, (int64_t)h->ngpus) != 0)
		return NULL;
	g = &h->gpus[h->ngpus++];
	memset(g, 0, sizeof(*g));
	g->gpu = gpu;
	return &g->r;
}

struct rollup_proc *
store_hour_proc(struct store_hour *h, int64_t gpu, int64_t proc, int index)
{
	struct store_hour_proc *p;
	int64_t slot;

	if (index && imap_get(&h->proc_slot, gpu, proc, &slot) == 0)
		return &h->procs[slot].r;
	if (h->nprocs == h->procs_cap) {
		size_t ncap = h->procs_cap ? h->procs_cap * 2 : 64;

		if ((p = realloc(h->procs, ncap * sizeof(*p))) == NULL)
			return NULL;
		h->procs = p;
		h->procs_cap = ncap;
	}
	if (index && imap_put(&h->proc_slot, gpu, proc,
	    (int64_t)h->nprocs) != 0)
		return NULL;
	p = &h->procs[h->nprocs++];
	p->gpu = gpu;
	p->proc = proc;
	rollup_proc_init(&p->r);
	return &p->r;
}

/* A GPU's record of schema 4 (energy: of 5) after its key. */
static void
get_gpu_plain(struct cursor *c, int energy, struct rollup_gpu *v)
{
	int64_t row_ms = 0;

	for (int k = 0; k < STATE_COUNT; k++) {
		v->ms[k] = get_i64(c);
		row_ms = util_sat_add(row_ms, v->ms[k]);
	}
	for (int k = 0; k < STATE_COUNT; k++)
		v->n[k] = get_i64(c);
	v->util_pm_ms = get_i64(c);
	v->util_ms = get_i64(c);
	/* Not recorded before schema 5: unknown, never 0 J. */
	for (int k = 0; k < STATE_COUNT; k++)
		v->energy_j[k] = energy ? get_i64(c) : 0;
	v->energy_lost_ms = energy ? get_i64(c) : row_ms;
}

/* A process's record of schema 1 (own_util: of 2) after its keys. */
static void
get_proc_plain(struct cursor *c, int own_util, int64_t hour_ms,
    struct rollup_proc *v)
{
	v->ms = get_i64(c);
	v->n = get_i64(c);
	v->idle_ms = get_i64(c);
	v->idle_mib_ms = get_i64(c);
	v->peak_mib = get_i64(c) - 1;
	v->first_ms = util_sat_add(hour_ms, get_i64(c));
	v->last_ms = util_sat_add(hour_ms, get_i64(c));
	if (own_util) {
		v->util_pm_ms = get_i64(c);
		v->util_ms = get_i64(c);
		v->util_lost_ms = get_i64(c);
	} else {
		v->util_pm_ms = v->util_ms = 0;
		v->util_lost_ms = v->ms;
	}
}

/* A GPU's record of format 3 after its key. */
static void
get_gpu_deltas(struct cursor *c, uint64_t t, struct rollup_gpu *v)
{
	uint64_t sum = 0, states = get(c);

	if (states >> STATE_COUNT)
		c->bad = 1;
	for (int k = 0; k < STATE_COUNT; k++) {
		v->n[k] = v->ms[k] = v->energy_j[k] = 0;
		if (!(states & 1u << k))
			continue;
		v->n[k] = get_i64(c);
		v->ms[k] = get_off(c, (uint64_t)v->n[k] * t);
		v->energy_j[k] = get_i64(c);
		sum += (uint64_t)v->ms[k];
	}
	v->util_pm_ms = get_i64(c);
	v->util_ms = get_off(c, sum);
	v->energy_lost_ms = get_i64(c);
}

/* A process's record of format 3 after its keys. */
static void
get_proc_deltas(struct cursor *c, uint64_t t, int64_t hour_ms,
    struct rollup_proc *v)
{
	int64_t first, last;

	v->n = get_i64(c);
	v->ms = get_off(c, (uint64_t)v->n * t);
	v->idle_ms = get_i64(c);
	v->peak_mib = get_i64(c) - 1;
	v->idle_mib_ms = get_off(c, (uint64_t)v->idle_ms *
	    (uint64_t)(v->peak_mib > 0 ? v->peak_mib : 0));
	first = get_i64(c);
	last = get_off(c, (uint64_t)first + (v->n > 0 ? (uint64_t)v->n - 1 :
	    0) * t);
	v->first_ms = util_sat_add(hour_ms, first);
	v->last_ms = util_sat_add(hour_ms, last);
	v->util_pm_ms = get_i64(c);
	v->util_ms = get_off(c, (uint64_t)v->ms);
	v->util_lost_ms = get_off(c, (uint64_t)v->ms - (uint64_t)v->util_ms);
}

/*
 * The mark at the start of an hour's blob: its format, or 1 (the oldest,
 * unmarked), or -1 for one this gua does not know; T after the mark of
 * format 3.
 */
static int
hour_mark(struct cursor *c, int known, uint64_t *t)
{
	uint64_t f;

	if (c->len == 0 || c->p[0] != 0)
		return 1;
	c->off = 1;
	f = get(c);
	if (f == STORE_HOUR_DELTAS)
		*t = get(c);
	else if (f != (uint64_t)known)
		return -1;
	return c->bad ? -1 : (int)f;
}

int
store_hour_each(int64_t hour_ms, const void *gblob, size_t glen,
    const void *pblob, size_t plen, const struct store_hour_records *to)
{
	struct cursor c = { gblob, glen, 0, 0 };
	uint64_t t = 0;
	int64_t proc = 0;
	int format;

	/* Schema 5's mark or 6's; without one, schema 4's records. */
	if ((format = hour_mark(&c, GPUS_FORMAT, &t)) < 0)
		return -1;
	while (c.off < c.len) {
		struct rollup_gpu v;
		int64_t gpu = get_i64(&c);

		if (format == STORE_HOUR_DELTAS)
			get_gpu_deltas(&c, t, &v);
		else
			get_gpu_plain(&c, format == GPUS_FORMAT, &v);
		if (c.bad || hour_gpu_damaged(&v))
			return -1;
		if (to->gpu(to->ctx, gpu, &v) != 0)
			return -2;
	}
	c.p = pblob;
	c.len = plen;
	c.off = 0;
	/* Schema 2's mark or 6's; without one, schema 1's records. */
	if ((format = hour_mark(&c, HOUR_PROCS_FORMAT, &t)) < 0)
		return -1;
	while (c.off < c.len) {
		int64_t gpu = get_i64(&c);
		struct rollup_proc v;

		/* Format 3: each key after the one before. */
		proc = format == STORE_HOUR_DELTAS ?
		    get_off(&c, (uint64_t)proc) : get_i64(&c);
		if (format == STORE_HOUR_DELTAS)
			get_proc_deltas(&c, t, hour_ms, &v);
		else
			get_proc_plain(&c, format == HOUR_PROCS_FORMAT, hour_ms,
			    &v);
		if (c.bad)
			return -1;
		/* A process no tick saw adds nothing, as a merge would. */
		if (v.n == 0)
			rollup_proc_init(&v);
		if (to->proc(to->ctx, gpu, proc, &v) != 0)
			return -2;
	}
	return 0;
}

/* store_unpack_hour's records: merged into its hour. */
struct unpack {
	struct store_hour	*h;
	int			 index;
};

static int
unpack_gpu(void *ctx, int64_t gpu, const struct rollup_gpu *v)
{
	struct unpack *u = ctx;
	struct rollup_gpu *r = store_hour_gpu(u->h, gpu);

	if (r == NULL)
		return -1;
	rollup_gpu_merge(r, v);
	return 0;
}

static int
unpack_proc(void *ctx, int64_t gpu, int64_t proc, const struct rollup_proc *v)
{
	struct unpack *u = ctx;
	struct rollup_proc *r = store_hour_proc(u->h, gpu, proc, u->index);

	if (r == NULL)
		return -1;
	rollup_proc_merge(r, v);
	return 0;
}

int
store_unpack_hour(struct store_hour *h, const void *gblob, size_t glen,
    const void *pblob, size_t plen, int index)
{
	struct unpack u = { h, index };
	struct store_hour_records to = { &u, unpack_gpu, unpack_proc };

	return store_hour_each(h->hour_ms, gblob, glen, pblob, plen, &to);
}

int
store_pack_edges(struct store_buf *b, int64_t hour_ms,
    const struct store_edge *e, size_t n)
{
	b->len = 0;
	if (store_buf_reserve(b, n * 4 * STORE_VARINT_MAX) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int same = i > 0 && e[i].first_ms == e[i - 1].first_ms &&
		    e[i].first_span_ms == e[i - 1].first_span_ms &&
		    e[i].last_ms == e[i - 1].last_ms;

		put(b, (uint64_t)e[i].gpu << 1 | (uint64_t)same);
		if (same)
			continue;
		put(b, (uint64_t)(e[i].first_ms - hour_ms));
		put(b, (uint64_t)e[i].first_span_ms);
		put(b, (uint64_t)(e[i].last_ms - hour_ms));
	}
	return 0;
}

int
store_unpack_edges(const void *blob, size_t len, int64_t hour_ms,
    struct store_edge **out, size_t *n)
{
	struct cursor c = { blob, len, 0, 0 };
	struct store_edge *v = NULL, *nv;
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	while (!c.bad && c.off < c.len) {
		uint64_t key = get(&c);
		struct store_edge *e;

		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			if ((nv = realloc(v, cap * sizeof(*v))) == NULL) {
				free(v);
				return -2;
			}
			v = nv;
		}
		e = &v[*n];
		if (key > INT64_MAX || ((key & 1) && *n == 0)) {
			c.bad = 1;
			break;
		}
		e->gpu = (int64_t)(key >> 1);
		if (key & 1) {
			e->first_ms = e[-1].first_ms;
			e->first_span_ms = e[-1].first_span_ms;
			e->last_ms = e[-1].last_ms;
		} else {
			e->first_ms = util_sat_add(hour_ms, get_i64(&c));
			e->first_span_ms = get_i64(&c);
			e->last_ms = util_sat_add(hour_ms, get_i64(&c));
		}
		(*n)++;
	}
	if (c.bad) {
		free(v);
		*n = 0;
		return -1;
	}
	*out = v;
	return 0;
}
