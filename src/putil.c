/*
 * Per-process utilization over a tick from repeated reads: see putil.h
 * for the three behaviours a driver may show and how each is added up.
 */
#include <stdlib.h>
#include <string.h>

#include "putil.h"
#include "grow.h"

/* Where pid's sums are, or would go to keep the pid order. */
static size_t
sum_slot(const struct putil *p, uint32_t pid)
{
	size_t lo = 0, hi = p->nsums;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (p->sums[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The sums of pid, added (keeping pid order) when new; NULL out of memory. */
static struct putil_sum *
sum_of(struct putil *p, uint32_t pid)
{
	size_t lo = sum_slot(p, pid);

	if (lo < p->nsums && p->sums[lo].pid == pid)
		return &p->sums[lo];
	if (grow((void **)&p->sums, &p->sums_cap, p->nsums + 1,
	    sizeof(*p->sums)) != 0)
		return NULL;
	memmove(&p->sums[lo + 1], &p->sums[lo],
	    (p->nsums - lo) * sizeof(*p->sums));
	p->nsums++;
	memset(&p->sums[lo], 0, sizeof(*p->sums));
	p->sums[lo].pid = pid;
	return &p->sums[lo];
}

/*
 * Appends the read's distinct timestamps, newer than any before, so the
 * tick's list stays ascending; keeps their shortest spacing (from the
 * newest of the read before too, unless reads that found nobody busy came
 * between: that is a pause in the work, not the sampling period) and the
 * newest.
 */
static int
add_times(struct putil *p, int64_t now_us, struct putil_entry *e, size_t n,
    int after_pause)
{
	unsigned long long prev = p->newest, from = after_pause ? 0 :
	    p->newest;

	if (grow((void **)&p->ts, &p->ts_cap, p->nts + n,
	    sizeof(*p->ts)) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned long long t = e[i].ts;
		size_t k = p->nts;

		/* Insertion from the end: a read holds few distinct times. */
		while (k > 0 && p->ts[k - 1] > t)
			k--;
		if (k > 0 && p->ts[k - 1] == t)
			continue;
		memmove(&p->ts[k + 1], &p->ts[k], (p->nts - k) *
		    sizeof(*p->ts));
		p->ts[k] = t;
		p->nts++;
	}
	for (size_t i = 0; i < p->nts; i++) {
		unsigned long long t = p->ts[i];

		if (t <= prev)
			continue;
		if (from > 0 && (p->spacing == 0 || t - from < p->spacing))
			p->spacing = t - from;
		from = t;
		prev = t;
	}
	if (prev > p->newest) {
		p->newest = prev;
		p->newest_at_us = now_us;
	}
	return 0;
}

int
putil_read(struct putil *p, int64_t now_us, struct putil_entry *e, size_t n)
{
	int64_t span = p->last_read_us > 0 && now_us > p->last_read_us ?
	    now_us - p->last_read_us : 0;
	unsigned long long gap = p->spacing ? p->spacing : p->period_us ?
	    p->period_us : 1000000;
	int after_pause;

	if (p->last_read_us == 0) {
		/* The first read is one point, what the driver holds (an
		   empty buffer: nobody busy lately); and it stands for a
		   newest timestamp, before which nothing can be told. */
		span = 1;
		p->newest_at_us = now_us;
	} else if (n == 0 &&
	    (unsigned long long)(now_us - p->newest_at_us) < gap * 3 / 2) {
		/*
		 * No new entry within a period and a half of the newest: one
		 * period, and the next entry may just not be there yet (it
		 * is seen a read after it is taken). Judged sooner, reads
		 * ten times a period counted a busy process idle between
		 * its entries (85 % read as 12 % at a 200 ms interval).
		 */
		p->pending_us += span;	/* too early to say idle */
		p->last_read_us = now_us;
		return 0;
	}
	p->last_read_us = now_us;
	span += p->pending_us;
	p->pending_us = 0;
	p->span_us += span;
	if (n == 0) {
		p->idle_reads++;
		return 0;		/* nobody busy: 0 for everyone */
	}
	after_pause = p->idle_reads > 0;
	p->idle_reads = 0;
	/* Each process's entries of this read, in the order they came. */
	p->read_no++;
	for (size_t i = 0; i < n; i++) {
		struct putil_sum *s = sum_of(p, e[i].pid);

		if (s == NULL)
			return -1;
		if (s->read_no != p->read_no) {
			s->read_no = p->read_no;
			s->read_sum = 0;
			s->read_count = 0;
			s->read_ts = e[i].ts;
		} else if (e[i].ts != s->read_ts) {
			p->per_period = 1;	/* two times, one read */
		}
		s->read_sum += e[i].sm;
		s->read_count++;
	}
	for (size_t k = 0; k < p->nsums; k++) {
		struct putil_sum *s = &p->sums[k];

		if (s->read_no != p->read_no)
			continue;
		if (s->read_count > (uint64_t)p->most_entries)
			p->most_entries = (int)s->read_count;
		s->sum += s->read_sum;
		s->wsum += (s->read_sum + s->read_count / 2) / s->read_count *
		    (uint64_t)span;
	}
	return add_times(p, now_us, e, n, after_pause);
}

/*
 * Sampling periods in the tick, for the per-period reading: the card's
 * sample count, unless the entries' own spacing (this tick's, else the
 * last known) shows a coarser cadence, at most half as many periods over
 * the window (a period more or less is two clocks' jitter). Never fewer
 * than the distinct timestamps seen. 0 when nothing tells.
 */
static unsigned long long
periods_in(const struct putil *p, int64_t window_us, int card_periods)
{
	unsigned long long spacing = p->spacing ? p->spacing : p->period_us;
	unsigned long long by_time = 0, periods;

	if (window_us > 0 && spacing > 0)
		by_time = ((unsigned long long)window_us + spacing / 2) /
		    spacing;
	periods = card_periods > 0 ? (unsigned long long)card_periods : 0;
	if (by_time > 0 && (periods == 0 || 2 * by_time <= periods))
		periods = by_time;
	if (periods > 0 && periods < p->nts)
		periods = p->nts;
	return periods;
}

int
putil_result(const struct putil *p, uint32_t pid, int64_t window_us,
    int card_periods)
{
	const struct putil_sum *s = NULL;
	size_t lo = sum_slot(p, pid);
	uint64_t v;

	if (lo < p->nsums && p->sums[lo].pid == pid)
		s = &p->sums[lo];
	if (p->per_period) {
		unsigned long long periods = periods_in(p, window_us,
		    card_periods);

		if (periods == 0)
			return -1;
		v = s == NULL ? 0 : (s->sum * 20 + periods) / (2 * periods);
	} else {
		if (p->span_us <= 0)
			return -1;
		v = s == NULL ? 0 : (s->wsum * 10 + (uint64_t)p->span_us / 2) /
		    (uint64_t)p->span_us;
	}
	return v > 1000 ? 1000 : (int)v;
}

void
putil_hint_period(struct putil *p, unsigned long long period_us)
{
	if (p->period_us == 0)
		p->period_us = period_us;
}

void
putil_next_tick(struct putil *p)
{
	/* Keep the spacing learnt for a tick whose entries cannot show it. */
	if (p->spacing > 0)
		p->period_us = p->spacing;
	p->spacing = 0;
	p->nsums = 0;
	p->nts = 0;
	p->span_us = 0;
}

void
putil_free(struct putil *p)
{
	free(p->sums);
	free(p->ts);
	memset(p, 0, sizeof(*p));
}
