/*
 * nvml.c against the fake NVML library (FAKE_NVML: the directory the
 * Makefile builds it in): every fallback, fault and trap it must survive.
 * The fake runs on its manual clock (FAKE_NVML_CLOCK=manual), moved here
 * and handed to nvml_sample, so no check depends on how loaded the
 * machine is.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "classify.h"
#include "harness.h"
#include "nvml.h"
#include "util.h"

static char dir[256];
static char logbuf[8192];
static long long now_us = 1000000;	/* the fake's clock and ours */
static void (*set_clock)(long long);

/* Moves the clock on by us microseconds. */
static void
advance(long long us)
{
	now_us += us;
	if (set_clock != NULL)
		set_clock(now_us);
}

static void
collect(void *arg, const char *msg)
{
	(void)arg;
	strncat(logbuf, msg, sizeof(logbuf) - strlen(logbuf) - 2);
	strcat(logbuf, "\n");
}

static const struct nvml_log logger = { collect, NULL };

/* Writes a scenario and points the fake at it. */
static void
scenario(const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/scenario", dir);
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	setenv("FAKE_NVML_SCENARIO", path, 1);
}

static char *
lib(const char *name)
{
	static char path[512];
	const char *d = getenv("FAKE_NVML");

	snprintf(path, sizeof(path), "%s/%s", d ? d : "FAKE_NVML-unset",
	    name);
	return path;
}

/* Loads and initialises a variant; NULL (and a failed check) if not. */
static struct nvml *
open_fake(const char *name)
{
	struct nvml *n;
	char err[512];

	logbuf[0] = '\0';
	if (nvml_load(&n, lib(name), &logger, err, sizeof(err)) != 0) {
		CHECK(!"load");
		fprintf(stderr, "%s\n", err);
		return NULL;
	}
	/* The library nvml_load opened holds the clock: set it before
	   nvmlInit reads it. */
	set_clock = NULL;
	{
		void *h = dlopen(lib(name), RTLD_NOW | RTLD_NOLOAD);

		if (h != NULL) {
			set_clock = (void (*)(long long))dlsym(h,
			    "fake_nvml_set_clock_us");
			dlclose(h);
		}
	}
	advance(0);
	if (nvml_init(n, err, sizeof(err)) != 0) {
		CHECK(!"init");
		fprintf(stderr, "%s\n", err);
		nvml_close(n);
		return NULL;
	}
	return n;
}

static int
sample(struct nvml *n, struct tick *t)
{
	char err[256];

	tick_reset(t);
	advance(1000);	/* a sample takes time, and so ticks come apart */
	return nvml_sample(n, t, now_us, err, sizeof(err));
}

/*
 * A sample a while after the previous one: the fake lays a tick's samples
 * over the time since the tick before, which must hold distinct
 * microsecond timestamps.
 */
static int
sample_later(struct nvml *n, struct tick *t)
{
	advance(20000);
	return sample(n, t);
}

static const struct tick_proc *
find_proc(const struct tick_gpu *g, uint32_t pid)
{
	for (size_t i = 0; i < g->nprocs; i++)
		if (g->procs[i].pid == pid)
			return &g->procs[i];
	return NULL;
}

static void
test_strings(void)
{
	static const struct {
		const char	*version;
		int		 size;
	} versions[] = {
		{ "535.43.02", 32 }, { "535.54.03", 32 }, { "535.86.05", 32 },
		{ "535.97", 32 }, { "535.98", 24 }, { "535.104.05", 24 },
		{ "535.42.99", 24 }, { "530.41.03", 24 }, { "560.35.03", 24 },
		{ "", -1 }, { "abc", -1 }, { "535", -1 }, { "535.x", -1 },
	};
	char buf[256];

	CHECK_STR(nvml_strerror(NULL, 9, buf, sizeof(buf)),
	    "the NVIDIA kernel driver is not loaded "
	    "(NVML_ERROR_DRIVER_NOT_LOADED)");
	CHECK(strstr(nvml_strerror(NULL, 18, buf, sizeof(buf)),
	    "LIB_RM_VERSION_MISMATCH") != NULL);
	CHECK(strstr(nvml_strerror(NULL, 999, buf, sizeof(buf)),
	    "NVML_ERROR_UNKNOWN") != NULL);
	for (int code = 0; code <= 30; code++)
		CHECK(strstr(nvml_strerror(NULL, code, buf, sizeof(buf)),
		    "(NVML_ERROR_") != NULL);
	CHECK_STR(nvml_strerror(NULL, 31, buf, sizeof(buf)), "NVML error 31");
	CHECK_STR(nvml_strerror(NULL, -5, buf, sizeof(buf)), "NVML error -5");
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++)
		CHECK_INT(nvml_v3_entry_size(versions[i].version),
		    versions[i].size);
}

