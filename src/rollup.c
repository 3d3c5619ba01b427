#include "rollup.h"
#include "tick.h"
#include "util.h"

enum state
rollup_gpu_add(struct rollup_gpu *r, const struct thresholds *t,
    int64_t span_ms, int util_pm, int64_t held_mib, int held_partial,
    int64_t energy_j)
{
	enum state s = classify_gpu(t, util_pm, held_mib, held_partial);

	r->ms[s] = util_sat_add(r->ms[s], span_ms);
	r->n[s]++;
	if (energy_j >= 0)
		r->energy_j[s] = util_sat_add(r->energy_j[s], energy_j);
	else
		r->energy_lost_ms = util_sat_add(r->energy_lost_ms, span_ms);
	if (util_pm != UTIL_UNKNOWN) {
		r->util_pm_ms = util_sat_add(r->util_pm_ms,
		    util_sat_mul(util_pm, span_ms));
		r->util_ms = util_sat_add(r->util_ms, span_ms);
	}
	return s;
}

enum state
rollup_proc_add(struct rollup_proc *r, const struct thresholds *t,
    int64_t ts_ms, int64_t span_ms, int proc_util_pm, int gpu_util_pm,
    int64_t mem_mib)
{
	enum state s = classify_process(t, proc_util_pm, gpu_util_pm, mem_mib);

	if (r->n == 0 || ts_ms < r->first_ms)
		r->first_ms = ts_ms;
	if (r->n == 0 || ts_ms > r->last_ms)
		r->last_ms = ts_ms;
	r->ms = util_sat_add(r->ms, span_ms);
	r->n++;
	if (mem_mib != MIB_UNKNOWN && mem_mib > r->peak_mib)
		r->peak_mib = mem_mib;
	if (proc_util_pm != UTIL_UNKNOWN) {
		r->util_pm_ms = util_sat_add(r->util_pm_ms,
		    util_sat_mul(proc_util_pm, span_ms));
		r->util_ms = util_sat_add(r->util_ms, span_ms);
	}
	if (s == STATE_IDLE_HELD) {
		r->idle_ms = util_sat_add(r->idle_ms, span_ms);
		r->idle_mib_ms = util_sat_add(r->idle_mib_ms,
		    util_sat_mul(mem_mib, span_ms));
	}
	return s;
}

void
rollup_gpu_merge(struct rollup_gpu *d, const struct rollup_gpu *s)
{
	for (int i = 0; i < STATE_COUNT; i++) {
		d->ms[i] = util_sat_add(d->ms[i], s->ms[i]);
		d->n[i] = util_sat_add(d->n[i], s->n[i]);
		d->energy_j[i] = util_sat_add(d->energy_j[i], s->energy_j[i]);
	}
	d->energy_lost_ms = util_sat_add(d->energy_lost_ms, s->energy_lost_ms);
	d->util_pm_ms = util_sat_add(d->util_pm_ms, s->util_pm_ms);
	d->util_ms = util_sat_add(d->util_ms, s->util_ms);
}

void
rollup_proc_init(struct rollup_proc *r)
{
	r->ms = r->n = r->idle_ms = r->idle_mib_ms = 0;
	r->peak_mib = MIB_UNKNOWN;
	r->first_ms = r->last_ms = 0;
	r->util_pm_ms = r->util_ms = r->util_lost_ms = 0;
}

void
rollup_proc_merge(struct rollup_proc *d, const struct rollup_proc *s)
{
	if (s->n == 0)
		return;
	if (d->n == 0 || s->first_ms < d->first_ms)
		d->first_ms = s->first_ms;
	if (d->n == 0 || s->last_ms > d->last_ms)
		d->last_ms = s->last_ms;
	d->ms = util_sat_add(d->ms, s->ms);
	d->n = util_sat_add(d->n, s->n);
	d->idle_ms = util_sat_add(d->idle_ms, s->idle_ms);
	d->idle_mib_ms = util_sat_add(d->idle_mib_ms, s->idle_mib_ms);
	if (s->peak_mib > d->peak_mib)
		d->peak_mib = s->peak_mib;
	d->util_pm_ms = util_sat_add(d->util_pm_ms, s->util_pm_ms);
	d->util_ms = util_sat_add(d->util_ms, s->util_ms);
	d->util_lost_ms = util_sat_add(d->util_lost_ms, s->util_lost_ms);
}

double
rollup_proc_mean_util(const struct rollup_proc *r)
{
	if (r->util_lost_ms > 0 || r->util_ms <= 0)
		return -1;
	return (double)r->util_pm_ms / (double)r->util_ms / 10.0;
}

int64_t
rollup_gpu_known_ms(const struct rollup_gpu *r)
{
	return r->ms[STATE_ACTIVE] + r->ms[STATE_IDLE_HELD] +
	    r->ms[STATE_TRULY_IDLE];
}

int64_t
rollup_gpu_known_n(const struct rollup_gpu *r)
{
	return r->n[STATE_ACTIVE] + r->n[STATE_IDLE_HELD] +
	    r->n[STATE_TRULY_IDLE];
}

int64_t
rollup_gpu_energy_j(const struct rollup_gpu *r)
{
	int64_t j = 0;

	for (int i = 0; i < STATE_COUNT; i++)
		j = util_sat_add(j, r->energy_j[i]);
	return j;
}
