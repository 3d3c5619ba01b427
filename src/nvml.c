/*
 * NVML through dlopen. The declarations below are written by hand with the
 * layouts of NVIDIA's nvml.h (sizes and offsets as NVIDIA's header has
 * them on LP64 Linux); no NVIDIA header or library is needed to build.
 *
 * Traps handled here:
 * - symbols come in versions (nvmlInit_v2, ..._v3): resolve newest first
 *   and fall back, and drop to an older one when a call says the newer
 *   one is not there (FUNCTION_NOT_FOUND);
 * - nvmlMemory_v2 needs the version word sizeof | 2 << 24 (0x02000028);
 *   a plain 2 fails. Its v1 fallback counts driver reservations as used;
 * - drivers 535.43 to 535.97 write 32-byte entries into the _v3 process
 *   lists, whose documented entry is 24 bytes. The size is chosen from the
 *   driver version (and the symbols, the way nvitop does), and every list
 *   is checked: the buffer is filled with a sentinel, the bytes the driver
 *   wrote are measured, and entries must hold plausible PIDs. A list that
 *   fails is unknown, never garbage;
 * - usedGpuMemory is ULLONG_MAX when NVML cannot tell (WDDM, some MIG);
 * - utilization is a point reading unless read from NVML's buffered
 *   samples; an empty buffer (NOT_FOUND) means no kernel ran. Sample
 *   timestamps are opaque microseconds, possibly on another clock than
 *   ours: only durations between them are used, and the largest one seen
 *   is fed back;
 * - per-process samples list busy processes only, can be junk (above
 *   100 %, PID 0, stale timestamps: nvtop #110), and are not supported on
 *   MIG, where device utilization is not either. How many entries a read
 *   returns per process is not documented: putil.h says how gua is right
 *   under each behaviour, which needs them read at least once a second
 *   while anyone is busy (nvml_poll) and not only at ticks.
 *
 * How a tick's utilization is computed from the samples (read_util,
 * read_putil) is described above those functions and in the README.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "grow.h"
#include "nvml.h"
#include "putil.h"
#include "util.h"

/* ---- NVML's declarations, NVIDIA's spelling ---- */

typedef int nvmlReturn_t;
typedef struct nvmlDevice_st *nvmlDevice_t;

#define NVML_SUCCESS				0
#define NVML_ERROR_INVALID_ARGUMENT		2
#define NVML_ERROR_NOT_SUPPORTED		3
#define NVML_ERROR_NOT_FOUND			6
#define NVML_ERROR_INSUFFICIENT_SIZE		7
#define NVML_ERROR_FUNCTION_NOT_FOUND		13
#define NVML_ERROR_GPU_IS_LOST			15
#define NVML_ERROR_MEMORY			20
#define NVML_ERROR_RESET_REQUIRED		16
#define NVML_ERROR_ARGUMENT_VERSION_MISMATCH	25
#define NVML_ERROR_GPU_NOT_FOUND		28

#define NVML_INIT_FLAG_NO_GPUS			1
#define NVML_DEVICE_UUID_V2_BUFFER_SIZE		96
#define NVML_DEVICE_NAME_V2_BUFFER_SIZE		96
#define NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE	80

typedef struct {
	unsigned int	gpu;		/* percent of time a kernel ran */
	unsigned int	memory;		/* percent of time memory was busy */
} nvmlUtilization_t;

typedef struct {
	unsigned long long total, free, used;	/* used includes reserved */
} nvmlMemory_t;

typedef struct {
	unsigned int	   version;	/* nvmlMemory_v2 */
	unsigned long long total;
	unsigned long long reserved;
	unsigned long long free;
	unsigned long long used;	/* allocated, without reserved */
} nvmlMemory_v2_t;

#define NVML_STRUCT_VERSION(sz, ver) ((unsigned int)((sz) | ((ver) << 24U)))
#define nvmlMemory_v2 NVML_STRUCT_VERSION(sizeof(nvmlMemory_v2_t), 2)

_Static_assert(sizeof(nvmlMemory_v2_t) == 40, "nvmlMemory_v2_t layout");
_Static_assert(nvmlMemory_v2 == 0x02000028, "nvmlMemory_v2 version word");
_Static_assert(offsetof(nvmlMemory_v2_t, used) == 32, "nvmlMemory_v2_t.used");

/*
 * Process entries are read at their byte offsets rather than through a
 * struct, since their size depends on the version and the driver:
 * pid (unsigned int) at 0 and usedGpuMemory (unsigned long long) at 8 in
 * all of nvmlProcessInfo_v1_t (16 bytes), nvmlProcessInfo_v2_t (24: plus
 * gpuInstanceId and computeInstanceId) and the 535 drivers' 32-byte entry
 * (plus usedGpuCcProtectedMemory).
 */
/* nvmlDeviceGetSamples: the sampling type gua asks for, and how the
   values it returns are typed (nvmlValueType_t). */
#define NVML_GPU_UTILIZATION_SAMPLES		1
#define NVML_VALUE_TYPE_DOUBLE			0
#define NVML_VALUE_TYPE_UNSIGNED_INT		1
#define NVML_VALUE_TYPE_UNSIGNED_LONG		2
#define NVML_VALUE_TYPE_UNSIGNED_LONG_LONG	3
#define NVML_VALUE_TYPE_SIGNED_LONG_LONG	4
#define NVML_VALUE_TYPE_SIGNED_INT		5
#define NVML_VALUE_TYPE_UNSIGNED_SHORT		6

typedef union {
	double		   dVal;
	int		   siVal;
	unsigned int	   uiVal;
	unsigned long	   ulVal;
	unsigned long long ullVal;
	signed long long   sllVal;
	unsigned short	   usVal;
} nvmlValue_t;

typedef struct {
	unsigned long long timeStamp;	/* CPU timestamp, µs */
	nvmlValue_t	   sampleValue;
} nvmlSample_t;

/* nvmlDeviceGetProcessUtilization's entry. */
typedef struct {
	unsigned int	   pid;
	unsigned long long timeStamp;	/* CPU timestamp, µs */
	unsigned int	   smUtil, memUtil, encUtil, decUtil;
} nvmlProcessUtilizationSample_t;

/* nvmlDeviceGetProcessesUtilizationInfo's (550+): timestamp first. */
typedef struct {
	unsigned long long timeStamp;
	unsigned int	   pid, smUtil, memUtil, encUtil, decUtil, jpgUtil,
			   ofaUtil;
} nvmlProcessUtilizationInfo_v1_t;

typedef struct {
	unsigned int	   version;	/* nvmlProcessesUtilizationInfo_v1 */
	unsigned int	   processSamplesCount; /* in: room; out: entries */
	unsigned long long lastSeenTimeStamp;
	nvmlProcessUtilizationInfo_v1_t *procUtilArray;
} nvmlProcessesUtilizationInfo_v1_t;

#define nvmlProcessesUtilizationInfo_v1 \
	NVML_STRUCT_VERSION(sizeof(nvmlProcessesUtilizationInfo_v1_t), 1)
#define NVML_DEVICE_MIG_ENABLE			1

_Static_assert(sizeof(nvmlSample_t) == 16, "nvmlSample_t layout");
_Static_assert(sizeof(nvmlProcessUtilizationSample_t) == 32 &&
    offsetof(nvmlProcessUtilizationSample_t, timeStamp) == 8 &&
    offsetof(nvmlProcessUtilizationSample_t, smUtil) == 16,
    "nvmlProcessUtilizationSample_t layout");
_Static_assert(sizeof(nvmlProcessUtilizationInfo_v1_t) == 40 &&
    offsetof(nvmlProcessUtilizationInfo_v1_t, pid) == 8 &&
    offsetof(nvmlProcessUtilizationInfo_v1_t, smUtil) == 12,
    "nvmlProcessUtilizationInfo_v1_t layout");
_Static_assert(sizeof(nvmlProcessesUtilizationInfo_v1_t) == 24 &&
    offsetof(nvmlProcessesUtilizationInfo_v1_t, procUtilArray) == 16,
    "nvmlProcessesUtilizationInfo_v1_t layout");
_Static_assert(nvmlProcessesUtilizationInfo_v1 == 0x01000018,
    "nvmlProcessesUtilizationInfo_v1 version word");

#define PROC_PID_OFF		0
#define PROC_MEM_OFF		8
#define PROC_ENTRY_V1		16
#define PROC_ENTRY_V2		24
#define PROC_ENTRY_535		32
#define PROC_ENTRY_MAX		32
#define NVML_VALUE_NOT_AVAILABLE_ULL	0xFFFFFFFFFFFFFFFFULL

/* ---- gua's side ---- */

/* The process lists NVML keeps per device. */
enum { LIST_COMPUTE, LIST_GRAPHICS, LIST_MPS, LIST_COUNT };
static const char *const list_name[LIST_COUNT] = {
	"ComputeRunningProcesses", "GraphicsRunningProcesses",
	"MPSComputeRunningProcesses",
};

typedef nvmlReturn_t (*proc_list_fn)(nvmlDevice_t, unsigned int *, void *);