static void
test_load_errors(void)
{
	struct nvml *n;
	char err[512], path[512];

	CHECK_INT(nvml_load(&n, "/nonexistent/libnvidia-ml.so.1", NULL, err,
	    sizeof(err)), -1);
	CHECK(strstr(err, "cannot load NVML") != NULL);
	CHECK(strstr(err, "/nonexistent/libnvidia-ml.so.1") != NULL);
	/* A library without NVML's symbols is refused by name. */
	snprintf(path, sizeof(path), "%s", "libm.so.6");
	CHECK_INT(nvml_load(&n, path, NULL, err, sizeof(err)), -1);
	CHECK(strstr(err, "not a usable NVML library (it has no nvmlInit)") !=
	    NULL);

	scenario("init_error DRIVER_NOT_LOADED\n");
	CHECK_INT(nvml_load(&n, lib("libnvidia-ml.so.1"), NULL, err,
	    sizeof(err)), 0);
	CHECK_INT(nvml_init(n, err, sizeof(err)), -1);
	CHECK(strstr(err, "NVML_ERROR_DRIVER_NOT_LOADED") != NULL);
	CHECK(strstr(err, "nvidia-smi") != NULL);
	nvml_close(n);
	scenario("init_error 18\n");
	CHECK_INT(nvml_load(&n, lib("libnvidia-ml.so.1"), NULL, err,
	    sizeof(err)), 0);
	CHECK_INT(nvml_init(n, err, sizeof(err)), -1);
	CHECK(strstr(err, "NVML_ERROR_LIB_RM_VERSION_MISMATCH") != NULL);
	CHECK(strstr(err, "reboot") != NULL);
	nvml_close(n);
	/* A code gua does not know: the library's own words. */
	scenario("init_error 31\n");
	CHECK_INT(nvml_load(&n, lib("libnvidia-ml.so.1"), NULL, err,
	    sizeof(err)), 0);
	CHECK_INT(nvml_init(n, err, sizeof(err)), -1);
	CHECK(strstr(err, "NVML error 31: Fake NVML error string 31") != NULL);
	nvml_close(n);
	scenario("gpus 0\n");
	if ((n = open_fake("libnvidia-ml.so.1")) != NULL) {
		CHECK_INT(nvml_gpu_count(n), 0);
		nvml_close(n);
	}
}

static void
test_basic(void)
{
	struct tick t;
	struct nvml *n;
	const struct tick_gpu *g;
	const struct tick_proc *p;

	memset(&t, 0, sizeof(t));
	scenario("gpus 2\n"
	    "gpu 1 uuid=GPU-second name=Second total=40960\n"
	    "tick 0\n"
	    "util 0 80\n"
	    "proc 0 100 70000\n"
	    "proc 0 101 1 lists=graphics\n"
	    "proc 1 100 50 lists=compute,graphics,mps\n"
	    "tick 1\n"
	    "util 0 3\n"
	    "util 1 100\n"
	    "proc 0 100 na\n"
	    "proc 0 102 99999999\n");
	if ((n = open_fake("libnvidia-ml.so.1")) == NULL)
		return;
	CHECK_STR(nvml_driver_version(n), "560.35.03");
	CHECK_INT(nvml_gpu_count(n), 2);
	CHECK_INT(sample(n, &t), 0);
	CHECK_INT(t.ngpus, 2);
	g = &t.gpus[0];
	CHECK_STR(g->uuid, "GPU-00000000-fake-4000-8000-000000000000");
	CHECK_STR(g->name, "Fake GPU");
	CHECK_INT(g->index, 0);
	CHECK_INT(g->util_pm, 800);
	CHECK_INT(g->util_max_pct, 80);
	CHECK_INT(g->util_src, UTIL_SRC_SAMPLES);
	CHECK_INT(g->mem_total_mib, 81920);
	/* v2: allocated memory, without the 512 MiB reservation */
	CHECK_INT(g->mem_used_mib, 70001);
	CHECK_INT(g->procs_known, 1);
	CHECK_INT(g->nprocs, 2);
	CHECK((p = find_proc(g, 100)) != NULL && p->mem_mib == 70000);
	CHECK((p = find_proc(g, 101)) != NULL && p->mem_mib == 1);
	g = &t.gpus[1];
	CHECK_STR(g->uuid, "GPU-second");
	CHECK_STR(g->name, "Second");
	CHECK_INT(g->mem_total_mib, 40960);
	/* In three lists, one process. */
	CHECK_INT(g->nprocs, 1);
	CHECK_INT(g->util_pm, 0);

	CHECK_INT(sample(n, &t), 0);
	g = &t.gpus[0];
	CHECK_INT(g->util_pm, 30);
	/* NVML_VALUE_NOT_AVAILABLE and more than the card: unknown. */
	CHECK((p = find_proc(g, 100)) != NULL && p->mem_mib == MIB_UNKNOWN);
	CHECK((p = find_proc(g, 102)) != NULL && p->mem_mib == MIB_UNKNOWN);
	CHECK_INT(t.gpus[1].util_pm, 1000);
	CHECK_INT(t.gpus[1].nprocs, 0);
	CHECK_INT(t.gpus[1].procs_known, 1);
	/* Past the last tick, the last one holds. */
	CHECK_INT(sample(n, &t), 0);
	CHECK_INT(t.gpus[0].util_pm, 30);
	CHECK_STR(logbuf, "");
	nvml_close(n);
	tick_free(&t);
}

/*
 * Energy: GPU 0's counter, reset by a driver reload at tick 2; GPU 1
 * without a counter (power x span); GPU 2 with neither (unknown, and no
 * complaint: NOT_SUPPORTED is no error). A tick is 1 ms here (sample).
 */
