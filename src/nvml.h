/*
 * NVIDIA's NVML, loaded at run time with dlopen: the only module that knows
 * NVML's types, symbols and traps (nvml.c lists them). Nothing from NVIDIA
 * is needed to build gua; without a driver nvml_load fails with a reason.
 *
 * Ownership: nvml_load allocates a struct nvml, nvml_close shuts NVML down
 * (when it was initialised) and unloads the library. Functions return 0,
 * or -1 with a one-line reason in err. Conditions that come and go while
 * sampling (a GPU lost, a metric not supported) are not failures: they are
 * told to the log callback once when they start and once when they end.
 */
#ifndef GUA_NVML_H
#define GUA_NVML_H

#include <stddef.h>
#include <stdint.h>

#include "putil.h"
#include "tick.h"

/* Where nvml.c sends what the collector should log. */
struct nvml_log {
	void	(*fn)(void *arg, const char *msg);
	void	*arg;
};

struct nvml;

/*
 * Loads the library: path when not NULL, else libnvidia-ml.so.1, else
 * libnvidia-ml.so. Resolves the symbols gua uses, newest version first.
 * log may be NULL (nothing is told).
 */
int	nvml_load(struct nvml **, const char *path, const struct nvml_log *,
	    char *err, size_t errlen);
/* The file name the library was loaded from (as given to dlopen). */
const char *nvml_library(const struct nvml *);
/*
 * nvmlInitWithFlags(NO_GPUS), else nvmlInit_v2, else nvmlInit; then reads
 * the driver version and opens every GPU. err says what to do about the
 * common failures (driver not loaded, driver upgraded without reboot).
 */
int	nvml_init(struct nvml *, char *err, size_t errlen);
/*
 * The collector's interval: the span of the first tick, and the cap of a
 * tick's span (two intervals), for utilization samples. Without it the
 * first tick's samples are not trimmed to one interval and coverage is
 * unknown for it.
 */
void	nvml_set_interval(struct nvml *, int64_t interval_ms);
/* GPUs NVML counted at nvml_init. */
unsigned nvml_gpu_count(const struct nvml *);
/* The driver version ("560.35.03"), "" when NVML could not tell. */
const char *nvml_driver_version(const struct nvml *);
/*
 * Adds every GPU's reading to the tick, read at now_us (CLOCK_MONOTONIC,
 * µs; the caller's clock, so a test can play hours): index, UUID, name, memory,
 * utilization over the tick (from NVML's buffered samples, else the
 * instantaneous rate) and the processes with their memory and own SM
 * utilization (pid, mem_mib and util_pm only: their identity is the
 * caller's job). A GPU in MIG mode is added as its MIG instances, each
 * with parent_uuid set and utilization unknown. A GPU that cannot be
 * read this time is added as unknown when its UUID is known, else left
 * out. Fails only when NVML as a whole fails, or out of memory.
 */
int	nvml_sample(struct nvml *, struct tick *, int64_t now_us, char *err,
	    size_t errlen);
/*
 * Reads per-process utilization between ticks, at now_us, of each GPU
 * whose next read is due, at the caller's cadence every_us (about once a
 * second or faster) or slower where the driver says more often gains
 * nothing: a driver giving one entry per process per read no faster than
 * its sampling period, and a GPU nobody was busy on lately down to once
 * a second; a driver giving an entry per sampling period only every few
 * seconds. Failures are left for the tick to tell. Returns how long (µs)
 * until a GPU needs a read, never 0 right after one (a call just after
 * a tick only says when); -1 when none needs one before the next tick.
 */
int64_t	nvml_poll(struct nvml *, int64_t now_us, int64_t every_us);
/*
 * One read of GPU index's per-process utilization, as nvml_poll reads it,
 * for gua doctor and the GPU smoke test: up to max of the entries exactly
 * as the driver wrote them (junk included) into raw, *count of them.
 * Returns NVML's code (NOT_FOUND: none since the last read).
 */
int	nvml_putil_probe(struct nvml *, unsigned index, int64_t now_us,
	    struct putil_entry *raw, size_t max, size_t *count);
/*
 * What GPU index's reads showed so far: 1 when the driver gives an entry
 * per sampling period, 0 when one per process per read (or nothing was
 * busy yet), -1 no such GPU; *most is the most entries one process had in
 * one read.
 */
int	nvml_putil_behaviour(const struct nvml *, unsigned index, int *most);
void	nvml_close(struct nvml *);

/*
 * A readable message for an NVML return code: gua's own table for the
 * codes it knows ("the NVIDIA kernel driver is not loaded
 * (NVML_ERROR_DRIVER_NOT_LOADED)"), else the library's nvmlErrorString
 * when it has one, else "NVML error N". n may be NULL.
 */
const char *nvml_strerror(const struct nvml *, int code, char *buf,
	    size_t len);

/* Size of one process entry from a driver version: 32 for 535.43 to
   535.97, 24 otherwise, -1 when the version cannot be parsed. */
int	nvml_v3_entry_size(const char *driver_version);

#endif