/* Every NVML entry point gua may call; NULL when the library lacks it. */
struct nvml_fns {
	nvmlReturn_t	(*init_with_flags)(unsigned int);
	nvmlReturn_t	(*init_v2)(void);
	nvmlReturn_t	(*init_v1)(void);
	nvmlReturn_t	(*shutdown)(void);
	const char	*(*error_string)(nvmlReturn_t);
	nvmlReturn_t	(*driver_version)(char *, unsigned int);
	nvmlReturn_t	(*count_v2)(unsigned int *);
	nvmlReturn_t	(*count_v1)(unsigned int *);
	nvmlReturn_t	(*handle_v2)(unsigned int, nvmlDevice_t *);
	nvmlReturn_t	(*handle_v1)(unsigned int, nvmlDevice_t *);
	nvmlReturn_t	(*uuid)(nvmlDevice_t, char *, unsigned int);
	nvmlReturn_t	(*name)(nvmlDevice_t, char *, unsigned int);
	nvmlReturn_t	(*memory_v2)(nvmlDevice_t, nvmlMemory_v2_t *);
	nvmlReturn_t	(*memory_v1)(nvmlDevice_t, nvmlMemory_t *);
	nvmlReturn_t	(*utilization)(nvmlDevice_t, nvmlUtilization_t *);
	nvmlReturn_t	(*total_energy)(nvmlDevice_t, unsigned long long *);
	nvmlReturn_t	(*power_usage)(nvmlDevice_t, unsigned int *);
	nvmlReturn_t	(*samples)(nvmlDevice_t, int, unsigned long long,
			    int *, unsigned int *, nvmlSample_t *);
	nvmlReturn_t	(*procs_util_info)(nvmlDevice_t,
			    nvmlProcessesUtilizationInfo_v1_t *);
	nvmlReturn_t	(*proc_util)(nvmlDevice_t,
			    nvmlProcessUtilizationSample_t *, unsigned int *,
			    unsigned long long);
	nvmlReturn_t	(*mig_mode)(nvmlDevice_t, unsigned int *,
			    unsigned int *);
	nvmlReturn_t	(*mig_count)(nvmlDevice_t, unsigned int *);
	nvmlReturn_t	(*mig_handle)(nvmlDevice_t, unsigned int,
			    nvmlDevice_t *);
	/* [list][version]: 1 the unversioned symbol, then _v2, _v3 */
	proc_list_fn	procs[LIST_COUNT][4];
	/* Only probed: which process-entry size a 535 driver uses. */
	void		*conf_compute_mem_size_info;
	void		*running_process_detail_list;
};

/* The symbol table: a new NVML call is one line here and one field. */
static const struct {
	const char	*name;
	size_t		 off;	/* where its address goes in nvml_fns */
} symbols[] = {
#define SYM(n, field)	{ n, offsetof(struct nvml_fns, field) }
	SYM("nvmlInitWithFlags", init_with_flags),
	SYM("nvmlInit_v2", init_v2),
	SYM("nvmlInit", init_v1),
	SYM("nvmlShutdown", shutdown),
	SYM("nvmlErrorString", error_string),
	SYM("nvmlSystemGetDriverVersion", driver_version),
	SYM("nvmlDeviceGetCount_v2", count_v2),
	SYM("nvmlDeviceGetCount", count_v1),
	SYM("nvmlDeviceGetHandleByIndex_v2", handle_v2),
	SYM("nvmlDeviceGetHandleByIndex", handle_v1),
	SYM("nvmlDeviceGetUUID", uuid),
	SYM("nvmlDeviceGetName", name),
	SYM("nvmlDeviceGetMemoryInfo_v2", memory_v2),
	SYM("nvmlDeviceGetMemoryInfo", memory_v1),
	SYM("nvmlDeviceGetUtilizationRates", utilization),
	SYM("nvmlDeviceGetTotalEnergyConsumption", total_energy),
	SYM("nvmlDeviceGetPowerUsage", power_usage),
	SYM("nvmlDeviceGetSamples", samples),
	SYM("nvmlDeviceGetProcessesUtilizationInfo", procs_util_info),
	SYM("nvmlDeviceGetProcessUtilization", proc_util),
	SYM("nvmlDeviceGetMigMode", mig_mode),
	SYM("nvmlDeviceGetMaxMigDeviceCount", mig_count),
	SYM("nvmlDeviceGetMigDeviceHandleByIndex", mig_handle),
	SYM("nvmlDeviceGetComputeRunningProcesses_v3", procs[LIST_COMPUTE][3]),
	SYM("nvmlDeviceGetComputeRunningProcesses_v2", procs[LIST_COMPUTE][2]),
	SYM("nvmlDeviceGetComputeRunningProcesses", procs[LIST_COMPUTE][1]),
	SYM("nvmlDeviceGetGraphicsRunningProcesses_v3",
	    procs[LIST_GRAPHICS][3]),
	SYM("nvmlDeviceGetGraphicsRunningProcesses_v2",
	    procs[LIST_GRAPHICS][2]),
	SYM("nvmlDeviceGetGraphicsRunningProcesses", procs[LIST_GRAPHICS][1]),
	SYM("nvmlDeviceGetMPSComputeRunningProcesses_v3", procs[LIST_MPS][3]),
	SYM("nvmlDeviceGetMPSComputeRunningProcesses_v2", procs[LIST_MPS][2]),
	SYM("nvmlDeviceGetMPSComputeRunningProcesses", procs[LIST_MPS][1]),
	SYM("nvmlDeviceGetConfComputeMemSizeInfo", conf_compute_mem_size_info),
	SYM("nvmlDeviceGetRunningProcessDetailList",
	    running_process_detail_list),
#undef SYM
};

/*
 * What is watched per GPU so a condition is logged once when it starts
 * and once when it ends, not every tick.
 */
enum {
	M_HANDLE,		/* nvmlDeviceGetHandleByIndex */
	M_UUID,			/* nvmlDeviceGetUUID */
	M_DEVICE,		/* the GPU as a whole (lost, needs a reset) */
	M_UTIL,
	M_SAMPLES,		/* nvmlDeviceGetSamples */
	M_PUTIL,		/* per-process utilization */
	M_MIG,			/* MIG instances */
	M_MEMORY,
	M_ENERGY,		/* the energy counter, else power usage */
	M_LIST,			/* + LIST_*: one per process list */
	M_COUNT = M_LIST + LIST_COUNT
};

/* A pseudo return code: a process list whose entries failed the checks. */
#define RC_BAD_ENTRIES	(-1000)
/* ... and utilization samples none of which could be used. */
#define RC_BAD_SAMPLES	(-1001)

/*
 * One GPU as gua follows it over the ticks; also one MIG instance of a
 * GPU in MIG mode (then handle is the MIG handle).
 */
struct nvml_dev {
	unsigned	 index;		/* NVML index (a MIG instance: its GPU's) */
	int		 slot;		/* a MIG instance's slot; -1 a GPU */
	nvmlDevice_t	 handle;	/* NULL until NVML gave one */
	char		 uuid[NVML_DEVICE_UUID_V2_BUFFER_SIZE]; /* "" unknown */
	char		 name[NVML_DEVICE_NAME_V2_BUFFER_SIZE];
	int		 last_rc[M_COUNT]; /* outcome at the previous tick */
	int64_t		 read_us;	/* monotonic µs of the last read, 0 none */
	int64_t		 window_us;	/* the tick's span read_util measured,
					   0 unknown */
	int		 trim;		/* samples may reach before the window */
	int		 util_resync;	/* the last samples read failed: trim */
	int		 putil_resync;	/* ... the last process samples read */
	unsigned long long util_seen;	/* newest utilization sample, 0 none */
	unsigned long long putil_seen;	/* newest process sample, 0 none */
	struct putil	 pu;		/* this tick's reads of them */
	int		 had_procs;	/* processes at the last tick */
	unsigned	 putil_count;	/* entries of the last read */
	int		 periods;	/* utilization samples of this tick */
	int		 in_mig;	/* MIG mode at the last tick */
	struct energy_meter meter;	/* the energy counter's last read */
	struct nvml_dev	*mig;		/* its MIG instances, by slot */
	unsigned	 nmig;		/* slots in mig */
};

struct nvml {
	void		*dl;		/* dlopen handle */
	char		*path;		/* what was dlopened */
	struct nvml_fns	 f;
	struct nvml_log	 log;
	int		 initialised;	/* nvmlInit succeeded: shut down */
	char		 driver[NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE];
	int		 list_ver[LIST_COUNT]; /* version in use, 0 none */
	int		 v3_entry;	/* bytes per _v3 process entry */
	int		 mem_v1;	/* memory through v1 (includes reserved) */
	unsigned	 ndevs;		/* GPUs counted at init */
	unsigned	 last_count;	/* count seen at the previous sample */
	struct nvml_dev	*devs;
	uint64_t	 pid_max;	/* PIDs above this are garbage */
	unsigned char	*buf;		/* process-list buffer */
	size_t		 buf_cap;
	uint32_t	*pidx;		/* read_procs' PID index: an open-
					   addressing table of a GPU's tick
					   procs, index + 1 (0: empty) */
	size_t		 pidx_cap;	/* entries, a power of two */
	int64_t		 interval_us;	/* the collector's, 0 unknown */
	int		 putil_legacy;	/* the 550 call refused: the old one */
	nvmlSample_t	*sbuf;		/* utilization samples */
	size_t		 sbuf_cap;
	unsigned char	*ubuf;		/* process samples as NVML wrote them */
	size_t		 ubuf_cap;	/* bytes in ubuf */
	unsigned	 ucount;	/* entries the last read wrote there */
	struct putil_entry *pbuf;	/* ... and those gua keeps */
	size_t		 pbuf_cap;
};