static void
test_energy(void)
{
	static const struct { int64_t mj[3]; enum energy_source src[3]; }
	    want[] = {
		/* The first tick has no span yet: unknown. */
		{ { ENERGY_UNKNOWN, ENERGY_UNKNOWN, ENERGY_UNKNOWN },
		  { ENERGY_SRC_NONE, ENERGY_SRC_NONE, ENERGY_SRC_NONE } },
		/* Whole joules (the rest waits for the next tick). */
		{ { 3000, 100, ENERGY_UNKNOWN },
		  { ENERGY_SRC_COUNTER, ENERGY_SRC_POWER, ENERGY_SRC_NONE } },
		/* The reset: 200 W x 1 ms, not a negative difference. */
		{ { 200, 100, ENERGY_UNKNOWN },
		  { ENERGY_SRC_POWER, ENERGY_SRC_POWER, ENERGY_SRC_NONE } },
		{ { 2000, 100, ENERGY_UNKNOWN },
		  { ENERGY_SRC_COUNTER, ENERGY_SRC_POWER, ENERGY_SRC_NONE } },
	};
	struct tick t;
	struct nvml *n;

	memset(&t, 0, sizeof(t));
	scenario("gpus 3\n"
	    "tick 0\n" "energy 0 1000000\n" "power 0 300\n" "power 1 100\n"
	    "tick 1\n" "energy 0 1003400\n" "power 0 300\n" "power 1 100\n"
	    "tick 2\n" "energy 0 50\n" "power 0 200\n" "power 1 100\n"
	    "tick 3\n" "energy 0 2050\n" "power 0 250\n" "power 1 100\n");
	if ((n = open_fake("libnvidia-ml.so.1")) == NULL)
		return;
	for (size_t k = 0; k < ARRAY_LEN(want); k++) {
		CHECK_INT(sample(n, &t), 0);
		for (int i = 0; i < 3; i++) {
			CHECK_INT(t.gpus[i].energy_mj, want[k].mj[i]);
			CHECK_INT(t.gpus[i].energy_src, want[k].src[i]);
		}
	}
	CHECK_STR(logbuf, "");
	nvml_close(n);
	tick_free(&t);
}

/*
 * A counter difference holds only its tick's time: a GPU that leaves MIG
 * mode (no energy read while in it) and one lost for a tick start again
 * from power x one interval, not the difference since their last read.
 */
static void
test_energy_gaps(void)
{
	static const struct { int64_t mj; enum energy_source src; } want[] = {
		{ 2100, ENERGY_SRC_POWER },	/* 100 W x 21 ms */
		{ ENERGY_UNKNOWN, ENERGY_SRC_NONE },	/* a MIG instance */
		{ 2100, ENERGY_SRC_POWER },	/* out of MIG mode */
		{ 1000, ENERGY_SRC_COUNTER },
		{ ENERGY_UNKNOWN, ENERGY_SRC_NONE },	/* lost */
		{ 2100, ENERGY_SRC_POWER },
		{ 1000, ENERGY_SRC_COUNTER },
	};
	struct tick t;
	struct nvml *n;

	memset(&t, 0, sizeof(t));
	scenario("gpus 1\n" "mig 0 1 total=19968\n"
	    "tick 0\n" "fault 0 mig NOT_SUPPORTED\n" "energy 0 1000000\n"
	    "power 0 100\n"
	    "tick 1\n" "energy 0 1001000\n" "power 0 100\n"
	    "tick 2\n" "fault 0 mig NOT_SUPPORTED\n" "energy 0 1002000\n"
	    "power 0 100\n"
	    "tick 3\n" "fault 0 mig NOT_SUPPORTED\n" "energy 0 1003000\n"
	    "power 0 100\n"
	    "tick 4\n" "fault 0 mig NOT_SUPPORTED\n" "energy 0 1004000\n"
	    "power 0 100\n" "fault 0 memory GPU_IS_LOST\n"
	    "tick 5\n" "fault 0 mig NOT_SUPPORTED\n" "energy 0 1005000\n"
	    "power 0 100\n"
	    "tick 6\n" "fault 0 mig NOT_SUPPORTED\n" "energy 0 1006000\n"
	    "power 0 100\n");
	if ((n = open_fake("libnvidia-ml.so.1")) == NULL)
		return;
	nvml_set_interval(n, 21);
	for (size_t k = 0; k < ARRAY_LEN(want); k++) {
		CHECK_INT(sample_later(n, &t), 0);
		CHECK_INT(t.gpus[0].energy_mj, want[k].mj);
		CHECK_INT(t.gpus[0].energy_src, want[k].src);
	}
	nvml_close(n);
	tick_free(&t);
}

