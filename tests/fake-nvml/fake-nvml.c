/*
 * A fake libnvidia-ml.so.1 for tests: exports the NVML symbols gua uses,
 * with NVML's layouts and return codes, and plays the scenario file named
 * by FAKE_NVML_SCENARIO (format: README.md beside this file). gua's real
 * NVML code runs against it.
 *
 * Variants, built from this one file:
 *   (default)      a current driver: every symbol, 24-byte _v3 entries
 *   -DFAKE_NO_V3   no _v3 process calls (drivers before 510, and 535.98)
 *   -DFAKE_R535    the symbol set of 535.43-535.86: no
 *                  nvmlDeviceGetRunningProcessDetailList
 *   -DFAKE_OLD     only the unversioned legacy calls: nvmlInit,
 *                  nvmlDeviceGetCount, ..., 16-byte process entries, v1
 *                  memory, no MPS list, no sample or MIG calls
 * nvmlDeviceGetProcessesUtilizationInfo (550 and later) is only in the
 * default variant.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef FAKE_OLD
#define FAKE_NO_V3
#endif

/* ---- NVML's declarations (NVIDIA's names and layouts) ---- */

typedef int nvmlReturn_t;
struct nvmlDevice_st {
	int	index;		/* the GPU (a MIG instance's parent) */
	int	mig;		/* a MIG instance's slot; -1 the GPU itself */
};
typedef struct nvmlDevice_st *nvmlDevice_t;

typedef struct {
	unsigned int gpu, memory;
} nvmlUtilization_t;
typedef struct {
	unsigned long long total, free, used;
} nvmlMemory_t;
typedef struct {
	unsigned int version;
	unsigned long long total, reserved, free, used;
} nvmlMemory_v2_t;

typedef union {
	double dVal;
	int siVal;
	unsigned int uiVal;
	unsigned long ulVal;
	unsigned long long ullVal;
	signed long long sllVal;
	unsigned short usVal;
} nvmlValue_t;
typedef struct {
	unsigned long long timeStamp;
	nvmlValue_t sampleValue;
} nvmlSample_t;
typedef struct {
	unsigned int pid;
	unsigned long long timeStamp;
	unsigned int smUtil, memUtil, encUtil, decUtil;
} nvmlProcessUtilizationSample_t;
typedef struct {
	unsigned long long timeStamp;
	unsigned int pid, smUtil, memUtil, encUtil, decUtil, jpgUtil, ofaUtil;
} nvmlProcessUtilizationInfo_v1_t;
typedef struct {
	unsigned int version;
	unsigned int processSamplesCount;
	unsigned long long lastSeenTimeStamp;
	nvmlProcessUtilizationInfo_v1_t *procUtilArray;
} nvmlProcessesUtilizationInfo_v1_t;

_Static_assert(sizeof(nvmlSample_t) == 16, "nvmlSample_t");
_Static_assert(sizeof(nvmlProcessUtilizationSample_t) == 32,
    "nvmlProcessUtilizationSample_t");
_Static_assert(sizeof(nvmlProcessUtilizationInfo_v1_t) == 40,
    "nvmlProcessUtilizationInfo_v1_t");
_Static_assert(sizeof(nvmlProcessesUtilizationInfo_v1_t) == 24,
    "nvmlProcessesUtilizationInfo_v1_t");

#define NVML_SUCCESS			0
#define NVML_ERROR_UNINITIALIZED	1
#define NVML_ERROR_INVALID_ARGUMENT	2
#define NVML_ERROR_NOT_SUPPORTED	3
#define NVML_ERROR_NOT_FOUND		6
#define NVML_ERROR_INSUFFICIENT_SIZE	7
#define NVML_ERROR_FUNCTION_NOT_FOUND	13
#define NVML_ERROR_GPU_IS_LOST		15
#define NVML_ERROR_ARGUMENT_VERSION_MISMATCH 25
#define NVML_ERROR_UNKNOWN		999
#define NVML_MEMORY_V2			0x02000028U
#define NVML_PROCESSES_UTILIZATION_INFO_V1 0x01000018U
#define NVML_GPU_UTILIZATION_SAMPLES	1
#define NVML_VALUE_TYPE_UNSIGNED_INT	1

/* Prototypes of what the library exports. */
nvmlReturn_t nvmlInit(void);
nvmlReturn_t nvmlInit_v2(void);
nvmlReturn_t nvmlInitWithFlags(unsigned int);
nvmlReturn_t nvmlShutdown(void);
const char *nvmlErrorString(nvmlReturn_t);
nvmlReturn_t nvmlSystemGetDriverVersion(char *, unsigned int);
nvmlReturn_t nvmlDeviceGetCount(unsigned int *);
nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *);
nvmlReturn_t nvmlDeviceGetHandleByIndex(unsigned int, nvmlDevice_t *);
nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int, nvmlDevice_t *);
nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t, char *, unsigned int);
nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t, char *, unsigned int);
nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t, nvmlMemory_t *);
nvmlReturn_t nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t, nvmlMemory_v2_t *);
nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t, nvmlUtilization_t *);
nvmlReturn_t nvmlDeviceGetTotalEnergyConsumption(nvmlDevice_t,
    unsigned long long *);
nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t, unsigned int *);
nvmlReturn_t nvmlDeviceGetComputeRunningProcesses(nvmlDevice_t,
    unsigned int *, void *);
nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v2(nvmlDevice_t,
    unsigned int *, void *);
nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t,
    unsigned int *, void *);
nvmlReturn_t nvmlDeviceGetGraphicsRunningProcesses(nvmlDevice_t,
    unsigned int *, void *);
nvmlReturn_t nvmlDeviceGetGraphicsRunningProcesses_v2(nvmlDevice_t,
    unsigned int *, void *);
nvmlReturn_t nvmlDeviceGetGraphicsRunningProcesses_v3(nvmlDevice_t,
    unsigned int *, void *);
nvmlReturn_t nvmlDeviceGetMPSComputeRunningProcesses_v2(nvmlDevice_t,
    unsigned int *, void *);
nvmlReturn_t nvmlDeviceGetMPSComputeRunningProcesses_v3(nvmlDevice_t,
    unsigned int *, void *);
nvmlReturn_t nvmlDeviceGetConfComputeMemSizeInfo(nvmlDevice_t, void *);
nvmlReturn_t nvmlDeviceGetRunningProcessDetailList(nvmlDevice_t, void *);
nvmlReturn_t nvmlDeviceGetSamples(nvmlDevice_t, int, unsigned long long,
    int *, unsigned int *, nvmlSample_t *);
nvmlReturn_t nvmlDeviceGetProcessUtilization(nvmlDevice_t,
    nvmlProcessUtilizationSample_t *, unsigned int *, unsigned long long);
nvmlReturn_t nvmlDeviceGetProcessesUtilizationInfo(nvmlDevice_t,
    nvmlProcessesUtilizationInfo_v1_t *);
nvmlReturn_t nvmlDeviceGetMigMode(nvmlDevice_t, unsigned int *,
    unsigned int *);
nvmlReturn_t nvmlDeviceGetMaxMigDeviceCount(nvmlDevice_t, unsigned int *);
nvmlReturn_t nvmlDeviceGetMigDeviceHandleByIndex(nvmlDevice_t, unsigned int,
    nvmlDevice_t *);

/* ---- the scenario ---- */

#define MAX_GPUS	64
#define MAX_PROCS	4096	/* per GPU per tick, allocated as needed */
#define MAX_RUNS	16	/* runs of one value in a series */
#define MAX_SERIES	4000	/* sample periods in one series */
#define MAX_FAULTS	32
#define MAX_TICKS	100000
#define MAX_MIG		7	/* MIG slots of a GPU, as on an A100 */
#define DEFAULT_SAMPLES	10	/* periods of a tick given only by `util` */

enum call {
	CALL_HANDLE, CALL_UUID, CALL_NAME, CALL_UTIL, CALL_MEMORY,
	CALL_COMPUTE, CALL_GRAPHICS, CALL_MPS, CALL_SAMPLES, CALL_PUTIL,
	CALL_PUTIL_INFO, CALL_MIG, CALL_DEVCOUNT, CALL_ENERGY, CALL_POWER,
	CALL_COUNT_
};
static const char *const call_names[CALL_COUNT_] = {
	"handle", "uuid", "name", "util", "memory", "compute", "graphics",
	"mps", "samples", "putil", "putil_info", "mig", "count", "energy",
	"power",
};
#define LIST_BIT(c)	(1u << ((c) - CALL_COMPUTE))
#define IS_LIST(c)	((c) >= CALL_COMPUTE && (c) <= CALL_MPS)

