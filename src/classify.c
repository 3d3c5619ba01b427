#include "classify.h"
#include "tick.h"

void
classify_defaults(struct thresholds *t)
{
	t->active_util = THRESHOLD_ACTIVE_UTIL;
	t->held_mib = THRESHOLD_HELD_MIB;
}

int
classify_is_default(const struct thresholds *t)
{
	return t->active_util == THRESHOLD_ACTIVE_UTIL &&
	    t->held_mib == THRESHOLD_HELD_MIB;
}

enum state
classify_gpu(const struct thresholds *t, int util_pm, int64_t held_mib,
    int held_partial)
{
	if (util_pm == UTIL_UNKNOWN)
		return STATE_UNKNOWN;
	if (util_pm >= t->active_util * 10)
		return STATE_ACTIVE;
	if (held_mib != MIB_UNKNOWN && held_mib > t->held_mib)
		return STATE_IDLE_HELD;
	if (held_mib == MIB_UNKNOWN || held_partial)
		return STATE_UNKNOWN;
	return STATE_TRULY_IDLE;
}

enum state
classify_process(const struct thresholds *t, int proc_util_pm, int gpu_util_pm,
    int64_t mem_mib)
{
	int util = proc_util_pm != UTIL_UNKNOWN ? proc_util_pm : gpu_util_pm;

	return classify_gpu(t, util, mem_mib, 0);
}

const char *
state_name(enum state s)
{
	switch (s) {
	case STATE_ACTIVE:
		return "active";
	case STATE_IDLE_HELD:
		return "idle-held";
	case STATE_TRULY_IDLE:
		return "truly-idle";
	default:
		return "unknown";
	}
}