/* The 535 drivers' 32-byte entries, by version, by symbols, by measure. */
static void
test_entry_sizes(void)
{
	static const char procs[] = "tick 0\n"
	    "proc 0 4242 1000\n"
	    "proc 0 4243 2000\n"
	    "proc 0 4244 3000\n";
	char text[512];
	struct tick t;
	struct nvml *n;

	memset(&t, 0, sizeof(t));
	snprintf(text, sizeof(text), "driver 535.54.03\nv3_entry_bytes 32\n%s",
	    procs);
	scenario(text);
	if ((n = open_fake("libnvidia-ml.so.1")) != NULL) {
		CHECK(strstr(logbuf, "reading 32-byte process entries") !=
		    NULL);
		CHECK_INT(sample(n, &t), 0);
		CHECK_INT(t.gpus[0].nprocs, 3);
		CHECK(find_proc(&t.gpus[0], 4243) != NULL);
		CHECK(find_proc(&t.gpus[0], 4244) != NULL &&
		    find_proc(&t.gpus[0], 4244)->mem_mib == 3000);
		CHECK(strstr(logbuf, "not 24") == NULL);
		nvml_close(n);
	}
	/* The symbol set of 535.43-535.86 and a version gua cannot parse. */
	snprintf(text, sizeof(text), "driver custom\nv3_entry_bytes 32\n%s",
	    procs);
	scenario(text);
	if ((n = open_fake("libnvidia-ml-r535.so.1")) != NULL) {
		CHECK(strstr(logbuf, "reading 32-byte") != NULL);
		CHECK_INT(sample(n, &t), 0);
		CHECK(find_proc(&t.gpus[0], 4244) != NULL);
		nvml_close(n);
	}
	/* A driver whose version says 24 but writes 32: measured, fixed. */
	snprintf(text, sizeof(text), "driver 560.1\nv3_entry_bytes 32\n%s",
	    procs);
	scenario(text);
	if ((n = open_fake("libnvidia-ml.so.1")) != NULL) {
		CHECK_INT(sample(n, &t), 0);
		CHECK_INT(t.gpus[0].procs_known, 1);
		CHECK_INT(t.gpus[0].nprocs, 3);
		CHECK(find_proc(&t.gpus[0], 4244) != NULL);
		CHECK(strstr(logbuf, "writes 32-byte process entries, not 24") !=
		    NULL);
		nvml_close(n);
	}
	/* And the other way round: 535.54 that writes 24. */
	snprintf(text, sizeof(text), "driver 535.54.03\n%s", procs);
	scenario(text);
	if ((n = open_fake("libnvidia-ml.so.1")) != NULL) {
		CHECK_INT(sample(n, &t), 0);
		CHECK_INT(t.gpus[0].nprocs, 3);
		CHECK(find_proc(&t.gpus[0], 4244) != NULL);
		CHECK(strstr(logbuf, "writes 24-byte process entries, not 32") !=
		    NULL);
		nvml_close(n);
	}
	/* One process: the measure still tells 24 from 32. */
	scenario("driver 560.1\nv3_entry_bytes 32\ntick 0\nproc 0 77 5\n");
	if ((n = open_fake("libnvidia-ml.so.1")) != NULL) {
		CHECK_INT(sample(n, &t), 0);
		CHECK(find_proc(&t.gpus[0], 77) != NULL);
		CHECK(strstr(logbuf, "writes 32-byte") != NULL);
		nvml_close(n);
	}
	/* A PID 0 from NVML: the list is unknown, not garbage. */
	scenario("tick 0\nproc 0 0 500\nproc 0 12 500\n");
	if ((n = open_fake("libnvidia-ml.so.1")) != NULL) {
		CHECK_INT(sample(n, &t), 0);
		CHECK_INT(t.gpus[0].procs_known, 0);
		CHECK_INT(t.gpus[0].nprocs, 0);
		CHECK(strstr(logbuf, "fail the sanity checks") != NULL);
		nvml_close(n);
	}
	tick_free(&t);
}

static void
test_old_drivers(void)
{
	struct tick t;
	struct nvml *n;
	FILE *f;
	char path[512], line[256];
	int v2 = 0, v3 = 0;

	memset(&t, 0, sizeof(t));
	snprintf(path, sizeof(path), "%s/trace", dir);
	setenv("FAKE_NVML_TRACE", path, 1);
	scenario("tick 0\nutil 0 50\nproc 0 300 4000\nproc 0 301 5000\n");
	if ((n = open_fake("libnvidia-ml-no-v3.so.1")) != NULL) {
		CHECK_INT(sample(n, &t), 0);
		CHECK_INT(t.gpus[0].nprocs, 2);
		CHECK(find_proc(&t.gpus[0], 301) != NULL &&
		    find_proc(&t.gpus[0], 301)->mem_mib == 5000);
		nvml_close(n);
	}
	if ((f = fopen(path, "r")) != NULL) {
		while (fgets(line, sizeof(line), f) != NULL) {
			v2 += strstr(line, "ComputeRunningProcesses_v2") != NULL;
			v3 += strstr(line, "_v3") != NULL;
		}
		fclose(f);
	}
	CHECK(v2 > 0);
	CHECK_INT(v3, 0);
	unlink(path);
	unsetenv("FAKE_NVML_TRACE");

	/* The legacy ABI: 16-byte entries, v1 memory (reservation counted). */
	if ((n = open_fake("libnvidia-ml-old.so.1")) != NULL) {
		CHECK(strstr(logbuf, "no nvmlDeviceGetMemoryInfo_v2") != NULL);
		CHECK(strstr(logbuf, "this NVML has no nvmlDeviceGetSamples: "
		    "utilization is the instantaneous rate") != NULL);
		CHECK(strstr(logbuf, "this NVML has no per-process utilization")
		    != NULL);
		CHECK_INT(sample(n, &t), 0);
		CHECK_INT(t.gpus[0].util_pm, 500);
		CHECK_INT(t.gpus[0].nprocs, 2);
		CHECK(find_proc(&t.gpus[0], 300) != NULL &&
		    find_proc(&t.gpus[0], 300)->mem_mib == 4000);
		CHECK(find_proc(&t.gpus[0], 301) != NULL);
		CHECK_INT(t.gpus[0].mem_used_mib, 9000 + 512);
		nvml_close(n);
	}
	tick_free(&t);
}