/* Values over a tick's sample periods, as runs: "100*6 0*24". */
struct series {
	unsigned char	val[MAX_RUNS];	/* percent */
	unsigned short	len[MAX_RUNS];	/* periods; 0: every period of the
					   GPU's series (a lone "sm=PCT") */
	int		nruns;
	int		total;		/* periods, 0 when none */
};

struct fake_proc {
	unsigned	pid;
	long long	mib;		/* -1: NVML_VALUE_NOT_AVAILABLE */
	struct series	sm;		/* SM util per period; nruns 0: none */
	long long	burst_on_us;	/* timeline: busy this long ... */
	long long	burst_cycle_us;	/* ... at the start of each cycle;
					   0: no burst pattern */
	unsigned	lists;		/* LIST_BIT()s */
	int		mig;		/* MIG slot it runs in, -1 none */
};

struct fake_fault {
	int		gpu;		/* -1: every GPU */
	enum call	call;		/* CALL_COUNT_: every process list */
	int		code;
};

struct fake_tick {
	int		 defined;	/* a "tick" line started it */
	int		 util[MAX_GPUS];
	long long	 mem[MAX_GPUS];	/* -1: sum of the processes */
	struct series	 samples[MAX_GPUS]; /* utilization per period */
	int		 has_samples[MAX_GPUS]; /* a `samples` line gave them */
	int		 cover[MAX_GPUS]; /* percent of the tick they cover */
	int		 junk[MAX_GPUS]; /* add junk process samples */
	long long	 energy[MAX_GPUS]; /* the total-energy counter, mJ;
					   -1: NOT_SUPPORTED; -2: success
					   with NVML_VALUE_NOT_AVAILABLE */
	long long	 power[MAX_GPUS]; /* power usage, mW; -1:
					   NOT_SUPPORTED */
	struct fake_proc *procs[MAX_GPUS];	/* nprocs of procs_cap */
	int		 nprocs[MAX_GPUS];
	int		 procs_cap[MAX_GPUS];
	struct fake_fault faults[MAX_FAULTS];
	int		 nfaults;
};

/* A MIG instance in a slot of its GPU. */
struct fake_mig {
	int		defined;
	char		uuid[96];
	char		name[96];
	long long	total_mib;
};

struct fake_gpu {
	char		uuid[96];
	char		name[96];
	long long	total_mib;
	long long	reserved_mib;
	int		lost_at;	/* tick from which it is lost, -1 never */
	int		mig_mode;	/* in MIG mode: its instances below */
	struct fake_mig	mig[MAX_MIG];
};

/* A sample as the fake generates it, before NVML's layout. */
struct gen {
	unsigned long long ts;
	unsigned	pid;
	unsigned	value;
	/* one entry per read (latest, mean): its periods so far */
	unsigned long long sum;
	int		busy;
};

/* What one read of per-process utilization returns (README.md). */
enum putil_mode {
	PUTIL_PERIODS,		/* an entry per busy sampling period */
	PUTIL_LATEST,		/* once per read: the latest period's value */
	PUTIL_MEAN,		/* once per read: the mean since lastSeen */
};

struct fake {
	char		 driver[80];
	int		 init_error;
	int		 ngpus;
	int		 v3_entry;
	int		 insufficient;	/* buffer calls still to refuse */
	int		 size_query_insufficient; /* GetSamples(NULL) answers
					   INSUFFICIENT_SIZE, not SUCCESS */
	struct fake_gpu	 gpus[MAX_GPUS];
	struct fake_fault faults[MAX_FAULTS];	/* every tick */
	int		 nfaults;
	struct fake_tick *ticks;		/* last_tick + 1 of them */
	int		 last_tick;		/* highest defined */
	int		 loop;		/* after the last tick, play again */
	enum putil_mode	 putil_mode;
	/* the timeline: sampling periods of this length from t_origin,
	   played as real time passes; 0: samples laid over tick windows */
	long long	 period_us;
	long long	 t_origin;
	int		 started;	/* tick 0 was sampled */
	/* the clock */
	int		 now;		/* scenario tick being played */
	int		 sampled;	/* a sampling call since the last advance */
	int		 refs;		/* nvmlInit count */
	/* monotonic µs when the tick before the previous, the previous and
	   the current tick began: tick k's samples lie in (begin of k-1,
	   begin of k] */
	long long	 t_pp, t_prev, t_cur;
	long long	 epoch_off;	/* realtime - monotonic, µs */
	struct gen	*gen;		/* samples of the call being answered */
	size_t		 ngen, gen_cap;
	long		*slot;		/* timeline: a process's entry in gen */
	int		 slot_cap;
	FILE		*trace;
};

static struct fake *F;
static struct nvmlDevice_st handles[MAX_GPUS];
static struct nvmlDevice_st mig_handles[MAX_GPUS][MAX_MIG];

/* FAKE_NVML_CLOCK=manual: the clock stands still but for
   fake_nvml_set_clock_us(), so a test plays hours in no time. */
static int vclock_on = -1;
static long long vclock_us = 1000000;

void fake_nvml_set_clock_us(long long);

void
fake_nvml_set_clock_us(long long us)
{
	vclock_us = us;
}

