/*
 * Per-process utilization: putil.c's sums, then nvml.c against the fake
 * NVML on a manual clock (FAKE_NVML_CLOCK=manual), which plays hours of
 * a driver in no time and never depends on how loaded this machine is.
 * Every acceptance case runs under each of the three behaviours a driver
 * may show (an entry per sampling period, the latest period once per
 * read, the mean since the last read once per read) at the collector's
 * intervals of 200 ms to 5 min, polled as the collector polls: at most
 * every source_poll_ms, when nvml_poll says.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "classify.h"
#include "harness.h"
#include "nvml.h"
#include "putil.h"
#include "source.h"
#include "tick.h"
#include "util.h"

/* ---- putil.c alone ---- */

static void
test_sums(void)
{
	struct putil p;
	struct putil_entry e[8];

	/* One entry per read: time-weighted means of the reads. The first
	   read has no span: it is one point. */
	memset(&p, 0, sizeof(p));
	e[0] = (struct putil_entry){ 100, 7, 80 };
	CHECK_INT(putil_read(&p, 1000000, e, 1), 0);
	CHECK_INT(putil_result(&p, 7, 1000000, 0), 800);
	putil_next_tick(&p);
	e[0] = (struct putil_entry){ 200, 7, 80 };
	CHECK_INT(putil_read(&p, 2000000, e, 1), 0);	/* 1 s at 80 */
	CHECK_INT(putil_read(&p, 5000000, e, 0), 0);	/* 3 s at 0 */
	CHECK_INT(putil_result(&p, 7, 4000000, 0), 200);
	CHECK_INT(putil_result(&p, 8, 4000000, 0), 0);	/* never busy */
	CHECK_INT(p.per_period, 0);
	CHECK_INT(p.most_entries, 1);
	putil_next_tick(&p);

	/* Two entries of one process in a read: a sample per period, for
	   good; sum over the periods of the tick (the card's 10 here). */
	e[0] = (struct putil_entry){ 300, 7, 50 };
	e[1] = (struct putil_entry){ 400, 7, 50 };
	e[2] = (struct putil_entry){ 400, 9, 100 };
	CHECK_INT(putil_read(&p, 6000000, e, 3), 0);
	CHECK_INT(p.per_period, 1);
	CHECK_INT(p.most_entries, 2);
	CHECK_INT(putil_result(&p, 7, 1000000, 10), 100);
	CHECK_INT(putil_result(&p, 9, 1000000, 10), 100);
	putil_next_tick(&p);
	/* Without the card's count the spacing (100 µs) and the window
	   tell: 1000 µs is 10 periods. */
	e[0] = (struct putil_entry){ 500, 7, 100 };
	e[1] = (struct putil_entry){ 600, 7, 100 };
	CHECK_INT(putil_read(&p, 7000000, e, 2), 0);
	CHECK_INT(putil_result(&p, 7, 1000, 0), 200);
	putil_next_tick(&p);
	/* Nothing at all this tick: everyone idle. */
	CHECK_INT(putil_read(&p, 8000000, e, 0), 0);
	CHECK_INT(putil_result(&p, 7, 1000, 0), 0);
	putil_free(&p);

	/* Reads faster than the sampling period (1 s here): an empty read
	   soon after the newest entry tells nothing, its span goes with the
	   next read; one late enough is idle. */
	memset(&p, 0, sizeof(p));
	e[0] = (struct putil_entry){ 1000000, 7, 60 };
	CHECK_INT(putil_read(&p, 10000000, e, 1), 0);
	putil_next_tick(&p);
	e[0] = (struct putil_entry){ 2000000, 7, 60 };
	CHECK_INT(putil_read(&p, 11000000, e, 1), 0);	/* spacing: 1 s */
	CHECK_INT(putil_read(&p, 11300000, e, 0), 0);	/* too early */
	CHECK_INT(putil_read(&p, 11600000, e, 0), 0);	/* too early */
	e[0] = (struct putil_entry){ 3000000, 7, 60 };
	CHECK_INT(putil_read(&p, 12000000, e, 1), 0);	/* 1 s at 60 % */
	CHECK_INT(putil_result(&p, 7, 2000000, 0), 600);
	CHECK_INT(putil_read(&p, 12300000, e, 0), 0);	/* too early */
	/* A period after the newest entry the next may just not be
	   there yet (the driver's clock and latency): still too early. */
	CHECK_INT(putil_read(&p, 13000000, e, 0), 0);
	CHECK_INT(putil_result(&p, 7, 3000000, 0), 600);
	CHECK_INT(p.idle_reads, 0);		/* too early is not idle */
	CHECK_INT(putil_read(&p, 13600000, e, 0), 0);	/* 1.6 s idle */
	CHECK_INT(putil_result(&p, 7, 3600000, 0), 333);
	CHECK_INT(p.per_period, 0);
	/* Reads that find nobody busy are counted, for the reader to space
	   them out; work after them is a pause's end, not a period. */
	CHECK_INT(p.idle_reads, 1);
	CHECK_INT(putil_read(&p, 15000000, e, 0), 0);
	CHECK_INT(p.idle_reads, 2);
	putil_next_tick(&p);
	e[0] = (struct putil_entry){ 9000000, 7, 60 };
	CHECK_INT(putil_read(&p, 16000000, e, 1), 0);
	CHECK_INT(p.idle_reads, 0);
	CHECK_INT(p.spacing, 0);
	CHECK_INT(p.period_us, 1000000);
	e[0] = (struct putil_entry){ 10000000, 7, 60 };
	CHECK_INT(putil_read(&p, 17000000, e, 1), 0);
	CHECK_INT(p.spacing, 1000000);
	putil_free(&p);
}