static void
test_faults(void)
{
	struct tick t;
	struct nvml *n;
	const char *s;

	memset(&t, 0, sizeof(t));
	/* NOT_SUPPORTED for two ticks, then back: logged twice in all. */
	scenario("gpus 2\n"
	    "fault 1 graphics NOT_SUPPORTED\n"
	    "tick 0\nutil 0 40\nutil 1 40\nproc 1 55 300\n"
	    "fault 0 util NOT_SUPPORTED\n"
	    "tick 1\nutil 0 40\nutil 1 40\n"
	    "fault 0 util 3\nfault 0 memory 3\n"
	    "tick 2\nutil 0 40\nutil 1 40\n");
	if ((n = open_fake("libnvidia-ml.so.1")) == NULL)
		return;
	CHECK_INT(sample(n, &t), 0);
	CHECK_INT(t.gpus[0].util_pm, UTIL_UNKNOWN);
	CHECK_INT(t.gpus[0].util_src, UTIL_SRC_NONE);
	CHECK_INT(t.gpus[0].mem_total_mib, 81920);
	CHECK_INT(t.gpus[1].util_pm, 400);
	/* The graphics list unsupported: empty, processes still known. */
	CHECK_INT(t.gpus[1].procs_known, 1);
	CHECK_INT(t.gpus[1].nprocs, 1);
	CHECK(strstr(logbuf, "GPU 0 (GPU-00000000-fake-4000-8000-000000000000)"
	    ": utilization: not supported by this GPU or driver "
	    "(NVML_ERROR_NOT_SUPPORTED); recorded as unknown") != NULL);
	CHECK(strstr(logbuf, "nvmlDeviceGetGraphicsRunningProcesses: not "
	    "supported") != NULL && strstr(logbuf, "treated as empty") != NULL);
	CHECK_INT(sample(n, &t), 0);
	CHECK_INT(t.gpus[0].util_pm, UTIL_UNKNOWN);
	CHECK_INT(t.gpus[0].mem_total_mib, MIB_UNKNOWN);
	CHECK_INT(t.gpus[0].mem_used_mib, MIB_UNKNOWN);
	CHECK_INT(sample(n, &t), 0);
	CHECK_INT(t.gpus[0].util_pm, 400);
	CHECK_INT(t.gpus[0].mem_total_mib, 81920);
	/* One line when each condition starts, one when it ends. */
	s = logbuf;
	CHECK(strstr(s, "utilization: answering again") != NULL);
	CHECK(strstr(s, "memory: answering again") != NULL);
	{
		int lines = 0;

		for (s = logbuf; *s; s++)
			lines += *s == '\n';
		/* utilization samples and the rate: both go and come back */
		CHECK_INT(lines, 7);
	}
	nvml_close(n);

	/* GPU 1 lost at tick 1: unknown from then on, GPU 0 unharmed. */
	scenario("gpus 2\nlost 1 1\n"
	    "tick 0\nutil 0 90\nutil 1 90\nproc 1 60 1000\n");
	if ((n = open_fake("libnvidia-ml.so.1")) == NULL)
		return;
	CHECK_INT(sample(n, &t), 0);
	CHECK_INT(t.gpus[1].util_pm, 900);
	CHECK_INT(t.gpus[1].nprocs, 1);
	for (int i = 0; i < 3; i++) {
		CHECK_INT(sample(n, &t), 0);
		CHECK_INT(t.ngpus, 2);
		CHECK_INT(t.gpus[0].util_pm, 900);
		CHECK_STR(t.gpus[1].uuid,
		    "GPU-00000000-fake-4000-8000-000000000001");
		CHECK_INT(t.gpus[1].util_pm, UTIL_UNKNOWN);
		CHECK_INT(t.gpus[1].procs_known, 0);
		CHECK_INT(t.gpus[1].nprocs, 0);
		CHECK_INT(t.gpus[1].mem_total_mib, MIB_UNKNOWN);
	}
	CHECK_STR(logbuf, "GPU 1 (GPU-00000000-fake-4000-8000-000000000001): "
	    "every call: the GPU has fallen off the bus or is otherwise "
	    "inaccessible (NVML_ERROR_GPU_IS_LOST); recorded as unknown until "
	    "it answers\n");
	nvml_close(n);

	/* INSUFFICIENT_SIZE on the call with a buffer: grown, retried. */
	scenario("insufficient_size 1\ntick 0\nproc 0 70 100\nproc 0 71 100\n");
	if ((n = open_fake("libnvidia-ml.so.1")) == NULL)
		return;
	CHECK_INT(sample(n, &t), 0);
	CHECK_INT(t.gpus[0].procs_known, 1);
	CHECK_INT(t.gpus[0].nprocs, 2);
	CHECK_STR(logbuf, "");
	nvml_close(n);
	/* ... and when it never stops growing: unknown, logged once. */
	scenario("insufficient_size 1000\ntick 0\nproc 0 70 100\n");
	if ((n = open_fake("libnvidia-ml.so.1")) == NULL)
		return;
	CHECK_INT(sample(n, &t), 0);
	CHECK_INT(sample(n, &t), 0);
	CHECK_INT(t.gpus[0].procs_known, 0);
	CHECK_INT(t.gpus[0].util_pm, 0);
	CHECK_STR(logbuf, "GPU 0 (GPU-00000000-fake-4000-8000-000000000000): "
	    "nvmlDeviceGetComputeRunningProcesses: buffer too small "
	    "(NVML_ERROR_INSUFFICIENT_SIZE); processes recorded as unknown\n");
	nvml_close(n);
	tick_free(&t);
}

/* Lines of the trace file that contain what. */
static int
trace_count(const char *path, const char *what)
{
	char line[256];
	int n = 0;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		n += strstr(line, what) != NULL;
	fclose(f);
	return n;
}

