#include <string.h>

#include "classify.h"
#include "harness.h"
#include "rollup.h"
#include "tick.h"

int
main(void)
{
	struct thresholds t;

	classify_defaults(&t);
	CHECK(classify_is_default(&t));
	/* The boundaries: utilization 9/10 %, memory 100/101 MiB. */
	CHECK_INT(classify_gpu(&t, 100, 0, 0), STATE_ACTIVE);
	CHECK_INT(classify_gpu(&t, 100, 70000, 0), STATE_ACTIVE);
	CHECK_INT(classify_gpu(&t, 99, 101, 0), STATE_IDLE_HELD);
	CHECK_INT(classify_gpu(&t, 90, 101, 0), STATE_IDLE_HELD);
	CHECK_INT(classify_gpu(&t, 90, 100, 0), STATE_TRULY_IDLE);
	CHECK_INT(classify_gpu(&t, 0, 0, 0), STATE_TRULY_IDLE);
	CHECK_INT(classify_gpu(&t, 1000, 0, 0), STATE_ACTIVE);
	/* Unknown utilization is never idle. */
	CHECK_INT(classify_gpu(&t, UTIL_UNKNOWN, 70000, 0), STATE_UNKNOWN);
	/* Part of the memory unknown: a known sum above 100 still decides. */
	CHECK_INT(classify_gpu(&t, 0, 101, 1), STATE_IDLE_HELD);
	CHECK_INT(classify_gpu(&t, 0, 50, 1), STATE_UNKNOWN);
	CHECK_INT(classify_gpu(&t, 0, MIB_UNKNOWN, 0), STATE_UNKNOWN);
	CHECK_INT(classify_gpu(&t, 500, MIB_UNKNOWN, 1), STATE_ACTIVE);

	/* A process: its own utilization decides where known. */
	CHECK_INT(classify_process(&t, 0, 900, 12000), STATE_IDLE_HELD);
	CHECK_INT(classify_process(&t, 100, 0, 12000), STATE_ACTIVE);
	CHECK_INT(classify_process(&t, 99, 900, 101), STATE_IDLE_HELD);
	CHECK_INT(classify_process(&t, 0, 900, 100), STATE_TRULY_IDLE);
	CHECK_INT(classify_process(&t, UTIL_UNKNOWN, 900, 12000), STATE_ACTIVE);
	CHECK_INT(classify_process(&t, UTIL_UNKNOWN, 20, 12000),
	    STATE_IDLE_HELD);
	CHECK_INT(classify_process(&t, UTIL_UNKNOWN, UTIL_UNKNOWN, 12000),
	    STATE_UNKNOWN);
	CHECK_INT(classify_process(&t, 0, 0, MIB_UNKNOWN), STATE_UNKNOWN);

	/* Other thresholds. */
	t.active_util = 50;
	t.held_mib = 1000;
	CHECK(!classify_is_default(&t));
	CHECK_INT(classify_gpu(&t, 499, 1001, 0), STATE_IDLE_HELD);
	CHECK_INT(classify_gpu(&t, 500, 1001, 0), STATE_ACTIVE);
	CHECK_INT(classify_gpu(&t, 499, 1000, 0), STATE_TRULY_IDLE);

	CHECK_STR(state_name(STATE_ACTIVE), "active");
	CHECK_STR(state_name(STATE_IDLE_HELD), "idle-held");
	CHECK_STR(state_name(STATE_TRULY_IDLE), "truly-idle");
	CHECK_STR(state_name(STATE_UNKNOWN), "unknown");

	/* Rollup sums. */
	{
		struct rollup_gpu g;
		struct rollup_proc p, q;

		memset(&g, 0, sizeof(g));
		classify_defaults(&t);
		CHECK_INT(rollup_gpu_add(&g, &t, 30000, 800, 0, 0, 9000),
		    STATE_ACTIVE);
		CHECK_INT(rollup_gpu_add(&g, &t, 15000, 20, 500, 0, 1500),
		    STATE_IDLE_HELD);
		CHECK_INT(rollup_gpu_add(&g, &t, 1000, UTIL_UNKNOWN, 0, 0,
		    ENERGY_UNKNOWN), STATE_UNKNOWN);
		CHECK_INT(g.ms[STATE_ACTIVE], 30000);
		CHECK_INT(g.ms[STATE_IDLE_HELD], 15000);
		CHECK_INT(g.n[STATE_UNKNOWN], 1);
		CHECK_INT(rollup_gpu_known_ms(&g), 45000);
		CHECK_INT(rollup_gpu_known_n(&g), 2);
		CHECK_INT(g.util_ms, 45000);
		CHECK_INT(g.util_pm_ms, 800LL * 30000 + 20LL * 15000);
		/* Energy per state; an unknown tick's time is counted apart,
		   never as 0 J. */
		CHECK_INT(g.energy_j[STATE_ACTIVE], 9000);
		CHECK_INT(g.energy_j[STATE_IDLE_HELD], 1500);
		CHECK_INT(g.energy_j[STATE_UNKNOWN], 0);
		CHECK_INT(g.energy_lost_ms, 1000);
		CHECK_INT(rollup_gpu_energy_j(&g), 10500);
		{
			struct rollup_gpu m;

			memset(&m, 0, sizeof(m));
			rollup_gpu_merge(&m, &g);
			rollup_gpu_merge(&m, &g);
			CHECK_INT(m.energy_j[STATE_IDLE_HELD], 3000);
			CHECK_INT(m.energy_lost_ms, 2000);
		}

		rollup_proc_init(&p);
		rollup_proc_add(&p, &t, 2000, 1000, 0, 900, 4096);
		rollup_proc_add(&p, &t, 3000, 1000, 500, 900, 8192);
		rollup_proc_add(&p, &t, 1000, 500, UTIL_UNKNOWN, 0, 2048);
		CHECK_INT(p.n, 3);
		CHECK_INT(p.ms, 2500);
		CHECK_INT(p.idle_ms, 1500);
		CHECK_INT(p.idle_mib_ms, 4096LL * 1000 + 2048LL * 500);
		CHECK_INT(p.peak_mib, 8192);
		CHECK_INT(p.first_ms, 1000);
		CHECK_INT(p.last_ms, 3000);
		rollup_proc_init(&q);
		rollup_proc_merge(&q, &p);
		rollup_proc_merge(&q, &p);
		CHECK_INT(q.n, 6);
		CHECK_INT(q.peak_mib, 8192);
		CHECK_INT(q.first_ms, 1000);
		CHECK_INT(q.idle_mib_ms, 2 * p.idle_mib_ms);
	}
	HARNESS_DONE();
}