/* Error strings of every code NVML.md lists (nvml.h 13.x), gua's words. */
static const struct {
	int		 code;
	const char	*name;
	const char	*text;
} errors[] = {
	{ 0, "SUCCESS", "success" },
	{ 1, "UNINITIALIZED", "NVML was not initialised" },
	{ 2, "INVALID_ARGUMENT", "invalid argument" },
	{ 3, "NOT_SUPPORTED", "not supported by this GPU or driver" },
	{ 4, "NO_PERMISSION", "permission denied" },
	{ 5, "ALREADY_INITIALIZED", "already initialised" },
	{ 6, "NOT_FOUND", "not found" },
	{ 7, "INSUFFICIENT_SIZE", "buffer too small" },
	{ 8, "INSUFFICIENT_POWER", "the GPU's power cables are not "
	    "attached properly" },
	{ 9, "DRIVER_NOT_LOADED", "the NVIDIA kernel driver is not loaded" },
	{ 10, "TIMEOUT", "timed out" },
	{ 11, "IRQ_ISSUE", "the kernel detected an interrupt problem with "
	    "the GPU" },
	{ 12, "LIBRARY_NOT_FOUND", "a library NVML needs was not found" },
	{ 13, "FUNCTION_NOT_FOUND", "this NVML lacks the function" },
	{ 14, "CORRUPTED_INFOROM", "the GPU's infoROM is corrupted" },
	{ 15, "GPU_IS_LOST", "the GPU has fallen off the bus or is otherwise "
	    "inaccessible" },
	{ 16, "RESET_REQUIRED", "the GPU needs a reset" },
	{ 17, "OPERATING_SYSTEM", "the operating system blocked the call "
	    "(cgroups?)" },
	{ 18, "LIB_RM_VERSION_MISMATCH", "the NVML library and the kernel "
	    "driver have different versions" },
	{ 19, "IN_USE", "the GPU is in use" },
	{ 20, "MEMORY", "out of memory" },
	{ 21, "NO_DATA", "no data" },
	{ 22, "VGPU_ECC_NOT_SUPPORTED", "ECC is not supported on this vGPU" },
	{ 23, "INSUFFICIENT_RESOURCES", "insufficient resources" },
	{ 24, "FREQ_NOT_SUPPORTED", "frequency not supported" },
	{ 25, "ARGUMENT_VERSION_MISMATCH", "this NVML does not know the "
	    "structure version passed" },
	{ 26, "DEPRECATED", "deprecated" },
	{ 27, "NOT_READY", "not ready" },
	{ 28, "GPU_NOT_FOUND", "GPU not found" },
	{ 29, "INVALID_STATE", "invalid state" },
	{ 30, "RESET_TYPE_NOT_SUPPORTED", "reset type not supported" },
	{ 999, "UNKNOWN", "unknown NVML error" },
};

const char *
nvml_strerror(const struct nvml *n, int code, char *buf, size_t len)
{
	const char *s;

	for (size_t i = 0; i < ARRAY_LEN(errors); i++) {
		if (errors[i].code == code) {
			snprintf(buf, len, "%s (NVML_ERROR_%s)", errors[i].text,
			    errors[i].name);
			return buf;
		}
	}
	if (n != NULL && n->f.error_string != NULL &&
	    (s = n->f.error_string(code)) != NULL && s[0] != '\0')
		snprintf(buf, len, "NVML error %d: %.120s", code, s);
	else
		snprintf(buf, len, "NVML error %d", code);
	return buf;
}