/* Utilization over the whole tick from NVML's buffered samples. */
static void
test_samples(void)
{
	struct tick t;
	struct nvml *n;
	const struct tick_gpu *g;

	memset(&t, 0, sizeof(t));
	/* Busy 6 periods out of 30 at 100 %, while the point reading is 0:
	   20 %, max 100. The next tick reads only its own samples. */
	scenario("gpus 3\n"
	    "tick 0\n"
	    "util 0 0\nsamples 0 100*6 0*24\n"
	    "util 1 0\n"
	    "util 2 37\nsamples 2\n"
	    "tick 1\n"
	    "util 0 100\nsamples 0 0*9 50\n"
	    "util 1 0\nsamples 1 33 34 35\n"
	    "util 2 37\n");
	if ((n = open_fake("libnvidia-ml.so.1")) == NULL)
		return;
	CHECK_INT(sample_later(n, &t), 0);
	g = &t.gpus[0];
	CHECK_INT(g->util_src, UTIL_SRC_SAMPLES);
	CHECK_INT(g->util_pm, 200);
	CHECK_INT(g->util_max_pct, 100);
	/* An idle GPU's buffer runs dry: 0 %, recorded as such. */
	CHECK_INT(t.gpus[1].util_src, UTIL_SRC_SAMPLES_EMPTY);
	CHECK_INT(t.gpus[1].util_pm, 0);
	CHECK_INT(t.gpus[1].util_max_pct, 0);
	CHECK_INT(t.gpus[1].util_cover_pm, 0);
	/* An empty buffer wins over the point reading. */
	CHECK_INT(t.gpus[2].util_src, UTIL_SRC_SAMPLES_EMPTY);
	CHECK_INT(t.gpus[2].util_pm, 0);
	CHECK_INT(sample_later(n, &t), 0);
	CHECK_INT(t.gpus[0].util_pm, 50);
	CHECK_INT(t.gpus[0].util_max_pct, 50);
	/* Exact integer mean, rounded: (33 + 34 + 35) / 3 = 34.0 %. */
	CHECK_INT(t.gpus[1].util_pm, 340);
	CHECK_INT(t.gpus[2].util_src, UTIL_SRC_SAMPLES);
	CHECK_INT(t.gpus[2].util_pm, 370);
	CHECK_STR(logbuf, "");
	nvml_close(n);

	/* A driver whose size query answers INSUFFICIENT_SIZE. */
	scenario("samples_size_query insufficient_size\n"
	    "tick 0\nsamples 0 10 20 30 41\n");
	if ((n = open_fake("libnvidia-ml.so.1")) != NULL) {
		CHECK_INT(sample_later(n, &t), 0);
		CHECK_INT(t.gpus[0].util_src, UTIL_SRC_SAMPLES);
		CHECK_INT(t.gpus[0].util_pm, 253);
		CHECK_INT(t.gpus[0].util_max_pct, 41);
		nvml_close(n);
	}

	/* Samples not supported: the instantaneous rate, logged once. */
	scenario("fault 0 samples NOT_SUPPORTED\n"
	    "tick 0\nutil 0 0\nsamples 0 100*6 0*24\n");
	if ((n = open_fake("libnvidia-ml.so.1")) != NULL) {
		CHECK_INT(sample_later(n, &t), 0);
		CHECK_INT(sample_later(n, &t), 0);
		CHECK_INT(t.gpus[0].util_src, UTIL_SRC_INSTANT);
		CHECK_INT(t.gpus[0].util_pm, 0);
		CHECK_INT(t.gpus[0].util_cover_pm, -1);
		CHECK_STR(logbuf, "GPU 0 (GPU-00000000-fake-4000-8000-"
		    "000000000000): utilization samples: not supported by this "
		    "GPU or driver (NVML_ERROR_NOT_SUPPORTED); using the "
		    "instantaneous rate\n");
		nvml_close(n);
	}
	/* A library without nvmlDeviceGetSamples: the rate too. */
	scenario("tick 0\nutil 0 64\n");
	if ((n = open_fake("libnvidia-ml-old.so.1")) != NULL) {
		CHECK_INT(sample_later(n, &t), 0);
		CHECK_INT(t.gpus[0].util_src, UTIL_SRC_INSTANT);
		CHECK_INT(t.gpus[0].util_pm, 640);
		nvml_close(n);
	}

	/* After a read that failed, the samples left from then are not the
	   next tick's: only its span's count. */
	scenario("tick 0\nsamples 0 10*10\n"
	    "tick 1\nutil 0 50\nsamples 0 100*10\nfault 0 samples UNKNOWN\n"
	    "tick 2\nsamples 0 30*10\n");
	if ((n = open_fake("libnvidia-ml.so.1")) != NULL) {
		CHECK_INT(sample_later(n, &t), 0);
		CHECK_INT(t.gpus[0].util_pm, 100);
		CHECK_INT(sample_later(n, &t), 0);
		CHECK_INT(t.gpus[0].util_src, UTIL_SRC_INSTANT);
		CHECK_INT(t.gpus[0].util_pm, 500);
		CHECK_INT(sample_later(n, &t), 0);
		CHECK_INT(t.gpus[0].util_src, UTIL_SRC_SAMPLES);
		/* 30 %, give or take the one sample two clocks may admit */
		CHECK(t.gpus[0].util_pm >= 300 && t.gpus[0].util_pm <= 370);
		nvml_close(n);
	}

	/* Coverage: samples over the last half of each tick. */
	scenario("tick 0\nsamples 0 80*10 cover=50\n");
	if ((n = open_fake("libnvidia-ml.so.1")) != NULL) {
		nvml_set_interval(n, 300);
		for (int i = 0; i < 3; i++) {
			CHECK_INT(sample_later(n, &t), 0);
			advance(300000);
		}
		CHECK_INT(t.gpus[0].util_pm, 800);
		CHECK(t.gpus[0].util_cover_pm >= 300 &&
		    t.gpus[0].util_cover_pm <= 700);
		nvml_close(n);
	}
	tick_free(&t);
}

