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
 *                  memory, no MPS list
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef FAKE_OLD
#define FAKE_NO_V3
#endif

/* ---- NVML's declarations (NVIDIA's names and layouts) ---- */

typedef int nvmlReturn_t;
struct nvmlDevice_st {
	int	index;
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

#define NVML_SUCCESS			0
#define NVML_ERROR_UNINITIALIZED	1
#define NVML_ERROR_INVALID_ARGUMENT	2
#define NVML_ERROR_NOT_SUPPORTED	3
#define NVML_ERROR_INSUFFICIENT_SIZE	7
#define NVML_ERROR_FUNCTION_NOT_FOUND	13
#define NVML_ERROR_GPU_IS_LOST		15
#define NVML_ERROR_UNKNOWN		999
#define NVML_MEMORY_V2			0x02000028U

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

/* ---- the scenario ---- */

#define MAX_GPUS	64
#define MAX_PROCS	4096	/* per GPU per tick, allocated as needed */
#define MAX_SAMPLES	64
#define MAX_FAULTS	32
#define MAX_TICKS	100000

enum call {
	CALL_HANDLE, CALL_UUID, CALL_NAME, CALL_UTIL, CALL_MEMORY,
	CALL_COMPUTE, CALL_GRAPHICS, CALL_MPS, CALL_COUNT_
};
static const char *const call_names[CALL_COUNT_] = {
	"handle", "uuid", "name", "util", "memory", "compute", "graphics",
	"mps",
};
#define LIST_BIT(c)	(1u << ((c) - CALL_COMPUTE))

struct fake_proc {
	unsigned	pid;
	long long	mib;		/* -1: NVML_VALUE_NOT_AVAILABLE */
	int		sm;		/* SM util percent, -1 none */
	unsigned	lists;		/* LIST_BIT()s */
};

struct fake_fault {
	int		gpu;		/* -1: every GPU */
	enum call	call;
	int		code;
};

struct fake_tick {
	int		 defined;	/* a "tick" line started it */
	int		 util[MAX_GPUS];
	long long	 mem[MAX_GPUS];	/* -1: sum of the processes */
	int		 samples[MAX_GPUS][MAX_SAMPLES];
	int		 nsamples[MAX_GPUS];
	struct fake_proc *procs[MAX_GPUS];	/* nprocs of procs_cap */
	int		 nprocs[MAX_GPUS];
	int		 procs_cap[MAX_GPUS];
	struct fake_fault faults[MAX_FAULTS];
	int		 nfaults;
};

struct fake_gpu {
	char		uuid[96];
	char		name[96];
	long long	total_mib;
	long long	reserved_mib;
	int		lost_at;	/* tick from which it is lost, -1 never */
};

struct fake {
	char		 driver[80];
	int		 init_error;
	int		 ngpus;
	int		 v3_entry;
	int		 insufficient;	/* buffer calls still to refuse */
	struct fake_gpu	 gpus[MAX_GPUS];
	struct fake_fault faults[MAX_FAULTS];	/* every tick */
	int		 nfaults;
	struct fake_tick *ticks;		/* last_tick + 1 of them */
	int		 last_tick;		/* highest defined */
	int		 loop;		/* after the last tick, play again */
	/* the clock */
	int		 now;		/* scenario tick being played */
	int		 sampled;	/* a sampling call since the last advance */
	int		 refs;		/* nvmlInit count */
	FILE		*trace;
};

static struct fake *F;
static struct nvmlDevice_st handles[MAX_GPUS];

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
	long long gpu, pid, mib, sm;
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
	p->pid = (unsigned)pid;
	p->mib = mib;
	p->sm = -1;
	p->lists = LIST_BIT(CALL_COMPUTE);
	if ((v = option(tok, ntok, 4, "sm")) != NULL) {
		if (parse_int(v, 0, 100, &sm) != 0)
			return -1;
		p->sm = (int)sm;
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
		for (int g = 0; g < MAX_GPUS; g++)
			nt[i].mem[g] = -1;
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
		} else if (strcmp(tok[0], "samples") == 0 && ntok >= 2) {
			if (parse_int(tok[1], 0, MAX_GPUS - 1, &v) != 0 ||
			    ntok - 2 > MAX_SAMPLES)
				BAD();
			for (int i = 2; i < ntok; i++) {
				if (parse_int(tok[i], 0, 100, &w) != 0)
					BAD();
				cur->samples[v][i - 2] = (int)w;
			}
			cur->nsamples[v] = ntok - 2;
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

/* The tick block in force now: the last one defined at or before now. */
static struct fake_tick *
now_tick(void)
{
	int k = F->now > F->last_tick ? F->last_tick : F->now;

	if (F->loop)
		k = F->now % (F->last_tick + 1);

	while (k > 0 && !F->ticks[k].defined)
		k--;
	return &F->ticks[k];
}

/* What a call on a GPU returns before doing anything: lost, faults. */
static nvmlReturn_t
check(nvmlDevice_t d, enum call c, int *gpu)
{
	const struct fake_tick *t;

	if (F == NULL || F->refs == 0)
		return NVML_ERROR_UNINITIALIZED;
	if (d == NULL || d < handles || d >= handles + F->ngpus)
		return NVML_ERROR_INVALID_ARGUMENT;
	*gpu = d->index;
	if (c >= CALL_UTIL)
		F->sampled = 1;
	if (F->gpus[*gpu].lost_at >= 0 && F->now >= F->gpus[*gpu].lost_at)
		return NVML_ERROR_GPU_IS_LOST;
	t = now_tick();
	for (int i = 0; i < t->nfaults; i++)
		if ((t->faults[i].gpu < 0 || t->faults[i].gpu == *gpu) &&
		    (t->faults[i].call == c || (t->faults[i].call ==
		    CALL_COUNT_ && c >= CALL_COMPUTE)))
			return t->faults[i].code;
	for (int i = 0; i < F->nfaults; i++)
		if ((F->faults[i].gpu < 0 || F->faults[i].gpu == *gpu) &&
		    (F->faults[i].call == c || (F->faults[i].call ==
		    CALL_COUNT_ && c >= CALL_COMPUTE)))
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
	for (int i = 0; i < MAX_GPUS; i++)
		handles[i].index = i;
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
		s = c == CALL_UUID ? F->gpus[gpu].uuid : F->gpus[gpu].name;
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

nvmlReturn_t
nvmlDeviceGetUtilizationRates(nvmlDevice_t d, nvmlUtilization_t *u)
{
	nvmlReturn_t rc;
	int gpu = -1;

	rc = check(d, CALL_UTIL, &gpu);
	if (rc == NVML_SUCCESS && u == NULL)
		rc = NVML_ERROR_INVALID_ARGUMENT;
	if (rc == NVML_SUCCESS) {
		u->gpu = (unsigned)now_tick()->util[gpu];
		u->memory = u->gpu / 2;
	}
	trace("nvmlDeviceGetUtilizationRates", gpu, rc);
	return rc;
}

/* Allocated memory of a GPU now, in MiB. */
static long long
used_mib(int gpu)
{
	const struct fake_tick *t = now_tick();
	long long sum = 0;

	if (t->mem[gpu] >= 0)
		return t->mem[gpu];
	for (int i = 0; i < t->nprocs[gpu]; i++)
		if (t->procs[gpu][i].mib > 0)
			sum += t->procs[gpu][i].mib;
	return sum;
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
		m->total = (unsigned long long)g->total_mib << 20;
		m->used = (unsigned long long)(used_mib(gpu) +
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

		m->total = (unsigned long long)g->total_mib << 20;
		m->reserved = (unsigned long long)g->reserved_mib << 20;
		m->used = (unsigned long long)used_mib(gpu) << 20;
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
		if (t->procs[gpu][i].lists & LIST_BIT(c))
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
			unsigned int none = 0xFFFFFFFFU;
			unsigned long long cc = 0;

			if (!(fp->lists & LIST_BIT(c)))
				continue;
			memcpy(p, &fp->pid, 4);
			memset(p + 4, 0, 4);	/* padding */
			memcpy(p + 8, &mem, 8);
			if (entry >= 24) {
				memcpy(p + 16, &none, 4);
				memcpy(p + 20, &none, 4);
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