/* ---- nvml.c and the fake, on a manual clock ---- */

static char dir[256];
static void (*set_clock)(long long);
static long long most_wait;	/* the longest nvml_poll said to wait, µs */

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

static const char *const modes[] = { "periods", "latest", "mean" };

enum { P_TRAIN, P_LIGHT, P_HOLDER, P_BURST, P_MINUTE, P_FLIP, P_ALONE,
    NPROC };
static const unsigned pids[NPROC] = { 101, 102, 103, 104, 105, 106, 107 };
/* GPU 0 holds the first six; GPU 1 only P_ALONE, nobody else busy. */
static const int gpu_of[NPROC] = { 0, 0, 0, 0, 0, 0, 1 };

/* What one run saw per process: ticks known, their sum, the extremes. */
struct seen {
	int	known, ticks;
	long	sum;		/* per mille */
	int	lo, hi;
};

static const struct tick_proc *
find_proc(const struct tick_gpu *g, unsigned pid)
{
	for (size_t i = 0; i < g->nprocs; i++)
		if (g->procs[i].pid == pid)
			return &g->procs[i];
	return NULL;
}

/* When the collector polls next after nvml_poll said wait at p. */
static long long
poll_after(long long p, long long wait, long long every, long long tick)
{
	if (wait > most_wait)
		most_wait = wait;
	return wait < 0 ? tick : p + (wait > every ? wait : every);
}

/*
 * Loads and starts the fake as the collector does, its clock at 1 s; the
 * clock is then the one of the library nvml_load opened. 0, or -1 with
 * err (or a NULL set_clock).
 */
static int
load_fake(struct nvml **n, char *err, size_t errlen)
{
	char path[512];
	void *h;

	snprintf(path, sizeof(path), "%s/libnvidia-ml.so.1",
	    getenv("FAKE_NVML"));
	set_clock(1000000);
	if (nvml_load(n, path, NULL, err, errlen) != 0 ||
	    nvml_init(*n, err, errlen) != 0)
		return -1;
	if ((h = dlopen(path, RTLD_NOW | RTLD_NOLOAD)) == NULL)
		return -1;
	set_clock = (void (*)(long long))dlsym(h, "fake_nvml_set_clock_us");
	dlclose(h);
	return set_clock != NULL ? 0 : -1;
}

/*
 * Plays the collector for total_us at interval_us: a sample at each tick
 * and nvml_poll between them when it asks, never sooner than the
 * collector's cadence (collector.c, next_poll). The first tick is left
 * out of what is seen (it stands for the time before gua).
 */