/* Each process's own SM utilization over the tick. */
static void
test_process_util(void)
{
	struct tick t;
	struct nvml *n;
	const struct tick_proc *p;
	char path[512];

	memset(&t, 0, sizeof(t));
	snprintf(path, sizeof(path), "%s/trace", dir);
	/* A trainer at 90 %, a holder at 0 % (no sample at all), a bursty
	   one; junk samples beside them change nothing. */
	scenario("tick 0\n"
	    "util 0 90\nsamples 0 90*30\n"
	    "proc 0 100 4000 sm=90\n"
	    "proc 0 101 12288\n"
	    "proc 0 102 2000 sm=100*6,0*24\n"
	    "putil_junk 0\n");
	setenv("FAKE_NVML_TRACE", path, 1);
	for (int lib = 0; lib < 2; lib++) {
		unlink(path);
		n = open_fake(lib ? "libnvidia-ml-r535.so.1" :
		    "libnvidia-ml.so.1");
		if (n == NULL)
			continue;
		/* As the collector: the first read keeps one interval, here
		   the 21 ms sample_later lets pass (20 ms, and 1 ms a
		   sample takes). */
		nvml_set_interval(n, 21);
		for (int i = 0; i < 3; i++) {
			CHECK_INT(sample_later(n, &t), 0);
			CHECK((p = find_proc(&t.gpus[0], 100)) != NULL &&
			    p->util_pm == 900);
			CHECK((p = find_proc(&t.gpus[0], 101)) != NULL &&
			    p->util_pm == 0);
			CHECK((p = find_proc(&t.gpus[0], 102)) != NULL &&
			    p->util_pm == 200);
		}
		CHECK_STR(logbuf, "");
		nvml_close(n);
		/* The 550 call where the library has it, else the old one. */
		CHECK_INT(trace_count(path,
		    "nvmlDeviceGetProcessesUtilizationInfo 0 0"), lib ? 0 : 3);
		CHECK_INT(trace_count(path,
		    "nvmlDeviceGetProcessUtilization 0 0"), lib ? 3 : 0);
	}
	unsetenv("FAKE_NVML_TRACE");

	/* The 550 call refusing its version: the old call from then on. */
	scenario("fault 0 putil_info ARGUMENT_VERSION_MISMATCH\n"
	    "tick 0\nutil 0 50\nproc 0 100 4000 sm=50\n");
	if ((n = open_fake("libnvidia-ml.so.1")) != NULL) {
		CHECK_INT(sample_later(n, &t), 0);
		CHECK_INT(sample_later(n, &t), 0);
		CHECK((p = find_proc(&t.gpus[0], 100)) != NULL &&
		    p->util_pm == 500);
		CHECK_STR(logbuf, "nvmlDeviceGetProcessesUtilizationInfo: this "
		    "NVML does not know the structure version passed "
		    "(NVML_ERROR_ARGUMENT_VERSION_MISMATCH); using "
		    "nvmlDeviceGetProcessUtilization\n");
		nvml_close(n);
	}
	/* Not supported: unknown, so the card decides; logged once. */
	scenario("fault 0 putil NOT_SUPPORTED\n"
	    "tick 0\nutil 0 50\nproc 0 100 4000 sm=50\n");
	if ((n = open_fake("libnvidia-ml.so.1")) != NULL) {
		CHECK_INT(sample_later(n, &t), 0);
		CHECK_INT(sample_later(n, &t), 0);
		CHECK((p = find_proc(&t.gpus[0], 100)) != NULL &&
		    p->util_pm == UTIL_UNKNOWN);
		CHECK(strstr(logbuf, "per-process utilization: not supported")
		    != NULL && strstr(logbuf, "processes follow their GPU's "
		    "utilization") != NULL);
		CHECK(strchr(logbuf, '\n') == logbuf + strlen(logbuf) - 1);
		nvml_close(n);
	}
	/* Without the card's samples the periods come from the process
	   samples' spacing and the tick's span; the first read cannot tell
	   them, so its processes follow the card. */
	scenario("fault 0 samples NOT_SUPPORTED\n"
	    "tick 0\nutil 0 50\nproc 0 100 4000 sm=60\nproc 0 101 4000\n");
	if ((n = open_fake("libnvidia-ml.so.1")) != NULL) {
		CHECK_INT(sample_later(n, &t), 0);
		CHECK((p = find_proc(&t.gpus[0], 100)) != NULL &&
		    p->util_pm == UTIL_UNKNOWN);
		for (int i = 0; i < 2; i++) {
			advance(100000);
			CHECK_INT(sample_later(n, &t), 0);
			/* 10 periods, give or take one: two clocks' jitter. */
			CHECK((p = find_proc(&t.gpus[0], 100)) != NULL &&
			    p->util_pm >= 545 && p->util_pm <= 667);
			CHECK((p = find_proc(&t.gpus[0], 101)) != NULL &&
			    p->util_pm == 0);
		}
		nvml_close(n);
	}
	tick_free(&t);
}