static long long
clock_us(clockid_t id)
{
	struct timespec ts;

	if (vclock_on < 0) {
		const char *c = getenv("FAKE_NVML_CLOCK");

		vclock_on = c != NULL && strcmp(c, "manual") == 0;
	}
	if (vclock_on)
		return id == CLOCK_REALTIME ? 1700000000000000LL + vclock_us :
		    vclock_us;
	clock_gettime(id, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
trace(const char *call, int gpu, nvmlReturn_t rc)
{
	if (F != NULL && F->trace != NULL)
		fprintf(F->trace, "%d %s %d %d\n", F->now, call, gpu, rc);
}

static void
complain(const char *path, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fake-nvml: %s:%d: ", path, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static const struct {
	const char	*name;
	int		 code;
} codes[] = {
	{ "SUCCESS", 0 }, { "UNINITIALIZED", 1 }, { "INVALID_ARGUMENT", 2 },
	{ "NOT_SUPPORTED", 3 }, { "NO_PERMISSION", 4 }, { "NOT_FOUND", 6 },
	{ "INSUFFICIENT_SIZE", 7 }, { "DRIVER_NOT_LOADED", 9 },
	{ "TIMEOUT", 10 }, { "FUNCTION_NOT_FOUND", 13 },
	{ "GPU_IS_LOST", 15 }, { "RESET_REQUIRED", 16 },
	{ "OPERATING_SYSTEM", 17 }, { "LIB_RM_VERSION_MISMATCH", 18 },
	{ "ARGUMENT_VERSION_MISMATCH", 25 }, { "GPU_NOT_FOUND", 28 },
	{ "UNKNOWN", 999 },
};

static int
parse_int(const char *s, long long min, long long max, long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int
parse_code(const char *s, int *code)
{
	long long v;

	if (strncmp(s, "NVML_ERROR_", 11) == 0)
		s += 11;
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		if (strcmp(s, codes[i].name) == 0) {
			*code = codes[i].code;
			return 0;
		}
	}
	if (parse_int(s, 0, 100000, &v) != 0)
		return -1;
	*code = (int)v;
	return 0;
}

static int
parse_fault(char **tok, int ntok, struct fake_fault *f)
{
	long long gpu;
	int c;

	if (ntok != 4)
		return -1;
	if (strcmp(tok[1], "*") == 0)
		gpu = -1;
	else if (parse_int(tok[1], 0, MAX_GPUS - 1, &gpu) != 0)
		return -1;
	for (c = 0; c < CALL_COUNT_; c++)
		if (strcmp(tok[2], call_names[c]) == 0)
			break;
	if (c == CALL_COUNT_ && strcmp(tok[2], "procs") != 0)
		return -1;
	f->gpu = (int)gpu;
	f->call = (enum call)c;		/* CALL_COUNT_: every process list */
	return parse_code(tok[3], &f->code);
}

/* "PCT" or "PCT*N" appended to s as a run; 0 or -1. */
static int
parse_run(const char *w, struct series *s, int lone_ok)
{
	char buf[32], *star;
	long long v, n = 0;

	if (strlen(w) >= sizeof(buf) || s->nruns == MAX_RUNS)
		return -1;
	snprintf(buf, sizeof(buf), "%s", w);
	if ((star = strchr(buf, '*')) != NULL) {
		*star = '\0';
		if (parse_int(star + 1, 1, MAX_SERIES, &n) != 0)
			return -1;
	} else if (!lone_ok) {
		n = 1;
	}
	if (parse_int(buf, 0, 100, &v) != 0 || s->total + n > MAX_SERIES)
		return -1;
	s->val[s->nruns] = (unsigned char)v;
	s->len[s->nruns] = (unsigned short)n;
	s->nruns++;
	s->total += (int)n;
	return 0;
}

/* "key=value" among tok[from..]; NULL when absent. */
static const char *
option(char **tok, int ntok, int from, const char *key)
{
	size_t klen = strlen(key);

	for (int i = from; i < ntok; i++)
		if (strncmp(tok[i], key, klen) == 0 && tok[i][klen] == '=')
			return tok[i] + klen + 1;
	return NULL;
}

static int
parse_proc(char **tok, int ntok, struct fake_tick *t)
{
	long long gpu, pid, mib, slot;
	struct fake_proc *p;
	const char *v;

	if (ntok < 4 || parse_int(tok[1], 0, MAX_GPUS - 1, &gpu) != 0 ||
	    parse_int(tok[2], 0, 0xffffffffLL, &pid) != 0)
		return -1;
	if (strcmp(tok[3], "na") == 0)
		mib = -1;
	else if (parse_int(tok[3], 0, 1LL << 40, &mib) != 0)
		return -1;
	if (t->nprocs[gpu] == MAX_PROCS)
		return -1;
	if (t->nprocs[gpu] == t->procs_cap[gpu]) {
		int ncap = t->procs_cap[gpu] ? t->procs_cap[gpu] * 2 : 8;
		struct fake_proc *np = realloc(t->procs[gpu],
		    (size_t)ncap * sizeof(*np));

		if (np == NULL)
			return -1;
		t->procs[gpu] = np;
		t->procs_cap[gpu] = ncap;
	}
	p = &t->procs[gpu][t->nprocs[gpu]++];
	memset(p, 0, sizeof(*p));
	p->pid = (unsigned)pid;
	p->mib = mib;
	p->mig = -1;
	p->lists = LIST_BIT(CALL_COMPUTE);
	if ((v = option(tok, ntok, 4, "sm")) != NULL) {
		char buf[256], *s, *save = NULL;

		/* "90": every period; "100*6,0*24": period by period. */
		snprintf(buf, sizeof(buf), "%s", v);
		if (strchr(buf, ',') == NULL && strchr(buf, '*') == NULL) {
			if (parse_run(buf, &p->sm, 1) != 0)
				return -1;
		} else {
			for (s = strtok_r(buf, ",", &save); s != NULL;
			    s = strtok_r(NULL, ",", &save))
				if (parse_run(s, &p->sm, 0) != 0)
					return -1;
		}
	}
	if ((v = option(tok, ntok, 4, "burst")) != NULL) {
		long long on, cycle;
		char buf[64], *slash;

		/* "200/400": busy 200 ms at the start of every 400 ms. */
		snprintf(buf, sizeof(buf), "%s", v);
		if ((slash = strchr(buf, '/')) == NULL)
			return -1;
		*slash = '\0';
		if (parse_int(buf, 1, 86400000, &on) != 0 ||
		    parse_int(slash + 1, on, 86400000, &cycle) != 0)
			return -1;
		p->burst_on_us = on * 1000;
		p->burst_cycle_us = cycle * 1000;
	}
	if ((v = option(tok, ntok, 4, "mig")) != NULL) {
		if (parse_int(v, 0, MAX_MIG - 1, &slot) != 0)
			return -1;
		p->mig = (int)slot;
	}
	if ((v = option(tok, ntok, 4, "lists")) != NULL) {
		char buf[64], *s, *save = NULL;

		snprintf(buf, sizeof(buf), "%s", v);
		p->lists = 0;
		for (s = strtok_r(buf, ",", &save); s != NULL;
		    s = strtok_r(NULL, ",", &save)) {
			if (strcmp(s, "compute") == 0)
				p->lists |= LIST_BIT(CALL_COMPUTE);
			else if (strcmp(s, "graphics") == 0)
				p->lists |= LIST_BIT(CALL_GRAPHICS);
			else if (strcmp(s, "mps") == 0)
				p->lists |= LIST_BIT(CALL_MPS);
			else
				return -1;
		}
	}
	return 0;
}

/* "samples I V... [cover=PCT]" into tick t. */
static int
parse_samples(char **tok, int ntok, struct fake_tick *t)
{
	long long gpu, cover = 100;
	struct series *s;

	if (parse_int(tok[1], 0, MAX_GPUS - 1, &gpu) != 0)
		return -1;
	s = &t->samples[gpu];
	memset(s, 0, sizeof(*s));
	for (int i = 2; i < ntok; i++) {
		if (strncmp(tok[i], "cover=", 6) == 0) {
			if (parse_int(tok[i] + 6, 1, 100, &cover) != 0)
				return -1;
		} else if (parse_run(tok[i], s, 0) != 0) {
			return -1;
		}
	}
	t->has_samples[gpu] = 1;
	t->cover[gpu] = (int)cover;
	return 0;
}

/* "mig I SLOT [uuid=S] [name=S] [total=MIB]": an instance of GPU I. */
static int
parse_mig(char **tok, int ntok)
{
	long long gpu, slot;
	struct fake_mig *m;
	const char *o;

	if (ntok < 3 || parse_int(tok[1], 0, MAX_GPUS - 1, &gpu) != 0 ||
	    parse_int(tok[2], 0, MAX_MIG - 1, &slot) != 0)
		return -1;
	m = &F->gpus[gpu].mig[slot];
	F->gpus[gpu].mig_mode = 1;
	m->defined = 1;
	snprintf(m->uuid, sizeof(m->uuid),
	    "MIG-%x%x000000-fake-4000-8000-%012lld", (unsigned)gpu & 0xf,
	    (unsigned)slot, gpu * 10 + slot);
	snprintf(m->name, sizeof(m->name), "Fake GPU MIG 1g.10gb");
	m->total_mib = 9984;
	if ((o = option(tok, ntok, 3, "uuid")) != NULL)
		snprintf(m->uuid, sizeof(m->uuid), "%s", o);
	if ((o = option(tok, ntok, 3, "name")) != NULL)
		snprintf(m->name, sizeof(m->name), "%s", o);
	if ((o = option(tok, ntok, 3, "total")) != NULL &&
	    parse_int(o, 1, 1LL << 30, &m->total_mib) != 0)
		return -1;
	return 0;
}

static void
default_gpu(int i)
{
	struct fake_gpu *g = &F->gpus[i];

	snprintf(g->uuid, sizeof(g->uuid),
	    "GPU-00000000-fake-4000-8000-%012d", i);
	snprintf(g->name, sizeof(g->name), "Fake GPU");
	g->total_mib = 81920;
	g->reserved_mib = 512;
	g->lost_at = -1;
}

/* Makes room for ticks 0..k, the new ones empty. */
static int
grow_ticks(int k)
{
	struct fake_tick *nt;

	if (F->ticks != NULL && k <= F->last_tick)
		return 0;
	nt = realloc(F->ticks, (size_t)(k + 1) * sizeof(*nt));
	if (nt == NULL)
		return -1;
	for (int i = F->ticks == NULL ? 0 : F->last_tick + 1; i <= k; i++) {
		memset(&nt[i], 0, sizeof(nt[i]));
		for (int g = 0; g < MAX_GPUS; g++) {
			nt[i].mem[g] = -1;
			nt[i].cover[g] = 100;
			nt[i].energy[g] = -1;
			nt[i].power[g] = -1;
		}
	}
	F->ticks = nt;
	F->last_tick = k;
	F->ticks[0].defined = 1;
	return 0;
}

/* Reads the scenario; 0, or -1 after complaining on stderr. */
static int
load(const char *path)
{
	struct fake_tick *cur = NULL;
	char line[4096], *tok[80];
	int lineno = 0, last = -1;
	long long v, w;
	FILE *f;

	if (grow_ticks(0) != 0)
		return -1;
	snprintf(F->driver, sizeof(F->driver), "560.35.03");
	F->ngpus = 1;
	F->v3_entry = 24;
	for (int i = 0; i < MAX_GPUS; i++)
		default_gpu(i);
	if (path == NULL || path[0] == '\0')
		return 0;
	if ((f = fopen(path, "re")) == NULL) {
		complain(path, 0, "%s", strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		int ntok = 0;
		char *s = line, *save = NULL;

		lineno++;
		if ((s = strchr(line, '#')) != NULL)
			*s = '\0';
		for (s = strtok_r(line, " \t\r\n", &save); s != NULL &&
		    ntok < 80; s = strtok_r(NULL, " \t\r\n", &save))
			tok[ntok++] = s;
		if (ntok == 0)
			continue;
#define BAD() do { complain(path, lineno, "cannot read '%s'", tok[0]); \
		fclose(f); return -1; } while (0)
		if (strcmp(tok[0], "tick") == 0) {
			if (ntok != 2 || parse_int(tok[1], last + 1,
			    MAX_TICKS - 1, &v) != 0)
				BAD();
			last = (int)v;
			if (grow_ticks(last) != 0)
				BAD();
			cur = &F->ticks[last];
			cur->defined = 1;
		} else if (strcmp(tok[0], "loop") == 0 && ntok == 1) {
			F->loop = 1;
		} else if (strcmp(tok[0], "putil_mode") == 0 && ntok == 2) {
			if (strcmp(tok[1], "periods") == 0)
				F->putil_mode = PUTIL_PERIODS;
			else if (strcmp(tok[1], "latest") == 0)
				F->putil_mode = PUTIL_LATEST;
			else if (strcmp(tok[1], "mean") == 0)
				F->putil_mode = PUTIL_MEAN;
			else
				BAD();
			/* One entry per read only makes sense as time
			   passes: the timeline, 100 ms periods unless told. */
			if (F->putil_mode != PUTIL_PERIODS && F->period_us == 0)
				F->period_us = 100000;
		} else if (strcmp(tok[0], "process_period_us") == 0 &&
		    ntok == 2) {
			if (parse_int(tok[1], 1000, 10000000, &v) != 0)
				BAD();
			F->period_us = v;
		} else if (strcmp(tok[0], "driver") == 0 && ntok == 2) {
			snprintf(F->driver, sizeof(F->driver), "%s", tok[1]);
		} else if (strcmp(tok[0], "init_error") == 0 && ntok == 2) {
			if (parse_code(tok[1], &F->init_error) != 0)
				BAD();
		} else if (strcmp(tok[0], "gpus") == 0 && ntok == 2) {
			if (parse_int(tok[1], 0, MAX_GPUS, &v) != 0)
				BAD();
			F->ngpus = (int)v;
		} else if (strcmp(tok[0], "v3_entry_bytes") == 0 && ntok == 2) {
			if (parse_int(tok[1], 24, 32, &v) != 0 ||
			    (v != 24 && v != 32))
				BAD();
			F->v3_entry = (int)v;
		} else if (strcmp(tok[0], "insufficient_size") == 0 &&
		    ntok == 2) {
			if (parse_int(tok[1], 0, 1000000, &v) != 0)
				BAD();
			F->insufficient = (int)v;
		} else if (strcmp(tok[0], "samples_size_query") == 0 &&
		    ntok == 2) {
			if (strcmp(tok[1], "insufficient_size") == 0)
				F->size_query_insufficient = 1;
			else if (strcmp(tok[1], "success") == 0)
				F->size_query_insufficient = 0;
			else
				BAD();
		} else if (strcmp(tok[0], "lost") == 0 && ntok == 3) {
			if (parse_int(tok[1], 0, MAX_GPUS - 1, &v) != 0 ||
			    parse_int(tok[2], 0, MAX_TICKS, &w) != 0)
				BAD();
			F->gpus[v].lost_at = (int)w;
		} else if (strcmp(tok[0], "gpu") == 0 && ntok >= 2) {
			const char *o;

			if (parse_int(tok[1], 0, MAX_GPUS - 1, &v) != 0)
				BAD();
			if ((o = option(tok, ntok, 2, "uuid")) != NULL)
				snprintf(F->gpus[v].uuid, 96, "%s", o);
			if ((o = option(tok, ntok, 2, "name")) != NULL)
				snprintf(F->gpus[v].name, 96, "%s", o);
			if ((o = option(tok, ntok, 2, "total")) != NULL &&
			    parse_int(o, 1, 1LL << 30, &F->gpus[v].total_mib))
				BAD();
			if ((o = option(tok, ntok, 2, "reserved")) != NULL &&
			    parse_int(o, 0, 1LL << 30,
			    &F->gpus[v].reserved_mib))
				BAD();
		} else if (strcmp(tok[0], "mig") == 0) {
			if (parse_mig(tok, ntok) != 0)
				BAD();
		} else if (strcmp(tok[0], "fault") == 0) {
			struct fake_fault *fl = cur ? cur->faults : F->faults;
			int *nf = cur ? &cur->nfaults : &F->nfaults;

			if (*nf == MAX_FAULTS || parse_fault(tok, ntok,
			    &fl[*nf]) != 0)
				BAD();
			(*nf)++;
		} else if (cur == NULL) {
			BAD();	/* the rest belongs in a tick */
		} else if (strcmp(tok[0], "util") == 0 && ntok == 3) {
			if (parse_int(tok[1], 0, MAX_GPUS - 1, &v) != 0 ||
			    parse_int(tok[2], 0, 100, &w) != 0)
				BAD();
			cur->util[v] = (int)w;
		} else if (strcmp(tok[0], "mem") == 0 && ntok == 3) {
			if (parse_int(tok[1], 0, MAX_GPUS - 1, &v) != 0 ||
			    parse_int(tok[2], 0, 1LL << 30, &w) != 0)
				BAD();
			cur->mem[v] = w;
		} else if (strcmp(tok[0], "energy") == 0 && ntok == 3) {
			if (parse_int(tok[1], 0, MAX_GPUS - 1, &v) != 0)
				BAD();
			if (strcmp(tok[2], "na") == 0)
				w = -2;
			else if (parse_int(tok[2], 0, LLONG_MAX, &w) != 0)
				BAD();
			cur->energy[v] = w;
		} else if (strcmp(tok[0], "power") == 0 && ntok == 3) {
			if (parse_int(tok[1], 0, MAX_GPUS - 1, &v) != 0 ||
			    parse_int(tok[2], 0, 100000, &w) != 0)
				BAD();
			cur->power[v] = w * 1000;
		} else if (strcmp(tok[0], "samples") == 0 && ntok >= 2) {
			if (parse_samples(tok, ntok, cur) != 0)
				BAD();
		} else if (strcmp(tok[0], "putil_junk") == 0 && ntok == 2) {
			if (parse_int(tok[1], 0, MAX_GPUS - 1, &v) != 0)
				BAD();
			cur->junk[v] = 1;
		} else if (strcmp(tok[0], "proc") == 0) {
			if (parse_proc(tok, ntok, cur) != 0)
				BAD();
		} else {
			BAD();
		}
#undef BAD
	}
	fclose(f);
	return 0;
}

/* The tick block in force at tick k: the last one defined at or before. */
static struct fake_tick *
block_at(int k)
{
	if (F->loop)
		k %= F->last_tick + 1;
	else if (k > F->last_tick)
		k = F->last_tick;
	while (k > 0 && !F->ticks[k].defined)
		k--;
	return &F->ticks[k];
}

/* The tick block in force now. */
static struct fake_tick *
now_tick(void)
{
	return block_at(F->now);
}

/* Does a fault on call fc hit call c? "util" covers both utilization
   calls, "putil" both process-utilization calls, "procs" every list. */
static int
fault_hits(enum call fc, enum call c)
{
	return fc == c || (fc == CALL_COUNT_ && IS_LIST(c)) ||
	    (fc == CALL_UTIL && c == CALL_SAMPLES) ||
	    (fc == CALL_PUTIL && c == CALL_PUTIL_INFO);
}

/* A handle the fake gave out: a GPU, or a MIG instance of one in MIG mode. */
static int
valid_handle(nvmlDevice_t d)
{
	if (d >= handles && d < handles + F->ngpus)
		return 1;
	for (int g = 0; g < F->ngpus; g++)
		if (d >= mig_handles[g] && d < mig_handles[g] + MAX_MIG)
			return F->gpus[g].mig_mode &&
			    F->gpus[g].mig[d->mig].defined;
	return 0;
}

/*
 * What a call on a GPU returns before doing anything: lost, faults. A
 * MIG instance shares its GPU's faults and loss.
 */
static nvmlReturn_t
check(nvmlDevice_t d, enum call c, int *gpu)
{
	const struct fake_tick *t;

	if (F == NULL || F->refs == 0)
		return NVML_ERROR_UNINITIALIZED;
	if (d == NULL || !valid_handle(d))
		return NVML_ERROR_INVALID_ARGUMENT;
	*gpu = d->index;
	if (c >= CALL_UTIL)
		F->sampled = 1;
	if (F->gpus[*gpu].lost_at >= 0 && F->now >= F->gpus[*gpu].lost_at)
		return NVML_ERROR_GPU_IS_LOST;
	t = now_tick();
	for (int i = 0; i < t->nfaults; i++)
		if ((t->faults[i].gpu < 0 || t->faults[i].gpu == *gpu) &&
		    fault_hits(t->faults[i].call, c))
			return t->faults[i].code;
	for (int i = 0; i < F->nfaults; i++)
		if ((F->faults[i].gpu < 0 || F->faults[i].gpu == *gpu) &&
		    fault_hits(F->faults[i].call, c))
			return F->faults[i].code;
	return NVML_SUCCESS;
}

/* Forgets the scenario (nvmlShutdown, or a failed nvmlInit). */
static void
release(void)
{
	if (F->trace != NULL)
		fclose(F->trace);
	for (int k = 0; F->ticks != NULL && k <= F->last_tick; k++)
		for (int g = 0; g < MAX_GPUS; g++)
			free(F->ticks[k].procs[g]);
	free(F->ticks);
	free(F->gen);
	free(F->slot);
	free(F);
	F = NULL;
}

static nvmlReturn_t
do_init(void)
{
	const char *tr;

	if (F != NULL && F->refs > 0) {
		F->refs++;
		return NVML_SUCCESS;
	}
	if ((F = calloc(1, sizeof(*F))) == NULL)
		return NVML_ERROR_UNKNOWN;
	if (load(getenv("FAKE_NVML_SCENARIO")) != 0) {
		release();
		return NVML_ERROR_UNKNOWN;
	}
	if ((tr = getenv("FAKE_NVML_TRACE")) != NULL && tr[0] != '\0' &&
	    F->trace == NULL && (F->trace = fopen(tr, "ae")) != NULL)
		setvbuf(F->trace, NULL, _IOLBF, 0);
	trace("nvmlInit", -1, F->init_error);
	if (F->init_error != 0) {
		nvmlReturn_t rc = F->init_error;

		release();
		return rc;
	}
	for (int i = 0; i < MAX_GPUS; i++) {
		handles[i].index = i;
		handles[i].mig = -1;
		for (int s = 0; s < MAX_MIG; s++) {
			mig_handles[i][s].index = i;
			mig_handles[i][s].mig = s;
		}
	}
	F->t_pp = F->t_prev = F->t_cur = clock_us(CLOCK_MONOTONIC);
	/* The timeline starts a second before: a driver holds samples
	   from before gua asks, played by block 0. */
	F->t_origin = F->t_cur - 1000000;
	F->epoch_off = clock_us(CLOCK_REALTIME) - F->t_cur;
	F->refs = 1;
	return NVML_SUCCESS;
}

#ifndef FAKE_OLD
nvmlReturn_t
nvmlInitWithFlags(unsigned int flags)
{
	(void)flags;
	return do_init();
}

nvmlReturn_t
nvmlInit_v2(void)
{
	return do_init();
}
#endif

nvmlReturn_t
nvmlInit(void)
{
	return do_init();
}

nvmlReturn_t
nvmlShutdown(void)
{
	if (F == NULL || F->refs == 0)
		return NVML_ERROR_UNINITIALIZED;
	trace("nvmlShutdown", -1, 0);
	if (--F->refs == 0)
		release();
	return NVML_SUCCESS;
}

const char *
nvmlErrorString(nvmlReturn_t rc)
{
	static char buf[64];

	snprintf(buf, sizeof(buf), "Fake NVML error string %d", rc);
	return buf;
}

nvmlReturn_t
nvmlSystemGetDriverVersion(char *buf, unsigned int len)
{
	if (F == NULL || F->refs == 0)
		return NVML_ERROR_UNINITIALIZED;
	if (buf == NULL || strlen(F->driver) + 1 > len)
		return NVML_ERROR_INSUFFICIENT_SIZE;
	memcpy(buf, F->driver, strlen(F->driver) + 1);
	return NVML_SUCCESS;
}

/* The scenario clock: see README.md. */
static nvmlReturn_t
count(unsigned int *n, const char *name)
{
	if (F == NULL || F->refs == 0)
		return NVML_ERROR_UNINITIALIZED;
	if (n == NULL)
		return NVML_ERROR_INVALID_ARGUMENT;
	if (F->sampled) {
		F->now++;
		F->sampled = 0;
		F->t_pp = F->t_prev;
		F->t_prev = F->t_cur;
		F->t_cur = clock_us(CLOCK_MONOTONIC);
	} else if (F->now == 0) {
		/* Tick 0 begins when it is first sampled. */
		F->t_cur = clock_us(CLOCK_MONOTONIC);
		F->started = 1;
	}
	/* A failed count is the tick's sample: the next count goes on. */
	for (int i = 0; i < 2; i++) {
		const struct fake_tick *t = now_tick();
		const struct fake_fault *f = i ? F->faults : t->faults;
		int nf = i ? F->nfaults : t->nfaults;

		for (int k = 0; k < nf; k++)
			if (f[k].call == CALL_DEVCOUNT) {
				F->sampled = 1;
				trace(name, -1, f[k].code);
				return f[k].code;
			}
	}
	*n = (unsigned)F->ngpus;
	trace(name, -1, 0);
	return NVML_SUCCESS;
}

nvmlReturn_t
nvmlDeviceGetCount(unsigned int *n)
{
	return count(n, "nvmlDeviceGetCount");
}

static nvmlReturn_t
handle(unsigned int i, nvmlDevice_t *d, const char *name)
{
	nvmlReturn_t rc;
	int gpu;

	if (F == NULL || F->refs == 0)
		return NVML_ERROR_UNINITIALIZED;
	if (d == NULL || i >= (unsigned)F->ngpus)
		return NVML_ERROR_INVALID_ARGUMENT;
	rc = check(&handles[i], CALL_HANDLE, &gpu);
	trace(name, (int)i, rc);
	if (rc == NVML_SUCCESS)
		*d = &handles[i];
	return rc;
}

nvmlReturn_t
nvmlDeviceGetHandleByIndex(unsigned int i, nvmlDevice_t *d)
{
	return handle(i, d, "nvmlDeviceGetHandleByIndex");
}

#ifndef FAKE_OLD
nvmlReturn_t
nvmlDeviceGetCount_v2(unsigned int *n)
{
	return count(n, "nvmlDeviceGetCount_v2");
}

nvmlReturn_t
nvmlDeviceGetHandleByIndex_v2(unsigned int i, nvmlDevice_t *d)
{
	return handle(i, d, "nvmlDeviceGetHandleByIndex_v2");
}
#endif

static nvmlReturn_t
string_call(nvmlDevice_t d, enum call c, char *buf, unsigned int len,
    const char *name)
{
	nvmlReturn_t rc;
	const char *s;
	int gpu = -1;

	rc = check(d, c, &gpu);
	if (rc == NVML_SUCCESS) {
		if (d->mig >= 0)
			s = c == CALL_UUID ? F->gpus[gpu].mig[d->mig].uuid :
			    F->gpus[gpu].mig[d->mig].name;
		else
			s = c == CALL_UUID ? F->gpus[gpu].uuid :
			    F->gpus[gpu].name;
		if (buf == NULL || strlen(s) + 1 > len)
			rc = NVML_ERROR_INSUFFICIENT_SIZE;
		else
			memcpy(buf, s, strlen(s) + 1);
	}
	trace(name, gpu, rc);
	return rc;
}

nvmlReturn_t
nvmlDeviceGetUUID(nvmlDevice_t d, char *buf, unsigned int len)
{
	return string_call(d, CALL_UUID, buf, len, "nvmlDeviceGetUUID");
}

nvmlReturn_t
nvmlDeviceGetName(nvmlDevice_t d, char *buf, unsigned int len)
{
	return string_call(d, CALL_NAME, buf, len, "nvmlDeviceGetName");
}

/* Utilization is not supported on MIG: on an instance or its GPU. */
static int
in_mig(nvmlDevice_t d)
{
	return d->mig >= 0 || F->gpus[d->index].mig_mode;
}

nvmlReturn_t
nvmlDeviceGetUtilizationRates(nvmlDevice_t d, nvmlUtilization_t *u)
{
	nvmlReturn_t rc;
	int gpu = -1;

	rc = check(d, CALL_UTIL, &gpu);
	if (rc == NVML_SUCCESS && u == NULL)
		rc = NVML_ERROR_INVALID_ARGUMENT;
	if (rc == NVML_SUCCESS && in_mig(d))
		rc = NVML_ERROR_NOT_SUPPORTED;
	if (rc == NVML_SUCCESS) {
		u->gpu = (unsigned)now_tick()->util[gpu];
		u->memory = u->gpu / 2;
	}
	trace("nvmlDeviceGetUtilizationRates", gpu, rc);
	return rc;
}

/* The energy counter as the tick's `energy` gives it; a reset is a
   smaller value than the tick before's. NOT_SUPPORTED without one, and
   on a MIG instance, as real drivers answer; `na`: success with
   NVML_VALUE_NOT_AVAILABLE, as some drivers answer. */
nvmlReturn_t
nvmlDeviceGetTotalEnergyConsumption(nvmlDevice_t d, unsigned long long *mj)
{
	nvmlReturn_t rc;
	int gpu = -1;

	rc = check(d, CALL_ENERGY, &gpu);
	if (rc == NVML_SUCCESS && mj == NULL)
		rc = NVML_ERROR_INVALID_ARGUMENT;
	if (rc == NVML_SUCCESS && (d->mig >= 0 ||
	    now_tick()->energy[gpu] == -1))
		rc = NVML_ERROR_NOT_SUPPORTED;
	if (rc == NVML_SUCCESS)
		*mj = now_tick()->energy[gpu] == -2 ? ~0ULL :
		    (unsigned long long)now_tick()->energy[gpu];
	trace("nvmlDeviceGetTotalEnergyConsumption", gpu, rc);
	return rc;
}

/* The tick's `power`, in milliwatts; NOT_SUPPORTED without one. */
nvmlReturn_t
nvmlDeviceGetPowerUsage(nvmlDevice_t d, unsigned int *mw)
{
	nvmlReturn_t rc;
	int gpu = -1;

	rc = check(d, CALL_POWER, &gpu);
	if (rc == NVML_SUCCESS && mw == NULL)
		rc = NVML_ERROR_INVALID_ARGUMENT;
	if (rc == NVML_SUCCESS && (d->mig >= 0 || now_tick()->power[gpu] < 0))
		rc = NVML_ERROR_NOT_SUPPORTED;
	if (rc == NVML_SUCCESS)
		*mw = (unsigned)now_tick()->power[gpu];
	trace("nvmlDeviceGetPowerUsage", gpu, rc);
	return rc;
}

/* Does process p show on handle d (a MIG instance shows its own)? */
static int
proc_on(const struct fake_proc *p, nvmlDevice_t d)
{
	return d->mig < 0 ? (p->mig < 0 || F->gpus[d->index].mig_mode) :
	    p->mig == d->mig;
}

/* Allocated memory on a handle now, in MiB. */
static long long
used_mib(nvmlDevice_t d)
{
	const struct fake_tick *t = now_tick();
	int gpu = d->index;
	long long sum = 0;

	if (t->mem[gpu] >= 0 && d->mig < 0)
		return t->mem[gpu];
	for (int i = 0; i < t->nprocs[gpu]; i++)
		if (t->procs[gpu][i].mib > 0 && proc_on(&t->procs[gpu][i], d))
			sum += t->procs[gpu][i].mib;
	return sum;
}

static long long
total_mib(nvmlDevice_t d)
{
	return d->mig >= 0 ? F->gpus[d->index].mig[d->mig].total_mib :
	    F->gpus[d->index].total_mib;
}

nvmlReturn_t
nvmlDeviceGetMemoryInfo(nvmlDevice_t d, nvmlMemory_t *m)
{
	nvmlReturn_t rc;
	int gpu = -1;

	rc = check(d, CALL_MEMORY, &gpu);
	if (rc == NVML_SUCCESS && m == NULL)
		rc = NVML_ERROR_INVALID_ARGUMENT;
	if (rc == NVML_SUCCESS) {
		const struct fake_gpu *g = &F->gpus[gpu];

		/* v1: used counts the driver's reservation too. */
		m->total = (unsigned long long)total_mib(d) << 20;
		m->used = (unsigned long long)(used_mib(d) +
		    g->reserved_mib) << 20;
		m->free = m->total > m->used ? m->total - m->used : 0;
	}
	trace("nvmlDeviceGetMemoryInfo", gpu, rc);
	return rc;
}

#ifndef FAKE_OLD
nvmlReturn_t
nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t d, nvmlMemory_v2_t *m)
{
	nvmlReturn_t rc;
	int gpu = -1;

	rc = check(d, CALL_MEMORY, &gpu);
	if (rc == NVML_SUCCESS && m == NULL)
		rc = NVML_ERROR_INVALID_ARGUMENT;
	/* A wrong version word: what real drivers answer. */
	if (rc == NVML_SUCCESS && m->version != NVML_MEMORY_V2)
		rc = NVML_ERROR_FUNCTION_NOT_FOUND;
	if (rc == NVML_SUCCESS) {
		const struct fake_gpu *g = &F->gpus[gpu];

		m->total = (unsigned long long)total_mib(d) << 20;
		m->reserved = (unsigned long long)g->reserved_mib << 20;
		m->used = (unsigned long long)used_mib(d) << 20;
		m->free = m->total > m->used + m->reserved ?
		    m->total - m->used - m->reserved : 0;
	}
	trace("nvmlDeviceGetMemoryInfo_v2", gpu, rc);
	return rc;
}
#endif

/*
 * A process list as NVML fills it: a count query, INSUFFICIENT_SIZE with
 * the count needed, entries of the version's size.
 */
static nvmlReturn_t
proc_list(nvmlDevice_t d, unsigned int *n, void *buf, enum call c,
    int entry, const char *name)
{
	const struct fake_tick *t;
	unsigned want = 0;
	nvmlReturn_t rc;
	int gpu = -1;

	rc = check(d, c, &gpu);
	if (rc == NVML_SUCCESS && n == NULL)
		rc = NVML_ERROR_INVALID_ARGUMENT;
	if (rc != NVML_SUCCESS) {
		trace(name, gpu, rc);
		return rc;
	}
	t = now_tick();
	for (int i = 0; i < t->nprocs[gpu]; i++)
		if ((t->procs[gpu][i].lists & LIST_BIT(c)) &&
		    proc_on(&t->procs[gpu][i], d))
			want++;
	if (buf != NULL && *n > 0 && F->insufficient > 0) {
		/* As if processes started between the two calls. */
		F->insufficient--;
		*n = want + 2;
		rc = NVML_ERROR_INSUFFICIENT_SIZE;
	} else if (*n < want || (buf == NULL && want > 0)) {
		*n = want;
		rc = NVML_ERROR_INSUFFICIENT_SIZE;
	} else {
		unsigned char *p = buf;

		for (int i = 0; i < t->nprocs[gpu]; i++) {
			const struct fake_proc *fp = &t->procs[gpu][i];
			unsigned long long mem = fp->mib < 0 ?
			    0xFFFFFFFFFFFFFFFFULL :
			    (unsigned long long)fp->mib << 20;
			/* MIG: the instance's GPU and compute instance. */
			unsigned int gi = fp->mig < 0 ? 0xFFFFFFFFU :
			    (unsigned)fp->mig + 1, ci = fp->mig < 0 ?
			    0xFFFFFFFFU : 0;
			unsigned long long cc = 0;

			if (!(fp->lists & LIST_BIT(c)) || !proc_on(fp, d))
				continue;
			memcpy(p, &fp->pid, 4);
			memset(p + 4, 0, 4);	/* padding */
			memcpy(p + 8, &mem, 8);
			if (entry >= 24) {
				memcpy(p + 16, &gi, 4);
				memcpy(p + 20, &ci, 4);
			}
			if (entry >= 32)
				memcpy(p + 24, &cc, 8);
			p += entry;
		}
		*n = want;
	}
	trace(name, gpu, rc);
	return rc;
}

#define LIST_FN(fn, c, entry)						\
nvmlReturn_t								\
fn(nvmlDevice_t d, unsigned int *n, void *buf)				\
{									\
	return proc_list(d, n, buf, c, entry, #fn);			\
}

LIST_FN(nvmlDeviceGetComputeRunningProcesses, CALL_COMPUTE, 16)
LIST_FN(nvmlDeviceGetGraphicsRunningProcesses, CALL_GRAPHICS, 16)
#ifndef FAKE_OLD
LIST_FN(nvmlDeviceGetComputeRunningProcesses_v2, CALL_COMPUTE, 24)
LIST_FN(nvmlDeviceGetGraphicsRunningProcesses_v2, CALL_GRAPHICS, 24)
LIST_FN(nvmlDeviceGetMPSComputeRunningProcesses_v2, CALL_MPS, 24)
#endif
#ifndef FAKE_NO_V3
LIST_FN(nvmlDeviceGetComputeRunningProcesses_v3, CALL_COMPUTE, F->v3_entry)
LIST_FN(nvmlDeviceGetGraphicsRunningProcesses_v3, CALL_GRAPHICS, F->v3_entry)
LIST_FN(nvmlDeviceGetMPSComputeRunningProcesses_v3, CALL_MPS, F->v3_entry)
#endif

#ifndef FAKE_OLD
/* Present from 535.43 on; only probed by gua. */
nvmlReturn_t
nvmlDeviceGetConfComputeMemSizeInfo(nvmlDevice_t d, void *info)
{
	(void)d;
	(void)info;
	return NVML_ERROR_NOT_SUPPORTED;
}
#endif

#if !defined(FAKE_OLD) && !defined(FAKE_R535)
/* Present from 535.104 on; only probed by gua. */
nvmlReturn_t
nvmlDeviceGetRunningProcessDetailList(nvmlDevice_t d, void *list)
{
	(void)d;
	(void)list;
	return NVML_ERROR_NOT_SUPPORTED;
}
#endif

#ifndef FAKE_OLD
/* ---- samples: the time model of README.md ---- */

static int
push(unsigned long long ts, unsigned pid, unsigned value)
{
	if (F->ngen == F->gen_cap) {
		size_t ncap = F->gen_cap ? F->gen_cap * 2 : 256;
		struct gen *ng = realloc(F->gen, ncap * sizeof(*ng));

		if (ng == NULL)
			return -1;
		F->gen = ng;
		F->gen_cap = ncap;
	}
	F->gen[F->ngen].ts = ts;
	F->gen[F->ngen].pid = pid;
	F->gen[F->ngen].value = value;
	F->ngen++;
	return 0;
}

/* The utilization series of GPU gpu in block t (none: a dry buffer). */
static struct series
gpu_series(const struct fake_tick *t, int gpu)
{
	struct series s;

	if (t->has_samples[gpu])
		return t->samples[gpu];
	memset(&s, 0, sizeof(s));
	if (t->util[gpu] > 0) {
		s.val[0] = (unsigned char)t->util[gpu];
		s.len[0] = DEFAULT_SAMPLES;
		s.nruns = 1;
		s.total = DEFAULT_SAMPLES;
	}
	return s;
}

/*
 * Pushes series s, of periods periods, laid over the last cover percent of
 * the window (a, b]: period i (from 0) ends at b - w + (i + 1) w / n. Zero
 * values are left out when skip_zero (NVML lists busy processes only).
 * Timestamps newer than last only.
 */
static int
lay(const struct series *s, int periods, int cover, long long a, long long b,
    long long clock_off, unsigned pid, int skip_zero, unsigned long long last)
{
	long long w = (b - a) * cover / 100;
	int i = 0;

	for (int r = 0; r < s->nruns; r++) {
		int len = s->len[r] ? s->len[r] : periods;

		for (int k = 0; k < len; k++, i++) {
			unsigned long long ts = (unsigned long long)(b - w +
			    (long long)(i + 1) * w / (periods ? periods : 1) +
			    clock_off);

			if ((skip_zero && s->val[r] == 0) || ts <= last)
				continue;
			if (push(ts, pid, s->val[r]) != 0)
				return -1;
		}
	}
	return 0;
}

/* GPU samples are on a boot-time-like clock, process samples on the epoch:
   two clocks, as NVML.md allows, so gua must not compare them. */
#define GPU_CLOCK_OFF	1000000000LL

/* The samples of GPU gpu at the previous and the current tick, newer than
   last, into F->gen: those of the GPU, or (procs) of its processes. */
static int
generate(int gpu, int procs, unsigned long long last)
{
	F->ngen = 0;
	for (int k = F->now - 1; k <= F->now; k++) {
		const struct fake_tick *t;
		struct series s;
		long long a = k == F->now ? F->t_prev : F->t_pp;
		long long b = k == F->now ? F->t_cur : F->t_prev;
		int periods;

		if (k < 0)
			continue;
		t = block_at(k);
		s = gpu_series(t, gpu);
		periods = s.total ? s.total : DEFAULT_SAMPLES;
		if (!procs) {
			if (lay(&s, s.total, t->cover[gpu], a, b, GPU_CLOCK_OFF,
			    0, 0, last) != 0)
				return -1;
			continue;
		}
		for (int i = 0; i < t->nprocs[gpu]; i++) {
			const struct fake_proc *p = &t->procs[gpu][i];
			int n = p->sm.total ? p->sm.total : periods;

			if (p->mig < 0 && lay(&p->sm, n, t->cover[gpu], a, b,
			    F->epoch_off, p->pid, 1, last) != 0)
				return -1;
		}
		/* nvtop #110's junk: beyond 100 %, PID 0, a stale time. */
		if (k == F->now && t->junk[gpu]) {
			unsigned pid = t->nprocs[gpu] ? t->procs[gpu][0].pid : 1;
			unsigned long long now = (unsigned long long)(F->t_cur +
			    F->epoch_off);

			if (push(now, pid, 37100) != 0 ||
			    push(now, 0, 50) != 0 || push(1, pid, 100) != 0)
				return -1;
		}
	}
	return 0;
}

/* ---- the timeline: samples that appear as real time passes ---- */

/* Busy time of a burst pattern in [0, x): whole cycles, then the rest. */
static long long
busy_until(long long x, long long on, long long cycle)
{
	long long rest = x % cycle;

	return x / cycle * on + (rest < on ? rest : on);
}

/* Value of series s at period j (from the origin), cyclic. */
static unsigned
series_at(const struct series *s, long long j)
{
	long long k;

	if (s->total == 0)
		return s->nruns ? s->val[0] : 0;	/* a lone "PCT" */
	k = j % s->total;
	for (int r = 0; r < s->nruns; r++) {
		if (k < s->len[r])
			return s->val[r];
		k -= s->len[r];
	}
	return 0;
}

/* Process p's SM utilization in period j: its series, or its share of
   the period spent in a burst. */
static unsigned
proc_value(const struct fake_proc *p, long long j)
{
	long long P = F->period_us, a = j * P;
	unsigned pct = p->sm.nruns ? series_at(&p->sm, j) : 100;

	if (p->burst_cycle_us == 0)
		return p->sm.nruns ? pct : 0;
	return (unsigned)((long long)pct * (busy_until(a + P, p->burst_on_us,
	    p->burst_cycle_us) - busy_until(a, p->burst_on_us,
	    p->burst_cycle_us)) / P);
}

/* The block that plays in a period ending at monotonic time e: tick k's
   block plays from the start of tick k-1 to its own start. */
static const struct fake_tick *
block_ending(long long e)
{
	if (!F->started)
		return block_at(0);
	if (e > F->t_cur)
		return block_at(F->now + 1);
	if (e > F->t_prev || F->now == 0)
		return block_at(F->now);
	return block_at(F->now - 1);
}

/* Makes room for n entries in F->slot; -1 out of memory. */
static int
grow_slots(int n)
{
	long *ns;

	if (n <= F->slot_cap)
		return 0;
	if ((ns = realloc(F->slot, (size_t)n * sizeof(*ns))) == NULL)
		return -1;
	F->slot = ns;
	F->slot_cap = n;
	return 0;
}

/* The entry of pid among F->gen[from..]; NULL when none yet. */
static struct gen *
gen_of(size_t from, unsigned pid)
{
	for (size_t i = from; i < F->ngen; i++)
		if (F->gen[i].pid == pid)
			return &F->gen[i];
	return NULL;
}

/*
 * The timeline's samples of GPU gpu newer than last, up to now, into
 * F->gen: period j covers [origin + jP, origin + (j+1)P) and is stamped
 * at its end. The buffer reaches back to the start of the previous tick.
 * GPU samples come one per period; process samples as F->putil_mode says.
 */
static int
timeline(int gpu, int procs, unsigned long long last)
{
	long long P = F->period_us, now = clock_us(CLOCK_MONOTONIC);
	long long off = procs ? F->epoch_off : GPU_CLOCK_OFF;
	/* Tick 0's "previous tick" is the time before nvmlInit: a driver
	   holds samples from before gua asks. */
	long long lo = F->now > 0 ? F->t_prev : F->t_origin, first, final;
	long long nper;
	const struct fake_tick *seg = NULL;

	F->ngen = 0;
	if (last > 0 && (long long)last - off > lo)
		lo = (long long)last - off;
	if (lo < F->t_origin)
		lo = F->t_origin;
	first = (lo - F->t_origin) / P;
	final = (now - F->t_origin) / P - 1;
	if (final < first)
		return 0;
	nper = final - first + 1;
	for (long long j = first; j <= final; j++) {
		long long e = F->t_origin + (j + 1) * P;
		unsigned long long ts = (unsigned long long)(e + off);
		const struct fake_tick *t = block_ending(e);

		if (!procs) {
			struct series sr = gpu_series(t, gpu);
			unsigned v = sr.nruns ? series_at(&sr, j) : 0;

			if (sr.nruns && push(ts, 0, v) != 0)
				return -1;
			continue;
		}
		/* A process keeps its entry across a block boundary; within a
		   block, F->slot[i] remembers where process i's entry is. */
		if (t != seg && F->putil_mode != PUTIL_PERIODS) {
			seg = t;
			if (grow_slots(t->nprocs[gpu]) != 0)
				return -1;
			for (int i = 0; i < t->nprocs[gpu]; i++) {
				struct gen *g = gen_of(0, t->procs[gpu][i].pid);

				F->slot[i] = g ? (long)(g - F->gen) : -1;
			}
		}
		for (int i = 0; i < t->nprocs[gpu]; i++) {
			const struct fake_proc *p = &t->procs[gpu][i];
			unsigned v = proc_value(p, j);
			struct gen *g;

			if (p->mig >= 0)
				continue;
			if (F->putil_mode == PUTIL_PERIODS) {
				if (v > 0 && push(ts, p->pid, v) != 0)
					return -1;
				continue;
			}
			if (F->slot[i] < 0) {
				if (push(ts, p->pid, 0) != 0)
					return -1;
				F->slot[i] = (long)F->ngen - 1;
				F->gen[F->ngen - 1].sum = 0;
				F->gen[F->ngen - 1].busy = 0;
			}
			g = &F->gen[F->slot[i]];
			g->ts = ts;
			g->value = v;
			g->sum += v;
			g->busy |= v > 0;
		}
	}
	if (!procs || F->putil_mode == PUTIL_PERIODS)
		return 0;
	/* One entry per process that was busy since last: the latest
	   period's value, or the mean over every period since last. */
	{
		size_t k = 0;
		unsigned long long newest = (unsigned long long)(F->t_origin +
		    (final + 1) * P + off);

		for (size_t i = 0; i < F->ngen; i++) {
			struct gen g = F->gen[i];

			if (!g.busy)
				continue;
			if (F->putil_mode == PUTIL_MEAN)
				g.value = (unsigned)((g.sum + (unsigned long long)
				    nper / 2) / (unsigned long long)nper);
			g.ts = newest;
			F->gen[k++] = g;
		}
		F->ngen = k;
	}
	return 0;
}

/* The samples a call is answered with, in the scenario's time model. */
static int
samples_for(int gpu, int procs, unsigned long long last)
{
	if (F->period_us > 0)
		return timeline(gpu, procs, last);
	return generate(gpu, procs, last);
}

nvmlReturn_t
nvmlDeviceGetSamples(nvmlDevice_t d, int type, unsigned long long last,
    int *vtype, unsigned int *n, nvmlSample_t *samples)
{
	nvmlReturn_t rc;
	int gpu = -1;

	rc = check(d, CALL_SAMPLES, &gpu);
	if (rc == NVML_SUCCESS && (n == NULL || vtype == NULL))
		rc = NVML_ERROR_INVALID_ARGUMENT;
	if (rc == NVML_SUCCESS && (in_mig(d) ||
	    type != NVML_GPU_UTILIZATION_SAMPLES))
		rc = NVML_ERROR_NOT_SUPPORTED;
	if (rc == NVML_SUCCESS && samples_for(gpu, 0, last) != 0)
		rc = NVML_ERROR_UNKNOWN;
	if (rc == NVML_SUCCESS) {
		*vtype = NVML_VALUE_TYPE_UNSIGNED_INT;
		if (F->ngen == 0) {
			*n = 0;
			rc = NVML_ERROR_NOT_FOUND;
		} else if (samples == NULL) {
			*n = (unsigned)F->ngen;
			if (F->size_query_insufficient)
				rc = NVML_ERROR_INSUFFICIENT_SIZE;
		} else if (*n < F->ngen) {
			*n = (unsigned)F->ngen;
			rc = NVML_ERROR_INSUFFICIENT_SIZE;
		} else {
			for (size_t i = 0; i < F->ngen; i++) {
				memset(&samples[i], 0, sizeof(samples[i]));
				samples[i].timeStamp = F->gen[i].ts;
				samples[i].sampleValue.uiVal = F->gen[i].value;
			}
			*n = (unsigned)F->ngen;
		}
	}
	trace("nvmlDeviceGetSamples", gpu, rc);
	return rc;
}

/* The common part of both process-utilization calls: *n as NVML sets it. */
static nvmlReturn_t
process_samples(nvmlDevice_t d, enum call c, unsigned long long last,
    int have_buf, unsigned int *n, int *gpu)
{
	nvmlReturn_t rc = check(d, c, gpu);

	if (rc == NVML_SUCCESS && in_mig(d))
		rc = NVML_ERROR_NOT_SUPPORTED;
	if (rc == NVML_SUCCESS && samples_for(*gpu, 1, last) != 0)
		rc = NVML_ERROR_UNKNOWN;
	if (rc != NVML_SUCCESS)
		return rc;
	if (F->ngen == 0) {
		*n = 0;
		return NVML_ERROR_NOT_FOUND;
	}
	if (!have_buf || *n < F->ngen) {
		*n = (unsigned)F->ngen;
		return NVML_ERROR_INSUFFICIENT_SIZE;
	}
	*n = (unsigned)F->ngen;
	return NVML_SUCCESS;
}

nvmlReturn_t
nvmlDeviceGetProcessUtilization(nvmlDevice_t d,
    nvmlProcessUtilizationSample_t *u, unsigned int *n,
    unsigned long long last)
{
	nvmlReturn_t rc;
	int gpu = -1;

	if (n == NULL)
		rc = NVML_ERROR_INVALID_ARGUMENT;
	else
		rc = process_samples(d, CALL_PUTIL, last, u != NULL, n, &gpu);
	if (rc == NVML_SUCCESS) {
		for (size_t i = 0; i < F->ngen; i++) {
			memset(&u[i], 0, sizeof(u[i]));
			u[i].pid = F->gen[i].pid;
			u[i].timeStamp = F->gen[i].ts;
			u[i].smUtil = F->gen[i].value;
			u[i].memUtil = F->gen[i].value / 2;
		}
	}
	trace("nvmlDeviceGetProcessUtilization", gpu, rc);
	return rc;
}

#ifndef FAKE_NO_V3
#ifndef FAKE_R535
/* Drivers 550 and later. */
nvmlReturn_t
nvmlDeviceGetProcessesUtilizationInfo(nvmlDevice_t d,
    nvmlProcessesUtilizationInfo_v1_t *info)
{
	nvmlReturn_t rc;
	int gpu = -1;

	if (info == NULL)
		rc = NVML_ERROR_INVALID_ARGUMENT;
	else if (info->version != NVML_PROCESSES_UTILIZATION_INFO_V1)
		rc = NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
	else
		rc = process_samples(d, CALL_PUTIL_INFO,
		    info->lastSeenTimeStamp, info->procUtilArray != NULL,
		    &info->processSamplesCount, &gpu);
	if (rc == NVML_SUCCESS) {
		nvmlProcessUtilizationInfo_v1_t *u = info->procUtilArray;

		for (size_t i = 0; i < F->ngen; i++) {
			memset(&u[i], 0, sizeof(u[i]));
			u[i].timeStamp = F->gen[i].ts;
			u[i].pid = F->gen[i].pid;
			u[i].smUtil = F->gen[i].value;
			u[i].memUtil = F->gen[i].value / 2;
		}
	}
	trace("nvmlDeviceGetProcessesUtilizationInfo", gpu, rc);
	return rc;
}
#endif
#endif

/* ---- MIG ---- */

nvmlReturn_t
nvmlDeviceGetMigMode(nvmlDevice_t d, unsigned int *cur, unsigned int *pend)
{
	nvmlReturn_t rc;
	int gpu = -1;

	rc = check(d, CALL_MIG, &gpu);
	if (rc == NVML_SUCCESS && (cur == NULL || pend == NULL ||
	    d->mig >= 0))
		rc = NVML_ERROR_INVALID_ARGUMENT;
	/* A GPU that cannot do MIG says so. */
	if (rc == NVML_SUCCESS && !F->gpus[gpu].mig_mode)
		rc = NVML_ERROR_NOT_SUPPORTED;
	if (rc == NVML_SUCCESS)
		*cur = *pend = 1;
	trace("nvmlDeviceGetMigMode", gpu, rc);
	return rc;
}

nvmlReturn_t
nvmlDeviceGetMaxMigDeviceCount(nvmlDevice_t d, unsigned int *n)
{
	nvmlReturn_t rc;
	int gpu = -1;

	rc = check(d, CALL_MIG, &gpu);
	if (rc == NVML_SUCCESS && (n == NULL || d->mig >= 0))
		rc = NVML_ERROR_INVALID_ARGUMENT;
	if (rc == NVML_SUCCESS && !F->gpus[gpu].mig_mode)
		rc = NVML_ERROR_NOT_SUPPORTED;
	if (rc == NVML_SUCCESS)
		*n = MAX_MIG;
	trace("nvmlDeviceGetMaxMigDeviceCount", gpu, rc);
	return rc;
}

nvmlReturn_t
nvmlDeviceGetMigDeviceHandleByIndex(nvmlDevice_t d, unsigned int i,
    nvmlDevice_t *out)
{
	nvmlReturn_t rc;
	int gpu = -1;

	rc = check(d, CALL_MIG, &gpu);
	if (rc == NVML_SUCCESS && (out == NULL || d->mig >= 0 ||
	    i >= MAX_MIG))
		rc = NVML_ERROR_INVALID_ARGUMENT;
	if (rc == NVML_SUCCESS && !F->gpus[gpu].mig_mode)
		rc = NVML_ERROR_NOT_SUPPORTED;
	/* An empty slot. */
	if (rc == NVML_SUCCESS && !F->gpus[gpu].mig[i].defined)
		rc = NVML_ERROR_NOT_FOUND;
	if (rc == NVML_SUCCESS)
		*out = &mig_handles[gpu][i];
	trace("nvmlDeviceGetMigDeviceHandleByIndex", gpu, rc);
	return rc;
}
#endif
