/*
 * The three-state rule. A card (or a process) is active when utilization is
 * at least the active threshold; otherwise it is idle-held when more than
 * the held threshold of memory is held, else truly idle. What cannot be
 * told is unknown, never idle.
 */
#ifndef GUA_CLASSIFY_H
#define GUA_CLASSIFY_H

#include <stdint.h>

enum state {
	STATE_ACTIVE = 0,
	STATE_IDLE_HELD = 1,
	STATE_TRULY_IDLE = 2,
	STATE_UNKNOWN = 3,
};
#define STATE_COUNT	4

#define THRESHOLD_ACTIVE_UTIL	10	/* percent */
#define THRESHOLD_HELD_MIB	100	/* MiB */

struct thresholds {
	int	active_util;	/* percent: utilization >= this is active */
	int64_t	held_mib;	/* MiB: held memory > this is "held" */
};

void		classify_defaults(struct thresholds *);
int		classify_is_default(const struct thresholds *);

/*
 * A card: util_pm is its utilization in per mille or UTIL_UNKNOWN (the
 * sentinels are tick.h's); held_mib is the memory its processes hold,
 * summed over those whose memory NVML gave. held_partial is nonzero when
 * some holder's memory was unknown: then a known sum above the threshold
 * still decides, a smaller one cannot.
 */
enum state	classify_gpu(const struct thresholds *, int util_pm,
		    int64_t held_mib, int held_partial);

/*
 * A process on a card: its own utilization (per mille) where NVML gives one,
 * else UTIL_UNKNOWN and the card's utilization decides. mem_mib may be
 * MIB_UNKNOWN.
 */
enum state	classify_process(const struct thresholds *, int proc_util_pm,
		    int gpu_util_pm, int64_t mem_mib);

const char	*state_name(enum state);

#endif