/* A GPU in MIG mode is recorded as its instances, utilization unknown. */
static void
test_mig(void)
{
	struct tick t;
	struct nvml *n;
	const struct tick_gpu *g;
	const struct tick_proc *p;
	char path[512];

	memset(&t, 0, sizeof(t));
	snprintf(path, sizeof(path), "%s/trace", dir);
	unlink(path);
	setenv("FAKE_NVML_TRACE", path, 1);
	scenario("gpus 2\n"
	    "gpu 0 uuid=GPU-parent\n"
	    "mig 0 1 total=19968\n"
	    "mig 0 4 uuid=MIG-abcd name=Inst total=20000\n"
	    "lost 0 2\n"
	    "tick 0\n"
	    "proc 0 100 3000 mig=1\n"
	    "proc 0 101 5000 mig=4 sm=50\n"
	    "proc 0 102 7000 mig=4\n"
	    "util 1 70\n"
	    "proc 1 103 100 sm=70\n");
	if ((n = open_fake("libnvidia-ml.so.1")) == NULL)
		return;
	CHECK_INT(sample_later(n, &t), 0);
	CHECK_INT(t.ngpus, 3);
	g = &t.gpus[0];
	CHECK_STR(g->uuid, "MIG-01000000-fake-4000-8000-000000000001");
	CHECK_STR(g->parent_uuid, "GPU-parent");
	CHECK_STR(g->name, "Fake GPU MIG 1g.10gb");
	CHECK_INT(g->index, 0);
	CHECK_INT(g->util_pm, UTIL_UNKNOWN);
	CHECK_INT(g->util_src, UTIL_SRC_NONE);
	CHECK_INT(g->mem_total_mib, 19968);
	CHECK_INT(g->mem_used_mib, 3000);
	CHECK_INT(g->nprocs, 1);
	CHECK((p = find_proc(g, 100)) != NULL && p->mem_mib == 3000 &&
	    p->util_pm == UTIL_UNKNOWN);
	g = &t.gpus[1];
	CHECK_STR(g->uuid, "MIG-abcd");
	CHECK_STR(g->parent_uuid, "GPU-parent");
	CHECK_STR(g->name, "Inst");
	CHECK_INT(g->mem_used_mib, 12000);
	CHECK_INT(g->nprocs, 2);
	CHECK((p = find_proc(g, 101)) != NULL && p->util_pm == UTIL_UNKNOWN);
	g = &t.gpus[2];
	CHECK_STR(g->parent_uuid, "");
	CHECK_INT(g->util_pm, 700);
	CHECK((p = find_proc(g, 103)) != NULL && p->util_pm == 700);
	CHECK_INT(sample_later(n, &t), 0);
	CHECK_INT(t.ngpus, 3);
	CHECK_STR(logbuf, "GPU 0 (GPU-parent): in MIG mode: recording each MIG "
	    "instance as a GPU (NVML has no utilization for them: their state "
	    "is unknown)\n");
	/* No utilization is asked of a MIG instance or its GPU. */
	CHECK_INT(trace_count(path, "nvmlDeviceGetSamples 0 "), 0);
	CHECK_INT(trace_count(path, "nvmlDeviceGetUtilizationRates 0 "), 0);
	CHECK_INT(trace_count(path, "Utilization 0 "), 0);
	CHECK_INT(trace_count(path, "nvmlDeviceGetSamples 1 0"), 4);
	/* Lost: its instances are unknown. */
	CHECK_INT(sample_later(n, &t), 0);
	CHECK_INT(t.ngpus, 3);
	CHECK_STR(t.gpus[0].uuid, "MIG-01000000-fake-4000-8000-000000000001");
	CHECK_INT(t.gpus[0].mem_used_mib, MIB_UNKNOWN);
	CHECK_INT(t.gpus[0].procs_known, 0);
	CHECK_STR(t.gpus[1].uuid, "MIG-abcd");
	CHECK_INT(t.gpus[1].util_pm, UTIL_UNKNOWN);
	CHECK(strstr(logbuf, "GPU 0 (GPU-parent): every call: the GPU has fallen "
	    "off the bus") != NULL);
	nvml_close(n);
	unsetenv("FAKE_NVML_TRACE");
	unlink(path);
	tick_free(&t);
}

int
main(void)
{
	char tmpl[] = "/tmp/gua-test-nvml-XXXXXX";
	char path[512];

	if (getenv("FAKE_NVML") == NULL) {
		fprintf(stderr, "FAKE_NVML must name the fake NVML's directory "
		    "(make check sets it)\n");
		CHECK(!"FAKE_NVML set");
		HARNESS_DONE();
	}
	setenv("FAKE_NVML_CLOCK", "manual", 1);
	if (mkdtemp(tmpl) == NULL)
		return 1;
	snprintf(dir, sizeof(dir), "%s", tmpl);
	test_strings();
	test_load_errors();
	test_basic();
	test_energy();
	test_energy_gaps();
	test_entry_sizes();
	test_old_drivers();
	test_faults();
	test_samples();
	test_process_util();
	test_mig();
	snprintf(path, sizeof(path), "%s/scenario", dir);
	unlink(path);
	rmdir(dir);
	HARNESS_DONE();
}