/* Sends one line to the log callback. */
static void
tell(struct nvml *n, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
tell(struct nvml *n, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (n->log.fn == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	n->log.fn(n->log.arg, msg);
}

int
nvml_v3_entry_size(const char *v)
{
	long long major, minor;
	char *end;

	errno = 0;
	major = strtoll(v, &end, 10);
	if (errno != 0 || end == v || *end != '.')
		return -1;
	v = end + 1;
	minor = strtoll(v, &end, 10);
	if (errno != 0 || end == v || (*end != '.' && *end != '\0'))
		return -1;
	/* nvml.h of 535.43.02, 535.54.03 and 535.86.05 declares the 32-byte
	   entry for _v3; 535.98 drops _v3; 535.104 is back to 24 bytes. */
	return major == 535 && minor >= 43 && minor < 98 ? PROC_ENTRY_535 :
	    PROC_ENTRY_V2;
}

/* The largest PID the kernel hands out; PIDs above are garbage. */
static uint64_t
read_pid_max(void)
{
	char buf[32];
	ssize_t len;
	long long v;
	int fd;

	fd = open("/proc/sys/kernel/pid_max", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 4194304;		/* the kernel's PID_MAX_LIMIT */
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return 4194304;
	buf[len] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (util_parse_ll(buf, 1, INT32_MAX, &v) != 0)
		return 4194304;
	return (uint64_t)v;
}

int
nvml_load(struct nvml **out, const char *path, const struct nvml_log *log,
    char *err, size_t errlen)
{
	static const char *const defaults[] = { "libnvidia-ml.so.1",
		"libnvidia-ml.so" };
	struct nvml *n;
	char first[512] = "";
	const char *missing = NULL;

	*out = NULL;
	if ((n = calloc(1, sizeof(*n))) == NULL)
		return util_err(err, errlen, "out of memory");
	if (log != NULL)
		n->log = *log;
	if (path != NULL) {
		n->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
		if (n->dl == NULL) {
			const char *e = dlerror();

			util_err(err, errlen, "cannot load NVML: %s (the "
			    "library named by --nvml-library or "
			    "GUA_NVML_LIBRARY)", e ? e : path);
			free(n);
			return -1;
		}
	} else {
		for (size_t i = 0; i < ARRAY_LEN(defaults) && !n->dl; i++) {
			n->dl = dlopen(defaults[i], RTLD_NOW | RTLD_LOCAL);
			if (n->dl == NULL && i == 0) {
				const char *e = dlerror();

				util_strlcpy(first, e ? e : defaults[0],
				    sizeof(first));
			}
			if (n->dl != NULL)
				path = defaults[i];
		}
		if (n->dl == NULL) {
			util_err(err, errlen, "cannot load NVML: %s; is the "
			    "NVIDIA driver installed? ('nvidia-smi' should "
			    "list the GPUs; without a GPU, 'gua demo' shows "
			    "what gua does)", first);
			free(n);
			return -1;
		}
	}
	if ((n->path = strdup(path)) == NULL) {
		nvml_close(n);
		return util_err(err, errlen, "out of memory");
	}
	for (size_t i = 0; i < ARRAY_LEN(symbols); i++) {
		void *p = dlsym(n->dl, symbols[i].name);

		memcpy((char *)&n->f + symbols[i].off, &p, sizeof(p));
	}
	if (!n->f.init_with_flags && !n->f.init_v2 && !n->f.init_v1)
		missing = "nvmlInit";
	else if (!n->f.shutdown)
		missing = "nvmlShutdown";
	else if (!n->f.count_v2 && !n->f.count_v1)
		missing = "nvmlDeviceGetCount";
	else if (!n->f.handle_v2 && !n->f.handle_v1)
		missing = "nvmlDeviceGetHandleByIndex";
	else if (!n->f.uuid)
		missing = "nvmlDeviceGetUUID";
	else if (!n->f.memory_v2 && !n->f.memory_v1)
		missing = "nvmlDeviceGetMemoryInfo";
	else if (!n->f.utilization)
		missing = "nvmlDeviceGetUtilizationRates";
	else if (!n->f.procs[LIST_COMPUTE][1] && !n->f.procs[LIST_COMPUTE][2] &&
	    !n->f.procs[LIST_COMPUTE][3])
		missing = "nvmlDeviceGetComputeRunningProcesses";
	if (missing != NULL) {
		util_err(err, errlen, "%s: not a usable NVML library (it has "
		    "no %s)", path, missing);
		nvml_close(n);
		return -1;
	}
	for (int l = 0; l < LIST_COUNT; l++)
		for (int v = 3; v >= 1 && n->list_ver[l] == 0; v--)
			if (n->f.procs[l][v] != NULL)
				n->list_ver[l] = v;
	n->mem_v1 = n->f.memory_v2 == NULL;
	n->pid_max = read_pid_max();
	*out = n;
	return 0;
}

const char *
nvml_library(const struct nvml *n)
{
	return n->path;
}

unsigned
nvml_gpu_count(const struct nvml *n)
{
	return n->ndevs;
}

const char *
nvml_driver_version(const struct nvml *n)
{
	return n->driver;
}

/* "GPU 0 (GPU-8f3a…)", "GPU 0 MIG 1 (MIG-c6d4…)" for log lines. */
static void
dev_label(const struct nvml_dev *d, char *buf, size_t len)
{
	char slot[32] = "";

	if (d->slot >= 0)
		snprintf(slot, sizeof(slot), " MIG %d", d->slot);
	if (d->uuid[0] != '\0')
		snprintf(buf, len, "GPU %u%s (%s)", d->index, slot, d->uuid);
	else
		snprintf(buf, len, "GPU %u%s", d->index, slot);
}

/*
 * Records the outcome of one metric of one GPU and tells the log when it
 * changed: a condition is logged when it starts and when it ends.
 */
static void
note(struct nvml *n, struct nvml_dev *d, int metric, int rc,
    const char *what, const char *consequence)
{
	char label[128], e[256];
	int prev = d->last_rc[metric];

	if (rc == prev)
		return;
	d->last_rc[metric] = rc;
	dev_label(d, label, sizeof(label));
	if (rc == NVML_SUCCESS)
		tell(n, "%s: %s: answering again", label, what);
	else if (rc == RC_BAD_ENTRIES)
		tell(n, "%s: %s: entries fail the sanity checks (PID 0 or "
		    "above pid_max, or not the size the driver wrote); %s",
		    label, what, consequence);
	else if (rc == RC_BAD_SAMPLES)
		tell(n, "%s: %s: no usable sample (values above 100 %% or of "
		    "a type gua does not read); %s", label, what, consequence);
	else
		tell(n, "%s: %s: %s; %s", label, what,
		    nvml_strerror(n, rc, e, sizeof(e)), consequence);
}

/* Asks NVML for a handle and the fixed facts of a GPU. */
static int
open_dev(struct nvml *n, struct nvml_dev *d)
{
	char buf[NVML_DEVICE_UUID_V2_BUFFER_SIZE];
	nvmlReturn_t rc;

	if (d->handle == NULL) {
		rc = n->f.handle_v2 ? n->f.handle_v2(d->index, &d->handle) :
		    n->f.handle_v1(d->index, &d->handle);
		note(n, d, M_HANDLE, rc, "nvmlDeviceGetHandleByIndex",
		    "not sampled until it answers");
		if (rc != NVML_SUCCESS) {
			d->handle = NULL;
			return -1;
		}
	}
	if (d->uuid[0] == '\0') {
		memset(buf, 0, sizeof(buf));
		rc = n->f.uuid(d->handle, buf, sizeof(buf));
		buf[sizeof(buf) - 1] = '\0';
		if (rc == NVML_SUCCESS && buf[0] == '\0')
			rc = NVML_ERROR_NOT_SUPPORTED;
		note(n, d, M_UUID, rc, "nvmlDeviceGetUUID",
		    "not sampled until it answers");
		if (rc != NVML_SUCCESS)
			return -1;
		util_strlcpy(d->uuid, buf, sizeof(d->uuid));
		memset(buf, 0, sizeof(buf));
		if (n->f.name == NULL ||
		    n->f.name(d->handle, buf, sizeof(buf)) != NVML_SUCCESS)
			buf[0] = '\0';
		buf[sizeof(buf) - 1] = '\0';
		util_strlcpy(d->name, buf, sizeof(d->name));
	}
	return 0;
}

/* The _v3 entry size: the driver version decides, the symbols otherwise. */
static void
choose_v3_entry(struct nvml *n)
{
	int by_version = nvml_v3_entry_size(n->driver);
	/* nvitop's test: only the 535.43-535.86 headers declare the
	   confidential-computing call without the detail-list call. */
	int by_symbols = n->f.conf_compute_mem_size_info != NULL &&
	    n->f.running_process_detail_list == NULL ? PROC_ENTRY_535 :
	    PROC_ENTRY_V2;

	n->v3_entry = by_version > 0 ? by_version : by_symbols;
	if (n->list_ver[LIST_COMPUTE] == 3 && n->v3_entry == PROC_ENTRY_535)
		tell(n, "driver %s: reading %d-byte process entries (the "
		    "535.43-535.97 layout)", n->driver[0] ? n->driver :
		    "of unknown version", n->v3_entry);
}

int
nvml_init(struct nvml *n, char *err, size_t errlen)
{
	nvmlReturn_t rc;
	unsigned count = 0;
	char e[256];
	const char *hint = "";

	if (n->f.init_with_flags)
		rc = n->f.init_with_flags(NVML_INIT_FLAG_NO_GPUS);
	else if (n->f.init_v2)
		rc = n->f.init_v2();
	else
		rc = n->f.init_v1();
	if (rc != NVML_SUCCESS) {
		if (rc == 9)
			hint = ": is the NVIDIA driver installed and loaded? "
			    "('nvidia-smi' should list the GPUs)";
		else if (rc == 18)
			hint = ": the driver was upgraded without reloading "
			    "its kernel module; reboot, or reload the nvidia "
			    "modules";
		else if (rc == 4)
			hint = ": run gua as a user allowed to open "
			    "/dev/nvidia*";
		return util_err(err, errlen, "NVML (%s) failed to initialise: "
		    "%s%s", n->path, nvml_strerror(n, rc, e, sizeof(e)),
		    hint);
	}
	n->initialised = 1;
	if (n->f.driver_version == NULL ||
	    n->f.driver_version(n->driver, sizeof(n->driver)) != NVML_SUCCESS)
		n->driver[0] = '\0';
	n->driver[sizeof(n->driver) - 1] = '\0';
	rc = n->f.count_v2 ? n->f.count_v2(&count) : n->f.count_v1(&count);
	if (rc != NVML_SUCCESS)
		return util_err(err, errlen, "NVML could not count the GPUs: %s",
		    nvml_strerror(n, rc, e, sizeof(e)));
	if (count > 4096)
		return util_err(err, errlen, "NVML counts %u GPUs: not "
		    "plausible", count);
	n->ndevs = count;
	n->last_count = count;
	if (count > 0 && (n->devs = calloc(count, sizeof(*n->devs))) == NULL)
		return util_err(err, errlen, "out of memory");
	for (unsigned i = 0; i < count; i++) {
		n->devs[i].index = i;
		n->devs[i].slot = -1;
		open_dev(n, &n->devs[i]);
	}
	choose_v3_entry(n);
	if (n->mem_v1)
		tell(n, "this NVML has no nvmlDeviceGetMemoryInfo_v2: a GPU's "
		    "used memory includes driver reservations");
	if (n->f.samples == NULL)
		tell(n, "this NVML has no nvmlDeviceGetSamples: utilization is "
		    "the instantaneous rate at each tick");
	if (n->f.proc_util == NULL && n->f.procs_util_info == NULL)
		tell(n, "this NVML has no per-process utilization: processes "
		    "follow their GPU's");
	return 0;
}

/* GPU-wide failures: the other calls on that GPU would fail the same way. */
static int
is_lost(nvmlReturn_t rc)
{
	return rc == NVML_ERROR_GPU_IS_LOST ||
	    rc == NVML_ERROR_RESET_REQUIRED || rc == NVML_ERROR_GPU_NOT_FOUND;
}

/* Grows the sample buffers to hold want entries; -1 out of memory. */
static int
grow_samples(struct nvml *n, size_t want)
{
	nvmlSample_t *ns;

	if (want <= n->sbuf_cap)
		return 0;
	if (want > SIZE_MAX / sizeof(*ns) ||
	    (ns = realloc(n->sbuf, want * sizeof(*ns))) == NULL)
		return -1;
	n->sbuf = ns;
	n->sbuf_cap = want;
	return 0;
}

#define SAMPLES_MAX	1000000	/* more samples than that: not plausible */
#define LIST_TRIES	4	/* INSUFFICIENT_SIZE: grow and retry */

/*
 * NVML's GPU-utilization samples newer than d->util_seen into n->sbuf.
 * The size query (samples NULL) answers SUCCESS with the count, as PYNVML
 * expects, or INSUFFICIENT_SIZE on some drivers: both are taken. Returns
 * NVML's code (NOT_FOUND: none), -2 out of memory.
 */
static int
fetch_samples(struct nvml *n, struct nvml_dev *d, unsigned *count,
    int *type)
{
	unsigned want = 0, cap = 0;
	nvmlReturn_t rc;

	*count = 0;
	rc = n->f.samples(d->handle, NVML_GPU_UTILIZATION_SAMPLES,
	    d->util_seen, type, &want, NULL);
	if (rc != NVML_SUCCESS && rc != NVML_ERROR_INSUFFICIENT_SIZE)
		return rc;
	for (int tries = 0; tries < LIST_TRIES; tries++) {
		if (want == 0)
			return NVML_ERROR_NOT_FOUND;
		if (want > SAMPLES_MAX)
			return RC_BAD_SAMPLES;
		/* Room for the samples taken between the two calls. */
		cap = want + want / 4 + 16;
		if (grow_samples(n, cap) != 0)
			return -2;
		*count = cap;
		rc = n->f.samples(d->handle, NVML_GPU_UTILIZATION_SAMPLES,
		    d->util_seen, type, count, n->sbuf);
		if (rc != NVML_ERROR_INSUFFICIENT_SIZE)
			break;
		want = *count > cap ? *count : cap * 2;
	}
	if (rc == NVML_SUCCESS && *count > cap)
		return RC_BAD_SAMPLES;
	return rc;
}

/* A sample's value in percent by its type; -1 unusable (or above 100). */
static int
sample_pct(int type, const nvmlValue_t *v)
{
	unsigned long long u;

	switch (type) {
	case NVML_VALUE_TYPE_UNSIGNED_INT:
		u = v->uiVal;
		break;
	case NVML_VALUE_TYPE_UNSIGNED_LONG:
		u = v->ulVal;
		break;
	case NVML_VALUE_TYPE_UNSIGNED_LONG_LONG:
		u = v->ullVal;
		break;
	case NVML_VALUE_TYPE_UNSIGNED_SHORT:
		u = v->usVal;
		break;
	case NVML_VALUE_TYPE_SIGNED_INT:
		if (v->siVal < 0)
			return -1;
		u = (unsigned long long)v->siVal;
		break;
	case NVML_VALUE_TYPE_SIGNED_LONG_LONG:
		if (v->sllVal < 0)
			return -1;
		u = (unsigned long long)v->sllVal;
		break;
	case NVML_VALUE_TYPE_DOUBLE:
		if (!(v->dVal >= 0 && v->dVal <= 100))
			return -1;
		return (int)(v->dVal + 0.5);
	default:
		return -1;
	}
	return u > 100 ? -1 : (int)u;
}

/*
 * The span of the tick in µs: the time since this GPU was last read (the
 * collector's interval for the first read), capped at two intervals as
 * the collector caps spans. d->trim tells whether the samples may reach
 * further back than that (a first read gets the whole buffer; after a
 * long pause, what is beyond the cap was not observed): then samples
 * older than the window before the newest one are left out.
 */
static void
measure_window(struct nvml *n, struct nvml_dev *d, int64_t now)
{
	int64_t w = d->read_us > 0 ? now - d->read_us : n->interval_us;

	d->trim = d->read_us == 0;
	if (n->interval_us > 0 && w > 2 * n->interval_us) {
		w = 2 * n->interval_us;
		d->trim = 1;
	}
	d->window_us = w > 0 ? w : 0;
	d->read_us = now;
}

/*
 * The card's utilization over the tick from its samples in n->sbuf:
 * their mean (every sample stands for one sampling period), their
 * largest, and the share of the tick they cover. The samples cover from
 * one period before the oldest to the newest; a period is the mean
 * spacing of the samples; a lone sample covers the time since the
 * newest one of the previous read. Returns 0; 1 when no sample is newer
 * than those read before (as good as an empty buffer); -1 when no value
 * is usable.
 */
static int
summarise_samples(struct nvml *n, struct nvml_dev *d, unsigned count,
    int type, struct tick_gpu *g)
{
	unsigned long long newest = 0, oldest = 0, from = 0;
	unsigned long long seen = d->util_seen;
	long long sum = 0;
	int max = 0, used = 0;

	for (unsigned i = 0; i < count; i++)
		if (n->sbuf[i].timeStamp > newest &&
		    sample_pct(type, &n->sbuf[i].sampleValue) >= 0)
			newest = n->sbuf[i].timeStamp;
	if (newest == 0)
		return -1;
	if (newest <= seen)
		return 1;
	if ((d->trim || d->util_resync) && d->window_us > 0 &&
	    newest > (unsigned long long)d->window_us)
		from = newest - (unsigned long long)d->window_us;
	for (unsigned i = 0; i < count; i++) {
		unsigned long long ts = n->sbuf[i].timeStamp;
		int v = sample_pct(type, &n->sbuf[i].sampleValue);

		/* Stale (not newer than what was read) or before the window. */
		if (v < 0 || ts <= seen || ts <= from)
			continue;
		if (used == 0 || ts < oldest)
			oldest = ts;
		sum += v;
		if (v > max)
			max = v;
		used++;
	}
	d->util_seen = newest;
	if (used == 0)
		return 1;
	/* The mean in per mille, rounded half up, in integers. */
	g->util_pm = (int)((sum * 20 + used) / (2 * used));
	g->util_max_pct = max;
	g->util_src = UTIL_SRC_SAMPLES;
	d->periods = used;
	if (d->window_us > 0) {
		unsigned long long covered = 0;

		if (used > 1)
			covered = (newest - oldest) * (unsigned long long)used /
			    (unsigned long long)(used - 1);
		else if (seen > 0 && !d->trim && !d->util_resync)
			covered = newest - seen;
		if (covered > 0)
			g->util_cover_pm = covered >= (unsigned long long)
			    d->window_us ? 1000 : (int)(covered * 1000 /
			    (unsigned long long)d->window_us);
	}
	return 0;
}

/*
 * The card's utilization: NVML's buffered samples of the tick when it
 * keeps them (an empty buffer: no kernel ran, 0 %), else the
 * instantaneous rate (one sampling period, at most a second, before the
 * read), else unknown.
 */
static int
read_util(struct nvml *n, struct nvml_dev *d, struct tick_gpu *g,
    int64_t now_us, nvmlReturn_t *lost)
{
	nvmlUtilization_t u;
	nvmlReturn_t rc;
	unsigned count;
	int type = -1;

	measure_window(n, d, now_us);
	d->periods = 0;
	if (n->f.samples != NULL) {
		rc = fetch_samples(n, d, &count, &type);
		if (rc == -2)
			return -1;
		if (is_lost(rc)) {
			*lost = rc;
			return 0;
		}
		if (rc == NVML_SUCCESS) {
			int r = summarise_samples(n, d, count, type, g);

			if (r < 0)
				rc = RC_BAD_SAMPLES;
			else if (r > 0)
				rc = NVML_ERROR_NOT_FOUND;
		}
		/* What a failed read left in the buffer is not this tick's. */
		d->util_resync = rc != NVML_SUCCESS &&
		    rc != NVML_ERROR_NOT_FOUND;
		if (rc == NVML_ERROR_NOT_FOUND) {
			/* The buffer runs dry when the GPU idles. */
			note(n, d, M_SAMPLES, NVML_SUCCESS, "utilization samples",
			    "");
			note(n, d, M_UTIL, NVML_SUCCESS, "utilization", "");
			g->util_pm = 0;
			g->util_max_pct = 0;
			g->util_cover_pm = 0;
			g->util_src = UTIL_SRC_SAMPLES_EMPTY;
			return 0;
		}
		note(n, d, M_SAMPLES, rc, "utilization samples",
		    "using the instantaneous rate");
		if (rc == NVML_SUCCESS) {
			note(n, d, M_UTIL, NVML_SUCCESS, "utilization", "");
			return 0;
		}
	}
	memset(&u, 0, sizeof(u));
	rc = n->f.utilization(d->handle, &u);
	if (is_lost(rc)) {
		*lost = rc;
		return 0;
	}
	note(n, d, M_UTIL, rc, "utilization", "recorded as unknown");
	if (rc != NVML_SUCCESS || u.gpu > 100)
		return 0;
	g->util_pm = (int)u.gpu * 10;
	g->util_max_pct = (int)u.gpu;
	g->util_src = UTIL_SRC_INSTANT;
	return 0;
}

/* NVML cannot tell this on this card or driver: no error. */
static int
unsupported(nvmlReturn_t rc)
{
	return rc == NVML_ERROR_NOT_SUPPORTED ||
	    rc == NVML_ERROR_FUNCTION_NOT_FOUND;
}

/*
 * The GPU's energy over the tick: the total-energy counter's difference
 * where the card has one, else power usage x span (energy.c). NOT_SUPPORTED
 * is no error: the fallback is the design. A counter that answers
 * success with NVML's "not available" value is no counter either. Power is
 * read only where the counter cannot tell (no base, a reset, a base older
 * than the span). The span is read_util's window, else the collector's
 * interval.
 */
static void
read_energy(struct nvml *n, struct nvml_dev *d, struct tick_gpu *g,
    int64_t now_us, nvmlReturn_t *lost)
{
	struct energy_read r;
	unsigned long long mj = 0;
	nvmlReturn_t erc = NVML_ERROR_FUNCTION_NOT_FOUND;
	nvmlReturn_t prc = NVML_ERROR_FUNCTION_NOT_FOUND;
	int64_t span_ms = (d->window_us > 0 ? d->window_us : n->interval_us) /
	    1000;

	if (n->f.total_energy != NULL)
		erc = n->f.total_energy(d->handle, &mj);
	if (is_lost(erc)) {
		*lost = erc;
		return;
	}
	if (erc == NVML_SUCCESS && mj == NVML_VALUE_NOT_AVAILABLE_ULL)
		erc = NVML_ERROR_NOT_SUPPORTED;
	memset(&r, 0, sizeof(r));
	r.counter_ok = erc == NVML_SUCCESS;
	r.counter_mj = mj;
	r.now_ms = now_us / 1000;
	if (n->f.power_usage != NULL &&
	    energy_wants_power(&d->meter, &r, span_ms)) {
		unsigned int mw = 0;

		prc = n->f.power_usage(d->handle, &mw);
		if (is_lost(prc)) {
			*lost = prc;
			return;
		}
		r.power_ok = prc == NVML_SUCCESS;
		r.power_mw = mw;
	}
	/* A card with neither (MIG, old boards) is unknown, not failing. */
	if (r.counter_ok || r.power_ok || (unsupported(erc) &&
	    unsupported(prc)))
		erc = NVML_SUCCESS;
	else if (unsupported(erc))
		erc = prc;
	note(n, d, M_ENERGY, erc, "energy", "recorded as unknown");
	g->energy_src = energy_tick(&d->meter, &r, span_ms, &g->energy_mj);
}

/* Memory in MiB; *total_bytes for the plausibility check of processes. */
static void
read_memory(struct nvml *n, struct nvml_dev *d, struct tick_gpu *g,
    unsigned long long *total_bytes, nvmlReturn_t *lost)
{
	unsigned long long total = 0, used = 0;
	nvmlReturn_t rc = NVML_ERROR_FUNCTION_NOT_FOUND;
	char e[256];

	if (!n->mem_v1) {
		nvmlMemory_v2_t m;

		memset(&m, 0, sizeof(m));
		m.version = nvmlMemory_v2;
		rc = n->f.memory_v2(d->handle, &m);
		if ((rc == NVML_ERROR_FUNCTION_NOT_FOUND ||
		    rc == NVML_ERROR_ARGUMENT_VERSION_MISMATCH) &&
		    n->f.memory_v1 != NULL) {
			n->mem_v1 = 1;
			tell(n, "nvmlDeviceGetMemoryInfo_v2: %s; using "
			    "nvmlDeviceGetMemoryInfo, whose used memory "
			    "includes driver reservations",
			    nvml_strerror(n, rc, e, sizeof(e)));
		} else {
			total = m.total;
			used = m.used;
		}
	}
	if (n->mem_v1) {
		nvmlMemory_t m;

		memset(&m, 0, sizeof(m));
		rc = n->f.memory_v1(d->handle, &m);
		total = m.total;
		used = m.used;
	}
	if (is_lost(rc)) {
		*lost = rc;
		return;
	}
	note(n, d, M_MEMORY, rc, "memory", "recorded as unknown");
	if (rc != NVML_SUCCESS)
		return;
	*total_bytes = total;
	g->mem_total_mib = (int64_t)(total >> 20);
	g->mem_used_mib = used > total ? MIB_UNKNOWN : (int64_t)(used >> 20);
}

static int
grow_buf(struct nvml *n, size_t entries)
{
	size_t need;
	unsigned char *nb;

	if (entries > SIZE_MAX / PROC_ENTRY_MAX - 1)
		return -1;
	need = (entries + 1) * PROC_ENTRY_MAX;
	if (need <= n->buf_cap)
		return 0;
	if ((nb = realloc(n->buf, need)) == NULL)
		return -1;
	n->buf = nb;
	n->buf_cap = need;
	return 0;
}

#define SENTINEL	0xA5	/* fills the buffer before NVML writes it */

/* Entries plausible at this size: PIDs in range, memory written. */
static int
entries_ok(const struct nvml *n, unsigned count, int size)
{
	static const unsigned char unwritten[8] = { SENTINEL, SENTINEL,
		SENTINEL, SENTINEL, SENTINEL, SENTINEL, SENTINEL, SENTINEL };

	for (unsigned i = 0; i < count; i++) {
		const unsigned char *e = n->buf + (size_t)i * (size_t)size;
		uint32_t pid;

		memcpy(&pid, e + PROC_PID_OFF, sizeof(pid));
		if (pid == 0 || pid > n->pid_max ||
		    memcmp(e + PROC_MEM_OFF, unwritten, 8) == 0)
			return 0;
	}
	return 1;
}

/*
 * The size of the entries NVML wrote, checked against what it is believed
 * to be: the sentinel shows where the writing ended. Returns the size to
 * read the entries with, or -1 when nothing fits.
 */
static int
entry_size(struct nvml *n, int ver, unsigned count, size_t filled)
{
	int sizes[2], nsizes = 1;
	size_t end = filled;

	while (end > 0 && n->buf[end - 1] == SENTINEL)
		end--;
	sizes[0] = ver == 3 ? n->v3_entry : ver == 2 ? PROC_ENTRY_V2 :
	    PROC_ENTRY_V1;
	/* Only _v3 has two layouts in the wild. */
	if (ver == 3)
		sizes[nsizes++] = n->v3_entry == PROC_ENTRY_V2 ?
		    PROC_ENTRY_535 : PROC_ENTRY_V2;
	for (int i = 0; i < nsizes; i++) {
		size_t want = (size_t)count * (size_t)sizes[i];

		/* The last entry's final bytes may be the sentinel's value
		   (rarely); anything within one field of the end fits. When
		   the whole buffer was written, the measure says nothing. */
		if ((end == filled || (end + 8 > want && end <= want)) &&
		    entries_ok(n, count, sizes[i]))
			return sizes[i];
	}
	return -1;
}

/* Slot of pid in n->pidx, or of the empty entry where it would go. */
static size_t
pidx_find(const struct nvml *n, const struct tick_gpu *g, uint32_t pid)
{
	size_t k = (pid * 2654435761u) & (n->pidx_cap - 1);

	while (n->pidx[k] != 0 && g->procs[n->pidx[k] - 1].pid != pid)
		k = (k + 1) & (n->pidx_cap - 1);
	return k;
}

/*
 * Fills the PID index with g's processes, room for at least want. With
 * a thousand processes on a GPU, a scan of the ones read so far for
 * each new one was the collector's largest cost.
 */
static int
pidx_fill(struct nvml *n, const struct tick_gpu *g, size_t want)
{
	size_t cap = 64;

	while (cap < want * 2)
		cap *= 2;
	if (cap > n->pidx_cap) {
		uint32_t *v = realloc(n->pidx, cap * sizeof(*v));

		if (v == NULL)
			return -1;
		n->pidx = v;
		n->pidx_cap = cap;
	}
	memset(n->pidx, 0, n->pidx_cap * sizeof(*n->pidx));
	for (size_t i = 0; i < g->nprocs; i++)
		n->pidx[pidx_find(n, g, g->procs[i].pid)] = (uint32_t)i + 1;
	return 0;
}

/* g's process pid, added when it is new; -1 out of memory. */
static int
pid_slot(struct nvml *n, struct tick_gpu *g, uint32_t pid,
    struct tick_proc **out)
{
	size_t k;

	/* At most half full, so a search always ends. */
	if ((g->nprocs + 1) * 2 > n->pidx_cap &&
	    pidx_fill(n, g, g->nprocs * 2 + 1) != 0)
		return -1;
	k = pidx_find(n, g, pid);
	if (n->pidx[k] != 0) {
		*out = &g->procs[n->pidx[k] - 1];
		return 0;
	}
	if ((*out = tick_add_proc(g)) == NULL)
		return -1;
	(*out)->pid = pid;
	n->pidx[k] = (uint32_t)g->nprocs;
	return 0;
}

/*
 * One process list of one GPU, merged into g by PID (a process can be in
 * several lists with the same memory; the largest value is kept).
 * Returns NVML's code, or RC_BAD_ENTRIES; -2 when out of memory.
 */
static int
read_list(struct nvml *n, struct nvml_dev *d, int list, struct tick_gpu *g,
    unsigned long long total)
{
	unsigned count = 0, cap = 0;
	nvmlReturn_t rc;
	int ver, size;
	size_t filled;
	char e[256];

	for (;;) {
		int older;

		ver = n->list_ver[list];
		count = 0;
		rc = n->f.procs[list][ver](d->handle, &count, NULL);
		for (older = ver - 1; older >= 1 &&
		    n->f.procs[list][older] == NULL; older--)
			;
		if (rc != NVML_ERROR_FUNCTION_NOT_FOUND || older < 1)
			break;
		/* Exported but refused (as _v3 on 535.98): an older one. */
		n->list_ver[list] = older;
		tell(n, "nvmlDeviceGet%s%s: %s; using the older call",
		    list_name[list], ver == 3 ? "_v3" : ver == 2 ? "_v2" : "",
		    nvml_strerror(n, rc, e, sizeof(e)));
	}
	if (rc == NVML_SUCCESS)
		return NVML_SUCCESS;	/* no process */
	for (int tries = 0; rc == NVML_ERROR_INSUFFICIENT_SIZE &&
	    tries < LIST_TRIES; tries++) {
		/* Room for processes that start between the two calls. */
		cap = count + count / 2 + 4;
		if (cap < count || grow_buf(n, cap) != 0)
			return -2;
		filled = (size_t)cap * PROC_ENTRY_MAX;
		memset(n->buf, SENTINEL, filled);
		count = cap;
		rc = n->f.procs[list][ver](d->handle, &count, n->buf);
	}
	if (rc != NVML_SUCCESS)
		return rc;
	if (count > cap)
		return RC_BAD_ENTRIES;
	if ((size = entry_size(n, ver, count, (size_t)cap * PROC_ENTRY_MAX)) < 0)
		return RC_BAD_ENTRIES;
	if (ver == 3 && size != n->v3_entry) {
		tell(n, "driver %s writes %d-byte process entries, not %d: "
		    "reading them so from now on", n->driver[0] ? n->driver :
		    "of unknown version", size, n->v3_entry);
		n->v3_entry = size;
	}
	for (unsigned i = 0; i < count; i++) {
		const unsigned char *p = n->buf + (size_t)i * (size_t)size;
		unsigned long long mem;
		struct tick_proc *tp = NULL;
		uint32_t pid;
		int64_t mib;

		memcpy(&pid, p + PROC_PID_OFF, sizeof(pid));
		memcpy(&mem, p + PROC_MEM_OFF, sizeof(mem));
		if (mem == NVML_VALUE_NOT_AVAILABLE_ULL ||
		    (total != 0 && mem > total))
			mib = MIB_UNKNOWN;
		else
			mib = (int64_t)(mem >> 20);
		if (pid_slot(n, g, pid, &tp) != 0)
			return -2;
		if (mib > tp->mem_mib)
			tp->mem_mib = mib;
	}
	return NVML_SUCCESS;
}

/* Every process list of a GPU; procs_known 0 when one could not be read. */
static int
read_procs(struct nvml *n, struct nvml_dev *d, struct tick_gpu *g,
    unsigned long long total, nvmlReturn_t *lost)
{
	char what[96];
	int rc;

	/* A list may name a process twice, and a process may be on several
	   lists: one index of the GPU's processes, by PID. */
	if (pidx_fill(n, g, g->nprocs + 1) != 0)
		return -1;
	for (int l = 0; l < LIST_COUNT; l++) {
		if (n->list_ver[l] == 0)
			continue;
		rc = read_list(n, d, l, g, total);
		if (rc == -2)
			return -1;
		if (is_lost(rc)) {
			*lost = rc;
			return 0;
		}
		snprintf(what, sizeof(what), "nvmlDeviceGet%s", list_name[l]);
		/* Graphics and MPS lists are often unsupported: no such
		   processes, then. Without the compute list nothing is known. */
		if (rc == NVML_ERROR_NOT_SUPPORTED && l != LIST_COMPUTE) {
			note(n, d, M_LIST + l, rc, what, "treated as empty");
			continue;
		}
		note(n, d, M_LIST + l, rc, what,
		    "processes recorded as unknown");
		if (rc != NVML_SUCCESS)
			g->procs_known = 0;
	}
	if (!g->procs_known)
		g->nprocs = 0;
	return 0;
}

/*
 * One call for process-utilization samples newer than d->putil_seen:
 * nvmlDeviceGetProcessesUtilizationInfo (550 and later) or the older
 * nvmlDeviceGetProcessUtilization. buf NULL asks for the count.
 */
static nvmlReturn_t
putil_call(struct nvml *n, struct nvml_dev *d, unsigned *count, void *buf)
{
	if (n->f.procs_util_info != NULL && !n->putil_legacy) {
		nvmlProcessesUtilizationInfo_v1_t info;
		nvmlReturn_t rc;

		memset(&info, 0, sizeof(info));
		info.version = nvmlProcessesUtilizationInfo_v1;
		info.processSamplesCount = buf != NULL ? *count : 0;
		info.lastSeenTimeStamp = d->putil_seen;
		info.procUtilArray = buf;
		rc = n->f.procs_util_info(d->handle, &info);
		*count = info.processSamplesCount;
		return rc;
	}
	return n->f.proc_util(d->handle, buf, count, d->putil_seen);
}

/* Size of one entry in the layout of the call in use. */
static size_t
putil_entry_size(const struct nvml *n)
{
	return n->f.procs_util_info != NULL && !n->putil_legacy ?
	    sizeof(nvmlProcessUtilizationInfo_v1_t) :
	    sizeof(nvmlProcessUtilizationSample_t);
}

/*
 * The samples into n->ubuf, count of them. A read a second must be cheap:
 * the buffer from the last read is offered at once, and only a driver
 * that wants more is asked for its count (answered with INSUFFICIENT_SIZE
 * and the count, or SUCCESS and 100 whatever the load: NVML.md). Returns
 * NVML's code (NOT_FOUND: none since the last read), -2 out of memory.
 */
static int
fetch_putil(struct nvml *n, struct nvml_dev *d, unsigned *count)
{
	size_t cap = 0;
	unsigned want = 0;
	nvmlReturn_t rc;
	char e[256];

	*count = 0;
	for (int tries = 0; tries < LIST_TRIES; tries++) {
		cap = n->ubuf_cap / putil_entry_size(n);
		want = (unsigned)cap;
		rc = putil_call(n, d, &want, cap > 0 ? n->ubuf : NULL);
		/* Exported but refused: the older call from now on. */
		if (n->f.procs_util_info != NULL && !n->putil_legacy &&
		    n->f.proc_util != NULL &&
		    (rc == NVML_ERROR_FUNCTION_NOT_FOUND ||
		    rc == NVML_ERROR_ARGUMENT_VERSION_MISMATCH)) {
			n->putil_legacy = 1;
			tell(n, "nvmlDeviceGetProcessesUtilizationInfo: %s; using "
			    "nvmlDeviceGetProcessUtilization",
			    nvml_strerror(n, rc, e, sizeof(e)));
			continue;
		}
		if (rc == NVML_SUCCESS && cap == 0)
			rc = want > 0 ? NVML_ERROR_INSUFFICIENT_SIZE :
			    NVML_ERROR_NOT_FOUND;
		if (rc != NVML_ERROR_INSUFFICIENT_SIZE)
			break;
		if (want > SAMPLES_MAX)
			return RC_BAD_ENTRIES;
		if (want <= cap)
			want = (unsigned)(cap * 2);
		want += want / 4 + 16;
		if (want > SAMPLES_MAX)
			want = SAMPLES_MAX;
		if (grow((void **)&n->ubuf, &n->ubuf_cap,
		    (size_t)want * putil_entry_size(n), 1) != 0)
			return -2;
	}
	if (rc != NVML_SUCCESS)
		return rc;
	if (want > cap)
		return RC_BAD_ENTRIES;
	*count = want;
	return NVML_SUCCESS;
}

/* Entry i of n->ubuf, from either layout. */
static struct putil_entry
putil_entry_at(const struct nvml *n, unsigned i)
{
	struct putil_entry p;

	if (n->f.procs_util_info != NULL && !n->putil_legacy) {
		nvmlProcessUtilizationInfo_v1_t u;

		memcpy(&u, n->ubuf + (size_t)i * sizeof(u), sizeof(u));
		p.ts = u.timeStamp;
		p.pid = u.pid;
		p.sm = u.smUtil;
	} else {
		nvmlProcessUtilizationSample_t u;

		memcpy(&u, n->ubuf + (size_t)i * sizeof(u), sizeof(u));
		p.ts = u.timeStamp;
		p.pid = u.pid;
		p.sm = u.smUtil;
	}
	return p;
}

/*
 * One read of the process samples newer than the last read's newest, into
 * d->pu (putil.h adds them up). Junk is dropped: values above 100 %, PID
 * 0, timestamps not newer than the last read. After a first read, or one
 * that failed, only the samples of one window before the newest count:
 * the rest is older than what the tick stands for. Returns NVML's code
 * (NOT_FOUND: nobody was busy, a read like any other), -2 out of memory.
 */
static int
putil_read_once(struct nvml *n, struct nvml_dev *d, int64_t now_us)
{
	unsigned long long newest = 0, from = 0, seen = d->putil_seen;
	int64_t window = d->window_us > 0 ? d->window_us : n->interval_us;
	unsigned count = 0;
	size_t used = 0;
	int rc;

	rc = fetch_putil(n, d, &count);
	n->ucount = count;
	d->putil_count = count;
	if (rc == -2)
		return -2;
	if (rc != NVML_SUCCESS && rc != NVML_ERROR_NOT_FOUND) {
		d->putil_resync = 1;
		return rc;
	}
	if (grow((void **)&n->pbuf, &n->pbuf_cap, count, sizeof(*n->pbuf))
	    != 0)
		return -2;
	for (unsigned i = 0; i < count; i++) {
		struct putil_entry p = putil_entry_at(n, i);

		if (p.sm <= 100 && p.pid != 0 && p.ts > seen && p.ts > newest)
			newest = p.ts;
	}
	if ((seen == 0 || d->putil_resync) && window > 0 &&
	    newest > (unsigned long long)window)
		from = newest - (unsigned long long)window;
	for (unsigned i = 0; i < count; i++) {
		struct putil_entry p = putil_entry_at(n, i);

		if (p.sm > 100 || p.pid == 0 || p.ts <= seen || p.ts <= from)
			continue;
		n->pbuf[used++] = p;
	}
	if (newest > d->putil_seen)
		d->putil_seen = newest;
	d->putil_resync = 0;
	if (putil_read(&d->pu, now_us, n->pbuf, used) != 0)
		return -2;
	return rc;
}

/*
 * Each process's own SM utilization over the tick: a last read, then
 * what this tick's reads add up to (putil.h). A process without an entry
 * was idle: 0 %. When the reads cannot tell yet (the first tick of a
 * driver that gives an entry per read; per period, no period count),
 * processes stay unknown and their card decides. A read that fails makes
 * the tick's processes unknown, told once.
 */
static int
read_putil(struct nvml *n, struct nvml_dev *d, struct tick_gpu *g,
    int64_t now_us, nvmlReturn_t *lost)
{
	int rc, card;

	if (n->f.proc_util == NULL && n->f.procs_util_info == NULL)
		return 0;
	if (g->util_src == UTIL_SRC_SAMPLES && d->periods > 0 &&
	    d->window_us > 0)
		putil_hint_period(&d->pu,
		    (unsigned long long)d->window_us / (unsigned)d->periods);
	rc = putil_read_once(n, d, now_us);
	if (rc == -2)
		return -1;
	if (is_lost(rc))
		*lost = rc;
	if (rc != NVML_SUCCESS && rc != NVML_ERROR_NOT_FOUND) {
		if (!is_lost(rc))
			note(n, d, M_PUTIL, rc, "per-process utilization",
			    "processes follow their GPU's utilization");
		putil_next_tick(&d->pu);
		return 0;
	}
	note(n, d, M_PUTIL, NVML_SUCCESS, "per-process utilization", "");
	card = g->util_src == UTIL_SRC_SAMPLES ? d->periods : 0;
	d->had_procs = g->nprocs > 0 || !g->procs_known;
	for (size_t k = 0; k < g->nprocs; k++) {
		int v = putil_result(&d->pu, g->procs[k].pid, d->window_us, card);

		g->procs[k].util_pm = v < 0 ? UTIL_UNKNOWN : v;
	}
	putil_next_tick(&d->pu);
	return 0;
}

/*
 * A driver that gives an entry per sampling period keeps them for a
 * while: its GPU is read every PERIOD_READ_US between ticks, often enough
 * for a buffer of a few thousand entries unless a read brought more than
 * PERIOD_READ_MANY, which is read at every poll.
 */
#define PERIOD_READ_US		5000000
#define PERIOD_READ_MANY	512
/* A GPU nobody has been busy on for QUIET_US is read every QUIET_US:
   the cadence of a collector at 10 s and beyond. */
#define QUIET_US		1000000

/*
 * How long after its last read GPU d needs the next, at the caller's
 * cadence every_us. A GPU whose reads found nobody busy for a second
 * (putil.h: no new entry since) is read once a second: such reads find
 * nothing and only cost a wakeup (at 200 ms, 1000 idle holders woke the
 * collector ten times a tick for nothing). The first read after work
 * starts there stands for up to a second, as every read does at the
 * default interval: under the latest-period behaviour, the start of
 * work after a quiet second is sampled, not followed. Work with shorter
 * pauses keeps the cadence, and so does a busy GPU: under that
 * behaviour each read is one point weighted by the time since the one
 * before, so reading only once a sampling period, unevenly, would weigh
 * some periods twice as much as others.
 */
static int64_t
read_wait(const struct nvml_dev *d, int64_t every_us, int64_t now_us)
{
	if (d->pu.per_period)
		return d->putil_count < PERIOD_READ_MANY ? PERIOD_READ_US :
		    every_us;
	if (d->pu.idle_reads > 0 && every_us < QUIET_US &&
	    now_us - d->pu.newest_at_us >= QUIET_US)
		return QUIET_US;
	return every_us;
}

int64_t
nvml_poll(struct nvml *n, int64_t now_us, int64_t every_us)
{
	int64_t wait = -1;

	if (!n->initialised ||
	    (n->f.proc_util == NULL && n->f.procs_util_info == NULL))
		return -1;
	if (every_us < 1)
		every_us = 1;
	for (unsigned i = 0; i < n->ndevs; i++) {
		struct nvml_dev *d = &n->devs[i];
		int64_t due;

		/* Not a GPU in MIG mode (no per-process utilization), not
		   one that failed at the last tick (the tick tells), not one
		   nobody held then: a process that comes is read from the
		   next tick on, its first read covering the time before. */
		if (d->handle == NULL || d->in_mig || !d->had_procs ||
		    d->last_rc[M_DEVICE] != NVML_SUCCESS ||
		    d->last_rc[M_PUTIL] != NVML_SUCCESS)
			continue;
		due = d->pu.last_read_us + read_wait(d, every_us, now_us) -
		    now_us;
		if (d->pu.last_read_us == 0 || due <= 0) {
			(void)putil_read_once(n, d, now_us);
			due = read_wait(d, every_us, now_us);
		}
		if (wait < 0 || due < wait)
			wait = due;
	}
	return wait;
}

int
nvml_putil_probe(struct nvml *n, unsigned index, int64_t now_us,
    struct putil_entry *raw, size_t max, size_t *count)
{
	struct nvml_dev *d;
	int rc;

	*count = 0;
	if (index >= n->ndevs || n->devs[index].handle == NULL)
		return NVML_ERROR_INVALID_ARGUMENT;
	if (n->f.proc_util == NULL && n->f.procs_util_info == NULL)
		return NVML_ERROR_FUNCTION_NOT_FOUND;
	d = &n->devs[index];
	n->ucount = 0;
	rc = putil_read_once(n, d, now_us);
	for (unsigned i = 0; rc != -2 && i < n->ucount && *count < max; i++)
		raw[(*count)++] = putil_entry_at(n, i);
	return rc == -2 ? NVML_ERROR_MEMORY : rc;
}

int
nvml_putil_behaviour(const struct nvml *n, unsigned index, int *most)
{
	const struct nvml_dev *d;

	if (index >= n->ndevs)
		return -1;
	d = &n->devs[index];
	*most = d->pu.most_entries;
	return d->pu.per_period;
}

/* Marks a GPU of the tick unknown: lost, or NVML failing on it as a whole. */
static void
gpu_unknown(struct tick_gpu *g)
{
	g->util_pm = UTIL_UNKNOWN;
	g->util_max_pct = -1;
	g->util_cover_pm = -1;
	g->util_src = UTIL_SRC_NONE;
	g->mem_total_mib = MIB_UNKNOWN;
	g->mem_used_mib = MIB_UNKNOWN;
	g->procs_known = 0;
	g->nprocs = 0;
}

/* A GPU or MIG instance into the tick, as unknown; NULL out of memory. */
static struct tick_gpu *
add_gpu(struct tick *t, const struct nvml_dev *d, const char *parent)
{
	struct tick_gpu *g = tick_add_gpu(t);

	if (g == NULL)
		return NULL;
	util_strlcpy(g->uuid, d->uuid, sizeof(g->uuid));
	util_strlcpy(g->name, d->name, sizeof(g->name));
	util_strlcpy(g->parent_uuid, parent, sizeof(g->parent_uuid));
	g->index = (int)d->index;
	return g;
}

/*
 * One MIG instance: memory and processes through its own handle. NVML has
 * no utilization for MIG instances (device, samples and per-process calls
 * all say NOT_SUPPORTED), so it is not asked: the card and its
 * processes are unknown, which the report shows as such, never as idle.
 */
static int
sample_mig_dev(struct nvml *n, struct nvml_dev *parent, struct nvml_dev *m,
    struct tick *t)
{
	unsigned long long total = 0;
	nvmlReturn_t lost = NVML_SUCCESS;
	struct tick_gpu *g;

	if ((g = add_gpu(t, m, parent->uuid)) == NULL)
		return -1;
	read_memory(n, m, g, &total, &lost);
	if (lost == NVML_SUCCESS && read_procs(n, m, g, total, &lost) != 0)
		return -1;
	if (lost != NVML_SUCCESS)
		gpu_unknown(g);
	return 0;
}

/*
 * A GPU in MIG mode: its instances, each recorded as a GPU whose parent is
 * this one (the GPU itself is not, so no time counts twice). Slots are
 * read again every tick: instances come and go, and NVML may reuse a
 * handle for another one, so an instance is known by its UUID.
 */
static int
sample_mig(struct nvml *n, struct nvml_dev *d, struct tick *t,
    nvmlReturn_t *lost)
{
	unsigned max = 0, found = 0;
	nvmlReturn_t rc;

	rc = n->f.mig_count(d->handle, &max);
	if (rc == NVML_SUCCESS && max > 64)
		max = 64;
	if (rc != NVML_SUCCESS) {
		if (is_lost(rc))
			*lost = rc;
		note(n, d, M_MIG, rc, "nvmlDeviceGetMaxMigDeviceCount",
		    "its MIG instances are not recorded");
		return 0;
	}
	if (max > d->nmig) {
		struct nvml_dev *nm = realloc(d->mig, max * sizeof(*nm));

		if (nm == NULL)
			return -1;
		memset(nm + d->nmig, 0, (max - d->nmig) * sizeof(*nm));
		d->mig = nm;
		d->nmig = max;
	}
	for (unsigned i = 0; i < max; i++) {
		struct nvml_dev *m = &d->mig[i];
		char uuid[NVML_DEVICE_UUID_V2_BUFFER_SIZE];
		nvmlDevice_t h = NULL;

		rc = n->f.mig_handle(d->handle, i, &h);
		if (is_lost(rc)) {
			*lost = rc;
			return 0;
		}
		if (rc != NVML_SUCCESS || h == NULL) {
			/* NOT_FOUND: an empty slot. */
			m->uuid[0] = '\0';
			continue;
		}
		memset(uuid, 0, sizeof(uuid));
		if (n->f.uuid(h, uuid, sizeof(uuid)) != NVML_SUCCESS ||
		    uuid[sizeof(uuid) - 1] != '\0' || uuid[0] == '\0')
			continue;
		if (strcmp(uuid, m->uuid) != 0) {
			/* Another instance in this slot: start afresh. */
			memset(m, 0, sizeof(*m));
			util_strlcpy(m->uuid, uuid, sizeof(m->uuid));
			if (n->f.name == NULL ||
			    n->f.name(h, m->name, sizeof(m->name)) !=
			    NVML_SUCCESS)
				m->name[0] = '\0';
			m->name[sizeof(m->name) - 1] = '\0';
		}
		m->index = d->index;
		m->slot = (int)i;
		m->handle = h;
		if (sample_mig_dev(n, d, m, t) != 0)
			return -1;
		found++;
	}
	note(n, d, M_MIG, found > 0 ? NVML_SUCCESS : NVML_ERROR_NOT_FOUND,
	    "MIG instances", "nothing is recorded for this GPU until one is "
	    "created");
	return 0;
}

/* In MIG mode now? Logs when that changes. */
static int
mig_enabled(struct nvml *n, struct nvml_dev *d, nvmlReturn_t *lost)
{
	unsigned cur = 0, pending = 0;
	nvmlReturn_t rc;
	char label[128];
	int on;

	if (n->f.mig_mode == NULL || n->f.mig_count == NULL ||
	    n->f.mig_handle == NULL)
		return 0;
	rc = n->f.mig_mode(d->handle, &cur, &pending);
	if (is_lost(rc)) {
		*lost = rc;
		return d->in_mig;
	}
	/* NOT_SUPPORTED: a GPU that cannot do MIG. */
	on = rc == NVML_SUCCESS && cur == NVML_DEVICE_MIG_ENABLE;
	if (on != d->in_mig) {
		dev_label(d, label, sizeof(label));
		if (on)
			tell(n, "%s: in MIG mode: recording each MIG instance "
			    "as a GPU (NVML has no utilization for them: their "
			    "state is unknown)", label);
		else
			tell(n, "%s: no longer in MIG mode", label);
		d->in_mig = on;
	}
	return on;
}

/*
 * A tick that did not reach read_energy: the counter's base stays at its
 * older read, and its next difference would hold time no tick covered.
 * The next tick starts afresh, its window one interval as the
 * collector's span after a gap is, and no counter base.
 */
static void
forget_reads(struct nvml_dev *d)
{
	d->meter.have = 0;
	d->read_us = 0;
}

/* One GPU into the tick. Returns -1 only when out of memory. */
static int
sample_dev(struct nvml *n, struct nvml_dev *d, struct tick *t,
    int64_t now_us)
{
	unsigned long long total = 0;
	nvmlReturn_t lost = NVML_SUCCESS;
	struct tick_gpu *g;

	if (open_dev(n, d) != 0) {
		forget_reads(d);
		return 0;
	}
	if (mig_enabled(n, d, &lost) && lost == NVML_SUCCESS) {
		forget_reads(d);
		if (sample_mig(n, d, t, &lost) != 0)
			return -1;
		note(n, d, M_DEVICE, lost, "every call", "recorded as unknown "
		    "until it answers");
		return 0;
	}
	if (lost != NVML_SUCCESS && d->in_mig) {
		/* A GPU in MIG mode is lost: its instances are unknown. */
		forget_reads(d);
		note(n, d, M_DEVICE, lost, "every call", "recorded as unknown "
		    "until it answers");
		for (unsigned i = 0; i < d->nmig; i++) {
			if (d->mig[i].uuid[0] == '\0')
				continue;
			if ((g = add_gpu(t, &d->mig[i], d->uuid)) == NULL)
				return -1;
			gpu_unknown(g);
		}
		return 0;
	}
	if ((g = add_gpu(t, d, "")) == NULL)
		return -1;
	if (lost == NVML_SUCCESS && read_util(n, d, g, now_us, &lost) != 0)
		return -1;
	if (lost == NVML_SUCCESS)
		read_memory(n, d, g, &total, &lost);
	if (lost == NVML_SUCCESS)
		read_energy(n, d, g, now_us, &lost);
	if (lost == NVML_SUCCESS && read_procs(n, d, g, total, &lost) != 0)
		return -1;
	/* Also without a process list: what it read is not read again. */
	if (lost == NVML_SUCCESS && read_putil(n, d, g, now_us, &lost) != 0)
		return -1;
	note(n, d, M_DEVICE, lost, "every call", "recorded as unknown until it "
	    "answers");
	if (lost != NVML_SUCCESS) {
		gpu_unknown(g);
		/* Samples from the time it was lost are not a tick's. */
		d->util_resync = d->putil_resync = 1;
		forget_reads(d);
	}
	return 0;
}

void
nvml_set_interval(struct nvml *n, int64_t interval_ms)
{
	n->interval_us = interval_ms > 0 && interval_ms < INT64_MAX / 1000 ?
	    interval_ms * 1000 : 0;
}

int
nvml_sample(struct nvml *n, struct tick *t, int64_t now_us, char *err,
    size_t errlen)
{
	unsigned count = 0;
	nvmlReturn_t rc;
	char e[256];

	/* Once per sample, first: a changed count is worth a line. */
	rc = n->f.count_v2 ? n->f.count_v2(&count) : n->f.count_v1(&count);
	if (rc != NVML_SUCCESS) {
		/* The collector drops this tick's time: the next window is
		   one interval, as its span is, and no counter spans two. */
		for (unsigned i = 0; i < n->ndevs; i++)
			forget_reads(&n->devs[i]);
		return util_err(err, errlen, "nvmlDeviceGetCount: %s",
		    nvml_strerror(n, rc, e, sizeof(e)));
	}
	if (count != n->last_count) {
		tell(n, "NVML now counts %u GPUs (was %u); gua samples the %u "
		    "it found at start: restart it to follow the change", count,
		    n->last_count, n->ndevs);
		n->last_count = count;
	}
	for (unsigned i = 0; i < n->ndevs; i++)
		if (sample_dev(n, &n->devs[i], t, now_us) != 0)
			return util_err(err, errlen, "out of memory");
	return 0;
}

void
nvml_close(struct nvml *n)
{
	if (n == NULL)
		return;
	if (n->initialised)
		n->f.shutdown();
	if (n->dl != NULL)
		dlclose(n->dl);
	for (unsigned i = 0; n->devs != NULL && i < n->ndevs; i++) {
		free(n->devs[i].mig);
		putil_free(&n->devs[i].pu);
	}
	free(n->devs);
	free(n->buf);
	free(n->pidx);
	free(n->sbuf);
	free(n->ubuf);
	free(n->pbuf);
	free(n->path);
	free(n);
}