static int
play(const char *mode, long long interval_us, long long total_us,
    struct seen *seen)
{
	long long every = source_poll_ms(interval_us / 1000) * 1000;
	long long now = 1000000, start;
	struct nvml *n = NULL;
	struct tick t;
	char err[512], text[1024];
	int ok = 0;

	most_wait = -1;
	snprintf(text, sizeof(text),
	    "putil_mode %s\n"
	    "process_period_us 166667\n"	/* a sixth of a second */
	    "gpus 2\n"
	    "tick 0\n"
	    "util 0 90\n"
	    "proc 0 101 30000 sm=85\n"		/* a steady trainer */
	    "proc 0 102 8000 sm=20\n"		/* steady and light */
	    "proc 0 103 12288\n"		/* holds 12 GiB at 0 % */
	    "proc 0 104 8000 burst=200/400\n"	/* 200 ms bursts, 50 % */
	    "proc 0 105 8000 burst=5000/60000\n"	/* 5 s a minute */
	    "proc 0 106 8000 sm=100,0\n"	/* every other period */
	    "util 1 10\n"
	    "proc 1 107 8000 burst=5000/60000\n",	/* alone on its GPU */
	    mode);
	scenario(text);
	snprintf(text, sizeof(text), "%s/trace", dir);
	unlink(text);
	setenv("FAKE_NVML_TRACE", text, 1);
	memset(&t, 0, sizeof(t));
	memset(seen, 0, NPROC * sizeof(*seen));
	for (int i = 0; i < NPROC; i++)
		seen[i].lo = 1001;
	if (load_fake(&n, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		goto out;
	}
	nvml_set_interval(n, interval_us / 1000);
	for (start = now; now - start <= total_us; now += interval_us) {
		long long next = now + interval_us, p;

		set_clock(now);
		tick_reset(&t);
		if (nvml_sample(n, &t, now, err, sizeof(err)) != 0 ||
		    t.ngpus != 2)
			goto out;
		for (int i = 0; now > start && i < NPROC; i++) {
			const struct tick_proc *q = find_proc(
			    &t.gpus[gpu_of[i]], pids[i]);

			if (q == NULL)
				goto out;
			seen[i].ticks++;
			if (q->util_pm == UTIL_UNKNOWN)
				continue;
			seen[i].known++;
			seen[i].sum += q->util_pm;
			if (q->util_pm < seen[i].lo)
				seen[i].lo = q->util_pm;
			if (q->util_pm > seen[i].hi)
				seen[i].hi = q->util_pm;
		}
		/* Just after the tick: only when to poll, no read. */
		p = poll_after(now, nvml_poll(n, now, every), every, next);
		while (p < next) {
			set_clock(p);
			p = poll_after(p, nvml_poll(n, p, every), every, next);
		}
	}
	ok = 1;
out:
	nvml_close(n);
	tick_free(&t);
	return ok;
}

/* Per-process utilization reads of GPU 0 and 1 in the trace of the
   last play (at its ticks and between). */
static void
putil_reads(long long *r0, long long *r1)
{
	char path[512], line[256];
	FILE *f;

	*r0 = 0;
	*r1 = 0;
	snprintf(path, sizeof(path), "%s/trace", dir);
	if ((f = fopen(path, "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		int tick, gpu, rc;
		char call[128];

		if (sscanf(line, "%d %127s %d %d", &tick, call, &gpu, &rc) ==
		    4 && strcmp(call, "nvmlDeviceGetProcessesUtilizationInfo")
		    == 0)
			*(gpu == 0 ? r0 : r1) += 1;
	}
	fclose(f);
	unlink(path);
}

/* Mean utilization in percent over the ticks that knew it. */
static double
mean(const struct seen *s)
{
	return s->known ? s->sum / 10.0 / s->known : -1;
}

static void
test_behaviours(void)
{
	/* Below a second too: reads then come faster than the driver's
	   per-process samples (a sixth of a second here). */
	static const long long intervals[] = {
		200000, 500000, 1000000, 5000000, 30000000, 300000000
	};
	void *h;

	/* The symbol exists before any load: the library holds it. */
	setenv("FAKE_NVML_CLOCK", "manual", 1);
	{
		char path[512];

		snprintf(path, sizeof(path), "%s/libnvidia-ml.so.1",
		    getenv("FAKE_NVML"));
		h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
		CHECK(h != NULL);
		if (h == NULL)
			return;
		set_clock = (void (*)(long long))dlsym(h,
		    "fake_nvml_set_clock_us");
		CHECK(set_clock != NULL);
	}
	for (size_t m = 0; set_clock != NULL && m < ARRAY_LEN(modes); m++) {
		for (size_t k = 0; k < ARRAY_LEN(intervals); k++) {
			long long iv = intervals[k];
			struct seen s[NPROC];
			/* 40 minutes, and at least 8 ticks after the first. */
			long long total = iv * 8 > 2400000000LL ? iv * 8 :
			    2400000000LL;
			long long every = source_poll_ms(iv / 1000) * 1000;
			long long r0, r1;
			int ok = play(modes[m], iv, total, s);

			putil_reads(&r0, &r1);
			fprintf(stderr, "%-7s %6lldms: train %.1f%% [%d,%d] "
			    "light %.1f%% [%d,%d] holder %.1f%% burst %.1f%% "
			    "[%d,%d] minute %.1f%% (%d/%d ticks known) "
			    "flip %.1f%% [%d,%d] alone %.1f%%; reads %lld, "
			    "%lld; longest wait %lld ms\n",
			    modes[m], iv / 1000, mean(&s[P_TRAIN]),
			    s[P_TRAIN].lo, s[P_TRAIN].hi, mean(&s[P_LIGHT]),
			    s[P_LIGHT].lo, s[P_LIGHT].hi, mean(&s[P_HOLDER]),
			    mean(&s[P_BURST]), s[P_BURST].lo, s[P_BURST].hi,
			    mean(&s[P_MINUTE]), s[P_MINUTE].known,
			    s[P_MINUTE].ticks, mean(&s[P_FLIP]), s[P_FLIP].lo,
			    s[P_FLIP].hi, mean(&s[P_ALONE]), r0, r1,
			    most_wait / 1000);
			CHECK(ok);
			if (!ok)
				continue;
			/* Every tick known after the first. */
			for (int i = 0; i < NPROC; i++)
				CHECK_INT(s[i].known, s[i].ticks);
			/* Steady 85 % and 20 %: never idle-held. */
			CHECK(s[P_TRAIN].lo >= 800 && s[P_TRAIN].hi <= 900);
			CHECK(s[P_LIGHT].lo >= 150 && s[P_LIGHT].hi <= 250);
			/* The 0 % holder of 12 GiB: idle-held throughout. */
			CHECK_INT(s[P_HOLDER].hi, 0);
			/* Bursts of 200 ms at 50 % duty: 50 ± 5 % over the
			   session; at 30 s never idle-held, and each tick
			   50 ± 5 % but for the latest-period reading, where
			   a read is one point (README says how close). */
			CHECK_NEAR(mean(&s[P_BURST]), 50, 5);
			if (iv == 30000000) {
				CHECK(s[P_BURST].lo >= 100);
				if (strcmp(modes[m], "latest") != 0)
					CHECK(s[P_BURST].lo >= 450 &&
					    s[P_BURST].hi <= 550);
			}
			/* Busy the first 5 s of every minute: 8 ± 3 %, on a
			   GPU busy throughout and alone on one read once a
			   second after a second with nobody busy. */
			CHECK_NEAR(mean(&s[P_MINUTE]), 8, 3);
			CHECK_NEAR(mean(&s[P_ALONE]), 8, 3);
			/*
			 * 100 % and 0 % in turn, period after period: where
			 * the cadence reads every period (below 1.6 s), 50 %
			 * over the session, and where a tick holds six
			 * periods, 50 % within one at every tick. A cadence
			 * that skipped periods would read the same half again
			 * and again.
			 */
			if (every < 166667 && strcmp(modes[m], "periods") != 0)
				CHECK_NEAR(mean(&s[P_FLIP]), 50, 2);
			if (iv == 1000000)
				CHECK(s[P_FLIP].lo >= 400 &&
				    s[P_FLIP].hi <= 600);
			/* Entries per period wait in the driver's buffer: read
			   every 5 s. One entry per read: at the collector's
			   cadence while anyone is busy. */
			if (strcmp(modes[m], "periods") == 0)
				CHECK(most_wait >= 4000000 &&
				    most_wait <= 5000000);
			else
				CHECK(most_wait >= every &&
				    most_wait <= (every > 1000000 ? every :
				    1000000));
			/* Between ticks, the GPU nobody is busy on 55 s a
			   minute is read less often. */
			r0 -= total / iv + 1;
			r1 -= total / iv + 1;
			if (strcmp(modes[m], "periods") != 0 && every < 1000000)
				CHECK(r1 * 3 < r0 * 2);
		}
	}
	unsetenv("FAKE_NVML_TRACE");
	/* A GPU nobody held at the last tick is not read between ticks. */
	if (set_clock != NULL) {
		struct nvml *n = NULL;
		struct tick t;
		char err[512];

		scenario("putil_mode latest\ntick 0\nutil 0 0\n");
		memset(&t, 0, sizeof(t));
		if (load_fake(&n, err, sizeof(err)) == 0) {
			set_clock(2000000);
			CHECK_INT(nvml_sample(n, &t, 2000000, err, sizeof(err)),
			    0);
			set_clock(3000000);
			CHECK_INT(nvml_poll(n, 3000000, 100000), -1);
		} else {
			CHECK(!"load the fake");
		}
		nvml_close(n);
		tick_free(&t);
	}
	/* One held but nobody busy: read at the cadence (100 ms) for a
	   second after the newest entry (here the first read, at the
	   tick), once a second from then on; and at the cadence again
	   as soon as a read finds work. */
	if (set_clock != NULL) {
		struct nvml *n = NULL;
		struct tick t;
		char err[512];

		scenario("putil_mode latest\nprocess_period_us 100000\n"
		    "tick 0\nutil 0 0\nproc 0 201 8000\n"
		    "tick 1\nutil 0 0\nproc 0 201 8000\n"
		    "tick 2\nutil 0 50\nproc 0 201 8000 sm=50\n");
		memset(&t, 0, sizeof(t));
		if (load_fake(&n, err, sizeof(err)) == 0) {
			long long p = 2000000, w;

			set_clock(p);
			CHECK_INT(nvml_sample(n, &t, p, err, sizeof(err)), 0);
			/* Just after the tick: when, no read. */
			CHECK_INT(nvml_poll(n, p, 100000), 100000);
			for (p += 100000; p < 3000000; p += w) {
				set_clock(p);
				w = nvml_poll(n, p, 100000);
				CHECK_INT(w, 100000);
			}
			set_clock(p);
			CHECK_INT(nvml_poll(n, p, 100000), 900000);
			p += 900000;
			set_clock(p);
			CHECK_INT(nvml_poll(n, p, 100000), 1000000);
			/* Tick 1 at 4 s, work from tick 2 (5 s) on: the first
			   read after it brings the cadence back. */
			p = 4000000;
			set_clock(p);
			tick_reset(&t);
			CHECK_INT(nvml_sample(n, &t, p, err, sizeof(err)), 0);
			CHECK_INT(nvml_poll(n, p, 100000), 1000000);
			p = 5000000;
			set_clock(p);
			tick_reset(&t);
			CHECK_INT(nvml_sample(n, &t, p, err, sizeof(err)), 0);
			set_clock(p + 200000);
			CHECK_INT(nvml_poll(n, p + 200000, 100000), 100000);
		} else {
			CHECK(!"load the fake");
		}
		nvml_close(n);
		tick_free(&t);
	}
	dlclose(h);
	unsetenv("FAKE_NVML_CLOCK");
}

int
main(void)
{
	char tmpl[] = "/tmp/gua-test-putil-XXXXXX";
	char path[512];

	test_sums();
	if (getenv("FAKE_NVML") == NULL) {
		fprintf(stderr, "FAKE_NVML must name the fake NVML's directory "
		    "(make check sets it)\n");
		CHECK(!"FAKE_NVML set");
		HARNESS_DONE();
	}
	if (mkdtemp(tmpl) == NULL)
		return 1;
	snprintf(dir, sizeof(dir), "%s", tmpl);
	test_behaviours();
	snprintf(path, sizeof(path), "%s/scenario", dir);
	unlink(path);
	rmdir(dir);
	HARNESS_DONE();
}
